"""``time.rates_per``: a sweep that stands for the share h of the period a scenario's rates
were written for (daily steps of a weekly scenario: h = 1/7).

Each layer is tested against the rule its docstring states: the Friedkin–Johnsen step
against a NumPy reference ``x + h (ΛWx + (I − Λ)x(0) − x)``; the equilibrium anchors make
the start a rest state of the fractional step with a media pull; 1/h media pulls of
``1 − (1 − m)^h`` make one pull of m; the answer model's and the protest's reconsidering
agents are exactly those whose uniform (from a copy of the layer's generator) falls below
the scaled share. h = 1 is the rule as written (the stored regression results cover it);
models without a fractional step and periods shorter than a sweep are refused."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

import steppe
from steppe.assembly import assemble
from steppe.distributions import Uniform
from steppe.engine import init_state
from steppe.errors import ParameterError, ScenarioError
from steppe.models import get_model
from steppe.models._linear import influence_matrix
from steppe.networks import complete_graph
from steppe.pressures import ExpressionLayer, MediaChannel
from steppe.pressures.protest import ProtestLayer
from steppe.scenario.schema import TimeSpec

from ..conftest import ring
from ..test_cli import steppe as cli

FLAGSHIP = Path(__file__).resolve().parents[2] / "scenarios" / "kazakhstan-2022.toml"
H = 1.0 / 7.0


def _random_net(n: int = 200, seed: int = 3):
    from steppe.networks import Network

    gen = np.random.default_rng(seed)
    pairs = gen.integers(0, n, size=(4 * n, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    both = np.concatenate([pairs, pairs[:, ::-1]])
    both = both[np.lexsort((both[:, 1], both[:, 0]))]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(both[:, 0], minlength=n))])
    return Network.from_csr(indptr, both[:, 1])


@pytest.mark.parametrize("kind", ["random", "complete"])
def test_fractional_friedkin_johnsen_step_matches_the_numpy_reference(kind):
    """Five steps with h = 1/7: each is ``x + h (ΛWx + (I − Λ)x(0) − x)`` for the free
    agents (W from :func:`influence_matrix`), committed agents unchanged."""
    from steppe.engine.state import Committed

    net = _random_net() if kind == "random" else complete_graph(150)
    m = get_model("friedkin_johnsen")(susceptibility={"dist": "uniform", "low": 0.3,
                                                      "high": 0.95})
    m.set_step_fraction(H)
    st = init_state(m, net, committed=Committed(stance=m.stances[0], fraction=0.05), seed=5)
    a = st.aux
    w = influence_matrix(net, a["self_weight"], a["neighbour_weight"])
    lam, x0, free = a["susceptibility"], a["initial_opinion"].copy(), ~st.committed
    x = st.opinion.copy()
    for _ in range(5):
        v = lam * (w @ x) + (1.0 - lam) * x0
        x = np.where(free, x + H * (v - x), x)
    m.advance(st, net, 5, False)
    np.testing.assert_allclose(st.opinion, x, rtol=0, atol=1e-13)
    # and it is not the full step
    full = get_model("friedkin_johnsen")(susceptibility=0.5)
    st2 = init_state(full, net, seed=5)
    x_before = st2.opinion.copy()
    full.advance(st2, net, 1, False)
    part = get_model("friedkin_johnsen")(susceptibility=0.5)
    part.set_step_fraction(H)
    st3 = init_state(part, net, seed=5)
    part.advance(st3, net, 1, False)
    np.testing.assert_allclose(st3.opinion - x_before, H * (st2.opinion - x_before),
                               rtol=0, atol=1e-14)


def test_equilibrium_anchors_make_the_start_a_rest_state_of_the_fractional_step():
    """With ``anchor = "equilibrium"`` and a media channel, one fractional influence step
    followed by the channel's fractional pull leaves every opinion where it was."""
    net = _random_net(300)
    out = {}
    for h in (1.0, H):
        m = get_model("friedkin_johnsen")(susceptibility=0.7, anchor="equilibrium")
        m.set_step_fraction(h)
        st = init_state(m, net, seed=8)
        tv = MediaChannel(m, name="tv", stance=m.stances[-1], strength=0.3, exposure=0.6,
                          audience=0.4, step_fraction=h).bind(net, np.random.default_rng(2))
        m.on_start(st, net, [tv.pull()])
        before = st.opinion.copy()
        for _ in range(3):
            m.advance(st, net, 1, False)
            tv.apply(st)
        np.testing.assert_allclose(st.opinion, before, rtol=0, atol=1e-12)
        out[h] = st.aux["initial_opinion"].copy()
    assert not np.allclose(out[1.0], out[H])  # the anchors depend on h


def test_media_pulls_compose_to_the_written_pull():
    """Continuous: 7 sweeps at h = 1/7 move an opinion nothing else moves exactly as far as
    one sweep at h = 1; discrete: the per-sweep adoption chance is 1 − (1 − m)^h."""
    m = get_model("friedkin_johnsen")()
    net = ring(500)
    ends = []
    for h, sweeps in ((1.0, 1), (H, 7)):
        st = init_state(m, net, seed=4)
        tv = MediaChannel(m, name="tv", stance=m.stances[0], strength=0.8,
                          exposure=Uniform(dist="uniform", low=0, high=1),
                          step_fraction=h).bind(net, np.random.default_rng(6))
        for _ in range(sweeps):
            tv.apply(st)
        ends.append(st.opinion.copy())
    np.testing.assert_allclose(ends[1], ends[0], rtol=0, atol=1e-14)
    voter = get_model("voter")()
    tv = MediaChannel(voter, name="tv", stance="A", strength=2.0, exposure=0.3,
                      step_fraction=0.25).bind(ring(10), np.random.default_rng(0))
    np.testing.assert_allclose(tv.share(), 1 - (1 - 0.6) ** 0.25, rtol=1e-15)
    with pytest.raises(ParameterError) as exc:
        MediaChannel(voter, name="tv", stance="A", strength=1.0, step_fraction=0.0)
    assert exc.value.field == "time.rates_per"


@pytest.mark.parametrize("temperature", [0.0, 0.5])
def test_answers_reconsidered_at_revise_times_h(temperature):
    """``revise = r`` with ``step_fraction = h`` draws as ``revise = r h``: the same answers
    from the same generator."""
    model = get_model("qvoter")()
    net = ring(600)
    out = []
    for kw in ({"revise": 0.5, "step_fraction": 0.4}, {"revise": 0.2}):
        layer = ExpressionLayer(model, sanction={"A": 1.0}, safe="B", conviction=0.6,
                                dont_know=0.1, temperature=temperature, start="open",
                                **kw).bind(net, np.random.default_rng(1))
        st = init_state(model, net, shares={"A": 0.5, "B": 0.5}, seed=2)
        layer.start(st)
        for _ in range(3):
            layer.update(st, net)
        out.append(st.expressed.copy())
    np.testing.assert_array_equal(out[0], out[1])
    with pytest.raises(ParameterError) as exc:
        ExpressionLayer(model, sanction={"A": 1.0}, safe="B", step_fraction=1.5)
    assert exc.value.field == "time.rates_per"


def test_protest_reconsidered_by_the_share_h():
    """With h = 0.3, exactly the eligible agents whose uniform is below 0.3 take the full
    round's decision; the others do what they did; instigators always protest."""
    model = get_model("voter")()
    net = ring(400)
    st = init_state(model, net, shares={"A": 0.7, "B": 0.3}, seed=3)
    layers = []
    for h in (0.3, 1.0):
        layer = ProtestLayer(model, eligible=["A"], threshold=0.4, instigators=0.05,
                             requires_voicing=False, step_fraction=h).bind(
                                 net, np.random.default_rng(9))
        layer.active = np.random.default_rng(1).random(net.n) < 0.5
        layers.append(layer)
    part, full = layers
    old = part.active.copy()
    u = copy.deepcopy(part.gen).random(net.n)
    part.update(st, net)
    full.update(st, net)
    eligible = st.stance == 0
    expect = np.where(eligible & ~part.instigator & (u >= 0.3), old, full.active)
    np.testing.assert_array_equal(part.active, expect)
    assert (part.active != full.active).any() and (part.active != old).any()


def test_time_step_fraction_and_refusals(tmp_path):
    """h from the calendar; a period shorter than a sweep, and h < 1 for a model without a
    fractional step, refused with ``time.rates_per`` named (exit 2 from the CLI)."""
    start = dt.date(2022, 3, 1)
    assert TimeSpec(start=start, step="day", rates_per="week").step_fraction() == H
    assert TimeSpec(start=start, step="week", rates_per="week").step_fraction() == 1.0
    assert TimeSpec(start=start, step="week", sweeps_per_step=7,
                    rates_per="week").step_fraction() == H
    assert TimeSpec(start=start, step="day").step_fraction() == 1.0
    with pytest.raises(ValueError, match="shorter than a sweep"):
        TimeSpec(start=start, step="week", rates_per="day")
    base = {"name": "v", "seed": 1, "model": {"name": "voter"},
            "network": {"kind": "lattice", "shape": [20]},
            "time": {"start": "2022-03-01", "end": "2022-04-01", "step": "week",
                     "rates_per": "week"}}
    assemble(steppe.load_scenario(base), dry=True)  # h = 1: any model
    daily = {**base, "time": {**base["time"], "step": "day"}}
    with pytest.raises(ScenarioError) as exc:
        assemble(steppe.load_scenario(daily), dry=True)
    assert exc.value.field == "time.rates_per" and "friedkin_johnsen" in str(exc.value)
    path = tmp_path / "voter-daily.toml"
    path.write_text('name = "v"\nseed = 1\n[model]\nname = "voter"\n[network]\n'
                    'kind = "lattice"\nshape = [20]\n'
                    '[time]\nstart = 2022-03-01\nend = 2022-04-01\nstep = "day"\n'
                    'rates_per = "week"\n')
    res = cli("run", path.name, "--out", "out", cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "voter-daily.toml: time.rates_per" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert not (tmp_path / "out").exists()
    path.write_text(path.read_text().replace('step = "day"', 'step = "week"')
                    .replace('rates_per = "week"', 'rates_per = "day"'))
    res = cli("run", path.name, "--out", "out", cwd=tmp_path)
    assert res.returncode == 2 and "shorter than a sweep" in res.stderr, res.stderr


def test_the_flagship_run_daily_acts_by_a_seventh_of_its_weekly_rates():
    """The flagship's rates are weekly: run with daily steps every layer gets h = 1/7;
    with its own weekly steps h = 1."""
    for step, h in (("week", 1.0), ("day", H)):
        a = assemble(steppe.load_scenario(FLAGSHIP, {"time.step": step}), dry=True)
        assert a.model.step_fraction == h
        layers = [p for p in a.pressures if hasattr(p, "step_fraction")]
        assert {type(p).__name__ for p in layers} >= {"ExpressionLayer", "MediaChannel",
                                                      "ProtestLayer"}
        assert all(p.step_fraction == h for p in layers)


def test_steppe_models_says_which_models_take_a_fractional_step(tmp_path):
    fj = cli("models", "friedkin_johnsen", cwd=tmp_path)
    voter = cli("models", "voter", cwd=tmp_path)
    assert fj.returncode == 0 and "fractional step" in fj.stdout and "rates_per" in fj.stdout
    assert voter.returncode == 0 and "fractional step" not in voter.stdout
