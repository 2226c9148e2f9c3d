"""Task registry, data loading and metrics for GLUE, SuperGLUE and custom tasks.

Every task is a :class:`TaskSpec`. Loading any task gives a
:class:`datasets.DatasetDict` with the splits ``"train"`` and ``"validation"``
(the official dev set) and the same canonical columns:

* ``text_a`` -- the first text segment (always present),
* ``text_b`` -- the second segment (only for sentence-pair tasks),
* ``label`` -- an int class id (``ClassLabel`` feature whose names are
  ``TaskSpec.labels``), a ``float32`` score for regression, or a ``float32``
  multi-hot row of ``num_labels`` values for multi-label tasks.

So one tokenisation call fits every task::

    tokenizer(batch["text_a"], batch.get("text_b"), truncation=True)

Built-in tasks load from the ``datasets`` Hub when online, or from an offline
copy of the official files (``data_dir`` or the ``HEADZOO_DATA_DIR``
environment variable) laid out as ``glue/RTE/train.tsv``,
``superglue/CB/train.jsonl`` and so on. See :func:`load_task` for the layout
and for how each task is cast into (``text_a``, ``text_b``, ``label``).

Modules: ``spec`` (TaskSpec, the built-in table, row encoders), ``glue``
(offline readers, Hub loading, ``load_task``), ``custom`` (``custom_task``, ``dataset_task``),
``metrics``, ``sampling`` (the one stratified, seeded sampler) and
``textfiles`` (UTF-8/CSV/JSONL reading). The package never prints; it logs
to loggers under ``headzoo.tasks``.
"""

from __future__ import annotations

from .custom import DEFAULT_LABEL_SEPARATOR, custom_task, dataset_task
from .glue import DATA_DIR_ENV, load_task
from .metrics import MULTI_LABEL_THRESHOLD, compute_metrics, metric_fn_for_trainer, metric_interval
from .sampling import limit_dataset, sample_indices
from .spec import CLASSIFICATION, MULTI_LABEL, REGRESSION, TASKS, TaskSpec, get_task, list_tasks

__all__ = [
    "CLASSIFICATION",
    "DATA_DIR_ENV",
    "DEFAULT_LABEL_SEPARATOR",
    "MULTI_LABEL",
    "MULTI_LABEL_THRESHOLD",
    "REGRESSION",
    "TASKS",
    "TaskSpec",
    "compute_metrics",
    "custom_task",
    "dataset_task",
    "get_task",
    "limit_dataset",
    "list_tasks",
    "load_task",
    "metric_fn_for_trainer",
    "metric_interval",
    "sample_indices",
]
