"""Memory-based coordination on a name, with a committed minority (Centola et al. 2018).

Rule, as implemented. Every agent remembers the names its last ``M`` partners played
(``memory``). When it plays, an uncommitted agent plays the name most frequent in its memory;
on a tie (possible for even M) it plays ``A`` or ``B`` with probability ½, drawn afresh at
each play. Committed agents always play their own stance (normally ``B``, the alternative)
and never change. One interaction: pick a uniformly random agent ``i`` and a uniformly random
neighbour ``j`` of it (on the complete graph, any other agent); both play at once, then each
records the other's play in its memory, dropping the oldest entry. An agent's stance is the
name it played in its latest interaction (before its first one: its initial stance, with
which its whole memory is filled). One sweep = N interactions (each involves two agents).

The memory is a ring buffer per agent (``state.aux["memory"]``, int8, shape (N, M)), with
the position of the oldest entry in ``state.aux["pos"]`` and the number of ``B`` entries in
``state.aux["n_b"]``, so that a play costs O(1).

This is the rule described in the main text of Centola, Becker, Brackbill & Baronchelli 2018
(agents coordinate on the name most frequent in a finite memory of past partners' plays);
the paper's supplementary description could not be consulted, so details such as the
tie-breaking and the memory's initial contents are steppe's choices, stated above.

Mean field: with committed share p and x the share of uncommitted agents playing B, every
memory entry is B with probability y = p + (1 − p)x, and an uncommitted agent plays B with
probability g(y) = P(Bin(M, y) > M/2) + ½ P(Bin(M, y) = M/2). The steady states solve
x = g(p + (1 − p)x); the low (norm-holding) one disappears at a tipping point p_c
(≈ 0.242 for M = 12 — the same as for M = 11 —, see :mod:`steppe.validation.centola`).

Private and expressed stances: without an expression layer each partner records the name
the other just played, as above; while an enforcement is in force each partner instead hears
and records what the other voiced at the last expression update (``state.seen``), while its
own play — and so its private stance — still comes from its memory.

References: D. Centola, J. Becker, D. Brackbill, A. Baronchelli, Science 360, 1116 (2018).

Examples
--------
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> from steppe.engine.state import Committed, init_state
>>> m = get_model("centola")(memory=12)
>>> g = complete_graph(400)
>>> st = init_state(m, g, committed=Committed(stance="B", fraction=0.35), seed=0)
>>> st.aux["memory"].shape, st.counts.tolist()
((400, 12), [260, 140])
>>> dt = m.advance(st, g, sweeps=500, stop_at_consensus=True)
>>> st.counts.tolist()
[0, 400]
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numba import njit
from pydantic import Field

from ..networks.base import Network, random_neighbor
from ..rng import randint
from ..state import State
from .base import Model, ModelParams, register

__all__ = ["Centola"]


class CentolaParams(ModelParams):
    memory: int = Field(12, ge=1, le=10_000)
    """Memory length M: how many past partners' plays an agent remembers."""


@njit(inline="always", cache=True)
def _play(s, k, stance, committed, n_b, m):
    """The name agent k plays now (one coin drawn on a memory tie)."""
    if committed[k]:
        return stance[k]
    twice = 2 * n_b[k]
    if twice > m:
        return 1
    if twice < m:
        return 0
    return randint(s, 2)


@njit(inline="always", cache=True)
def _record(k, heard, memory, pos, n_b, m):
    p = pos[k]
    n_b[k] += heard - memory[k, p]
    memory[k, p] = heard
    p += 1
    if p == m:
        p = 0
    pos[k] = p


@njit(cache=True)
def _centola(stance, seen, live, committed, counts, complete, indptr, indices, memory, pos, n_b,
             n_updates, stop, cmask, s):
    n = stance.shape[0]
    m = memory.shape[1]
    for u in range(n_updates):
        i = randint(s, n)
        j = random_neighbor(s, i, n, complete, indptr, indices)
        if j < 0:
            continue
        a = _play(s, i, stance, committed, n_b, m)
        b = _play(s, j, stance, committed, n_b, m)
        # what each hears: the partner's play, or (expression layer) what it voiced
        hi = b if live else seen[j]
        hj = a if live else seen[i]
        changed = False
        if not committed[i]:
            _record(i, hi, memory, pos, n_b, m)
            if stance[i] != a:
                counts[stance[i]] -= 1
                counts[a] += 1
                stance[i] = a
                changed = True
        if not committed[j]:
            _record(j, hj, memory, pos, n_b, m)
            if stance[j] != b:
                counts[stance[j]] -= 1
                counts[b] += 1
                stance[j] = b
                changed = True
        if changed and stop:
            for c in range(2):
                if cmask[c] and counts[c] == n:
                    return u + 1
    return n_updates


@register
class Centola(Model):
    """Coordination on the most frequent name in a memory of the last M partners' plays.

    Examples
    --------
    >>> Centola().params.memory
    12
    >>> Centola(memory=0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    steppe.errors.ParameterError: centola.memory: ...
    """

    name = "centola"
    title = "Memory-based coordination with a committed minority (Centola et al. 2018)"
    summary = (
        "Two agents meet and each plays the name most frequent among the last M names its "
        "partners played; committed agents always play the alternative."
    )
    references = ("Centola, Becker, Brackbill & Baronchelli 2018, Science 360, 1116",)
    stances = ("A", "B")
    default_initial: ClassVar[dict[str, float]] = {"A": 1.0}
    Params = CentolaParams

    def init_aux(self, state: State, network: Network,
                 gen: np.random.Generator | None = None) -> None:
        m = self.params.memory
        state.aux["memory"] = np.repeat(state.stance[:, None], m, axis=1).astype(np.int8)
        state.aux["pos"] = np.zeros(state.n, dtype=np.int64)
        state.aux["n_b"] = (state.stance.astype(np.int64) * m)

    def on_arrival(self, state: State, agents: np.ndarray) -> None:
        """Arrivals remember only their own stance."""
        m = self.params.memory
        state.aux["memory"][agents] = state.stance[agents, None]
        state.aux["pos"][agents] = 0
        state.aux["n_b"][agents] = state.stance[agents].astype(np.int64) * m

    def advance(self, state: State, network: Network, sweeps: int,
                stop_at_consensus: bool) -> float:
        if "memory" not in state.aux or state.aux["memory"].shape[1] != self.params.memory:
            self.init_aux(state, network)
        complete, indptr, indices = network.kernel_args()
        n_updates = sweeps * state.n
        done = _centola(state.stance, state.seen, state.live, state.committed, state.counts,
                        complete, indptr, indices, state.aux["memory"], state.aux["pos"],
                        state.aux["n_b"], n_updates, stop_at_consensus, self.consensus_mask(),
                        state.rng)
        return done / state.n
