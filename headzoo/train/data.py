"""A run's data: the task's splits tokenised for the Trainer, the padding collator and the batch plan."""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..backbone import (
    BackboneRef,
    backbone_fingerprint,
    declared_pooling,
    load_classifier,
    load_config,
    load_tokenizer,
    resolve_backbone,
    resolve_feature,
)
from ..errors import ConfigError, DataError, HeadMismatchError
from ..head import head_state_names
from ..head_kind import backbone_config, backbone_name_of, feature_of, pooling_of
from ..naming import SENTENCE_EMBEDDING, SEQUENCE_CLASSIFICATION, validate_feature
from .args import bad_value, check_int
from .runtime import world_size


@dataclass
class TaskData:
    """A task's tokenised ``train`` and ``validation`` splits, ready for the Trainer.

    ``info`` is what the run records (and hashes) about the data: dataset id, sizes, subset.
    ``model`` is the model given as ``model=`` (None when the backbone is loaded by name); it is never
    trained itself: :func:`build_model` deep-copies it.

    Example:
        >>> data = prepare_data("cb", "minilm", data_dir="data", limit=None, max_length=128)  # doctest: +SKIP
        >>> len(data.train), data.info["dataset"]  # doctest: +SKIP
        (250, 'aps/super_glue')
    """

    spec: Any
    backbone: BackboneRef
    tokenizer: Any
    train: Any
    validation: Any
    max_length: int
    info: dict[str, Any]
    model: Any = None
    feature: str = SEQUENCE_CLASSIFICATION


def load_raw(task: Any, data_dir: Any, limit: int | None, seed: int = 0) -> tuple[Any, Any]:
    """The ``(TaskSpec, DatasetDict)`` of ``task``.

    ``task`` is a built-in task name, a ``TaskSpec``, the ``(TaskSpec, DatasetDict)`` pair of
    :func:`headzoo.tasks.custom_task` or :func:`headzoo.tasks.dataset_task`, or a ``datasets.Dataset`` /
    ``DatasetDict`` in memory, read by ``dataset_task`` with its defaults (columns ``text`` or
    ``sentence1``/``sentence2``... and ``label``; a ``Dataset``'s validation split is drawn with seed 0,
    so every run seed evaluates on the same rows).

    ``limit`` keeps at most that many examples per split: one subset drawn with ``seed``
    (:func:`headzoo.tasks.limit_dataset`; stratified by class for classification), for built-in and custom
    tasks alike.

    Example:
        >>> spec, raw = load_raw("cb", "data", limit=100, seed=1)  # doctest: +SKIP
        >>> import datasets
        >>> ds = datasets.Dataset.from_dict({"text": ["yes", "no"] * 5, "label": [1, 0] * 5})
        >>> spec, raw = load_raw(ds, None, limit=None)
        >>> spec.labels, raw["train"].num_rows, raw["validation"].num_rows
        (('0', '1'), 9, 1)
    """
    import datasets

    from ..tasks import CLASSIFICATION, TaskSpec, dataset_task, get_task, limit_dataset, load_task

    if limit is not None:
        check_int("limit", limit, 1)
    if isinstance(task, (datasets.Dataset, datasets.DatasetDict)):
        task = dataset_task(task)
    if isinstance(task, tuple) and len(task) == 2 and isinstance(task[0], TaskSpec):
        spec, data = task
        for split in ("train", "validation"):
            if split not in data:
                raise DataError(f"custom task {spec.name!r} has no {split!r} split; it has {list(data)}")
        if limit is not None:
            stratify = spec.problem_type == CLASSIFICATION
            data = type(data)({split: limit_dataset(ds, limit, seed, stratify=stratify) for split, ds in data.items()})
        return spec, data
    if isinstance(task, (str, TaskSpec)):
        spec = get_task(task) if isinstance(task, str) else task
        return spec, load_task(spec, data_dir, limit=limit, seed=seed)
    raise bad_value("task", task, "a task name, a TaskSpec, a datasets.Dataset or DatasetDict, or a "
                    "(TaskSpec, DatasetDict) pair from custom_task() or dataset_task()")


def backbone_for(backbone: str | BackboneRef | None, model: Any = None) -> BackboneRef:
    """The backbone of a run: ``backbone`` resolved, else the one ``model`` was loaded from, else ``"minilm"``.

    With a ``model`` (given as ``model=``), the backbone id is ``model.name_or_path`` (the embedded
    all-MiniLM-L6-v2 folder maps back to its Hub id); a ``backbone`` given as well names where the tokenizer
    is (for a model built from a config) and must be of the model's ``model_type``.

    Raises:
        ConfigError: a model without ``name_or_path`` and no backbone, or a backbone of another model type.

    Example:
        >>> backbone_for(None).id
        'sentence-transformers/all-MiniLM-L6-v2'
    """
    if isinstance(backbone, BackboneRef):
        return backbone
    if backbone is not None:
        ref = resolve_backbone(backbone)
        if model is not None:
            theirs = getattr(load_config(ref), "model_type", None)
            ours = getattr(backbone_config(model), "model_type", None)
            if theirs != ours:
                raise ConfigError(
                    f"backbone {ref.id!r} is a {theirs!r} model but model= is a {ours!r} model; leave backbone out "
                    "(model.name_or_path names it) or pass the backbone the model was loaded from"
                )
        return ref
    if model is None:
        return resolve_backbone("minilm")
    name = backbone_name_of(model)
    if not name:
        raise ConfigError(
            f"model= ({type(model).__name__}) has no name_or_path, so its backbone and tokenizer are unknown "
            "(built from a config?); pass backbone= the Hub id or folder of its tokenizer and weights"
        )
    return resolve_backbone(name)


def check_model(model: Any, spec: Any) -> None:
    """Refuse a ``model=`` that cannot be trained on ``spec``: not a sequence classifier, peft-wrapped,
    or with another number of outputs.

    Raises:
        ConfigError: the message names the model's class or ``num_labels`` and how to build a fitting one.

    Example:
        >>> check_model(model, spec)  # doctest: +SKIP
    """
    kind = type(model).__name__
    if hasattr(model, "peft_config"):
        raise ConfigError(
            f"model= is a peft model ({kind}); pass the plain transformers model: headzoo adds the PET "
            "method itself, and stage 2 needs the weights without adapters"
        )
    config = getattr(model, "config", None)
    if config is None or not hasattr(model, "state_dict") or not isinstance(getattr(config, "num_labels", None), int):
        raise ConfigError(
            f"model= must be a transformers *ForSequenceClassification model, got {kind}; e.g. "
            "AutoModelForSequenceClassification.from_pretrained(backbone_id, num_labels=...)"
        )
    try:
        head_state_names(model)
    except HeadMismatchError as exc:
        raise ConfigError(
            f"model= ({kind}) has no classification head headzoo can train ({exc}); pass a "
            "*ForSequenceClassification model, e.g. AutoModelForSequenceClassification.from_pretrained(...)"
        ) from None
    if config.num_labels != spec.num_labels:
        what = "one output (regression)" if spec.is_regression else f"{spec.num_labels} labels {list(spec.labels)}"
        raise ConfigError(
            f"model= has {config.num_labels} output(s) (config.num_labels) but task {spec.name!r} has {what}; "
            f"build it with num_labels={spec.num_labels}, e.g. "
            f"AutoModelForSequenceClassification.from_pretrained(..., num_labels={spec.num_labels})"
        )


def _in_memory(raw: Any) -> bool:
    from ..tasks.custom import IN_MEMORY_DESCRIPTION

    return getattr(raw["train"].info, "description", None) == IN_MEMORY_DESCRIPTION


def data_digest(data: Any) -> str:
    """A digest of the ``train`` and ``validation`` splits of a task's data: features and every row.

    It keys runs on in-memory data, which has no file name or Hub id to tell two datasets apart.

    Example:
        >>> import datasets
        >>> dd = datasets.DatasetDict({s: datasets.Dataset.from_dict({"text_a": ["x"], "label": [0]})
        ...                            for s in ("train", "validation")})
        >>> data_digest(dd)[:7]
        'sha256:'
    """
    digest = hashlib.sha256()
    for split in ("train", "validation"):
        ds = data[split]
        digest.update(json.dumps([split, ds.features.to_dict()], sort_keys=True).encode())
        for batch in ds.iter(batch_size=1024):
            digest.update(json.dumps(batch, sort_keys=True, ensure_ascii=False).encode())
    return "sha256:" + digest.hexdigest()[:16]


def prepare_data(task: Any, backbone: str | BackboneRef | None, *, data_dir: Any, limit: int | None,
                 max_length: int, seed: int = 0, model: Any = None, feature: str | None = None) -> TaskData:
    """Load ``task`` (see :func:`load_raw`) and tokenise it for ``backbone``, keeping a ``length`` column.

    ``model``: train copies of this ``*ForSequenceClassification`` model instead of loading ``backbone``
    (see :func:`backbone_for` and :func:`build_model`). ``info`` records the same keys as ever, plus
    ``problem_type`` for a multi-label task, ``data_digest`` when ``task`` is an in-memory ``Dataset`` /
    ``DatasetDict`` or a :func:`~headzoo.tasks.dataset_task` pair, and ``backbone_fingerprint`` with a
    ``model``: new kinds of input, so the run hashes of the others stay; likewise ``feature`` when the head
    reads the backbone's sentence embedding.

    ``feature``: what the head reads (:func:`resolve_data_feature`): ``"sequence-classification"``, the
    model's own path; ``"sentence-embedding"``, the sentence embedding the backbone declares (texts are then
    cut at the shorter of ``max_length`` and the backbone's ``max_seq_length``); ``"auto"``, what the backbone
    declares; None, :data:`DEFAULT_FEATURE`. With a ``model``, the model's own feature.

    Raises:
        ConfigError: a ``model`` that does not fit (see :func:`check_model`).
        DataError: an empty split, or data that cannot be read (see :func:`load_raw`).

    Example:
        >>> data = prepare_data("rte", "minilm", data_dir="data", limit=200, max_length=128)  # doctest: +SKIP
        >>> data.train.column_names  # doctest: +SKIP
        ['label', 'input_ids', 'token_type_ids', 'attention_mask', 'length']
    """
    import datasets

    spec, raw = load_raw(task, data_dir, limit, seed)
    ref = backbone_for(backbone, model)
    if model is not None:
        check_model(model, spec)
    tokenizer = load_tokenizer(ref)
    feature = resolve_data_feature(ref, feature, model)
    if feature == SENTENCE_EMBEDDING:
        pooling = declared_pooling(ref) if model is None else pooling_of(model)
        if pooling is not None and pooling.max_seq_length:
            max_length = min(max_length, pooling.max_seq_length)
    if len(raw["train"]) == 0 or len(raw["validation"]) == 0:
        raise DataError(f"task {spec.name!r} has an empty train or validation split")
    pair = "text_b" in raw["train"].column_names

    def encode(batch: dict[str, list[Any]]) -> dict[str, Any]:
        args = (batch["text_a"], batch["text_b"]) if pair else (batch["text_a"],)
        enc = tokenizer(*args, truncation=True, max_length=max_length)
        enc["length"] = [len(ids) for ids in enc["input_ids"]]
        return enc

    def tokenise(ds: Any) -> Any:
        drop = [c for c in ds.column_names if c != "label"]
        return ds.map(encode, batched=True, remove_columns=drop, desc=None)

    hub = spec.hub_id or (None, None)
    info = {
        "dataset": hub[0] or f"custom:{spec.name}",
        "dataset_config": hub[1],
        "dataset_name": spec.name,
        "eval_split": "validation",
        "train_size": len(raw["train"]),
        "eval_size": len(raw["validation"]),
        "data_limit": limit,
    }
    if limit is not None:
        info["data_seed"] = seed  # the subset follows the seed; without a limit the data do not depend on it
    # keys for new kinds of input only, so that the runs of the others keep their hashes
    if spec.problem_type == "multi_label_classification":
        info["problem_type"] = spec.problem_type
    if isinstance(task, (datasets.Dataset, datasets.DatasetDict)) or _in_memory(raw):
        info["data_digest"] = data_digest(raw)
    if model is not None:
        info["backbone_fingerprint"] = backbone_fingerprint(model)
    if feature != SEQUENCE_CLASSIFICATION:
        info["feature"] = feature
    return TaskData(spec, ref, tokenizer, tokenise(raw["train"]), tokenise(raw["validation"]), max_length, info,
                    model, feature)


#: The feature a run's head reads where none is asked for: what the backbone declares (``sentence-embedding``
#: for a sentence-transformers checkpoint, else ``sequence-classification``).
DEFAULT_FEATURE = "auto"


def resolve_data_feature(ref: BackboneRef, feature: str | None, model: Any = None) -> str:
    """The feature a run's head reads: ``model``'s own where one is given, else ``feature`` resolved.

    Raises:
        ConfigError: an unknown feature, or one that contradicts the given ``model``.
        PoolingConfigError: ``"sentence-embedding"`` for a backbone that declares none.

    Example:
        >>> resolve_data_feature(resolve_backbone("minilm"), "auto")  # doctest: +SKIP
        'sentence-embedding'
    """
    if model is not None:
        own = feature_of(model)
        chosen = validate_feature(feature)
        if chosen is not None and chosen != own:
            raise ConfigError(f"feature {feature!r} does not fit model=, whose head reads the {own} feature; "
                              "leave feature out, or pass a model of that kind")
        return own
    return resolve_feature(ref, DEFAULT_FEATURE if feature is None else feature)


class PaddingCollator:
    """``DataCollatorWithPadding`` that drops the ``length`` column used for length grouping.

    Example:
        >>> collate = PaddingCollator(tokenizer)  # doctest: +SKIP
    """

    def __init__(self, tokenizer: Any) -> None:
        from transformers import DataCollatorWithPadding

        self.inner = DataCollatorWithPadding(tokenizer)

    def __call__(self, features: list[dict[str, Any]]) -> Any:
        return self.inner([{k: v for k, v in f.items() if k != "length"} for f in features])


def build_model(data: TaskData, seed: int) -> Any:
    """A fresh sequence-classification model of ``data``'s backbone with the task's labels, seeded.

    With a model given as ``model=`` (``data.model``), it is a deep copy of that model, so the given
    model is never changed (PET wrappers and BitFit change the model they train in place) and every
    stage starts from its weights as they were given; the head (every module outside
    ``base_model_prefix``) is initialised afresh with ``seed`` by the model's own ``_init_weights``,
    as ``from_pretrained`` does for a new head, and the task's labels and ``problem_type`` are set.

    Example:
        >>> model = build_model(data, seed=0)  # doctest: +SKIP
    """
    from transformers import set_seed

    set_seed(seed)
    spec = data.spec
    kwargs: dict[str, Any] = {"num_labels": spec.num_labels}
    if spec.problem_type == "regression":
        kwargs["problem_type"] = "regression"
    else:
        kwargs.update(id2label=dict(spec.id2label), label2id=dict(spec.label2id), problem_type=spec.problem_type)
    if data.model is None:
        return load_classifier(data.backbone, feature=data.feature, **kwargs)
    model = copy.deepcopy(data.model)
    reset_head(model)
    for key, value in kwargs.items():  # num_labels first: setting it resets id2label
        setattr(model.config, key, value)
    return model


def reset_head(model: Any) -> None:
    """Initialise the head of ``model`` (every module outside ``base_model_prefix``) afresh, in place.

    It uses the model's own ``_init_weights``, as ``from_pretrained`` does for a new head, from the
    current torch random state (seed it first). The backbone is untouched.

    Example:
        >>> reset_head(model)  # doctest: +SKIP
    """
    import torch

    init = getattr(model, "_init_weights", None)
    if init is None:
        raise ConfigError(f"model= ({type(model).__name__}) has no _init_weights, so its head cannot be reset; "
                          "pass a transformers PreTrainedModel")
    prefix = model.base_model_prefix
    with torch.no_grad():
        for name, child in model.named_children():
            if name == prefix:
                continue
            for module in child.modules():
                # transformers skips what it marked initialised (all of a loaded model): unmark the head
                for tensor in (*module.parameters(recurse=False), *module.buffers(recurse=False)):
                    if getattr(tensor, "_is_hf_initialized", False):
                        tensor._is_hf_initialized = False
                if getattr(module, "_is_hf_initialized", False):
                    module._is_hf_initialized = False
                init(module)


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Optimizer steps per epoch of ``n_train`` examples at ``batch_size`` per step and process.

    ``batch_size`` is the examples one process takes per optimizer step (gradient accumulation included).

    Example:
        >>> steps_per_epoch(250, 32)
        8
    """
    return max(1, math.ceil(n_train / (batch_size * world_size())))


def examples_seen(steps: int, steps_per_epoch: int, n_train: int, batch_size: int) -> int:
    """Training examples processed in ``steps`` optimizer steps (a partial last batch counted as it is).

    Example:
        >>> examples_seen(10, 8, 250, 32)
        314
    """
    full, rest = divmod(steps, steps_per_epoch)
    return full * n_train + min(rest * batch_size * world_size(), n_train)


class BatchPlan:
    """A run's training batches over all its epochs as one sequence; a stage iterates the slice ``[start, stop)``.

    A batch sampler (lists of indices) for ``DataLoader(batch_sampler=...)``. Epoch ``e`` is ordered by a
    generator seeded with ``seed + e``: length-grouped as transformers' ``LengthGroupedSampler`` does when
    ``lengths`` is given, else a plain permutation. Each optimizer step takes ``world_size * accumulation``
    consecutive per-device batches (the accelerate dataloader deals them out round-robin); an epoch's batch
    count is padded to a multiple of that with its first batches, as accelerate's ``even_batches`` does for
    ``world_size``, so every step of an epoch takes whole batches of that epoch.

    Example:
        >>> plan = BatchPlan(10, 4, 0, lengths=None, start=0, stop=3)
        >>> [len(b) for b in plan]
        [4, 4, 2]
    """

    def __init__(self, n: int, batch_size: int, seed: int, *, lengths: Sequence[int] | None, start: int, stop: int,
                 world_size: int = 1, accumulation: int = 1) -> None:
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.lengths = list(lengths) if lengths is not None else None
        self.start, self.stop, self.world_size, self.accumulation = start, stop, world_size, accumulation
        per_step = world_size * accumulation
        self.steps_per_epoch = math.ceil(math.ceil(n / batch_size) / per_step)

    def epoch(self, e: int) -> list[list[int]]:
        """The per-device batches of epoch ``e``."""
        import torch

        generator = torch.Generator().manual_seed(self.seed + e)
        if self.lengths is not None:
            from transformers.trainer_pt_utils import get_length_grouped_indices

            order = get_length_grouped_indices(self.lengths, self.batch_size, generator=generator)
        else:
            order = torch.randperm(self.n, generator=generator).tolist()
        batches = [order[i:i + self.batch_size] for i in range(0, self.n, self.batch_size)]
        per_step = self.world_size * self.accumulation
        short = -len(batches) % per_step
        return batches + [batches[i % len(batches)] for i in range(short)]

    def __iter__(self) -> Iterator[list[int]]:
        per_step = self.world_size * self.accumulation
        current, batches = -1, []
        for step in range(self.start, self.stop):
            e, i = divmod(step, self.steps_per_epoch)
            if e != current:
                current, batches = e, self.epoch(e)
            yield from batches[i * per_step:(i + 1) * per_step]

    def __len__(self) -> int:
        return (self.stop - self.start) * self.world_size * self.accumulation
