"""The prefetch hint: compiled here (LLVM's intrinsic, not the do-nothing fallback), and a
walk that asks for values ahead of reading them reads the same values."""

from __future__ import annotations

import numpy as np
from numba import njit

from steppe.networks import _prefetch
from steppe.networks._prefetch import AHEAD, prefetch


def test_the_intrinsic_compiles_here():
    assert _prefetch._compiles()
    assert prefetch is _prefetch._with_intrinsic


@njit(cache=True)
def _gather_sum(values, indices, ahead):
    acc = 0.0
    for e in range(indices.shape[0]):
        if ahead and e + AHEAD < indices.shape[0]:
            prefetch(values, indices[e + AHEAD])
        acc += values[indices[e]]
    return acc


def test_prefetching_changes_no_value():
    rng = np.random.default_rng(0)
    values = rng.random(10_000)
    for size in (0, 1, AHEAD, AHEAD + 1, 50_000):
        idx = rng.integers(0, values.size, size).astype(np.int32)
        got = _gather_sum(values, idx, True)
        assert got == _gather_sum(values, idx, False)  # the same sum, bit for bit
        np.testing.assert_allclose(got, values[idx].sum(), rtol=1e-12)
    # the fallback takes the same arguments and does nothing
    _prefetch._without(values, 3)
