"""Hegselmann–Krause: published results, the fast kernels against a plain O(N²) NumPy
reference, convexity, committed agents, categories, freezing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hst

from steppe.engine import Committed, init_state
from steppe.errors import ParameterError
from steppe.models import get_model
from steppe.networks import complete_graph, erdos_renyi
from steppe.validation import hegselmann_krause as checks
from steppe.validation.deffuant import UNIFORM, run_until_frozen
from tests.conftest import ring

HK = get_model("hegselmann_krause")


@pytest.mark.parametrize("fn", [checks.hk_consensus, checks.hk_no_consensus, checks.hk_spacing])
def test_published_results(fn):
    res = fn()
    assert res.passed, res


def _reference_step(x, y, committed, eps, adjacency):
    """x_i ← (x_i + Σ_{j ~ i, |y_j − x_i| ≤ ε} y_j) / (1 + #those j), committed kept."""
    w = adjacency & (np.abs(y[None, :] - x[:, None]) <= eps)
    new = (x + w.astype(float) @ y) / (1 + w.sum(axis=1))
    return np.where(committed, x, new)


def _adjacency(net):
    n = net.n
    if net.complete:
        return ~np.eye(n, dtype=bool)
    a = np.zeros((n, n), dtype=bool)
    for i in range(n):
        a[i, net.neighbors(i)] = True
    return a


@pytest.mark.parametrize("n", [2, 3, 57, 400, 1500])
@pytest.mark.parametrize("eps", [0.01, 0.1, 0.3, 1.0])
@pytest.mark.parametrize("committed", [0.0, 0.15])
@pytest.mark.parametrize("live", [True, False])
def test_complete_graph_kernel_matches_reference(n, eps, committed, live):
    """Several steps; when not live, what agents voice is redrawn every step, so the kept
    sort order is wrong and must be recomputed. Opinions on a 1/40 grid make many exact
    ties and exact distances ε to probe the window edges."""
    m = HK(epsilon=eps)
    net = complete_graph(n)
    st = init_state(m, net, seed=n, committed=Committed("pro", fraction=committed))
    gen = np.random.default_rng(n)
    if n > 100:
        st.opinion[~st.committed] = np.round(st.opinion[~st.committed] * 40) / 40
    if not live:
        st.separate_expression()
        st.see_expressed()
    adj = _adjacency(net)
    for _ in range(4):
        if not live:
            st.expressed_opinion[:] = gen.uniform(size=n)
        x, y = st.opinion.copy(), st.seen_opinion.copy()
        expected = _reference_step(x, y, st.committed, eps, adj)
        m.advance(st, net, 1, False)
        np.testing.assert_allclose(st.opinion, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("net", [ring(50), erdos_renyi(300, 8, seed=1)], ids=["ring", "er"])
@pytest.mark.parametrize("live", [True, False])
def test_network_kernel_matches_reference(net, live):
    m = HK(epsilon=0.2)
    st = init_state(m, net, seed=3, committed=Committed("against", fraction=0.1))
    if not live:
        st.separate_expression()
        st.expressed_opinion[:] = np.random.default_rng(0).uniform(size=net.n)
        st.see_expressed()
    adj = _adjacency(net)
    for _ in range(5):
        x, y = st.opinion.copy(), st.seen_opinion.copy()
        expected = _reference_step(x, y, st.committed, 0.2, adj)
        m.advance(st, net, 1, False)
        np.testing.assert_allclose(st.opinion, expected, rtol=0, atol=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(x=hst.lists(hst.floats(0, 1), min_size=2, max_size=40), eps=hst.floats(0.001, 1),
       on_ring=hst.booleans())
def test_averaging_never_widens_the_range(x, eps, on_ring):
    """A mean lies within the range of what it averages; a rounded mean of equal values
    may be one unit in the last place off, hence the 1e-15."""
    n = len(x)
    net = ring(n) if on_ring and n >= 3 else complete_graph(n)
    m = HK(epsilon=eps)
    st = init_state(m, net, seed=0)
    st.opinion[:] = x
    m.categorize(st)
    lo, hi = st.opinion.min(), st.opinion.max()
    m.advance(st, net, 5, False)
    assert st.opinion.min() >= lo - 1e-15 and st.opinion.max() <= hi + 1e-15


@pytest.mark.parametrize("net", [complete_graph(60), ring(60)], ids=["complete", "ring"])
def test_committed_never_move_and_categories_stay_exact(net):
    m = HK(epsilon=0.4)
    m.set_categories(("a", "b", "c", "d"), (0.2, 0.5, 0.55))
    st = init_state(m, net, seed=2, shares={"a": 0.25, "b": 0.25, "c": 0.25, "d": 0.25},
                    committed=Committed("d", fraction=0.2))
    fixed = st.opinion[st.committed].copy()
    for _ in range(10):
        m.advance(st, net, 1, False)
        assert np.array_equal(st.opinion[st.committed], fixed)
        cats = np.searchsorted(np.asarray(m.cutoffs), st.opinion, side="right")
        assert np.array_equal(st.stance, cats)
        assert np.array_equal(st.counts, np.bincount(cats, minlength=4))


def test_same_seed_same_result():
    m = HK(epsilon=0.15)
    net = complete_graph(500)
    a, b = (init_state(m, net, seed=9) for _ in range(2))
    m.advance(a, net, 20, False)
    m.advance(b, net, 20, False)
    assert np.array_equal(a.opinion, b.opinion)


@pytest.mark.parametrize("bad", [{"epsilon": 0}, {"epsilon": 1.01}, {"tolerance": 0},
                                 {"tolerance": 1}, {"mu": 0.5}, {"epsilon": "wide"}])
def test_bad_parameters(bad):
    with pytest.raises(ParameterError):
        HK(**bad)


@pytest.mark.parametrize("eps", [0.05, 0.15, 0.3])
def test_reaches_a_fixed_point_in_finite_time(eps):
    """HK on the complete graph stops in finitely many steps (Dittmer 2001): once frozen,
    further steps move nothing by more than rounding."""
    m = HK(epsilon=eps)
    net = complete_graph(2000)
    x, t, frozen = run_until_frozen(m, net, seed=1, max_sweeps=1000, chunk=1)
    assert frozen and t < 1000
    st = init_state(m, net, seed=1, opinions=UNIFORM)
    st.opinion[:] = x
    m.advance(st, net, 10, False)
    assert np.abs(st.opinion - x).max() <= 1e-12
    assert m.is_frozen(st, net)


def test_stop_at_consensus_or_fixed_point():
    m = HK(epsilon=0.3)
    net = complete_graph(1000)
    st = init_state(m, net, seed=4)
    dt = m.advance(st, net, 1000, True)
    assert dt < 1000


def test_not_frozen_while_enforced():
    m = HK(epsilon=0.3)
    net = complete_graph(50)
    st = init_state(m, net, seed=0)
    st.opinion[:] = 0.5
    m.advance(st, net, 1, False)
    assert m.is_frozen(st, net)
    st.separate_expression()
    st.see_expressed()
    m.advance(st, net, 1, False)
    assert not m.is_frozen(st, net)
