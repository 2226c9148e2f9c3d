"""Model cards for heads, rendered from ``head_config.json`` with huggingface_hub's ``ModelCard``.

The card is always rendered from the config, so the two never disagree, and
the config never holds a token, so neither does the card.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from .head_config import HeadConfig

#: Metadata tags every headzoo card carries.
LIBRARY_NAME = "headzoo"


def card_tags(config: HeadConfig) -> list[str]:
    """The Hub tags of a head: ``headzoo``, ``classification-head``, ``task:``, ``pet:``, ``backbone:``.

    Example:
        >>> card_tags(config)  # doctest: +SKIP
        ['headzoo', 'classification-head', 'task:rte', 'pet:lora', 'backbone:FacebookAI/roberta-base']
    """
    tags = [LIBRARY_NAME, "classification-head", f"task:{config.task}"]
    tags.append(f"pet:{config.method or 'none'}")
    tags.append(f"backbone:{config.backbone}")
    return tags


def card_data(config: HeadConfig) -> Any:
    """The card's YAML metadata as a ``huggingface_hub.ModelCardData``.

    Example:
        >>> card_data(head.config).library_name  # doctest: +SKIP
        'headzoo'
    """
    from huggingface_hub import EvalResult, ModelCardData

    dataset = config.training.get("dataset")
    dataset_config = config.training.get("dataset_config")
    metric_values = {k: v for k, v in config.metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    eval_results = None
    if metric_values:
        eval_results = [
            EvalResult(
                task_type="text-classification",
                dataset_type=str(dataset or config.task),
                dataset_name=str(config.training.get("dataset_name") or config.task),
                dataset_config=str(dataset_config) if dataset_config else None,
                dataset_split=str(config.training.get("eval_split") or "validation"),
                metric_type=name.removeprefix("eval_"),
                metric_value=float(value),
            )
            for name, value in sorted(metric_values.items())
        ]
    is_hub_backbone = not config.backbone.startswith(("/", "."))
    return ModelCardData(
        library_name=LIBRARY_NAME,
        base_model=config.backbone if is_hub_backbone else None,
        datasets=[str(dataset)] if dataset and "/" in str(dataset) else None,
        metrics=sorted({k.removeprefix("eval_") for k in metric_values}) or None,
        pipeline_tag="text-classification",
        tags=card_tags(config),
        model_name=f"headzoo-{config.task}",
        eval_results=eval_results,
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
    hidden = {"dataset", "dataset_config", "dataset_name", "eval_split"}
    training_rows = [(k, _fmt(v)) for k, v in config.training.items() if k not in hidden]
    for key in ("dataset", "dataset_config"):
        if config.training.get(key):
            training_rows.insert(0, (key, _fmt(config.training[key])))
    card = ModelCard.from_template(
        card_data(config),
        template_str=template,
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
