"""Majority-vote model: the complete-graph stationary magnetisation and the lattice transition.

Complete graph. While the majority stance stays the same (it does, for |m| ≫ 1/√N), every
update sets the chosen agent to the majority stance with probability 1 − f, independently
of everything else; once every agent has been updated, the agents are independent
Bernoulli(1 − f) variables. So m = (n_A − n_B)/N has mean 1 − 2f exactly and standard
deviation 2√(f(1 − f)/N). The time average of |m| over a run is compared with 1 − 2f; its
standard error comes from batch means (20 batches much longer than the ~1-sweep
relaxation time), tolerance four standard errors.

Square lattice (periodic L × L, 4 neighbours): Oliveira (1992) finds f_c ≈ 0.075. At f = 0.05,
well inside the ordered phase, |m| is close to its bulk value (≈ 0.87, independent of L
for L ≫ ξ); at f = 0.10 the system is disordered, and |m| ~ √(χ/N) ∝ 1/L decays with the
size. The check therefore asks, with L = 32 and 64: ordered at f = 0.05 (⟨|m|⟩ > 0.7 at both
sizes, and the two sizes agree within 4 se), disordered at f = 0.10 (⟨|m|⟩ < 0.25 and the
L = 64 value at least 4 se below the L = 32 value). A rule with the wrong critical noise by
more than a few thousandths fails one of the two. The Binder cumulant
U = 1 − ⟨m⁴⟩/(3⟨m²⟩²) of L = 16 and L = 32 must cross between f = 0.06 and f = 0.09: larger
for L = 32 at 0.06 (ordered side), smaller at 0.09 (disordered side), each difference beyond
two standard errors (batch means).
"""

from __future__ import annotations

import numpy as np

from ..engine.state import init_state
from ..models import get_model
from ..networks import Network, complete_graph
from .base import CheckResult, check

REFERENCE = "M. J. de Oliveira 1992, J. Stat. Phys. 66, 273"


def square_lattice(L: int) -> Network:
    """Periodic L × L square lattice, agent id = row·L + col, 4 neighbours (private helper
    of the checks, so that they do not depend on the network builders).

    Examples
    --------
    >>> g = square_lattice(4)
    >>> g.n, g.n_edges, sorted(g.neighbors(0).tolist())
    (16, 32, [1, 3, 4, 12])
    """
    r, c = np.divmod(np.arange(L * L), L)
    nb = np.stack([((r - 1) % L) * L + c, ((r + 1) % L) * L + c,
                   r * L + (c - 1) % L, r * L + (c + 1) % L], axis=1)
    return Network.from_csr(np.arange(0, 4 * L * L + 1, 4), nb.ravel(), shape=(L, L),
                            name="lattice", params={"shape": (L, L), "periodic": True})


def magnetisation_series(network: Network, f: float, sweeps: int, burn: int,
                         seed: int) -> np.ndarray:
    """m = (n_A − n_B)/N after each of ``sweeps`` sweeps, after ``burn`` sweeps from all-A.

    Examples
    --------
    >>> m = magnetisation_series(complete_graph(100), 0.1, sweeps=5, burn=5, seed=0)
    >>> m.shape
    (5,)
    """
    model = get_model("majority_vote")(f=f)
    st = init_state(model, network, shares={"A": 1.0}, seed=seed)
    model.advance(st, network, burn, False)
    out = np.empty(sweeps)
    for k in range(sweeps):
        model.advance(st, network, 1, False)
        out[k] = (st.counts[0] - st.counts[1]) / st.n
    return out


def batch_mean(x: np.ndarray, batches: int = 20) -> tuple[float, float]:
    """Mean of a time series and its batch-means standard error.

    Examples
    --------
    >>> batch_mean(np.arange(40.0), batches=4)[0]
    19.5
    """
    b = x[: len(x) // batches * batches].reshape(batches, -1).mean(axis=1)
    return float(x.mean()), float(b.std(ddof=1) / np.sqrt(batches))


def binder(m: np.ndarray, batches: int = 20) -> tuple[float, float]:
    """Binder cumulant 1 − ⟨m⁴⟩/(3⟨m²⟩²) and its batch-means standard error."""
    u = 1 - np.mean(m**4) / (3 * np.mean(m**2) ** 2)
    b = m[: len(m) // batches * batches].reshape(batches, -1)
    ub = 1 - (b**4).mean(1) / (3 * (b**2).mean(1) ** 2)
    return float(u), float(ub.std(ddof=1) / np.sqrt(batches))


def _complete_check(f: float, seed: int) -> CheckResult:
    n = 2000
    m = magnetisation_series(complete_graph(n), f, sweeps=2000, burn=50, seed=seed)
    mean, se = batch_mean(np.abs(m))
    expected = 1 - 2 * f
    sd_theory = 2 * np.sqrt(f * (1 - f) / n)
    return CheckResult(measured=mean, se=se, passed=abs(mean - expected) < 4 * se,
                       expected=f"{expected:.3f} ± 4 se",
                       detail=f"N={n}, 2000 sweeps; sd(m) {m.std():.4f}, "
                              f"binomial theory {sd_theory:.4f}")


@check("majority_vote: stationary |m| = 1 − 2f, complete graph, N=2000, f=0.1",
       model="majority_vote", reference=REFERENCE, quick=True)
def mv_complete_f010() -> CheckResult:
    return _complete_check(0.1, seed=20240601)


@check("majority_vote: stationary |m| = 1 − 2f, complete graph, N=2000, f=0.3",
       model="majority_vote", reference=REFERENCE)
def mv_complete_f030() -> CheckResult:
    return _complete_check(0.3, seed=20240602)


@check("majority_vote: square lattice ordered at f=0.05, disordered at f=0.10 (f_c≈0.075)",
       model="majority_vote", reference=REFERENCE, quick=True)
def mv_lattice_phases() -> CheckResult:
    res = {}
    for f in (0.05, 0.10):
        for L in (32, 64):
            m = magnetisation_series(square_lattice(L), f, sweeps=2000, burn=500,
                                     seed=20240610 + L + int(f * 1000))
            res[f, L] = batch_mean(np.abs(m))
    (o32, so32), (o64, so64) = res[0.05, 32], res[0.05, 64]
    (d32, sd32), (d64, sd64) = res[0.10, 32], res[0.10, 64]
    ordered = o32 > 0.7 and o64 > 0.7 and abs(o64 - o32) < 4 * np.hypot(so32, so64)
    disordered = d64 < 0.25 and d32 - d64 > 4 * np.hypot(sd32, sd64)
    return CheckResult(
        measured=o64, se=so64, passed=bool(ordered and disordered),
        expected="f=0.05: ⟨|m|⟩ > 0.7, same for L=32, 64; f=0.10: < 0.25, falling with L",
        detail=f"f=0.05: L=32 {o32:.3f}±{so32:.3f}, L=64 {o64:.3f}±{so64:.3f}; "
               f"f=0.10: L=32 {d32:.3f}±{sd32:.3f}, L=64 {d64:.3f}±{sd64:.3f}")


@check("majority_vote: Binder cumulants of L=16, 32 cross between f=0.06 and f=0.09",
       model="majority_vote", reference=REFERENCE)
def mv_binder_crossing() -> CheckResult:
    diffs = []
    for f in (0.06, 0.09):
        u = {}
        for L in (16, 32):
            m = magnetisation_series(square_lattice(L), f, sweeps=20000, burn=1000,
                                     seed=20240620 + L + int(f * 1000))
            u[L] = binder(m)
        diffs.append((u[32][0] - u[16][0], float(np.hypot(u[32][1], u[16][1]))))
    (d_lo, s_lo), (d_hi, s_hi) = diffs
    passed = d_lo > 2 * s_lo and d_hi < -2 * s_hi
    return CheckResult(measured=d_hi, se=s_hi, passed=bool(passed),
                       expected="U32 − U16 > 2 se at f=0.06 and < −2 se at f=0.09",
                       detail=f"U32 − U16: f=0.06 {d_lo:+.4f}±{s_lo:.4f}, "
                              f"f=0.09 {d_hi:+.4f}±{s_hi:.4f}")
