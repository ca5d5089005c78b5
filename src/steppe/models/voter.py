"""The voter model (Clifford & Sudbury 1973; Holley & Liggett 1975), three update variants.

- ``node`` (direct voter): pick a random agent i, pick a random neighbour j, ``s_i <- s_j``.
- ``link``: pick a random edge and a random orientation (i, j), ``s_i <- s_j``. Degree
  heterogeneity changes what is conserved (Suchecki, Eguíluz & San Miguel 2005).
- ``invasion`` (reverse voter): pick a random agent i, a random neighbour j, ``s_j <- s_i``.

On the complete graph, j is a uniformly random agent other than i. The exit probability
(the chance that stance A wins) equals its initial share, and the mean consensus time from
share ρ is T(ρ) = −N[ρ ln ρ + (1−ρ) ln(1−ρ)] sweeps for large N (Redner 2001).
``update = "synchronous"`` (node variant only) lets every agent copy a random neighbour's
stance from the previous step at once — a different process (Wright–Fisher-like), about
twice as slow to consensus on the complete graph.

Examples
--------
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> from steppe.engine.state import init_state
>>> m = get_model("voter")()
>>> g = complete_graph(200)
>>> st = init_state(m, g, shares={"A": 0.5, "B": 0.5}, seed=0)
>>> dt = m.advance(st, g, sweeps=5, stop_at_consensus=False)
>>> dt, int(st.counts.sum())
(5.0, 200)
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numba import njit

from ..errors import ParameterError
from ..networks.base import Network, random_neighbor
from ..rng import randint
from ..state import State
from .base import Model, ModelParams, register

__all__ = ["Voter"]


class VoterParams(ModelParams):
    variant: Literal["node", "link", "invasion"] = "node"
    """Which agent copies whom: node (i copies a neighbour), link (random edge), invasion
    (a neighbour copies i)."""
    update: Literal["random_sequential", "synchronous"] = "random_sequential"
    """Random-sequential (one sweep = N elementary updates) or synchronous (node only)."""


# Kernel design (measured in benchmarks/): the committed flag is read *after* the neighbour
# is drawn, so that the random stream never waits on a memory load, and the two-stance tally
# lives in a local variable (``ones``), updated without a branch. Checking committed first
# made the loop three times slower; see benchmarks/README.md.
@njit(cache=True)
def _voter_node(stance, seen, committed, counts, complete, indptr, indices, n_updates, stop,
                cmask, s):
    n = stance.shape[0]
    ones = counts[1]
    done = n_updates
    for u in range(n_updates):
        i = randint(s, n)
        j = random_neighbor(s, i, n, complete, indptr, indices)
        if j < 0 or committed[i]:
            continue
        new = seen[j]
        ones += np.int64(new) - np.int64(stance[i])
        stance[i] = new
        if stop and ((cmask[1] and ones == n) or (cmask[0] and ones == 0)):
            done = u + 1
            break
    counts[1] = ones
    counts[0] = n - ones
    return done


@njit(cache=True)
def _voter_invasion(stance, seen, committed, counts, complete, indptr, indices, n_updates,
                    stop, cmask, s):
    n = stance.shape[0]
    ones = counts[1]
    done = n_updates
    for u in range(n_updates):
        i = randint(s, n)
        j = random_neighbor(s, i, n, complete, indptr, indices)
        if j < 0 or committed[j]:
            continue
        new = seen[i]
        ones += np.int64(new) - np.int64(stance[j])
        stance[j] = new
        if stop and ((cmask[1] and ones == n) or (cmask[0] and ones == 0)):
            done = u + 1
            break
    counts[1] = ones
    counts[0] = n - ones
    return done


@njit(cache=True)
def _voter_link(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask, s):
    n = stance.shape[0]
    m = indptr[n]
    ones = counts[1]
    done = n_updates
    for u in range(n_updates):
        e = randint(s, m)
        i = np.searchsorted(indptr, e, side="right") - 1
        if committed[i]:
            continue
        new = seen[indices[e]]
        ones += np.int64(new) - np.int64(stance[i])
        stance[i] = new
        if stop and ((cmask[1] and ones == n) or (cmask[0] and ones == 0)):
            done = u + 1
            break
    counts[1] = ones
    counts[0] = n - ones
    return done


@njit(cache=True)
def _voter_sync(stance, seen, committed, counts, complete, indptr, indices, steps, stop,
                cmask, buffer, s):
    n = stance.shape[0]
    k = counts.shape[0]
    for t in range(steps):
        for i in range(n):
            buffer[i] = stance[i]
            if committed[i]:
                continue
            j = random_neighbor(s, i, n, complete, indptr, indices)
            if j >= 0:
                buffer[i] = seen[j]
        for c in range(k):
            counts[c] = 0
        for i in range(n):
            stance[i] = buffer[i]
            counts[buffer[i]] += 1
        if stop:
            for c in range(k):
                if cmask[c] and counts[c] == n:
                    return t + 1
    return steps


@register
class Voter(Model):
    name = "voter"
    title = "Voter model (node, link and invasion updates)"
    summary = (
        "An agent adopts the stance of a random neighbour (node update); or a random edge "
        "is chosen and one end copies the other (link update); or a random agent imposes "
        "its stance on a random neighbour (invasion)."
    )
    references = (
        "Clifford & Sudbury 1973, Biometrika 60, 581",
        "Holley & Liggett 1975, Ann. Probab. 3, 643",
        "Suchecki, Eguíluz & San Miguel 2005, Phys. Rev. E 72, 036132 (link and invasion)",
        "Redner 2001, A Guide to First-Passage Processes (consensus time)",
    )
    stances = ("A", "B")
    Params = VoterParams

    def check_network(self, network: Network) -> None:
        p = self.params
        if p.update == "synchronous" and p.variant != "node":
            raise ParameterError("synchronous updates are defined for the node variant only",
                                 field="voter.update", allowed="'random_sequential' for "
                                 f"variant {p.variant!r}", given=p.update)
        if p.variant == "link" and not network.complete and network.indptr[-1] == 0:
            raise ParameterError("the link update needs a network with edges",
                                 field="voter.variant", given=p.variant)

    def init_aux(self, state: State, network: Network,
                 gen: np.random.Generator | None = None) -> None:
        if self.params.update == "synchronous":
            state.aux["buffer"] = np.empty_like(state.stance)

    def advance(self, state: State, network: Network, sweeps: int,
                stop_at_consensus: bool) -> float:
        p = self.params
        complete, indptr, indices = network.kernel_args()
        cmask = self.consensus_mask()
        n = state.n
        arrays = (state.stance, state.seen, state.committed, state.counts)
        if p.update == "synchronous":
            done = _voter_sync(*arrays, complete, indptr, indices, sweeps, stop_at_consensus,
                               cmask, state.aux["buffer"], state.rng)
            return float(done)
        n_updates = sweeps * n
        if p.variant == "invasion":
            done = _voter_invasion(*arrays, complete, indptr, indices, n_updates,
                                   stop_at_consensus, cmask, state.rng)
        elif p.variant == "link" and not complete:
            done = _voter_link(*arrays, indptr, indices, n_updates, stop_at_consensus, cmask,
                               state.rng)
        else:  # node; on the complete graph the link update is the node update
            done = _voter_node(*arrays, complete, indptr, indices, n_updates,
                               stop_at_consensus, cmask, state.rng)
        return done / n
