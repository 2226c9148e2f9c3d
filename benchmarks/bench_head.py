"""Head files and loading speed on the embedded MiniLM backbone.

Reports, in one run on one machine:
- head file bytes against the tensor bytes they hold (goal: overhead under 2 KB);
- the time of ``head.apply(model)`` (goal: under 20 ms for MiniLM);
- ``load_head(task, backbone)`` from the local zoo against plain
  ``AutoModelForSequenceClassification.from_pretrained(backbone)`` (goal: at most 1.1x).

Run:  HF_HUB_OFFLINE=1 python -m benchmarks.bench_head [--repeats 7] [--out results/bench_head.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path


def _timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown report here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tmp = Path(tempfile.mkdtemp(prefix="headzoo-bench-"))
    os.environ["HEADZOO_HOME"] = str(tmp / "zoo")

    import torch
    import transformers
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    import headzoo
    from headzoo.backbone import resolve_backbone

    hf_logging.set_verbosity_error()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    ref = resolve_backbone("minilm")
    labels = {0: "entailment", 1: "not_entailment"}
    kwargs = {"num_labels": 2, "id2label": labels, "label2id": {v: k for k, v in labels.items()}}
    model = AutoModelForSequenceClassification.from_pretrained(ref.path, **kwargs)
    head = headzoo.Head.from_model(model, task="rte", backbone=ref.id, method="lora")
    path = headzoo.save_to_zoo(head)
    file_bytes = (path / "head.safetensors").stat().st_size
    config_bytes = (path / "head_config.json").stat().st_size
    card_bytes = (path / "README.md").stat().st_size
    tensor_bytes = head.num_bytes
    backbone_bytes = sum(f.stat().st_size for f in Path(ref.path).glob("*.safetensors"))

    target = AutoModelForSequenceClassification.from_pretrained(ref.path, **kwargs)
    loaded = headzoo.Head.load(path)
    loaded.apply(target)  # warm-up
    apply_times = _timed(lambda: loaded.apply(target), args.repeats * 3)
    read_times = _timed(lambda: headzoo.Head.load(path), args.repeats * 3)

    def plain() -> None:
        AutoModelForSequenceClassification.from_pretrained(ref.path, **kwargs)

    def with_head() -> None:
        headzoo.load_head("rte", "minilm")

    plain(), with_head()  # warm file caches
    plain_times, head_times = [], []
    for _ in range(args.repeats):  # interleaved so drift hits both alike
        plain_times += _timed(plain, 1)
        head_times += _timed(with_head, 1)

    med = statistics.median
    ms = lambda xs: f"{1000 * med(xs):.1f} ms (min {1000 * min(xs):.1f}, max {1000 * max(xs):.1f})"  # noqa: E731
    ratio = med(head_times) / med(plain_times)
    lines = [
        "# Head files and loading speed (MiniLM-L6, 2 labels)",
        "",
        f"Command: `HF_HUB_OFFLINE=1 python -m benchmarks.bench_head --repeats {args.repeats}`",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU threads, {platform.platform()}; "
        f"python {platform.python_version()}, torch {torch.__version__}, transformers {transformers.__version__}, "
        f"headzoo {headzoo.__version__}",
        "",
        "| quantity | value | goal |",
        "|---|---|---|",
        f"| tensor bytes in the head | {tensor_bytes} | |",
        f"| head.safetensors bytes | {file_bytes} (overhead {file_bytes - tensor_bytes} B) | overhead < 2048 B |",
        f"| head_config.json bytes | {config_bytes} | |",
        f"| README.md (card) bytes | {card_bytes} | |",
        f"| backbone weights bytes | {backbone_bytes} ({backbone_bytes / max(1, file_bytes):.0f}x the head file) | |",
        f"| Head.load (read + validate) | {ms(read_times)} | |",
        f"| head.apply(model) | {ms(apply_times)} | < 20 ms |",
        f"| from_pretrained(backbone) | {ms(plain_times)} | |",
        f"| load_head('rte', 'minilm') from the zoo | {ms(head_times)} | |",
        f"| load_head / from_pretrained | {ratio:.3f}x | <= 1.1x |",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report)


if __name__ == "__main__":
    main()
