"""Granovetter's threshold model: the riot examples, the normal-threshold jump, Watts cascades.

- Exact (docs/validation.md, entry 5; Granovetter 1978): 100 agents on the complete graph with
  thresholds 0, 1, ..., 99, nobody active at the start: all 100 join, one per synchronous
  step. Give the agent with threshold 1 the threshold 2: exactly 1 joins.
- Normal thresholds (Granovetter 1978, the crowd of 100 with mean threshold 25): from nobody
  active the equilibrium is the first fixed point of ``r = N F(r)``. It jumps from a small
  riot to almost everyone when the standard deviation crosses σ_c; solving the mean-field
  iteration gives σ_c = 12.22 (Granovetter: 12.2). The check scales the crowd up (N =
  100 000, mean 25 000, sd σ·1000) so that the empirical threshold distribution is close to
  the normal one, and compares with the mean-field fixed point at σ = 11 (below σ_c:
  0.01713 N) and σ = 13.5 (above: everyone, to within 1e-8). The run-to-run spread at σ = 11
  comes from the empirical distribution function, sd ≈ sqrt(F(1−F)/N) / (1 − F'(r*)) ≈ 6e-4
  of N (F' = 0.39 at the fixed point), so the mean of 12 runs is compared within 4 standard
  errors measured from the runs; at σ = 13.5 the lower fixed point is gone (below 0.9 N the
  gap N F(r) − r is at least 0.019 N, some thirty times the sampling noise of N F, ≈ 5e-4 N),
  so every run must end with more than 99.9% active.
- Watts 2002 (fractional thresholds φ = 0.18 on Erdős–Rényi graphs, one active seed): a
  global cascade is possible only inside the cascade window, where Σ_k k(k−1) ρ_k p_k > z
  (ρ_k = 1 for the vulnerable degrees k ≤ 1/φ); for φ = 0.18 that is 1.02 < z < 5.76. Its
  frequency is the size of the extended vulnerable cluster, 1 − G0(u) with
  u = 1 − Σ_k (k p_k / z) ρ_k (1 − u^(k−1)): 0.865 at z = 4. At z = 20, outside the window,
  a seed's neighbours have degree ≈ 20 and need ⌈0.18 k⌉ ≥ 2 active neighbours; the chance
  that even one neighbour is vulnerable (k ≤ 5) is ≈ 20·P(Poisson(20) ≤ 5) ≈ 1.4e-3, and a
  vulnerable neighbour must in turn find vulnerable neighbours, so no global cascade may
  occur in 200 runs. A cascade is "global" above 10% of the agents: the
  final sizes are bimodal (a handful of agents or ≈ 98%), so any cut between works.
  N = 10 000, a new graph every 20 runs; the frequency at z = 4 is compared within 4
  binomial standard errors (finite-size corrections deep inside the window are far smaller).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm, poisson

from ..distributions import Normal
from ..engine.state import Committed, init_state
from ..models import get_model
from ..models.base import Model
from ..networks import complete_graph, erdos_renyi
from ..networks.base import Network
from ..state import State
from .base import CheckResult, check

__all__ = ["cascade_window_excess", "mean_field_participation", "run_to_rest",
           "watts_cascade_frequency"]

GRANOVETTER = "Granovetter 1978, Am. J. Sociol. 83, 1420"
WATTS = "Watts 2002, Proc. Natl. Acad. Sci. USA 99, 5766"


def run_to_rest(model: Model, network: Network, state: State, max_steps: int) -> State:
    """Advance until a fixed point (``is_frozen``), everyone active, or ``max_steps``.

    Examples
    --------
    >>> g = complete_graph(100)
    >>> m = get_model("granovetter")(thresholds=list(range(100)))
    >>> st = run_to_rest(m, g, init_state(m, g, seed=0), 1000)
    >>> int(st.counts[1]), st.time
    (100, 100.0)
    """
    while state.time < max_steps:
        state.time += model.advance(state, network, int(max_steps - state.time), True)
        if model.consensus_stance(state) is not None or model.is_frozen(state, network):
            break
    return state


def mean_field_participation(sigma: float, mean: float = 25.0, n: float = 100.0) -> float:
    """First fixed point of ``r <- n Φ((r − mean)/σ)`` from ``r = 0`` (Granovetter 1978).

    Examples
    --------
    >>> round(mean_field_participation(11.0), 3), round(mean_field_participation(13.0))
    (1.713, 100)
    """
    # The iteration from 0 climbs to the smallest root of h(r) = n Φ((r − mean)/σ) − r
    # (h(0) > 0); find its bracket on a fine grid, then solve.
    r = np.linspace(0.0, n, 200_001)
    h = n * norm.cdf((r - mean) / sigma) - r
    down = np.flatnonzero(h <= 0)
    if len(down) == 0:  # pragma: no cover - h(n) = n(Φ − 1) < 0 always
        return n
    j = int(down[0])
    if j == 0 or h[j] == 0:
        return float(r[j])
    return float(brentq(lambda x: n * norm.cdf((x - mean) / sigma) - x, r[j - 1], r[j],
                        xtol=1e-12))


def critical_sigma(mean: float = 25.0, n: float = 100.0) -> float:
    """The σ at which the mean-field participation jumps (bisection; 12.22 for mean 25).

    Examples
    --------
    >>> round(critical_sigma(), 2)
    12.22
    """
    lo, hi = 1.0, 50.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if mean_field_participation(mid, mean, n) > n / 2:
            hi = mid
        else:
            lo = mid
    return lo


def _vulnerable(k: np.ndarray, phi: float) -> np.ndarray:
    return ((k > 0) & (phi * k <= 1.0)).astype(float)


def cascade_window_excess(z: float, phi: float) -> float:
    """Watts' condition for Poisson degrees: Σ_k k(k−1) ρ_k p_k − z (> 0 inside the window).

    Examples
    --------
    >>> cascade_window_excess(4, 0.18) > 0, cascade_window_excess(20, 0.18) > 0
    (True, False)
    """
    k = np.arange(0, int(z + 20 * np.sqrt(z + 1) + 20))
    pk = poisson.pmf(k, z)
    return float(np.sum(k * (k - 1) * _vulnerable(k, phi) * pk) - z)


def watts_cascade_frequency(z: float, phi: float) -> float:
    """Size of the extended vulnerable cluster, 1 − G0(u), for Poisson(z) degrees.

    Examples
    --------
    >>> round(watts_cascade_frequency(4, 0.18), 3), watts_cascade_frequency(20, 0.18) < 1e-9
    (0.865, True)
    """
    k = np.arange(0, int(z + 20 * np.sqrt(z + 1) + 20))
    pk = poisson.pmf(k, z)
    rho = _vulnerable(k, phi)
    u = 0.0
    for _ in range(1_000_000):
        nxt = 1.0 - float(np.sum(k * pk / z * rho * (1.0 - u ** np.maximum(k - 1, 0))))
        if abs(nxt - u) < 1e-14:
            break
        u = nxt
    return 1.0 - float(np.sum(pk * u**k))


def _riot(thresholds: list[float]) -> int:
    g = complete_graph(len(thresholds))
    m = get_model("granovetter")(thresholds=thresholds)
    st = run_to_rest(m, g, init_state(m, g, seed=0), 10 * len(thresholds))
    return int(st.counts[1])


@check("granovetter: thresholds 0..99 on the complete graph → all 100 join",
       model="granovetter", reference=GRANOVETTER, quick=True)
def granovetter_uniform_riot() -> CheckResult:
    joined = _riot([float(t) for t in range(100)])
    return CheckResult(measured=joined, passed=joined == 100, expected="100 (exact)",
                       detail="synchronous, from nobody active")


@check("granovetter: thresholds 0, 2, 2, 3..99 → exactly 1 joins", model="granovetter",
       reference=GRANOVETTER, quick=True)
def granovetter_broken_riot() -> CheckResult:
    joined = _riot([0.0, 2.0] + [float(t) for t in range(2, 100)])
    return CheckResult(measured=joined, passed=joined == 1, expected="1 (exact)",
                       detail="the agent with threshold 1 given threshold 2")


def _normal_runs(sigma: float, runs: int, seed: int, scale: int = 1000) -> np.ndarray:
    n = 100 * scale
    g = complete_graph(n)
    m = get_model("granovetter")(threshold=Normal(dist="normal", mean=25.0 * scale,
                                                  sd=sigma * scale))
    out = []
    for ss in np.random.SeedSequence(seed).spawn(runs):
        st = run_to_rest(m, g, init_state(m, g, seed=ss), 100_000)
        out.append(st.counts[1] / n)
    return np.asarray(out)


@check("granovetter: normal thresholds (mean 25%), sd 11% < σ_c = 12.2% → small riot",
       model="granovetter", reference=GRANOVETTER, quick=True)
def granovetter_normal_below() -> CheckResult:
    runs = 12
    x = _normal_runs(11.0, runs, seed=19781420)
    expected = mean_field_participation(11.0) / 100
    mean, se = float(x.mean()), float(x.std(ddof=1) / np.sqrt(runs))
    return CheckResult(measured=mean, se=se, passed=abs(mean - expected) < 4 * se,
                       expected=f"{expected:.5f} ± 4 se (mean field)",
                       detail=f"{runs} runs, N=100000, share active at rest; "
                              f"mean-field σ_c = {critical_sigma():.2f}%")


@check("granovetter: normal thresholds (mean 25%), sd 13.5% > σ_c = 12.2% → almost all",
       model="granovetter", reference=GRANOVETTER, quick=True)
def granovetter_normal_above() -> CheckResult:
    runs = 4
    x = _normal_runs(13.5, runs, seed=19781421)
    return CheckResult(measured=float(x.min()), passed=bool(x.min() > 0.999),
                       expected="> 0.999 in every run (mean field: 1 − 1e-8)",
                       detail=f"{runs} runs, N=100000; smallest share active at rest")


def _watts_runs(z: float, runs: int, seed: int, n: int = 10_000, phi: float = 0.18,
                per_graph: int = 20) -> np.ndarray:
    m = get_model("granovetter")(mode="fraction", threshold=phi)
    seedling = Committed(stance="active", fraction=1.0 / n)
    out = []
    g = None
    for r, ss in enumerate(np.random.SeedSequence(seed).spawn(runs)):
        if r % per_graph == 0:
            g = erdos_renyi(n, z, seed=ss.spawn(1)[0])
        st = run_to_rest(m, g, init_state(m, g, committed=seedling, seed=ss), 100_000)
        out.append(st.counts[1] / n)
    return np.asarray(out)


@check("granovetter (fraction): Watts cascade frequency, φ=0.18, ER z=4 (inside window)",
       model="granovetter", reference=WATTS)
def watts_inside_window() -> CheckResult:
    runs = 200
    x = _watts_runs(4.0, runs, seed=2002)
    freq = float(np.mean(x > 0.1))
    expected = watts_cascade_frequency(4.0, 0.18)
    se = float(np.sqrt(expected * (1 - expected) / runs))
    return CheckResult(measured=freq, se=se, passed=abs(freq - expected) < 4 * se,
                       expected=f"{expected:.3f} ± 4 se (extended vulnerable cluster)",
                       detail=f"{runs} runs, N=10000, one seed; mean global cascade size "
                              f"{x[x > 0.1].mean() if freq > 0 else 0:.3f}")


@check("granovetter (fraction): no Watts cascade, φ=0.18, ER z=20 (outside window)",
       model="granovetter", reference=WATTS)
def watts_outside_window() -> CheckResult:
    runs = 200
    x = _watts_runs(20.0, runs, seed=2003)
    freq = float(np.mean(x > 0.1))
    return CheckResult(measured=freq, passed=freq == 0.0,
                       expected="0 global cascades in 200 runs (window 1.02 < z < 5.76)",
                       detail=f"{runs} runs, N=10000; largest share active "
                              f"{x.max():.4f}")
