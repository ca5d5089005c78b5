"""Deffuant–Weisbuch bounded confidence (Deffuant, Neau, Amblard & Weisbuch 2000).

Random-sequential pair interactions; one sweep = N interactions. Each interaction picks a
uniformly random agent i and a uniformly random neighbour j of i (on the complete graph: a
uniformly random other agent; an agent without neighbours does nothing). With private
opinions x and the opinions others see x̂ (``state.seen_opinion``), both read *before* the
interaction:

- i moves, unless committed, when ``|x_i − x̂_j| < ε``:  ``x_i ← x_i + μ (x̂_j − x_i)``;
- j moves, unless committed, when ``|x_j − x̂_i| < ε``:  ``x_j ← x_j + μ (x̂_i − x_j)``.

Each agent compares its own private opinion with what the other voices, and moves toward
what it hears. Without an expression layer (``state.live``) x̂ is x, the two conditions are
the same ``|x_i − x_j| < ε`` and this is the classic symmetric rule, which conserves the sum
of the opinions exactly (up to rounding) when no agent is committed. The strict inequality
follows Deffuant et al. (2000). Committed agents never move but still speak.

With μ = 1/2 and opinions uniform on [0, 1], the final state on the complete graph has about
⌊1/(2ε)⌋ major clusters (Deffuant et al. 2000; Weisbuch et al. 2002); for ε > 1/2 all agents
reach one cluster on any connected graph (Fortunato 2004).

The kernel keeps ``state.stance`` (the category of each opinion under the model's cut-offs)
and ``state.counts`` current, so a run that stops at consensus (every agent in one category)
stops at the exact interaction. :meth:`Deffuant.is_frozen` tells when no opinion can move by
more than ``tolerance`` ever again.

Examples
--------
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> from steppe.engine.state import init_state
>>> m = get_model("deffuant")(epsilon=0.6)
>>> g = complete_graph(200)
>>> st = init_state(m, g, seed=0)
>>> m.advance(st, g, sweeps=200, stop_at_consensus=False)
200.0
>>> bool(st.opinion.max() - st.opinion.min() < 1e-6), m.is_frozen(st, g)
(True, True)
"""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import Field

from ..networks.base import Network, random_neighbor
from ..rng import randint
from ..state import State
from .base import ContinuousModel, ModelParams, register

__all__ = ["Deffuant", "DeffuantParams"]


class DeffuantParams(ModelParams):
    epsilon: float = Field(0.2, gt=0, le=1)
    """Confidence bound ε: an agent listens only to opinions closer than ε to its own."""
    mu: float = Field(0.5, gt=0, le=0.5)
    """Convergence parameter μ: the share of the distance an agent moves."""
    tolerance: float = Field(1e-6, gt=0, le=0.01)
    """The run counts as frozen once no opinion can ever move by more than this again."""


@njit(inline="always", cache=True)
def _category(x, cutoffs):
    """Number of cut-offs <= x (``np.searchsorted(cutoffs, x, side="right")``)."""
    c = 0
    for k in range(cutoffs.shape[0]):
        if x >= cutoffs[k]:
            c += 1
    return c


@njit(cache=True)
def _deffuant(opinion, seen, stance, committed, counts, cutoffs, complete, indptr, indices,
              eps, mu, n_updates, stop, cmask, s):
    """``n_updates`` pair interactions; returns (interactions done, largest |Δx| over the
    last N interactions)."""
    n = opinion.shape[0]
    last = n_updates - n  # track the largest move over the last sweep only
    biggest = 0.0
    for u in range(n_updates):
        i = randint(s, n)
        j = random_neighbor(s, i, n, complete, indptr, indices)
        if j < 0:
            continue
        xi = opinion[i]
        xj = opinion[j]
        hi = seen[i]
        hj = seen[j]
        changed = -1
        if not committed[i]:
            d = hj - xi
            if abs(d) < eps:
                new = xi + mu * d
                opinion[i] = new
                if u >= last and abs(new - xi) > biggest:
                    biggest = abs(new - xi)
                c_old = stance[i]
                c_new = _category(new, cutoffs)
                if c_new != c_old:
                    stance[i] = c_new
                    counts[c_old] -= 1
                    counts[c_new] += 1
                    changed = c_new
        if not committed[j]:
            d = hi - xj
            if abs(d) < eps:
                new = xj + mu * d
                opinion[j] = new
                if u >= last and abs(new - xj) > biggest:
                    biggest = abs(new - xj)
                c_old = stance[j]
                c_new = _category(new, cutoffs)
                if c_new != c_old:
                    stance[j] = c_new
                    counts[c_old] -= 1
                    counts[c_new] += 1
                    changed = c_new
        if stop and changed >= 0 and cmask[changed] and counts[changed] == n:
            return u + 1, biggest
    return n_updates, biggest


@njit(cache=True)
def _frozen_sorted(opinion, eps, tol, cutoffs):
    """Sufficient test on any graph: split the sorted opinions at gaps >= ε; every group
    must be narrower than ``tol`` and lie within one category."""
    x = np.sort(opinion)
    n = x.shape[0]
    g0 = 0
    for k in range(1, n + 1):
        if k == n or x[k] - x[k - 1] >= eps:
            if x[k - 1] - x[g0] > tol:
                return False
            if _category(x[g0], cutoffs) != _category(x[k - 1], cutoffs):
                return False
            g0 = k
    return True


@njit(cache=True)
def _find(parent, a):
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


@njit(cache=True)
def _frozen_network(opinion, indptr, indices, eps, tol, cutoffs):
    """Exact test on a network: the components of the graph of edges with |Δx| < ε must
    each be narrower than ``tol`` (and within one category), and every other edge must join
    components whose opinion intervals are at least ε apart. Updates are convex
    combinations within a component, so each component stays inside its interval and the
    other edges never become active."""
    n = opinion.shape[0]
    parent = np.arange(n)
    for i in range(n):
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if j > i and abs(opinion[i] - opinion[j]) < eps:
                a = _find(parent, i)
                b = _find(parent, j)
                if a != b:
                    parent[a] = b
    root = np.empty(n, dtype=np.int64)
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)
    for i in range(n):
        r = _find(parent, i)
        root[i] = r
        lo[r] = min(lo[r], opinion[i])
        hi[r] = max(hi[r], opinion[i])
    for r in range(n):
        if root[r] == r:
            if hi[r] - lo[r] > tol or _category(lo[r], cutoffs) != _category(hi[r], cutoffs):
                return False
    for i in range(n):
        a = root[i]
        for e in range(indptr[i], indptr[i + 1]):
            b = root[indices[e]]
            if a != b and max(lo[b] - hi[a], lo[a] - hi[b]) < eps:
                return False
    return True


@register
class Deffuant(ContinuousModel):
    """Deffuant–Weisbuch bounded-confidence model (see the module docstring for the rule).

    Examples
    --------
    >>> Deffuant(epsilon=0.3).params.mu
    0.5
    """

    name = "deffuant"
    title = "Deffuant–Weisbuch bounded confidence (pairwise averaging)"
    summary = (
        "A random agent and a random neighbour each move a fraction μ toward the other's "
        "opinion when the two differ by less than the confidence bound ε."
    )
    references = (
        "Deffuant, Neau, Amblard & Weisbuch 2000, Adv. Complex Syst. 3, 87",
        "Weisbuch, Deffuant, Amblard & Nadal 2002, Complexity 7(3), 55",
        "Fortunato 2004, Int. J. Mod. Phys. C 15, 1301 (consensus for ε > 1/2 on any graph)",
    )
    Params = DeffuantParams

    def init_aux(self, state: State, network: Network,
                 gen: np.random.Generator | None = None) -> None:
        """Allocate the record of the largest move over the last sweep.

        Examples
        --------
        >>> from steppe.networks import complete_graph
        >>> from steppe.engine.state import init_state
        >>> st = init_state(Deffuant(), complete_graph(10), seed=0)
        >>> st.aux["max_change"].tolist()
        [inf]
        """
        state.aux["max_change"] = np.array([np.inf])

    def advance(self, state: State, network: Network, sweeps: int,
                stop_at_consensus: bool) -> float:
        """Run ``sweeps * N`` pair interactions; return the time advanced in sweeps.

        Examples
        --------
        >>> from steppe.networks import lattice
        >>> from steppe.engine.state import init_state
        >>> m, g = Deffuant(epsilon=0.3), lattice((10, 10))
        >>> st = init_state(m, g, seed=1)
        >>> m.advance(st, g, sweeps=3, stop_at_consensus=False)
        3.0
        """
        p = self.params
        complete, indptr, indices = network.kernel_args()
        n = state.n
        cutoffs = np.asarray(self.cutoffs, dtype=np.float64)
        done, biggest = _deffuant(
            state.opinion, state.seen_opinion, state.stance, state.committed, state.counts,
            cutoffs, complete, indptr, indices, p.epsilon, p.mu, sweeps * n,
            stop_at_consensus, self.consensus_mask(), state.rng)
        state.aux["max_change"][0] = biggest
        self.categorize(state)
        return done / n

    def is_frozen(self, state: State, network: Network) -> bool:
        """True when no opinion can ever move by more than ``tolerance`` again (nor change
        category) while agents see each other as they are.

        Under an enforcement (``state.live`` false) what agents voice is recomputed by the
        expression layer between sweeps and may change, so the answer is then always False.
        When the last sweep moved an opinion by more than ``tolerance`` the answer is False
        without a full test (which can only delay detection by one chunk).

        Examples
        --------
        >>> from steppe.networks import complete_graph
        >>> from steppe.engine.state import init_state
        >>> m, g = Deffuant(epsilon=0.3), complete_graph(4)
        >>> st = init_state(m, g, seed=0)
        >>> st.opinion[:] = [0.1, 0.1, 0.9, 0.9]
        >>> st.aux["max_change"][0] = 0.0
        >>> m.is_frozen(st, g)
        True
        """
        if not state.live or state.aux["max_change"][0] > self.params.tolerance:
            return False
        p = self.params
        cutoffs = np.asarray(self.cutoffs, dtype=np.float64)
        if _frozen_sorted(state.opinion, p.epsilon, p.tolerance, cutoffs):
            return True
        if network.complete:  # the sorted test is exact on the complete graph
            return False
        return bool(_frozen_network(state.opinion, network.indptr, network.indices,
                                    p.epsilon, p.tolerance, cutoffs))
