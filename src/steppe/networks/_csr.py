"""Private helpers shared by the builders: CSR assembly and row filtering.

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

import numpy as np
from numba import njit, prange

__all__ = ["csr_from_edges", "directed_csr_from_edges", "filter_rows", "refilter_rows"]


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


@njit(cache=True, inline="always")
def _kept_row(i, indptr, indices, present):
    """How many of row ``i``'s ties have both ends present."""
    c = 0
    if present[i]:
        for e in range(indptr[i], indptr[i + 1]):
            if present[indices[e]]:
                c += 1
    return c


@njit(cache=True, parallel=True)
def _count_kept(indptr, indices, present, kept):
    for i in prange(indptr.shape[0] - 1):
        kept[i] = _kept_row(i, indptr, indices, present)


@njit(cache=True, parallel=True)
def _fill_kept(indptr, indices, present, out_ptr, out_idx):
    for i in prange(indptr.shape[0] - 1):
        if present[i]:
            k = out_ptr[i]
            for e in range(indptr[i], indptr[i + 1]):
                j = indices[e]
                if present[j]:
                    out_idx[k] = j
                    k += 1


def _room(out: np.ndarray | None, size: int, dtype: np.dtype) -> np.ndarray:
    """The first ``size`` entries of ``out`` when it is large enough, else a new array."""
    if out is not None and out.shape[0] >= size and out.dtype == dtype:
        return out[:size]
    return np.empty(size, dtype=dtype)


def filter_rows(indptr: np.ndarray, indices: np.ndarray, present: np.ndarray,
                out_ptr: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The CSR rows restricted to present agents (two parallel passes: count, fill);
    written into ``out`` (returned as a view of its start) when it has room."""
    kept = np.empty(len(indptr) - 1, dtype=np.int64)
    _count_kept(indptr, indices, present, kept)
    out_ptr[0] = 0
    np.cumsum(kept, out=out_ptr[1:])
    out_idx = _room(out, int(out_ptr[-1]), indices.dtype)
    _fill_kept(indptr, indices, present, out_ptr, out_idx)
    return out_idx


@njit(cache=True)
def _rows_touched(indptr, indices, who):
    """The agents ``who`` and their neighbours in the full network (the rows whose ties
    among present agents change when they come or go), sorted, each once."""
    size = who.shape[0]
    for w in who:
        size += indptr[w + 1] - indptr[w]
    rows = np.empty(size, dtype=np.int64)
    k = 0
    for w in who:
        rows[k] = w
        k += 1
        for e in range(indptr[w], indptr[w + 1]):
            rows[k] = indices[e]
            k += 1
    return np.unique(rows)


@njit(cache=True, parallel=True)
def _kept_in(indptr, indices, present, rows, kept):
    """``kept[r]``: how many of row ``rows[r]``'s ties have both ends present."""
    for r in prange(rows.shape[0]):
        kept[r] = _kept_row(rows[r], indptr, indices, present)


@njit(cache=True, parallel=True)
def _refill(indptr, indices, present, rows, shift, old_ptr, old_idx, out_ptr, out_idx):
    """The new rows: those in ``rows`` filtered again, every other row moved by the
    change in length of the rows before it (``shift[r]``: the change before
    ``rows[r]``; ``shift[-1]``: in all) — each block of rows from ``old_idx`` in one
    copy, ``out_ptr`` from ``old_ptr`` in the same pass (parallel blocks of rows)."""
    n = indptr.shape[0] - 1
    chunk = 1 << 14
    for c in prange((n + chunk - 1) // chunk):
        i = c * chunk
        end = min(n, i + chunk)
        r = np.searchsorted(rows, i)  # the first row filtered again at or after i
        while i < end:
            d = shift[r]
            nxt = rows[r] if r < rows.shape[0] else n
            if nxt == i:  # filtered again
                k = old_ptr[i] + d
                out_ptr[i] = k
                if present[i]:
                    for e in range(indptr[i], indptr[i + 1]):
                        j = indices[e]
                        if present[j]:
                            out_idx[k] = j
                            k += 1
                r += 1
                i += 1
            else:  # a run of unchanged rows: one block copy
                stop = min(nxt, end)
                for t in range(i, stop):
                    out_ptr[t] = old_ptr[t] + d
                out_idx[old_ptr[i] + d:old_ptr[stop] + d] = old_idx[old_ptr[i]:old_ptr[stop]]
                i = stop
    out_ptr[n] = old_ptr[n] + shift[rows.shape[0]]


def refilter_rows(indptr: np.ndarray, indices: np.ndarray, present: np.ndarray,
                  old_ptr: np.ndarray, old_idx: np.ndarray, who: np.ndarray,
                  out_ptr: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """:func:`filter_rows` after the agents ``who`` came or went, from the previous
    filtered rows ``(old_ptr, old_idx)``: only the rows of ``who`` and of their neighbours
    are filtered again, the others are copied in blocks. The result is identical to
    ``filter_rows(indptr, indices, present, out_ptr)``; written into ``out`` (a view of
    its start is returned) when it has room and is neither ``old_idx`` nor ``old_ptr``.

    Examples
    --------
    >>> ptr = np.array([0, 1, 3, 4]); idx = np.array([1, 0, 2, 1], np.int32)
    >>> p0 = np.empty(4, np.int64)
    >>> i0 = filter_rows(ptr, idx, np.array([True, True, False]), p0)
    >>> p1 = np.empty(4, np.int64)
    >>> i1 = refilter_rows(ptr, idx, np.ones(3, bool), p0, i0, np.array([2]), p1)
    >>> p1.tolist(), i1.tolist()
    ([0, 1, 3, 4], [1, 0, 2, 1])
    """
    rows = _rows_touched(indptr, indices, np.ascontiguousarray(who, dtype=np.int64))
    kept = np.empty(rows.shape[0], dtype=np.int64)
    _kept_in(indptr, indices, present, rows, kept)
    # the change in length before each row filtered again, and in all
    shift = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    np.cumsum(kept - (old_ptr[rows + 1] - old_ptr[rows]), out=shift[1:])
    out_idx = _room(out, int(old_ptr[-1] + shift[-1]), indices.dtype)
    _refill(indptr, indices, present, rows, shift, old_ptr, old_idx, out_ptr, out_idx)
    return out_idx
