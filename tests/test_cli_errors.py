"""Every command with bad arguments: one `error:` line saying what is wrong and how to fix it, no traceback.

The commands run in-process through ``headzoo.cli.main`` (the console script's
entry point); ``test_cli.py`` runs it as a real process once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from headzoo import Head, HeadzooError
from headzoo.cli import app, main

from .conftest import tiny_bert

HEAD = "{head}"  # replaced by a real head directory
CSV = "{csv}"  # replaced by a real CSV file with columns text,label

#: (command line, what the one error line must say: what is wrong ... and how to fix it)
BAD_COMMANDS: list[tuple[list[str], list[str]]] = [
    (["show", "/no/such/head"], ["no head at '/no/such/head'", "does not exist"]),
    (["show", "toy"], ["needs a backbone", "load_head('toy', 'sentence-transformers/all-MiniLM-L6-v2')"]),
    (["show", "toy", "--backbone", "~nobody-here/x"], ["'~nobody-here/x'", "give the full path"]),
    (["show", "~nobody-here/head"], ["no head at '~nobody-here/head'", "give the full path"]),
    (["show", "a" * 300], ["is not a valid name", "at most 96 characters"]),
    (["list", "--task", "../x"], ["task '../x' is not a valid name", "use letters, digits"]),
    (["list", "--backbone", "/no/such/dir"], ["'/no/such/dir' does not exist", "give a Hub id"]),
    (["push", "/no/such/head"], ["no head at '/no/such/head'", "does not exist"]),
    (["push", HEAD, "--repo-id", "a//b"], ["'a//b' is not a valid Hub repo id", "use 'namespace/name'"]),
    (["push", HEAD, "--repo-id", "alice/x", "--revision", "../main"], ["'../main' is not a valid revision",
                                                                        "give a branch, tag or commit"]),
    (["pull", "not a repo"], ["'not a repo' is not a valid Hub repo id", "use 'namespace/name'"]),
    (["pull", "alice/missing"], ["'alice/missing' not found", "check the id"]),
    (["pull", "alice/x", "--revision", "../../etc"], ["'../../etc' is not a valid revision", "give a branch"]),
    (["search", "--limit", "0"], ["'--limit'", "greater than or equal to 1"]),
    (["search", "--task", "../x"], ["task '../x' is not a valid name", "use letters"]),
    (["tasks", "extra"], ["unexpected extra argument", "headzoo --help"]),
    (["tasks", "--bogus"], ["No such option: --bogus", "headzoo --help"]),
    (["train", "nope"], ["unknown task 'nope'", "custom_task"]),
    (["train", "cb", "--method", "lorax"], ["got 'lorax'", "one of 'lora'"]),
    (["train", "cb", "--epochs", "-1"], ["epochs must be a number > 0", "got -1.0"]),
    (["train", "cb", "--target-modules", " , "], ["--target-modules takes comma-separated module names, got ' , '",
                                                  "e.g. --target-modules query,value"]),
    (["train", "toy", "--data-file", "/no/file.csv", "--text-column", "t", "--label-column", "l"],
     ["data file '/no/file.csv' does not exist", "check the path"]),
    (["train", "toy", "--data-file", CSV], ["needs --text-column", "--label-column"]),
    (["train", "toy", "--data-file", CSV, "--text-column", "nope", "--label-column", "label"],
     ["'nope'", "text"]),
    (["train", "../evil", "--data-file", CSV, "--text-column", "text", "--label-column", "label"],
     ["task name '../evil' is invalid", "use lowercase letters"]),
    (["finetune", "cb", "--strategy", "sgd"], ["strategy must be one of", "got 'sgd'"]),
    (["suggest"], ["needs your data", "--data-file PATH"]),
    (["suggest", "cb", "--label-map", "neg"], ["--label-map takes YOURS=HEAD pairs", "got 'neg'"]),
    (["finetune", "cb", "--head", "/no/such/head"], ["no head at '/no/such/head'", "does not exist"]),
    (["finetune", "cb", "--protocol", "free"], ["protocol must be one of 'auto', 'matched', 'zoo'", "got 'free'"]),
    (["compare", "cb", "--seeds", "x"], ["--seeds must be integers like '0,1,2'", "got 'x'"]),
    (["compare", "cb", "--methods", "adapter"], ["method must be one of", "got 'adapter'"]),
    (["compare", "cb", "--strategies", ","], ["expected a comma-separated list", "got ','"]),
    (["compare", "cb", "--stage1-lr", "ia3"], ["--stage1-lr takes method=rate pairs", "got 'ia3'"]),
    (["compare", "cb", "--stage1-lr", "ia3=fast"], ["--stage1-lr takes method=rate pairs", "got 'ia3=fast'"]),
    (["compare", "cb", "--stage1-lr", "loar=0.1"], ["stage1_learning_rates key must be one of", "got 'loar'"]),
    (["compare", "cb", "--stage1-lr", "ia3=0"], ["stage1_learning_rates['ia3'] must be a number > 0", "got 0.0"]),
    (["compare", "cb", "--data-order", "later"], ["data_order must be one of 'continue', 'restart'", "got 'later'"]),
    (["finetune", "cb", "--data-order", "later"], ["data_order must be one of", "got 'later'"]),
    (["finetune", "cb", "--eval-strategy", "often"],
     ["eval_strategy must be one of 'steps', 'epoch', 'no'", "got 'often'"]),
    (["compare", "cb", "--eval-strategy", "often"],
     ["eval_strategy must be one of 'steps', 'epoch', 'no'", "got 'often'"]),
    (["finetune", "cb", "--eval-steps", "2.5"],
     ["eval_steps must be a fraction below 1 or a whole number of steps", "got 2.5"]),
    (["compare", "cb", "--eval-steps", "0"], ["eval_steps must be a number > 0", "got 0.0"]),
    (["demo", "--batch-size", "0"], ["'--batch-size'", "greater than or equal to 1"]),
    (["demo", "--epochs", "0"], ["epochs must be a number > 0", "got 0.0"]),
    (["demo", "--n-train", "1"], ["'--n-train'", "greater than or equal to 3"]),
    (["demo", "--task", "nope"], ["unknown task 'nope'", "known tasks"]),
    (["predict", HEAD], ["give texts with --text", "or a file with --file"]),
    (["predict", HEAD, "--file", "/no/file.csv"], ["no file at '/no/file.csv'", "give the path of a CSV"]),
    (["predict", HEAD, "--text", "x", "--output", "out.xlsx"], ["suffix '.xlsx'", "use one of .csv, .tsv, .jsonl"]),
    (["predict", HEAD, "--file", CSV, "--text-column", "nope"], ["no text column 'nope'", "pass --text-column"]),
    (["predict", HEAD, "--file", CSV, "--max-rows", "5"], ["more than 5 rows", "raise the limit with --max-rows"]),
]

COMMANDS = ("show", "list", "push", "pull", "search", "tasks", "predict", "train", "finetune", "suggest", "compare",
            "demo")


def test_every_command_is_tried() -> None:
    tried = {args[0] for args, _ in BAD_COMMANDS}
    registered = {c.name or c.callback.__name__ for c in app.registered_commands}
    assert set(COMMANDS) == registered == tried


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    head = Head.from_model(tiny_bert(), task="toy", backbone="org/tiny", method="lora").save(tmp_path / "head")
    csv = tmp_path / "toy.csv"
    csv.write_text("text,label\n" + "".join(f"row {i},{'ab'[i % 2]}\n" for i in range(20)))
    return {"head": str(head), "csv": str(csv)}


@pytest.mark.parametrize(("args", "says"), BAD_COMMANDS, ids=[" ".join(a)[:60] for a, _ in BAD_COMMANDS])
def test_bad_arguments_one_line(hub, files: dict[str, str], capsys: pytest.CaptureFixture[str], args: list[str],
                                says: list[str]) -> None:
    code = main([a.format(**files) for a in args])
    out, err = capsys.readouterr()
    assert code != 0
    assert "Traceback" not in err + out
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, err
    assert not errors[0].startswith("error: unexpected "), errors[0]  # a mapped error, not the catch-all
    for part in says:
        assert part in errors[0], (part, errors[0])


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(HeadzooError, match="does not exist"):
        main(["--debug", "show", "/no/such/head"])
