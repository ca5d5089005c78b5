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
    "make_state",
    "next_u64",
    "randint",
    "randint_excluding",
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
