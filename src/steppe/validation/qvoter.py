"""q-voter model with nonconformity on the complete graph (Nyczka, Sznajd-Weron & Cisło 2012).

The mean-field steady state c* (share of the majority) solves p = A/(c^q − (1−c)^q) for
anticonformity and p = A/(A + c − ½) for independence, A = (1−c)c^q − c(1−c)^q
(:func:`steppe.models.qvoter.mean_field_share`). For q = 4, anticonformity, p = 0.25 it gives
|m*| = 2c* − 1 = 0.4859, the value docs/validation.md entry 3 quotes (0.486 ± 0.02).

Finite N: the share c performs a diffusion dc = f(c) dt + sqrt(D(c)/N) dW with drift
f = w₊ − w₋ (per sweep) and D = w₊ + w₋, where w₊ and w₋ are the mean-field flip rates
(:func:`flip_rates`). Since E[f(c)] = 0 in the steady state, expanding to second
order gives the leading finite-size shift of the time average, ⟨c⟩ − c* ≈ −f''(c*)σ_c²/(2f'(c*)),
with σ_c² the measured variance of c (O(1/N)). The checks compare the time average with
c* plus this shift, within 4 batch-means standard errors plus half the shift (for the
neglected higher orders). Above p_c the linear-noise approximation around c = ½ gives
var(m) = 4·D(½)/(2N|f'(½)|) and ⟨|m|⟩ = sqrt(2 var(m)/π) = O(1/√N).
"""

from __future__ import annotations

import numpy as np

from ..engine.state import init_state
from ..models import get_model
from ..models.qvoter import mean_field_share
from ..networks import complete_graph
from .base import CheckResult, check

__all__ = ["flip_rates", "time_series_m"]

REFERENCE = "Nyczka, Sznajd-Weron & Cisło 2012, Phys. Rev. E 86, 011105"


def flip_rates(c: float | np.ndarray, q: int, p: float,
               nonconformity: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean-field rates (per update) w₊ (a B agent becomes A) and w₋ at share c of A.

    Examples
    --------
    >>> up, down = flip_rates(0.5, 4, 0.2, "independence")
    >>> bool(np.isclose(up, down))
    True
    """
    c = np.asarray(c, dtype=float)
    if nonconformity == "anticonformity":
        up = (1 - c) * ((1 - p) * c**q + p * (1 - c) ** q)
        down = c * ((1 - p) * (1 - c) ** q + p * c**q)
    else:
        up = (1 - c) * ((1 - p) * c**q + p / 2)
        down = c * ((1 - p) * (1 - c) ** q + p / 2)
    return up, down


def time_series_m(q: int, p: float, nonconformity: str, n: int, sweeps: int, seed: int,
                  start_a: float = 1.0) -> np.ndarray:
    """m = 2c − 1 after each of ``sweeps`` sweeps of one run on the complete graph.

    Examples
    --------
    >>> m = time_series_m(4, 0.0, "independence", 100, 3, seed=0)
    >>> m.tolist()
    [1.0, 1.0, 1.0]
    """
    model = get_model("qvoter")(q=q, p=p, nonconformity=nonconformity)
    g = complete_graph(n)
    st = init_state(model, g, shares={"A": start_a, "B": 1 - start_a}, seed=seed)
    out = np.empty(sweeps)
    for t in range(sweeps):
        model.advance(st, g, 1, stop_at_consensus=False)
        out[t] = 2 * st.counts[0] / n - 1
    return out


def _batch_se(x: np.ndarray, batches: int = 20) -> float:
    b = x[: len(x) // batches * batches].reshape(batches, -1).mean(axis=1)
    return float(b.std(ddof=1) / np.sqrt(batches))


def _ordered_check(q: int, p: float, nonconformity: str, n: int, sweeps: int, discard: int,
                   seed: int, published: float | None = None) -> CheckResult:
    m = np.abs(time_series_m(q, p, nonconformity, n, sweeps, seed)[discard:])
    mean, se = float(m.mean()), _batch_se(m)
    c_star = mean_field_share(q, p, nonconformity)
    # leading finite-size shift from the measured variance (see module docstring)
    var_c = float(m.var()) / 4
    h = 1e-4

    def f(c: float) -> float:
        up, down = flip_rates(c, q, p, nonconformity)
        return float(up - down)

    f1 = (f(c_star + h) - f(c_star - h)) / (2 * h)
    f2 = (f(c_star + h) - 2 * f(c_star) + f(c_star - h)) / h**2
    shift_m = 2 * (-f2 * var_c / (2 * f1))
    theory = 2 * c_star - 1 + shift_m
    tol = 4 * se + abs(shift_m) / 2
    ok = abs(mean - theory) < tol
    expected = f"{theory:.4f} (mean field {2 * c_star - 1:.4f} + finite-N {shift_m:+.4f})"
    if published is not None:
        ok &= abs(mean - published) < 0.02
        expected += f"; published {published} ± 0.02"
    return CheckResult(measured=mean, se=se, passed=bool(ok), expected=expected,
                       detail=f"N={n}, q={q}, {nonconformity} p={p}, {sweeps} MCS from all A, "
                       f"first {discard} discarded; tolerance {tol:.4f}")


@check("qvoter: anticonformity q=4 p=0.25, ⟨|m|⟩ on complete graph N=1000", model="qvoter",
       reference=REFERENCE, quick=True)
def qvoter_anticonformity() -> CheckResult:
    return _ordered_check(4, 0.25, "anticonformity", 1000, 1000, 200, seed=20240701,
                          published=0.486)


@check("qvoter: independence q=4 p=0.1, ⟨|m|⟩ vs mean field, complete graph N=1000",
       model="qvoter", reference=REFERENCE, quick=True)
def qvoter_independence() -> CheckResult:
    return _ordered_check(4, 0.1, "independence", 1000, 2000, 200, seed=20240702)


@check("qvoter: disordered above p_c, anticonformity q=4 p=0.5, ⟨|m|⟩ = O(1/√N)",
       model="qvoter", reference=REFERENCE, quick=True)
def qvoter_disordered() -> CheckResult:
    # p_c = (q−1)/(2q) = 0.375. Linear-noise prediction of ⟨|m|⟩ at N = 1000; tolerance
    # 4 batch se plus 5% for the O(1/N) corrections to the Gaussian approximation.
    q, p, n = 4, 0.5, 1000
    m = np.abs(time_series_m(q, p, "anticonformity", n, 4000, seed=20240703,
                             start_a=0.5)[100:])
    mean, se = float(m.mean()), _batch_se(m)
    h = 1e-4
    up, down = flip_rates(np.array([0.5 - h, 0.5, 0.5 + h]), q, p, "anticonformity")
    f1 = float(((up - down)[2] - (up - down)[0]) / (2 * h))
    var_m = 4 * float(up[1] + down[1]) / (2 * n * abs(f1))
    theory = float(np.sqrt(2 * var_m / np.pi))
    tol = 4 * se + 0.05 * theory
    return CheckResult(measured=mean, se=se, passed=abs(mean - theory) < tol,
                       expected=f"{theory:.4f} (linear noise) ± {tol:.4f}",
                       detail=f"N={n}, 3900 MCS; ordered mean field would give "
                       f"{2 * mean_field_share(q, 0.25, 'anticonformity') - 1:.3f} at p=0.25")
