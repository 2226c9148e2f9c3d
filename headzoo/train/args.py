"""The settings of each stage: one dataclass per stage, validated once in ``__post_init__``.

:class:`Stage1Settings` holds stage 1 (a head trained with a PET method),
:class:`FinetuneSettings` stage 2 and the budget. Both follow peft's config
dataclasses: every field has ``metadata={"help": ...}`` and a bad value is a
:class:`~headzoo.errors.ConfigError` that quotes it. What a run hashes and
records is built from their ``asdict``.

Stage 2 also takes any ``transformers.TrainingArguments`` field the user sets
(``bf16``, ``gradient_accumulation_steps``, ``report_to``...) in
``FinetuneSettings.training_args``; the fields headzoo must control itself
(:data:`RESERVED_TRAINING_ARGS`) are refused with the setting to use instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from ..errors import ConfigError
from ..pet import DEFAULTS as PET_DEFAULTS
from ..pet import IMPRINT, METHODS, STAGE1_METHODS

#: Fine-tuning strategies.
STRATEGIES = ("ft", "lp-ft", "eh-ft")
#: Budget protocols of :func:`headzoo.train.finetune`: what a run's record says applied.
PROTOCOLS = ("matched", "zoo")
#: ``FinetuneSettings.protocol``'s default: ``"zoo"`` for a run that starts from a head it did not train (a given
#: head, a task's head from the zoo, ``head="auto"``'s zoo head), else ``"matched"``
#: (:meth:`FinetuneSettings.resolved`).
AUTO_PROTOCOL = "auto"
#: How stage 2 of a ``matched`` run takes its batches after stage 1 (see :mod:`headzoo.train`).
DATA_ORDERS = ("continue", "restart")
#: When stage 2 evaluates on the validation split, as ``TrainingArguments.eval_strategy`` names it: every
#: ``eval_steps`` steps and at the end (``"steps"``), at every epoch boundary and at the end (``"epoch"``), or at
#: the end only (``"no"``: no evaluation during training).
EVAL_STRATEGIES = ("steps", "epoch", "no")

#: Stage-1 learning rates per preset and method.
#:
#: ``"paper"``: the official EH-FT code (RoBERTa-large, long budgets): 5e-4 for
#: LoRA and BitFit, 5e-3 for prefix-tuning, 1e-3 for the head-only probe. IA3 was
#: not in the paper; the paper preset uses 3e-2 for it.
#:
#: ``"headzoo"`` (default): rates that move the head off the majority class
#: within one short epoch, chosen by ``benchmarks/lr_search.py`` on held-out
#: *training* examples (dev never read). The search and its scores are in
#: ``results/lr_search/`` and ``docs/benchmarks.md``.
#:
#: ``"imprint"`` has no entry: it trains nothing (no learning rate, no steps).
PRESETS: dict[str, dict[str, float]] = {
    "paper": {"lora": 5e-4, "bitfit": 5e-4, "ia3": 3e-2, "prefix": 5e-3, "probe": 1e-3},
    "headzoo": {"lora": 5e-3, "bitfit": 5e-3, "ia3": 9e-2, "prefix": 9e-2, "probe": 1e-1},
}

#: The stage-1 settings only some methods read (:func:`headzoo.pet.prepare`); every other field is common.
METHOD_SETTINGS: dict[str, tuple[str, ...]] = {
    "lora": ("lora_r", "lora_alpha", "lora_dropout", "target_modules"),
    "ia3": ("target_modules",),
    "prefix": ("prefix_length",),
    "bitfit": (),
    "probe": ("backbone_dropout",),
    IMPRINT: (),
}
_METHOD_ONLY = frozenset(name for names in METHOD_SETTINGS.values() for name in names)
#: The only stage-1 settings ``"imprint"`` reads (one forward pass: no learning rate, length or optimizer);
#: its records and run hashes hold only these.
IMPRINT_SETTINGS = ("method", "batch_size", "max_length", "seed")

#: ``TrainingArguments`` fields headzoo sets itself, with the setting to use instead.
RESERVED_TRAINING_ARGS: dict[str, str] = {
    "output_dir": "pass output_dir= (CLI --output-dir)",
    "max_steps": "set the budget with epochs= (CLI --epochs); headzoo counts the steps",
    "num_train_epochs": "set the budget with epochs= (CLI --epochs)",
    "per_device_train_batch_size": "use batch_size= (CLI --batch-size)",
    "learning_rate": "use learning_rate= (CLI --lr)",
    "warmup_steps": "use warmup_ratio=",
    "weight_decay": "use weight_decay=",
    "max_grad_norm": "use max_grad_norm=",
    "seed": "use seed= (CLI --seed)",
    "data_seed": "use seed= (CLI --seed); the batch order follows it",
    "train_sampling_strategy": "use group_by_length=",
    "eval_strategy": "use eval_strategy= (CLI --eval-strategy): 'steps', 'epoch' or 'no' (at the end of stage 2 "
                     "only)",
    "eval_steps": "use eval_steps= (CLI --eval-steps)",
    "eval_delay": "headzoo places stage 2's evaluations itself (eval_strategy=, eval_steps=) and always evaluates "
                  "at its end",
    "eval_on_start": "headzoo places stage 2's evaluations itself (eval_strategy=, eval_steps=) and always "
                     "evaluates at its end",
    "save_strategy": "headzoo saves checkpoints where stage 2 would evaluate; pass save_checkpoints=False to skip "
                     "them",
    "save_steps": "headzoo saves checkpoints where stage 2 would evaluate; pass save_checkpoints=False to skip them",
    "save_total_limit": "headzoo keeps one checkpoint per stage",
    "load_best_model_at_end": "headzoo reports the best evaluation in FinetuneResult.best",
    "metric_for_best_model": "headzoo ranks evaluations by the task's main metric",
    "greater_is_better": "headzoo ranks evaluations by the task's main metric",
    "resume_from_checkpoint": "use resume=True (CLI --resume)",
    "run_name": "headzoo names the stages (callbacks tell them apart by args.run_name)",
    "disable_tqdm": "use progress= (CLI --no-progress)",
    "remove_unused_columns": "headzoo's data pipeline needs its own columns",
    "label_names": "headzoo's data pipeline needs its own columns",
    "length_column_name": "headzoo's data pipeline needs its own columns",
    "push_to_hub": "push the head with headzoo push, or save the model and push it yourself",
}

#: ``TrainingArguments`` fields (or name prefixes ending in ``_``) that change how a run is watched or
#: fed, not what it computes: they stay out of the run hash, so setting them reuses finished runs.
UNHASHED_TRAINING_ARGS: tuple[str, ...] = (
    "report_to", "project", "trackio_", "logging_", "log_", "dataloader_", "per_device_eval_batch_size",
    "eval_accumulation_steps", "eval_do_concat_batches", "include_num_input_tokens_seen", "skip_memory_metrics",
    "torch_empty_cache_steps", "hub_", "save_on_each_node", "save_only_model", "debug",
)


# --------------------------------------------------------------------------- validators


def bad_value(name: str, value: Any, want: str, fix: str = "") -> ConfigError:
    """The :class:`ConfigError` for a setting ``name`` holding ``value`` where ``want`` was expected.

    Example:
        >>> str(bad_value("epochs", -1, "a number > 0"))
        'epochs must be a number > 0, got -1'
    """
    return ConfigError(f"{name} must be {want}, got {value!r}" + (f"; {fix}" if fix else ""))


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` if it is an integer (not a bool) in ``[low, high]``, else a :class:`ConfigError`.

    Example:
        >>> check_int("seed", 3, 0)
        3
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        want = f"an integer >= {low}" if high is None else f"an integer between {low} and {high}"
        raise bad_value(name, value, want)
    return value


def check_float(name: str, value: Any, *, low: float, high: float | None = None, low_open: bool = False,
                high_open: bool = True) -> float:
    """``value`` as a float if it is a finite number in the range, else a :class:`ConfigError`.

    The range is ``[low, high)`` by default; ``low_open`` / ``high_open`` make either end open.

    Example:
        >>> check_float("holdout", 0.2, low=0, high=1, low_open=True)
        0.2
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise bad_value(name, value, "a finite number")
    too_low = value <= low if low_open else value < low
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        lo = f"{'>' if low_open else '>='} {low:g}"
        hi = f" and {'<' if high_open else '<='} {high:g}" if high is not None else ""
        raise bad_value(name, value, f"a number {lo}{hi}")
    return float(value)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``, else a :class:`ConfigError` listing them.

    Example:
        >>> check_choice("protocol", "zoo", PROTOCOLS)
        'zoo'
    """
    if value not in choices:
        raise bad_value(name, value, f"one of {', '.join(repr(c) for c in choices)}")
    return value


def check_preset(preset: Any) -> str:
    """``preset`` if it names one of :data:`PRESETS`, else a :class:`ConfigError`.

    Example:
        >>> check_preset("paper")
        'paper'
    """
    return check_choice("preset", preset, tuple(PRESETS))


def check_learning_rates(rates: Any) -> dict[str, float]:
    """Per-method stage-1 learning rates, checked: ``{method: rate > 0}`` (None gives ``{}``).

    Example:
        >>> check_learning_rates({"ia3": 0.09})
        {'ia3': 0.09}
    """
    if rates is None:
        return {}
    if not isinstance(rates, Mapping):
        raise bad_value("stage1_learning_rates", rates, "a mapping of PET method to learning rate",
                        'for example {"ia3": 0.09}')
    out = {}
    for method, rate in rates.items():
        check_choice("stage1_learning_rates key", method, METHODS)
        out[method] = check_float(f"stage1_learning_rates[{method!r}]", rate, low=0, low_open=True)
    return out


def _from_mapping(cls: type, value: Any, what: str) -> dict[str, Any]:
    """The fields of ``value`` (None, a ``cls`` instance or a mapping of its field names) as a dict."""
    if value is None:
        return {}
    if isinstance(value, cls):
        return asdict(value)
    if isinstance(value, Mapping):
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ConfigError(f"unknown {what} setting(s) {unknown}; known: {', '.join(sorted(known))}")
        return dict(value)
    raise bad_value("settings", value, f"a {cls.__name__}, a dict or None")


# --------------------------------------------------------------------------- stage 1


def stage1_record(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A stage-1 settings dict without the method-specific fields its ``method`` does not read.

    Older records listed every field for every method; this maps them onto
    today's form (fields are only dropped, never filled in, so a missing setting still counts).

    ``"imprint"`` keeps only :data:`IMPRINT_SETTINGS`.

    Example:
        >>> stage1_record({"method": "bitfit", "learning_rate": 5e-3, "lora_dropout": 0.1})
        {'method': 'bitfit', 'learning_rate': 0.005}
        >>> stage1_record({"method": "imprint", "learning_rate": None, "epochs": 1.0, "seed": 0})
        {'method': 'imprint', 'seed': 0}
    """
    if settings.get("method") == IMPRINT:
        return {k: v for k, v in settings.items() if k in IMPRINT_SETTINGS}
    keep = set(METHOD_SETTINGS.get(settings.get("method"), ()))
    return {k: v for k, v in settings.items() if k not in _METHOD_ONLY or k in keep}


@dataclass
class Stage1Settings:
    """Hyperparameters of stage 1 (training a head with a PET method).

    Only the fields of the chosen method matter (``lora_*`` for LoRA,
    ``prefix_length`` for prefix-tuning); all are recorded with the head.

    Example:
        >>> Stage1Settings(method="bitfit", max_steps=100).resolved("headzoo").learning_rate
        0.005
        >>> Stage1Settings(learning_rate=-1)
        Traceback (most recent call last):
        ...
        headzoo.errors.ConfigError: learning_rate must be a number > 0, got -1
    """

    method: str = field(default="lora", metadata={"help": f"Stage-1 method, one of {', '.join(STAGE1_METHODS)}: "
                                                          "probe trains the head only; imprint trains nothing "
                                                          "(each label's row is the class mean of its examples, "
                                                          "one forward pass)."})
    learning_rate: float | None = field(
        default=None, metadata={"help": "Peak learning rate (default: the preset's rate for the method)."}
    )
    epochs: float = field(
        default=1.0, metadata={"help": "Length of stage 1 in epochs (rounded to whole steps); see max_steps."}
    )
    max_steps: int | None = field(
        default=None, metadata={"help": "Length of stage 1 in optimizer steps; overrides epochs when set."}
    )
    batch_size: int = field(default=32, metadata={"help": "Examples per step and device."})
    max_length: int = field(default=128, metadata={"help": "Truncate inputs to this many tokens."})
    warmup_ratio: float = field(default=0.1, metadata={"help": "Fraction of the steps spent on linear warmup."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    max_grad_norm: float = field(default=1.0, metadata={"help": "Gradient clipping norm."})
    seed: int = field(default=0, metadata={"help": "Seed of the head init, dropout and data order."})
    lora_r: int = field(default=PET_DEFAULTS["lora_r"], metadata={"help": "LoRA rank."})
    lora_alpha: float = field(default=PET_DEFAULTS["lora_alpha"], metadata={"help": "LoRA scaling alpha."})
    lora_dropout: float = field(
        default=PET_DEFAULTS["lora_dropout"],
        metadata={"help": "Dropout on the LoRA input; default 0, peft's (a dropout here slows LoRA down)."},
    )
    target_modules: list[str] | None = field(
        default=None,
        metadata={"help": "Modules LoRA / IA3 adapt, e.g. query,key,value,attention.output.dense (the paper's "
                          "Q, K, V, O on BERT); default: peft's choice for the model type (query and value on "
                          "BERT)."},
    )
    prefix_length: int = field(
        default=PET_DEFAULTS["prefix_length"], metadata={"help": "Number of virtual tokens of prefix-tuning."}
    )
    group_by_length: bool = field(default=True, metadata={"help": "Batch examples of similar length together."})
    backbone_dropout: bool = field(
        default=PET_DEFAULTS["backbone_dropout"],
        metadata={"help": "probe only: keep the frozen backbone's dropout on. False (default) probes the "
                          "backbone's eval-mode features, as linear probing does, and is faster."},
    )

    def __post_init__(self) -> None:
        check_choice("method", self.method, STAGE1_METHODS)
        if self.learning_rate is not None:
            check_float("learning_rate", self.learning_rate, low=0, low_open=True)
        check_float("epochs", self.epochs, low=0, low_open=True)
        if self.max_steps is not None:
            check_int("max_steps", self.max_steps, 1)
        check_int("batch_size", self.batch_size, 1)
        check_int("max_length", self.max_length, 2)
        check_float("warmup_ratio", self.warmup_ratio, low=0, high=1)
        check_float("weight_decay", self.weight_decay, low=0)
        check_float("max_grad_norm", self.max_grad_norm, low=0, low_open=True)
        check_int("seed", self.seed, 0, 2**32 - 1)
        check_int("lora_r", self.lora_r, 1)
        check_float("lora_alpha", self.lora_alpha, low=0, low_open=True)
        check_float("lora_dropout", self.lora_dropout, low=0, high=1)
        if self.target_modules is not None:
            targets = [self.target_modules] if isinstance(self.target_modules, str) else self.target_modules
            if not isinstance(targets, (list, tuple)) or not targets or not all(
                isinstance(t, str) and t.strip() for t in targets
            ):
                raise bad_value("target_modules", self.target_modules, "None or a non-empty list of module names")
            self.target_modules = [t.strip() for t in targets]
        check_int("prefix_length", self.prefix_length, 1)
        if not isinstance(self.group_by_length, bool):
            raise bad_value("group_by_length", self.group_by_length, "True or False")
        if not isinstance(self.backbone_dropout, bool):
            raise bad_value("backbone_dropout", self.backbone_dropout, "True or False")

    def resolved(self, preset: str = "headzoo") -> Stage1Settings:
        """A copy with ``learning_rate`` filled in from ``preset`` when it is None (``"imprint"`` has none)."""
        check_preset(preset)
        if self.learning_rate is not None or self.method == IMPRINT:
            return replace(self)
        return replace(self, learning_rate=PRESETS[preset][self.method])

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict, with only the method-specific fields ``method`` reads.

        A setting the method ignores (``lora_dropout`` for BitFit...) stays out of the records and the
        run hashes, so changing its default does not invalidate runs it cannot have affected.
        """
        return stage1_record(asdict(self))

    @classmethod
    def from_any(cls, value: Stage1Settings | Mapping[str, Any] | None, **overrides: Any) -> Stage1Settings:
        """Build settings from None, a mapping or settings, with ``overrides`` on top (None values ignored)."""
        base = _from_mapping(cls, value, "stage-1")  # every field, also those to_dict leaves out for the method
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**base)


# --------------------------------------------------------------------------- stage 2


def training_argument_names() -> frozenset[str]:
    """The field names of ``transformers.TrainingArguments``.

    Example:
        >>> "bf16" in training_argument_names()
        True
    """
    from transformers import TrainingArguments

    return frozenset(f.name for f in fields(TrainingArguments) if f.init)


def _json_ready(value: Any) -> bool:
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_json_ready(v) for v in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _json_ready(v) for k, v in value.items())
    return False


def check_training_args(training_args: Any) -> dict[str, Any]:
    """User-set ``transformers.TrainingArguments`` fields, checked by building ``TrainingArguments`` with them.

    Unknown names, fields headzoo controls (:data:`RESERVED_TRAINING_ARGS`) and values that
    ``TrainingArguments`` refuses (``bf16=True`` where the hardware has no bf16...) raise a
    :class:`ConfigError` that names the field and the fix.

    Example:
        >>> check_training_args({"gradient_accumulation_steps": 2})
        {'gradient_accumulation_steps': 2}
        >>> check_training_args({"max_steps": 10})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        headzoo.errors.ConfigError: training argument 'max_steps' is set by headzoo: set the budget with ...
    """
    if training_args is None or (isinstance(training_args, Mapping) and not training_args):
        return {}  # nothing to check: transformers (and torch) stay unimported, e.g. for `headzoo --help`
    if not isinstance(training_args, Mapping):
        raise bad_value("training_args", training_args, "a dict of transformers.TrainingArguments fields",
                        'for example {"bf16": True}')
    known = training_argument_names()
    out: dict[str, Any] = {}
    for name, value in training_args.items():
        if name in RESERVED_TRAINING_ARGS:
            raise ConfigError(f"training argument {name!r} is set by headzoo: {RESERVED_TRAINING_ARGS[name]}")
        if name not in known:
            import difflib

            close = difflib.get_close_matches(str(name), sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{name!r} is not a transformers.TrainingArguments field{hint}")
        if not _json_ready(value):
            raise bad_value(f"training argument {name!r}", value, "a string, number, bool, None or a list of them")
        out[name] = list(value) if isinstance(value, tuple) else value
    if "gradient_accumulation_steps" in out:
        check_int("gradient_accumulation_steps", out["gradient_accumulation_steps"], 1)
    if out.get("fp16"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError("fp16=True needs a CUDA GPU and none is visible; on a CPU use bf16=True (CLI --bf16)")
    if out.get("report_to") not in (None, "none", "all", ["none"], ["all"]):
        from transformers.integrations import get_reporting_integration_callbacks

        wanted = [out["report_to"]] if isinstance(out["report_to"], str) else out["report_to"]
        try:
            get_reporting_integration_callbacks(wanted)
        except ValueError as exc:
            raise ConfigError(f"report_to={out['report_to']!r}: {exc}") from None
    if out:
        from transformers import TrainingArguments

        from .runtime import has_accelerator

        try:
            TrainingArguments(output_dir="headzoo-check", **{"use_cpu": not has_accelerator(), **out})
        except (ValueError, TypeError, ImportError) as exc:
            shown = ", ".join(f"{k}={v!r}" for k, v in out.items())
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"transformers refused the training arguments {shown}: {first}") from exc
    return out


def hashed_training_args(training_args: Mapping[str, Any]) -> dict[str, Any]:
    """The part of ``training_args`` that changes what a run computes (see :data:`UNHASHED_TRAINING_ARGS`).

    Example:
        >>> hashed_training_args({"bf16": True, "report_to": ["tensorboard"], "logging_steps": 5})
        {'bf16': True}
    """
    def unhashed(name: str) -> bool:
        return any(name.startswith(p) if p.endswith("_") else name == p for p in UNHASHED_TRAINING_ARGS)

    return {k: v for k, v in sorted(training_args.items()) if not unhashed(k)}


@dataclass
class FinetuneSettings:
    """Hyperparameters of stage 2 and of the budget (:func:`headzoo.train.finetune`, :func:`~headzoo.train.compare`).

    ``training_args`` holds any other ``transformers.TrainingArguments`` fields to set (mixed precision,
    gradient accumulation, trackers...); :func:`finetune` also takes them as plain keyword arguments.

    Example:
        >>> FinetuneSettings(epochs=10, training_args={"gradient_accumulation_steps": 2}).effective_batch_size
        64
        >>> FinetuneSettings(protocol="paper")
        Traceback (most recent call last):
        ...
        headzoo.errors.ConfigError: protocol must be one of 'auto', 'matched', 'zoo', got 'paper'
    """

    epochs: float = field(
        default=3, metadata={"help": "FT's budget in epochs; T = max(min_steps, round(epochs * steps per epoch))."}
    )
    min_steps: int = field(
        default=30,
        metadata={"help": "Floor of the budget T in optimizer steps, so that a few dozen examples still train "
                          "(0: epochs alone)."},
    )
    learning_rate: float = field(
        default=5e-5, metadata={"help": "Stage-2 peak learning rate (5e-5 suits small backbones such as MiniLM)."}
    )
    batch_size: int = field(default=32, metadata={"help": "Training examples per step and device (both stages)."})
    max_length: int = field(default=128, metadata={"help": "Truncate inputs to this many tokens (both stages)."})
    seed: int = field(default=0, metadata={"help": "Seed of the head init, dropout and data order (both stages)."})
    protocol: str = field(
        default=AUTO_PROTOCOL,
        metadata={"help": "auto: zoo when the run starts from a head it did not train (a given head, a task's head, "
                          "auto's zoo head), else matched (always matched in compare); matched: stage 1 takes "
                          "stage1_fraction of the budget (the paper's), also from a given head; zoo: stage 2 gets "
                          "the whole budget from a head made before (its cost reported apart)."},
    )
    stage1_fraction: float = field(default=0.1, metadata={"help": "Stage 1's share of the budget under matched."})
    preset: str = field(default="headzoo", metadata={"help": "Stage-1 learning-rate preset: headzoo (trains on "
                                                             "short budgets) or paper."})
    warmup_ratio: float = field(default=0.1, metadata={"help": "Fraction of stage 2's steps spent on warmup."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay of stage 2."})
    max_grad_norm: float = field(default=1.0, metadata={"help": "Gradient clipping norm of stage 2."})
    group_by_length: bool = field(default=True, metadata={"help": "Batch examples of similar length together."})
    data_order: str = field(
        default="continue",
        metadata={"help": "matched only: continue (stage 2 takes the batches after stage 1's, so every example is "
                          "seen as often as under FT) or restart (stage 2 starts a new pass over the data)."},
    )
    eval_strategy: str = field(
        default="steps",
        metadata={"help": "steps: evaluate on the validation split every eval_steps steps of stage 2 and at its "
                          "end; epoch: at every epoch boundary and at the end; no: at the end only (best is then "
                          "the final evaluation). Checkpoints for resume go at the epoch boundaries under epoch, else "
                          "where steps evaluates."},
    )
    eval_steps: float = field(
        default=0.2,
        metadata={"help": "steps only: evaluate every this many optimizer steps of stage 2, or, below 1, every "
                          "this fraction of them, rounded up (0.2: at most 5 evaluations, the last at the end)."},
    )
    training_args: dict[str, Any] = field(
        default_factory=dict,
        metadata={"help": "Other transformers.TrainingArguments fields for both stages (bf16, fp16, "
                          "gradient_accumulation_steps, report_to, dataloader_num_workers...)."},
    )

    def __post_init__(self) -> None:
        check_float("epochs", self.epochs, low=0, low_open=True)
        check_int("min_steps", self.min_steps, 0)
        check_float("learning_rate", self.learning_rate, low=0, low_open=True)
        check_int("batch_size", self.batch_size, 1)
        check_int("max_length", self.max_length, 2)
        check_int("seed", self.seed, 0, 2**32 - 1)
        check_choice("protocol", self.protocol, (AUTO_PROTOCOL, *PROTOCOLS))
        check_float("stage1_fraction", self.stage1_fraction, low=0, high=1, low_open=True)
        check_float("warmup_ratio", self.warmup_ratio, low=0, high=1)
        check_float("weight_decay", self.weight_decay, low=0)
        check_float("max_grad_norm", self.max_grad_norm, low=0, low_open=True)
        check_preset(self.preset)
        if not isinstance(self.group_by_length, bool):
            raise bad_value("group_by_length", self.group_by_length, "True or False")
        check_choice("data_order", self.data_order, DATA_ORDERS)
        check_choice("eval_strategy", self.eval_strategy, EVAL_STRATEGIES)
        self.eval_steps = check_float("eval_steps", self.eval_steps, low=0, low_open=True)
        if self.eval_steps > 1 and not self.eval_steps.is_integer():
            raise bad_value("eval_steps", self.eval_steps, "a fraction below 1 or a whole number of steps")
        self.training_args = check_training_args(self.training_args)

    def resolved(self, *, head_given: bool = False) -> FinetuneSettings:
        """These settings with the ``protocol`` that applies: ``"auto"`` becomes ``"zoo"`` where the run starts
        from a head it did not train (``head_given``), else ``"matched"`` (a copy); other protocols return ``self``.

        Example:
            >>> FinetuneSettings().resolved(head_given=True).protocol, FinetuneSettings().resolved().protocol
            ('zoo', 'matched')
            >>> FinetuneSettings(protocol="matched").resolved(head_given=True).protocol
            'matched'
        """
        if self.protocol != AUTO_PROTOCOL:
            return self
        return replace(self, protocol="zoo" if head_given else "matched")

    def epoch_steps(self, steps_per_epoch: int) -> int:
        """The budget the epochs alone give: ``max(1, round(epochs * steps_per_epoch))`` optimizer steps.

        Example:
            >>> FinetuneSettings(epochs=3).epoch_steps(2)
            6
        """
        return max(1, round(self.epochs * steps_per_epoch))

    def budget_steps(self, steps_per_epoch: int) -> int:
        """The budget T in optimizer steps: :meth:`epoch_steps`, raised to ``min_steps`` where it is lower.

        Example:
            >>> FinetuneSettings(epochs=3).budget_steps(2)
            30
            >>> FinetuneSettings(epochs=3, min_steps=0).budget_steps(2)
            6
            >>> FinetuneSettings(epochs=3).budget_steps(100)
            300
        """
        return max(self.min_steps, self.epoch_steps(steps_per_epoch))

    @property
    def accumulation(self) -> int:
        """Gradient accumulation steps (``training_args``; 1 when unset)."""
        return int(self.training_args.get("gradient_accumulation_steps", 1))

    @property
    def effective_batch_size(self) -> int:
        """Examples per optimizer step and process: ``batch_size`` x gradient accumulation."""
        return self.batch_size * self.accumulation

    @classmethod
    def from_any(cls, value: FinetuneSettings | Mapping[str, Any] | None, **overrides: Any) -> FinetuneSettings:
        """Settings from None, a mapping or settings, with ``overrides`` on top.

        An override that is not a field of this class but a ``TrainingArguments`` field goes into
        ``training_args``; anything else is a :class:`ConfigError`.

        Example:
            >>> FinetuneSettings.from_any({"epochs": 2}, bf16=False).training_args
            {'bf16': False}
        """
        base = _from_mapping(cls, value, "fine-tuning")
        own = {f.name for f in fields(cls)}
        extra = dict(base.get("training_args") or {})
        for name, given in overrides.items():
            if name == "training_args":
                if not isinstance(given, Mapping):
                    raise bad_value("training_args", given, "a dict of transformers.TrainingArguments fields")
                extra.update(given)
            elif name in own:
                base[name] = given
            elif name in RESERVED_TRAINING_ARGS or name in training_argument_names():
                extra[name] = given
            else:
                raise ConfigError(f"unknown setting {name!r}: neither a fine-tuning setting "
                                  f"({', '.join(sorted(own - {'training_args'}))}) nor a "
                                  "transformers.TrainingArguments field")
        base["training_args"] = extra
        return cls(**base)
