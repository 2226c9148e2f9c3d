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
from pathlib import Path
from typing import Any

from . import cards
from .errors import BackboneMismatchError, HeadFormatError, HeadMismatchError, LabelMismatchError
from .files import CARD_FILE, HEAD_FILE, find_head_files, read_head, staged_head_dir, tensor_names_diff, write_tensors
from .head_config import CONFIG_FILE, FORMAT_VERSION, HeadConfig, finite, parse_config_json, read_config

logger = logging.getLogger(__name__)


def _is_generic_labels(id2label: Mapping[int, str]) -> bool:
    return all(str(label) == f"LABEL_{int(idx)}" for idx, label in id2label.items())


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


def _find_output_layer(model: Any, names: list[str], num_labels: int) -> str | None:
    """The last head module (in registration order) whose weight has ``num_labels`` rows."""
    import torch

    found = None
    for module_name, module in model.named_modules():
        weight = getattr(module, "weight", None)
        if f"{module_name}.weight" not in names or not isinstance(weight, torch.Tensor):
            continue
        if weight.dim() == 2 and weight.shape[0] == num_labels:
            found = module_name
    return found


class Head:
    """A classification head: tensors plus a :class:`HeadConfig`.

    Example:
        >>> head = Head.from_model(model, task="rte", backbone="FacebookAI/roberta-base")  # doctest: +SKIP
        >>> head.save("heads/rte")  # doctest: +SKIP
        >>> Head.load("heads/rte").apply(fresh_model)  # doctest: +SKIP
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

        Args:
            model: a transformers ``*ForSequenceClassification`` model (unwrapped from peft).
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

        state = model.state_dict()
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
        config = HeadConfig(
            task=task,
            backbone=backbone or getattr(cfg, "name_or_path", "") or cfg.model_type,
            backbone_revision=backbone_revision,
            backbone_fingerprint=backbone_fingerprint or fingerprint_of(model, state),
            model_type=cfg.model_type,
            architecture=type(model).__name__,
            hidden_size=_hidden_size(cfg),
            num_labels=num_labels,
            id2label=id2label,
            problem_type=problem_type,
            base_model_prefix=model.base_model_prefix,
            tensors={k: list(v.shape) for k, v in tensors.items()},
            output_layer=_find_output_layer(model, names, num_labels),
            method=method,
            training=dict(training or {}),
            metrics={k: v for k, v in (metrics or {}).items()
                     if not (isinstance(v, float) and not math.isfinite(v))},  # JSON has no NaN
            versions=_versions(),
            created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        )
        return cls(tensors, config)

    # ------------------------------------------------------------------ files

    def save(self, directory: str | os.PathLike[str], *, overwrite: bool = False, card: bool | str = True) -> Path:
        """Write ``head.safetensors``, ``head_config.json`` and a model card into ``directory``.

        The files are written into a temporary sibling directory that is then
        renamed into place, so an interrupted save never leaves a half-written head,
        and an existing head is only replaced once the new one is complete. The
        swap holds an exclusive lock on the parent directory (so two processes
        saving the same place never mix their files: without ``overwrite`` one
        wins and the other gets :class:`HeadExistsError`) and defers Ctrl-C until
        the new head is in place.

        Args:
            directory: where the head goes (created; its parent too).
            overwrite: replace an existing head; without it an existing head is an error.
            card: write ``README.md``: True renders it from the config, a string is written as is,
                False writes none.

        Returns:
            The directory.

        Raises:
            HeadExistsError: ``directory`` already holds files and ``overwrite`` is False.

        Example:
            >>> head.save("heads/rte-lora")  # doctest: +SKIP
        """
        target = Path(directory).expanduser()
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

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Head:
        """Read a head from a directory (or its ``head.safetensors``), validating everything.

        Raises:
            HeadFormatError: missing, corrupt or inconsistent files; an unknown format version.
            UnsafeFileError: the place holds pickle files and no ``head.safetensors``.

        Example:
            >>> head = Head.load("heads/rte-lora")  # doctest: +SKIP
        """
        import torch

        arrays, config = read_head(path)
        head = cls({k: torch.from_numpy(v.copy()) for k, v in arrays.items()}, config)
        where = Path(path)
        head.path = where.parent if where.is_file() else where
        return head

    # ------------------------------------------------------------------ models

    def check(self, model: Any, *, allow_backbone_mismatch: bool = False) -> dict[str, Any]:
        """Check that this head fits ``model`` and plan how it goes in; changes nothing.

        Returns:
            ``{"permutation": list[int] | None, "set_labels": bool, "state": the model's state dict}``.

        Raises:
            HeadMismatchError: names or shapes differ.
            BackboneMismatchError: different model type, hidden size or backbone weights.
            LabelMismatchError: the model's labels are a different set.
        """
        from .backbone import backbone_fingerprint, is_fingerprint_reliable

        c = self.config
        cfg = model.config
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
        bad = [
            f"{n}: head {list(self.tensors[n].shape)} vs model {list(state[n].shape)}"
            for n in names
            if tuple(state[n].shape) != tuple(self.tensors[n].shape)
        ]
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
        return {
            "permutation": self._label_permutation(model),
            "set_labels": self._model_labels_generic(model),
            "state": state,
        }

    def _model_labels_generic(self, model: Any) -> bool:
        id2label = _model_id2label(model, self.config.num_labels)
        return _is_generic_labels(id2label) and not _is_generic_labels(self.config.id2label)

    def _label_permutation(self, model: Any) -> list[int] | None:
        c = self.config
        model_labels = _model_id2label(model, c.num_labels)
        if c.num_labels == 1 or self._model_labels_generic(model) or _is_generic_labels(c.id2label):
            return None
        if set(model_labels.values()) != set(c.id2label.values()):
            raise LabelMismatchError(
                f"the head's labels {sorted(c.id2label.values())} and the model's labels "
                f"{sorted(model_labels.values())} are different sets: build the model with the head's labels "
                "(headzoo.load_head does this) or train a head for these labels"
            )
        head_index = c.label2id
        perm = [head_index[model_labels[i]] for i in range(c.num_labels)]
        if perm == list(range(c.num_labels)):
            return None
        if not c.output_layer:
            raise LabelMismatchError(
                f"the model orders the labels {[model_labels[i] for i in range(c.num_labels)]} and the head "
                f"{c.labels}, but the head records no output layer to reorder; "
                "build the model with the head's id2label"
            )
        return perm

    def apply(self, model: Any, *, allow_backbone_mismatch: bool = False) -> Any:
        """Put this head into ``model`` in place, strictly, and return the model.

        Every head tensor must land on a tensor of the same name and shape; the
        values are cast to the model's dtype and device. If the model orders the
        same labels differently, the output rows are permuted to its order; a
        model with default ``LABEL_i`` names takes the head's label names.
        Regression heads set ``problem_type="regression"``. If anything does not
        fit, nothing in the model is changed.

        Args:
            model: a transformers sequence-classification model of the head's backbone.
            allow_backbone_mismatch: apply even if the backbone weights differ from the head's.

        Raises:
            HeadMismatchError: and its subclasses, see :meth:`check`.

        Example:
            >>> model = AutoModelForSequenceClassification.from_pretrained(  # doctest: +SKIP
            ...     "FacebookAI/roberta-base", num_labels=2)
            >>> Head.load("heads/rte").apply(model)  # doctest: +SKIP
        """
        import torch

        plan = self.check(model, allow_backbone_mismatch=allow_backbone_mismatch)
        tensors = dict(self.tensors)
        perm = plan["permutation"]
        if perm is not None:
            index = torch.tensor(perm)
            layer = self.config.output_layer
            for suffix in ("weight", "bias"):
                name = f"{layer}.{suffix}"
                if name in tensors and tensors[name].shape[0] == self.config.num_labels:
                    tensors[name] = tensors[name].index_select(0, index)
        state = plan["state"]
        # Cast everything first: once the first tensor is copied, nothing may fail any more.
        ready = {name: value.to(dtype=state[name].dtype, device=state[name].device) for name, value in tensors.items()}
        with torch.no_grad():
            for name, value in ready.items():
                state[name].copy_(value)
        cfg = model.config
        if plan["set_labels"]:
            cfg.id2label = dict(self.config.id2label)
            cfg.label2id = self.config.label2id
        if self.config.problem_type == "regression" or self.config.num_labels == 1:
            cfg.problem_type = "regression"
        elif self.config.problem_type and not cfg.problem_type:
            cfg.problem_type = self.config.problem_type
        return model



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



#: Besides Head and head_state_names, the names of files.py and head_config.py that callers used to import from here.
__all__ = [
    "CARD_FILE",
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "HEAD_FILE",
    "Head",
    "HeadConfig",
    "find_head_files",
    "finite",
    "head_state_names",
    "parse_config_json",
    "read_config",
    "read_head",
]
