"""A run's data: the task's splits tokenised for the Trainer, the padding collator and the batch plan."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..backbone import BackboneRef, load_classifier, load_tokenizer, resolve_backbone
from ..errors import DataError
from .args import bad_value, check_int
from .runtime import world_size


@dataclass
class TaskData:
    """A task's tokenised ``train`` and ``validation`` splits, ready for the Trainer.

    ``info`` is what the run records (and hashes) about the data: dataset id, sizes, subset.

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


def load_raw(task: Any, data_dir: Any, limit: int | None, seed: int = 0) -> tuple[Any, Any]:
    """The ``(TaskSpec, DatasetDict)`` of ``task`` (a name, a ``TaskSpec`` or a ``custom_task`` pair).

    ``limit`` keeps at most that many examples per split: one stratified subset drawn with ``seed``
    (:func:`headzoo.tasks.limit_dataset`), for built-in and custom tasks alike.

    Example:
        >>> spec, raw = load_raw("cb", "data", limit=100, seed=1)  # doctest: +SKIP
    """
    from ..tasks import REGRESSION, TaskSpec, get_task, limit_dataset, load_task

    if limit is not None:
        check_int("limit", limit, 1)
    if isinstance(task, tuple) and len(task) == 2 and isinstance(task[0], TaskSpec):
        spec, data = task
        for split in ("train", "validation"):
            if split not in data:
                raise DataError(f"custom task {spec.name!r} has no {split!r} split; it has {list(data)}")
        if limit is not None:
            stratify = spec.problem_type != REGRESSION
            data = type(data)({split: limit_dataset(ds, limit, seed, stratify=stratify) for split, ds in data.items()})
        return spec, data
    if isinstance(task, (str, TaskSpec)):
        spec = get_task(task) if isinstance(task, str) else task
        return spec, load_task(spec, data_dir, limit=limit, seed=seed)
    raise bad_value("task", task, "a task name, a TaskSpec or a (TaskSpec, DatasetDict) pair from custom_task()")


def prepare_data(task: Any, backbone: str | BackboneRef, *, data_dir: Any, limit: int | None,
                 max_length: int, seed: int = 0) -> TaskData:
    """Load ``task`` (see :func:`load_raw`) and tokenise it for ``backbone``, keeping a ``length`` column.

    Example:
        >>> data = prepare_data("rte", "minilm", data_dir="data", limit=200, max_length=128)  # doctest: +SKIP
        >>> data.train.column_names  # doctest: +SKIP
        ['label', 'input_ids', 'token_type_ids', 'attention_mask', 'length']
    """
    spec, raw = load_raw(task, data_dir, limit, seed)
    ref = backbone if isinstance(backbone, BackboneRef) else resolve_backbone(backbone)
    tokenizer = load_tokenizer(ref)
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
    return TaskData(spec, ref, tokenizer, tokenise(raw["train"]), tokenise(raw["validation"]), max_length, info)


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
    return load_classifier(data.backbone, **kwargs)


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
