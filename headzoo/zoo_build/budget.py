"""The fixed budget of a zoo build: stage-1 steps and data sizes of every head, and of its checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ..errors import ConfigError

__all__ = ["ZooBudget", "parse_budget"]


@dataclass(frozen=True)
class ZooBudget:
    """The fixed training budget of every head of a zoo build, and of the checks (see the module docstring).

    Example:
        >>> ZooBudget().stage1_steps
        40
        >>> ZooBudget(stage1_steps=0)
        Traceback (most recent call last):
        ...
        headzoo.errors.ConfigError: stage1_steps must be an integer >= 1, got 0
    """

    stage1_steps: int = field(default=40, metadata={"help": "Stage-1 optimizer steps of every head."})
    train_examples: int = field(default=2000, metadata={"help": "At most this many training examples "
                                                        "(a stratified, seeded subset) for stage 1."})
    closed_form_examples: int = field(default=4000, metadata={
        "help": "At most this many training examples (a stratified, seeded subset) for a head set without "
                "optimizer steps (an imprint; a probe on the sentence embedding): one forward pass and a fit."})
    validation_examples: int = field(default=2000, metadata={
        "help": "At most this many validation examples (a stratified, seeded subset) for the checks."})
    batch_size: int = field(default=32, metadata={"help": "Examples per optimizer step (stage 1 and checks)."})
    max_length: int = field(default=128, metadata={"help": "Truncate inputs to this many tokens."})
    seed: int = field(default=0, metadata={"help": "Seed of the subsets, the head init and the data order."})
    preset: str = field(default="headzoo", metadata={"help": "Stage-1 learning-rate preset."})
    check_examples: int = field(default=320, metadata={"help": "Training examples of check (b)'s stage 2."})
    check_min_steps: int = field(default=10, metadata={"help": "Check (b)'s stage 2 makes at least this "
                                                       "many steps (several epochs on small sets)."})
    check_learning_rate: float = field(default=5e-5, metadata={"help": "Check (b)'s stage-2 learning rate."})
    retry_steps: tuple[int, ...] = field(default=(120,), metadata={
        "help": "Stage-1 steps tried next, in order, for a head that passes neither check; the first length "
                "that passes ships."})

    def __post_init__(self) -> None:
        from ..train.args import check_float, check_int, check_preset

        for name in ("stage1_steps", "train_examples", "closed_form_examples", "validation_examples", "batch_size",
                     "check_examples", "check_min_steps"):
            check_int(name, getattr(self, name), 1)
        check_int("max_length", self.max_length, 2)
        check_int("seed", self.seed, 0, 2**32 - 1)
        check_preset(self.preset)
        check_float("check_learning_rate", self.check_learning_rate, low=0, low_open=True)
        if isinstance(self.retry_steps, (list, tuple)):
            object.__setattr__(self, "retry_steps", tuple(self.retry_steps))
        else:
            raise ConfigError(f"retry_steps must be a list of step counts, got {self.retry_steps!r}")
        for steps in self.retry_steps:
            check_int("retry_steps", steps, 1)

    @property
    def ladder(self) -> tuple[int, ...]:
        """The stage-1 lengths in the order they are tried: ``stage1_steps``, then ``retry_steps``."""
        return (self.stage1_steps, *self.retry_steps)

    def attempt(self, steps: int) -> dict[str, Any]:
        """The settings of one attempt (what its build hash covers): the budget with ``stage1_steps=steps``."""
        fields_ = asdict(self)
        fields_.pop("retry_steps")
        return {**fields_, "stage1_steps": steps}

    def rule(self) -> str:
        """The budget in one sentence, for records and docs.

        Example:
            >>> ZooBudget().rule()[:37]
            'stage 1: 40 steps of 32 examples at t'
        """
        again = ", then ".join(map(str, self.retry_steps))
        retry = (f"; a head whose zero-shot check fails is trained again for {again} "
                 "steps" if self.retry_steps else "")
        return (f"stage 1: {self.stage1_steps} steps of {self.batch_size} examples at the {self.preset!r} preset's "
                f"learning rate, on at most {self.train_examples} training examples (stratified, seed {self.seed})"
                f"{retry}; a head set without steps (an imprint; a probe on the sentence embedding) from at most "
                f"{self.closed_form_examples} training examples; "
                f"checks on at most {self.validation_examples} validation examples; "
                f"check (b): stage 2 on at most {self.check_examples} training examples for one epoch and at least "
                f"{self.check_min_steps} steps, lr {self.check_learning_rate:g}, protocol zoo")


def parse_budget(value: ZooBudget | Mapping[str, Any] | None) -> ZooBudget:
    """A :class:`ZooBudget` from itself, a dict of its fields, or None (the defaults).

    Raises:
        ConfigError: an unknown field, or a bad value.

    Example:
        >>> parse_budget({"stage1_steps": 20}).stage1_steps
        20
    """
    if isinstance(value, ZooBudget):
        return value
    known = {f.name for f in fields(ZooBudget)}
    unknown = sorted(set(value or {}) - known)
    if unknown:
        raise ConfigError(f"unknown zoo budget field(s) {unknown}; known: {', '.join(sorted(known))}")
    return ZooBudget(**dict(value or {}))
