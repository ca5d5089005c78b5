"""The Sznajd model ("united we stand, divided we fall"): agreeing pairs convince others.

One sweep = N pair draws (random-sequential). Committed agents never change their stance
but take part in pairs.

- ``variant = "original"`` (Sznajd-Weron & Sznajd 2000), on a ring only (a network with a
  one-dimensional ``shape`` whose agent i has exactly the neighbours i ± 1 mod N, N >= 4):
  pick a random i and the pair (i, i+1). If s_i = s_{i+1}, agents i−1 and i+2 adopt that
  stance; if they differ, i−1 adopts s_{i+1} and i+2 adopts s_i (so in both cases
  s_{i−1} ← s_{i+1} and s_{i+2} ← s_i). The alternating ("antiferromagnetic stalemate")
  state is absorbing besides the two consensus states; from a random start it is reached
  in about half of the runs (Sznajd-Weron & Sznajd 2000; Stauffer 2002).
- ``variant = "agree_only"`` (Stauffer, Sousa & Moss de Oliveira 2000): pick a random i and
  a random neighbour j; only if s_i = s_j do they convince: every neighbour of i or of j
  (other than i and j) adopts their stance. On a ring this is exactly the one-dimensional
  rule "the outer neighbours i−1 and j+1 of the pair adopt". The same graph gives the same
  rule however it is stored: on the complete graph (implicit or given edge by edge) every
  other agent adopts, as in NDlib. If s_i ≠ s_j nothing happens.
- ``variant = "mean_field"`` (Slanina & Lavička 2003): as ``agree_only``, but an agreeing
  pair convinces a single random third agent k (distinct from i and j, anywhere in the
  population) — the mean-field Sznajd model, whose exit probability tends to a step
  function at share 1/2 as N grows.

Absorbing states: consensus, and for the original rule also the stalemate in which every
uncommitted agent holds what the agents two steps away hold (the alternating
"antiferromagnetic" state, or a mix of it with committed agents): :meth:`Sznajd.is_frozen`
detects it, so a run stopping at consensus also stops there, as absorbed.

Private and expressed stances: the pair's agreement, and the stances it passes on, are
judged on what the pair voices (``state.seen``), and the neighbours' private stances change
(original rule: i−1 adopts seen[i+1] and i+2 adopts seen[i]).

Examples
--------
>>> import numpy as np
>>> from steppe.models import get_model
>>> from steppe.networks import Network, complete_graph
>>> from steppe.engine.state import init_state
>>> L = 20
>>> nb = np.stack([(np.arange(L) - 1) % L, (np.arange(L) + 1) % L], axis=1).ravel()
>>> ring = Network.from_csr(np.arange(0, 2 * L + 1, 2), nb, name="ring", shape=(L,))
>>> m = get_model("sznajd")(variant="original")
>>> st = init_state(m, ring, shares={"A": 0.5, "B": 0.5}, seed=2)
>>> dt = m.advance(st, ring, sweeps=10, stop_at_consensus=False)
>>> int(st.counts.sum())
20
>>> get_model("sznajd")(variant="original").check_network(complete_graph(10))
Traceback (most recent call last):
...
steppe.errors.ParameterError: sznajd.variant: the original Sznajd rule is defined on a ring only ...
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numba import njit

from ..errors import ParameterError
from ..networks.base import Network, random_neighbor
from ..rng import randint, randint_excluding
from ..state import State
from .base import Model, ModelParams, register

__all__ = ["Sznajd", "is_ring"]


class SznajdParams(ModelParams):
    variant: Literal["original", "agree_only", "mean_field"] = "agree_only"
    """original: 1D rule where agreeing and disagreeing pairs both act (ring only);
    agree_only: only an agreeing pair convinces its neighbours (any network)."""


def is_ring(network: Network) -> bool:
    """Whether ``network`` is a ring: 1D ``shape`` and neighbours exactly i ± 1 mod n.

    Examples
    --------
    >>> import numpy as np
    >>> L = 5
    >>> nb = np.stack([(np.arange(L) + 1) % L, (np.arange(L) - 1) % L], axis=1).ravel()
    >>> is_ring(Network.from_csr(np.arange(0, 2 * L + 1, 2), nb, shape=(L,)))
    True
    """
    if network.complete or network.shape is None or len(network.shape) != 1:
        return False
    n = network.n
    if n < 3 or not np.array_equal(network.degree(), np.full(n, 2)):
        return False
    rows = np.sort(network.indices.reshape(n, 2).astype(np.int64), axis=1)
    i = np.arange(n)
    expect = np.sort(np.stack([(i - 1) % n, (i + 1) % n], axis=1), axis=1)
    return bool(np.array_equal(rows, expect))


@njit(cache=True)
def _set(stance, committed, counts, a, new):
    if not committed[a] and stance[a] != new:
        counts[stance[a]] -= 1
        counts[new] += 1
        stance[a] = new


@njit(cache=True)
def _sznajd_original(stance, seen, committed, counts, n_updates, stop, cmask, s):
    n = stance.shape[0]
    for u in range(n_updates):
        i = randint(s, n)
        ip1 = i + 1 if i + 1 < n else 0
        ip2 = ip1 + 1 if ip1 + 1 < n else 0
        im1 = i - 1 if i > 0 else n - 1
        left = seen[ip1]
        right = seen[i]
        _set(stance, committed, counts, im1, left)
        _set(stance, committed, counts, ip2, right)
        # A pair voicing different stances can complete a private consensus once seen is
        # not stance; when seen is stance, i + 1 keeps `left`, so only left == right can.
        if stop and ((cmask[left] and counts[left] == n)
                     or (cmask[right] and counts[right] == n)):
            return u + 1
    return n_updates


@njit(cache=True)
def _sznajd_agree(stance, seen, committed, counts, complete, indptr, indices, n_updates, stop,
                  cmask, s, mean_field):
    n = stance.shape[0]
    for u in range(n_updates):
        i = randint(s, n)
        j = random_neighbor(s, i, n, complete, indptr, indices)
        if j < 0:
            continue
        new = seen[i]
        if seen[j] != new:
            continue
        if mean_field:
            k = randint_excluding(s, n, i)
            while k == j:
                k = randint_excluding(s, n, i)
            _set(stance, committed, counts, k, new)
        elif complete:  # every other agent is a neighbour of i and of j
            for k in range(n):
                if k != i and k != j:
                    _set(stance, committed, counts, k, new)
        else:
            for e in range(indptr[i], indptr[i + 1]):
                k = indices[e]
                if k != j:
                    _set(stance, committed, counts, k, new)
            for e in range(indptr[j], indptr[j + 1]):
                k = indices[e]
                if k != i:
                    _set(stance, committed, counts, k, new)
        if stop and cmask[new] and counts[new] == n:
            return u + 1
    return n_updates


@register
class Sznajd(Model):
    name = "sznajd"
    title = "Sznajd model (outflow dynamics)"
    summary = (
        "A pair of neighbours that agree convinces the agents around it; in the original "
        "one-dimensional rule a disagreeing pair makes its outer neighbours disagree too."
    )
    references = (
        "Sznajd-Weron & Sznajd 2000, Int. J. Mod. Phys. C 11, 1157",
        "Stauffer, Sousa & Moss de Oliveira 2000, Int. J. Mod. Phys. C 11, 1239",
        "Slanina & Lavička 2003, Eur. Phys. J. B 35, 279 (mean field)",
        "Castellano & Pastor-Satorras 2011, Phys. Rev. E 83, 016113 (1D exit probability)",
    )
    stances = ("A", "B")
    Params = SznajdParams

    def check_network(self, network: Network) -> None:
        if self.params.variant == "original":
            if not is_ring(network) or network.n < 4:
                raise ParameterError(
                    "the original Sznajd rule is defined on a ring only (a network with a "
                    "one-dimensional shape where agent i neighbours i-1 and i+1 mod n, "
                    "n >= 4)", field="sznajd.variant",
                    allowed="'agree_only' on this network", given=self.params.variant)
        elif self.params.variant == "mean_field" and network.n < 3:
            raise ParameterError("the mean-field Sznajd rule needs n >= 3 (a pair and a "
                                 "third agent)", field="network.n", given=network.n)

    def advance(self, state: State, network: Network, sweeps: int,
                stop_at_consensus: bool) -> float:
        n = state.n
        cmask = self.consensus_mask()
        if self.params.variant == "original":
            done = _sznajd_original(state.stance, state.seen, state.committed, state.counts,
                                    sweeps * n, stop_at_consensus, cmask, state.rng)
        else:
            complete, indptr, indices = network.kernel_args()
            done = _sznajd_agree(state.stance, state.seen, state.committed, state.counts,
                                 complete, indptr, indices, sweeps * n, stop_at_consensus, cmask,
                                 state.rng, self.params.variant == "mean_field")
        return done / n

    def is_frozen(self, state: State, network: Network) -> bool:
        """The original rule's stalemate: while agents are seen as they are, nothing can
        change when every uncommitted agent holds what the agents two steps away on the
        ring hold (the update of pair (i, i+1) sets i−1 to s_{i+1} and i+2 to s_i).

        Examples
        --------
        >>> import numpy as np
        >>> from steppe.networks import lattice
        >>> from steppe.engine.state import init_state
        >>> m = Sznajd(variant="original")
        >>> st = init_state(m, lattice((8,)), seed=1)
        >>> st.stance[:] = [0, 1, 0, 1, 0, 1, 0, 1]; st.recount(2)
        >>> m.is_frozen(st, lattice((8,)))
        True
        """
        if self.params.variant != "original" or not state.live:
            return False
        x = state.stance
        free = ~state.committed
        if state.present is not None:  # pragma: no cover - the ring rule refuses flows
            free &= state.present
        same = (x == np.roll(x, 2)) & (x == np.roll(x, -2))
        return bool(np.all(same[free]))
