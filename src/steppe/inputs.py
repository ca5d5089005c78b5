"""Reading the files a user names: only regular files, within a size limit, with one clear
message for anything else.

A scenario, a variant's base, an edge list, a cluster description or a CSV of observed polls
is read only when it is a regular file (not a folder, a FIFO that would block, a device such
as ``/dev/zero`` that never ends) no larger than its limit. A path that is empty, holds a NUL
byte, is too long for the file system, or cannot be read gives a
:class:`~steppe.errors.SteppeError` naming the file and what went wrong, never a traceback.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "a.toml"
>>> _ = p.write_text("x = 1")
>>> read_bytes(p, what="scenario file")
b'x = 1'
>>> read_bytes("/dev/zero", what="scenario file")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
steppe.errors.ScenarioError: /dev/zero: not a regular file (a character device) ...
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .errors import ScenarioError

__all__ = ["MAX_DATA_BYTES", "MAX_TEXT_BYTES", "check_file", "read_bytes"]

#: the largest scenario, variant or description file read (bytes)
MAX_TEXT_BYTES = 16 * 2**20
#: the largest data file read (edge lists, CSV tables; bytes)
MAX_DATA_BYTES = 64 * 2**30

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def _short(path: str) -> str:
    return path if len(path) <= 200 else path[:120] + "…" + path[-60:]


def check_file(path: str | os.PathLike[str], *, what: str, limit: int = MAX_TEXT_BYTES,
               field: str | None = None, source: str | None = None) -> Path:
    """``path`` as a :class:`Path` if it names a regular file of at most ``limit`` bytes.

    Parameters
    ----------
    path
        The file.
    what
        What it is, for the message ("scenario file", "edge list").
    limit
        The largest size accepted, in bytes.
    field, source
        Where the path was given (a scenario's field and file), for the message; without
        them the message names the path itself.

    Raises
    ------
    ScenarioError
        Not a regular file, too large, missing, unreadable, or not a valid path.
    """
    text = os.fspath(path)
    a_what = f"{'an' if what[:1] in 'aeiou' else 'a'} {what}"

    def fail(message: str, **kw: object) -> ScenarioError:
        if source is not None:
            return ScenarioError(f"{what} {_short(text)!r}: {message}", file=source,
                                 field=field, **kw)
        return ScenarioError(f"{message}", file=_short(text), field=field, **kw)

    if not text:
        raise fail("empty path", allowed=f"the path of {a_what}")
    if "\0" in text:
        raise fail("the path holds a NUL character", allowed="a file path")
    try:
        st = os.stat(text)
    except FileNotFoundError:
        raise fail("file not found") from None
    except OSError as exc:
        reason = {errno.ENAMETOOLONG: "the path is too long for the file system",
                  errno.EACCES: "permission denied",
                  errno.ENOTDIR: "a part of the path is not a folder",
                  errno.ELOOP: "too many symbolic links"}.get(
            exc.errno, exc.strerror or type(exc).__name__)
        raise fail(f"cannot read it ({reason})") from None
    except ValueError as exc:  # pragma: no cover - embedded NULs are caught above
        raise fail(str(exc)) from None
    if not stat.S_ISREG(st.st_mode):
        kind = next((k for test, k in _KINDS if test(st.st_mode)), "not a plain file")
        if kind == "a folder":
            raise fail(f"is a folder, not a {what}")
        raise fail(f"not a regular file ({kind})", allowed=a_what)
    if st.st_size > limit:
        raise fail(f"too large ({st.st_size:,} bytes)", allowed=f"at most {limit:,} bytes")
    return Path(text)


def read_bytes(path: str | os.PathLike[str], *, what: str, limit: int = MAX_TEXT_BYTES,
               field: str | None = None, source: str | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (see :func:`check_file`);
    a file that grows past the limit while it is read is refused too."""
    p = check_file(path, what=what, limit=limit, field=field, source=source)
    try:
        with open(p, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        msg = f"cannot read it ({exc.strerror or type(exc).__name__})"
        if source is not None:
            raise ScenarioError(f"{what} {_short(str(p))!r}: {msg}", file=source,
                                field=field) from None
        raise ScenarioError(msg, file=_short(str(p)), field=field) from None
    if len(data) > limit:
        raise ScenarioError("too large", file=_short(str(p)), field=field,
                            allowed=f"at most {limit:,} bytes")
    return data
