"""What ``headzoo.predict`` and ``load_head`` cost on the sentence-embedding kind (issue 32 item 4, issue 31).

Every sentence-embedding head of the shipped zoo (found at run time; ``--zoo DIR`` takes another zoo folder
instead, ``--stand-in-zoo DIR`` first writes one, see below) is timed in three parts, on the embedded MiniLM:

- ``texts``: ``predict(all heads, texts)`` against one embedding pass over the same texts, which is the floor:
  headzoo's own (``load_sentence_classifier`` + ``load_tokenizer`` + ``headzoo.frozen.encode``, the steps predict
  takes) and, for reference, ``SentenceTransformer(folder)`` + ``.encode``; every side loads its model in the
  call, at predict's default batch size. Rounds run the sides in turn (the order rotates); the ratios are taken
  within a round and the median over rounds is reported. Inside each predict call, the model load and the
  encoding are clocked too (wrapped module functions), which splits predict's time into the embedding pass and
  what the heads add. Target: at most 1.05x.
- ``embeddings``: ``predict(all heads, embeddings=x)`` on seeded unit-length float32 rows (``--rows``, e.g.
  100,000 and 1,000,000 x 384), each run in a fresh process: the wall time and the peak resident memory beyond
  what the process held with the input in memory (Linux ``VmHWM``, reset just before the call), minus the bytes
  of the answer itself (every head's float32 probabilities: rows x labels x 4). That remainder is predict's
  working memory; it must not grow with the rows. One more run per size under ``tracemalloc`` counts numpy's
  allocations the same way.
- ``load``: ``load_head(task, "minilm", feature="sentence-embedding")`` against ``from_pretrained``:
  ``AutoModel`` on the backbone folder (the backbone alone), ``AutoModelForSequenceClassification`` on it
  (``benchmarks/bench_head.py``'s baseline for the other kind), and the same sentence model saved whole and
  loaded back; the other kind's ``load_head`` (a shipped head folder) is timed beside it. Interleaved rounds, each
  result kept until its clock stops and freed outside it. Target: at most 1.1x.

``suggest`` on this kind is ``benchmarks/bench_suggest.py --feature sentence-embedding``; its JSON (next to its
page) is quoted on this page where present.

Until the shipped zoo holds sentence-embedding heads, ``--stand-in-zoo DIR`` writes one first: for each task the
rebuilt zoo is planned to cover (:data:`PLANNED_TASKS`: SST-2 and the packaged sets, their real label names), a
``probe`` and an ``imprint`` head of random weights (seeded). A prediction's cost depends on the heads' shapes,
not their weights. The records say which zoo and which heads were used.

    HF_HUB_OFFLINE=1 python -m benchmarks.predict_speed --data-dir ../shared/data                  # the shipped zoo
    HF_HUB_OFFLINE=1 python -m benchmarks.predict_speed --stand-in-zoo /tmp/stand-in-zoo --data-dir ../shared/data
    python -m benchmarks.predict_speed --report                                                    # the page only
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gc
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from benchmarks.common.pages import machine_line, write_page
from benchmarks.common.processes import spawn_child
from benchmarks.common.records import ROOT, machine_info, settings_hash, write_record

OUT = ROOT / "results" / "predict_speed"
SUGGEST_JSON = ROOT / "results" / "bench_suggest_sentence.json"
RECORD_VERSION = 1
PARTS = ("texts", "embeddings", "load")
TARGETS = {"texts": 1.05, "load": 1.1, "suggest": 1.2}
STAND_IN_METHODS = ("probe", "imprint")
MIB = 2**20


# ------------------------------------------------------------------ heads


def planned_tasks() -> dict[str, tuple[str, ...]]:
    """The single-text tasks the rebuilt zoo covers, with their label names: SST-2 and every packaged set."""
    from headzoo.tasks import get_task
    from headzoo.tasks.packaged import PACKAGED_SETS

    return {"sst2": tuple(get_task("sst2").labels), **{name: s.labels for name, s in PACKAGED_SETS.items()}}


def write_stand_in_zoo(root: Path, backbone: str = "minilm", tasks: dict[str, Sequence[str]] | None = None,
                       methods: Sequence[str] = STAND_IN_METHODS, seed: int = 0) -> Path:
    """A zoo folder of random-weight sentence-embedding heads, one per task and method, of the tasks' label names.

    The heads record the backbone's real weight fingerprint, so ``load_head`` and ``predict`` accept them; only
    their weights are random (normal, seeded). An existing folder is left as it is.
    """
    import torch

    from headzoo import Head
    from headzoo.backbone import backbone_fingerprint, load_sentence_classifier, resolve_backbone

    if (root / "heads").is_dir():
        return root
    ref = resolve_backbone(backbone)
    model = load_sentence_classifier(ref, num_labels=2)
    fingerprint = backbone_fingerprint(model)
    generator = torch.Generator().manual_seed(seed)
    width = model.config.embedding_size
    for task, labels in (planned_tasks() if tasks is None else tasks).items():
        for method in methods:
            model.classifier = torch.nn.Linear(width, len(labels))
            with torch.no_grad():
                model.classifier.weight.copy_(torch.randn(len(labels), width, generator=generator))
                model.classifier.bias.zero_()
            model.config.num_labels = len(labels)
            model.config.id2label = dict(enumerate(labels))
            model.config.label2id = {label: i for i, label in enumerate(labels)}
            head = Head.from_model(model, task=task, backbone=ref.id, method=method,
                                   backbone_fingerprint=fingerprint, training={"stand_in": "random weights"})
            head.save(root / "heads" / ref.slug / task / method)
    return root


def sentence_heads(backbone: str = "minilm") -> list[Any]:
    """Every sentence-embedding head of the shipped zoo (``$HEADZOO_SHIPPED_ZOO`` where set) for ``backbone``."""
    from headzoo import list_heads
    from headzoo.naming import SENTENCE_EMBEDDING

    return [e for e in list_heads(backbone=backbone, source="shipped") if e.config.feature == SENTENCE_EMBEDDING]


def heads_record(entries: Sequence[Any]) -> list[dict[str, Any]]:
    """What a record says of the heads: task, method, labels and whether the weights were random."""
    return [{"task": e.task, "method": e.method, "labels": e.config.num_labels,
             "stand_in": (e.config.training or {}).get("stand_in") is not None} for e in entries]


# ------------------------------------------------------------------ inputs


def read_texts(data_dir: Path, count: int) -> list[str]:
    """``count`` SST-2 sentences: the dev file's, then the training file's, in file order."""
    texts: list[str] = []
    for name in ("dev.tsv", "train.tsv"):
        with open(data_dir / "glue" / "SST-2" / name, encoding="utf-8", newline="") as fh:
            texts += [row["sentence"] for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)]
        if len(texts) >= count:
            break
    if len(texts) < count:
        raise SystemExit(f"SST-2 under {data_dir} holds {len(texts)} sentences, fewer than --texts {count}")
    return texts[:count]


def unit_rows(rows: int, width: int, seed: int = 0, block: int = 65_536) -> Any:
    """``rows`` seeded random float32 rows of unit length (as sentence embeddings are), made block by block in
    place, so that making them needs no memory beyond the array itself."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = np.empty((rows, width), dtype=np.float32)
    for start in range(0, rows, block):
        part = out[start:start + block]
        rng.standard_normal(part.shape, dtype=np.float32, out=part)
        part /= np.linalg.norm(part, axis=1, keepdims=True)
    return out


# ------------------------------------------------------------------ statistics


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, min and max (rounded to 4 decimals)."""
    return {"median": round(statistics.median(values), 4), "min": round(min(values), 4),
            "max": round(max(values), 4)}


def ratios(rounds: Sequence[dict[str, Any]], top: str, bottom: str) -> list[float]:
    """``top / bottom`` within each round."""
    return [r[top] / r[bottom] for r in rounds]


def rotated(names: Sequence[str], turn: int) -> list[str]:
    """``names`` started at position ``turn`` (mod their number): round ``i`` runs the sides in this order."""
    k = turn % len(names)
    return [*names[k:], *names[:k]]


@contextlib.contextmanager
def clocked(targets: Sequence[tuple[Any, str]], spent: dict[str, float]) -> Iterator[None]:
    """Within the block, each ``module.name`` function (or class attribute: a method, a classmethod) adds the
    seconds of its calls to ``spent[name]``; afterwards the owner's own attribute is put back as it was."""
    saved = [(module, name, getattr(module, name), name in vars(module), vars(module).get(name))
             for module, name in targets]

    def wrap(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
        return timed

    try:
        for module, name, real, _, _ in saved:
            setattr(module, name, wrap(name, real))
        yield
    finally:
        for module, name, _, owned, raw in saved:
            if owned:
                setattr(module, name, raw)
            else:
                delattr(module, name)


def timed_call(fn: Callable[[], Any]) -> float:
    """Seconds of ``fn()``; its result is freed after the clock stops, outside the time."""
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    del result
    gc.collect()
    return seconds


# ------------------------------------------------------------------ part (a): texts


def time_texts(paths: Sequence[str], texts: list[str], backbone: str, batch_size: int, rounds: int,
               reference: bool = True) -> dict[str, Any]:
    """Rounds of predict over ``texts`` with every head in ``paths`` against one embedding pass (see the docstring).

    Returns ``{"rounds": [...], ...}``: per round the seconds of ``predict``, ``embed`` (headzoo's pass),
    ``st`` (SentenceTransformer, with ``reference``), and inside predict ``predict_load`` / ``predict_encode``.
    """
    import headzoo
    import headzoo.backbone as backbone_module
    import headzoo.frozen as frozen
    from headzoo.backbone import resolve_backbone

    ref = resolve_backbone(backbone)

    def embed() -> Any:
        model = backbone_module.load_sentence_classifier(ref, num_labels=1).eval()
        tokenizer = backbone_module.load_tokenizer(ref)
        return frozen.encode(model, tokenizer, texts, batch_size=batch_size)

    def sentence_transformers() -> Any:
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(ref.path), device="cpu").encode(texts, batch_size=batch_size,
                                                                       show_progress_bar=False)

    sides: dict[str, Callable[[], Any]] = {"predict": lambda: headzoo.predict(list(paths), texts,
                                                                              batch_size=batch_size),
                                           "embed": embed}
    if reference:
        sides["st"] = sentence_transformers
    inside = [(backbone_module, "load_sentence_classifier"), (backbone_module, "load_tokenizer"),
              (frozen, "encode")]
    for fn in sides.values():  # warm-up: first-call costs (imports, file caches, thread pools)
        fn()
    out = []
    for turn in range(rounds):
        row: dict[str, Any] = {"order": rotated(list(sides), turn)}
        for name in row["order"]:
            spent: dict[str, float] = {}
            with clocked(inside, spent):
                row[name] = round(timed_call(sides[name]), 4)
            if name == "predict":
                row["predict_load"] = round(spent["load_sentence_classifier"] + spent["load_tokenizer"], 4)
                row["predict_encode"] = round(spent["encode"], 4)
        out.append(row)
        print(json.dumps(row), flush=True)
    return {"rounds": out, "predict_vs_embed": spread(ratios(out, "predict", "embed")),
            "predict_vs_st": spread(ratios(out, "predict", "st")) if reference else None,
            "in_call": spread([r["predict"] / (r["predict_load"] + r["predict_encode"]) for r in out])}


# ------------------------------------------------------------------ part (b): embeddings


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the process's peak resident memory (Linux ``clear_refs`` 5); False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def measure_embeddings(paths: Sequence[str], rows: int, width: int, seed: int, trace: bool = False) -> dict[str, Any]:
    """One predict over ``rows`` seeded unit rows with every head in ``paths``: seconds and memory beyond the input.

    ``extra_bytes`` is the peak resident memory during the call minus the resident memory before it (input in
    memory); ``working_bytes`` is that minus ``result_bytes`` (the answer's float32 probabilities). With
    ``trace`` the same two come from ``tracemalloc`` (numpy's allocations), and the time is not comparable.
    """
    import tracemalloc

    import headzoo

    x = unit_rows(rows, width, seed)
    headzoo.predict(list(paths), embeddings=x[:1000])  # warm-up: imports, BLAS threads
    gc.collect()
    before = _status_kib("VmRSS")
    reset = _reset_peak()
    if trace:
        tracemalloc.start()
        tracemalloc.reset_peak()
    start = time.perf_counter()
    preds = headzoo.predict(list(paths), embeddings=x)
    seconds = time.perf_counter() - start
    if trace:
        _, peak_traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    peak = _status_kib("VmHWM")
    result_bytes = sum(int(p.probabilities.nbytes) for p in preds.heads.values())
    out: dict[str, Any] = {"rows": rows, "width": width, "seconds": round(seconds, 3),
                           "rows_per_second": round(rows / seconds), "input_bytes": int(x.nbytes),
                           "result_bytes": result_bytes, "labels": sum(len(p.labels) for p in preds.heads.values()),
                           "trace": trace, "peak_reset": reset}
    if trace:
        out.update(extra_bytes=int(peak_traced), working_bytes=int(peak_traced) - result_bytes)
    elif before is not None and peak is not None and reset:
        out.update(extra_bytes=(peak - before) * 1024, working_bytes=(peak - before) * 1024 - result_bytes)
    return out


def time_embeddings(paths: Sequence[str], sizes: Sequence[int], width: int, repeats: int, seed: int,
                    tmp: Path) -> dict[str, Any]:
    """Each size ``repeats`` times plus once under ``tracemalloc``, every run in a fresh process."""
    runs = []
    for size in sizes:
        for turn in range(repeats + 1):
            trace = turn == repeats
            spec = {"stage": f"embeddings-{size}-{turn}", "task": "predict", "paths": list(paths), "rows": size,
                    "width": width, "seed": seed, "trace": trace}
            runs.append(spawn_child("predict_speed", spec, tmp))
            print(json.dumps(runs[-1]), flush=True)
    return {"runs": runs, "sizes": {str(size): summarize_size([r for r in runs if r["rows"] == size])
                                    for size in sizes}}


def summarize_size(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The timed runs' seconds, and the largest working memory of the RSS runs and of the traced run."""
    timed = [r for r in runs if not r["trace"]]
    traced = [r for r in runs if r["trace"]]
    rss = [r["working_bytes"] for r in timed if "working_bytes" in r]
    return {"seconds": spread([r["seconds"] for r in timed]),
            "rows_per_second": round(statistics.median(r["rows_per_second"] for r in timed)),
            "result_bytes": timed[0]["result_bytes"], "input_bytes": timed[0]["input_bytes"],
            "labels": timed[0]["labels"],
            "working_bytes_rss": max(rss) if rss else None,
            "working_bytes_traced": max(r["working_bytes"] for r in traced) if traced else None}


# ------------------------------------------------------------------ part (c): load_head


def time_load(task: str, head_folder: str, other_kind_folder: str | None, rounds: int,
              backbone: str = "minilm") -> dict[str, Any]:
    """Interleaved rounds of ``load_head`` (this kind by task and by folder, the other kind by folder) and of the
    ``from_pretrained`` baselines; each round's ratios against each baseline."""
    from transformers import AutoModel, AutoModelForSequenceClassification

    import headzoo
    import headzoo.loading as loading
    from headzoo.backbone import resolve_backbone
    from headzoo.head import Head

    ref = resolve_backbone(backbone)
    inside = [(loading, "resolve_head"), (loading, "load_classifier"), (AutoModel, "from_pretrained"), (Head, "apply")]
    whole = Path(tempfile.mkdtemp(prefix="predict-speed-whole-"))
    headzoo.load_head(head_folder).save_pretrained(whole)  # the same sentence model, saved whole
    sides: dict[str, Callable[[], Any]] = {
        "automodel": lambda: AutoModel.from_pretrained(ref.path),
        "seq_from_pretrained": lambda: AutoModelForSequenceClassification.from_pretrained(ref.path, num_labels=2),
        "whole_from_pretrained": lambda: AutoModelForSequenceClassification.from_pretrained(whole),
        "load_head_task": lambda: headzoo.load_head(task, backbone, feature="sentence-embedding"),
        "load_head_folder": lambda: headzoo.load_head(head_folder),
    }
    if other_kind_folder:
        sides["load_head_other_kind"] = lambda: headzoo.load_head(other_kind_folder)
    for fn in sides.values():
        timed_call(fn)
    out = []
    for turn in range(rounds):
        row: dict[str, Any] = {"order": rotated(list(sides), turn)}
        for name in row["order"]:
            spent: dict[str, float] = {}
            with clocked(inside if name == "load_head_task" else [], spent):
                row[name] = round(timed_call(sides[name]), 5)
            if name == "load_head_task":
                row["parts"] = load_parts(row[name], spent)
        out.append(row)
    result: dict[str, Any] = {"rounds": out, "seconds": {name: spread([r[name] for r in out]) for name in sides},
                              "parts": {part: spread([r["parts"][part] for r in out]) for part in LOAD_PARTS}}
    result["ratios"] = {
        "task_vs_automodel": spread(ratios(out, "load_head_task", "automodel")),
        "task_vs_whole": spread(ratios(out, "load_head_task", "whole_from_pretrained")),
        "task_vs_seq": spread(ratios(out, "load_head_task", "seq_from_pretrained")),
        "folder_vs_automodel": spread(ratios(out, "load_head_folder", "automodel")),
    }
    if other_kind_folder:
        result["ratios"]["other_kind_vs_seq"] = spread(ratios(out, "load_head_other_kind", "seq_from_pretrained"))
    return result


#: Where a ``load_head(task, ...)`` call's time goes (see :func:`load_parts`).
LOAD_PARTS = {"find_and_read": "finding and reading the head (`resolve_head`)",
              "weights": "the backbone's weights (`AutoModel.from_pretrained`, inside)",
              "model": "the sentence model around them (pooling, config, head layer)",
              "apply": "`Head.apply` (checks, weight fingerprint, copying the head in)",
              "other": "the rest"}


def load_parts(total: float, spent: dict[str, float]) -> dict[str, float]:
    """A ``load_head`` call's seconds split into :data:`LOAD_PARTS` from the clocked inner calls."""
    parts = {"find_and_read": spent.get("resolve_head", 0.0), "weights": spent.get("from_pretrained", 0.0),
             "model": spent.get("load_classifier", 0.0) - spent.get("from_pretrained", 0.0),
             "apply": spent.get("apply", 0.0)}
    parts["other"] = total - parts["find_and_read"] - spent.get("load_classifier", 0.0) - parts["apply"]
    return {k: round(v, 6) for k, v in parts.items()}


# ------------------------------------------------------------------ the page


def _verdict(value: float, target: float) -> str:
    return f"**met** (target ≤ {target:g}x)" if value <= target else f"**not met** (target ≤ {target:g}x)"


def _mib(n: float | None) -> str:
    return "—" if n is None else f"{n / MIB:,.1f} MiB"


def _gib(n: float) -> str:
    return f"{n / 2**30:,.2f} GiB"


def _x(s: dict[str, float]) -> str:
    return f"{s['median']:.3f}x ({s['min']:.3f} to {s['max']:.3f})"


def _heads_line(record: dict[str, Any]) -> str:
    heads = record["heads"]
    labels = sum(h["labels"] for h in heads)
    where = "the shipped zoo" if record["zoo"] == "shipped" else f"the zoo folder `{record['zoo']}`"
    stand_in = sum(h["stand_in"] for h in heads)
    kind = (f"stand-ins with random weights, {stand_in} of {len(heads)}, of the planned tasks' shapes"
            if stand_in else "trained heads")
    return f"{len(heads)} sentence-embedding heads from {where} ({kind}), {labels} labels in all"


def answer_lines(records: dict[str, dict[str, Any]], suggest: list[dict[str, Any]] | None) -> list[str]:
    """The answers, one bullet per question, from the records present."""
    lines = []
    texts = records.get("texts")
    if texts:
        r = texts["result"]
        rounds = r["rounds"]
        heads_share = statistics.median((x["predict"] - x["predict_load"] - x["predict_encode"]) / x["predict"]
                                        for x in rounds)
        st = f", {_x(r['predict_vs_st'])} `SentenceTransformer(...).encode`" if r.get("predict_vs_st") else ""
        threads = texts.get("threads") or texts["machine"].get("torch_threads")
        lines.append(
            f"- **predict over texts** ({texts['texts']:,} SST-2 sentences, {len(texts['heads'])} heads at once, "
            f"batch {texts['batch_size']}, {threads} torch thread(s)): {_x(r['predict_vs_embed'])} one headzoo "
            f"embedding pass over the same texts, model load included, "
            f"{_verdict(r['predict_vs_embed']['median'], TARGETS['texts'])}{st} (whole calls, median of "
            f"{len(rounds)} rounds, min to max). Inside each predict call, all but its own embedding pass (finding "
            f"and reading the heads, the checks, the heads' products) took {100 * heads_share:.2f}% of its time: "
            f"in-call ratio {_x(r['in_call'])}, {_verdict(r['in_call']['median'], TARGETS['texts'])}; unlike the "
            "whole calls, this figure does not move with the machine's load.")
    emb = records.get("embeddings")
    if emb:
        sizes = emb["result"]["sizes"]
        keys = sorted(sizes, key=int)
        big, small = sizes[keys[-1]], sizes[keys[0]]
        grow = ", ".join(f"{int(k):,} rows: {_mib(sizes[k]['working_bytes_rss'])} (traced "
                         f"{_mib(sizes[k]['working_bytes_traced'])})" for k in keys)
        bounded = all(sizes[k]["working_bytes_rss"] is not None for k in keys) and (
            big["working_bytes_rss"] <= 1.5 * small["working_bytes_rss"] + 64 * MIB)
        more = (f" (from {int(keys[0]):,} to {int(keys[-1]):,} rows the RSS figure moved by "
                f"{(big['working_bytes_rss'] - small['working_bytes_rss']) / MIB:+,.1f} MiB while the answer grew by "
                f"{_gib(big['result_bytes'] - small['result_bytes'])})" if bounded and len(keys) > 1 else "")
        lines.append(
            f"- **predict over embeddings** ({int(keys[-1]):,} x {emb['width']} float32, {len(emb['heads'])} heads): "
            f"{big['seconds']['median']:.1f} s ({big['rows_per_second']:,} rows/s, median of "
            f"{emb['repeats']} runs). Working memory beyond the input ({_gib(big['input_bytes'])}) and the answer "
            f"({_gib(big['result_bytes'])}: every head's float32 probabilities, {big['labels']} per row): {grow}; "
            + (f"it does not grow with the rows{more}." if bounded else "**it grows with the rows.**"))
    load = records.get("load")
    if load:
        r = load["result"]["ratios"]
        other = (f"; the other kind's `load_head` (a shipped folder) is {_x(r['other_kind_vs_seq'])} "
                 "`AutoModelForSequenceClassification.from_pretrained`, this kind's "
                 f"{_x(r['task_vs_seq'])}" if "other_kind_vs_seq" in r else "")
        parts = load["result"].get("parts")
        where = ("; of its median time, " + ", ".join(f"{LOAD_PARTS[k].split(' (')[0]} {1000 * v['median']:.1f} ms"
                                                    for k, v in parts.items() if k != "weights")
                 + f", around the weights' {1000 * parts['weights']['median']:.1f} ms" if parts else "")
        lines.append(
            f"- **load_head** (`load_head({load['task']!r}, 'minilm', feature='sentence-embedding')`, median of "
            f"{len(load['result']['rounds'])} rounds): {_x(r['task_vs_whole'])} `from_pretrained` of the same "
            f"sentence model saved whole, {_verdict(r['task_vs_whole']['median'], TARGETS['load'])}; "
            f"{_x(r['task_vs_automodel'])} `AutoModel.from_pretrained` of the backbone alone (no head, no "
            f"pooling), {_verdict(r['task_vs_automodel']['median'], TARGETS['load'])}{other}{where}.")
    if suggest:
        for row in suggest:
            lines.append(
                f"- **suggest** on {row['data']}, {row['candidates']} candidates ([bench_suggest_sentence.md]"
                f"(../bench_suggest_sentence.md)): in-call ratio {row['in_call_ratio']:.2f}x its own backbone pass, "
                f"{_verdict(row['in_call_ratio'], TARGETS['suggest'])}; {row['ratio']:.2f}x a separate forward pass "
                "(medians of its repeats).")
    return lines


def render(records: dict[str, dict[str, Any]], suggest: list[dict[str, Any]] | None = None) -> str:
    """The page: the answers first, then each part's figures, the commands and the machines."""
    lines = ["<!-- Generated by `python -m benchmarks.predict_speed --report`. Do not edit by hand. -->", "",
             "# predict and load_head on the sentence-embedding kind: time and memory", ""]
    first = next(iter(records.values()), None)
    if first:
        lines += [f"Heads: {_heads_line(first)}.", ""]
    lines += ["**Answers** (ratios are medians of per-round ratios, with their min and max; the machine was busy "
              "with other work, so read small differences as noise):", "", *answer_lines(records, suggest), ""]
    texts = records.get("texts")
    if texts:
        lines += ["## predict over texts", "", "| round | predict (s) | of which: load | of which: encode | "
                  "headzoo embedding pass (s) | SentenceTransformer (s) | predict / embedding pass |",
                  "|---|---|---|---|---|---|---|"]
        for i, r in enumerate(texts["result"]["rounds"], 1):
            lines.append(f"| {i} | {r['predict']:.2f} | {r['predict_load']:.2f} | {r['predict_encode']:.2f} | "
                         f"{r['embed']:.2f} | {r['st']:.2f} | {r['predict'] / r['embed']:.3f} |"
                         if "st" in r else
                         f"| {i} | {r['predict']:.2f} | {r['predict_load']:.2f} | {r['predict_encode']:.2f} | "
                         f"{r['embed']:.2f} | — | {r['predict'] / r['embed']:.3f} |")
        lines += ["", f"Command: `{texts['command']}`", ""]
    emb = records.get("embeddings")
    if emb:
        lines += ["## predict over embeddings", "",
                  "| rows | seconds (median, min to max) | rows/s | input | answer | working memory, RSS | "
                  "working memory, traced |", "|---|---|---|---|---|---|---|"]
        for key in sorted(emb["result"]["sizes"], key=int):
            s = emb["result"]["sizes"][key]
            lines.append(f"| {int(key):,} | {s['seconds']['median']:.2f} ({s['seconds']['min']:.2f} to "
                         f"{s['seconds']['max']:.2f}) | {s['rows_per_second']:,} | {_mib(s['input_bytes'])} | "
                         f"{_mib(s['result_bytes'])} | {_mib(s['working_bytes_rss'])} | "
                         f"{_mib(s['working_bytes_traced'])} |")
        lines += ["", "Working memory: the peak during the call beyond the resident memory before it (the input "
                  "already in memory), minus the answer's bytes; RSS from Linux `VmHWM` (reset before the call), "
                  "traced from `tracemalloc` in a run of its own. Every run in a fresh process.", "",
                  f"Command: `{emb['command']}`", ""]
    load = records.get("load")
    if load:
        names = {"automodel": "`AutoModel.from_pretrained(backbone)`",
                 "seq_from_pretrained": "`AutoModelForSequenceClassification.from_pretrained(backbone)`",
                 "whole_from_pretrained": "`from_pretrained` of the sentence model saved whole",
                 "load_head_task": f"`load_head({load['task']!r}, 'minilm', feature='sentence-embedding')`",
                 "load_head_folder": "`load_head(head folder)`, this kind",
                 "load_head_other_kind": "`load_head(head folder)`, the sequence-classification kind"}
        lines += ["## load_head", "", "| call | ms (median, min to max) |", "|---|---|"]
        for key, s in load["result"]["seconds"].items():
            lines.append(f"| {names.get(key, key)} | {1000 * s['median']:.1f} ({1000 * s['min']:.1f} to "
                         f"{1000 * s['max']:.1f}) |")
        lines += ["", "| ratio | median (min to max) |", "|---|---|"]
        lines += [f"| {key} | {_x(s)} |" for key, s in load["result"]["ratios"].items()]
        if load["result"].get("parts"):
            lines += ["", f"Where a `load_head({load['task']!r}, ...)` call's time goes (clocked inner calls):", "",
                      "| part | ms (median, min to max) |", "|---|---|"]
            lines += [f"| {LOAD_PARTS[key]} | {1000 * s['median']:.2f} ({1000 * s['min']:.2f} to "
                      f"{1000 * s['max']:.2f}) |" for key, s in load["result"]["parts"].items()]
        lines += ["", f"Command: `{load['command']}`", ""]
    machines = sorted({machine_line(r["machine"]) for r in records.values()})
    loads = ", ".join(f"{part} {r['load_average'][0]:.1f} to {r['load_average'][1]:.1f}"
                      for part, r in records.items() if r.get("load_average"))
    lines += ["Machine: " + "; ".join(machines) + (f". Load average (1 min) before and after each part: {loads}."
                                                   if loads else ""), ""]
    return "\n".join(lines)


def read_records(out: Path = OUT) -> dict[str, dict[str, Any]]:
    """The records present, by part, in :data:`PARTS` order."""
    return {part: json.loads((out / f"{part}.json").read_text(encoding="utf-8"))
            for part in PARTS if (out / f"{part}.json").is_file()}


def read_suggest(path: Path = SUGGEST_JSON) -> list[dict[str, Any]] | None:
    """The rows of ``bench_suggest.py --feature sentence-embedding`` where its JSON is present."""
    return json.loads(path.read_text(encoding="utf-8"))["rows"] if path.is_file() else None


# ------------------------------------------------------------------ running


def _command(argv: Sequence[str]) -> str:
    return "HF_HUB_OFFLINE=1 python -m benchmarks.predict_speed" + ("" if not argv else " " + shlex.join(argv))


def _other_kind_folder() -> str | None:
    """A shipped sequence-classification head of the package's own zoo (sst2 first), for the other kind's row."""
    from headzoo import list_heads
    from headzoo.naming import SEQUENCE_CLASSIFICATION

    shipped = os.environ.pop("HEADZOO_SHIPPED_ZOO", None)
    try:
        found = [e for e in list_heads(backbone="minilm", source="shipped")
                 if e.config.feature == SEQUENCE_CLASSIFICATION and e.config.num_labels > 1]
    finally:
        if shipped is not None:
            os.environ["HEADZOO_SHIPPED_ZOO"] = shipped
    found.sort(key=lambda e: (e.task != "sst2", e.task, e.method))
    return str(found[0].path) if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.predict_speed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default=",".join(PARTS), help="which parts to measure (the page shows all)")
    parser.add_argument("--zoo", type=Path, default=None, help="a zoo folder (holding heads/) instead of the shipped")
    parser.add_argument("--stand-in-zoo", type=Path, default=None,
                        help="write random-weight heads of the planned tasks' shapes here (if absent), use as --zoo")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the texts part")
    parser.add_argument("--rows", default="100000,1000000", help="embedding rows, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per row count (plus one traced)")
    parser.add_argument("--load-rounds", type=int, default=15)
    parser.add_argument("--no-reference", action="store_true", help="leave out SentenceTransformer")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads for the texts and load parts (default: torch's own choice); on a machine "
                             "shared with other work, 1 keeps the timings steadier")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--report", action="store_true", help="only write the page from the records")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        result = measure_embeddings(spec["paths"], spec["rows"], spec["width"], spec["seed"], trace=spec["trace"])
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    if not args.report:
        run_parts(args, list(sys.argv[1:] if argv is None else argv))
    page = write_page(args.out / "README.md", render(read_records(args.out), read_suggest()))
    print(page)
    return 0


def run_parts(args: argparse.Namespace, argv: list[str]) -> None:
    """Measure the parts asked for and write one record per part."""
    import inspect

    from transformers.utils import logging as hf_logging

    import headzoo

    hf_logging.set_verbosity_error()  # no load reports; no progress bars, which would cost the baselines time
    hf_logging.disable_progress_bar()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["HEADZOO_HOME"] = tempfile.mkdtemp(prefix="predict-speed-home-")  # no user heads
    other_kind = _other_kind_folder()
    zoo = args.zoo
    if args.stand_in_zoo is not None:
        zoo = write_stand_in_zoo(args.stand_in_zoo)
    if zoo is not None:
        os.environ["HEADZOO_SHIPPED_ZOO"] = str(zoo)
    entries = sentence_heads()
    if not entries:
        raise SystemExit("the shipped zoo holds no sentence-embedding head for minilm: pass --zoo DIR (a zoo "
                         "folder holding heads/), or --stand-in-zoo DIR to write random-weight ones")
    paths = [str(e.path) for e in entries]
    defaults = inspect.signature(headzoo.predict).parameters
    base = {"record_version": RECORD_VERSION, "backbone": "minilm", "zoo": str(zoo) if zoo else "shipped",
            "heads": heads_record(entries)}
    width = int(entries[0].config.tensors["classifier.weight"][1])
    for part in [p.strip() for p in args.parts.split(",") if p.strip()]:
        if part not in PARTS:
            raise SystemExit(f"unknown part {part!r}; parts: {', '.join(PARTS)}")
        began = os.getloadavg()[0]
        if part == "texts":
            settings = {**base, "part": part, "texts": args.texts, "rounds": args.rounds, "threads": args.threads,
                        "batch_size": defaults["batch_size"].default, "reference": not args.no_reference}
            result = time_texts(paths, read_texts(args.data_dir, args.texts), "minilm", settings["batch_size"],
                                args.rounds, reference=not args.no_reference)
        elif part == "embeddings":
            sizes = [int(n) for n in args.rows.split(",")]
            settings = {**base, "part": part, "rows": sizes, "width": width, "repeats": args.repeats, "seed": 0,
                        "chunk_size": defaults["chunk_size"].default}
            result = time_embeddings(paths, sizes, width, args.repeats, 0,
                                     Path(tempfile.mkdtemp(prefix="predict-speed-")))
        else:
            task = "sst2" if any(e.task == "sst2" for e in entries) else entries[0].task
            folder = next(str(e.path) for e in entries if e.task == task)
            settings = {**base, "part": part, "task": task, "rounds": args.load_rounds, "threads": args.threads,
                        "other_kind": other_kind is not None}
            result = time_load(task, folder, other_kind, args.load_rounds)
        record = {**settings, "settings_hash": settings_hash(settings), "result": result,
                  "load_average": [round(began, 2), round(os.getloadavg()[0], 2)],
                  "machine": machine_info(), "command": _command(argv)}
        write_record(args.out / f"{part}.json", record)


if __name__ == "__main__":
    sys.exit(main())
