"""What the studies share, one concern a module.

- :mod:`~benchmarks.common.records`: JSON records, their settings hash, atomic writes, resuming, the machine.
- :mod:`~benchmarks.common.stats`: mean ± std, the 2-SE verdicts, paired differences.
- :mod:`~benchmarks.common.pages`: page writing, machine formatting, figures.
- :mod:`~benchmarks.common.heldout`: the held-out sets of the transfer benchmark, k-shot samples, dev splits.
- :mod:`~benchmarks.common.transfer_plan`: the transfer benchmark's plan and budget (its study and report read it).
- :mod:`~benchmarks.common.dev_study`: fine-tuning variants scored on a dev split of the training pool.
- :mod:`~benchmarks.common.suite_plan`: the reproduction suite's plan (its runner and its report read it).
"""
