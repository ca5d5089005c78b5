"""Friedkin–Johnsen and EPO: the simulated limit equals the direct solution of the linear
fixed-point equations (docs/validation.md, entry 7), and EPO's expressed opinions agree more
closely than its private ones.

Friedkin–Johnsen: ``x* = (I − ΛW)⁻¹ (I − Λ) x(0)``, solved with ``scipy.sparse.linalg.spsolve``.
EPO (Ye et al. 2019): the 2n linear equations ``x* = ΛW_d x* + Λ(W − W_d) x̂* + (I − Λ)x(0)``,
``x̂* = Φx* + (I − Φ)W x̂*``, solved jointly as one sparse block system. Both runs use
heterogeneous λ_i ~ U(0.2, 0.9) (and φ_i ~ U(0.1, 0.9)) and are stepped (in chunks of 10,
not stopping at a category consensus) until no opinion moves by 1e-12 in one step. For
Friedkin–Johnsen the contraction factor is at most max λ_i = 0.9 (‖ΛW‖_∞), so the distance
to the limit is then below 1e-12 · 0.9 / 0.1 ≈ 1e-11, far inside the 1e-8 tolerance; EPO
contracts at a comparable rate (measured errors ~1e-12). The checks are deterministic
(fixed seeds), so "se" is None.

Committed agents enter the direct solution as λ_i = 0 (and φ_i = 1): their private opinion
is their initial one.

Examples
--------
>>> from steppe.validation.friedkin_johnsen import fj_fixed_point_error
>>> err, steps = fj_fixed_point_error("complete", n=30, seed=1)
>>> bool(err < 1e-8)
True
"""

from __future__ import annotations

import numpy as np

from ..distributions import Uniform
from ..engine.state import Committed, init_state
from ..models import get_model
from ..models._linear import influence_matrix
from ..networks import complete_graph, erdos_renyi
from ..networks.base import Network
from .base import CheckResult, check

REFERENCE_FJ = "Friedkin & Johnsen 1990, 1999; docs/validation.md entry 7"
REFERENCE_EPO = "Ye, Qin, Govaert, Anderson & Cao 2019, Automatica 107, 371"
TOL = 1e-8
_LAM = Uniform(dist="uniform", low=0.2, high=0.9)
_PHI = Uniform(dist="uniform", low=0.1, high=0.9)


def _network(kind: str, n: int) -> Network:
    return complete_graph(n) if kind == "complete" else erdos_renyi(n, 6.0, seed=7)


def _run(model_name: str, kind: str, n: int, seed: int, **params):
    model = get_model(model_name)(tolerance=1e-12, **params)
    net = _network(kind, n)
    state = init_state(model, net, committed=Committed(stance="pro", fraction=0.05),
                       seed=seed)
    # step until frozen (not stopping at a category consensus, which is not the limit)
    steps = 0.0
    while not model.is_frozen(state, net) and steps < 20_000:
        steps += model.advance(state, net, 10, stop_at_consensus=False)
    return model, net, state, steps


def fj_direct(net: Network, state) -> np.ndarray:
    """``(I − ΛW)⁻¹(I − Λ)x(0)`` for the state's weights and susceptibilities
    (committed agents: λ = 0)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    a = state.aux
    lam = np.where(state.committed, 0.0, a["susceptibility"])
    w = influence_matrix(net, a["self_weight"], a["neighbour_weight"])
    m = (sp.identity(net.n, format="csr") - sp.diags_array(lam) @ w).tocsc()
    return spsolve(m, (1.0 - lam) * a["initial_opinion"])


def epo_direct(net: Network, state) -> tuple[np.ndarray, np.ndarray]:
    """The joint fixed point ``(x*, x̂*)`` of the EPO equations (committed: λ = 0, φ = 1)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    a = state.aux
    n = net.n
    lam = np.where(state.committed, 0.0, a["susceptibility"])
    phi = np.where(state.committed, 1.0, a["resilience"])
    w = influence_matrix(net, a["self_weight"], a["neighbour_weight"])
    wd = sp.diags_array(a["self_weight"])
    eye = sp.identity(n, format="csr")
    big = sp.block_array([
        [eye - sp.diags_array(lam) @ wd, -(sp.diags_array(lam) @ (w - wd))],
        [-sp.diags_array(phi), eye - sp.diags_array(1.0 - phi) @ w],
    ]).tocsc()
    rhs = np.concatenate([(1.0 - lam) * a["initial_opinion"], np.zeros(n)])
    z = spsolve(big, rhs)
    return z[:n], z[n:]


def fj_fixed_point_error(kind: str, n: int, seed: int) -> tuple[float, float]:
    """Max |x_sim − x*| of a Friedkin–Johnsen run to convergence, and its length."""
    _, net, state, steps = _run("friedkin_johnsen", kind, n, seed, susceptibility=_LAM)
    return float(np.max(np.abs(state.opinion - fj_direct(net, state)))), steps


def epo_fixed_point_error(kind: str, n: int, seed: int) -> tuple[float, float]:
    """Max over private and expressed opinions of |simulated − direct| for an EPO run."""
    _, net, state, steps = _run("epo", kind, n, seed, susceptibility=_LAM, resilience=_PHI)
    x, xh = epo_direct(net, state)
    err = max(np.max(np.abs(state.opinion - x)), np.max(np.abs(state.expressed_opinion - xh)))
    return float(err), steps


def _fixed_point_result(err: float, steps: float, what: str) -> CheckResult:
    return CheckResult(measured=err, passed=bool(err < TOL), expected=f"max error < {TOL:g}",
                       detail=f"{what}; converged in {steps:g} steps")


@check("friedkin_johnsen: limit = (I − ΛW)⁻¹(I − Λ)x(0), Erdős–Rényi n=200", quick=True,
       model="friedkin_johnsen", reference=REFERENCE_FJ)
def fj_limit_er() -> CheckResult:
    err, steps = fj_fixed_point_error("erdos_renyi", 200, seed=11)
    return _fixed_point_result(err, steps, "ER n=200, <k>=6, λ~U(0.2,0.9), 5% committed")


@check("friedkin_johnsen: limit = (I − ΛW)⁻¹(I − Λ)x(0), complete graph n=50", quick=True,
       model="friedkin_johnsen", reference=REFERENCE_FJ)
def fj_limit_complete() -> CheckResult:
    err, steps = fj_fixed_point_error("complete", 50, seed=12)
    return _fixed_point_result(err, steps, "complete n=50, λ~U(0.2,0.9), 5% committed")


@check("epo: limit (x*, x̂*) = direct solution of the fixed-point equations, ER n=200",
       quick=True, model="epo", reference=REFERENCE_EPO)
def epo_limit_er() -> CheckResult:
    err, steps = epo_fixed_point_error("erdos_renyi", 200, seed=13)
    return _fixed_point_result(err, steps, "ER n=200, λ~U(0.2,0.9), φ~U(0.1,0.9)")


@check("epo: limit (x*, x̂*) = direct solution of the fixed-point equations, complete n=50",
       quick=True, model="epo", reference=REFERENCE_EPO)
def epo_limit_complete() -> CheckResult:
    err, steps = epo_fixed_point_error("complete", 50, seed=14)
    return _fixed_point_result(err, steps, "complete n=50, λ~U(0.2,0.9), φ~U(0.1,0.9)")


@check("epo: expressed opinions agree more closely than private ones (range of x̂* "
       "within range of x*)", quick=True, model="epo", reference=REFERENCE_EPO)
def epo_expressed_closer() -> CheckResult:
    # At the limit x̂*_i = φ_i x*_i + (1 − φ_i) Σ_j w_ij x̂*_j. At the agent with the largest
    # x̂*, max x̂* ≤ φ_i x*_i + (1 − φ_i) max x̂*, so max x̂* ≤ x*_i ≤ max x* when φ_i > 0;
    # likewise min x̂* ≥ min x*: expressed disagreement never exceeds private disagreement
    # (Ye et al. 2019, Sec. 4). Measured: range(x̂*) / range(x*), expected < 1.
    _, _, state, _ = _run("epo", "erdos_renyi", 200, 15, susceptibility=_LAM, resilience=_PHI)
    x, xh = state.opinion, state.expressed_opinion
    ratio = float((xh.max() - xh.min()) / (x.max() - x.min()))
    inside = bool(xh.max() <= x.max() + 1e-12 and xh.min() >= x.min() - 1e-12)
    return CheckResult(measured=ratio, passed=inside and ratio < 1.0,
                       expected="range(x̂*)/range(x*) < 1, [min x̂*, max x̂*] ⊆ [min x*, max x*]",
                       detail="ER n=200, λ~U(0.2,0.9), φ~U(0.1,0.9)")
