"""SQL over a sweep folder with DuckDB: the runs, series, bands and outcomes as views.

Views (each only when the sweep has written it):

``points``
    ``point, seed`` and one column per swept field (dots become ``_``:
    ``committed.fraction`` → ``committed_fraction``).
``runs``
    one row per finished run: ``point, run``, the swept fields, then the run's summary
    (``seed, final_share_<s>, final_expressed_share_<s>, consensus, consensus_stance,
    consensus_time, absorbed, sweeps, wall_seconds``).
``series``
    the tidy series of every run, with ``point`` and the swept fields (``by`` is an SQL
    keyword: quote it, ``WHERE "by" = 'group'``).
``bands``
    per point, breakdown level, stance and time: median and 50%/90% bands over runs.
``outcomes``
    per point: consensus probabilities with standard errors, mean final shares, consensus
    times (see :mod:`steppe.experiments.summaries`).
``failures``
    runs that failed: ``point, run, seed, params, error``.
``polls``, ``participation``, ``flows``
    when the scenario has them, per run, like ``series``.

Examples
--------
>>> import tempfile
>>> from steppe.experiments.sweep import sweep
>>> d = tempfile.mkdtemp()
>>> _ = sweep({"name": "q", "seed": 1, "runs": 2, "network": {"kind": "complete", "n": 30},
...            "model": {"name": "voter"}, "stop": {"max_sweeps": 3}},
...           sets=["network.n=30,40"], out=d, workers=1)
>>> query(d, "SELECT network_n, count(*) AS runs FROM runs GROUP BY 1 ORDER BY 1")
   network_n  runs
0         30     2
1         40     2
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import SteppeError
from .store import SweepStore

__all__ = ["connect", "query", "views"]


def _lit(path: str | Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect(path: str | Path) -> Any:
    """An in-memory DuckDB connection with the sweep's views (see the module docstring).

    Raises
    ------
    SteppeError
        ``path`` is not a sweep folder.

    Examples
    --------
    >>> import tempfile
    >>> from steppe.experiments.sweep import sweep
    >>> d = tempfile.mkdtemp()
    >>> _ = sweep({"name": "c", "seed": 1, "runs": 3, "network": {"kind": "complete", "n": 20},
    ...            "model": {"name": "voter"}, "stop": {"max_sweeps": 2}}, out=d, workers=1)
    >>> connect(d).execute("SELECT count(*) FROM runs").fetchone()
    (3,)
    """
    import duckdb

    store = SweepStore(path)
    if not store.root.is_dir():
        raise SteppeError(f"{store.root}: no such sweep folder")
    manifest = store.read_manifest()
    if manifest is None:
        raise SteppeError(f"{store.root}: not a sweep folder (no manifest.json); "
                          "`steppe sweep FILE --out DIR` writes one")
    con = duckdb.connect(":memory:")
    try:
        _views(con, store, manifest)
    except duckdb.Error as exc:
        bad = store.damaged()
        if bad:
            raise SteppeError(f"a file of the sweep folder is damaged: {bad[0][0]} "
                              f"({bad[0][1]}); run the sweep again to redo that run") \
                from None
        raise SteppeError(f"{store.root}: cannot read the sweep folder ({exc})") from None
    # from here on: read-only, over this folder only, and nobody may change that
    root = str(store.root.resolve()).rstrip("/") + "/"
    con.execute(f"SET allowed_directories = [{_lit(root)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def _views(con: Any, store: SweepStore, manifest: dict[str, Any]) -> None:
    """The views (and the failures table) of a sweep folder."""
    params = [c for c in manifest.get("columns", {})]
    pcols = "".join(f", p.{_ident(c)}" for c in params)
    pts = store.root / "points.parquet"
    if pts.exists():
        con.execute(f"CREATE VIEW points AS SELECT * FROM read_parquet({_lit(pts)})")
    else:  # pragma: no cover - a manifest is always written with its points
        con.execute("CREATE VIEW points AS SELECT 0::INTEGER AS point, 0::BIGINT AS seed "
                    "WHERE false")
    for table in store.tables():
        if store.has(table):
            src = f"read_parquet({_lit(store.glob(table))}, union_by_name = true)"
            con.execute(f"CREATE VIEW {table} AS SELECT t.point, t.run{pcols}, "
                        f"t.* EXCLUDE (point, run) FROM {src} t JOIN points p "
                        "ON p.point = t.point")
    if not store.has("runs"):
        con.execute(f"CREATE VIEW runs AS SELECT p.point, 0::INTEGER AS run{pcols} "
                    "FROM points p WHERE false")
    bands = store.root / "bands"
    if bands.is_dir() and any(bands.glob("point-*.parquet")):
        src = f"read_parquet({_lit(bands / 'point-*.parquet')}, union_by_name = true)"
        con.execute(f"CREATE VIEW bands AS SELECT t.point{pcols}, t.* EXCLUDE (point) "
                    f"FROM {src} t JOIN points p ON p.point = t.point")
    out = store.root / "outcomes.parquet"
    if out.exists():
        con.execute(f"CREATE VIEW outcomes AS SELECT * FROM read_parquet({_lit(out)})")
    fails = store.failures()
    frame = pd.DataFrame([{"point": f.get("point"), "run": f.get("run"),
                           "seed": f.get("seed"), "params": str(f.get("params")),
                           "error": f.get("error")} for f in fails],
                         columns=["point", "run", "seed", "params", "error"])
    con.register("_failures_frame", frame)
    con.execute("CREATE TABLE _failures AS SELECT * FROM _failures_frame")
    con.unregister("_failures_frame")
    con.execute("CREATE VIEW failures AS SELECT * FROM _failures")


def views(path: str | Path) -> list[tuple[str, list[str], int]]:
    """Each view of a sweep folder: its name, columns and number of rows.

    Examples
    --------
    >>> import tempfile
    >>> from steppe.experiments.sweep import sweep
    >>> d = tempfile.mkdtemp()
    >>> _ = sweep({"name": "v", "seed": 1, "network": {"kind": "complete", "n": 20},
    ...            "model": {"name": "voter"}, "stop": {"max_sweeps": 2}}, out=d, workers=1)
    >>> [v[0] for v in views(d)]
    ['bands', 'failures', 'outcomes', 'points', 'runs', 'series']
    """
    con = connect(path)
    names = sorted(r[0] for r in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND view_name NOT "
        "LIKE '\\_%' ESCAPE '\\'").fetchall())
    out = []
    for name in names:
        cols = [r[0] for r in con.execute(f"DESCRIBE {_ident(name)}").fetchall()]
        rows = con.execute(f"SELECT count(*) FROM {_ident(name)}").fetchone()[0]
        out.append((name, cols, int(rows)))
    return out


def query(path: str | Path, sql: str) -> pd.DataFrame:
    """Run DuckDB SQL over a sweep folder; return the result as a DataFrame.

    Raises
    ------
    SteppeError
        Not a sweep folder, or the SQL fails (DuckDB's message, and the views there are).
    """
    import duckdb

    con = connect(path)
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise SteppeError(_sql_error(con, sql, exc)) from None
    kinds = [str(st.type).rsplit(".", 1)[-1] for st in statements]
    if len(statements) != 1 or kinds[0] != "SELECT":
        raise SteppeError(
            "SQL: steppe query runs one read-only query (SELECT, WITH ... SELECT, DESCRIBE, "
            "SHOW) over the folder's views; "
            + ("no statement given" if not statements else
               f"{len(statements)} statements given" if set(kinds) == {"SELECT"} else
               f"refused: {', '.join(k for k in kinds if k != 'SELECT')}"))
    try:
        return con.execute(sql).df()
    except duckdb.Error as exc:
        bad = SweepStore(path).damaged() if isinstance(
            exc, duckdb.IOException | duckdb.InvalidInputException) else []
        if bad:
            raise SteppeError(f"a file of the sweep folder is damaged: {bad[0][0]} "
                              f"({bad[0][1]}); run the sweep again to redo that run") \
                from None
        raise SteppeError(_sql_error(con, sql, exc)) from None


def _sql_error(con: Any, sql: str, exc: Exception) -> str:
    """DuckDB's first line, the views there are, and a hint for a common slip."""
    names = ", ".join(v for (v,) in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND view_name NOT "
        "LIKE '\\_%' ESCAPE '\\' ORDER BY 1").fetchall())
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    hint = ""
    for m in re.finditer(r"(\w*)\s*(?<!\")\bby\b(?!\")", sql, re.I):
        if m.group(1).lower() not in ("group", "order", "partition"):
            hint = '; BY is an SQL keyword: write the column as "by"'
    return f"SQL: {first} (views: {names}{hint})"
