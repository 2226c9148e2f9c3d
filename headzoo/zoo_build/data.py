"""The tasks of a zoo build and their data: the built-in tasks with training data, then the packaged sets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..tasks import get_task, limit_dataset, load_task
from ..tasks.packaged import PACKAGED_SETS, ZOO_PACKAGED_SETS, packaged_task
from ..tasks.spec import builtin_name
from .budget import ZooBudget

__all__ = ["BUILTIN_ZOO_TASKS", "ZooTask", "task_data", "zoo_tasks"]

#: The built-in tasks that have a training split in the offline data (BoolQ and QNLI have none there).
BUILTIN_ZOO_TASKS = ("rte", "mrpc", "stsb", "cola", "sst2", "cb", "copa", "wic")
#: The data sizes a head's build hash covers.
DATA_SIZES = ("train_size", "stage1_train_size", "closed_form_train_size", "check_train_size", "validation_size")


@dataclass(frozen=True)
class ZooTask:
    """One task of a build and its data (see :func:`task_data`).

    Attributes:
        spec: the task.
        stage1_data: the stage-1 subset of the training split and the whole validation split.
        closed_form_data: the larger subset that a head set without optimizer steps reads (an imprint; a
            probe on the sentence embedding) and the whole validation split.
        check_data: check (b)'s subset of the training split and the whole validation split.
        info: the data record (sizes, and the package and licence of a packaged set).
    """

    spec: Any
    stage1_data: Any
    closed_form_data: Any
    check_data: Any
    info: dict[str, Any]

    @property
    def sizes(self) -> dict[str, Any]:
        """The data sizes (what a head's build hash covers)."""
        return {k: self.info[k] for k in DATA_SIZES}


def zoo_tasks(tasks: str | Sequence[str] = "all") -> list[str]:
    """The task names of a build: ``"all"`` (the built-in tasks with training data, then the packaged sets of
    :data:`~headzoo.tasks.packaged.ZOO_PACKAGED_SETS`) or a comma-separated string / list of names (any
    packaged set, by name).

    Raises:
        ConfigError: an unknown name (the message lists the known ones).

    Example:
        >>> zoo_tasks("cb,sms_spam")
        ['cb', 'sms_spam']
    """
    known = [*BUILTIN_ZOO_TASKS, *PACKAGED_SETS]
    if isinstance(tasks, str):
        default = [*BUILTIN_ZOO_TASKS, *ZOO_PACKAGED_SETS]
        names = default if tasks.strip() == "all" else [t.strip() for t in tasks.split(",") if t.strip()]
    else:
        names = [str(t).strip() for t in tasks]
    out = []
    for name in names:
        key = builtin_name(name) or name.lower()
        if key not in known:
            raise ConfigError(f"task {name!r} cannot be built into a zoo; known: all, {', '.join(known)}")
        if key not in out:
            out.append(key)
    if not out:
        raise ConfigError(f"no tasks given ({tasks!r}); pass 'all' or names like 'rte,cb'")
    return out


def task_data(task: str, data_dir: Any, budget: ZooBudget) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
    """The data of one zoo task: ``(spec, stage-1 data, closed-form data, check (b) data, data record)``.

    The three ``DatasetDict`` objects hold a stratified, seeded subset of the training split
    (``budget.train_examples`` / ``budget.closed_form_examples`` / ``budget.check_examples``) and one of
    the validation split (``budget.validation_examples``).

    Example:
        >>> spec, stage1, closed_form, check, info = task_data("cb", "../shared/data", ZooBudget())  # doctest: +SKIP
        >>> info["stage1_train_size"], info["validation_size"]  # doctest: +SKIP
        (250, 56)
    """
    import datasets

    if task in PACKAGED_SETS:
        spec, raw = packaged_task(task, seed=budget.seed)
        ps = PACKAGED_SETS[task]
        info: dict[str, Any] = {"package": ps.package, "package_version": ps.version(), "file": ps.file,
                                "title": ps.title, "source": ps.source, "license": ps.license,
                                "license_note": ps.license_note}
    else:
        spec = get_task(task)
        raw = load_task(spec, data_dir)
        info = {"dataset": spec.hub_id[0] if spec.hub_id else None,
                "dataset_config": spec.hub_id[1] if spec.hub_id else None,
                "license": spec.license_metadata if hasattr(spec, "license_metadata") else {}}
    stratify = not spec.is_regression
    validation = limit_dataset(raw["validation"], budget.validation_examples, budget.seed, stratify=stratify)

    def subset(size: int) -> Any:
        return datasets.DatasetDict({"train": limit_dataset(raw["train"], size, budget.seed, stratify=stratify),
                                     "validation": validation})

    stage1, closed_form, check = (subset(budget.train_examples), subset(budget.closed_form_examples),
                                  subset(budget.check_examples))
    info.update(train_size=raw["train"].num_rows, stage1_train_size=stage1["train"].num_rows,
                closed_form_train_size=closed_form["train"].num_rows, check_train_size=check["train"].num_rows,
                validation_size=validation.num_rows, full_validation_size=raw["validation"].num_rows)
    return spec, stage1, closed_form, check, info
