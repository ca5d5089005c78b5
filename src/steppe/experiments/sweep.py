"""Ensembles and parameter sweeps: many runs of a scenario over a grid of field values.

A sweep runs ``runs`` replicates at every point of a grid of scenario field values (see
:mod:`steppe.experiments.grid` for the syntax and the seeds), on local processes or a Dask
cluster (:mod:`steppe.experiments.executors`), and writes one Parquet file per finished run
with a manifest (:mod:`steppe.experiments.store`); then ensemble bands per point, outcomes
per point, and phase diagrams (:mod:`steppe.experiments.phase`). ``steppe query DIR "SQL"``
reads the result (:mod:`steppe.experiments.query`).

Each run is assembled and run by :func:`~steppe.experiments.tasks.run_task` (the path every
way of running many runs shares) on the point's scenario, whose seed is the point's seed.
Results are identical, bit for bit, whatever the executor and the number of workers, and whatever
order the runs finish in; the only column that differs between two sweeps of the same
definition is ``wall_seconds``, a measurement.

Resume: running the same sweep again into the same folder skips the runs whose files are
there and does the rest (runs that failed before are tried again). The definition must be
the same scenario, seed, seed mode and swept fields; the values and the number of runs may
grow (new points and runs are added; nothing is deleted). ``resume=False`` (``--no-resume``)
clears the folder's sweep files first.

A sweep without any swept field is an ensemble of the scenario: its single point uses the
scenario's seed, so its runs are those of ``steppe run``.

Examples
--------
>>> import tempfile
>>> scen = {"name": "demo", "seed": 3, "runs": 4, "network": {"kind": "complete", "n": 60},
...         "model": {"name": "voter"}, "stop": {"max_sweeps": 20}}
>>> res = sweep(scen, sets=["model.variant=node,link"], out=tempfile.mkdtemp(), workers=1)
>>> res.runs_done, len(res.outcomes)
(8, 2)
>>> sorted(res.query("SELECT DISTINCT model_variant FROM runs")["model_variant"])
['link', 'node']

A table can be swept whole (fields that must change together):

>>> res = sweep(scen, sets=["initial.shares=[{A = 0.2, B = 0.8}, {A = 0.8, B = 0.2}]"],
...             out=tempfile.mkdtemp(), workers=1)
>>> res.query("SELECT initial_shares, count(*) AS n FROM runs GROUP BY 1 ORDER BY 1")
         initial_shares  n
0  {"A": 0.2, "B": 0.8}  4
1  {"A": 0.8, "B": 0.2}  4
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import os
import platform
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..assembly import assemble, make_model
from ..errors import ParameterError, ScenarioError, SteppeError
from ..scenario.files import apply_overrides, check_depth, read_scenario_file, resolve_variant
from ..scenario.loaded import LoadedScenario
from ..scenario.messages import validate
from .executors import Executor, make_executor
from .grid import (
    Axis,
    Point,
    SeedMode,
    design_key,
    design_points,
    make_points,
    merge_axes,
    params_key,
    parse_set,
    parse_values,
)
from .memory import check_memory, check_sweep_size, estimate_memory, run_disk_bytes
from .phase import PhaseSpec, check_phase, parse_phase, phase_from_table, write_phase
from .store import SweepStore, write_table_atomic
from .summaries import bands_frame, outcomes_frame
from .tasks import make_tasks, records

__all__ = ["SweepPlan", "SweepResult", "plan_sweep", "sweep", "validate_point"]

#: called as progress(done, total, failed) after each run (and once at the start)
SweepProgress = Callable[[int, int, int], None]

_SWEEP_KEYS = ("set", "runs", "seeds", "phase")


# -- the plan -----------------------------------------------------------------------------
@dataclass
class SweepPlan:
    """A validated sweep: the base scenario, the axes, the points and their scenarios.

    Attributes
    ----------
    base : dict
        The scenario as data, without its ``[sweep]`` table, fixed overrides applied.
    axes : list of Axis
        The swept fields and their values.
    fixed : dict
        Fields set to one value for every point.
    points : list of Point
        The grid, in order (indices are positions here; the store may renumber them).
    scenarios : dict[str, LoadedScenario]
        Each point's validated scenario, by point key.
    """

    name: str
    source: str
    base_dir: Path
    sha256: str | None
    base: dict[str, Any]
    axes: list[Axis]
    fixed: dict[str, Any]
    runs: int
    seed: int
    seeds: SeedMode
    phases: list[PhaseSpec]
    points: list[Point]
    scenarios: dict[str, LoadedScenario]
    stances: tuple[str, ...]
    notes: list[str] = field(default_factory=list)
    #: the designs give their points' seeds (see :func:`~steppe.experiments.grid.design_points`)
    given_seeds: bool = False

    def identity(self) -> dict[str, Any]:
        """What must match for a folder to be resumed: base scenario, seed, seed mode and
        swept fields (not their values, not the number of runs).

        Returns
        -------
        dict
            Plain data (JSON-able).
        """
        base = {k: v for k, v in self.base.items()
                if k not in ("runs", "description", "output", "seed")}
        ident = {"base": base, "seed": self.seed, "seeds": self.seeds,
                 "fields": sorted(a.path for a in self.axes)}
        if self.given_seeds:
            ident["given_seeds"] = True
        return _jsonable(ident)

    def identity_sha256(self) -> str:
        """Hash of :meth:`identity`.

        Returns
        -------
        str
            SHA-256, hexadecimal.
        """
        text = json.dumps(self.identity(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _read_source(scenario: str | Path | Mapping[str, Any] | LoadedScenario
                 ) -> tuple[dict[str, Any], str, Path, str | None]:
    """(data, source, base folder, sha256) of a scenario file, mapping or loaded one."""
    if isinstance(scenario, LoadedScenario):
        data = scenario.spec.model_dump(mode="json", exclude_none=True)
        return data, scenario.source, scenario.base_dir, scenario.sha256
    if isinstance(scenario, Mapping):
        check_depth(scenario, "<dict>")
        data = copy.deepcopy(dict(scenario))
        if "extends" in data:
            data = resolve_variant(data, Path.cwd(), "<dict>")
        return data, "<dict>", Path.cwd(), None
    data, base_dir, sha = read_scenario_file(scenario)
    return data, str(scenario), base_dir, sha


def _readdress(exc: ScenarioError, source: str, where: str = "") -> ScenarioError:
    return ScenarioError(exc.message + where, file=source, field=exc.field,
                         allowed=exc.allowed, given=exc.given, problems=exc.problems)


def _flatten_set(table: Any, source: str, prefix: str = "") -> list[tuple[str, Any]]:
    """``[sweep.set]`` entries as (dotted path, value spec); nested tables are paths."""
    if not isinstance(table, Mapping):
        raise ScenarioError("must be a table of field paths and values", file=source,
                            field="sweep.set", given=table)
    out: list[tuple[str, Any]] = []
    for k, v in table.items():
        path = f"{prefix}{k}"
        if isinstance(v, Mapping) and not ({"start", "stop"} & set(v)):
            out += _flatten_set(v, source, path + ".")
        else:
            out.append((path, v))
    return out


def validate_point(data: Mapping[str, Any], source: str, base_dir: Path,
                   sha256: str | None) -> LoadedScenario:
    """Validate one point's scenario data completely (the schema, then a dry assembly of
    run 0), addressing errors to ``source`` and resolving relative paths from
    ``base_dir``.

    Parameters
    ----------
    data
        The point's scenario, as data.
    source
        The file errors are addressed to.
    base_dir
        The folder relative paths are read from.
    sha256
        The scenario file's hash, carried into the result.

    Returns
    -------
    LoadedScenario

    Raises
    ------
    ScenarioError
        The data does not validate (the message names the file and the field).

    Examples
    --------
    >>> sc = validate_point({"name": "v", "seed": 1, "network": {"kind": "complete", "n": 9},
    ...                      "model": {"name": "voter"}, "stop": {"max_sweeps": 9}},
    ...                     "s.toml", Path("."), None)
    >>> sc.source, sc.spec.network.n
    ('s.toml', 9)
    >>> validate_point({"name": "v", "seed": 1, "network": {"kind": "complete", "n": 1},
    ...                 "model": {"name": "voter"}}, "s.toml", Path("."), None)
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    steppe.errors.ScenarioError: s.toml: network.n: Input should be greater than or equal to 2 ...
    """
    loaded = LoadedScenario(spec=validate(data, source), source=source, base_dir=base_dir,
                            sha256=sha256)
    assemble(loaded, 0, dry=True)
    return loaded


def _check_networks(points: Sequence[Any], scenarios: Mapping[str, LoadedScenario],
                    source: str) -> None:
    """Build, once each, the networks of the points that a network builder can refuse
    (a homophily network or a block model whose parameters imply an edge probability
    above 1, e.g. a mean degree at the top of its range in a small population), so that
    such a point is refused before any run starts rather than after the others ran. The
    networks are not kept: the runs build their own."""
    from ..assembly.network import cached_network, clear_cache, network_key
    from ..scenario.schema import HomophilySpec, StochasticBlockSpec

    seen: set[str] = set()
    try:
        for pt in points:
            sc = scenarios[pt.key]
            if not isinstance(sc.spec.network, HomophilySpec | StochasticBlockSpec):
                continue
            slots = assemble(sc, 0, dry=True).slots
            key = network_key(sc, 0, slots)
            if key in seen:
                continue
            seen.add(key)
            try:
                cached_network(sc, 0, slots)
            except ScenarioError as exc:
                # the point's fields the network depends on (a design may set dozens)
                own = {k: v for k, v in pt.params.items()
                       if k.startswith(("network.", "population."))}
                shown = dataclasses.replace(pt, params=own) if own else pt
                where = f" (at the sweep point {shown.describe()})" if pt.params else ""
                raise _readdress(exc, source, where) from None
    finally:
        if seen:
            clear_cache()


def plan_sweep(scenario: str | Path | Mapping[str, Any] | LoadedScenario, *,
               sets: Iterable[str] | Mapping[str, Any] = (), runs: int | None = None,
               seed: int | None = None, seeds: SeedMode | None = None,
               phases: Iterable[str | PhaseSpec] = (),
               designs: Sequence[Mapping[str, Any]] | None = None) -> SweepPlan:
    """Read a scenario and its sweep, validate every point, and return the plan.

    Parameters
    ----------
    scenario
        A TOML file (with an optional ``[sweep]`` table), a dict, or a loaded scenario.
    sets
        ``--set`` texts (``"model.p=0:0.5:0.05"``) or a mapping of paths to value specs
        (a list, a range string or table, or one value); they replace the file's.
    runs, seed, seeds
        Runs per point, the sweep's seed, ``"independent"`` or ``"common"`` seeds
        (defaults: the ``[sweep]`` table's, then the scenario's runs and seed,
        ``"independent"``).
    phases
        Phase diagrams (``--phase`` texts or :class:`PhaseSpec`), added to the file's.
    designs
        Points given one by one instead of a grid: each a mapping of field paths to
        values (``{}``: the scenario as it is), e.g. the settings of a sensitivity
        analysis. The file's ``[sweep.set]`` is then ignored. A design may give its
        point's seed under the key ``"seed"`` (see
        :func:`~steppe.experiments.grid.design_points`).

    Returns
    -------
    SweepPlan

    Raises
    ------
    ScenarioError, ParameterError
        A bad scenario, sweep table, value spec or point (nothing is run or written).

    Examples
    --------
    >>> p = plan_sweep({"name": "d", "seed": 1, "network": {"kind": "complete", "n": 10},
    ...                 "model": {"name": "voter"}, "stop": {"max_sweeps": 1}},
    ...                sets=["network.n=10:30:10"])
    >>> [pt.params["network.n"] for pt in p.points], p.runs
    ([10, 20, 30], 1)
    """
    data, source, base_dir, sha = _read_source(scenario)
    table = data.pop("sweep", None) or {}
    if not isinstance(table, Mapping):
        raise ScenarioError("must be a table", file=source, field="sweep", given=table)
    for k in table:
        if k not in _SWEEP_KEYS:
            raise ScenarioError("unknown field", file=source, field=f"sweep.{k}",
                                allowed=", ".join(_SWEEP_KEYS), given=k)
    file_axes = []
    for path, spec in _flatten_set(table.get("set", {}), source):
        try:
            file_axes.append((path, parse_values(path, spec)))
        except ParameterError as exc:
            raise ScenarioError(exc.message, file=source, field=f"sweep.set.{path}",
                                allowed=exc.allowed, given=exc.given) from None
    if isinstance(sets, Mapping):
        cli_axes = [(p, parse_values(p, v)) for p, v in sets.items()]
    else:
        cli_axes = [parse_set(s) for s in sets]
    if designs is not None:
        file_axes = []
    axes, fixed = merge_axes(file_axes, cli_axes)
    if designs is not None:
        if axes:
            raise ParameterError("give either swept fields or designs, not both",
                                 field="--set", given=[a.path for a in axes])
        paths = list(dict.fromkeys(p for d in designs for p in d if p != "seed"))
        axes = [Axis(p, tuple(dict.fromkeys(d[p] for d in designs if p in d)))
                for p in paths]

    runs = runs if runs is not None else table.get("runs", data.get("runs", 1))
    if not isinstance(runs, int) or isinstance(runs, bool) or runs < 1:
        raise ScenarioError("runs per point must be a whole number >= 1", file=source,
                            field="sweep.runs", given=runs)
    seed = seed if seed is not None else data.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ScenarioError("the sweep needs a seed (an integer >= 0)", file=source,
                            field="seed", given=seed)
    mode = seeds or table.get("seeds", "independent")
    if mode not in ("independent", "common"):
        raise ScenarioError("unknown seed mode", file=source, field="sweep.seeds",
                            allowed="independent, common", given=mode)

    base = apply_overrides(data, fixed)
    base["runs"] = runs
    base["seed"] = seed
    points = make_points(axes, seed, mode) if designs is None else design_points(
        designs, seed, mode)
    scenarios: dict[str, LoadedScenario] = {}
    for pt in points:
        d = apply_overrides(base, pt.params)
        d["seed"] = pt.seed
        try:
            scenarios[pt.key] = validate_point(d, source, base_dir, sha)
        except ScenarioError as exc:
            where = f" (at the sweep point {pt.describe()})" if pt.params else ""
            raise _readdress(exc, source, where) from None
    _check_networks(points, scenarios, source)
    first = scenarios[points[0].key]
    stances = tuple(make_model(first).stances)

    specs: list[PhaseSpec] = []
    notes: list[str] = []
    swept = {a.path for a in axes}
    tables = table.get("phase", [])
    for i, t in enumerate([tables] if isinstance(tables, Mapping) else tables):
        try:
            spec = phase_from_table(t, f"sweep.phase.{i}")
        except ParameterError as exc:
            raise ScenarioError(exc.message, file=source, field=exc.field,
                                allowed=exc.allowed, given=exc.given) from None
        # the command line may fix a field the file's diagram shows
        if spec.x not in swept:
            notes.append(f"phase diagram over {spec.x} skipped: {spec.x} is not swept")
            continue
        if spec.y is not None and spec.y not in swept:
            spec = dataclasses.replace(spec, y=None)
            same = any((s.x, s.y, s.outcome) == (spec.x, None, spec.outcome) for s in specs)
            notes.append(f"phase diagram of {spec.outcome} over {spec.x} and {t['y']} "
                         + ("skipped: " if same else f"drawn over {spec.x} only: ")
                         + f"{t['y']} is not swept"
                         + (f" (the diagram of {spec.outcome} over {spec.x} alone is drawn)"
                            if same else ""))
            if same:
                continue
        if any((s.x, s.y, s.outcome) == (spec.x, spec.y, spec.outcome) for s in specs):
            continue  # the same diagram twice: drawn once
        specs.append(spec)
    specs += [p if isinstance(p, PhaseSpec) else parse_phase(p) for p in phases]
    for spec in specs:
        check_phase(spec, [a.path for a in axes], stances)
    return SweepPlan(name=first.spec.name, source=source, base_dir=base_dir, sha256=sha,
                     base=base, axes=axes, fixed=fixed, runs=runs, seed=seed, seeds=mode,
                     phases=specs, points=points, scenarios=scenarios, stances=stances,
                     notes=notes,
                     given_seeds=designs is not None and any("seed" in d for d in designs))


# -- the result ---------------------------------------------------------------------------
@dataclass
class SweepResult:
    """A sweep folder after a session of :func:`sweep`.

    Attributes
    ----------
    path : Path
        The folder.
    manifest : dict
        The manifest as written at the end.
    runs_done, runs_failed, runs_skipped : int
        Runs finished and failed in this session, and found finished before it.
    seconds : float
        Wall time of this session's runs (from the first task to the last result).
    executor : str
        Where the runs ran.
    files : list of Path
        Phase diagram files written.
    repaired : list of str
        Damaged run files found when resuming (truncated, not Parquet), which were run
        again.
    """

    path: Path
    manifest: dict[str, Any]
    runs_done: int = 0
    runs_failed: int = 0
    runs_skipped: int = 0
    seconds: float = 0.0
    executor: str = ""
    files: list[Path] = field(default_factory=list)
    #: damaged run files found on resume (and run again), one line each
    repaired: list[str] = field(default_factory=list)

    @property
    def runs_per_minute(self) -> float:
        """Throughput of this session (finished runs per minute of wall time)."""
        return 60.0 * self.runs_done / self.seconds if self.seconds > 0 else math.nan

    @property
    def complete(self) -> bool:
        """Every run of the sweep finished."""
        return self.manifest.get("status", {}).get("state") == "complete"

    def query(self, sql: str) -> pd.DataFrame:
        """DuckDB SQL over the folder (see :mod:`steppe.experiments.query`).

        Parameters
        ----------
        sql
            A query over the folder's views (``runs``, ``outcomes`` …).

        Returns
        -------
        pandas.DataFrame
        """
        from .query import query

        return query(self.path, sql)

    @property
    def runs(self) -> pd.DataFrame:
        """One row per finished run, with the swept fields."""
        return self.query("SELECT * FROM runs ORDER BY point, run")

    @property
    def outcomes(self) -> pd.DataFrame:
        """One row per point (see :mod:`steppe.experiments.summaries`)."""
        return pd.read_parquet(self.path / "outcomes.parquet")

    @property
    def failures(self) -> list[dict[str, Any]]:
        """The runs that failed and were not finished since."""
        return SweepStore(self.path).failures()


# -- the sweep ----------------------------------------------------------------------------
def _jsonable(v: Any) -> Any:
    return json.loads(json.dumps(v, default=str))


def _points_frame(points: Sequence[tuple[int, int, dict[str, Any]]],
                  columns: Mapping[str, str]) -> pd.DataFrame:
    """points.parquet: point, seed, one column per swept field."""
    df = pd.DataFrame({"point": np.array([p for p, _, _ in points], dtype=np.int32),
                       "seed": np.array([s for _, s, _ in points], dtype=np.int64)})
    for col, path in columns.items():
        vals = [params.get(path) for _, _, params in points]
        if any(isinstance(v, list | dict) for v in vals):
            vals = [json.dumps(v, sort_keys=True) for v in vals]
        s = pd.Series(vals)
        if s.dtype == object:
            kinds = {type(v) for v in vals if v is not None}
            if kinds <= {int}:
                s = s.astype("Int64")
            elif kinds <= {int, float}:
                s = s.astype(float)
            elif kinds <= {bool}:
                s = s.astype("boolean")
            else:
                s = s.astype("string") if kinds <= {str} else s.map(
                    lambda v: None if v is None else str(v)).astype("string")
        df[col] = s.to_numpy() if s.dtype != object else s
    return df


def _reconcile(plan: SweepPlan, manifest: dict[str, Any] | None, out: Path
               ) -> dict[str, tuple[int, int, dict[str, Any]]]:
    """Stored index of every point (old ones keep theirs, new ones are appended), after
    checking that the folder holds the same sweep."""
    # a stored point is the same point when its fields and its seed match (the seed follows
    # from the fields and the sweep's identity unless the designs give it)
    known: dict[tuple[str, int], tuple[int, int, dict[str, Any]]] = {}
    if manifest is not None:
        if manifest.get("identity_sha256") != plan.identity_sha256():
            old = manifest.get("identity", {})
            new = plan.identity()
            diffs = [what for what, k in (("the scenario", "base"), ("the seed", "seed"),
                                          ("the seed mode", "seeds"),
                                          ("the swept fields", "fields"))
                     if _jsonable(old.get(k)) != _jsonable(new.get(k))] or ["its definition"]
            raise SteppeError(
                f"{out}: holds a different sweep ({' and '.join(diffs)} differ"
                + (f": swept {old.get('fields')} there, {new.get('fields')} now"
                   if "the swept fields" in diffs else "")
                + "); choose another --out, or --no-resume to replace it")
        for p in manifest.get("points", []):
            known[(params_key(p["params"]), int(p["seed"]))] = (
                int(p["point"]), int(p["seed"]), p["params"])
    nxt = max((v[0] for v in known.values()), default=-1) + 1
    index: dict[str, tuple[int, int, dict[str, Any]]] = {}
    for pt in plan.points:
        found = known.pop((params_key(pt.params), pt.seed), None)
        if found is None:
            found = (nxt, pt.seed, pt.params)
            nxt += 1
        index[pt.key] = found
    for (_, seed), entry in known.items():  # stored points this session does not run
        index[design_key(entry[2], seed)] = entry
    return index


def _other_grid(plan: SweepPlan, manifest: dict[str, Any] | None, out: Path) -> str:
    """What to tell a user who resumes into a folder holding another grid of the same
    sweep (the folder grows: nothing stored is deleted), or "" when the grids agree."""
    if manifest is None:
        return ""
    stored = {(params_key(p["params"]), int(p["seed"])) for p in manifest.get("points", [])}
    ours = {(params_key(pt.params), pt.seed) for pt in plan.points}
    new, elsewhere = len(ours - stored), len(stored - ours)
    if not new and not elsewhere:
        return ""
    return (f"{out} already holds this sweep over another grid: {len(ours) - new} of this "
            f"grid's {len(ours)} points are stored there, {new} are new, and {elsewhere} "
            "stored points are not in this grid (kept: the folder's outcomes cover all "
            f"{len(stored | ours)} points, the phase diagrams this grid's); choose another "
            "--out for a separate sweep, or --no-resume to replace it")


def sweep(scenario: str | Path | Mapping[str, Any] | LoadedScenario, *,
          sets: Iterable[str] | Mapping[str, Any] = (), runs: int | None = None,
          seed: int | None = None, seeds: SeedMode | None = None,
          workers: int | None = None, out: str | Path | None = None,
          scheduler: str | None = None, cluster: str | Path | None = None,
          resume: bool = True, phases: Iterable[str | PhaseSpec] = (),
          check_memory_first: bool = True, available_memory: int | None = None,
          progress: SweepProgress | None = None,
          on_failure: Callable[[dict[str, Any]], None] | None = None,
          on_start: Callable[[SweepPlan, int, int, str], None] | None = None,
          executor: Executor | None = None,
          designs: Sequence[Mapping[str, Any]] | None = None) -> SweepResult:
    """Run a sweep (or an ensemble) and write it to a folder; return what happened.

    Parameters
    ----------
    scenario
        A TOML file (with an optional ``[sweep]`` table), a dict, or a loaded scenario.
    sets
        Swept or fixed fields: ``--set`` texts, or a mapping of paths to values.
    runs, seed, seeds
        Runs per point, seed, and seed mode (see :mod:`steppe.experiments.grid`).
    workers
        Local processes (None or 0: one per core; 1: this process).
    out
        The sweep folder (default ``results/<name>-sweep``).
    scheduler, cluster
        A Dask scheduler address, or a cluster description file (instead of local
        processes).
    resume
        Skip the runs already in ``out`` (default); False clears the folder's sweep files.
    phases
        Phase diagrams to draw (``--phase`` texts), besides the file's.
    check_memory_first
        Refuse, before anything runs, a sweep whose runs will not fit in memory.
    available_memory
        Bytes to check against instead of the memory this machine has available.
    progress, on_failure, on_start
        Called as ``progress(done, total, failed)`` after each run; ``on_failure(record)``
        for each failed run (point, run, seed, params, error); ``on_start(plan, pending,
        total, executor_description)`` once the sweep is about to run.
    executor
        An executor to use instead of the one the options describe (not closed here).
    designs
        Points one by one instead of a grid (see :func:`plan_sweep`).

    Returns
    -------
    SweepResult

    Raises
    ------
    ScenarioError, ParameterError
        A bad scenario, sweep definition or point: nothing is written.
    InsufficientMemoryError
        The runs would not fit in memory (the message gives the estimate and what would).
    SteppeError
        The folder holds another sweep, another sweep is writing there, the scheduler is
        unreachable.
    """
    plan = plan_sweep(scenario, sets=sets, runs=runs, seed=seed, seeds=seeds, phases=phases,
                      designs=designs)
    out_dir = Path(out) if out is not None else Path("results") / f"{plan.name}-sweep"
    store = SweepStore(out_dir)
    store.check_usable()
    manifest = store.read_manifest() if resume else None
    index = _reconcile(plan, manifest, out_dir)
    other = _other_grid(plan, manifest, out_dir)
    if other:
        plan.notes.append(other)
        warnings.warn(other, UserWarning, stacklevel=2)
    finished = store.finished() if resume else set()
    total = len(plan.points) * plan.runs
    # disk and memory first, before the runs are even listed, any process starts or
    # anything is written
    if check_memory_first and total > len(finished):
        per_run = max(run_disk_bytes(s) for s in plan.scenarios.values())
        check_sweep_size(total - len(finished), len(plan.points), per_run, out_dir,
                         available=available_memory)
    repaired = _verify(store, finished) if resume and store.root.is_dir() else []
    by_key = {pt.key: pt for pt in plan.points}
    pending: list[tuple[int, int, Point]] = []
    for pt in plan.points:
        p_index = index[pt.key][0]
        pending += [(p_index, r, pt) for r in range(plan.runs) if (p_index, r) not in finished]
    skipped = total - len(pending)

    # where the runs go: the memory of a run, before any process starts
    own_executor = executor is None
    if executor is None and scheduler is None and cluster is None:
        n_local = (os.cpu_count() or 1) if not workers else workers
        n_local = max(1, min(n_local, max(1, len(pending))))
        if check_memory_first and pending:
            biggest = max(plan.scenarios.values(), key=lambda s: estimate_memory(s).per_run)
            check_memory(biggest, n_local, available=available_memory, what="this sweep")
        executor = make_executor(workers=n_local)
    elif executor is None:
        executor = make_executor(workers=workers, scheduler=scheduler, cluster=cluster)
    try:
        if check_memory_first and pending and executor.worker_memory() is not None:
            biggest = max(plan.scenarios.values(), key=lambda s: estimate_memory(s).per_run)
            check_memory(biggest, 1, per_worker=executor.worker_memory(), what="this sweep")
        res = _execute(plan, store, index, pending, by_key, total, skipped, resume,
                       executor, progress, on_failure, on_start)
        res.repaired = repaired
        return res
    finally:
        if own_executor:
            executor.close()


def _verify(store: SweepStore, finished: set[tuple[int, int]]) -> list[str]:
    """Check the files of the runs a folder says are finished; a damaged run (a truncated
    or overwritten file) is taken out of ``finished`` so that it runs again. Returns one
    line per damaged file."""
    out = []
    for path, why in store.damaged(finished):
        m = re.search(r"point-(\d+)/run-(\d+)\.parquet$", path.as_posix())
        if m is None:  # pragma: no cover - the store names every run file so
            continue
        point, run = int(m.group(1)), int(m.group(2))
        if (point, run) in finished:
            with store.locked():
                store.discard(point, run)
            finished.discard((point, run))
        out.append(f"{path} ({why}): run again")
    return out


def _manifest(plan: SweepPlan, index: Mapping[str, tuple[int, int, dict[str, Any]]],
              columns: Mapping[str, str], status: dict[str, Any],
              sessions: list[dict[str, Any]], created: str) -> dict[str, Any]:
    return {
        "kind": "steppe-sweep",
        "format": 1,
        "steppe_version": __version__,
        "name": plan.name,
        "source": plan.source,
        "source_sha256": plan.sha256,
        "created_utc": created,
        "identity": plan.identity(),
        "identity_sha256": plan.identity_sha256(),
        "seed": plan.seed,
        "seeds": plan.seeds,
        "seed_rule": ("point seed from SeedSequence(seed, spawn_key=(0x53574550, "
                      "*sha256(params))), run r from SeedSequence(point_seed, "
                      "spawn_key=(1, r))"
                      if plan.seeds == "independent" and plan.axes and not plan.given_seeds
                      else "each point's seed is given by its design (the column seed); run "
                      "r from SeedSequence(point_seed, spawn_key=(1, r))"
                      if plan.given_seeds
                      else "every point uses the sweep's seed; run r from "
                      "SeedSequence(seed, spawn_key=(1, r))"),
        "runs_per_point": plan.runs,
        "axes": [{"path": a.path, "column": a.column, "values": _jsonable(list(a.values))}
                 for a in plan.axes],
        "fixed": _jsonable(plan.fixed),
        "columns": dict(columns),
        "stances": list(plan.stances),
        "phase": [p.as_dict() for p in plan.phases],
        "points": [{"point": i, "seed": s, "params": _jsonable(params)}
                   for i, s, params in sorted(index.values())],
        "status": status,
        "sessions": sessions,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def _execute(plan: SweepPlan, store: SweepStore,
             index: dict[str, tuple[int, int, dict[str, Any]]],
             pending: list[tuple[int, int, Point]], by_key: dict[str, Point], total: int,
             skipped: int, resume: bool, executor: Executor,
             progress: SweepProgress | None,
             on_failure: Callable[[dict[str, Any]], None] | None,
             on_start: Callable[[SweepPlan, int, int, str], None] | None) -> SweepResult:
    columns = {a.column: a.path for a in plan.axes}
    with store.locked():
        old = store.read_manifest() if resume else None
        if not resume:
            store.reset()
        store.remove_stale_temporaries()
        created = (old or {}).get("created_utc") or datetime.now(UTC).isoformat(
            timespec="seconds")
        sessions = list((old or {}).get("sessions", []))
        # columns of every swept field ever stored here (same fields: identity)
        store.write_points(_points_frame(sorted(index.values()), columns))
        started = datetime.now(UTC).isoformat(timespec="seconds")
        status = {"state": "running", "runs_total": total, "runs_done": skipped,
                  "runs_failed": 0, "updated_utc": started}
        store.write_manifest(_manifest(plan, index, columns, status, sessions, created))

        # tasks: runs of one point together (their network is built once per worker)
        scenarios = {p_index: plan.scenarios[pt.key] for p_index, _, pt in pending}
        params = {p_index: pt.params for p_index, _, pt in pending}
        tasks = make_tasks([(p, r) for p, r, _ in pending], scenarios, params, executor.slots,
                           tables=True, threads=executor.threads)
        if on_start is not None:
            on_start(plan, len(pending), total, executor.description)
        done, failed = skipped, 0
        if progress is not None:
            progress(done, total, failed)
        touched: set[int] = set()
        t0 = time.perf_counter()
        last_write = t0
        state = "interrupted"
        try:
            for task, rec in records(executor, tasks):
                if rec["tables"] is not None:
                    store.write_run(rec["point"], rec["run"], rec["tables"])
                    done += 1
                    touched.add(rec["point"])
                else:
                    fail = {"point": rec["point"], "run": rec["run"],
                            "seed": task.scenario.spec.seed,
                            "params": _jsonable(task.params),
                            "error": rec["error"], "traceback": rec["traceback"],
                            "host": rec.get("host"),
                            "time_utc": datetime.now(UTC).isoformat(timespec="seconds")}
                    store.write_failure(rec["point"], rec["run"], fail)
                    failed += 1
                    if on_failure is not None:
                        on_failure(fail)
                if progress is not None:
                    progress(done, total, failed)
                now = time.perf_counter()
                if now - last_write > 10:
                    status.update(runs_done=done, runs_failed=failed,
                                  updated_utc=datetime.now(UTC).isoformat(timespec="seconds"))
                    store.write_manifest(_manifest(plan, index, columns, status, sessions,
                                                   created))
                    last_write = now
            state = "complete" if failed == 0 else "incomplete"
        except (KeyboardInterrupt, SteppeError):
            raise
        except Exception as exc:  # the executor or the disk gave way, not a run
            raise SteppeError(
                f"the sweep stopped ({type(exc).__name__}: {exc}); every finished run is "
                f"saved in {store.root}: run the same command again to resume") from exc
        finally:
            seconds = time.perf_counter() - t0
            ran = done - skipped
            sessions.append({
                "started_utc": started,
                "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                "executor": executor.description, "runs": ran, "failed": failed,
                "skipped": skipped, "seconds": round(seconds, 3),
                "runs_per_minute": round(60 * ran / seconds, 2) if seconds > 0 else None,
                "state": state})
            status.update(state=state, runs_done=done, runs_failed=failed,
                          updated_utc=datetime.now(UTC).isoformat(timespec="seconds"))
            if state == "interrupted":
                store.write_manifest(_manifest(plan, index, columns, status, sessions,
                                               created))

        files = _summarise(plan, store, index, touched, columns)
        manifest = _manifest(plan, index, columns, status, sessions, created)
        store.write_manifest(manifest)
    return SweepResult(path=store.root, manifest=manifest, runs_done=done - skipped,
                       runs_failed=failed, runs_skipped=skipped, seconds=seconds,
                       executor=executor.description, files=files)


def _read_point(store: SweepStore, table: str, point: int) -> pd.DataFrame:
    """One point's per-run table, all its runs."""
    import pyarrow.dataset as ds

    files = sorted(Path(store.glob(table, point)).parent.glob("run-*.parquet"))
    return ds.dataset([str(f) for f in files], format="parquet").to_table().to_pandas()


def _read(glob: str) -> pd.DataFrame:
    import duckdb

    lit = "'" + glob.replace("'", "''") + "'"
    con = duckdb.connect(":memory:")
    try:
        return con.execute(f"SELECT * FROM read_parquet({lit}, union_by_name = true)").df()
    finally:
        con.close()


def _summarise(plan: SweepPlan, store: SweepStore,
               index: Mapping[str, tuple[int, int, dict[str, Any]]], touched: set[int],
               columns: Mapping[str, str]) -> list[Path]:
    """Bands of the points that gained runs (or have none yet), outcomes of every point,
    and the phase diagrams."""
    finished = store.finished()
    with_runs = {p for p, _ in finished}
    by_index = {i: key for key, (i, _, _) in index.items()}
    for p in sorted(with_runs):
        if p not in touched and store.bands_path(p).exists():
            continue
        bands = bands_frame(_read_point(store, "series", p))
        key = by_index.get(p)
        loaded = plan.scenarios.get(key) if key is not None else None
        if loaded is not None and len(bands):
            dates = loaded.dates(bands["time"].to_numpy())
            if dates is not None:
                bands.insert(bands.columns.get_loc("time") + 1, "date", dates)
        bands.insert(0, "point", np.int32(p))
        write_table_atomic(bands, store.bands_path(p))
    if not with_runs:
        return []
    runs = _read(store.glob("runs"))
    outcomes = outcomes_frame(runs, plan.stances)
    pts = _points_frame(sorted(index.values()), columns)
    outcomes = pts.merge(outcomes, on="point", how="right")
    write_table_atomic(outcomes, store.root / "outcomes.parquet")
    files: list[Path] = []
    if plan.phases:
        params = pts.rename(columns=dict(columns))
        axes = {a.path: list(a.values) for a in plan.axes}
        for spec in plan.phases:
            files += write_phase(outcomes.drop(columns=[*columns, "seed"]), spec, axes,
                                 store.root / "phase", stances=plan.stances, name=plan.name,
                                 params=params[["point", *axes]])
    return files
