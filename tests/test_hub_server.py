"""Tests of the fake Hub (`tests/hubserver.py`), driven through the real `huggingface_hub` client.

Every call passes `endpoint=hub.url` explicitly, so these tests do not depend on `HF_ENDPOINT` being set
before `huggingface_hub` was imported.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import (
    CommitOperationAdd,
    HfApi,
    ModelCard,
    constants,
    hf_hub_download,
    snapshot_download,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from .hubserver import HubServer

ALICE_TOKEN = "hf_alice_token"
BOB_TOKEN = "hf_bob_token"

README = """\
---
license: mit
library_name: headzoo
tags:
- text-classification-head
- demo
pipeline_tag: text-classification
---

# A head

Trained with PET.
"""


@pytest.fixture(scope="module")
def hub() -> Iterator[HubServer]:
    """A fake Hub with users alice and bob, shared by the tests of this module."""
    server = HubServer()
    server.add_user("alice", ALICE_TOKEN)
    server.add_user("bob", BOB_TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _isolated_hf(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ambient token and a per-test default cache, whatever the developer's machine has."""
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "default-cache"))


@pytest.fixture
def alice(hub: HubServer) -> HfApi:
    return HfApi(endpoint=hub.url, token=ALICE_TOKEN)


@pytest.fixture
def bob(hub: HubServer) -> HfApi:
    return HfApi(endpoint=hub.url, token=BOB_TOKEN)


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def _name(prefix: str = "repo") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def repo_id(alice: HfApi) -> str:
    """A fresh, empty public model repo owned by alice."""
    rid = f"alice/{_name()}"
    alice.create_repo(rid)
    return rid


def _status(err: pytest.ExceptionInfo[HfHubHTTPError]) -> int:
    return err.value.response.status_code


# --------------------------------------------------------------------------- account & repos


def test_whoami_ok_and_401_for_wrong_token(hub: HubServer, alice: HfApi) -> None:
    me = alice.whoami()
    assert me["name"] == "alice"
    assert me["auth"]["accessToken"]["role"] == "write"

    with pytest.raises(HfHubHTTPError) as err:
        HfApi(endpoint=hub.url, token="hf_not_a_token").whoami()
    assert _status(err) == 401
    assert hub.requests[-1].path == "/api/whoami-v2"
    assert hub.requests[-1].status == 401


def test_create_and_delete_repo(hub: HubServer, alice: HfApi) -> None:
    rid = f"alice/{_name()}"
    url = alice.create_repo(rid)
    assert url.repo_id == rid
    assert alice.repo_exists(rid)
    assert alice.list_repo_files(rid) == [".gitattributes"]  # like the Hub, a new repo has one commit

    with pytest.raises(HfHubHTTPError) as err:
        alice.create_repo(rid)
    assert _status(err) == 409
    assert alice.create_repo(rid, exist_ok=True).repo_id == rid

    alice.delete_repo(rid)
    assert not alice.repo_exists(rid)
    assert not hub.repo_exists(rid)
    with pytest.raises(RepositoryNotFoundError):
        alice.delete_repo(rid)
    alice.delete_repo(rid, missing_ok=True)


def test_writes_need_a_valid_token_with_rights(hub: HubServer, alice: HfApi, bob: HfApi, repo_id: str) -> None:
    for api in (HfApi(endpoint=hub.url, token=False), HfApi(endpoint=hub.url, token="hf_wrong")):
        with pytest.raises(HfHubHTTPError) as err:
            api.create_repo(f"alice/{_name()}")
        assert _status(err) == 401
        with pytest.raises(HfHubHTTPError) as err:
            api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id)
        assert _status(err) == 401

    with pytest.raises(HfHubHTTPError) as err:
        bob.create_repo(f"alice/{_name()}")  # not bob's namespace
    assert _status(err) == 403
    with pytest.raises(HfHubHTTPError) as err:
        bob.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id)
    assert _status(err) == 403
    assert hub.commit_count(repo_id) == 0
    assert hub.list_files(repo_id) == [".gitattributes"]


# --------------------------------------------------------------------------- upload & metadata


def test_upload_folder_sets_card_data_tags_and_siblings(
    hub: HubServer, alice: HfApi, repo_id: str, tmp_path: Path
) -> None:
    folder = tmp_path / "head"
    (folder / "sub").mkdir(parents=True)
    (folder / "README.md").write_text(README)
    (folder / "config.json").write_text(json.dumps({"num_labels": 3}))
    weights = os.urandom(4096)
    (folder / "sub" / "weights.bin").write_bytes(weights)

    commit = alice.upload_folder(folder_path=folder, repo_id=repo_id, commit_message="Add head")
    assert hub.commit_count(repo_id) == 1
    assert hub.read_file(repo_id, "sub/weights.bin") == weights

    info = alice.model_info(repo_id, files_metadata=True)
    assert info.sha == commit.oid == hub.head(repo_id)
    assert info.card_data is not None
    assert info.card_data.license == "mit"
    assert info.card_data.tags == ["text-classification-head", "demo"]
    assert info.library_name == "headzoo"
    assert info.pipeline_tag == "text-classification"
    assert {"headzoo", "demo", "text-classification-head", "license:mit"} <= set(info.tags or [])
    sizes = {s.rfilename: s.size for s in info.siblings or []}
    assert sizes == {
        ".gitattributes": len(hub.read_file(repo_id, ".gitattributes")),
        "README.md": len(README.encode()),
        "config.json": len(json.dumps({"num_labels": 3})),
        "sub/weights.bin": 4096,
    }

    commits = alice.list_repo_commits(repo_id)
    assert [c.title for c in commits] == ["Add head", "initial commit"]
    assert commits[0].commit_id == commit.oid
    assert commits[0].authors == ["alice"]

    # Uploading the same folder again is a no-op: preupload reports the remote oids, the client skips.
    again = alice.upload_folder(folder_path=folder, repo_id=repo_id)
    assert again.oid == commit.oid
    assert hub.commit_count(repo_id) == 1


def test_upload_folder_call_sequence(hub: HubServer, alice: HfApi, repo_id: str, tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(README)
    hub.clear_requests()
    alice.upload_folder(folder_path=tmp_path, repo_id=repo_id)
    calls = [(r.method, r.path) for r in hub.requests]
    assert calls == [
        ("POST", "/api/validate-yaml"),
        ("POST", f"/api/models/{repo_id}/preupload/main"),
        ("POST", f"/api/models/{repo_id}/commit/main"),
    ]
    assert hub.requests[-1].headers["Content-Type"] == "application/x-ndjson"


def test_invalid_card_yaml_is_rejected_before_commit(hub: HubServer, alice: HfApi, repo_id: str) -> None:
    with pytest.raises(ValueError, match="Invalid metadata"):
        alice.upload_file(
            path_or_fileobj=b"---\ntags: [unclosed\n---\nbody\n", path_in_repo="README.md", repo_id=repo_id
        )
    assert hub.commit_count(repo_id) == 0


def test_model_card_load_round_trip(
    hub: HubServer, alice: HfApi, repo_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = ModelCard(README)
    alice.upload_file(path_or_fileobj=str(card).encode(), path_in_repo="README.md", repo_id=repo_id)

    # `ModelCard.load` has no `endpoint=`: point the client's module-level endpoint at the fake Hub.
    monkeypatch.setattr(constants, "ENDPOINT", hub.url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub.url + "/{repo_id}/resolve/{revision}/{filename}")
    loaded = ModelCard.load(repo_id)
    assert str(loaded) == str(card)
    assert loaded.data.license == "mit"
    assert loaded.data.library_name == "headzoo"
    assert "Trained with PET." in loaded.text


def test_delete_file_and_folder(alice: HfApi, hub: HubServer, repo_id: str) -> None:
    alice.create_commit(
        repo_id,
        [CommitOperationAdd(p, p.encode()) for p in ("keep.txt", "gone.txt", "dir/a.txt", "dir/b/c.txt")],
        commit_message="files",
    )
    alice.delete_file("gone.txt", repo_id)
    alice.delete_folder("dir", repo_id)
    assert hub.list_files(repo_id) == [".gitattributes", "keep.txt"]
    with pytest.raises(EntryNotFoundError):
        alice.delete_file("gone.txt", repo_id)
    assert hub.commit_count(repo_id) == 3


def test_parent_commit_mismatch_is_refused(alice: HfApi, hub: HubServer, repo_id: str) -> None:
    old = hub.head(repo_id)
    alice.upload_file(path_or_fileobj=b"1", path_in_repo="a.txt", repo_id=repo_id)
    with pytest.raises(HfHubHTTPError) as err:
        alice.upload_file(path_or_fileobj=b"2", path_in_repo="a.txt", repo_id=repo_id, parent_commit=old)
    assert _status(err) == 412
    assert hub.read_file(repo_id, "a.txt") == b"1"


# --------------------------------------------------------------------------- downloads


def test_hf_hub_download_returns_identical_bytes(hub: HubServer, alice: HfApi, repo_id: str, cache_dir: Path) -> None:
    data = os.urandom(200_000)
    alice.upload_file(path_or_fileobj=data, path_in_repo="weights/model.bin", repo_id=repo_id)

    path = Path(hf_hub_download(repo_id, "weights/model.bin", endpoint=hub.url, cache_dir=cache_dir))
    assert path.read_bytes() == data
    sha = hub.head(repo_id)
    assert path == cache_dir / f"models--{repo_id.replace('/', '--')}" / "snapshots" / sha / "weights" / "model.bin"
    # The cache names the blob after the ETag, which this server sets to the content's sha256.
    assert path.resolve().name == hashlib.sha256(data).hexdigest()
    assert (cache_dir / f"models--{repo_id.replace('/', '--')}" / "refs" / "main").read_text() == sha


def test_download_errors_are_typed(hub: HubServer, repo_id: str, cache_dir: Path) -> None:
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repo_id, "missing.bin", endpoint=hub.url, cache_dir=cache_dir)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(f"alice/{_name('missing')}", "x.bin", endpoint=hub.url, cache_dir=cache_dir)
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(repo_id, ".gitattributes", revision="no-such-branch", endpoint=hub.url, cache_dir=cache_dir)


def test_branch_upload_and_download_by_revision(hub: HubServer, alice: HfApi, repo_id: str, cache_dir: Path) -> None:
    alice.upload_file(path_or_fileobj=b"main v1", path_in_repo="head.txt", repo_id=repo_id)
    alice.create_branch(repo_id, branch="dev")
    with pytest.raises(HfHubHTTPError) as err:
        alice.create_branch(repo_id, branch="dev")
    assert _status(err) == 409
    alice.create_branch(repo_id, branch="dev", exist_ok=True)

    alice.upload_file(path_or_fileobj=b"dev v2", path_in_repo="head.txt", repo_id=repo_id, revision="dev")
    alice.upload_file(path_or_fileobj=b"only dev", path_in_repo="extra.txt", repo_id=repo_id, revision="dev")

    def get(filename: str, revision: str) -> bytes:
        return Path(
            hf_hub_download(repo_id, filename, revision=revision, endpoint=hub.url, cache_dir=cache_dir)
        ).read_bytes()

    assert get("head.txt", "dev") == b"dev v2"
    assert get("extra.txt", "dev") == b"only dev"
    assert get("head.txt", "main") == b"main v1"
    with pytest.raises(EntryNotFoundError):
        get("extra.txt", "main")

    branches = {b.name: b.target_commit for b in alice.list_repo_refs(repo_id).branches}
    assert branches == {"main": hub.head(repo_id, "main"), "dev": hub.head(repo_id, "dev")}
    alice.delete_branch(repo_id, branch="dev")
    assert [b.name for b in alice.list_repo_refs(repo_id).branches] == ["main"]
    with pytest.raises(RevisionNotFoundError):
        alice.model_info(repo_id, revision="dev")


def test_create_tag_pins_a_commit(hub: HubServer, alice: HfApi, repo_id: str, cache_dir: Path) -> None:
    alice.upload_file(path_or_fileobj=b"v1", path_in_repo="w.txt", repo_id=repo_id)
    tagged = hub.head(repo_id)
    alice.create_tag(repo_id, tag="v1.0")
    with pytest.raises(HfHubHTTPError) as err:
        alice.create_tag(repo_id, tag="v1.0")
    assert _status(err) == 409
    alice.create_tag(repo_id, tag="v1.0", exist_ok=True)
    alice.upload_file(path_or_fileobj=b"v2", path_in_repo="w.txt", repo_id=repo_id)

    refs = alice.list_repo_refs(repo_id)
    assert [(t.name, t.ref, t.target_commit) for t in refs.tags] == [("v1.0", "refs/tags/v1.0", tagged)]
    assert alice.model_info(repo_id, revision="v1.0").sha == tagged
    path = hf_hub_download(repo_id, "w.txt", revision="v1.0", endpoint=hub.url, cache_dir=cache_dir)
    assert Path(path).read_bytes() == b"v1"
    path = hf_hub_download(repo_id, "w.txt", revision=tagged[:7], endpoint=hub.url, cache_dir=cache_dir)
    assert Path(path).read_bytes() == b"v1"


def test_snapshot_download_allow_patterns(hub: HubServer, alice: HfApi, repo_id: str, cache_dir: Path) -> None:
    files = {"a.json": b"{}", "b.json": b"[]", "weights/x.bin": b"\x00\x01", "README.md": README.encode()}
    alice.create_commit(repo_id, [CommitOperationAdd(p, c) for p, c in files.items()], commit_message="files")
    folder = Path(snapshot_download(repo_id, allow_patterns=["*.json"], endpoint=hub.url, cache_dir=cache_dir))
    got = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert got == ["a.json", "b.json"]
    assert (folder / "a.json").read_bytes() == b"{}"

    folder = Path(snapshot_download(repo_id, endpoint=hub.url, cache_dir=cache_dir))
    got = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert got == sorted([".gitattributes", *files])
    assert (folder / "weights" / "x.bin").read_bytes() == b"\x00\x01"


def test_offline_subprocess_reads_from_cache(hub: HubServer, alice: HfApi, repo_id: str, tmp_path: Path) -> None:
    data = os.urandom(1000)
    alice.upload_file(path_or_fileobj=data, path_in_repo="model.bin", repo_id=repo_id)
    hf_home = tmp_path / "hf_home"
    online = hf_hub_download(repo_id, "model.bin", endpoint=hub.url, cache_dir=hf_home / "hub")

    served_before = len(hub.requests)
    script = textwrap.dedent(
        f"""
        from huggingface_hub import HfApi, hf_hub_download
        from huggingface_hub.errors import OfflineModeIsEnabled
        print(hf_hub_download({repo_id!r}, "model.bin"))
        try:
            HfApi().model_info({repo_id!r})
        except OfflineModeIsEnabled:
            print("offline")
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(HF_HOME=str(hf_home), HF_HUB_OFFLINE="1", HF_ENDPOINT=hub.url)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split()
    assert lines == [online, "offline"]
    assert Path(lines[0]).read_bytes() == data
    assert len(hub.requests) == served_before  # nothing reached the server


def test_dataset_repo_round_trip(hub: HubServer, alice: HfApi, cache_dir: Path) -> None:
    rid = f"alice/{_name('ds')}"
    alice.create_repo(rid, repo_type="dataset")
    alice.upload_file(path_or_fileobj=b"a,b\n1,2\n", path_in_repo="data/train.csv", repo_id=rid, repo_type="dataset")
    assert hub.list_files(rid, repo_type="dataset") == [".gitattributes", "data/train.csv"]
    assert not hub.repo_exists(rid)  # a model repo of that name does not exist
    assert alice.dataset_info(rid).sha == hub.head(rid, repo_type="dataset")
    path = hf_hub_download(rid, "data/train.csv", repo_type="dataset", endpoint=hub.url, cache_dir=cache_dir)
    assert Path(path).read_bytes() == b"a,b\n1,2\n"
    assert Path(path).is_relative_to(cache_dir / f"datasets--{rid.replace('/', '--')}")
    assert [d.id for d in alice.list_datasets(search=rid.split("/")[1])] == [rid]
    assert list(alice.list_models(search=rid.split("/")[1])) == []


# --------------------------------------------------------------------------- listing & visibility


def test_list_models_search_author_and_tag_filters(hub: HubServer, alice: HfApi, bob: HfApi) -> None:
    word = _name("zoo")

    def make(api: HfApi, owner: str, tags: list[str]) -> str:
        rid = f"{owner}/{word}-{len(tags)}-{_name('m')}"
        api.create_repo(rid)
        card = "---\n" + "tags:\n" + "".join(f"- {t}\n" for t in tags) + "---\n"
        api.upload_file(path_or_fileobj=card.encode(), path_in_repo="README.md", repo_id=rid)
        return rid

    a = make(alice, "alice", ["headzoo", "text-cls"])
    b = make(alice, "alice", ["headzoo"])
    c = make(bob, "bob", ["headzoo", "text-cls"])

    def ids(**kwargs: object) -> set[str]:
        return {m.id for m in alice.list_models(search=word, **kwargs)}  # type: ignore[arg-type]

    assert ids() == {a, b, c}
    assert ids(author="alice") == {a, b}
    assert ids(filter=["headzoo", "text-cls"]) == {a, c}
    assert ids(filter="text-cls", author="alice") == {a}
    assert ids(filter=["headzoo", "nope"]) == set()
    assert {m.id for m in alice.list_models(search=_name("nothing"))} == set()
    assert len(list(alice.list_models(search=word, limit=2))) == 2

    (brief,) = alice.list_models(search=word, author="bob")
    assert brief.card_data is None and brief.siblings is None
    (full,) = alice.list_models(search=word, author="bob", full=True, cardData=True)
    assert full.card_data is not None and full.card_data.tags == ["headzoo", "text-cls"]
    assert {s.rfilename for s in full.siblings or []} == {".gitattributes", "README.md"}


def test_private_repo_is_invisible_to_others(hub: HubServer, alice: HfApi, bob: HfApi, cache_dir: Path) -> None:
    rid = f"alice/{_name('secret')}"
    alice.create_repo(rid, private=True)
    alice.upload_file(path_or_fileobj=b"secret", path_in_repo="s.txt", repo_id=rid)
    assert alice.model_info(rid).private is True
    assert [m.id for m in alice.list_models(search=rid.split("/")[1])] == [rid]

    with pytest.raises(RepositoryNotFoundError):
        bob.model_info(rid)
    with pytest.raises(RepositoryNotFoundError):
        bob.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=rid)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(rid, "s.txt", endpoint=hub.url, cache_dir=cache_dir)  # anonymous
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(rid, "s.txt", endpoint=hub.url, cache_dir=cache_dir, token=BOB_TOKEN)
    assert list(bob.list_models(search=rid.split("/")[1])) == []
    path = hf_hub_download(rid, "s.txt", endpoint=hub.url, cache_dir=cache_dir, token=ALICE_TOKEN)
    assert Path(path).read_bytes() == b"secret"

    alice.update_repo_settings(rid, private=False)
    assert bob.model_info(rid).private is False


def test_tree_and_paths_info(alice: HfApi, hub: HubServer, repo_id: str) -> None:
    alice.create_commit(
        repo_id,
        [CommitOperationAdd(p, p.encode()) for p in ("top.txt", "sub/a.txt", "sub/deep/b.txt")],
        commit_message="tree",
    )
    top = {e.path: type(e).__name__ for e in alice.list_repo_tree(repo_id)}
    assert top == {".gitattributes": "RepoFile", "top.txt": "RepoFile", "sub": "RepoFolder"}
    everything = {e.path for e in alice.list_repo_tree(repo_id, recursive=True)}
    assert everything == {".gitattributes", "top.txt", "sub", "sub/a.txt", "sub/deep", "sub/deep/b.txt"}
    assert {e.path for e in alice.list_repo_tree(repo_id, path_in_repo="sub")} == {"sub/a.txt", "sub/deep"}
    with pytest.raises(EntryNotFoundError):
        list(alice.list_repo_tree(repo_id, path_in_repo="nope"))

    (entry,) = [e for e in alice.list_repo_tree(repo_id, expand=True) if e.path == "top.txt"]
    assert entry.last_commit is not None and entry.last_commit.title == "tree"

    infos = alice.get_paths_info(repo_id, ["top.txt", "sub", "missing.txt"])
    assert [(type(i).__name__, i.path) for i in infos] == [("RepoFile", "top.txt"), ("RepoFolder", "sub")]
    assert infos[0].size == len(b"top.txt")
    assert alice.file_exists(repo_id, "sub/deep/b.txt")
    assert not alice.file_exists(repo_id, "sub/deep")


# --------------------------------------------------------------------------- protocol details & test hooks


def test_fail_next_injects_one_failure(hub: HubServer, alice: HfApi, repo_id: str) -> None:
    hub.fail_next(f"/api/models/{repo_id}", status=503, method="GET")
    with pytest.raises(HfHubHTTPError) as err:
        alice.model_info(repo_id)
    assert _status(err) == 503
    assert alice.model_info(repo_id).id == repo_id  # only the next request failed

    hub.fail_next(f"/api/models/{repo_id}", disconnect=True)
    with pytest.raises(httpx2.RemoteProtocolError):
        alice.model_info(repo_id)
    assert hub.requests[-1].status == 0

    hub.fail_next("/commit/", status=404, error_code="RepoNotFound", method="POST")
    with pytest.raises(RepositoryNotFoundError):
        alice.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id)
    assert hub.commit_count(repo_id) == 0
    alice.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id)
    assert hub.commit_count(repo_id) == 1


def test_truncated_download_resumes_with_range(
    hub: HubServer, alice: HfApi, repo_id: str, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The client resumes from what it has written, in DOWNLOAD_CHUNK_SIZE (10 MiB) steps: make steps small.
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 4096)
    data = os.urandom(50_000)
    alice.upload_file(path_or_fileobj=data, path_in_repo="big.bin", repo_id=repo_id)
    hub.truncate_next("/resolve/main/big.bin", keep_bytes=10_000)
    hub.clear_requests()
    path = hf_hub_download(repo_id, "big.bin", endpoint=hub.url, cache_dir=cache_dir)
    assert Path(path).read_bytes() == data
    gets = [r for r in hub.requests if r.method == "GET"]
    assert [(r.status, r.headers.get("Range")) for r in gets] == [(200, None), (206, "bytes=8192-")]


def test_raw_http_keepalive_range_and_errors(hub: HubServer, repo_id: str) -> None:
    hub.seed_repo(repo_id, {"digits.txt": b"0123456789"})
    conn = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=10)
    try:
        # An error answer must not leave the request body unread on a keep-alive connection.
        conn.request("POST", "/api/repos/create", body=b'{"name": "x"}' * 1000, headers={"Authorization": "Bearer bad"})
        resp = conn.getresponse()
        assert resp.status == 401 and json.loads(resp.read())["error"]
        for rng, status, body in (("bytes=2-4", 206, b"234"), ("bytes=7-", 206, b"789"), ("bytes=-2", 206, b"89")):
            conn.request("GET", f"/{repo_id}/resolve/main/digits.txt", headers={"Range": rng})
            resp = conn.getresponse()
            assert (resp.status, resp.read()) == (status, body)
        conn.request("GET", f"/{repo_id}/resolve/main/digits.txt", headers={"Range": "bytes=50-"})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 416 and resp.getheader("Content-Range") == "bytes */10"
        conn.request("HEAD", f"/{repo_id}/resolve/main/nope.txt")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 404
        assert resp.getheader("X-Error-Code") == "EntryNotFound"
        assert resp.getheader("X-Repo-Commit") == hub.head(repo_id)
    finally:
        conn.close()


def test_revision_with_slash_is_decoded(hub: HubServer, alice: HfApi, repo_id: str, cache_dir: Path) -> None:
    alice.create_branch(repo_id, branch="feature/x")
    alice.upload_file(path_or_fileobj=b"f", path_in_repo="f.txt", repo_id=repo_id, revision="feature/x")
    assert hub.requests[-1].target.endswith("/commit/feature%2Fx")
    assert alice.model_info(repo_id, revision="feature/x").sha == hub.head(repo_id, "feature/x")
    path = hf_hub_download(repo_id, "f.txt", revision="feature/x", endpoint=hub.url, cache_dir=cache_dir)
    assert Path(path).read_bytes() == b"f"
