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
from ..rng import load_state, next_u64_r, randint, randint_hi, randint_lo, store_state
from ..state import State
from .base import Model, ModelParams, register

__all__ = ["Voter"]


class VoterParams(ModelParams):
    variant: Literal["node", "link", "invasion"] = "node"
    """Which agent copies whom: node (i copies a neighbour), link (random edge), invasion
    (a neighbour copies i)."""
    update: Literal["random_sequential", "synchronous"] = "random_sequential"
    """Random-sequential (one sweep = N elementary updates) or synchronous (node only)."""


# Kernel design (measured against a tight hand-written loop; see benchmarks/README.md). One
# 64-bit draw per update: its high half picks the agent, its low half the neighbour. The
# generator state is loaded into registers for the length of the call (``load_state``), not
# read and written through memory at every draw (a store to ``stance`` could alias it, so it
# was reloaded after every update). The rare rejection step of the unbiased integer draw lives
# out of line. The loop is specialised, with constant flags that the compiler folds: for the
# complete graph, for "no agent is committed" (then ``committed`` is never read) and for "stop
# at consensus" (only then is the two-stance tally kept update by update, compared with two
# bounds read once; otherwise the stances are counted once at the end; and when consensus is
# absorbing even a run that stops at consensus skips the tally, see ``_pair``). The committed
# flag is read after every draw of the update, so that the random stream never waits on a
# memory load.
@njit(inline="always", cache=True)
def _pair_loop(stance, seen, committed, indptr, indices, n_updates, cmask, t, ones, complete,
               any_committed, stop, invasion):
    """Node updates (``invasion`` False: i copies j) or invasion updates (j copies i)."""
    n = stance.shape[0]
    done = n_updates
    # the tallies at which to stop, read once (a store to stance could alias cmask)
    end_hi = n if cmask[1] else -1
    end_lo = 0 if cmask[0] else -1
    for u in range(n_updates):
        x, t = next_u64_r(t)
        i, x, t = randint_hi(t, x, n)
        if complete:
            j, t = randint_lo(t, x, n - 1)
            if j >= i:
                j += 1
        else:
            a = indptr[i]
            d = indptr[i + 1] - a
            if d == 0:
                continue
            k, t = randint_lo(t, x, d)
            j = np.int64(indices[a + k])
        if invasion:
            src = i
            dst = j
        else:
            src = j
            dst = i
        if any_committed and committed[dst]:
            continue
        new = seen[src]
        if stop:
            ones += np.int64(new) - np.int64(stance[dst])
            stance[dst] = new
            if ones == end_hi or ones == end_lo:
                done = u + 1
                break
        else:
            stance[dst] = new
    return done, ones, t


@njit(cache=True)
def _count_ones(stance):
    ones = 0
    for v in stance:
        ones += np.int64(v)
    return ones


@njit(inline="always", cache=True)
def _pair_run(stance, seen, committed, counts, indptr, indices, n_updates, stop, absorbing,
              cmask, s, complete, any_committed, invasion):
    """Load the generator, run the updates, store the generator and the counts.

    Two copies of the loop: with the running tally (to stop at the very update that reaches
    consensus) and without it (the stances are counted at the end). When the run stops at
    consensus and consensus is ``absorbing`` (agents see each other as they are: an agent
    copying a unanimous population changes nothing), the updates run without the tally one
    sweep at a time; a sweep that ends in a consensus that stops the run is replayed with the
    tally from a copy of the stances and of the generator. The results are those of the
    tallying loop, bit for bit.
    """
    n = stance.shape[0]
    t = load_state(s)
    ones = counts[1]
    end_hi = n if cmask[1] else -1
    end_lo = 0 if cmask[0] else -1
    tally = stop and not absorbing
    chunk = n_updates if not stop else n
    snap = np.empty(n if stop and absorbing else 0, dtype=stance.dtype)
    done = 0
    remaining = n_updates
    while remaining > 0:
        b = min(chunk, remaining)
        if tally:
            d, ones, t = _pair_loop(stance, seen, committed, indptr, indices, b, cmask, t, ones,
                                    complete, any_committed, True, invasion)
            done += d
            if ones == end_hi or ones == end_lo:  # stopped (possibly at the chunk's end)
                break
            remaining -= b
            continue
        t0 = t
        if stop:
            snap[:] = stance
        _, _, t = _pair_loop(stance, seen, committed, indptr, indices, b, cmask, t, ones,
                             complete, any_committed, False, invasion)
        new_ones = _count_ones(stance)
        if stop and (new_ones == end_hi or new_ones == end_lo):
            stance[:] = snap  # replay this sweep with the tally
            t = t0
            tally = True
            continue
        ones = new_ones
        done += b
        remaining -= b
    store_state(s, t)
    counts[1] = ones
    counts[0] = n - ones
    return done


# One compiled kernel per variant (node or invasion), kind of graph (a network or the implicit
# complete graph) and "some agent is committed", each compiled when first used.
@njit(cache=True)
def _node_net(stance, seen, committed, counts, indptr, indices, n_updates, stop,
              absorbing, cmask, s):
    return _pair_run(stance, seen, committed, counts, indptr, indices, n_updates, stop,
                     absorbing, cmask, s, False, False, False)


@njit(cache=True)
def _node_net_c(stance, seen, committed, counts, indptr, indices, n_updates, stop,
                absorbing, cmask, s):
    return _pair_run(stance, seen, committed, counts, indptr, indices, n_updates, stop,
                     absorbing, cmask, s, False, True, False)


@njit(cache=True)
def _node_kn(stance, seen, committed, counts, indptr, indices, n_updates, stop,
             absorbing, cmask, s):
    return _pair_run(stance, seen, committed, counts, indptr, indices, n_updates, stop,
                     absorbing, cmask, s, True, False, False)


@njit(cache=True)
def _node_kn_c(stance, seen, committed, counts, indptr, indices, n_updates, stop,
               absorbing, cmask, s):
    return _pair_run(stance, seen, committed, counts, indptr, indices, n_updates, stop,
                     absorbing, cmask, s, True, True, False)


@njit(cache=True)
def _inv_net(stance, seen, committed, counts, indptr, indices, n_updates, stop,
             absorbing, cmask, s):
    return _pair_run(stance, seen, committed, counts, indptr, indices, n_updates, stop,
                     absorbing, cmask, s, False, False, True)


@njit(cache=True)
def _inv_net_c(stance, seen, committed, counts, indptr, indices, n_updates, stop,
               absorbing, cmask, s):
    return _pair_run(stance, seen, committed, counts, indptr, indices, n_updates, stop,
                     absorbing, cmask, s, False, True, True)


@njit(cache=True)
def _inv_kn(stance, seen, committed, counts, indptr, indices, n_updates, stop,
            absorbing, cmask, s):
    return _pair_run(stance, seen, committed, counts, indptr, indices, n_updates, stop,
                     absorbing, cmask, s, True, False, True)


@njit(cache=True)
def _inv_kn_c(stance, seen, committed, counts, indptr, indices, n_updates, stop,
              absorbing, cmask, s):
    return _pair_run(stance, seen, committed, counts, indptr, indices, n_updates, stop,
                     absorbing, cmask, s, True, True, True)


#: (invasion, complete, some agent committed) -> kernel
_PAIR_KERNELS = {
    (False, False, False): _node_net, (False, False, True): _node_net_c,
    (False, True, False): _node_kn, (False, True, True): _node_kn_c,
    (True, False, False): _inv_net, (True, False, True): _inv_net_c,
    (True, True, False): _inv_kn, (True, True, True): _inv_kn_c,
}


def _pair(stance: np.ndarray, seen: np.ndarray, committed: np.ndarray, counts: np.ndarray,
          complete: bool, indptr: np.ndarray, indices: np.ndarray, n_updates: int,
          stop: bool, cmask: np.ndarray, s: np.ndarray, invasion: bool) -> int:
    """Run the kernel for this variant, kind of graph and "some agent committed"; consensus
    is absorbing when agents see each other as they are (``seen is stance``)."""
    kernel = _PAIR_KERNELS[bool(invasion), bool(complete), bool(committed.any())]
    return kernel(stance, seen, committed, counts, indptr, indices, n_updates, stop,
                  seen is stance, cmask, s)


def _voter_node(stance: np.ndarray, seen: np.ndarray, committed: np.ndarray,
                counts: np.ndarray, complete: bool, indptr: np.ndarray, indices: np.ndarray,
                n_updates: int, stop: bool, cmask: np.ndarray, s: np.ndarray) -> int:
    """Run ``n_updates`` node updates (a random agent copies what a random neighbour voices)
    in place; return how many were done (fewer when ``stop`` and a consensus in ``cmask`` is
    reached).

    Examples
    --------
    >>> import numpy as np
    >>> from steppe.rng import make_state
    >>> st = np.array([0, 1, 1, 1], dtype=np.int8)
    >>> counts = np.array([1, 3], dtype=np.int64)
    >>> done = _voter_node(st, st, np.zeros(4, np.bool_), counts, True, np.zeros(1, np.int64),
    ...                    np.zeros(0, np.int32), 10_000, True, np.array([True, True]),
    ...                    make_state(2))
    >>> done < 10_000, int(counts.max())
    (True, 4)
    """
    return _pair(stance, seen, committed, counts, complete, indptr, indices, n_updates, stop,
                 cmask, s, False)


def _voter_invasion(stance: np.ndarray, seen: np.ndarray, committed: np.ndarray,
                    counts: np.ndarray, complete: bool, indptr: np.ndarray,
                    indices: np.ndarray, n_updates: int, stop: bool, cmask: np.ndarray,
                    s: np.ndarray) -> int:
    """As :func:`_voter_node`, with invasion updates (a random neighbour of a random agent
    takes what the agent voices)."""
    return _pair(stance, seen, committed, counts, complete, indptr, indices, n_updates, stop,
                 cmask, s, True)


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
