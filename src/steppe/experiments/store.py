"""A sweep's results on disk: one Parquet file per finished run, written atomically, and a
manifest.

Layout of a sweep folder::

    manifest.json                          the sweep: scenario, axes, points, seeds, status
    points.parquet                         point, seed, one column per swept field
    runs/point-00003/run-00007.parquet     one row: the run's summary (final shares, ...)
    series/point-00003/run-00007.parquet   the run's tidy series (with a point column)
    polls/..., participation/..., flows/...  the same, when the scenario has them
    failures/point-00003/run-00007.json    a run that failed: parameters, seed, error
    bands/point-00003.parquet              ensemble bands of the point (median, 50%, 90%)
    outcomes.parquet                       per point: consensus probabilities, mean shares
    phase/<outcome>.png, .csv, .parquet    phase diagrams

Folders and files are named ``point-NNNNN`` and ``run-NNNNN`` (not ``point=...``, which
readers would take for a Hive partition and add a second ``point`` column): every file holds
its ``point`` and ``run`` columns, so ``pandas.read_parquet("DIR/runs")`` or DuckDB's
``read_parquet('DIR/runs/*/*.parquet')`` read the whole table.

A run is finished when its ``runs/`` file exists: it is written last, after the run's other
files, each through a temporary file renamed into place, so a sweep killed at any moment
leaves finished runs whole and no half-written file (a stale temporary file is removed when
the sweep resumes). One sweep at a time may write to a folder (an advisory lock on
the folder itself, released by the system even if the process is killed).

Examples
--------
>>> import tempfile, pandas as pd
>>> st = SweepStore(tempfile.mkdtemp())
>>> _ = st.write_run(0, 2, {"series": pd.DataFrame({"x": [1]}),
...                         "runs": pd.DataFrame({"point": [0], "run": [2]})})
>>> sorted(st.finished())
[(0, 2)]
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import SteppeError
from ..observe.writers import atomic_path, folder_lock, write_json_atomic

__all__ = ["MANIFEST", "TABLES", "SweepStore", "parquet_bytes", "write_table_atomic"]

MANIFEST = "manifest.json"
#: per-run tables, in the order they are written (``runs`` last: it marks the run done)
#: the per-run tables every run writes; pressures add theirs (participation, flows, news...)
TABLES = ("series", "polls", "participation", "flows", "runs")
#: what the store keeps besides the per-run tables
_OWN = ("failures", "bands", "phase", "outcomes.parquet", "points.parquet", MANIFEST)
_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_RUN_FILE = re.compile(r"^run-(\d+)\.parquet$")
_POINT_DIR = re.compile(r"^point-(\d+)$")


def _point_dir(point: int) -> str:
    return f"point-{point:05d}"


def parquet_bytes(df: pd.DataFrame) -> bytes:
    """``df`` as the bytes of a Parquet file (zstd, without pandas' index); NaN in float
    columns becomes null, so SQL aggregates skip it. Workers serialise their tables with
    it, so the process that writes the files only copies bytes.

    Examples
    --------
    >>> import pandas as pd
    >>> parquet_bytes(pd.DataFrame({"x": [1.0]}))[:4]
    b'PAR1'
    """
    table = pa.Table.from_pandas(df, preserve_index=False)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def write_bytes_atomic(data: bytes, target: Path) -> Path:
    """Write ``data`` to ``target`` atomically (temporary file, fsync, rename)."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target


def write_table_atomic(df: pd.DataFrame | bytes, target: Path) -> Path:
    """Write a table (a DataFrame, or the bytes from :func:`parquet_bytes`) as Parquet,
    atomically; the same bytes either way."""
    return write_bytes_atomic(df if isinstance(df, bytes) else parquet_bytes(df), target)


class SweepStore:
    """The files of one sweep folder (see the module docstring)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # -- the folder ---------------------------------------------------------------------
    def check_usable(self) -> None:
        """Refuse a folder that exists and holds something other than a sweep.

        Raises
        ------
        SteppeError
            ``root`` is a file, or a non-empty folder without a sweep manifest.
        """
        if self.root.exists() and not self.root.is_dir():
            raise SteppeError(f"--out: {self.root} exists and is not a folder")
        if self.root.is_dir() and not (self.root / MANIFEST).exists():
            visible = [p for p in self.root.iterdir() if not p.name.startswith(".")]
            if visible:
                raise SteppeError(f"--out: {self.root} is not empty and holds no sweep "
                                  f"(no {MANIFEST}); choose a new or empty folder")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's write lock (one sweep at a time).

        Raises
        ------
        SteppeError
            Another process holds it.
        """
        with folder_lock(self.root, "another sweep"):
            yield

    def tables(self) -> list[str]:
        """The per-run tables present (folders of ``point-*/run-*.parquet``), ``runs``
        first."""
        if not self.root.is_dir():
            return []
        found = [d.name for d in sorted(self.root.iterdir())
                 if d.is_dir() and _TABLE_NAME.match(d.name) and d.name not in _OWN
                 and any(d.glob("point-*/run-*.parquet"))]
        return sorted(found, key=lambda n: (n != "runs", n))

    def reset(self) -> None:
        """Remove every file a sweep writes here (``--no-resume``); nothing else."""
        for name in (*self.tables(), *TABLES, *_OWN):
            p = self.root / name
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()

    def remove_stale_temporaries(self) -> int:
        """Delete temporary files left by a killed writer; return how many."""
        n = 0
        for name in dict.fromkeys((*TABLES, *self.tables(), "failures", "bands", "phase")):
            d = self.root / name
            if not d.is_dir():
                continue
            for p in d.rglob(".*.tmp"):
                p.unlink(missing_ok=True)
                n += 1
        for p in self.root.glob(".*.tmp"):
            p.unlink(missing_ok=True)
            n += 1
        return n

    # -- manifest -----------------------------------------------------------------------
    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest, or None if there is none.

        Raises
        ------
        SteppeError
            It exists but is not a sweep manifest.
        """
        p = self.root / MANIFEST
        if not p.exists():
            return None
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SteppeError(f"{p}: cannot read the sweep manifest ({exc})") from None
        if not isinstance(data, dict) or data.get("kind") != "steppe-sweep":
            raise SteppeError(f"{p}: not a steppe sweep manifest")
        return data

    def write_manifest(self, manifest: Mapping[str, Any]) -> Path:
        """Write the manifest atomically."""
        return write_json_atomic(dict(manifest), self.root / MANIFEST)

    def write_points(self, points: pd.DataFrame) -> Path:
        """Write ``points.parquet`` atomically."""
        return write_table_atomic(points, self.root / "points.parquet")

    # -- runs ---------------------------------------------------------------------------
    def run_path(self, table: str, point: int, run: int) -> Path:
        """Where one run's table goes."""
        return self.root / table / _point_dir(point) / f"run-{run:05d}.parquet"

    def write_run(self, point: int, run: int,
                  tables: Mapping[str, pd.DataFrame | bytes | None]) -> list[Path]:
        """Write one run's tables (DataFrames or Parquet bytes), ``runs`` last; clear an
        earlier failure of that run."""
        bad = [t for t in tables if not _TABLE_NAME.match(t) or t in _OWN]
        if bad:
            raise ValueError(f"not per-run table names: {sorted(bad)}")
        if tables.get("runs") is None:
            raise ValueError("a run needs its 'runs' row")
        out = []
        for name in [*sorted(t for t in tables if t != "runs"), "runs"]:  # the marker last
            df = tables.get(name)
            if df is not None:
                out.append(write_table_atomic(df, self.run_path(name, point, run)))
        self.failure_path(point, run).unlink(missing_ok=True)
        return out

    def damaged(self, runs: set[tuple[int, int]] | None = None) -> list[tuple[Path, str]]:
        """Run files that cannot be read as Parquet (truncated, overwritten, not Parquet):
        ``(path, why)``, for the given ``(point, run)`` pairs (default: every finished
        run). Reads only each file's footer."""
        import pyarrow as pa

        runs = self.finished() if runs is None else runs
        out = []
        for table in self.tables() or ["runs"]:
            for point, run in sorted(runs):
                f = self.run_path(table, point, run)
                if not f.exists():
                    continue
                try:
                    pq.read_metadata(f)
                except (OSError, pa.ArrowException) as exc:
                    out.append((f, str(exc).splitlines()[0][:200] or type(exc).__name__))
        return out

    def discard(self, point: int, run: int) -> None:
        """Remove a run's files (``runs`` marker first), so that it is run again."""
        for table in ["runs", *self.tables()]:
            self.run_path(table, point, run).unlink(missing_ok=True)

    def finished(self) -> set[tuple[int, int]]:
        """(point, run) pairs whose ``runs`` file exists."""
        done: set[tuple[int, int]] = set()
        base = self.root / "runs"
        if not base.is_dir():
            return done
        for d in os.scandir(base):
            m = _POINT_DIR.match(d.name)
            if not (m and d.is_dir()):
                continue
            point = int(m.group(1))
            for f in os.scandir(d.path):
                r = _RUN_FILE.match(f.name)
                if r:
                    done.add((point, int(r.group(1))))
        return done

    def has(self, table: str) -> bool:
        """Whether any run wrote ``table``."""
        d = self.root / table
        return d.is_dir() and any(d.glob("point-*/run-*.parquet"))

    def glob(self, table: str, point: int | None = None) -> str:
        """The file pattern of a per-run table (all points or one)."""
        sub = "point-*" if point is None else _point_dir(point)
        return str(self.root / table / sub / "run-*.parquet")

    # -- failures -----------------------------------------------------------------------
    def failure_path(self, point: int, run: int) -> Path:
        """Where the record of a failed run goes."""
        return self.root / "failures" / _point_dir(point) / f"run-{run:05d}.json"

    def write_failure(self, point: int, run: int, record: Mapping[str, Any]) -> Path:
        """Record a failed run (atomically)."""
        return write_json_atomic(dict(record), self.failure_path(point, run))

    def failures(self) -> list[dict[str, Any]]:
        """Every recorded failure, by point and run."""
        base = self.root / "failures"
        out = []
        if base.is_dir():
            for p in sorted(base.glob("point-*/run-*.json")):
                try:
                    out.append(json.loads(p.read_text(encoding="utf-8")))
                except (OSError, json.JSONDecodeError):  # pragma: no cover
                    continue
        return out

    # -- per point ----------------------------------------------------------------------
    def bands_path(self, point: int) -> Path:
        """Where a point's ensemble bands go."""
        return self.root / "bands" / f"{_point_dir(point)}.parquet"
