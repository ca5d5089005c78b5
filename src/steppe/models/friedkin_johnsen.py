"""The Friedkin–Johnsen model of social influence with anchoring to initial opinions
(Friedkin & Johnsen 1990, 1999).

Rule, exactly as implemented (synchronous: one step = one sweep, every agent at once)::

    x_i(t+1) = λ_i [ w_ii x_i(t) + Σ_{j≠i} w_ij x̂_j(t) ] + (1 − λ_i) x_i(0)

- ``x_i`` is agent i's private opinion (``state.opinion``), ``x_i(0)`` its initial private
  opinion (kept in ``state.aux["initial_opinion"]``).
- ``x̂_j`` is what neighbour j voices, read from ``state.seen_opinion``; the agent's own term
  uses its private ``x_i``. Without an expression layer ``x̂ = x`` and this is exactly the
  Friedkin–Johnsen model ``x(t+1) = Λ W x(t) + (I − Λ) x(0)``.
- ``λ_i`` (``susceptibility``, in [0, 1]) is i's susceptibility to interpersonal influence,
  drawn per agent at set-up; ``1 − λ_i`` is its stubbornness, the weight of its anchor
  ``x_i(0)``. ``λ ≡ 1`` is DeGroot averaging; ``λ_i = 0`` an agent who never moves.
- ``W`` is row-stochastic with self weight ``w_ii`` (``self_weight``; default ``1/(k_i+1)``,
  uniform over the agent and its ``k_i`` neighbours), the rest shared among the neighbours
  in proportion to the network's edge weights, if it has any (see
  :mod:`steppe.models._linear`). On the implicit complete graph ``w_ij = 1/n`` for all j.
- Committed agents never change their private opinion.
- With a fractional step h < 1 (``time.rates_per`` longer than a sweep; see
  :meth:`~steppe.models.base.Model.set_step_fraction`) each opinion moves the share h of the
  way: ``x_i ← x_i + h (x_i(t+1) − x_i)``, an explicit Euler step of
  ``dx/dt = (ΛWx̂ + (I − Λ)x(0) − x) / period`` with the same rest state.

If ``ΛW`` has spectral radius below 1 (e.g. every ``λ_i < 1``) the opinions converge to
``x* = (I − ΛW)⁻¹ (I − Λ) x(0)`` (Friedkin & Johnsen 1999; Proskurnikov & Tempo 2017).
The model is frozen (``is_frozen``) when no opinion moved by ``tolerance`` or more in the last
step; a run that stops at absorbing states ends there (the kernel returns early).

References: N. E. Friedkin & E. C. Johnsen, Social influence and opinions, J. Math. Sociol.
15, 193 (1990); Social positions in influence networks, Social Networks 19, 209 (1997);
Social influence networks and opinion change, Adv. Group Processes 16, 1 (1999).

Examples
--------
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> from steppe.engine.state import init_state
>>> m = get_model("friedkin_johnsen")(susceptibility=0.5)
>>> g = complete_graph(100)
>>> st = init_state(m, g, seed=0)
>>> m.advance(st, g, sweeps=200, stop_at_consensus=True) < 200, m.is_frozen(st, g)
(True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numba import njit
from pydantic import Field

from ..networks.base import Network
from ..state import State
from ._linear import LinearModel, UnitDist, _fj_kernel, _neighbour_sum
from .base import ModelParams, OpinionPull, register

__all__ = ["FriedkinJohnsen", "FriedkinJohnsenParams"]


class FriedkinJohnsenParams(ModelParams):
    susceptibility: UnitDist = 0.8
    """λ_i: susceptibility to interpersonal influence, a number in [0, 1] or a distribution
    (drawn per agent, clipped to [0, 1]); 1 − λ_i is the agent's stubbornness, its attachment
    to its initial opinion."""
    self_weight: float | None = Field(None, ge=0, le=1)
    """w_ii, the weight an agent gives its own opinion in the average; None: 1/(k_i + 1),
    uniform over the agent and its k_i neighbours (1/n on the complete graph)."""
    tolerance: float = Field(1e-9, gt=0)
    """Converged (frozen) when no opinion moves by this much or more in one step."""
    anchor: Literal["initial", "equilibrium"] = "initial"
    """What each agent is anchored to: its initial opinion (the published model), or the
    anchor u_i = (x_i − λ_i (W x̂)_i)/(1 − λ_i) that makes the initial opinions the fixed
    point, so that a run starts at rest and moves only under pressures, events and flows
    (anchors may then lie outside the opinion range)."""


@njit(cache=True)
def _equilibrium_anchor(y, x, seen, lam, selfw, nbw, complete, indptr, indices, out):
    """The anchors u that make one Friedkin–Johnsen step from x land on y:
    u_i = (y_i − λ_i (w_ii x_i + Σ_j w_ij x̂_j)) / (1 − λ_i); u_i = y_i where λ_i = 1."""
    n = x.shape[0]
    total = 0.0
    if complete:
        for j in range(n):
            total += seen[j]
    for i in range(n):
        nb = _neighbour_sum(i, seen, complete, indptr, indices, nbw, total, selfw)
        if lam[i] >= 1.0:
            out[i] = y[i]
        else:
            out[i] = (y[i] - lam[i] * (selfw[i] * x[i] + nb)) / (1.0 - lam[i])


@register
class FriedkinJohnsen(LinearModel):
    name = "friedkin_johnsen"
    title = "Friedkin–Johnsen model (influence network with stubbornness)"
    summary = ("Synchronous weighted averaging of neighbours' opinions, anchored to each "
               "agent's initial opinion with weight 1 − λ_i; converges to "
               "(I − ΛW)⁻¹(I − Λ)x(0).")
    references = (
        "Friedkin & Johnsen 1990, J. Math. Sociol. 15, 193",
        "Friedkin & Johnsen 1999, Adv. Group Processes 16, 1",
    )
    Params = FriedkinJohnsenParams
    single_voiced = True  # the neighbour sum adds in double precision whatever it reads
    fractional_step = True

    def init_aux(self, state: State, network: Network,
                 gen: np.random.Generator | None = None) -> None:
        """Store ``x(0)``, draw ``λ_i``, compute the influence weights, allocate a buffer."""
        self._init_common(state, network, gen)

    def on_start(self, state: State, network: Network,
                 pulls: Sequence[OpinionPull] = ()) -> None:
        """With ``anchor = "equilibrium"``: solve the anchors that make the current opinions
        a rest state of one step (influence, then each pressure's pull, in order) over the
        ties in force now (after any border flows at the start); with a fractional step h,
        of the step that moves the share h of the way."""
        if self.params.anchor != "equilibrium" or "anchored" in state.aux:
            return
        a = state.aux
        complete, indptr, indices = network.kernel_args()
        # one step is x -> A * FJ(x) + B with the pulls folded in, so the rest state
        # needs FJ(x) = (x - B) / A
        mult = np.ones(state.n)
        add = np.zeros(state.n)
        free = ~state.committed
        for pull in pulls:
            m = np.where(free, pull.share, 0.0)
            mult *= 1.0 - m
            add = (1.0 - m) * add + m * pull.target
        target = state.opinion.copy()
        ok = mult > 0
        target[ok] = (state.opinion[ok] - add[ok]) / mult[ok]
        h = self.step_fraction
        if h != 1.0:  # a fractional step lands on x + h (FJ(x) - x): FJ(x) = x + (y - x) / h
            target = state.opinion + (target - state.opinion) / h
        _equilibrium_anchor(target, state.opinion, state.seen_opinion, a["susceptibility"],
                            a["self_weight"], a["neighbour_weight"], complete, indptr,
                            indices, a["initial_opinion"])
        a["anchored"] = np.ones(1, dtype=np.bool_)

    def advance(self, state: State, network: Network, sweeps: int,
                stop_at_consensus: bool) -> float:
        """Run ``sweeps`` synchronous steps; return the steps done."""
        complete, indptr, indices = network.kernel_args()
        a = state.aux
        if self.params.anchor == "equilibrium" and "anchored" not in a:
            self.on_start(state, network)
        done = _fj_kernel(state.opinion, state.seen_opinion, state.committed,
                          a["initial_opinion"], a["susceptibility"], a["self_weight"],
                          a["neighbour_weight"], complete, indptr, indices, a["buffer"],
                          int(sweeps), *self._kernel_tail(state, bool(stop_at_consensus)),
                          not np.may_share_memory(state.seen_opinion, state.opinion),
                          float(self.step_fraction))
        self.categorize(state)
        return float(done)
