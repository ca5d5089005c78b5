"""Private sampler of uniform random sets of distinct vertex pairs, shared by
:func:`~steppe.networks.random_graphs.erdos_renyi` and
:func:`~steppe.networks.sbm.stochastic_block_model`.

A *spec* ``(off_a, size_a, off_b, size_b, m)`` asks for ``m`` distinct unordered pairs drawn
uniformly either inside the id range ``[off_a, off_a + size_a)`` (when ``off_a == off_b``) or
between two disjoint ranges (``off_a < off_b``). Rule, per spec in order:

- if the number of possible pairs ``N`` is at most ``DIRECT_MAX_PAIRS``, the pair indices are
  ``Generator.choice(N, m, replace=False)`` (exactly uniform);
- otherwise ``m`` pairs are drawn independently and uniformly (a uniform ordered pair of
  distinct ids without rejection: ``x`` uniform, ``y`` uniform on the others), repeats are
  removed, and further independent pairs are drawn, in order, keeping each one not seen
  before until ``m`` are distinct. The result is the set of the first ``m`` distinct values
  of an i.i.d. uniform sequence, hence a uniform ``m``-subset.

All draws come from one numpy Generator in a fixed order, so the output depends only on the
seed. Deduplication sorts the rows of an upper-triangular CSR ("half" CSR: row ``i`` lists
its partners ``j > i``), which needs 4 bytes per pair plus 8 per vertex; the symmetric CSR is
then filled row by row so that its rows come out sorted without a second sort.

Examples
--------
>>> import numpy as np
>>> ptr, idx = sample_pairs_csr(5, [(0, 5, 0, 5, 4)], np.random.default_rng(0))
>>> int(ptr[-1])
8
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._csr import sort_rows

__all__ = ["DIRECT_MAX_PAIRS", "sample_pairs_csr"]

DIRECT_MAX_PAIRS = 1 << 22


@njit(cache=True)
def _decode_within(k, off, lo, hi):
    # k = j (j - 1) / 2 + i with 0 <= i < j
    for t in range(k.shape[0]):
        x = k[t]
        j = np.int64((1.0 + np.sqrt(1.0 + 8.0 * x)) / 2.0)
        while j * (j - 1) // 2 > x:
            j -= 1
        while (j + 1) * j // 2 <= x:
            j += 1
        i = x - j * (j - 1) // 2
        lo[t] = off + i
        hi[t] = off + j


@njit(cache=True)
def _decode_between(k, off_a, off_b, size_b, lo, hi):
    for t in range(k.shape[0]):
        lo[t] = off_a + k[t] // size_b
        hi[t] = off_b + k[t] % size_b


@njit(cache=True)
def _canon_within(x, y, off):
    # x uniform on [0, s), y uniform on [0, s-1); y >= x shifts up: uniform distinct pair
    for t in range(x.shape[0]):
        a = x[t]
        b = y[t]
        if b >= a:
            b += 1
        if a < b:
            x[t] = a + off
            y[t] = b + off
        else:
            x[t] = b + off
            y[t] = a + off


@njit(cache=True)
def _shift(x, off):
    for t in range(x.shape[0]):
        x[t] += off


@njit(cache=True)
def _half_count(ptr, lo):
    # adds row counts (not yet cumulated) into ptr[1:]
    for e in range(lo.shape[0]):
        ptr[lo[e] + 1] += 1


@njit(cache=True)
def _half_fill(ptr, lo, hi, out, base):
    # base: per-row write position, advanced in place (lets several chunks be filled)
    for e in range(lo.shape[0]):
        u = lo[e]
        out[base[u]] = hi[e]
        base[u] += 1


@njit(cache=True)
def _count_repeats(ptr, idx):
    n = ptr.shape[0] - 1
    c = 0
    for i in range(n):
        for t in range(ptr[i] + 1, ptr[i + 1]):
            if idx[t] == idx[t - 1]:
                c += 1
    return c


@njit(cache=True)
def _compact_half(ptr, idx, rep_lo, rep_hi):
    n = ptr.shape[0] - 1
    out = np.empty(n + 1, np.int64)
    out[0] = 0
    w = 0
    r = 0
    for i in range(n):
        a = ptr[i]
        b = ptr[i + 1]
        for t in range(a, b):
            x = idx[t]
            if t > a and x == idx[t - 1]:
                rep_lo[r] = i
                rep_hi[r] = x
                r += 1
                continue
            idx[w] = x
            w += 1
        out[i + 1] = w
    return out


@njit(cache=True)
def _in_half(ptr, idx, lo, hi):
    res = np.zeros(lo.shape[0], np.bool_)
    for t in range(lo.shape[0]):
        a = ptr[lo[t]]
        b = ptr[lo[t] + 1]
        x = hi[t]
        while a < b:
            mid = (a + b) // 2
            if idx[mid] < x:
                a = mid + 1
            else:
                b = mid
        res[t] = a < ptr[lo[t] + 1] and idx[a] == x
    return res


@njit(cache=True)
def _full_from_half(hptr, hidx, elo, ehi):
    n = hptr.shape[0] - 1
    ptr = np.zeros(n + 1, np.int64)
    for i in range(n):
        ptr[i + 1] += hptr[i + 1] - hptr[i]
        for t in range(hptr[i], hptr[i + 1]):
            ptr[hidx[t] + 1] += 1
    for e in range(elo.shape[0]):
        ptr[elo[e] + 1] += 1
        ptr[ehi[e] + 1] += 1
    for i in range(n):
        ptr[i + 1] += ptr[i]
    out = np.empty(ptr[n], np.int32)
    pos = ptr[:n].copy()
    # row r receives its lower partners in increasing order (while rows i < r are
    # processed), then its own sorted upper partners: rows come out sorted
    for i in range(n):
        for t in range(hptr[i], hptr[i + 1]):
            j = hidx[t]
            out[pos[i]] = j
            pos[i] += 1
            out[pos[j]] = i
            pos[j] += 1
    for e in range(elo.shape[0]):
        u = elo[e]
        v = ehi[e]
        out[pos[u]] = v
        pos[u] += 1
        out[pos[v]] = u
        pos[v] += 1
    return ptr, out


@njit(cache=True)
def _sort_listed_rows(ptr, idx, rows):
    for r in range(rows.shape[0]):
        i = rows[r]
        a = ptr[i]
        b = ptr[i + 1]
        idx[a:b] = np.sort(idx[a:b])


def _draw(spec, m, rng):
    """``m`` i.i.d. uniform distinct pairs of a spec, as global (lo, hi) int32 arrays."""
    off_a, size_a, off_b, size_b = spec
    if off_a == off_b:
        x = rng.integers(0, size_a, size=m, dtype=np.int32)
        y = rng.integers(0, size_a - 1, size=m, dtype=np.int32)
        _canon_within(x, y, np.int32(off_a))
    else:
        x = rng.integers(0, size_a, size=m, dtype=np.int32)
        y = rng.integers(0, size_b, size=m, dtype=np.int32)
        _shift(x, np.int32(off_a))
        _shift(y, np.int32(off_b))
    return x, y


def _initial_pairs(spec, rng):
    """The first ``m`` pairs of a spec and whether they are already distinct."""
    oa, _, ob, sb, m = spec
    total = n_pairs(spec[:4])
    if total <= DIRECT_MAX_PAIRS:
        k = rng.choice(total, size=m, replace=False, shuffle=False).astype(np.int64)
        lo = np.empty(m, np.int32)
        hi = np.empty(m, np.int32)
        if oa == ob:
            _decode_within(k, oa, lo, hi)
        else:
            _decode_between(k, oa, ob, sb, lo, hi)
        return (lo, hi), True
    return _draw(spec[:4], m, rng), False


def n_pairs(spec) -> int:
    """Number of possible pairs of a spec ``(off_a, size_a, off_b, size_b)``."""
    off_a, size_a, off_b, size_b = spec
    return size_a * (size_a - 1) // 2 if off_a == off_b else size_a * size_b


def sample_pairs_csr(n: int, specs: list[tuple[int, int, int, int, int]],
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric CSR (int64 indptr, int32 indices, rows sorted) of the union of the pair sets
    asked for by ``specs`` (see the module docstring); specs must cover disjoint pair sets."""
    los: list[np.ndarray] = []
    his: list[np.ndarray] = []
    sampled: list[int] = []  # specs drawn with replacement (may hold repeats)
    for s, spec in enumerate(specs):
        if spec[4] == 0:
            continue
        pair, direct = _initial_pairs(spec, rng)
        los.append(pair[0])
        his.append(pair[1])
        if not direct:
            sampled.append(s)
        del pair
    # half CSR, filled chunk by chunk so that no concatenated copy is made
    hptr = np.zeros(n + 1, np.int64)
    for c in range(len(los)):
        _half_count(hptr, los[c])
    np.cumsum(hptr, out=hptr)
    hidx = np.empty(int(hptr[-1]), np.int32)
    base = hptr[:n].copy()
    for c in range(len(los)):
        _half_fill(hptr, los[c], his[c], hidx, base)
    los.clear()
    his.clear()
    del base
    sort_rows(hptr, hidx)
    n_rep = _count_repeats(hptr, hidx)
    elo = np.zeros(0, np.int32)
    ehi = np.zeros(0, np.int32)
    if n_rep:
        rep_lo = np.empty(n_rep, np.int32)
        rep_hi = np.empty(n_rep, np.int32)
        hptr = _compact_half(hptr, hidx, rep_lo, rep_hi)
        hidx = hidx[: hptr[-1]]
        extra_lo, extra_hi = _top_up(specs, sampled, rep_lo, rep_hi, hptr, hidx, rng)
        elo = np.asarray(extra_lo, dtype=np.int32)
        ehi = np.asarray(extra_hi, dtype=np.int32)
    ptr, idx = _full_from_half(hptr, hidx, elo, ehi)
    if elo.shape[0]:
        _sort_listed_rows(ptr, idx, np.unique(np.concatenate([elo, ehi])))
    return ptr, idx


def _spec_of(specs, sampled, lo, hi):
    """Index (into specs) of the sampled spec each pair (lo, hi) belongs to."""
    out = np.full(lo.shape[0], -1, np.int64)
    for s in sampled:
        oa, sa, ob, sb, _ = specs[s]
        mask = (lo >= oa) & (lo < oa + sa) & (hi >= ob) & (hi < ob + sb)
        out[mask] = s
    return out


def _top_up(specs, sampled, rep_lo, rep_hi, hptr, hidx, rng):
    owner = _spec_of(specs, sampled, rep_lo, rep_hi)
    extra_lo: list[int] = []
    extra_hi: list[int] = []
    for s in sampled:
        need = int((owner == s).sum())
        if need == 0:
            continue
        oa, sa, ob, sb, _ = specs[s]
        seen: set[tuple[int, int]] = set()
        while need > 0:
            lo, hi = _draw((oa, sa, ob, sb), max(2 * need, 64), rng)
            known = _in_half(hptr, hidx, lo, hi)
            for a, b, k in zip(lo.tolist(), hi.tolist(), known.tolist(), strict=True):
                if k or (a, b) in seen:
                    continue
                seen.add((a, b))
                extra_lo.append(a)
                extra_hi.append(b)
                need -= 1
                if need == 0:
                    break
    return extra_lo, extra_hi
