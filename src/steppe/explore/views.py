"""The explorer's views (Panel): a results folder, a sweep, a calibration, a live scenario.

Each ``*_view`` function returns a Panel layout for one source; what it reads comes from
:mod:`steppe.report` (:func:`~steppe.report.load_results`,
:func:`~steppe.report.calibration.read_calibration`, the observed polls) and from the
sweep store (:class:`~steppe.experiments.store.SweepStore`). The live view runs the
scenario in a thread of its own and updates the page when each run ends.
"""

from __future__ import annotations

import html
import json
import logging
import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import panel as pn

from ..errors import SteppeError
from ..experiments.calibrate import weighted_quantile
from ..experiments.store import SweepStore
from ..report import load_results
from ..report.calibration import read_calibration
from ..report.summary import read_observed_polls
from .figures import ShareFigure, phase_figure, posterior_figure, predictive_figure
from .live import Cancelled, LiveResult, LiveScenario

__all__ = ["calibration_view", "live_view", "polls_table", "results_view", "shares_table",
           "sweep_view"]

log = logging.getLogger(__name__)


_SHARES_HEAD = "**Final shares** (median of runs; 90% of runs in brackets)\n\n"


def _pct(x: float) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{100 * x:.1f}%"


def _title(text: str) -> Any:
    """The view's title, styled the same whenever it is drawn."""
    return pn.pane.HTML(f"<div style='font-size: 1.4em; font-weight: 600'>{html.escape(text)}"
                        "</div>", sizing_mode="stretch_width", margin=(10, 10, 0, 10))


def _note(text: str, kind: str = "info") -> Any:
    return pn.pane.Alert(text, alert_type=kind, sizing_mode="stretch_width")


def _x_of(series: pd.DataFrame) -> str:
    return "date" if "date" in series.columns and series["date"].notna().any() else "time"


def shares_table(series: pd.DataFrame, stances: list[str], *, by: str = "all",
                 level: str = "all") -> str:
    """A Markdown table: each stance's private and voiced share at the last record, median
    and 90% range across runs.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"run": [0, 1], "time": [1.0, 1.0], "by": "all", "level": "all",
    ...                   "stance": "A", "share": [0.2, 0.4], "expressed_share": 0.1})
    >>> print(shares_table(s, ["A"]).splitlines()[2])
    | A | 30.0% (21.0%–39.0%) | 10.0% (10.0%–10.0%) |
    """
    x = _x_of(series)
    rows = series[(series["by"].astype(str) == by) & (series["level"].astype(str) == level)]
    lines = ["| stance | privately, at the end | voicing it, at the end |",
             "|---|---:|---:|"]
    if rows.empty:
        return "\n".join(lines)
    last = rows.sort_values(x).groupby(["run", rows["stance"].astype(str)],
                                       observed=True).tail(1)
    for st in stances:
        g = last[last["stance"].astype(str) == st]
        if g.empty:
            continue
        cells = []
        for col in ("share", "expressed_share"):
            v = g[col].to_numpy(dtype=float) if col in g.columns else g["share"].to_numpy(
                dtype=float)
            q = np.nanquantile(v, [0.05, 0.5, 0.95])
            cells.append(f"{_pct(q[1])} ({_pct(q[0])}–{_pct(q[2])})")
        lines.append(f"| {st} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def polls_table(series: pd.DataFrame, observed: pd.DataFrame | None, stance: str,
                simulated: pd.DataFrame | None = None) -> str:
    """A Markdown table: each observed poll of ``stance`` beside the simulated voiced share
    on its date and, when there are simulated polls, the simulated poll nearest to it (within
    45 days; medians across runs); ``""`` without observed polls or dates.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"run": 0, "time": [0.0, 1.0], "by": "all", "level": "all",
    ...                   "stance": "A", "share": 0.5, "expressed_share": [0.3, 0.4],
    ...                   "date": pd.to_datetime(["2022-01-01", "2022-02-01"])})
    >>> o = pd.DataFrame({"poll": ["P (Jan 2022)"], "stance": ["A"], "estimate": [0.35],
    ...                   "date": pd.to_datetime(["2022-01-15"])})
    >>> print(polls_table(s, o, "A").splitlines()[-1])
    | P (Jan 2022) | 35.0% | 30.0% |
    """
    if observed is None or observed.empty or _x_of(series) != "date":
        return ""
    obs = observed[observed["stance"].astype(str) == stance]
    rows = series[(series["by"].astype(str) == "all") & (series["stance"].astype(str) ==
                                                         stance)]
    if obs.empty or rows.empty:
        return ""
    value = "expressed_share" if "expressed_share" in rows.columns else "share"
    wide = (rows.groupby(["date", "run"], observed=True)[value].last().unstack("run")
            .sort_index().ffill())
    dates = pd.DatetimeIndex(wide.index)
    sim = None
    if simulated is not None and not simulated.empty and "date" in simulated.columns:
        sim = simulated[simulated["stance"].astype(str) == stance]
        sim = sim.assign(date=pd.to_datetime(sim["date"]))
    lines = [f"| poll | published ({stance}) | simulated, voicing it |"
             + (" simulated poll |" if sim is not None and not sim.empty else ""),
             "|---|---:|---:|" + ("---:|" if sim is not None and not sim.empty else "")]
    for _, r in obs.iterrows():
        when = pd.Timestamp(r["date"])
        i = dates.searchsorted(when, side="right") - 1
        voiced = float(np.nanmedian(wide.iloc[i].to_numpy(dtype=float))) \
            if 0 <= i < len(wide) and when <= dates[-1] else math.nan
        polled = math.nan
        if sim is not None and not sim.empty:
            gap = (sim["date"] - when).abs()
            near = sim[gap == gap.min()]
            if gap.min() <= pd.Timedelta(days=45):
                polled = float(np.nanmedian(near["estimate"].to_numpy(dtype=float)))
        lines.append(f"| {r['poll']} | {_pct(float(r['estimate']))} | {_pct(voiced)} |"
                     + (f" {_pct(polled)} |" if sim is not None and not sim.empty else ""))
    return "\n".join(lines)


def _observed_for(res: Any, stances: list[str]) -> tuple[pd.DataFrame | None, str]:
    settings = res.settings
    name = settings.get("observed_polls")
    if not name:
        return None, ""
    p = Path(str(name)).expanduser()
    candidates = [p] if p.is_absolute() else [res.path / p]
    src = res.metadata.get("source")
    if src and not p.is_absolute():
        candidates.append(Path(src).parent / p)
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        return None, f"observed polls file {name!r} not found; not drawn"
    try:
        return read_observed_polls(found, settings.get("observed_columns") or None,
                                   stances), ""
    except SteppeError as exc:
        return None, f"observed polls not drawn: {exc}"


def _focus(res: Any, stances: list[str]) -> str:
    chosen = res.settings.get("stance")
    if chosen in stances:
        return str(chosen)
    pen = ((res.metadata.get("scenario") or {}).get("expression") or {}).get("penalised")
    return next((p for p in (pen or []) if p in stances), stances[0])


def results_view(path: Path) -> Any:
    """A results folder (``steppe run --out``): the share of a stance over time with its
    ensemble bands, one run on its own, the observed polls overlaid, and the final shares.

    Parameters
    ----------
    path
        The results folder.

    Returns
    -------
    panel.viewable.Viewable
    """
    res = load_results(path)
    series = res.series
    stances = res.stances
    observed, note = _observed_for(res, stances)
    dated = _x_of(series) == "date"
    fig = ShareFigure(dated=dated)
    stance = pn.widgets.Select(name="stance", options=stances, value=_focus(res, stances),
                               width=180)
    bys = list(dict.fromkeys(series["by"].astype(str)))
    by = pn.widgets.Select(name="breakdown", options=bys, value="all", width=180)
    level = pn.widgets.Select(name="level", options=["all"], value="all", width=180)
    runs = sorted(int(r) for r in series["run"].unique())
    run = pn.widgets.Select(name="run", options={"none (bands only)": -1,
                                                 **{f"run {r}": r for r in runs}},
                            value=-1, width=180)
    shares = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["steppe-numbers"])
    polls_md = pn.pane.Markdown("", sizing_mode="stretch_width")

    def levels_for(b: str) -> list[str]:
        return list(dict.fromkeys(series.loc[series["by"].astype(str) == b, "level"]
                                  .astype(str)))

    def redraw(*_: Any) -> None:
        lv = level.value if level.value in levels_for(by.value) else levels_for(by.value)[0]
        fig.update(series, stance.value, by=by.value, level=lv,
                   run=None if run.value == -1 else run.value,
                   observed=observed if by.value == "all" else None,
                   simulated=res.direct_polls, events=res.events,
                   title=f"{res.name}: {stance.value}" + (
                       "" if by.value == "all" else f" ({by.value} = {lv})"))
        shares.object = _SHARES_HEAD + shares_table(series, stances, by=by.value, level=lv)
        table = polls_table(series, observed, stance.value, res.direct_polls) \
            if by.value == "all" else ""
        polls_md.object = ("**Observed polls beside the simulation**\n\n" + table) if table \
            else ""

    def on_by(event: Any) -> None:
        opts = levels_for(event.new)
        level.options = opts
        level.value = opts[0]
        redraw()

    by.param.watch(on_by, "value")
    for w in (stance, level, run):
        w.param.watch(redraw, "value")
    redraw()
    head = f"{len(runs)} run(s), in `{path.name}`"
    meta = res.metadata
    if meta.get("scenario", {}).get("description"):
        head += f" — {meta['scenario']['description']}"
    parts: list[Any] = [_title(res.name), pn.pane.Markdown(head, sizing_mode="stretch_width"),
                        pn.Row(stance, by, level, run), pn.pane.Bokeh(fig.figure,
                                                                       sizing_mode="stretch_width")]
    if note:
        parts.append(_note(note, "warning"))
    parts += [shares, polls_md]
    return pn.Column(*parts, sizing_mode="stretch_width")


def sweep_view(path: Path) -> Any:
    """A sweep folder (``steppe sweep``): its points with their outcomes, the ensemble
    bands of a chosen point, and its phase diagrams.

    Parameters
    ----------
    path
        The sweep folder.

    Returns
    -------
    panel.viewable.Viewable
    """
    store = SweepStore(path)
    manifest = store.read_manifest() or {}
    axes = [a.get("path") for a in manifest.get("axes") or [] if isinstance(a, dict)]
    points = pd.read_parquet(path / "points.parquet") if (path / "points.parquet").is_file() \
        else pd.DataFrame({"point": sorted({p for p, _ in store.finished()})})
    outcomes = pd.read_parquet(path / "outcomes.parquet") \
        if (path / "outcomes.parquet").is_file() else None
    table = points.merge(outcomes, on="point", how="left", suffixes=("", " (outcome)")) \
        if outcomes is not None and "point" in outcomes.columns else points
    table = table.loc[:, [c for c in dict.fromkeys(table.columns)
                          if not str(c).startswith("seed")]]
    stances = [str(s) for s in manifest.get("stances") or []]
    labels = {}
    for _, r in points.iterrows():
        desc = ", ".join(f"{c}={r[c]}" for c in points.columns
                         if c not in ("point", "seed")) or "the scenario"
        labels[f"point {int(r['point'])}: {desc}"[:120]] = int(r["point"])
    point = pn.widgets.Select(name="point", options=labels, width=420)
    stance = pn.widgets.Select(name="stance", options=stances or ["?"], width=160)
    fig = ShareFigure(dated=False)
    note = pn.pane.Markdown("")

    def redraw(*_: Any) -> None:
        bp = store.bands_path(int(point.value)) if point.value is not None else None
        if bp is None or not bp.is_file():
            note.object = "no bands for this point yet (its runs have not finished)"
            return
        b = pd.read_parquet(bp)
        b = b[(b["by"].astype(str) == "all") & (b["stance"].astype(str) == stance.value)]
        b = b.sort_values("time")
        for key, col in (("private", "share"), ("voiced", "expressed_share")):
            if f"{col}_median" in b.columns and not (
                    key == "voiced" and np.allclose(b[f"{col}_median"], b["share_median"])):
                fig.sources[key].data = {"x": b["time"].to_numpy(dtype=float),
                                         **{s: b[f"{col}_{s}"].to_numpy(dtype=float)
                                            for s in ("q05", "q25", "median", "q75", "q95")}}
            else:
                fig.sources[key].data = {k: [] for k in fig.sources[key].data}
        fig.figure.y_range.end = float(min(1.0, max(0.05, 1.15 * np.nanmax(
            b["share_q95"].to_numpy(dtype=float), initial=0.0))))
        fig.figure.title.text = f"{manifest.get('name', path.name)}: {stance.value}, " \
                                f"point {point.value}"
        fig.refresh_legend()
        note.object = f"runs in this point: {int(b['runs'].max()) if len(b) else 0}"

    point.param.watch(redraw, "value")
    stance.param.watch(redraw, "value")
    redraw()
    phase_dir = path / "phase"
    phases: list[Any] = []
    for meta_path in sorted(phase_dir.glob("*.json")) if phase_dir.is_dir() else []:
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            phases.append((meta_path.stem, pn.pane.Bokeh(phase_figure(meta),
                                                         sizing_mode="stretch_width")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            phases.append((meta_path.stem, _note(f"{meta_path.name}: cannot be drawn "
                                                 f"({exc})", "warning")))
    fields = ", ".join(map(str, axes[:4])) + (f" and {len(axes) - 4} more" if len(axes) > 4
                                              else "")
    head = (f"{len(points)} point(s) over "
            f"{fields or 'no swept field (an ensemble)'}; "
            f"{manifest.get('runs_per_point', '?')} run(s) per point")
    tabs = [("points", pn.widgets.Tabulator(table, disabled=True, show_index=False,
                                            pagination="local", page_size=20,
                                            sizing_mode="stretch_width")),
            ("bands of a point", pn.Column(pn.Row(point, stance),
                                           pn.pane.Bokeh(fig.figure,
                                                         sizing_mode="stretch_width"),
                                           note, sizing_mode="stretch_width"))]
    if phases:
        tabs.append(("phase diagrams", pn.Tabs(*phases, sizing_mode="stretch_width")))
    return pn.Column(_title(f"{manifest.get('name', path.name)} — sweep"),
                     pn.pane.Markdown(head), pn.Tabs(*tabs, sizing_mode="stretch_width"),
                     sizing_mode="stretch_width")


def calibration_view(path: Path) -> Any:
    """A calibration (``OUT/calibration``): the readings' probabilities, each assumption's
    posterior over its prior range, and the posterior predictive checks.

    Parameters
    ----------
    path
        The ``calibration/`` folder.

    Returns
    -------
    panel.viewable.Viewable
    """
    cal = read_calibration(path)
    parts: list[Any] = []
    name = Path(str(cal.meta.get("source") or path.parent.name)).stem
    parts.append(_title(f"{name} — calibration"))
    head = ""
    probs = cal.probabilities()
    if probs:
        head += "Readings (posterior probability): " + "; ".join(
            f"**{k}** {v:.2f}" for k, v in probs.items()) + "\n\n"
    if cal.generations is not None:
        g = cal.generations.iloc[-1]
        head += (f"{len(cal.generations)} generation(s); last: tolerance "
                 f"{float(g['epsilon']):.3g}, effective sample size {float(g['ess']):.0f}")
    parts.append(pn.pane.Markdown(head, sizing_mode="stretch_width"))
    for n in cal.notes:
        parts.append(_note(n, "warning"))
    tabs: list[tuple[str, Any]] = []
    if cal.posterior is not None and cal.priors:
        rows = []
        for p in cal.priors:
            for reading in cal.readings:
                d = cal.draws(reading)
                if p.key not in d.columns or d.empty:
                    continue
                v = d[p.key].to_numpy(dtype=float)
                w = d["weight"].to_numpy(dtype=float)
                ok = np.isfinite(v)
                if not ok.any():
                    continue
                lo, med, hi = weighted_quantile(v[ok], w[ok], [0.05, 0.5, 0.95])
                rows.append({"assumption": p.name, "reading": reading.name or "posterior",
                             "prior": p.text, "median": f"{med:.3g}",
                             "90% interval": f"{lo:.3g} to {hi:.3g}"})
        options = {p.name: i for i, p in enumerate(cal.priors)}
        pick = pn.widgets.Select(name="assumption", options=options, width=480)
        holder = pn.Column(sizing_mode="stretch_width")

        def draw(*_: Any) -> None:
            p = cal.priors[int(pick.value)]
            draws = []
            fixed = {}
            for reading in cal.readings:
                d = cal.draws(reading)
                if p.key in d.columns:
                    draws.append((reading.name, d[p.key].to_numpy(dtype=float),
                                  d["weight"].to_numpy(dtype=float)))
                value = cal.fixed_value(reading, p)
                if value is not None:
                    fixed[reading.name] = value
            holder.objects = [pn.pane.Bokeh(posterior_figure(
                draws, name=f"{p.name} (prior {p.text})", low=p.low, high=p.high,
                fixed=fixed, prior=p.density if p.known else None),
                sizing_mode="stretch_width")]

        pick.param.watch(draw, "value")
        draw()
        tabs.append(("posterior marginals", pn.Column(
            pick, holder, pn.widgets.Tabulator(pd.DataFrame(rows), disabled=True,
                                               show_index=False, pagination="local",
                                               page_size=15, layout="fit_columns",
                                               sizing_mode="stretch_width"),
            sizing_mode="stretch_width")))
    if cal.predictive is not None:
        pred = cal.predictive
        inside = pred["inside"].astype(bool) if "inside" in pred.columns else None
        text = "" if inside is None else (
            f"{int(inside.sum())} of {len(pred)} published figures inside their 90% "
            "posterior predictive interval")
        tabs.append(("predictive checks", pn.Column(
            pn.pane.Markdown(text), pn.pane.Bokeh(predictive_figure(pred),
                                                  sizing_mode="stretch_width"),
            sizing_mode="stretch_width")))
    if cal.outcomes is not None:
        o = cal.outcomes
        o = o[o["by"].astype(str) == "all"] if "by" in o.columns else o
        tabs.append(("headline shares", pn.widgets.Tabulator(
            o.reset_index(drop=True), disabled=True, show_index=False, pagination="local",
            page_size=20, sizing_mode="stretch_width")))
    if not tabs:
        parts.append(_note("nothing to show yet: no posterior, predictive checks or "
                           "outcomes in this calibration folder", "warning"))
    else:
        parts.append(pn.Tabs(*tabs, sizing_mode="stretch_width"))
    return pn.Column(*parts, sizing_mode="stretch_width")


def _fmt_value(v: float) -> str:
    return f"{v:.4g}"


def live_view(live: LiveScenario, *, runs: int, doc: Any = None,
              cleanup: list[Callable[[], None]] | None = None) -> tuple[Any, list[Any]]:
    """A scenario re-run live: one slider per assumption (its range), the share of the
    focus stance over time with the bands of the runs so far, the observed polls, and the
    numbers; each settled slider move re-runs it.

    Parameters
    ----------
    live
        The scenario, read once.
    runs
        Runs per setting (each run is shown as soon as it ends).
    doc
        The Bokeh document of the session (default: the current one).
    cleanup
        Where to append the function that stops this view's runs (called when the page
        shows something else); the end of the session stops them too.

    Returns
    -------
    (panel.viewable.Viewable, list)
        The main view, and what goes in the sidebar: the sliders.
    """
    doc = doc if doc is not None else pn.state.curdoc
    sliders: dict[str, Any] = {}
    rows: list[Any] = []
    for s in live.settings:
        if s.integer:
            w = pn.widgets.IntSlider(name=s.name, start=int(s.low), end=int(s.high),
                                     value=round(s.value), step=1,
                                     sizing_mode="stretch_width")
        else:
            step = (s.high - s.low) / 100 or 0.01
            w = pn.widgets.FloatSlider(name=s.name, start=s.low, end=s.high, value=s.value,
                                       step=step, sizing_mode="stretch_width",
                                       format="0[.][000]")
        sliders[s.path] = w
        tip = "; ".join(t for t in (f"{s.path} from {s.low:g} to {s.high:g}",
                                    f"prior {s.prior}" if s.prior else "", s.note) if t)
        rows.append(pn.Row(w, pn.widgets.TooltipIcon(value=tip, width=24, margin=(18, 0)),
                           sizing_mode="stretch_width"))
    stance = pn.widgets.Select(name="stance", options=live.stances, value=live.focus,
                               width=160)
    runs_w = pn.widgets.IntSlider(name="runs per setting", start=1, end=max(runs, 10),
                                  value=runs, width=200)
    reset = pn.widgets.Button(name="back to the file's values", button_type="default")
    status = pn.pane.Markdown("starting…", css_classes=["steppe-status"],
                              sizing_mode="stretch_width")
    shares = pn.pane.Markdown("", css_classes=["steppe-numbers"], sizing_mode="stretch_width")
    polls_md = pn.pane.Markdown("", sizing_mode="stretch_width")
    error = pn.pane.Alert("", alert_type="danger", visible=False,
                          sizing_mode="stretch_width")
    fig = ShareFigure(dated=live.dated)
    state: dict[str, Any] = {"generation": 0, "last": None, "pending": None}
    wake = threading.Condition()

    def values() -> dict[str, float]:
        return {p: float(w.value) for p, w in sliders.items()}

    def show(result: LiveResult, total: int, gen: int) -> None:
        state["last"] = (result, gen)
        fig.update(result.series, stance.value, observed=live.observed,
                   simulated=result.polls, events=live.events,
                   title=f"{live.name}: {stance.value}" + (
                       f" at 1:{round(1 / live.scale):,}" if live.scale else ""))
        shares.object = _SHARES_HEAD + shares_table(result.series, live.answers)
        table = polls_table(result.series, live.observed, stance.value, result.polls)
        polls_md.object = ("**Observed polls beside the simulation**\n\n" + table) if table \
            else ""
        done = "done" if result.runs >= total else "running…"
        status.object = (f"setting {gen}: {result.runs} of {total} run(s) in "
                         f"{result.seconds:.1f} s — {done}")
        error.visible = False

    def fail(message: str) -> None:
        error.object = message
        error.visible = True
        status.object = "not run: see the message"

    def schedule(fn: Callable[[], None]) -> None:
        if doc is None or getattr(doc, "session_context", None) is None:
            fn()
            return
        try:
            doc.add_next_tick_callback(fn)
        except Exception:  # the session is gone
            pass

    def worker() -> None:
        while True:
            with wake:
                while state["pending"] is None and not state.get("closed"):
                    wake.wait()
                if state.get("closed"):
                    return
                gen, vals, total = state["pending"]
                state["pending"] = None
            try:
                live.run(vals, runs=total,
                         on_update=lambda r, total=total, gen=gen: schedule(
                             lambda: show(r, total, gen) if gen == state["generation"]
                             else None),
                         cancelled=lambda gen=gen: gen != state["generation"]
                         or state.get("closed", False))
            except Cancelled:
                continue
            except SteppeError as exc:
                msg = str(exc)
                schedule(lambda msg=msg: fail(msg))
            except Exception as exc:  # a bug: say so on the page, keep serving
                log.exception("live run of %s failed", live.path)
                msg = f"the run failed ({type(exc).__name__}: {exc})"
                schedule(lambda msg=msg: fail(msg))

    def request(*_: Any) -> None:
        with wake:
            state["generation"] += 1
            state["pending"] = (state["generation"], values(), int(runs_w.value))
            wake.notify()
        status.object = f"setting {state['generation']}: running…"

    def restyle(*_: Any) -> None:
        if state["last"] is not None:
            result, gen = state["last"]
            show(result, int(runs_w.value), gen)

    def back(*_: Any) -> None:
        for s in live.settings:
            w = sliders[s.path]
            w.value = round(s.value) if s.integer else s.value
        request()

    for w in sliders.values():
        w.param.watch(request, "value_throttled")
    runs_w.param.watch(request, "value_throttled")
    stance.param.watch(restyle, "value")
    reset.on_click(back)
    thread = threading.Thread(target=worker, name="steppe-explore-live", daemon=True)
    thread.start()

    def stop() -> None:
        with wake:
            state["closed"] = True
            state["generation"] += 1
            wake.notify_all()

    def closed(session_context: Any) -> None:
        stop()

    if cleanup is not None:
        cleanup.append(stop)
    if doc is not None and getattr(doc, "session_context", None) is not None:
        doc.on_session_destroyed(closed)
        # the first run once the page is in the browser: a first run that compiles kernels
        # holds the interpreter for tens of seconds, and begun while the page was being
        # sent it left the page blank (tests/explore/test_browser.py, on a fresh clone)
        pn.state.onload(request)
    else:
        request()
    scale = f"1:{round(1 / live.scale):,} ({live.scale:g} agents per person)" if live.scale \
        else "as in the file"
    head = (f"{live.description}\n\nScale {scale}; each settled "
            "slider move re-runs the scenario (runs 0, 1, … with the file's seed, so only "
            "the settings differ between two moves).")
    parts: list[Any] = [_title(f"{live.name} — live"),
                        pn.pane.Markdown(head, sizing_mode="stretch_width"),
                        pn.Row(stance, runs_w, reset), status, error,
                        pn.pane.Bokeh(fig.figure, sizing_mode="stretch_width"),
                        shares, polls_md]
    for n in live.notes:
        parts.append(_note(n, "warning"))
    if live.unvaried:
        parts.append(pn.pane.Markdown(
            "**Assumptions that are not one number** (not settable here)\n\n" + "\n".join(
                f"- **{n}**" + (f": {t}" if t else "") for n, t in live.unvaried)))
    view = pn.Column(*parts, sizing_mode="stretch_width")
    if not sliders:
        side: list[Any] = [pn.pane.Markdown(
            "This scenario has no `[[assumptions]]` with a field, low and high: nothing to "
            "set. It is run once as it is.")]
    else:
        side = [pn.pane.Markdown(f"**Assumptions** ({len(sliders)}; release a slider to "
                                 "re-run; ? gives the field, range, prior and note)")]
        side += rows
    return view, side
