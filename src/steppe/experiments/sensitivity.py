"""Which conclusions depend on which assumption: one-at-a-time sensitivity over the ranges a
scenario declares in its ``[[assumptions]]`` table.

Rule. The scenario is run as it stands (the baseline) and then, for each assumption that
names a field (``path``), once with the field at the low end of its range and once at the
high end, everything else unchanged, the seed included (common random numbers: run r of
every variant starts from the same draws, so differences are the assumption's doing and not
noise). Each run gives the outcomes: the final private and expressed shares of the focus
stance, their gap, and the estimate of each simulated poll of that stance. Per variant the
median over runs is reported, with the 5th–95th percentile across runs; an assumption's
*swing* for an outcome is the high-end median minus the low-end median.

The outcome is said to *depend* on an assumption when the swing (to 0.1 pp) is at least
``threshold`` (default 0.05, five percentage points), and to be *robust* to it below a fifth
of that.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"assumption": ["baseline", "a", "a"], "path": [None, "x", "x"],
...                       "end": ["base", "low", "high"], "value": [None, 1.0, 2.0],
...                       "outcome": ["final private share of A"] * 3,
...                       "median": [0.30, 0.20, 0.40], "q05": [0.3, 0.2, 0.4],
...                       "q95": [0.3, 0.2, 0.4], "runs": [2, 2, 2]})
>>> swings(frame)[["assumption", "swing"]].round(2).to_dict("records")
[{'assumption': 'a', 'swing': 0.2}]
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ScenarioError
from ..observe.writers import write_parquet_atomic
from ..scenario.loader import LoadedScenario, load_scenario

__all__ = ["SENSITIVITY_FILE", "focus_stance", "sensitivity", "sensitivity_markdown",
           "swings"]

#: the file `steppe sensitivity` writes into a results folder
SENSITIVITY_FILE = "sensitivity.parquet"

#: called as progress(done, total, label)
Progress = Callable[[int, int, str], None]


def focus_stance(loaded: LoadedScenario) -> str:
    """The stance the report is about: ``report.stance``, else the first penalised stance,
    else the model's first."""
    spec = loaded.spec
    if spec.report is not None and spec.report.stance:
        return spec.report.stance
    if spec.expression is not None and spec.expression.penalised:
        return spec.expression.penalised[0]
    return loaded.model().stances[0]


def _outcomes(result: Any, focus: str) -> dict[str, np.ndarray]:
    """Per-run outcomes of one variant."""
    s = result.series
    rows = s[(s["by"].astype(str) == "all") & (s["stance"].astype(str) == focus)]
    last = rows.loc[rows.groupby("run", observed=True)["time"].idxmax()].sort_values("run")
    out = {
        f"final private share of {focus}": last["share"].to_numpy(dtype=float),
        f"final expressed share of {focus}": last["expressed_share"].to_numpy(dtype=float),
        f"final hidden share of {focus}": (last["share"] - last["expressed_share"]).to_numpy(
            dtype=float),
    }
    polls = result.polls
    if polls is not None and not polls.empty:
        p = polls[(polls["stance"].astype(str) == focus)
                  & (polls["method"].astype(str) == "direct")]
        for name, g in p.groupby("poll", sort=False):
            out[f"poll {name}: {focus}"] = g.sort_values("run")["estimate"].to_numpy(
                dtype=float)
    return out


def _rows(label: str, path: str | None, end: str, value: Any,
          outcomes: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    rows = []
    for name, x in outcomes.items():
        q05, med, q95 = (np.quantile(x, [0.05, 0.5, 0.95]) if len(x) else (math.nan,) * 3)
        rows.append({"assumption": label, "path": path, "end": end,
                     "value": None if value is None else float(value), "outcome": name,
                     "median": float(med), "q05": float(q05), "q95": float(q95),
                     "runs": len(x)})
    return rows


def sensitivity(scenario: str | Path | LoadedScenario, *, runs: int | None = None,
                workers: int = 1, out: str | Path | None = None,
                overrides: dict[str, Any] | None = None,
                progress: Progress | None = None) -> pd.DataFrame:
    """Run the baseline and both ends of every assumption's range; return the tidy
    outcomes (and write ``sensitivity.parquet`` into ``out``).

    Parameters
    ----------
    scenario
        A scenario file or a loaded scenario with an ``[[assumptions]]`` table.
    runs
        Runs per variant (default: the scenario's).
    workers
        Worker processes per variant (0: all cores).
    out
        Folder to write ``sensitivity.parquet`` into (atomically), or None.
    overrides
        Dotted-path overrides applied to every variant (e.g. ``{"population.scale":
        0.001}``).
    progress
        Called as ``progress(done, total, label)`` after each variant.

    Returns
    -------
    pandas.DataFrame
        Columns ``assumption, path, end, value, outcome, median, q05, q95, runs``; the
        baseline has ``assumption == "baseline"`` and ``end == "base"``.

    Raises
    ------
    ScenarioError
        The scenario declares no assumption with a path, or one of them is invalid.
    """
    from .runner import run

    over = dict(overrides or {})
    loaded = scenario if isinstance(scenario, LoadedScenario) else load_scenario(
        scenario, over)
    if isinstance(scenario, LoadedScenario) and over:
        loaded = load_scenario(scenario.spec.model_dump(mode="json", exclude_none=True), over)
    varied = [(i, a) for i, a in enumerate(loaded.spec.assumptions) if a.path is not None]
    if not varied:
        raise ScenarioError("no assumption to vary: add [[assumptions]] with a path, low "
                            "and high", file=loaded.source, field="assumptions")
    focus = focus_stance(loaded)
    total = 1 + 2 * len(varied)
    rows: list[dict[str, Any]] = []
    base_data = loaded.spec.model_dump(mode="json", exclude_none=True)
    base_data.pop("assumptions", None)

    def one(data: dict[str, Any]) -> dict[str, np.ndarray]:
        # the variant reads relative files (edge lists...) from where the scenario lives
        src = dataclasses.replace(load_scenario(data), source=loaded.source,
                                  base_dir=loaded.base_dir, sha256=loaded.sha256)
        return _outcomes(run(src, runs=runs, workers=workers, keep_final_states=False),
                         focus)

    rows += _rows("baseline", None, "base", None, one(base_data))
    done = 1
    if progress is not None:
        progress(done, total, "baseline")
    for i, a in varied:
        for end in ("low", "high"):
            rows += _rows(a.name, a.path, end, getattr(a, end),
                          one(loaded.assumption_variant(i, end)))
            done += 1
            if progress is not None:
                progress(done, total, f"{a.name} ({end})")
    frame = pd.DataFrame(rows)
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        write_parquet_atomic(frame, Path(out) / SENSITIVITY_FILE)
    return frame


def swings(frame: pd.DataFrame) -> pd.DataFrame:
    """Per assumption and outcome: the medians at the low and high ends and the swing
    (high − low), largest absolute swing first within each outcome."""
    f = frame[frame["end"].isin(["low", "high"])]
    wide = f.pivot_table(index=["outcome", "assumption"], columns="end", values="median",
                         aggfunc="first", sort=False)
    vals = f.pivot_table(index=["outcome", "assumption"], columns="end", values="value",
                         aggfunc="first", sort=False)
    out = pd.DataFrame({"low": wide["low"], "high": wide["high"],
                        "low_value": vals["low"], "high_value": vals["high"]}).reset_index()
    out["swing"] = out["high"] - out["low"]
    out["size"] = out["swing"].abs()
    order = {o: k for k, o in enumerate(dict.fromkeys(frame["outcome"]))}
    out = out.sort_values(["outcome", "size"], ascending=[True, False],
                          key=lambda c: c.map(order) if c.name == "outcome" else c)
    return out.drop(columns="size").reset_index(drop=True)


def _pp(x: float) -> str:
    return f"{100 * x:+.1f} pp"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _num(x: Any) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:g}"


def sensitivity_markdown(frame: pd.DataFrame, *, threshold: float = 0.05,
                         unvaried: Sequence[tuple[str, str]] = (),
                         figure: str | None = None, tables: bool = True) -> str:
    """The report's section on which conclusions depend on which assumptions.

    Parameters
    ----------
    frame
        What :func:`sensitivity` returned (or ``sensitivity.parquet``).
    threshold
        A swing above this (a share: 0.05 is 5 pp) means the outcome depends on the
        assumption; below a fifth of it, that it is robust to it.
    unvaried
        ``(name, note)`` of assumptions that name no single field and were not varied.
    figure
        File name of the tornado plot to include, if any.
    tables
        Include the table of every assumption's swing under each outcome.
    """
    lines = ["## Which conclusions depend on which assumptions", "",
             "Each assumption of the scenario was set to the low and then the high end of "
             "its declared range, everything else (the seed included) unchanged; medians "
             f"over {int(frame['runs'].max())} runs per setting. An outcome *depends* on "
             f"an assumption when the swing (high − low) is {100 * threshold:g} pp or "
             f"more, and is *robust* to it below {100 * threshold / 5:g} pp.", ""]
    base = frame[frame["end"] == "base"].set_index("outcome")["median"]
    sw = swings(frame)
    for outcome, g in sw.groupby("outcome", sort=False):
        b = base.get(outcome, math.nan)
        shown = (g["swing"].abs() * 1000).round() / 1000  # as printed, to 0.1 pp
        big = g[shown >= threshold]["assumption"].tolist()
        small = g[shown < threshold / 5]["assumption"].tolist()
        lines += [f"### {outcome}", "", f"Baseline: {_pct(b)}. "
                  + (f"Depends on: {', '.join(big)}. " if big else
                     "No single assumption moves it by "
                     f"{100 * threshold:g} pp or more. ")
                  + (f"Robust to: {', '.join(small)}." if small else ""), ""]
        if not tables:
            continue
        lines += ["| assumption | range | at low end | at high end | swing |",
                  "|---|---:|---:|---:|---:|"]
        for _, r in g.iterrows():
            lines.append(f"| {r['assumption']} | {_num(r['low_value'])} – "
                         f"{_num(r['high_value'])} | {_pct(r['low'])} | {_pct(r['high'])} | "
                         f"{_pp(r['swing'])} |")
        lines.append("")
    if unvaried:
        lines += ["Assumptions that are not one number and were not varied:", ""]
        lines += [f"- {name}{': ' + note if note else ''}" for name, note in unvaried]
        lines.append("")
    if figure:
        lines += [f"![{Path(figure).stem}]({figure})", ""]
    return "\n".join(lines)
