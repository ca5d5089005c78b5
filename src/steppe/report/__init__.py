"""Reports from saved results: figures (PNG at 150 dpi, with SVG and PDF copies), an
interactive HTML report and a Markdown summary.

The report reads a results folder written by :func:`steppe.run` (or ``steppe run``) and
never runs a model. It needs ``series.parquet``; ``summary.parquet``, ``metadata.json`` and
``polls.parquet`` (simulated polls) are used when present and skipped otherwise.

What :func:`make_report` writes (into ``out_dir``, by default ``<results>/report``), each
file atomically; every figure is written three times, as ``.png``, ``.svg`` and ``.pdf``
(the same figure; the returned list names the PNG):

- ``share_<stance>.png``: private and expressed share of the focus stance over time, for
  every agent the model holds (the y axis says so: "children included" when the
  population has age bands under the polls' frame): median across runs and 50%/90% bands,
  the timeline's events as numbered dotted lines with their key under the time axis
  (what an event sets is marked as a scenario input), the starting share ringed as set by
  the scenario (an assumption, not a result), simulated polls (``polls.parquet``) as one
  point per poll and method (median across runs, with the typical 95% interval of one
  poll), and observed polls (black diamonds, 95% binomial intervals, at the fieldwork
  midpoint) when the series has dates and an observed-polls file is named. Fewer than 20
  runs earn a warning on the figure: the "90% band" is then about the range of the runs;
- ``share_<stance>_adults.png``: the same for adults only, when the series has age bands
  and some band lies outside the ages the scenario's polls interview (the adults are the
  bands the polls' ``frame`` names, else those from 18);
- ``share_<stance>_by_<attribute>.png``: the same for each level of each breakdown in the
  series (``by`` other than ``"all"``), one panel per level (at most 20: the largest),
  largest first (age bands in their order); a panel of fewer than 200 agents says "n ≈ 40
  agents: noisy"; the simulated polls' subgroup estimates and, with a targets file, the
  published figures of that breakdown (e.g. its ``by = age`` rows) are drawn on their
  panel;
- ``gap.png``: the hidden share (private − expressed) of every stance, median and 90% band;
- ``participation.png``: when the model has a participation stance (a label such as
  ``active`` or ``protest…``, or the one named in the report settings), its share;
- ``targets.png`` and ``targets.csv``: with a targets file, every published figure beside
  the simulated poll of the same design (median and 90% range over runs), see
  :mod:`steppe.report.targets`;
- ``sensitivity.png``: with a ``sensitivity.parquet`` (``steppe sensitivity``), what each
  assumption's range does to the final shares;
- with a ``calibration/`` subfolder (``steppe calibrate``), see
  :mod:`steppe.report.calibration`: ``posterior_marginals.png`` (each assumption's
  posterior over its prior range), ``posterior_pairs.png`` (a corner plot of the most
  constrained assumptions), ``predictive.png`` (every published figure beside its
  posterior predictive interval), ``calibration_diagnostics.png`` (tolerance, acceptance,
  effective sample size and the readings' probabilities by generation), and ``loo.png``,
  ``variants.png``, ``voi.png`` when the held-out checks, variants and value-of-information
  files exist; each only when its file is there and readable. A folder holding only a
  calibration (no ``series.parquet``) gets these and ``summary.md`` alone;
- ``report.html``: every figure above again, interactive (hover for values, legend
  entries to hide or show levels), with the summary, in one self-contained file that opens
  offline (plotly.js inlined once; nothing fetched from the network), see
  :mod:`steppe.report.interactive`;
- ``summary.md``: see :mod:`steppe.report.summary` (and the targets table, when given,
  the sensitivity section, and the calibration section).

Runs are aligned on the union of their record times (dates when the series has a
``date`` column), each carried forward from its last record: see :mod:`steppe.report.plots`.

Report settings (``metadata["report"]``)
---------------------------------------
Optional; read from ``metadata["report"]``, else from ``metadata["scenario"]["report"]``
(so a ``[report]`` table in the scenario file, copied into the resolved scenario, works):

``stance`` : str
    The stance to focus on. Default: the first penalised stance of the expression layer
    (``scenario.expression.penalised[0]``), else the model's first stance. The ``stance``
    argument of :func:`make_report` overrides it.
``participation_stance`` : str
    The stance plotted in ``participation.png``. Default: a stance whose label has a word
    ``active``, or a word starting with ``protest`` (``inactive`` does not count).
``observed_polls`` : str
    A CSV of real polls (format: :func:`steppe.report.summary.read_observed_polls`; e.g.
    ``data/kazakhstan/polls.csv``). A relative path is looked up in the results folder,
    then beside the scenario file (``metadata["source"]``), then in the working directory.
    A file named but not found is reported in ``summary.md`` and skipped.
``observed_columns`` : dict[str, str]
    Stance label → CSV column holding that stance's share, e.g.
    ``{"pro": "support_russia", "against": "support_ukraine", "neutral": "neutral"}``.
    Default: the stances whose labels are CSV columns.
``targets`` : str
    A CSV of every published figure, one per row (format:
    :func:`steppe.report.targets.read_targets`), found as ``observed_polls`` is.

Examples
--------
>>> import tempfile
>>> from steppe import run
>>> d = tempfile.mkdtemp()
>>> _ = run({"name": "demo", "seed": 1, "runs": 3, "network": {"kind": "complete", "n": 100},
...          "model": {"name": "voter"}, "stop": {"max_sweeps": 5}}, out=d)
>>> [p.name for p in make_report(d)]
['share_A.png', 'gap.png', 'report.html', 'summary.md']
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ParameterError, SteppeError
from ..experiments.sensitivity import SENSITIVITY_FILE
from ..observe.writers import atomic_path
from . import plots
from .assumed import adult_levels, breakdown_inputs, poll_frame_ages, start_input
from .calibration import CALIBRATION_DIR, CalibrationReport, calibration_report
from .interactive import HTML_FILE, InteractiveInputs, write_html
from .phase import draw_phase_folder
from .plots import (
    adults_series,
    plot_gap,
    plot_sensitivity,
    plot_share,
    plot_share_by,
    safe_name,
)
from .sensitivity import gsa_files, gsa_section, sensitivity_markdown
from .summary import read_observed_polls, summary_markdown, write_summary
from .targets import (
    compare_targets,
    plot_targets,
    published_by,
    read_targets,
    targets_markdown,
)

__all__ = ["Results", "load_results", "make_report", "participation_stance", "whose_share"]

#: the summary's last paragraph: where the interactive report is
HTML_NOTE = (f"Every figure of this report is also in `{HTML_FILE}` beside this file, "
             "interactive (hover for values, click a legend entry to hide or show a group), "
             "with this summary: one file that opens offline in any browser and can be sent "
             "as it is. Each figure is also written as SVG and PDF beside its PNG.\n")


@dataclass
class Results:
    """What a results folder holds (optional parts are ``None`` or empty when absent)."""

    path: Path
    series: pd.DataFrame
    summary: pd.DataFrame | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    polls: pd.DataFrame | None = None

    @property
    def direct_polls(self) -> pd.DataFrame | None:
        """The simulated polls' whole-sample rows of the model's own question (and the list
        experiments): what the share plots and the summary's poll table show."""
        p = self.polls
        if p is None or "by" not in p.columns:
            return p
        keep = (p["by"].astype(str) == "all") & p["question"].astype(str).isin(
            ["stance", "list"])
        return p[keep].reset_index(drop=True)

    @property
    def settings(self) -> dict[str, Any]:
        """The report settings: ``metadata["report"]`` or the scenario's ``report``."""
        rep = self.metadata.get("report")
        if rep is None:
            rep = (self.metadata.get("scenario") or {}).get("report")
        return dict(rep or {})

    @property
    def stances(self) -> list[str]:
        """The model's stance labels, in code order."""
        st = (self.metadata.get("model") or {}).get("stances")
        if st:
            return [str(s) for s in st]
        col = self.series["stance"]
        if isinstance(col.dtype, pd.CategoricalDtype):
            return [str(c) for c in col.cat.categories]
        return sorted(map(str, col.unique()))

    @property
    def name(self) -> str:
        """The scenario's name (the folder name when there is no metadata)."""
        return str((self.metadata.get("scenario") or {}).get("name") or self.path.name)

    @property
    def events(self) -> list[dict[str, Any]]:
        """The scenario's timeline: its events, and the start of each border flow that
        has a note."""
        sc = self.metadata.get("scenario") or {}
        flows = [{"at": f.get("start"), "note": f["note"]} for f in sc.get("flows") or []
                 if f.get("note")]
        return list(sc.get("events") or []) + flows


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # a corrupt or foreign file: say which one
        raise SteppeError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from None


def load_results(results_dir: str | Path) -> Results:
    """Read a results folder.

    Raises
    ------
    SteppeError
        The folder or its ``series.parquet`` is missing or unreadable (the message names
        the file), or ``metadata.json`` is not valid JSON.

    Examples
    --------
    >>> load_results("/nonexistent/results")
    Traceback (most recent call last):
    ...
    steppe.errors.SteppeError: /nonexistent/results: no such results folder
    """
    d = Path(results_dir)
    if not d.is_dir():
        raise SteppeError(f"{d}: no such results folder")
    sp = d / "series.parquet"
    if not sp.is_file():
        raise SteppeError(f"{sp}: not found; a report needs the series.parquet that "
                          "`steppe run --out DIR` writes")
    series = _read_parquet(sp)
    need = {"run", "time", "by", "level", "stance", "share"}
    missing = need - set(series.columns)
    if missing:
        raise SteppeError(f"{sp}: missing column(s) {', '.join(sorted(missing))}")
    if series.empty:
        raise SteppeError(f"{sp}: holds no records")
    if "expressed_share" not in series.columns:
        series["expressed_share"] = series["share"]
    if "gap" not in series.columns:
        series["gap"] = series["share"] - series["expressed_share"]
    summary = _read_parquet(d / "summary.parquet") if (d / "summary.parquet").is_file() \
        else None
    meta: dict[str, Any] = {}
    mp = d / "metadata.json"
    if mp.is_file():
        try:
            meta = json.loads(mp.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SteppeError(f"{mp}: not valid JSON ({exc})") from None
    polls = _read_parquet(d / "polls.parquet") if (d / "polls.parquet").is_file() else None
    return Results(path=d, series=series, summary=summary, metadata=meta, polls=polls)


_PARTICIPATION = re.compile(r"^(active|protest\w*)$")


def _plot_protest(path: Path, out: Path, name: str,
                  events: Sequence[Mapping[str, Any]]) -> list[Path]:
    """participation.png (and per attribute) from a protest layer's participation.parquet."""
    try:
        part = pd.read_parquet(path)
    except Exception as exc:  # pragma: no cover - a corrupt file
        raise SteppeError(f"{path}: cannot be read ({exc})") from None
    frame = part.assign(stance="protesting", expressed_share=part["share"], gap=0.0,
                        expressed_count=part["count"])
    frame["stance"] = frame["stance"].astype("category")
    written = [plot_share(frame, "protesting", out / "participation.png",
                          title=f"{name}: protest participation", events=events,
                          ylabel="share protesting")]
    for attr in [b for b in dict.fromkeys(frame["by"].astype(str)) if b != "all"]:
        written.append(plot_share_by(frame, "protesting", attr,
                                     out / f"participation_by_{safe_name(attr)}.png",
                                     title=f"{name}: protest participation", events=events))
    return written


def participation_stance(stances: Sequence[str], settings: Mapping[str, Any] | None = None
                         ) -> str | None:
    """The stance that stands for taking part (protesting), or ``None``.

    Examples
    --------
    >>> participation_stance(["inactive", "active"]), participation_stance(["A", "B"])
    ('active', None)
    """
    if settings and settings.get("participation_stance"):
        name = str(settings["participation_stance"])
        if name not in stances:
            raise ParameterError("unknown participation stance",
                                 field="report.participation_stance",
                                 allowed=", ".join(stances), given=name)
        return name
    for s in stances:
        if any(_PARTICIPATION.match(w) for w in re.split(r"[^a-z0-9]+", s.lower())):
            return s
    return None


def _focus(res: Results, stance: str | None) -> str:
    stances = res.stances
    chosen = stance or res.settings.get("stance")
    if chosen is None:
        pen = ((res.metadata.get("scenario") or {}).get("expression") or {}).get("penalised")
        chosen = next((p for p in (pen or []) if p in stances), None) or stances[0]
    chosen = str(chosen)
    if chosen not in stances:
        raise ParameterError("unknown stance", field="stance", allowed=", ".join(stances),
                             given=chosen)
    return chosen


def _find_polls_file(res: Results, name: str) -> Path | None:
    p = Path(name).expanduser()
    if p.is_absolute():
        return p if p.is_file() else None
    bases = [res.path]
    src = res.metadata.get("source")
    if src:
        bases.append(Path(src).parent)
    bases.append(Path.cwd())
    for b in bases:
        if (b / p).is_file():
            return b / p
    return None


def make_report(results_dir: str | Path, out_dir: str | Path | None = None, *,
                stance: str | None = None, vectors: Sequence[str] | None = None
                ) -> list[Path]:
    """Write plots and ``summary.md`` for a results folder.

    Parameters
    ----------
    results_dir
        A folder written by ``steppe run --out`` (``series.parquet`` at least), or a sweep
        folder (``steppe sweep``), whose phase diagrams are then drawn beside their data,
        or a folder holding only a ``calibration/`` subfolder (``steppe calibrate``).
    out_dir
        Where to write (created if needed); default ``<results_dir>/report``.
    stance
        The stance to focus on (default: the report settings, see the module docstring).
    vectors
        The vector copies written beside each PNG figure, of ``"svg"`` and ``"pdf"``
        (default: both; empty: PNG only, quicker to write). A copy in a format not
        written that an earlier report left is removed.

    Returns
    -------
    list of pathlib.Path
        The files written: the figures (PNG; the SVG and PDF copies lie beside it), the
        targets table, ``report.html``, then ``summary.md``.

    Raises
    ------
    SteppeError
        ``series.parquet`` is missing or unreadable, or the observed-polls file is
        malformed.
    ParameterError
        ``stance`` (or a stance in the report settings) is not one of the model's.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from steppe import run
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = run({"name": "demo", "seed": 1, "runs": 2, "network": {"kind": "complete",
    ...          "n": 50}, "model": {"name": "voter"}, "stop": {"max_sweeps": 3}}, out=d)
    >>> written = make_report(d)
    >>> sorted(p.name for p in (d / "report").glob("share_A.*"))
    ['share_A.pdf', 'share_A.png', 'share_A.svg']
    """
    if vectors is None:
        return _make_report(results_dir, out_dir, stance)
    wrong = [v for v in vectors if v not in plots.ALL_VECTOR_FORMATS]
    if wrong:
        raise ParameterError("unknown vector format", field="vectors",
                             allowed=", ".join(plots.ALL_VECTOR_FORMATS), given=wrong[0])
    before = plots.VECTOR_FORMATS
    plots.VECTOR_FORMATS = tuple(dict.fromkeys(vectors))
    try:
        return _make_report(results_dir, out_dir, stance)
    finally:
        plots.VECTOR_FORMATS = before


def _make_report(results_dir: str | Path, out_dir: str | Path | None,
                 stance: str | None) -> list[Path]:
    folder = Path(results_dir)
    if (folder / "manifest.json").is_file() and not (folder / "series.parquet").exists():
        # a sweep folder: its figures are the phase diagrams, drawn from their data
        return draw_phase_folder(folder / "phase") if (folder / "phase").is_dir() else []
    if not (folder / "series.parquet").exists() and (folder / CALIBRATION_DIR).is_dir():
        return _calibration_only(folder, out_dir)
    res = load_results(results_dir)
    out = Path(out_dir) if out_dir is not None else res.path / "report"
    out.mkdir(parents=True, exist_ok=True)
    stances = res.stances
    focus = _focus(res, stance)
    settings = res.settings
    notes: list[str] = []

    observed = None
    if settings.get("observed_polls"):
        found = _find_polls_file(res, str(settings["observed_polls"]))
        if found is None:
            msg = f"observed polls file {settings['observed_polls']!r} not found; skipped"
            warnings.warn(msg, stacklevel=2)
            notes.append(msg)
        else:
            observed = read_observed_polls(found, settings.get("observed_columns"), stances)
            if "date" not in res.series.columns:
                notes.append("observed polls are not drawn: the results have no dates")
    targets = None
    targets_missing = ""
    if settings.get("targets"):
        found = _find_polls_file(res, str(settings["targets"]))
        if found is None:
            targets_missing = f"targets file {settings['targets']!r} not found; skipped"
            warnings.warn(targets_missing, stacklevel=2)
        else:
            targets = read_targets(found)

    series = res.series
    name = res.name
    events = res.events
    who = whose_share(res)
    written: list[Path] = []
    start = start_input(res.metadata, focus)
    written.append(plot_share(series, focus, out / f"share_{safe_name(focus)}.png",
                              title=f"{name}: who holds and who voices {focus}",
                              observed=observed, simulated_polls=res.direct_polls,
                              events=events, ylabel=who.ylabel, notes=who.notes,
                              start_input=start))
    adults_start = ("start: follows from the scenario's starting shares and odds "
                    "(assumptions), not a result") if start else None
    if who.adults is not None:
        written.append(plot_share(
            who.adults, focus, out / f"share_{safe_name(focus)}_adults.png",
            title=f"{name}: who holds and who voices {focus}, adults only",
            observed=observed, simulated_polls=res.direct_polls, events=events,
            ylabel=who.adults_label, start_input=adults_start,
            notes=[f"adults: the age bands the polls interview ({', '.join(who.adult_bands)})"
                   ]))
    attributes = [b for b in dict.fromkeys(series["by"].astype(str)) if b != "all"]
    sub_polls = _subgroup_polls(res.polls)
    for attr in attributes:
        pub = (published_by(targets, res.polls, attr, focus,
                            scenario_polls=(res.metadata.get("scenario") or {}).get("polls"))
               if targets is not None else None)
        sim = (sub_polls[sub_polls["by"].astype(str) == attr]
               if sub_polls is not None else None)
        written.append(plot_share_by(
            series, focus, attr,
            out / f"share_{safe_name(focus)}_by_{safe_name(attr)}.png",
            title=f"{name}: {focus}", events=events, published=pub, simulated_polls=sim,
            notes=breakdown_inputs(res.metadata, attr)))
    written.append(plot_gap(series, stances, out / "gap.png",
                            title=f"{name}: hidden support (private − expressed)",
                            events=events))
    part = participation_stance(stances, settings)
    protest_file = Path(results_dir) / "participation.parquet"
    if protest_file.exists():
        written += _plot_protest(protest_file, out, name, events)
    elif part is not None:
        written.append(plot_share(series, part, out / "participation.png",
                                  title=f"{name}: taking part ({part})", events=events,
                                  ylabel=f"share {part}"))
    cal: CalibrationReport | None = None
    if (folder / CALIBRATION_DIR).is_dir():
        cal = calibration_report(folder / CALIBRATION_DIR, out, name=name)
    text = summary_markdown(metadata=res.metadata, series=series, summary=res.summary,
                            stances=stances, focus=focus, observed=observed,
                            simulated_polls=res.direct_polls,
                            figures=[p.name for p in written],
                            notes=[*notes, *who.summary], name=name,
                            calibrated=cal is not None and cal.has_results,
                            whole=who.whole)
    table = None
    if targets_missing:
        text = text.rstrip() + f"\n\n{targets_missing}\n"
    elif targets is not None:
        table = compare_targets(targets, res.polls)
        with atomic_path(out / "targets.csv") as tmp:
            table.to_csv(tmp, index=False)
        written.append(out / "targets.csv")
        written.append(plot_targets(table, out / "targets.png",
                                    title=f"{name}: published figures"))
        text = text.rstrip() + "\n\n" + targets_markdown(table)
    sens = None
    sens_file = Path(results_dir) / SENSITIVITY_FILE
    if sens_file.exists():
        sens = _read_parquet(sens_file)
        outcomes = [o for o in dict.fromkeys(sens["outcome"])
                    if o.startswith(("final private share", "final expressed share"))]
        fig = plot_sensitivity(sens, out / "sensitivity.png", outcomes=outcomes,
                               title=f"{name}: what each assumption's range does")
        written.append(fig)
        assumptions = (res.metadata.get("scenario") or {}).get("assumptions") or []
        unvaried = [(a.get("name", ""), a.get("note", "")) for a in assumptions
                    if not a.get("path")]
        text = text.rstrip() + "\n\n" + sensitivity_markdown(
            sens, unvaried=unvaried, figure=fig.name)
    gsa_figures, gsa_text = gsa_section(results_dir, out, name=name)
    written += gsa_figures
    if gsa_text:
        text = text.rstrip() + "\n\n" + gsa_text
    if cal is not None:
        written += cal.files
        text = text.rstrip() + "\n\n" + cal.markdown
    text = text.rstrip() + "\n\n" + HTML_NOTE
    html = write_html(out / HTML_FILE, InteractiveInputs(
        name=name, markdown=text, series=series, focus=focus, stances=stances,
        observed=observed, polls=res.polls, events=events, adults=who.adults,
        ylabel=who.ylabel, adults_label=who.adults_label, start_input=start,
        targets=targets, comparison=table, sensitivity=sens,
        gsa=[(m, o, _read_parquet(p)) for m, o, p in gsa_files(results_dir)],
        calibration=cal.calibration if cal is not None else None,
        participation=_participation_frame(protest_file, series, part),
        scenario_polls=(res.metadata.get("scenario") or {}).get("polls"),
        figures=[p.name for p in written if p.suffix == ".png"], metadata=res.metadata,
        share_notes=who.notes, adults_start_input=adults_start))
    written.append(html)
    written.append(write_summary(out / "summary.md", text))
    return written


@dataclass
class _Whose:
    """Whose share the figures show: the y label of the whole-population plot, notes on
    its figure and in the summary, and the adults-only series when it can be computed."""

    ylabel: str
    whole: str
    notes: list[str]
    summary: list[str]
    adults: pd.DataFrame | None = None
    adults_label: str = ""
    adult_bands: list[str] = field(default_factory=list)


def whose_share(res: Results) -> _Whose:
    """Whose share the series' whole-sample rows are, and the adults' share when the
    population has children and the series records age bands (the bands the scenario's
    polls interview, else those from 18).

    Parameters
    ----------
    res
        The results folder as read by :func:`load_results`.

    Returns
    -------
    _Whose
        ``ylabel`` (the whole-population figure's y axis), ``whole`` (for the summary),
        ``notes`` (under the figure's title), ``summary`` (notes for ``summary.md``),
        ``adults`` (the adults' rows, or ``None``), ``adults_label`` and ``adult_bands``.

    Examples
    --------
    >>> r = Results(Path("."), pd.DataFrame({"by": ["all"], "level": ["all"]}))
    >>> whose_share(r).ylabel
    'share of all agents'
    """
    framed = poll_frame_ages(res.metadata)
    ages = res.series.loc[res.series["by"].astype(str) == "age", "level"].astype(str)
    levels = list(dict.fromkeys(ages))
    adults = adult_levels(res.metadata, levels) if levels else []
    children = [lv for lv in levels if lv not in adults]
    if levels and adults and children:
        frame = adults_series(res.series, adults)
        label = f"share of adults ({', '.join(adults)})"
        notes = [f"everyone the model holds, children ({', '.join(children)}) included; "
                 "the polls interview adults only"
                 + (": see the adults-only figure" if frame is not None else "")]
        return _Whose(ylabel="share of all agents (children included)",
                      whole="all agents (children included)", notes=notes,
                      summary=[f"The shares are of everyone the model holds, children "
                               f"({', '.join(children)}) included; the polls interview "
                               f"adults ({', '.join(adults)})."
                               + (" The adults-only figure shows their shares."
                                  if frame is not None else "")],
                      adults=frame, adults_label=label, adult_bands=adults)
    if framed and not levels:
        msg = (f"the polls interview ages {', '.join(framed)} only, but the series has no "
               "age breakdown: the adults' share cannot be drawn, these are shares of all "
               "agents")
        return _Whose(ylabel="share of all agents (all ages)", whole="all agents (all ages)",
                      notes=[msg], summary=[msg[0].upper() + msg[1:] + "."])
    return _Whose(ylabel="share of all agents", whole="all agents", notes=[], summary=[])


def _subgroup_polls(polls: pd.DataFrame | None) -> pd.DataFrame | None:
    """The simulated polls' subgroup rows of the model's own question (direct polls)."""
    if polls is None or not {"by", "level"} <= set(polls.columns):
        return None
    keep = polls["by"].astype(str) != "all"
    if "question" in polls.columns:
        keep &= polls["question"].astype(str) == "stance"
    if "method" in polls.columns:
        keep &= polls["method"].astype(str) == "direct"
    return polls[keep].reset_index(drop=True)


def _participation_frame(path: Path, series: pd.DataFrame, part: str | None
                         ) -> pd.DataFrame | None:
    """What participation.png shows, as series rows (stance ``protesting`` or ``part``)."""
    if path.exists():
        try:
            p = pd.read_parquet(path)
        except Exception:  # pragma: no cover - reported by _plot_protest already
            return None
        return p.assign(stance="protesting", expressed_share=p["share"], gap=0.0)
    if part is not None:
        return series.loc[series["stance"].astype(str) == part]
    return None


def _calibration_only(folder: Path, out_dir: str | Path | None) -> list[Path]:
    """The report of a folder that holds a calibration and no runs: its figures, those of
    any global sensitivity analysis beside it, and a ``summary.md`` with their sections."""
    out = Path(out_dir) if out_dir is not None else folder / "report"
    out.mkdir(parents=True, exist_ok=True)
    name = folder.resolve().name
    for file, get in (  # the scenario's name, else its file's, else the folder's
            (folder / CALIBRATION_DIR / "calibration.json",
             lambda m: m.get("source") and Path(str(m["source"])).stem),
            (folder / "metadata.json", lambda m: (m.get("scenario") or {}).get("name"))):
        try:
            name = str(get(json.loads(file.read_text(encoding="utf-8"))) or name)
        except (OSError, ValueError, AttributeError):
            pass
    cal = calibration_report(folder / CALIBRATION_DIR, out, name=name)
    text = f"# {name}\n\n" + cal.markdown
    gsa_figures, gsa_text = gsa_section(folder, out, name=name)
    if gsa_text:
        text = text.rstrip() + "\n\n" + gsa_text
    figures = [*cal.files, *gsa_figures]
    text = text.rstrip() + "\n\n" + HTML_NOTE
    html = write_html(out / HTML_FILE, InteractiveInputs(
        name=name, markdown=text, calibration=cal.calibration,
        gsa=[(m, o, _read_parquet(p)) for m, o, p in gsa_files(folder)],
        figures=[p.name for p in figures]))
    return [*figures, html, write_summary(out / "summary.md", text)]
