"""Fast random numbers inside Numba kernels.

Kernels draw their random numbers from a xoshiro256** generator (Blackman & Vigna 2018)
whose whole state is a ``uint64[4]`` array owned by the run. Nothing is global: a run's
generator is created from a :class:`numpy.random.SeedSequence`, passed to every kernel call
explicitly, and advances in place. Two runs with the same seed therefore draw the same
numbers whatever process or worker executes them.

Streams
-------
Every random draw of a scenario comes from one seed, split by :class:`Stream`: stream ``s``
of run ``r`` is ``SeedSequence(seed, spawn_key=(s, r, ...))`` (:func:`stream_seed`). The
numbers are fixed forever, so that results never move when code is reorganised.

Functions
---------
make_state(seed)
    A fresh generator state from an int, a SeedSequence or a numpy Generator.
next_u64(s), uniform(s), randint(s, n), randint_excluding(s, n, i), bernoulli(s, p)
    Numba-compiled draws; ``s`` is the state array.
load_state(s), store_state(s, t), next_u64_r(t), randint_hi(t, x, n), randint_lo(t, x, n)
    The same stream with the state held in registers for the length of a kernel's loop;
    one 64-bit draw gives two choices (its high and its low half).

Examples
--------
>>> import numpy as np
>>> s = make_state(42)
>>> x = randint(s, 10)
>>> 0 <= x < 10
True
>>> s2 = make_state(42)
>>> int(randint(s2, 10)) == int(x)
True
"""

from __future__ import annotations

import numbers
from enum import IntEnum

import numpy as np
from numba import njit, uint64

from .errors import ParameterError

__all__ = [
    "SeedLike",
    "Stream",
    "as_generator",
    "bernoulli",
    "load_state",
    "make_state",
    "next_u64",
    "next_u64_r",
    "randint",
    "randint_excluding",
    "randint_hi",
    "randint_lo",
    "store_state",
    "stream_generator",
    "stream_seed",
    "substream",
    "uniform",
]

SeedLike = int | np.random.SeedSequence | np.random.Generator


class Stream(IntEnum):
    """The named random streams of a scenario (the first word of every spawn key).

    ``NETWORK``: the network, ``(0,)`` shared by all runs or ``(0, r + 1)`` when resampled;
    ``POPULATION`` and ``ARRIVALS`` are children of the network's seed (the synthetic
    population and the arrival slots of border flows). ``RUN``: run ``r``'s initial state and
    its kernels' generator. The pressures' per-agent draws: ``EXPRESSION`` ``(2, r)``,
    ``MEDIA`` ``(3, r, channel)``, ``NEWS`` ``(5, r, shock)``, ``PROTEST`` ``(6, r)``,
    ``FLOWS`` ``(7, r)``. ``POLL`` ``(4, r, poll)``: who is sampled. ``DESIGN`` ``(11, r,
    candidate, rep)``: the candidate polls of a design analysis
    (:mod:`steppe.experiments.design`). ``SWEEP_POINT``: the
    seed of a sweep point (:mod:`steppe.experiments.grid`).

    Examples
    --------
    >>> int(Stream.RUN), int(Stream.FLOWS)
    (1, 7)
    """

    NETWORK = 0
    RUN = 1
    EXPRESSION = 2
    MEDIA = 3
    POLL = 4
    NEWS = 5
    PROTEST = 6
    FLOWS = 7
    POPULATION = 9
    ARRIVALS = 10
    DESIGN = 11
    SWEEP_POINT = 0x53574550


def stream_seed(seed: int, stream: Stream, *keys: int) -> np.random.SeedSequence:
    """The seed of one named stream: ``SeedSequence(seed, spawn_key=(stream, *keys))``.

    Examples
    --------
    >>> stream_seed(7, Stream.MEDIA, 0, 2).spawn_key
    (3, 0, 2)
    """
    return np.random.SeedSequence(seed, spawn_key=(int(stream), *(int(k) for k in keys)))


def stream_generator(seed: int, stream: Stream, *keys: int) -> np.random.Generator:
    """A numpy Generator on :func:`stream_seed`.

    Examples
    --------
    >>> a = stream_generator(7, Stream.PROTEST, 3).random()
    >>> a == np.random.default_rng(np.random.SeedSequence(7, spawn_key=(6, 3))).random()
    True
    """
    return np.random.default_rng(stream_seed(seed, stream, *keys))


def substream(parent: np.random.SeedSequence, stream: Stream) -> np.random.SeedSequence:
    """A named child of a stream's seed: ``spawn_key = parent's + (stream,)``.

    Examples
    --------
    >>> substream(stream_seed(1, Stream.NETWORK), Stream.POPULATION).spawn_key
    (0, 9)
    """
    return np.random.SeedSequence(parent.entropy, spawn_key=(*parent.spawn_key, int(stream)))


def as_generator(seed: SeedLike) -> np.random.Generator:
    """A numpy Generator from an int, a SeedSequence or a Generator (returned as is).

    Examples
    --------
    >>> a = as_generator(1).integers(10)
    >>> bool(a == as_generator(np.random.SeedSequence(1)).integers(10))
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and int(seed) >= 0:
        return np.random.default_rng(int(seed))
    raise ParameterError("must be a non-negative int, a numpy SeedSequence or a Generator",
                         field="seed", allowed="int >= 0 | SeedSequence | Generator",
                         given=seed)

_U32_MASK = uint64(0xFFFFFFFF)


def make_state(seed: int | np.random.SeedSequence | np.random.Generator) -> np.ndarray:
    """Return a xoshiro256** state (``uint64[4]``) seeded from ``seed``.

    Parameters
    ----------
    seed
        An integer, a :class:`numpy.random.SeedSequence` or a :class:`numpy.random.Generator`
        (which is advanced by one draw).

    Returns
    -------
    numpy.ndarray
        Four unsigned 64-bit words, never all zero.

    Examples
    --------
    >>> make_state(1).dtype
    dtype('uint64')
    """
    if isinstance(seed, np.random.Generator):
        words = seed.integers(0, 2**64, size=4, dtype=np.uint64, endpoint=False)
    else:
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        words = ss.generate_state(4, dtype=np.uint64)
    words = np.asarray(words, dtype=np.uint64).copy()
    if not words.any():  # the all-zero state is a fixed point of xoshiro
        words[0] = np.uint64(0x9E3779B97F4A7C15)
    return words


@njit(inline="always", cache=True)
def _rotl(x, k):
    return (x << uint64(k)) | (x >> uint64(64 - k))


@njit(inline="always", cache=True)
def next_u64(s):
    """Next 64-bit output of xoshiro256**; advances ``s`` in place."""
    s0 = s[0]
    s1 = s[1]
    s2 = s[2]
    s3 = s[3]
    result = _rotl(s1 * uint64(5), 7) * uint64(9)
    t = s1 << uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    s[0] = s0
    s[1] = s1
    s[2] = s2
    s[3] = s3
    return result


@njit(inline="always", cache=True)
def uniform(s):
    """A double uniform on [0, 1) with 53 random bits."""
    return (next_u64(s) >> uint64(11)) * (1.0 / 9007199254740992.0)


@njit(inline="always", cache=True)
def randint(s, n):
    """An integer uniform on {0, ..., n-1}, without bias, for 1 <= n < 2**32.

    Lemire's multiply-and-reject method on the upper 32 bits of each draw.
    """
    nn = uint64(n)
    x = next_u64(s) >> uint64(32)
    m = x * nn
    low = m & _U32_MASK
    if low < nn:
        threshold = (uint64(0x100000000) - nn) % nn
        while low < threshold:
            x = next_u64(s) >> uint64(32)
            m = x * nn
            low = m & _U32_MASK
    return np.int64(m >> uint64(32))


@njit(inline="always", cache=True)
def randint_excluding(s, n, i):
    """An integer uniform on {0, ..., n-1} minus {i} (n >= 2)."""
    j = randint(s, n - 1)
    if j >= i:
        j += 1
    return j


@njit(inline="always", cache=True)
def bernoulli(s, p):
    """True with probability ``p``."""
    return uniform(s) < p


# -- the generator state in registers -------------------------------------------------------
# A kernel that makes many draws loads the four words once (``load_state``), threads them
# through its loop as a tuple (``next_u64_r``, ``randint_hi``, ``randint_lo``) and writes them
# back once (``store_state``). The stream is the same xoshiro256** stream as ``next_u64``'s;
# only the state no longer goes through memory on every draw (a store to any other array in
# the loop would otherwise force it to be reloaded, since Numba cannot prove they differ).
# These are small functions that LLVM inlines; the rare rejection steps are kept out of line.


@njit(cache=True)
def load_state(s):
    """The four words of ``s`` as a tuple, to be kept in registers by a kernel's loop.

    Examples
    --------
    >>> s = make_state(3)
    >>> t = load_state(s)
    >>> x, t = next_u64_r(t)
    >>> store_state(s, t)
    >>> int(x) == int(next_u64(make_state(3)))
    True
    """
    return (s[0], s[1], s[2], s[3])


@njit(cache=True)
def store_state(s, t):
    """Write a register state ``t`` (from :func:`load_state`) back into ``s``."""
    s[0] = t[0]
    s[1] = t[1]
    s[2] = t[2]
    s[3] = t[3]


@njit(cache=True)
def next_u64_r(t):
    """Next 64-bit output of xoshiro256** from a register state; returns ``(x, t)``.

    The same output and successor as :func:`next_u64` on the same four words.
    """
    s0 = uint64(t[0])
    s1 = uint64(t[1])
    s2 = uint64(t[2])
    s3 = uint64(t[3])
    result = _rotl(s1 * uint64(5), 7) * uint64(9)
    u = s1 << uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= u
    s3 = _rotl(s3, 45)
    return result, (s0, s1, s2, s3)


@njit(inline="never", cache=True)
def _reject_hi(t, x, n):
    """The rare path of :func:`randint_hi` (kept out of line so that kernels stay tight)."""
    x = uint64(x)
    nn = uint64(n)
    m = (x >> uint64(32)) * nn
    low = m & _U32_MASK
    threshold = (uint64(0x100000000) - nn) % nn
    while low < threshold:
        x, t = next_u64_r(t)
        m = (x >> uint64(32)) * nn
        low = m & _U32_MASK
    return np.int64(m >> uint64(32)), x, t


@njit(inline="never", cache=True)
def _reject_lo(t, x, n):
    """The rare path of :func:`randint_lo`."""
    x = uint64(x)
    nn = uint64(n)
    m = (x & _U32_MASK) * nn
    low = m & _U32_MASK
    threshold = (uint64(0x100000000) - nn) % nn
    while low < threshold:
        x, t = next_u64_r(t)
        m = (x & _U32_MASK) * nn
        low = m & _U32_MASK
    return np.int64(m >> uint64(32)), t


@njit(cache=True)
def randint_hi(t, x, n):
    """An integer uniform on {0, ..., n-1} from the high 32 bits of the draw ``x``.

    Lemire's multiply-and-reject method, without bias, for 1 <= n < 2**32: when the high half
    is rejected (probability below n / 2**32), fresh draws replace ``x`` (their high halves
    are used). Returns ``(value, x, t)``: the draw whose high half was used (its low half is
    still unused and independent of the value) and the register state.

    Examples
    --------
    >>> t = load_state(make_state(0))
    >>> x, t = next_u64_r(t)
    >>> v, x2, t = randint_hi(t, x, 10)
    >>> 0 <= v < 10 and v == (int(x) >> 32) * 10 >> 32
    True
    """
    x = uint64(x)
    nn = uint64(n)
    m = (x >> uint64(32)) * nn
    if (m & _U32_MASK) < nn:  # possibly rejected: decided out of line
        return _reject_hi(t, x, n)
    return np.int64(m >> uint64(32)), x, t


@njit(cache=True)
def randint_lo(t, x, n):
    """An integer uniform on {0, ..., n-1} from the low 32 bits of the draw ``x``.

    As :func:`randint_hi`, on the other half: with ``randint_hi`` one 64-bit draw makes two
    independent choices. On rejection fresh draws are made (their low halves are used).
    Returns ``(value, t)``.

    Examples
    --------
    >>> t = load_state(make_state(0))
    >>> x, t = next_u64_r(t)
    >>> v, t = randint_lo(t, x, 10)
    >>> v == (int(x) & 0xFFFFFFFF) * 10 >> 32
    True
    """
    x = uint64(x)
    nn = uint64(n)
    m = (x & _U32_MASK) * nn
    if (m & _U32_MASK) < nn:
        return _reject_lo(t, x, n)
    return np.int64(m >> uint64(32)), t
