"""EPO (Ye et al. 2019): the kernel against a dense NumPy reference (matrix form), the
reduction to Friedkin–Johnsen at φ ≡ 1, expressed arrays and categories, convergence, seeds,
parameters, the registered checks."""

from __future__ import annotations

import numpy as np
import pytest

from steppe.distributions import Uniform
from steppe.engine import Committed, init_state
from steppe.errors import ParameterError
from steppe.models import get_model
from steppe.networks import complete_graph, erdos_renyi
from steppe.validation import all_checks

from ..conftest import ring
from .test_friedkin_johnsen import dense_w

LAM = Uniform(dist="uniform", low=0.1, high=1.0)
PHI = Uniform(dist="uniform", low=0.0, high=1.0)


def epo_step(x, xh, x0, lam, phi, w, committed):
    """x(t+1) = Λ[W_d x(t) + (W − W_d) x̂(t)] + (I − Λ)x(0);
    x̂(t+1) = Φ x(t+1) + (I − Φ) W x̂(t); committed agents: x stays, x̂ = x."""
    wd = np.diag(w)
    new = lam * (wd * x + (w - np.diag(wd)) @ xh) + (1 - lam) * x0
    new = np.where(committed, x, new)
    newh = phi * new + (1 - phi) * (w @ xh)
    return new, np.where(committed, new, newh)


NETS = {
    "complete": lambda: complete_graph(40),
    "ring": lambda: ring(30),
    "er": lambda: erdos_renyi(60, 3.0, seed=2),
}


@pytest.mark.parametrize("net_name", sorted(NETS))
@pytest.mark.parametrize("self_weight", [None, 0.3])
def test_kernel_matches_dense_reference(net_name, self_weight):
    net = NETS[net_name]()
    m = get_model("epo")(susceptibility=LAM, resilience=PHI, self_weight=self_weight)
    st = init_state(m, net, committed=Committed(stance="pro", fraction=0.1), seed=3)
    lam, phi = st.aux["susceptibility"], st.aux["resilience"]
    assert lam.min() < lam.max() and phi.min() < phi.max()
    w = dense_w(net, self_weight)
    x0 = st.opinion.copy()
    x, xh = x0.copy(), x0.copy()
    np.testing.assert_array_equal(st.expressed_opinion, x0)  # x̂(0) = x(0)
    for _ in range(25):
        x, xh = epo_step(x, xh, x0, lam, phi, w, st.committed)
        m.advance(st, net, 1, stop_at_consensus=False)
        np.testing.assert_allclose(st.opinion, x, rtol=0, atol=1e-12)
        np.testing.assert_allclose(st.expressed_opinion, xh, rtol=0, atol=1e-12)
    assert np.array_equal(st.opinion[st.committed], x0[st.committed])
    assert np.array_equal(st.expressed_opinion[st.committed], x0[st.committed])


def test_wrong_variants_differ_from_reference():
    """The reference is sensitive to the common slips: local public opinion without the
    self term, or with the new instead of the previous expressed opinions."""
    net = ring(30)
    m = get_model("epo")(susceptibility=LAM, resilience=PHI)
    st = init_state(m, net, seed=8)
    w = dense_w(net, None)
    x0 = st.opinion
    lam, phi = st.aux["susceptibility"], st.aux["resilience"]
    x, xh = epo_step(x0, x0, x0, lam, phi, w, st.committed)
    x, xh = epo_step(x, xh, x0, lam, phi, w, st.committed)
    x2, xh2 = epo_step(x, xh, x0, lam, phi, w, st.committed)
    off = w - np.diag(np.diag(w))
    no_self = phi * x2 + (1 - phi) * (off @ xh) / off.sum(axis=1)
    assert np.max(np.abs(no_self - xh2)) > 1e-3
    m.advance(st, net, 3, False)
    np.testing.assert_allclose(st.expressed_opinion, xh2, rtol=0, atol=1e-12)


@pytest.mark.parametrize("net_name", ["complete", "er"])
def test_resilience_one_is_friedkin_johnsen(net_name):
    net = NETS[net_name]()
    epo = get_model("epo")(susceptibility=LAM, resilience=1.0)
    fj = get_model("friedkin_johnsen")(susceptibility=LAM)
    committed = Committed(stance="against", fraction=0.1)
    a = init_state(epo, net, committed=committed, seed=6)
    b = init_state(fj, net, committed=committed, seed=6)
    np.testing.assert_array_equal(a.aux["susceptibility"], b.aux["susceptibility"])
    for _ in range(40):
        epo.advance(a, net, 1, False)
        fj.advance(b, net, 1, False)
        np.testing.assert_allclose(a.opinion, b.opinion, rtol=0, atol=1e-12)
        np.testing.assert_allclose(a.expressed_opinion, a.opinion, rtol=0, atol=1e-12)


def test_own_expression_arrays():
    net = ring(40)
    m = get_model("epo")()
    assert type(m).own_expression is True
    st = init_state(m, net, seed=1)
    assert st.expressed_opinion is not st.opinion
    assert st.seen_opinion is st.expressed_opinion
    assert st.expressed is not st.stance and st.seen is st.expressed
    m.advance(st, net, 5, False)
    assert st.seen_opinion is st.expressed_opinion


def test_categories_follow_private_and_expressed_opinions():
    net = erdos_renyi(80, 4.0, seed=3)
    m = get_model("epo")(susceptibility=0.9, resilience=0.2)
    m.set_categories(("no", "maybe", "yes"), (0.45, 0.55))
    st = init_state(m, net, shares={"no": 0.5, "yes": 0.5}, seed=2)
    for _ in range(5):
        m.advance(st, net, 2, False)
        for op, codes, counts in ((st.opinion, st.stance, st.counts),
                                  (st.expressed_opinion, st.expressed, st.expressed_counts)):
            want = np.searchsorted([0.45, 0.55], op, side="right")
            assert np.array_equal(codes, want)
            assert np.array_equal(counts, np.bincount(want, minlength=3))
    assert not np.array_equal(st.stance, st.expressed)  # a discrepancy shows


def test_convergence_freezes():
    net = erdos_renyi(100, 5.0, seed=1)
    m = get_model("epo")(susceptibility=LAM, resilience=PHI, tolerance=1e-11)
    st = init_state(m, net, seed=2)
    assert not m.is_frozen(st, net)
    done = m.advance(st, net, 100_000, stop_at_consensus=True)
    assert done < 100_000 and m.is_frozen(st, net)
    before = (st.opinion.copy(), st.expressed_opinion.copy())
    m.advance(st, net, 1, False)
    assert np.max(np.abs(st.opinion - before[0])) < 1e-11
    assert np.max(np.abs(st.expressed_opinion - before[1])) < 1e-11


@pytest.mark.parametrize("seed", range(5))
def test_expressed_range_inside_private_range(seed):
    """Derived from the fixed point (and stated by Ye et al. 2019): with every φ_i > 0,
    min x* <= min x̂* and max x̂* <= max x*."""
    net = erdos_renyi(120, 4.0, seed=seed)
    m = get_model("epo")(susceptibility=LAM, resilience=Uniform(dist="uniform", low=0.05,
                                                                   high=1.0))
    st = init_state(m, net, seed=seed)
    m.advance(st, net, 100_000, True)
    assert m.is_frozen(st, net)
    x, xh = st.opinion, st.expressed_opinion
    assert xh.max() <= x.max() + 1e-9 and xh.min() >= x.min() - 1e-9


def test_same_seed_same_result():
    net = complete_graph(80)
    m = get_model("epo")(susceptibility=LAM, resilience=PHI)
    a, b, c = (init_state(m, net, seed=s) for s in (1, 1, 2))
    for st in (a, b, c):
        m.advance(st, net, 7, False)
    assert np.array_equal(a.opinion, b.opinion)
    assert np.array_equal(a.expressed_opinion, b.expressed_opinion)
    assert not np.array_equal(a.aux["resilience"], c.aux["resilience"])


@pytest.mark.parametrize("kwargs", [
    {"resilience": 1.5}, {"resilience": -0.1}, {"resilience": "low"},
    {"resilience": {"dist": "uniform", "low": 1, "high": 0}},
    {"susceptibility": 2}, {"self_weight": 2}, {"tolerance": -1}, {"phi": 0.5},
])
def test_bad_parameters(kwargs):
    with pytest.raises(ParameterError, match="epo"):
        get_model("epo")(**kwargs)


@pytest.mark.parametrize("chk", [c for c in all_checks() if c.model == "epo"],
                         ids=lambda c: c.name)
def test_registered_checks_pass(chk):
    result = chk.run()
    assert result.passed, (result.measured, result.detail)
