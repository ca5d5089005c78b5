"""Deffuant–Weisbuch: published cluster counts, the kernel replayed by a pure-Python
reference, conservation, convexity, committed agents, categories, freezing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hst

from steppe.engine import Committed, init_state
from steppe.errors import ParameterError
from steppe.models import get_model
from steppe.models.deffuant import _deffuant
from steppe.networks import complete_graph, lattice
from steppe.networks.base import random_neighbor
from steppe.rng import randint
from steppe.validation import deffuant as checks
from tests.conftest import ring

DW = get_model("deffuant")


@pytest.mark.parametrize("fn", [
    checks.deffuant_consensus, checks.deffuant_no_consensus, checks.deffuant_major_03,
    checks.deffuant_major_02, checks.deffuant_major_015, checks.deffuant_consensus_er,
    checks.deffuant_consensus_lattice,
])
def test_published_results(fn):
    res = fn()
    assert res.passed, res


def test_network_of_the_er_check_is_connected():
    """Fortunato's result needs a connected graph: breadth-first search from agent 0."""
    net = checks.er_network()
    seen = np.zeros(net.n, dtype=bool)
    seen[0] = True
    frontier = [0]
    while frontier:
        nxt = []
        for i in frontier:
            for j in net.neighbors(i):
                if not seen[j]:
                    seen[j] = True
                    nxt.append(int(j))
        frontier = nxt
    assert seen.all()


def _reference(x, h, committed, net, eps, mu, n_updates, s):
    """Pure-Python Deffuant–Weisbuch drawing (i, j) from the same xoshiro stream as the
    kernel (the kernel's draw order: i, then a neighbour of i). ``h`` is what agents voice;
    when it is ``x`` itself the updates are live."""
    complete, indptr, indices = net.kernel_args()
    n = len(x)
    for _ in range(n_updates):
        i = int(randint(s, n))
        j = int(random_neighbor(s, i, n, complete, indptr, indices))
        if j < 0:
            continue
        xi, xj, hi, hj = x[i], x[j], h[i], h[j]
        if not committed[i] and abs(hj - xi) < eps:
            x[i] = xi + mu * (hj - xi)
        if not committed[j] and abs(hi - xj) < eps:
            x[j] = xj + mu * (hi - xj)
    return x


@pytest.mark.parametrize("net", [complete_graph(30), ring(30), lattice((5, 6))],
                         ids=["complete", "ring", "lattice"])
@pytest.mark.parametrize("live", [True, False])
def test_kernel_replays_the_reference_exactly(net, live):
    """Same random stream, same pairs, bit-identical opinions (with committed agents)."""
    m = DW(epsilon=0.35, mu=0.3)
    st = init_state(m, net, seed=11, committed=Committed("pro", fraction=0.2))
    x0 = st.opinion.copy()
    h = np.random.default_rng(5).uniform(size=net.n) if not live else None
    s0 = st.rng.copy()
    x_ref = x0.copy()
    expected = _reference(x_ref, x_ref if live else h, st.committed, net, 0.35, 0.3, 600,
                          s0.copy())
    cutoffs = np.asarray(m.cutoffs)
    _deffuant(st.opinion, st.opinion if live else h, st.stance, st.committed, st.counts,
              cutoffs, *net.kernel_args(), 0.35, 0.3, 600, False, m.consensus_mask(), st.rng)
    assert np.array_equal(st.opinion, expected)
    assert not np.array_equal(st.rng, s0)  # the stream advanced
    assert not np.array_equal(st.opinion, x0)  # something happened


def test_sum_of_opinions_is_conserved_when_live():
    """Symmetric moves μ(x_j − x_i) and μ(x_i − x_j) cancel: the sum changes only by
    rounding (~1e-16 per interaction). A listener-only rule, or updating j from the new
    x_i, would drift by far more than 1e-9."""
    m = DW(epsilon=0.25, mu=0.37)
    net = complete_graph(2000)
    st = init_state(m, net, seed=3, opinions=checks.UNIFORM)
    total = st.opinion.sum()
    for _ in range(5):
        m.advance(st, net, 10, False)
        assert abs(st.opinion.sum() - total) < 1e-9
    assert st.opinion.std() < 0.28  # opinions did move


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(x=hst.lists(hst.floats(0, 1), min_size=2, max_size=40),
       eps=hst.floats(0.01, 1), mu=hst.floats(0.01, 0.5), seed=hst.integers(0, 2**32),
       on_ring=hst.booleans())
def test_averaging_never_widens_the_range(x, eps, mu, seed, on_ring):
    n = len(x)
    net = ring(n) if on_ring and n >= 3 else complete_graph(n)
    m = DW(epsilon=eps, mu=mu)
    st = init_state(m, net, seed=seed)
    st.opinion[:] = x
    m.categorize(st)
    lo, hi = st.opinion.min(), st.opinion.max()
    m.advance(st, net, 5, False)
    assert st.opinion.min() >= lo and st.opinion.max() <= hi


@pytest.mark.parametrize("net", [complete_graph(60), ring(60)], ids=["complete", "ring"])
def test_committed_never_move_and_categories_stay_exact(net):
    m = DW(epsilon=0.5, mu=0.5)
    m.set_categories(("a", "b", "c", "d"), (0.2, 0.5, 0.55))
    st = init_state(m, net, seed=2, shares={"a": 0.25, "b": 0.25, "c": 0.25, "d": 0.25},
                    committed=Committed("a", fraction=0.2))
    fixed = st.opinion[st.committed].copy()
    for _ in range(20):
        m.advance(st, net, 1, False)
        assert np.array_equal(st.opinion[st.committed], fixed)
        cats = np.searchsorted(np.asarray(m.cutoffs), st.opinion, side="right")
        assert np.array_equal(st.stance, cats)
        assert np.array_equal(st.counts, np.bincount(cats, minlength=4))


def test_stop_at_consensus_is_exact():
    """The kernel keeps the categories current and stops at the interaction that puts
    everyone in one category."""
    m = DW(epsilon=1.0, mu=0.5)
    m.set_consensus("stance")  # consensus: everyone in one category
    net = complete_graph(100)
    st = init_state(m, net, seed=4)
    dt = m.advance(st, net, 1000, True)
    assert dt < 1000
    assert st.counts.max() == 100
    before = st.counts.copy()
    m.categorize(st)
    assert np.array_equal(st.counts, before)


def test_same_seed_same_result():
    m = DW(epsilon=0.3)
    net = ring(80)
    a, b = (init_state(m, net, seed=9) for _ in range(2))
    m.advance(a, net, 50, False)
    m.advance(b, net, 50, False)
    assert np.array_equal(a.opinion, b.opinion) and np.array_equal(a.rng, b.rng)


@pytest.mark.parametrize("bad", [{"epsilon": 0}, {"epsilon": 1.5}, {"mu": 0}, {"mu": 0.6},
                                 {"tolerance": 0}, {"tolerance": 0.5}, {"delta": 1},
                                 {"epsilon": "wide"}])
def test_bad_parameters(bad):
    with pytest.raises(ParameterError):
        DW(**bad)


def test_frozen_on_a_network_needs_the_network_test():
    """On a 4-ring, 0.1 and 0.12 are never neighbours: nothing can move (every edge joins
    opinions 0.78 or more apart) although the sorted opinions alone would not show it."""
    m = DW(epsilon=0.3)
    net = ring(4)
    st = init_state(m, net, seed=0)
    st.opinion[:] = [0.1, 0.9, 0.12, 0.9]
    m.categorize(st)
    st.aux["max_change"][0] = 0.0
    assert m.is_frozen(st, net)
    st.opinion[:] = [0.1, 0.35, 0.12, 0.9]  # 0.1 and 0.35 are neighbours within ε
    assert not m.is_frozen(st, net)
    st.opinion[:] = [0.1, 0.9, 0.12, 0.9]
    st.aux["max_change"][0] = 0.01  # something moved in the last sweep
    assert not m.is_frozen(st, net)


def test_frozen_complete_graph_and_not_live():
    m = DW(epsilon=0.2)
    net = complete_graph(6)
    st = init_state(m, net, seed=0)
    st.opinion[:] = [0.1, 0.1, 0.1 + 1e-7, 0.5, 0.5, 0.9]
    m.categorize(st)
    st.aux["max_change"][0] = 0.0
    assert m.is_frozen(st, net)
    st.opinion[2] = 0.1 + 1e-5  # a cluster wider than the tolerance
    assert not m.is_frozen(st, net)
    st.opinion[2] = 0.1
    st.opinion[:3] = 1 / 3 - 5e-8, 1 / 3 + 5e-8, 1 / 3  # straddles a cut-off
    assert not m.is_frozen(st, net)
    st.opinion[:3] = 0.1
    st.separate_expression()
    st.see_expressed()
    assert not m.is_frozen(st, net)  # under enforcement, voiced opinions may still change


def test_runs_freeze_and_then_do_not_move():
    m = DW(epsilon=0.25, mu=0.5)
    net = complete_graph(300)
    x, _, frozen = checks.run_until_frozen(m, net, seed=1, max_sweeps=20_000)
    assert frozen
    st = init_state(m, net, seed=1, opinions=checks.UNIFORM)
    st.opinion[:] = x
    m.categorize(st)
    m.advance(st, net, 200, False)
    assert np.abs(st.opinion - x).max() <= m.params.tolerance
