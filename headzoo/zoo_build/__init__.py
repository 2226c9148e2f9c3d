"""Building a whole zoo in one resumable call, checking each head, and publishing a zoo to the Hub.

:func:`build_zoo` trains one head per (task, method) under one fixed budget
(:class:`ZooBudget`), checks each head on its task's validation split, and
writes the heads that pass into a zoo folder (``<out>/heads/<backbone>/<task>/<method>/``).
The starter zoo that ships with headzoo (``headzoo/zoo_data``) is built by it, on the feature the backbone
declares (MiniLM: its sentence embedding); docs/zoo.md gives the exact commands::

    headzoo zoo build --backbone minilm --tasks sst2,sms_spam,chat_topics,... --methods probe \\
        --out headzoo/zoo_data --record results/zoo/zoo.json --data-dir ../shared/data

The budget is one fixed rule for every task, not tuned per task: a method that trains makes ``stage1_steps``
optimizer steps of ``batch_size`` examples at the ``headzoo`` preset's learning rate for the method (chosen on
held-out *training* examples by ``benchmarks/lr_search.py``), on at most ``train_examples`` training examples
(a stratified, seeded subset); a head set without steps (an imprint; a probe on the sentence embedding) reads
up to ``closed_form_examples``. The validation split (at most ``validation_examples`` of it) is read only to
check each head:

(a) zero-shot, the check that decides: the head on the plain backbone, with no fine-tuning, scores above the
    task's majority class beyond noise, the lower end of a 95 % bootstrap interval above it (for a main metric
    that is a correlation: above 0, what a constant prediction gets);
(b) as a start, only with ``start_check=True`` and reported only: fine-tuning from the head against a random
    head at the same short stage-2 budget (``check_examples`` training examples, one epoch and at least
    ``check_min_steps`` steps, ``protocol="zoo"``, same seed).

A head that fails (a) is left out of the zoo and recorded as such. Every figure goes into the build record
(``<out>/zoo_build.json`` unless ``record`` says otherwise), from which ``docs/zoo.md`` is rendered
(:func:`render_zoo_markdown`).

Besides the built-in tasks with training data, the zoo covers labelled text sets that PyPI
packages ship (:data:`headzoo.tasks.packaged.PACKAGED_SETS`), each with its licence in the head's
training record.

Modules, one concern each: ``budget`` (:class:`ZooBudget`), ``data`` (the tasks and their
subsets), ``checks`` (checks (a) and (b)), ``build`` (:func:`build_zoo`, resumable),
``publish`` (:func:`publish_zoo`) and ``page`` (:func:`render_zoo_markdown`).
"""

from __future__ import annotations

from .budget import ZooBudget
from .build import DEFAULT_METHODS, RECORD_FILE, ZOO_BUILD_VERSION, ZooHead, build_zoo
from .checks import zero_shot_baseline
from .data import BUILTIN_ZOO_TASKS, task_data, zoo_tasks
from .page import render_zoo_markdown
from .publish import publish_zoo, zoo_heads

__all__ = [
    "BUILTIN_ZOO_TASKS",
    "DEFAULT_METHODS",
    "RECORD_FILE",
    "ZOO_BUILD_VERSION",
    "ZooBudget",
    "ZooHead",
    "build_zoo",
    "publish_zoo",
    "render_zoo_markdown",
    "task_data",
    "zero_shot_baseline",
    "zoo_heads",
    "zoo_tasks",
]
