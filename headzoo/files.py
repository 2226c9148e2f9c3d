"""A head folder on disk: reading it safely, and writing it so that no one ever sees half a head.

A head directory holds ``head.safetensors`` (the tensors, named as in the
model's state dict), ``head_config.json`` (:class:`~headzoo.head_config.HeadConfig`)
and ``README.md`` (the model card). Reading checks the safetensors header
before any tensor is read and refuses pickle files. Writing goes into a
temporary sibling directory that is swapped into place under a lock on the
parent directory, with Ctrl-C held back during the swap.

Nothing here reads or writes pickle.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .errors import HeadExistsError, HeadFormatError, UnsafeFileError
from .head_config import CONFIG_FILE, FORMAT_VERSION, HeadConfig, read_config

logger = logging.getLogger(__name__)

HEAD_FILE = "head.safetensors"
CARD_FILE = "README.md"
#: The files of a head, the only ones ever copied, uploaded or downloaded.
HEAD_FILES = (HEAD_FILE, CONFIG_FILE, CARD_FILE)
#: File suffixes that may hold pickled objects; never loaded.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".npy", ".npz")
#: safetensors dtypes a head may hold: real numbers numpy reads (headzoo itself writes F32).
HEAD_DTYPES = ("F64", "F32", "F16", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL")
_MAX_HEADER_BYTES = 100 * 2**20  # safetensors' own limit


def tensor_names_diff(where: str, expected: list[str], got: list[str]) -> str:
    """The message for head tensor names that differ from ``expected``: missing and unexpected names, sorted.

    Example:
        >>> tensor_names_diff("the model", ["a", "b"], ["b", "c"]).split(" (")[0]
        "head tensors do not match the model: missing ['a']; unexpected ['c']"
    """
    missing = sorted(set(expected) - set(got))
    unexpected = sorted(set(got) - set(expected))
    parts = []
    if missing:
        parts.append(f"missing {missing}")
    if unexpected:
        parts.append(f"unexpected {unexpected}")
    return (
        f"head tensors do not match {where}: " + "; ".join(parts)
        + " (the head was made for another architecture or the file was edited)"
    )


# ---------------------------------------------------------------------- writing


def write_tensors(path: str | os.PathLike[str], arrays: dict[str, np.ndarray], config: HeadConfig) -> None:
    """Write ``head.safetensors``: the arrays, and one metadata key (format version, task, backbone).

    One key, because safetensors writes several in random order, and identical
    heads must give identical bytes (a re-push of the same head then makes no commit).

    Example:
        >>> write_tensors(tmp / HEAD_FILE, arrays, head.config)  # doctest: +SKIP
    """
    from safetensors.numpy import save_file

    header = {"format_version": FORMAT_VERSION, "task": config.task, "backbone": config.backbone}
    metadata = {"headzoo": json.dumps(header, sort_keys=True, separators=(",", ":"))}
    save_file(arrays, str(path), metadata=metadata)


@contextmanager
def staged_head_dir(directory: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Give an empty temporary sibling of ``directory`` to write a head into; swap it in when the block ends.

    The swap holds :func:`entry_lock` and defers Ctrl-C, and an existing head is
    only replaced once the new one is complete. If the block raises, the
    temporary directory is removed and ``directory`` is left as it was.

    Raises:
        HeadExistsError: ``directory`` already holds files and ``overwrite`` is False
            (checked before and again under the lock).

    Example:
        >>> with staged_head_dir("heads/rte") as tmp:  # doctest: +SKIP
        ...     (tmp / CONFIG_FILE).write_text(config.to_json())
    """
    target = Path(directory).expanduser()
    _check_target(target, overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        _install(tmp, target, overwrite=overwrite)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def copy_head_files(source: str | os.PathLike[str], directory: str | os.PathLike[str], *,
                    overwrite: bool = False) -> Path:
    """Copy a head directory's files, byte for byte, to ``directory`` with the guarantees of :func:`staged_head_dir`.

    Only ``head.safetensors``, ``head_config.json`` and (when present)
    ``README.md`` are copied; the copy is swapped in atomically under the lock.

    Returns:
        ``directory``.

    Raises:
        HeadExistsError: ``directory`` holds a head and ``overwrite`` is False.

    Example:
        >>> copy_head_files(cached_dir, zoo_path("rte", "minilm", "lora"))  # doctest: +SKIP
    """
    src = Path(source)
    target = Path(directory).expanduser()
    with staged_head_dir(target, overwrite=overwrite) as tmp:
        for name in HEAD_FILES:
            if name != CARD_FILE or (src / name).is_file():
                shutil.copyfile(src / name, tmp / name)
    return target


def umask_modes(directory: str | os.PathLike[str]) -> tuple[int, int]:
    """The ``(file, folder)`` permission bits that the process umask gives new files here (0644/0755 under 022).

    Read from a probe file created in ``directory`` (as the Hugging Face cache does), so the umask
    is never changed, not even for a moment, and other threads are not affected.

    Example:
        >>> oct(umask_modes(".")[0])  # doctest: +SKIP
        '0o644'
    """
    fd, probe = tempfile.mkstemp(prefix=".umask-", dir=directory)
    try:
        os.close(fd)
        os.chmod(probe, 0o666)  # mkstemp makes 0600; re-create it the ordinary way to see the umask
        os.unlink(probe)
        with open(probe, "x", encoding="utf-8"):
            pass
        file_mode = os.stat(probe).st_mode & 0o777
    finally:
        with contextlib.suppress(OSError):
            os.unlink(probe)
    return file_mode, file_mode | ((file_mode & 0o444) >> 2)


def _install(tmp: Path, target: Path, *, overwrite: bool) -> None:
    """Flush a finished head directory, give it the umask's permissions, and swap it into place under the lock.

    ``mkdtemp`` makes the folder 0700 and safetensors may write 0600; a zoo shared by a team
    (one ``HEADZOO_HOME``) needs the modes any other new file gets, like the Hugging Face cache.
    """
    file_mode, dir_mode = umask_modes(tmp)
    for path in tmp.iterdir():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(path, file_mode)
    os.chmod(tmp, dir_mode)
    with entry_lock(target):
        _check_target(target, overwrite)  # another process may have saved here meanwhile
        _replace_dir(tmp, target, overwrite=overwrite)


def _check_target(target: Path, overwrite: bool) -> None:
    if target.exists() and not target.is_dir():
        raise HeadExistsError(f"{str(target)!r} is a file, not a directory: choose another place for the head")
    if not overwrite and target.is_dir() and any(target.iterdir()):
        raise HeadExistsError(
            f"{str(target)!r} already holds a head (another process may have just saved one); "
            "pass overwrite=True (CLI: --overwrite) to replace it"
        )


_LOCKS_GUARD = threading.Lock()
_LOCKS: dict[str, tuple[threading.RLock, list[int]]] = {}


@contextmanager
def entry_lock(target: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive lock on the directory that holds ``target`` (a head place), across processes.

    Re-entrant within a process. An ``flock`` on the parent directory itself,
    so no lock file is left behind; on systems without ``fcntl`` only threads are serialised.

    Example:
        >>> with entry_lock(zoo_path("rte", "minilm", "lora")):  # doctest: +SKIP
        ...     pass
    """
    parent = Path(target).expanduser().absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    key = str(parent)
    with _LOCKS_GUARD:
        lock, depth = _LOCKS.setdefault(key, (threading.RLock(), [0]))
    with lock:
        fd = None
        if depth[0] == 0:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - Windows
                fcntl = None  # type: ignore[assignment]
            if fcntl is not None:
                try:
                    fd = os.open(parent, os.O_RDONLY)
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except OSError as exc:  # a file system without locks (some network mounts)
                    logger.debug("cannot lock %s (%s); saving without a cross-process lock", parent, exc)
                    if fd is not None:
                        os.close(fd)
                    fd = None
                except BaseException:
                    if fd is not None:
                        os.close(fd)
                    raise
        depth[0] += 1
        try:
            yield
        finally:
            depth[0] -= 1
            if fd is not None:
                os.close(fd)  # closing the descriptor releases the flock


@contextmanager
def _deferred_interrupts() -> Iterator[None]:
    """Hold back Ctrl-C / SIGTERM until the block is done, so a swap is never cut in half.

    Python runs signal handlers in the main thread only, so a handler that just
    records the signal defers it whichever thread the OS delivered it to; the
    previous handler is called once the block ends.
    """
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[tuple[int, Any]] = []
    previous: dict[int, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, lambda signum, frame: received.append((signum, frame)))
        except (ValueError, OSError):  # pragma: no cover - not settable here
            continue
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        if received:
            signum, frame = received[0]
            handler = previous.get(signum)
            if callable(handler):
                handler(signum, frame)  # Python's default for SIGINT raises KeyboardInterrupt here
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), signum)


def _replace_dir(tmp: Path, target: Path, *, overwrite: bool) -> None:
    """Move a finished head directory into place; the old one survives until the new one is there."""
    try:
        os.rename(tmp, target)  # atomic; fails if target is a non-empty directory
        return
    except OSError:
        if not target.exists():
            raise
    if not overwrite:
        raise HeadExistsError(
            f"{str(target)!r} already holds a head (another process may have just saved one); "
            "pass overwrite=True (CLI: --overwrite) to replace it"
        )
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    with _deferred_interrupts():
        try:
            os.rename(target, old / "head")
            try:
                os.rename(tmp, target)
            except BaseException:
                os.rename(old / "head", target)
                raise
        finally:
            shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------------- reading


def find_head_files(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The ``(head.safetensors, head_config.json)`` of a head directory or file.

    Raises:
        UnsafeFileError: ``path`` is a pickle file, or a directory with pickle files and no head.
        HeadFormatError: no head files there.

    Example:
        >>> find_head_files("heads/rte")  # doctest: +SKIP
        (PosixPath('heads/rte/head.safetensors'), PosixPath('heads/rte/head_config.json'))
    """
    try:
        p = Path(path).expanduser()
        is_file, is_dir = p.is_file(), p.is_dir()
    except RuntimeError:  # "~nobody/x"
        raise HeadFormatError(f"no head at {str(path)!r}: there is no such user's home; give the full path") from None
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte
        raise HeadFormatError(f"no head at {str(path)!r}: not a usable path ({exc}); give a head folder") from None
    if is_file:
        if p.suffix.lower() in PICKLE_SUFFIXES:
            raise UnsafeFileError(
                f"{str(p)!r} is a pickle-based file; headzoo never loads pickle (it can run arbitrary code). "
                "Convert the head to head.safetensors with headzoo on a trusted machine"
            )
        if p.name == CONFIG_FILE or p.suffix == ".safetensors":
            p = p.parent
        else:
            raise HeadFormatError(f"{str(p)!r} is not a head: give a directory holding {HEAD_FILE} and {CONFIG_FILE}")
    if not is_file and not is_dir:
        raise HeadFormatError(f"no head at {str(p)!r}: the directory does not exist")
    weights, config = p / HEAD_FILE, p / CONFIG_FILE
    if not weights.is_file():
        pickles = sorted(x.name for x in p.iterdir() if x.suffix.lower() in PICKLE_SUFFIXES)
        if pickles:
            raise UnsafeFileError(
                f"{str(p)!r} holds pickle file(s) {pickles} and no {HEAD_FILE}; headzoo never loads pickle. "
                "Ask the publisher for a safetensors head"
            )
        raise HeadFormatError(f"{str(p)!r} has no {HEAD_FILE}: a head directory holds {HEAD_FILE} and {CONFIG_FILE}")
    if not config.is_file():
        raise HeadFormatError(
            f"{str(p)!r} has no {CONFIG_FILE}; it is needed to know the task, labels and backbone. Re-save the head"
        )
    return weights, config



def read_head(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], HeadConfig]:
    """Read a head as numpy arrays plus its config, with no torch model involved.

    Any framework can use the result: the arrays are named as in the
    transformers state dict (``"classifier.weight"``...).

    Args:
        path: a head directory (or its ``head.safetensors``).

    Returns:
        ``(arrays, config)``.

    Raises:
        HeadFormatError: missing, corrupt, truncated or inconsistent files, NaN/Inf values.
        UnsafeFileError: pickle files instead of a head.

    Example:
        >>> arrays, config = read_head("heads/rte")  # doctest: +SKIP
        >>> arrays["classifier.weight"].shape  # doctest: +SKIP
        (2, 384)
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    weights, config_path = find_head_files(path)
    config = read_config(config_path)
    _check_safetensors_header(weights)
    try:
        arrays = load_file(str(weights))
    except (SafetensorError, OSError, ValueError, TypeError, OverflowError, KeyError, AttributeError,
            MemoryError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HeadFormatError(
            f"{str(weights)!r} is corrupt or truncated ({first}); download or save the head again"
        ) from exc
    if sorted(arrays) != sorted(config.tensors):
        raise HeadFormatError(tensor_names_diff(str(config_path), sorted(config.tensors), sorted(arrays)))
    for name, array in arrays.items():
        if list(array.shape) != config.tensors[name]:
            raise HeadFormatError(
                f"tensor {name!r} in {str(weights)!r} has shape {list(array.shape)} but {CONFIG_FILE} says "
                f"{config.tensors[name]}; the files do not belong together, re-save the head"
            )
        if np.issubdtype(array.dtype, np.floating):
            with np.errstate(over="ignore"):
                as_float32 = array.astype(np.float32)  # what a float32 model gets; beyond ~3.4e38 is Inf
            if not np.isfinite(as_float32).all():
                raise HeadFormatError(
                    f"tensor {name!r} in {str(weights)!r} holds NaN or Inf values (or values beyond float32's "
                    "range); the head diverged in training, train it again with a lower learning rate"
                )
    return arrays, config



def _check_safetensors_header(weights: Path) -> None:
    """Read just the safetensors header and refuse what cannot be a head, before any tensor is read.

    The size prefix must fit in the file, the header must be a JSON object of
    tensors with a known real dtype, and every tensor's bytes must lie inside the file.
    """
    def corrupt(why: str) -> HeadFormatError:
        return HeadFormatError(f"{str(weights)!r} is corrupt or truncated ({why}); download or save the head again")

    try:
        size = weights.stat().st_size
        with open(weights, "rb") as fh:
            prefix = fh.read(8)
            if len(prefix) < 8:
                raise corrupt(f"{size} bytes, shorter than the 8-byte header size")
            n = int.from_bytes(prefix, "little")
            if n > min(size - 8, _MAX_HEADER_BYTES):
                raise corrupt(f"the header claims {n} bytes but the file has {size}")
            raw = fh.read(n)
    except OSError as exc:
        raise HeadFormatError(f"cannot read {str(weights)!r}: {exc.strerror or exc}") from exc
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise corrupt("the header is not JSON") from None
    if not isinstance(header, dict):
        raise corrupt("the header is not a JSON object")
    data_size = size - 8 - n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict):
            raise corrupt(f"entry {name!r} of the header is not an object")
        dtype = info.get("dtype")
        if dtype not in HEAD_DTYPES:
            raise HeadFormatError(
                f"tensor {name!r} in {str(weights)!r} has dtype {dtype!r}, which a head cannot hold "
                f"(allowed: {', '.join(HEAD_DTYPES)}); re-save the head with headzoo, which writes float32"
            )
        offsets = info.get("data_offsets")
        if (
            not isinstance(offsets, list) or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= data_size
        ):
            raise corrupt(f"tensor {name!r} claims bytes {offsets!r} but the file holds {data_size} bytes of data")


__all__ = [
    "CARD_FILE",
    "HEAD_DTYPES",
    "HEAD_FILE",
    "HEAD_FILES",
    "PICKLE_SUFFIXES",
    "copy_head_files",
    "entry_lock",
    "find_head_files",
    "read_head",
    "staged_head_dir",
    "tensor_names_diff",
    "umask_modes",
    "write_tensors",
]
