"""The naming game with an open vocabulary (Baronchelli et al. 2006), with committed agents.

Rule, as implemented (Baronchelli, Felici, Loreto, Caglioti & Steels 2006). Every agent
holds an inventory of words (integer ids), initially empty. One interaction: pick a
uniformly random speaker, then a uniformly random neighbour of it as the hearer (on the
implicit complete graph, any other agent). A speaker with an empty inventory invents a
brand-new word (the next unused id) and adds it to its inventory; otherwise it utters a
uniformly random word of its inventory. If the hearer's inventory holds the word (success),
hearer and speaker both drop every other word and keep only that one; otherwise (failure)
the hearer adds the word. Speakers without neighbours do nothing. One time unit (sweep) =
N interactions; the papers' time ``t`` is counted in interactions, ``t = N * sweeps``.

Committed agents (Xie et al. 2011's committed minority, generalised) hold one word and
never change their inventory; they still speak and hear. Agents committed to the stance
``winner`` hold word 0 (``A``), agents committed to ``other`` hold word 1 (``B``).

Initial inventories from the stances of the initial state: ``winner`` → ``[0]`` (word
``A``); ``other`` → empty (``others_start = "empty"``, Baronchelli et al.'s start, the
default ``initial = {other = 1}``) or ``[1]`` (``others_start = "B"``). With committed
``winner`` agents and everyone else starting with ``B``, the dynamics is exactly the
two-word game of Xie et al. (``binary_agreement``): no new word is ever invented (no agent
is ever empty), and an inventory is ``[A]``, ``[B]``, or both words.

Stances (for series, reports and consensus): ``winner`` — the inventory is exactly the
winning word; ``other`` — anything else (empty, several words, another single word). The
winning word is the word in most inventories (ties: the smallest id), with two exceptions
that keep committed agents' stances fixed: when some agent is committed to ``winner`` it is
word ``A`` (the committed minority's word: the ``winner`` share is then Xie et al.'s n_A),
and word ``B`` is never the winner while some agent is committed to ``other``. Consensus is
everyone holding exactly the winning word; a run that ends with everyone holding the same
single word that is not the winner (possible only with agents committed to ``other``) is
absorbed (:meth:`NamingGame.is_frozen`).

Other recorded quantities, in the table ``naming_game`` (one row per record):
``total_words`` (N_w, the sum of the inventory lengths), ``distinct_words``,
``winning_word``, ``winner_only`` (agents holding exactly the winning word),
``interactions`` and ``successes`` (cumulative), and the derived column ``success_rate``
(successes per interaction since the previous record).

The expression layer does not act on this model: a speaker utters a word of its own
inventory (``state.seen`` is not read). Pressures that move stances from outside (media,
news) and border flows are not supported.

Inventory storage (no Python object per agent): one int32 pool of words; agent ``i``'s
inventory is ``words[offset[i] : offset[i] + length[i]]`` inside a slab of ``capacity[i]``
slots. A word added to a full slab moves the inventory to a slab of twice the capacity at
the top of the pool; when the pool runs short the kernel stops, the pool is compacted (live
inventories only, each in the smallest power-of-two slab that holds it) into an array
twice the size needed, and the kernel resumes: the results do not depend on the layout.
Memory: 20 bytes per agent (offset, length, capacity, and the count of holders of each
word id) plus the pool, 4 bytes per slot. Measured at N = 100,000
(``benchmarks/bench_models.py``): on the complete graph 1,262 bytes per agent at the peak
(108 words per agent: 11.5 bytes per word) and 31 once everyone holds one word; on an
Erdős–Rényi graph of mean degree 10, 52 (3.2 words per agent at the peak).

References: A. Baronchelli, M. Felici, V. Loreto, E. Caglioti, L. Steels, J. Stat. Mech.
P06014 (2006); A. Baronchelli, L. Dall'Asta, A. Barrat, V. Loreto, Phys. Rev. E 73, 015102
(2006) (low-dimensional lattices); L. Dall'Asta, A. Baronchelli, A. Barrat, V. Loreto,
Phys. Rev. E 74, 036105 (2006) (complex networks); J. Xie et al., Phys. Rev. E 84, 011130
(2011) (committed minority).

Examples
--------
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> from steppe.engine.state import init_state
>>> m = get_model("naming_game")()
>>> g = complete_graph(200)
>>> st = init_state(m, g, seed=0)
>>> st.counts.tolist()   # empty inventories: nobody holds the winning word yet
[0, 200]
>>> dt = m.advance(st, g, sweeps=10_000, stop_at_consensus=True)
>>> st.counts.tolist(), dt < 10_000, m.quantities()["total_words"][0](st)
([200, 0], True, 200)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Literal

import numpy as np
from numba import njit

from ..errors import ParameterError
from ..networks.base import Network
from ..rng import load_state, next_u64_r, randint_hi, randint_lo, store_state
from ..state import State
from .base import Model, ModelParams, register

__all__ = ["NamingGame", "inventories"]

# slots of the int64 array aux["tally"]
(NEXT, TOTAL, DISTINCT, INTER, SUCC, TOP, MAXCAP, FIXED, EXCLUDED, WINNER, PEAK,
 PEAK_AT) = range(12)
_TALLY = 12
_OK, _CONSENSUS, _ROOM = 0, 1, 2


class NamingGameParams(ModelParams):
    others_start: Literal["empty", "B"] = "empty"
    """What agents starting in the stance ``other`` hold: an empty inventory (Baronchelli
    et al. 2006) or the single word B (Xie et al. 2011's start, with A the committed
    word)."""


# -- the kernel -----------------------------------------------------------------------------
@njit(inline="always", cache=True)
def _collapse(words, length, holders, i, a, w, distinct):
    """Agent i (slab at a) keeps only word w; returns (words removed, distinct)."""
    ln = length[i]
    for k in range(ln):
        v = words[a + k]
        if v != w:
            holders[v] -= 1
            if holders[v] == 0:
                distinct -= 1
    words[a] = w
    length[i] = 1
    return ln - 1, distinct


@njit(inline="always", cache=True)
def _loop(words, offset, length, capacity, holders, tally, committed, indptr, indices,
          n_updates, stop, t, complete, any_committed):
    n = length.shape[0]
    size = words.shape[0]
    n_words = holders.shape[0]
    nxt = tally[NEXT]
    total = tally[TOTAL]
    distinct = tally[DISTINCT]
    inter = tally[INTER]
    succ = tally[SUCC]
    top = tally[TOP]
    maxcap = tally[MAXCAP]
    peak = tally[PEAK]
    peak_at = tally[PEAK_AT]
    done = n_updates
    status = _OK
    for u in range(n_updates):
        # room for the largest move this update can make, and for a new word id
        if top + 2 * maxcap + 2 > size or nxt >= n_words:
            done = u
            status = _ROOM
            break
        x, t = next_u64_r(t)
        sp, x, t = randint_hi(t, x, n)
        if complete:
            li, t = randint_lo(t, x, n - 1)
            if li >= sp:
                li += 1
        else:
            a = indptr[sp]
            d = indptr[sp + 1] - a
            if d == 0:
                continue
            k, t = randint_lo(t, x, d)
            li = np.int64(indices[a + k])
        inter += 1
        sa = offset[sp]
        sl = length[sp]
        if sl == 0:  # invent a word (never for a committed agent: it holds one)
            w = np.int32(nxt)
            nxt += 1
            words[sa] = w
            length[sp] = 1
            holders[w] = 1
            distinct += 1
            total += 1
        elif sl == 1:
            w = words[sa]
        else:
            y, t = next_u64_r(t)
            k, y, t = randint_hi(t, y, sl)
            w = words[sa + k]
        la = offset[li]
        ll = length[li]
        # a branch-free scan (vectorised): most interactions fail, and a failure reads the
        # whole inventory anyway
        hits = 0
        for k in range(ll):
            hits += words[la + k] == w
        if hits:
            succ += 1
            if not (any_committed and committed[li]):
                r, distinct = _collapse(words, length, holders, li, la, w, distinct)
                total -= r
            if not (any_committed and committed[sp]):
                r, distinct = _collapse(words, length, holders, sp, sa, w, distinct)
                total -= r
            if stop and total == n and holders[w] == n:
                done = u + 1
                status = _CONSENSUS
                break
        elif not (any_committed and committed[li]):
            c = capacity[li]
            if ll == c:  # move to a slab twice the size at the top of the pool
                c2 = 2 * c
                for k in range(ll):
                    words[top + k] = words[la + k]
                la = top
                offset[li] = top
                capacity[li] = c2
                top += c2
                if c2 > maxcap:
                    maxcap = c2
            words[la + ll] = w
            length[li] = ll + 1
            if holders[w] == 0:
                distinct += 1
            holders[w] += 1
            total += 1
            if total > peak:
                peak = total
                peak_at = inter
    tally[NEXT] = nxt
    tally[TOTAL] = total
    tally[DISTINCT] = distinct
    tally[INTER] = inter
    tally[SUCC] = succ
    tally[TOP] = top
    tally[MAXCAP] = maxcap
    tally[PEAK] = peak
    tally[PEAK_AT] = peak_at
    return done, status, t


@njit(inline="always", cache=True)
def _run(words, offset, length, capacity, holders, tally, committed, indptr, indices,
         n_updates, stop, s, complete, any_committed):
    t = load_state(s)
    done, status, t = _loop(words, offset, length, capacity, holders, tally, committed,
                            indptr, indices, n_updates, stop, t, complete, any_committed)
    store_state(s, t)
    return done, status


# one compiled kernel per kind of graph and "some agent is committed"
@njit(cache=True)
def _ng_net(words, offset, length, capacity, holders, tally, committed, indptr, indices,
            n_updates, stop, s):
    return _run(words, offset, length, capacity, holders, tally, committed, indptr, indices,
                n_updates, stop, s, False, False)


@njit(cache=True)
def _ng_net_c(words, offset, length, capacity, holders, tally, committed, indptr, indices,
              n_updates, stop, s):
    return _run(words, offset, length, capacity, holders, tally, committed, indptr, indices,
                n_updates, stop, s, False, True)


@njit(cache=True)
def _ng_kn(words, offset, length, capacity, holders, tally, committed, indptr, indices,
           n_updates, stop, s):
    return _run(words, offset, length, capacity, holders, tally, committed, indptr, indices,
                n_updates, stop, s, True, False)


@njit(cache=True)
def _ng_kn_c(words, offset, length, capacity, holders, tally, committed, indptr, indices,
             n_updates, stop, s):
    return _run(words, offset, length, capacity, holders, tally, committed, indptr, indices,
                n_updates, stop, s, True, True)


_KERNELS = {(False, False): _ng_net, (False, True): _ng_net_c, (True, False): _ng_kn,
            (True, True): _ng_kn_c}


@njit(cache=True)
def _compact(words, offset, length, capacity, tally, spare):
    """A new pool holding every inventory in order, each in the smallest power-of-two slab
    (at least 1) that holds it, and ``max(used, spare)`` free slots on top."""
    n = length.shape[0]
    used = 0
    maxcap = 1
    for i in range(n):
        c = 1
        while c < length[i]:
            c *= 2
        used += c
        if c > maxcap:
            maxcap = c
    free = max(used, spare, 2 * maxcap + 2)
    new = np.zeros(used + free, dtype=np.int32)
    top = 0
    for i in range(n):
        c = 1
        while c < length[i]:
            c *= 2
        a = offset[i]
        for k in range(length[i]):
            new[top + k] = words[a + k]
        offset[i] = top
        capacity[i] = c
        top += c
    tally[TOP] = top
    tally[MAXCAP] = maxcap
    return new


@njit(cache=True)
def _categorize(words, offset, length, holders, tally, stance, counts):
    """The winning word (see the module docstring), each agent's stance and the counts."""
    win = tally[FIXED]
    if win < 0:
        best = 0
        for w in range(tally[NEXT]):
            if w != tally[EXCLUDED] and holders[w] > best:
                best = holders[w]
                win = w
    tally[WINNER] = win
    counts[0] = 0
    counts[1] = 0
    for i in range(length.shape[0]):
        c = 0 if length[i] == 1 and words[offset[i]] == win else 1
        stance[i] = c
        counts[c] += 1


def inventories(state: State) -> list[list[int]]:
    """Every agent's inventory, as lists of word ids (for tests and inspection).

    Parameters
    ----------
    state
        A state of the naming game.

    Returns
    -------
    list of list of int
        Agent ``i``'s words, in the order it learnt them.

    Examples
    --------
    >>> from steppe.networks import complete_graph
    >>> from steppe.engine.state import init_state
    >>> st = init_state(NamingGame(), complete_graph(3), shares={"winner": 1.0}, seed=0)
    >>> inventories(st)
    [[0], [0], [0]]
    """
    words, offset, length = state.aux["words"], state.aux["offset"], state.aux["length"]
    return [words[o:o + ln].tolist() for o, ln in zip(offset.tolist(), length.tolist(),
                                                      strict=True)]


@register
class NamingGame(Model):
    """The naming game with an open vocabulary, with committed agents.

    Examples
    --------
    >>> NamingGame().params.others_start
    'empty'
    >>> NamingGame(others_start="C")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    steppe.errors.ParameterError: naming_game.others_start: ...
    """

    name = "naming_game"
    title = "Naming game (open vocabulary)"
    summary = (
        "A random speaker utters a random word of its inventory (inventing one if it has "
        "none) to a random neighbour; if the hearer knows it both keep only that word, "
        "otherwise the hearer adds it. Stance: holding exactly the winning word."
    )
    references = (
        "Baronchelli, Felici, Loreto, Caglioti & Steels 2006, J. Stat. Mech. P06014",
        "Baronchelli, Dall'Asta, Barrat & Loreto 2006, Phys. Rev. E 73, 015102 (lattices)",
        "Dall'Asta, Baronchelli, Barrat & Loreto 2006, Phys. Rev. E 74, 036105 (networks)",
        "Xie, Sreenivasan, Korniss, Zhang, Lim & Szymanski 2011, Phys. Rev. E 84, 011130 "
        "(committed minority)",
    )
    stances = ("winner", "other")
    consensus_stances = (0,)
    default_initial: ClassVar[dict[str, float]] = {"other": 1.0}
    Params = NamingGameParams
    supports_flows: ClassVar[bool] = False

    def init_aux(self, state: State, network: Network,
                 gen: np.random.Generator | None = None) -> None:
        """Initial inventories from the initial stances (see the module docstring)."""
        n = state.n
        b_start = self.params.others_start == "B"
        holds = np.where(state.stance == 0, 0, 1).astype(np.int32)
        length = ((state.stance == 0) | b_start | state.committed).astype(np.int32)
        words = np.zeros(2 * n + 4, dtype=np.int32)
        words[:n] = np.where(length > 0, holds, 0)
        holders = np.zeros(n + 2, dtype=np.int32)
        held = np.bincount(holds[length > 0], minlength=2).astype(np.int32)
        holders[:2] = held
        tally = np.zeros(_TALLY, dtype=np.int64)
        tally[NEXT] = 2
        tally[TOTAL] = int(length.sum())
        tally[PEAK] = tally[TOTAL]
        tally[DISTINCT] = int(np.count_nonzero(held))
        tally[TOP] = n
        tally[MAXCAP] = 1
        committed = state.committed
        tally[FIXED] = 0 if np.any(committed & (state.stance == 0)) else -1
        tally[EXCLUDED] = 1 if np.any(committed & (state.stance != 0)) else -1
        state.aux.update(words=words, offset=np.arange(n, dtype=np.int64), length=length,
                         capacity=np.ones(n, dtype=np.int32), holders=holders, tally=tally)
        self._categorize(state)

    def _categorize(self, state: State) -> None:
        a = state.aux
        _categorize(a["words"], a["offset"], a["length"], a["holders"], a["tally"],
                    state.stance, state.counts)

    def check_network(self, network: Network) -> None:
        if network.n < 2:
            raise ParameterError("the naming game needs at least two agents",
                                 field="network", allowed="n >= 2", given=network.n)

    def advance(self, state: State, network: Network, sweeps: int,
                stop_at_consensus: bool) -> float:
        return self.interact(state, network, sweeps * state.n, stop_at_consensus) / state.n

    def interact(self, state: State, network: Network, interactions: int,
                 stop_at_consensus: bool) -> int:
        """Run ``interactions`` elementary interactions in place (the papers' time unit).

        Parameters
        ----------
        state
            The run's state (inventories in ``state.aux``; stances recomputed at the end).
        network
            The ties in force.
        interactions
            How many speaker draws to make (a speaker without neighbours does nothing).
        stop_at_consensus
            Stop at the interaction after which everyone holds the same single word.

        Returns
        -------
        int
            Draws made (fewer when it stopped at consensus).

        Examples
        --------
        >>> from steppe.networks import lattice
        >>> from steppe.engine.state import init_state
        >>> m, g = NamingGame(), lattice((10,))
        >>> st = init_state(m, g, seed=1)
        >>> m.interact(st, g, 7, stop_at_consensus=False), int(st.aux["tally"][INTER])
        (7, 7)
        """
        complete, indptr, indices = network.kernel_args()
        a = state.aux
        kernel = _KERNELS[bool(complete), bool(state.committed.any())]
        remaining = int(interactions)
        done = 0
        while remaining > 0:
            d, status = kernel(a["words"], a["offset"], a["length"], a["capacity"],
                               a["holders"], a["tally"], state.committed, indptr, indices,
                               remaining, stop_at_consensus, state.rng)
            done += d
            remaining -= d
            if status == _CONSENSUS:
                break
            if status == _ROOM:
                self._grow(state)
        self._shrink(state)
        self._categorize(state)
        return done

    @staticmethod
    def _grow(state: State) -> None:
        a = state.aux
        if a["tally"][NEXT] >= a["holders"].shape[0]:
            a["holders"] = np.concatenate([a["holders"], np.zeros_like(a["holders"])])
        if a["tally"][TOP] + 2 * a["tally"][MAXCAP] + 2 > a["words"].shape[0]:
            a["words"] = _compact(a["words"], a["offset"], a["length"], a["capacity"],
                                  a["tally"], 0)

    @staticmethod
    def _shrink(state: State) -> None:
        """Give memory back once the vocabulary has shrunk (the pool is over 8 times the
        words held and over 4 slots per agent)."""
        a = state.aux
        size = a["words"].shape[0]
        if size > 8 * a["tally"][TOTAL] and size > 4 * state.n + 8:
            a["words"] = _compact(a["words"], a["offset"], a["length"], a["capacity"],
                                  a["tally"], 0)

    def is_frozen(self, state: State, network: Network) -> bool:
        """Everyone holds the same single word (absorbing whatever the stances say).

        Parameters
        ----------
        state
            The run's state.
        network
            The ties in force now.

        Returns
        -------
        bool

        Examples
        --------
        >>> from steppe.networks import complete_graph
        >>> from steppe.engine.state import init_state
        >>> m, g = NamingGame(others_start="B"), complete_graph(4)
        >>> m.is_frozen(init_state(m, g, seed=0), g)   # everyone holds B alone
        True
        """
        t = state.aux["tally"]
        n = state.n
        if t[TOTAL] != n:
            return False
        return bool(np.any(state.aux["holders"][:t[NEXT]] == n))

    def quantities(self) -> dict[str, tuple[Callable[[State], int], str]]:
        """What the table ``naming_game`` records at every record.

        Returns
        -------
        dict
            Column name -> (measure of a state, description).

        Examples
        --------
        >>> from steppe.networks import complete_graph
        >>> from steppe.engine.state import init_state
        >>> m = NamingGame()
        >>> st = init_state(m, complete_graph(4), shares={"winner": 1.0}, seed=0)
        >>> {k: f(st) for k, (f, _) in m.quantities().items()}["distinct_words"]
        1
        """
        def slot(k: int) -> Callable[[State], int]:
            return lambda st: int(st.aux["tally"][k])

        return {
            "total_words": (slot(TOTAL), "N_w: words in all inventories together"),
            "distinct_words": (slot(DISTINCT), "different words held by some agent"),
            "winning_word": (slot(WINNER), "id of the winning word (-1: none yet)"),
            "winner_only": (lambda st: int(st.counts[0]),
                            "agents whose inventory is exactly the winning word"),
            "interactions": (slot(INTER), "interactions so far (cumulative)"),
            "successes": (slot(SUCC), "successful interactions so far (cumulative)"),
        }
