"""The report's section on which conclusions depend on which assumptions, from the table
``steppe sensitivity`` writes (:mod:`steppe.experiments.sensitivity`).

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"assumption": ["baseline", "a", "a"], "path": [None, "x", "x"],
...                       "end": ["base", "low", "high"], "value": [None, 1.0, 2.0],
...                       "outcome": ["final private share of A"] * 3,
...                       "median": [0.30, 0.20, 0.40], "q05": [0.3, 0.2, 0.4],
...                       "q95": [0.3, 0.2, 0.4], "runs": [2, 2, 2]})
>>> sensitivity_markdown(frame, tables=False).splitlines()[6]
'Baseline: 30.0%. Depends on: a. '
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..experiments.sensitivity import swings

__all__ = ["sensitivity_markdown"]


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
