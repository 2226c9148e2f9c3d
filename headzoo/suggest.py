"""Which head to start from: rank every compatible head of a backbone on a sample of your own data.

:func:`suggest_heads` (CLI ``headzoo suggest``) reads only the TRAIN split of your task and:

1. draws a stratified, seeded sample of at most ``sample`` examples
   (:func:`headzoo.tasks.sample_indices`) and splits it, stratified again, into halves A and B;
2. builds the classifier for your labels and runs the backbone ONCE over the sample (eval mode,
   ``torch.inference_mode``); a forward hook on the base model (``model.<base_model_prefix>``)
   keeps its output object for every batch;
3. puts each candidate head into that model (:meth:`headzoo.Head.apply`, labels matched by
   :func:`headzoo.labels.match_labels` with your ``label_map``) and scores it **without running the
   backbone again**: while a head is scored, the base model's ``forward`` is replaced by one that
   returns the cached output of the batch at hand, so the model's own head code runs on it
   unchanged (BERT's dropout + classifier on the pooled output, RoBERTa's dense + out_proj on the
   first token, GPT-2's pooling at the last token). Scoring a head costs a pass through the head
   only, so ranking many heads costs about one forward pass over the sample;
4. imprints the rows of your labels that a head lacks from half A (:mod:`headzoo.imprint`); the
   matched rows are the head's. One more candidate, ``"imprint"``, has every row imprinted from A;
5. scores each candidate zero-shot on half B (never on the rows it was imprinted from): accuracy
   and macro-F1 over B's classes; ranks by how many of your labels take a row of the head, then by
   macro-F1 (:func:`rank_suggestions`).

Candidates are the heads of the backbone in the user's zoo and the shipped zoo
(:func:`headzoo.zoo.list_heads`), and with ``hub=True`` the Hub's (:func:`headzoo.hub.search_heads`,
pulled into the Hugging Face cache). A head of another model type, other backbone weights, a
regression or multi-label head, or one with no label in common with yours is not a candidate
(logged at INFO with the reason). Nothing is written, except the Hub cache with ``hub=True``.

The cache holds the base model's whole output for the sample (for MiniLM and 256 examples of
128 tokens about 50 MB), which is why ``sample`` is kept small.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .backbone import BackboneRef, load_tokenizer
from .errors import DataError, HeadzooError, LabelMismatchError
from .evaluate import inference_device, sample_scores
from .head import Head, head_state_names
from .head_kind import backbone_config
from .hub import pull_head, search_heads
from .imprint import Features, capture_features, imprint_rows
from .labels import LabelMatch, check_label_map, normalize_label
from .tasks import CLASSIFICATION, sample_indices
from .train.args import bad_value, check_int
from .train.data import (
    PaddingCollator,
    TaskData,
    backbone_for,
    build_model,
    check_model,
    load_raw,
    resolve_data_feature,
)
from .zoo import list_heads

logger = logging.getLogger(__name__)

#: The candidate whose every row is imprinted from your data (no zoo head); also ``finetune(head="auto")``'s word.
IMPRINT_CANDIDATE = "imprint"
#: What ``finetune(head=...)`` / ``headzoo finetune --from`` takes to start from the top suggestion.
AUTO = "auto"
#: Examples drawn from the training split by default.
DEFAULT_SAMPLE = 256


@dataclass
class Suggestion:
    """One ranked candidate start: a head (with the label mapping) or ``"imprint"``, and its zero-shot scores.

    Attributes:
        rank: 1 for the best.
        source: the head as reports name it (``"sst2/lora"``), or ``"imprint"``.
        origin: ``"user"``, ``"shipped"``, ``"hub"`` or ``"imprint"``.
        label_fit: one line: ``"2 of 3 rows from sst2/lora (negative, positive); new: neutral"``.
        accuracy: on half B of the sample.
        macro_f1: on half B, the mean F1 over B's classes.
        rows_from_head: your labels that take a row of the head (0 for ``"imprint"``).
        examples: examples scored (half B).
        head_path: the head's folder (None for ``"imprint"``).
        repo_id: the Hub repo of a head found with ``hub=True``.
        label_match: the :class:`~headzoo.labels.LabelMatch` (None for ``"imprint"``).
        label_map: the entries of your ``label_map`` that apply to this head (those naming its labels).
        cross_entropy: on half B, the mean cross-entropy of the start's logits (the loss stage 2 begins
            at; lower is better; a confidently wrong head scores high).

    Example:
        >>> s = Suggestion(1, "sst2/lora", "shipped", "2 of 3 rows from sst2/lora (negative, positive); "
        ...                "new: neutral", 0.61, 0.55, 2, 128)
        >>> s.name
        'sst2/lora (shipped)'
    """

    rank: int
    source: str
    origin: str
    label_fit: str
    accuracy: float
    macro_f1: float
    rows_from_head: int
    examples: int
    head_path: Path | None = None
    repo_id: str | None = None
    label_match: LabelMatch | None = field(default=None, repr=False)
    label_map: dict[str, str] = field(default_factory=dict)
    cross_entropy: float | None = None

    @property
    def name(self) -> str:
        """``"sst2/lora (shipped)"``; ``"imprint"`` for the imprint candidate."""
        if self.origin == IMPRINT_CANDIDATE:
            return IMPRINT_CANDIDATE
        return f"{self.source} ({self.repo_id or self.origin})"

    @property
    def took(self) -> str:
        """The one line ``finetune --from auto`` says about this start."""
        return (f"--from auto took {self.name}, suggestion 1 (macro-F1 {self.macro_f1:.3f}, accuracy "
                f"{self.accuracy:.3f} zero-shot on {self.examples} training examples): {self.label_fit}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record."""
        return {"rank": self.rank, "source": self.source, "origin": self.origin, "label_fit": self.label_fit,
                "accuracy": self.accuracy, "macro_f1": self.macro_f1, "rows_from_head": self.rows_from_head,
                "examples": self.examples, "head_path": str(self.head_path) if self.head_path else None,
                "repo_id": self.repo_id, "label_map": dict(self.label_map), "cross_entropy": self.cross_entropy}


def format_suggestions(suggestions: list[Suggestion]) -> str:
    """The ranking as a plain-text table (rank, head, label fit, accuracy, macro-F1), what ``headzoo suggest`` prints.

    Example:
        >>> s = Suggestion(1, "imprint", "imprint", "3 of 3 rows imprinted from 128 examples", 0.7, 0.68, 0, 128)
        >>> print(format_suggestions([s]))  # doctest: +NORMALIZE_WHITESPACE
        rank  head     label fit                                accuracy  macro-F1
           1  imprint  3 of 3 rows imprinted from 128 examples     0.700     0.680
    """
    head_w = max([len("head"), *(len(s.name) for s in suggestions)])
    fit_w = max([len("label fit"), *(len(s.label_fit) for s in suggestions)])
    lines = [f"{'rank':>4}  {'head':<{head_w}}  {'label fit':<{fit_w}}  accuracy  macro-F1"]
    for s in suggestions:
        lines.append(f"{s.rank:>4}  {s.name:<{head_w}}  {s.label_fit:<{fit_w}}  {s.accuracy:>8.3f}  "
                     f"{s.macro_f1:>8.3f}")
    return "\n".join(lines)


class Ranking(list):  # type: ignore[type-arg]
    """The list of :class:`Suggestion` that :func:`suggest_heads` returns, best first, with where the time went.

    Attributes:
        seconds: ``{"set_up", "model", "backbone_pass", "scoring", "total"}``: reading and tokenising the data
            and reading the heads, building the model (loading the backbone), the one backbone pass (the
            forward calls only), scoring every candidate, and all of it.
        skipped: ``"source (origin): why"`` for each head that is not a candidate.

    Example:
        >>> ranked = Ranking([], seconds={"total": 1.0})
        >>> ranked.seconds["total"], ranked.skipped
        (1.0, [])
    """

    def __init__(self, items: Any = (), *, seconds: Mapping[str, float] | None = None,
                 skipped: list[str] | None = None) -> None:
        super().__init__(items)
        self.seconds: dict[str, float] = dict(seconds or {})
        self.skipped: list[str] = list(skipped or [])


@dataclass
class _Candidate:
    head: Head
    origin: str
    path: Path
    repo_id: str | None = None


def _is_classification_head(head: Head) -> bool:
    c = head.config
    return c.num_labels > 1 and c.problem_type in (None, CLASSIFICATION)


def _candidates(ref: BackboneRef, kind: tuple[str, str], hub: bool, skipped: list[str]) -> list[_Candidate]:
    """Every readable single-label classification head of ``kind`` (the model type, the feature) of ``ref``:
    user zoo, shipped zoo, Hub."""
    model_type, feature = kind
    places: list[tuple[Path, str, str | None]] = [(e.path, e.source, None)
                                                  for e in list_heads(backbone=ref.id, source="all")]
    if hub:
        for found in search_heads(backbone=ref.id):
            try:
                places.append((Path(pull_head(found.repo_id)), "hub", found.repo_id))
            except HeadzooError as exc:
                logger.warning("suggest: skipping the Hub head %s: %s", found.repo_id, exc)
    out = []
    for path, origin, repo_id in places:
        try:
            head = Head.load(path)
        except HeadzooError as exc:
            logger.warning("suggest: skipping the unreadable %s head at %s: %s", origin, path, exc)
            continue
        if head.config.model_type != model_type or not _is_classification_head(head):
            what = head.config.problem_type or "classification"
            skipped.append(f"{head.source} ({repo_id or origin}): a {what} head of a {head.config.model_type} model")
            continue
        if head.config.feature != feature:
            skipped.append(f"{head.source} ({repo_id or origin}): it reads the {head.config.feature} feature, "
                           f"not {feature}")
            continue
        out.append(_Candidate(head, origin, path, repo_id))
    return out


def _check_texts(train: Any, rows: list[int], columns: list[str]) -> None:
    for column in columns:
        values = train[column]
        for i in rows:
            value = values[i]
            if not isinstance(value, str) or not value.strip():
                raise DataError(f"training example {i} has an empty text in column {column!r} ({value!r}); "
                                "fill in or drop that row")


def _split_sample(labels: list[int], sample: int, seed: int) -> tuple[list[int], list[int]]:
    """Indices of halves A and B: a stratified sample of at most ``sample``, split stratified (B keeps each class)."""
    chosen = sample_indices(labels, len(labels), min(sample, len(labels)), seed)
    sub = [labels[i] for i in chosen]
    in_a = set(sample_indices(sub, len(sub), len(sub) // 2, seed + 1, leave_per_class=1))
    return [chosen[j] for j in sorted(in_a)], [chosen[j] for j in range(len(chosen)) if j not in in_a]


def _batches(train: Any, rows: list[int], labels: list[int], tokenizer: Any, *, pair: bool, max_length: int,
             batch_size: int) -> tuple[list[dict[str, Any]], list[int]]:
    """Padded batches of ``rows`` (shortest first, least padding), each with ``labels``, and their order.

    The second value is the position in ``rows`` of each example as the batches hold them, in turn.
    """
    picked = train.select(rows)
    args = (list(picked["text_a"]), list(picked["text_b"])) if pair else (list(picked["text_a"]),)
    enc = tokenizer(*args, truncation=True, max_length=max_length)
    keys = list(enc.keys())
    order = sorted(range(len(rows)), key=lambda j: len(enc["input_ids"][j]))
    collate = PaddingCollator(tokenizer)
    out = []
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        out.append(collate([{**{k: enc[k][j] for k in keys}, "labels": labels[rows[j]]} for j in chunk]))
    return out, order


def _select(features: Any, mask: Any) -> Any:
    """The examples of ``features`` where ``mask`` is True."""
    return Features(features.inputs[mask], features.outputs[mask], features.labels[mask], features.seconds,
                    features.layer)


def rank_suggestions(suggestions: list[Suggestion]) -> list[Suggestion]:
    """Order candidates: more of your labels taking a row of the head first, then zero-shot macro-F1.

    ``imprint`` (no row from a head) comes last whenever some head shares a label with you. The order was
    chosen by ``benchmarks/suggest_rank.py`` (``results/suggest_rank/README.md``): fine-tuning from every
    candidate, on training data only, the heads' label coverage predicted the stage-2 result better than
    their zero-shot scores, which a k-shot sample makes noisy. Candidates of equal coverage keep the order
    given (best macro-F1 first).

    Example:
        >>> a = Suggestion(0, "imprint", "imprint", "", 0.60, 0.50, 0, 128)
        >>> b = Suggestion(0, "cb/probe", "shipped", "", 0.58, 0.48, 1, 128)
        >>> c = Suggestion(0, "sst2/probe", "shipped", "", 0.40, 0.30, 2, 128)
        >>> [s.source for s in rank_suggestions([a, b, c])]
        ['sst2/probe', 'cb/probe', 'imprint']
    """
    return sorted(suggestions, key=lambda s: (-s.rows_from_head, -s.macro_f1))


def suggest_heads(
    task: Any,
    backbone: str | BackboneRef | None = None,
    *,
    label_map: Mapping[str, str] | None = None,
    sample: int = DEFAULT_SAMPLE,
    seed: int = 0,
    hub: bool = False,
    data_dir: Any = None,
    limit: int | None = None,
    model: Any = None,
    max_length: int = 128,
    batch_size: int = 64,
    feature: str | None = None,
) -> Ranking:
    """Rank every compatible head of ``backbone`` (and an imprint) by its zero-shot score on your data.

    See the module docstring for how: one backbone pass over a sample of the training split,
    every head scored from its cached output, new rows imprinted from half A, scores on half B.

    Args:
        task: your data: a ``(TaskSpec, DatasetDict)`` pair (:func:`headzoo.tasks.custom_task`), a
            ``datasets.Dataset`` / ``DatasetDict`` (:func:`headzoo.tasks.dataset_task`), or a task name.
            Only the ``train`` split is read.
        backbone: Hub id, alias or folder; default ``"minilm"``, or ``model``'s.
        label_map: your label -> a head's label (``{"neg": "negative"}``); each head gets the entries that name
            its labels, and matches the rest by name (ignoring case and space).
        sample: examples drawn from the training split (stratified, seeded), at least 4.
        seed: seed of the sample, its split and the fresh head.
        hub: also rank the heads a Hub search finds for the backbone (pulled into the Hugging Face cache).
        data_dir, limit: as in :func:`headzoo.finetune`, for a task name.
        model: a ``*ForSequenceClassification`` model to use instead of loading ``backbone`` (not changed).
        max_length: truncate inputs to this many tokens.
        batch_size: examples per forward batch.
        feature: rank heads that read this feature (see :func:`headzoo.finetune`); heads of the other kind are
            listed in ``skipped``.

    Returns:
        The :class:`Suggestion` list (a :class:`Ranking`, with ``seconds`` and ``skipped``), best first
        (``[0]`` is what ``finetune(head="auto")`` takes); ``"imprint"`` is always among them.

    Raises:
        ConfigError: a regression or multi-label task, or bad arguments.
        DataError: fewer than two classes in the training data, or an empty text in the sample.
        LabelMismatchError: ``label_map`` names a label you do not have, or maps to a label no candidate head has.

    Example:
        >>> from headzoo.tasks import custom_task
        >>> ranked = suggest_heads(custom_task("tweets.csv", "text", "label"), "minilm")  # doctest: +SKIP
        >>> ranked[0].name, ranked[0].label_fit  # doctest: +SKIP
        ('sst2/lora (shipped)', '2 of 3 rows from sst2/lora (negative, positive); new: neutral')
    """
    import torch

    began = time.perf_counter()
    check_int("sample", sample, 4)
    check_int("seed", seed, 0)
    check_int("batch_size", batch_size, 1)
    check_int("max_length", max_length, 2)
    mapping = check_label_map(label_map)
    spec, train = _classification_data(task, data_dir, limit, seed, mapping)
    ref = backbone_for(backbone, model)
    if model is not None:
        check_model(model, spec)
    labels = [int(y) for y in list(train["label"])]
    present = sorted({spec.labels[y] for y in labels})
    if len(present) < 2:
        raise DataError(f"the training data of {spec.name!r} hold {len(labels)} example(s) of {len(present)} "
                        f"class(es) {present}: ranking heads needs examples of at least two classes")
    part_a, part_b = _split_sample(labels, sample, seed)
    pair = "text_b" in train.column_names
    _check_texts(train, part_a + part_b, ["text_a", "text_b"] if pair else ["text_a"])

    kind = resolve_data_feature(ref, feature, model)
    data = TaskData(spec, ref, load_tokenizer(ref), None, None, max_length, {}, model, kind)
    model_start = time.perf_counter()
    net = build_model(data, seed)
    model_seconds = time.perf_counter() - model_start
    skipped: list[str] = []
    candidates = _candidates(ref, (backbone_config(net).model_type, kind), hub, skipped)
    _check_map_targets(mapping, candidates, ref)

    # One length-sorted batching of both halves (least padding); the captured features are split after.
    batches, order = _batches(train, part_a + part_b, labels, data.tokenizer, pair=pair, max_length=max_length,
                              batch_size=batch_size)
    device = torch.device(inference_device() or "cpu")
    net.to(device).eval()
    start = time.perf_counter()
    cache = _backbone_outputs(net, batches, device)
    backbone_seconds = time.perf_counter() - start
    scorer = _Scorer(net, batches, cache, [j < len(part_a) for j in order])
    scored = scorer.score_all(candidates, mapping, skipped, spec.num_labels, len(part_a), len(part_b))
    end = time.perf_counter()
    seconds = {"set_up": round(start - began - model_seconds, 4), "model": round(model_seconds, 4),
               "backbone_pass": round(backbone_seconds, 4), "scoring": round(end - start - backbone_seconds, 4),
               "total": round(end - began, 4)}
    ranked = Ranking(rank_suggestions(scored), seconds=seconds, skipped=skipped)
    for rank, s in enumerate(ranked, 1):
        s.rank = rank
    _log_ranking(ranked, len(part_a) + len(part_b))
    return ranked


def _classification_data(task: Any, data_dir: Any, limit: int | None, seed: int,
                         mapping: Mapping[str, str]) -> tuple[Any, Any]:
    """The spec and training split of a single-label task whose labels ``mapping`` names correctly."""
    spec, raw = load_raw(task, data_dir, limit, seed)
    if spec.problem_type != CLASSIFICATION:
        raise bad_value("task", spec.name, "a single-label classification task for suggest",
                        f"it is {spec.problem_type!r}; start from a head you name (finetune --from TASK)")
    mine = {normalize_label(label): label for label in spec.labels}
    unknown = [k for k in mapping if normalize_label(k) not in mine]
    if unknown:
        raise LabelMismatchError(f"label_map names {unknown} that are not among your labels {sorted(spec.labels)}: "
                                 "map your labels to a head's, e.g. neg=negative")
    return spec, raw["train"]


def _check_map_targets(mapping: Mapping[str, str], candidates: list[_Candidate], ref: BackboneRef) -> None:
    """Refuse a ``label_map`` that maps to a label no candidate head has (with no candidate, imprint is the
    only start and the map has nothing to name)."""
    if not candidates:
        return
    known = {normalize_label(label) for c in candidates for label in c.head.config.labels}
    orphan = [v for v in mapping.values() if normalize_label(v) not in known]
    if orphan:
        raise LabelMismatchError(
            f"label_map maps to {orphan}, a label no candidate head of {ref.id!r} has (their labels: "
            f"{sorted(known)[:30]}): map to one of those, or leave the label out to have it imprinted")


def _backbone_outputs(net: Any, batches: list[dict[str, Any]], device: Any) -> list[Any]:
    """Run the backbone once over ``batches`` (inference mode) and keep the base model's output per batch."""
    import torch

    base = getattr(net, net.base_model_prefix)
    cache: list[Any] = []
    handle = base.register_forward_hook(lambda module, args, output: cache.append(output))
    try:
        with torch.inference_mode():  # the one backbone pass
            for batch in batches:
                net(**{k: v.to(device) for k, v in batch.items() if k != "labels"})
    finally:
        handle.remove()
    return cache


class _Scorer:
    """Scores heads in one model on the cached output of its backbone (see the module docstring, step 3).

    While a head is scored, the base model's ``forward`` returns the cached output of the batch at
    hand; :meth:`restore` puts the model's fresh head and label config back between candidates.
    """

    def __init__(self, net: Any, batches: list[dict[str, Any]], cache: list[Any], in_a: list[bool]) -> None:
        import torch

        self.net, self.batches, self.cache = net, batches, cache
        self.in_a = torch.tensor(in_a)
        self.base = getattr(net, net.base_model_prefix)
        self.state = net.state_dict()
        self.fresh = {name: self.state[name].detach().clone() for name in head_state_names(net, self.state)}
        cfg = net.config
        self.fresh_cfg = (dict(cfg.id2label), dict(cfg.label2id), cfg.problem_type)
        self.at = 0

    def feed(self) -> Iterator[dict[str, Any]]:
        """Every batch in turn, telling the cached forward which one is at hand."""
        for i in range(len(self.batches)):
            self.at = i
            yield self.batches[i]

    def restore(self) -> None:
        """The model's fresh head and label config."""
        import torch

        with torch.no_grad():
            for name, tensor in self.fresh.items():
                self.state[name].copy_(tensor)
        cfg = self.net.config
        cfg.id2label, cfg.label2id, cfg.problem_type = dict(self.fresh_cfg[0]), dict(self.fresh_cfg[1]), \
            self.fresh_cfg[2]

    def score(self, rows: list[int]) -> tuple[float, float, float]:
        """Imprint ``rows`` from half A (if any), then accuracy, macro-F1 and cross-entropy on half B."""
        if rows and bool(self.in_a.any()):
            imprint_rows(self.net, _select(capture_features(self.net, self.feed()), self.in_a), rows,
                         keep_empty=True)
        on_b = _select(capture_features(self.net, self.feed()), ~self.in_a)
        return sample_scores(on_b.outputs, on_b.labels)

    def score_all(self, candidates: list[_Candidate], mapping: Mapping[str, str], skipped: list[str],
                  num_labels: int, examples_a: int, examples_b: int) -> list[Suggestion]:
        """Every candidate head, then the imprint candidate, ordered by macro-F1 (ties: more rows, accuracy)."""
        import torch

        scored: list[tuple[tuple[float, int, float, int], Suggestion]] = []
        self.base.forward = lambda *args, **kwargs: self.cache[self.at]  # heads run on the cached output
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # head-sized ops: more threads only wait for each other, badly on a busy machine
        try:
            for position, cand in enumerate(candidates):
                head = cand.head
                head_labels = {normalize_label(label) for label in head.config.labels}
                sub_map = {k: v for k, v in mapping.items() if normalize_label(v) in head_labels}
                self.restore()
                try:
                    match = head.match_labels(self.net, sub_map)
                    head.apply(self.net, label_map=sub_map, report=False)  # each candidate's fit is in the ranking
                except HeadzooError as exc:
                    skipped.append(f"{head.source} ({cand.repo_id or cand.origin}): {' '.join(str(exc).split())}")
                    continue
                accuracy, macro, loss = self.score(match.new_rows)
                s = Suggestion(0, head.source, cand.origin, match.report, accuracy, macro, len(match.matched),
                               examples_b, cand.path, cand.repo_id, match, sub_map, loss)
                scored.append(((-macro, -s.rows_from_head, -accuracy, position), s))
            self.restore()
            accuracy, macro, loss = self.score(list(range(num_labels)))
            fit = f"{num_labels} of {num_labels} rows imprinted from {examples_a} examples"
            scored.append(((-macro, 0, -accuracy, len(candidates)),
                           Suggestion(0, IMPRINT_CANDIDATE, IMPRINT_CANDIDATE, fit, accuracy, macro, 0, examples_b,
                                      cross_entropy=loss)))
        finally:
            del self.base.forward  # the instance attribute: the class's forward is back
            torch.set_num_threads(threads)
        return [s for _, s in sorted(scored, key=lambda item: item[0])]


def _log_ranking(ranked: Ranking, examples: int) -> None:
    for line in ranked.skipped:
        logger.debug("suggest: not a candidate: %s", line)
    if ranked.skipped:
        logger.info("suggest: %d head(s) of the backbone are not candidates (another kind of head, or no label in "
                    "common): %s; --debug (Ranking.skipped) says why", len(ranked.skipped),
                    ", ".join(line.split(":")[0] for line in ranked.skipped))
    logger.info("suggest: %d candidate(s) ranked from one backbone pass over %d examples (%s)", len(ranked),
                examples, ", ".join(f"{k} {v:.2f} s" for k, v in ranked.seconds.items()))


__all__ = ["AUTO", "DEFAULT_SAMPLE", "IMPRINT_CANDIDATE", "Ranking", "Suggestion", "format_suggestions",
           "suggest_heads"]
