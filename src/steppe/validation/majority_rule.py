"""Majority rule: consensus time ~ ln N and exit probability (Krapivsky & Redner 2003);
Galam's synchronous renormalisation map with ties to the status quo (Galam 2002).

On the complete graph with groups of three, the number K of A agents is a birth–death
chain: a group update raises K by one with probability w₊(K) = C(K,2)(N−K)/C(N,3) (two A, one
B) and lowers it with w₋(K) = K·C(N−K,2)/C(N,3). The exit probability and the mean consensus
time (in group updates / N) follow exactly from the backward equations of that chain
(:func:`birth_death_exit`, :func:`birth_death_time`), so the checks compare with exact
finite-N values, not asymptotics. docs/validation.md entry 6 quotes 3.07, 4.64, 6.30 at
N = 10², 10³, 10⁴ (ρ = ½) and a slope in [0.55, 0.8] per ln N.

Galam's synchronous model with r = 4 and ties to B maps the share p of A to
P(p) = p⁴ + 4p³(1−p) for an infinite population; in a finite one every group is a uniform
random 4-set, so the expected share after one step is exactly the hypergeometric
P(X ≥ 3) with X ~ Hypergeom(N, K, 4), which tends to P(p). The unstable fixed point is
p_c = (1+√13)/6 ≈ 0.7676: A wins from above it and loses from below.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import solve_banded
from scipy.stats import hypergeom

from ..engine.state import init_state
from ..models import get_model
from ..networks import complete_graph
from .base import CheckResult, check, replicate

__all__ = ["birth_death_exit", "birth_death_time", "majority3_rates"]

REFERENCE_KR = "Krapivsky & Redner 2003, Phys. Rev. Lett. 90, 238701"
REFERENCE_GALAM = "Galam 2002, Eur. Phys. J. B 25, 403; Galam 1986"


def majority3_rates(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-group-update probabilities w₊(K), w₋(K), K = 0..n, of the r = 3 majority rule.

    Examples
    --------
    >>> up, down = majority3_rates(4)
    >>> up.tolist(), down.tolist()
    ([0.0, 0.0, 0.5, 0.75, 0.0], [0.0, 0.75, 0.5, 0.0, 0.0])
    """
    k = np.arange(n + 1, dtype=float)
    groups = math.comb(n, 3)
    up = k * (k - 1) / 2 * (n - k) / groups
    down = k * (n - k) * (n - k - 1) / 2 / groups
    return np.abs(up), np.abs(down)  # abs: no negative zeros


def birth_death_exit(up: np.ndarray, down: np.ndarray) -> np.ndarray:
    """Probability of absorption at K = n (rather than at the lowest absorbing state).

    ``up[K]``, ``down[K]`` are the step probabilities (K = 0..n); states where both vanish
    are absorbing. Computed from the standard product formula in log space.

    Examples
    --------
    >>> up, down = majority3_rates(5)
    >>> np.round(birth_death_exit(up, down), 3).tolist()
    [0.0, 0.0, 0.25, 0.75, 1.0, 1.0]
    """
    n = len(up) - 1
    e = np.zeros(n + 1)
    e[n] = 1.0
    # absorbing interior states are those with up == 0 (they can only go down) handled by
    # the formula on the segment [lo, n] where lo is the last state with up == 0
    lo = max(k for k in range(n) if up[k] == 0)
    ks = np.arange(lo + 1, n)
    with np.errstate(divide="ignore"):  # γ = 0 where w₋ = 0
        log_gamma = np.log(down[ks]) - np.log(up[ks])  # γ_k = w₋/w₊ for k = lo+1 .. n-1
    # E(K) = Σ_{j=lo}^{K-1} Π_{i=lo+1}^{j} γ_i / Σ_{j=lo}^{n-1} Π_{i=lo+1}^{j} γ_i
    logs = np.concatenate([[0.0], np.cumsum(log_gamma)])  # j = lo .. n-1
    mx = logs.max()
    w = np.exp(logs - mx)
    c = np.cumsum(w)
    e[lo + 1 : n] = c[:-1] / c[-1]
    return e


def birth_death_time(up: np.ndarray, down: np.ndarray, n: int) -> np.ndarray:
    """Mean time to absorption, in sweeps of n elementary updates, from every K.

    Solves T(K) = 1/n + w₊T(K+1) + w₋T(K−1) + (1 − w₊ − w₋)T(K) with T = 0 at absorbing
    states (both rates zero), as a banded linear system.

    Examples
    --------
    >>> up, down = majority3_rates(100)
    >>> round(float(birth_death_time(up, down, 100)[50]), 2)
    3.12
    """
    m = len(up)
    absorbing = (up == 0) & (down == 0)
    ab = np.zeros((3, m))
    rhs = np.where(absorbing, 0.0, 1.0 / n)
    diag = np.where(absorbing, 1.0, up + down)
    ab[1] = diag
    ab[0, 1:] = np.where(absorbing[:-1], 0.0, -up[:-1])  # superdiagonal: row k, col k+1
    ab[2, :-1] = np.where(absorbing[1:], 0.0, -down[1:])  # subdiagonal: row k+1, col k
    return solve_banded((1, 1), ab, rhs)


def _kr_runs(n: int, rho: float, runs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    model = get_model("majority_rule")(r=3)
    trajs = replicate(model, complete_graph(n), runs=runs, seed=seed,
                      shares={"A": rho, "B": 1 - rho})
    times = np.array([t.consensus_time for t in trajs])
    wins = np.array([t.consensus_stance == 0 for t in trajs])
    return times, wins


@check("majority_rule: consensus time ~ ln N, r=3, complete graph, ρ=½", model="majority_rule",
       reference=REFERENCE_KR, quick=True)
def majority_time_log_n() -> CheckResult:
    # Mean consensus time at N = 10², 10³, 10⁴ from ρ = ½ against the exact backward-equation
    # values (each within 4 se), and the slope of T against ln N in [0.55, 0.8]
    # (docs/validation.md, entry 6; mean-field 2/3). sd(T) ≈ 1 sweep, so 400 runs give se ≈ 0.05.
    sizes = (100, 1000, 10_000)
    runs = (1000, 600, 300)
    means, ses, exact = [], [], []
    ok = True
    for k, (n, r) in enumerate(zip(sizes, runs, strict=True)):
        times, _ = _kr_runs(n, 0.5, r, seed=20240601 + k)
        means.append(times.mean())
        ses.append(times.std(ddof=1) / np.sqrt(r))
        up, down = majority3_rates(n)
        exact.append(float(birth_death_time(up, down, n)[n // 2]))
        ok &= abs(means[-1] - exact[-1]) < 4 * ses[-1]
    x = np.log(sizes)
    slope = float(np.polyfit(x, means, 1)[0])
    # se of a least-squares slope with independent errors
    xc = x - x.mean()
    slope_se = float(np.sqrt(np.sum((xc / np.sum(xc**2)) ** 2 * np.square(ses))))
    ok &= 0.55 <= slope <= 0.8
    detail = "; ".join(f"N={n}: {m:.3f} ± {s:.3f} (exact {e:.3f})"
                       for n, m, s, e in zip(sizes, means, ses, exact, strict=True))
    return CheckResult(measured=slope, se=slope_se, passed=bool(ok),
                       expected="slope in [0.55, 0.8]; each T within 4 se of exact",
                       detail=detail)


@check("majority_rule: exit probability, r=3, complete graph, ρ=0.45", model="majority_rule",
       reference=REFERENCE_KR, quick=True)
def majority_exit_probability() -> CheckResult:
    # N = 100: the exact exit probability is measurable; compare within 4 binomial se.
    # N = 1000: the initial majority wins; the exact chance that A wins is tiny, so the
    # number of A wins in the runs must not exceed the 99.9% binomial quantile.
    from scipy.stats import binom

    n, runs, rho = 100, 2000, 0.45
    _, wins = _kr_runs(n, rho, runs, seed=20240611)
    up, down = majority3_rates(n)
    e_exact = float(birth_death_exit(up, down)[round(rho * n)])
    measured = float(wins.mean())
    se = float(np.sqrt(e_exact * (1 - e_exact) / runs))
    ok = abs(measured - e_exact) < 4 * se
    n2, runs2 = 1000, 300
    _, wins2 = _kr_runs(n2, rho, runs2, seed=20240612)
    up2, down2 = majority3_rates(n2)
    e2 = float(birth_death_exit(up2, down2)[round(rho * n2)])
    bound = int(binom.ppf(0.999, runs2, e2))
    ok &= int(wins2.sum()) <= bound
    return CheckResult(
        measured=measured, se=se, passed=bool(ok),
        expected=f"N=100: {e_exact:.4f} ± 4 se; N=1000: A wins <= {bound} of {runs2}",
        detail=f"N=1000: A won {int(wins2.sum())} of {runs2} (exact E = {e2:.2e})")


def galam_map(p: float | np.ndarray) -> np.ndarray:
    """Galam's r = 4 map with ties to B: P(p) = p⁴ + 4p³(1−p).

    Examples
    --------
    >>> pc = (1 + 13 ** 0.5) / 6
    >>> round(float(galam_map(pc) - pc), 12)
    0.0
    """
    p = np.asarray(p, dtype=float)
    return p**4 + 4 * p**3 * (1 - p)


@check("majority_rule: Galam r=4 synchronous map P(p)=p⁴+4p³(1−p), ties to B",
       model="majority_rule", reference=REFERENCE_GALAM, quick=True)
def galam_one_step() -> CheckResult:
    # One synchronous step from an exact share p on N = 10⁴: the new share's mean is exactly
    # the hypergeometric P(X >= 3) (each group is a uniform 4-set). sd of one step ≈
    # sqrt(4P(1−P)/N) ≈ 0.01, so 100 replicas give se ≈ 0.001; tolerance 4 se. Ties to a
    # random stance would give p⁴+4p³(1−p)+3p²(1−p)² instead (0.5 vs 0.3125 at p = ½).
    n, reps = 10_000, 100
    model = get_model("majority_rule")(r=4, update="synchronous", tie="status_quo",
                                       status_quo="B")
    g = complete_graph(n)
    ok = True
    worst = 0.0
    rows = []
    ss = np.random.SeedSequence(20240621)
    for p, child in zip((0.3, 0.5, 0.7, 0.7676, 0.85), ss.spawn(5), strict=True):
        vals = np.empty(reps)
        for k, c in enumerate(child.spawn(reps)):
            st = init_state(model, g, shares={"A": p, "B": 1 - p}, seed=c)
            model.advance(st, g, 1, stop_at_consensus=False)
            vals[k] = st.counts[0] / n
        mean, se = vals.mean(), vals.std(ddof=1) / np.sqrt(reps)
        kk = round(p * n)
        exact = float(hypergeom(n, kk, 4).sf(2))
        z = abs(mean - exact) / se
        worst = max(worst, z)
        ok &= z < 4
        rows.append(f"p={p}: {mean:.4f} ± {se:.4f} (exact {exact:.4f}, P(p) "
                    f"{float(galam_map(kk / n)):.4f})")
    return CheckResult(measured=worst, se=None, passed=bool(ok),
                       expected="|mean − exact| < 4 se at every p (max z shown)",
                       detail="; ".join(rows))


@check("majority_rule: Galam r=4 fixed point (1+√13)/6 ≈ 0.7676, ties to B",
       model="majority_rule", reference=REFERENCE_GALAM, quick=True)
def galam_fixed_point() -> CheckResult:
    # N = 10⁴: the step noise (sd ≈ 0.01 × P'(p_c) ≈ 1.6) is below the distance 0.03 from
    # p_c, so every run from 0.80 must end in A and every run from 0.74 in B.
    n, runs = 10_000, 20
    model = get_model("majority_rule")(r=4, update="synchronous", tie="status_quo",
                                       status_quo="B")
    g = complete_graph(n)
    up = replicate(model, g, runs=runs, seed=20240631, shares={"A": 0.80, "B": 0.20},
                   max_sweeps=1000)
    down = replicate(model, g, runs=runs, seed=20240632, shares={"A": 0.74, "B": 0.26},
                     max_sweeps=1000)
    a_up = np.mean([t.consensus_stance == 0 for t in up])
    b_down = np.mean([t.consensus_stance == 1 for t in down])
    return CheckResult(measured=float(a_up + b_down) / 2, se=None,
                       passed=bool(a_up == 1.0 and b_down == 1.0),
                       expected="A wins all runs from 0.80, B wins all from 0.74",
                       detail=f"A from 0.80: {a_up:.2f}; B from 0.74: {b_down:.2f} "
                       f"({runs} runs each, N={n}; p_c = {(1 + math.sqrt(13)) / 6:.4f})")
