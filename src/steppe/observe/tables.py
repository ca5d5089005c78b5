"""The tidy output tables, assembled in one place from what runs recorded.

Every table has one row per run and record (and, as its observables ask, per breakdown level
and stance); its value columns are the names of its observables
(:mod:`steppe.observe.observables`) in registration order, each followed by its share column
if it has one, then the table's derived columns. With a calendar, a ``date`` column follows
``time``. The tables of ``steppe run`` (``Result``), of a sweep's run files and of the
report are all built here:

- ``series``: ``run, step, time, [date,] by, level, stance, count, share, expressed_count,
  expressed_share, gap``;
- ``participation`` (with protest): ``run, step, time, [date,] by, level, count, share``;
- ``flows`` (with border flows): ``run, step, time, [date,] present, arrived_<flow>…,
  left_<flow>…``;
- ``polls`` (with polls): one row per run, poll, stance and method
  (:func:`steppe.observe.polls.polls_to_frame`), ``run`` first, ``date`` third;
- ``summary``: one row per run: ``run, seed, final_share_<stance>…,
  final_expressed_share_<stance>…, consensus, consensus_stance, consensus_time, absorbed,
  sweeps, wall_seconds``.

Examples
--------
>>> import numpy as np
>>> from steppe.observe.observables import Recording, registered_observables
>>> obs = {o.key: o.column() for o in registered_observables()}
>>> rec = Recording(time=np.array([0.0, 1.0]), levels=[("all", "all")],
...                 values={("series", "count"): np.array([[[3, 1]], [[2, 2]]]),
...                         ("series", "expressed_count"): np.array([[[3, 1]], [[3, 1]]])},
...                 observables=obs)
>>> out = RunOutput(run=0, recording=rec, consensus_stance=None, consensus_time=None,
...                 final_time=1.0, absorbed=False, wall_seconds=0.1)
>>> frames = tables([out], ("A", "B"), seed=1)
>>> frames["series"][["time", "stance", "share", "gap"]].to_dict("records")[-1]
{'time': 1.0, 'stance': 'B', 'share': 0.5, 'gap': 0.25}
>>> frames["summary"][["final_share_A", "final_expressed_share_A"]].values.tolist()
[[0.5, 0.75]]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .observables import Recording, derived_columns, level_sizes

__all__ = ["SERIES_COLUMNS", "RunOutput", "tables"]

#: the columns of the series table, in order (``date`` follows ``time`` with a calendar)
SERIES_COLUMNS = ["run", "step", "time", "by", "level", "stance", "count", "share",
                  "expressed_count", "expressed_share", "gap"]


@dataclass
class RunOutput:
    """Everything one run produced, as the tables need it.

    Attributes
    ----------
    run : int
    recording : Recording
        The observables over the records.
    consensus_stance : int or None
    consensus_time : float or None
    final_time : float
    absorbed : bool
    wall_seconds : float
    polls : pandas.DataFrame or None
        This run's simulated polls (:func:`steppe.observe.polls.polls_to_frame`).
    final_stance, final_expressed, final_opinion : numpy.ndarray or None
        Final private stances, expressed stances (when they differ from the private ones)
        and private opinions (continuous models), when kept.
    network : dict or None
        The network it ran on, described.
    """

    run: int
    recording: Recording
    consensus_stance: int | None
    consensus_time: float | None
    final_time: float
    absorbed: bool
    wall_seconds: float
    polls: pd.DataFrame | None = None
    final_stance: np.ndarray | None = None
    final_expressed: np.ndarray | None = None
    final_opinion: np.ndarray | None = None
    #: the network it ran on, described (name, n, edges, mean degree, parameters)
    network: dict[str, Any] | None = None

    @property
    def time(self) -> np.ndarray:
        return self.recording.time

    @property
    def counts(self) -> np.ndarray:
        """Agents present privately holding each stance, per record: (records, k)."""
        return self.recording.values["series", "count"][:, 0, :]

    @property
    def expressed_counts(self) -> np.ndarray:
        """Agents present voicing each stance, per record: (records, k)."""
        return self.recording.values["series", "expressed_count"][:, 0, :]


def _steps(time: np.ndarray) -> np.ndarray:
    return np.ceil(time - 1e-9).astype(np.int64)


def _keys(o: RunOutput, repeat: int) -> dict[str, np.ndarray]:
    recs = len(o.time)
    return {"run": np.full(recs * repeat, o.run, dtype=np.int32),
            "step": np.repeat(_steps(o.time), repeat),
            "time": np.repeat(o.time, repeat)}


def _table(outputs: Sequence[RunOutput], table: str,
           stances: Sequence[str]) -> pd.DataFrame | None:
    """One tidy table from the observables recorded into it."""
    present = [o for o in outputs if any(t == table for t, _ in o.recording.values)]
    if not present:
        return None
    first = present[0].recording
    obs = [ob for key, ob in first.observables.items() if key[0] == table]
    per = {o.per for o in obs}
    if len(per) != 1:
        raise ValueError(f"table {table!r} mixes observables per stance, per level and per "
                         "record")
    per_kind = per.pop()
    k = len(stances)
    # the columns of every run and level, joined once at the end (a frame per run and
    # level cost about a millisecond each: most of a small run's overhead)
    parts: dict[str, list[np.ndarray]] = {}

    def add(cols: dict[str, Any]) -> None:
        rows = len(cols["run"])
        for name, v in cols.items():
            parts.setdefault(name, []).append(
                np.full(rows, v, dtype=object) if isinstance(v, str) else np.asarray(v))

    for o in present:
        rec = o.recording
        if per_kind == "record":
            cols: dict[str, Any] = _keys(o, 1)
            for ob in obs:
                cols[ob.name] = rec.values[table, ob.name]
            add(cols)
            continue
        sizes = level_sizes(rec) if any(ob.share for ob in obs) else None
        for li, (by, label) in enumerate(rec.levels):
            if per_kind == "stance":
                cols = _keys(o, k)
                cols["by"] = by
                cols["level"] = label
                cols["stance"] = np.tile(np.arange(k), len(o.time))
            else:
                cols = _keys(o, 1)
                cols["by"] = by
                cols["level"] = label
            for ob in obs:
                v = rec.values[table, ob.name][:, li]
                cols[ob.name] = v.reshape(-1).astype(np.int64)
                if ob.share:
                    size = sizes[:, li]
                    share = v / (size[:, None] if per_kind == "stance" else size)
                    cols[ob.share] = share.reshape(-1)
            add(cols)
    df = pd.DataFrame({name: np.concatenate(arrays) for name, arrays in parts.items()})
    for d in derived_columns(table):
        df[d.name] = d.compute(df)
    if per_kind != "record":
        if per_kind == "stance":
            df["stance"] = pd.Categorical.from_codes(df["stance"].to_numpy(dtype=np.int64),
                                                     categories=list(stances))
        df["by"] = df["by"].astype("category")
        df["level"] = df["level"].astype("category")
    return df


def _summary(outputs: Sequence[RunOutput], stances: Sequence[str], seed: int) -> pd.DataFrame:
    rows = []
    for o in outputs:
        final = o.counts[-1]
        n = int(final.sum())
        expressed = o.expressed_counts[-1]
        row: dict[str, Any] = {"run": o.run, "seed": seed}
        for code, label in enumerate(stances):
            row[f"final_share_{label}"] = final[code] / n
        for code, label in enumerate(stances):
            row[f"final_expressed_share_{label}"] = expressed[code] / n
        row["consensus"] = o.consensus_stance is not None
        row["consensus_stance"] = None if o.consensus_stance is None else stances[
            o.consensus_stance]
        row["consensus_time"] = math.nan if o.consensus_time is None else o.consensus_time
        row["absorbed"] = o.absorbed
        row["sweeps"] = o.final_time
        row["wall_seconds"] = o.wall_seconds
        rows.append(row)
    return pd.DataFrame(rows)


def tables(outputs: Sequence[RunOutput], stances: Sequence[str], *, seed: int,
           dates: Callable[[np.ndarray], np.ndarray | None] | None = None
           ) -> dict[str, pd.DataFrame]:
    """The tables of finished runs (see the module docstring for their columns).

    Parameters
    ----------
    outputs
        The runs, in the order their rows should come.
    stances
        The stance labels (the runs' own labels, stances then other answers such as
        "dont_know", take precedence when they recorded them).
    seed
        The scenario's seed (the summary's ``seed`` column).
    dates
        Calendar dates of times in sweeps (``LoadedScenario.dates``), or None.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``series`` and ``summary`` always; the tables of pressures' observables and
        ``polls`` when a run recorded them.
    """
    labels = next((tuple(o.recording.labels) for o in outputs
                   if o.recording.labels is not None), None)
    if labels is not None:  # the recorded categories: the stances, then other answers
        stances = labels
    names = list(dict.fromkeys(t for o in outputs for t in o.recording.tables()))
    out: dict[str, pd.DataFrame] = {}
    for name in names:
        df = _table(outputs, name, stances)
        if df is not None:
            out[name] = df
    if "series" not in out:
        out["series"] = pd.DataFrame(columns=SERIES_COLUMNS)
    frames = [o.polls.assign(run=o.run) for o in outputs if o.polls is not None]
    if frames:
        polls = pd.concat(frames, ignore_index=True)
        out["polls"] = polls[["run", *[c for c in polls.columns if c != "run"]]]
    if dates is not None:
        for name, df in out.items():
            d = dates(df["time"].to_numpy())
            if d is not None:
                df.insert(2 if name == "polls" else 3, "date", d)
    out["summary"] = _summary(outputs, stances, seed)
    return out
