"""Calibration: a posterior over a scenario's assumptions from every published figure.

The assumptions of a scenario (its ``[[assumptions]]`` table: each a field, or several that
carry the same number, with a plausible range) are given **uniform priors** over their
ranges. The **targets** are the published figures of the scenario's ``[report] targets``
file (:mod:`steppe.observe.targets`): every wave, answer and subgroup row, each compared
with the simulated poll of the same design (its frame, sample, non-response, weighting and
question), so that a figure is matched by what a poll made as the real one would have
reported, sampling error and design biases included.

**Inference** is approximate Bayesian computation by sequential Monte Carlo (ABC-SMC; Toni
et al. 2009, Del Moral et al. 2012) with `pyabc <https://pyabc.readthedocs.io>`_ (Schälte
et al. 2022): each generation draws parameters from the previous one's weighted particles,
perturbed, runs the scenario once per draw, and keeps the draws whose simulated figures lie
within the generation's tolerance of the published ones; the tolerance shrinks to the median
distance of the accepted draws. pyabc keeps every generation in a SQLite database
(``OUT/calibration/calibration.db``): an interrupted calibration resumes from its last
complete generation.

**The distance** between published figures ``y_i`` and a simulation's ``x_i`` is

    ``d(x, y) = sqrt( sum_i ((x_i - y_i) / s_i)^2 )``,
    ``s_i^2 = y_i (1 - y_i) / n_i  +  delta^2``

where ``n_i`` is the effective sample size of the figure's poll row (Kish's, so the design
effect of the poll's weighting is included; from a pilot run of the scenario as written)
and ``delta`` a declared **model discrepancy** (``discrepancy``, default 0.02: two points of
share that no setting of the model is expected to get right, e.g. what the model leaves
out). Why this distance: with a Gaussian approximation to each figure's multinomial margin,
``d^2`` is the figures' chi-square statistic, so a tolerance ``eps`` keeps simulations whose
figures are jointly within about ``eps / sqrt(k)`` standard errors of the published ones
(``k`` figures); scaling each figure by its own standard error keeps a well-measured national
share from being swamped by many noisy subgroup rows, and the discrepancy keeps a very
precise figure from demanding an exactness the model cannot have. Because each simulation
already holds the simulated poll's sampling error, ABC with this distance approximates the
posterior under that error; the discrepancy is an assumption the report states.

Reproducibility: the draws come from pyabc's generator, seeded by the scenario's seed; each
simulation's run index (its random streams) is a hash of its parameter values, so the same
parameters give the same simulation on any worker. With several workers the order in which
pyabc collects results can differ, and so can the posterior sample (not its distribution).

References
----------
Toni, T., Welch, D., Strelkowa, N., Ipsen, A., & Stumpf, M. P. H. (2009). Approximate
Bayesian computation scheme for parameter inference and model selection in dynamical
systems. J. R. Soc. Interface 6, 187-202. Del Moral, P., Doucet, A., & Jasra, A. (2012). An
adaptive sequential Monte Carlo method for approximate Bayesian computation. Stat. Comput.
22, 1009-1020. Schälte, Y., Klinger, E., Alamoudi, E., & Hasenauer, J. (2022). pyABC:
efficient and robust easy-to-use approximate Bayesian computation. JOSS 7(74), 4304.

Examples
--------
>>> sc = {"name": "c", "seed": 3, "runs": 1, "network": {"kind": "complete", "n": 2000},
...       "model": {"name": "voter"}, "stop": {"max_sweeps": 1, "at_consensus": False},
...       "initial": {"shares": {"A": 0.5, "B": 0.5}},
...       "polls": [{"at": 0, "n": 400, "name": "p"}],
...       "assumptions": [{"name": "share of A", "path": "initial.shares.A",
...                        "low": 0.1, "high": 0.9, "also": []}]}
>>> [(p.name, p.low, p.high) for p in priors(load_scenario(sc))]
[('share of A', 0.1, 0.9)]
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import logging
import math
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..assembly import execute, load_scenario
from ..errors import ParameterError, SteppeError
from ..observe.targets import read_targets, target_rows
from ..scenario.loaded import LoadedScenario
from ..scenario.loader import with_overrides
from .executors import die_with_parent, threads_per_worker, use_threads

__all__ = ["Calibration", "Predictive", "Prior", "calibrate", "posterior_predictive", "priors",
           "target_scales"]

#: the model discrepancy (a share) added to each figure's sampling standard error
DISCREPANCY = 0.02
#: a simulated figure that is missing (no respondent in a subgroup) counts this far away
MISSING = 1e3


@dataclass(frozen=True)
class Prior:
    """A uniform prior over one assumption's range, set in every field that carries it."""

    name: str
    paths: tuple[str, ...]
    low: float
    high: float

    @property
    def key(self) -> str:
        """The parameter's name in the posterior table (its first field)."""
        return self.paths[0]


def priors(loaded: LoadedScenario) -> list[Prior]:
    """The scenario's assumptions that name a field, as uniform priors over their ranges
    (an assumption with ``low == high`` is fixed, not a parameter)."""
    out = []
    for a in loaded.spec.assumptions:
        if a.path is None or a.low is None or a.high is None or a.high <= a.low:
            continue
        out.append(Prior(a.name, tuple(a.paths), float(a.low), float(a.high)))
    return out


def _overrides(ps: Sequence[Prior], values: Sequence[float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p, v in zip(ps, values, strict=True):
        for path in p.paths:
            out[path] = float(v)
    return out


def _run_index(values: Sequence[float]) -> int:
    """The run (random streams) of a simulation: a hash of its parameter values."""
    digest = hashlib.blake2b(np.asarray(values, dtype=np.float64).tobytes(), digest_size=4)
    return int.from_bytes(digest.digest(), "little") & 0x7FFFFFFF


def target_scales(loaded: LoadedScenario, targets: pd.DataFrame, *, runs: int = 3,
                  discrepancy: float = DISCREPANCY) -> np.ndarray:
    """Each figure's scale ``s_i = sqrt(y_i (1 - y_i) / n_i + discrepancy^2)``, ``n_i``
    the median effective sample size of its poll row over ``runs`` pilot runs of the
    scenario as written.

    Raises
    ------
    SteppeError
        A figure with no simulated counterpart (no such poll, question, subgroup or answer).
    """
    n_eff = []
    for r in range(runs):
        out = execute(loaded, r, keep_state=False)
        if out.polls is None:
            raise SteppeError(f"{loaded.source}: the scenario declares no polls, so no "
                              "published figure can be compared")
        rows = target_rows(targets, out.polls)
        n_eff.append(rows["n_eff"].to_numpy())
    stacked = np.vstack(n_eff)
    seen = np.isfinite(stacked).any(axis=0)
    n = np.full(stacked.shape[1], np.nan)
    n[seen] = np.nanmedian(stacked[:, seen], axis=0)
    bad = np.flatnonzero(~seen)
    if bad.size:
        t = targets.iloc[int(bad[0])]
        raise SteppeError(f"{loaded.source}: target {t['poll']} / {t['question']} / "
                          f"{t['by']} {t['level']} / {t['answer']} has no simulated "
                          "counterpart (`steppe report` says why)")
    y = targets["value"].to_numpy(dtype=float)
    return np.sqrt(np.clip(y * (1 - y), 1e-4, None) / n + discrepancy ** 2)


@dataclass
class _Simulator:
    """One simulation of the scenario at given parameters: the figures, scaled (picklable,
    for pyabc's workers)."""

    scenario: LoadedScenario
    targets: pd.DataFrame
    priors: list[Prior]
    scales: np.ndarray

    def __call__(self, params: Mapping[str, float]) -> dict[str, float]:
        values = [float(params[f"p{i}"]) for i in range(len(self.priors))]
        sc = with_overrides(self.scenario, _overrides(self.priors, values),
                            check_assumptions=False)
        out = execute(sc, _run_index(values), keep_state=False)
        x = target_rows(self.targets, out.polls).estimate.to_numpy() \
            if out.polls is not None else np.full(len(self.targets), np.nan)
        z = np.where(np.isfinite(x), x / self.scales, MISSING)
        return {f"t{i}": float(v) for i, v in enumerate(z)}


@dataclass
class Calibration:
    """What :func:`calibrate` found.

    Attributes
    ----------
    posterior : pandas.DataFrame
        The last generation's particles: one column per assumption (named by its first
        field) and ``weight`` (normalised).
    generations : pandas.DataFrame
        Per generation ``t``: ``epsilon`` (the tolerance), ``samples`` (simulations run),
        ``accepted``, ``acceptance`` and ``ess`` (effective sample size of the weights).
    priors : list of Prior
    targets : pandas.DataFrame
        The published figures with their scales ``s``.
    settings : dict
    """

    posterior: pd.DataFrame
    generations: pd.DataFrame
    priors: list[Prior]
    targets: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def interval(self, key: str, level: float = 0.9) -> tuple[float, float, float]:
        """Weighted median and central ``level`` credible interval of one parameter."""
        x = self.posterior[key].to_numpy()
        w = self.posterior["weight"].to_numpy()
        order = np.argsort(x)
        cw = np.cumsum(w[order]) / w.sum()
        q = [(1 - level) / 2, 0.5, (1 + level) / 2]
        lo, med, hi = (float(x[order][min(np.searchsorted(cw, p), len(x) - 1)]) for p in q)
        return med, lo, hi


def import_pyabc() -> Any:
    """Import pyabc without its side effect on this process: on import it sets
    ``OMP_NUM_THREADS=1`` when unset, which every child process started later (and any
    OpenMP runtime started later in this one) would inherit, holding it to one thread. Its
    log lines are kept to warnings.

    Raises
    ------
    SteppeError
        pyabc is not installed.
    """
    unset = "OMP_NUM_THREADS" not in os.environ
    try:
        import pyabc
    except ImportError:
        raise SteppeError("steppe calibrate needs pyabc: pip install 'steppe[calibrate]'"
                          ) from None
    finally:
        if unset:
            os.environ.pop("OMP_NUM_THREADS", None)
    logging.getLogger("ABC").setLevel(logging.WARNING)
    return pyabc


def _worker_init(parent: int, threads: int) -> None:
    """In each local worker: end with the parent, and take a share of the cores for Numba
    (oversubscribed, every kernel slows down several times)."""
    die_with_parent(parent)
    use_threads(threads)


def _sampler(workers: int | None, scheduler: str | None) -> tuple[Any, Callable[[], None]]:
    """pyabc's sampler for the options, and how to release it."""
    import_pyabc()
    from pyabc.sampler import ConcurrentFutureSampler, SingleCoreSampler

    if scheduler is not None:
        from distributed import Client
        from pyabc.sampler import DaskDistributedSampler

        client = Client(scheduler)
        return DaskDistributedSampler(dask_client=client), client.close
    n = workers if workers not in (None, 0) else mp.cpu_count()
    if n <= 1:
        return SingleCoreSampler(), lambda: None
    pool = cf.ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"),
                                  initializer=_worker_init,
                                  initargs=(os.getpid(), threads_per_worker(n)))
    return ConcurrentFutureSampler(cfuture_executor=pool, client_max_jobs=n), \
        lambda: pool.shutdown(cancel_futures=True)


def calibrate(src: str | Path | Mapping[str, Any] | LoadedScenario, *,
              overrides: Mapping[str, Any] | None = None, out: str | Path,
              population: int = 200, generations: int = 8, min_epsilon: float = 0.0,
              discrepancy: float = DISCREPANCY, pilot_runs: int = 3,
              workers: int | None = 1, scheduler: str | None = None,
              resume: bool = True, max_seconds: float | None = None,
              progress: Callable[[int, float, int], None] | None = None) -> Calibration:
    """Fit the scenario's assumptions to its published figures by ABC-SMC (module
    docstring).

    Parameters
    ----------
    src
        The scenario (it needs ``[[assumptions]]`` with ranges and ``[report] targets``).
    overrides
        Field overrides for the calibration (e.g. ``{"population.scale": 0.0005}``).
    out
        The results folder; pyabc's database goes to ``OUT/calibration/calibration.db``.
    population
        Particles per generation.
    generations
        Generations at most (counting those already done when resuming).
    min_epsilon
        Stop once the tolerance is at or below this.
    discrepancy
        The model discrepancy ``delta`` (a share) in every figure's scale.
    pilot_runs
        Runs of the scenario as written that give each figure's effective sample size.
    workers
        Local processes (1: this process; 0 or None: one per core).
    scheduler
        A Dask scheduler address (instead of local processes).
    resume
        Continue the calibration in ``OUT/calibration`` if there is one (else start anew).
    max_seconds
        Start no new generation after this much wall time (every complete generation is
        kept; run again to continue).
    progress
        Called as ``progress(generation, epsilon, simulations)`` after each generation.

    Returns
    -------
    Calibration

    Raises
    ------
    SteppeError
        No assumptions with ranges, no targets, a target the scenario cannot simulate, or
        an option out of range.
    """
    pyabc = import_pyabc()

    for name, value, lo in (("population", population, 10), ("generations", generations, 1),
                            ("pilot_runs", pilot_runs, 1)):
        if not isinstance(value, int) or value < lo:
            raise ParameterError("too small", field=f"--{name.replace('_', '-')}",
                                 allowed=f">= {lo}", given=value)
    if not (math.isfinite(discrepancy) and 0 <= discrepancy < 1):
        raise ParameterError("a share", field="--discrepancy", allowed="0 <= value < 1",
                             given=discrepancy)
    loaded = load_scenario(src, overrides)
    ps = priors(loaded)
    if not ps:
        raise loaded.fail("nothing to calibrate: no assumption names a field with a range",
                          "assumptions", allowed="[[assumptions]] with path, low and high")
    if loaded.spec.report is None or loaded.spec.report.targets is None:
        raise loaded.fail("no published figures to fit", "report.targets",
                          allowed="a CSV of published figures (steppe.observe.targets)")
    targets = read_targets(loaded.path(loaded.spec.report.targets))
    folder = Path(out) / "calibration"
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "calibration.db"
    scales = target_scales(loaded, targets, runs=pilot_runs, discrepancy=discrepancy)
    sim = _Simulator(loaded, targets, ps, scales)
    y = targets["value"].to_numpy(dtype=float) / scales
    observed = {f"t{i}": float(v) for i, v in enumerate(y)}
    prior = pyabc.Distribution(**{f"p{i}": pyabc.RV("uniform", p.low, p.high - p.low)
                                  for i, p in enumerate(ps)})
    # pyabc draws from NumPy's global generator
    np.random.seed(loaded.spec.seed % 2**32)  # noqa: NPY002
    sampler, release = _sampler(workers, scheduler)
    t0 = time.perf_counter()
    url = f"sqlite:///{db.resolve()}"
    stopped = ""
    try:
        if not resume and db.exists():
            db.unlink()
        history = pyabc.History(url) if db.exists() and db.stat().st_size > 0 else None
        if history is not None and history.n_populations == 0:
            db.unlink()
            history = None
        if history is not None:
            before = history.observed_sum_stat()
            same = set(before) == set(observed) and all(
                math.isclose(float(before[k]), observed[k], rel_tol=1e-9) for k in observed)
            if not same:
                raise SteppeError(f"{folder}: the calibration there fitted other figures "
                                  "(or the same figures with other scales: another "
                                  "scenario, scale or discrepancy); --no-resume starts anew")
        # one generation at a time (a fresh ABCSMC loading the database each time, which
        # is how pyabc adapts the tolerance and the proposal between generations): progress
        # after each, and the limits checked between them
        while history is None or history.n_populations < generations:
            if history is not None:
                eps = float(history.get_all_populations()["epsilon"].iloc[-1])
                if eps <= min_epsilon or (max_seconds is not None
                                          and time.perf_counter() - t0 > max_seconds):
                    break
            abc = pyabc.ABCSMC(sim, prior, pyabc.PNormDistance(p=2),
                               population_size=population, sampler=sampler)
            if history is None:
                abc.new(url, observed)
            else:
                abc.load(url, history.id)
            try:
                history = abc.run(minimum_epsilon=min_epsilon, max_nr_populations=1)
            except (AssertionError, FloatingPointError, ValueError) as exc:
                # pyabc refuses a generation whose importance weights degenerate (a
                # proposal density that underflows in many dimensions): keep what is done
                history = pyabc.History(url)
                if history.n_populations == 0:
                    raise SteppeError(f"the first generation failed in pyabc: {exc}") from None
                stopped = (f"generation {history.n_populations} failed in pyabc ({exc}); "
                           f"the posterior is generation {history.max_t}'s (a larger "
                           "--population makes the weights steadier)")
                break
            if progress is not None:
                pops = history.get_all_populations()
                progress(int(pops["t"].iloc[-1]), float(pops["epsilon"].iloc[-1]),
                         int(pops["samples"].iloc[-1]))
    finally:
        release()
    return _result(history, ps, targets, scales, {
        "source": loaded.source, "overrides": dict(overrides or {}),
        "population": population, "generations": generations, "discrepancy": discrepancy,
        "pilot_runs": pilot_runs, "database": str(db), "seconds": time.perf_counter() - t0,
        "stopped": stopped})


def _result(history: Any, ps: list[Prior], targets: pd.DataFrame, scales: np.ndarray,
            settings: dict[str, Any]) -> Calibration:
    frame, w = history.get_distribution(m=0, t=history.max_t)
    post = pd.DataFrame({p.key: frame[f"p{i}"].to_numpy() for i, p in enumerate(ps)})
    post["weight"] = w / w.sum()
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    ess = []
    for t in pops["t"]:
        _, wt = history.get_distribution(m=0, t=int(t))
        ess.append(float(wt.sum() ** 2 / (wt ** 2).sum()))
    gens = pd.DataFrame({"t": pops["t"].astype(int), "epsilon": pops["epsilon"],
                         "samples": pops["samples"].astype(int),
                         "accepted": int(settings["population"]),
                         "acceptance": settings["population"] / pops["samples"],
                         "ess": ess})
    tg = targets.copy()
    tg["s"] = scales
    return Calibration(posterior=post, generations=gens, priors=ps, targets=tg,
                       settings=settings)


@dataclass
class Predictive:
    """The posterior predictive: the scenario run at draws from the posterior.

    Attributes
    ----------
    figures : pandas.DataFrame
        Every published figure beside its posterior predictive distribution (the simulated
        poll of the same design at each draw): ``median``, ``low``, ``high`` (the central
        ``level`` interval), ``inside``.
    outcomes : pandas.DataFrame
        The report stance's ``private``, ``voiced`` and ``hidden`` share at each poll date
        and at the end, for everyone (``by = "all"``) and by group and age band:
        ``median``, ``low``, ``high`` over the draws (each draw one run: the interval holds
        the posterior uncertainty and the run-to-run noise together).
    draws : pandas.DataFrame
        The parameter values of every draw and its run index.
    """

    figures: pd.DataFrame
    outcomes: pd.DataFrame
    draws: pd.DataFrame


def _predict_one(task: tuple[LoadedScenario, dict[str, Any], int, pd.DataFrame, str,
                            list[float], int | None]) -> dict[str, Any]:
    """One posterior draw: the figures, and the focus stance's shares at the poll dates."""
    from ..assembly import make_model
    from ..observe.tables import tables

    loaded, over, run, targets, stance, at, threads = task
    use_threads(threads)
    sc = with_overrides(loaded, over, check_assumptions=False)
    out = execute(sc, run, keep_state=False)
    figures = target_rows(targets, out.polls).estimate.to_numpy() \
        if out.polls is not None else np.full(len(targets), np.nan)
    series = tables([out], make_model(sc).stances, seed=sc.spec.seed,
                    dates=sc.dates)["series"]
    s = series[(series["stance"].astype(str) == stance)
               & series["by"].astype(str).isin(["all", "group", "age"])]
    times = np.sort(s["time"].unique())
    rows = []
    for when in [*at, float(times[-1])]:
        t = times[min(np.searchsorted(times, when - 1e-9), len(times) - 1)]
        for r in s[s["time"] == t].itertuples(index=False):
            rows.append({"time": float(t), "date": getattr(r, "date", None),
                         "by": str(r.by), "level": str(r.level),
                         "private": float(r.share), "voiced": float(r.expressed_share)})
    return {"run": run, "figures": figures, "outcomes": rows}


def posterior_predictive(cal: Calibration, src: str | Path | Mapping[str, Any]
                         | LoadedScenario, *, overrides: Mapping[str, Any] | None = None,
                         draws: int = 100, level: float = 0.9, seed: int = 0,
                         workers: int | None = 1) -> Predictive:
    """Run the scenario at ``draws`` parameter sets resampled from the posterior (by weight),
    one run each, and summarise the published figures and the focus stance's shares
    (:class:`Predictive`).

    Parameters
    ----------
    cal
        A calibration of this scenario.
    src, overrides
        The scenario, as calibrated (the same overrides, e.g. the scale).
    draws
        Posterior draws (each a run).
    level
        The central interval reported.
    seed
        Seed of the resampling.
    workers
        Local processes (1: this process; 0 or None: one per core).
    """
    from ..assembly import assemble
    from .executors import make_executor

    if not isinstance(draws, int) or draws < 2:
        raise ParameterError("at least 2 draws", field="draws", allowed=">= 2", given=draws)
    loaded = load_scenario(src, overrides)
    dry = assemble(loaded, dry=True)
    report = loaded.spec.report
    stance = (report.stance if report is not None and report.stance is not None
              else dry.model.stances[0])
    at = sorted({float(a) for a, _ in dry.polls})
    post = cal.posterior
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(post), size=draws, p=post["weight"].to_numpy())
    keys = [p.key for p in cal.priors]
    vals = post[keys].to_numpy()[pick]
    runs = [_run_index([*v, k]) for k, v in enumerate(vals)]
    targets = cal.targets.drop(columns=["s"], errors="ignore")
    executor = make_executor(workers=workers, tasks=draws)
    tasks = [(loaded, _overrides(cal.priors, v), r, targets, stance, at, executor.threads)
             for v, r in zip(vals, runs, strict=True)]
    results: list[dict[str, Any]] = []
    try:
        for _, res in executor.map(_predict_one, tasks):
            if isinstance(res, BaseException):
                raise res
            results.append(res)
    finally:
        executor.close()
    q = ((1 - level) / 2, 0.5, (1 + level) / 2)
    x = np.vstack([r["figures"] for r in results])
    lo, med, hi = np.nanquantile(x, q, axis=0)
    figs = targets.copy()
    figs["median"], figs["low"], figs["high"] = med, lo, hi
    figs["inside"] = (lo <= figs["value"]) & (figs["value"] <= hi)
    long = pd.DataFrame([row for r in results for row in r["outcomes"]])
    long["hidden"] = long["private"] - long["voiced"]
    melted = long.melt(id_vars=["time", "date", "by", "level"],
                       value_vars=["private", "voiced", "hidden"], var_name="measure")
    outcomes = (melted.groupby(["time", "by", "level", "measure"], sort=False)["value"]
                .quantile(list(q)).unstack().reset_index())
    outcomes.columns = ["time", "by", "level", "measure", "low", "median", "high"]
    dates = long.drop_duplicates("time").set_index("time")["date"]
    outcomes.insert(1, "date", outcomes["time"].map(dates))
    outcomes.insert(0, "stance", stance)
    drawn = pd.DataFrame(vals, columns=keys)
    drawn["run"] = runs
    return Predictive(figures=figs, outcomes=outcomes, draws=drawn)
