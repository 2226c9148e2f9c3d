"""Finding a head and putting it into a model: ``load_head``, one line from (task, backbone) to a model.

A head is looked up in this order: a local head folder, a Hub repo id, or a
task name, which is found in the user's zoo (:mod:`headzoo.zoo`), else in the
zoo shipped inside the package, else on the Hub under the naming rule
(:mod:`headzoo.hub`). This module sits above both; neither imports it.

A damaged shipped head (a corrupt or missing file) is skipped with a warning
when another head can still serve (another shipped method, or the Hub); when
none can, the lookup ends in one :class:`~headzoo.errors.HeadFormatError` line
that names the file and says to reinstall headzoo. A missing shipped zoo is
named in the not-found message the same way.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .backbone import load_classifier, resolve_backbone
from .errors import HeadFormatError, HeadNotFoundError, HeadzooError
from .head import Head
from .head_config import CONFIG_FILE
from .head_kind import backbone_name_of, feature_of
from .hub import find_on_hub, pull_head
from .labels import rename_head_labels
from .naming import looks_like_repo_id, validate_feature, validate_name
from .zoo import SHIPPED_FIX, find_all_in_zoo, shipped_zoo_root, zoo_home

logger = logging.getLogger(__name__)


def resolve_head(
    task_or_path: str | os.PathLike[str],
    backbone: str | None = None,
    *,
    method: str | None = None,
    revision: str | None = None,
    feature: str | None = None,
) -> Head:
    """Find a head: a local head directory, a Hub repo id, or a task name looked up in the zoo.

    Order for a task name: the user's zoo (``HEADZOO_HOME``), then the zoo shipped with
    headzoo (:func:`headzoo.zoo.shipped_zoo_root`), then the Hub under the naming rule of
    :func:`headzoo.hub.default_repo_id`. A damaged shipped head is skipped with a warning
    when a later candidate serves, else it is the error.

    Args:
        task_or_path: a local head folder (or its ``head.safetensors``), a Hub repo id, or a task name.
        backbone: the backbone id or folder; needed for a task name.
        method: pick the head trained with this stage-1 method.
        revision: Hub revision of the head repo.
        feature: for a task name, take only a head that reads this feature (``"sentence-embedding"`` or
            ``"sequence-classification"``); None takes the first found. A head given by path or repo id
            of another feature is a :class:`~headzoo.errors.HeadKindError`.

    Returns:
        The head, read and validated.

    Raises:
        HeadNotFoundError: nothing found; the message says how to train or pull one.
        HeadFormatError: the only head found is a damaged shipped one (the message names the file
            and says to reinstall headzoo), or a damaged head in the user's zoo.

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
        return of_feature(Head.load(path), feature)
    if looks_like_repo_id(raw):
        return of_feature(Head.load(pull_head(raw, revision=revision)), feature)
    task = raw.lower()
    validate_name(task, "task")
    if backbone is None:
        raise HeadNotFoundError(
            f"load_head({raw!r}) needs a backbone to find the head in the zoo, "
            f"e.g. load_head({raw!r}, 'sentence-transformers/all-MiniLM-L6-v2')"
        )
    ref = resolve_backbone(backbone)
    damaged: HeadzooError | None = None
    for candidate in find_all_in_zoo(task, ref, method, source="all"):
        if candidate.source == "user":
            head = Head.load(candidate.path)  # the user's own head: a damaged one is the user's error
            if feature is not None and head.config.feature != feature:
                logger.info("skipping %s: it reads the %s feature, not %s", candidate.path, head.config.feature,
                            feature)
                continue
            logger.info("using head %s from the user's zoo", candidate.path)
            return head
        try:
            head = Head.load(candidate.path)
        except HeadzooError as exc:
            logger.warning("skipping the damaged shipped head at %s: %s; %s", candidate.path, exc, SHIPPED_FIX)
            damaged = damaged or HeadFormatError(f"the shipped head at {str(candidate.path)!r} is damaged "
                                                 f"({' '.join(str(exc).split())}); {SHIPPED_FIX}, or train your "
                                                 f"own with `headzoo train {task} --backbone {backbone}`")
            continue
        if feature is not None and head.config.feature != feature:
            continue
        logger.info("using head %s from the zoo shipped with headzoo", candidate.path)
        return head
    pulled = find_on_hub(task, ref, method=method, revision=revision)
    if pulled is not None:
        return of_feature(Head.load(pulled), feature)
    if damaged is not None:
        raise damaged
    method_part = f" --method {method}" if method else ""
    shipped = shipped_zoo_root()
    missing = (f"; the shipped zoo is missing at {str(shipped)!r} ({SHIPPED_FIX})"
               if shipped is not None and not (shipped / "heads").is_dir() else "")
    kind = f" reading the {feature} feature" if feature else ""
    raise HeadNotFoundError(
        f"no head{kind} for task {task!r} on backbone {ref.id!r}{f' (method {method!r})' if method else ''} "
        f"in the local zoo ({zoo_home()}), the shipped zoo or on the Hub: train one with "
        f"`headzoo train {task} --backbone {backbone}{method_part}`, or pull one with `headzoo pull REPO_ID`"
        f"{missing}"
    )


def of_feature(head: Head, feature: str | None) -> Head:
    """``head`` where it reads ``feature`` (or ``feature`` is None); else a :class:`HeadKindError`.

    Example:
        >>> of_feature(Head.load("heads/sst2"), "sentence-embedding")  # doctest: +SKIP
    """
    from .errors import HeadKindError
    from .head_kind import kind_fix

    if feature is not None and head.config.feature != feature:
        raise HeadKindError(f"head {head.source} reads the {head.config.feature} feature, not {feature}: ask for "
                            f"feature={head.config.feature!r}, or {kind_fix(feature)} with a head of that kind")
    return head


def load_head(
    task_or_path: str | os.PathLike[str],
    backbone: str | None = None,
    *,
    model: Any = None,
    method: str | None = None,
    revision: str | None = None,
    allow_backbone_mismatch: bool = False,
    label_map: Mapping[str, str] | None = None,
    return_labels: bool = False,
    feature: str | None = None,
    **from_pretrained_kwargs: Any,
) -> Any:
    """Build a sequence-classification model with a pretrained head in place, in one line.

    Labels match by name, ignoring case and surrounding space; ``label_map`` renames
    (model label -> head label), and a head of another task is used on purpose this way.
    Where the labels only overlap, the matched rows are copied and the model's other
    outputs keep their own initialisation; the one-line report (``"2 of 3 rows from
    sst2/lora (negative, positive); new: neutral"``) is logged at INFO and returned
    with ``return_labels=True``. See :mod:`headzoo.labels` for the rules.

    Args:
        task_or_path: a task name (``"rte"``), a local head directory, or a Hub repo id of a head.
        backbone: the backbone id or folder; defaults to ``model``'s (``config.name_or_path``) when a
            model is given, else to the backbone the head records.
        model: put the head into this existing model (in place) instead of building one.
        method: pick the head trained with this stage-1 method (``"lora"``, ``"bitfit"``...).
        revision: Hub revision of the head repo.
        allow_backbone_mismatch: apply even if the backbone weights differ from the head's.
        label_map: model label -> head label (``{"neg": "negative", "pos": "positive"}``). Without
            ``model``, the model is built with the head's labels renamed this way.
        return_labels: return ``(model, LabelMatch)``; ``LabelMatch.report`` is the one-line report.
        feature: take a head that reads this feature (``"sentence-embedding"``: the checkpoint's declared
            sentence embedding; ``"sequence-classification"``: the model's own head path). None: the feature
            of ``model`` when one is given, else the head found decides, and the model is built to match it
            (:class:`~headzoo.sentence_model.SentenceEmbeddingForSequenceClassification` for a sentence head).
        **from_pretrained_kwargs: passed to ``AutoModelForSequenceClassification.from_pretrained``
            (``torch_dtype``, ``attn_implementation``, or ``num_labels`` / ``id2label`` for your own labels...).

    Returns:
        The model with the head in place (``model`` itself when given); ``(model, LabelMatch)``
        with ``return_labels=True``.

    Raises:
        HeadNotFoundError: no head for (task, backbone); the message says how to get one.
        HeadMismatchError: the head does not fit the model (labels, shapes, backbone).
        LabelMismatchError: the labels cannot be matched (no overlap, a map naming unknown labels,
            two labels mapped to one); the model is not changed.

    Example:
        >>> import headzoo
        >>> model = headzoo.load_head("rte", "minilm")  # doctest: +SKIP
        >>> headzoo.load_head("rte", "minilm", model=my_model)  # doctest: +SKIP
        >>> model, labels = headzoo.load_head("sst2", model=my_model,  # doctest: +SKIP
        ...                                   label_map={"neg": "negative", "pos": "positive"}, return_labels=True)
        >>> labels.report  # doctest: +SKIP
        '2 of 3 rows from sst2/lora (neg=negative, pos=positive); new: neutral'
    """
    if backbone is None and model is not None:
        backbone = backbone_name_of(model)
    feature = validate_feature(feature)
    if feature is None and model is not None:
        feature = feature_of(model)
    head = resolve_head(task_or_path, backbone, method=method, revision=revision, feature=feature)
    if model is None:
        ref = resolve_backbone(backbone or head.config.backbone)
        cfg = head.config
        id2label = rename_head_labels(head.config.id2label, label_map)
        kwargs: dict[str, Any] = {
            "num_labels": cfg.num_labels,
            "id2label": id2label,
            "label2id": {label: i for i, label in id2label.items()},
        }
        if cfg.problem_type:
            kwargs["problem_type"] = cfg.problem_type
        kwargs.update(from_pretrained_kwargs)
        model = load_classifier(ref, feature=cfg.feature, **kwargs)
    if not return_labels:
        return head.apply(model, allow_backbone_mismatch=allow_backbone_mismatch, label_map=label_map)
    # the match before apply: a model with default names takes the head's
    match = head.check(model, allow_backbone_mismatch=allow_backbone_mismatch, label_map=label_map).labels
    head.apply(model, allow_backbone_mismatch=allow_backbone_mismatch, label_map=label_map)
    return model, match


__all__ = ["load_head", "resolve_head"]
