"""Every published figure beside the simulated poll of the same design.

A *targets* file is a CSV (``#`` starts a comment line) with one row per published figure:

``poll``
    the name of the scenario's simulated poll that reproduces the real one's design (its
    date, frame, sample size, stratification, non-response, weighting and question);
``question``
    the poll's question (``stance`` for the model's own question, which stance one
    supports; otherwise a name from the scenario's ``[questions]``);
``by``, ``level``
    the subgroup (``all``, ``all`` for the whole sample; e.g. ``age``, ``60+``): the poll
    must ``report_by`` that attribute;
``answer``
    the answer whose share was published (a stance, ``dont_know``, or the question's own
    answer);
``value``
    the published share of all respondents in the subgroup, as a fraction;

and optionally ``source`` and ``note`` (where the figure comes from; "derived" figures such
as a "don't know" share computed as 1 minus the published shares say so).

For each figure, :func:`compare_targets` takes the simulated poll's estimate in every run
(sampling error and the poll's design included: the same observation model as the real
poll) and reports the median and the central 90% range over runs, and whether the
published figure falls inside it. The range is that of one poll per run: it includes the
spread between runs and the poll's own sampling error, so a published figure outside it is
one this setting of the model cannot be expected to produce.

Examples
--------
>>> polls = pd.DataFrame({"run": [0, 1, 2], "poll": "P", "question": "stance", "by": "all",
...                       "level": "all", "stance": "A", "method": "direct",
...                       "estimate": [0.30, 0.35, 0.40]})
>>> t = pd.DataFrame({"poll": ["P"], "question": ["stance"], "by": ["all"],
...                   "level": ["all"], "answer": ["A"], "value": [0.39]})
>>> r = compare_targets(t, polls).iloc[0]
>>> round(float(r["median"]), 2), bool(r["inside"])
(0.35, True)
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..observe.targets import TARGET_COLUMNS, read_targets

__all__ = ["TARGET_COLUMNS", "compare_targets", "plot_targets", "published_by",
           "read_targets", "targets_markdown"]

#: the central range over runs a published figure is compared with
RANGE = 0.90


def compare_targets(targets: pd.DataFrame, polls: pd.DataFrame | None,
                    coverage: float = RANGE) -> pd.DataFrame:
    """Each published figure beside its simulated poll over runs.

    Returns
    -------
    pandas.DataFrame
        The targets' columns, then ``median``, ``low``, ``high`` (the central ``coverage``
        range of the simulated estimate over runs), ``runs``, ``inside`` (the published
        value within the range; False where nothing was simulated) and ``missing`` (why
        nothing matched, else "").
    """
    rows = []
    sim = polls if polls is not None else pd.DataFrame(
        columns=["poll", "question", "by", "level", "stance", "method", "estimate"])
    if not sim.empty:
        sim = sim[sim["method"].astype(str) == "direct"]
        if "question" not in sim.columns:  # results from before questions existed
            sim = sim.assign(question="stance", by="all", level="all")
    keys = {c: sim[c].astype(str) for c in ("poll", "question", "by", "level", "stance")}
    q = ((1 - coverage) / 2, 0.5, 1 - (1 - coverage) / 2)
    for t in targets.itertuples(index=False):
        sel = ((keys["poll"] == str(t.poll)) & (keys["question"] == str(t.question))
               & (keys["by"] == str(t.by)) & (keys["level"] == str(t.level))
               & (keys["stance"] == str(t.answer)))
        est = sim.loc[sel, "estimate"].to_numpy(dtype=float)
        est = est[np.isfinite(est)]
        row = {c: getattr(t, c) for c in targets.columns}
        if est.size == 0:
            row.update(median=np.nan, low=np.nan, high=np.nan, runs=0, inside=False,
                       missing=_why(sim, keys, t))
        else:
            lo, med, hi = np.quantile(est, q)
            row.update(median=med, low=lo, high=hi, runs=int(est.size),
                       inside=bool(lo <= t.value <= hi), missing="")
        rows.append(row)
    return pd.DataFrame(rows)


def published_by(targets: pd.DataFrame, polls: pd.DataFrame | None, attribute: str,
                 stance: str, *, question: str = "stance",
                 scenario_polls: list[dict] | None = None) -> pd.DataFrame:
    """The published figures of one breakdown and answer, placed in time, with a 95%
    sampling interval: what the breakdown panels draw beside the simulated subgroups.

    Parameters
    ----------
    targets
        The targets file (:func:`read_targets`).
    polls
        ``polls.parquet``: gives each poll's date (or time) and the subgroup's sample size
        (``n`` of the poll's rows for that subgroup, median across runs).
    attribute
        The breakdown (the targets' ``by``), e.g. ``age``.
    stance
        The answer (the targets' ``answer``).
    question
        The question (default: the model's own, ``stance``).
    scenario_polls
        The scenario's ``polls`` list: each poll's ``at`` when ``polls`` lacks it.

    Returns
    -------
    pandas.DataFrame
        ``poll``, ``level``, ``value``, ``n``, ``ci_low``, ``ci_high`` (binomial normal
        approximation ``p ± 1.96·sqrt(p(1 − p)/n)``, NaN without ``n``) and ``date``
        and/or ``time``; rows whose poll cannot be placed in time are left out.

    Examples
    --------
    >>> t = pd.DataFrame({"poll": ["P"], "question": ["stance"], "by": ["age"],
    ...                   "level": ["60+"], "answer": ["A"], "value": [0.34]})
    >>> p = pd.DataFrame({"poll": "P", "by": "age", "level": "60+", "time": 3.0,
    ...                   "n": [100, 100]})
    >>> r = published_by(t, p, "age", "A").iloc[0]
    >>> float(r["time"]), round(float(r["ci_high"]), 3)
    (3.0, 0.433)
    """
    cols = ["poll", "level", "value", "n", "ci_low", "ci_high", "date", "time"]
    t = targets[(targets["by"].astype(str) == attribute)
                & (targets["question"].astype(str) == question)
                & (targets["answer"].astype(str) == stance)]
    if t.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for r in t.itertuples(index=False):
        row: dict = {"poll": str(r.poll), "level": str(r.level), "value": float(r.value),
                     "n": np.nan, "date": pd.NaT, "time": np.nan}
        if polls is not None and not polls.empty and "poll" in polls.columns:
            at = polls[polls["poll"].astype(str) == str(r.poll)]
            if not at.empty:
                if "date" in at.columns and at["date"].notna().any():
                    row["date"] = pd.Timestamp(at["date"].dropna().iloc[0])
                if "time" in at.columns:
                    row["time"] = float(at["time"].iloc[0])
                sub = at
                if {"by", "level"} <= set(at.columns):
                    sub = at[(at["by"].astype(str) == attribute)
                             & (at["level"].astype(str) == str(r.level))]
                if "n" in sub.columns and not sub.empty:
                    row["n"] = float(np.nanmedian(sub["n"].to_numpy(dtype=float)))
        if pd.isna(row["date"]) and not np.isfinite(row["time"]):
            for sp in scenario_polls or []:
                if str(sp.get("name")) == str(r.poll) and sp.get("at") is not None:
                    if isinstance(sp["at"], str):
                        row["date"] = pd.Timestamp(sp["at"])
                    else:
                        row["time"] = float(sp["at"])
        if pd.isna(row["date"]) and not np.isfinite(row["time"]):
            continue
        p, n = row["value"], row["n"]
        half = 1.96 * math.sqrt(p * (1 - p) / n) if np.isfinite(n) and n > 0 else np.nan
        row["ci_low"], row["ci_high"] = max(0.0, p - half), min(1.0, p + half)
        rows.append(row)
    out = pd.DataFrame(rows, columns=cols)
    if out["date"].isna().all():
        out = out.drop(columns=["date"])
    elif out["date"].notna().all():
        out["date"] = pd.to_datetime(out["date"])
    return out


def _why(sim: pd.DataFrame, keys: dict[str, pd.Series], t: object) -> str:
    """Why a target matched no simulated estimate (for the report)."""
    if not (keys["poll"] == str(t.poll)).any():
        return f"no simulated poll named {t.poll!r}"
    at = keys["poll"] == str(t.poll)
    if not (at & (keys["question"] == str(t.question))).any():
        return f"poll {t.poll!r} asks no question {t.question!r}"
    at &= keys["question"] == str(t.question)
    if not (at & (keys["by"] == str(t.by)) & (keys["level"] == str(t.level))).any():
        return f"poll {t.poll!r} is not broken down by {t.by} = {t.level}"
    return f"poll {t.poll!r} has no answer {t.answer!r}"


def _pp(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{100 * x:.1f}%"


def targets_markdown(table: pd.DataFrame, coverage: float = RANGE) -> str:
    """The comparison as a Markdown section: a count of the figures inside their range and
    one row per figure."""
    inside = int(table["inside"].sum())
    compared = int((table["runs"] > 0).sum())
    lines = ["## Every published figure beside its simulated poll", "",
             f"{inside} of {len(table)} published figures fall inside the central "
             f"{coverage:.0%} range of the simulated poll of the same design"
             + (f" ({len(table) - compared} not simulated)" if compared < len(table)
                else "") + ". The range is over runs, one poll each: it holds the spread "
             "between runs and the poll's sampling error. A figure outside it is one this "
             "setting of the model does not produce.", "",
             "| poll | question | subgroup | answer | published | simulated: median "
             f"| {coverage:.0%} range | inside |",
             "|---|---|---|---|---:|---:|---:|:---:|"]
    for r in table.itertuples(index=False):
        sub = "all" if str(r.by) == "all" else f"{r.by} {r.level}"
        mark = "yes" if r.inside else ("–" if r.runs == 0 else "**no**")
        rng = "–" if r.runs == 0 else f"{_pp(r.low)} to {_pp(r.high)}"
        note = f" ({r.note})" if str(getattr(r, "note", "")).startswith("derived") else ""
        lines.append(f"| {r.poll} | {r.question} | {sub} | {r.answer}{note} | "
                     f"{_pp(r.value)} | {_pp(r.median)} | {rng} | {mark} |")
    missing = [f"- {r.poll} / {r.question} / {r.by} {r.level} / {r.answer}: {r.missing}"
               for r in table.itertuples(index=False) if r.missing]
    if missing:
        lines += ["", "Not simulated:", *missing]
    return "\n".join(lines) + "\n"


def plot_targets(table: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """One row per published figure: the simulated 90% range (bar) and median (dot), the
    published value (black diamond; red when outside the range)."""
    from matplotlib.lines import Line2D

    from .plots import _figure, _save

    t = table.reset_index(drop=True)
    n = len(t)
    fig = _figure(8.5, 0.32 * n + 2.0)
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(n)[::-1]
    for yi, r in zip(y, t.itertuples(index=False), strict=True):
        if r.runs > 0:
            ax.plot([100 * r.low, 100 * r.high], [yi, yi], color="#0072B2", lw=5,
                    alpha=0.35, solid_capstyle="butt")
            ax.plot(100 * r.median, yi, "o", color="#0072B2", ms=4)
        ax.plot(100 * r.value, yi, "D", color="black" if r.inside else "#D55E00", ms=5)
    labels = [f"{r.poll} · {r.question} · "
              f"{'all' if str(r.by) == 'all' else f'{r.by} {r.level}'} · {r.answer}"
              for r in t.itertuples(index=False)]
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlabel("share of respondents (%)")
    ax.set_xlim(left=0)
    ax.grid(axis="x", alpha=0.3)
    fig.legend(handles=[
        Line2D([], [], color="#0072B2", lw=5, alpha=0.35, label="simulated poll: 90% range"),
        Line2D([], [], color="#0072B2", marker="o", lw=0, label="simulated: median"),
        Line2D([], [], color="black", marker="D", lw=0, label="published (inside)"),
        Line2D([], [], color="#D55E00", marker="D", lw=0, label="published (outside)")],
        fontsize=7, loc="outside lower center", ncols=4, frameon=False)
    inside = int(t["inside"].sum())
    ax.set_title((title + "\n" if title else "") +
                 f"{inside} of {n} published figures inside the simulated range", fontsize=9)
    return _save(fig, Path(path))
