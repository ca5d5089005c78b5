"""Plots of saved results: ensemble medians and bands of shares over time.

Every plot here reads tidy ``series.parquet`` rows (see :mod:`steppe.experiments.runner`)
and draws, for each quantity, the median across runs and two shaded bands holding the
central 50% and 90% of runs (the 25th–75th and 5th–95th percentiles, NumPy's default
linear interpolation between order statistics).

How runs are aligned
--------------------
Runs may be recorded on different time grids (a run stopped at consensus ends early, at a
fractional sweep). The bands are computed on the *union* of all runs' record times (or
dates, when ``series`` has a ``date`` column). Each run is carried forward onto that grid:
at a grid time a run contributes its most recent record at or before that time
(forward fill), so a run that stopped early is held at its final state, which is where it
stays (it stopped because nothing could change any more, or at the requested consensus).
Before a run's first record it contributes nothing. The ``step`` column is not used: two
runs can share a step number but not a time when one stopped mid-sweep.

Styles: private shares are drawn blue and solid, expressed (voiced) shares vermillion and
dashed (Okabe & Ito's colour-blind-safe palette, with different line styles so that the
plots also read in grey). Figures are :class:`matplotlib.figure.Figure` objects with an Agg
canvas, so no global pyplot state is touched, and each PNG (150 dpi) is written atomically
(:func:`steppe.observe.writers.atomic_path`).

References
----------
Okabe, M. & Ito, K. (2008). Color Universal Design (CUD): how to make figures and
presentations that are friendly to colorblind people. https://jfly.uni-koeln.de/color/

Examples
--------
>>> import pandas as pd
>>> rows = [{"run": r, "time": t, "share": 0.1 * (r + 1) + 0.01 * t}
...         for r in range(3) for t in range(3)]
>>> b = ensemble_bands(pd.DataFrame(rows), "share")
>>> b.runs, b.median.round(2).tolist()
(3, [0.2, 0.21, 0.22])
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from ..experiments.sensitivity import swings
from ..experiments.summaries import QUANTILES, nanquantile_rows
from ..observe.writers import atomic_path

__all__ = [
    "QUANTILES",
    "Bands",
    "ensemble_bands",
    "levels_shown",
    "plot_gap",
    "plot_share",
    "plot_share_by",
    "safe_name",
    "time_column",
]

DPI = 150

#: Okabe–Ito colours
BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, YELLOW, BLACK = (
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
PALETTE = (BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, BLACK, YELLOW)
LINESTYLES = ("-", "--", "-.", ":")
PRIVATE_STYLE = {"color": BLUE, "linestyle": "-", "label": "private (held)"}
EXPRESSED_STYLE = {"color": VERMILLION, "linestyle": "--", "label": "expressed (voiced)"}


@dataclass(frozen=True)
class Bands:
    """Percentiles of one quantity across runs, at each time of a common grid.

    Attributes
    ----------
    x : numpy.ndarray
        The grid: times in sweeps (float) or dates (``datetime64[ns]``), increasing.
    q : numpy.ndarray
        Shape ``(5, len(x))``: the 5th, 25th, 50th, 75th and 95th percentiles.
    runs : int
        Number of runs.
    """

    x: np.ndarray
    q: np.ndarray
    runs: int

    @property
    def median(self) -> np.ndarray:
        """The median across runs at each grid time."""
        return self.q[2]

    def at(self, x0: Any) -> np.ndarray | None:
        """The five percentiles at ``x0`` (the last grid time at or before it), or ``None``
        when ``x0`` lies before the first grid time or after the last one.

        Examples
        --------
        >>> import numpy as np
        >>> b = Bands(np.array([0.0, 1.0]), np.tile([[0.1], [0.2], [0.3], [0.4], [0.5]],
        ...           (1, 2)), runs=2)
        >>> float(b.at(0.5)[2]), b.at(2.0) is None
        (0.3, True)
        """
        x = self.x
        if np.issubdtype(x.dtype, np.datetime64):
            x0 = np.datetime64(pd.Timestamp(x0).to_datetime64(), "ns")
        if len(x) == 0 or x0 < x[0] or x0 > x[-1]:
            return None
        i = int(np.searchsorted(x, x0, side="right")) - 1
        return self.q[:, i]


def time_column(series: pd.DataFrame) -> str:
    """``"date"`` when ``series`` has a non-empty ``date`` column, else ``"time"``.

    Examples
    --------
    >>> import pandas as pd
    >>> time_column(pd.DataFrame({"time": [0.0]}))
    'time'
    """
    if "date" in series.columns and series["date"].notna().any():
        return "date"
    return "time"


def ensemble_bands(frame: pd.DataFrame, value: str, x: str = "time") -> Bands:
    """Median and 50%/90% bands of ``value`` across runs on the union of record times.

    Parameters
    ----------
    frame
        Rows of one quantity (one ``by``/``level``/``stance``), with columns ``run``,
        ``x`` and ``value``.
    value
        The column to summarise (``share``, ``expressed_share``, ``gap``, ...).
    x
        The time column: ``"time"`` (sweeps) or ``"date"``.

    Returns
    -------
    Bands
        Runs aligned by forward fill on the union of their times (see the module
        docstring); NaN values (an empty level) are left out of the percentiles.

    Examples
    --------
    Run 1 stops at time 1; it is held at its last value at time 2:

    >>> import pandas as pd
    >>> f = pd.DataFrame({"run": [0, 0, 0, 1, 1], "time": [0, 1, 2, 0, 1],
    ...                   "share": [0.0, 0.2, 0.4, 1.0, 0.6]})
    >>> ensemble_bands(f, "share").median.tolist()
    [0.5, 0.4, 0.5]
    """
    if frame.empty:
        return Bands(np.array([], dtype=float), np.empty((len(QUANTILES), 0)), 0)
    wide = (frame.groupby([x, "run"], observed=True, sort=True)[value].last()
            .unstack("run").sort_index().ffill())
    arr = wide.to_numpy(dtype=float)
    q = nanquantile_rows(arr, QUANTILES)
    xs = wide.index.to_numpy()
    if x == "date":
        xs = pd.DatetimeIndex(wide.index).as_unit("ns").to_numpy()
    else:
        xs = xs.astype(float)
    return Bands(xs, q, arr.shape[1])


def safe_name(label: str) -> str:
    """A stance or attribute label made safe for a file name.

    Examples
    --------
    >>> safe_name("pro-Russian / Z")
    'pro-Russian_Z'
    """
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(label)).strip("_.") or "x"


# -- figure helpers -----------------------------------------------------------------------
def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    return Path(path)


def _draw(ax: Axes, bands: Bands, style: Mapping[str, Any]) -> tuple[Any, ...]:
    """Shade the 90% and 50% bands and draw the median; return a legend handle."""
    if bands.runs == 0:
        return ()
    c = style["color"]
    ax.fill_between(bands.x, bands.q[0], bands.q[4], color=c, alpha=0.15, linewidth=0)
    ax.fill_between(bands.x, bands.q[1], bands.q[3], color=c, alpha=0.30, linewidth=0)
    ax.plot(bands.x, bands.q[2], color=c, linestyle=style["linestyle"], linewidth=1.8)
    return (Patch(facecolor=c, alpha=0.3, linewidth=0),
            Line2D([], [], color=c, linestyle=style["linestyle"], linewidth=1.8))


def _percent(v: float, _pos: Any = None) -> str:
    """A tick label: a share as a percentage, with no needless decimals (0.4 → 40%) and
    enough for small shares (0.00035 → 0.035%).

    Examples
    --------
    >>> [_percent(x) for x in (0.4, 0.125, 0.00035, -0.05, 0.0)]
    ['40%', '12.5%', '0.035%', '−5%', '0%']
    """
    a = 100 * abs(v)
    if a == 0 or a >= 1:
        text = f"{a:.2f}".rstrip("0").rstrip(".")
    else:  # two significant digits below 1%
        text = f"{a:.{1 - math.floor(math.log10(a))}f}".rstrip("0").rstrip(".")
    return ("\u2212" if v < 0 and text != "0" else "") + text + "%"


def _format_axes(ax: Axes, dated: bool, *, ylabel: str, maxticks: int = 7,
                 span_days: float | None = None) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(_percent))
    ax.set_ylabel(ylabel)
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    if dated:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=maxticks)
        locator.intervald[mdates.MONTHLY] = [1, 2, 3, 4, 6, 12]  # whole months, uncrowded
        ax.xaxis.set_major_locator(locator)
        if span_days is not None and span_days >= 60:
            # months with their year on every tick: "Apr 2022"
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
        else:  # a short run: days, with the month and year once at the axis end
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _span_days(series: pd.DataFrame) -> float | None:
    if "date" not in series.columns:
        return None
    d = pd.to_datetime(series["date"])
    return (d.max() - d.min()) / pd.Timedelta(days=1)


def _subtitle(runs: int) -> str:
    if runs <= 1:
        return "one run (no spread across runs to show)"
    return f"lines: median of {runs} runs; shading: middle 50% and 90% of runs"


def _time_to_date(series: pd.DataFrame, times: np.ndarray) -> np.ndarray | None:
    """Map times in sweeps onto the series' dates (linear between records)."""
    if "date" not in series.columns:
        return None
    pairs = series[["time", "date"]].dropna().drop_duplicates("time").sort_values("time")
    if pairs.empty:
        return None
    t = pairs["time"].to_numpy(dtype=float)
    d = pd.DatetimeIndex(pairs["date"]).as_unit("ns").asi8.astype(float)
    if len(t) == 1:
        return np.full(len(times), d[0]).astype("int64").astype("datetime64[ns]")
    # extrapolate linearly past both ends (the calendar is linear in time)
    slope = (d[-1] - d[0]) / (t[-1] - t[0]) if t[-1] != t[0] else 0.0
    out = np.interp(times, t, d)
    out = np.where(times > t[-1], d[-1] + (times - t[-1]) * slope, out)
    out = np.where(times < t[0], d[0] - (t[0] - times) * slope, out)
    return out.astype("int64").astype("datetime64[ns]")


def _events(ax: Axes, events: Sequence[Mapping[str, Any]], series: pd.DataFrame,
            dated: bool, *, label: bool = True) -> bool:
    """Dotted vertical lines at the timeline's events (labelled with their note, else what
    they set), labels staggered in rows so that they do not overlap; return whether any
    was drawn."""
    drawn = False
    x0, x1 = ax.get_xlim()
    rows: list[float] = []  # right end (axes fraction) of the last label in each row
    for ev in sorted(events, key=lambda e: str(e.get("at"))):
        at = ev.get("at")
        if at is None:
            continue
        if isinstance(at, str):
            if not dated:
                continue
            xv: Any = np.datetime64(pd.Timestamp(at).to_datetime64(), "ns")
        elif dated:
            conv = _time_to_date(series, np.array([float(at)]))
            if conv is None:
                continue
            xv = conv[0]
        else:
            xv = float(at)
        ax.axvline(xv, color="#555555", linestyle=":", linewidth=1.0, zorder=1)
        drawn = True
        if not label:
            continue
        text = ev.get("note") or ev.get("label") or ", ".join(
            f"{k.split('.')[-1]} \u2192 {v}" for k, v in (ev.get("set") or {}).items())
        if not text:
            continue
        text = text if len(text) <= 48 else text[:47] + "\u2026"
        xnum = float(mdates.date2num(xv)) if dated else float(xv)
        frac = (xnum - x0) / (x1 - x0) if x1 > x0 else 0.0
        width = 0.0062 * len(text) + 0.01
        row = next((r for r, end in enumerate(rows) if end < frac), len(rows))
        if row == len(rows):
            rows.append(0.0)
        rows[row] = frac + width
        ax.annotate(text, xy=(xv, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(3, -3 - 9 * row), textcoords="offset points", fontsize=7,
                    color="#444444", va="top", ha="left",
                    bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none",
                          "alpha": 0.7})
    return drawn


def _legend(fig: Figure, handles: list[Any], labels: list[str], ncols: int | None = None,
            loc: str = "outside lower center") -> None:
    pairs = [(h, lab) for h, lab in zip(handles, labels, strict=True) if h != ()]
    if not pairs:
        return
    hs, ls = zip(*pairs, strict=True)
    fig.legend(hs, ls, loc=loc, ncols=ncols or min(len(hs), 3),
               frameon=False, fontsize=8.5,
               handler_map={tuple: HandlerTuple(ndivide=1, pad=0.0)})


def _rows(series: pd.DataFrame, stance: str, by: str = "all",
          level: str | None = "all") -> pd.DataFrame:
    m = (series["by"].astype(str) == by) & (series["stance"].astype(str) == stance)
    if level is not None:
        m &= series["level"].astype(str) == level
    return series.loc[m]


def _has_gap(rows: pd.DataFrame) -> bool:
    g = rows["gap"].to_numpy(dtype=float)
    return bool(np.nanmax(np.abs(g), initial=0.0) > 0)


# -- the plots ----------------------------------------------------------------------------
def plot_share(series: pd.DataFrame, stance: str, path: str | Path, *, title: str,
               observed: pd.DataFrame | None = None,
               simulated_polls: pd.DataFrame | None = None,
               events: Sequence[Mapping[str, Any]] = (),
               ylabel: str | None = None) -> Path:
    """Private and expressed share of ``stance`` over time (``by == "all"``), with polls.

    Parameters
    ----------
    series
        The tidy series (``series.parquet``).
    stance
        The stance label to plot.
    path
        The PNG to write.
    title
        First line of the title (the scenario name and what is shown).
    observed
        Observed polls, as returned by :func:`steppe.report.summary.read_observed_polls`
        (columns ``stance, date, estimate, ci_low, ci_high``); drawn only when ``series``
        has dates.
    simulated_polls
        ``polls.parquet`` rows (``run, time`` and/or ``date, stance, method, estimate,
        ci_low, ci_high``): small markers with their confidence intervals.
    events
        The scenario's timeline (``[{"at": ..., "set": {...}}]``): dotted vertical lines.
    ylabel
        The y-axis label (default: "share of population").

    Returns
    -------
    pathlib.Path
        ``path``. When expressed equals private everywhere (no expression layer), one line
        is drawn, labelled as such.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> s = pd.DataFrame([{"run": r, "time": float(t), "by": "all", "level": "all",
    ...     "stance": "A", "share": 0.5, "expressed_share": 0.4, "gap": 0.1}
    ...     for r in range(2) for t in range(3)])
    >>> p = plot_share(s, "A", pathlib.Path(tempfile.mkdtemp()) / "a.png", title="demo")
    >>> p.read_bytes()[:4] == b"\\x89PNG"
    True
    """
    path = Path(path)
    x = time_column(series)
    dated = x == "date"
    rows = _rows(series, stance)
    fig = _figure(9.0, 5.2)
    ax = fig.add_subplot()
    handles: list[Any] = []
    labels: list[str] = []
    priv = ensemble_bands(rows, "share", x)
    if _has_gap(rows):
        handles.append(_draw(ax, priv, PRIVATE_STYLE))
        labels.append(f"{stance}: {PRIVATE_STYLE['label']}")
        handles.append(_draw(ax, ensemble_bands(rows, "expressed_share", x),
                             EXPRESSED_STYLE))
        labels.append(f"{stance}: {EXPRESSED_STYLE['label']}")
    else:
        handles.append(_draw(ax, priv, PRIVATE_STYLE))
        labels.append(f"{stance} (private = expressed)")
    if simulated_polls is not None and not simulated_polls.empty:
        h, lab = _draw_simulated_polls(ax, simulated_polls, stance, series, dated)
        handles += h
        labels += lab
    if observed is not None and dated and not observed.empty:
        obs = observed[observed["stance"].astype(str) == stance]
        if not obs.empty:
            lo = (obs["estimate"] - obs["ci_low"]).clip(lower=0).to_numpy(dtype=float)
            hi = (obs["ci_high"] - obs["estimate"]).clip(lower=0).to_numpy(dtype=float)
            ax.errorbar(pd.DatetimeIndex(obs["date"]).as_unit("ns").to_numpy(),
                        obs["estimate"].to_numpy(dtype=float), yerr=[lo, hi], fmt="D",
                        color=BLACK, markersize=6, capsize=4, elinewidth=1.2, zorder=5)
            handles.append(Line2D([], [], marker="D", color=BLACK, linestyle="none",
                                  markersize=6))
            labels.append("observed poll (95% CI)")
    _events(ax, events, series, dated)
    _format_axes(ax, dated, ylabel=ylabel or "share of population",
                 span_days=_span_days(rows))
    ax.set_xlabel("date" if dated else "time (sweeps)")
    ax.set_ylim(bottom=0)
    if not dated and len(priv.x):
        ax.set_xlim(priv.x[0], priv.x[-1])
    ax.set_title(_subtitle(priv.runs), fontsize=9, color="#444444")
    fig.suptitle(title, fontsize=12)
    _legend(fig, handles, labels)
    return _save(fig, path)


def _draw_simulated_polls(ax: Axes, polls: pd.DataFrame, stance: str, series: pd.DataFrame,
                          dated: bool) -> tuple[list[Any], list[str]]:
    p = polls[polls["stance"].astype(str) == stance]
    if p.empty:
        return [], []
    if dated:
        if "date" in p.columns and p["date"].notna().all():
            xs = pd.DatetimeIndex(p["date"]).as_unit("ns").to_numpy()
        elif "time" in p.columns:
            xs = _time_to_date(series, p["time"].to_numpy(dtype=float))
            if xs is None:
                return [], []
        else:
            return [], []
    elif "time" in p.columns:
        xs = p["time"].to_numpy(dtype=float)
    else:
        return [], []
    handles: list[Any] = []
    labels: list[str] = []
    methods = p["method"].astype(str) if "method" in p.columns else pd.Series(
        "direct", index=p.index)
    styles = {"direct": (VERMILLION, "o", "simulated direct poll (95% CI)"),
              "list_experiment": (BLUE, "s", "simulated list experiment (95% CI)")}
    for method in sorted(methods.unique()):
        m = (methods == method).to_numpy()
        color, marker, label = styles.get(method, (PURPLE, "^", f"simulated {method} poll"))
        est = p["estimate"].to_numpy(dtype=float)[m]
        yerr = None
        if {"ci_low", "ci_high"} <= set(p.columns):
            lo = np.clip(est - p["ci_low"].to_numpy(dtype=float)[m], 0, None)
            hi = np.clip(p["ci_high"].to_numpy(dtype=float)[m] - est, 0, None)
            yerr = [np.nan_to_num(lo), np.nan_to_num(hi)]
        ax.errorbar(xs[m], est, yerr=yerr, fmt=marker, color=color, markersize=3,
                    elinewidth=0.6, alpha=0.55, zorder=4, markerfacecolor="white")
        handles.append(Line2D([], [], marker=marker, color=color, linestyle="none",
                              markersize=4, markerfacecolor="white"))
        labels.append(label)
    return handles, labels


def levels_shown(rows: pd.DataFrame, max_panels: int = 20) -> tuple[list[str], pd.Series]:
    """The levels of one breakdown to draw, in their order, and each level's size.

    Size is the number of agent-records of the level (``count`` summed over runs, times
    and stances: proportional to its mean size). With more than ``max_panels`` levels the
    largest are kept, in their original order (ties: the first ones).

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"level": ["a", "b", "c"], "count": [5, 1, 9]})
    >>> levels_shown(r, 2)[0]
    ['a', 'c']
    """
    lab = rows["level"].astype(str)
    levels = [str(v) for v in dict.fromkeys(lab)]
    if isinstance(rows["level"].dtype, pd.CategoricalDtype):
        present = set(levels)
        levels = [str(c) for c in rows["level"].cat.categories if str(c) in present]
    if "count" in rows.columns:
        size = rows.groupby(lab)["count"].sum().reindex(levels).fillna(0)
    else:
        size = pd.Series(1.0, index=levels)
    if len(levels) <= max_panels:
        return levels, size
    keep = set(size.sort_values(ascending=False, kind="stable").index[:max_panels])
    return [lv for lv in levels if lv in keep], size


def plot_share_by(series: pd.DataFrame, stance: str, attribute: str, path: str | Path, *,
                  title: str, max_panels: int = 20,
                  events: Sequence[Mapping[str, Any]] = ()) -> Path:
    """Small multiples: private and expressed share of ``stance`` in each level of
    ``attribute`` (one panel per level, shared axes).

    With more than ``max_panels`` levels, the ``max_panels`` largest (by number of agents)
    are drawn, in their original order, and the title says so.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> s = pd.DataFrame([{"run": 0, "time": float(t), "by": "group", "level": g,
    ...     "stance": "A", "count": 5, "share": 0.5, "expressed_share": 0.5, "gap": 0.0}
    ...     for t in range(3) for g in ("x", "y")])
    >>> plot_share_by(s, "A", "group", pathlib.Path(tempfile.mkdtemp()) / "g.png",
    ...               title="demo").suffix
    '.png'
    """
    path = Path(path)
    x = time_column(series)
    dated = x == "date"
    sub = series.loc[series["by"].astype(str) == attribute]
    shown, size = levels_shown(sub, max_panels)
    n_levels = len(size)
    note = f" ({max_panels} largest of {n_levels})" if n_levels > len(shown) else ""
    rows = sub.loc[sub["stance"].astype(str) == stance]
    n = max(len(shown), 1)
    ncols = min(n, 2 if n <= 4 else 3 if n <= 9 else 4 if n <= 16 else 5)
    nrows = math.ceil(n / ncols)
    fig = _figure(min(3.4 * ncols + 1.2, 16.0), 2.5 * nrows + 1.6)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    gap = _has_gap(rows)
    handles: list[Any] = [()] * 2
    runs = 0
    top = 0.0
    by_level = dict(tuple(rows.groupby(rows["level"].astype(str), observed=True)))
    for i, lv in enumerate(shown):
        ax = axes[i // ncols][i % ncols]
        r = by_level.get(lv, rows.iloc[0:0])
        pb = ensemble_bands(r, "share", x)
        runs = max(runs, pb.runs)
        h = _draw(ax, pb, PRIVATE_STYLE)
        handles[0] = h or handles[0]
        if gap:
            eb = ensemble_bands(r, "expressed_share", x)
            h = _draw(ax, eb, EXPRESSED_STYLE)
            handles[1] = h or handles[1]
            top = max(top, float(np.nanmax(eb.q[4], initial=0.0)))
        _events(ax, events, series, dated, label=False)
        total = float(size.sum()) or 1.0
        ax.set_title(f"{lv}  ({_percent(float(size.get(lv, 0)) / total)} of agents)",
                     fontsize=9)
        _format_axes(ax, dated, ylabel="", maxticks=4 if ncols > 2 else 5,
                     span_days=_span_days(rows))
        ax.tick_params(labelsize=8)
        top = max(top, float(np.nanmax(pb.q[4], initial=0.0)))
    for j in range(len(shown), nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    # shared y axis from 0 to the highest 95th percentile of any panel
    axes[0][0].set_ylim(0, min(1.0, top * 1.05) if top > 0 else 1.0)
    for i in range(len(shown)):
        ax = axes[i // ncols][i % ncols]
        if i % ncols:
            ax.tick_params(labelleft=False)
        if i + ncols >= len(shown):  # nothing below: this panel carries the time axis
            ax.tick_params(labelbottom=True)
            ax.set_xlabel("date" if dated else "time (sweeps)", fontsize=9)
    fig.supylabel(f"share holding / voicing {stance}" if gap else f"share holding {stance}",
                  fontsize=10)
    fig.suptitle(f"{title}, by {attribute}{note}\n{_subtitle(runs)}", fontsize=11)
    if gap:
        _legend(fig, handles, [f"{stance}: {PRIVATE_STYLE['label']}",
                               f"{stance}: {EXPRESSED_STYLE['label']}"])
    else:
        _legend(fig, handles[:1], [f"{stance} (private = expressed)"])
    return _save(fig, path)


def plot_gap(series: pd.DataFrame, stances: Sequence[str], path: str | Path, *, title: str,
             events: Sequence[Mapping[str, Any]] = ()) -> Path:
    """The hidden share (private − expressed) of each stance over time: median and 90% band.

    A positive gap: more people hold the stance than voice it; negative: it is voiced by
    people who do not hold it (the safe stance under a crackdown).

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> s = pd.DataFrame([{"run": 0, "time": float(t), "by": "all", "level": "all",
    ...     "stance": k, "gap": g} for t in range(3) for k, g in (("A", .1), ("B", -.1))])
    >>> plot_gap(s, ["A", "B"], pathlib.Path(tempfile.mkdtemp()) / "gap.png",
    ...          title="demo").name
    'gap.png'
    """
    path = Path(path)
    x = time_column(series)
    dated = x == "date"
    fig = _figure(9.0, 5.0)
    ax = fig.add_subplot()
    handles: list[Any] = []
    labels: list[str] = []
    runs = 0
    any_gap = False
    for i, stance in enumerate(stances):
        rows = _rows(series, stance)
        any_gap |= _has_gap(rows)
        b = ensemble_bands(rows, "gap", x)
        runs = max(runs, b.runs)
        if b.runs == 0:
            continue
        c = PALETTE[i % len(PALETTE)]
        ls = LINESTYLES[i % len(LINESTYLES)]
        ax.fill_between(b.x, b.q[0], b.q[4], color=c, alpha=0.18, linewidth=0)
        ax.plot(b.x, b.median, color=c, linestyle=ls, linewidth=1.8)
        handles.append((Patch(facecolor=c, alpha=0.18, linewidth=0),
                        Line2D([], [], color=c, linestyle=ls, linewidth=1.8)))
        labels.append(str(stance))
    ax.axhline(0, color="#333333", linewidth=0.8)
    if not dated and runs:
        xs = np.concatenate([_rows(series, s)["time"].to_numpy(dtype=float) for s in stances])
        ax.set_xlim(np.nanmin(xs), np.nanmax(xs))
    _events(ax, events, series, dated)
    _format_axes(ax, dated, ylabel="hidden share: private − expressed\n(% of population)",
                 span_days=_span_days(series))
    ax.set_xlabel("date" if dated else "time (sweeps)")
    sub = (f"lines: median of {runs} runs; shading: middle 90% of runs. "
           if runs > 1 else "one run. ")
    sub += "Above 0: held but not voiced; below 0: voiced but not held"
    if not any_gap:
        sub = "no gap: every agent voices its private stance in every run"
    ax.set_title(sub, fontsize=9, color="#444444")
    fig.suptitle(title, fontsize=12)
    _legend(fig, handles, labels, ncols=min(len(handles), 6) or 1)
    return _save(fig, path)


def plot_sensitivity(frame: pd.DataFrame, path: str | Path, *, outcomes: Sequence[str],
                     title: str) -> Path:
    """Tornado plot: for each outcome (one panel each), every assumption's effect as a bar
    from the outcome at the low end of its range to the outcome at the high end, largest
    first, the baseline as a vertical line.

    Parameters
    ----------
    frame
        The tidy outcomes of :func:`steppe.experiments.sensitivity.sensitivity`.
    path
        The PNG to write (atomically).
    outcomes
        Which outcomes to draw, one panel each.
    title
        Figure title.
    """

    sw = swings(frame)
    base = frame[frame["end"] == "base"].set_index("outcome")["median"]
    panels = [o for o in outcomes if o in set(sw["outcome"])]
    n_rows = max((len(sw[sw["outcome"] == o]) for o in panels), default=1)
    fig = _figure(5.2 * max(1, len(panels)), 1.2 + 0.34 * n_rows)
    axes = fig.subplots(1, max(1, len(panels)), squeeze=False)[0]
    for ax, outcome in zip(axes, panels, strict=False):
        g = sw[sw["outcome"] == outcome].iloc[::-1]
        y = np.arange(len(g))
        lo, hi = g["low"].to_numpy(float), g["high"].to_numpy(float)
        left = np.minimum(lo, hi)
        ax.barh(y, np.abs(hi - lo), left=left, height=0.6, color="#9ecae1",
                edgecolor="#3182bd", linewidth=0.6)
        ax.scatter(lo, y, marker="<", color="#08519c", s=18, zorder=3, label="low end")
        ax.scatter(hi, y, marker=">", color="#a50f15", s=18, zorder=3, label="high end")
        b = float(base.get(outcome, np.nan))
        if np.isfinite(b):
            ax.axvline(b, color="#333333", linewidth=1.0, linestyle="--")
        ax.set_yticks(y, [textwrap_label(a) for a in g["assumption"]], fontsize=8)
        ax.xaxis.set_major_formatter(FuncFormatter(_percent))
        ax.set_title(outcome, fontsize=9.5)
        ends = np.concatenate([lo, hi, [b] if np.isfinite(b) else []])
        ends = ends[np.isfinite(ends)]
        if ends.size:
            pad = 0.08 * max(float(ends.max() - ends.min()), 1e-3)
            ax.set_xlim(float(ends.min()) - pad, float(ends.max()) + pad)
        ax.grid(True, axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
    handles = [Line2D([], [], marker="<", linestyle="", color="#08519c"),
               Line2D([], [], marker=">", linestyle="", color="#a50f15"),
               Line2D([], [], color="#333333", linestyle="--")]
    _legend(fig, handles, ["assumption at the low end of its range",
                           "at the high end", "baseline"])
    fig.suptitle(title, fontsize=11)
    return _save(fig, Path(path))


def textwrap_label(text: str, width: int = 34) -> str:
    """A label wrapped onto at most two lines."""
    import textwrap

    lines = textwrap.wrap(str(text), width)
    return "\n".join(lines[:2]) + ("\u2026" if len(lines) > 2 else "")
