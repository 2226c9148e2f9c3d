"""Finding a head and putting it into a model: ``load_head``, one line from (task, backbone) to a model.

A head is looked up in this order: a local head folder, a Hub repo id, or a
task name, which is found in the local zoo (:mod:`headzoo.zoo`) and else on the
Hub under the naming rule (:mod:`headzoo.hub`). This module sits above both;
neither imports it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from .backbone import load_classifier, resolve_backbone
from .errors import HeadNotFoundError
from .head import Head
from .head_config import CONFIG_FILE
from .hub import find_on_hub, pull_head
from .naming import looks_like_repo_id, validate_name
from .zoo import find_in_zoo, zoo_home

logger = logging.getLogger(__name__)


def resolve_head(
    task_or_path: str | os.PathLike[str],
    backbone: str | None = None,
    *,
    method: str | None = None,
    revision: str | None = None,
) -> Head:
    """Find a head: a local head directory, a Hub repo id, or a task name looked up in the zoo.

    Order for a task name: the local zoo (``HEADZOO_HOME``), then the Hub under
    the naming rule of :func:`headzoo.hub.default_repo_id`.

    Args:
        task_or_path: a local head folder (or its ``head.safetensors``), a Hub repo id, or a task name.
        backbone: the backbone id or folder; needed for a task name.
        method: pick the head trained with this stage-1 method.
        revision: Hub revision of the head repo.

    Returns:
        The head, read and validated.

    Raises:
        HeadNotFoundError: nothing found; the message says how to train or pull one.

    Example:
        >>> resolve_head("rte", "minilm", method="lora").config.labels  # doctest: +SKIP
        ['entailment', 'not_entailment']
    """
    raw = os.fspath(task_or_path)
    try:
        path = Path(raw).expanduser()
        exists = path.exists()
    except RuntimeError:  # "~nobody/x"
        raise HeadNotFoundError(f"no head at {raw!r}: there is no such user's home; give the full path") from None
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte: not a path here
        path, exists = Path(), False
    if exists or raw.startswith((".", "/", "~")) or raw.endswith((".safetensors", CONFIG_FILE)):
        if not exists:
            raise HeadNotFoundError(f"no head at {raw!r}: the path does not exist")
        return Head.load(path)
    if looks_like_repo_id(raw):
        return Head.load(pull_head(raw, revision=revision))
    task = raw.lower()
    validate_name(task, "task")
    if backbone is None:
        raise HeadNotFoundError(
            f"load_head({raw!r}) needs a backbone to find the head in the zoo, "
            f"e.g. load_head({raw!r}, 'sentence-transformers/all-MiniLM-L6-v2')"
        )
    ref = resolve_backbone(backbone)
    found = find_in_zoo(task, ref, method)
    if found is not None:
        logger.info("using head %s from the local zoo", found)
        return Head.load(found)
    pulled = find_on_hub(task, ref, method=method, revision=revision)
    if pulled is not None:
        return Head.load(pulled)
    method_part = f" --method {method}" if method else ""
    raise HeadNotFoundError(
        f"no head for task {task!r} on backbone {ref.id!r}{f' (method {method!r})' if method else ''} "
        f"in the local zoo ({zoo_home()}) or on the Hub: train one with "
        f"`headzoo train {task} --backbone {backbone}{method_part}`, or pull one with `headzoo pull REPO_ID`"
    )


def load_head(
    task_or_path: str | os.PathLike[str],
    backbone: str | None = None,
    *,
    model: Any = None,
    method: str | None = None,
    revision: str | None = None,
    allow_backbone_mismatch: bool = False,
    **from_pretrained_kwargs: Any,
) -> Any:
    """Build a sequence-classification model with a pretrained head in place, in one line.

    Args:
        task_or_path: a task name (``"rte"``), a local head directory, or a Hub repo id of a head.
        backbone: the backbone id or folder; defaults to the backbone the head records.
        model: put the head into this existing model (in place) instead of building one.
        method: pick the head trained with this stage-1 method (``"lora"``, ``"bitfit"``...).
        revision: Hub revision of the head repo.
        allow_backbone_mismatch: apply even if the backbone weights differ from the head's.
        **from_pretrained_kwargs: passed to ``AutoModelForSequenceClassification.from_pretrained``
            (``torch_dtype``, ``attn_implementation``...).

    Returns:
        The model with the head in place (``model`` itself when given).

    Raises:
        HeadNotFoundError: no head for (task, backbone); the message says how to get one.
        HeadMismatchError: the head does not fit the model (labels, shapes, backbone).

    Example:
        >>> import headzoo
        >>> model = headzoo.load_head("rte", "minilm")  # doctest: +SKIP
        >>> headzoo.load_head("rte", "minilm", model=my_model)  # doctest: +SKIP
    """
    head = resolve_head(task_or_path, backbone, method=method, revision=revision)
    if model is None:
        ref = resolve_backbone(backbone or head.config.backbone)
        cfg = head.config
        kwargs: dict[str, Any] = {
            "num_labels": cfg.num_labels,
            "id2label": dict(cfg.id2label),
            "label2id": cfg.label2id,
        }
        if cfg.problem_type:
            kwargs["problem_type"] = cfg.problem_type
        kwargs.update(from_pretrained_kwargs)
        model = load_classifier(ref, **kwargs)
    return head.apply(model, allow_backbone_mismatch=allow_backbone_mismatch)



__all__ = ["load_head", "resolve_head"]
