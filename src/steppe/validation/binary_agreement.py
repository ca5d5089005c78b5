"""Binary agreement with committed agents: tipping point, consensus time, metastable state.

Mean field (complete graph, N → ∞), n_A and n_B the shares of *uncommitted* agents holding
A and B (as shares of all N agents), n_AB = 1 − p − n_A − n_B. For ``collapse = "both"``
(Xie et al. 2011, docs/validation.md entry 2):

    dn_A/dt = −n_A n_B + n_AB² + n_A n_AB + (3/2) p n_AB
    dn_B/dt = −n_A n_B + n_AB² + n_B n_AB − p n_B

For ``collapse = "listener_only"`` the same bookkeeping over the nine (speaker, listener)
pairs, dropping the speaker's collapse, gives (derived here):

    dn_A/dt = −n_A n_B + ½ n_AB² + ½ n_A n_AB + p n_AB
    dn_B/dt = −n_A n_B + ½ n_AB² + ½ n_B n_AB − p n_B

(term by term: an A speaker, committed or not, turns AB listeners into A at rate
(n_A + p) n_AB and B listeners into AB at rate (n_A + p) n_B; a B speaker does the
symmetric thing to uncommitted listeners; an AB speaker voices each word at rate ½ n_AB and
converts an AB listener into that word, or adds the word to a listener holding the other
one; with ``"both"`` it also collapses itself when the listener already holds the word,
which adds ½ n_AB (n_A + p) to n_A, ½ n_AB n_B to n_B, and doubles the AB–AB terms.)

The critical fraction p_c is found by bisection on whether the solution started from
(n_A, n_B) = (0, 1 − p) reaches n_B < 10⁻³ by t = 10⁴; published: 0.0979 ("both"),
≈ 0.072 ("listener_only").

Statistical tolerances. n_B at p = 0.08: docs/validation.md gives 0.79 ± 0.03 (the ODE's stable
fixed point is 0.790); the measured value is the mean over 20 runs of the time average over
t ∈ [100, 300], standard error from the spread between runs. Consensus time at p = 0.12:
docs/validation.md gives the band [30, 55] for the mean of 20 runs at N = 1000.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.integrate import solve_ivp

from ..engine.state import Committed
from ..models import get_model
from ..networks import complete_graph
from .base import CheckResult, check, replicate

REFERENCE = "Xie et al. 2011, Phys. Rev. E 84, 011130"


def mean_field_rhs(p: float, collapse: str = "both") -> Callable[[float, np.ndarray], list]:
    """Right-hand side ``f(t, (n_A, n_B))`` of the mean-field equations.

    Examples
    --------
    >>> f = mean_field_rhs(0.1)
    >>> [round(float(v), 6) for v in f(0.0, np.array([0.0, 0.9]))]
    [0.0, -0.09]
    """
    both = collapse == "both"

    def f(t: float, y: np.ndarray) -> list:
        a, b = y
        ab = 1.0 - p - a - b
        if both:
            return [-a * b + ab * ab + a * ab + 1.5 * p * ab,
                    -a * b + ab * ab + b * ab - p * b]
        return [-a * b + 0.5 * ab * ab + 0.5 * a * ab + p * ab,
                -a * b + 0.5 * ab * ab + 0.5 * b * ab - p * b]

    return f


def mean_field_solution(p: float, t_end: float, collapse: str = "both",
                        t_eval: np.ndarray | None = None) -> np.ndarray:
    """(n_A, n_B) from (0, 1 − p) integrated to ``t_end``; rows = times of ``t_eval``
    (or the end point only).

    Examples
    --------
    >>> np.round(mean_field_solution(0.08, 1000.0)[-1], 3).tolist()
    [0.031, 0.79]
    """
    sol = solve_ivp(mean_field_rhs(p, collapse), (0.0, t_end), [0.0, 1.0 - p],
                    t_eval=t_eval, rtol=1e-9, atol=1e-12, method="LSODA")
    return sol.y.T if t_eval is not None else sol.y[:, -1][None, :]


def critical_fraction(collapse: str = "both", lo: float = 0.01, hi: float = 0.2,
                      tol: float = 1e-5) -> float:
    """Mean-field committed fraction above which the B majority collapses (bisection).

    Examples
    --------
    >>> round(critical_fraction(), 4)
    0.0979
    """
    def tips(p: float) -> bool:
        return bool(mean_field_solution(p, 1e4, collapse)[-1, 1] < 1e-3)

    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if tips(mid):
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def _runs(p: float, runs: int, seed: int, max_sweeps: float, collapse: str = "both",
          record_every: int = 1_000_000) -> list:
    model = get_model("binary_agreement")(collapse=collapse)
    return replicate(model, complete_graph(1000), runs=runs, seed=seed,
                     shares={"B": 1.0}, committed=Committed(stance="A", fraction=p),
                     max_sweeps=max_sweeps, record_every=record_every)


@check("binary_agreement: mean-field p_c = 0.0979 (both), ≈ 0.072 (listener_only)",
       model="binary_agreement", reference=REFERENCE, quick=True)
def ba_critical_fraction() -> CheckResult:
    pc = critical_fraction("both")
    pc_lo = critical_fraction("listener_only")
    return CheckResult(measured=pc, se=None,
                       passed=abs(pc - 0.0979) < 5e-4 and abs(pc_lo - 0.072) < 1e-3,
                       expected="0.0979 ± 0.0005 (both); 0.072 ± 0.001 (listener_only)",
                       detail=f"both {pc:.5f}, listener_only {pc_lo:.5f}")


@check("binary_agreement: N=1000, p=0.12: all 20 runs reach A, mean time in [30, 55]",
       model="binary_agreement", reference=REFERENCE, quick=True)
def ba_consensus_above() -> CheckResult:
    trajs = _runs(0.12, 20, seed=20240701, max_sweeps=1000)
    all_a = all(t.consensus_stance == 0 for t in trajs)
    times = np.array([t.consensus_time if t.consensus_time is not None else np.inf
                      for t in trajs])
    mean = float(times.mean())
    se = float(times.std(ddof=1) / np.sqrt(len(times))) if np.isfinite(mean) else None
    return CheckResult(measured=mean, se=se, passed=bool(all_a and 30 <= mean <= 55),
                       expected="all consensus A; mean time in [30, 55]",
                       detail=f"{sum(t.consensus_stance == 0 for t in trajs)}/20 reached A")


@check("binary_agreement: N=1000, p=0.08, 300 time units: no consensus, n_B ≈ 0.79",
       model="binary_agreement", reference=REFERENCE, quick=True)
def ba_metastable_below() -> CheckResult:
    trajs = _runs(0.08, 20, seed=20240702, max_sweeps=300, record_every=1)
    none = all(t.consensus_stance is None for t in trajs)
    nb = np.array([t.counts[(t.time >= 100), 1].mean() / 1000 for t in trajs])
    mean = float(nb.mean())
    se = float(nb.std(ddof=1) / np.sqrt(len(nb)))
    ode = float(mean_field_solution(0.08, 300.0)[-1, 1])
    return CheckResult(measured=mean, se=se, passed=bool(none and abs(mean - 0.79) < 0.03),
                       expected="no consensus; 0.79 ± 0.03",
                       detail=f"time average over t in [100, 300], 20 runs; "
                              f"mean-field n_B(300) = {ode:.4f}")


@check("binary_agreement: p=0.085 between the two p_c: both holds B, listener_only tips",
       model="binary_agreement", reference="Xie et al. 2011; Baronchelli et al. 2007",
       quick=True)
def ba_variants_differ() -> CheckResult:
    both = _runs(0.085, 10, seed=20240703, max_sweeps=300, record_every=1)
    lo = _runs(0.085, 10, seed=20240704, max_sweeps=300, collapse="listener_only")
    both_holds = all(t.consensus_stance is None and t.counts[-1, 1] > 500 for t in both)
    lo_tips = all(t.consensus_stance == 0 for t in lo)
    nb = np.array([t.counts[(t.time >= 100), 1].mean() / 1000 for t in both])
    ode_both = float(mean_field_solution(0.085, 1000.0)[-1, 1])
    ode_lo = float(mean_field_solution(0.085, 1000.0, "listener_only")[-1, 1])
    times = np.array([t.consensus_time or np.inf for t in lo])
    return CheckResult(
        measured=float(nb.mean()), se=float(nb.std(ddof=1) / np.sqrt(len(nb))),
        passed=bool(both_holds and lo_tips),
        expected="both: no consensus, B majority in all 10 runs; listener_only: A in all 10",
        detail=f"both: n_B {nb.mean():.3f} (mean field {ode_both:.3f}); listener_only: "
               f"mean time to A {times.mean():.1f} (mean field n_B → {ode_lo:.1e})")
