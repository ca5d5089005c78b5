"""The majority rule model: random groups adopt their internal majority.

- ``update = "random_sequential"`` (Krapivsky & Redner 2003): one elementary update picks a
  group of r agents and every non-committed member adopts the group's majority stance; one
  sweep = N group updates. On the complete graph the group is r distinct random agents
  (uniform among r-sets). On a network it is a random agent i plus r − 1 distinct random
  neighbours of i (uniform among (r−1)-subsets of its neighbours); an agent with fewer
  than r − 1 neighbours forms a smaller group: itself and all its neighbours (an isolated
  agent's update does nothing). Ties (possible for even group sizes) go to the
  ``status_quo`` stance (``tie = "status_quo"``) or to a stance drawn with probability 1/2
  once per group (``tie = "random"``).
- ``update = "synchronous"`` (Galam 1986, 2002): each step a uniformly random permutation of
  all agents is cut into consecutive groups of r (the last N mod r agents keep their
  stance this step) and every group goes to its majority at once; complete graph only; one
  step = one sweep. With an infinite population and share p of A the step maps p to
  P(p) = Σ_{k > r/2} C(r,k) p^k (1−p)^(r−k) (+ the tie term if ties go to A); for r = 4 and
  ties to B, P(p) = p⁴ + 4p³(1−p), whose unstable fixed point is p_c = (1+√13)/6 ≈ 0.7676.

Committed agents keep their stance but count in their group's majority.

Private and expressed stances: the group's majority is taken over the stances its members
voice (``state.seen``), ties broken as above, and every non-committed member's private
stance moves to it.

On the complete graph with r = 3, the initial majority wins for large N and the consensus
time grows as ln N (about (2/3) ln N sweeps in the mean field; Krapivsky & Redner 2003).

Examples
--------
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> from steppe.engine.state import init_state
>>> m = get_model("majority_rule")(r=3)
>>> g = complete_graph(1000)
>>> st = init_state(m, g, shares={"A": 0.4, "B": 0.6}, seed=0)
>>> dt = m.advance(st, g, sweeps=100, stop_at_consensus=True)
>>> dt < 100, st.counts.tolist()
(True, [0, 1000])
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numba import njit
from pydantic import Field

from ..errors import ParameterError
from ..networks.base import Network
from ..rng import randint, uniform
from ..state import State
from .base import Model, ModelParams, register

__all__ = ["MajorityRule"]


class MajorityRuleParams(ModelParams):
    r: int = Field(3, ge=2, le=10_000)
    """Group size."""
    tie: Literal["status_quo", "random"] = "status_quo"
    """What a tied group (even size) adopts: the status-quo stance, or a random stance."""
    status_quo: Literal["A", "B"] = "B"
    """The stance that wins ties when ``tie = "status_quo"``."""
    update: Literal["random_sequential", "synchronous"] = "random_sequential"
    """Random-sequential groups (Krapivsky–Redner) or a synchronous partition (Galam)."""


@njit(cache=True)
def _floyd(s, d, k, buf, offset):
    """Write a uniform k-subset of {0..d-1} to ``buf[offset:offset+k]`` (k <= d)."""
    t = 0
    for j in range(d - k, d):
        x = randint(s, j + 1)
        for u in range(t):
            if buf[offset + u] == x:
                x = j
                break
        buf[offset + t] = x
        t += 1


@njit(cache=True)
def _apply_majority(stance, seen, committed, counts, members, g, random_tie, sq, s):
    """Move every non-committed member of ``members[:g]`` (private stances) to the
    majority of the stances the members voice (``seen``)."""
    na = 0
    for t in range(g):
        if seen[members[t]] == 0:
            na += 1
    if 2 * na > g:
        maj = 0
    elif 2 * na < g:
        maj = 1
    elif random_tie:
        maj = 0 if uniform(s) < 0.5 else 1
    else:
        maj = sq
    for t in range(g):
        a = members[t]
        if stance[a] != maj and not committed[a]:
            counts[stance[a]] -= 1
            counts[maj] += 1
            stance[a] = maj
    return maj


@njit(cache=True)
def _majority_rs(stance, seen, committed, counts, complete, indptr, indices, n_updates, stop,
                 cmask, r, random_tie, sq, s):
    n = stance.shape[0]
    buf = np.empty(r, dtype=np.int64)
    for u in range(n_updates):
        if complete:
            _floyd(s, n, r, buf, 0)
            g = r
        else:
            i = randint(s, n)
            a = indptr[i]
            d = indptr[i + 1] - a
            if d == 0:
                continue
            buf[0] = i
            if d >= r - 1:
                _floyd(s, d, r - 1, buf, 1)
                g = r
            else:
                for t in range(d):
                    buf[1 + t] = t
                g = d + 1
            for t in range(1, g):
                buf[t] = indices[a + buf[t]]
        maj = _apply_majority(stance, seen, committed, counts, buf, g, random_tie, sq, s)
        if stop and cmask[maj] and counts[maj] == n:
            return u + 1
    return n_updates


@njit(cache=True)
def _majority_sync(stance, seen, committed, counts, steps, stop, cmask, r, random_tie, sq,
                   perm, s):
    n = stance.shape[0]
    groups = n // r
    for t in range(steps):
        for k in range(n - 1, 0, -1):  # Fisher-Yates
            j = randint(s, k + 1)
            x = perm[k]
            perm[k] = perm[j]
            perm[j] = x
        for b in range(groups):
            _apply_majority(stance, seen, committed, counts, perm[b * r:(b + 1) * r], r,
                            random_tie, sq, s)
        if stop:
            for c in range(counts.shape[0]):
                if cmask[c] and counts[c] == n:
                    return t + 1
    return steps


@register
class MajorityRule(Model):
    name = "majority_rule"
    title = "Majority rule (Galam; Krapivsky & Redner)"
    summary = (
        "Random groups of r agents adopt the stance of their internal majority; ties go to "
        "the status quo or to a random stance."
    )
    references = (
        "Galam 1986, J. Math. Psychol. 30, 426",
        "Galam 2002, Eur. Phys. J. B 25, 403 (minority opinion spreading)",
        "Krapivsky & Redner 2003, Phys. Rev. Lett. 90, 238701",
    )
    stances = ("A", "B")
    Params = MajorityRuleParams

    def check_network(self, network: Network) -> None:
        p = self.params
        if p.update == "synchronous" and not network.complete:
            raise ParameterError("synchronous (Galam) updates are defined on the complete "
                                 "graph only", field="majority_rule.update",
                                 allowed="'random_sequential' on this network", given=p.update)
        if network.complete and p.r > network.n:
            raise ParameterError("the group size exceeds the number of agents",
                                 field="majority_rule.r", allowed=f"<= {network.n}", given=p.r)

    def init_aux(self, state: State, network: Network,
                 gen: np.random.Generator | None = None) -> None:
        if self.params.update == "synchronous":
            state.aux["perm"] = np.arange(state.n, dtype=np.int64)

    def advance(self, state: State, network: Network, sweeps: int,
                stop_at_consensus: bool) -> float:
        p = self.params
        self.check_network(network)
        cmask = self.consensus_mask()
        random_tie = p.tie == "random"
        sq = self.stance_code(p.status_quo)
        if p.update == "synchronous":
            perm = state.aux.get("perm")
            if perm is None or perm.shape[0] != state.n:
                perm = state.aux["perm"] = np.arange(state.n, dtype=np.int64)
            done = _majority_sync(state.stance, state.seen, state.committed, state.counts,
                                  sweeps, stop_at_consensus, cmask, p.r, random_tie, sq, perm,
                                  state.rng)
            return float(done)
        complete, indptr, indices = network.kernel_args()
        n = state.n
        done = _majority_rs(state.stance, state.seen, state.committed, state.counts, complete,
                            indptr, indices, sweeps * n, stop_at_consensus, cmask, p.r,
                            random_tie, sq, state.rng)
        return done / n
