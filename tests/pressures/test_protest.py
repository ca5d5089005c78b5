"""Protest participation as a layer on top of an opinion model (Granovetter 1978)."""

from __future__ import annotations

import numpy as np
import pytest

import steppe
from steppe import load_scenario
from steppe.engine import init_state
from steppe.errors import ParameterError, ScenarioError
from steppe.models import get_model
from steppe.networks import complete_graph
from steppe.pressures import ExpressionLayer
from steppe.pressures.protest import ProtestLayer


def _crowd(thresholds):
    """100 agents all eligible (all hold A), count thresholds as given."""
    model = get_model("voter")()
    net = complete_graph(len(thresholds))
    st = init_state(model, net, shares={"A": 1.0}, seed=1)
    layer = ProtestLayer(model, eligible=["A"], mode="count").bind(net, np.random.default_rng(0))
    layer.threshold = np.asarray(thresholds, dtype=float)
    return layer, st, net


def _settle(layer, st, net, rounds=200):
    for _ in range(rounds):
        layer.update(st, net)
    return int(layer.active.sum())


def test_granovetter_riot_through_the_layer():
    """docs/validation.md entry 5, through the layer: thresholds 0..99 -> all 100 join; the
    agent with threshold 1 changed to 2 -> exactly 1 joins."""
    assert _settle(*_crowd(range(100))) == 100
    assert _settle(*_crowd([0, 2, *range(2, 100)])) == 1


def test_only_those_who_voice_may_protest():
    model = get_model("voter")()
    net = complete_graph(1000)
    st = init_state(model, net, shares={"A": 0.4, "B": 0.6}, seed=2)
    ExpressionLayer(model, penalised=["A"], safe="B", enforcement=5.0).bind(
        net, np.random.default_rng(0)).start(st)
    layer = ProtestLayer(model, eligible=["A"], threshold=0.0).bind(net, np.random.default_rng(1))
    layer.update(st, net)
    assert layer.active.sum() == 0  # everybody holding A hides it
    loose = ProtestLayer(model, eligible=["A"], threshold=0.0, requires_voicing=False).bind(
        net, np.random.default_rng(1))
    loose.update(st, net)
    assert loose.active.sum() == 400


def test_ban_and_instigators():
    model = get_model("voter")()
    net = complete_graph(10_000)
    st = init_state(model, net, shares={"A": 1.0}, seed=3)
    layer = ProtestLayer(model, eligible=["A"], threshold=1.0, instigators=0.05).bind(
        net, np.random.default_rng(4))
    layer.update(st, net)
    # thresholds of 1 (everyone else) are never met: only instigators march; binomial count
    assert abs(layer.active.sum() - 500) < 5 * np.sqrt(10_000 * 0.05 * 0.95)
    layer.permitted = 0.0
    layer.update(st, net)
    assert layer.active.sum() == 0


def test_participation_in_a_run():
    scen = {
        "name": "p", "seed": 1, "runs": 2,
        "network": {"kind": "sbm", "sizes": [600, 400],
                    "probabilities": [[0.02, 0.005], [0.005, 0.02]]},
        "model": {"name": "voter"},
        "initial": {"shares": {"A": 0.6, "B": 0.4}},
        "protest": {"eligible": ["A"], "threshold": 0.2, "instigators": 0.05},
        "events": [{"at": 4, "set": {"protest.permitted": 0}}],
        "stop": {"max_sweeps": 6},
    }
    res = steppe.run(scen)
    p = res.participation
    assert set(p["by"]) == {"all", "group"}
    whole = p[p["by"] == "all"].set_index(["run", "time"])["count"]
    parts = p[p["by"] == "group"].groupby(["run", "time"], observed=True)["count"].sum()
    assert (whole.sort_index() == parts.sort_index()).all()
    assert (p[(p["by"] == "all") & (p["time"] <= 4)]["count"] > 0).all()
    assert (p[(p["by"] == "all") & (p["time"] > 4)]["count"] == 0).all()


def test_bad_protest_tables():
    model = get_model("voter")()
    with pytest.raises(ParameterError, match=r"protest\.eligible"):
        ProtestLayer(model, eligible=["C"])
    scen = {"name": "x", "seed": 1, "network": {"kind": "complete", "n": 10},
            "model": {"name": "voter"}, "stop": {"max_sweeps": 1},
            "protest": {"eligible": ["Z"]}}
    with pytest.raises(ScenarioError, match=r"protest\.eligible"):
        load_scenario(scen)


@pytest.mark.parametrize("mode", ["fraction", "count"])
@pytest.mark.parametrize("flows", [False, True])
def test_round_matches_a_numpy_reference(mode, flows):
    """One round of the parallel kernel against NumPy: eligible (stance, voicing it,
    present), instigators, and the share or number of neighbours who protested before, over
    a random network with absent agents."""
    from steppe.networks import erdos_renyi

    rng = np.random.default_rng(5)
    model = get_model("voter")()
    net = erdos_renyi(20_000, 8, seed=5)
    st = init_state(model, net, shares={"A": 0.5, "B": 0.5}, seed=6)
    st.separate_expression(2)
    st.expressed[:] = np.where(rng.random(net.n) < 0.8, st.stance, 1 - st.stance)
    if flows:
        st.present = rng.random(net.n) < 0.9
    layer = ProtestLayer(model, eligible=["A"], mode=mode, instigators=0.02,
                         threshold=0.3 if mode == "fraction" else 2.0).bind(
        net, np.random.default_rng(7))
    old = rng.random(net.n) < 0.3
    layer.active = old.copy()
    layer.update(st, net)
    deg = np.diff(net.indptr)
    hits = np.add.reduceat(old[net.indices].astype(int), net.indptr[:-1])
    hits[deg == 0] = 0
    level = np.where(deg > 0, hits / np.maximum(deg, 1), 0.0) if mode == "fraction" else hits
    ok = layer.eligible(st)
    want = ok & (layer.instigator | (level >= layer.threshold))
    np.testing.assert_array_equal(layer.active, want)
    assert 0 < want.sum() < ok.sum()
