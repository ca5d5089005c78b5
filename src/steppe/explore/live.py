"""A scenario re-run live: its ``[[assumptions]]`` as settings, runs at a small scale.

:class:`LiveScenario` holds a scenario read once (at ``scale`` agents per person for a
scenario with a population), the assumptions that carry a field (``path``, ``low``,
``high``) and the observed polls its report settings name. :meth:`LiveScenario.run` sets
the assumptions' fields (:func:`steppe.scenario.loader.with_overrides`), runs runs
``0, 1, ...`` one after another in this process (:func:`steppe.assembly.execute`, so the
network is taken from the assembly's cache and the compiled kernels stay warm) and hands
each growing set of runs, as tables, to a callback. Run ``r`` draws from the same random
streams whatever the settings (common random numbers): what moves between two settings is
the settings' doing, not the luck of the draw.

A run in progress is abandoned as soon as a newer request arrives (``cancelled`` is polled
once per sweep), so the latest settings are answered first.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "s.toml").write_text('''
... name = "s"
... seed = 1
... runs = 2
... network = { kind = "complete", n = 50 }
... model = { name = "voter" }
... initial = { shares = { A = 0.5, B = "rest" } }
... stop = { max_sweeps = 3 }
... [[assumptions]]
... name = "initial share of A"
... path = "initial.shares.A"
... low = 0.1
... high = 0.9
... ''')
>>> live = LiveScenario(d / "s.toml")
>>> [(s.name, s.low, s.high) for s in live.settings]
[('initial share of A', 0.1, 0.9)]
>>> got = live.run({"initial.shares.A": 0.9}, runs=2)
>>> sorted(got.series["run"].unique().tolist())
[0, 1]
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import pandas as pd

from ..assembly import assemble, execute, load_scenario
from ..errors import ParameterError, SteppeError
from ..observe.tables import tables
from ..report.summary import read_observed_polls
from ..scenario.loaded import LoadedScenario
from ..scenario.loader import with_overrides

__all__ = ["DEFAULT_SCALE", "Cancelled", "LiveResult", "LiveScenario", "Setting", "check_runs"]

#: agents per person for a scenario with a population, unless told otherwise (1:2000)
DEFAULT_SCALE = 0.0005
#: threads of the compiled kernels in a live run: at the explorer's small scales (about
#: 10,000 agents at 1:2000) the parallel kernels' synchronisation costs more than it gains
#: (the flagship: 1.1 s a run with one thread, 2.6 s with two, on two busy cores)
LIVE_THREADS = 1
#: one live run at a time in this process (the machine's cores are the limit)
_RUN_LOCK = threading.Lock()


class Cancelled(Exception):
    """A newer request arrived: the run in progress is abandoned."""


@dataclass(frozen=True)
class Setting:
    """One assumption as a setting: a slider from ``low`` to ``high``.

    Attributes
    ----------
    name : str
        What it stands for, in words.
    path : str
        The field that carries it (``also`` fields are set with it).
    low, high : float
        The plausible range.
    value : float
        The scenario file's own value (the slider's start).
    integer : bool
        Whether the field takes whole numbers.
    prior : str
        The prior over the range, in words (``""``: uniform).
    note : str
        Why this range.
    also : tuple of str
        Other fields carrying the same number.
    """

    name: str
    path: str
    low: float
    high: float
    value: float
    integer: bool = False
    prior: str = ""
    note: str = ""
    also: tuple[str, ...] = ()


@dataclass
class LiveResult:
    """What the runs so far produced.

    Attributes
    ----------
    series : pandas.DataFrame
        The tidy series of the runs (as ``series.parquet``).
    polls : pandas.DataFrame or None
        The simulated polls of the model's own question, whole sample.
    runs : int
        Runs finished.
    seconds : float
        Wall time since the request.
    values : dict
        The settings run.
    """

    series: pd.DataFrame
    polls: pd.DataFrame | None
    runs: int
    seconds: float
    values: dict[str, float] = field(default_factory=dict)


def _prior_text(prior: Any) -> str:
    if prior is None:
        return ""
    data = prior.model_dump() if hasattr(prior, "model_dump") else dict(prior)
    dist = data.pop("dist", "")
    args = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in data.items() if v is not None)
    return f"{dist}({args})" if args else str(dist)


class LiveScenario:
    """A scenario ready to be re-run with its assumptions set (see the module docstring).

    Parameters
    ----------
    path
        The scenario file (``.toml``).
    scale
        Agents per person for a scenario with a ``[population]`` (default
        :data:`DEFAULT_SCALE`, or the file's own scale when it is smaller); ignored
        otherwise.

    Raises
    ------
    ScenarioError
        The scenario does not validate (the message names the file and field).
    """

    def __init__(self, path: str | Path, *, scale: float | None = None) -> None:
        self.path = Path(path)
        base = load_scenario(self.path)
        over: dict[str, Any] = {}
        pop = base.spec.population
        if pop is not None:
            want = DEFAULT_SCALE if scale is None else float(scale)
            over["population.scale"] = min(want, pop.scale) if scale is None else want
        self.scenario: LoadedScenario = load_scenario(base, over) if over else base
        self.scale: float | None = over.get("population.scale")
        spec = self.scenario.spec
        self.name = spec.name
        self.description = spec.description or ""
        self.settings: list[Setting] = []
        self.unvaried: list[tuple[str, str]] = []
        for a in spec.assumptions:
            if a.path is None or a.low is None or a.high is None:
                self.unvaried.append((a.name, a.note))
                continue
            current = self.scenario.field_value(a.path)
            whole = isinstance(current, int) and not isinstance(current, bool) and \
                float(a.low).is_integer() and float(a.high).is_integer()
            try:
                value = float(current)
            except (TypeError, ValueError):
                value = (float(a.low) + float(a.high)) / 2
            if not math.isfinite(value):
                value = float(a.low)
            value = min(max(value, float(a.low)), float(a.high))
            self.settings.append(Setting(a.name, a.path, float(a.low), float(a.high), value,
                                         whole, _prior_text(a.prior), a.note, tuple(a.also)))
        dry = assemble(self.scenario, 0, dry=True)
        self.stances: list[str] = list(dry.model.stances)
        self.answers: list[str] = list(dry.answers)
        self.runs_in_file = spec.runs
        report = dict(spec.report or {}) if isinstance(spec.report, Mapping) else (
            spec.report.model_dump() if spec.report is not None else {})
        self.focus = self._focus(report)
        self.observed: pd.DataFrame | None = None
        self.notes: list[str] = []
        name = report.get("observed_polls")
        if name:
            p = self.scenario.path(str(name))
            if p.is_file():
                try:
                    self.observed = read_observed_polls(p, report.get("observed_columns") or None,
                                                        self.stances)
                except SteppeError as exc:
                    self.notes.append(f"observed polls not shown: {exc}")
            else:
                self.notes.append(f"observed polls file {name!r} not found")
        self.dated = self.scenario.dates(pd.Series([0.0]).to_numpy()) is not None
        data = self.scenario.data()
        #: the timeline: events, and the start of each border flow with a note
        self.events: list[dict[str, Any]] = [
            {"at": e.get("at"), "note": e.get("note", ""), "set": e.get("set") or {}}
            for e in data.get("events") or []] + [
            {"at": f.get("start"), "note": f["note"]} for f in data.get("flows") or []
            if f.get("note")]

    def _focus(self, report: Mapping[str, Any]) -> str:
        chosen = report.get("stance")
        if chosen in self.stances:
            return str(chosen)
        expr = self.scenario.spec.expression
        for p in (getattr(expr, "penalised", None) or []):
            if p in self.stances:
                return str(p)
        return self.stances[0]

    def overrides(self, values: Mapping[str, float]) -> dict[str, Any]:
        """The field overrides for ``values`` (setting path → value): each setting's
        ``path`` and ``also`` fields, whole numbers where the field takes them.

        Raises
        ------
        ParameterError
            A path that is not one of the settings, or a value outside its range.
        """
        by_path = {s.path: s for s in self.settings}
        out: dict[str, Any] = {}
        for path, v in values.items():
            s = by_path.get(path)
            if s is None:
                raise ParameterError("not an assumption of this scenario", field=path,
                                     allowed=", ".join(by_path))
            v = float(v)
            if not (s.low - 1e-12 <= v <= s.high + 1e-12):
                raise ParameterError("outside the assumption's range", field=path,
                                     allowed=f"{s.low:g} to {s.high:g}", given=v)
            value: Any = round(v) if s.integer else v
            for p in (s.path, *s.also):
                out[p] = value
        return out

    def scenario_for(self, values: Mapping[str, float]) -> LoadedScenario:
        """The scenario with the settings ``values``, validated (raises ScenarioError)."""
        over = self.overrides(values)
        if not over:
            return self.scenario
        return with_overrides(self.scenario, over, check_assumptions=False)

    def run(self, values: Mapping[str, float], *, runs: int = 1,
            on_update: Callable[[LiveResult], None] | None = None,
            cancelled: Callable[[], bool] | None = None,
            threads: int = LIVE_THREADS) -> LiveResult:
        """Run the scenario with ``values`` (setting path → value; others as in the file).

        Parameters
        ----------
        values
            The settings.
        runs
            How many runs (``0 .. runs-1``, the file's seed).
        on_update
            Called after each finished run with the runs so far.
        cancelled
            Polled once per sweep; when it returns True the request is abandoned
            (:class:`Cancelled` is raised).
        threads
            Threads of the compiled kernels, in this thread only (default
            :data:`LIVE_THREADS`).

        Returns
        -------
        LiveResult
            All ``runs`` runs.

        Raises
        ------
        ScenarioError
            The settings make the scenario invalid.
        Cancelled
            ``cancelled()`` became true.
        """
        t0 = time.perf_counter()
        sc = self.scenario_for(values)

        def poll(_t: float) -> None:
            if cancelled is not None and cancelled():
                raise Cancelled

        before = numba.get_num_threads()
        with _RUN_LOCK:
            numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
            try:
                return self._runs(sc, values, max(1, int(runs)), poll, on_update, t0)
            finally:
                numba.set_num_threads(before)

    def _runs(self, sc: LoadedScenario, values: Mapping[str, float], runs: int,
              poll: Callable[[float], None],
              on_update: Callable[[LiveResult], None] | None, t0: float) -> LiveResult:
        outputs = []
        result = None
        for r in range(runs):
            poll(0.0)
            outputs.append(execute(sc, r, keep_state=False, progress=poll))
            frames = tables(outputs, self.stances, seed=sc.spec.seed, dates=sc.dates)
            polls = frames.get("polls")
            if polls is not None and "by" in polls.columns:
                keep = polls["by"].astype(str) == "all"
                if "question" in polls.columns:
                    keep &= polls["question"].astype(str) == "stance"
                polls = polls[keep].reset_index(drop=True)
            result = LiveResult(frames["series"], polls, len(outputs),
                                time.perf_counter() - t0, dict(values))
            if on_update is not None:
                on_update(result)
        assert result is not None
        return result

    def warm(self) -> float:
        """Run run 0 at the file's settings once (compiles the kernels, builds the network
        into the cache); returns the seconds it took. Errors are the caller's."""
        t0 = time.perf_counter()
        self.run({}, runs=1)
        return time.perf_counter() - t0


def check_runs(runs: int) -> int:
    """``runs`` as a number of runs per setting, 1 to 50.

    Examples
    --------
    >>> check_runs(3)
    3
    """
    if isinstance(runs, bool) or not isinstance(runs, int) or not 1 <= runs <= 50:
        raise ParameterError("runs per setting", field="--runs", allowed="1 to 50",
                             given=runs)
    return runs

