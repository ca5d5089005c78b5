"""The q-voter model with nonconformity: independence or anticonformity.

Rule, random-sequential (one sweep = N elementary updates). Pick a random agent i
(committed agents do nothing, but sit on other agents' panels):

- with probability ``p`` it is *nonconforming*:

  - ``independence``: it flips its stance with probability 1/2;
  - ``anticonformity``: it draws a panel of q others; if the panel is unanimous, i takes
    the opposite of the panel's stance;

- otherwise (probability 1 − p) it *conforms*: it draws a panel of q others; if the panel
  is unanimous, i adopts the panel's stance; otherwise nothing happens.

The panel: on the complete graph, q distinct agents other than i, uniformly among all such
q-sets; on a network, q distinct neighbours of i, uniformly among all q-subsets of its
neighbours (Floyd's sampling, no rejection). An agent with fewer than q neighbours cannot
form a panel: it does nothing on conformity and anticonformity steps (it can still act
independently). With ``repetition=True`` the q panel members are drawn independently with
repetition, as in the original nonlinear q-voter model of Castellano, Muñoz &
Pastor-Satorras (2009); then any agent with at least one neighbour forms a panel.

Private and expressed stances: the panel's stances are read from what its members voice
(``state.seen``), while the agent's own flip or adoption changes its private stance.

Mean field (Nyczka, Sznajd-Weron & Cisło 2012), with c the share of A and
A(c) = (1−c)c^q − c(1−c)^q: the steady states solve p = A/(c^q − (1−c)^q) (anticonformity)
and p = A/(A + c − ½) (independence). The ordered phase ends at
p_c = (q−1)/(2q) (anticonformity) and p_c = (q−1)/(q−1+2^(q−1)) (independence).

Examples
--------
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> from steppe.engine.state import init_state
>>> m = get_model("qvoter")(q=4, p=0.25, nonconformity="anticonformity")
>>> g = complete_graph(500)
>>> st = init_state(m, g, shares={"A": 1.0}, seed=0)
>>> m.advance(st, g, sweeps=20, stop_at_consensus=False)
20.0
>>> bool(st.counts[0] > st.counts[1]), int(st.counts.sum())
(True, 500)
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numba import njit
from pydantic import Field

from ..errors import ParameterError
from ..networks.base import Network
from ..rng import load_state, next_u64_r, randint_hi, randint_lo, store_state
from ..state import State
from .base import Model, ModelParams, register

__all__ = ["QVoter", "mean_field_share"]


class QVoterParams(ModelParams):
    q: int = Field(4, ge=1, le=10_000)
    """Panel size: how many others must agree to sway the agent."""
    p: float = Field(0.0, ge=0.0, le=1.0)
    """Probability that the chosen agent acts nonconformingly."""
    nonconformity: Literal["independence", "anticonformity"] = "independence"
    """Independence (flip with probability 1/2) or anticonformity (oppose a unanimous
    panel)."""
    repetition: bool = False
    """Draw the panel with repetition (Castellano et al. 2009) instead of q distinct
    others."""


@njit(inline="always", cache=True)
def _member(i, x, complete, a, indices):
    """Agent id of position ``x`` among i's neighbours (positions skip i itself on the
    complete graph)."""
    if complete:
        return x + 1 if x >= i else x
    return np.int64(indices[a + x])


# Kernel design (measured in benchmarks/, see benchmarks/README.md). The generator state is
# loaded into registers for the length of the call. One 64-bit draw per update gives the
# agent (high half) and, when p > 0, the nonconformity test and the independent coin (low
# half, to 32 bits: u < p/2 flips, p/2 <= u < p keeps); every further draw gives two panel
# positions (high half, then low half; when p = 0 the first draw's low half is the first
# position). The rare rejection step of the unbiased integer draw lives out of line. The panel
# is drawn member by member and abandoned at the first dissenter (each member Floyd's method
# yields belongs to the final uniform subset, so the unanimity indicator has the right law).
# The committed flag is read after every draw of the update, and only when some agent is
# committed (the loop is specialised for that and for the complete graph: inlined copies with
# constant flags, which LLVM folds). The two-stance tally lives in a register; the consensus
# test compares it with two bounds read once (``cmask`` is not reloaded after every store).
@njit(inline="always", cache=True)
def _qvoter_loop(stance, seen, committed, indptr, indices, n_updates, stop, cmask, q, p, anti,
                 repetition, buf, t, ones, complete, any_committed):
    n = stance.shape[0]
    done = n_updates
    # the tallies at which to stop, read once (a store to stance could alias cmask)
    end_hi = n if stop and cmask[1] else -1
    end_lo = 0 if stop and cmask[0] else -1
    has_p = p > 0.0
    # thresholds on a 32-bit uniform: P(u < p_cut) = p and P(u < flip_cut) = p / 2 to 2**-32
    p_cut = np.uint64(min(p * 4294967296.0, 4294967296.0))
    flip_cut = np.uint64(0.5 * p * 4294967296.0)
    mask32 = np.uint64(0xFFFFFFFF)
    for u in range(n_updates):
        x, t = next_u64_r(t)
        i, x, t = randint_hi(t, x, n)
        pending = True  # the low half of x is still unused
        nonconform = False
        if has_p:
            r = x & mask32
            pending = False
            nonconform = r < p_cut
            if nonconform and not anti:
                # independence: flip with probability 1/2
                if r >= flip_cut or (any_committed and committed[i]):
                    continue
                old = np.int64(stance[i])
                ones += 1 - 2 * old
                stance[i] = 1 - old
                if ones == end_hi or ones == end_lo:
                    done = u + 1
                    break
                continue
        if complete:
            a = 0
            d = n - 1
        else:
            a = indptr[i]
            d = indptr[i + 1] - a
        if d == 0 or (not repetition and d < q):
            continue  # no panel can be formed
        first = np.int64(-1)
        unanimous = True
        if repetition:
            for w in range(q):
                if pending:
                    k, t = randint_lo(t, x, d)
                    pending = False
                else:
                    x, t = next_u64_r(t)
                    k, x, t = randint_hi(t, x, d)
                    pending = True
                v = np.int64(seen[_member(i, k, complete, a, indices)])
                if w == 0:
                    first = v
                elif v != first:
                    unanimous = False
                    break
        else:
            # Floyd's algorithm: a uniform q-subset of {0..d-1}, one member at a time
            m = 0
            for jj in range(d - q, d):
                if pending:
                    k, t = randint_lo(t, x, jj + 1)
                    pending = False
                else:
                    x, t = next_u64_r(t)
                    k, x, t = randint_hi(t, x, jj + 1)
                    pending = True
                for w in range(m):
                    if buf[w] == k:
                        k = jj
                        break
                buf[m] = k
                v = np.int64(seen[_member(i, k, complete, a, indices)])
                if m == 0:
                    first = v
                elif v != first:
                    unanimous = False
                    break
                m += 1
        if not unanimous or (any_committed and committed[i]):
            continue
        new = 1 - first if nonconform else first
        ones += new - np.int64(stance[i])
        stance[i] = new
        if ones == end_hi or ones == end_lo:
            done = u + 1
            break
    return done, ones, t


@njit(inline="always", cache=True)
def _qvoter_run(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask, q, p,
                any_committed, s, anti, repetition, complete):
    """Load the generator, run the loop (one copy reading ``committed``, one not), store the
    generator and the counts."""
    buf = np.empty(q, dtype=np.int64)
    t = load_state(s)
    ones = counts[1]
    if any_committed:
        done, ones, t = _qvoter_loop(stance, seen, committed, indptr, indices, n_updates,
                                     stop, cmask, q, p, anti, repetition, buf, t, ones,
                                     complete, True)
    else:
        done, ones, t = _qvoter_loop(stance, seen, committed, indptr, indices, n_updates,
                                     stop, cmask, q, p, anti, repetition, buf, t, ones,
                                     complete, False)
    store_state(s, t)
    counts[1] = ones
    counts[0] = stance.shape[0] - ones
    return done


# One compiled kernel per rule (independence or anticonformity, panel with or without
# repetition) and kind of graph (a network or the implicit complete graph), each compiled when
# first used: these flags are constants inside the loop.
@njit(cache=True)
def _qv_ind_net(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask, q, p,
                any_committed, s):
    return _qvoter_run(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask,
                       q, p, any_committed, s, False, False, False)


@njit(cache=True)
def _qv_ind_kn(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask, q, p,
               any_committed, s):
    return _qvoter_run(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask,
                       q, p, any_committed, s, False, False, True)


@njit(cache=True)
def _qv_ind_rep_net(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask, q, p,
                    any_committed, s):
    return _qvoter_run(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask,
                       q, p, any_committed, s, False, True, False)


@njit(cache=True)
def _qv_ind_rep_kn(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask, q, p,
                   any_committed, s):
    return _qvoter_run(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask,
                       q, p, any_committed, s, False, True, True)


@njit(cache=True)
def _qv_anti_net(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask, q, p,
                 any_committed, s):
    return _qvoter_run(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask,
                       q, p, any_committed, s, True, False, False)


@njit(cache=True)
def _qv_anti_kn(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask, q, p,
                any_committed, s):
    return _qvoter_run(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask,
                       q, p, any_committed, s, True, False, True)


@njit(cache=True)
def _qv_anti_rep_net(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask, q, p,
                     any_committed, s):
    return _qvoter_run(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask,
                       q, p, any_committed, s, True, True, False)


@njit(cache=True)
def _qv_anti_rep_kn(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask, q, p,
                    any_committed, s):
    return _qvoter_run(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask,
                       q, p, any_committed, s, True, True, True)


#: (anticonformity, repetition, complete) -> kernel
_KERNELS = {
    (False, False, False): _qv_ind_net,
    (False, False, True): _qv_ind_kn,
    (False, True, False): _qv_ind_rep_net,
    (False, True, True): _qv_ind_rep_kn,
    (True, False, False): _qv_anti_net,
    (True, False, True): _qv_anti_kn,
    (True, True, False): _qv_anti_rep_net,
    (True, True, True): _qv_anti_rep_kn,
}


def _qvoter(stance: np.ndarray, seen: np.ndarray, committed: np.ndarray, counts: np.ndarray,
            complete: bool, indptr: np.ndarray, indices: np.ndarray, n_updates: int,
            stop: bool, cmask: np.ndarray, q: int, p: float, anti: bool, repetition: bool,
            s: np.ndarray) -> int:
    """Run ``n_updates`` q-voter updates in place; return how many were done (fewer when
    ``stop`` and a consensus in ``cmask`` is reached).

    Examples
    --------
    >>> import numpy as np
    >>> from steppe.rng import make_state
    >>> st = np.array([0, 1, 1, 1, 1], dtype=np.int8)
    >>> counts = np.array([1, 4], dtype=np.int64)
    >>> _qvoter(st, st, np.zeros(5, np.bool_), counts, True, np.zeros(1, np.int64),
    ...         np.zeros(0, np.int32), 500, True, np.array([True, True]), 3, 0.0, False,
    ...         False, make_state(1)) < 500, counts.tolist()
    (True, [0, 5])
    """
    kernel = _KERNELS[bool(anti), bool(repetition), bool(complete)]
    return kernel(stance, seen, committed, counts, indptr, indices, n_updates, stop, cmask, q,
                  p, bool(committed.any()), s)


def mean_field_share(q: int, p: float, nonconformity: str = "independence") -> float:
    """The ordered mean-field steady state c > 1/2 (share of the majority), or 0.5.

    Solves p = A/(c^q − (1−c)^q) (anticonformity) or p = A/(A + c − ½) (independence),
    with A = (1−c)c^q − c(1−c)^q, for c in (1/2, 1] by bisection (Nyczka, Sznajd-Weron &
    Cisło 2012). Above the critical point the only steady state is c = 1/2.

    Examples
    --------
    >>> round(mean_field_share(4, 0.0), 6)
    1.0
    >>> mean_field_share(4, 0.5, "anticonformity")
    0.5
    >>> round(mean_field_share(4, 0.25, "anticonformity"), 4)
    0.7429
    """
    from scipy.optimize import brentq

    if nonconformity not in ("independence", "anticonformity"):
        raise ParameterError("unknown nonconformity", field="nonconformity",
                             allowed="'independence', 'anticonformity'", given=nonconformity)

    def p_of_c(c: float) -> float:
        a = (1 - c) * c**q - c * (1 - c) ** q
        if nonconformity == "anticonformity":
            return a / (c**q - (1 - c) ** q)
        return a / (a + c - 0.5)

    if p <= 0:
        return 1.0
    pc = (q - 1) / (2 * q) if nonconformity == "anticonformity" else (
        (q - 1) / (q - 1 + 2 ** (q - 1)))
    if p >= pc:
        return 0.5
    # p_of_c decreases from p_c (c -> 1/2) to 0 (c = 1)
    return float(brentq(lambda c: p_of_c(c) - p, 0.5 + 1e-12, 1.0, xtol=1e-14))


@register
class QVoter(Model):
    name = "qvoter"
    title = "q-voter model with independence or anticonformity"
    summary = (
        "An agent adopts the stance of a unanimous panel of q others; with probability p it "
        "instead acts independently (flips with probability 1/2) or anticonforms (opposes a "
        "unanimous panel)."
    )
    references = (
        "Castellano, Muñoz & Pastor-Satorras 2009, Phys. Rev. E 80, 041129 (q-voter)",
        "Nyczka, Sznajd-Weron & Cisło 2012, Phys. Rev. E 86, 011105 (nonconformity)",
    )
    stances = ("A", "B")
    Params = QVoterParams

    def check_network(self, network: Network) -> None:
        p = self.params
        if network.complete and not p.repetition and p.q > network.n - 1:
            raise ParameterError("a panel of q distinct others needs q <= n - 1",
                                 field="qvoter.q", allowed=f"<= {network.n - 1}", given=p.q)

    def advance(self, state: State, network: Network, sweeps: int,
                stop_at_consensus: bool) -> float:
        p = self.params
        complete, indptr, indices = network.kernel_args()
        n = state.n
        done = _qvoter(state.stance, state.seen, state.committed, state.counts, complete,
                       indptr, indices, sweeps * n, stop_at_consensus, self.consensus_mask(),
                       p.q, p.p, p.nonconformity == "anticonformity", p.repetition, state.rng)
        return done / n
