"""Statistical tests of the random graph builders against theory.

Every tolerance is a number of standard errors (SE) derived from the stated model; with
many entries checked at once, 4.5 SE keeps the family-wise false alarm rate below ~1e-4.
Seeds are fixed, so the tests are deterministic.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from steppe.networks import (
    _pairs,
    barabasi_albert,
    erdos_renyi,
    lattice,
    random_regular,
    watts_strogatz,
)

from .test_csr_common import assert_well_formed


def edge_frequencies(graphs, n):
    """Fraction of graphs containing each pair (i < j), as an n x n upper-triangular array."""
    count = np.zeros((n, n))
    for g in graphs:
        rows = np.repeat(np.arange(n), np.diff(g.indptr))
        up = rows < g.indices
        count[rows[up], g.indices[up]] += 1
    return count / len(graphs)


# ---------------------------------------------------------------- Erdős–Rényi


@pytest.mark.parametrize("n", [2000, 20000])  # 2000: exact-choice path; 20000: sampled path
def test_er_edge_count_and_degrees_match_binomial(n):
    d = 10.0
    p = d / (n - 1)
    g = erdos_renyi(n, d, seed=11)
    total = n * (n - 1) / 2
    # edge count ~ Binomial(N, p): mean N p, SD sqrt(N p (1-p)); 4 SD
    se_m = np.sqrt(total * p * (1 - p))
    assert abs(g.n_edges - total * p) < 4 * se_m
    deg = g.degree()
    # degree ~ Binomial(n-1, p), variance (n-1) p (1-p) ≈ 10. The sample variance of n such
    # (nearly independent) values has SE sqrt((mu4 - sigma^4) / n) with Poisson mu4 = λ(1+3λ)
    lam = (n - 1) * p
    var_theory = lam * (1 - p)
    se_var = np.sqrt((lam * (1 + 3 * lam) - lam**2) / n)
    assert abs(deg.var() - var_theory) < 5 * se_var, (deg.var(), var_theory, se_var)


@pytest.mark.parametrize("direct_max", [_pairs.DIRECT_MAX_PAIRS, 0])
def test_er_each_edge_has_frequency_p(monkeypatch, direct_max):
    """NetworkX-style test on n = 8: every one of the 28 pairs appears with frequency p.
    direct_max = 0 forces the sample-dedupe-top-up path even at this size, where repeats are
    frequent, so a biased top-up (e.g. keeping the smallest pairs) would fail here."""
    monkeypatch.setattr(_pairs, "DIRECT_MAX_PAIRS", direct_max)
    n, graphs = 8, 3000
    p = 0.4
    rng = np.random.default_rng(3)
    gs = [erdos_renyi(n, p * (n - 1), rng) for _ in range(graphs)]
    f = edge_frequencies(gs, n)[np.triu_indices(n, 1)]
    se = np.sqrt(p * (1 - p) / graphs)  # binomial SE of one pair's frequency ≈ 0.0089
    assert np.all(np.abs(f - p) < 4.5 * se), f
    # the edge count per graph is Binomial(28, p): its variance 28 p (1-p) = 6.72; the SE of a
    # sample variance of 3000 values is about var * sqrt(2/3000) ≈ 0.17
    m = np.array([g.n_edges for g in gs])
    assert abs(m.var() - 28 * p * (1 - p)) < 5 * 6.72 * np.sqrt(2 / graphs) * 1.1


def test_er_extremes():
    assert erdos_renyi(10, 0, seed=0).n_edges == 0
    assert erdos_renyi(10, 9, seed=0).n_edges == 45
    assert erdos_renyi(1, 0, seed=0).n_edges == 0


# ---------------------------------------------------------------- random regular


def test_regular_degrees_exact():
    for n, k in [(1000, 3), (1000, 10), (501, 8), (30, 29), (10, 0)]:
        g = random_regular(n, k, seed=4)
        assert_well_formed(g)
        assert np.all(g.degree() == k)


def test_regular_edge_frequencies_uniform():
    """On n = 8, k = 3 each pair is an edge of a uniform 3-regular graph with probability
    k / (n - 1) = 3/7 by symmetry; the circulant start (edges i±1, i+4) would give 1 or 0."""
    n, k, graphs = 8, 3, 2000
    rng = np.random.default_rng(8)
    f = edge_frequencies([random_regular(n, k, rng) for _ in range(graphs)], n)
    f = f[np.triu_indices(n, 1)]
    p = k / (n - 1)
    se = np.sqrt(p * (1 - p) / graphs)  # ≈ 0.011
    assert np.all(np.abs(f - p) < 4.5 * se), f


def test_regular_graph_law_uniform():
    """Labelled 2-regular graphs on 6 nodes: 60 hexagons and 10 pairs of triangles, so a
    uniform sampler gives two triangles with probability 10/70 (edge frequencies alone
    cannot see this)."""
    graphs = 3000
    rng = np.random.default_rng(9)
    tri = 0
    for _ in range(graphs):
        g = random_regular(6, 2, rng)
        tri += nx.number_connected_components(g.to_networkx()) == 2
    p = 1 / 7
    se = np.sqrt(p * (1 - p) / graphs)  # ≈ 0.0064
    assert abs(tri / graphs - p) < 4.5 * se


# ---------------------------------------------------------------- Barabási–Albert


def test_ba_edges_and_heavy_tail():
    n, m = 20000, 3
    g = barabasi_albert(n, m, seed=5)
    assert g.n_edges == m * (n - m)
    deg = g.degree()
    assert deg.min() >= m - 0  # every later node has m edges; the star leaves start at 1
    assert np.all(deg[m + 1:] >= m)
    er = erdos_renyi(n, g.mean_degree(), seed=5)
    # BA: max degree ~ m sqrt(n) ≈ 400; ER with the same mean: ≈ 20. Factor 4 is far from both
    assert deg.max() > 4 * er.degree().max()
    # P(k) ~ 2 m^2 / k^3 (Barabási & Albert 1999; Dorogovtsev et al. 2000 exact
    # 2m(m+1)/(k(k+1)(k+2))): fraction with degree >= 30 is m(m+1)/(30*31) ≈ 0.0129
    tail = (deg >= 30).mean()
    expect = m * (m + 1) / (30 * 31)
    se = np.sqrt(expect * (1 - expect) / n)
    assert abs(tail - expect) < 5 * se + 0.002, (tail, expect)


def test_ba_first_steps_match_networkx_rule():
    g = barabasi_albert(4, 3, seed=0)  # star on 4 nodes then nothing: star(4)
    assert g.neighbors(0).tolist() == [1, 2, 3]
    g = barabasi_albert(5, 3, seed=0)  # node 4 must link to 3 distinct of 0..3
    assert len(g.neighbors(4)) == 3


# ---------------------------------------------------------------- Watts–Strogatz


def test_ws_p0_is_ring_lattice():
    for n, k in [(10, 4), (51, 6), (7, 2)]:
        g = watts_strogatz(n, k, 0.0, seed=1)
        ref = nx.watts_strogatz_graph(n, k, 0.0)
        assert set(map(tuple, map(sorted, g.to_networkx().edges()))) == \
            set(map(tuple, map(sorted, ref.edges())))
    assert np.array_equal(watts_strogatz(9, 2, 0.0, seed=0).indices, lattice((9,)).indices)


def test_ws_edges_preserved_and_rewired_fraction():
    n, k = 5000, 6
    for p in (0.1, 0.5, 1.0):
        g = watts_strogatz(n, k, p, seed=2)
        assert_well_formed(g)
        assert g.n_edges == n * k // 2
        # each node keeps the k/2 edges it owns (only their far end moves)
        assert g.degree().min() >= k // 2
        # an edge is rewired with probability p and lands back on a lattice pair only with
        # probability ~ k/n; so the fraction of non-lattice edges ≈ p (1 - k/n), binomial SE
        rows = np.repeat(np.arange(n), g.degree())
        up = rows < g.indices
        gap = (g.indices[up] - rows[up]) % n
        lattice_edge = (gap <= k // 2) | (gap >= n - k // 2)
        frac = 1 - lattice_edge.mean()
        m = n * k // 2
        expect = p * (1 - k / n)
        assert abs(frac - expect) < 4.5 * np.sqrt(p * (1 - p) / m) + 2 * k / n


def test_ws_p1_full_rewire_small():
    g = watts_strogatz(6, 4, 1.0, seed=3)  # nodes often linked to everyone: skip branch
    assert_well_formed(g)
    assert g.n_edges == 12


def test_er_pairs_decode_exhaustive():
    # every pair index maps to a distinct pair i < j
    n = 9
    total = n * (n - 1) // 2
    lo = np.empty(total, np.int32)
    hi = np.empty(total, np.int32)
    _pairs._decode_within(np.arange(total, dtype=np.int64), 0, lo, hi)
    pairs = sorted(zip(lo.tolist(), hi.tolist(), strict=True))
    assert pairs == list(itertools.combinations(range(n), 2))
