"""What ``head_config.json`` holds: :class:`HeadConfig`, and reading it strictly.

The config is the headline of a head: format version, task, backbone, labels,
tensor shapes, then how the head was made. It is parsed strictly (UTF-8, no
NaN or Infinity, every field type-checked) and written with headline fields first.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import HeadFormatError
from .naming import FEATURES, SENTENCE_EMBEDDING, SEQUENCE_CLASSIFICATION

#: The head format this version writes and the newest it reads.
FORMAT_VERSION = 1
CONFIG_FILE = "head_config.json"
PROBLEM_TYPES = ("regression", "single_label_classification", "multi_label_classification")
#: A ``head_config.json`` larger than this is refused before parsing.
MAX_CONFIG_BYTES = 16 * 2**20


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
        feature: what the head reads: ``"sequence-classification"`` (the model's own classification path) or
            ``"sentence-embedding"`` (the checkpoint's declared sentence embedding); older heads, which do not
            record it, read the former.
        pooling: for ``sentence-embedding`` heads, :meth:`headzoo.pooling.Pooling.to_dict` of the embedding.
        head_scale: for ``sentence-embedding`` heads, the model's logit scale (logits are
            ``head_scale * (x @ weight.T + bias)``).
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
    feature: str = SEQUENCE_CLASSIFICATION
    pooling: dict[str, Any] | None = None
    head_scale: float | None = None
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
        for key in ("task", "backbone", "model_type", "architecture"):
            ordered[key] = data.pop(key)
        ordered["feature"] = data.pop("feature")
        if self.feature == SEQUENCE_CLASSIFICATION:  # the model's own path: no pooling, no scale of ours
            data.pop("pooling")
            data.pop("head_scale")
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
        feature, pooling, head_scale = _parse_feature(data, source)
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
            feature=feature,
            pooling=pooling,
            head_scale=head_scale,
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


def _parse_feature(data: Mapping[str, Any], source: str) -> tuple[str, dict[str, Any] | None, float | None]:
    """The ``feature``, ``pooling`` and ``head_scale`` fields, checked together."""
    from .errors import PoolingConfigError
    from .pooling import Pooling

    feature = data.get("feature", SEQUENCE_CLASSIFICATION)
    if feature not in FEATURES:
        raise HeadFormatError(f"{source}: 'feature' must be one of {list(FEATURES)}, got {feature!r}; "
                              "upgrade headzoo (pip install -U headzoo) or re-save the head")
    if feature != SENTENCE_EMBEDDING:
        return feature, None, None
    try:
        pooling = Pooling.from_dict(data.get("pooling")).to_dict()
    except PoolingConfigError as exc:
        raise HeadFormatError(f"{source}: a sentence-embedding head must record its pooling: {exc}") from None
    scale = data.get("head_scale")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise HeadFormatError(f"{source}: 'head_scale' must be a positive number, got {scale!r}; re-save the head")
    return feature, pooling, float(scale)


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


def parse_config_json(raw: bytes | str, source: str = CONFIG_FILE) -> Any:
    """Parse ``head_config.json`` text strictly: UTF-8, no NaN / Infinity / overflowing numbers.

    Raises:
        HeadFormatError: quoting where the text is broken.

    Example:
        >>> parse_config_json(b'{"format_version": 1}')
        {'format_version': 1}
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


def finite(value: float) -> float | None:
    """``value`` as a float, or None when it is NaN or infinite (JSON has no NaN).

    Example:
        >>> finite(0.5), finite(float("nan"))
        (0.5, None)
    """
    value = float(value)
    return value if math.isfinite(value) else None


__all__ = [
    "CONFIG_FILE",
    "FORMAT_VERSION",
    "MAX_CONFIG_BYTES",
    "PROBLEM_TYPES",
    "HeadConfig",
    "finite",
    "parse_config_json",
    "read_config",
]
