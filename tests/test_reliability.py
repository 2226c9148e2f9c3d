"""docs/reliability.md's table is rendered from tests/reliability.py and names tests that exist and run."""

from __future__ import annotations

import importlib
import re

import pytest

from . import reliability as R


def test_reliability_table_is_up_to_date() -> None:
    section = R.table_section(R.TARGET.read_text(encoding="utf-8"))
    assert section is not None, f"{R.TARGET} lacks the {R.START} ... {R.END} markers"
    assert section == R.render(), (
        "docs/reliability.md's table is stale: run `python -m tests.reliability --write`"
    )


@pytest.mark.parametrize("entry", R.ENTRIES, ids=[e.test.split("::")[-1] for e in R.ENTRIES])
def test_every_listed_test_exists_and_runs_by_default(entry: R.Entry) -> None:
    path, name = entry.test.split("::")
    assert re.fullmatch(r"tests/test_\w+\.py", path), entry.test
    module = importlib.import_module("tests." + path.removeprefix("tests/").removesuffix(".py"))
    func = getattr(module, name, None)
    assert callable(func) and name.startswith("test_"), f"{entry.test} does not exist"
    module_marks = getattr(module, "pytestmark", [])
    module_marks = module_marks if isinstance(module_marks, list) else [module_marks]
    marks = [m.name for m in [*module_marks, *getattr(func, "pytestmark", [])]]
    assert "slow" not in marks and "skip" not in marks, f"{entry.test} is not in the default suite"
    count = entry.count()
    examples = re.fullmatch(r"(\d+) examples", count)
    if examples:  # the count shown is the one hypothesis runs
        settings = getattr(func, "_hypothesis_internal_use_settings", None)
        assert settings is not None, f"{entry.test} is not a hypothesis test"
        assert settings.max_examples == int(examples.group(1)), entry.test
    params = [m for m in getattr(func, "pytestmark", []) if m.name == "parametrize"]
    cases = re.fullmatch(r"(\d+) (cases|fault points|kinds|command lines)", count)
    if cases:  # the count shown is the number of parametrized cases
        assert params and len(params[0].args[1]) == int(cases.group(1)), entry.test
    if count == "1 case":
        assert not params, entry.test
