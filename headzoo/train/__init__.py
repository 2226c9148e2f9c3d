"""Training: stage 1 (:func:`pretrain_head`), stage 2 (:func:`finetune`) and the grid (:func:`compare`).

Everything runs through ``transformers.Trainer`` (no training loop of our own),
so ``torchrun`` / ``accelerate launch``, mixed precision (``accelerate launch
--mixed_precision bf16``) and checkpoint resumption work unchanged. Batches are
length-grouped (``train_sampling_strategy="group_by_length"``, the transformers 5
spelling of ``group_by_length=True``) and padded per batch
(``DataCollatorWithPadding``).

Strategies (Yang et al., EMNLP 2022):

- ``"ft"``: full fine-tuning from a random head.
- ``"lp-ft"``: stage 1 trains the head alone (``probe``), stage 2 fine-tunes everything.
- ``"eh-ft"``: stage 1 trains the head with a PET method (``lora``, ``bitfit``...),
  the PET parameters are dropped, stage 2 fine-tunes everything from that head.

Stage 2 always starts from a freshly loaded backbone plus the stage-1 head
(``Head.apply``): peft changes models in place and BitFit changes backbone
biases, neither may leak into stage 2.

Budgets are counted in optimizer steps. With ``protocol="matched"`` (the
paper's) FT's budget is ``T = max(min_steps, round(epochs * steps_per_epoch))`` steps (``min_steps``, 30 by
default, lets a few dozen examples train); stage 1
takes ``max(1, round(stage1_fraction * T))`` of them and stage 2 the rest, so
every strategy makes the same number of steps. With ``protocol="zoo"`` stage 2
gets all ``T`` steps, as for a head taken from the zoo, and the cost of stage 1
is reported separately. ``finetune``'s default, ``protocol="auto"``, is ``zoo``
for a run that starts from a head it did not train (a given head, a task's
head, ``head="auto"``'s zoo head) and ``matched`` otherwise; ``compare`` runs
``matched`` unless told ``zoo``.

Stage 2 evaluates on the validation split every ``eval_steps`` of its steps
(``eval_strategy="steps"``; by default a fifth of them, at most 5 evaluations
with the last at the end), at every epoch boundary (``"epoch"``) or at the end
only (``"no"``), and checkpoints at those points for ``resume``.

Data order under ``matched`` (``data_order``): ``"continue"`` (default) lays the
run's ``T`` batches out once, epoch by epoch, and gives stage 1 the first ``k``
and stage 2 the other ``T - k``, so every example is seen as often as under FT.
``"restart"`` starts stage 2 on a new pass over the data, as two separate
Trainer runs do; with length-grouped batches (transformers sorts each
mega-batch longest first) stage 1 then gets the longest batches, and stage 2
drops the shortest ones at the end.

Progress goes to the ``callbacks`` (``transformers.TrainerCallback``) and to
``logging``; this module never prints. Callbacks can tell the stages apart by
``args.run_name`` (``"headzoo-stage1-<method>"`` / ``"headzoo-stage2-<strategy>"``).

The package, one concern a module:

- :mod:`~headzoo.train.args`: the settings of each stage (:class:`Stage1Settings`, :class:`FinetuneSettings`).
- :mod:`~headzoo.train.data`: tokenised task data, the padding collator, the batch plan.
- :mod:`~headzoo.train.budget`: a run's budget in steps, computed once (:class:`~headzoo.train.budget.Budget`).
- :mod:`~headzoo.train.context`: one stage-2 run as one value (:class:`~headzoo.train.context.Run`): what it
  trains, its budget, its hashed settings (:func:`run_settings`), its folder and options.
- :mod:`~headzoo.train.trainer`: the ``Trainer`` of one stage (:class:`StageSpec`), its callbacks, checkpoints
  and evaluations.
- :mod:`~headzoo.train.stage1_run`: one stage-1 training run and its cache; :mod:`~headzoo.train.stage1`:
  :func:`pretrain_head`; :mod:`~headzoo.train.lr_search`: :func:`search_stage1`.
- :mod:`~headzoo.train.stage2`: :func:`finetune`; :mod:`~headzoo.train.grid`: :func:`compare` and its run
  cache; :mod:`~headzoo.train.report`: the grid's table and plot.
- :mod:`~headzoo.train.records`: JSON, hashes, atomic writes, record versions;
  :mod:`~headzoo.train.runtime`: ranks, devices and the machine record.
"""

from __future__ import annotations

from .args import (
    DATA_ORDERS,
    METHOD_SETTINGS,
    PRESETS,
    PROTOCOLS,
    RESERVED_TRAINING_ARGS,
    STRATEGIES,
    FinetuneSettings,
    Stage1Settings,
    stage1_record,
)
from .context import run_settings
from .data import BatchPlan, TaskData, build_model, prepare_data, steps_per_epoch
from .grid import compare
from .lr_search import LENGTHS, LR_FACTORS, SearchResult, search_stage1
from .records import RECORD_VERSION, read_runs, run_key, settings_hash
from .results import CompareResult, FinetuneResult
from .runtime import has_accelerator, is_main_process, world_size
from .stage1 import pretrain_head
from .stage2 import finetune
from .trainer import StageSpec, make_trainer

__all__ = [
    "DATA_ORDERS",
    "LENGTHS",
    "LR_FACTORS",
    "METHOD_SETTINGS",
    "PRESETS",
    "PROTOCOLS",
    "RECORD_VERSION",
    "RESERVED_TRAINING_ARGS",
    "STRATEGIES",
    "BatchPlan",
    "CompareResult",
    "FinetuneResult",
    "FinetuneSettings",
    "SearchResult",
    "Stage1Settings",
    "StageSpec",
    "TaskData",
    "build_model",
    "compare",
    "finetune",
    "has_accelerator",
    "is_main_process",
    "make_trainer",
    "prepare_data",
    "pretrain_head",
    "read_runs",
    "run_key",
    "run_settings",
    "search_stage1",
    "settings_hash",
    "stage1_record",
    "steps_per_epoch",
    "world_size",
]
