"""Fuzzing with hypothesis: configs, label maps, safetensors files and names.

Every input either works or raises a :class:`headzoo.HeadzooError` subclass;
no other exception escapes, and a refused head leaves the model's parameters
exactly as they were. The example counts come from ``tests/reliability.py``
(they are in the README's Reliability table); runs are derandomized so every
run tries the same examples.
"""

from __future__ import annotations

import copy
import json
import math
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import headzoo
from headzoo import (
    BackboneError,
    Head,
    HeadConfig,
    HeadFormatError,
    HeadMismatchError,
    HeadzooError,
    InvalidNameError,
    LabelMismatchError,
    load_head,
    read_head,
)
from headzoo.cards import render_card
from headzoo.files import HEAD_FILE
from headzoo.head_config import CONFIG_FILE, parse_config_json, read_config
from headzoo.naming import validate_repo_id, validate_revision

from . import reliability as R
from .conftest import logits, tiny_bert


def fuzz(n: int) -> settings:
    return settings(max_examples=n, deadline=None, derandomize=True, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


LABELS = {0: "contradiction", 1: "entailment", 2: "neutral"}


class Fixture:
    """One tiny model, its head on disk, and the bytes of a valid head (built once per module)."""

    def __init__(self) -> None:
        self.model = tiny_bert(seed=0, id2label=LABELS, label2id={v: k for k, v in LABELS.items()})
        trained = tiny_bert(seed=0, id2label=LABELS, label2id={v: k for k, v in LABELS.items()})
        with torch.no_grad():
            torch.manual_seed(3)
            trained.classifier.weight.normal_()
        self.trained_logits = logits(trained)
        self.head = Head.from_model(trained, task="toy", backbone="tiny", method="lora")
        self.tmp = Path(tempfile.mkdtemp(prefix="headzoo-fuzz-"))
        self.dir = self.head.save(self.tmp / "head")
        self.weights = (self.dir / HEAD_FILE).read_bytes()
        self.config_text = (self.dir / CONFIG_FILE).read_text()
        self.config = json.loads(self.config_text)
        self.state = {k: v.clone() for k, v in self.model.state_dict().items()}
        self.labels = (dict(self.model.config.id2label), dict(self.model.config.label2id))

    def restore(self) -> None:
        """Put the head files and the model back as they were."""
        (self.dir / HEAD_FILE).write_bytes(self.weights)
        (self.dir / CONFIG_FILE).write_text(self.config_text)
        with torch.no_grad():
            for k, v in self.model.state_dict().items():
                v.copy_(self.state[k])
        self.model.config.id2label, self.model.config.label2id = (dict(x) for x in self.labels)
        self.model.config.problem_type = None

    def unchanged(self) -> bool:
        return all(torch.equal(self.state[k], v) for k, v in self.model.state_dict().items())


@pytest.fixture(scope="module")
def fx() -> Fixture:
    return Fixture()


def _load_or_refuse(fx: Fixture) -> Head | None:
    """load_head(dir, model=...) and read_head(dir): both succeed, or both refuse with a HeadzooError
    and the model is untouched."""
    try:
        read_head(fx.dir)
        read_ok = True
    except HeadzooError:
        read_ok = False
    try:
        load_head(fx.dir, model=fx.model)
    except HeadzooError:
        assert fx.unchanged(), "a refused head changed the model"
        return None
    assert read_ok, "read_head refused what load_head accepted"
    return Head.load(fx.dir)


# --------------------------------------------------------------------------- head_config.json

JSON_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20) | st.sampled_from([10**30, -(10**30), 2**63, -1, 0, 1e300, -1e-300, "", "1", "0"])
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


PLAUSIBLE = {
    "format_version": 1, "task": "rte", "backbone": "org/model", "model_type": "bert",
    "architecture": "BertForSequenceClassification", "num_labels": 2, "id2label": {"0": "no", "1": "yes"},
    "tensors": {"classifier.weight": [2, 4], "classifier.bias": [2]}, "hidden_size": 4,
    "problem_type": "single_label_classification", "label2id": {"no": 0, "yes": 1}, "metrics": {"accuracy": 0.5},
}
#: objects with headzoo's field names whose values are mostly plausible, so some configs are valid
_REQUIRED = ("format_version", "task", "backbone", "model_type", "architecture", "num_labels", "id2label", "tensors")


def _mostly(value: Any) -> st.SearchStrategy[Any]:
    """``value`` about 5 times in 6, else random JSON."""
    return st.integers(0, 5).flatmap(lambda i: JSON_VALUES if i == 0 else st.just(value))


NEAR_CONFIGS = st.fixed_dictionaries(
    {k: _mostly(v) for k, v in PLAUSIBLE.items() if k in _REQUIRED},
    optional={k: _mostly(v) for k, v in PLAUSIBLE.items() if k not in _REQUIRED},
)


@fuzz(R.FUZZ_CONFIG_EXAMPLES)
@given(value=JSON_VALUES | NEAR_CONFIGS)
def test_random_json_is_a_config_or_a_headformaterror(value: Any) -> None:
    text = json.dumps(value)
    try:
        config = HeadConfig.from_dict(parse_config_json(text))
    except HeadFormatError as exc:
        assert str(exc)
        event("refused")
        return
    event("accepted")
    again = HeadConfig.from_dict(parse_config_json(config.to_json()))
    assert again == config


FIELDS = [f for f in HeadConfig.__dataclass_fields__ if f != "extra"]


@fuzz(R.FUZZ_CONFIG_MUTATION_EXAMPLES)
@given(
    replace=st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=2),
    drop=st.sets(st.sampled_from(FIELDS), max_size=2),
    unknown=st.dictionaries(st.text(min_size=1, max_size=10).filter(lambda k: k not in FIELDS and k != "label2id"),
                            JSON_VALUES, max_size=3),
)
def test_mutated_config_is_refused_cleanly_or_kept(fx: Fixture, replace: dict[str, Any], drop: set[str],
                                                   unknown: dict[str, Any]) -> None:
    data = copy.deepcopy(fx.config)
    data.update(replace)
    for name in drop:
        data.pop(name, None)
    data.update(unknown)  # fields a newer headzoo might write
    try:
        (fx.dir / CONFIG_FILE).write_text(json.dumps(data))
        head = _load_or_refuse(fx)
        event("refused" if head is None else "applied")
        if head is not None:
            written = head.config.to_dict()
            assert all(written[k] == v for k, v in unknown.items())  # unknown keys kept for a re-save
            assert HeadConfig.from_dict(parse_config_json(head.config.to_json())) == head.config
            assert render_card(head.config, repo_id="alice/x").startswith("---\n")  # what push would upload
    finally:
        fx.restore()


HOSTILE_CONFIG_TEXTS = [
    ("nan", b'{"format_version": 1, "x": NaN}'),
    ("infinity", b'{"format_version": 1, "x": -Infinity}'),
    ("overflowing float", b'{"format_version": 1, "metrics": {"accuracy": 1e999}}'),
    ("5000-digit integer", b'{"format_version": 1, "num_labels": ' + b"9" * 5000 + b"}"),
    ("deep nesting", b'{"format_version": 1, "training": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    ("not utf-8", b'{"format_version": 1, "task": "\xff\xfe"}'),
    ("17 MiB", b'{"format_version": 1, "pad": "' + b"x" * (17 * 2**20) + b'"}'),
    ("empty", b""),
    ("html", b"<!doctype html><html><body>Sign in to continue</body></html>"),
    ("format from the future", b'{"format_version": 2, "task": "x"}'),
]


@pytest.mark.parametrize(("name", "raw"), HOSTILE_CONFIG_TEXTS, ids=[n for n, _ in HOSTILE_CONFIG_TEXTS])
def test_hostile_config_text(fx: Fixture, name: str, raw: bytes) -> None:
    try:
        (fx.dir / CONFIG_FILE).write_bytes(raw)
        with pytest.raises(HeadFormatError) as info:
            read_config(fx.dir)
        assert "\n" not in str(info.value) and len(str(info.value)) < 1000  # one readable line
        assert _load_or_refuse(fx) is None
    finally:
        fx.restore()


# --------------------------------------------------------------------------- label maps

LABEL_KEYS = st.integers(-2, 7).map(str) | st.integers(0, 5) | st.sampled_from([" 1", "01", "1.0", "x", "", "1_0",
                                                                                 "\u0661", "+1", "-0"])
LABEL_NAMES = st.sampled_from(["a", "b", "c", "d", "", "A"]) | st.text(max_size=3) | st.integers(0, 3)


def _expected_valid(id2label: dict[Any, Any], label2id: Any, num_labels: int) -> bool:
    """The rule, written independently: keys are exactly the indices 0..n-1 (as canonical decimal strings
    or ints), the names are distinct non-empty strings, and label2id (if given) is the exact inverse."""
    ids = []
    for key in id2label:
        if isinstance(key, int):
            ids.append(key)
        elif isinstance(key, str) and key.isascii() and key.isdigit() and (key == "0" or not key.startswith("0")):
            ids.append(int(key))
        else:
            return False
    if sorted(ids) != list(range(num_labels)):
        return False
    names = list(id2label.values())
    if not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
        return False
    if label2id is None:
        return True
    inverse = {name: idx for idx, name in zip(ids, names, strict=True)}
    return isinstance(label2id, dict) and label2id == inverse and not any(isinstance(v, bool)
                                                                           for v in label2id.values())


@fuzz(R.FUZZ_LABEL_MAP_EXAMPLES)
@given(
    num_labels=st.integers(1, 4),
    id2label=st.dictionaries(LABEL_KEYS, LABEL_NAMES, max_size=5),
    label2id=st.none() | st.dictionaries(LABEL_NAMES.map(str), st.integers(-1, 4), max_size=5) | st.just("inverse"),
    permute=st.booleans(),
)
def test_label_maps(fx: Fixture, num_labels: int, id2label: dict[Any, Any], label2id: Any, permute: bool) -> None:
    if permute:  # a well-formed map, so valid cases are common too
        id2label = {str(i): name for i, name in enumerate(["b", "a", "c", "d"][:num_labels])}
    if label2id == "inverse":
        label2id = {v: int(k) for k, v in id2label.items() if isinstance(k, (int, str)) and str(k).isdigit()}
    data = copy.deepcopy(fx.config)
    data.update(num_labels=num_labels, id2label=id2label)
    if label2id is not None:
        data["label2id"] = label2id
    try:
        config = HeadConfig.from_dict(parse_config_json(json.dumps(data)))
    except HeadFormatError:
        valid = False
    else:
        valid = True
        assert config.labels == [config.id2label[i] for i in range(num_labels)]
    event("valid" if valid else "refused")
    json_keys = {str(k): v for k, v in id2label.items()}  # JSON object keys are strings
    assert valid == _expected_valid(json_keys, label2id, num_labels), (id2label, label2id)


MODEL_LABELS = st.one_of(
    st.permutations(list(LABELS.values())).map(lambda names: {i: n for i, n in enumerate(names)}),
    st.dictionaries(st.integers(0, 4) | st.sampled_from(["0", "1", "x"]),
                    st.sampled_from([*LABELS.values(), "other", "LABEL_0"]), min_size=1, max_size=4),
    st.just({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}),
)


def generic_names(names: dict[int, str]) -> bool:
    return all(name == f"LABEL_{i}" for i, name in names.items())


@fuzz(R.FUZZ_MODEL_LABEL_EXAMPLES)
@given(id2label=MODEL_LABELS, label2id_kind=st.sampled_from(["inverse", "generic", "shuffled", "missing"]))
def test_apply_to_models_with_random_label_maps(fx: Fixture, id2label: dict[Any, str], label2id_kind: str) -> None:
    inverse = {v: int(k) if str(k).isdigit() else k for k, v in id2label.items()}
    label2id = {
        "inverse": inverse,
        "generic": {f"LABEL_{i}": i for i in range(len(id2label))},
        "shuffled": {v: (k + 1) % 3 if isinstance(k, int) else k for k, v in id2label.items()},
        "missing": {},
    }[label2id_kind]
    try:
        init_logits = logits(fx.model)
        fx.model.config.id2label, fx.model.config.label2id = dict(id2label), dict(label2id)
        try:
            fx.head.apply(fx.model)
        except LabelMismatchError:
            assert fx.unchanged()
            ok = False
        else:
            ok = True
            out = logits(fx.model)
            names = {int(k): v for k, v in fx.model.config.id2label.items()}
            for i in range(3):  # each model output row is the head's row of the label the model calls it ...
                if names[i] in LABELS.values() or generic_names(names):
                    j = list(LABELS.values()).index(names[i]) if names[i] in LABELS.values() else i
                    torch.testing.assert_close(out[:, i], fx.trained_logits[:, j])
                else:  # ... or, for a label the head lacks (a partial overlap), keeps the model's own row
                    torch.testing.assert_close(out[:, i], init_logits[:, i])
        ints = {k for k in id2label if isinstance(k, int) or (isinstance(k, str) and k.isdigit())}
        well_formed = (sorted(int(k) for k in ints) == [0, 1, 2] and len(id2label) == 3
                       and len(set(id2label.values())) == 3)
        generic = well_formed and all(name == f"LABEL_{int(k)}" for k, name in id2label.items())
        agrees = label2id_kind in ("inverse", "generic", "missing") or label2id == inverse
        # Since issue 17 labels only need to overlap (the others keep the model's rows); no overlap is refused.
        expected = well_formed and agrees and (bool(set(id2label.values()) & set(LABELS.values())) or generic)
        assert ok == expected, (id2label, label2id)
        event("applied" if ok else "refused")
    finally:
        fx.restore()


# --------------------------------------------------------------------------- safetensors


@fuzz(R.FUZZ_SAFETENSORS_BYTES_EXAMPLES)
@given(
    kind=st.sampled_from(["random", "truncated", "flipped"]),
    junk=st.binary(max_size=600),
    cut=st.integers(0, 10_000),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), min_size=1, max_size=6),
)
def test_damaged_safetensors(fx: Fixture, kind: str, junk: bytes, cut: int, flips: list[tuple[int, int]]) -> None:
    raw = bytearray(fx.weights)
    if kind == "random":
        raw = bytearray(junk)
    elif kind == "truncated":
        raw = raw[: cut % len(raw)]
    else:
        for pos, mask in flips:
            raw[pos % len(raw)] ^= mask
    try:
        (fx.dir / HEAD_FILE).write_bytes(bytes(raw))
        head = _load_or_refuse(fx)
        event(f"{kind}: {'refused' if head is None else 'applied'}")
        if kind != "flipped":
            assert head is None, "random or truncated bytes were accepted as a head"
        elif head is not None:
            assert all(bool(torch.isfinite(t).all()) for t in head.tensors.values())
    finally:
        fx.restore()


SAFETENSORS_DTYPES = ["F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2", "F4", "C64", "I64", "I32", "I16", "I8",
                      "U64", "U32", "U16", "U8", "BOOL", "E8M0", "XX", 7, None]
DTYPE_SIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1, "C64": 8, "I64": 8, "I32": 4,
              "I16": 2, "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1}


@st.composite
def safetensors_files(draw: Any, names: list[str], shapes: dict[str, list[int]]) -> bytes:
    """A safetensors file whose header is random but often plausible."""
    header: dict[str, Any] = {}
    plausible = draw(st.booleans())  # the head's own names and shapes, consistent offsets: only dtype/values vary
    if plausible:
        chosen = list(names)
    else:
        chosen = draw(st.lists(st.sampled_from([*names, "classifier.extra", "__metadata__"]), max_size=4,
                               unique=True))
    offset = 0
    for name in chosen:
        if name == "__metadata__":
            header[name] = draw(st.dictionaries(st.text(max_size=5), st.text(max_size=5) | st.integers(), max_size=2))
            continue
        dtype = draw(st.sampled_from(["F32", "F16", "F64", "I8", "BF16"] if plausible else SAFETENSORS_DTYPES))
        shape = shapes[name] if plausible or (name in shapes and draw(st.booleans())) else draw(
            st.lists(st.integers(0, 40), max_size=3))
        n = math.prod(shape) * DTYPE_SIZE.get(dtype, 4) if isinstance(dtype, str) else 4
        if not plausible and draw(st.integers(0, 4)) == 0:  # offsets that lie: past the end, reversed, wrong length
            offsets = [draw(st.integers(-5, 10**12)), draw(st.integers(-5, 10**12))]
        else:
            offsets = [offset, offset + n]
        offset = max([offset, *(o for o in offsets if 0 <= o < 10**6)])
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": offsets}
    blob = json.dumps(header).encode()
    body = bytearray(draw(st.sampled_from([offset] if plausible else [offset, max(0, offset - 7), offset + 3])))
    fill = draw(st.sampled_from(["zeros", "random", float("nan"), float("inf"), -float("inf"), 1.5, 3e38]))
    if fill == "random":
        body[:] = draw(st.binary(min_size=len(body), max_size=len(body)))
    elif fill != "zeros" and body:  # NaN / Inf / finite values, as float32 bit patterns
        pattern = struct.pack("<f", fill)
        body[:] = (pattern * (len(body) // 4 + 1))[: len(body)]
    claimed = len(blob) + (0 if plausible else draw(st.sampled_from([0, 0, 0, 1, 10**6, -1])))
    return struct.pack("<Q", max(0, claimed)) + blob + bytes(body)


@fuzz(R.FUZZ_SAFETENSORS_HEADER_EXAMPLES)
@given(data=st.data())
def test_random_safetensors_headers(fx: Fixture, data: st.DataObject) -> None:
    raw = data.draw(safetensors_files(sorted(fx.head.tensors), fx.head.config.tensors))
    try:
        (fx.dir / HEAD_FILE).write_bytes(raw)
        head = _load_or_refuse(fx)
        event("refused" if head is None else "applied")
        if head is not None:
            assert sorted(head.tensors) == sorted(fx.head.tensors)
            assert all(bool(torch.isfinite(t.float()).all()) for t in head.tensors.values())
    finally:
        fx.restore()


def test_the_valid_head_still_loads(fx: Fixture) -> None:
    """The fixture's own head is accepted, so the refusals above are about the damage."""
    assert _load_or_refuse(fx) is not None
    torch.testing.assert_close(logits(fx.model), fx.trained_logits)
    fx.restore()


# --------------------------------------------------------------------------- names

NAME_TEXT = (
    st.lists(st.sampled_from([*"abAZ09-_.~/\\ \x00é:", "..", "--", "~root", "%2e"]), max_size=30).map("".join)
    | st.text(max_size=30)
    | st.sampled_from(["..", ".", "../x", "a/../../b", "/etc/passwd", "~", "~nobody/x", "a" * 300, "x" * 97,
                       "rte\x00", "CON", "a--b", "-a", ".hidden", "refs/pr/1", "a/b/", "a//b", "a/.."])
)


@fuzz(R.FUZZ_NAME_EXAMPLES)
@given(task=NAME_TEXT, method=NAME_TEXT, backbone=NAME_TEXT, repo=NAME_TEXT, revision=NAME_TEXT)
def test_names_never_escape_the_zoo(zoo_dir: Path, tmp_path: Path, task: str, method: str, backbone: str,
                                    repo: str, revision: str) -> None:
    home = headzoo.zoo_home().resolve()
    for args in ((task, "org/tiny", method), ("toy", backbone, "lora")):
        try:
            path = headzoo.zoo_path(*args)
        except (InvalidNameError, BackboneError):
            continue
        assert home / "heads" in path.resolve().parents, (args, path)
        assert len(path.relative_to(home / "heads").parts) == 3, (args, path)
    try:
        headzoo.list_heads(task=task or None, method=method or None)
    except InvalidNameError:
        pass
    with pytest.raises(HeadzooError):  # the zoo is empty: never found, and never another exception
        headzoo.loading.resolve_head(task)
    cache = tmp_path / "hub-cache"
    try:
        repo_id = validate_repo_id(repo)
    except InvalidNameError:
        pass
    else:
        folder = (cache / f"models--{repo_id.replace('/', '--')}").resolve()
        assert folder.parent == cache.resolve(), repo_id
    try:
        rev = validate_revision(revision)
    except InvalidNameError:
        pass
    else:
        refs = (cache / "models--a--b" / "refs").resolve()
        assert refs in (refs / rev).resolve().parents, rev
        assert not os.path.isabs(rev)


def test_every_refusal_is_a_headzoo_error_subclass() -> None:
    """The fuzz tests accept only these; they must all be HeadzooError (and a built-in)."""
    for error in (HeadFormatError, HeadMismatchError, LabelMismatchError, InvalidNameError, BackboneError):
        assert issubclass(error, HeadzooError) and issubclass(error, ValueError)
