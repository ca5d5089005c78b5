"""The majority-vote model with noise (Oliveira 1992).

Rule, as implemented (random-sequential update): pick a uniformly random agent ``i``; count
the stances of its neighbours; let the *majority* stance be the one more neighbours hold.
With probability ``1 − f`` the agent adopts the majority stance, with probability ``f`` the
minority stance. If the neighbours are tied, the agent adopts ``A`` or ``B`` with
probability ½ each (whatever ``f``). Agents with no neighbour do nothing; committed agents
never change. On the implicit complete graph the neighbours are all *other* agents: the
counts are read from ``state.counts`` minus the agent itself, O(1) per update.
One sweep = N elementary updates.

``update = "synchronous"``: every agent applies the same rule at once to the stances of the
previous step (written into a preallocated buffer, ``state.aux["buffer"]``); one sweep = one
step.

Known results: on the square lattice the model has an order–disorder transition at
f_c ≈ 0.075 in the Ising universality class (Oliveira 1992). On the complete graph, for
large N, the magnetisation m = (n_A − n_B)/N is stationary at |m| = 1 − 2f for every
f < ½: each agent independently holds the majority stance with probability 1 − f.

Private and expressed stances: the neighbours' majority is taken over the stances they
voice (``state.seen``; on the complete graph ``state.seen_counts`` minus the agent's own
voiced stance), and the agent's private stance changes.

References: M. J. de Oliveira, J. Stat. Phys. 66, 273 (1992).

Examples
--------
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> from steppe.engine.state import init_state
>>> m = get_model("majority_vote")(f=0.1)
>>> g = complete_graph(500)
>>> st = init_state(m, g, shares={"A": 1.0}, seed=0)
>>> m.advance(st, g, sweeps=20, stop_at_consensus=False)
20.0
>>> bool(0.7 < (st.counts[0] - st.counts[1]) / 500 < 0.9)
True
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numba import njit
from pydantic import Field

from ..networks.base import Network
from ..rng import randint, uniform
from ..state import State
from .base import Model, ModelParams, register

__all__ = ["MajorityVote"]


class MajorityVoteParams(ModelParams):
    f: float = Field(0.075, ge=0.0, le=0.5)
    """Noise: the probability of adopting the minority stance of the neighbours."""
    update: Literal["random_sequential", "synchronous"] = "random_sequential"
    """Random-sequential (one sweep = N elementary updates) or synchronous (one step)."""


@njit(inline="always", cache=True)
def _choose(s, seen, i, n, complete, seen_counts, indptr, indices, f):
    """The new stance of agent i under the noisy majority rule applied to the voiced
    stances ``seen`` of its neighbours (``seen_counts``: how many voice each stance), or -1
    if it has no neighbour. Draws: one uniform for a tie (the coin), else one uniform for
    the noise."""
    if complete:
        n_a = seen_counts[0]
        n_b = seen_counts[1]
        if seen[i] == 0:
            n_a -= 1
        else:
            n_b -= 1
    else:
        a = indptr[i]
        b = indptr[i + 1]
        if b == a:
            return -1
        n_b = 0
        for e in range(a, b):
            n_b += seen[indices[e]]
        n_a = (b - a) - n_b
    if n_a == n_b:
        return randint(s, 2)
    maj = 0 if n_a > n_b else 1
    if uniform(s) < f:
        return 1 - maj
    return maj


@njit(cache=True)
def _mv_sequential(stance, seen, committed, counts, seen_counts, complete, indptr, indices, f,
                   n_updates, stop, cmask, s):
    n = stance.shape[0]
    for u in range(n_updates):
        i = randint(s, n)
        if committed[i]:
            continue
        new = _choose(s, seen, i, n, complete, seen_counts, indptr, indices, f)
        if new < 0:
            continue
        old = stance[i]
        if new != old:
            stance[i] = new
            counts[old] -= 1
            counts[new] += 1
            if stop and cmask[new] and counts[new] == n:
                return u + 1
    return n_updates


@njit(cache=True)
def _mv_synchronous(stance, seen, committed, counts, seen_counts, complete, indptr, indices, f,
                    steps, stop, cmask, buffer, s):
    n = stance.shape[0]
    for t in range(steps):
        for i in range(n):
            buffer[i] = stance[i]
            if committed[i]:
                continue
            new = _choose(s, seen, i, n, complete, seen_counts, indptr, indices, f)
            if new >= 0:
                buffer[i] = new
        counts[0] = 0
        counts[1] = 0
        for i in range(n):
            stance[i] = buffer[i]
            counts[buffer[i]] += 1
        if stop:
            for c in range(2):
                if cmask[c] and counts[c] == n:
                    return t + 1
    return steps


@register
class MajorityVote(Model):
    """Oliveira's majority-vote model with noise ``f``.

    Examples
    --------
    >>> MajorityVote(f=0.05).params.f
    0.05
    >>> MajorityVote(f=0.7)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    steppe.errors.ParameterError: majority_vote.f: ...
    """

    name = "majority_vote"
    title = "Majority-vote model with noise"
    summary = (
        "A random agent adopts the majority stance of its neighbours with probability 1 − f "
        "and the minority stance with probability f (a coin flip on a tie)."
    )
    references = ("M. J. de Oliveira 1992, J. Stat. Phys. 66, 273",)
    stances = ("A", "B")
    Params = MajorityVoteParams

    def init_aux(self, state: State, network: Network,
                 gen: np.random.Generator | None = None) -> None:
        if self.params.update == "synchronous":
            state.aux["buffer"] = np.empty_like(state.stance)

    def advance(self, state: State, network: Network, sweeps: int,
                stop_at_consensus: bool) -> float:
        p = self.params
        complete, indptr, indices = network.kernel_args()
        cmask = self.consensus_mask()
        if p.update == "synchronous":
            if "buffer" not in state.aux:
                state.aux["buffer"] = np.empty_like(state.stance)
            done = _mv_synchronous(state.stance, state.seen, state.committed, state.counts,
                                   state.seen_counts, complete, indptr, indices, p.f, sweeps,
                                   stop_at_consensus, cmask, state.aux["buffer"], state.rng)
            return float(done)
        n_updates = sweeps * state.n
        done = _mv_sequential(state.stance, state.seen, state.committed, state.counts,
                              state.seen_counts, complete, indptr, indices, p.f, n_updates,
                              stop_at_consensus, cmask, state.rng)
        return done / state.n
