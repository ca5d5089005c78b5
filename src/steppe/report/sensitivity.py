"""The report's section on which conclusions depend on which assumptions, from the tables
``steppe sensitivity`` writes: the one-at-a-time swings (:mod:`steppe.experiments.sensitivity`)
and, when present, the global analyses (``gsa-morris-*.parquet``, ``gsa-sobol-*.parquet``,
:mod:`steppe.experiments.gsa`), each with a figure and a paragraph per outcome saying which
assumptions it depends on.

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
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..experiments.gsa import DUMMY, verdicts
from ..experiments.sensitivity import swings

__all__ = ["gsa_files", "gsa_markdown", "gsa_section", "plot_morris", "plot_sobol",
           "sensitivity_markdown"]


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


# -- global sensitivity (Morris, Sobol) -------------------------------------------------------
_GSA_FILE = re.compile(r"^gsa-(morris|sobol)-(prior|posterior)\.parquet$")
_METHOD_TITLE = {"morris": "Morris screening", "sobol": "Sobol indices"}
#: assumptions drawn per panel (the largest; the rest are named in the text)
TOP = 12


def gsa_files(folder: str | Path) -> list[tuple[str, str, Path]]:
    """The global-analysis tables in a results folder: ``(method, over, path)``, Morris
    before Sobol, prior before posterior.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> for n in ("gsa-sobol-prior.parquet", "gsa-morris-posterior.parquet",
    ...           "gsa-sobol-prior-s2.parquet"):
    ...     _ = (d / n).write_bytes(b"")
    >>> [(m, o) for m, o, _ in gsa_files(d)]
    [('morris', 'posterior'), ('sobol', 'prior')]
    """
    found = []
    for path in Path(folder).glob("gsa-*.parquet"):
        m = _GSA_FILE.match(path.name)
        if m:
            found.append((m.group(1), m.group(2), path))
    order = {"morris": 0, "sobol": 1, "prior": 0, "posterior": 1}
    return sorted(found, key=lambda t: (order[t[0]], order[t[1]]))


def _is_morris(frame: pd.DataFrame) -> bool:
    return "mu_star" in frame.columns


def _main_outcomes(frame: pd.DataFrame) -> list[str]:
    """The outcomes a figure draws: the final shares (private, expressed, hidden)."""
    names = list(dict.fromkeys(frame["outcome"]))
    main = [o for o in names if o.startswith("final ")]
    return main or names[:3]


def _named(g: pd.DataFrame, verdict: str, fmt: Any, most: int | None = None) -> str:
    rows = g[g["verdict"] == verdict]
    shown = rows if most is None else rows.head(most)
    text = ", ".join(f"{r['assumption']} ({fmt(r)})" for _, r in shown.iterrows())
    return text + (f" and {len(rows) - len(shown)} more" if len(rows) > len(shown) else "")


def gsa_markdown(frame: pd.DataFrame, method: str, over: str, *,
                 figure: str | None = None) -> str:
    """The report's paragraph on one global analysis: per outcome, the assumptions it
    depends on (by :func:`steppe.experiments.gsa.verdicts`), those it may depend on, and
    the noise floor.

    Parameters
    ----------
    frame
        What :func:`steppe.experiments.gsa.morris` or :func:`~steppe.experiments.gsa.sobol`
        returned (or its Parquet table).
    method, over
        ``"morris"`` or ``"sobol"``; ``"prior"`` or ``"posterior"``.
    figure
        File name of the figure to include, if any.

    Examples
    --------
    >>> t = pd.DataFrame({"outcome": ["final private share of A"] * 2,
    ...                   "assumption": ["committed", DUMMY], "path": ["c", None],
    ...                   "mu_star": [0.2, 0.01], "mu_star_conf": [0.02, 0.005],
    ...                   "sigma": [0.1, 0.01], "mu": [0.2, 0.0]})
    >>> print(gsa_markdown(t, "morris", "prior").splitlines()[4].replace(". ", ".\\n"))
    - **final private share of A** depends on: committed (μ* 20.0 pp ± 2.0).
    Noise floor: μ* 1.0 pp.
    """
    morris_table = method == "morris"
    v = verdicts(frame)
    where = ("each over its prior (uniform over its range unless the scenario gives it "
             "a prior distribution)" if over == "prior" else
             "each over its posterior marginal (from the calibration; assumptions taken "
             "as independent, their posterior correlations ignored)")
    if morris_table:
        intro = (f"Every assumption was varied at once, {where}. μ* is the mean "
                 "absolute change of the outcome when the assumption moves over its full "
                 "range (pp), ± its 95% interval; σ, the spread of that change (large: "
                 "interactions or non-linearity). Within a trajectory every run had the "
                 "same seed, so the changes are the assumptions' doing; the dummy's μ* "
                 "(a factor that changes only the seed) is the size of run-to-run noise. "
                 "An outcome *depends* on an assumption when μ* minus its interval is "
                 "above that floor (and 0.5 pp); *maybe* when μ* itself is.")

        def fmt(r: Any) -> str:
            return f"μ* {100 * r['mu_star']:.1f} pp ± {100 * r['mu_star_conf']:.1f}"
    else:
        intro = (f"Every assumption was varied at once, {where}; each sample point one "
                 "run with its own seed. S1 is the share of the outcome's variance due to "
                 "the assumption alone, ST the share it has a part in (interactions "
                 "included), each ± its 95% interval. The variance includes run-to-run "
                 "noise: every ST carries the noise's share, which is the dummy's ST (a "
                 "factor that changes only the seed). An outcome *depends* on an "
                 "assumption when ST minus its interval is above the dummy's ST (and "
                 "0.01); *maybe* when ST itself is. Small negative values are estimation "
                 "error.")

        def fmt(r: Any) -> str:
            return (f"ST {r['ST']:.2f} ± {r['ST_conf']:.2f}, "
                    f"S1 {r['S1']:.2f} ± {r['S1_conf']:.2f}")
    lines = [f"### {_METHOD_TITLE[method]} over the {over}", "", intro, ""]
    for outcome, g in v.groupby("outcome", sort=False):
        key = "mu_star" if morris_table else "ST"
        g = g.sort_values(key, ascending=False, na_position="last")
        if not (g[key].fillna(0.0) != 0).any():
            lines.append(f"- **{outcome}** does not vary over the sample.")
            continue
        dep, maybe = _named(g, "depends", fmt), _named(g, "maybe", fmt, most=5)
        quiet = int((g["verdict"] == "noise").sum())
        floor = g[g["assumption"] == DUMMY]
        if not floor.empty and np.isfinite(float(floor[key].iloc[0])):
            x = float(floor[key].iloc[0])
            floor_text = (f" Noise floor: μ* {100 * x:.1f} pp." if morris_table
                          else f" Noise share of the variance (dummy's ST): {x:.2f}.")
        else:
            floor_text = " It does not vary at all." if not morris_table else ""
        text = f"- **{outcome}** " + (f"depends on: {dep}." if dep else
                                      "depends on no assumption clearly.")
        if maybe:
            text += f" Maybe on: {maybe}."
        if quiet and (dep or maybe):
            text += f" Not distinguishable from noise: {quiet} other(s)."
        lines.append(text + floor_text)
    lines.append("")
    if figure:
        lines += [f"![{Path(figure).stem}]({figure})", ""]
    return "\n".join(lines)


def _panels(n: int) -> tuple[int, int]:
    return (1, n) if n <= 3 else (math.ceil(n / 2), 2)


def _panel_frame(v: pd.DataFrame, outcome: str, key: str) -> pd.DataFrame:
    g = v[(v["outcome"] == outcome) & (v["assumption"] != DUMMY)]
    return g.sort_values(key, ascending=False, na_position="last").head(TOP).iloc[::-1]


def plot_morris(frame: pd.DataFrame, path: str | Path, *, title: str,
                outcomes: Sequence[str] | None = None) -> Path:
    """Morris screening as bars: per outcome (one panel each), the largest ``mu_star`` with
    their 95% intervals, and the dummy's ``mu_star`` (the noise floor) as a dashed line;
    bars in a darker blue where the outcome depends on the assumption.

    Parameters
    ----------
    frame
        The table of :func:`steppe.experiments.gsa.morris`.
    path
        The PNG to write (atomically).
    title
        Figure title.
    outcomes
        Which outcomes to draw (default: the final shares).
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    from .plots import _figure, _legend, _save, textwrap_label

    v = verdicts(frame)
    panels = list(outcomes) if outcomes is not None else _main_outcomes(frame)
    rows_n = max([2, *(len(_panel_frame(v, o, "mu_star")) for o in panels)])
    nr, nc = _panels(max(1, len(panels)))
    fig = _figure(5.4 * nc, nr * (1.0 + 0.34 * rows_n) + 0.9)
    axes = np.atleast_1d(fig.subplots(nr, nc, squeeze=False).ravel())
    for ax, outcome in zip(axes, panels, strict=False):
        g = _panel_frame(v, outcome, "mu_star")
        if not (v.loc[v["outcome"] == outcome, "mu_star"].fillna(0.0) != 0).any():
            ax.text(0.5, 0.5, "does not vary", transform=ax.transAxes, ha="center",
                    fontsize=9, color="#666666")
            ax.set_title(outcome, fontsize=9.5)
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        y = np.arange(len(g))
        colors = ["#08519c" if x == "depends" else "#9ecae1" for x in g["verdict"]]
        ax.barh(y, g["mu_star"].to_numpy(float), xerr=g["mu_star_conf"].to_numpy(float),
                height=0.6, color=colors, edgecolor="#3182bd", linewidth=0.6,
                error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#333333"})
        floor = v[(v["outcome"] == outcome) & (v["assumption"] == DUMMY)]["mu_star"]
        if len(floor) and np.isfinite(float(floor.iloc[0])):
            ax.axvline(float(floor.iloc[0]), color="#a50f15", linestyle="--", linewidth=1.0)
        ax.set_yticks(y, [textwrap_label(a) for a in g["assumption"]], fontsize=8)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{100 * x:g} pp"))
        ax.set_xlabel("μ*: mean absolute change over the full range", fontsize=8.5)
        ax.set_xlim(left=0)
        ax.set_title(outcome, fontsize=9.5)
        ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
    for ax in axes[len(panels):]:
        ax.set_axis_off()
    _legend(fig, [Patch(facecolor="#08519c"), Patch(facecolor="#9ecae1"),
                  Line2D([], [], color="#333333"),
                  Line2D([], [], color="#a50f15", linestyle="--")],
            ["depends on it", "not clearly", "95% interval", "noise floor (dummy's μ*)"],
            ncols=4)
    fig.suptitle(title, fontsize=11)
    return _save(fig, Path(path))


def plot_sobol(frame: pd.DataFrame, path: str | Path, *, title: str,
               outcomes: Sequence[str] | None = None) -> Path:
    """Sobol indices as paired bars: per outcome (one panel each), ``S1`` and ``ST`` of the
    assumptions with the largest ``ST``, with their 95% intervals, and the dummy's ``ST``
    (the noise's share of the variance) as a dashed line.

    Parameters
    ----------
    frame
        The table of :func:`steppe.experiments.gsa.sobol`.
    path
        The PNG to write (atomically).
    title
        Figure title.
    outcomes
        Which outcomes to draw (default: the final shares).
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from .plots import _figure, _legend, _save, textwrap_label

    v = verdicts(frame)
    panels = list(outcomes) if outcomes is not None else _main_outcomes(frame)
    rows_n = max([2, *(len(_panel_frame(v, o, "ST")) for o in panels)])
    nr, nc = _panels(max(1, len(panels)))
    fig = _figure(5.4 * nc, nr * (1.0 + 0.42 * rows_n) + 0.9)
    axes = np.atleast_1d(fig.subplots(nr, nc, squeeze=False).ravel())
    err = {"elinewidth": 0.8, "capsize": 2, "ecolor": "#333333"}
    for ax, outcome in zip(axes, panels, strict=False):
        g = _panel_frame(v, outcome, "ST")
        y = np.arange(len(g))
        if g["ST"].notna().any():
            ax.barh(y + 0.18, g["ST"].to_numpy(float), xerr=g["ST_conf"].to_numpy(float),
                    height=0.36, color="#3182bd", error_kw=err)
            ax.barh(y - 0.18, g["S1"].to_numpy(float), xerr=g["S1_conf"].to_numpy(float),
                    height=0.36, color="#fdae6b", error_kw=err)
        else:
            ax.text(0.5, 0.5, "does not vary", transform=ax.transAxes, ha="center",
                    fontsize=9, color="#666666")
            ax.set_title(outcome, fontsize=9.5)
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        floor = v[(v["outcome"] == outcome) & (v["assumption"] == DUMMY)]["ST"]
        if len(floor) and np.isfinite(float(floor.iloc[0])):
            ax.axvline(float(floor.iloc[0]), color="#a50f15", linestyle="--", linewidth=1.0)
        ax.axvline(0, color="#333333", linewidth=0.6)
        ax.set_yticks(y, [textwrap_label(a) for a in g["assumption"]], fontsize=8)
        # indices are shares: wide intervals (few samples) are cut at -0.25 and 1.25
        ends = np.concatenate([(g[c] + sign * g[f"{c}_conf"]).to_numpy(float)
                               for c in ("S1", "ST") for sign in (-1, 1)])
        ends = ends[np.isfinite(ends)]
        lo, hi = (float(ends.min()), float(ends.max())) if ends.size else (0.0, 1.0)
        ax.set_xlim(max(-0.25, min(lo, 0.0) - 0.03), min(1.25, max(hi, 0.1) + 0.03))
        cut = lo < -0.25 or hi > 1.25
        ax.set_xlabel("share of the outcome's variance"
                      + ("\n(intervals cut at −0.25 and 1.25)" if cut else ""), fontsize=8.5)
        ax.set_title(outcome, fontsize=9.5)
        ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
    for ax in axes[len(panels):]:
        ax.set_axis_off()
    _legend(fig, [Patch(facecolor="#3182bd"), Patch(facecolor="#fdae6b"),
                  Line2D([], [], color="#333333"),
                  Line2D([], [], color="#a50f15", linestyle="--")],
            ["ST (total, with interactions)", "S1 (alone)", "95% interval",
             "noise share (dummy's ST)"], ncols=4)
    fig.suptitle(title, fontsize=11)
    return _save(fig, Path(path))


def gsa_section(results_dir: str | Path, out: str | Path, *, name: str
                ) -> tuple[list[Path], str]:
    """The report's part on the global analyses of a results folder: one figure per table
    (``gsa-morris-prior.png`` ...) written into ``out``, and the markdown (empty when the
    folder has no ``gsa-*.parquet``).

    Examples
    --------
    >>> import tempfile
    >>> gsa_section(tempfile.mkdtemp(), tempfile.mkdtemp(), name="x")
    ([], '')
    """
    found = gsa_files(results_dir)
    if not found:
        return [], ""
    written: list[Path] = []
    parts = ["## Global sensitivity: all assumptions varied at once", ""]
    for method, over, path in found:
        frame = pd.read_parquet(path)
        if frame.empty:
            continue
        draw = plot_morris if method == "morris" else plot_sobol
        fig = draw(frame, Path(out) / f"{path.stem}.png",
                   title=f"{name}: {_METHOD_TITLE[method]} over the {over}")
        written.append(fig)
        parts.append(gsa_markdown(frame, method, over, figure=fig.name))
    return written, "\n".join(parts)
