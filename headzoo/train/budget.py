"""A run's budget in optimizer steps, computed once: steps per epoch, the total ``T``, each stage's share.

The rules (see :mod:`headzoo.train`): ``T = max(min_steps, round(epochs * steps_per_epoch))``; under the
``matched`` protocol stage 1 takes ``max(1, round(stage1_fraction * T))`` of them and stage 2 the rest; under
``zoo`` stage 2 takes all ``T`` and the cost of stage 1 is reported apart. The default protocol, ``auto``, is
``zoo`` for a run that starts from a given head and ``matched`` otherwise
(:meth:`~headzoo.train.FinetuneSettings.resolved`). A stage 1 trained on its own
(:func:`~headzoo.train.pretrain_head`, the ``zoo`` protocol's heads) runs :func:`stage1_steps`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..naming import SENTENCE_EMBEDDING, SEQUENCE_CLASSIFICATION
from ..pet import IMPRINT
from .args import FinetuneSettings, Stage1Settings
from .data import steps_per_epoch


@dataclass(frozen=True)
class Budget:
    """The optimizer steps of one stage-2 run (:func:`~headzoo.train.finetune`, a grid cell of ``compare``).

    Attributes:
        steps_per_epoch: optimizer steps of one pass over the training data (per process, accumulation included).
        epoch_steps: what the epochs alone give, ``max(1, round(epochs * steps_per_epoch))``.
        total: the budget ``T``: ``epoch_steps`` raised to ``min_steps`` where it is lower.
        stage1: the steps of ``T`` charged to stage 1 (0 for FT, under ``zoo`` (``auto`` from a given head), and
            for a stage 1 made here that makes no step, such as an imprint).
        stage2: the steps stage 2 makes, ``total - stage1``.

    Example:
        >>> budget = Budget.of(FinetuneSettings(epochs=3), 250, strategy="eh-ft", method="lora")
        >>> budget.steps_per_epoch, budget.total, budget.stage1, budget.stage2, budget.floor_binds
        (8, 30, 3, 27, True)
    """

    steps_per_epoch: int
    epoch_steps: int
    total: int
    stage1: int
    stage2: int

    @property
    def floor_binds(self) -> bool:
        """Whether ``min_steps`` raised the budget above what the epochs give."""
        return self.total > self.epoch_steps

    @classmethod
    def of(cls, settings: FinetuneSettings, train_examples: int, *, strategy: str = "ft", method: str | None = None,
           head_given: bool = False, feature: str = SEQUENCE_CLASSIFICATION, problem_type: str | None = None
           ) -> Budget:
        """The budget of a run of ``strategy`` / ``method`` on ``train_examples`` training examples.

        Stage 1 is charged its share of ``T`` under the ``matched`` protocol for every strategy but FT, except
        a stage 1 made here that makes no optimizer step (:func:`makes_no_steps`, and no given head). The
        ``auto`` protocol is ``zoo`` with ``head_given``, else ``matched``.

        Example:
            >>> Budget.of(FinetuneSettings(epochs=10), 250).total
            80
            >>> Budget.of(FinetuneSettings(epochs=10), 250, strategy="eh-ft", method="lora", head_given=True).stage1
            0
        """
        per_epoch = steps_per_epoch(train_examples, settings.effective_batch_size)
        total = settings.budget_steps(per_epoch)
        protocol = settings.resolved(head_given=head_given).protocol
        charged = (protocol == "matched" and strategy != "ft"
                   and (not makes_no_steps(method, feature, problem_type) or head_given))
        stage1 = max(1, round(settings.stage1_fraction * total)) if charged else 0
        return cls(steps_per_epoch=per_epoch, epoch_steps=settings.epoch_steps(per_epoch), total=total,
                   stage1=stage1, stage2=total - stage1)


def makes_no_steps(method: str | None, feature: str = SEQUENCE_CLASSIFICATION, problem_type: str | None = None) -> bool:
    """Whether a stage 1 of ``method`` sets its head without optimizer steps: an imprint, or a ``probe`` on the
    sentence-embedding feature (a logistic regression on frozen embeddings; a regression task's probe trains).

    Example:
        >>> makes_no_steps("imprint"), makes_no_steps("probe"), makes_no_steps("probe", "sentence-embedding")
        (True, False, True)
    """
    if method == IMPRINT:
        return True
    return method == "probe" and feature == SENTENCE_EMBEDDING and problem_type != "regression"


def stage1_steps(settings: Stage1Settings, train_examples: int, accumulation: int = 1) -> int:
    """The length of a stage 1 trained on its own: ``max_steps``, else ``max(1, round(epochs * steps_per_epoch))``.

    ``accumulation`` is the gradient accumulation (the examples of a step are ``batch_size * accumulation``).

    Example:
        >>> stage1_steps(Stage1Settings(epochs=2), 250)
        16
        >>> stage1_steps(Stage1Settings(max_steps=5), 250)
        5
    """
    per_epoch = steps_per_epoch(train_examples, settings.batch_size * accumulation)
    return settings.max_steps or max(1, round(settings.epochs * per_epoch))
