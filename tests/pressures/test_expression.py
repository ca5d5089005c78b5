"""Preference falsification: the expression layer (Kuran 1995).

Tested: zero enforcement changes nothing for any model (bit for bit); prohibitive enforcement
silences the penalised stance without touching private stances; lifting enforcement reveals
hidden support in the cascade the mean-field recursion predicts; support lowers the cost as
declared; per-group convictions; the two equilibria of the hidden and open starts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

import steppe
from steppe.distributions import Uniform
from steppe.engine import Committed, init_state, simulate
from steppe.errors import ParameterError
from steppe.models import available_models, get_model
from steppe.networks import complete_graph, star
from steppe.pressures import ExpressionLayer

from ..conftest import ring

DISCRETE = [n for n, c in available_models().items() if not getattr(c, "own_expression", False)]


def _layer(model, net, **kw):
    defaults = dict(penalised=[model.stances[0]], safe=model.stances[1], enforcement=0.0,
                    conviction=Uniform(dist="uniform", low=0, high=1), visibility=1.0)
    defaults.update(kw)
    gen = defaults.pop("gen", np.random.default_rng(7))
    return ExpressionLayer(model, **defaults).bind(net, gen)


@pytest.mark.parametrize("name", DISCRETE)
@pytest.mark.parametrize("net", [complete_graph(80), ring(80)], ids=["complete", "ring"])
def test_zero_enforcement_changes_nothing(name, net):
    """With enforcement zero, expressed equals private everywhere and the run is identical,
    bit for bit, to a run without the layer (so every published result still holds)."""
    model = get_model(name)()
    shares = {model.stances[0]: 0.4, model.stances[1]: 0.6}
    committed = Committed(stance=model.stances[0], fraction=0.1)
    plain = init_state(model, net, shares=shares, committed=committed, seed=3)
    t_plain = simulate(model, net, plain, max_sweeps=12, stop_at_consensus=False)
    model2 = get_model(name)()
    layered = init_state(model2, net, shares=shares, committed=committed, seed=3)
    t_layer = simulate(model2, net, layered, max_sweeps=12, stop_at_consensus=False,
                       pressures=[_layer(model2, net)])
    assert np.array_equal(plain.stance, layered.stance)
    assert np.array_equal(t_plain.counts, t_layer.counts)
    assert np.array_equal(t_layer.counts, t_layer.expressed_counts)
    assert np.array_equal(layered.expressed, layered.stance)


def test_prohibitive_enforcement_silences_without_touching_private():
    model = get_model("voter")()
    net = complete_graph(2000)
    st = init_state(model, net, shares={"A": 0.3, "B": 0.7}, seed=1)
    # cost 5 > conviction (<= 1) + full support (1): nobody can afford to voice A
    layer = _layer(model, net, enforcement=5.0)
    traj = simulate(model, net, st, max_sweeps=1, stop_at_consensus=False, pressures=[layer])
    assert traj.counts[0, 0] == 600          # private shares untouched at the start
    assert traj.expressed_counts[0, 0] == 0  # nobody voices A
    assert traj.expressed_counts[-1, 0] == 0
    # after one sweep of voter dynamics agents copy what they hear: B only
    assert traj.counts[-1, 0] < 600


def _holders_voicing(layer, st, steps):
    holders = st.stance == 0
    out = []
    for _ in range(steps):
        layer.update(st, layer.network)
        out.append(np.mean(st.expressed[holders] == 0))
    return np.array(out)


@pytest.mark.parametrize(("share", "enforcement"), [(0.3, 0.8), (0.6, 0.5)])
def test_lifting_enforcement_cascade_matches_mean_field(share, enforcement):
    """Conviction ~ U(0,1), visibility 1, support weight 1, complete graph. Among holders of
    the penalised stance the share voicing it follows x' = P(c >= E - share*x)
    = min(1, 1 - E + share*x): a partial revelation for (0.3, 0.8) -> 0.2/0.7, a full
    cascade for (0.6, 0.5). Tolerance: 5 binomial standard errors over the holders."""
    n = 100_000
    model = get_model("voter")()
    net = complete_graph(n)
    st = init_state(model, net, shares={"A": share, "B": 1 - share}, seed=4)
    layer = _layer(model, net, enforcement=1.0)
    layer.start(st)
    assert st.expressed_counts[0] == 0       # hidden under enforcement 1 (needs c >= 1)
    layer.enforcement = enforcement
    measured = _holders_voicing(layer, st, 8)
    x, expected = 0.0, []
    for _ in range(8):
        x = min(1.0, 1 - enforcement + share * x)
        expected.append(x)
    expected = np.array(expected)
    se = np.sqrt(np.maximum(expected * (1 - expected), 1 / (share * n)) / (share * n))
    assert np.all(np.abs(measured - expected) < 5 * se + 1e-3), (measured, expected)
    assert np.all(np.diff(measured) >= -1e-12)  # revelations only grow


def test_support_lowers_the_cost_as_declared():
    """Hub of a star holds A; conviction 0.5, enforcement 1, weight 1: it voices A exactly
    when at least half of its neighbours voice A."""
    model = get_model("voter")()
    net = star(5)  # hub 0 with 4 leaves
    st = init_state(model, net, shares={"B": 1.0}, seed=1)
    layer = _layer(model, net, enforcement=1.0, conviction=0.5, start="open")
    st.separate_expression()
    st.stance[0] = 0
    st.recount(2)
    for voicing, expect in [(0, 1), (1, 1), (2, 0), (3, 0), (4, 0)]:
        st.expressed[:] = 1
        st.expressed[1 : 1 + voicing] = 0
        st.expressed[0] = 1
        layer.update(st, net)
        assert st.expressed[0] == expect, (voicing, st.expressed)


def test_hidden_and_open_starts_are_two_equilibria():
    """Kuran's multiple equilibria: conviction 0.5, enforcement 1, 60% hold A. From
    everybody hiding, nobody dares (0.5 < 1); from everybody speaking, support 0.6 makes it
    worth it (0.5 + 0.6 >= 1) and everybody keeps speaking."""
    model = get_model("voter")()
    net = complete_graph(1000)
    for start, expect in [("hidden", 0), ("open", 600)]:
        st = init_state(model, net, shares={"A": 0.6, "B": 0.4}, seed=2)
        _layer(model, net, enforcement=1.0, conviction=0.5, start=start).start(st)
        assert st.expressed_counts[0] == expect


def test_per_group_conviction():
    net = steppe.networks.stochastic_block_model([500, 500], probabilities=[[0.02, 0.002],
                                                                             [0.002, 0.02]],
                                                 seed=1)
    model = get_model("voter")()
    st = init_state(model, net, shares={"A": 0.5, "B": 0.5}, seed=3)
    layer = _layer(model, net, enforcement=1.0, conviction=0.0,
                   conviction_by_group={1: 2.0})
    layer.start(st)
    g0 = net.groups == 0
    assert not np.any(st.expressed[g0 & (st.stance == 0)] == 0)   # group 0 hides
    assert np.all(st.expressed[~g0 & (st.stance == 0)] == 0)      # group 1 speaks


def test_committed_agents_hide_unless_activists():
    model = get_model("voter")()
    net = complete_graph(100)
    st = init_state(model, net, shares={"B": 1.0}, committed=Committed("A", fraction=0.1),
                    seed=1)
    _layer(model, net, enforcement=10.0).start(st)
    assert st.expressed_counts[0] == 0
    _layer(model, net, enforcement=10.0, committed_always_voice=True).start(st)
    assert st.expressed_counts[0] == 10


def test_events_lift_enforcement_in_a_run():
    """Through the scenario front door: enforcement until sweep 5 hides A; lifting it at
    sweep 5 reveals the private A share at once."""
    scen = {
        "name": "lift", "seed": 3, "runs": 2,
        "network": {"kind": "complete", "n": 5000},
        "model": {"name": "voter"},
        "initial": {"shares": {"A": 0.4, "B": 0.6}},
        "expression": {"penalised": ["A"], "safe": "B", "enforcement": 3.0,
                       "conviction": {"dist": "uniform", "low": 0, "high": 1}},
        "events": [{"at": 5, "set": {"expression.enforcement": 0.0}}],
        "stop": {"max_sweeps": 8},
    }
    res = steppe.run(scen)
    s = res.series[(res.series["by"] == "all") & (res.series["stance"] == "A")]
    before = s[s["time"] <= 5]
    after = s[s["time"] > 5]  # the layer re-evaluates at the end of the next sweep
    assert (before["expressed_share"] == 0).all() and (before["share"] > 0).all()
    assert (before["gap"] == before["share"]).all()
    assert np.allclose(after["expressed_share"], after["share"])
    assert set(res.summary.columns) >= {"final_expressed_share_A", "absorbed"}


def test_bad_layers_refused():
    model = get_model("voter")()
    net = complete_graph(10)
    with pytest.raises(ParameterError, match=r"expression\.safe"):
        _layer(model, net, safe="A")
    with pytest.raises(ParameterError, match=r"expression\.penalised"):
        _layer(model, net, penalised=["C"])
    with pytest.raises(ParameterError, match="enforcement"):
        _layer(model, net, enforcement=-1)


@pytest.mark.parametrize(("separate", "continuous", "n"), [
    (False, False, 10_000), (True, False, 10_000), (True, True, 9_001), (False, True, 3)])
def test_commit_all_matches_a_numpy_reference(separate, continuous, n):
    """The fused pass (copy, tallies, answers as heard, voiced opinions) against NumPy, over
    several blocks of agents, with and without a refusal heard as a stance."""
    from steppe.pressures.expression import _commit_all

    rng = np.random.default_rng(n)
    k, a = 3, 4 if separate else 3
    stance = rng.integers(0, k, n).astype(np.int8)
    expressed = rng.integers(0, a, n).astype(np.int8)
    new = np.where(rng.random(n) < 0.1, rng.integers(0, a, n), expressed).astype(np.int8)
    heard_map = np.array([0, 1, 2, 1][:a], dtype=np.int8)
    opinion = rng.random(n)
    voiced = np.array([0.0, 0.5, 1.0, 0.5][:a])
    counts = np.zeros(a, dtype=np.int64)
    heard_counts = np.zeros(k, dtype=np.int64) if separate else counts
    heard = np.zeros(n, dtype=np.int8) if separate else expressed
    expressed_opinion = np.zeros(n) if continuous else np.zeros(0)
    want_changed = bool((new != expressed).any())
    changed = _commit_all(new, expressed, counts, separate, heard_map, heard, heard_counts,
                          continuous, stance, opinion if continuous else np.zeros(0),
                          expressed_opinion, voiced if continuous else np.zeros(0))
    assert changed == want_changed
    np.testing.assert_array_equal(expressed, new)
    np.testing.assert_array_equal(counts, np.bincount(new, minlength=a))
    if separate:
        np.testing.assert_array_equal(heard, heard_map[new])
        np.testing.assert_array_equal(heard_counts, np.bincount(heard_map[new], minlength=k))
    if continuous:
        np.testing.assert_array_equal(expressed_opinion,
                                      np.where(new == stance, opinion, voiced[new]))
    again = _commit_all(new.copy(), expressed, counts, separate, heard_map, heard,
                        heard_counts, continuous, stance, opinion if continuous else
                        np.zeros(0), expressed_opinion, voiced if continuous else np.zeros(0))
    assert not again  # nothing changed the second time


def _reference_counts(active, codes, m):
    """How many of each agent's neighbours (ties in force) voice each answer, in NumPy."""
    out = np.zeros((active.n, m), dtype=np.int64)
    for i in range(active.n):
        row = active.indices[active.indptr[i]:active.indptr[i + 1]]
        out[i] = np.bincount(codes[row], minlength=m)[:m]
    return out


@pytest.mark.parametrize("leaves", [0, 300])
def test_answer_counts_follow_answers_and_presence(leaves):
    """The neighbours' answers, counted once and then moved with each change of answer and
    each agent who comes or goes, equal a count from scratch over the ties in force after
    every round: small changes (moved one by one) and large ones (counted again), agents
    leaving and arriving together, with ties among themselves; more than 255 neighbours
    (a star's hub) widens the counts."""
    from types import SimpleNamespace

    from steppe.networks import erdos_renyi, restrict
    from steppe.pressures.base import World
    from steppe.pressures.expression import _AnswerCounts

    rng = np.random.default_rng(leaves)
    full = erdos_renyi(400, 12, seed=leaves) if not leaves else star(leaves + 1)
    m = 4
    state = SimpleNamespace(n=full.n, expressed=rng.integers(0, m, full.n).astype(np.int8),
                            present=rng.random(full.n) < 0.8)
    world = World(full)
    world.active = restrict(full, state.present)
    counted = _AnswerCounts(full, m)
    for rnd in range(12):
        got = counted.sync(state, world)
        assert got is counted.counts
        np.testing.assert_array_equal(got, _reference_counts(world.active, state.expressed,
                                                             m))
        assert got.dtype == (np.uint16 if leaves > 255 else np.uint8)
        share = 0.5 if rnd % 4 == 3 else 0.03  # every fourth round: more than RECOUNT
        flip = rng.random(full.n) < share
        state.expressed[flip] = rng.integers(0, m, int(flip.sum()))
        move = rng.random(full.n) < 0.05
        state.present[move] = ~state.present[move]
        if leaves and rnd == 5:
            state.present[0] = not state.present[0]  # the hub comes or goes
        world.active = restrict(full, state.present)
    np.testing.assert_array_equal(counted.sync(state, world),
                                  _reference_counts(world.active, state.expressed, m))


def test_answer_counts_only_where_the_ties_allow():
    """Counting needs the bound network's ties among those present, stored both ways: a
    directed network, the complete graph, another network or ties in force without a
    presence mask walk the ties instead."""
    from types import SimpleNamespace

    from steppe.networks import Network, erdos_renyi
    from steppe.pressures.base import World
    from steppe.pressures.expression import _AnswerCounts

    g = erdos_renyi(50, 5, seed=1)
    state = SimpleNamespace(n=50, expressed=np.zeros(50, np.int8), present=None)
    assert _AnswerCounts(g, 3).sync(state, World(g)) is not None
    directed = Network(n=50, indptr=g.indptr, indices=g.indices, directed=True)
    assert _AnswerCounts(directed, 3).sync(state, World(directed)) is None
    assert _AnswerCounts(complete_graph(50), 3).sync(state, World(complete_graph(50))) is None
    assert _AnswerCounts(g, 3).sync(state, World(erdos_renyi(50, 5, seed=2))) is None
    world = World(g)
    world.active = erdos_renyi(50, 5, seed=2)
    assert _AnswerCounts(g, 3).sync(state, world) is None


def _flagship_daily(end: dt.date, **overrides):
    """The flagship at 1:2,000 with daily steps from March 2022 to ``end``: the trajectory
    and the final state."""
    from steppe.assembly import assemble
    from steppe.scenario import read_scenario_file

    flagship = Path(__file__).resolve().parents[2] / "scenarios" / "kazakhstan-2022.toml"
    data, _, _ = read_scenario_file(flagship)
    # a shorter run keeps the polls and events it reaches (and names no dropped field)
    kept = {k: [x for x in data.get(k, []) if x["at"] < end] for k in ("polls", "events",
                                                                       "news")}
    sc = steppe.load_scenario(flagship, {"population.scale": 0.0005, "runs": 1,
                                         "time.step": "day", "time.end": end.isoformat(),
                                         **kept, "assumptions": [], "readings": [],
                                         **overrides})
    a = assemble(sc, 0)
    return a.simulate(), a.state


def test_single_precision_voiced_opinions_within_their_bound():
    """``voiced_precision = "single"`` rounds each voiced opinion to float32 (relative
    error at most u = 2^-24, opinions in [0, 1]). A Friedkin–Johnsen step is a contraction:
    with ``e`` the largest opinion difference from the double-precision run, the next is
    at most ``λ_max (e + u)``, so ``e`` never exceeds ``u λ_max / (1 − λ_max)``; the media's
    pull and the news shocks only shrink it. Through the flagship's first year at 1:2,000
    (daily steps, every layer on) no opinion lies that close to a cut-off, so every stance
    and answer, hence every tally, is the same, and the opinions are within the bound."""
    end = dt.date(2023, 3, 1)
    t64, s64 = _flagship_daily(end)
    t32, s32 = _flagship_daily(end, **{"expression.voiced_precision": "single"})
    assert s32.expressed_opinion.dtype == np.float32
    assert s64.expressed_opinion.dtype == np.float64
    lam = s64.aux["susceptibility"].max()
    bound = 2.0**-24 * lam / (1.0 - lam)
    err = np.abs(s32.opinion - s64.opinion).max()
    assert 0 < err <= bound, (err, bound)
    for f in ("expressed", "stance", "present"):
        np.testing.assert_array_equal(getattr(s32, f), getattr(s64, f))
    for key, values in t64.recording.values.items():
        if np.issubdtype(values.dtype, np.integer):
            np.testing.assert_array_equal(t32.recording.values[key], values, err_msg=str(key))
        else:
            np.testing.assert_allclose(t32.recording.values[key], values, rtol=0,
                                       atol=bound, err_msg=str(key))


def test_single_precision_needs_a_model_that_reads_it():
    """Only models tested with single-precision voiced opinions accept them."""
    with pytest.raises(ParameterError, match="single precision") as exc:
        _layer(get_model("deffuant")(), complete_graph(10), voiced_precision="single")
    assert exc.value.field == "expression.voiced_precision"
    with pytest.raises(ParameterError, match="unknown precision"):
        _layer(get_model("friedkin_johnsen")(), complete_graph(10), voiced_precision="half")


def test_counted_answers_change_no_result(monkeypatch):
    """The flagship at 1:2,000 with daily steps through the border's reopening and the
    mobilisation wave (agents arriving and leaving every day, a logit choice with "don't
    know"): the run with the neighbours' answers counted (in the start's passes and in
    the loop) equals, bit for bit, the run that walks every tie in every pass."""
    from steppe.pressures import expression as ex

    def run():
        return _flagship_daily(dt.date(2022, 10, 20))

    t1, s1 = run()
    monkeypatch.setattr(ex._AnswerCounts, "follow", lambda *args: None)  # walk every tie
    t0, s0 = run()
    for f in ("expressed", "stance", "opinion", "present"):
        np.testing.assert_array_equal(getattr(s1, f), getattr(s0, f))
    assert t1.recording.values.keys() == t0.recording.values.keys()
    for key, values in t1.recording.values.items():
        np.testing.assert_array_equal(values, t0.recording.values[key], err_msg=str(key))
