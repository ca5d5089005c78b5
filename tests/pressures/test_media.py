"""Media channels, calendars, dated events and ramps."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import steppe
from steppe import load_scenario
from steppe.distributions import Uniform
from steppe.engine import Committed, Event, Timeline, init_state, model_controls, simulate
from steppe.errors import ScenarioError
from steppe.models import get_model
from steppe.networks import complete_graph, stochastic_block_model
from steppe.pressures import MediaChannel


def test_discrete_pull_rate_is_strength_times_exposure():
    """Each non-target, uncommitted agent converts with probability strength x exposure;
    the count is binomial, tolerance 5 standard errors."""
    n = 200_000
    model = get_model("voter")()
    net = complete_graph(n)
    st = init_state(model, net, shares={"B": 1.0}, committed=Committed("B", fraction=0.1),
                    seed=1)
    tv = MediaChannel(model, name="tv", stance="A", strength=0.6, exposure=0.5).bind(
        net, np.random.default_rng(2))
    tv.apply(st)
    free = n - st.committed.sum()
    p = 0.3
    assert abs(st.counts[0] - free * p) < 5 * np.sqrt(free * p * (1 - p))
    assert not np.any(st.stance[st.committed] == 0)
    assert np.array_equal(st.counts, np.bincount(st.stance, minlength=2))


def test_exposure_by_group():
    net = stochastic_block_model([5000, 5000], probabilities=[[0.001, 0.0], [0.0, 0.001]],
                                 seed=1)
    model = get_model("voter")()
    st = init_state(model, net, shares={"B": 1.0}, seed=1)
    tv = MediaChannel(model, name="tv", stance="A", strength=1.0, exposure=0.0,
                      exposure_by_group={1: 1.0}).bind(net, np.random.default_rng(3))
    tv.apply(st)
    assert np.all(st.stance[net.groups == 1] == 0) and np.all(st.stance[net.groups == 0] == 1)


def test_continuous_pull_is_exact():
    model = get_model("deffuant")()
    net = complete_graph(1000)
    st = init_state(model, net, opinions=Uniform(dist="uniform", low=0, high=1), seed=4)
    before = st.opinion.copy()
    tv = MediaChannel(model, name="tv", stance="pro", strength=0.25, exposure=0.8).bind(
        net, np.random.default_rng(5))
    tv.apply(st)
    target = model.representative(2)
    assert np.allclose(st.opinion, before + 0.2 * (target - before), atol=1e-15)
    model.categorize(st)  # categories kept current by the channel
    assert np.array_equal(st.counts, np.bincount(st.stance, minlength=3))


def test_silent_channel_changes_nothing():
    model = get_model("qvoter")(p=0.05)
    net = complete_graph(500)
    a = init_state(model, net, seed=8)
    ta = simulate(model, net, a, max_sweeps=10, stop_at_consensus=False)
    b = init_state(model, net, seed=8)
    tv = MediaChannel(model, name="tv", stance="A", strength=0.0, exposure=1.0).bind(
        net, np.random.default_rng(1))
    tb = simulate(model, net, b, max_sweeps=10, stop_at_consensus=False, pressures=[tv])
    assert np.array_equal(ta.counts, tb.counts) and np.array_equal(a.stance, b.stance)


def test_ramp_is_linear_per_sweep():
    model = get_model("voter")()
    net = complete_graph(10)
    tv = MediaChannel(model, name="tv", stance="A", strength=0.0).bind(
        net, np.random.default_rng(0))
    tl = Timeline([Event(at=10, until=20, changes={"media.tv.strength": 0.5})],
                  [*model_controls(model), *tv.controls()])
    seen = []
    for t in range(10, 24):
        tl.apply(float(t))
        seen.append(tv.strength)
    assert np.allclose(seen[:11], np.linspace(0, 0.5, 11))
    assert seen[-1] == 0.5 and not tl.ramping
    assert [tl.value("media.tv.strength", t) for t in range(10, 24)] == seen


CAL = {
    "name": "cal", "seed": 5, "runs": 2,
    "network": {"kind": "complete", "n": 4000},
    "model": {"name": "voter"},
    "initial": {"shares": {"A": 0.4, "B": 0.6}},
    "time": {"start": dt.date(2022, 3, 1), "end": dt.date(2022, 3, 20), "step": "day"},
    "expression": {"penalised": ["A"], "safe": "B", "enforcement": 5.0},
    "media": [{"name": "tv", "stance": "A", "strength": 0.0, "exposure": 0.5}],
    "events": [
        {"at": dt.date(2022, 3, 11), "set": {"expression.enforcement": 0.0},
         "note": "crackdown lifted"},
        {"at": dt.date(2022, 3, 5), "until": dt.date(2022, 3, 9),
         "set": {"media.tv.strength": 0.2}},
    ],
    "stop": {"at_consensus": False},
}


def test_calendar_dates_events_take_effect_on_their_date():
    res = steppe.run(CAL)
    s = res.series[(res.series["by"] == "all") & (res.series["stance"] == "A")]
    assert s["date"].iloc[0] == pd.Timestamp("2022-03-01")
    assert s["date"].max() == pd.Timestamp("2022-03-20")  # time.end sets the length
    hidden = s[s["date"] <= pd.Timestamp("2022-03-11")]
    open_ = s[s["date"] > pd.Timestamp("2022-03-11")]
    assert (hidden["expressed_share"] == 0).all()
    assert np.allclose(open_["expressed_share"], open_["share"])


def test_calendar_validation(tmp_path):
    bad = dict(CAL, time=None, stop={"max_sweeps": 20})
    with pytest.raises(ScenarioError, match=r"events\.0\.at: a date needs a \[time\]"):
        load_scenario(bad)
    early = dict(CAL, events=[{"at": dt.date(2021, 1, 1), "set": {"media.tv.strength": 1}}])
    with pytest.raises(ScenarioError, match="before the start"):
        load_scenario(early)
    backwards = dict(CAL, events=[{"at": 5, "until": 3, "set": {"media.tv.strength": 1}}])
    with pytest.raises(ScenarioError, match="ramp must end after"):
        load_scenario(backwards)
    unknown = dict(CAL, events=[{"at": 5, "set": {"media.radio.strength": 1}}])
    with pytest.raises(ScenarioError, match=r"media\.tv\.strength"):
        load_scenario(unknown)


def test_polls_in_a_run():
    """Polls on dates: respondents answer with what they voice; a list experiment reaches
    the private share; results land in Result.polls with dates."""
    scen = dict(CAL, runs=2, polls=[
        {"at": dt.date(2022, 3, 5), "n": 1000,
         "list_experiment": {"sensitive": "A", "items": 3}},
        {"at": dt.date(2022, 3, 15), "n": 1000},
    ])
    res = steppe.run(scen)
    p = res.polls
    assert set(p["run"]) == {0, 1} and set(p["poll"]) == {"poll 2022-03-05", "poll 2022-03-15"}
    first = p[(p["date"] == pd.Timestamp("2022-03-05")) & (p["stance"] == "A")]
    direct = first[first["method"] == "direct"]
    listed = first[first["method"] == "list_experiment"]
    # under the crackdown nobody voices A: the direct question finds none, the list
    # experiment estimates the private share (within its confidence interval)
    assert (direct["estimate"] == 0).all() and (direct["true_expressed"] == 0).all()
    for _, row in listed.iterrows():
        assert row["ci_low"] <= row["true_private"] <= row["ci_high"]
    with pytest.raises(ScenarioError, match=r"polls\.0\.n"):
        load_scenario(dict(CAL, polls=[{"at": 3, "n": 0}]))
