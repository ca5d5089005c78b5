"""The recorder's tallies by level (a parallel pass over blocks of agents) against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from steppe.observe.observables import _TALLY_BLOCK, _tally


@pytest.mark.parametrize(("n", "with_present"), [(5, False), (3 * _TALLY_BLOCK + 17, True),
                                                 (2 * _TALLY_BLOCK, False)])
def test_tally_matches_bincount(n, with_present):
    rng = np.random.default_rng(n)
    levels, k, answers = 17, 3, 4
    codes = rng.integers(0, levels, n).astype(np.int16)
    stance = rng.integers(0, k, n).astype(np.int8)
    expressed = rng.integers(0, answers, n).astype(np.int8)
    present = rng.random(n) < 0.9 if with_present else np.zeros(0, dtype=np.bool_)
    priv = np.ones((levels, k), dtype=np.int64)  # added to, not overwritten
    expr = np.ones((levels, answers), dtype=np.int64)
    _tally(codes, stance, expressed, present, priv, expr)
    keep = present if with_present else np.ones(n, dtype=bool)
    want_p = 1 + np.bincount(codes[keep].astype(np.int64) * k + stance[keep],
                             minlength=levels * k).reshape(levels, k)
    want_e = 1 + np.bincount(codes[keep].astype(np.int64) * answers + expressed[keep],
                             minlength=levels * answers).reshape(levels, answers)
    np.testing.assert_array_equal(priv, want_p)
    np.testing.assert_array_equal(expr, want_e)
