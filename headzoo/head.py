"""Heads: extract a classification head from a model, save it, load it, apply it.

The one rule: **the head is every tensor of the model's state dict outside
``model.base_model_prefix``** (BERT: ``classifier.*``; RoBERTa:
``classifier.dense.*`` and ``classifier.out_proj.*``; GPT-2 / Llama:
``score.*``). No list of head names to keep up to date.

A head on disk is a directory with

- ``head.safetensors``: the tensors (float32), named as in the model's state dict;
- ``head_config.json``: :class:`HeadConfig` (format version, task, backbone,
  labels, tensor shapes, how the head was trained);
- ``README.md``: the model card (rendered from the config by :mod:`headzoo.cards`).

Reading and writing the folder is :mod:`headzoo.files`; the config is
:mod:`headzoo.head_config`. Their public names are importable from here too.
Nothing here reads or writes pickle.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import cards, hub
from .errors import BackboneMismatchError, ConfigError, HeadFormatError, HeadMismatchError, LabelMismatchError
from .files import CARD_FILE, HEAD_FILE, find_head_files, read_head, staged_head_dir, tensor_names_diff, write_tensors
from .head_config import CONFIG_FILE, FORMAT_VERSION, HeadConfig, finite, parse_config_json, read_config
from .labels import LabelMatch, match_labels
from .naming import SENTENCE_EMBEDDING, looks_like_repo_id

if TYPE_CHECKING:
    from .predictions import Predictions

logger = logging.getLogger(__name__)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str] = {}
    for pkg in ("headzoo", "torch", "transformers", "peft", "safetensors"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def head_state_names(model: Any, state: Mapping[str, Any] | None = None) -> list[str]:
    """The state-dict names of a model's head: everything outside ``base_model_prefix``.

    Raises:
        HeadMismatchError: the model has no ``base_model_prefix`` or is still wrapped by peft.

    Example:
        >>> head_state_names(bert_model)  # doctest: +SKIP
        ['classifier.bias', 'classifier.weight']
    """
    prefix = getattr(model, "base_model_prefix", "") or ""
    if not prefix or not hasattr(model, prefix):
        raise HeadMismatchError(
            f"{type(model).__name__} has no usable base_model_prefix ({prefix!r}); "
            "headzoo needs a transformers PreTrainedModel whose backbone is model.<base_model_prefix>"
        )
    names = sorted(k for k in (model.state_dict() if state is None else state) if not k.startswith(prefix + "."))
    if any("modules_to_save" in k or "original_module" in k or "lora_" in k for k in names):
        raise HeadMismatchError(
            f"{type(model).__name__} still carries peft wrappers (e.g. {names[0]!r}); "
            "unwrap it first with headzoo.pet.unwrap(model) or peft's model.unload()"
        )
    if not names:
        raise HeadMismatchError(f"{type(model).__name__} has no parameters outside {prefix!r}: nothing to extract")
    return names


def _find_output_layer(model: Any, names: list[str], num_labels: int, rename: Any = None) -> str | None:
    """The last head module (in registration order) whose weight has ``num_labels`` rows.

    ``rename`` maps a state-dict name of ``model`` to its unwrapped name (or None), for peft-wrapped models.
    """
    import torch

    found = None
    for module_name, module in model.named_modules():
        weight = getattr(module, "weight", None)
        key: str | None = f"{module_name}.weight"
        if rename is not None:
            key = rename(key)
        if key not in names or not isinstance(weight, torch.Tensor):
            continue
        if weight.dim() == 2 and weight.shape[0] == num_labels:
            found = key[: -len(".weight")]
    return found


def _peft_renamer(model: Any, adapter: str | None) -> Any:
    """A function from a state-dict name of a peft-wrapped model to its name once unwrapped (None: dropped).

    ``ModulesToSaveWrapper`` ``W``: ``W.modules_to_save.<adapter>.x`` -> ``W.x`` (the TRAINED copy);
    ``W.original_module.*`` (peft's untrained original) and other adapters' copies are dropped.
    A tuner layer ``L`` (LoRA, IA3...): ``L.base_layer.x`` -> ``L.x``; its adapter tensors are dropped.
    Returns None when ``model`` holds no peft wrappers. Nothing in the model is changed.
    """
    import torch

    rules: dict[str, str | None] = {}
    for name, module in model.named_modules():
        dot = f"{name}." if name else ""
        copies = getattr(module, "modules_to_save", None)
        if isinstance(copies, torch.nn.ModuleDict) and "original_module" in dir(module):
            active = [a for a in (adapter, *list(getattr(module, "active_adapters", None) or [])) if a in copies]
            if not active:
                active = list(copies) if len(copies) == 1 else []
            if not active:
                raise HeadMismatchError(
                    f"the peft wrapper of {name!r} has copies {sorted(copies)} and none is active: "
                    "activate the trained adapter (model.set_adapter(name)) before taking the head"
                )
            rules[f"{dot}modules_to_save.{active[0]}."] = dot
            rules[f"{dot}modules_to_save."] = None
            rules[f"{dot}original_module."] = None
        elif isinstance(getattr(module, "adapter_layer_names", None), tuple) and hasattr(module, "base_layer"):
            rules[f"{dot}base_layer."] = dot
            for part in (*module.adapter_layer_names, *getattr(module, "other_param_names", ())):
                rules[f"{dot}{part}."] = None
    if not rules:
        return None
    ordered = sorted(rules, key=len, reverse=True)  # the deepest module first

    def rename(key: str) -> str | None:
        changed = True
        while changed:
            changed = False
            for prefix in ordered:
                if key.startswith(prefix):
                    target = rules[prefix]
                    if target is None:
                        return None
                    key, changed = target + key[len(prefix):], True
                    break
        return key

    return rename


def unwrapped_state(model: Any) -> tuple[Any, dict[str, Any]]:
    """The transformers model inside a peft wrapper, and its state dict as if unwrapped; the model is not changed.

    For a ``peft.PeftModel`` (or a transformers model with peft layers injected) the
    head tensors are peft's TRAINED copies (``modules_to_save``), never its
    ``original_module``; LoRA / IA3 tensors are left out and the backbone's
    ``base_layer`` weights take their plain names. A plain model comes back with
    its own state dict. The tensors are the model's own (no copy).

    Example:
        >>> base, state = unwrapped_state(headzoo.prepare_pet(model, "lora"))  # doctest: +SKIP
        >>> sorted(k for k in state if not k.startswith("bert."))  # doctest: +SKIP
        ['classifier.bias', 'classifier.weight']
    """
    adapter = None
    base = model
    get_base = getattr(model, "get_base_model", None)
    if callable(get_base) and hasattr(model, "peft_config"):  # peft.PeftModel (duck-typed: peft stays optional here)
        adapter = getattr(model, "active_adapter", None)
        base = get_base()
    state = base.state_dict()
    rename = _peft_renamer(base, adapter if isinstance(adapter, str) else None)
    if rename is None:
        return base, state
    plain: dict[str, Any] = {}
    for key, value in state.items():
        new = rename(key)
        if new is not None:
            plain[new] = value
    return base, plain


@dataclass(frozen=True)
class HeadCheck:
    """How a head goes into a model, as :meth:`Head.check` planned it (nothing changed yet).

    Attributes:
        labels: how the model's labels take the head's rows (:class:`~headzoo.labels.LabelMatch`).
        state: the model's state dict (the tensors the head's go into).

    Example:
        >>> Head.load("heads/sst2").check(model).labels.report  # doctest: +SKIP
        '2 of 2 rows from sst2/lora (negative, positive)'
    """

    labels: LabelMatch
    state: dict[str, Any] = field(repr=False)

    @property
    def permutation(self) -> list[int] | None:
        """The head row of each model label, when the labels are the head's in another order; else None."""
        return self.labels.permutation

    @property
    def set_labels(self) -> bool:
        """Whether the model takes the head's label names (its own are generic)."""
        return self.labels.take_head_names


class Head:
    """A classification head: tensors plus a :class:`HeadConfig`.

    The Hub names of ``huggingface_hub``, peft and timm: :meth:`from_pretrained`
    (a folder or a Hub repo id), :meth:`save_pretrained` and :meth:`push_to_hub`.
    :meth:`load` and :meth:`save` are their older aliases.

    Example:
        >>> head = Head.from_model(model, task="rte", backbone="FacebookAI/roberta-base")  # doctest: +SKIP
        >>> head.save_pretrained("heads/rte")  # doctest: +SKIP
        >>> head.push_to_hub("me/rte-head")  # doctest: +SKIP
        >>> Head.from_pretrained("me/rte-head").apply(fresh_model)  # doctest: +SKIP
    """

    def __init__(self, tensors: Mapping[str, Any], config: HeadConfig) -> None:
        import torch

        self.tensors: dict[str, torch.Tensor] = {k: torch.as_tensor(v) for k, v in tensors.items()}
        self.config = config
        #: The folder this head was last saved to or loaded from (None for a head only in memory).
        self.path: Path | None = None
        if sorted(self.tensors) != sorted(config.tensors):
            raise HeadFormatError(tensor_names_diff("head_config.json", sorted(config.tensors), sorted(self.tensors)))
        for name, tensor in self.tensors.items():
            if list(tensor.shape) != config.tensors[name]:
                raise HeadFormatError(
                    f"tensor {name!r} has shape {list(tensor.shape)} but head_config.json says "
                    f"{config.tensors[name]}; the files do not belong together, re-save the head"
                )

    def __repr__(self) -> str:
        c = self.config
        return (
            f"Head(task={c.task!r}, backbone={c.backbone!r}, method={c.method!r}, "
            f"labels={c.labels}, tensors={sorted(self.tensors)})"
        )

    @property
    def num_bytes(self) -> int:
        """Bytes of tensor data the head holds."""
        return sum(t.numel() * t.element_size() for t in self.tensors.values())

    @classmethod
    def from_model(
        cls,
        model: Any,
        *,
        task: str,
        backbone: str | None = None,
        backbone_revision: str | None = None,
        backbone_fingerprint: str | None = None,
        method: str | None = None,
        training: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
    ) -> Head:
        """Take the head out of a sequence-classification model (copies, float32, CPU).

        A peft model (``headzoo.prepare_pet(model, "lora")``, peft's ``get_peft_model``)
        is unwrapped on the fly (:func:`unwrapped_state`): the head is peft's trained
        copy (``modules_to_save``), never its ``original_module``, and the backbone
        fingerprint is that of the unadapted weights. The model itself is not changed.

        Args:
            model: a transformers ``*ForSequenceClassification`` model, or a peft model wrapping one.
            task: the task name to record.
            backbone: the backbone id; defaults to ``model.config.name_or_path``.
            backbone_revision: the Hub commit sha of the backbone, if known.
            backbone_fingerprint: the pretrained backbone's fingerprint; computed from
                ``model`` when not given (pass it when stage 1 changed backbone weights, as BitFit does).
            method: how the head was trained, e.g. ``"lora"``.
            training: hyperparameters to record.
            metrics: evaluation metrics to record.

        Example:
            >>> head = Head.from_model(model, task="rte")  # doctest: +SKIP
        """
        import torch

        from .backbone import backbone_fingerprint as fingerprint_of
        from .head_kind import backbone_config, feature_of, pooling_of

        model, state = unwrapped_state(model)
        names = head_state_names(model, state)
        tensors = {}
        for name in names:
            tensor = state[name].detach()
            if tensor.is_floating_point():
                tensor = tensor.to(torch.float32)
            tensors[name] = tensor.cpu().contiguous().clone()
        cfg = model.config
        num_labels = int(cfg.num_labels)
        try:
            id2label = {int(k): str(v) for k, v in (cfg.id2label or {}).items()}
        except (TypeError, ValueError):
            id2label = {}
        if sorted(id2label) != list(range(num_labels)) or len(set(id2label.values())) != num_labels:
            id2label = {i: f"LABEL_{i}" for i in range(num_labels)}
        problem_type = cfg.problem_type or ("regression" if num_labels == 1 else None)
        body = backbone_config(model)
        feature = feature_of(model)
        config = HeadConfig(
            task=task,
            backbone=backbone or getattr(body, "name_or_path", "") or body.model_type,
            backbone_revision=backbone_revision,
            backbone_fingerprint=backbone_fingerprint or fingerprint_of(model, state),
            model_type=body.model_type,
            architecture=type(model).__name__,
            hidden_size=_hidden_size(body),
            feature=feature,
            pooling=pooling.to_dict() if (pooling := pooling_of(model)) else None,
            head_scale=float(cfg.head_scale) if feature == SENTENCE_EMBEDDING else None,
            num_labels=num_labels,
            id2label=id2label,
            problem_type=problem_type,
            base_model_prefix=model.base_model_prefix,
            tensors={k: list(v.shape) for k, v in tensors.items()},
            output_layer=_find_output_layer(model, names, num_labels, _peft_renamer(model, None)),
            method=method,
            training=dict(training or {}),
            metrics={k: v for k, v in (metrics or {}).items()
                     if not (isinstance(v, float) and not math.isfinite(v))},  # JSON has no NaN
            versions=_versions(),
            created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        )
        return cls(tensors, config)

    # ------------------------------------------------------------------ files

    def save_pretrained(
        self, save_directory: str | os.PathLike[str], *, overwrite: bool = False, card: bool | str = True
    ) -> Path:
        """Write ``head.safetensors``, ``head_config.json`` and a model card into ``save_directory``.

        The files are written into a temporary sibling directory that is then
        renamed into place, so an interrupted save never leaves a half-written head,
        and an existing head is only replaced once the new one is complete. The
        swap holds an exclusive lock on the parent directory (so two processes
        saving the same place never mix their files: without ``overwrite`` one
        wins and the other gets :class:`HeadExistsError`) and defers Ctrl-C until
        the new head is in place.

        Args:
            save_directory: where the head goes (created; its parent too).
            overwrite: replace an existing head; without it an existing head is an error.
            card: write ``README.md``: True renders it from the config, a string is written as is,
                False writes none.

        Returns:
            The directory.

        Raises:
            HeadExistsError: ``save_directory`` already holds files and ``overwrite`` is False.

        Example:
            >>> head.save_pretrained("heads/rte-lora")  # doctest: +SKIP
        """
        target = Path(save_directory).expanduser()
        with staged_head_dir(target, overwrite=overwrite) as tmp:
            arrays = {k: v.detach().cpu().contiguous().numpy() for k, v in self.tensors.items()}
            write_tensors(tmp / HEAD_FILE, arrays, self.config)
            (tmp / CONFIG_FILE).write_text(self.config.to_json(), encoding="utf-8")
            if card is True:
                card = cards.render_card(self.config)  # looked up at call time, so it can be patched
            if isinstance(card, str):
                (tmp / CARD_FILE).write_text(card, encoding="utf-8")
        logger.debug("saved head to %s", target)
        self.path = Path(target)
        return target

    def save(self, directory: str | os.PathLike[str], *, overwrite: bool = False, card: bool | str = True) -> Path:
        """Alias of :meth:`save_pretrained` (the older name): write the head's files into ``directory``.

        Example:
            >>> head.save("heads/rte-lora")  # doctest: +SKIP
        """
        return self.save_pretrained(directory, overwrite=overwrite, card=card)

    def push_to_hub(
        self,
        repo_id: str | None = None,
        *,
        private: bool = False,
        revision: str | None = None,
        commit_message: str | None = None,
        namespace: str | None = None,
        token: str | None = None,
    ) -> str:
        """Upload this head (its three files, nothing else) to the Hub in one commit; return the commit URL.

        The same as :func:`headzoo.push_head` with this head: the repo (and branch
        ``revision``) is created when missing, the head is checked before anything is
        sent, and pushing the same head again makes no new commit.

        Args:
            repo_id: target repo, ``namespace/name``; defaults to the naming rule
                (``{namespace}/headzoo-{task}-{backbone name}-{method}``).
            private: create the repo private.
            revision: a branch to push to (created from ``main`` when missing).
            commit_message: defaults to ``"Upload headzoo head (<task>, <method>)"``.
            namespace: user or organisation for the default repo id.
            token: a Hub token; defaults to the standard login / ``HF_TOKEN``.

        Raises:
            HubError: no or wrong token, no write access, network failures.

        Example:
            >>> head.push_to_hub("me/rte-head")  # doctest: +SKIP
            'https://huggingface.co/me/rte-head/commit/...'
        """
        return hub.push_head(self, repo_id, private=private, revision=revision, commit_message=commit_message,
                             namespace=namespace, token=token)

    @classmethod
    def from_pretrained(
        cls, repo_id_or_path: str | os.PathLike[str], revision: str | None = None, *, token: str | None = None
    ) -> Head:
        """Read a head from a local folder or a Hub repo id, validating everything.

        An existing local path (or one starting with ``.``, ``/`` or ``~``) is read as
        :meth:`load` reads it; anything else that is a repo id (``namespace/name``) is
        downloaded by :func:`headzoo.pull_head` (head files only, into the Hugging Face
        cache; offline from that cache) and then read.

        Args:
            repo_id_or_path: a head folder (or its ``head.safetensors``), or a Hub repo id.
            revision: branch, tag or commit of a Hub repo.
            token: a Hub token for private repos.

        Raises:
            HeadFormatError: missing, corrupt or inconsistent files.
            HubError: repo or revision not found, auth, network (``HubUnreachableError``).
            UnsafeFileError: the place holds pickle files.
            ConfigError: ``revision`` given for a local folder.

        Example:
            >>> head = Head.from_pretrained("me/headzoo-rte-all-MiniLM-L6-v2-lora")  # doctest: +SKIP
            >>> head = Head.from_pretrained("heads/rte-lora")  # doctest: +SKIP
        """
        raw = os.fspath(repo_id_or_path)
        try:
            local = Path(raw).expanduser().exists()
        except (OSError, RuntimeError, ValueError):  # "~nobody/x", a NUL byte, a name too long
            local = False
        if local or raw.startswith((".", "/", "~")) or not looks_like_repo_id(raw):
            if revision is not None:
                raise ConfigError(
                    f"revision={revision!r} only applies to a Hub repo, but {raw!r} is read as a local folder: "
                    "drop revision, or give a repo id (namespace/name) that is not a local path"
                )
            return cls.load(repo_id_or_path)
        return cls.load(hub.pull_head(raw, revision=revision, token=token))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Head:
        """Read a head from a local directory (or its ``head.safetensors``), validating everything.

        :meth:`from_pretrained` does the same for a local path and also takes Hub repo ids.

        Raises:
            HeadFormatError: missing, corrupt or inconsistent files; an unknown format version.
            UnsafeFileError: the place holds pickle files and no ``head.safetensors``.

        Example:
            >>> head = Head.load("heads/rte-lora")  # doctest: +SKIP
            >>> head = Head.from_pretrained("heads/rte-lora")  # doctest: +SKIP
        """
        import torch

        arrays, config = read_head(path)
        head = cls({k: torch.from_numpy(v.copy()) for k, v in arrays.items()}, config)
        where = Path(path)
        head.path = where.parent if where.is_file() else where
        return head

    # ------------------------------------------------------------------ models

    def predict(self, texts: Any = None, *, embeddings: Any = None, backbone: str | None = None,
                batch_size: int = 64, chunk_size: int | None = None) -> Predictions:
        """This head's labels and probabilities for texts, or for sentence embeddings already computed.

        :func:`headzoo.predict` with this head alone; see it for the arguments and errors.

        Returns:
            :class:`~headzoo.predictions.Predictions` with one column, named by the head's task.

        Example:
            >>> Head.from_pretrained("heads/sst2").predict(["a lovely film"])["sst2"].predicted  # doctest: +SKIP
            ['positive']
            >>> head.predict(embeddings=SentenceTransformer("all-MiniLM-L6-v2").encode(texts))  # doctest: +SKIP
        """
        from .predictions import CHUNK_SIZE, predict_heads

        return predict_heads([self], texts, embeddings=embeddings, backbone=backbone, batch_size=batch_size,
                             chunk_size=CHUNK_SIZE if chunk_size is None else chunk_size)

    def check(self, model: Any, *, allow_backbone_mismatch: bool = False,
              label_map: Mapping[str, str] | None = None) -> HeadCheck:
        """Check that this head fits ``model`` and plan how it goes in; changes nothing.

        The output layer (``config.output_layer``) may have another number of rows than the
        model's when the labels only overlap (see :meth:`match_labels`); every other tensor
        must have the model's shape.

        Returns:
            The plan (:class:`HeadCheck`): the label match and the model's state dict.

        Raises:
            HeadMismatchError: names or shapes differ.
            BackboneMismatchError: different model type, hidden size or backbone weights.
            LabelMismatchError: the labels cannot be matched (see :func:`headzoo.labels.match_labels`).

        Example:
            >>> Head.load("heads/sst2").check(model).labels.report  # doctest: +SKIP
            '2 of 2 rows from sst2/lora (negative, positive)'
        """
        from .backbone import backbone_fingerprint, is_fingerprint_reliable
        from .head_kind import backbone_config, check_kind

        c = self.config
        check_kind(c, model, f"head {self.source}")
        cfg = backbone_config(model)
        model_side = f"{type(model).__name__} ({cfg.model_type}, hidden {_hidden_size(cfg)})"
        head_side = f"head for {c.backbone!r} ({c.model_type}, hidden {c.hidden_size})"
        if cfg.model_type != c.model_type or (
            c.hidden_size is not None and _hidden_size(cfg) not in (None, c.hidden_size)
        ):
            raise BackboneMismatchError(
                f"{head_side} does not fit {model_side}: load a model of the head's backbone "
                f"({c.backbone!r}) or use a head trained for this one"
            )
        state = model.state_dict()
        names = head_state_names(model, state)
        if names != sorted(self.tensors):
            raise HeadMismatchError(tensor_names_diff(type(model).__name__, names, sorted(self.tensors)))
        output = {f"{c.output_layer}.weight", f"{c.output_layer}.bias"} if c.output_layer else set()
        rows_differ, bad = [], []
        for n in names:
            head_shape, model_shape = list(self.tensors[n].shape), list(state[n].shape)
            if head_shape != model_shape:
                fits = n in output and head_shape[1:] == model_shape[1:] and head_shape[0] == c.num_labels
                (rows_differ if fits else bad).append(f"{n}: head {head_shape} vs model {model_shape}")
        if bad:
            raise HeadMismatchError(
                "head tensor shapes do not match the model: " + "; ".join(bad)
                + " (is num_labels or the backbone size different?)"
            )
        if not allow_backbone_mismatch and c.backbone_fingerprint and is_fingerprint_reliable(model):
            model_fp = backbone_fingerprint(model, state)
            if model_fp != c.backbone_fingerprint:
                raise BackboneMismatchError(
                    f"{head_side} was trained on backbone weights {c.backbone_fingerprint}, but the model's "
                    f"backbone ({getattr(cfg, 'name_or_path', '') or '?'}) has weights {model_fp}: load the head's "
                    "backbone, or pass allow_backbone_mismatch=True (CLI: --allow-backbone-mismatch) "
                    "to apply it anyway"
                )
        try:
            match = self.match_labels(model, label_map)
        except LabelMismatchError as exc:
            if rows_differ:
                raise LabelMismatchError(f"head tensor shapes do not match the model: {'; '.join(rows_differ)}, "
                                         f"and {exc}") from None
            raise
        own_rows = state.get(f"{c.output_layer}.weight") if c.output_layer else None
        if own_rows is not None and own_rows.shape[0] != len(match.rows):
            raise LabelMismatchError(
                f"{type(model).__name__}.config names {len(match.rows)} label(s) {list(match.model_labels)} but its "
                f"output layer {c.output_layer!r} has {own_rows.shape[0]} rows: build the model with num_labels "
                "and id2label that agree (headzoo.load_head does this)"
            )
        if not match.is_identity and not c.output_layer:
            raise LabelMismatchError(
                f"the model's labels {list(match.model_labels)} need other rows than the head's {c.labels}, "
                "but the head records no output layer to take them from; build the model with the head's id2label"
            )
        return HeadCheck(match, state)

    @property
    def source(self) -> str:
        """How reports name this head: ``task/method`` (``"sst2/lora"``), or the task alone."""
        c = self.config
        return f"{c.task}/{c.method}" if c.method else c.task

    def match_labels(self, model: Any, label_map: Mapping[str, str] | None = None) -> LabelMatch:
        """Which of this head's rows each of ``model``'s outputs takes; changes nothing.

        Labels match by name ignoring case and surrounding space; ``label_map`` renames
        (model label -> head label); a partial overlap leaves the other outputs new.
        See :mod:`headzoo.labels` for the rules.

        Raises:
            LabelMismatchError: the labels cannot be matched; the message names both sides.

        Example:
            >>> head.match_labels(model, {"neg": "negative"}).report  # doctest: +SKIP
            '2 of 3 rows from sst2/lora (neg=negative, positive); new: neutral'
        """
        c = self.config
        cfg = model.config
        n = int(cfg.num_labels)
        model_labels = _model_id2label(model, n)
        return match_labels(
            [model_labels[i] for i in range(n)], c.labels, label_map, source=self.source,
            model_regression=cfg.problem_type == "regression" or n == 1,
            head_regression=c.problem_type == "regression" or c.num_labels == 1,
        )

    def apply(self, model: Any, *, allow_backbone_mismatch: bool = False,
              label_map: Mapping[str, str] | None = None, report: bool = True) -> Any:
        """Put this head into ``model`` in place, strictly, and return the model.

        Every head tensor must land on a tensor of the same name and shape; the
        values are cast to the model's dtype and device. Labels match by name,
        ignoring case and surrounding space, and ``label_map`` renames (model
        label -> head label): the output layer's rows go to the model's outputs
        of the same labels, in the model's order. Where the labels only overlap,
        the matched rows are copied, the model's other outputs keep their own
        initialisation, and one line (:meth:`match_labels` ``.report``, logged at
        INFO) says so; the layers before the output layer (RoBERTa's
        ``classifier.dense``) are copied whole. A model with default ``LABEL_i``
        names and as many outputs takes the head's label names. Regression heads
        go to regression models only and set ``problem_type="regression"``. If
        anything does not fit, nothing in the model is changed.

        Args:
            model: a transformers sequence-classification model of the head's backbone.
            allow_backbone_mismatch: apply even if the backbone weights differ from the head's.
            label_map: model label -> head label, for labels named differently (``{"pos": "positive"}``).
            report: log a partial label fit at INFO (False: at DEBUG, for callers that report it themselves).

        Raises:
            HeadMismatchError: and its subclasses, see :meth:`check`.

        Example:
            >>> model = AutoModelForSequenceClassification.from_pretrained(  # doctest: +SKIP
            ...     "FacebookAI/roberta-base", num_labels=2)
            >>> Head.load("heads/rte").apply(model)  # doctest: +SKIP
            >>> head.apply(my_model, label_map={"neg": "negative", "pos": "positive"})  # doctest: +SKIP
        """
        import torch

        from .head_kind import head_scale_ratio

        plan = self.check(model, allow_backbone_mismatch=allow_backbone_mismatch, label_map=label_map)
        match = plan.labels
        state = plan.state
        ratio = head_scale_ratio(self.config, model)
        tensors = {name: value * ratio for name, value in self.tensors.items()} if ratio != 1.0 else dict(self.tensors)
        if not match.is_identity:
            layer = self.config.output_layer
            for suffix in ("weight", "bias"):
                name = f"{layer}.{suffix}"
                if name in tensors and tensors[name].shape[0] == self.config.num_labels:
                    rows = state[name].detach().to(device="cpu", dtype=torch.float32).clone()  # new rows: own init
                    for i, j in enumerate(match.rows):
                        if j is not None:
                            rows[i] = tensors[name][j]
                    tensors[name] = rows
        logger.log(logging.INFO if report and not match.exact else logging.DEBUG, "%s", match.report)
        # Cast everything first: once the first tensor is copied, nothing may fail any more.
        ready = {name: value.to(dtype=state[name].dtype, device=state[name].device) for name, value in tensors.items()}
        with torch.no_grad():
            for name, value in ready.items():
                state[name].copy_(value)
        cfg = model.config
        if plan.set_labels:
            cfg.id2label = dict(self.config.id2label)
            cfg.label2id = self.config.label2id
        if self.config.problem_type == "regression" or self.config.num_labels == 1:
            cfg.problem_type = "regression"
        elif self.config.problem_type and not cfg.problem_type:
            cfg.problem_type = self.config.problem_type
        return model



def output_layer_name(model: Any) -> str | None:
    """The head module whose rows are the label outputs (``classifier``, ``classifier.out_proj``, ``score``).

    The last head module (in registration order) with a 2-D weight of ``num_labels`` rows,
    as :meth:`Head.from_model` records it in ``output_layer``; None when there is none.

    Example:
        >>> output_layer_name(roberta_model)  # doctest: +SKIP
        'classifier.out_proj'
    """
    return _find_output_layer(model, head_state_names(model), int(model.config.num_labels))


def _model_id2label(model: Any, num_labels: int) -> dict[int, str]:
    """The model's ``config.id2label`` as ``{0..n-1: name}``, checked against its ``label2id``.

    Raises:
        LabelMismatchError: ids that are not exactly 0..n-1, duplicate names, or a
            ``label2id`` that names other labels or other ids than ``id2label``.
    """
    cfg = model.config
    raw = dict(getattr(cfg, "id2label", None) or {})
    if not raw:  # no names at all: transformers' defaults
        return {i: f"LABEL_{i}" for i in range(num_labels)}
    where = f"{type(model).__name__}.config"
    parsed: dict[int, str] = {}
    for key, label in raw.items():
        try:
            idx = int(key)
        except (TypeError, ValueError):
            idx = -1
        if isinstance(key, bool) or idx < 0 or idx in parsed:
            parsed = {}
            break
        parsed[idx] = str(label)
    if sorted(parsed) != list(range(num_labels)):
        raise LabelMismatchError(
            f"{where}.id2label {dict(list(raw.items())[:20])!r} does not name the outputs 0..{num_labels - 1}: "
            "build the model with num_labels and id2label matching the head (headzoo.load_head does this)"
        )
    if len(set(parsed.values())) != len(parsed):
        raise LabelMismatchError(
            f"{where}.id2label {parsed!r} gives two outputs the same name: give each output its own label"
        )
    label2id = dict(getattr(cfg, "label2id", None) or {})
    generic = all(str(k) == f"LABEL_{v}" for k, v in label2id.items())
    if label2id and not generic and label2id != {label: idx for idx, label in parsed.items()}:
        raise LabelMismatchError(
            f"{where}.label2id {dict(list(label2id.items())[:20])!r} disagrees with its id2label {parsed!r}: "
            "set label2id to the inverse of id2label"
        )
    return parsed


def _hidden_size(cfg: Any) -> int | None:
    for attr in ("hidden_size", "d_model", "n_embd", "dim"):
        value = getattr(cfg, attr, None)
        if isinstance(value, int):
            return value
    return None



#: Besides Head, head_state_names and unwrapped_state: names of files.py and head_config.py once imported from here.
__all__ = [
    "CARD_FILE",
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "HEAD_FILE",
    "Head",
    "HeadCheck",
    "HeadConfig",
    "find_head_files",
    "finite",
    "head_state_names",
    "output_layer_name",
    "parse_config_json",
    "read_config",
    "read_head",
    "unwrapped_state",
]
