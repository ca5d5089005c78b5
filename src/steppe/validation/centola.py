"""Centola et al. 2018: the mean-field tipping point of memory-based coordination, and runs.

Mean field (derived here, complete graph, N → ∞). Committed share p (playing B); x the
share of uncommitted agents playing B. A memory entry is the play of a random partner, B
with probability y = p + (1 − p)x, entries independent; an uncommitted agent plays B with
probability g(y) = P(Bin(M, y) > M/2) + ½ P(Bin(M, y) = M/2). Steady states solve
x = g(p + (1 − p)x). Starting from the norm (x = 0) the system sits at the lowest root; it
disappears in a saddle-node at the tipping point p_c, found by bisection on whether
g(p + (1 − p)x) − x changes sign on [0, 1). For M = 12, p_c = 0.2419 (for even M the tie
coin makes g the same as for M − 1, so M = 11 gives the same value). The paper reports a
critical mass of about 25% in its experiments (groups of about 20, memory of 12 rounds).

Simulation, N = 1000, complete graph, M = 12, everyone else starts on A (memory full of A).
- Below: p = p_c − 0.02. The low fixed point x* (≈ 0.033) is stable and separated from the
  saddle (x ≈ 0.201) by a gap of 0.17 in x, about thirty times the sd of x at N = 1000
  (~√(x(1−x)/N) ≈ 0.006), so escape takes a time exponential in N: no run of 500 sweeps
  tips. The time-averaged share x (t ∈ [100, 500]) must also equal the mean-field x* within
  four standard errors (spread between 10 runs) plus 0.002 for O(1/N) finite-size
  corrections.
- Above: p = p_c + 0.02. No low fixed point; the flow's bottleneck near the ghost of the
  saddle-node takes a time ~ (p − p_c)^(−1/2) sweeps × the memory turnover time (M/2
  sweeps), a few tens of sweeps; all 10 runs must reach consensus on B within 300 sweeps.
(Measured while writing this check: at N = 1000, 6 of 10 runs tipped within 500 sweeps at
p = 0.24, none at 0.22 and all at 0.26, so ±0.02 is where the outcome becomes certain.)
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.stats import binom

from ..engine.state import Committed
from ..models import get_model
from ..networks import complete_graph
from .base import CheckResult, check, replicate

REFERENCE = "Centola, Becker, Brackbill & Baronchelli 2018, Science 360, 1116"


def play_b_probability(y: float | np.ndarray, memory: int) -> np.ndarray:
    """g(y): probability that an agent whose memory entries are B with probability y plays B.

    Examples
    --------
    >>> round(float(play_b_probability(0.5, 12)), 12)
    0.5
    """
    m = memory
    out = binom.sf(m // 2, m, y)
    if m % 2 == 0:
        out = out + 0.5 * binom.pmf(m // 2, m, y)
    return np.asarray(out, dtype=float)


def _gap(p: float, memory: int, x: np.ndarray) -> np.ndarray:
    return play_b_probability(p + (1 - p) * x, memory) - x


def low_fixed_point(p: float, memory: int = 12) -> float | None:
    """The lowest root x* of x = g(p + (1 − p)x) below x = 1, or None past the tipping point.

    Examples
    --------
    >>> round(low_fixed_point(0.2), 4)
    0.0158
    """
    x = np.linspace(0.0, 1.0, 20001)[:-1]
    h = _gap(p, memory, x)
    below = np.flatnonzero(h <= 0)
    if len(below) == 0:
        return None
    k = below[0]
    if k == 0:
        return 0.0
    return float(brentq(lambda v: float(_gap(p, memory, np.array([v]))[0]), x[k - 1], x[k]))


def tipping_point(memory: int = 12, tol: float = 1e-6) -> float:
    """Mean-field critical committed share p_c (bisection on the low fixed point).

    Examples
    --------
    >>> round(tipping_point(12), 4), round(tipping_point(11), 4)
    (0.2419, 0.2419)
    """
    lo, hi = 0.0, 0.5
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if low_fixed_point(mid, memory) is None:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def _runs(p: float, seed: int, max_sweeps: int, record_every: int) -> list:
    model = get_model("centola")(memory=12)
    return replicate(model, complete_graph(1000), runs=10, seed=seed, shares={"A": 1.0},
                     committed=Committed(stance="B", fraction=p), max_sweeps=max_sweeps,
                     record_every=record_every)


@check("centola: mean-field tipping point, M=12 (experiment: ~25%)", model="centola",
       reference=REFERENCE, quick=True)
def centola_tipping_point() -> CheckResult:
    pc = tipping_point(12)
    return CheckResult(measured=pc, se=None, passed=0.20 <= pc <= 0.30,
                       expected="in [0.20, 0.30] (experimental critical mass ≈ 0.25)",
                       detail=f"M=12: {pc:.4f}; M=11: {tipping_point(11):.4f}")


@check("centola: N=1000 holds the norm at p_c − 0.02, tips at p_c + 0.02", model="centola",
       reference=REFERENCE, quick=True)
def centola_simulated_tipping() -> CheckResult:
    pc = tipping_point(12)
    p_lo = round(pc - 0.02, 3)
    p_hi = round(pc + 0.02, 3)
    below = _runs(p_lo, seed=20240801, max_sweeps=500, record_every=1)
    above = _runs(p_hi, seed=20240802, max_sweeps=300, record_every=1_000_000)
    held = all(t.consensus_stance is None for t in below)
    x = np.array([((t.counts[t.time >= 100, 1].mean() / 1000) - p_lo) / (1 - p_lo)
                  for t in below])
    xm, xse = float(x.mean()), float(x.std(ddof=1) / np.sqrt(len(x)))
    x_star = low_fixed_point(p_lo, 12)
    tipped = all(t.consensus_stance == 1 for t in above)
    times = np.array([t.consensus_time or np.inf for t in above])
    close = x_star is not None and abs(xm - x_star) < 4 * xse + 0.002
    return CheckResult(
        measured=xm, se=xse, passed=bool(held and tipped and close),
        expected=f"p={p_lo}: no tipping in 500 sweeps, x = x* ± (4 se + 0.002); "
                 f"p={p_hi}: all tip within 300",
        detail=f"x* (mean field) = {x_star:.4f}; p={p_hi}: {int(np.sum(np.isfinite(times)))}"
               f"/10 tipped, mean time {times.mean():.1f} sweeps")
