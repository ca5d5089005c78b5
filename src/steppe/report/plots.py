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
    "MIN_RUNS",
    "QUANTILES",
    "SMALL_PANEL",
    "Bands",
    "Event",
    "adults_series",
    "ensemble_bands",
    "level_agents",
    "levels_shown",
    "panel_order",
    "plot_gap",
    "plot_share",
    "plot_share_by",
    "poll_points",
    "safe_name",
    "share_by_figure",
    "share_figure",
    "small_ensemble_note",
    "time_column",
    "timeline",
]

DPI = 150
#: the vector formats a figure can be copied to beside its PNG
ALL_VECTOR_FORMATS = ("svg", "pdf")
#: written beside every PNG (the same figure); ``make_report(vectors=...)`` chooses
VECTOR_FORMATS: tuple[str, ...] = ALL_VECTOR_FORMATS
#: no creation date in the vector files, so that the same results give the same bytes
_METADATA: dict[str, dict[str, Any]] = {"svg": {"Date": None},
                                        "pdf": {"CreationDate": None}}
#: below this many runs the "90% band" is close to the range of the runs (see
#: :func:`small_ensemble_note`)
MIN_RUNS = 20
#: a breakdown panel with fewer agents than this is marked as noisy
SMALL_PANEL = 200

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
    """Write ``fig`` as ``path`` (PNG, 150 dpi) and, beside it, as SVG and PDF (the same
    figure, vector formats for papers; :data:`VECTOR_FORMATS`), each file atomically, and
    remove a copy in a format no longer written; return ``path``."""
    import matplotlib

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    for fmt in ALL_VECTOR_FORMATS:  # no copy of an earlier report's figure is left stale
        if fmt not in VECTOR_FORMATS:
            path.with_suffix(f".{fmt}").unlink(missing_ok=True)
    if not VECTOR_FORMATS:
        return path
    # the layout is in inches and points, the same at every dpi: keep the PNG's rather
    # than computing it again for each copy
    fig.set_layout_engine("none")
    # TrueType fonts in the PDF (journals refuse Type 3), text as outlines in the SVG
    with matplotlib.rc_context({"pdf.fonttype": 42, "svg.fonttype": "path"}):
        for fmt in VECTOR_FORMATS:
            with atomic_path(path.with_suffix(f".{fmt}")) as tmp:
                fig.savefig(tmp, format=fmt, dpi=DPI, metadata=_METADATA[fmt])
    return path


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


def small_ensemble_note(runs: int) -> str | None:
    """A warning when an ensemble is too small for its "90% band" to mean much, else
    ``None``.

    With ``runs`` runs the 5th percentile (linear interpolation) lies at rank
    ``0.05 (runs - 1)``: below 21 runs that is between the lowest and the second-lowest run,
    so the band is close to the range of the runs (with four runs, almost exactly the
    minimum and maximum) and moves with one extreme run.

    Parameters
    ----------
    runs
        The number of runs in the ensemble.

    Returns
    -------
    str or None
        The warning, or ``None`` with one run (no band) or at least :data:`MIN_RUNS`.

    Examples
    --------
    >>> small_ensemble_note(4)[:36]
    'only 4 runs: the 90% band is roughly'
    >>> small_ensemble_note(40) is None, small_ensemble_note(1) is None
    (True, True)
    """
    if runs <= 1 or runs >= MIN_RUNS:
        return None
    return (f"only {runs} runs: the 90% band is roughly the range of the runs (min to max), "
            f"not an interval; use {MIN_RUNS} or more runs to read one")


def _subtitle(runs: int, *, bands: str = "middle 50% and 90% of runs") -> str:
    if runs <= 1:
        return "one run (no spread across runs to show)"
    text = f"lines: median of {runs} runs; shading: {bands}"
    warn = small_ensemble_note(runs)
    return text + (f"\n\u26a0 {warn}" if warn else "")


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


@dataclass(frozen=True)
class Event:
    """One event of the timeline as the figures show it.

    Attributes
    ----------
    number : int
        Its number on the figures (1, 2, ... in time order).
    x : Any
        Where it is drawn: a ``numpy.datetime64`` on a dated axis, else a time in sweeps.
    when : str
        Its date (``"1 Mar 2022"``) or time (``"sweep 12"``).
    text : str
        Its note, else what it sets.
    sets : str
        What it sets (``"enforcement → 1.4"``), empty when nothing: a scenario input.
    """

    number: int
    x: Any
    when: str
    text: str
    sets: str


def timeline(events: Sequence[Mapping[str, Any]], series: pd.DataFrame,
             dated: bool) -> list[Event]:
    """The events that can be placed on the time axis, numbered in time order.

    Parameters
    ----------
    events
        The scenario's timeline (``[{"at": ..., "note": ..., "set": {...}}]``); ``at`` is
        a date (drawn only on a dated axis) or a time in sweeps.
    series
        The series (its ``time`` and ``date`` columns map sweeps onto dates).
    dated
        Whether the axis holds dates.

    Returns
    -------
    list of Event

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"time": [0.0, 1.0]})
    >>> [(e.number, e.when, e.sets) for e in timeline([{"at": 1, "set": {"a.b": 2}}], s,
    ...                                               dated=False)]
    [(1, 'sweep 1', 'b \u2192 2')]
    """
    placed = []
    for ev in events:
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
        sets = ", ".join(f"{k.split('.')[-1]} \u2192 {v}"
                         for k, v in (ev.get("set") or {}).items())
        text = str(ev.get("note") or ev.get("label") or sets)
        when = (f"{pd.Timestamp(xv).day} {pd.Timestamp(xv):%b %Y}" if dated
                else f"sweep {float(xv):g}")
        placed.append((xv, when, text, sets))
    placed.sort(key=lambda e: e[0])
    return [Event(i + 1, xv, when, text, sets)
            for i, (xv, when, text, sets) in enumerate(placed)]


def _events(ax: Axes, events: Sequence[Mapping[str, Any]], series: pd.DataFrame,
            dated: bool, *, label: bool = True) -> list[Event]:
    """Dotted vertical lines at the timeline's events and, with ``label``, each event's
    number in a small box just above the axes (staggered in rows where numbers would
    touch); return the events drawn (their key is added by :func:`_event_key`)."""
    placed = timeline(events, series, dated)
    x0, x1 = ax.get_xlim()
    rows: list[float] = []  # right end (axes fraction) of the last number in each row
    for ev in placed:
        ax.axvline(ev.x, color="#555555", linestyle=":", linewidth=1.0, zorder=1)
        if not label:
            continue
        xnum = float(mdates.date2num(ev.x)) if dated else float(ev.x)
        frac = (xnum - x0) / (x1 - x0) if x1 > x0 else 0.0
        half = 0.006 * len(str(ev.number)) + 0.01  # half a number's box, conservatively
        row = next((r for r, end in enumerate(rows) if end < frac - half), len(rows))
        if row == len(rows):
            rows.append(0.0)
        rows[row] = frac + half
        ax.annotate(str(ev.number), xy=(ev.x, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(0, 3 + 11 * row), textcoords="offset points", fontsize=7,
                    color="#333333", va="bottom", ha="center", gid="event-number",
                    annotation_clip=False,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#777777",
                          "lw": 0.6})
    if label and rows:  # keep the title clear of the numbers
        ax.set_title(ax.get_title(), pad=6 + 11 * len(rows),
                     fontsize=ax.title.get_fontsize(), color=ax.title.get_color())
    return placed


def _event_key(ax: Axes, placed: Sequence[Event], *, below: float = 34.0) -> None:
    """The events' key under the axes: each number, date and text (wrapped), in one or two
    columns; a legend, so that constrained layout makes room for it and no entry
    overlaps another."""
    if not placed:
        return
    import textwrap

    from matplotlib.transforms import offset_copy

    two = len(placed) > 3
    width = 58 if two else 110
    handles = [Line2D([], [], linestyle="none", marker=f"${e.number}$", color="#333333",
                      markersize=6 + 2 * len(str(e.number))) for e in placed]
    labels = []
    for e in placed:
        text = f"{e.when}: {e.text}"
        if e.sets and e.sets == e.text:
            text += " (a scenario input)"
        elif e.sets:
            text += f" (sets {e.sets}: a scenario input)"
        labels.append("\n".join(textwrap.wrap(text, width)[:3]))
    leg = ax.legend(handles, labels, loc="upper left", ncols=2 if two else 1, fontsize=7,
                    frameon=False, handletextpad=0.4, columnspacing=1.5,
                    labelspacing=0.35, borderaxespad=0.0,
                    title="events (dotted lines)", title_fontsize=7.5, alignment="left",
                    bbox_to_anchor=(0.0, 0.0),
                    bbox_transform=offset_copy(ax.transAxes, fig=ax.figure, y=-below,
                                               units="points"))
    leg.set_gid("event-key")


def _wrap(text: str, width: int) -> str:
    """Each line of ``text`` wrapped at ``width`` characters."""
    import textwrap

    return "\n".join(w for line in text.split("\n")
                     for w in (textwrap.wrap(line, width) or [""]))


def _legend(fig: Figure, handles: list[Any], labels: list[str], ncols: int | None = None,
            loc: str = "outside lower center") -> None:
    pairs = [(h, lab) for h, lab in zip(handles, labels, strict=True) if h != ()]
    if not pairs:
        return
    hs, ls = zip(*pairs, strict=True)
    ncols = ncols or min(len(hs), 3)
    ls = tuple(_wrap(lab, 150 // ncols) for lab in ls)
    fig.legend(hs, ls, loc=loc, ncols=ncols,
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


def adults_series(series: pd.DataFrame, adult_levels: Sequence[str],
                  attribute: str = "age") -> pd.DataFrame | None:
    """The whole-sample rows (``by == "all"``) recomputed over the adult age bands only.

    Each share is the bands' summed count over their summed size (the size of a band at a
    record: its counts summed over stances), for private and expressed stances alike.

    Parameters
    ----------
    series
        The tidy series; it needs ``count`` and ``expressed_count`` rows by ``attribute``.
    adult_levels
        The bands that count as adults (e.g. those a poll's frame covers).
    attribute
        The breakdown holding the age bands.

    Returns
    -------
    pandas.DataFrame or None
        Rows like the series' ``by == "all"`` rows, or ``None`` when they cannot be
        computed (no such breakdown, no counts, or no adult band among its levels).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"run": 0, "time": 0.0, "by": "age", "level": ["0-17", "18+"] * 2,
    ...     "stance": ["A", "A", "B", "B"], "count": [10, 30, 0, 70],
    ...     "expressed_count": [10, 20, 0, 80]})
    >>> adults_series(s, ["18+"])[["stance", "share", "expressed_share"]].values.tolist()
    [['A', 0.3, 0.2], ['B', 0.7, 0.8]]
    """
    need = {"count", "expressed_count"}
    if not need <= set(series.columns):
        return None
    sub = series.loc[(series["by"].astype(str) == attribute)
                     & series["level"].astype(str).isin([str(a) for a in adult_levels])]
    if sub.empty:
        return None
    keys = ["run", "time"] + (["date"] if "date" in sub.columns else [])
    st = sub["stance"].astype(str)
    counts = sub.groupby([*[sub[k] for k in keys], st], observed=True, sort=True)[
        ["count", "expressed_count"]].sum()
    size = counts.groupby(level=list(range(len(keys)))).transform("sum")
    out = counts.reset_index()
    out["share"] = (counts["count"] / size["count"].replace(0, np.nan)).to_numpy()
    out["expressed_share"] = (counts["expressed_count"]
                              / size["expressed_count"].replace(0, np.nan)).to_numpy()
    out["gap"] = out["share"] - out["expressed_share"]
    out["by"] = "all"
    out["level"] = "all"
    if isinstance(series["stance"].dtype, pd.CategoricalDtype):
        out["stance"] = pd.Categorical(out["stance"], series["stance"].cat.categories)
    return out


# -- the plots ----------------------------------------------------------------------------
def _x_of(frame: pd.DataFrame, series: pd.DataFrame, dated: bool) -> np.ndarray | None:
    """Where rows with ``date`` and/or ``time`` columns go on the time axis."""
    if dated:
        if "date" in frame.columns and frame["date"].notna().all():
            return pd.DatetimeIndex(frame["date"]).as_unit("ns").to_numpy()
        if "time" in frame.columns:
            return _time_to_date(series, frame["time"].to_numpy(dtype=float))
        return None
    if "time" in frame.columns:
        return frame["time"].to_numpy(dtype=float)
    return None


def _mark_start(ax: Axes, bands: Bands, note: str | None) -> tuple[Any, str] | None:
    """A hollow black ring on the first private median: a value set by the scenario."""
    if not note or bands.runs == 0 or not len(bands.x):
        return None
    ax.plot([bands.x[0]], [bands.median[0]], "o", markersize=9, markerfacecolor="none",
            markeredgecolor=BLACK, markeredgewidth=1.3, zorder=6)
    return (Line2D([], [], marker="o", markersize=8, markerfacecolor="none",
                   markeredgecolor=BLACK, linestyle="none"), note)


def share_figure(series: pd.DataFrame, stance: str, *, title: str,
                 observed: pd.DataFrame | None = None,
                 simulated_polls: pd.DataFrame | None = None,
                 events: Sequence[Mapping[str, Any]] = (),
                 ylabel: str | None = None, notes: Sequence[str] = (),
                 start_input: str | None = None) -> Figure:
    """The figure :func:`plot_share` writes, not yet saved.

    Parameters
    ----------
    series, stance, title, observed, simulated_polls, events, ylabel, notes, start_input
        As for :func:`plot_share`.

    Returns
    -------
    matplotlib.figure.Figure
        With an Agg canvas; the event numbers are annotations with gid ``event-number``
        and their key a legend with gid ``event-key``.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame([{"run": 0, "time": float(t), "by": "all", "level": "all",
    ...     "stance": "A", "share": 0.5, "expressed_share": 0.5, "gap": 0.0}
    ...     for t in range(3)])
    >>> fig = share_figure(s, "A", title="demo", events=[{"at": 1, "note": "x"}])
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['1']
    """
    x = time_column(series)
    dated = x == "date"
    rows = _rows(series, stance)
    fig = _figure(9.0, 5.6)
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
    mark = _mark_start(ax, priv, start_input)
    if mark:
        handles.append(mark[0])
        labels.append(mark[1])
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
    _format_axes(ax, dated, ylabel=ylabel or "share of population",
                 span_days=_span_days(rows))
    ax.set_xlabel("date" if dated else "time (sweeps)")
    ax.set_ylim(bottom=0)
    if not dated and len(priv.x):
        ax.set_xlim(priv.x[0], priv.x[-1])
    sub = _subtitle(priv.runs)
    for n in notes:
        sub += f"\n{n}"
    ax.set_title(_wrap(sub, 125), fontsize=8.5, color="#444444")
    placed = _events(ax, events, series, dated)
    _event_key(ax, placed)
    fig.suptitle(title, fontsize=12)
    _legend(fig, handles, labels, ncols=2)
    return fig


def plot_share(series: pd.DataFrame, stance: str, path: str | Path, *, title: str,
               observed: pd.DataFrame | None = None,
               simulated_polls: pd.DataFrame | None = None,
               events: Sequence[Mapping[str, Any]] = (),
               ylabel: str | None = None, notes: Sequence[str] = (),
               start_input: str | None = None) -> Path:
    """Private and expressed share of ``stance`` over time (``by == "all"``), with polls.

    Parameters
    ----------
    series
        The tidy series (``series.parquet``).
    stance
        The stance label to plot.
    path
        The PNG to write (an SVG and a PDF of the same figure are written beside it).
    title
        First line of the title (the scenario name and what is shown).
    observed
        Observed polls, as returned by :func:`steppe.report.summary.read_observed_polls`
        (columns ``stance, date, estimate, ci_low, ci_high``); drawn only when ``series``
        has dates.
    simulated_polls
        ``polls.parquet`` rows (``run, time`` and/or ``date, stance, method, estimate,
        ci_low, ci_high``): per poll and method, one point at the median estimate across
        runs with the typical (median) 95% interval of one poll.
    events
        The scenario's timeline (``[{"at": ..., "set": {...}}]``): dotted vertical lines,
        numbered above the axes, with their key under the time axis.
    ylabel
        The y-axis label (default: "share of population"): say whose share it is.
    notes
        Lines added under the subtitle (e.g. what is a scenario input, who the polls
        interview).
    start_input
        When the starting private share is set by the scenario: the legend text of the
        ring that marks it (an assumption, not a result).

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
    >>> p.read_bytes()[:4] == b"\\x89PNG", p.with_suffix(".svg").is_file()
    (True, True)
    """
    fig = share_figure(series, stance, title=title, observed=observed,
                       simulated_polls=simulated_polls, events=events, ylabel=ylabel,
                       notes=notes, start_input=start_input)
    return _save(fig, Path(path))


def poll_points(polls: pd.DataFrame) -> pd.DataFrame:
    """Simulated polls summarised across runs: one row per poll moment and method.

    Parameters
    ----------
    polls
        Rows of ``polls.parquet`` for one stance (``estimate`` and, optionally, ``date``,
        ``time``, ``method``, ``ci_low``, ``ci_high``, ``poll``).

    Returns
    -------
    pandas.DataFrame
        ``method``, ``date`` and/or ``time``, ``estimate`` (the median across runs),
        ``ci_low``, ``ci_high`` (the medians of the runs' 95% interval bounds: the interval
        of a typical single poll), ``low``, ``high`` (the runs' 5th and 95th percentile of
        the estimate) and ``runs``.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"time": 1.0, "method": "list_experiment",
    ...                   "estimate": [0.2, 0.3, 0.4], "ci_low": [0.0, 0.1, 0.2],
    ...                   "ci_high": [0.4, 0.5, 0.6]})
    >>> poll_points(p)[["estimate", "ci_low", "ci_high", "runs"]].values.tolist()
    [[0.3, 0.1, 0.5, 3.0]]
    """
    p = polls.copy()
    if "method" not in p.columns:
        p["method"] = "direct"
    p["method"] = p["method"].astype(str)
    keys = [k for k in ("date", "time") if k in p.columns and p[k].notna().all()]
    keys = keys or ["time"]
    for c in ("ci_low", "ci_high"):
        if c not in p.columns:
            p[c] = np.nan
    g = p.groupby(["method", *keys], sort=True, dropna=False)
    out = g.agg(estimate=("estimate", "median"), ci_low=("ci_low", "median"),
                ci_high=("ci_high", "median"),
                low=("estimate", lambda v: float(np.nanquantile(v, 0.05))),
                high=("estimate", lambda v: float(np.nanquantile(v, 0.95))),
                runs=("estimate", "size")).reset_index()
    out["runs"] = out["runs"].astype(float)
    return out


POLL_STYLES = {"direct": (VERMILLION, "o", "simulated direct poll"),
               "list_experiment": (BLUE, "s", "simulated list experiment")}


def _draw_simulated_polls(ax: Axes, polls: pd.DataFrame, stance: str, series: pd.DataFrame,
                          dated: bool) -> tuple[list[Any], list[str]]:
    p = polls[polls["stance"].astype(str) == stance]
    if p.empty or (dated and "date" not in p.columns and "time" not in p.columns):
        return [], []
    pts = poll_points(p)
    xs = _x_of(pts, series, dated)
    if xs is None:
        return [], []
    handles: list[Any] = []
    labels: list[str] = []
    methods = sorted(pts["method"].unique())
    # the methods side by side: a small offset so that their intervals do not overlap
    span = (np.ptp(xs.astype("int64" if dated else float)) if len(xs) > 1 else 0) or 1
    for i, method in enumerate(methods):
        m = (pts["method"] == method).to_numpy()
        color, marker, label = POLL_STYLES.get(method, (PURPLE, "^", f"simulated {method}"))
        shift = (i - (len(methods) - 1) / 2) * 0.012 * span
        x = xs[m] + (np.timedelta64(int(shift), "ns") if dated else shift)
        est = pts["estimate"].to_numpy(dtype=float)[m]
        lo = np.clip(est - pts["ci_low"].to_numpy(dtype=float)[m], 0, None)
        hi = np.clip(pts["ci_high"].to_numpy(dtype=float)[m] - est, 0, None)
        ax.errorbar(x, est, yerr=[np.nan_to_num(lo), np.nan_to_num(hi)], fmt=marker,
                    color=color, markersize=5.5, capsize=3.5, elinewidth=1.4, zorder=4,
                    markerfacecolor="white", markeredgewidth=1.4)
        handles.append(Line2D([], [], marker=marker, color=color, linestyle="-",
                              markersize=5.5, markerfacecolor="white"))
        runs = int(pts["runs"].to_numpy()[m].max())
        labels.append(f"{label}: median of {runs} run{'s' if runs != 1 else ''}, "
                      "typical 95% CI")
    return handles, labels


def levels_shown(rows: pd.DataFrame, max_panels: int = 20) -> tuple[list[str], pd.Series]:
    """The levels of one breakdown to draw, in their order, and each level's size.

    Size is the number of agent-records of the level (``count`` summed over runs, times
    and stances: proportional to its mean size). With more than ``max_panels`` levels the
    largest are kept, in their original order (ties: the first ones).

    Parameters
    ----------
    rows
        The rows of one breakdown (``level`` and, optionally, ``count``).
    max_panels
        The most levels kept.

    Returns
    -------
    tuple of (list of str, pandas.Series)
        The levels kept, and every level's size.

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


_ORDINAL = re.compile(r"^\s*(\d+(?:\.\d+)?)")


def panel_order(levels: Sequence[str], size: pd.Series) -> list[str]:
    """The order of a breakdown's panels: by the number each label starts with when every
    label starts with one (age bands: ``0-17``, ``18-29``, ...), else largest first.

    Parameters
    ----------
    levels
        The levels to order.
    size
        Each level's size (any measure proportional to its number of agents).

    Returns
    -------
    list of str

    Examples
    --------
    >>> import pandas as pd
    >>> panel_order(["b", "a"], pd.Series({"a": 5, "b": 1}))
    ['a', 'b']
    >>> panel_order(["60+", "18-29", "0-17"], pd.Series({"60+": 9, "18-29": 1, "0-17": 2}))
    ['0-17', '18-29', '60+']
    """
    levels = [str(lv) for lv in levels]
    nums = [_ORDINAL.match(lv) for lv in levels]
    if levels and all(nums):
        return [lv for _, lv in sorted(zip([float(m.group(1)) for m in nums if m], levels,
                                           strict=True), key=lambda t: t[0])]
    return sorted(levels, key=lambda lv: -float(size.get(lv, 0.0)))


def level_agents(rows: pd.DataFrame) -> pd.Series:
    """Each level's number of agents at the last record: its counts summed over stances,
    median across runs (``NaN`` without a ``count`` column).

    Parameters
    ----------
    rows
        The rows of one breakdown (``run``, ``time``, ``level``, ``count``).

    Returns
    -------
    pandas.Series
        Level → number of agents.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"run": [0, 0, 0, 0], "time": [0, 0, 1, 1], "level": "a",
    ...                   "stance": ["A", "B", "A", "B"], "count": [1, 2, 10, 30]})
    >>> level_agents(r).to_dict()
    {'a': 40.0}
    """
    if "count" not in rows.columns or rows.empty:
        return pd.Series(np.nan, index=pd.Index(rows["level"].astype(str).unique()))
    lab = rows["level"].astype(str)
    per = rows.groupby([lab, rows["run"], rows["time"]], observed=True)["count"].sum()
    last = per.groupby(level=[0, 1]).last()
    return last.groupby(level=0).median().astype(float)


def plot_share_by(series: pd.DataFrame, stance: str, attribute: str, path: str | Path, *,
                  title: str, max_panels: int = 20,
                  events: Sequence[Mapping[str, Any]] = (),
                  published: pd.DataFrame | None = None,
                  simulated_polls: pd.DataFrame | None = None,
                  notes: Sequence[str] = ()) -> Path:
    """Small multiples: private and expressed share of ``stance`` in each level of
    ``attribute`` (one panel per level, shared axes).

    Panels go largest first (age bands in their order, see :func:`panel_order`); a panel
    of fewer than :data:`SMALL_PANEL` agents says so in its title ("n ≈ 40 agents:
    noisy"). With more than ``max_panels`` levels, the ``max_panels`` largest are drawn
    and the title says so.

    Parameters
    ----------
    series
        The tidy series.
    stance
        The stance to plot.
    attribute
        The breakdown (a ``by`` value of the series).
    path
        The PNG to write (SVG and PDF beside it).
    title
        First part of the title.
    max_panels
        The most panels drawn.
    events
        The scenario's timeline (dotted lines).
    published
        Published subgroup figures (:func:`steppe.report.targets.published_by`):
        ``level``, ``date`` or ``time``, ``value``, ``ci_low``, ``ci_high``: black
        diamonds on their panel.
    simulated_polls
        ``polls.parquet`` rows of this breakdown (``level`` column): the simulated poll's
        subgroup estimate, median across runs with its typical 95% interval.
    notes
        Lines added to the title (e.g. which values are scenario inputs).

    Returns
    -------
    pathlib.Path

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
    fig = share_by_figure(series, stance, attribute, title=title, max_panels=max_panels,
                          events=events, published=published,
                          simulated_polls=simulated_polls, notes=notes)
    return _save(fig, Path(path))


def share_by_figure(series: pd.DataFrame, stance: str, attribute: str, *, title: str,
                    max_panels: int = 20, events: Sequence[Mapping[str, Any]] = (),
                    published: pd.DataFrame | None = None,
                    simulated_polls: pd.DataFrame | None = None,
                    notes: Sequence[str] = ()) -> Figure:
    """The figure :func:`plot_share_by` writes, not yet saved.

    Parameters
    ----------
    series, stance, attribute, title, max_panels, events, published, simulated_polls, notes
        As for :func:`plot_share_by`.

    Returns
    -------
    matplotlib.figure.Figure
        Its axes in panel order (hidden spare axes last).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame([{"run": 0, "time": 0.0, "by": "o", "level": g, "stance": "A",
    ...     "count": c, "share": 0.5, "expressed_share": 0.5, "gap": 0.0}
    ...     for g, c in (("few", 40), ("many", 9000))])
    >>> [a.get_title() for a in share_by_figure(s, "A", "o", title="x").axes][:2]
    ['many  (99.56% of agents)', 'few  (0.44% of agents)\\nn \u2248 40 agents: noisy']
    """
    x = time_column(series)
    dated = x == "date"
    sub = series.loc[series["by"].astype(str) == attribute]
    shown, size = levels_shown(sub, max_panels)
    shown = panel_order(shown, size)
    n_levels = len(size)
    note = f" ({max_panels} largest of {n_levels})" if n_levels > len(shown) else ""
    rows = sub.loc[sub["stance"].astype(str) == stance]
    agents = level_agents(sub)
    n = max(len(shown), 1)
    ncols = min(n, 2 if n <= 4 else 3 if n <= 9 else 4 if n <= 16 else 5)
    nrows = math.ceil(n / ncols)
    fig = _figure(min(3.4 * ncols + 1.2, 16.0), 2.6 * nrows + 1.9)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    gap = _has_gap(rows)
    handles: list[Any] = [()] * 4
    runs = 0
    top = 0.0
    by_level = dict(tuple(rows.groupby(rows["level"].astype(str), observed=True)))
    pub = published if published is not None and not published.empty else None
    sim = None
    if simulated_polls is not None and not simulated_polls.empty:
        sim = simulated_polls[simulated_polls["stance"].astype(str) == stance]
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
        if sim is not None:
            s_lv = sim[sim["level"].astype(str) == lv]
            if not s_lv.empty:
                pts = poll_points(s_lv.drop(columns=["level"]))
                xs = _x_of(pts, series, dated)
                if xs is not None:
                    est = pts["estimate"].to_numpy(dtype=float)
                    ax.errorbar(xs, est, yerr=[np.clip(est - pts["ci_low"], 0, None),
                                               np.clip(pts["ci_high"] - est, 0, None)],
                                fmt="o", color=VERMILLION, markersize=4, capsize=2.5,
                                elinewidth=1.0, markerfacecolor="white", zorder=4)
                    handles[2] = Line2D([], [], marker="o", color=VERMILLION,
                                        markerfacecolor="white")
                    top = max(top, float(np.nanmax(pts["ci_high"], initial=0.0)))
        if pub is not None:
            p_lv = pub[pub["level"].astype(str) == lv]
            xs = _x_of(p_lv, series, dated) if not p_lv.empty else None
            if xs is not None:
                val = p_lv["value"].to_numpy(dtype=float)
                lo = np.nan_to_num(np.clip(val - p_lv["ci_low"].to_numpy(float), 0, None))
                hi = np.nan_to_num(np.clip(p_lv["ci_high"].to_numpy(float) - val, 0, None))
                ax.errorbar(xs, val, yerr=[lo, hi], fmt="D", color=BLACK, markersize=5,
                            capsize=3, elinewidth=1.1, zorder=5)
                handles[3] = Line2D([], [], marker="D", color=BLACK, linestyle="none")
                top = max(top, float(np.nanmax(val + hi, initial=0.0)))
        _events(ax, events, series, dated, label=False)
        total = float(size.sum()) or 1.0
        head = f"{lv}  ({_percent(float(size.get(lv, 0)) / total)} of agents)"
        k = float(agents.get(lv, np.nan))
        if np.isfinite(k) and k < SMALL_PANEL:
            head += f"\nn \u2248 {k:,.0f} agents: noisy"
            ax.set_title(head, fontsize=9, color=VERMILLION)
        else:
            ax.set_title(head, fontsize=9)
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
    head = f"{title}, by {attribute}{note}\n{_subtitle(runs)}"
    for line in notes:
        head += f"\n{line}"
    fig.suptitle(_wrap(head, int(12 * min(3.4 * ncols + 1.2, 16.0))), fontsize=10)
    names = ([f"{stance}: {PRIVATE_STYLE['label']}", f"{stance}: {EXPRESSED_STYLE['label']}"]
             if gap else [f"{stance} (private = expressed)", ""])
    names += ["simulated poll of the subgroup (median of runs, typical 95% CI)",
              "published figure for the subgroup (95% CI)"]
    if not gap:
        handles[1] = ()
    _legend(fig, handles, names, ncols=2)
    return fig


def plot_gap(series: pd.DataFrame, stances: Sequence[str], path: str | Path, *, title: str,
             events: Sequence[Mapping[str, Any]] = ()) -> Path:
    """The hidden share (private − expressed) of each stance over time: median and 90% band.

    A positive gap: more people hold the stance than voice it; negative: it is voiced by
    people who do not hold it (the safe stance under a crackdown).

    Parameters
    ----------
    series
        The tidy series.
    stances
        The stances to draw, one line each.
    path
        The PNG to write (SVG and PDF beside it).
    title
        Figure title.
    events
        The scenario's timeline: numbered dotted lines with their key.

    Returns
    -------
    pathlib.Path

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
    fig = _figure(9.0, 5.4)
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
    _format_axes(ax, dated, ylabel="hidden share: private − expressed\n(% of all agents)",
                 span_days=_span_days(series))
    ax.set_xlabel("date" if dated else "time (sweeps)")
    sub = (f"lines: median of {runs} runs; shading: middle 90% of runs. "
           if runs > 1 else "one run. ")
    sub += "Above 0: held but not voiced; below 0: voiced but not held"
    warn = small_ensemble_note(runs)
    if warn:
        sub += f"\n\u26a0 {warn}"
    if not any_gap:
        sub = "no gap: every agent voices its private stance in every run"
    ax.set_title(_wrap(sub, 125), fontsize=8.5, color="#444444")
    placed = _events(ax, events, series, dated)
    _event_key(ax, placed)
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
