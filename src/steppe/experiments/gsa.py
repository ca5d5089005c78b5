"""Global sensitivity analysis with SALib: Morris screening and Sobol indices over a
scenario's ``[[assumptions]]``, over their prior ranges or over a calibrated posterior.

The one-at-a-time analysis (:mod:`steppe.experiments.sensitivity`) moves one assumption at a
time from the scenario as written; it is the quick look, and it misses what assumptions do
together. The two methods here vary every assumption at once over its whole range:

Morris (elementary effects), the screening
    ``trajectories`` random one-at-a-time paths through a grid of ``levels`` values per
    assumption (:func:`SALib.sample.morris.sample`): each path moves every assumption once,
    by a step of ``levels / (2 (levels - 1))`` of its range. Per outcome and assumption:
    ``mu_star``, the mean absolute effect of moving the assumption over its *full range*
    (outcome units, a share for the shares: 0.05 is 5 pp; for an assumption whose
    ``prior`` is a distribution the levels are its quantiles ``(j + 1/2) / levels`` and
    the range is that of its quantiles), with a bootstrap 95% interval
    ``mu_star_conf``; ``mu``, the signed mean (opposite effects cancel in it); and
    ``sigma``, their spread (large when the effect depends on the other assumptions:
    interactions or non-linearity). Costs ``trajectories x (k + 2)`` runs for ``k``
    assumptions.

Sobol (variance decomposition), the quantification
    Saltelli's scheme on a scrambled Sobol sequence (:func:`SALib.sample.sobol.sample`):
    ``S1`` is the share of the outcome's variance due to the assumption alone, ``ST`` the
    share it has a part in, interactions included; 95% bootstrap intervals ``S1_conf`` and
    ``ST_conf``. Costs ``base_samples x (k + 3)`` runs (``x (2k + 4)`` with second-order
    indices).

Random numbers. A run's outcome is the assumptions' doing plus run-to-run noise (another
seed, another outcome). Morris uses *common random numbers within a trajectory*: every point
of a trajectory runs with the trajectory's seed, so the difference between two consecutive
points, which differ in one assumption, is that assumption's effect and not the noise
between two seeds; different trajectories use different seeds, so the average is over the
noise as well. Sobol gives every sample point its own seed (the estimators need independent
points), so its indices are shares of a variance that includes the noise: ``S1`` is unbiased
for the assumption's own share, but every ``ST`` carries the noise's share on top.

The dummy: both methods vary one more factor, ``"(dummy: noise floor)"``, that sets no field
and only changes the seed. In Morris its steps are the only ones across which the seed
changes (same assumptions, another seed), so its ``mu_star`` is the size of run-to-run noise
in the same units: an assumption whose ``mu_star`` is not above the dummy's cannot be told
from noise. In Sobol the dummy's ``ST`` is the share of the variance that is noise, the
floor every other ``ST`` sits on.

Prior or posterior. Over the prior, each assumption is uniform over its declared ``low`` -
``high`` (a whole-number field gets whole numbers). Over a posterior (what ``steppe
calibrate`` writes to ``calibration/posterior.parquet``: a column per assumption, named by
its first field, and a ``weight``), SALib's unit-cube coordinates go through each
assumption's weighted posterior marginal (the inverse of the weighted empirical CDF,
interpolated between the particles), the assumptions taken as independent: this measures
sensitivity within the ranges the data leave, with the posterior's correlations ignored (a
point may combine values the posterior would not). An assumption the posterior does not
name keeps its prior range. A posterior of several readings of the evidence is analysed one
reading at a time (its rows selected by the caller, ``--reading`` on the command line); the
assumptions a reading fixes are set to their value and not varied.

Every run goes through the sweep machinery (:func:`steppe.experiments.sweep.sweep`): local
processes or Dask, and resumable: the runs are stored in ``<out>/gsa-<method>-<over>/`` and
the table in ``<out>/gsa-<method>-<over>.parquet``; the sample is fixed by the seed, so
running the same analysis again reuses every finished run.

Examples
--------
>>> import pandas as pd
>>> post = pd.DataFrame({"model.p": [0.1, 0.2, 0.3], "weight": [0.25, 0.5, 0.25]})
>>> m = Marginal.from_posterior(post, "model.p")
>>> [round(float(v), 3) for v in m.quantile(np.array([0.0, 0.5, 1.0]))]
[0.1, 0.2, 0.3]
"""

from __future__ import annotations

import math
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import ParameterError, ScenarioError, SteppeError
from ..observe.writers import write_parquet_atomic
from ..priors import morris_quantiles
from ..priors import quantile as prior_quantile
from ..scenario.loaded import LoadedScenario
from ..scenario.loader import read_scenario
from .executors import Executor
from .grid import design_key, design_points, params_key
from .sensitivity import _outcomes, check_complete, focus_stance, whole_number
from .store import SweepStore
from .sweep import sweep

__all__ = ["DUMMY", "MORRIS_COLUMNS", "SOBOL_COLUMNS", "Factor", "Marginal", "factors",
           "gsa_name", "morris", "sobol", "verdicts"]

#: the factor that sets nothing and only changes the seed (the noise floor)
DUMMY = "(dummy: noise floor)"
#: the columns of the table :func:`morris` returns
MORRIS_COLUMNS = ["outcome", "assumption", "path", "mu_star", "mu_star_conf", "sigma", "mu"]
#: the columns of the table :func:`sobol` returns
SOBOL_COLUMNS = ["outcome", "assumption", "path", "S1", "S1_conf", "ST", "ST_conf"]
#: the level of every interval
CONF_LEVEL = 0.95
#: bootstrap resamples for the intervals, and the bootstrap's own seed (fixed, so that the
#: same runs give the same table)
RESAMPLES = 1000
BOOTSTRAP_SEED = 20220301
#: first spawn-key word of the runs' seeds ("GSA1"), then the method's word
_GSA_KEY = 0x47534131
_METHOD_KEY = {"morris": 1, "sobol": 2}

#: called as progress(done, total, label)
Progress = Callable[[int, int, str], None]
Method = Literal["morris", "sobol"]


def gsa_name(method: str, over: str) -> str:
    """The name of an analysis's sweep folder and (with ``.parquet``) of its table.

    Parameters
    ----------
    method
        ``"morris"`` or ``"sobol"``.
    over
        ``"prior"`` or ``"posterior"``.

    Returns
    -------
    str

    Examples
    --------
    >>> gsa_name("morris", "prior")
    'gsa-morris-prior'
    """
    return f"gsa-{method}-{over}"


# -- the factors ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Marginal:
    """A weighted sample of one parameter, as an inverse CDF: ``quantile(u)`` interpolates
    between the sorted particles placed at the midpoints of their cumulative weights, so
    ``u = 0`` gives the smallest particle and ``u = 1`` the largest (never beyond them).

    Attributes
    ----------
    values : numpy.ndarray
        The distinct particle values, sorted.
    cdf : numpy.ndarray
        The cumulative weight at each value's midpoint.
    """

    values: np.ndarray
    cdf: np.ndarray

    @classmethod
    def from_posterior(cls, posterior: pd.DataFrame, key: str) -> Marginal:
        """The marginal of column ``key`` weighted by column ``weight`` (rows with a
        missing value or no weight left out).

        Parameters
        ----------
        posterior
            A posterior table (``steppe calibrate``'s ``posterior.parquet``).
        key
            The parameter's column.

        Returns
        -------
        Marginal

        Raises
        ------
        SteppeError
            No row has both a value and a positive weight.
        """
        x = pd.to_numeric(posterior[key], errors="coerce").to_numpy(dtype=float)
        w = pd.to_numeric(posterior["weight"], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(x) & np.isfinite(w) & (w > 0)
        if not ok.any():
            raise SteppeError(f"posterior column {key!r}: no particle with a value and a "
                              "positive weight")
        values, inverse = np.unique(x[ok], return_inverse=True)
        weights = np.bincount(inverse, weights=w[ok])
        weights = weights / weights.sum()
        cdf = np.cumsum(weights) - weights / 2
        return cls(values=values, cdf=cdf)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The values at unit-cube coordinates ``u`` (clipped to the particles' range).

        Parameters
        ----------
        u
            Coordinates in [0, 1].

        Returns
        -------
        numpy.ndarray
            Shaped like ``u``.
        """
        if len(self.values) == 1:
            return np.full(np.shape(u), float(self.values[0]))
        return np.interp(np.asarray(u, dtype=float), self.cdf, self.values)


@dataclass(frozen=True)
class Factor:
    """One assumption of a global analysis: its name, the fields that carry it, its range,
    whether the field takes whole numbers, the posterior marginal if one is given, the
    value a posterior's reading fixes it at (then it is set, not varied), and its prior
    over the range (:mod:`steppe.priors`; ``None``: uniform)."""

    name: str
    paths: tuple[str, ...]
    low: float
    high: float
    integer: bool = False
    marginal: Marginal | None = None
    fixed: float | None = None
    prior: Any = None

    @property
    def key(self) -> str:
        """Its column in a posterior table: its first field."""
        return self.paths[0]

    def values(self, u: np.ndarray) -> list[Any]:
        """The field values at unit-cube coordinates ``u``: through the posterior marginal,
        else through the prior's quantile function over ``low`` - ``high`` (uniform unless
        the assumption declares a ``prior``); whole numbers for a whole-number field; 12
        significant digits (so that a sweep point's identity does not hang on the last bit
        of a float).

        Parameters
        ----------
        u
            Unit-cube coordinates in [0, 1].

        Returns
        -------
        list
            One field value per coordinate (int or float).
        """
        u = np.asarray(u, dtype=float)
        if self.fixed is not None:
            x = np.full(u.shape, float(self.fixed))
        elif self.marginal is not None:
            x = self.marginal.quantile(u)
        else:
            x = prior_quantile(self.prior, self.low, self.high, u)
        if self.integer:
            return [round(float(v)) for v in x]
        return [float(f"{float(v):.12g}") for v in x]


def factors(loaded: LoadedScenario, posterior: pd.DataFrame | None = None) -> list[Factor]:
    """The assumptions a global analysis varies: those with a field and a range
    (``low < high``), in the scenario's order, each with its posterior marginal when the
    posterior has its column.

    A posterior of ``steppe calibrate`` may hold several readings of the evidence (a
    ``reading`` column; see the scenario's ``[[readings]]``): the rows of one reading
    must be selected first (their weights are normalised within the reading). An
    assumption that reading fixes is then set to its value in every run and not varied
    (``fixed``); one it gives another range keeps that range where the posterior does
    not name it.

    Parameters
    ----------
    loaded
        The scenario.
    posterior
        Optional: the rows of one reading of a posterior table (``steppe calibrate``'s
        ``posterior.parquet``), to vary the assumptions over their posterior marginals
        instead of their priors.

    Returns
    -------
    list of Factor

    Raises
    ------
    ScenarioError
        No assumption has a field and a range.
    SteppeError
        The posterior has no ``weight`` column, names none of these assumptions, holds
        several readings, or a reading the scenario does not declare.

    Examples
    --------
    >>> sc = read_scenario({"name": "s", "seed": 1, "network": {"kind": "complete", "n": 9},
    ...     "model": {"name": "qvoter", "p": 0.01, "q": 2}, "stop": {"max_sweeps": 2},
    ...     "assumptions": [{"name": "noise", "path": "model.p", "low": 0, "high": 0.1},
    ...                     {"name": "q", "path": "model.q", "low": 1, "high": 4},
    ...                     {"name": "fixed", "path": "model.p", "low": 0.1, "high": 0.1}]})
    >>> [(f.name, f.integer) for f in factors(sc)]
    [('noise', False), ('q', True)]
    >>> factors(sc)[1].values(np.array([0.0, 0.5, 1.0]))
    [1, 2, 4]
    """
    out = []
    for a in loaded.spec.assumptions:
        if a.path is None or a.low is None or a.high is None or not a.high > a.low:
            continue
        out.append(Factor(a.name, tuple(a.paths), float(a.low), float(a.high),
                          whole_number(loaded, a), prior=a.prior))
    if not out:
        raise ScenarioError("no assumption to vary: a global sensitivity analysis needs "
                            "[[assumptions]] with a path and a range (low < high)",
                            file=loaded.source, field="assumptions")
    if posterior is None:
        return out
    fix: dict[str, float] = {}
    ranges: dict[str, list[float]] = {}
    if "reading" in posterior.columns:
        names = [str(r) for r in dict.fromkeys(posterior["reading"].dropna())]
        if len(names) > 1:
            raise SteppeError(
                f"the posterior holds {len(names)} readings ({', '.join(names)}): select "
                "the rows of one (steppe sensitivity --reading NAME, or "
                "posterior[posterior['reading'] == NAME])")
        declared = {r.name: r for r in getattr(loaded.spec, "readings", [])}
        if names and names[0] not in declared:
            raise SteppeError(f"the posterior's reading {names[0]!r} is not one of the "
                              f"scenario's ({', '.join(declared) or 'none declared'})")
        if names:
            fix = dict(declared[names[0]].fix)
            ranges = dict(declared[names[0]].ranges)
    if "weight" not in posterior.columns:
        raise SteppeError("the posterior table has no 'weight' column (expected what "
                          "`steppe calibrate` writes: one column per assumption and "
                          "'weight')")
    named = {f.key for f in out if f.key in posterior.columns and f.key not in fix
             and posterior[f.key].notna().any()}
    if not named:
        raise SteppeError("the posterior table names none of the scenario's assumptions "
                          f"(columns {[c for c in posterior.columns if c != 'weight']}; "
                          f"expected some of {[f.key for f in out]})")
    result = []
    for f in out:
        low, high = ranges.get(f.key, (f.low, f.high))
        result.append(Factor(f.name, f.paths, float(low), float(high), f.integer,
                             Marginal.from_posterior(posterior, f.key) if f.key in named
                             else None, fix.get(f.key), f.prior))
    return result


def _read_posterior(posterior: pd.DataFrame | str | Path) -> pd.DataFrame:
    if isinstance(posterior, pd.DataFrame):
        return posterior
    path = Path(posterior)
    if not path.is_file():
        raise SteppeError(f"posterior {path}: no such file (expected "
                          "OUT/calibration/posterior.parquet from `steppe calibrate`)")
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # any unreadable file is the user's to fix
        raise SteppeError(f"posterior {path}: not a readable Parquet table "
                          f"({type(exc).__name__}: {exc})") from None


def _problem(fs: Sequence[Factor]) -> dict[str, Any]:
    names = [f"x{i}" for i in range(len(fs))] + ["dummy"]
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def _run_seed(seed: int, method: str, *words: int) -> int:
    """A run's seed (63 bits) from the analysis's seed, the method and the words."""
    state = np.random.SeedSequence(
        seed, spawn_key=(_GSA_KEY, _METHOD_KEY[method], *words)).generate_state(2, np.uint32)
    return (int(state[0]) & 0x7FFFFFFF) << 32 | int(state[1])


def _designs(fs: Sequence[Factor], fixed: Sequence[Factor], unit: np.ndarray,
             seeds: Sequence[int]) -> list[dict[str, Any]]:
    """One design per row of the unit-cube sample: every field of every varied factor,
    the fixed ones at their value, and the row's seed (the dummy, the last column, sets no
    field)."""
    cols = [f.values(unit[:, j]) for j, f in enumerate(fs)]
    const = {path: f.values(np.zeros(1))[0] for f in fixed for path in f.paths}
    out = []
    for i, s in enumerate(seeds):
        d: dict[str, Any] = dict(const)
        for f, col in zip(fs, cols, strict=True):
            for path in f.paths:
                d[path] = col[i]
        d["seed"] = int(s)
        out.append(d)
    return out


# -- running ---------------------------------------------------------------------------------
def _salib(method: str) -> tuple[Any, Any]:
    """SALib's analyze and sample modules of a method.

    Raises
    ------
    SteppeError
        SALib is not installed.
    """
    import importlib

    try:
        return (importlib.import_module(f"SALib.analyze.{method}"),
                importlib.import_module(f"SALib.sample.{method}"))
    except ImportError:
        raise SteppeError("global sensitivity analysis needs SALib: pip install "
                          "'steppe[calibrate]' (or SALib)") from None


def _check_int(name: str, value: Any, least: int) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < least:
        raise ParameterError(f"{name} must be a whole number >= {least}", field=name,
                             allowed=f">= {least}", given=value)
    return int(value)


def _prepare(scenario: str | Path | LoadedScenario, overrides: Mapping[str, Any] | None,
             posterior: pd.DataFrame | str | Path | None, seed: int | None
             ) -> tuple[LoadedScenario, list[Factor], list[Factor], str, int]:
    loaded = read_scenario(scenario, overrides)
    post = _read_posterior(posterior) if posterior is not None else None
    fs = factors(loaded, post)
    varied = [f for f in fs if f.fixed is None]
    if not varied:
        raise SteppeError("the posterior's reading fixes every assumption: nothing to vary")
    s = loaded.spec.seed if seed is None else _check_int("seed", seed, 0)
    return (loaded, varied, [f for f in fs if f.fixed is not None],
            "posterior" if post is not None else "prior", s)


def _run(loaded: LoadedScenario, designs: list[dict[str, Any]], *, name: str,
         out: str | Path | None, workers: int | None, scheduler: str | None,
         cluster: str | Path | None, resume: bool, progress: Progress | None,
         executor: Executor | None) -> tuple[list[str], np.ndarray]:
    """Run one run per design as one sweep; return the outcome names and the matrix of
    outcomes (one row per design)."""
    focus = focus_stance(loaded)
    # the runs set every assumption themselves; the assumptions and readings are left out
    # of the sweep's scenario, so that editing their notes or ranges keeps the runs done
    update: dict[str, Any] = {"assumptions": []}
    if "readings" in type(loaded.spec).model_fields:
        update["readings"] = []
    base = LoadedScenario(spec=loaded.spec.model_copy(update=update), source=loaded.source,
                          base_dir=loaded.base_dir, sha256=loaded.sha256)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(out) / name if out is not None else Path(tmp) / name

        def tick(done: int, total: int, failed: int) -> None:
            if progress is not None:
                progress(done, total, f"{done} of {total} runs"
                         + (f", {failed} failed" if failed else ""))

        # every design gives its seed: the sweep's own is the scenario's, so that analyses
        # with other seeds (other samples) can share the folder
        res = sweep(base, designs=designs, runs=1, seeds="common",
                    workers=workers if not (scheduler or cluster) else None, out=folder,
                    scheduler=scheduler, cluster=cluster, resume=resume, progress=tick,
                    executor=executor)
        store = check_complete(res, folder)
        stored = {(params_key(p["params"]), int(p["seed"])): int(p["point"])
                  for p in res.manifest["points"]}
        points = {pt.key: stored[(params_key(pt.params), pt.seed)]
                  for pt in design_points(designs, loaded.spec.seed, "common")}
        rows = [points[design_key({k: v for k, v in d.items() if k != "seed"}, d["seed"])]
                for d in designs]
        wanted = sorted(set(rows))
        series = _read_runs(store, "series", wanted,
                            ["point", "run", "time", "by", "stance", "share",
                             "expressed_share"])
        series = series[(series["by"].astype(str) == "all")
                        & (series["stance"].astype(str) == focus)]
        polls = (_read_runs(store, "polls", wanted,
                            ["point", "run", "poll", "stance", "method", "estimate"])
                 if store.has("polls") else None)
    by_point_s = dict(tuple(series.groupby("point", sort=False)))
    by_point_p = dict(tuple(polls.groupby("point", sort=False))) if polls is not None else {}
    values: dict[int, dict[str, float]] = {}
    for p in wanted:
        got = _outcomes(by_point_s[p], by_point_p.get(p), focus)
        values[p] = {k: float(v[0]) if len(v) else math.nan for k, v in got.items()}
    names = list(dict.fromkeys(k for p in wanted for k in values[p]))
    y = np.array([[values[p].get(k, math.nan) for k in names] for p in rows], dtype=float)
    return names, y


def _read_runs(store: SweepStore, table: str, points: Sequence[int],
               columns: Sequence[str]) -> pd.DataFrame:
    """The run files of some points of one table (only the columns named), in point and
    run order."""
    import pyarrow.dataset as ds

    files: list[str] = []
    for p in points:
        files += sorted(str(f) for f in Path(store.glob(table, p)).parent.glob(
            "run-*.parquet"))
    dataset = ds.dataset(files, format="parquet")
    cols = [c for c in columns if c in dataset.schema.names]
    df = dataset.to_table(columns=cols).to_pandas()
    return df.sort_values(["point", "run"], kind="stable").reset_index(drop=True)


def _save(frame: pd.DataFrame, out: str | Path | None, name: str) -> None:
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        write_parquet_atomic(frame, Path(out) / f"{name}.parquet")


def _path(f: Factor | None) -> str | None:
    return None if f is None else f.paths[0]


def morris(scenario: str | Path | LoadedScenario, *, trajectories: int = 10, levels: int = 4,
           overrides: Mapping[str, Any] | None = None,
           posterior: pd.DataFrame | str | Path | None = None, out: str | Path | None = None,
           workers: int | None = 1, scheduler: str | None = None,
           cluster: str | Path | None = None, resume: bool = True, seed: int | None = None,
           progress: Progress | None = None,
           executor: Executor | None = None) -> pd.DataFrame:
    """Morris screening of every assumption with a range: which ones move which outcome,
    and by how much over their full range.

    Each of ``trajectories`` trajectories runs ``k + 2`` points (``k`` assumptions and the
    dummy), one run each, all with the trajectory's seed, except that the dummy's step
    changes the seed and nothing else. Common random numbers within a trajectory mean an
    elementary effect (the change of an outcome when one assumption takes one step)
    measures the assumption, not the difference between two seeds; the dummy's effects
    are exactly that difference, so its ``mu_star`` is the noise floor: an assumption at
    or below it cannot be told from run-to-run noise at this scale.

    Parameters
    ----------
    scenario
        A scenario file or a loaded scenario with ``[[assumptions]]`` that have a path and a
        range.
    trajectories
        Morris trajectories (at least 2; 10 to 20 is usual).
    levels
        Grid levels per assumption (at least 2; even, usually 4).
    overrides
        Dotted-path overrides applied to every run (e.g. ``{"population.scale": 0.001}``).
    posterior
        A posterior sample (a table or a Parquet file with a column per assumption, named
        by its first field, and ``weight``, as ``steppe calibrate`` writes to
        ``calibration/posterior.parquet``): the assumptions are then drawn from its weighted
        marginals, independently (correlations ignored); those it does not name keep their
        prior range. A table with several readings (a ``reading`` column) is refused:
        select the rows of one first; the assumptions that reading fixes are then set to
        their value, not varied (see :func:`factors`). None: over the prior (uniform over
        each range).
    out
        The results folder: the runs go to ``<out>/gsa-morris-prior/`` (or ``-posterior``;
        run again to resume) and the table to ``<out>/gsa-morris-prior.parquet``, each
        file atomically. None: a temporary folder, removed afterwards.
    workers, scheduler, cluster, executor
        Where the runs run: local worker processes (1: this process; 0 or None: one per
        core), a Dask scheduler address, a cluster description file, or an executor (not
        closed here).
    resume
        Keep the runs already in the sweep folder (default); False starts afresh.
    seed
        The seed of the sample and of the runs (default: the scenario's). The same seed
        gives the same sample, so the same runs, and the same table.
    progress
        Called as ``progress(done, total, label)`` as runs finish.

    Returns
    -------
    pandas.DataFrame
        Columns ``outcome, assumption, path, mu_star, mu_star_conf, sigma, mu``: one row
        per outcome and assumption, in the scenario's order, the dummy
        (``assumption == DUMMY``, no ``path``) last. ``mu_star`` and ``mu`` are in
        outcome units per full range of the assumption (its prior range, or from its
        posterior's smallest to its largest particle); ``mu_star_conf`` is the half-width
        of a bootstrap 95% interval.

    Raises
    ------
    ScenarioError
        No assumption with a path and a range, or a bad scenario.
    ParameterError
        ``trajectories``, ``levels`` or ``seed`` out of range.
    SteppeError
        A bad posterior table or file, a run failed (the finished runs are kept), or
        SALib is not installed.

    Examples
    --------
    >>> sc = {"name": "m", "seed": 2, "network": {"kind": "complete", "n": 100},
    ...       "model": {"name": "qvoter", "q": 2, "p": 0.05},
    ...       "initial": {"shares": {"A": 0.3, "B": 0.7}},
    ...       "committed": {"stance": "A", "fraction": 0.1},
    ...       "stop": {"max_sweeps": 5, "at_consensus": False},
    ...       "assumptions": [{"name": "committed", "path": "committed.fraction",
    ...                        "low": 0.0, "high": 0.3}]}
    >>> table = morris(sc, trajectories=3)
    >>> m = table[table["outcome"] == "final private share of A"].set_index("assumption")
    >>> bool(m.loc["committed", "mu_star"] > 5 * m.loc[DUMMY, "mu_star"])  # above the noise
    True
    >>> table.columns.tolist()
    ['outcome', 'assumption', 'path', 'mu_star', 'mu_star_conf', 'sigma', 'mu']
    """
    analyze, sample = _salib("morris")
    trajectories = _check_int("trajectories", trajectories, 2)
    levels = _check_int("levels", levels, 2)
    loaded, fs, fixed, over, s = _prepare(scenario, overrides, posterior, seed)
    problem = _problem(fs)
    size = len(fs) + 2
    unit = sample.sample(problem, trajectories, num_levels=levels, seed=s)
    dummy = np.rint(unit[:, -1] * (levels - 1)).astype(int)
    seeds = [_run_seed(s, "morris", i // size, int(dummy[i])) for i in range(len(unit))]
    name = gsa_name("morris", over)
    # a prior given as a distribution is sampled at its quantiles (j + 1/2) / levels
    at = np.column_stack([unit[:, j] if f.marginal is not None
                          else morris_quantiles(f.prior, unit[:, j], levels)
                          for j, f in enumerate(fs)] + [unit[:, -1]])
    outcomes, y = _run(loaded, _designs(fs, fixed, at, seeds), name=name, out=out,
                       workers=workers, scheduler=scheduler, cluster=cluster, resume=resume,
                       progress=progress, executor=executor)
    rows = []
    for j, outcome in enumerate(outcomes):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = analyze.analyze(problem, unit, y[:, j], num_resamples=RESAMPLES,
                                  conf_level=CONF_LEVEL, num_levels=levels,
                                  seed=BOOTSTRAP_SEED)
        for i, f in enumerate([*fs, None]):
            rows.append({"outcome": outcome, "assumption": DUMMY if f is None else f.name,
                         "path": _path(f), "mu_star": float(res["mu_star"][i]),
                         "mu_star_conf": float(res["mu_star_conf"][i]),
                         "sigma": float(res["sigma"][i]), "mu": float(res["mu"][i])})
    frame = pd.DataFrame(rows, columns=MORRIS_COLUMNS)
    _save(frame, out, name)
    return frame


def sobol(scenario: str | Path | LoadedScenario, *, base_samples: int = 64,
          overrides: Mapping[str, Any] | None = None,
          posterior: pd.DataFrame | str | Path | None = None, second_order: bool = False,
          out: str | Path | None = None, workers: int | None = 1,
          scheduler: str | None = None, cluster: str | Path | None = None,
          resume: bool = True, seed: int | None = None, progress: Progress | None = None,
          executor: Executor | None = None) -> pd.DataFrame:
    """Sobol indices of every assumption with a range: the share of each outcome's
    variance each assumption accounts for, alone (``S1``) and with its interactions
    (``ST``).

    Saltelli's sample of ``base_samples x (k + 3)`` points (``k`` assumptions and the dummy;
    ``x (2k + 4)`` with ``second_order``) on a scrambled Sobol sequence, one run each, each
    with its own seed: the estimators need independent points, so the variance they
    decompose includes run-to-run noise. ``S1`` stays an estimate of the assumption's own
    share (of a variance that includes the noise); every ``ST`` carries the noise's share
    on top of the assumption's, and the dummy's ``ST`` (it sets no field; its points differ
    from others only in their seed) is that share: an assumption matters when its ``ST`` is
    clearly above the dummy's.

    Parameters
    ----------
    scenario
        A scenario file or a loaded scenario with ``[[assumptions]]`` that have a path and a
        range.
    base_samples
        ``N`` of Saltelli's scheme (at least 2; a power of two keeps the Sobol sequence
        balanced; the intervals narrow as ``1 / sqrt(N)``).
    second_order
        Also estimate the second-order indices (``S2``, ``S2_conf``: in ``frame.attrs``
        and ``<out>/gsa-sobol-<over>-s2.parquet``); doubles the runs.
    overrides, posterior, out, workers, scheduler, cluster, executor, resume, seed, progress
        As for :func:`morris` (the folder is ``gsa-sobol-prior`` or ``gsa-sobol-posterior``).

    Returns
    -------
    pandas.DataFrame
        Columns ``outcome, assumption, path, S1, S1_conf, ST, ST_conf``: one row per outcome
        and assumption, in the scenario's order, the dummy last; ``*_conf`` are half-widths
        of bootstrap 95% intervals. An outcome that does not vary at all has NaN indices.
        With ``second_order``, ``frame.attrs["S2"]`` holds the table ``outcome, assumption,
        other, S2, S2_conf``.

    Raises
    ------
    ScenarioError
        No assumption with a path and a range, or a bad scenario.
    ParameterError
        ``base_samples`` or ``seed`` out of range.
    SteppeError
        A bad posterior table or file, a run failed (the finished runs are kept), or
        SALib is not installed.

    Examples
    --------
    >>> sc = {"name": "s", "seed": 2, "network": {"kind": "complete", "n": 100},
    ...       "model": {"name": "qvoter", "q": 2, "p": 0.05},
    ...       "initial": {"shares": {"A": 0.3, "B": 0.7}},
    ...       "committed": {"stance": "A", "fraction": 0.1},
    ...       "stop": {"max_sweeps": 5, "at_consensus": False},
    ...       "assumptions": [{"name": "committed", "path": "committed.fraction",
    ...                        "low": 0.0, "high": 0.3}]}
    >>> table = sobol(sc, base_samples=8)
    >>> st = table[table["outcome"] == "final private share of A"].set_index("assumption")
    >>> bool(st.loc["committed", "ST"] > st.loc[DUMMY, "ST"])  # above the noise's share
    True
    >>> table.columns.tolist()
    ['outcome', 'assumption', 'path', 'S1', 'S1_conf', 'ST', 'ST_conf']
    """
    analyze, sample = _salib("sobol")
    base_samples = _check_int("base_samples", base_samples, 2)
    loaded, fs, fixed, over, s = _prepare(scenario, overrides, posterior, seed)
    problem = _problem(fs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # N not a power of two: documented
        unit = sample.sample(problem, base_samples, calc_second_order=second_order,
                             scramble=True, seed=s)
    seeds = [_run_seed(s, "sobol", i) for i in range(len(unit))]
    name = gsa_name("sobol", over)
    outcomes, y = _run(loaded, _designs(fs, fixed, unit, seeds), name=name, out=out,
                       workers=workers, scheduler=scheduler, cluster=cluster, resume=resume,
                       progress=progress, executor=executor)
    rows, pairs = [], []
    names = [*(f.name for f in fs), DUMMY]
    for j, outcome in enumerate(outcomes):
        yj = y[:, j]
        if np.all(np.isfinite(yj)) and np.ptp(yj) > 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = analyze.analyze(problem, yj, calc_second_order=second_order,
                                      num_resamples=RESAMPLES, conf_level=CONF_LEVEL,
                                      seed=BOOTSTRAP_SEED)
        else:  # no variance to decompose
            nan = np.full(len(names), math.nan)
            res = {"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan,
                   "S2": np.full((len(names),) * 2, math.nan),
                   "S2_conf": np.full((len(names),) * 2, math.nan)}
        for i, f in enumerate([*fs, None]):
            rows.append({"outcome": outcome, "assumption": names[i], "path": _path(f),
                         "S1": float(res["S1"][i]), "S1_conf": float(res["S1_conf"][i]),
                         "ST": float(res["ST"][i]), "ST_conf": float(res["ST_conf"][i])})
        if second_order:
            for a in range(len(names)):
                for b in range(a + 1, len(names)):
                    pairs.append({"outcome": outcome, "assumption": names[a],
                                  "other": names[b], "S2": float(res["S2"][a, b]),
                                  "S2_conf": float(res["S2_conf"][a, b])})
    frame = pd.DataFrame(rows, columns=SOBOL_COLUMNS)
    _save(frame, out, name)
    if second_order:
        s2 = pd.DataFrame(pairs, columns=["outcome", "assumption", "other", "S2", "S2_conf"])
        _save(s2, out, f"{name}-s2")
        frame.attrs["S2"] = s2
    return frame


# -- reading the tables ---------------------------------------------------------------------
def verdicts(frame: pd.DataFrame, *, min_effect: float = 0.005,
             min_index: float = 0.01) -> pd.DataFrame:
    """Which outcome depends on which assumption, by the table of :func:`morris` or
    :func:`sobol`: a column ``verdict`` added, ``"depends"``, ``"maybe"`` or ``"noise"``.

    Morris: *depends* when ``mu_star - mu_star_conf`` (the low end of its interval) is above
    both the dummy's ``mu_star`` (the noise floor) and ``min_effect`` (0.005: half a
    percentage point over the full range); *maybe* when ``mu_star`` itself is above both;
    *noise* otherwise. Sobol: the same with ``ST``, ``ST_conf``, the dummy's ``ST`` (the
    noise's share of the variance) and ``min_index`` (0.01). The dummy's own row is
    ``"floor"``.

    Parameters
    ----------
    frame
        The table :func:`morris` or :func:`sobol` returns.
    min_effect
        Morris: the least ``mu_star`` (a share over the full range) that counts.
    min_index
        Sobol: the least total index ``ST`` that counts.

    Returns
    -------
    pandas.DataFrame
        ``frame`` with a ``verdict`` column.

    Examples
    --------
    >>> t = pd.DataFrame({"outcome": ["o"] * 3, "assumption": ["a", "b", DUMMY],
    ...                   "path": ["x", "y", None], "mu_star": [0.2, 0.011, 0.01],
    ...                   "mu_star_conf": [0.05, 0.01, 0.002], "sigma": [0.1, 0.0, 0.0],
    ...                   "mu": [0.2, 0.0, 0.0]})
    >>> verdicts(t)["verdict"].tolist()
    ['depends', 'maybe', 'floor']
    """
    morris_table = "mu_star" in frame.columns
    est, conf, least = (("mu_star", "mu_star_conf", min_effect) if morris_table
                        else ("ST", "ST_conf", min_index))
    out = frame.copy()
    floor = (frame[frame["assumption"] == DUMMY].set_index("outcome")[est]
             .reindex(frame["outcome"]).fillna(0.0).to_numpy(dtype=float))
    x = frame[est].to_numpy(dtype=float)
    lo = x - frame[conf].to_numpy(dtype=float)
    verdict = np.where((lo > floor) & (lo > least), "depends",
                       np.where((x > floor) & (x > least), "maybe", "noise")).astype(object)
    verdict[~np.isfinite(x)] = "noise"
    verdict[(frame["assumption"] == DUMMY).to_numpy()] = "floor"
    out["verdict"] = verdict
    return out
