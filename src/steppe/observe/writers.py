"""Atomic writers: a file appears whole or not at all.

Each writer writes to a temporary file in the target folder, flushes it to disk, then
renames it over the target (``os.replace``, atomic on POSIX and Windows). A run killed
half-way leaves no half-written file behind.

Examples
--------
>>> import tempfile, json, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> p = write_json_atomic({"a": 1}, d / "x.json")
>>> json.loads(p.read_text())
{'a': 1}
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SteppeError

__all__ = ["atomic_path", "folder_lock", "prepare_folder", "remove_empty", "write_group",
           "write_json_atomic", "write_npz_atomic", "write_parquet_atomic"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success move it onto ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o666 & ~_umask())  # as open() would have made it, not 0600
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_group(items: list[tuple[Path, Callable[[Path], Any]]]) -> list[Path]:
    """Write several files as a group: each ``write(path)`` writes to a temporary file
    beside its target; only when all of them are written (and flushed) are they renamed
    onto their targets. If any write fails, every temporary file is removed and the
    targets are left as they were (an earlier set of results stays whole).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> [p.name for p in write_group([(d / "a.txt", lambda p: p.write_text("a")),
    ...                               (d / "b.txt", lambda p: p.write_text("b"))])]
    ['a.txt', 'b.txt']
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for target, write in items:
            target = Path(target)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                       dir=target.parent)
            os.close(fd)
            staged.append((Path(tmp), target))
            write(Path(tmp))
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o666 & ~_umask())
        for tmp, target in staged:
            os.replace(tmp, target)
    finally:
        for tmp, _ in staged:
            if tmp.exists():
                tmp.unlink()
    return [target for _, target in staged]


def write_parquet_atomic(df: pd.DataFrame, target: str | Path) -> Path:
    """Write ``df`` as Parquet (zstd-compressed) atomically; return the path."""
    with atomic_path(target) as tmp:
        df.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")
    return Path(target)


def write_json_atomic(obj: Any, target: str | Path) -> Path:
    """Write ``obj`` as indented JSON atomically; return the path."""
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, default=json_default) + "\n",
                       encoding="utf-8")
    return Path(target)


def write_npz_atomic(arrays: dict[str, np.ndarray], target: str | Path) -> Path:
    """Write named arrays as a compressed ``.npz`` atomically; return the path."""
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
    return Path(target)


def json_default(o: Any) -> Any:
    """JSON for NumPy numbers and arrays, and paths."""
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def prepare_folder(path: str | Path, what: str = "--out",
                   created: list[Path] | None = None) -> Path:
    """Make sure results can be written into ``path`` before anything runs: create it
    (and its parents) and write and remove a test file there.

    ``created``, when given, receives the folders this call made (so that a caller that
    fails later can remove them again: :func:`remove_empty`).

    Raises
    ------
    SteppeError
        ``path`` (or a part of it) is a file, or the folder cannot be created or written
        (no permission, read-only, full disk, a path too long): one message naming it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "file"
    >>> _ = f.write_text("x")
    >>> prepare_folder(f / "out")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    steppe.errors.SteppeError: --out: .../file is a file, not a folder: results cannot go below it
    """
    p = Path(path)
    if "\0" in str(p):
        raise SteppeError(f"{what}: the path holds a NUL character")
    for part in [p, *p.parents]:
        try:
            if part.exists() and not part.is_dir():
                which = "is a file, not a folder" + (
                    "" if part == p else ": results cannot go below it")
                raise SteppeError(f"{what}: {part} {which}")
        except OSError as exc:
            raise SteppeError(f"{what}: {str(p)[:200]}: unusable path ({_reason(exc)})") \
                from None
    try:
        if created is not None:
            created += [d for d in reversed([p, *p.parents]) if not d.exists()]
        p.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".steppe-write-test.", dir=p)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise SteppeError(f"{what}: cannot write to {str(p)[:200]} ({_reason(exc)})") \
            from None
    return p


@contextlib.contextmanager
def folder_lock(path: str | Path, who: str = "another steppe process") -> Iterator[None]:
    """Hold ``path``'s write lock: one writer at a time. The lock is taken on the folder
    itself (no lock file is left behind) and the system releases it when the process
    ends, even killed.

    Raises
    ------
    SteppeError
        Someone else holds it (another process, or this one through another call).

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> with folder_lock(d):
    ...     with folder_lock(d):  # doctest: +ELLIPSIS
    ...         pass
    Traceback (most recent call last):
    ...
    steppe.errors.SteppeError: ...: another steppe process is writing to this folder right now; ...
    """
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock
        yield
        return
    fd = os.open(p, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SteppeError(f"{p}: {who} is writing to this folder right now; wait for "
                              "it or choose another --out") from None
        yield
    finally:
        os.close(fd)


def remove_empty(folders: list[Path]) -> None:
    """Remove the folders (made by :func:`prepare_folder`) that are still empty, deepest
    first: a refused or failed run leaves nothing behind."""
    for d in reversed(folders):
        with contextlib.suppress(OSError):
            d.rmdir()
