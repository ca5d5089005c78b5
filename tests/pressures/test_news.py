"""News shocks: who is reached (by group and age band), how far they move, what lasts, and
the scenario's [[news]] table. Statistical tolerances are binomial standard errors."""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pytest

import steppe
from steppe import load_scenario
from steppe.distributions import Uniform
from steppe.engine import Committed, init_state, simulate
from steppe.errors import ScenarioError
from steppe.models import get_model
from steppe.networks import complete_graph, erdos_renyi, stochastic_block_model
from steppe.pressures.base import World
from steppe.pressures.news import NewsShock


def _shock(model, net, seed=0, **kw):
    args = dict(name="n", at=0, toward=model.stances[0])
    args.update(kw)
    return NewsShock(model, **args).bind(net, np.random.default_rng(seed))


def test_discrete_share_moved_is_reach_times_amount():
    """Each uncommitted agent not already holding the stance switches with probability
    reach x amount: a binomial count, tolerance 5 standard errors."""
    n = 200_000
    model = get_model("voter")()
    net = complete_graph(n)
    st = init_state(model, net, shares={"B": 1.0}, committed=Committed("B", fraction=0.1),
                    seed=1)
    shock = _shock(model, net, reach=0.6, amount=0.5)
    shock.due(st, World(net))
    free = n - int(st.committed.sum())
    p = 0.3
    assert abs(st.counts[0] - free * p) < 5 * np.sqrt(free * p * (1 - p))
    assert not np.any(st.stance[st.committed] == 0)  # the committed never move
    assert np.array_equal(st.counts, np.bincount(st.stance, minlength=2))
    assert shock.moved == st.counts[0]
    assert abs(shock.reached - free * 0.6) < 5 * np.sqrt(free * 0.6 * 0.4)


def test_reach_by_group_and_age_band():
    net = stochastic_block_model([4000, 4000], probabilities=[[0.001, 0.0], [0.0, 0.001]],
                                 seed=1)
    ages = np.tile([0, 1], 4000)
    net = __import__("dataclasses").replace(net, attributes={"age": (ages, ("young", "old"))})
    model = get_model("voter")()
    st = init_state(model, net, shares={"B": 1.0}, seed=2)
    shock = _shock(model, net, reach=0.0, reach_by_group={1: 0.5}, reach_by_age={1: 2.0})
    shock.due(st, World(net))
    moved = st.stance == 0
    assert not moved[net.groups == 0].any()          # group 0: reach 0
    assert moved[(net.groups == 1) & (ages == 1)].all()  # 0.5 x 2 = 1 (capped)
    young = moved[(net.groups == 1) & (ages == 0)]
    assert abs(young.mean() - 0.5) < 5 * np.sqrt(0.25 / young.size)


def test_continuous_move_is_exact_and_only_once():
    model = get_model("deffuant")()
    net = complete_graph(1000)
    st = init_state(model, net, opinions=Uniform(dist="uniform", low=0, high=1), seed=4)
    before = st.opinion.copy()
    shock = _shock(model, net, at=0, toward="against", reach=1.0, amount=0.25)
    world = World(net)
    shock.due(st, world)
    target = model.representative(0)
    assert np.allclose(st.opinion, before + 0.25 * (target - before), atol=1e-15)
    assert np.array_equal(st.counts, np.bincount(st.stance, minlength=3))
    after = st.opinion.copy()
    shock.due(st, world)  # once only
    assert np.array_equal(st.opinion, after) and shock.next_time(0.0) == np.inf


@pytest.mark.parametrize("lasting", [True, False])
def test_a_lasting_shift_moves_the_rest_state(lasting):
    """Friedkin–Johnsen at rest (x0): a lasting shock Δ moves the anchors with the
    opinions, so the run ends at the new rest state x0 + (I − ΛW)⁻¹ (I − Λ) Δ (solved
    directly); a passing one is pulled back to x0."""
    from steppe.models._linear import influence_matrix

    model = get_model("friedkin_johnsen")(susceptibility=0.5, anchor="equilibrium")
    net = erdos_renyi(300, 8, seed=3)
    st = init_state(model, net, shares={"against": 0.3, "neutral": 0.4, "pro": 0.3}, seed=5)
    x0 = st.opinion.copy()
    shock = _shock(model, net, at=2, toward="pro", reach=1.0, amount=0.5, lasting=lasting)
    simulate(model, net, st, max_sweeps=300, stop_at_consensus=False, pressures=[shock])
    if not lasting:
        assert np.max(np.abs(st.opinion - x0)) < 1e-9
        return
    delta = 0.5 * (model.representative(2) - x0)
    lam = st.aux["susceptibility"]
    w = influence_matrix(net, st.aux["self_weight"], st.aux["neighbour_weight"]).toarray()
    want = x0 + np.linalg.solve(np.eye(net.n) - lam[:, None] * w, (1 - lam) * delta)
    assert np.max(np.abs(st.opinion - want)) < 1e-9


BASE = {
    "name": "news", "seed": 3, "runs": 2,
    "network": {"kind": "erdos_renyi", "n": 2000, "mean_degree": 8},
    "model": {"name": "qvoter", "q": 3, "p": 0.05},
    "initial": {"shares": {"A": 0.3, "B": 0.7}},
    "time": {"start": "2022-03-01", "end": "2022-06-01", "step": "week"},
    "stop": {"at_consensus": False},
    "news": [{"name": "bucha", "at": "2022-04-03", "toward": "B", "reach": 0.5,
              "amount": 0.6, "note": "Bucha revelations"}],
}


def test_scenario_news_table_and_its_own_random_stream():
    res = steppe.run(BASE)
    news = res.tables["news"]
    assert list(news.columns) == ["run", "step", "time", "date", "reached_bucha",
                                  "moved_bucha"]
    # 3 April falls in the weekly step starting 29 March: the shock acts at its start
    before = news[news["date"] < np.datetime64("2022-03-29")]
    after = news[news["date"] >= np.datetime64("2022-03-29")]
    assert (before["reached_bucha"] == 0).all() and (after["reached_bucha"] > 700).all()
    # a shock that reaches nobody leaves every other draw alone: the run is the same, bit
    # for bit, as without it
    silent = copy.deepcopy(BASE)
    silent["news"][0]["reach"] = 0.0
    none = {k: v for k, v in BASE.items() if k != "news"}
    a, b = steppe.run(silent), steppe.run(none)
    assert a.series.equals(b.series)


@pytest.mark.parametrize(("change", "field"), [
    ({"toward": "C"}, "news.0.toward"),
    ({"at": dt.date(2021, 1, 1)}, "news.0.at"),
    ({"reach": 1.5}, "news.0.reach"),
    ({"opinion": 0.4}, "news.0.opinion"),
    ({"reach_by_age": {"old": 1.0}}, "news.0.reach_by_age"),
])
def test_bad_news_names_its_field(change, field):
    data = copy.deepcopy(BASE)
    data["news"][0].update(change)
    with pytest.raises(ScenarioError) as err:
        load_scenario(data)
    assert field in str(err.value)
