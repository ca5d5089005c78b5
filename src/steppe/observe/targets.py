"""Published figures as targets: what a targets file holds, and each figure's simulated
counterpart in one run's polls (the poll of the same design, its question, subgroup and
answer). The report compares them over runs (:mod:`steppe.report.targets`); a calibration
fits them (:mod:`steppe.experiments.calibrate`).

A *targets* file is a CSV (``#`` starts a comment line) with one row per published figure:
``poll`` (the name of the scenario's simulated poll that reproduces the real one's design),
``question`` (``stance`` for the model's own question, else a name from ``[questions]``),
``by`` and ``level`` (the subgroup; ``all``, ``all`` for the whole sample), ``answer`` and
``value`` (the published share, a fraction), and optionally ``source`` and ``note``.

Examples
--------
>>> polls = pd.DataFrame({"run": [0, 0], "poll": "P", "question": "stance", "by": "all",
...                       "level": "all", "stance": ["A", "B"], "method": "direct",
...                       "estimate": [0.3, 0.7], "se": [0.02, 0.02], "n_eff": [500.0, 500.0]})
>>> t = pd.DataFrame({"poll": ["P"], "question": ["stance"], "by": ["all"],
...                   "level": ["all"], "answer": ["B"], "value": [0.65]})
>>> target_rows(t, polls)[["estimate", "n_eff"]].to_numpy().tolist()
[[0.7, 500.0]]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ScenarioError, SteppeError
from ..inputs import MAX_TEXT_BYTES, check_file

__all__ = ["TARGET_COLUMNS", "read_targets", "target_rows"]

TARGET_COLUMNS = ["poll", "question", "by", "level", "answer", "value"]


def read_targets(path: str | Path) -> pd.DataFrame:
    """Read a targets file (its format: the module docstring).

    Parameters
    ----------
    path
        The CSV file.

    Returns
    -------
    pandas.DataFrame
        One row per published figure: ``poll``, ``question``, ``by``, ``level``,
        ``answer`` (text), ``value`` (float), ``source`` and ``note`` (empty when absent),
        and any other column of the file.

    Raises
    ------
    SteppeError
        The file is missing, unreadable, lacks a column, or holds a value outside [0, 1]
        (the message names the file, the column and the row).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("poll,question,by,level,answer,value\\nP,stance,all,all,A,0.4\\n")
    >>> read_targets(p)["value"].tolist()
    [0.4]
    """
    path = Path(path)
    try:
        check_file(path, what="targets file", limit=MAX_TEXT_BYTES)
        df = pd.read_csv(path, comment="#", skipinitialspace=True, dtype=str)
    except ScenarioError as exc:
        raise SteppeError(f"{exc.file}: cannot read targets: {exc.message}") from None
    except (OSError, ValueError) as exc:
        raise SteppeError(f"{path}: cannot read targets: {exc}") from None
    missing = [c for c in TARGET_COLUMNS if c not in df.columns]
    if missing:
        raise SteppeError(f"{path}: no column {', '.join(map(repr, missing))} (a targets "
                          f"file needs {', '.join(TARGET_COLUMNS)}; has "
                          f"{', '.join(map(str, df.columns))})")
    value = pd.to_numeric(df["value"], errors="coerce")
    bad = np.flatnonzero(~value.between(0, 1).to_numpy())
    if bad.size:
        i = int(bad[0])
        raise SteppeError(f"{path}: row {i + 2}, column 'value': a share in [0, 1] "
                          f"(a fraction, not a percentage); given {df['value'].iloc[i]!r}")
    out = df.copy()
    out["value"] = value.astype(float)
    for c in ("source", "note"):
        if c not in out.columns:
            out[c] = ""
    out[["source", "note"]] = out[["source", "note"]].fillna("")
    return out.reset_index(drop=True)



def target_rows(targets: pd.DataFrame, polls: pd.DataFrame) -> pd.DataFrame:
    """Each target's simulated counterpart in one run's ``polls`` table: one row per target
    (in order) with ``estimate``, ``se`` and ``n_eff`` of the direct question's estimate
    (NaN where the run has no such poll, question, subgroup or answer).

    Parameters
    ----------
    targets
        The published figures (:func:`read_targets`).
    polls
        One run's simulated polls (``polls.parquet`` rows of one run).

    Returns
    -------
    pandas.DataFrame
        ``estimate``, ``se``, ``n_eff``: one row per target, in the targets' order.
    """
    n = len(targets)
    values = {c: np.full(n, np.nan) for c in _SIMULATED}
    method = polls["method"].to_numpy() if "method" in polls.columns else None
    if method is None or not n:
        return pd.DataFrame(values)
    # the first direct row of each (poll, question, by, level, stance), by a dict lookup: a
    # calibration calls this once per simulation (a pandas merge cost 10 ms of a 14-ms
    # simulation of a small scenario)
    key = [polls[c].to_numpy() if c in polls.columns else None
           for c in ("poll", "question", "by", "level", "stance")]
    if "question" not in polls.columns:  # national polls of the stance question only
        key[1:4] = [None, None, None]
    fill = (None, "stance", "all", "all", None)  # polls without a question column
    first: dict[tuple[str, ...], int] = {}
    for i in np.flatnonzero([str(m) == "direct" for m in method]):
        k = tuple(str(col[i]) if col is not None else str(f) for col, f in zip(key, fill,
                                                                               strict=True))
        first.setdefault(k, int(i))
    found = [first.get(tuple(map(str, t))) for t in zip(
        targets["poll"], targets["question"], targets["by"], targets["level"],
        targets["answer"], strict=True)]
    at = np.array([j for j, i in enumerate(found) if i is not None], dtype=np.int64)
    rows = np.array([i for i in found if i is not None], dtype=np.int64)
    for c in _SIMULATED:
        if c in polls.columns and at.size:
            values[c][at] = polls[c].to_numpy(dtype=float)[rows]
    return pd.DataFrame(values)


#: what :func:`target_rows` reads off a simulated poll
_SIMULATED = ("estimate", "se", "n_eff")
