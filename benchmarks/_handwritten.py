"""The baseline: plain hand-written Numba loops over CSR arrays.

This is what a competent person would write by hand for one model on one graph, with none of
steppe's generality: no committed agents, no stance counts, no consensus check, no branch on
the implicit complete graph, no private-versus-expressed layer, and a random generator whose
whole state lives in a local variable (SplitMix64, i.e. a counter passed through a 64-bit
mixing function; Steele, Lea & Flood 2014). Each 64-bit draw gives two choices: integers in
``[0, d)`` come from one 32-bit half of a draw by multiply-and-shift (Lemire 2019) without
the rejection step; its bias is below ``d / 2**32`` (< 5e-4 at N = 2,000,000), far too small
to matter for a speed baseline. The voter loop draws once per update (high half: the agent,
low half: its neighbour), the tightest loop we know for this rule.

Each function runs ``n_updates`` elementary updates in place and returns the generator
counter, so that successive calls continue one stream.

Rules (the same as steppe's):

- voter (node update): pick a uniformly random agent ``i``; if it has neighbours, pick one,
  ``j``, uniformly at random and set ``s_i <- s_j``.
- q-voter with independence (Sznajd-Weron, Tabiszewski & Timpanaro 2011): pick a random agent
  ``i``; with probability ``p`` it acts independently and takes a random stance (i.e. flips
  with probability 1/2); otherwise it draws ``q`` distinct neighbours (without repetition)
  and, if they all hold the same stance, adopts it. An agent with fewer than ``q``
  neighbours cannot form a panel and does nothing on a conformity step. The panel draws
  stop at the first member who disagrees with the first one: the rest cannot change the
  outcome.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

__all__ = ["qvoter_loop", "voter_loop"]

_GOLDEN = uint64(0x9E3779B97F4A7C15)
_M1 = uint64(0xBF58476D1CE4E5B9)
_M2 = uint64(0x94D049BB133111EB)
_S30 = uint64(30)
_S27 = uint64(27)
_S31 = uint64(31)
_S32 = uint64(32)
_S11 = uint64(11)
_M32 = uint64(0xFFFFFFFF)


@njit(inline="always", cache=True)
def _mix(z):
    """SplitMix64 output function: a bijective 64-bit mixer of the counter."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(inline="always", cache=True)
def _below(r, d):
    """Map a 64-bit draw ``r`` to an integer in ``[0, d)`` (d < 2**32) by multiply-shift."""
    return np.int64(((r >> _S32) * uint64(d)) >> _S32)


@njit(inline="always", cache=True)
def _below_lo(r, d):
    """Map the low 32 bits of a draw ``r`` to an integer in ``[0, d)`` by multiply-shift."""
    return np.int64(((r & _M32) * uint64(d)) >> _S32)


@njit(cache=True)
def voter_loop(stance, indptr, indices, n_updates, counter):
    """Run ``n_updates`` voter (node) updates; return the new generator counter.

    One 64-bit draw per update: its high half picks the agent, its low half the neighbour.

    Examples
    --------
    >>> import numpy as np
    >>> ptr = np.array([0, 1, 2], dtype=np.int64); idx = np.array([1, 0], dtype=np.int32)
    >>> s = np.array([0, 1], dtype=np.int8)
    >>> c = voter_loop(s, ptr, idx, 10, np.uint64(1))
    >>> int(s[0]) == int(s[1])
    True
    """
    n = stance.shape[0]
    c = uint64(counter)
    for _ in range(n_updates):
        c += _GOLDEN
        r = _mix(c)
        i = _below(r, n)
        a = indptr[i]
        d = indptr[i + 1] - a
        if d == 0:
            continue
        stance[i] = stance[indices[a + _below_lo(r, d)]]
    return c


@njit(cache=True)
def qvoter_loop(stance, indptr, indices, q, p, n_updates, counter):
    """Run ``n_updates`` q-voter updates with independence ``p``; return the new counter.

    One 64-bit draw gives the agent (high half) and the nonconformity test and its coin (low
    half: below ``p/2`` flips, between ``p/2`` and ``p`` keeps); each further draw gives two
    panel positions (high half, then low half).

    Examples
    --------
    >>> import numpy as np
    >>> n = 5  # the complete graph K5: every panel of 4 is the whole neighbourhood
    >>> ptr = np.arange(0, 4 * n + 1, 4, dtype=np.int64)
    >>> idx = np.array([j for i in range(n) for j in range(n) if j != i], dtype=np.int32)
    >>> s = np.array([0, 1, 1, 1, 1], dtype=np.int8)
    >>> c = qvoter_loop(s, ptr, idx, 4, 0.0, 200, np.uint64(1))
    >>> s.tolist()
    [1, 1, 1, 1, 1]
    """
    n = stance.shape[0]
    c = uint64(counter)
    p_cut = uint64(p * 4294967296.0)
    flip_cut = uint64(0.5 * p * 4294967296.0)
    picked = np.empty(q, dtype=np.int64)  # positions drawn so far (for "without repetition")
    for _ in range(n_updates):
        c += _GOLDEN
        r = _mix(c)
        i = _below(r, n)
        lo = r & _M32
        if lo < p_cut:  # independence: flip with probability 1/2
            if lo < flip_cut:
                stance[i] = np.int8(1) - stance[i]
            continue
        a = indptr[i]
        d = indptr[i + 1] - a
        if d < q:  # no panel of q distinct neighbours: nothing happens
            continue
        # q distinct positions by rejection (q << d on average), two per draw, stopping at
        # the first panel member who disagrees with the first one
        agree = True
        first = np.int8(0)
        half = 0
        for t in range(q):
            while True:
                if half == 0:
                    c += _GOLDEN
                    r = _mix(c)
                    pos = _below(r, d)
                    half = 1
                else:
                    pos = _below_lo(r, d)
                    half = 0
                fresh = True
                for w in range(t):
                    if picked[w] == pos:
                        fresh = False
                        break
                if fresh:
                    break
            picked[t] = pos
            v = stance[indices[a + pos]]
            if t == 0:
                first = v
            elif v != first:
                agree = False
                break
        if agree:
            stance[i] = first
    return c
