"""Border flows: arrival slots wired into the network, arrivals and departures during a run,
counts over the agents present, conservation, and the scenario's [[flows]] table."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

import steppe
from steppe import load_scenario
from steppe.engine import init_state, simulate
from steppe.errors import ParameterError, ScenarioError
from steppe.models import get_model
from steppe.networks import erdos_renyi, lattice, restrict
from steppe.population import ArrivalPool, synthesize, with_arrivals
from steppe.pressures.base import World
from steppe.pressures.flows import BorderFlows, FlowPlan
from steppe.rounding import cumulative_round as schedule

BASE = {
    "name": "flows", "seed": 5, "runs": 2,
    "population": {"total": 6000, "groups": {"kazakh": 0.7, "russian": 0.3},
                   "regions": {"north": 0.4, "south": 0.6}},
    "network": {"kind": "homophily", "mean_degree": 8, "within_group": 0.8,
                "within_region": 0.9},
    "model": {"name": "qvoter", "q": 3, "p": 0.1},
    "initial": {"shares": {"A": 0.3, "B": 0.7}},
    "time": {"start": "2022-03-01", "end": "2022-12-31", "step": "week"},
    "stop": {"at_consensus": False},
    "flows": [
        {"name": "wave", "direction": "in", "start": "2022-09-21", "end": "2022-10-31",
         "total": 1200, "groups": {"russian": 1.0}, "regions": {"north": 1.0},
         "initial": {"A": 0.8, "B": 0.2}},
        {"name": "back", "direction": "out", "start": "2022-10-15", "end": "2022-12-15",
         "total": 900, "source": "wave"},
        {"name": "emigration", "direction": "out", "start": "2022-03-01", "rate": 3},
    ],
    "events": [{"at": "2022-06-01", "set": {"flows.emigration.rate": 9}}],
}


def scenario(**changes):
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


@pytest.fixture(scope="module")
def result():
    return steppe.run(scenario())


# -- pieces -----------------------------------------------------------------------------
def test_schedule_keeps_the_rounded_total():
    rng = np.random.default_rng(1)
    for _ in range(50):
        x = rng.uniform(0, 3, size=rng.integers(1, 40))
        k = schedule(x)
        assert k.min() >= 0
        assert k.sum() == np.floor(x.sum() + 0.5)
        assert np.all(np.abs(np.cumsum(k) - np.cumsum(x)) <= 0.5 + 1e-9)


def test_schedule_refuses_negative_numbers():
    with pytest.raises(ParameterError):
        schedule(np.array([1.0, -0.5]))


def test_active_network_matches_a_plain_filter():
    g = erdos_renyi(300, 6, seed=2)
    present = np.random.default_rng(3).random(300) < 0.7
    act = restrict(g, present)
    for i in range(300):
        want = [j for j in g.neighbors(i) if present[i] and present[j]]
        assert act.neighbors(i).tolist() == want
    assert act.n == g.n


def test_active_network_refuses_the_complete_graph():
    from steppe.networks import complete_graph

    with pytest.raises(ParameterError, match="explicit network"):
        restrict(complete_graph(10), np.ones(10, bool))


def test_arrival_slots_follow_their_own_mix():
    res = synthesize(5000, groups={"a": 0.8, "b": 0.2}, regions={"n": 0.5, "s": 0.5},
                     seed=0)
    pool = ArrivalPool("wave", 1000, groups={"b": 1.0}, regions={"n": 0.75, "s": 0.25})
    pop, origin, labels = with_arrivals(res, [pool], seed=4)
    assert labels == ("resident", "wave")
    assert pop.is_block_sorted()
    slots = origin == 1
    assert slots.sum() == 1000
    assert np.all(pop.group[slots] == 1)
    assert np.bincount(pop.region[slots], minlength=2).tolist() == [750, 250]
    # the residents keep their exact tables
    assert np.bincount(pop.group[~slots], minlength=2).tolist() == [4000, 1000]


def test_arrival_pool_with_an_unknown_group_names_the_field():
    res = synthesize(100, groups={"a": 1.0}, seed=0)
    with pytest.raises(ParameterError) as err:
        with_arrivals(res, [ArrivalPool("wave", 10, groups={"zz": 1.0})], seed=0)
    assert err.value.field == "flows.wave.groups.zz"


def _bound(model, g, origin, plans, seed):
    """Flows bound to ``g`` with the given origins (0 residents, 1 the wave's slots)."""
    g = dataclasses.replace(g, attributes={"origin": (origin, ("resident", "wave"))})
    return g, BorderFlows(model, plans).bind(g, np.random.default_rng(seed))


def _flows_on_ring(counts_in, counts_out=None, shares=(1.0, 0.0), source=None):
    model = get_model("voter")()
    origin = np.zeros(400, np.int8)
    origin[300:] = 1
    plans = [FlowPlan("wave", "in", np.asarray(counts_in), shares=np.asarray(shares))]
    if counts_out is not None:
        plans.append(FlowPlan("back", "out", np.asarray(counts_out), source=source))
    g, fl = _bound(model, lattice((400,)), origin, plans, 7)
    st = init_state(model, g, shares={"B": 1.0}, seed=1, present=fl.present0())
    return model, g, fl, st


def test_absent_agents_are_frozen_and_unseen():
    model, g, fl, st = _flows_on_ring([0] * 5 + [50] + [0] * 4)
    before = st.stance.copy()
    traj = simulate(model, g, st, max_sweeps=10, stop_at_consensus=False, pressures=[fl])
    arrived = np.flatnonzero(st.present[300:]) + 300
    never = np.setdiff1d(np.arange(300, 400), arrived)
    assert len(arrived) == 50 and fl.arrived["wave"] == 50
    # slots that never arrived did not change and nobody is tied to them
    assert np.array_equal(st.stance[never], before[never])
    act = restrict(g, st.present)
    assert act.degree()[never].sum() == 0
    assert not np.isin(act.indices, never).any()
    # the records count present agents only: 300, then 350 from sweep 5
    totals = traj.counts.sum(axis=1)
    assert totals[0] == 300 and totals[-1] == 350
    assert np.array_equal(traj.values("flows", "present"), totals)


def test_arrivals_draw_their_stances_from_the_flow_mix():
    _, g, fl, st = _flows_on_ring([100], shares=(0.3, 0.7))
    world = World(g)
    fl.prepare(st, world)
    fl.due(st, world)
    arrived = np.flatnonzero(st.present[300:]) + 300
    share_a = float(np.mean(st.stance[arrived] == 0))
    se = np.sqrt(0.3 * 0.7 / 100)
    assert abs(share_a - 0.3) < 4 * se
    # counts stay exact over all agents
    assert np.array_equal(st.counts, np.bincount(st.stance, minlength=2))


def test_departures_from_a_source_take_only_its_members():
    model, g, fl, st = _flows_on_ring([100, 0, 0], [0, 0, 60], source=1)
    simulate(model, g, st, max_sweeps=3, stop_at_consensus=False, pressures=[fl])
    assert fl.left["back"] == 60
    assert st.present[:300].all()
    assert st.present[300:].sum() == 40


def test_a_model_without_flow_support_refuses_flows():
    model = get_model("epo")()
    with pytest.raises(ParameterError, match="border flows"):
        BorderFlows(model, [])


# -- scenarios ----------------------------------------------------------------------------
def test_flows_conserve_agents(result):
    f = result.flows
    assert f is not None
    initial = 6000
    assert np.array_equal(f["present"], initial + f["arrived_wave"] - f["left_back"]
                          - f["left_emigration"])
    last = f[f["run"] == 0].iloc[-1]
    assert last["arrived_wave"] == 1200 and last["left_back"] == 900
    # the series count exactly the present agents, overall and by origin
    s = result.series
    overall = s[s["by"] == "all"].groupby(["run", "step"], observed=True)["count"].sum()
    assert np.array_equal(overall.to_numpy(), f.set_index(["run", "step"])["present"]
                          .to_numpy())
    origin = s[(s["by"] == "origin") & (s["level"] == "wave")]
    wave = origin.groupby(["run", "step"], observed=True)["count"].sum()
    # emigration takes anyone present, wave members included
    emigrated_since = f["left_emigration"] - np.where(f["arrived_wave"] > 0,
                                                      f["left_emigration"], 0).min()
    came = (f["arrived_wave"] - f["left_back"]).to_numpy()
    assert np.all(wave.to_numpy() <= came)
    assert np.all(wave.to_numpy() >= came - emigrated_since.clip(lower=0).to_numpy())


def test_flow_rates_follow_events_and_dates(result):
    f = result.flows[result.flows["run"] == 0].set_index("date")
    # the last record is the end of the run: no sweep starts there
    left = f["left_emigration"].diff().dropna().iloc[:-1]
    # 3 a day before 2022-06-01, 9 a day after: 21 and 63 a week
    assert set(left[left.index < np.datetime64("2022-05-31")].unique()) == {21}
    assert set(left[left.index > np.datetime64("2022-06-08")].unique()) == {63}
    # with weekly steps a date acts from the start of its week (2022-09-20 for 09-21)
    arrived = f["arrived_wave"]
    assert arrived[arrived.index < np.datetime64("2022-09-20")].max() == 0
    assert arrived[np.datetime64("2022-09-20")] > 0
    assert arrived[arrived.index >= np.datetime64("2022-10-25")].min() == 1200


def test_flows_are_the_same_whatever_the_number_of_workers(result):
    two = steppe.run(scenario(), workers=2)
    assert two.series.equals(result.series)
    assert two.flows.equals(result.flows)


def test_flows_of_nobody_change_nothing():
    quiet = scenario(flows=[{"name": "none", "direction": "in", "start": 0, "total": 0}],
                     events=[])
    plain = scenario(flows=[], events=[])
    a = steppe.run(quiet)
    b = steppe.run(plain)
    cols = ["run", "step", "by", "level", "stance", "count", "expressed_count"]
    sa = a.series[a.series["by"] != "origin"][cols].reset_index(drop=True)
    assert sa.equals(b.series[cols].reset_index(drop=True))


def test_polls_sample_present_agents_only():
    data = scenario(polls=[{"at": "2022-11-01", "n": 3000}], runs=1)
    res = steppe.run(data)
    assert res.polls is not None and len(res.polls)
    # a poll of nearly all present agents: the estimate equals the true expressed share
    p = res.polls[(res.polls["method"] == "direct") & (res.polls["stance"] == "A")].iloc[0]
    assert abs(p["estimate"] - p["true_expressed"]) < 4 * p["se"]


@pytest.mark.parametrize(("change", "field"), [
    ({"flows": [{"name": "x", "direction": "in", "start": 0, "total": 5, "rate": 1}]},
     "flows"),
    ({"flows": [{"name": "x", "direction": "out", "start": 0, "total": 5,
                 "initial": {"A": 1.0}}]}, "flows"),
    ({"flows": [{"name": "x", "direction": "out", "start": 0, "total": 5,
                 "source": "nope"}]}, "flows.0.source"),
    ({"flows": [{"name": "x", "direction": "in", "start": 0, "total": 5,
                 "initial": {"Z": 1.0}}]}, "flows.0.initial.Z"),
    ({"flows": [{"name": "x", "direction": "in", "start": 0, "total": 5,
                 "committed": 0.5}]}, "flows.0.committed_stance"),
    ({"flows": [{"name": "x", "direction": "in", "start": 5, "end": 2, "total": 5}]},
     "flows.0.end"),
    ({"model": {"name": "epo"}, "initial": {}}, "flows"),
])
def test_bad_flows_name_their_field(change, field):
    with pytest.raises(ScenarioError) as err:
        load_scenario(scenario(**{"events": [], **change})).check()
    assert f": {field}" in str(err.value)


def test_friedkin_johnsen_with_arrivals_reaches_the_direct_solution():
    """After arrivals the weights are recomputed over the new ties and each arrival is
    anchored to the opinion it came with: the run ends at x* = (I − ΛW)⁻¹ (I − Λ) x(0)."""
    model = get_model("friedkin_johnsen")(susceptibility=0.7)
    g = erdos_renyi(200, 6, seed=4)
    origin = np.zeros(200, np.int8)
    origin[150:] = 1
    plan = FlowPlan("wave", "in", np.array([0, 30, 20]), shares=np.array([0.2, 0.3, 0.5]))
    g, fl = _bound(model, g, origin, [plan], 2)
    st = init_state(model, g, seed=3, present=fl.present0())
    simulate(model, g, st, max_sweeps=400, stop_at_consensus=False, pressures=[fl])
    assert st.present.all()
    lam = st.aux["susceptibility"]
    deg = g.degree().astype(float)
    w = np.zeros((200, 200))
    for i in range(200):
        w[i, i] = 1.0 / (deg[i] + 1)
        w[i, g.neighbors(i)] = 1.0 / (deg[i] + 1)
    anchor = st.aux["initial_opinion"]
    direct = np.linalg.solve(np.eye(200) - lam[:, None] * w, (1 - lam) * anchor)
    assert np.max(np.abs(st.opinion - direct)) < 1e-9


def test_flows_outside_the_run_bring_nobody():
    data = scenario(runs=1, time={"start": "2022-03-01", "end": "2022-06-01", "step": "week"},
                    events=[])  # an event on the end date would never act: refused
    res = steppe.run(data)
    last = res.flows.iloc[-1]
    assert last["arrived_wave"] == 0 and last["left_back"] == 0
    assert last["present"] == 6000 - last["left_emigration"]
