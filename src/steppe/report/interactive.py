"""The report as one self-contained, interactive HTML file (``report.html``).

Every figure of the report is drawn again with plotly, so that a reader can hover over a
line for its values, click a legend entry to hide or show a group, region, age band or
origin, and zoom; the summary (``summary.md``) is rendered as HTML beside them. plotly.js is
inlined once (a few megabytes) at the top of the file and each figure is a ``<div>`` with
its data: the file opens offline, in any browser, and can be sent by e-mail. Nothing in it
is fetched from the network (no ``<script src>``, stylesheet, image or font by address).

What it shows (each when its data exists): the focus stance's private and voiced share
over time (median and 50%/90% bands across runs, events numbered with their text on hover
and listed below, the simulated polls as points with their interval, the observed polls
with their 95% interval, the starting share ringed as a scenario input), the same for
adults only, one figure per breakdown (one legend entry per level: group, region, age band,
origin, with published subgroup figures), the hidden share, participation, every published
figure beside its simulated poll, the sensitivity analyses (one-at-a-time, Morris, Sobol)
and the calibration (posterior marginals, the posterior predictive bands of the headline
shares over time, posterior predictive checks, diagnostics, held-out checks, variants,
value of information).

Examples
--------
>>> print(markdown_to_html("# Title\\n\\n| a | b |\\n|---|---:|\\n| x | 1% |"))
<h1 id="title">Title</h1>
<table>
<thead><tr><th>a</th><th style="text-align:right">b</th></tr></thead>
<tbody>
<tr><td>x</td><td style="text-align:right">1%</td></tr>
</tbody></table>
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..observe.writers import atomic_path
from .plots import (
    BLACK,
    BLUE,
    PALETTE,
    SMALL_PANEL,
    VERMILLION,
    Event,
    ensemble_bands,
    level_agents,
    levels_shown,
    panel_order,
    poll_points,
    small_ensemble_note,
    time_column,
    timeline,
)

__all__ = ["HTML_FILE", "InteractiveInputs", "build_figures", "markdown_to_html",
           "write_html"]

#: the file's name in the report folder
HTML_FILE = "report.html"
#: more colours for breakdowns with many levels (after the Okabe–Ito palette)
EXTRA = ("#882255", "#44AA99", "#999933", "#AA4499", "#332288", "#DDCC77", "#117733",
         "#88CCEE", "#661100", "#6699CC", "#888888", "#AA4466")
COLOURS = (*PALETTE[:6], *EXTRA)
GREY = "#555555"
_CONFIG = {"displaylogo": False, "responsive": True,
           "toImageButtonOptions": {"format": "svg", "scale": 1}}


@dataclass
class InteractiveInputs:
    """Everything the HTML report draws; parts that are ``None`` or empty are left out.

    Attributes
    ----------
    name : str
        The scenario's name (the page title).
    markdown : str
        The summary (``summary.md``), rendered at the top of the page.
    series : pandas.DataFrame or None
        ``series.parquet``.
    focus : str
        The focus stance.
    stances : list of str
        The model's stances.
    observed : pandas.DataFrame or None
        Observed polls (:func:`steppe.report.summary.read_observed_polls`).
    polls : pandas.DataFrame or None
        ``polls.parquet``.
    events : list of dict
        The scenario's timeline.
    adults : pandas.DataFrame or None
        The adults-only whole-sample rows (:func:`steppe.report.plots.adults_series`).
    ylabel, adults_label : str
        Whose share the whole-population and the adults figures show.
    start_input : str or None
        The legend text of the ring on the starting share (a scenario input).
    targets, comparison : pandas.DataFrame or None
        The targets file and its comparison (:func:`steppe.report.targets.compare_targets`).
    sensitivity : pandas.DataFrame or None
        ``sensitivity.parquet``.
    gsa : list of (str, str, pandas.DataFrame)
        The global analyses: method, over, table.
    calibration : CalibrationResults or None
        The calibration folder as read by :func:`steppe.report.calibration.read_calibration`.
    participation : pandas.DataFrame or None
        Participation rows (series-like, one stance).
    scenario_polls : list of dict or None
        The scenario's polls (their dates).
    figures : list of str
        The PNG files of the report (listed at the end of the page).
    metadata : dict
        ``metadata.json`` (what the scenario sets, for the notes on inputs).
    share_notes : list of str
        Lines under the whole-population figure's title (whose share it is).
    adults_start_input : str or None
        The ring's legend text on the adults' starting share.
    """

    name: str
    markdown: str = ""
    series: pd.DataFrame | None = None
    focus: str = ""
    stances: Sequence[str] = ()
    observed: pd.DataFrame | None = None
    polls: pd.DataFrame | None = None
    events: Sequence[Mapping[str, Any]] = ()
    adults: pd.DataFrame | None = None
    ylabel: str = "share of population"
    adults_label: str = "share of adults"
    start_input: str | None = None
    targets: pd.DataFrame | None = None
    comparison: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None
    gsa: list[tuple[str, str, pd.DataFrame]] = field(default_factory=list)
    calibration: Any = None
    participation: pd.DataFrame | None = None
    scenario_polls: list[dict[str, Any]] | None = None
    figures: list[str] = field(default_factory=list)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    share_notes: list[str] = field(default_factory=list)
    adults_start_input: str | None = None


@dataclass
class Section:
    """One figure of the page: its anchor, heading, plotly figure, and HTML shown before
    (``intro``) and after it (``note``)."""

    anchor: str
    heading: str
    figure: Any
    note: str = ""
    intro: str = ""


# -- Markdown to HTML ---------------------------------------------------------------------
def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _inline(text: str, figures: Mapping[str, str] | None = None) -> str:
    """Inline Markdown: code, bold, italics, links and images (an image becomes a link to
    its interactive figure on the page, or its file name)."""
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
            continue
        p = html.escape(part, quote=False)

        def image(m: re.Match[str]) -> str:
            alt, src = m.group(1), m.group(2)
            anchor = (figures or {}).get(Path(src).stem)
            if anchor:
                return f'<a href="#{anchor}">figure: {alt}</a>'
            return f"<span class=\"file\">{html.escape(src)}</span>"

        p = re.sub(r"!\[([^\]]*)\]\(([^)\s]+)\)", image, p)
        p = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)",
                   lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>', p)
        p = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", p)
        p = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", p)
        out.append(p)
    return "".join(out)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def markdown_to_html(text: str, figures: Mapping[str, str] | None = None) -> str:
    """The Markdown the report writes, as simple HTML: headings, paragraphs, tables (with
    their alignment), lists, block quotes, code, bold and italics.

    Parameters
    ----------
    text
        The Markdown (``summary.md``).
    figures
        Figure name (file stem) → anchor on the page: images become links to them.

    Returns
    -------
    str

    Examples
    --------
    >>> markdown_to_html("- **a** and `b`")
    '<ul>\\n<li><strong>a</strong> and <code>b</code></li>\\n</ul>'
    """
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        m = re.match(r"^(#{1,6})\s+(.*)$", line)
        if m:
            level = len(m.group(1))
            out.append(f'<h{level} id="{_slug(m.group(2))}">{_inline(m.group(2), figures)}'
                       f"</h{level}>")
            i += 1
            continue
        if line.lstrip().startswith("|") and i + 1 < len(lines) and re.match(
                r"^\s*\|?\s*:?-{3,}", lines[i + 1]):
            head = _cells(line)
            align = ["right" if c.endswith(":") and not c.startswith(":") else
                     "center" if c.startswith(":") and c.endswith(":") else ""
                     for c in _cells(lines[i + 1])]
            i += 2

            def cell(tag: str, k: int, c: str, align: list[str] = align) -> str:
                a = align[k] if k < len(align) else ""
                style = f' style="text-align:{a}"' if a else ""
                return f"<{tag}{style}>{_inline(c, figures)}</{tag}>"

            rows = ["<table>", "<thead><tr>" + "".join(
                cell("th", k, c) for k, c in enumerate(head)) + "</tr></thead>", "<tbody>"]
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append("<tr>" + "".join(cell("td", k, c)
                                             for k, c in enumerate(_cells(lines[i])))
                            + "</tr>")
                i += 1
            rows.append("</tbody></table>")
            out.append("\n".join(rows))
            continue
        if re.match(r"^\s*[-*]\s+", line):
            items = []
            while i < len(lines) and re.match(r"^\s*[-*]\s+", lines[i]):
                item = re.sub(r"^\s*[-*]\s+", "", lines[i])
                i += 1
                while i < len(lines) and lines[i].startswith("  ") and lines[i].strip():
                    item += " " + lines[i].strip()
                    i += 1
                items.append(f"<li>{_inline(item, figures)}</li>")
            out.append("<ul>\n" + "\n".join(items) + "\n</ul>")
            continue
        if line.startswith(">"):
            quote = []
            while i < len(lines) and lines[i].startswith(">"):
                quote.append(lines[i].lstrip(">").strip())
                i += 1
            out.append(f"<blockquote>{_inline(' '.join(quote), figures)}</blockquote>")
            continue
        if line.startswith("```"):
            i += 1
            code = []
            while i < len(lines) and not lines[i].startswith("```"):
                code.append(lines[i])
                i += 1
            i += 1
            out.append(f"<pre><code>{html.escape(chr(10).join(code))}</code></pre>")
            continue
        para = []
        while i < len(lines) and lines[i].strip() and not re.match(
                r"^(#{1,6}\s|\s*\||\s*[-*]\s+|>|```)", lines[i]):
            para.append(lines[i].strip())
            i += 1
        if not para:  # a line no rule above takes: keep it as a paragraph
            para, i = [line.strip()], i + 1
        out.append(f"<p>{_inline(' '.join(para), figures)}</p>")
    return "\n".join(out)


# -- plotly helpers -----------------------------------------------------------------------
def _go() -> Any:
    import plotly.graph_objects as go

    return go


def _xs(x: np.ndarray) -> list[Any]:
    """Grid values as JSON-friendly lists: ISO dates, or floats."""
    if np.issubdtype(np.asarray(x).dtype, np.datetime64):
        return list(pd.DatetimeIndex(x).strftime("%Y-%m-%d"))
    return [float(v) for v in x]


def _r(a: Any) -> list[float | None]:
    """Values rounded for the page (five decimals; NaN as a gap)."""
    return [None if not np.isfinite(v) else round(float(v), 5)
            for v in np.asarray(a, dtype=float)]


def _rgba(colour: str, alpha: float) -> str:
    c = colour.lstrip("#")
    r, g, b = (int(c[k:k + 2], 16) for k in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _layout(fig: Any, title: str, *, ytitle: str = "", xtitle: str = "", pct: bool = True,
            height: int = 520, subtitle: str = "") -> None:
    text = html.escape(title)
    lines = subtitle.split("\n") if subtitle else []
    for line in lines:
        colour = VERMILLION if line.startswith("\u26a0") else "#444"
        text += f"<br><span style=\"font-size:12px;color:{colour}\">{html.escape(line)}</span>"
    fig.update_layout(
        title={"text": text, "x": 0.01, "xanchor": "left", "font": {"size": 16},
               "y": 1.0, "yref": "container", "yanchor": "top", "pad": {"t": 12}},
        template="plotly_white", height=height, hovermode="closest",
        margin={"l": 70, "r": 30, "t": 48 + 17 * len(lines), "b": 60},
        legend={"orientation": "h", "yanchor": "top", "y": -0.14, "x": 0,
                "font": {"size": 11}, "groupclick": "togglegroup"},
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"})
    fig.update_yaxes(title_text=ytitle)
    fig.update_xaxes(title_text=xtitle)
    if pct:
        fig.update_yaxes(tickformat=".0%")


def _bands(fig: Any, b: Any, *, colour: str, name: str, group: str, dash: str = "solid",
           show: bool | str = True, legend: bool = True, which: str = "both",
           row: int | None = None, col: int | None = None) -> None:
    """The 90% (and 50%) band of runs as shaded areas and the median as a line whose
    hover gives the median and both bands."""
    go = _go()
    if b.runs == 0:
        return
    x = _xs(b.x)
    kw: dict[str, Any] = {"row": row, "col": col} if row is not None else {}
    spans = [(0, 4, 0.15)] + ([(1, 3, 0.30)] if which == "both" else [])
    for lo, hi, alpha in spans:
        fig.add_trace(go.Scatter(
            x=x + x[::-1], y=_r(b.q[hi]) + _r(b.q[lo])[::-1], fill="toself",
            fillcolor=_rgba(colour, alpha), line={"width": 0}, hoverinfo="skip",
            legendgroup=group, showlegend=False, visible=show, name=name), **kw)
    custom = np.column_stack([b.q[0], b.q[1], b.q[3], b.q[4]]).round(5)
    xfmt = "%{x|%d %b %Y}" if np.issubdtype(b.x.dtype, np.datetime64) else "sweep %{x}"
    fig.add_trace(go.Scatter(
        x=x, y=_r(b.median), mode="lines", name=name, legendgroup=group,
        showlegend=legend, visible=show, line={"color": colour, "dash": dash, "width": 2},
        customdata=custom,
        hovertemplate=(f"<b>{html.escape(name)}</b><br>{xfmt}<br>median of {b.runs} runs: "
                       "%{y:.1%}<br>middle 50%: %{customdata[1]:.1%}–%{customdata[2]:.1%}"
                       "<br>middle 90%: %{customdata[0]:.1%}–%{customdata[3]:.1%}"
                       "<extra></extra>")), **kw)


def _event_marks(fig: Any, placed: Sequence[Event], dated: bool, *,
                 numbers: bool = True, extent: Sequence[Any] | None = None) -> None:
    """Dotted lines at the events; their numbers above the plot, the text on hover."""
    if not placed:
        return
    xs = [pd.Timestamp(e.x).strftime("%Y-%m-%d") if dated else float(e.x) for e in placed]
    for x in xs:
        fig.add_vline(x=x, line={"color": GREY, "dash": "dot", "width": 1}, row="all",
                      col="all")
    if not numbers:
        return
    ends = [pd.Timestamp(e.x).value if dated else float(e.x) for e in placed]
    if extent is not None:
        ends += [pd.Timestamp(v).value if dated else float(v) for v in extent]
    lo, hi = min(ends), max(ends)
    span = (hi - lo) or 1.0
    rows: list[float] = []
    for e, x in zip(placed, xs, strict=True):
        pos = ((pd.Timestamp(e.x).value if dated else float(e.x)) - lo) / span
        row = next((r for r, end in enumerate(rows) if end < pos - 0.015), len(rows))
        if row == len(rows):
            rows.append(-1.0)
        rows[row] = pos
        text = f"{e.when}: {e.text}" + (
            "" if not e.sets else " (a scenario input)" if e.sets == e.text
            else f" (sets {e.sets}: a scenario input)")
        fig.add_annotation(x=x, xref="x", y=1.0, yref="paper", yanchor="bottom",
                           yshift=2 + 18 * row, text=f"<b>{e.number}</b>", showarrow=False,
                           font={"size": 10, "color": "#333"}, bgcolor="white",
                           bordercolor="#777", borderwidth=1, borderpad=1,
                           hovertext=html.escape(text))
    fig.update_layout(margin={"t": fig.layout.margin.t + 18 * len(rows)})


def _extent(series: pd.DataFrame | None) -> tuple[Any, Any] | None:
    """The first and last record time (or date) of a series."""
    if series is None or series.empty:
        return None
    col = series[time_column(series)]
    return col.min(), col.max()


def _event_note(placed: Sequence[Event]) -> str:
    if not placed:
        return ""
    items = "".join(
        f"<li value=\"{e.number}\">{html.escape(e.when)}: {html.escape(e.text)}"
        + ("" if not e.sets else " <em>(a scenario input)</em>" if e.sets == e.text
           else f" <em>(sets {html.escape(e.sets)}: a scenario input)</em>") + "</li>"
        for e in placed)
    return f'<p class="key">Events (numbered dotted lines):</p><ol class="events">{items}</ol>'


def _poll_traces(fig: Any, polls: pd.DataFrame | None, stance: str, series: pd.DataFrame,
                 dated: bool, *, group: str = "polls", suffix: str = "",
                 colour: str | None = None, legend: bool = True) -> None:
    go = _go()
    if polls is None or polls.empty or "stance" not in polls.columns:
        return
    p = polls[polls["stance"].astype(str) == stance]
    if p.empty:
        return
    pts = poll_points(p)
    x = _poll_x(pts, series, dated)
    if x is None:
        return
    styles = {"direct": (VERMILLION, "circle-open", "simulated direct poll"),
              "list_experiment": (BLUE, "square-open", "simulated list experiment")}
    for method, g in pts.groupby("method", sort=True):
        c, sym, label = styles.get(str(method), ("#CC79A7", "triangle-up-open",
                                                 f"simulated {method}"))
        m = (pts["method"] == method).to_numpy()
        est = g["estimate"].to_numpy(float)
        fig.add_trace(go.Scatter(
            x=[x[k] for k in np.flatnonzero(m)], y=_r(est), mode="markers",
            name=label + suffix, legendgroup=group + str(method), showlegend=legend,
            marker={"symbol": sym, "size": 9, "color": colour or c, "line": {"width": 2}},
            error_y={"type": "data", "symmetric": False,
                     "array": _r(np.clip(g["ci_high"].to_numpy(float) - est, 0, None)),
                     "arrayminus": _r(np.clip(est - g["ci_low"].to_numpy(float), 0, None)),
                     "thickness": 1.5, "width": 5},
            customdata=np.column_stack([g["ci_low"], g["ci_high"], g["low"], g["high"],
                                        g["runs"]]).round(5),
            hovertemplate=(f"<b>{html.escape(label + suffix)}</b><br>median estimate "
                           "%{y:.1%} over %{customdata[4]} runs<br>typical 95% CI "
                           "%{customdata[0]:.1%}–%{customdata[1]:.1%}<br>runs' 90% range "
                           "%{customdata[2]:.1%}–%{customdata[3]:.1%}<extra></extra>")))


def _poll_x(frame: pd.DataFrame, series: pd.DataFrame, dated: bool) -> list[Any] | None:
    from .plots import _x_of

    x = _x_of(frame, series, dated)
    return None if x is None else _xs(np.asarray(x))


def _observed_trace(fig: Any, observed: pd.DataFrame | None, stance: str, dated: bool
                    ) -> None:
    go = _go()
    if observed is None or observed.empty or not dated:
        return
    o = observed[observed["stance"].astype(str) == stance]
    if o.empty:
        return
    est = o["estimate"].to_numpy(float)
    fig.add_trace(go.Scatter(
        x=_xs(pd.DatetimeIndex(o["date"]).as_unit("ns").to_numpy()), y=_r(est),
        mode="markers", name="observed poll (95% CI)", legendgroup="observed",
        marker={"symbol": "diamond", "size": 11, "color": BLACK},
        error_y={"type": "data", "symmetric": False,
                 "array": _r(np.clip(o["ci_high"].to_numpy(float) - est, 0, None)),
                 "arrayminus": _r(np.clip(est - o["ci_low"].to_numpy(float), 0, None)),
                 "thickness": 1.5, "width": 6, "color": BLACK},
        text=[html.escape(str(v)) for v in o["poll"]],
        customdata=np.column_stack([o["ci_low"], o["ci_high"],
                                    o["n"].fillna(-1)]).round(5),
        hovertemplate=("<b>%{text}</b><br>observed %{y:.1%}<br>95% CI %{customdata[0]:.1%}"
                       "–%{customdata[1]:.1%}<br>n = %{customdata[2]:,}<extra></extra>")))


def _runs_note(runs: int, bands: str = "middle 50% and 90% of runs") -> str:
    warn = small_ensemble_note(runs)
    base = (f"lines: median of {runs} runs; shading: {bands}"
            if runs > 1 else "one run (no spread across runs)")
    return base + (f"\n\u26a0 {warn}" if warn else "")


# -- the figures --------------------------------------------------------------------------
def share_section(inp: InteractiveInputs, series: pd.DataFrame, *, anchor: str,
                  heading: str, ylabel: str, stance: str | None = None,
                  notes: Sequence[str] = (), polls: bool = True,
                  start_input: str | None = None) -> Section:
    """The interactive share figure: private and voiced share of a stance over time.

    Parameters
    ----------
    inp
        The report's inputs (events, polls, observed polls, starting-share note).
    series
        Whole-sample rows (``by == "all"``) to draw (the series, or the adults' rows).
    anchor, heading
        The section's anchor and heading.
    ylabel
        Whose share it is.
    stance
        The stance (default: the focus stance).
    notes
        Lines under the title.
    polls
        Whether to draw the simulated and observed polls.
    start_input
        The ring's legend text on the starting share (default: ``inp.start_input``).

    Returns
    -------
    Section

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame([{"run": 0, "time": float(t), "by": "all", "level": "all",
    ...     "stance": "A", "share": 0.5, "expressed_share": 0.5, "gap": 0.0}
    ...     for t in range(3)])
    >>> sec = share_section(InteractiveInputs("x", focus="A"), s, anchor="share",
    ...                     heading="x", ylabel="share of all agents")
    >>> [t.name for t in sec.figure.data][-1]
    'A (private = expressed)'
    """
    go = _go()
    stance = stance or inp.focus
    x = time_column(series)
    dated = x == "date"
    rows = series.loc[(series["by"].astype(str) == "all")
                      & (series["stance"].astype(str) == stance)]
    fig = go.Figure()
    priv = ensemble_bands(rows, "share", x)
    gap = bool(np.nanmax(np.abs(rows["gap"].to_numpy(float)), initial=0.0) > 0) \
        if "gap" in rows.columns else False
    _bands(fig, priv, colour=BLUE, group="private",
           name=f"{stance}: private (held)" if gap else f"{stance} (private = expressed)")
    if gap:
        _bands(fig, ensemble_bands(rows, "expressed_share", x), colour=VERMILLION,
               name=f"{stance}: expressed (voiced)", group="expressed", dash="dash")
    start_input = start_input or inp.start_input
    if start_input and priv.runs and len(priv.x):
        fig.add_trace(go.Scatter(
            x=_xs(priv.x[:1]), y=_r(priv.median[:1]), mode="markers",
            name=start_input, legendgroup="start",
            marker={"symbol": "circle-open", "size": 14, "color": BLACK,
                    "line": {"width": 2}},
            hovertemplate=(f"{html.escape(start_input)}<br>%{{y:.1%}}<extra></extra>")))
    if polls:
        _poll_traces(fig, _whole_polls(inp.polls), stance, series, dated)
        _observed_trace(fig, inp.observed, stance, dated)
    placed = timeline(inp.events, series, dated)
    sub = "\n".join([_runs_note(priv.runs), *notes])
    _layout(fig, heading, ytitle=ylabel, xtitle="date" if dated else "time (sweeps)",
            subtitle=sub)
    fig.update_yaxes(rangemode="tozero")
    _event_marks(fig, placed, dated, extent=_extent(series))
    return Section(anchor, heading, fig, _event_note(placed))


def _whole_polls(polls: pd.DataFrame | None) -> pd.DataFrame | None:
    if polls is None or "by" not in polls.columns:
        return polls
    keep = polls["by"].astype(str) == "all"
    if "question" in polls.columns:
        keep &= polls["question"].astype(str).isin(["stance", "list"])
    return polls[keep]


def breakdown_section(inp: InteractiveInputs, attribute: str) -> Section:
    """One figure for a breakdown: each level (group, region, age band, origin) a colour
    and one legend entry (click to hide or show it; double-click to show it alone), its
    private (solid) and voiced (dashed) median with their 90% bands, the simulated poll's
    subgroup estimate and the published subgroup figures.

    Parameters
    ----------
    inp
        The report's inputs.
    attribute
        The breakdown.

    Returns
    -------
    Section
        Levels beyond the eighth start hidden (click them in the legend to show them).
    """
    from .targets import published_by

    go = _go()
    series = inp.series
    assert series is not None
    stance = inp.focus
    x = time_column(series)
    dated = x == "date"
    sub = series.loc[series["by"].astype(str) == attribute]
    shown, size = levels_shown(sub, 40)
    shown = panel_order(shown, size)
    agents = level_agents(sub)
    rows = sub.loc[sub["stance"].astype(str) == stance]
    gap = bool(np.nanmax(np.abs(rows["gap"].to_numpy(float)), initial=0.0) > 0)
    by_level = dict(tuple(rows.groupby(rows["level"].astype(str), observed=True)))
    pub = None
    if inp.targets is not None:
        pub = published_by(inp.targets, inp.polls, attribute, stance,
                           scenario_polls=inp.scenario_polls)
    sim = None
    if inp.polls is not None and {"by", "level"} <= set(inp.polls.columns):
        s = inp.polls
        keep = (s["by"].astype(str) == attribute) & (s["stance"].astype(str) == stance)
        if "question" in s.columns:
            keep &= s["question"].astype(str) == "stance"
        if "method" in s.columns:
            keep &= s["method"].astype(str) == "direct"
        sim = s[keep]
    fig = go.Figure()
    total = float(size.sum()) or 1.0
    runs = 0
    small = []
    for i, lv in enumerate(shown):
        colour = COLOURS[i % len(COLOURS)]
        k = float(agents.get(lv, np.nan))
        label = f"{lv} ({100 * float(size.get(lv, 0)) / total:.3g}% of agents)"
        if np.isfinite(k) and k < SMALL_PANEL:
            label += f" \u26a0 n \u2248 {k:,.0f} agents: noisy"
            small.append(lv)
        show: bool | str = True if i < 8 else "legendonly"
        r = by_level.get(lv, rows.iloc[0:0])
        pb = ensemble_bands(r, "share", x)
        runs = max(runs, pb.runs)
        _bands(fig, pb, colour=colour, name=label + (" \u2014 private" if gap else ""),
               group=lv, show=show, which="90")
        if gap:
            _bands(fig, ensemble_bands(r, "expressed_share", x), colour=colour,
                   name=f"{lv} \u2014 voiced", group=lv, dash="dash", show=show,
                   legend=False, which="90")
        if sim is not None and not sim.empty:
            s_lv = sim[sim["level"].astype(str) == lv]
            if not s_lv.empty:
                _poll_traces(fig, s_lv.drop(columns=["level"]), stance, series, dated,
                             group=lv, suffix=f" ({lv})", colour=colour, legend=False)
        if pub is not None and not pub.empty:
            p_lv = pub[pub["level"].astype(str) == lv]
            px = _poll_x(p_lv, series, dated) if not p_lv.empty else None
            if px is not None:
                val = p_lv["value"].to_numpy(float)
                fig.add_trace(go.Scatter(
                    x=px, y=_r(val), mode="markers", legendgroup=lv, showlegend=False,
                    visible=show, name=f"published ({lv})",
                    marker={"symbol": "diamond", "size": 11, "color": colour,
                            "line": {"color": BLACK, "width": 1.5}},
                    error_y={"type": "data", "symmetric": False,
                             "array": _r(np.nan_to_num(p_lv["ci_high"].to_numpy(float)
                                                       - val)),
                             "arrayminus": _r(np.nan_to_num(
                                 val - p_lv["ci_low"].to_numpy(float))),
                             "color": BLACK, "thickness": 1.2, "width": 5},
                    text=[html.escape(str(v)) for v in p_lv["poll"]],
                    hovertemplate=(f"<b>published, {html.escape(lv)}</b><br>%{{text}}: "
                                   "%{y:.1%}<extra></extra>")))
    placed = timeline(inp.events, series, dated)
    from .assumed import breakdown_inputs

    notes = [_runs_note(runs, "middle 90% of runs"), *breakdown_inputs(inp.metadata, attribute)]
    _layout(fig, f"{inp.name}: {stance}, by {attribute}", ytitle=f"share, {stance}",
            xtitle="date" if dated else "time (sweeps)", subtitle="\n".join(notes),
            height=600)
    fig.update_yaxes(rangemode="tozero")
    _event_marks(fig, placed, dated, extent=_extent(series))
    note = ""
    if small:
        note = (f'<p class="warn">\u26a0 Fewer than {SMALL_PANEL} agents in '
                f"{html.escape(', '.join(small))}: their shares move by several points "
                "from one record to the next by chance alone.</p>")
    intro = ("<p>One legend entry per level: click it to hide or show the level, "
             "double-click it to show that level alone. Solid lines: private (held); dashed: "
             "voiced; shading: middle 90% of runs; circles: the simulated poll of the "
             "subgroup (median of runs, typical 95% interval); diamonds: published figures "
             "for the subgroup (95% sampling interval).</p>")
    return Section(f"by-{_slug(attribute)}", f"{stance} by {attribute}", fig,
                   note + _event_note(placed), intro=intro)


def gap_section(inp: InteractiveInputs) -> Section:
    """The hidden share (private − voiced) of every stance, one legend entry each.

    Parameters
    ----------
    inp
        The report's inputs.

    Returns
    -------
    Section
    """
    go = _go()
    series = inp.series
    assert series is not None
    x = time_column(series)
    dated = x == "date"
    fig = go.Figure()
    runs = 0
    for i, st in enumerate(inp.stances):
        rows = series.loc[(series["by"].astype(str) == "all")
                          & (series["stance"].astype(str) == st)]
        b = ensemble_bands(rows, "gap", x)
        runs = max(runs, b.runs)
        _bands(fig, b, colour=PALETTE[i % len(PALETTE)], name=str(st), group=str(st),
               which="90")
    fig.add_hline(y=0, line={"color": "#333", "width": 1})
    placed = timeline(inp.events, series, dated)
    _layout(fig, f"{inp.name}: hidden support (private \u2212 expressed)",
            ytitle="private \u2212 expressed", xtitle="date" if dated else "time (sweeps)",
            subtitle=_runs_note(runs, "middle 90% of runs")
            + "\nabove 0: held but not voiced; below 0: voiced but not held")
    _event_marks(fig, placed, dated, extent=_extent(series))
    return Section("gap", "hidden support", fig, _event_note(placed))


def participation_section(inp: InteractiveInputs) -> Section | None:
    """Participation (protest) over time, when the results hold it.

    Parameters
    ----------
    inp
        The report's inputs (``participation``: series-like rows of one stance).

    Returns
    -------
    Section or None
        ``None`` without participation rows.
    """
    go = _go()
    p = inp.participation
    if p is None or p.empty or inp.series is None:
        return None
    x = time_column(p)
    dated = x == "date"
    rows = p[p["by"].astype(str) == "all"] if "by" in p.columns else p
    b = ensemble_bands(rows, "share", x)
    fig = go.Figure()
    _bands(fig, b, colour="#009E73", name=str(rows["stance"].iloc[0]) if len(rows) else "",
           group="part")
    placed = timeline(inp.events, inp.series, dated)
    _layout(fig, f"{inp.name}: participation", ytitle="share taking part",
            xtitle="date" if dated else "time (sweeps)", subtitle=_runs_note(b.runs))
    _event_marks(fig, placed, dated, extent=_extent(inp.series))
    return Section("participation", "participation", fig, _event_note(placed))


def intervals_section(frame: pd.DataFrame, *, anchor: str, heading: str, what: str,
                      value: str = "value", low: str = "low", high: str = "high",
                      median: str = "median") -> Section | None:
    """Published figures beside a simulated (or predictive) interval, one row each: the
    interval as a bar with its median, the published value as a diamond (vermillion when
    outside the interval).

    Parameters
    ----------
    frame
        Rows with ``poll``, ``question``, ``by``, ``level``, ``answer``, the published
        ``value`` and the interval's ``low``, ``median``, ``high`` and ``inside``.
    anchor, heading
        The section's anchor and heading.
    what
        What the interval is (for the legend).
    value, low, high, median
        Column names.

    Returns
    -------
    Section or None
        ``None`` when ``frame`` is empty.
    """
    go = _go()
    if frame is None or frame.empty:
        return None
    t = frame.reset_index(drop=True)
    labels = []
    for _, r in t.iterrows():
        sub = "all" if str(r["by"]) == "all" else f"{r['by']} {r['level']}"
        check = f"{r['check']}: " if "check" in t.columns else ""
        labels.append(f"{check}{r['poll']} · {r['question']} · {sub} · {r['answer']}")
    # make labels unique (plotly merges equal category labels)
    seen: dict[str, int] = {}
    for k, lab in enumerate(labels):
        seen[lab] = seen.get(lab, 0) + 1
        if seen[lab] > 1:
            labels[k] = f"{lab} ({seen[lab]})"
    med = t[median].to_numpy(float)
    inside = t["inside"].astype(bool).to_numpy() if "inside" in t.columns else \
        np.ones(len(t), bool)
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=_r(med), y=labels, mode="markers", name=what,
        marker={"color": BLUE, "size": 7},
        error_x={"type": "data", "symmetric": False,
                 "array": _r(np.clip(t[high].to_numpy(float) - med, 0, None)),
                 "arrayminus": _r(np.clip(med - t[low].to_numpy(float), 0, None)),
                 "color": _rgba(BLUE, 0.6), "thickness": 6, "width": 0},
        customdata=np.column_stack([t[low], t[high]]).round(5),
        hovertemplate=("%{y}<br>median %{x:.1%}<br>range %{customdata[0]:.1%}–"
                       "%{customdata[1]:.1%}<extra></extra>")))
    for flag, colour, name in ((True, BLACK, "published (inside)"),
                               (False, VERMILLION, "published (outside)")):
        m = inside == flag
        if m.any():
            fig.add_trace(go.Scatter(
                x=_r(t[value].to_numpy(float)[m]), y=[labels[k] for k in np.flatnonzero(m)],
                mode="markers", name=name,
                marker={"symbol": "diamond", "size": 10, "color": colour},
                hovertemplate="%{y}<br>published %{x:.1%}<extra></extra>"))
    n_in = int(inside.sum())
    _layout(fig, heading, xtitle="share of respondents", pct=False,
            height=max(360, 120 + 24 * len(t)),
            subtitle=f"{n_in} of {len(t)} published figures inside the range")
    fig.update_xaxes(tickformat=".0%", rangemode="tozero")
    fig.update_yaxes(autorange="reversed", tickfont={"size": 10})
    fig.update_layout(margin={"l": 330})
    return Section(anchor, heading, fig)


def sensitivity_sections(inp: InteractiveInputs) -> list[Section]:
    """The one-at-a-time sensitivity (tornado) and the global analyses (Morris, Sobol),
    one figure each, one panel per final share.

    Parameters
    ----------
    inp
        The report's inputs (``sensitivity`` and ``gsa``).

    Returns
    -------
    list of Section
        Empty when the results hold no sensitivity analysis.
    """
    from plotly.subplots import make_subplots

    from ..experiments.gsa import DUMMY, verdicts
    from ..experiments.sensitivity import swings
    from .sensitivity import _main_outcomes

    go = _go()
    out: list[Section] = []
    sens = inp.sensitivity
    if sens is not None and not sens.empty:
        sw = swings(sens)
        outcomes = [o for o in dict.fromkeys(sens["outcome"])
                    if str(o).startswith(("final private share", "final expressed share"))]
        outcomes = [o for o in outcomes if o in set(sw["outcome"])]
        if outcomes:
            fig = make_subplots(rows=1, cols=len(outcomes), subplot_titles=outcomes,
                                horizontal_spacing=0.25)
            base = sens[sens["end"] == "base"].set_index("outcome")["median"]
            for k, o in enumerate(outcomes, start=1):
                g = sw[sw["outcome"] == o]
                names = [str(a) for a in g["assumption"]]
                for end, colour, sym in (("low", "#08519c", "triangle-left"),
                                         ("high", "#a50f15", "triangle-right")):
                    fig.add_trace(go.Scatter(
                        x=_r(g[end]), y=names, mode="markers", name=f"{end} end of range",
                        legendgroup=end, showlegend=k == 1,
                        marker={"color": colour, "symbol": sym, "size": 10},
                        hovertemplate=(f"%{{y}}<br>{end} end: %{{x:.1%}}<extra></extra>")),
                        row=1, col=k)
                for _, r in g.iterrows():
                    fig.add_shape(type="line", x0=r["low"], x1=r["high"], y0=str(
                        r["assumption"]), y1=str(r["assumption"]),
                        line={"color": "#9ecae1", "width": 8}, layer="below", row=1, col=k)
                b = float(base.get(o, np.nan))
                if np.isfinite(b):
                    fig.add_vline(x=b, line={"dash": "dash", "color": "#333"}, row=1,
                                  col=k)
                fig.update_yaxes(autorange="reversed", row=1, col=k)
            _layout(fig, f"{inp.name}: what each assumption's range does", pct=False,
                    height=max(400, 140 + 26 * len(sw) // max(1, len(outcomes))),
                    subtitle="each assumption at the low and the high end of its range, the "
                             "others at the baseline (dashed)")
            fig.update_xaxes(tickformat=".0%")
            fig.update_layout(margin={"l": 260})
            out.append(Section("sensitivity", "sensitivity (one assumption at a time)", fig))
    for method, over, frame in inp.gsa:
        if frame is None or frame.empty:
            continue
        v = verdicts(frame)
        outcomes = _main_outcomes(frame)
        if not outcomes:
            continue
        fig = make_subplots(rows=1, cols=len(outcomes), subplot_titles=outcomes,
                            horizontal_spacing=0.25)
        for k, o in enumerate(outcomes, start=1):
            g = v[(v["outcome"] == o) & (v["assumption"] != DUMMY)]
            cols = [("mu_star", "μ* (mean absolute change)", "#3182bd")] if method == \
                "morris" else [("ST", "ST (total)", "#3182bd"), ("S1", "S1 (alone)", "#fdae6b")]
            g = g.sort_values(cols[0][0], ascending=False).head(15)
            for c, label, colour in cols:
                fig.add_trace(go.Bar(
                    x=_r(g[c]), y=[str(a) for a in g["assumption"]], orientation="h",
                    name=label, legendgroup=c, showlegend=k == 1, marker_color=colour,
                    error_x={"type": "data", "array": _r(g[f"{c}_conf"])},
                    customdata=[str(x) for x in g.get("verdict", [""] * len(g))],
                    hovertemplate=f"%{{y}}<br>{label}: %{{x:.3f}}<br>%{{customdata}}"
                                  "<extra></extra>"), row=1, col=k)
            floor = v[(v["outcome"] == o) & (v["assumption"] == DUMMY)][cols[0][0]]
            if len(floor) and np.isfinite(float(floor.iloc[0])):
                fig.add_vline(x=float(floor.iloc[0]), line={"dash": "dash",
                                                           "color": "#a50f15"},
                              row=1, col=k)
            fig.update_yaxes(autorange="reversed", row=1, col=k)
        title = "Morris screening" if method == "morris" else "Sobol indices"
        _layout(fig, f"{inp.name}: {title} over the {over}", pct=False, height=560,
                subtitle="dashed: the dummy assumption (noise floor)")
        fig.update_layout(barmode="group", margin={"l": 260})
        out.append(Section(f"gsa-{method}-{over}", f"{title} over the {over}", fig))
    return out


def calibration_sections(inp: InteractiveInputs) -> list[Section]:
    """The calibration's figures: posterior marginals, posterior predictive bands of the
    headline shares over time (every subgroup in the legend), predictive checks,
    diagnostics, held-out checks, variants and value of information (each when its table
    exists).

    Parameters
    ----------
    inp
        The report's inputs (``calibration``).

    Returns
    -------
    list of Section
        Empty without a calibration.
    """
    from plotly.subplots import make_subplots

    from .calibration import MEASURES, _reading_colours

    go = _go()
    cal = inp.calibration
    if cal is None:
        return []
    out: list[Section] = []
    colours = _reading_colours(cal)
    if cal.posterior is not None and cal.priors:
        priors = [p for p in cal.priors if p.key in cal.posterior.columns]
        if priors:
            ncols = min(3, len(priors))
            nrows = math.ceil(len(priors) / ncols)
            fig = make_subplots(rows=nrows, cols=ncols, vertical_spacing=0.5 / nrows,
                                subplot_titles=[p.name[:60] for p in priors])
            for k, p in enumerate(priors):
                r, c = k // ncols + 1, k % ncols + 1
                for reading in cal.readings:
                    d = cal.draws(reading)
                    if p.key not in d.columns or d.empty:
                        continue
                    vals = d[p.key].to_numpy(float)
                    w = d["weight"].to_numpy(float)
                    ok = np.isfinite(vals) & np.isfinite(w)
                    if not ok.any():
                        continue
                    lo = p.low if np.isfinite(p.low) else float(vals[ok].min())
                    hi = p.high if np.isfinite(p.high) else float(vals[ok].max())
                    if hi <= lo:
                        hi = lo + 1e-9
                    h, edges = np.histogram(vals[ok], bins=20, range=(lo, hi),
                                            weights=w[ok])
                    mids = (edges[:-1] + edges[1:]) / 2
                    colour = colours.get(reading.name, BLUE)
                    fig.add_trace(go.Bar(
                        x=_r(mids), y=_r(h), width=float(edges[1] - edges[0]),
                        name=reading.label if cal.several else "posterior",
                        legendgroup=reading.name, showlegend=k == 0,
                        marker_color=_rgba(colour, 0.55),
                        hovertemplate=(f"{html.escape(p.name)}<br>%{{x:.3g}}: posterior "
                                       "weight %{y:.3f}<extra></extra>")), row=r, col=c)
            _layout(fig, f"{inp.name}: posterior of each assumption", pct=False,
                    height=max(420, 260 * nrows),
                    subtitle="weighted histogram of the last generation's particles over "
                             "the prior's range")
            fig.update_layout(barmode="overlay")
            out.append(Section("posterior", "posterior of each assumption", fig))
    o = cal.outcomes
    if o is not None and not o.empty:
        if not o.empty:
            xcol = "date" if "date" in o.columns and o["date"].notna().all() else "time"
            fig = go.Figure()
            stances = o["stance"].astype(str) if "stance" in o.columns else \
                pd.Series("", index=o.index)
            level = (o["level"].astype(str) if "level" in o.columns
                     else pd.Series("all", index=o.index))
            keys = [stances, o["by"].astype(str), level, o["measure"].astype(str)]
            for i, (key, g) in enumerate(o.groupby(keys, sort=False)):
                st, by, lv, m = key
                if m not in MEASURES:
                    continue
                show: bool | str = True if by == "all" else "legendonly"
                g = g.sort_values(xcol)
                x = (_xs(pd.to_datetime(g[xcol]).to_numpy()) if xcol == "date"
                     else [float(v) for v in g[xcol]])
                colour = COLOURS[i % len(COLOURS)]
                name = (f"{st}: {m}" if st else m) + ("" if by == "all" else f" ({by} {lv})")
                fig.add_trace(go.Scatter(
                    x=x + x[::-1], y=_r(g["high"]) + _r(g["low"])[::-1], fill="toself",
                    fillcolor=_rgba(colour, 0.18), line={"width": 0}, hoverinfo="skip",
                    legendgroup=name, showlegend=False, visible=show))
                fig.add_trace(go.Scatter(
                    x=x, y=_r(g["median"]), mode="lines+markers", name=name,
                    legendgroup=name, line={"color": colour}, visible=show,
                    customdata=np.column_stack([g["low"], g["high"]]).round(5),
                    hovertemplate=(f"<b>{html.escape(name)}</b><br>posterior median "
                                   "%{y:.1%}<br>90% interval %{customdata[0]:.1%}–"
                                   "%{customdata[1]:.1%}<extra></extra>")))
            _layout(fig, f"{inp.name}: headline shares over the posterior",
                    ytitle="share",
                    xtitle="date" if xcol == "date" else "time (sweeps)",
                    subtitle="posterior median and 90% credible band (one run per posterior "
                             "draw: the assumptions' uncertainty and run-to-run noise); "
                             "subgroups in the legend")
            out.append(Section("posterior-bands", "headline shares over the posterior", fig))
    if cal.predictive is not None:
        s = intervals_section(cal.predictive, anchor="predictive",
                              heading=f"{inp.name}: posterior predictive checks",
                              what="posterior predictive: median and 90% interval")
        if s:
            out.append(s)
    gen = cal.generations
    if gen is not None and not gen.empty:
        cols = [c for c in ("epsilon", "acceptance", "ess") if c in gen.columns]
        fig = make_subplots(rows=1, cols=len(cols), subplot_titles=cols)
        for k, c in enumerate(cols, start=1):
            fig.add_trace(go.Scatter(x=[int(v) for v in gen["t"]], y=_r(gen[c]),
                                     mode="lines+markers", name=c, showlegend=False),
                          row=1, col=k)
            fig.update_xaxes(title_text="generation", row=1, col=k)
        _layout(fig, f"{inp.name}: calibration diagnostics", pct=False, height=380)
        out.append(Section("diagnostics", "calibration diagnostics", fig))
    if cal.loo is not None and not cal.loo.empty:
        s = intervals_section(cal.loo, anchor="loo",
                              heading=f"{inp.name}: held-out checks",
                              what="prediction without the figure: median and 90% interval")
        if s:
            out.append(s)
    v = cal.variants
    if v is not None and not v.empty:
        v = v[v["by"].astype(str) == "all"]
        if not v.empty:
            last = v.loc[v.groupby(v["variant"].astype(str))["time"].transform("max")
                         == v["time"]]
            fig = go.Figure()
            for i, (m, g) in enumerate(last.groupby(last["measure"].astype(str),
                                                    sort=False)):
                med = g["diff_median"].to_numpy(float)
                fig.add_trace(go.Scatter(
                    x=_r(med), y=[str(x) for x in g["variant"]], mode="markers", name=m,
                    marker={"color": PALETTE[i % len(PALETTE)], "size": 9},
                    error_x={"type": "data", "symmetric": False,
                             "array": _r(g["diff_high"].to_numpy(float) - med),
                             "arrayminus": _r(med - g["diff_low"].to_numpy(float))},
                    hovertemplate="%{y}<br>" + m + ": %{x:+.1%}<extra></extra>"))
            fig.add_vline(x=0, line={"color": "#333"})
            _layout(fig, f"{inp.name}: variants against the baseline", pct=False,
                    xtitle="variant \u2212 baseline, at the end (percentage points)",
                    subtitle="median and 90% interval over the same posterior draws")
            fig.update_xaxes(tickformat="+.0%")
            fig.update_layout(margin={"l": 260})
            out.append(Section("variants", "variants", fig))
    voi = cal.voi
    if voi is not None and not voi.empty:
        fig = go.Figure()
        for i, (m, g) in enumerate(voi.groupby(voi["measure"].astype(str), sort=False)):
            fig.add_trace(go.Bar(
                x=_r(g["narrowing"]), y=[str(x) for x in g["design"]], orientation="h",
                name=m, marker_color=PALETTE[i % len(PALETTE)],
                customdata=np.column_stack([g["width_now"], g["width_expected"]]).round(5),
                hovertemplate=("%{y}<br>narrows the 90% interval by %{x:.0%}<br>from "
                               "%{customdata[0]:.1%} to %{customdata[1]:.1%}"
                               "<extra></extra>")))
        _layout(fig, f"{inp.name}: value of information", pct=False,
                xtitle="expected narrowing of the 90% interval")
        fig.update_xaxes(tickformat=".0%")
        fig.update_layout(margin={"l": 300}, barmode="group")
        out.append(Section("voi", "value of information", fig))
    return out


def build_figures(inp: InteractiveInputs) -> list[Section]:
    """Every interactive figure of the report, in page order.

    Parameters
    ----------
    inp
        What to draw.

    Returns
    -------
    list of Section

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame([{"run": r, "time": float(t), "by": "all", "level": "all",
    ...     "stance": "A", "share": 0.5, "expressed_share": 0.4, "gap": 0.1}
    ...     for r in range(2) for t in range(3)])
    >>> [x.anchor for x in build_figures(InteractiveInputs("demo", series=s, focus="A",
    ...                                                   stances=["A"]))]
    ['share', 'gap']
    """
    out: list[Section] = []
    s = inp.series
    if s is not None and not s.empty:
        out.append(share_section(inp, s, anchor="share",
                                 heading=f"{inp.name}: who holds and who voices {inp.focus}",
                                 ylabel=inp.ylabel, notes=inp.share_notes))
        if inp.adults is not None and not inp.adults.empty:
            out.append(share_section(
                inp, inp.adults, anchor="share-adults",
                heading=f"{inp.name}: who holds and who voices {inp.focus}, adults only",
                ylabel=inp.adults_label, start_input=inp.adults_start_input))
        for attr in [b for b in dict.fromkeys(s["by"].astype(str)) if b != "all"]:
            out.append(breakdown_section(inp, attr))
        out.append(gap_section(inp))
        part = participation_section(inp)
        if part is not None:
            out.append(part)
    if inp.comparison is not None and not inp.comparison.empty:
        c = inp.comparison[inp.comparison["runs"] > 0]
        sec = intervals_section(c, anchor="targets",
                                heading=f"{inp.name}: published figures",
                                what="simulated poll: median and 90% range over runs")
        if sec:
            out.append(sec)
    out += sensitivity_sections(inp)
    out += calibration_sections(inp)
    return out


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1200px;
margin:0 auto;padding:1em 2em;color:#222;line-height:1.45}
h1{font-size:1.7em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .55em}th{background:#f3f3f3}
tbody tr:nth-child(even){background:#fafafa}
blockquote{border-left:4px solid #E69F00;background:#fff8e6;margin:.8em 0;padding:.4em 1em}
code{background:#f3f3f3;padding:0 .2em}nav ul{columns:2}
.figure{margin:1.2em 0 2.2em}.key{margin:.2em 0;font-size:.9em;color:#444}
ol.events{font-size:.9em;color:#444;margin-top:.2em}.warn{color:#D55E00}
.file{font-family:monospace;color:#555}footer{color:#777;font-size:.85em;margin-top:3em}
"""


def render_html(inp: InteractiveInputs) -> str:
    """The page as a string (see :func:`write_html`).

    Parameters
    ----------
    inp
        What to draw.

    Returns
    -------
    str
        The whole HTML document.

    Examples
    --------
    >>> page = render_html(InteractiveInputs("demo", markdown="# demo"))
    >>> page.count("<script"), '<h1 id="demo">demo</h1>' in page
    (1, True)
    """
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    sections = build_figures(inp)
    figs = {}
    for sec in sections:
        figs[sec.anchor] = sec.anchor
    # the summary's figure names (file stems) point to the interactive figures
    stems = {"gap": "gap", "targets": "targets", "sensitivity": "sensitivity",
             "posterior_marginals": "posterior", "predictive": "predictive",
             "calibration_diagnostics": "diagnostics", "loo": "loo",
             "variants": "variants", "voi": "voi", "participation": "participation"}
    links = {k: v for k, v in stems.items() if v in figs}
    if inp.focus:
        links[f"share_{_file_part(inp.focus)}"] = "share"
        if "share-adults" in figs:
            links[f"share_{_file_part(inp.focus)}_adults"] = "share-adults"
        for sec in sections:
            if sec.anchor.startswith("by-"):
                links[f"share_{_file_part(inp.focus)}_{sec.anchor.replace('-', '_', 1)}"] = \
                    sec.anchor
    for m, o, _ in inp.gsa:
        if f"gsa-{m}-{o}" in figs:
            links[f"gsa-{m}-{o}"] = f"gsa-{m}-{o}"
    summary = markdown_to_html(inp.markdown, links) if inp.markdown else ""
    parts = []
    for k, sec in enumerate(sections):
        div = pio.to_html(sec.figure, include_plotlyjs=False, full_html=False,
                          config=_CONFIG, div_id=f"fig-{sec.anchor}",
                          include_mathjax=False, validate=False)
        parts.append(f'<section class="figure" id="{sec.anchor}">\n'
                     f"<h2>{k + 1}. {html.escape(sec.heading)}</h2>\n{sec.intro}\n{div}\n"
                     f"{sec.note}\n"
                     "</section>")
    nav = "".join(f'<li><a href="#{s.anchor}">{html.escape(s.heading)}</a></li>'
                  for s in sections)
    files = ", ".join(html.escape(f) for f in inp.figures)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{html.escape(inp.name)}: steppe report</title>\n<style>{_CSS}</style>\n"
        f'<script type="text/javascript">{get_plotlyjs()}</script>\n</head>\n<body>\n'
        f"<h1>{html.escape(inp.name)}: steppe report</h1>\n"
        "<p>Interactive report: hover over a line or a point for its values, click a legend "
        "entry to hide or show it (double-click: show it alone), drag to zoom, double-click "
        "to zoom out; the camera icon saves a figure as SVG. This file needs no internet "
        "connection and can be sent as it is.</p>\n"
        f"<nav><strong>Figures</strong><ul>{nav}</ul></nav>\n"
        + "\n".join(parts)
        + f'\n<section id="summary">\n{summary}\n</section>\n'
        + (f"<footer>The same figures as files (PNG, SVG, PDF) in this folder: {files}."
           "</footer>\n" if files else "")
        + "</body>\n</html>\n")


def _file_part(label: str) -> str:
    from .plots import safe_name

    return safe_name(label)


def write_html(path: str | Path, inp: InteractiveInputs) -> Path:
    """Write the interactive report: one self-contained HTML file (plotly.js inlined once,
    each figure a ``<div>``, the summary rendered below them), atomically.

    Parameters
    ----------
    path
        The file to write (``report/report.html``).
    inp
        What to draw (:class:`InteractiveInputs`).

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_html(pathlib.Path(tempfile.mkdtemp()) / "r.html",
    ...                InteractiveInputs("demo", markdown="# demo\\n\\nNothing yet."))
    >>> text = p.read_text(encoding="utf-8")
    >>> "<script src=" in text, "Nothing yet." in text
    (False, True)
    """
    text = render_html(inp)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return Path(path)
