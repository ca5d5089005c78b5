"""Friedkin–Johnsen: the kernel against a dense NumPy reference (matrix form), convergence,
categories, seeds, parameters, the registered checks."""

from __future__ import annotations

import numpy as np
import pytest

from steppe.distributions import Uniform
from steppe.engine import Committed, init_state
from steppe.errors import ParameterError
from steppe.models import get_model
from steppe.networks import complete_graph, erdos_renyi
from steppe.networks.base import Network
from steppe.validation import all_checks

from ..conftest import ring

LAM = Uniform(dist="uniform", low=0.1, high=1.0)


def dense_w(net: Network, self_weight: float | None) -> np.ndarray:
    """Row-stochastic W built from the adjacency matrix, independently of the model code."""
    n = net.n
    if net.complete:
        a = np.ones((n, n)) - np.eye(n)
    else:
        a = np.zeros((n, n))
        for i in range(n):
            for e in range(net.indptr[i], net.indptr[i + 1]):
                a[i, net.indices[e]] = 1.0 if getattr(net, "weights", None) is None \
                    else net.weights[e]
    deg = np.full(n, n - 1) if net.complete else np.diff(net.indptr)
    w = np.zeros((n, n))
    for i in range(n):
        r = a[i].sum()
        if r == 0:
            w[i, i] = 1.0
            continue
        s = 1.0 / (deg[i] + 1) if self_weight is None else self_weight
        w[i] = (1 - s) * a[i] / r
        w[i, i] = s
    return w


def fj_step(x, xh, x0, lam, w, committed):
    """x(t+1) = Λ[W_d x + (W − W_d) x̂] + (I − Λ)x(0); committed agents stay."""
    wd = np.diag(w)
    new = lam * (wd * x + (w - np.diag(wd)) @ xh) + (1 - lam) * x0
    return np.where(committed, x, new)


NETS = {
    "complete": lambda: complete_graph(40),
    "ring": lambda: ring(30),
    "er": lambda: erdos_renyi(60, 3.0, seed=2),  # has isolated agents and leaves
}


@pytest.mark.parametrize("net_name", sorted(NETS))
@pytest.mark.parametrize("self_weight", [None, 0.3])
def test_kernel_matches_dense_reference(net_name, self_weight):
    net = NETS[net_name]()
    m = get_model("friedkin_johnsen")(susceptibility=LAM, self_weight=self_weight)
    st = init_state(m, net, committed=Committed(stance="pro", fraction=0.1), seed=3)
    lam = st.aux["susceptibility"]
    assert lam.min() < lam.max()  # heterogeneous
    w = dense_w(net, self_weight)
    assert np.allclose(w.sum(axis=1), 1.0)
    x = st.opinion.copy()
    x0 = x.copy()
    for _ in range(25):
        x = fj_step(x, x, x0, lam, w, st.committed)
        m.advance(st, net, 1, stop_at_consensus=False)
        np.testing.assert_allclose(st.opinion, x, rtol=0, atol=1e-12)
    assert np.array_equal(st.opinion[st.committed], x0[st.committed])


def test_neighbours_are_read_through_seen_and_self_is_private():
    """With a separate expression layer, neighbours count through x̂, the agent itself
    through its private x_i (the documented form of the rule)."""
    net = ring(20)
    m = get_model("friedkin_johnsen")(susceptibility=LAM, self_weight=0.4)
    st = init_state(m, net, seed=5)
    st.separate_expression()
    rng = np.random.default_rng(0)
    st.expressed_opinion[:] = rng.uniform(0, 1, net.n)
    st.see_expressed()
    w = dense_w(net, 0.4)
    x0 = st.aux["initial_opinion"]
    lam = st.aux["susceptibility"]
    for _ in range(5):
        want = fj_step(st.opinion, st.expressed_opinion, x0, lam, w, st.committed)
        # the common wrong variant, the self term read through x̂ too, differs
        wrong = lam * (w @ st.expressed_opinion) + (1 - lam) * x0
        assert np.max(np.abs(want - wrong)) > 1e-3
        m.advance(st, net, 1, stop_at_consensus=False)
        np.testing.assert_allclose(st.opinion, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("net_name", sorted(NETS))
@pytest.mark.parametrize("h", [1.0, 1.0 / 7.0])
def test_one_pass_in_place_equals_two_passes(net_name, h):
    """With the neighbours read through voiced opinions (not ``x``), the kernel writes
    each new opinion in the pass that computes it: the same values, bit for bit, as
    through the buffer, and the same largest change (full steps and fractional ones)."""
    from steppe.models._linear import _fj_kernel

    net = NETS[net_name]()
    m = get_model("friedkin_johnsen")(susceptibility=LAM, self_weight=None)
    st = init_state(m, net, committed=Committed(stance="pro", fraction=0.1), seed=4)
    seen = np.random.default_rng(1).uniform(0, 1, net.n)
    a = st.aux
    complete, indptr, indices = net.kernel_args()
    out = []
    for inplace in (False, True):
        x = st.opinion.copy()
        tail = m._kernel_tail(st, False)  # stop, tolerance, cutoffs, consensus mask, delta
        done = _fj_kernel(x, seen, st.committed, a["initial_opinion"], a["susceptibility"],
                          a["self_weight"], a["neighbour_weight"], complete, indptr, indices,
                          np.empty(net.n), 7, *tail, inplace, h)
        out.append((x, float(tail[-1][0]), done))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    assert out[0][1:] == out[1][1:]
    assert not np.array_equal(out[0][0], st.opinion)


def test_implicit_complete_graph_equals_explicit_one():
    n = 25
    explicit = Network.from_csr(np.arange(0, n * (n - 1) + 1, n - 1),
                                np.concatenate([np.delete(np.arange(n), i) for i in range(n)]))
    m = get_model("friedkin_johnsen")(susceptibility=LAM)
    a = init_state(m, complete_graph(n), seed=9)
    b = init_state(m, explicit, seed=9)
    for _ in range(30):
        m.advance(a, complete_graph(n), 1, False)
        m.advance(b, explicit, 1, False)
        np.testing.assert_allclose(a.opinion, b.opinion, rtol=0, atol=1e-12)


def test_weighted_network_uses_row_normalised_weights():
    if "weights" not in Network.__dataclass_fields__:
        pytest.skip("Network has no weights")
    base = ring(12)
    weights = np.random.default_rng(1).uniform(0.1, 2.0, len(base.indices))
    net = Network.from_csr(base.indptr, base.indices, weights=weights)
    m = get_model("friedkin_johnsen")(susceptibility=LAM)
    st = init_state(m, net, seed=4)
    w = dense_w(net, None)
    assert w[0, 1] != w[0, 11]
    x0 = st.opinion.copy()
    x = x0.copy()
    for _ in range(10):
        x = fj_step(x, x, x0, st.aux["susceptibility"], w, st.committed)
        m.advance(st, net, 1, False)
    np.testing.assert_allclose(st.opinion, x, rtol=0, atol=1e-12)


def test_convergence_freezes_at_the_fixed_point():
    net = erdos_renyi(100, 5.0, seed=1)
    m = get_model("friedkin_johnsen")(susceptibility=LAM, tolerance=1e-11)
    st = init_state(m, net, seed=2)
    assert not m.is_frozen(st, net)
    done = m.advance(st, net, 100_000, stop_at_consensus=True)
    assert done < 100_000 and m.is_frozen(st, net)
    w = dense_w(net, None)
    lam = np.where(st.committed, 0.0, st.aux["susceptibility"])
    xstar = np.linalg.solve(np.eye(net.n) - lam[:, None] * w,
                            (1 - lam) * st.aux["initial_opinion"])
    # contraction factor <= max λ < 1: distance to x* <= tol * λ/(1 − λ)
    lmax = lam.max()
    assert np.max(np.abs(st.opinion - xstar)) < 1e-11 * lmax / (1 - lmax) + 1e-14
    # without stopping, the same run goes on for every step asked
    st2 = init_state(m, net, seed=2)
    assert m.advance(st2, net, 50, stop_at_consensus=False) == 50.0


def test_categories_follow_opinions():
    net = ring(50)
    m = get_model("friedkin_johnsen")(susceptibility=0.6)
    m.set_categories(("no", "maybe", "yes"), (0.4, 0.6))
    st = init_state(m, net, shares={"no": 0.5, "yes": 0.5}, seed=1)
    for _ in range(4):
        m.advance(st, net, 3, False)
        codes = np.searchsorted([0.4, 0.6], st.opinion, side="right")
        assert np.array_equal(st.stance, codes)
        assert np.array_equal(st.counts, np.bincount(codes, minlength=3))


def test_same_seed_same_result_and_seeded_draws():
    net = complete_graph(80)
    m = get_model("friedkin_johnsen")(susceptibility=LAM)
    a, b, c = (init_state(m, net, seed=s) for s in (1, 1, 2))
    for st in (a, b, c):
        m.advance(st, net, 7, False)
    assert np.array_equal(a.opinion, b.opinion)
    assert np.array_equal(a.aux["susceptibility"], b.aux["susceptibility"])
    assert not np.array_equal(a.aux["susceptibility"], c.aux["susceptibility"])


@pytest.mark.parametrize("kwargs", [
    {"susceptibility": 1.5}, {"susceptibility": -0.1}, {"susceptibility": "high"},
    {"susceptibility": {"dist": "nope"}}, {"self_weight": 1.2}, {"self_weight": -1},
    {"tolerance": 0.0}, {"stubbornness": 0.2},
])
def test_bad_parameters(kwargs):
    with pytest.raises(ParameterError, match="friedkin_johnsen"):
        get_model("friedkin_johnsen")(**kwargs)


def test_distribution_parameter_is_accepted():
    m = get_model("friedkin_johnsen")(susceptibility={"dist": "beta", "a": 2, "b": 2})
    st = init_state(m, ring(500), seed=0)
    lam = st.aux["susceptibility"]
    assert 0 <= lam.min() and lam.max() <= 1 and abs(lam.mean() - 0.5) < 0.05


@pytest.mark.parametrize("chk", [c for c in all_checks() if c.model == "friedkin_johnsen"],
                         ids=lambda c: c.name)
def test_registered_checks_pass(chk):
    result = chk.run()
    assert result.passed, (result.measured, result.detail)


def test_weights_from_files_and_libraries(tmp_path):
    """The weights FJ reads arrive aligned with ``indices`` from every loader."""
    import networkx as nx

    from steppe.networks import from_networkx, from_scipy, read_edgelist

    (tmp_path / "e.csv").write_text("source,target,w\n0,1,2\n1,2,0.5\n2,0,1\n0,1,1\n")
    a = read_edgelist(tmp_path / "e.csv", weight="w")  # the repeated 0–1 edge adds up
    dense = np.array([[0, 3, 1], [3, 0, 0.5], [1, 0.5, 0]])
    np.testing.assert_array_equal(a.to_scipy().toarray(), dense)
    b = from_scipy(dense)
    g = nx.Graph()
    g.add_weighted_edges_from([(0, 1, 3.0), (1, 2, 0.5), (2, 0, 1.0)])
    c = from_networkx(g, weight="weight")
    for net in (b, c):
        np.testing.assert_array_equal(net.to_scipy().toarray(), dense)
    m = get_model("friedkin_johnsen")(self_weight=0.0)
    st = init_state(m, a, seed=1)
    np.testing.assert_allclose(st.aux["neighbour_weight"], [0.75, 0.25, 6 / 7, 1 / 7, 2 / 3,
                                                            1 / 3])


def test_negative_weights_are_refused():
    base = ring(6)
    net = Network.from_csr(base.indptr, base.indices,
                           weights=np.r_[-1.0, np.ones(len(base.indices) - 1)])
    with pytest.raises(ParameterError, match="weights"):
        init_state(get_model("friedkin_johnsen")(), net, seed=0)


def test_equilibrium_anchors_start_the_run_at_rest():
    from steppe.networks import erdos_renyi

    g = erdos_renyi(400, 8, seed=1)
    m = get_model("friedkin_johnsen")(susceptibility={"dist": "beta", "a": 2, "b": 3},
                                      anchor="equilibrium")
    st = init_state(m, g, shares={"against": 0.2, "neutral": 0.5, "pro": 0.3}, seed=2)
    x0 = st.opinion.copy()
    m.advance(st, g, sweeps=30, stop_at_consensus=False)
    assert np.max(np.abs(st.opinion - x0)) < 1e-12
    # the anchors solve x = λ(W x) + (1 − λ) u, and some lie outside the opinion range
    u = st.aux["initial_opinion"]
    assert not np.allclose(u, x0)
    # with the published anchors (the initial opinions) the same start is not at rest
    m2 = get_model("friedkin_johnsen")(susceptibility={"dist": "beta", "a": 2, "b": 3})
    st2 = init_state(m2, g, shares={"against": 0.2, "neutral": 0.5, "pro": 0.3}, seed=2)
    m2.advance(st2, g, sweeps=30, stop_at_consensus=False)
    assert np.max(np.abs(st2.opinion - x0)) > 0.05


def test_equilibrium_anchors_include_the_media_in_force_at_the_start():
    """With a media channel pulling from the start, the anchors are solved for the whole
    step (influence, then the pull): the run still starts at rest, and only a change of the
    channel's strength moves opinions."""
    from steppe.engine import Event, simulate
    from steppe.networks import erdos_renyi
    from steppe.pressures.media import MediaChannel

    g = erdos_renyi(300, 6, seed=5)
    m = get_model("friedkin_johnsen")(susceptibility=0.4, anchor="equilibrium")
    st = init_state(m, g, shares={"against": 0.3, "neutral": 0.4, "pro": 0.3}, seed=6)
    tv = MediaChannel(m, name="tv", stance="pro", strength=0.2, exposure=0.5).bind(
        g, np.random.default_rng(0))
    x0 = st.opinion.copy()
    simulate(m, g, st, max_sweeps=20, stop_at_consensus=False, pressures=[tv])
    assert np.max(np.abs(st.opinion - x0)) < 1e-12
    tv2 = MediaChannel(m, name="tv", stance="pro", strength=0.2, exposure=0.5).bind(
        g, np.random.default_rng(0))
    m2 = get_model("friedkin_johnsen")(susceptibility=0.4, anchor="equilibrium")
    st2 = init_state(m2, g, shares={"against": 0.3, "neutral": 0.4, "pro": 0.3}, seed=6)
    simulate(m2, g, st2, max_sweeps=20, stop_at_consensus=False, pressures=[tv2],
             events=[Event(at=5, changes={"media.tv.strength": 0.6})])
    assert st2.opinion.mean() > x0.mean() + 0.01


@pytest.mark.parametrize("present", [None, "some", "none"])
def test_consensus_reads_the_present_agents_range_in_one_pass(present):
    """Consensus by opinions with ``share = 1`` reads the range of the present agents'
    opinions in one parallel pass (no copy), equal to NumPy's over the masked copy."""
    from steppe.models.base import _present_range
    from steppe.state import _EVERYONE, State

    rng = np.random.default_rng(3)
    x = rng.random(50_001)
    mask = {None: _EVERYONE, "some": rng.random(x.size) < 0.3,
            "none": np.zeros(x.size, dtype=bool)}[present]
    n, lo, hi = _present_range(x, mask)
    sub = x if present is None else x[mask]
    assert n == sub.size
    if n:
        assert (lo, hi) == (sub.min(), sub.max())
    model = get_model("friedkin_johnsen")()
    model.set_consensus("opinions", spread=0.5)
    x[:] = 0.8 + 0.1 * rng.random(x.size)
    if present == "some":
        x[~mask] = 0.0  # absent agents' opinions do not count
    st = State(stance=np.zeros(x.size, np.int8), committed=np.zeros(x.size, bool),
               counts=np.zeros(2, np.int64), rng=np.zeros(4, np.uint64), opinion=x,
               present=None if present is None else mask)
    assert model.consensus_stance(st) == (None if present == "none" else
                                          int(np.searchsorted(model.cutoffs, 0.85)))


def test_categories_in_parallel_blocks_match_numpy():
    """Categories and their counts over several parallel blocks (and a partial last one)
    equal NumPy's: the number of cut-offs at or below each opinion, cut-offs included."""
    from steppe.models.base import _BLOCK, _categorize

    rng = np.random.default_rng(4)
    cutoffs = np.array([0.35, 0.65])
    x = rng.random(3 * _BLOCK + 123)
    x[:3] = cutoffs[0], cutoffs[1], 0.0  # on a cut-off: the category above it
    stance = np.empty(x.size, np.int8)
    counts = np.full(3, 99, np.int64)
    _categorize(x, cutoffs, stance, counts)
    want = np.searchsorted(cutoffs, x, side="right")
    np.testing.assert_array_equal(stance, want)
    np.testing.assert_array_equal(counts, np.bincount(want, minlength=3))
