"""Heads as files: extract a classification head from a model, save it, load it, apply it.

The one rule: **the head is every tensor of the model's state dict outside
``model.base_model_prefix``** (BERT: ``classifier.*``; RoBERTa:
``classifier.dense.*`` and ``classifier.out_proj.*``; GPT-2 / Llama:
``score.*``). No list of head names to keep up to date.

A head on disk is a directory with

- ``head.safetensors``: the tensors (float32), named as in the model's state dict;
- ``head_config.json``: :class:`HeadConfig` (format version, task, backbone,
  labels, tensor shapes, how the head was trained);
- ``README.md``: the model card (rendered from the config).

Nothing here reads or writes pickle.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from .errors import (
    BackboneMismatchError,
    HeadExistsError,
    HeadFormatError,
    HeadMismatchError,
    LabelMismatchError,
    UnsafeFileError,
)

logger = logging.getLogger(__name__)

#: The head format this version writes and the newest it reads.
FORMAT_VERSION = 1
HEAD_FILE = "head.safetensors"
CONFIG_FILE = "head_config.json"
CARD_FILE = "README.md"
#: File suffixes that may hold pickled objects; never loaded.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".npy", ".npz")
PROBLEM_TYPES = ("regression", "single_label_classification", "multi_label_classification")


@dataclass
class HeadConfig:
    """What ``head_config.json`` holds. Headline fields first, then how the head was made.

    Attributes:
        task: the task name (``"rte"``) or a custom task's name.
        backbone: the backbone id as given (Hub id or local path).
        model_type: ``config.model_type`` of the model the head came from.
        architecture: the model class (``"BertForSequenceClassification"``).
        hidden_size: the backbone's hidden size.
        num_labels: number of outputs (1 for regression).
        id2label: output index -> label name.
        problem_type: ``"single_label_classification"`` or ``"regression"`` (or None).
        base_model_prefix: the model's ``base_model_prefix`` (what the head is *not*).
        tensors: tensor name -> shape.
        backbone_revision: the Hub commit sha of the backbone, when known.
        backbone_fingerprint: :func:`headzoo.backbone.weight_fingerprint` of the backbone.
        output_layer: the module whose rows are the label outputs (for label permutation).
        method: how the head was trained (``"lora"``, ``"bitfit"``, ``"probe"``...), None if extracted.
        training: hyperparameters of stage 1 (epochs, steps, lr, seed, PET settings, data).
        metrics: stage-1 evaluation metrics.
        versions: package versions that made the head.
        created_at: UTC time of creation, ISO 8601.
        extra: fields this version does not know (kept and written back).
    """

    task: str
    backbone: str
    model_type: str
    architecture: str
    hidden_size: int | None
    num_labels: int
    id2label: dict[int, str]
    problem_type: str | None
    base_model_prefix: str
    tensors: dict[str, list[int]]
    format_version: int = FORMAT_VERSION
    backbone_revision: str | None = None
    backbone_fingerprint: str | None = None
    output_layer: str | None = None
    method: str | None = None
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    created_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label2id(self) -> dict[str, int]:
        """Label name -> output index."""
        return {label: idx for idx, label in self.id2label.items()}

    @property
    def labels(self) -> list[str]:
        """Label names in output order."""
        return [self.id2label[i] for i in range(self.num_labels)]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, headline fields first (``format_version`` leads)."""
        data = asdict(self)
        extra = data.pop("extra")
        data["id2label"] = {str(k): v for k, v in self.id2label.items()}
        ordered = {"format_version": data.pop("format_version")}
        ordered.update(data)
        for key, value in extra.items():
            ordered.setdefault(key, value)
        return ordered

    def to_json(self) -> str:
        """``head_config.json`` text."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, data: Any, *, source: str = CONFIG_FILE) -> HeadConfig:
        """Validate and build a config from parsed JSON.

        Raises:
            HeadFormatError: wrong types, missing fields, inconsistent labels or a newer format.
        """
        if not isinstance(data, dict):
            raise HeadFormatError(f"{source}: expected a JSON object, got {type(data).__name__}; re-save the head")
        version = data.get("format_version")
        if isinstance(version, bool) or not isinstance(version, int):
            raise HeadFormatError(
                f"{source}: 'format_version' must be an integer, got {version!r}; "
                "this is not a head written by headzoo"
            )
        if version > FORMAT_VERSION or version < 1:
            raise HeadFormatError(
                f"{source}: format_version {version} is not supported (this headzoo reads 1..{FORMAT_VERSION}); "
                "upgrade headzoo: pip install -U headzoo"
            )
        known = {f.name for f in fields(cls)} - {"extra"}
        required = {"task", "backbone", "model_type", "architecture", "num_labels", "id2label", "tensors"}
        missing = sorted(required - set(data))
        if missing:
            raise HeadFormatError(f"{source}: missing field(s) {missing}; re-save the head with Head.save()")

        def want(name: str, types: tuple[type, ...], optional: bool = False) -> Any:
            value = data.get(name)
            if value is None and optional:
                return None
            if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
                names = " or ".join(t.__name__ for t in types)
                raise HeadFormatError(f"{source}: field {name!r} must be {names}, got {value!r}")
            return value

        for name in ("task", "backbone", "model_type", "architecture"):
            if not want(name, (str,)).strip():
                raise HeadFormatError(f"{source}: field {name!r} is empty")
        num_labels = want("num_labels", (int,))
        if not 1 <= num_labels <= 1_000_000:
            raise HeadFormatError(f"{source}: 'num_labels' must be between 1 and 1000000, got {num_labels}")
        hidden = want("hidden_size", (int,), optional=True)
        if hidden is not None and not 0 < hidden < 2**31:
            raise HeadFormatError(f"{source}: 'hidden_size' must be a positive integer, got {hidden}")
        id2label = _parse_id2label(want("id2label", (dict,)), num_labels, source)
        if data.get("label2id") is not None:
            _check_label2id(data["label2id"], id2label, source)
        problem_type = want("problem_type", (str,), optional=True)
        if problem_type is not None and problem_type not in PROBLEM_TYPES:
            raise HeadFormatError(
                f"{source}: 'problem_type' must be one of {list(PROBLEM_TYPES)}, got {problem_type!r}"
            )
        tensors = want("tensors", (dict,))
        if not tensors:
            raise HeadFormatError(f"{source}: 'tensors' is empty; a head holds at least one tensor")
        parsed_tensors: dict[str, list[int]] = {}
        for name, shape in tensors.items():
            if not isinstance(shape, list) or not all(
                isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**40 for d in shape
            ):
                raise HeadFormatError(f"{source}: shape of tensor {name!r} must be a list of sizes, got {shape!r}")
            parsed_tensors[name] = list(shape)
        for name in ("training", "metrics", "versions"):
            want(name, (dict,), optional=True)
        for name in ("backbone_revision", "backbone_fingerprint", "output_layer", "method", "created_at"):
            want(name, (str,), optional=True)
        base_prefix = want("base_model_prefix", (str,), optional=True) or ""
        return cls(
            format_version=version,
            task=data["task"],
            backbone=data["backbone"],
            model_type=data["model_type"],
            architecture=data["architecture"],
            hidden_size=hidden,
            num_labels=num_labels,
            id2label=id2label,
            problem_type=problem_type,
            base_model_prefix=base_prefix,
            tensors=parsed_tensors,
            backbone_revision=data.get("backbone_revision"),
            backbone_fingerprint=data.get("backbone_fingerprint"),
            output_layer=data.get("output_layer"),
            method=data.get("method"),
            training=data.get("training") or {},
            metrics=data.get("metrics") or {},
            versions=data.get("versions") or {},
            created_at=data.get("created_at") or "",
            extra={k: v for k, v in data.items() if k not in known},
        )


_INDEX = re.compile(r"^(0|[1-9][0-9]{0,8})$")


def _parse_id2label(raw: dict[Any, Any], num_labels: int, source: str) -> dict[int, str]:
    parsed: dict[int, str] = {}
    for key, label in raw.items():
        if isinstance(key, int) and not isinstance(key, bool) and key >= 0:
            idx = key
        elif isinstance(key, str) and _INDEX.match(key):
            idx = int(key)
        else:
            raise HeadFormatError(
                f"{source}: id2label key {key!r} is not an output index; use the strings '0'..'{num_labels - 1}'"
            )
        if idx in parsed:
            raise HeadFormatError(f"{source}: id2label names output {idx} twice; give each index once")
        if not isinstance(label, str) or not label:
            raise HeadFormatError(f"{source}: id2label[{key!r}] must be a non-empty string, got {label!r}")
        parsed[idx] = label
    if sorted(parsed) != list(range(num_labels)):
        raise HeadFormatError(
            f"{source}: id2label must have exactly the ids 0..{num_labels - 1} (num_labels={num_labels}), "
            f"got {sorted(parsed)[:20]}"
        )
    counts = Counter(parsed.values())
    dupes = sorted(label for label, n in counts.items() if n > 1)
    if dupes:
        raise HeadFormatError(
            f"{source}: id2label has duplicate labels {dupes[:20]}; each output needs its own name"
        )
    return parsed


def _check_label2id(raw: Any, id2label: Mapping[int, str], source: str) -> None:
    """A ``label2id`` next to ``id2label`` (written by other tools) must be its exact inverse."""
    inverse = {label: idx for idx, label in id2label.items()}
    if not isinstance(raw, dict) or set(raw) != set(inverse) or any(
        isinstance(raw[label], bool) or raw[label] != idx for label, idx in inverse.items()
    ):
        shown = raw if not isinstance(raw, dict) else dict(list(raw.items())[:20])
        raise HeadFormatError(
            f"{source}: label2id {shown!r} disagrees with id2label {dict(list(id2label.items())[:20])!r}; "
            "remove label2id (headzoo derives it from id2label) or make it the exact inverse"
        )


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
        if sorted(self.tensors) != sorted(config.tensors):
            raise HeadFormatError(_names_diff("head_config.json", sorted(config.tensors), sorted(self.tensors)))
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
        from safetensors.numpy import save_file

        target = Path(directory).expanduser()
        _check_target(target, overwrite)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            arrays = {k: v.detach().cpu().contiguous().numpy() for k, v in self.tensors.items()}
            # One metadata key: safetensors writes several in random order, and identical heads
            # must give identical bytes (a re-push of the same head then makes no commit).
            header = {"format_version": FORMAT_VERSION, "task": self.config.task, "backbone": self.config.backbone}
            metadata = {"headzoo": json.dumps(header, sort_keys=True, separators=(",", ":"))}
            save_file(arrays, str(tmp / HEAD_FILE), metadata=metadata)
            (tmp / CONFIG_FILE).write_text(self.config.to_json(), encoding="utf-8")
            if card is True:
                from .cards import render_card

                card = render_card(self.config)
            if isinstance(card, str):
                (tmp / CARD_FILE).write_text(card, encoding="utf-8")
            _install(tmp, target, overwrite=overwrite)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        logger.debug("saved head to %s", target)
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
        return cls({k: torch.from_numpy(v.copy()) for k, v in arrays.items()}, config)

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
            raise HeadMismatchError(_names_diff(type(model).__name__, names, sorted(self.tensors)))
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


def _names_diff(where: str, expected: list[str], got: list[str]) -> str:
    missing = sorted(set(expected) - set(got))
    unexpected = sorted(set(got) - set(expected))
    parts = []
    if missing:
        parts.append(f"missing {missing}")
    if unexpected:
        parts.append(f"unexpected {unexpected}")
    return (
        f"head tensors do not match {where}: " + "; ".join(parts)
        + " (the head was made for another architecture or the file was edited)"
    )


def copy_head_files(source: str | os.PathLike[str], directory: str | os.PathLike[str], *,
                    overwrite: bool = False) -> Path:
    """Copy a head directory's files, byte for byte, to ``directory`` with the guarantees of :meth:`Head.save`.

    Only ``head.safetensors``, ``head_config.json`` and (when present)
    ``README.md`` are copied; the copy is swapped in atomically under the lock.

    Raises:
        HeadExistsError: ``directory`` holds a head and ``overwrite`` is False.
    """
    src = Path(source)
    target = Path(directory).expanduser()
    _check_target(target, overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        for name in (HEAD_FILE, CONFIG_FILE, CARD_FILE):
            if name != CARD_FILE or (src / name).is_file():
                shutil.copyfile(src / name, tmp / name)
        _install(tmp, target, overwrite=overwrite)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _install(tmp: Path, target: Path, *, overwrite: bool) -> None:
    """Flush a finished head directory and swap it into place under the lock."""
    for path in tmp.iterdir():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
    with entry_lock(target):
        _check_target(target, overwrite)  # another process may have saved here meanwhile
        _replace_dir(tmp, target, overwrite=overwrite)


def _check_target(target: Path, overwrite: bool) -> None:
    if target.exists() and not target.is_dir():
        raise HeadExistsError(f"{str(target)!r} is a file, not a directory: choose another place for the head")
    if not overwrite and target.is_dir() and any(target.iterdir()):
        raise HeadExistsError(
            f"{str(target)!r} already holds a head (another process may have just saved one); "
            "pass overwrite=True (CLI: --overwrite) to replace it"
        )


_LOCKS_GUARD = threading.Lock()
_LOCKS: dict[str, tuple[threading.RLock, list[int]]] = {}


@contextmanager
def entry_lock(target: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive lock on the directory that holds ``target`` (a head place), across processes.

    Re-entrant within a process. An ``flock`` on the parent directory itself,
    so no lock file is left behind; on systems without ``fcntl`` only threads are serialised.

    Example:
        >>> with entry_lock(zoo_path("rte", "minilm", "lora")):  # doctest: +SKIP
        ...     pass
    """
    parent = Path(target).expanduser().absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    key = str(parent)
    with _LOCKS_GUARD:
        lock, depth = _LOCKS.setdefault(key, (threading.RLock(), [0]))
    with lock:
        fd = None
        if depth[0] == 0:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - Windows
                fcntl = None  # type: ignore[assignment]
            if fcntl is not None:
                try:
                    fd = os.open(parent, os.O_RDONLY)
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except OSError as exc:  # a file system without locks (some network mounts)
                    logger.debug("cannot lock %s (%s); saving without a cross-process lock", parent, exc)
                    if fd is not None:
                        os.close(fd)
                    fd = None
                except BaseException:
                    if fd is not None:
                        os.close(fd)
                    raise
        depth[0] += 1
        try:
            yield
        finally:
            depth[0] -= 1
            if fd is not None:
                os.close(fd)  # closing the descriptor releases the flock


@contextmanager
def _deferred_interrupts() -> Iterator[None]:
    """Hold back Ctrl-C / SIGTERM until the block is done, so a swap is never cut in half.

    Python runs signal handlers in the main thread only, so a handler that just
    records the signal defers it whichever thread the OS delivered it to; the
    previous handler is called once the block ends.
    """
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[tuple[int, Any]] = []
    previous: dict[int, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, lambda signum, frame: received.append((signum, frame)))
        except (ValueError, OSError):  # pragma: no cover - not settable here
            continue
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        if received:
            signum, frame = received[0]
            handler = previous.get(signum)
            if callable(handler):
                handler(signum, frame)  # Python's default for SIGINT raises KeyboardInterrupt here
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), signum)


def _replace_dir(tmp: Path, target: Path, *, overwrite: bool) -> None:
    """Move a finished head directory into place; the old one survives until the new one is there."""
    try:
        os.rename(tmp, target)  # atomic; fails if target is a non-empty directory
        return
    except OSError:
        if not target.exists():
            raise
    if not overwrite:
        raise HeadExistsError(
            f"{str(target)!r} already holds a head (another process may have just saved one); "
            "pass overwrite=True (CLI: --overwrite) to replace it"
        )
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    with _deferred_interrupts():
        try:
            os.rename(target, old / "head")
            try:
                os.rename(tmp, target)
            except BaseException:
                os.rename(old / "head", target)
                raise
        finally:
            shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------------- reading


def find_head_files(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The ``(head.safetensors, head_config.json)`` of a head directory or file.

    Raises:
        UnsafeFileError: ``path`` is a pickle file, or a directory with pickle files and no head.
        HeadFormatError: no head files there.
    """
    try:
        p = Path(path).expanduser()
        is_file, is_dir = p.is_file(), p.is_dir()
    except RuntimeError:  # "~nobody/x"
        raise HeadFormatError(f"no head at {str(path)!r}: there is no such user's home; give the full path") from None
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte
        raise HeadFormatError(f"no head at {str(path)!r}: not a usable path ({exc}); give a head folder") from None
    if is_file:
        if p.suffix.lower() in PICKLE_SUFFIXES:
            raise UnsafeFileError(
                f"{str(p)!r} is a pickle-based file; headzoo never loads pickle (it can run arbitrary code). "
                "Convert the head to head.safetensors with headzoo on a trusted machine"
            )
        if p.name == CONFIG_FILE or p.suffix == ".safetensors":
            p = p.parent
        else:
            raise HeadFormatError(f"{str(p)!r} is not a head: give a directory holding {HEAD_FILE} and {CONFIG_FILE}")
    if not is_file and not is_dir:
        raise HeadFormatError(f"no head at {str(p)!r}: the directory does not exist")
    weights, config = p / HEAD_FILE, p / CONFIG_FILE
    if not weights.is_file():
        pickles = sorted(x.name for x in p.iterdir() if x.suffix.lower() in PICKLE_SUFFIXES)
        if pickles:
            raise UnsafeFileError(
                f"{str(p)!r} holds pickle file(s) {pickles} and no {HEAD_FILE}; headzoo never loads pickle. "
                "Ask the publisher for a safetensors head"
            )
        raise HeadFormatError(f"{str(p)!r} has no {HEAD_FILE}: a head directory holds {HEAD_FILE} and {CONFIG_FILE}")
    if not config.is_file():
        raise HeadFormatError(
            f"{str(p)!r} has no {CONFIG_FILE}; it is needed to know the task, labels and backbone. Re-save the head"
        )
    return weights, config


def read_config(path: str | os.PathLike[str]) -> HeadConfig:
    """Read and validate ``head_config.json`` (a file or a head directory).

    Example:
        >>> read_config("heads/rte").labels  # doctest: +SKIP
        ['entailment', 'not_entailment']
    """
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / CONFIG_FILE
    try:
        with open(p, "rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise HeadFormatError(f"cannot read {str(p)!r}: {exc.strerror or exc}") from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise HeadFormatError(
            f"{str(p)!r} is larger than {MAX_CONFIG_BYTES // 2**20} MiB; a head config is a few kilobytes, "
            "so this is not a head written by headzoo"
        )
    return HeadConfig.from_dict(parse_config_json(raw, str(p)), source=str(p))


#: A ``head_config.json`` larger than this is refused before parsing.
MAX_CONFIG_BYTES = 16 * 2**20


def parse_config_json(raw: bytes | str, source: str = CONFIG_FILE) -> Any:
    """Parse ``head_config.json`` text strictly: UTF-8, no NaN / Infinity / overflowing numbers.

    Raises:
        HeadFormatError: quoting where the text is broken.
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except UnicodeDecodeError as exc:
        raise HeadFormatError(f"{source!r} is not UTF-8 text (byte {exc.start}); re-save the head") from exc
    except json.JSONDecodeError as exc:
        raise HeadFormatError(
            f"{source!r} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); re-save the head"
        ) from exc
    except RecursionError as exc:
        raise HeadFormatError(f"{source!r} nests JSON too deeply to be a head config; re-save the head") from exc
    except ValueError as exc:  # NaN, Infinity, 1e999, integers of thousands of digits
        raise HeadFormatError(f"{source!r}: {exc}; re-save the head") from exc


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in head_config.json (JSON has no NaN or Infinity)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range for head_config.json")
    return value


def read_head(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], HeadConfig]:
    """Read a head as numpy arrays plus its config, with no torch model involved.

    Any framework can use the result: the arrays are named as in the
    transformers state dict (``"classifier.weight"``...).

    Args:
        path: a head directory (or its ``head.safetensors``).

    Returns:
        ``(arrays, config)``.

    Raises:
        HeadFormatError: missing, corrupt, truncated or inconsistent files, NaN/Inf values.
        UnsafeFileError: pickle files instead of a head.

    Example:
        >>> arrays, config = read_head("heads/rte")  # doctest: +SKIP
        >>> arrays["classifier.weight"].shape  # doctest: +SKIP
        (2, 384)
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    weights, config_path = find_head_files(path)
    config = read_config(config_path)
    _check_safetensors_header(weights)
    try:
        arrays = load_file(str(weights))
    except (SafetensorError, OSError, ValueError, TypeError, OverflowError, KeyError, AttributeError,
            MemoryError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HeadFormatError(
            f"{str(weights)!r} is corrupt or truncated ({first}); download or save the head again"
        ) from exc
    if sorted(arrays) != sorted(config.tensors):
        raise HeadFormatError(_names_diff(str(config_path), sorted(config.tensors), sorted(arrays)))
    for name, array in arrays.items():
        if list(array.shape) != config.tensors[name]:
            raise HeadFormatError(
                f"tensor {name!r} in {str(weights)!r} has shape {list(array.shape)} but {CONFIG_FILE} says "
                f"{config.tensors[name]}; the files do not belong together, re-save the head"
            )
        if np.issubdtype(array.dtype, np.floating):
            with np.errstate(over="ignore"):
                as_float32 = array.astype(np.float32)  # what a float32 model gets; beyond ~3.4e38 is Inf
            if not np.isfinite(as_float32).all():
                raise HeadFormatError(
                    f"tensor {name!r} in {str(weights)!r} holds NaN or Inf values (or values beyond float32's "
                    "range); the head diverged in training, train it again with a lower learning rate"
                )
    return arrays, config


#: safetensors dtypes a head may hold: real numbers numpy reads (headzoo itself writes F32).
HEAD_DTYPES = ("F64", "F32", "F16", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL")
_MAX_HEADER_BYTES = 100 * 2**20  # safetensors' own limit


def _check_safetensors_header(weights: Path) -> None:
    """Read just the safetensors header and refuse what cannot be a head, before any tensor is read.

    The size prefix must fit in the file, the header must be a JSON object of
    tensors with a known real dtype, and every tensor's bytes must lie inside the file.
    """
    def corrupt(why: str) -> HeadFormatError:
        return HeadFormatError(f"{str(weights)!r} is corrupt or truncated ({why}); download or save the head again")

    try:
        size = weights.stat().st_size
        with open(weights, "rb") as fh:
            prefix = fh.read(8)
            if len(prefix) < 8:
                raise corrupt(f"{size} bytes, shorter than the 8-byte header size")
            n = int.from_bytes(prefix, "little")
            if n > min(size - 8, _MAX_HEADER_BYTES):
                raise corrupt(f"the header claims {n} bytes but the file has {size}")
            raw = fh.read(n)
    except OSError as exc:
        raise HeadFormatError(f"cannot read {str(weights)!r}: {exc.strerror or exc}") from exc
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise corrupt("the header is not JSON") from None
    if not isinstance(header, dict):
        raise corrupt("the header is not a JSON object")
    data_size = size - 8 - n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict):
            raise corrupt(f"entry {name!r} of the header is not an object")
        dtype = info.get("dtype")
        if dtype not in HEAD_DTYPES:
            raise HeadFormatError(
                f"tensor {name!r} in {str(weights)!r} has dtype {dtype!r}, which a head cannot hold "
                f"(allowed: {', '.join(HEAD_DTYPES)}); re-save the head with headzoo, which writes float32"
            )
        offsets = info.get("data_offsets")
        if (
            not isinstance(offsets, list) or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= data_size
        ):
            raise corrupt(f"tensor {name!r} claims bytes {offsets!r} but the file holds {data_size} bytes of data")


def finite(value: float) -> float | None:
    """``value`` as a float, or None when it is NaN or infinite (JSON has no NaN)."""
    value = float(value)
    return value if math.isfinite(value) else None
