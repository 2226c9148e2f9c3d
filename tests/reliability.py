"""What the reliability tests try, in one registry; the table of docs/reliability.md is rendered from it.

The tests import their sizes (hypothesis ``max_examples``, fault lists) from
here or from the test modules that the registry reads, so the table cannot
drift from what runs. ``tests/test_reliability.py`` checks that the section of
docs/reliability.md between the markers equals :func:`render` and that every
listed test exists.

Regenerate the table with either of::

    python -m tests.reliability --write
    python docs/generate.py reliability.md
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: hypothesis examples per fuzzed input (each property test runs this many, derandomized).
FUZZ_CONFIG_EXAMPLES = 150  # random JSON values as head_config.json
FUZZ_CONFIG_MUTATION_EXAMPLES = 100  # a valid config with one field replaced, huge numbers, unknown keys
FUZZ_LABEL_MAP_EXAMPLES = 200  # id2label / label2id in the config
FUZZ_MODEL_LABEL_EXAMPLES = 40  # the model's id2label / label2id when a head is applied
FUZZ_LABEL_MATCH_EXAMPLES = 150  # your label sets and label_map against a head's labels (issue 17)
FUZZ_SAFETENSORS_BYTES_EXAMPLES = 100  # random bytes, truncations, bit flips of a real head file
FUZZ_SAFETENSORS_HEADER_EXAMPLES = 100  # well-formed files with random headers (dtypes, shapes, offsets)
FUZZ_NAME_EXAMPLES = 200  # task / method / backbone / repo id / revision strings

#: The page that holds the table, between START and END.
TARGET = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"
START = "<!-- reliability:start -->"
END = "<!-- reliability:end -->"


@dataclass(frozen=True)
class Entry:
    """One row: what was tried, how much of it, what must happen, and the test that shows it."""

    area: str
    tried: str
    count: Callable[[], str]
    expected: str
    test: str  # a pytest node id (without parameters)


def _examples(n: int) -> Callable[[], str]:
    return lambda: f"{n} examples"


def _cases(module: str, name: str, unit: str = "cases") -> Callable[[], str]:
    return lambda: f"{len(getattr(_m(module), name))} {unit}"


def _one() -> str:
    return "1 case"


def _m(module: str) -> Any:
    import importlib

    return importlib.import_module(f"tests.{module}")


ENTRIES: list[Entry] = [
    Entry("fuzzing", "random JSON values (objects, lists, strings, huge and negative numbers), and objects with "
          "headzoo's field names holding mostly plausible values, as head_config.json",
          _examples(FUZZ_CONFIG_EXAMPLES), "`HeadFormatError`, or a valid config that round-trips",
          "tests/test_fuzz.py::test_random_json_is_a_config_or_a_headformaterror"),
    Entry("fuzzing", "a valid head_config.json with up to two fields set to random JSON (wrong types, 10^30, "
          "nested values) and up to two removed, plus unknown keys as from a newer version",
          _examples(FUZZ_CONFIG_MUTATION_EXAMPLES),
          "a `HeadzooError` and the model unchanged, or a head that applies, re-saves and renders a card; unknown "
          "keys are kept and written back",
          "tests/test_fuzz.py::test_mutated_config_is_refused_cleanly_or_kept"),
    Entry("fuzzing", "raw head_config.json text: NaN, Infinity, 1e999, 5,000-digit integers, 100,000-deep "
          "nesting, non-UTF-8 bytes, a 17 MiB file",
          _cases("test_fuzz", "HOSTILE_CONFIG_TEXTS"), "`HeadFormatError` before anything is built",
          "tests/test_fuzz.py::test_hostile_config_text"),
    Entry("fuzzing", "label maps: id2label with missing, duplicate, non-contiguous, non-numeric or padded "
          "ids and duplicate names; label2id that disagrees",
          _examples(FUZZ_LABEL_MAP_EXAMPLES), "`HeadFormatError` unless the map is exactly 0..n-1 with unique names",
          "tests/test_fuzz.py::test_label_maps"),
    Entry("fuzzing", "the target model's id2label / label2id: permuted, renamed, duplicated, non-contiguous, "
          "disagreeing", _examples(FUZZ_MODEL_LABEL_EXAMPLES),
          "`LabelMismatchError` and the model's parameters unchanged, or the rows permuted to the model's order "
          "(outputs of labels the head lacks keep the model's own rows)",
          "tests/test_fuzz.py::test_apply_to_models_with_random_label_maps"),
    Entry("fuzzing", "your label sets (case and space variants, default `LABEL_i` names, labels the head lacks) "
          "with random `label_map`s (names neither side has, two labels to one, blank names, the map reversed), "
          "applied to a model", _examples(FUZZ_LABEL_MATCH_EXAMPLES),
          "a one-line `LabelMismatchError` (`ConfigError` for a blank name) and the model unchanged, or each "
          "matched output takes the head row of its (mapped) name, no row twice, the others keep the model's init",
          "tests/test_labels.py::test_fuzzed_label_maps_and_sets"),
    Entry("labels", "a `label_map` naming a label neither side has, two labels mapped to one, a map the wrong way "
          "round, a map or label set leaving no overlap, labels differing only in case",
          _cases("test_labels", "REFUSED"),
          "one-line `LabelMismatchError` naming the labels; the model's parameters and labels unchanged",
          "tests/test_labels.py::test_refusals_leave_the_model_unchanged"),
    Entry("imprint", "`imprint` with a label that has no example in the data", _one,
          "one-line `DataError` naming the label and the examples per label, the model unchanged; with "
          "`keep_empty` (a partial start in `finetune --from`) that row keeps the model's init and is reported",
          "tests/test_imprint.py::test_a_class_with_no_examples_is_refused_and_nothing_changes"),
    Entry("imprint", "`pretrain_head(..., 'imprint')` on a task with a label that has no training example", _one,
          "one-line `DataError` naming the label; nothing reaches the zoo",
          "tests/test_imprint.py::test_pretrain_head_imprint_with_a_class_without_examples"),
    Entry("suggest", "`suggest_heads` on training data with one class, an empty text, a `label_map` naming a label "
          "you do not have or one no head has, a sample too small", _cases("test_suggest", "REFUSED"),
          "one-line `DataError` / `LabelMismatchError` / `ConfigError` naming the value; the zoo unchanged",
          "tests/test_suggest.py::test_bad_inputs_are_one_line_errors"),
    Entry("suggest", "`headzoo suggest` on a file with one class, a file with an empty text, an unknown label in "
          "`--label-map`, no data at all", _cases("test_suggest", "CLI_REFUSED", "command lines"),
          "one `error:` line, exit status 1, no traceback", "tests/test_suggest.py::test_cli_refusals_are_one_line"),
    Entry("fuzzing", "head.safetensors replaced by random bytes, truncated at a random length, or with random "
          "bytes flipped", _examples(FUZZ_SAFETENSORS_BYTES_EXAMPLES),
          "`HeadFormatError` from `read_head` and `load_head(model=...)`; the model's parameters unchanged",
          "tests/test_fuzz.py::test_damaged_safetensors"),
    Entry("fuzzing", "head.safetensors with a random header: every dtype (BF16, F8, C64...), shapes, data "
          "offsets past the end of the file, NaN / Inf values",
          _examples(FUZZ_SAFETENSORS_HEADER_EXAMPLES),
          "`HeadFormatError`, or a head that loads; never another exception; the model unchanged on refusal",
          "tests/test_fuzz.py::test_random_safetensors_headers"),
    Entry("interruption", "SIGINT to `headzoo train` mid-epoch (after the first epoch's checkpoint), then "
          "`--resume`, with a checkpoint cut off while being written",
          lambda: f"SIGINT before step {_m('test_interrupt').PAUSE_AT} of "
                  f"{_m('test_interrupt').EPOCHS * _m('test_interrupt').STEPS_PER_EPOCH}",
          "exit 130, one `error:` line naming `--resume`, no head and no temp dir in the zoo; the resumed head "
          "equals an uninterrupted run's; checkpoints are read with `torch.load(weights_only=True)` only",
          "tests/test_interrupt.py::test_sigint_mid_epoch_then_resume"),
    Entry("interruption", "Ctrl-C in the second run of a `headzoo compare` grid, then the same command again",
          lambda: f"Ctrl-C at step {_m('test_interrupt').GRID_INTERRUPT_AT} of a "
                  f"{len(_m('test_interrupt').GRID_SEEDS)}-run grid",
          "exit 130 and one line; the finished run is reused from runs.jsonl",
          "tests/test_interrupt.py::test_interrupted_compare_keeps_finished_runs"),
    Entry("interruption", "Ctrl-C or an I/O error at each step of replacing a saved head (tensors, config, card, "
          "fsync, between the two renames, the final rename)",
          _cases("test_interrupt", "SAVE_FAULTS", "fault points"),
          "the zoo entry is the complete old head or the complete new one, byte for byte; no temp dirs left",
          "tests/test_interrupt.py::test_interrupted_save_keeps_a_whole_head"),
    Entry("interruption", "a temp dir left by a save killed with SIGKILL", _one,
          "ignored by `list`, `load_head` and the method lookup",
          "tests/test_interrupt.py::test_leftover_temp_dir_is_ignored"),
    Entry("concurrency", "two processes pulling the same heads into one cache and zoo at once",
          lambda: f"{len(_m('test_concurrency').WORKERS)} processes x {_m('test_concurrency').PULL_REPOS} repos",
          "both succeed; identical files, equal to the Hub's",
          "tests/test_concurrency.py::test_two_processes_pull_the_same_heads"),
    Entry("concurrency", "two processes saving different heads to the same zoo entries at once",
          lambda: f"{len(_m('test_concurrency').WORKERS)} processes x {_m('test_concurrency').ENTRIES} entries, "
                  "with and without overwrite",
          "without overwrite one wins and the other gets `HeadExistsError`; with it, the last wins; "
          "each entry is one head's files, never a mix",
          "tests/test_concurrency.py::test_two_processes_save_the_same_entries"),
    Entry("security", "pull, load_head, show, finetune --head with pickle.load / pickle.loads / torch.load "
          "replaced by a trap", _cases("test_security", "UNPICKLE_PATHS", "paths"), "never called",
          "tests/test_security.py::test_nothing_is_unpickled"),
    Entry("security", "headzoo's own source, read as Python syntax trees", _one,
          "no `pickle`, `torch.load`, `torch.save` or `np.load` call; `trust_remote_code` only ever set to False",
          "tests/test_security.py::test_headzoo_source_never_pickles"),
    Entry("security", "a backbone folder with custom code (`auto_map`) and one with only pytorch_model.bin",
          _cases("test_security", "BACKBONE_FOLDERS", "folders"),
          "`BackboneError` saying why; the custom code never runs",
          "tests/test_security.py::test_backbones_never_run_code_or_unpickle"),
    Entry("security", "random task, method, backbone, repo id and revision strings (`..`, `/`, `~user`, NUL, "
          "long names)", _examples(FUZZ_NAME_EXAMPLES),
          "`InvalidNameError` / `BackboneError`, or a path inside the zoo / cache",
          "tests/test_fuzz.py::test_names_never_escape_the_zoo"),
    Entry("security", "a Hub token through push (argument and HF_TOKEN), a refused push, debug logging, "
          "a compare run", _cases("test_security", "TOKEN_PLACES", "places"),
          "the token is in no log, card, config, error message, results.json or runs.jsonl",
          "tests/test_security.py::test_tokens_never_leak"),
    Entry("security", "a Hub that serves other bytes than its file list announces",
          _cases("test_security", "TAMPERED", "kinds"),
          "`HubError` naming the file; the bad copy is evicted from the cache; nothing reaches the zoo",
          "tests/test_security.py::test_tampered_downloads_are_rejected"),
    Entry("security", "a download cut off mid-transfer, once and on every try", _cases("test_security", "CUTS"),
          "once: resumed, identical bytes; always: `HubError`, no partial file in the zoo",
          "tests/test_security.py::test_cut_downloads_resume_or_fail_cleanly"),
    Entry("security", "a pulled head whose config names a task `../../../../escaped`, a method `../../escaped`, "
          "a task `a/b`, a backbone `../../../../..`; revisions `../../refs`, `/etc`...",
          lambda: f"{len(_m('test_security').HOSTILE_CONFIGS)} heads, {len(_m('test_security').HOSTILE_REVISIONS)} "
                  "revisions",
          "`InvalidNameError` / `BackboneError`; nothing written outside the zoo",
          "tests/test_security.py::test_hostile_names_in_a_pulled_head"),
    Entry("security", "a corrupted blob in the local Hub cache, pulled offline", _one,
          "`HubError`; the copy is evicted", "tests/test_security.py::test_corrupt_cache_is_rejected_offline"),
    Entry("CLI", "every command (show, list, push, pull, search, tasks, predict, train, finetune, suggest, compare, "
          "demo) with bad arguments", _cases("test_cli_errors", "BAD_COMMANDS", "command lines"),
          "one `error:` line saying what is wrong and how to fix it, non-zero exit, no traceback",
          "tests/test_cli_errors.py::test_bad_arguments_one_line"),
    Entry("predict", "embeddings of the wrong width, of int / bool / object / complex dtype, ragged lists, NaN or "
          "inf rows (numpy and torch), an empty batch, 1-D and 3-D arrays", _cases("test_predict", "BAD_EMBEDDINGS"),
          "one-line `DataError` / `BackboneMismatchError` (the width error names the head's width and backbone, the "
          "NaN error the row); the head unchanged, nothing written",
          "tests/test_predict.py::test_bad_embeddings_are_one_line_errors"),
    Entry("predict", "texts and embeddings both or neither, no texts, a blank or non-string text, a batch or chunk "
          "size below 1, a `backbone=` other than the head's", _cases("test_predict", "BAD_CALLS"),
          "one-line `ConfigError` / `DataError` / `BackboneMismatchError`; nothing written",
          "tests/test_predict.py::test_bad_calls_are_one_line_errors"),
    Entry("predict", "heads of two backbones in one call; a sequence-classification head given embeddings", _one,
          "`BackboneMismatchError` naming both heads and backbones; `HeadKindError` saying to pass texts",
          "tests/test_predict.py::test_heads_of_two_backbones_are_refused"),
    Entry("predict", "`headzoo predict --file` with no file, an empty file, no rows, a missing or empty text column, "
          "more rows than `--max-rows`, a file over `--max-file-mb`, an unknown output suffix, a missing output "
          "folder, both --text and --file", _cases("test_predict", "CLI_REFUSED", "command lines"),
          "one `error:` line naming the option that fixes it, exit status 1; no output file, no temp file",
          "tests/test_predict.py::test_cli_refusals_are_one_line_and_write_nothing"),
    Entry("sentence embedding", "a checkpoint's declaration damaged: modules.json not JSON or not a list, no Pooling "
          "module, 1_Pooling/config.json missing, not JSON, not an object, an unknown or no pooling mode, a "
          "Dense module after pooling, a negative max_seq_length", _cases("test_pooling", "DAMAGED_DECLARATIONS"),
          "one-line `PoolingConfigError` quoting the bad value; the checkpoint's files unchanged",
          "tests/test_pooling.py::test_a_damaged_declaration_is_a_typed_one_line_error"),
    Entry("sentence embedding", "a head of one kind (sentence-embedding / sequence-classification) loaded into a "
          "model of the other, or asked for as the other", _one,
          "one-line `HeadKindError` naming both kinds and the fix; the model's weights unchanged",
          "tests/test_sentence_train.py::test_heads_of_one_kind_refuse_the_other"),
    Entry("sentence embedding", "a sentence head whose recorded pooling disagrees with the checkpoint's declaration",
          _one, "one-line `HeadKindError` naming both poolings; nothing applied",
          "tests/test_sentence_train.py::test_a_pooling_that_disagrees_with_the_heads_record_is_refused"),
    Entry("shipped zoo", "a damaged shipped head (truncated or missing head.safetensors, head_config.json not JSON "
          "or missing, a NaN tensor) where another shipped method still serves",
          _cases("test_shipped_zoo", "DAMAGES"),
          "the other head loads; one warning names the damaged file and says to reinstall headzoo; nothing written",
          "tests/test_shipped_zoo.py::test_a_damaged_shipped_head_is_skipped_when_another_serves"),
    Entry("shipped zoo", "the same damages to the only head that can serve (method given, nothing on the Hub)",
          _cases("test_shipped_zoo", "DAMAGES"),
          "one `HeadFormatError` line naming the file, the reinstall and `headzoo train`; CLI: one `error:` line",
          "tests/test_shipped_zoo.py::test_a_damaged_shipped_head_that_is_the_only_one_is_a_one_line_error"),
    Entry("shipped zoo", "the shipped zoo's folder missing (package data dropped)", _one,
          "`HeadNotFoundError` naming the missing folder and the reinstall; CLI: one `error:` line",
          "tests/test_shipped_zoo.py::test_a_missing_shipped_zoo_is_named_with_the_fix"),
    Entry("shipped zoo", "zoo files saved under different umasks", _cases("test_shipped_zoo", "UMASKS", "umasks"),
          "files and folder get the umask's modes (0644 / 0755 under 022), as in the Hugging Face cache",
          "tests/test_shipped_zoo.py::test_zoo_files_and_folders_follow_the_umask"),
]


def render() -> str:
    """The Markdown table (with the markers) for docs/reliability.md."""
    lines = [
        START,
        "| area | what was tried | how much | what must happen | test |",
        "|---|---|---|---|---|",
    ]
    for e in ENTRIES:
        lines.append(f"| {e.area} | {e.tried} | {e.count()} | {e.expected} | `{e.test}` |")
    lines.append(END)
    return "\n".join(lines)


def table_section(text: str) -> str | None:
    """The part of ``text`` between the markers (markers included), or None."""
    if START not in text or END not in text:
        return None
    return text[text.index(START): text.index(END) + len(END)]


def write(path: Path = TARGET) -> bool:
    """Replace the table section of ``path`` with :func:`render`; return whether the file changed."""
    text = path.read_text(encoding="utf-8")
    section = table_section(text)
    if section is None:
        raise SystemExit(f"{path} has no {START} ... {END} markers: add them where the table goes")
    new = text.replace(section, render())
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/reliability.md in place")
    args = parser.parse_args(argv)
    if args.write:
        name = TARGET.relative_to(TARGET.parents[1])
        print(f"{name} updated" if write() else f"{name} already up to date")
    else:
        print(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
