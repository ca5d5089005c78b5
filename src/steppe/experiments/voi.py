"""Value of information: how much a poll not yet fielded would narrow what the calibration
says about the private share.

Rule (a preposterior analysis, Raiffa & Schlaifer 1961, with a linear-Gaussian emulator of
the new poll, as in regression ABC, Beaumont et al. 2002). The scenario runs at ``D`` draws
from the posterior (:func:`steppe.experiments.calibrate.posterior_draws`), up to the date
of a poll of the scenario; there every candidate design is asked of the same people (its
own sample), giving per draw ``d`` the quantity of interest ``θ_d`` (the private share of
the answer in the poll's frame) and the candidate's figures ``y_d`` (a list experiment's
estimate; a direct question's national share, and its share in each level of the
attributes it reports by, e.g. by interview language).

Across the draws, ``y`` is regressed on ``θ`` (least squares, one line per figure): ``y ≈ a
+ b θ`` with residual covariance ``Σ`` (the poll's sampling error, its design effects and
what else the draws vary, as far as it is not explained by ``θ``). Had the poll been
fielded and returned ``y*``, the posterior draws would be reweighted by the likelihood
``N(y*; a + b θ_d, Σ)``. The **expected width** of the ``level`` credible interval of ``θ``
after the poll is the average, over draws ``d'`` taken as the truth (``y* = y_{d'}``, what
the poll would have returned in that world), of the reweighted interval's width; the
**narrowing** is ``1 - expected / now``.

What it assumes: the posterior draws stand for the posterior (their number limits the
precision: the table gives ``draws``); the new figures depend on ``θ`` linearly, the rest
Gaussian noise; a design's biases (ceiling, deflation, a placebo that is not) are those of
the scenario's list experiment settings, the same in every draw.

References
----------
Raiffa, H., & Schlaifer, R. (1961). Applied Statistical Decision Theory. Harvard.
Beaumont, M. A., Zhang, W., & Balding, D. J. (2002). Approximate Bayesian computation in
population genetics. Genetics 162, 2025-2035.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> theta = rng.uniform(0.1, 0.5, 400)
>>> precise = theta[:, None] + rng.normal(0, 0.01, (400, 1))
>>> vague = theta[:, None] + rng.normal(0, 0.5, (400, 1))
>>> now = np.subtract(*np.quantile(theta, [0.95, 0.05]))
>>> bool(expected_width(theta, precise) < 0.2 * now < expected_width(theta, vague))
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..assembly import assemble, load_scenario
from ..assembly.assemble import poll_context
from ..errors import ParameterError, SteppeError
from ..observe.polls import PollDesign, run_poll
from ..rng import Stream, stream_seed
from ..scenario.loaded import LoadedScenario
from ..scenario.loader import with_overrides
from .calibrate import Calibration, _draw_overrides, _weighted_quantiles, in_order, posterior_draws
from .design import Candidate, _answer, _poll_index, _Snapshot, candidate_designs
from .executors import use_threads
from .sensitivity import focus_stance

__all__ = ["DEFAULT_CANDIDATES", "expected_width", "value_of_information"]

#: list experiments of 1,000 or 2,000 respondents with three or four control items, with
#: and without a placebo list; a direct question of 1,000; the same stratified by language
DEFAULT_CANDIDATES: tuple[tuple[str, Candidate, str | None], ...] = (
    *((Candidate(n, items=j, placebo=pl).label, Candidate(n, items=j, placebo=pl), None)
      for n in (1000, 2000) for j in (3, 4) for pl in (False, True)),
    ("direct, n=1000", Candidate(1000), None),
    ("direct, stratified by language, n=1000", Candidate(1000), "language"),
)


def expected_width(theta: np.ndarray, y: np.ndarray, level: float = 0.9,
                   weights: np.ndarray | None = None) -> float:
    """The expected width of the central ``level`` interval of ``theta`` after observing
    one more draw of ``y`` (module docstring).

    Parameters
    ----------
    theta
        The quantity of interest at each draw, shape ``(D,)``.
    y
        The new figures at each draw, shape ``(D, k)``.
    level
        The interval's level.
    weights
        Weights of the draws (default: equal).

    Returns
    -------
    float
    """
    d = len(theta)
    w0 = np.ones(d) if weights is None else np.asarray(weights, dtype=float)
    x = np.column_stack([np.ones(d), theta])
    coef, *_ = np.linalg.lstsq(x * np.sqrt(w0)[:, None], y * np.sqrt(w0)[:, None],
                               rcond=None)
    mean = x @ coef
    resid = y - mean
    cov = np.atleast_2d(np.cov(resid.T, aweights=w0)) + 1e-12 * np.eye(y.shape[1])
    prec = np.linalg.inv(cov)
    widths = []
    for j in range(d):
        r = y[j][None, :] - mean
        logl = -0.5 * np.einsum("ik,kl,il->i", r, prec, r)
        w = w0 * np.exp(logl - logl.max())
        _, lo, hi = _weighted_quantiles(theta, w, level)
        widths.append(hi - lo)
    return float(np.average(widths, weights=w0))


def _ask(task: tuple[int, LoadedScenario, int, int, list[PollDesign], str, int | None]
         ) -> dict[str, Any]:
    """Run one draw up to the poll and ask every candidate design there."""
    i, loaded, run, poll, designs, answer, threads = task
    use_threads(threads)
    a = assemble(loaded, run)
    at, _ = a.polls[poll]
    snap = _Snapshot(at)
    a = dataclasses.replace(a, observers=[snap])
    traj = a.simulate(until=at)
    taken = snap.taken
    if taken is None:
        raise SteppeError(f"run {run} of {loaded.source} ended at sweep "
                          f"{traj.final_time:g}, before the poll (sweep {at})")
    assert a.network is not None
    attrs, levels, people = poll_context(loaded, a.network)
    j = list(a.answers).index(answer)
    figures = []
    for c, design in enumerate(designs):
        res = run_poll(design, expressed=taken["expressed"], private=taken["private"],
                       stance_labels=a.answers, present=taken["present"], attributes=attrs,
                       levels=levels, time=taken["time"],
                       seed=stream_seed(loaded.spec.seed, Stream.DESIGN, run, c, 0),
                       people_per_agent=people)
        if design.list_experiment is not None:
            assert res.list_experiment is not None
            figures.append(np.array([res.list_experiment.estimate]))
        else:
            figures.append(np.array([res.estimate[j], *(float(g.estimate[j])
                                                        for g in res.subgroups)]))
    frame = np.ones(taken["private"].shape[0], bool) if taken["present"] is None \
        else taken["present"].copy()
    for name, codes in (designs[0].frame or {}).items():
        frame &= np.isin(attrs[name], np.asarray(codes))
    return {"draw": i, "private": float(np.mean(taken["private"][frame] == j)),
            "figures": figures}


def value_of_information(cal: Calibration, src: str | Path | Mapping[str, Any]
                         | LoadedScenario, *, overrides: Mapping[str, Any] | None = None,
                         poll: str | None = None,
                         candidates: Sequence[tuple[str, Candidate, str | None]] | None = None,
                         draws: int = 200, level: float = 0.9, seed: int = 0,
                         workers: int | None = 1) -> pd.DataFrame:
    """The expected narrowing of the private share's credible interval if each candidate
    poll were fielded at the date of a poll of the scenario (module docstring).

    Parameters
    ----------
    cal
        A calibration of the scenario.
    src, overrides
        The scenario, as calibrated.
    poll
        The poll whose date, frame and method the candidates take (default: the poll with
        a list experiment, if exactly one has one).
    candidates
        ``(label, Candidate, stratify_by)`` triples (default :data:`DEFAULT_CANDIDATES`): a
        direct question stratified by an attribute reports its share in each level too
        (the default language-stratified poll only where the population has languages).
    draws, level, seed, workers
        Posterior draws, the interval's level, the resampling seed, local processes.

    Returns
    -------
    pandas.DataFrame
        One row per candidate: ``design``, ``poll``, ``date``, ``measure``, ``width_now``,
        ``width_expected``, ``narrowing``, ``draws``.

    Raises
    ------
    ParameterError
        An unknown poll, or several polls and none named.
    """
    if not isinstance(draws, int) or draws < 10:
        raise ParameterError("too few draws", field="draws", allowed=">= 10", given=draws)
    loaded = load_scenario(src, overrides)
    dry = assemble(loaded, dry=True)
    if poll is None:
        with_list = [d.name for _, d in dry.polls if d.list_experiment is not None]
        poll = with_list[0] if len(with_list) == 1 else None
    idx = _poll_index(loaded, poll)
    at, base = dry.polls[idx]
    answer = _answer(loaded, base, None if base.list_experiment is not None
                     else focus_stance(loaded))
    if candidates is None:
        # a poll stratified by an attribute the scenario's population does not have is
        # left out of the defaults
        pop = loaded.spec.population
        have = {"language"} if pop is not None and pop.languages else set()
        cands = [c for c in DEFAULT_CANDIDATES if c[2] is None or c[2] in have]
    else:
        cands = list(candidates)
    designs = []
    for _, c, strat in cands:
        d = candidate_designs(base, [c], answer)[0]
        if strat is not None:
            d = PollDesign(**{**d.model_dump(exclude_none=True), "stratify_by": strat,
                              "allocation": None, "report_by": (strat,)})
        designs.append(d)
    drawn = posterior_draws(cal, draws, seed)
    scenarios = [with_overrides(loaded, _draw_overrides(cal, row), check_assumptions=False)
                 for row in drawn.to_dict("records")]
    results = in_order(_ask, len(scenarios), lambda threads: [
        (i, sc, int(run), idx, designs, answer, threads)
        for i, (sc, run) in enumerate(zip(scenarios, drawn["run"], strict=True))], workers)
    theta = np.array([r["private"] for r in results])
    lo, hi = np.quantile(theta, [(1 - level) / 2, (1 + level) / 2])
    date = loaded.dates(np.array([float(at)]))
    rows = []
    for c, (label, _, _) in enumerate(cands):
        y = np.vstack([r["figures"][c] for r in results])
        keep = np.isfinite(y).all(axis=0)
        width = expected_width(theta, y[:, keep], level)
        rows.append({"design": label, "poll": base.name,
                     "date": None if date is None else str(date[0]),
                     "measure": f"private share of {answer!r} ({level:.0%} interval)",
                     "width_now": float(hi - lo), "width_expected": width,
                     "narrowing": 1 - width / float(hi - lo) if hi > lo else 0.0,
                     "draws": draws})
    return pd.DataFrame(rows)
