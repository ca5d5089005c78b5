"""The kernels' generator: uniformity, exclusion, reproducibility."""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy import stats

from steppe.rng import make_state, randint, randint_excluding, uniform


@njit
def _draw_ints(s, n, size):
    out = np.empty(size, dtype=np.int64)
    for k in range(size):
        out[k] = randint(s, n)
    return out


@njit
def _draw_excl(s, n, i, size):
    out = np.empty(size, dtype=np.int64)
    for k in range(size):
        out[k] = randint_excluding(s, n, i)
    return out


@njit
def _draw_unif(s, size):
    out = np.empty(size)
    for k in range(size):
        out[k] = uniform(s)
    return out


def test_randint_is_uniform_chi_square():
    # 7 categories, 700,000 draws; chi-square test at the 1e-4 level fails a biased
    # generator (e.g. modulo bias at n=7 would be invisible, but a wrong range is not).
    x = _draw_ints(make_state(1), 7, 700_000)
    assert x.min() == 0 and x.max() == 6
    counts = np.bincount(x, minlength=7)
    assert stats.chisquare(counts).pvalue > 1e-4


def test_randint_large_n_unbiased_mean():
    # n close to 2**31: mean of uniform{0..n-1} is (n-1)/2, sd n/sqrt(12); 5 se tolerance
    n = 2_000_000_011
    x = _draw_ints(make_state(2), n, 200_000).astype(float)
    se = n / np.sqrt(12) / np.sqrt(len(x))
    assert abs(x.mean() - (n - 1) / 2) < 5 * se
    assert x.max() < n


def test_randint_excluding_never_returns_i():
    x = _draw_excl(make_state(3), 5, 2, 100_000)
    assert not np.any(x == 2)
    counts = np.bincount(x, minlength=5)
    assert counts[2] == 0
    assert stats.chisquare(counts[[0, 1, 3, 4]]).pvalue > 1e-4


def test_uniform_range_and_moments():
    u = _draw_unif(make_state(4), 400_000)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / len(u))
    assert stats.kstest(u, "uniform").pvalue > 1e-4


def test_same_seed_same_stream_and_state_advances():
    a, b = make_state(9), make_state(9)
    assert np.array_equal(_draw_ints(a, 100, 50), _draw_ints(b, 100, 50))
    assert np.array_equal(a, b)
    assert not np.array_equal(_draw_ints(a, 100, 50), _draw_ints(make_state(10), 100, 50))


def test_make_state_from_generator_and_seedsequence():
    ss = np.random.SeedSequence(5)
    assert np.array_equal(make_state(ss), make_state(np.random.SeedSequence(5)))
    g = np.random.default_rng(5)
    assert make_state(g).dtype == np.uint64
