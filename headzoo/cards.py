"""Model cards for heads, rendered from ``head_config.json`` with huggingface_hub's ``ModelCard``.

The card is always rendered from the config, so the two never disagree, and
the config never holds a token, so neither does the card.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .head_config import HeadConfig
from .naming import is_backbone_id, looks_like_repo_id
from .pooling import Pooling
from .tasks.spec import TASKS, builtin_name

#: Metadata tags every headzoo card carries.
LIBRARY_NAME = "headzoo"
#: How the Hub links a head to its backbone (``base_model_relation``): a small artifact used on top of it.
BASE_MODEL_RELATION = "adapter"
#: headzoo metric name -> (Hub metric id, pretty name, the metric's arguments). Only these go into
#: the card's ``metrics`` and ``model-index``; others (``loss``, ``combined_score``) stay in its text.
HUB_METRICS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "accuracy": ("accuracy", "Accuracy", None),
    "f1": ("f1", "F1", None),
    "macro_f1": ("f1", "Macro F1", {"average": "macro"}),
    "micro_f1": ("f1", "Micro F1", {"average": "micro"}),
    "matthews_correlation": ("matthews_correlation", "Matthews correlation", None),
    "pearson": ("pearsonr", "Pearson correlation", None),
    "spearmanr": ("spearmanr", "Spearman correlation", None),
}
_BENCHMARK_NAMES = {"glue": "GLUE", "superglue": "SuperGLUE"}
_LICENSE_KEYS = ("license", "license_name", "license_link")


@dataclass(frozen=True)
class CardDataset:
    """The Hub dataset a head was trained and evaluated on, as its card names it.

    Attributes:
        id: Hub dataset id (``"nyu-mll/glue"``). (The ``model-index`` of a head trained on
            local data names it ``custom:<task>``, which no Hub id can be.)
        config: Dataset config (``"rte"``), or None.
        split: Split the stage-1 metrics were measured on (``"validation"``); None where the
            record cannot tell (custom data, whose validation rows may be held out of train).
        name: A pretty name for the dataset (``"GLUE RTE"``).
        license: The data's licence as card fields (``license``, ``license_name``,
            ``license_link``); empty where it is not known.
        revision: The dataset revision the record names, or None.

    Example:
        >>> card_dataset(head.config)  # doctest: +SKIP
        CardDataset(id='aps/super_glue', config='cb', split='validation', name='SuperGLUE CB', license={},
                    revision=None)
    """

    id: str
    config: str | None
    split: str | None
    name: str
    license: dict[str, str]
    revision: str | None = None


def base_model(config: HeadConfig) -> str | None:
    """The backbone's Hub id, or None when the backbone is a local folder (the Hub can link only ids).

    Example:
        >>> base_model(head.config)  # doctest: +SKIP
        'FacebookAI/roberta-base'
    """
    backbone = config.backbone
    return backbone if is_backbone_id(backbone) and not backbone.startswith(".") else None


def card_tags(config: HeadConfig) -> list[str]:
    """The Hub tags of a head: ``headzoo``, ``classification-head``, ``task:``, ``pet:``, ``backbone:``.

    A head on a Hub backbone also gets ``base_model:adapter:<id>``, the tag peft writes,
    which the Hub uses to list the head among the backbone's adapters.

    Example:
        >>> card_tags(config)  # doctest: +SKIP
        ['headzoo', 'classification-head', 'task:rte', 'pet:lora', 'feature:sequence-classification',
         'backbone:FacebookAI/roberta-base', 'base_model:adapter:FacebookAI/roberta-base']
    """
    tags = [LIBRARY_NAME, "classification-head", f"task:{config.task}"]
    tags.append(f"pet:{config.method or 'none'}")
    tags.append(f"feature:{config.feature}")
    tags.append(f"backbone:{config.backbone}")
    base = base_model(config)
    if base:
        tags.append(f"base_model:{BASE_MODEL_RELATION}:{base}")
    return tags


def card_dataset(config: HeadConfig) -> CardDataset | None:
    """The Hub dataset of a head's training record, or None for data that is not on the Hub.

    A built-in task (the record names its Hub id and config) gets its split and the licence of
    its data (the record's ``data_license``, else the task's); custom data from the Hub keeps its
    id, with no split and only a recorded licence; data from local files gets no Hub id at all.

    Example:
        >>> card_dataset(head.config).id  # doctest: +SKIP
        'nyu-mll/glue'
    """
    training = config.training
    dataset, subset = training.get("dataset"), training.get("dataset_config")
    if not isinstance(dataset, str) or not looks_like_repo_id(dataset):
        return None
    subset = subset if isinstance(subset, str) and subset else None
    revision = training.get("dataset_revision")
    revision = revision if isinstance(revision, str) and revision else None
    license = _recorded_license(training.get("data_license"))
    spec = TASKS.get(builtin_name(config.task) or "")
    if spec is None or spec.hub_id != (dataset, subset):
        name = dataset if subset is None else f"{dataset} ({subset})"
        return CardDataset(dataset, subset, None, name, license, revision)
    split = training.get("eval_split")
    name = f"{_BENCHMARK_NAMES.get(spec.benchmark, spec.benchmark)} {(subset or spec.name).upper()}"
    return CardDataset(dataset, subset, split if isinstance(split, str) and split else "validation", name,
                       license or spec.license_metadata, revision)


def _recorded_license(recorded: Any) -> dict[str, str]:
    if not isinstance(recorded, dict) or not isinstance(recorded.get("license"), str) or not recorded["license"]:
        return {}
    return {k: v for k, v in recorded.items() if k in _LICENSE_KEYS and isinstance(v, str) and v}


def hub_metrics(config: HeadConfig) -> dict[str, float]:
    """The head's stage-1 metrics that have a Hub metric id (see :data:`HUB_METRICS`), by headzoo name.

    Example:
        >>> hub_metrics(head.config)  # doctest: +SKIP
        {'accuracy': 0.5, 'macro_f1': 0.2222}
    """
    out = {}
    for key, value in sorted(config.metrics.items()):
        name = key.removeprefix("eval_")
        if name in HUB_METRICS and isinstance(value, (int, float)) and not isinstance(value, bool):
            out.setdefault(name, float(value))
    return out


def card_data(config: HeadConfig) -> Any:
    """The card's YAML metadata as a ``huggingface_hub.ModelCardData``.

    ``base_model`` with ``base_model_relation: adapter`` (and the ``base_model:adapter:<id>`` tag)
    link the head to its backbone; ``datasets`` and ``model-index`` name the Hub dataset, config
    and split; ``license`` is the training data's licence where it is known.

    Example:
        >>> card_data(head.config).base_model_relation  # doctest: +SKIP
        'adapter'
    """
    from huggingface_hub import EvalResult, ModelCardData

    base = base_model(config)
    dataset = card_dataset(config)
    metrics = hub_metrics(config)
    eval_results = None
    if metrics:
        # Local data has no Hub id: its results name it "custom:<task>", which no Hub id can be
        # (``datasets`` stays empty), so search still shows the head's metrics.
        recorded = config.training.get("dataset")
        local = recorded if isinstance(recorded, str) and recorded.startswith("custom:") else f"custom:{config.task}"
        where = dataset or CardDataset(local, None, None, f"{config.task} (local data, not on the Hub)", {})
        notes = ["stage 1"]
        if config.method and config.method != "none":
            notes[0] += f", with {config.method}"
        limit, size = config.training.get("data_limit"), config.training.get("eval_size")
        if isinstance(limit, int) and isinstance(size, int):
            notes.append(f"{size}-example subset")  # a limited run measures a stratified subset of the split
        stage1 = f" ({'; '.join(notes)})"
        eval_results = [
            EvalResult(
                task_type="text-classification",
                task_name="Text Classification",
                dataset_type=where.id,
                dataset_name=where.name,
                dataset_config=where.config,
                dataset_split=where.split,
                dataset_revision=where.revision,
                metric_type=HUB_METRICS[name][0],
                metric_name=HUB_METRICS[name][1] + stage1,
                metric_args=HUB_METRICS[name][2],
                metric_value=value,
            )
            for name, value in metrics.items()
        ]
    extra: dict[str, Any] = {"base_model_relation": BASE_MODEL_RELATION} if base else {}
    return ModelCardData(
        library_name=LIBRARY_NAME,
        base_model=base,
        datasets=[dataset.id] if dataset else None,
        metrics=sorted({HUB_METRICS[name][0] for name in metrics}) or None,
        pipeline_tag="text-classification",
        tags=card_tags(config),
        model_name=f"headzoo-{config.task}",
        eval_results=eval_results,
        **(dataset.license if dataset else {}),
        **extra,
    )


def render_card(config: HeadConfig, repo_id: str | None = None) -> str:
    """The model card (``README.md``) text for a head.

    Args:
        config: the head's config.
        repo_id: the Hub repo the head lives in, used in the usage snippet.

    Example:
        >>> print(render_card(head.config)[:3])  # doctest: +SKIP
        ---
    """
    from huggingface_hub import ModelCard

    template = resources.files("headzoo").joinpath("templates/head_card.md").read_text(encoding="utf-8")
    hidden = {"dataset", "dataset_config", "dataset_name", "eval_split", "data_license"}
    training_rows = [(k, _fmt(v)) for k, v in config.training.items() if k not in hidden]
    for key in ("dataset", "dataset_config"):
        if config.training.get(key):
            training_rows.insert(0, (key, _fmt(config.training[key])))
    dataset = card_dataset(config)
    card = ModelCard.from_template(
        card_data(config),
        template_str=template,
        dataset=dataset,
        base_model=base_model(config),
        title=f"headzoo head: {config.task} on {config.backbone}",
        task=config.task,
        backbone=config.backbone,
        backbone_revision=config.backbone_revision,
        backbone_fingerprint=config.backbone_fingerprint,
        architecture=config.architecture,
        model_type=config.model_type,
        hidden_size=config.hidden_size,
        num_labels=config.num_labels,
        labels=", ".join(f"`{label}`" for label in config.labels),
        problem_type=config.problem_type or "single_label_classification",
        method=config.method or "none (extracted from a model)",
        feature=config.feature,
        pooling=Pooling.from_dict(config.pooling).describe() if config.pooling else None,
        tensor_list=", ".join(f"`{name}` {shape}" for name, shape in sorted(config.tensors.items())),
        num_bytes=sum(_numel(shape) * 4 for shape in config.tensors.values()),
        repo_or_task=repo_id or config.task,
        training_rows=training_rows,
        metric_rows=[(k, _fmt(v)) for k, v in sorted(config.metrics.items())],
    )
    return str(card)


def _numel(shape: list[int]) -> int:
    n = 1
    for dim in shape:
        n *= dim
    return n


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return "`" + json.dumps(value, sort_keys=True) + "`"
    return str(value).replace("|", "\\|")
