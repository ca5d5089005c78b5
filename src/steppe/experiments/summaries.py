"""What an ensemble of runs says: outcomes per sweep point and bands over time.

Outcomes (one row per point, from the per-run summaries)
-------------------------------------------------------
``runs``
    finished runs of the point.
``final_share_<s>``, ``final_share_<s>_se``
    mean final private share of stance ``s`` over runs, and its standard error
    (sd / √runs); likewise ``final_expressed_share_<s>``.
``p_consensus``, ``p_consensus_<s>`` (and ``_se``)
    share of runs that reached consensus (on ``s``), with the binomial standard error
    √(p(1 − p) / runs).
``consensus_time``, ``consensus_time_se``, ``consensus_time_median``, ``consensus_runs``
    mean, its standard error, and median of the consensus time over the runs that reached
    consensus (how many: ``consensus_runs``); null where none did.

Bands (one row per point, breakdown, stance and time)
-----------------------------------------------------
The median and the central 50% and 90% of runs (``q05, q25, median, q75, q95``) of the
private share (``share_*``) and the expressed share (``expressed_share_*``), per stance and
per level of every breakdown (``by`` = ``all``, ``group``, ``region``, ``age``), computed
with ``steppe.report.plots.ensemble_bands`` (runs aligned on the union of their record
times, each held at its last record).

Examples
--------
>>> import pandas as pd
>>> runs = pd.DataFrame({"point": [0, 0, 0, 0], "run": [0, 1, 2, 3],
...                      "final_share_A": [1.0, 1.0, 0.5, 1.0],
...                      "consensus": [True, True, False, True],
...                      "consensus_stance": ["A", "A", None, "A"],
...                      "consensus_time": [10.0, 20.0, None, 30.0]})
>>> o = outcomes_frame(runs, ["A"])
>>> o[["runs", "p_consensus_A", "consensus_time"]].to_dict("records")
[{'runs': 4, 'p_consensus_A': 0.75, 'consensus_time': 20.0}]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["BAND_STATS", "bands_frame", "outcome_names", "outcomes_frame"]

#: the percentiles of the bands: 90% band, 50% band and the median
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: the band columns for each value, in the order of ``QUANTILES``
BAND_STATS = ("q05", "q25", "median", "q75", "q95")


def _se_mean(x: pd.Series) -> float:
    x = x.dropna()
    return float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else math.nan


def outcome_names(stances: Sequence[str]) -> list[str]:
    """The outcome columns a phase diagram can show, for these stances.

    Examples
    --------
    >>> outcome_names(["A", "B"])[:4]
    ['p_consensus', 'p_consensus_A', 'p_consensus_B', 'consensus_time']
    """
    return (["p_consensus", *[f"p_consensus_{s}" for s in stances], "consensus_time",
             "consensus_time_median"]
            + [f"final_share_{s}" for s in stances]
            + [f"final_expressed_share_{s}" for s in stances])


def outcomes_frame(runs: pd.DataFrame, stances: Sequence[str]) -> pd.DataFrame:
    """One row per point: how its runs ended (see the module docstring).

    Parameters
    ----------
    runs
        Per-run summaries with a ``point`` column (the ``runs`` table of a sweep).
    stances
        The model's stance labels.
    """
    rows = []
    for point, g in runs.groupby("point", sort=True):
        n = len(g)
        row: dict[str, float | int] = {"point": int(point), "runs": n}
        cons = g["consensus"].astype(bool) if "consensus" in g else pd.Series(False, g.index)
        p = float(cons.mean())
        row["p_consensus"] = p
        row["p_consensus_se"] = math.sqrt(p * (1 - p) / n)
        for s in stances:
            ps = float((g["consensus_stance"] == s).mean()) if "consensus_stance" in g \
                else 0.0
            row[f"p_consensus_{s}"] = ps
            row[f"p_consensus_{s}_se"] = math.sqrt(ps * (1 - ps) / n)
        t = g.loc[cons, "consensus_time"].dropna() if "consensus_time" in g else pd.Series(
            dtype=float)
        row["consensus_runs"] = len(t)
        row["consensus_time"] = float(t.mean()) if len(t) else math.nan
        row["consensus_time_se"] = _se_mean(t)
        row["consensus_time_median"] = float(t.median()) if len(t) else math.nan
        for prefix in ("final_share", "final_expressed_share"):
            for s in stances:
                col = f"{prefix}_{s}"
                if col in g:
                    row[col] = float(g[col].mean())
                    row[f"{col}_se"] = _se_mean(g[col])
        rows.append(row)
    return pd.DataFrame(rows)


def nanquantile_rows(arr: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """``numpy.nanquantile(arr, qs, axis=1)``, the same numbers, fast when most rows have
    no NaN: those go through one vectorised ``numpy.quantile``, rows that are all NaN give
    NaN, and only the rows with some NaN take NumPy's row-by-row path.

    Examples
    --------
    >>> a = np.array([[1.0, 2.0, 3.0], [np.nan, np.nan, np.nan], [1.0, np.nan, 3.0]])
    >>> nanquantile_rows(a, [0.5]).tolist()
    [[2.0, nan, 2.0]]
    """
    out = np.full((len(qs), arr.shape[0]), np.nan)
    nan = np.isnan(arr)
    some = nan.any(axis=1)
    clean = ~some
    if clean.any():
        out[:, clean] = np.quantile(arr[clean], qs, axis=1)
    mixed = some & ~nan.all(axis=1)
    if mixed.any():
        out[:, mixed] = np.nanquantile(arr[mixed], qs, axis=1)
    return out


def bands_frame(series: pd.DataFrame, values: Sequence[str] = ("share", "expressed_share")
                ) -> pd.DataFrame:
    """Median and 50%/90% bands over runs, per breakdown level, stance and time.

    The numbers are those of ``steppe.report.plots.ensemble_bands`` for each
    ``(by, level, stance)`` (runs aligned on the union of their record times, each held at
    its last record; NaN left out), computed for all of them at once.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"run": [0, 0, 1, 1], "time": [0.0, 1.0, 0.0, 1.0],
    ...                   "by": "all", "level": "all", "stance": "A",
    ...                   "share": [0.1, 0.2, 0.3, 0.6], "expressed_share": 0.0})
    >>> b = bands_frame(s)
    >>> b[["time", "runs", "share_median"]].to_dict("records")
    [{'time': 0.0, 'runs': 2, 'share_median': 0.2}, {'time': 1.0, 'runs': 2, 'share_median': 0.4}]
    """
    keys = ["by", "level", "stance"]
    if series.empty:
        return pd.DataFrame(columns=[*keys, "time", "runs"])
    s = series.assign(**{k: series[k].astype(str) for k in keys})
    out: pd.DataFrame | None = None
    for v in values:
        if v not in s:
            continue
        wide = (s.groupby([*keys, "time", "run"], sort=True)[v].last().unstack("run")
                .groupby(level=keys, sort=False).ffill())
        q = nanquantile_rows(wide.to_numpy(dtype=float), QUANTILES)
        if out is None:
            out = wide.index.to_frame(index=False)
            # runs of each (by, level, stance): those with any record there
            seen = wide.notna().groupby(level=keys, sort=False).any().sum(axis=1)
            out["runs"] = seen.reindex(pd.MultiIndex.from_frame(out[keys])).to_numpy(
                dtype=np.int64)
        for i, stat in enumerate(BAND_STATS):
            out[f"{v}_{stat}"] = q[i]
    return out if out is not None else pd.DataFrame(columns=[*keys, "time", "runs"])
