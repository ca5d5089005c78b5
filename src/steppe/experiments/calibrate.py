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
distance of the accepted draws. Only the few assumptions that move the figures most (a
Morris screening, :func:`screen`) are perturbed; the others are drawn from their prior
(:func:`kernel_bandwidth` says why). The scenario's **readings** (:func:`readings`) are
fitted together and weighed by their posterior probabilities (pyabc's model choice).
pyabc keeps every generation in a SQLite database (``OUT/calibration/calibration.db``): an
interrupted calibration resumes from its last complete generation.

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
from ..priors import describe as _prior_text
from ..priors import morris_quantiles
from ..priors import quantile as _prior_quantile
from ..scenario.loaded import LoadedScenario
from ..scenario.loader import with_overrides
from .executors import die_with_parent, threads_per_worker, use_threads
from .sensitivity import whole_number

__all__ = [
    "Calibration",
    "Predictive",
    "Prior",
    "Reading",
    "calibrate",
    "held_out",
    "in_order",
    "kernel_bandwidth",
    "posterior_draws",
    "posterior_predictive",
    "priors",
    "readings",
    "screen",
    "target_scales",
    "variant_effects",
    "weighted_quantile",
]

#: the model discrepancy (a share) added to each figure's sampling standard error
DISCREPANCY = 0.02
#: a simulated figure that is missing (no respondent in a subgroup) counts this far away
MISSING = 1e3


@dataclass(frozen=True)
class Prior:
    """One assumption's prior over its range (uniform unless the scenario's ``prior``
    table gives a distribution; see :mod:`steppe.priors`), set in every field that carries
    it."""

    name: str
    paths: tuple[str, ...]
    low: float
    high: float
    dist: Any = None
    #: the field takes whole numbers: values are rounded to them
    integer: bool = False

    @property
    def key(self) -> str:
        """The parameter's name in the posterior table (its first field)."""
        return self.paths[0]

    def setting(self, value: float) -> int | float:
        """The value as its field takes it (a whole number for a whole-number field).

        Parameters
        ----------
        value
            A value of the assumption.

        Returns
        -------
        int or float
        """
        return round(float(value)) if self.integer else float(value)

    def at(self, q: float | np.ndarray) -> float | np.ndarray:
        """The assumption's value at prior quantile ``q`` in [0, 1] (a uniform ``q`` is a
        draw from the prior).

        Parameters
        ----------
        q
            Prior quantiles, in [0, 1].

        Returns
        -------
        float or numpy.ndarray
            The values (rounded for a whole-number field).

        Examples
        --------
        >>> Prior("x", ("a",), 0.0, 2.0).at(0.25)
        0.5
        """
        x = _prior_quantile(self.dist, self.low, self.high, q)
        if self.integer:
            x = np.round(x)
        return float(x) if np.ndim(x) == 0 else x

    def value(self, u: float | np.ndarray) -> float | np.ndarray:
        """The assumption's value at ``u`` on the logit scale the sampler works on: the
        prior quantile at ``1 / (1 + exp(-u))`` (for a uniform prior ``low + (high - low)
        / (1 + exp(-u))``). A standard logistic ``u`` gives a draw from the prior, so the
        sampler's prior is the same standard logistic whatever the assumption's prior; a
        proposal kernel on ``u`` never leaves the range.

        Parameters
        ----------
        u
            Values on the logit scale.

        Returns
        -------
        float or numpy.ndarray
            The assumption's values.

        Examples
        --------
        >>> Prior("x", ("a",), 0.0, 2.0).value(0.0)
        1.0
        """
        return self.at(_expit(u))

    def within(self, low: float, high: float) -> Prior:
        """The same prior truncated to a narrower range (a reading's ``ranges``).

        Parameters
        ----------
        low, high
            The narrower range.

        Returns
        -------
        Prior
        """
        return Prior(self.name, self.paths, float(low), float(high), self.dist, self.integer)

    @property
    def text(self) -> str:
        """E.g. ``"beta(2, 5) over 0 to 1"``."""
        return _prior_text(self.dist, self.low, self.high)


def priors(loaded: LoadedScenario) -> list[Prior]:
    """The scenario's assumptions that name a field, as priors over their ranges (an
    assumption with ``low == high`` is fixed, not a parameter).

    Parameters
    ----------
    loaded
        The scenario.

    Returns
    -------
    list of Prior
        In the order of its ``[[assumptions]]``.
    """
    out = []
    for a in loaded.spec.assumptions:
        if a.path is None or a.low is None or a.high is None or a.high <= a.low:
            continue
        out.append(Prior(a.name, tuple(a.paths), float(a.low), float(a.high), a.prior,
                         whole_number(loaded, a)))
    return out


@dataclass(frozen=True)
class Reading:
    """One reading of the evidence (a ``[[readings]]`` entry, or the scenario as written):
    its free assumptions (priors) and the fields it fixes."""

    name: str
    description: str
    priors: tuple[Prior, ...]
    fixed: dict[str, float] = field(default_factory=dict)


def readings(loaded: LoadedScenario) -> list[Reading]:
    """The scenario's readings (its ``[[readings]]``; none: one reading, the scenario as
    written), each with the priors left free and the fields it fixes.

    Parameters
    ----------
    loaded
        The scenario.

    Returns
    -------
    list of Reading

    Examples
    --------
    >>> sc = {"name": "c", "seed": 3, "network": {"kind": "complete", "n": 50},
    ...       "model": {"name": "voter"}, "initial": {"shares": {"A": 0.5, "B": 0.5}},
    ...       "stop": {"max_sweeps": 1},
    ...       "assumptions": [{"name": "share of A", "path": "initial.shares.A",
    ...                        "low": 0.1, "high": 0.9}],
    ...       "readings": [{"name": "free"}, {"name": "even", "fix": {"initial.shares.A": 0.5}}]}
    >>> [(r.name, len(r.priors), r.fixed) for r in readings(load_scenario(sc))]
    [('free', 1, {}), ('even', 0, {'initial.shares.A': 0.5})]
    """
    ps = priors(loaded)
    if not loaded.spec.readings:
        return [Reading(loaded.spec.name, "the scenario as written", tuple(ps))]
    by_path = {a.path: a for a in loaded.spec.assumptions if a.path is not None}
    out = []
    for r in loaded.spec.readings:
        fixed = {f: float(v) for path, v in r.fix.items() for f in by_path[path].paths}
        free = [p.within(*r.ranges[p.key]) if p.key in r.ranges else p
                for p in ps if p.key not in r.fix]
        keys = {p.key for p in free}
        free += [Prior(by_path[path].name, tuple(by_path[path].paths), lo, hi,
                       by_path[path].prior, whole_number(loaded, by_path[path]))
                 for path, (lo, hi) in r.ranges.items() if path not in keys]
        out.append(Reading(r.name, r.description, tuple(free), fixed))
    return out


def _expit(u: float | np.ndarray) -> float | np.ndarray:
    """The logistic function, without overflow warnings far out."""
    from scipy.special import expit

    out = expit(u)
    return float(out) if np.ndim(out) == 0 else out


def _overrides(ps: Sequence[Prior], values: Sequence[float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p, v in zip(ps, values, strict=True):
        for path in p.paths:
            out[path] = p.setting(v)
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

    Parameters
    ----------
    loaded
        The scenario (with its polls).
    targets
        The published figures (:func:`steppe.observe.targets.read_targets`).
    runs
        Pilot runs to measure the effective sample sizes on.
    discrepancy
        The model discrepancy ``δ``, a share.

    Returns
    -------
    numpy.ndarray
        One scale per target row.

    Raises
    ------
    SteppeError
        The scenario has no polls, or a figure has no simulated counterpart (no such
        poll, question, subgroup or answer).
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
    """One simulation of the scenario (one reading of it) at given parameters: the figures,
    scaled (picklable, for pyabc's workers)."""

    scenario: LoadedScenario
    targets: pd.DataFrame
    priors: Sequence[Prior]
    scales: np.ndarray
    fixed: dict[str, float] = field(default_factory=dict)
    #: the reading's index, part of the run index of readings after the first
    tag: int = 0

    def run_index(self, values: Sequence[float]) -> int:
        """The run (random streams) of the simulation at ``values``."""
        return _run_index(values if self.tag == 0 else [*values, float(self.tag)])

    def figures(self, values: Sequence[float], run: int) -> np.ndarray:
        """The target figures of run ``run`` at ``values``, over their scales (NaN where
        the simulated poll has no such figure)."""
        sc = with_overrides(self.scenario, {**self.fixed, **_overrides(self.priors, values)},
                            check_assumptions=False)
        out = execute(sc, run, keep_state=False)
        x = target_rows(self.targets, out.polls).estimate.to_numpy() \
            if out.polls is not None else np.full(len(self.targets), np.nan)
        return x / self.scales

    def __call__(self, params: Mapping[str, float]) -> dict[str, float]:
        values = [p.value(float(params[f"p{i}"])) for i, p in enumerate(self.priors)]
        try:
            z = self.figures(values, self.run_index(values))
        except SteppeError:
            # a combination the scenario refuses (e.g. more committed agents in a group
            # than hold the stance there): rejected, as if infinitely far
            z = np.full(len(self.targets), np.nan)
        z = np.where(np.isfinite(z), z, MISSING)
        return {f"t{i}": float(v) for i, v in enumerate(z)}


def _check_settable(sim: _Simulator, reading: Reading) -> None:
    """A reading whose assumptions the scenario refuses at their prior medians (a field of
    the wrong type, a value it never takes) would be rejected in every simulation and
    calibrate nothing: refuse it up front with the scenario's message."""
    from ..assembly import assemble

    values = [float(p.at(0.5)) for p in sim.priors]
    try:
        assemble(with_overrides(sim.scenario, {**sim.fixed, **_overrides(sim.priors, values)},
                                check_assumptions=False), dry=True)
    except SteppeError as exc:
        raise SteppeError(f"reading {reading.name!r}: the scenario refuses its assumptions "
                          f"at their prior medians, so every simulation would be rejected: "
                          f"{exc}") from None


def in_order(fn: Callable[[Any], Any], n: int,
             tasks_for: Callable[[int | None], list[Any]], workers: int | None) -> list[Any]:
    """Run ``fn`` on the ``n`` tasks ``tasks_for(threads)`` builds (each a tuple whose first
    item is its index; ``threads``: the Numba threads each may use) on local processes, and
    return the results in task order; the first task that failed raises its error.

    Parameters
    ----------
    fn
        The function to run on each task (picklable, for worker processes).
    n
        The number of tasks (sizes the pool).
    tasks_for
        Builds the tasks given the Numba threads each may use.
    workers
        Local worker processes (1: this process; 0 or None: one per core).

    Returns
    -------
    list
        ``fn``'s results, in task order.
    """
    from .executors import make_executor

    executor = make_executor(workers=workers, tasks=n)
    tasks = tasks_for(executor.threads)
    out: list[Any] = [None] * len(tasks)
    try:
        for task, res in executor.map(fn, tasks):
            if isinstance(res, BaseException):
                raise res
            out[task[0]] = res
    finally:
        executor.close()
    return out


def _screen_one(task: tuple[int, _Simulator, list[float], int, int | None]) -> np.ndarray:
    _, sim, values, run, threads = task
    use_threads(threads)
    try:
        return sim.figures(values, run)
    except SteppeError:   # a combination the scenario refuses: no figures
        return np.full(len(sim.targets), np.nan)


def screen(sim: _Simulator, *, trajectories: int = 6, levels: int = 4, seed: int = 0,
           threshold: float = 1.0, workers: int | None = 1) -> pd.DataFrame:
    """Which assumptions move the figures: Morris screening (SALib) over the priors.

    ``trajectories`` Morris trajectories of ``levels`` levels over the priors of
    ``sim`` and one **dummy** parameter. Every point of a trajectory runs with the same
    random streams (common random numbers), so an elementary effect measures the step in
    the parameter rather than run-to-run noise; but a step in a parameter also sends the
    run down another path, so some noise is left. The dummy's step changes nothing but the
    random streams: its effect is the noise of independent runs, an upper bound on what a
    parameter's effect can owe to noise. An assumption's **influence** on a figure is its
    Morris ``mu*`` (mean absolute elementary effect) over its whole range, in the figure's
    standard errors ``s_i``, less the dummy's; it is **influential** when it moves some
    figure by at least ``threshold`` standard errors.

    The calibration proposes the most influential assumptions from a kernel around the
    previous generation's particles and the others from their prior: a valid proposal
    either way (the posterior is the same), but in many dimensions a kernel over every
    parameter makes the importance weights degenerate (:func:`kernel_bandwidth`).

    Parameters
    ----------
    sim
        The simulator of the calibration (the scenario, its figures and their scales).
    trajectories, levels
        Morris's ``N`` and ``num_levels``.
    seed
        Seed of the Morris sample and of the runs.
    threshold
        Influence (standard errors) at which an assumption counts as influential.
    workers
        Local processes (1: this process; 0 or None: one per core).

    Returns
    -------
    pandas.DataFrame
        Per assumption: ``key``, ``name``, ``influence`` (the largest over figures),
        ``figure`` (the target row it moves most), ``noise`` (the dummy's ``mu*`` for
        that figure), ``influential``.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    ps = list(sim.priors)
    k = len(ps)
    # on the unit cube of prior quantiles (a uniform prior: low + q (high - low), as
    # SALib would scale it; a distribution: its quantiles at the grid's midpoints)
    problem = {"num_vars": k + 1, "names": [p.key for p in ps] + ["(dummy)"],
               "bounds": [[0.0, 1.0]] * (k + 1)}
    q = morris_sample.sample(problem, N=trajectories, num_levels=levels, seed=seed)
    x = np.column_stack([p.at(morris_quantiles(p.dist, q[:, i], levels))
                         for i, p in enumerate(ps)] + [q[:, k]])
    # common random numbers along a trajectory, except for the dummy's step, which only
    # changes the random streams: its effect is the run-to-run noise
    runs = [_run_index([float(j // (k + 2)), float(seed), float(row[k])])
            for j, row in enumerate(x)]
    z = np.vstack(in_order(_screen_one, len(x), lambda threads: [
        (i, sim, row[:k].tolist(), r, threads)
        for i, (row, r) in enumerate(zip(x, runs, strict=True))], workers))
    # a figure missing in some run (no respondent in a subgroup): its mean over the others
    fill = np.nanmean(np.where(np.isfinite(z), z, np.nan), axis=0)
    z = np.where(np.isfinite(z), z, np.nan_to_num(fill)[None, :])
    # SALib's elementary effects are per step on the unit scale: mu* is the effect of the
    # whole range
    mu = np.zeros((k + 1, z.shape[1]))
    for j in range(z.shape[1]):
        res = morris_analyze.analyze(problem, q, z[:, j], num_levels=levels, seed=seed,
                                     print_to_console=False)
        mu[:, j] = np.asarray(res["mu_star"])
    excess = mu[:k] - mu[k][None, :]
    best = excess.argmax(axis=1)
    influence = excess[np.arange(k), best]
    labels = [" / ".join(str(t[c]) for c in ("poll", "by", "level", "answer"))
              for _, t in sim.targets.iterrows()]
    return pd.DataFrame({"key": [p.key for p in ps], "name": [p.name for p in ps],
                         "influence": influence, "figure": [labels[b] for b in best],
                         "noise": mu[k][best], "influential": influence >= threshold})


@dataclass
class Calibration:
    """What :func:`calibrate` found.

    Attributes
    ----------
    posterior : pandas.DataFrame
        The last generation's particles: ``reading``, one column per assumption (named by
        its first field; NaN where the reading fixes it) and ``weight`` (normalised within
        each reading).
    generations : pandas.DataFrame
        Per generation ``t``: ``epsilon`` (the tolerance), ``samples`` (simulations run),
        ``accepted``, ``acceptance``, ``ess`` (effective sample size of the weights, all
        readings together) and ``seconds`` (its wall time, whichever session ran it).
    priors : list of Prior
        Every assumption with a range (as the scenario declares them).
    targets : pandas.DataFrame
        The published figures with their scales ``s`` and ``held_out`` (not fitted).
    readings : list of Reading
    probabilities : pandas.DataFrame
        The readings' posterior probabilities by generation: ``t``, ``reading``,
        ``probability`` (equal prior odds).
    screening : pandas.DataFrame or None
        The Morris screening (:func:`screen`) of the first reading, if one was run.
    settings : dict
    """

    posterior: pd.DataFrame
    generations: pd.DataFrame
    priors: list[Prior]
    targets: pd.DataFrame
    readings: list[Reading] = field(default_factory=list)
    probabilities: pd.DataFrame = field(default_factory=pd.DataFrame)
    screening: pd.DataFrame | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def probability(self, reading: str) -> float:
        """The reading's posterior probability (last generation).

        Parameters
        ----------
        reading
            The reading's name.

        Returns
        -------
        float
            0 for a reading not in the last generation.
        """
        p = self.probabilities
        last = p[p["t"] == p["t"].max()]
        return float(last.loc[last["reading"] == reading, "probability"].sum())

    def weights(self) -> np.ndarray:
        """Every particle's weight over all readings (reading probability × its weight
        within the reading).

        Returns
        -------
        numpy.ndarray
            One weight per row of :attr:`posterior`.
        """
        prob = self.posterior["reading"].map(self.probability).to_numpy(dtype=float)
        return prob * self.posterior["weight"].to_numpy(dtype=float)

    def values(self, key: str) -> np.ndarray:
        """One assumption's value in every particle: a reading that fixes it gives its
        fixed value, one that leaves it out (no range) the scenario's.

        Parameters
        ----------
        key
            The assumption's first field (:attr:`Prior.key`).

        Returns
        -------
        numpy.ndarray
            One value per row of :attr:`posterior`.
        """
        x = self.posterior[key].to_numpy(dtype=float).copy()
        prior = next(p for p in self.priors if p.key == key)
        for r in self.readings:
            if prior.paths[0] in r.fixed:
                x[(self.posterior["reading"] == r.name).to_numpy()] = r.fixed[prior.paths[0]]
        return x

    def interval(self, key: str, level: float = 0.9,
                 reading: str | None = None) -> tuple[float, float, float]:
        """Weighted median and central ``level`` credible interval of one parameter, over
        all readings (by their probabilities) or within one.

        Parameters
        ----------
        key
            The assumption's first field (:attr:`Prior.key`).
        level
            The interval's probability.
        reading
            Within this reading only (None: over all of them).

        Returns
        -------
        tuple of float
            ``(median, low, high)``; NaNs when no particle carries a value.
        """
        x = self.values(key)
        w = self.weights() if reading is None else np.where(
            self.posterior["reading"] == reading, self.posterior["weight"], 0.0)
        keep = np.isfinite(x) & (w > 0)
        if not keep.any():
            return (math.nan,) * 3
        return _weighted_quantiles(x[keep], w[keep], level)


def weighted_quantile(x: Any, w: Any, q: float | Sequence[float]) -> np.ndarray:
    """Quantiles of weighted particles: for each probability, the smallest value whose
    cumulative (normalised) weight reaches it, as ``steppe calibrate`` prints them.

    NaN values (an assumption a reading fixes) and non-positive weights are left out; with
    nothing left every quantile is NaN.

    Parameters
    ----------
    x
        The particles' values.
    w
        Their weights (any positive scale).
    q
        The probabilities, in [0, 1].

    Returns
    -------
    numpy.ndarray
        One value per probability (a 0-d array for a scalar ``q``).

    Examples
    --------
    >>> float(weighted_quantile([1.0, 2.0, 3.0], [0.2, 0.2, 0.6], 0.5))
    3.0
    >>> float(weighted_quantile([1.0, float("nan")], [0.5, 0.5], 0.5))
    1.0
    """
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    qa = np.asarray(q, dtype=float)
    ok = np.isfinite(x) & np.isfinite(w) & (w > 0)
    x, w = x[ok], w[ok]
    if x.size == 0:
        return np.full(qa.shape, np.nan)
    order = np.argsort(x, kind="stable")
    x = x[order]
    cw = np.cumsum(w[order])
    cw /= cw[-1]
    idx = np.minimum(np.searchsorted(cw, qa - 1e-12, side="left"), x.size - 1)
    return x[idx]


def _weighted_quantiles(x: np.ndarray, w: np.ndarray,
                        level: float) -> tuple[float, float, float]:
    """Median and central ``level`` interval of a weighted sample."""
    lo, med, hi = weighted_quantile(x, w, [(1 - level) / 2, 0.5, (1 + level) / 2])
    return float(med), float(lo), float(hi)


def import_pyabc() -> Any:
    """Import pyabc without its side effect on this process: on import it sets
    ``OMP_NUM_THREADS=1`` when unset, which every child process started later (and any
    OpenMP runtime started later in this one) would inherit, holding it to one thread. Its
    log lines are kept to warnings.

    Returns
    -------
    module
        The ``pyabc`` module.

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


def held_out(targets: pd.DataFrame, hold_out: Sequence[str]) -> np.ndarray:
    """Which target rows a hold-out selects: each filter ``column=value`` (``poll``,
    ``question``, ``by``, ``level`` or ``answer``; ``poll=Demoscope Nov 2022``), a row held out
    when any filter matches it.

    Parameters
    ----------
    targets
        The published figures.
    hold_out
        Filters ``column=value``.

    Returns
    -------
    numpy.ndarray
        bool per target row: True where it is held out.

    Raises
    ------
    ParameterError
        A filter that is not ``column=value``, names another column, or matches no row.

    Examples
    --------
    >>> t = pd.DataFrame({"poll": ["a", "a", "b"], "by": ["all", "age", "all"]})
    >>> held_out(t, ["by=age", "poll=b"]).tolist()
    [False, True, True]
    """
    mask = np.zeros(len(targets), dtype=bool)
    for f in hold_out:
        col, sep, value = f.partition("=")
        col = col.strip()
        if not sep or col not in ("poll", "question", "by", "level", "answer") \
                or col not in targets:
            raise ParameterError("a filter column=value", field="--hold-out",
                                 allowed="poll, question, by, level or answer = a value",
                                 given=f)
        hit = targets[col].astype(str).to_numpy() == value.strip()
        if not hit.any():
            raise ParameterError("matches no published figure", field="--hold-out",
                                 allowed=f"{col} = one of " + ", ".join(
                                     sorted(set(targets[col].astype(str)))), given=f)
        mask |= hit
    return mask


def _transition(pyabc: Any, ps: Sequence[Prior], perturbed: set[str],
                kernel_scale: float) -> Any:
    """A kernel around the previous particles for the ``perturbed`` parameters, their prior
    for the others (:class:`steppe.experiments._pyabc_parts.FromPrior`)."""
    from ._pyabc_parts import FromPrior

    near = [f"p{i}" for i, p in enumerate(ps) if p.key in perturbed]
    far = [(f"p{i}", p) for i, p in enumerate(ps) if p.key not in perturbed]
    mapping: dict[Any, Any] = {}
    if near:
        mapping[tuple(near)] = pyabc.MultivariateNormalTransition(
            scaling=kernel_scale, bandwidth_selector=kernel_bandwidth)
    if far:
        mapping[tuple(k for k, _ in far)] = FromPrior([k for k, _ in far])
    if len(mapping) == 1 and near:
        return mapping[tuple(near)]
    return pyabc.AggregatedTransition(mapping=mapping)


#: the effective sample size (a fraction of the particles) the proposal kernel is sized
#: for, in :func:`kernel_bandwidth`
TARGET_ESS = 0.8


def kernel_bandwidth(n: float, d: int) -> float:
    """The proposal kernel's bandwidth factor ``sqrt(c)`` (its covariance is ``c`` times the
    previous generation's weighted covariance) for ``d`` perturbed dimensions.

    A particle's weight is its prior density over the proposal's density there, and the
    proposal is a mixture of kernels around the previous particles. If the particles are
    dense compared with the kernel (after whitening, ``N(0, I)`` smoothed by ``N(0, c I)``),
    the weights' relative second moment is ``((1 + c) / sqrt(1 + 2c))^d``; this rule solves
    it for an effective sample size of :data:`TARGET_ESS` of the particles: ``c`` = 1.5 in
    one dimension, 0.59 in three, 0.37 in six. But ``N`` particles are dense only in few
    dimensions. Otherwise a proposal's density is its parent's kernel alone, whose log
    varies by ``sqrt(d / 2)`` (half a chi-square with ``d`` degrees of freedom) whatever
    ``c``: 3.1 in 19 dimensions, which leaves a few particles all the weight (measured on
    the flagship: an effective sample size of 2 to 10 of 100 with pyabc's default kernel,
    with Beaumont et al.'s twice the covariance, and with this rule). Hence the calibration
    perturbs only the few most influential assumptions (``kernel_dims``, default 3) and
    proposes the rest from their prior, for which the weights do not depend on them.

    Parameters
    ----------
    n
        The number of particles (unused by this rule; pyabc passes it).
    d
        The number of perturbed dimensions.

    Returns
    -------
    float
        ``sqrt(c)``.

    References
    ----------
    Beaumont, M. A., Cornuet, J.-M., Marin, J.-M., & Robert, C. P. (2009). Adaptive
    approximate Bayesian computation. Biometrika 96, 983-990. Filippi, S., Barnes, C. P.,
    Cornebise, J., & Stumpf, M. P. H. (2013). On optimality of kernels for approximate
    Bayesian computation using sequential Monte Carlo. Stat. Appl. Genet. Mol. Biol. 12,
    87-107.

    Examples
    --------
    >>> [round(kernel_bandwidth(100, d) ** 2, 2) for d in (1, 3, 6)]
    [1.5, 0.59, 0.37]
    """
    del n
    r = TARGET_ESS ** (-2.0 / max(int(d), 1))
    c = (r - 1) + math.sqrt((r - 1) ** 2 + (r - 1))
    return math.sqrt(c)


def calibrate(src: str | Path | Mapping[str, Any] | LoadedScenario, *,
              overrides: Mapping[str, Any] | None = None, out: str | Path,
              folder: str | Path | None = None,
              population: int = 200, generations: int = 12, min_epsilon: float = 0.0,
              discrepancy: float = DISCREPANCY, pilot_runs: int = 3,
              screening: int = 6, kernel_dims: int = 3, kernel_scale: float = 1.0,
              reading: str | None = None, hold_out: Sequence[str] = (),
              workers: int | None = 1, scheduler: str | None = None,
              resume: bool = True, max_seconds: float | None = None,
              progress: Callable[[int, float, int], None] | None = None) -> Calibration:
    """Fit the scenario's assumptions to its published figures by ABC-SMC, and weigh its
    readings against each other (module docstring).

    Parameters
    ----------
    src
        The scenario (it needs ``[[assumptions]]`` with ranges and ``[report] targets``).
    overrides
        Field overrides for the calibration (e.g. ``{"population.scale": 0.0005}``).
    out
        The results folder.
    folder
        Where the calibration goes (default ``OUT/calibration``): pyabc's database
        ``calibration.db`` and the screening.
    population
        Particles per generation (all readings together).
    generations
        Generations at most (counting those already done when resuming).
    min_epsilon
        Stop once the tolerance is at or below this.
    discrepancy
        The model discrepancy ``delta`` (a share) in every figure's scale.
    pilot_runs
        Runs of the scenario as written that give each figure's effective sample size.
    screening
        Morris trajectories of the screening (:func:`screen`) that ranks the assumptions
        when more than ``kernel_dims`` are free; 0: perturb all of them.
    kernel_dims
        How many assumptions the proposal kernel perturbs (the most influential by the
        screening); the others are proposed from their prior (:func:`kernel_bandwidth` says
        why few).
    kernel_scale
        Factor on the covariance of the proposal kernel (1: sized for an effective sample
        size of 80% of the particles, :func:`kernel_bandwidth`).
    reading
        Fit this reading only (default: all the scenario's readings, with model choice).
    hold_out
        Figures not fitted (filters ``column=value``, :func:`held_out`): the posterior
        predictive then says whether the fit predicts them.
    workers
        Local processes (1: this process; 0 or None: one per core).
    scheduler
        A Dask scheduler address (instead of local processes).
    resume
        Continue the calibration in the folder if there is one (else start anew).
    max_seconds
        Start no generation that would not end within this much wall time (its duration
        foreseen by :func:`next_generation_seconds`; every complete generation is kept;
        run again to continue).
    progress
        Called as ``progress(generation, epsilon, simulations)`` after each generation.

    Returns
    -------
    Calibration

    Raises
    ------
    SteppeError
        No assumptions with ranges, no targets, a target the scenario cannot simulate, an
        unknown reading, or an option out of range.
    """
    pyabc = import_pyabc()

    for name, value, lo in (("population", population, 10), ("generations", generations, 1),
                            ("pilot_runs", pilot_runs, 1), ("screening", screening, 0),
                            ("kernel_dims", kernel_dims, 1)):
        if not isinstance(value, int) or value < lo:
            raise ParameterError("too small", field=f"--{name.replace('_', '-')}",
                                 allowed=f">= {lo}", given=value)
    if not (math.isfinite(discrepancy) and 0 <= discrepancy < 1):
        raise ParameterError("a share", field="--discrepancy", allowed="0 <= value < 1",
                             given=discrepancy)
    if not (math.isfinite(kernel_scale) and kernel_scale > 0):
        raise ParameterError("a positive factor", field="--kernel-scale", allowed="> 0",
                             given=kernel_scale)
    loaded = load_scenario(src, overrides)
    ps = priors(loaded)
    if not ps:
        raise loaded.fail("nothing to calibrate: no assumption names a field with a range",
                          "assumptions", allowed="[[assumptions]] with path, low and high")
    if loaded.spec.report is None or loaded.spec.report.targets is None:
        raise loaded.fail("no published figures to fit", "report.targets",
                          allowed="a CSV of published figures (steppe.observe.targets)")
    reads = readings(loaded)
    if reading is not None:
        names = [r.name for r in reads]
        if reading not in names:
            raise ParameterError("no such reading", field="--reading",
                                 allowed=", ".join(names), given=reading)
        reads = [r for r in reads if r.name == reading]
    targets = read_targets(loaded.path(loaded.spec.report.targets))
    held = held_out(targets, hold_out)
    if held.all():
        raise ParameterError("holds out every figure", field="--hold-out",
                             allowed="filters that leave some figures to fit",
                             given=list(hold_out))
    folder = Path(folder) if folder is not None else Path(out) / "calibration"
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "calibration.db"
    scales = target_scales(loaded, targets, runs=pilot_runs, discrepancy=discrepancy)
    fit = targets[~held].reset_index(drop=True)
    sims = [_Simulator(loaded, fit, r.priors, scales[~held], r.fixed, m)
            for m, r in enumerate(reads)]
    for sim, r in zip(sims, reads, strict=True):
        _check_settable(sim, r)
    y = fit["value"].to_numpy(dtype=float) / scales[~held]
    observed = {f"t{i}": float(v) for i, v in enumerate(y)}
    t0 = time.perf_counter()
    screened = None
    perturbed = {p.key for p in ps}
    if screening > 0 and len(ps) > kernel_dims:
        screened = _screening(sims[0], folder, screening, loaded.spec.seed, workers,
                              resume)
        ranked = screened[screened["influential"]].sort_values("influence", ascending=False)
        perturbed = set(ranked["key"].iloc[:kernel_dims])
        screened = screened.assign(perturbed=screened["key"].isin(perturbed))
    # the sampler works on the logit scale of each range (Prior.value): a standard
    # logistic there is the uniform prior over the range
    dists = [pyabc.Distribution(**{f"p{i}": pyabc.RV("logistic", 0.0, 1.0)
                                   for i, p in enumerate(r.priors)}) for r in reads]
    transitions = [_transition(pyabc, r.priors, perturbed, kernel_scale) for r in reads]
    # pyabc draws from NumPy's global generator
    np.random.seed(loaded.spec.seed % 2**32)  # noqa: NPY002
    sampler, release = _sampler(workers, scheduler)
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
                                  "scenario, scale, discrepancy or hold-out); --no-resume "
                                  "starts anew")
        _check_priors(folder / "priors.json", reads, resumed=history is not None)
        # one generation at a time (a fresh ABCSMC loading the database each time, which
        # is how pyabc adapts the tolerance and the proposal between generations): progress
        # after each, and the limits checked between them
        while history is None or history.n_populations < generations:
            if history is not None:
                pops = history.get_all_populations()
                eps = float(pops["epsilon"].iloc[-1])
                if eps <= min_epsilon:
                    break
                if max_seconds is not None and time.perf_counter() - t0 \
                        + next_generation_seconds(pops["wall_time"].to_numpy(float)) \
                        > max_seconds:
                    stopped = stopped or (
                        "the time budget: the next generation would not end within it "
                        "(run again with more --max-minutes to continue)")
                    break
            abc = pyabc.ABCSMC(sims, dists, pyabc.PNormDistance(p=2),
                               population_size=population, sampler=sampler,
                               transitions=transitions)
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
                           f"the posterior is generation {history.max_t}'s (a smaller "
                           "--kernel-dims or a larger --population keeps the weights "
                           "steadier)")
                break
            if progress is not None:
                pops = history.get_all_populations()
                progress(int(pops["t"].iloc[-1]), float(pops["epsilon"].iloc[-1]),
                         int(pops["samples"].iloc[-1]))
    finally:
        release()
    seconds = time.perf_counter() - t0
    tg = targets.copy()
    tg["s"] = scales
    tg["held_out"] = held
    return _result(history, ps, reads, tg, screened, {
        "source": loaded.source, "overrides": dict(overrides or {}),
        "population": population, "generations": generations, "discrepancy": discrepancy,
        "pilot_runs": pilot_runs, "screening": screening, "kernel_scale": kernel_scale,
        "kernel_dims": kernel_dims, "perturbed": sorted(perturbed),
        "hold_out": list(hold_out),
        "database": str(db), "seconds": seconds,
        "seconds_total": seconds + _earlier_seconds(folder, resume), "stopped": stopped,
        "readings": [{"name": r.name, "description": r.description, "fixed": r.fixed,
                      "priors": [p.key for p in r.priors]} for r in reads]})


def next_generation_seconds(walls: np.ndarray) -> float:
    """The foreseen wall time of the next generation, from those of the last ones: the last
    one's, times the ratio of the last two (acceptance falls as the tolerance shrinks, so
    each generation tends to take longer than the one before), the ratio kept within 1-4.

    Parameters
    ----------
    walls
        The wall times of the generations so far, in seconds.

    Returns
    -------
    float
        Seconds (0 when no generation has a time).

    Examples
    --------
    >>> next_generation_seconds(np.array([60.0, 120.0, 180.0]))
    270.0
    >>> next_generation_seconds(np.array([100.0]))
    100.0
    """
    w = np.asarray(walls, dtype=float)
    w = w[np.isfinite(w) & (w > 0)]
    if w.size == 0:
        return 0.0
    if w.size == 1:
        return float(w[-1])
    return float(w[-1] * min(max(w[-1] / w[-2], 1.0), 4.0))


def _check_priors(path: Path, reads: Sequence[Reading], *, resumed: bool) -> None:
    """The sampler's database holds logit-scale values, which mean other assumption values
    under other priors: a resumed calibration must have the same priors and readings.
    ``path`` records them (written when a calibration starts, or resumes one from before
    it was written)."""
    import json

    from ..observe.writers import write_json_atomic

    now = json.loads(json.dumps([
        {"reading": r.name, "fixed": sorted([k, v] for k, v in r.fixed.items()),
         "priors": [[p.key, p.low, p.high, p.text] for p in r.priors]} for r in reads]))
    if resumed and path.exists():
        try:
            before = json.loads(path.read_text())
        except (OSError, ValueError):
            before = None
        if before != now:
            raise SteppeError(f"{path.parent}: the calibration there drew from other priors "
                              "(other ranges, prior distributions or readings; see "
                              f"{path.name}); --no-resume starts anew")
        return
    write_json_atomic(now, path)


def _earlier_seconds(folder: Path, resume: bool) -> float:
    """Wall time of the earlier sessions of a resumed calibration (from the
    ``calibration.json`` that ``steppe calibrate`` wrote after them)."""
    import json

    path = folder / "calibration.json"
    if not resume or not path.exists():
        return 0.0
    try:
        return float(json.loads(path.read_text()).get("seconds_total", 0.0))
    except (ValueError, OSError, TypeError):
        return 0.0


def _screening(sim: _Simulator, folder: Path, trajectories: int, seed: int,
               workers: int | None, resume: bool) -> pd.DataFrame:
    """The screening of a calibration, kept in ``screening.parquet`` beside its database
    (reused on resume when made with the same trajectories and figures)."""
    path = folder / "screening.parquet"
    tag = f"{trajectories}:{len(sim.targets)}:{np.round(sim.scales, 9).tolist()}"
    if resume and path.exists():
        old = pd.read_parquet(path)
        if "tag" in old and (old["tag"] == tag).all() and \
                list(old["key"]) == [p.key for p in sim.priors]:
            return old.drop(columns="tag")
    res = screen(sim, trajectories=trajectories, seed=seed, workers=workers)
    from ..observe.writers import write_parquet_atomic

    write_parquet_atomic(res.assign(tag=tag), path)
    return res


def _result(history: Any, ps: list[Prior], reads: list[Reading], targets: pd.DataFrame,
            screened: pd.DataFrame | None, settings: dict[str, Any]) -> Calibration:
    t = history.max_t
    probs = history.get_model_probabilities()
    prob_rows = [{"t": int(tt), "reading": r.name,
                  "probability": float(probs.loc[tt, m]) if m in probs.columns else 0.0}
                 for tt in probs.index if tt >= 0 for m, r in enumerate(reads)]
    probabilities = pd.DataFrame(prob_rows)
    parts = []
    for m, r in enumerate(reads):
        frame, w = history.get_distribution(m=m, t=t)
        if len(frame) == 0:
            continue
        part = pd.DataFrame({"reading": r.name}, index=range(len(frame)))
        for p in ps:
            i = next((i for i, q in enumerate(r.priors) if q.key == p.key), None)
            part[p.key] = r.priors[i].value(frame[f"p{i}"].to_numpy()) if i is not None \
                else np.nan
        part["weight"] = w / w.sum()
        parts.append(part)
    post = pd.concat(parts, ignore_index=True)
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    ess = []
    for tt in pops["t"]:
        total = []
        for m in range(len(reads)):
            _, wt = history.get_distribution(m=m, t=int(tt))
            pm = float(probs.loc[tt, m]) if m in probs.columns else 0.0
            if len(wt):
                total.append(pm * wt / wt.sum())
        wall = np.concatenate(total)
        ess.append(float(wall.sum() ** 2 / (wall ** 2).sum()))
    all_pops = history.get_all_populations()
    before = float(all_pops.loc[all_pops["t"] < 0, "wall_time"].sum())
    seconds = pops["wall_time"].astype(float).to_numpy().copy()
    if len(seconds):
        seconds[0] += before   # the sample that set the first tolerance
    gens = pd.DataFrame({"t": pops["t"].astype(int), "epsilon": pops["epsilon"],
                         "samples": pops["samples"].astype(int),
                         "accepted": int(settings["population"]),
                         "acceptance": settings["population"] / pops["samples"],
                         "ess": ess, "seconds": seconds})
    return Calibration(posterior=post, generations=gens, priors=ps, targets=targets,
                       readings=reads, probabilities=probabilities, screening=screened,
                       settings=settings)


@dataclass
class Predictive:
    """The posterior predictive: the scenario run at draws from the posterior.

    Attributes
    ----------
    figures : pandas.DataFrame
        Every published figure beside its posterior predictive distribution (the simulated
        poll of the same design at each draw): ``median``, ``low``, ``high`` (the central
        ``level`` interval), ``inside``; ``held_out`` marks figures the calibration did not
        fit.
    outcomes : pandas.DataFrame
        The report stance's ``private``, ``voiced`` and ``hidden`` share at each poll date,
        each 31 December and at the end, for everyone (``by = "all"``) and by group and age band:
        ``median``, ``low``, ``high`` over the draws (each draw one run: the interval holds
        the posterior uncertainty and the run-to-run noise together).
    draws : pandas.DataFrame
        The reading and parameter values of every draw and its run index.
    per_draw : pandas.DataFrame
        The outcomes of every draw (``draw``, ``time``, ``date``, ``by``, ``level``,
        ``private``, ``voiced``, ``hidden``).
    """

    figures: pd.DataFrame
    outcomes: pd.DataFrame
    draws: pd.DataFrame
    per_draw: pd.DataFrame = field(default_factory=pd.DataFrame)


def _predict_one(task: tuple[int, LoadedScenario, dict[str, Any], int, pd.DataFrame, str,
                            list[float], int | None]) -> dict[str, Any]:
    """One posterior draw: the figures, and the focus stance's shares at the poll dates."""
    from ..assembly import make_model
    from ..observe.tables import tables

    _, loaded, over, run, targets, stance, at, threads = task
    use_threads(threads)
    sc = with_overrides(loaded, over, check_assumptions=False)
    out = execute(sc, run, keep_state=False)
    figures = target_rows(targets, out.polls).estimate.to_numpy() \
        if out.polls is not None and len(targets) else np.full(len(targets), np.nan)
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
    polls = out.polls if out.polls is not None else pd.DataFrame()
    return {"run": run, "figures": figures, "outcomes": rows, "polls": polls}


def posterior_draws(cal: Calibration, draws: int, seed: int = 0) -> pd.DataFrame:
    """``draws`` parameter sets resampled from the posterior: a reading by its probability,
    then a particle by its weight within it. Columns: ``reading``, one per assumption
    (the reading's fixed value where it fixes one), ``run`` (the draw's run index).

    Parameters
    ----------
    cal
        The calibration.
    draws
        How many parameter sets.
    seed
        The resampling's seed.

    Returns
    -------
    pandas.DataFrame
        One row per draw.
    """
    rng = np.random.default_rng(seed)
    w = cal.weights()
    pick = rng.choice(len(cal.posterior), size=draws, p=w / w.sum())
    out = pd.DataFrame({"reading": cal.posterior["reading"].to_numpy()[pick]})
    for p in cal.priors:
        out[p.key] = cal.values(p.key)[pick]
    keys = [p.key for p in cal.priors]
    out["run"] = [_run_index([*np.nan_to_num(v), k])
                  for k, v in enumerate(out[keys].to_numpy(dtype=float))]
    return out


def _draw_overrides(cal: Calibration, row: Mapping[str, Any],
                    keep: Callable[[str], bool] = lambda path: True) -> dict[str, Any]:
    """A draw's field values: its reading's fixed fields, then its free assumptions (only
    the fields ``keep`` accepts)."""
    r = next(r for r in cal.readings if r.name == row["reading"])
    over: dict[str, Any] = dict(r.fixed)
    for p in r.priors:
        for path in p.paths:
            over[path] = p.setting(float(row[p.key]))
    return {k: v for k, v in over.items() if keep(k)}


def _run_draws(cal: Calibration, loaded: LoadedScenario, drawn: pd.DataFrame,
               targets: pd.DataFrame, workers: int | None,
               keep: Callable[[str], bool] = lambda path: True) -> list[dict[str, Any]]:
    from ..assembly import assemble
    from .sensitivity import focus_stance

    dry = assemble(loaded, dry=True)
    stance = focus_stance(loaded)
    at = sorted({float(a) for a, _ in dry.polls} | set(_year_ends(loaded)))
    results = in_order(_predict_one, len(drawn), lambda threads: [
        (i, loaded, _draw_overrides(cal, row, keep), int(row["run"]), targets, stance, at,
         threads) for i, row in enumerate(drawn.to_dict("records"))], workers)
    for r in results:
        r["stance"] = stance
    return results


def _year_ends(loaded: LoadedScenario) -> list[float]:
    """The sweeps of every 31 December within a dated run (none without a calendar)."""
    import datetime as dt

    t = loaded.spec.time
    limit = loaded.max_sweeps()
    if t is None or limit is None:
        return []
    out = []
    for year in range(t.start.year, t.start.year + 200):
        when = dt.date(year, 12, 31)
        if when <= t.start:
            continue
        s = loaded.sweep_of(when, "time")
        if s > limit:
            break
        out.append(float(s))
    return out


def _per_draw(results: list[dict[str, Any]]) -> pd.DataFrame:
    long = pd.DataFrame([{"draw": k, **row} for k, r in enumerate(results)
                         for row in r["outcomes"]])
    long["hidden"] = long["private"] - long["voiced"]
    return long


def _bands(long: pd.DataFrame, level: float, stance: str) -> pd.DataFrame:
    q = ((1 - level) / 2, 0.5, (1 + level) / 2)
    measures = [c for c in ("private", "voiced", "hidden") if c in long]
    melted = long.melt(id_vars=["time", "date", "by", "level"], value_vars=measures,
                       var_name="measure")
    out = (melted.groupby(["time", "by", "level", "measure"], sort=False)["value"]
           .quantile(list(q)).unstack().reset_index())
    out.columns = ["time", "by", "level", "measure", "low", "median", "high"]
    dates = long.drop_duplicates("time").set_index("time")["date"]
    out.insert(1, "date", out["time"].map(dates))
    out.insert(0, "stance", stance)
    return out


def posterior_predictive(cal: Calibration, src: str | Path | Mapping[str, Any]
                         | LoadedScenario, *, overrides: Mapping[str, Any] | None = None,
                         draws: int = 100, level: float = 0.9, seed: int = 0,
                         workers: int | None = 1) -> Predictive:
    """Run the scenario at ``draws`` parameter sets resampled from the posterior
    (:func:`posterior_draws`), one run each, and summarise the published figures and the
    focus stance's shares (:class:`Predictive`).

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

    Returns
    -------
    Predictive
    """
    if not isinstance(draws, int) or draws < 2:
        raise ParameterError("at least 2 draws", field="draws", allowed=">= 2", given=draws)
    loaded = load_scenario(src, overrides)
    drawn = posterior_draws(cal, draws, seed)
    targets = cal.targets.drop(columns=["s", "held_out"], errors="ignore")
    results = _run_draws(cal, loaded, drawn, targets, workers)
    q = ((1 - level) / 2, 0.5, (1 + level) / 2)
    x = np.vstack([r["figures"] for r in results])
    lo, med, hi = np.nanquantile(x, q, axis=0)
    figs = targets.copy()
    figs["median"], figs["low"], figs["high"] = med, lo, hi
    figs["inside"] = (lo <= figs["value"]) & (figs["value"] <= hi)
    figs["held_out"] = cal.targets["held_out"].to_numpy() if "held_out" in cal.targets \
        else False
    long = _per_draw(results)
    return Predictive(figures=figs, outcomes=_bands(long, level, results[0]["stance"]),
                      draws=drawn, per_draw=long)


def variant_effects(cal: Calibration, base: str | Path | Mapping[str, Any] | LoadedScenario,
                    variants: Mapping[str, str | Path | Mapping[str, Any] | LoadedScenario],
                    *, overrides: Mapping[str, Any] | None = None, draws: int = 100,
                    level: float = 0.9, seed: int = 0, workers: int | None = 1,
                    baseline: Predictive | None = None) -> pd.DataFrame:
    """Each variant's effect over posterior draws: the variant and the baseline run at the
    same draws with the same random streams (common random numbers), and the difference
    summarised per draw, so that an effect is a difference with a credible interval.

    A variant's own settings win over the draws: an assumption whose field the variant
    sets to another value than the baseline (e.g. a border wave's arrival rate) keeps the
    variant's value in every draw.

    Parameters
    ----------
    cal
        A calibration of the baseline scenario.
    base, variants
        The baseline scenario and the variants (name → scenario), as calibrated.
    overrides
        Overrides applied to all (e.g. the scale).
    draws, level, seed, workers
        As :func:`posterior_predictive` (the same ``seed`` gives the same draws).
    baseline
        The baseline's posterior predictive at these draws, if already run.

    Returns
    -------
    pandas.DataFrame
        ``variant, stance, time, date, by, level, measure, median, low, high`` (the
        variant's share) and ``diff_median, diff_low, diff_high`` (variant − baseline).
    """
    base_loaded = load_scenario(base, overrides)
    if baseline is None:
        baseline = posterior_predictive(cal, base_loaded, draws=draws, level=level,
                                        seed=seed, workers=workers)
    drawn = baseline.draws
    empty = cal.targets.iloc[0:0].drop(columns=["s", "held_out"], errors="ignore")
    frames = []
    for name, src in variants.items():
        v = load_scenario(src, overrides)

        def keep(path: str, v: LoadedScenario = v) -> bool:
            return v.field_value(path) == base_loaded.field_value(path)

        results = _run_draws(cal, v, drawn, empty, workers, keep)
        long = _per_draw(results)
        key = ["draw", "time", "by", "level"]
        both = long.merge(baseline.per_draw, on=key, suffixes=("", "_base"))
        out = _bands(long, level, results[0]["stance"])
        for m in ("private", "voiced", "hidden"):
            both[m] = both[m] - both[f"{m}_base"]
        diff = _bands(both[["time", "date", "by", "level", "private", "voiced", "hidden"]],
                      level, results[0]["stance"])
        diff = diff.rename(columns={"median": "diff_median", "low": "diff_low",
                                    "high": "diff_high"})
        out = out.merge(diff[["time", "by", "level", "measure", "diff_median", "diff_low",
                              "diff_high"]], on=["time", "by", "level", "measure"])
        out.insert(0, "variant", name)
        frames.append(out)
    return pd.concat(frames, ignore_index=True)
