"""The answer model: each agent voices the answer of highest utility (or a logit choice).

Tested against a NumPy reference of the rule written from the module docstring (utilities
per agent and answer, then the best answer with its tie order, or the inverse-CDF pick of
the logit probabilities from the same uniforms); the earlier rule as the exact limit case;
the logit frequencies against their probabilities; rewards, refusals, sanctions by event,
and age bands."""

from __future__ import annotations

import numpy as np
import pytest

import steppe
from steppe.distributions import Uniform
from steppe.engine import init_state
from steppe.errors import ParameterError
from steppe.models import get_model
from steppe.networks import complete_graph
from steppe.pressures import ExpressionLayer
from steppe.pressures.expression import DONT_KNOW, _pass, answer_probabilities, express_once

from ..conftest import ring


def reference_utilities(stance, old, sanction, conviction, visibility, dk, weight,
                        scope_all, net, n_answers):
    """U[i, a] of the module docstring, by brute force over the neighbour lists."""
    n, k = len(stance), len(sanction)
    u = np.zeros((n, n_answers))
    for i in range(n):
        nbrs = (np.delete(np.arange(n), i) if net.complete
                else net.indices[net.indptr[i]:net.indptr[i + 1]])
        for a in range(k):
            share = np.mean(old[nbrs] == a) if len(nbrs) else 0.0
            own = a == stance[i]
            u[i, a] = (conviction[i] * own + weight * share * (own or scope_all)
                       - visibility[i] * sanction[a])
        if n_answers > k:
            u[i, k] = dk[i]
    return u


def reference_choice(u, stance, safe, temperature, uniform):
    """The best answer (own stance, then safe, then the lowest code on ties), or the
    inverse-CDF pick of the logit probabilities."""
    out = np.empty(len(u), dtype=np.int64)
    for i in range(len(u)):
        if temperature == 0:
            order = [stance[i], *([safe] if safe >= 0 else []), *range(u.shape[1])]
            out[i] = max(order, key=lambda a, i=i: (u[i, a], -order.index(a)))
        else:
            p = answer_probabilities(u[i], temperature)[0]
            out[i] = min(np.searchsorted(np.cumsum(p), uniform[i] * p.sum(), side="right"),
                         len(p) - 1)
    return out


def _net(kind, n):
    return complete_graph(n) if kind == "complete" else ring(n)


@pytest.mark.parametrize("kind", ["complete", "ring"])
@pytest.mark.parametrize("scope_all", [False, True])
@pytest.mark.parametrize("with_dk", [False, True])
@pytest.mark.parametrize("temperature", [0.0, 0.3])
def test_kernel_matches_the_numpy_reference(kind, scope_all, with_dk, temperature):
    gen = np.random.default_rng(11)
    n, k = 300, 3
    net = _net(kind, n)
    a = k + int(with_dk)
    stance = gen.integers(0, k, n).astype(np.int8)
    old = gen.integers(0, a, n).astype(np.int8)
    sanction = np.array([0.8, 0.0, -0.3])
    conviction = gen.uniform(0, 1, n)
    visibility = gen.uniform(0.2, 1, n)
    dk = gen.normal(0.1, 0.2, n) if with_dk else np.zeros(0)
    uniform = gen.random(n) if temperature > 0 else np.zeros(0)
    got = _pass(stance, np.zeros(n, bool), old, sanction, a, with_dk, conviction, visibility,
                dk, 0.7, scope_all, temperature, uniform, 1, net, False)
    u = reference_utilities(stance, old, sanction, conviction, visibility, dk, 0.7,
                            scope_all, net, a)
    want = reference_choice(u, stance, 1, temperature, uniform)
    if temperature > 0:  # exp in Numba and NumPy may differ in the last bit: skip the edges
        p = answer_probabilities(u, temperature)
        cdf = np.cumsum(p, axis=1)
        edge = np.any(np.abs(cdf - uniform[:, None]) < 1e-9, axis=1)
        assert edge.sum() < 3
        np.testing.assert_array_equal(got[~edge], want[~edge])
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kind", ["complete", "ring"])
def test_the_earlier_rule_is_the_limit_case(kind):
    """penalised + enforcement + safe (the earlier form) and the same rule written as a
    sanction table, reputation "own", no refusal, temperature 0, give identical answers; and
    both agree with the earlier rule's formula, agent by agent."""
    gen = np.random.default_rng(5)
    n = 400
    net = _net(kind, n)
    stance = gen.integers(0, 3, n).astype(np.int8)
    old = gen.integers(0, 3, n).astype(np.int8)
    conv, vis = gen.uniform(0, 1, n), gen.uniform(0.2, 1, n)
    old_form = express_once(stance, np.zeros(n, bool), old, np.array([0, 0, 1], np.uint8), 1,
                            1.2, 1.0, conv, vis, net, 3)
    # the earlier formula: a holder of stance 2 voices it iff 1.2 v <= c + support
    support = np.array([np.mean(old[net.indices[net.indptr[i]:net.indptr[i + 1]]] == 2)
                        if not net.complete else
                        (np.count_nonzero(old == 2) - (old[i] == 2)) / (n - 1)
                        for i in range(n)])
    expect = np.where((stance == 2) & (1.2 * vis > conv + support), 1, stance)
    np.testing.assert_array_equal(old_form, expect)

    scen = {"name": "lim", "seed": 3, "network": {"kind": "complete", "n": 300},
            "model": {"name": "qvoter", "q": 2, "p": 0.1},
            "initial": {"shares": {"A": 0.4, "B": 0.6}}, "stop": {"max_sweeps": 6},
            "expression": {"penalised": ["A"], "safe": "B", "enforcement": 0.9,
                           "conviction": {"dist": "uniform", "low": 0, "high": 1}}}
    new = dict(scen, expression={"sanction": {"A": 0.9}, "safe": "B",
                                 "conviction": {"dist": "uniform", "low": 0, "high": 1},
                                 "reputation": "own", "temperature": 0.0})
    a, b = steppe.run(scen), steppe.run(new)
    assert a.series.equals(b.series)


def test_logit_frequencies_match_their_probabilities():
    """Temperature 0.5, complete graph, everyone voicing "B" before: each holder of "A" has
    the same utilities, so the share voicing each answer is a binomial proportion around
    its logit probability (tolerance 4 standard errors)."""
    n = 20_000
    model = get_model("qvoter")()
    net = complete_graph(n)
    layer = ExpressionLayer(model, sanction={"A": 1.0}, safe="B", conviction=0.6,
                            visibility=1.0, dont_know=0.1, temperature=0.5,
                            start="open").bind(net, np.random.default_rng(1))
    st = init_state(model, net, shares={"A": 1.0}, seed=2)
    st.separate_expression(3)
    st.expressed[:] = 1  # everyone heard voicing B
    layer._finish(st)
    layer.update(st, net)
    # U(A) = 0.6 - 1.0 (nobody else voices A), U(B) = 0, U(dont_know) = 0.1
    p = answer_probabilities(np.array([[-0.4, 0.0, 0.1]]), 0.5)[0]
    share = st.expressed_counts / n
    se = np.sqrt(p * (1 - p) / n)
    assert np.all(np.abs(share - p) < 4 * se), (share, p)


def test_a_hider_may_voice_the_rewarded_view_or_refuse():
    model = get_model("qvoter")()
    net = complete_graph(500)
    st = init_state(model, net, shares={"A": 0.3, "B": 0.7}, seed=1)
    # "A" sanctioned, "B" rewarded: A-holders (conviction 0.5) voice B
    layer = ExpressionLayer(model, sanction={"A": 2.0, "B": -0.5}, safe="B", conviction=0.5,
                            dont_know=0.2).bind(net, np.random.default_rng(0))
    layer.start(st)
    assert st.expressed_counts.tolist() == [0, 500, 0]
    # no reward: refusing (0.2) beats voicing B (0)
    layer.sanction[1] = 0.0
    layer.update(st, net)
    assert st.expressed_counts.tolist() == [0, 350, 150]
    assert st.heard_counts.tolist() == [0, 500]  # a refusal is heard as the safe stance
    assert st.counts.tolist() == [150, 350]      # private views untouched


def test_sanctions_change_by_event_and_refusals_reach_the_outputs():
    scen = {"name": "dk", "seed": 4, "runs": 2, "network": {"kind": "complete", "n": 400},
            "model": {"name": "voter"}, "initial": {"shares": {"A": 0.3, "B": 0.7}},
            "stop": {"max_sweeps": 6, "at_consensus": False},
            "expression": {"sanction": {"A": 0.0}, "safe": "B", "conviction": 0.5,
                           "dont_know": 0.1, "start": "open"},
            "events": [{"at": 3, "set": {"expression.sanction.A": 2.0}}],
            "polls": [{"at": 6, "n": 200}]}
    res = steppe.run(scen)
    s = res.series[(res.series.by == "all")]
    assert list(s.stance.cat.categories) == ["A", "B", DONT_KNOW]
    dk = s[s.stance == DONT_KNOW]
    assert (dk["count"] == 0).all()  # nobody holds "don't know"
    before = dk[dk.step < 3]["expressed_count"]
    after = dk[dk.step > 3]["expressed_count"]
    assert (before == 0).all() and (after > 0).all()
    assert DONT_KNOW in set(res.polls["stance"])
    assert "final_expressed_share_dont_know" in res.summary.columns
    # shares of all answers sum to 1
    last = s[s.step == 6].groupby("run", observed=True)["expressed_share"].sum()
    np.testing.assert_allclose(last.to_numpy(), 1.0)


def test_age_bands_scale_conviction():
    scen = {"name": "age", "seed": 2,
            "population": {"total": 2000, "groups": {"x": 1.0},
                           "ages": {"young": 0.5, "old": 0.5}},
            "network": {"kind": "homophily", "mean_degree": 8},
            "model": {"name": "voter"}, "initial": {"shares": {"A": 0.5, "B": 0.5}},
            "stop": {"max_sweeps": 1, "at_consensus": False},
            "expression": {"penalised": ["A"], "safe": "B", "enforcement": 1.0,
                           "conviction": 0.8, "visibility": 1.0, "start": "open",
                           "conviction_by_age": {"old": 2.0}}}
    res = steppe.run(scen)
    s = res.series[(res.series.by == "age") & (res.series.step == 0) &
                   (res.series.stance == "A")]
    s = s.assign(level=s.level.astype(str)).set_index("level")
    # the old (conviction 1.6 >= 1) voice A whatever; the young need support
    assert s.loc["old", "expressed_count"] == s.loc["old", "count"]
    assert s.loc["young", "expressed_count"] < s.loc["young", "count"]


@pytest.mark.parametrize(("kw", "field"), [
    ({"sanction": {"A": 1.0}, "penalised": ["A"], "safe": "B", "enforcement": 1.0},
     "expression.sanction.A"),
    ({"penalised": ["A"]}, "expression.safe"),
    ({"sanction": {"A": 1.0}}, "expression.safe"),          # hidden start needs safe
    ({"dont_know": 0.1, "start": "open"}, "expression.heard_as"),
    ({"sanction": {"A": 1.0}, "safe": "B", "temperature": -1}, "expression.temperature"),
    ({"sanction": {"A": float("inf")}, "safe": "B"}, "expression.sanction.A"),
    ({"safe": "B"}, "expression.penalised"),                 # nothing would ever differ
])
def test_bad_answer_models_name_their_field(kw, field):
    with pytest.raises(ParameterError) as err:
        ExpressionLayer(get_model("voter")(), conviction=Uniform(dist="uniform", low=0,
                                                                  high=1), **kw)
    assert err.value.field == field


@pytest.mark.parametrize("temperature", [0.0, 0.5])
def test_only_the_revising_share_reconsiders(temperature):
    """``revise = r``: exactly the agents whose uniform is below r reconsider, each drawing
    its logit answer from that uniform divided by r (so a reviser answers as it would with
    ``revise = 1`` and the uniform u / r); everyone else keeps the answer it gave. The
    uniforms are the layer's own draws (a copy of its generator), so the test is exact."""
    import copy

    n, r = 5_000, 0.3
    model = get_model("qvoter")()
    net = ring(n)
    layer = ExpressionLayer(model, sanction={"A": 1.0}, safe="B", conviction=0.6,
                            visibility=1.0, dont_know=0.1, temperature=temperature,
                            start="open", revise=r).bind(net, np.random.default_rng(1))
    st = init_state(model, net, shares={"A": 0.6, "B": 0.4}, seed=2)
    st.separate_expression(3)
    st.expressed[:] = st.stance  # everyone voices what it holds
    layer._finish(st)
    before = st.expressed.copy()
    u = copy.deepcopy(layer.gen).random(n)
    layer.update(st, net)
    keep = u >= r
    np.testing.assert_array_equal(st.expressed[keep], before[keep])
    want = _pass(st.stance, st.committed, before, layer._sanctions(), 3, True,
                 layer.conviction, layer.visibility, layer.dk_utility, layer.support_weight,
                 False, temperature, u / r if temperature > 0 else np.zeros(0), layer.safe,
                 net, False)
    np.testing.assert_array_equal(st.expressed[~keep], want[~keep])
    # the A-holders who reconsider hide (1.0 sanction against 0.6 conviction + support)
    changed = st.expressed != before
    assert changed.any() and not changed[keep].any()
    assert st.expressed_counts.sum() == n


def test_revise_one_draws_as_before_and_bad_shares_are_refused():
    """``revise = 1`` (the default) is the rule as it was: the same draws, the same
    answers; a share outside (0, 1] is refused with the field named."""
    model = get_model("qvoter")()
    net = ring(400)
    out = []
    for kw in ({}, {"revise": 1.0}):
        layer = ExpressionLayer(model, sanction={"A": 1.0}, safe="B", conviction=0.6,
                                dont_know=0.1, temperature=0.5, start="open",
                                **kw).bind(net, np.random.default_rng(1))
        st = init_state(model, net, shares={"A": 0.5, "B": 0.5}, seed=2)
        layer.start(st)
        layer.update(st, net)
        out.append(st.expressed.copy())
    np.testing.assert_array_equal(out[0], out[1])
    for bad in (0.0, 1.5, -0.1, float("nan"), True):
        with pytest.raises(ParameterError) as exc:
            ExpressionLayer(model, sanction={"A": 1.0}, safe="B", revise=bad)
        assert exc.value.field == "expression.revise"
