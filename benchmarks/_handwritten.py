"""The baseline: plain hand-written Numba loops over CSR arrays.

This is what a competent person would write by hand for one model on one graph, with none of
steppe's generality: no committed agents, no stance counts, no consensus check, no branch on
the implicit complete graph, and a random generator whose whole state lives in a local
variable (SplitMix64, i.e. a counter passed through a 64-bit mixing function; Steele, Lea &
Flood 2014). Integers in ``[0, d)`` come from the top 32 bits of a draw by multiply-and-shift
(Lemire 2019) without the rejection step; its bias is below ``d / 2**32`` (< 3e-5 here), far
too small to matter for a speed baseline.

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
_ONE = uint64(1)
_INV53 = 1.0 / 9007199254740992.0


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


@njit(cache=True)
def voter_loop(stance, indptr, indices, n_updates, counter):
    """Run ``n_updates`` voter (node) updates; return the new generator counter.

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
        i = _below(_mix(c), n)
        a = indptr[i]
        d = indptr[i + 1] - a
        if d == 0:
            continue
        c += _GOLDEN
        stance[i] = stance[indices[a + _below(_mix(c), d)]]
    return c


@njit(cache=True)
def qvoter_loop(stance, indptr, indices, q, p, n_updates, counter):
    """Run ``n_updates`` q-voter updates with independence ``p``; return the new counter.

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
    picked = np.empty(q, dtype=np.int64)  # positions drawn so far (for "without repetition")
    for _ in range(n_updates):
        c += _GOLDEN
        i = _below(_mix(c), n)
        c += _GOLDEN
        r = _mix(c)
        if (r >> _S11) * _INV53 < p:  # independence; the low bit decides the new stance
            stance[i] = np.int8(r & _ONE)
            continue
        a = indptr[i]
        d = indptr[i + 1] - a
        if d < q:  # no panel of q distinct neighbours: nothing happens
            continue
        # q distinct positions by rejection (q << d on average), stopping at the first
        # panel member who disagrees with the first one
        agree = True
        first = np.int8(0)
        for t in range(q):
            while True:
                c += _GOLDEN
                pos = _below(_mix(c), d)
                fresh = True
                for u in range(t):
                    if picked[u] == pos:
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
