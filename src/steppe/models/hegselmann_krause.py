"""Hegselmann–Krause bounded confidence (Hegselmann & Krause 2002), synchronous averaging.

One step = one sweep: every uncommitted agent i at once takes the mean of its own private
opinion and the opinions it sees of its neighbours within its confidence bound,

    x_i(t+1) = ( x_i(t) + Σ_{j ∈ N(i), |x̂_j(t) − x_i(t)| ≤ ε} x̂_j(t) ) / (1 + #{those j}),

where x̂ is ``state.seen_opinion`` (what others voice) and N(i) the neighbours of i (every
other agent on the complete graph). Agent i counts itself with its private opinion; without
an expression layer (``state.live``) x̂ is x and this is the classic rule
x_i(t+1) = mean{x_j(t) : |x_j(t) − x_i(t)| ≤ ε} over i and its neighbours. Committed agents
keep their opinion but are seen by the others. An agent without neighbours keeps its opinion.

On the complete graph a step costs O(N) after sorting, not O(N²): the seen opinions are
sorted (the order of the previous step is kept and only checked, as HK preserves the order
of opinions), prefix sums are taken in double-double arithmetic (so that window sums are
accurate to about one rounding at any N), and each agent's window is found by two pointers
that only move forward as the agents are visited in increasing order of their own opinion.
On a network a step costs O(E).

On the complete graph with uniform initial opinions, consensus is reached for ε above
ε_c ≈ 0.2 in the limit of large N (Fortunato 2005; Lorenz 2007); below it the opinions
freeze, in finitely many steps, into clusters about 2ε apart (the "2R conjecture",
Blondel, Hendrickx & Tsitsiklis 2009).

Examples
--------
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> from steppe.engine.state import init_state
>>> m = get_model("hegselmann_krause")(epsilon=0.3)
>>> g = complete_graph(1000)
>>> st = init_state(m, g, seed=0)
>>> m.advance(st, g, sweeps=50, stop_at_consensus=False)
50.0
>>> bool(st.opinion.max() - st.opinion.min() < 1e-12), m.is_frozen(st, g)
(True, True)
"""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import Field

from ..networks.base import Network
from ..state import State
from .base import ContinuousModel, ModelParams, register
from .deffuant import _category

__all__ = ["HegselmannKrause", "HegselmannKrauseParams"]


class HegselmannKrauseParams(ModelParams):
    epsilon: float = Field(0.2, gt=0, le=1)
    """Confidence bound ε: an agent averages over the opinions within ε of its own."""
    tolerance: float = Field(1e-9, gt=0, le=0.01)
    """The run counts as frozen once a whole step moves no opinion by more than this."""


@njit(cache=True)
def _sorted_view(values, order, out):
    """``out = values[order]`` sorted: keep ``order`` if it still sorts ``values``, else
    recompute it (merge sort)."""
    n = values.shape[0]
    ok = True
    prev = -np.inf
    for k in range(n):
        v = values[order[k]]
        out[k] = v
        if v < prev:
            ok = False
        prev = v
    if not ok:
        order[:] = np.argsort(values, kind="mergesort")
        for k in range(n):
            out[k] = values[order[k]]


@njit(cache=True)
def _commit(opinion, new, committed, stance, counts, cutoffs):
    """Copy the new opinions in, refresh the categories; return the largest move."""
    n = opinion.shape[0]
    biggest = 0.0
    for c in range(counts.shape[0]):
        counts[c] = 0
    for i in range(n):
        if not committed[i]:
            d = abs(new[i] - opinion[i])
            if d > biggest:
                biggest = d
            opinion[i] = new[i]
        c = _category(opinion[i], cutoffs)
        stance[i] = c
        counts[c] += 1
    return biggest


@njit(cache=True)
def _stop_now(counts, cmask, n, live, biggest, tol):
    if live and biggest <= tol:
        return True
    for c in range(counts.shape[0]):
        if cmask[c] and counts[c] == n:
            return True
    return False


@njit(cache=True)
def _hk_complete(opinion, seen, stance, committed, counts, cutoffs, live, eps, steps, stop,
                 tol, cmask, order, xorder, ys, xs, phi, plo, new):
    """``steps`` synchronous steps on the complete graph; returns (steps done, largest move
    in the last step)."""
    n = opinion.shape[0]
    biggest = 0.0
    for t in range(steps):
        _sorted_view(seen, order, ys)
        if live:
            agents = order
        else:
            _sorted_view(opinion, xorder, xs)
            agents = xorder
        # prefix sums in double-double: phi[k] + plo[k] = ys[0] + ... + ys[k-1]
        phi[0] = 0.0
        plo[0] = 0.0
        for k in range(n):
            a = phi[k]
            b = ys[k]
            s = a + b
            bb = s - a
            phi[k + 1] = s
            plo[k + 1] = plo[k] + ((a - (s - bb)) + (b - bb))
        lo = 0
        hi = 0
        for k in range(n):
            i = agents[k]
            xi = opinion[i]
            if committed[i]:
                new[i] = xi
                continue
            while lo < n and xi - ys[lo] > eps:
                lo += 1
            while hi < n and ys[hi] - xi <= eps:
                hi += 1
            # window sum phi[hi] - phi[lo] with the rounding error of the difference kept
            a = phi[hi]
            b = phi[lo]
            d = a - b
            bb = d - a
            err = (a - (d - bb)) - (b + bb)
            total = d + (err + (plo[hi] - plo[lo]))
            cnt = hi - lo
            if not live:
                yi = seen[i]
                if abs(yi - xi) <= eps:
                    total -= yi
                    cnt -= 1
                total += xi
                cnt += 1
            new[i] = total / cnt
        biggest = _commit(opinion, new, committed, stance, counts, cutoffs)
        if stop and _stop_now(counts, cmask, n, live, biggest, tol):
            return t + 1, biggest
    return steps, biggest


@njit(cache=True)
def _hk_network(opinion, seen, stance, committed, counts, cutoffs, live, indptr, indices, eps,
                steps, stop, tol, cmask, new):
    """``steps`` synchronous steps on a CSR network; returns (steps done, largest move in
    the last step)."""
    n = opinion.shape[0]
    biggest = 0.0
    for t in range(steps):
        for i in range(n):
            xi = opinion[i]
            if committed[i]:
                new[i] = xi
                continue
            total = xi
            cnt = 1
            for e in range(indptr[i], indptr[i + 1]):
                y = seen[indices[e]]
                if abs(y - xi) <= eps:
                    total += y
                    cnt += 1
            new[i] = total / cnt
        biggest = _commit(opinion, new, committed, stance, counts, cutoffs)
        if stop and _stop_now(counts, cmask, n, live, biggest, tol):
            return t + 1, biggest
    return steps, biggest


@register
class HegselmannKrause(ContinuousModel):
    """Hegselmann–Krause bounded-confidence model (see the module docstring for the rule).

    Examples
    --------
    >>> HegselmannKrause(epsilon=0.25).params.epsilon
    0.25
    """

    name = "hegselmann_krause"
    title = "Hegselmann–Krause bounded confidence (synchronous averaging)"
    summary = (
        "Every agent at once moves to the mean of its own opinion and the opinions of its "
        "neighbours that differ from it by at most the confidence bound ε."
    )
    references = (
        "Hegselmann & Krause 2002, J. Artif. Soc. Soc. Simul. 5(3), 2",
        "Fortunato 2005, Int. J. Mod. Phys. C 16, 259 (consensus threshold ε_c ≈ 0.2)",
        "Lorenz 2007, Int. J. Mod. Phys. C 18, 1819 (survey)",
        "Blondel, Hendrickx & Tsitsiklis 2009, IEEE Trans. Autom. Control 54, 2586",
    )
    Params = HegselmannKrauseParams

    def init_aux(self, state: State, network: Network,
                 gen: np.random.Generator | None = None) -> None:
        """Preallocate the step's buffers (sort orders, sorted values, prefix sums).

        Examples
        --------
        >>> from steppe.networks import complete_graph
        >>> from steppe.engine.state import init_state
        >>> st = init_state(HegselmannKrause(), complete_graph(10), seed=0)
        >>> sorted(st.aux)
        ['max_change', 'new', 'order', 'phi', 'plo', 'xorder', 'xs', 'ys']
        """
        n = state.n
        state.aux["max_change"] = np.array([np.inf])
        state.aux["new"] = np.zeros(n, dtype=np.float64)
        if network.complete:
            state.aux["order"] = np.arange(n, dtype=np.int64)
            state.aux["xorder"] = np.arange(n, dtype=np.int64)
            state.aux["ys"] = np.zeros(n, dtype=np.float64)
            state.aux["xs"] = np.zeros(n, dtype=np.float64)
            state.aux["phi"] = np.zeros(n + 1, dtype=np.float64)
            state.aux["plo"] = np.zeros(n + 1, dtype=np.float64)

    def advance(self, state: State, network: Network, sweeps: int,
                stop_at_consensus: bool) -> float:
        """Run ``sweeps`` synchronous steps; return the steps done.

        With ``stop_at_consensus`` the run also stops after a step that moved no opinion by
        more than ``tolerance`` (a fixed point) while agents see each other as they are.

        Examples
        --------
        >>> from steppe.networks import lattice
        >>> from steppe.engine.state import init_state
        >>> m, g = HegselmannKrause(epsilon=0.3), lattice((10, 10))
        >>> st = init_state(m, g, seed=1)
        >>> m.advance(st, g, sweeps=3, stop_at_consensus=False)
        3.0
        """
        p = self.params
        cutoffs = np.asarray(self.cutoffs, dtype=np.float64)
        a = state.aux
        args = (state.opinion, state.seen_opinion, state.stance, state.committed,
                state.counts, cutoffs, state.live)
        if network.complete:
            done, biggest = _hk_complete(
                *args, p.epsilon, sweeps, stop_at_consensus, p.tolerance,
                self.consensus_mask(), a["order"], a["xorder"], a["ys"], a["xs"], a["phi"],
                a["plo"], a["new"])
        else:
            done, biggest = _hk_network(
                *args, network.indptr, network.indices, p.epsilon, sweeps,
                stop_at_consensus, p.tolerance, self.consensus_mask(), a["new"])
        a["max_change"][0] = biggest
        self.categorize(state)
        return float(done)

    def is_frozen(self, state: State, network: Network) -> bool:
        """True when the last step moved no opinion by more than ``tolerance`` while agents
        saw each other as they are (always False under an enforcement, since what agents
        voice is recomputed by the expression layer and may change).

        Examples
        --------
        >>> from steppe.networks import complete_graph
        >>> from steppe.engine.state import init_state
        >>> m, g = HegselmannKrause(epsilon=0.3), complete_graph(50)
        >>> st = init_state(m, g, seed=0)
        >>> m.is_frozen(st, g)
        False
        """
        return bool(state.live and state.aux["max_change"][0] <= self.params.tolerance)
