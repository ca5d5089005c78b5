"""Private helpers shared by the builders: seeds, parameter checks and CSR assembly.

The CSR helpers are Numba kernels over plain arrays. Rows come out sorted, without
self-loops and (where stated) without duplicates, whatever the order of the input edges, so
the result depends only on the set of edges and never on thread count.

Examples
--------
>>> import numpy as np
>>> ptr, idx = csr_from_edges(3, np.array([0, 1, 1]), np.array([1, 2, 0]))
>>> ptr.tolist(), idx.tolist()
([0, 1, 3, 4], [1, 0, 2, 1])
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numba import njit, prange

from ..errors import ParameterError

__all__ = [
    "SeedLike",
    "as_generator",
    "check_int",
    "check_real",
    "csr_from_edges",
    "directed_csr_from_edges",
]

SeedLike = int | np.random.SeedSequence | np.random.Generator


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


def check_int(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    """``value`` as an int in ``[lo, hi]``, else a ParameterError naming ``name``.

    Examples
    --------
    >>> check_int("n", 5, 1)
    5
    """
    allowed = f"integer >= {lo}" if hi is None else f"integer in [{lo}, {hi}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterError("must be an integer", field=name, allowed=allowed, given=value)
    v = int(value)
    if v < lo or (hi is not None and v > hi):
        raise ParameterError("out of range", field=name, allowed=allowed, given=v)
    return v


def check_real(name: str, value: Any, lo: float, hi: float) -> float:
    """``value`` as a finite float in ``[lo, hi]``, else a ParameterError naming ``name``.

    Examples
    --------
    >>> check_real("p", 0.5, 0.0, 1.0)
    0.5
    """
    allowed = f"number in [{lo}, {hi}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError("must be a number", field=name, allowed=allowed, given=value)
    v = float(value)
    if not np.isfinite(v) or v < lo or v > hi:
        raise ParameterError("out of range", field=name, allowed=allowed, given=value)
    return v


@njit(cache=True)
def _insertion_sort(a, lo, hi):
    for i in range(lo + 1, hi):
        x = a[i]
        j = i - 1
        while j >= lo and a[j] > x:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = x


@njit(cache=True, parallel=True)
def sort_rows(indptr, indices):
    """Sort every CSR row in place (rows are independent, so the result is thread-count
    independent)."""
    n = indptr.shape[0] - 1
    for i in prange(n):
        a = indptr[i]
        b = indptr[i + 1]
        if b - a <= 32:
            _insertion_sort(indices, a, b)
        else:
            indices[a:b] = np.sort(indices[a:b])


@njit(cache=True)
def compact_rows(indptr, indices, drop_self):
    """Drop repeated entries (rows must be sorted) and, if ``drop_self``, self-loops,
    in place. Returns the new indptr; ``indices[:new_indptr[-1]]`` holds the rows."""
    n = indptr.shape[0] - 1
    out = np.empty(n + 1, np.int64)
    out[0] = 0
    w = 0
    for i in range(n):
        a = indptr[i]
        b = indptr[i + 1]
        last = -1
        for t in range(a, b):
            x = indices[t]
            if x == last or (drop_self and x == i):
                continue
            indices[w] = x
            last = x
            w += 1
        out[i + 1] = w
    return out


@njit(cache=True)
def _count_both(n, lo, hi):
    deg = np.zeros(n + 1, np.int64)
    for e in range(lo.shape[0]):
        deg[lo[e] + 1] += 1
        deg[hi[e] + 1] += 1
    for i in range(n):
        deg[i + 1] += deg[i]
    return deg


@njit(cache=True)
def _fill_both(indptr, lo, hi):
    n = indptr.shape[0] - 1
    pos = indptr[:n].copy()
    out = np.empty(indptr[n], np.int32)
    for e in range(lo.shape[0]):
        u = lo[e]
        v = hi[e]
        out[pos[u]] = v
        pos[u] += 1
        out[pos[v]] = u
        pos[v] += 1
    return out


@njit(cache=True)
def _count_one(n, src):
    deg = np.zeros(n + 1, np.int64)
    for e in range(src.shape[0]):
        deg[src[e] + 1] += 1
    for i in range(n):
        deg[i + 1] += deg[i]
    return deg


@njit(cache=True)
def _fill_one(indptr, src, dst):
    n = indptr.shape[0] - 1
    pos = indptr[:n].copy()
    out = np.empty(indptr[n], np.int32)
    for e in range(src.shape[0]):
        u = src[e]
        out[pos[u]] = dst[e]
        pos[u] += 1
    return out


def csr_from_edges(n: int, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Undirected CSR (both directions stored, rows sorted, self-loops and repeated edges
    dropped) from endpoint arrays ``u``, ``v`` with ids in ``[0, n)``.

    Examples
    --------
    >>> ptr, idx = csr_from_edges(2, np.array([0, 1, 0]), np.array([1, 0, 0]))
    >>> ptr.tolist(), idx.tolist()
    ([0, 1, 2], [1, 0])
    """
    u = np.ascontiguousarray(u)
    v = np.ascontiguousarray(v)
    indptr = _count_both(n, u, v)
    indices = _fill_both(indptr, u, v)
    sort_rows(indptr, indices)
    new_ptr = compact_rows(indptr, indices, True)
    if new_ptr[-1] != indices.shape[0]:
        indices = indices[: new_ptr[-1]].copy()
    return new_ptr, indices


def directed_csr_from_edges(n: int, src: np.ndarray,
                            dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Directed CSR (row ``src`` lists ``dst``; rows sorted; self-loops and repeats dropped).

    Examples
    --------
    >>> ptr, idx = directed_csr_from_edges(3, np.array([0, 0, 2]), np.array([2, 1, 0]))
    >>> ptr.tolist(), idx.tolist()
    ([0, 2, 2, 3], [1, 2, 0])
    """
    src = np.ascontiguousarray(src)
    dst = np.ascontiguousarray(dst)
    indptr = _count_one(n, src)
    indices = _fill_one(indptr, src, dst)
    sort_rows(indptr, indices)
    new_ptr = compact_rows(indptr, indices, True)
    if new_ptr[-1] != indices.shape[0]:
        indices = indices[: new_ptr[-1]].copy()
    return new_ptr, indices
