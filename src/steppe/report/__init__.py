"""Reports from saved results: plots (PNG, 150 dpi) and a Markdown summary.

The report reads a results folder written by :func:`steppe.run` (or ``steppe run``) and
never runs a model. It needs ``series.parquet``; ``summary.parquet``, ``metadata.json`` and
``polls.parquet`` (simulated polls) are used when present and skipped otherwise.

What :func:`make_report` writes (into ``out_dir``, by default ``<results>/report``), each
file atomically:

- ``share_<stance>.png``: private and expressed share of the focus stance over time, for
  the whole population: median across runs and 50%/90% bands, the timeline's events as
  dotted lines, simulated polls (``polls.parquet``) as small markers with their intervals,
  and observed polls (black diamonds, 95% binomial intervals, at the fieldwork midpoint)
  when the series has dates and an observed-polls file is named;
- ``share_<stance>_by_<attribute>.png``: the same for each level of each breakdown in the
  series (``by`` other than ``"all"``), one panel per level (at most 20: the largest);
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
['share_A.png', 'gap.png', 'summary.md']
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
from .calibration import CALIBRATION_DIR, CalibrationReport, calibration_report
from .phase import draw_phase_folder
from .plots import plot_gap, plot_sensitivity, plot_share, plot_share_by, safe_name
from .sensitivity import gsa_section, sensitivity_markdown
from .summary import read_observed_polls, summary_markdown, write_summary
from .targets import compare_targets, plot_targets, read_targets, targets_markdown

__all__ = ["Results", "load_results", "make_report", "participation_stance"]


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
                stance: str | None = None) -> list[Path]:
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

    Returns
    -------
    list of pathlib.Path
        The files written: the PNGs, then ``summary.md``.

    Raises
    ------
    SteppeError
        ``series.parquet`` is missing or unreadable, or the observed-polls file is
        malformed.
    ParameterError
        ``stance`` (or a stance in the report settings) is not one of the model's.
    """
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

    series = res.series
    name = res.name
    events = res.events
    written: list[Path] = []
    written.append(plot_share(series, focus, out / f"share_{safe_name(focus)}.png",
                              title=f"{name}: who holds and who voices {focus}",
                              observed=observed, simulated_polls=res.direct_polls,
                              events=events))
    attributes = [b for b in dict.fromkeys(series["by"].astype(str)) if b != "all"]
    for attr in attributes:
        written.append(plot_share_by(
            series, focus, attr,
            out / f"share_{safe_name(focus)}_by_{safe_name(attr)}.png",
            title=f"{name}: {focus}", events=events))
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
                            notes=notes, name=name,
                            calibrated=cal is not None and cal.has_results)
    if settings.get("targets"):
        found = _find_polls_file(res, str(settings["targets"]))
        if found is None:
            msg = f"targets file {settings['targets']!r} not found; skipped"
            warnings.warn(msg, stacklevel=2)
            text = text.rstrip() + f"\n\n{msg}\n"
        else:
            table = compare_targets(read_targets(found), res.polls)
            table.to_csv(out / "targets.csv", index=False)
            written.append(out / "targets.csv")
            written.append(plot_targets(table, out / "targets.png",
                                        title=f"{name}: published figures"))
            text = text.rstrip() + "\n\n" + targets_markdown(table)
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
    written.append(write_summary(out / "summary.md", text))
    return written


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
    return [*cal.files, *gsa_figures, write_summary(out / "summary.md", text)]
