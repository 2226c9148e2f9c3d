"""Commands that train: ``train`` a head (stage 1), ``finetune`` from it (stage 2), ``compare`` the strategies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..tasks import DEFAULT_LABEL_SEPARATOR
from ..train import compare as run_compare
from . import options
from .options import STAGE1, STAGE2, defaults_of
from .output import fmt_metric, progress_callbacks
from .parse import parse_modules, parse_rates, parse_seeds, split, task_arg, training_args

#: The library's defaults, which the options below show and pass on.
COMPARE = defaults_of(run_compare)

commands = typer.Typer()


@commands.command()
def train(
    task: options.TaskArg,
    backbone: options.Backbone = options.BACKBONE,
    method: options.Stage1Method = STAGE1.method,
    learning_rate: options.Stage1LearningRate = STAGE1.learning_rate,
    epochs: options.Stage1Epochs = STAGE1.epochs,
    max_steps: options.Stage1MaxSteps = STAGE1.max_steps,
    batch_size: options.Stage1BatchSize = STAGE1.batch_size,
    max_length: options.Stage1MaxLength = STAGE1.max_length,
    seed: options.Stage1Seed = STAGE1.seed,
    preset: options.Preset = STAGE2.preset,
    data_dir: options.DataDir = None,
    data_file: options.DataFile = None,
    text_column: options.TextColumn = None,
    label_column: options.LabelColumn = None,
    validation_file: options.ValidationFile = None,
    label_columns: options.LabelColumns = None,
    multi_label: options.MultiLabel = False,
    label_separator: options.LabelSeparator = DEFAULT_LABEL_SEPARATOR,
    limit: options.Limit = None,
    feature: options.Feature = None,
    output_dir: Annotated[Path | None, typer.Option(help="Trainer checkpoints (default: under the zoo).")] = None,
    resume: options.Resume = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the head already in the zoo.")] = False,
    target_modules: options.TargetModules = None,
    search: Annotated[bool, typer.Option("--search", help="First choose the learning rate and stage-1 length on a "
                                         "held-out 20% of the training data (dev is never used), then train "
                                         "with them; the choice is recorded in the head.")] = False,
    bf16: options.Bf16 = False,
    fp16: options.Fp16 = False,
    gradient_accumulation_steps: options.Accumulation = None,
    report_to: options.ReportTo = None,
    dataloader_num_workers: options.Workers = None,
    training_arg: options.TrainingArg = None,
    no_progress: options.NoProgress = False,
) -> None:
    """Stage 1: train a head together with a PET method, drop the PET parameters, save the head to the zoo.

    Example: headzoo train rte --backbone minilm --method lora --data-dir path/to/data
    """
    from ..train import pretrain_head

    settings = {"epochs": epochs, "max_steps": max_steps, "batch_size": batch_size, "max_length": max_length,
                "learning_rate": learning_rate, "target_modules": parse_modules(target_modules)}
    head = pretrain_head(
        task_arg(task, data_file, text_column, label_column, validation_file, label_columns=label_columns,
                 multi_label=multi_label, label_separator=label_separator), backbone, method,
        data_dir=data_dir, limit=limit, settings={k: v for k, v in settings.items() if v is not None},
        preset=preset, output_dir=output_dir, overwrite=overwrite, seed=seed, resume=resume, feature=feature,
        callbacks=progress_callbacks(no_progress), search=search,
        training_args=training_args(bf16, fp16, gradient_accumulation_steps, report_to, dataloader_num_workers,
                                    training_arg),
    )
    c = head.config
    metrics = ", ".join(fmt_metric(k, v) for k, v in sorted(c.metrics.items()))
    typer.echo(f"{c.task} head ({c.method}) for {c.backbone}: {metrics}")
    if c.training.get("learning_rate_source"):
        typer.echo(f"learning rate {c.training.get('learning_rate'):g}: {c.training['learning_rate_source']}")
    if head.path is not None:
        typer.echo(f"saved to {head.path}")


@commands.command()
def finetune(
    task: options.TaskArg,
    backbone: options.Backbone = options.BACKBONE,
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
    epochs: options.Epochs = STAGE2.epochs,
    learning_rate: options.LearningRate = STAGE2.learning_rate,
    protocol: options.Protocol = STAGE2.protocol,
    data_order: options.DataOrder = STAGE2.data_order,
    eval_strategy: options.EvalStrategy = STAGE2.eval_strategy,
    eval_steps: options.EvalSteps = STAGE2.eval_steps,
    min_steps: options.MinSteps = STAGE2.min_steps,
    batch_size: options.BatchSize = STAGE2.batch_size,
    max_length: options.MaxLength = STAGE2.max_length,
    seed: options.Seed = STAGE2.seed,
    data_dir: options.DataDir = None,
    data_file: options.DataFile = None,
    text_column: options.TextColumn = None,
    label_column: options.LabelColumn = None,
    validation_file: options.ValidationFile = None,
    label_columns: options.LabelColumns = None,
    multi_label: options.MultiLabel = False,
    label_separator: options.LabelSeparator = DEFAULT_LABEL_SEPARATOR,
    limit: options.Limit = None,
    feature: options.Feature = None,
    output_dir: Annotated[Path | None, typer.Option(help="Checkpoints and result.json.")] = None,
    resume: options.Resume = False,
    save_model: Annotated[Path | None, typer.Option(help="Save the fine-tuned model here (save_pretrained).")]
    = None,
    bf16: options.Bf16 = False,
    fp16: options.Fp16 = False,
    gradient_accumulation_steps: options.Accumulation = None,
    report_to: options.ReportTo = None,
    dataloader_num_workers: options.Workers = None,
    training_arg: options.TrainingArg = None,
    no_progress: options.NoProgress = False,
) -> None:
    """Stage 2: fully fine-tune from a random head (FT), a probed head (LP-FT) or a PET-pretrained head (EH-FT).

    Without --strategy, --method or --from it starts from the zoo head that fits your labels best, or an imprint.

    Example: headzoo finetune mytask --data-file f.csv --text-column text --label-column label

    Example: headzoo finetune cb --strategy eh-ft --method lora --epochs 10 --data-dir path/to/data

    Example: headzoo finetune mytask --data-file f.csv --text-column text --label-column label --from sst2
    """
    from ..labels import parse_label_map
    from ..train import finetune as run_finetune

    result = run_finetune(
        task_arg(task, data_file, text_column, label_column, validation_file, label_columns=label_columns,
                 multi_label=multi_label, label_separator=label_separator), backbone, strategy=strategy,
        method=method, head=head, epochs=epochs, learning_rate=learning_rate, protocol=protocol,
        data_order=data_order, eval_strategy=eval_strategy, eval_steps=eval_steps, min_steps=min_steps,
        batch_size=batch_size, max_length=max_length, seed=seed, data_dir=data_dir, limit=limit, feature=feature,
        output_dir=output_dir, resume=resume, callbacks=progress_callbacks(no_progress),
        training_args=training_args(bf16, fp16, gradient_accumulation_steps, report_to, dataloader_num_workers,
                                    training_arg),
        label_map=parse_label_map(label_map) if label_map is not None else None,
    )
    if result.stage1 and result.stage1.get("suggested"):
        typer.echo(result.stage1["suggested"])
    if result.stage1 and result.stage1.get("labels"):
        typer.echo(result.stage1["labels"])
    final = ", ".join(fmt_metric(k, v) for k, v in sorted(result.final.items()) if v is not None)
    best = ", ".join(fmt_metric(k, v) for k, v in sorted(result.best.items()) if v is not None)
    typer.echo(f"{result.strategy}{f'({result.method})' if result.method else ''} on {result.task}: final {final}")
    typer.echo(f"best (epoch {result.best_epoch}): {best}")
    source = (result.stage1 or {}).get("source")
    if result.protocol == "zoo" and source in ("given", "zoo"):
        steps = f"stage 2 {result.stage2_steps}, the whole budget (protocol zoo: the head was trained before)"
    else:
        steps = f"stage 1 {result.stage1_steps}, stage 2 {result.stage2_steps} (protocol {result.protocol})"
    typer.echo(f"steps: {steps}; {len(result.history)} evaluation(s); "
               f"time {result.stage1_seconds + result.stage2_seconds:.0f} s")
    if save_model is not None and getattr(result, "model", None) is not None:
        result.model.save_pretrained(save_model)
        typer.echo(f"model saved to {save_model}")


@commands.command()
def compare(
    task: options.TaskArg,
    backbone: options.Backbone = options.BACKBONE,
    strategies: Annotated[str, typer.Option(help="Comma-separated strategies: ft, lp-ft, eh-ft.")]
    = ",".join(COMPARE.strategies),
    methods: Annotated[str, typer.Option(help="Comma-separated PET methods for eh-ft.")]
    = ",".join(COMPARE.methods),
    seeds: Annotated[str, typer.Option(help="Comma-separated seeds, or a count like 5 (= 0..4).")]
    = str(len(COMPARE.seeds)),
    epochs: options.Epochs = STAGE2.epochs,
    learning_rate: options.LearningRate = STAGE2.learning_rate,
    protocol: options.Protocol = STAGE2.protocol,
    data_order: options.DataOrder = STAGE2.data_order,
    eval_strategy: options.EvalStrategy = STAGE2.eval_strategy,
    eval_steps: options.EvalSteps = STAGE2.eval_steps,
    min_steps: options.MinSteps = STAGE2.min_steps,
    stage1_lr: Annotated[str | None, typer.Option(
        "--stage1-lr", help="Stage-1 learning rates per method, like 'ia3=0.09,probe=0.1' (probe: LP-FT); "
        "methods not named take the headzoo preset's rate.")] = None,
    batch_size: options.BatchSize = STAGE2.batch_size,
    max_length: options.MaxLength = STAGE2.max_length,
    data_dir: options.DataDir = None,
    data_file: options.DataFile = None,
    text_column: options.TextColumn = None,
    label_column: options.LabelColumn = None,
    validation_file: options.ValidationFile = None,
    label_columns: options.LabelColumns = None,
    multi_label: options.MultiLabel = False,
    label_separator: options.LabelSeparator = DEFAULT_LABEL_SEPARATOR,
    limit: options.Limit = None,
    feature: options.Feature = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: runs.jsonl, results.json/.md/.png. "
                                      "Re-running resumes an interrupted grid.")] = Path("headzoo-compare"),
    bf16: options.Bf16 = False,
    fp16: options.Fp16 = False,
    gradient_accumulation_steps: options.Accumulation = None,
    report_to: options.ReportTo = None,
    dataloader_num_workers: options.Workers = None,
    training_arg: options.TrainingArg = None,
    no_progress: options.NoProgress = False,
) -> None:
    """The paper's comparison: strategies x PET methods x seeds on one task, with a table and a plot.

    Example: headzoo compare cb --seeds 5 --epochs 10 --data-dir path/to/data --out cb-grid
    """
    from ..train import is_main_process

    seed_list = parse_seeds(seeds)
    main_process = is_main_process()  # under torchrun / accelerate launch only rank 0 writes and reports
    result = run_compare(
        task_arg(task, data_file, text_column, label_column, validation_file, label_columns=label_columns,
                 multi_label=multi_label, label_separator=label_separator), backbone,
        strategies=split(strategies), methods=split(methods), seeds=seed_list, epochs=epochs,
        learning_rate=learning_rate, protocol=protocol, data_order=data_order, eval_strategy=eval_strategy,
        eval_steps=eval_steps, min_steps=min_steps, stage1_learning_rates=parse_rates(stage1_lr), batch_size=batch_size,
        max_length=max_length, data_dir=data_dir, limit=limit, feature=feature, out_dir=out,
        callbacks=progress_callbacks(no_progress),
        training_args=training_args(bf16, fp16, gradient_accumulation_steps, report_to, dataloader_num_workers,
                                    training_arg),
        on_run_end=lambda r: main_process and typer.echo(
            f"done: {r.strategy}{f'({r.method})' if r.method else ''} seed {r.seed}: "
            f"{r.main_metric}={r.final.get(r.main_metric)}", err=True),
    )
    if not main_process:
        return
    typer.echo(result.markdown)
    typer.echo(f"{result.ran} run(s) trained, {result.reused} reused; files in {result.out_dir}")
