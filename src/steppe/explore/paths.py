"""What the explorer may open: paths confined to one root folder, and what each path holds.

The explorer is opened on one path (``steppe explore PATH``). Its *root* is that folder (or,
for a scenario file, the folder holding it); every path the browser sends (the selector, the
``?path=`` URL parameter) is resolved against the root by :func:`inside`, which refuses
anything that resolves outside it: ``..``, an absolute path elsewhere, a symbolic link
pointing out.

Examples
--------
>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> inside(root, "a/../b") == (root / "b").resolve()
True
>>> inside(root, "../etc")
Traceback (most recent call last):
...
steppe.errors.SteppeError: ../etc: outside the folder the explorer was opened on
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import SteppeError

__all__ = ["KINDS", "Source", "classify", "find_sources", "inside", "looks_like_scenario",
           "open_path"]

#: what the explorer shows, by kind of path
KINDS = {
    "results": "results of steppe run",
    "sweep": "sweep",
    "calibration": "calibration",
    "scenario": "scenario (live)",
}
#: how deep below the root :func:`find_sources` looks
MAX_DEPTH = 4
#: at most this many entries are listed
MAX_SOURCES = 200
_SKIP = {"__pycache__", "node_modules", "report", "series", "runs", "polls", "bands",
         "failures", "participation", "flows", "news", "phase", "loo"}


@dataclass(frozen=True)
class Source:
    """One thing the explorer can show.

    Attributes
    ----------
    kind : str
        ``"results"``, ``"sweep"``, ``"calibration"`` or ``"scenario"`` (see :data:`KINDS`).
    path : pathlib.Path
        The resolved path: a folder (results, sweep), the ``calibration/`` folder itself, or
        a ``.toml`` file.
    rel : str
        ``path`` relative to the root, with ``/`` (``"."`` for the root itself): what the
        browser sends back.
    """

    kind: str
    path: Path
    rel: str

    @property
    def label(self) -> str:
        """How the selector lists it, e.g. ``"results/demo — results of steppe run"``."""
        return f"{self.rel} — {KINDS[self.kind]}"


def inside(root: str | Path, candidate: str | Path) -> Path:
    """``candidate`` resolved against ``root``, refused unless it lies inside ``root``.

    Parameters
    ----------
    root
        The folder the explorer was opened on.
    candidate
        A path from the browser: relative to ``root`` (an absolute path is accepted only
        when it resolves inside ``root``).

    Returns
    -------
    pathlib.Path
        The resolved path (symbolic links followed), inside ``root``.

    Raises
    ------
    SteppeError
        The path resolves outside ``root`` (``..``, an absolute path elsewhere, a link
        out), or holds a NUL character.

    Examples
    --------
    >>> inside("/tmp", "/etc/passwd")
    Traceback (most recent call last):
    ...
    steppe.errors.SteppeError: /etc/passwd: outside the folder the explorer was opened on
    """
    text = str(candidate)
    if "\x00" in text:
        raise SteppeError(f"{text!r}: not a path")
    base = Path(root).resolve()
    target = (base / Path(text).expanduser()).resolve() if text else base
    if target != base and base not in target.parents:
        raise SteppeError(f"{text}: outside the folder the explorer was opened on")
    return target


def classify(path: str | Path) -> str | None:
    """What ``path`` holds, as the explorer sees it, or ``None``.

    Parameters
    ----------
    path
        A folder or file.

    Returns
    -------
    str or None
        ``"results"`` (a folder with ``series.parquet``), ``"sweep"`` (a folder with a
        sweep's ``manifest.json``), ``"calibration"`` (a ``calibration/`` folder, or a
        folder holding one and no runs), ``"scenario"`` (a ``.toml`` file), else ``None``.

    Examples
    --------
    >>> classify("/nonexistent") is None
    True
    """
    p = Path(path)
    if p.is_file():
        return "scenario" if p.suffix.lower() == ".toml" else None
    if not p.is_dir():
        return None
    if (p / "series.parquet").is_file():
        return "results"
    if (p / "manifest.json").is_file():
        return "sweep"
    if (p / "calibration.json").is_file() or (p / "posterior.parquet").is_file():
        return "calibration"
    if (p / "calibration").is_dir():
        return "calibration"
    return None


def looks_like_scenario(path: str | Path) -> bool:
    """Whether a ``.toml`` file looks like a scenario (a ``model`` table, or ``extends``
    another file), so that other TOML files (``pyproject.toml``) are not listed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "pyproject.toml"
    >>> _ = p.write_text("[project]\\nname = 'x'\\n")
    >>> looks_like_scenario(p)
    False
    """
    p = Path(path)
    try:
        if p.stat().st_size > 1_000_000:
            return False
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return isinstance(data, dict) and ("model" in data or "extends" in data)


def _rel(root: Path, p: Path) -> str:
    r = p.relative_to(root).as_posix()
    return r or "."


def find_sources(root: str | Path) -> list[Source]:
    """Everything under ``root`` the explorer can show, in path order.

    A results folder also lists its ``calibration/`` subfolder, when it has one; a ``.toml``
    file is listed when it looks like a scenario (:func:`looks_like_scenario`). Hidden
    folders and the per-run subfolders of sweeps are not searched; at most
    :data:`MAX_DEPTH` levels and :data:`MAX_SOURCES` entries.

    Parameters
    ----------
    root
        The folder the explorer was opened on.

    Returns
    -------
    list of Source

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.toml").write_text("name = 'a'\\nmodel = { name = 'voter' }")
    >>> [(s.kind, s.rel) for s in find_sources(d)]
    [('scenario', 'a.toml')]
    """
    base = Path(root).resolve()
    out: list[Source] = []

    def add(kind: str, p: Path) -> None:
        if len(out) < MAX_SOURCES:
            out.append(Source(kind, p, _rel(base, p)))

    def walk(d: Path, depth: int) -> None:
        kind = classify(d)
        if kind in ("results", "sweep"):
            add(kind, d)
            if (d / "calibration").is_dir():
                add("calibration", d / "calibration")
            return
        if kind == "calibration":
            add(kind, d if not (d / "calibration").is_dir() else d / "calibration")
        if depth >= MAX_DEPTH:
            return
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError:
            return
        for e in entries:
            if e.name.startswith(".") or len(out) >= MAX_SOURCES:
                continue
            p = Path(e.path)
            try:
                resolved = p.resolve()
            except OSError:
                continue
            if resolved != base and base not in resolved.parents:
                continue  # a link pointing out of the root
            if e.is_file() and p.suffix.lower() == ".toml" and looks_like_scenario(resolved):
                add("scenario", resolved)
            elif e.is_dir() and e.name not in _SKIP and e.name != "calibration":
                walk(resolved, depth + 1)

    walk(base, 0)
    return out


def open_path(path: str | Path) -> tuple[Path, Source | None]:
    """The root folder for ``steppe explore PATH`` and what ``PATH`` itself holds.

    Parameters
    ----------
    path
        A results, sweep or calibration folder, a scenario file, or a folder holding any
        of them.

    Returns
    -------
    (pathlib.Path, Source or None)
        The root (``PATH``, or its folder for a file) and ``PATH`` as a source (``None``
        for a folder that holds sources below it).

    Raises
    ------
    SteppeError
        ``PATH`` does not exist, or is neither one of these nor a folder holding one.

    Examples
    --------
    >>> open_path("/nonexistent")
    Traceback (most recent call last):
    ...
    steppe.errors.SteppeError: /nonexistent: no such file or folder
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise SteppeError(f"{path}: no such file or folder")
    p = p.resolve()
    kind = classify(p)
    if p.is_file():
        if kind is None:
            raise SteppeError(f"{path}: not a scenario file (.toml), nor a results, sweep or "
                              "calibration folder")
        return p.parent, Source(kind, p, p.name)
    if kind is not None:
        target = p / "calibration" if kind == "calibration" and (p / "calibration").is_dir() \
            else p
        return p, Source(kind, target, _rel(p, target))
    if not find_sources(p):
        raise SteppeError(f"{path}: holds no results folder (series.parquet), sweep "
                          "(manifest.json), calibration or scenario file (.toml)")
    return p, None
