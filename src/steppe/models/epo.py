"""The expressed–private opinion (EPO) model of Ye, Qin, Govaert, Anderson & Cao (2019).

Every agent holds a private opinion ``x_i`` (``state.opinion``) and an expressed opinion
``x̂_i`` (``state.expressed_opinion``, which is also ``state.seen_opinion``: the model has
its own expression, so no separate expression layer applies to it). Rule, exactly as
implemented (synchronous: one step = one sweep), following equations (1)–(2) of the paper::

    x_i(t+1) = λ_i w_ii x_i(t) + λ_i Σ_{j≠i} w_ij x̂_j(t) + (1 − λ_i) x_i(0)
    x̂_i(t+1) = φ_i x_i(t+1) + (1 − φ_i) x̂_i,lav(t),   x̂_i,lav(t) = Σ_j w_ij x̂_j(t)

- the private opinion moves under the *expressed* opinions of the neighbours, anchored to
  the initial private opinion with weight ``1 − λ_i`` (``susceptibility`` λ_i, as in
  Friedkin–Johnsen);
- the expressed opinion is a compromise between the new private opinion and the local
  public opinion ``x̂_i,lav`` — the weighted average of the expressed opinions of i's
  neighbours *and i itself* (weight ``w_ii``) at the previous step; ``φ_i``
  (``resilience``, in [0, 1]) is i's resilience to the pressure to conform. ``φ ≡ 1``
  gives ``x̂ = x`` and exactly the Friedkin–Johnsen model.
- ``W`` as in :mod:`steppe.models.friedkin_johnsen` (row-stochastic, self weight ``w_ii``).
- Start: ``x̂(0) = x(0)`` (everyone first says what it thinks; the paper leaves the initial
  expressed opinions free, and the limit does not depend on them).
- Committed agents never change their private opinion and always express it
  (``x̂_i = x_i``: they are fully stubborn and fully resilient).
- After each chunk the expressed opinions are categorised with the same cut-offs into
  ``state.expressed`` / ``state.expressed_counts``.

Under the paper's conditions (e.g. every ``λ_i < 1``, ``φ_i > 0``) the opinions converge
exponentially fast to the unique solution of the fixed-point equations
``x* = ΛW_d x* + Λ(W − W_d) x̂* + (I − Λ)x(0)``, ``x̂* = Φx* + (I − Φ)W x̂*`` (Ye et al.
2019, Theorem 1). The model is frozen when neither opinion moved by ``tolerance`` or more in
the last step.

Reference: M. Ye, Y. Qin, A. Govaert, B. D. O. Anderson & M. Cao, An influence network model
to study discrepancies in expressed and private opinions, Automatica 107, 371 (2019),
arXiv:1806.11236.

Examples
--------
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> from steppe.engine.state import init_state
>>> m = get_model("epo")(susceptibility=0.5, resilience=0.5)
>>> g = complete_graph(100)
>>> st = init_state(m, g, seed=0)
>>> _ = m.advance(st, g, sweeps=500, stop_at_consensus=True)
>>> spread = lambda v: float(v.max() - v.min())
>>> m.is_frozen(st, g), spread(st.expressed_opinion) < spread(st.opinion)
(True, True)
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from ..distributions import sample
from ..networks.base import Network
from ..state import State
from ._linear import LinearModel, UnitDist, _epo_kernel
from .base import ModelParams, register

__all__ = ["EPO", "EPOParams"]


class EPOParams(ModelParams):
    susceptibility: UnitDist = 0.8
    """λ_i: susceptibility of the private opinion to the neighbours' expressed opinions, a
    number in [0, 1] or a distribution (per agent, clipped to [0, 1]); 1 − λ_i is the
    stubbornness, the attachment to the initial private opinion."""
    resilience: UnitDist = 0.5
    """φ_i: resilience to the pressure to conform, a number in [0, 1] or a distribution
    (per agent, clipped to [0, 1]); 1 expresses the private opinion as it is, 0 echoes the
    local public opinion."""
    self_weight: float | None = Field(None, ge=0, le=1)
    """w_ii, the weight an agent gives itself in the average; None: 1/(k_i + 1), uniform over
    the agent and its k_i neighbours (1/n on the complete graph)."""
    tolerance: float = Field(1e-9, gt=0)
    """Converged (frozen) when no private or expressed opinion moves by this much or more in
    one step."""


@register
class EPO(LinearModel):
    name = "epo"
    title = "Expressed–private opinion model (Ye et al. 2019)"
    summary = ("Friedkin–Johnsen private opinions driven by the neighbours' expressed "
               "opinions; each agent expresses a compromise between its private opinion and "
               "the local public opinion, with resilience φ_i.")
    references = ("Ye, Qin, Govaert, Anderson & Cao 2019, Automatica 107, 371",)
    Params = EPOParams
    #: the model evolves its own expressed opinions; no separate expression layer
    own_expression: ClassVar[bool] = True
    #: its expressed opinions are state of the model's own, not yet carried across arrivals
    supports_flows: ClassVar[bool] = False
    _unit_fields = ("susceptibility", "resilience")

    def init_aux(self, state: State, network: Network,
                 gen: np.random.Generator | None = None) -> None:
        """Store ``x(0)``, draw ``λ_i`` and ``φ_i``, set ``x̂(0) = x(0)``, point ``seen`` at
        the expressed arrays."""
        gen = gen if gen is not None else np.random.default_rng(0)
        self._init_common(state, network, gen)
        state.aux["resilience"] = sample(self.params.resilience, state.n, gen, low=0.0,
                                         high=1.0)
        state.aux["buffer_expressed"] = np.empty(state.n, dtype=np.float64)
        state.separate_expression()
        state.expressed_opinion[:] = state.opinion
        state.see_expressed()
        self.categorize_expressed(state)

    def categorize_expressed(self, state: State) -> None:
        """Recompute ``state.expressed`` / ``state.expressed_counts`` from
        ``state.expressed_opinion`` (same cut-offs as the private opinions)."""
        codes = np.searchsorted(np.asarray(self.cutoffs), state.expressed_opinion,
                                side="right")
        state.expressed[:] = codes.astype(np.int8)
        state.expressed_counts[:] = np.bincount(state.expressed,
                                                minlength=len(self.stances))[:len(self.stances)]

    def advance(self, state: State, network: Network, sweeps: int,
                stop_at_consensus: bool) -> float:
        """Run ``sweeps`` synchronous steps; return the steps done."""
        complete, indptr, indices = network.kernel_args()
        a = state.aux
        done = _epo_kernel(state.opinion, state.expressed_opinion, state.committed,
                           a["initial_opinion"], a["susceptibility"], a["resilience"],
                           a["self_weight"], a["neighbour_weight"], complete, indptr, indices,
                           a["buffer"], a["buffer_expressed"], int(sweeps),
                           *self._kernel_tail(state, bool(stop_at_consensus)))
        self.categorize(state)
        self.categorize_expressed(state)
        state.seen_opinion = state.expressed_opinion
        return float(done)
