"""The design analysis as a reader sees it: a table of candidate polls and a plot of power
against sample size (:mod:`steppe.experiments.design`).

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"design": ["direct, n=500", "direct, n=1000"], "method": ["direct"] * 2,
...                   "n": [500, 1000], "items": pd.array([None, None], dtype="Int64"),
...                   "placebo": [False, False], "mean_a": [0.30, 0.30],
...                   "mean_b": [0.36, 0.36], "sd_a": [0.02, 0.015], "sd_b": [0.02, 0.015],
...                   "bias_a": [-0.01, -0.01], "bias_b": [0.0, 0.0], "a_low": [0.27, 0.28],
...                   "a_high": [0.33, 0.32], "b_low": [0.33, 0.34], "b_high": [0.39, 0.38],
...                   "power_vs_a": [0.6, 0.9], "power_vs_b": [0.55, 0.85],
...                   "power": [0.55, 0.85], "power_se": [0.05, 0.03],
...                   "enough": [False, True]})
>>> s = {"a": "a.toml", "b": "b.toml", "poll": "Nov", "date": "2022-11-15", "answer": "russia",
...      "runs": 10, "reps": 50, "alpha": 0.1, "power": 0.8, "private_a": 0.3,
...      "private_b": 0.36, "voiced_a": 0.2, "voiced_b": 0.3, "overrides": {},
...      "overrides_b": {}}
>>> print(design_markdown(t, s).splitlines()[-1])
Smallest design reaching 80% power: **direct, n=1000** (power 85% ± 3%).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .plots import _figure, _percent, _save

__all__ = ["design_markdown", "plot_design"]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _reading(settings: Mapping[str, Any], which: str) -> str:
    over = dict(settings.get("overrides") or {})
    if which == "b":
        over.update(settings.get("overrides_b") or {})
    sets = ", ".join(f"{k} = {v!r}" for k, v in over.items())
    return f"{settings[which]}" + (f" with {sets}" if sets else "")


def design_markdown(table: pd.DataFrame, settings: Mapping[str, Any], *,
                    rows: bool = True) -> str:
    """Markdown: what was compared, each candidate's estimates, ranges and power (without
    ``rows``: not the table), and the smallest design that tells the readings apart."""
    s = settings
    lines = [
        "## Which poll tells the readings apart",
        "",
        f"- **A**: {_reading(s, 'a')}",
        f"- **B**: {_reading(s, 'b')}",
        "",
        f"At the date of poll {s['poll']!r} (the simulated step of {s['date']}) the private "
        f"share of "
        f"{s['answer']!r} is {_pct(s['private_a'])} under A and {_pct(s['private_b'])} under "
        f"B (voiced: {_pct(s['voiced_a'])} and {_pct(s['voiced_b'])}; means over "
        f"{s['runs']} runs). Each candidate polled every run {s['reps']} times. A poll "
        f"contradicts a reading when its estimate of the {s['answer']!r} share falls outside "
        f"the reading's central {100 * (1 - s['alpha']):.0f}% range; *power* is the smaller "
        "of the two chances of contradicting the reading that is false (± its Monte Carlo "
        "standard error over runs). *Bias* is the mean estimate minus the private share.",
        "",
    ]
    if rows:
        lines += ["| design | A: mean (range) | B: mean (range) | bias A | bias B | power vs A "
                  "| power vs B | power |", "|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows() if rows else ():
        lines.append(
            f"| {r['design']} | {_pct(r['mean_a'])} ({_pct(r['a_low'])}–{_pct(r['a_high'])}) "
            f"| {_pct(r['mean_b'])} ({_pct(r['b_low'])}–{_pct(r['b_high'])}) "
            f"| {100 * r['bias_a']:+.1f} pp | {100 * r['bias_b']:+.1f} pp "
            f"| {_pct(r['power_vs_a'])} | {_pct(r['power_vs_b'])} "
            f"| {'**' if r['enough'] else ''}{100 * r['power']:.0f}% ± "
            f"{100 * r['power_se']:.0f}%{'**' if r['enough'] else ''} |")
    if rows:
        lines.append("")
    ok = table[table["enough"]]
    if ok.empty:
        best = table.loc[table["power"].idxmax()]
        lines.append(f"No candidate reaches {100 * s['power']:.0f}% power; the best is "
                     f"**{best['design']}** ({100 * best['power']:.0f}%). Larger samples "
                     "help only while sampling error dominates: when the readings' ranges "
                     "overlap because the runs themselves vary, no poll of one date "
                     "separates them.")
    else:
        ok = ok.assign(_j=ok["items"].fillna(0)).sort_values(["n", "_j", "placebo"])
        best = ok.iloc[0]
        lines.append(f"Smallest design reaching {100 * s['power']:.0f}% power: "
                     f"**{best['design']}** (power {100 * best['power']:.0f}% ± "
                     f"{100 * best['power_se']:.0f}%).")
    return "\n".join(lines)


def plot_design(table: pd.DataFrame, settings: Mapping[str, Any], path: str | Path) -> Path:
    """Power against sample size, one line per form of question, the target dashed."""
    fig = _figure(7.0, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    forms = table.assign(form=table["design"].str.replace(r", n=\d+$", "", regex=True))
    for form, rows in forms.groupby("form", sort=False):
        rows = rows.sort_values("n")
        style = "-" if rows["method"].iloc[0] == "direct" else "--"
        ax.errorbar(rows["n"], rows["power"], yerr=1.96 * rows["power_se"], marker="o",
                    linestyle=style, capsize=3, label=form)
    ax.axhline(settings["power"], color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ns = np.sort(table["n"].unique())
    ax.set_xticks(ns, [f"{n:,}" for n in ns])
    ax.minorticks_off()
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(_percent_formatter())
    ax.set_xlabel("interviews (n)")
    ax.set_ylabel("power (the smaller of the two directions)")
    ax.set_title(f"Telling A from B with poll {settings['poll']!r} ({settings['date']}): "
                 f"the {settings['answer']!r} share", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.grid(alpha=0.3)
    return _save(fig, Path(path))


def _percent_formatter() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(_percent)
