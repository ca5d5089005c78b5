"""Bokeh figures of the explorer: shares over time with ensemble bands and polls, phase
diagrams, posterior marginals and predictive checks.

The numbers come from :mod:`steppe.report` (ensemble bands, observed polls, weighted
quantiles): the figures here only draw them, with the report's colours (Okabe & Ito) and
styles (private solid blue, voiced dashed vermillion, observed polls black diamonds with
95% intervals).

Examples
--------
>>> import pandas as pd
>>> s = pd.DataFrame([{"run": r, "time": float(t), "by": "all", "level": "all",
...     "stance": "A", "share": 0.5 + 0.01 * r, "expressed_share": 0.4, "gap": 0.1}
...     for r in range(3) for t in range(4)])
>>> f = ShareFigure()
>>> f.update(s, "A")
>>> [round(float(v), 2) for v in f.sources["private"].data["median"]]
[0.51, 0.51, 0.51, 0.51]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from bokeh.models import (
    ColorBar,
    ColumnDataSource,
    HoverTool,
    Legend,
    LegendItem,
    LinearColorMapper,
    NumeralTickFormatter,
    Range1d,
    Span,
    Whisker,
)
from bokeh.plotting import figure

from ..report.plots import BLACK, BLUE, GREEN, ORANGE, PURPLE, SKY, VERMILLION, ensemble_bands

__all__ = ["PALETTE", "ShareFigure", "phase_figure", "posterior_figure", "predictive_figure",
           "series_rows"]

PALETTE = (BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, BLACK)
_EMPTY_BAND = {"x": [], "q05": [], "q25": [], "median": [], "q75": [], "q95": []}


def _x_column(series: pd.DataFrame) -> str:
    if "date" in series.columns and series["date"].notna().any():
        return "date"
    return "time"


def series_rows(series: pd.DataFrame, stance: str, by: str = "all",
                level: str = "all") -> pd.DataFrame:
    """The rows of one stance and breakdown level of a tidy series.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"by": ["all", "group"], "level": ["all", "x"],
    ...                   "stance": ["A", "A"], "share": [0.1, 0.2]})
    >>> series_rows(s, "A", "group", "x")["share"].tolist()
    [0.2]
    """
    m = ((series["by"].astype(str) == by) & (series["level"].astype(str) == level)
         & (series["stance"].astype(str) == stance))
    return series.loc[m]


def _band_data(rows: pd.DataFrame, value: str, x: str) -> dict[str, Any]:
    if rows.empty:
        return dict(_EMPTY_BAND)
    b = ensemble_bands(rows, value, x)
    return {"x": b.x, "q05": b.q[0], "q25": b.q[1], "median": b.q[2], "q75": b.q[3],
            "q95": b.q[4]}


class ShareFigure:
    """Private and voiced share of one stance over time: the median across runs, the 50%
    and 90% bands, one run on its own, observed polls and simulated polls.

    The figure is built once; :meth:`update` replaces its data (what a live view needs to
    answer a slider without redrawing the page).

    Parameters
    ----------
    dated
        Whether the x axis holds dates (else sweeps).
    height, width
        The figure's size in pixels (``width=None``: stretch to the page).
    """

    def __init__(self, *, dated: bool = True, height: int = 420,
                 width: int | None = None) -> None:
        self.dated = dated
        opts: dict[str, Any] = {"height": height, "toolbar_location": "right",
                                "tools": "pan,box_zoom,wheel_zoom,reset,save",
                                "x_axis_type": "datetime" if dated else "linear"}
        if width is None:
            opts["sizing_mode"] = "stretch_width"
        else:
            opts["width"] = width
        fig = figure(**opts)
        fig.yaxis.formatter = NumeralTickFormatter(format="0%")
        fig.yaxis.axis_label = "share of population"
        fig.xaxis.axis_label = "date" if dated else "time (sweeps)"
        fig.y_range = Range1d(0, 1)
        # named, so that a test (or a user's script) finds them in the page's document
        self.sources = {k: ColumnDataSource(dict(_EMPTY_BAND), name=f"steppe-{k}")
                        for k in ("private", "voiced")}
        self.run_source = ColumnDataSource({"x": [], "share": [], "voiced": []},
                                           name="steppe-run")
        self.observed = ColumnDataSource({"x": [], "estimate": [], "low": [], "high": [],
                                          "poll": []}, name="steppe-observed")
        self.simulated = ColumnDataSource({"x": [], "estimate": [], "low": [], "high": [],
                                           "poll": []}, name="steppe-simulated")
        self.event_source = ColumnDataSource({"x": [], "note": []}, name="steppe-events")
        ev = fig.segment(x0="x", y0=0, x1="x", y1=1, source=self.event_source,
                         line_color="#777777", line_dash="dotted", line_width=1.2)
        fig.add_tools(HoverTool(renderers=[ev], tooltips=[("event", "@note")]))
        items = []
        for key, colour, dash, label in (("private", BLUE, "solid", "privately"),
                                         ("voiced", VERMILLION, "dashed", "voicing it")):
            src = self.sources[key]
            b90 = fig.varea("x", "q05", "q95", source=src, fill_color=colour,
                            fill_alpha=0.12)
            b50 = fig.varea("x", "q25", "q75", source=src, fill_color=colour,
                            fill_alpha=0.25)
            line = fig.line("x", "median", source=src, color=colour, line_width=2.2,
                            line_dash=dash)
            items.append(LegendItem(label=f"{label} (median, 50% and 90% of runs)",
                                    renderers=[line, b50, b90]))
            if key == "voiced":
                self.voiced_renderers = [b90, b50, line]
        run_line = fig.line("x", "share", source=self.run_source, color=BLACK,
                            line_width=1.2, alpha=0.8)
        items.append(LegendItem(label="the chosen run (private)", renderers=[run_line]))
        self.run_renderer = run_line
        sim = fig.scatter("x", "estimate", source=self.simulated, size=5, color=PURPLE,
                          alpha=0.6, marker="circle")
        fig.add_layout(Whisker(source=self.simulated, base="x", lower="low", upper="high",
                               line_color=PURPLE, line_alpha=0.5, upper_head=None,
                               lower_head=None))
        items.append(LegendItem(label="simulated polls", renderers=[sim]))
        obs = fig.scatter("x", "estimate", source=self.observed, size=10, color=BLACK,
                          marker="diamond")
        fig.add_layout(Whisker(source=self.observed, base="x", lower="low", upper="high",
                               line_color=BLACK, line_width=1.5))
        items.append(LegendItem(label="observed polls (95% CI)", renderers=[obs]))
        fig.add_tools(HoverTool(renderers=[obs, sim], tooltips=[
            ("poll", "@poll"), ("estimate", "@estimate{0.0%}"),
            ("interval", "@low{0.0%} to @high{0.0%}")]))
        fig.add_tools(HoverTool(renderers=[r for r in fig.renderers
                                           if getattr(r.glyph, "y", None) == "median"],
                                tooltips=[("median", "@median{0.0%}"),
                                          ("90% of runs", "@q05{0.0%} to @q95{0.0%}")],
                                mode="vline"))
        items.append(LegendItem(label="events (hover for what)", renderers=[ev]))
        self.legend_items = dict(zip(("private", "voiced", "run", "simulated", "observed",
                                      "events"), items, strict=True))
        fig.add_layout(Legend(items=items, orientation="horizontal", ncols=3,
                              label_text_font_size="8.5pt", click_policy="hide",
                              border_line_alpha=0, padding=2, spacing=8), "below")
        self.title = fig.title
        self.figure = fig
        self.events: list[Span] = []

    def update(self, series: pd.DataFrame, stance: str, *, by: str = "all",
               level: str = "all", run: int | None = None,
               observed: pd.DataFrame | None = None,
               simulated: pd.DataFrame | None = None, title: str | None = None,
               events: Sequence[Mapping[str, Any]] = ()) -> None:
        """Show ``stance`` of ``series`` (a tidy ``series.parquet`` frame).

        Parameters
        ----------
        series
            The tidy series (columns ``run, time, [date,] by, level, stance, share,
            expressed_share``).
        stance
            The stance to show.
        by, level
            The breakdown and its level (``"all"``: the whole population).
        run
            One run to draw on its own (``None``: none).
        observed
            Observed polls (:func:`steppe.report.summary.read_observed_polls`).
        simulated
            Simulated polls (``polls.parquet`` rows of the model's own question).
        title
            The figure's title.
        events
            The scenario's timeline (``{"at": date or sweep, "note": ...}``): dotted
            vertical lines, the note on hover.
        """
        x = _x_column(series) if self.dated else "time"
        rows = series_rows(series, stance, by, level)
        if "expressed_share" not in rows.columns:
            rows = rows.assign(expressed_share=rows["share"])
        self.sources["private"].data = _band_data(rows, "share", x)
        gap = (rows["share"] - rows["expressed_share"]).abs().max() if len(rows) else 0.0
        voiced = _band_data(rows, "expressed_share", x) if gap and gap > 0 \
            else dict(_EMPTY_BAND)
        self.sources["voiced"].data = voiced
        if run is not None and len(rows):
            one = rows[rows["run"] == run].sort_values(x)
            self.run_source.data = {"x": one[x].to_numpy(), "share": one["share"].to_numpy(),
                                    "voiced": one["expressed_share"].to_numpy()}
        else:
            self.run_source.data = {"x": [], "share": [], "voiced": []}
        self.observed.data = _polls_data(observed, stance) if self.dated else \
            _polls_data(None, stance)
        sim = simulated
        if sim is not None and not sim.empty and by == "all":
            xcol = "date" if self.dated and "date" in sim.columns else "time"
            sim = sim.assign(date=sim[xcol])
            if "by" in sim.columns:
                sim = sim[sim["by"].astype(str) == "all"]
            self.simulated.data = _polls_data(
                sim, stance, name_col="poll" if "poll" in sim.columns else "method")
        else:
            self.simulated.data = _polls_data(None, stance)
        self.event_source.data = _events_data(events, series, x)
        self.refresh_legend()
        top = [0.0]
        for src in (*self.sources.values(), self.observed, self.simulated):
            col = "q95" if "q95" in src.data else "high"
            vals = np.asarray(src.data[col], dtype=float)
            if vals.size and np.isfinite(vals).any():
                top.append(float(np.nanmax(vals)))
        upper = min(1.0, max(0.05, max(top) * 1.15))
        self.figure.y_range.start = 0.0
        self.figure.y_range.end = upper
        if title is not None:
            self.figure.title.text = title


    def refresh_legend(self) -> None:
        """Show only the legend entries of what is drawn."""
        for key, src in (("private", self.sources["private"]),
                         ("voiced", self.sources["voiced"]), ("run", self.run_source),
                         ("simulated", self.simulated), ("observed", self.observed),
                         ("events", self.event_source)):
            self.legend_items[key].visible = len(src.data["x"]) > 0


def _events_data(events: Sequence[Mapping[str, Any]], series: pd.DataFrame, x: str
                 ) -> dict[str, Any]:
    """Where each event falls on the x axis (dates, or sweeps), with its note."""
    xs: list[Any] = []
    notes: list[str] = []
    pairs = None
    if x == "date" and {"time", "date"} <= set(series.columns):
        pairs = series[["time", "date"]].dropna().drop_duplicates("time").sort_values("time")
    for e in events:
        at = e.get("at")
        note = str(e.get("note") or "") or ", ".join(
            f"{k} = {v}" for k, v in (e.get("set") or {}).items())
        try:
            if isinstance(at, bool) or at is None:
                continue
            if isinstance(at, int | float):
                if x == "date":
                    if pairs is None or pairs.empty:
                        continue
                    ns = pd.DatetimeIndex(pairs["date"]).as_unit("ns").asi8
                    at = pd.Timestamp(int(np.interp(float(at), pairs["time"], ns)))
                else:
                    at = float(at)
            elif x == "date":
                at = pd.Timestamp(at)
            else:
                continue
        except (TypeError, ValueError):
            continue
        xs.append(at)
        notes.append(note)
    if x == "date":
        return {"x": pd.DatetimeIndex(xs).as_unit("ns").to_numpy() if xs else [],
                "note": notes}
    return {"x": xs, "note": notes}


def _polls_data(polls: pd.DataFrame | None, stance: str, name_col: str = "poll"
                ) -> dict[str, Any]:
    empty = {"x": [], "estimate": [], "low": [], "high": [], "poll": []}
    if polls is None or polls.empty or "stance" not in polls.columns:
        return empty
    p = polls[polls["stance"].astype(str) == stance]
    if p.empty:
        return empty
    names = p[name_col].astype(str) if name_col in p.columns else pd.Series(
        ["poll"] * len(p), index=p.index)
    est = p["estimate"].to_numpy(dtype=float)
    low = p["ci_low"].to_numpy(dtype=float) if "ci_low" in p.columns else est
    high = p["ci_high"].to_numpy(dtype=float) if "ci_high" in p.columns else est
    x = p["date"] if "date" in p.columns else p["time"]
    if np.issubdtype(np.asarray(x).dtype, np.datetime64):
        x = pd.DatetimeIndex(x).as_unit("ns").to_numpy()
    return {"x": np.asarray(x), "estimate": est, "low": low, "high": high,
            "poll": names.to_numpy()}


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.4g}"
    return str(v)


def phase_figure(meta: Mapping[str, Any]) -> Any:
    """A phase diagram from the JSON a sweep writes beside it (``phase/<name>.json``): a
    heatmap over two swept fields, or the outcome against one field with 95% error bars.

    Parameters
    ----------
    meta
        The JSON's content: ``spec`` (``x``, ``y``, ``outcome``), ``title``, ``grid``
        (``x``, [``y``,] ``value``, ``se``), ``x_values``, ``y_values``.

    Returns
    -------
    bokeh.plotting.figure
    """
    spec = meta.get("spec") or {}
    grid = pd.DataFrame(meta.get("grid") or {})
    title = str(meta.get("title") or spec.get("outcome", ""))
    xs = [_fmt(v) for v in (meta.get("x_values") or [])]
    value = pd.to_numeric(grid.get("value", pd.Series(dtype=float)), errors="coerce")
    if spec.get("y") and "y" in grid.columns:
        ys = [_fmt(v) for v in (meta.get("y_values") or [])]
        data = {"x": [_fmt(v) for v in grid["x"]], "y": [_fmt(v) for v in grid["y"]],
                "value": value.to_numpy(dtype=float),
                "text": [_fmt(round(float(v), 3)) if np.isfinite(v) else ""
                         for v in value]}
        fig = figure(x_range=xs, y_range=ys, height=460, sizing_mode="stretch_width",
                     title=title, tools="hover,save", tooltips=[
                         (str(spec.get("x")), "@x"), (str(spec.get("y")), "@y"),
                         (str(spec.get("outcome")), "@value{0.000}")])
        finite = value[np.isfinite(value)]
        lo = float(finite.min()) if len(finite) else 0.0
        hi = float(finite.max()) if len(finite) else 1.0
        mapper = LinearColorMapper(palette="Viridis256", low=lo, high=hi if hi > lo else lo + 1)
        fig.rect("x", "y", 1, 1, source=ColumnDataSource(data),
                 fill_color={"field": "value", "transform": mapper}, line_color=None)
        if len(data["x"]) <= 80:
            fig.text("x", "y", text="text", source=ColumnDataSource(data),
                     text_align="center", text_baseline="middle", text_font_size="8pt",
                     text_color="#ffffff")
        fig.add_layout(ColorBar(color_mapper=mapper, width=12,
                                title=str(spec.get("outcome"))), "right")
        fig.xaxis.axis_label = str(spec.get("x"))
        fig.yaxis.axis_label = str(spec.get("y"))
        return fig
    fig = figure(height=420, sizing_mode="stretch_width", title=title, tools="hover,save",
                 tooltips=[(str(spec.get("x")), "@x"), ("value", "@value{0.000}"),
                           ("se", "@se{0.000}")])
    se = pd.to_numeric(grid.get("se", pd.Series(np.nan, index=grid.index)), errors="coerce")
    try:
        x = pd.to_numeric(grid["x"]).to_numpy(dtype=float)
    except (KeyError, ValueError, TypeError):
        x = np.arange(len(grid), dtype=float)
    groups = grid["others"].astype(str) if "others" in grid.columns else pd.Series(
        [""] * len(grid), index=grid.index)
    for i, (label, g) in enumerate(pd.DataFrame({"x": x, "value": value, "se": se,
                                                  "g": groups}).groupby("g", sort=False)):
        g = g.sort_values("x")
        src = ColumnDataSource({"x": g["x"], "value": g["value"], "se": g["se"],
                                "low": g["value"] - 1.96 * g["se"].fillna(0),
                                "high": g["value"] + 1.96 * g["se"].fillna(0)})
        colour = PALETTE[i % len(PALETTE)]
        kw = {"legend_label": label} if label else {}
        fig.line("x", "value", source=src, color=colour, line_width=2, **kw)
        fig.scatter("x", "value", source=src, color=colour, size=6)
        fig.add_layout(Whisker(source=src, base="x", lower="low", upper="high",
                               line_color=colour))
    fig.xaxis.axis_label = str(spec.get("x"))
    fig.yaxis.axis_label = str(spec.get("outcome"))
    return fig


def posterior_figure(draws: Sequence[tuple[str, np.ndarray, np.ndarray]], *, name: str,
                     low: float, high: float, fixed: Mapping[str, float] | None = None,
                     prior: Callable[[np.ndarray], np.ndarray] | None = None) -> Any:
    """One assumption's posterior: a weighted histogram (density) per reading over the
    prior's range.

    Parameters
    ----------
    draws
        ``(reading, values, weights)`` for each reading.
    name
        The assumption, in words (the title).
    low, high
        The prior's range (NaN when unknown: the draws' range).
    fixed
        Reading → the value it fixes the assumption at (a dotted line).
    prior
        The prior's density over the range (a dashed grey line), when known.

    Returns
    -------
    bokeh.plotting.figure
    """
    vals = [v for _, v, _ in draws if len(v)]
    lo, hi = low, high
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        allv = np.concatenate(vals) if vals else np.array([0.0, 1.0])
        lo, hi = float(np.nanmin(allv)), float(np.nanmax(allv))
        if hi <= lo:
            hi = lo + 1.0
    edges = np.linspace(lo, hi, 31)
    fig = figure(height=320, sizing_mode="stretch_width", title=name,
                 tools="hover,save,pan,box_zoom,reset",
                 tooltips=[("reading", "@reading"), ("from", "@left{0.000}"),
                           ("to", "@right{0.000}"), ("density", "@top{0.00}")])
    for i, (reading, v, w) in enumerate(draws):
        if len(v) == 0:
            continue
        dens, _ = np.histogram(np.clip(v, lo, hi), bins=edges, weights=w, density=True)
        colour = PALETTE[i % len(PALETTE)]
        src = ColumnDataSource({"left": edges[:-1], "right": edges[1:], "top": dens,
                                "bottom": np.zeros_like(dens),
                                "reading": [reading or "posterior"] * len(dens)})
        fig.quad("left", "right", "top", "bottom", source=src, fill_color=colour,
                 fill_alpha=0.35, line_color=colour, legend_label=reading or "posterior")
    if prior is not None:
        grid = np.linspace(lo, hi, 200)
        try:
            dens = np.asarray(prior(grid), dtype=float)
        except (ValueError, TypeError):
            dens = None
        if dens is not None and np.isfinite(dens).any():
            fig.line(grid, dens, color="#777777", line_dash="dashed", line_width=1.5,
                     legend_label="prior")
    for i, (reading, _, _) in enumerate(draws):
        value = (fixed or {}).get(reading)
        if value is not None:
            fig.add_layout(Span(location=float(value), dimension="height",
                                line_color=PALETTE[i % len(PALETTE)], line_dash="dotted",
                                line_width=2))
    fig.x_range = Range1d(lo, hi)
    fig.xaxis.axis_label = "value (the prior's range)"
    fig.yaxis.axis_label = "posterior density"
    if fig.legend:
        fig.legend.location = "top_right"
        fig.legend.label_text_font_size = "8.5pt"
    return fig


def predictive_figure(predictive: pd.DataFrame) -> Any:
    """Every published figure (black diamond; vermillion when outside) beside the posterior
    predictive median and 90% interval of the simulated poll of the same design.

    Parameters
    ----------
    predictive
        ``predictive.parquet`` (columns ``poll, question, by, level, answer, value,
        median, low, high, inside``).

    Returns
    -------
    bokeh.plotting.figure
    """
    p = predictive.reset_index(drop=True)
    labels = []
    for _, r in p.iterrows():
        sub = "" if str(r["by"]) == "all" else f" · {r['by']}={r['level']}"
        q = "" if str(r["question"]) == "stance" else f" · {r['question']}"
        labels.append(f"{r['poll']}{q}{sub} · {r['answer']}")
    labels = [f"{i + 1:>2}. {lab}" for i, lab in enumerate(labels)]
    inside = p["inside"].astype(bool).to_numpy() if "inside" in p.columns else np.ones(
        len(p), bool)
    src = ColumnDataSource({"label": labels, "value": p["value"].to_numpy(dtype=float),
                            "median": p["median"].to_numpy(dtype=float),
                            "low": p["low"].to_numpy(dtype=float),
                            "high": p["high"].to_numpy(dtype=float),
                            "colour": np.where(inside, BLACK, VERMILLION)})
    fig = figure(y_range=list(reversed(labels)), height=max(260, 24 * len(labels) + 80),
                 sizing_mode="stretch_width", tools="hover,save",
                 title="published figures beside the posterior predictive 90% interval",
                 tooltips=[("figure", "@label"), ("published", "@value{0.0%}"),
                           ("simulated median", "@median{0.0%}"),
                           ("90% interval", "@low{0.0%} to @high{0.0%}")])
    fig.hbar(y="label", left="low", right="high", height=0.5, source=src, fill_color=BLUE,
             fill_alpha=0.3, line_color=None, legend_label="simulated poll: 90% interval")
    fig.scatter("median", "label", source=src, color=BLUE, size=7,
                legend_label="simulated poll: median")
    fig.scatter("value", "label", source=src, color="colour", size=10, marker="diamond",
                legend_label="published (vermillion: outside)")
    fig.xaxis.formatter = NumeralTickFormatter(format="0%")
    ends = np.concatenate([p["low"].to_numpy(dtype=float), p["high"].to_numpy(dtype=float),
                           p["value"].to_numpy(dtype=float)])
    ends = ends[np.isfinite(ends)]
    if ends.size:
        lo, hi = float(ends.min()), float(ends.max())
        pad = 0.05 * (hi - lo) or 0.01
        fig.x_range = Range1d(max(0.0, lo - pad), min(1.0, hi + pad))
    legend = fig.legend[0]
    fig.center = [r for r in fig.center if r is not legend]
    legend.orientation = "horizontal"
    legend.label_text_font_size = "8.5pt"
    legend.border_line_alpha = 0
    fig.add_layout(legend, "below")
    return fig
