"""The contract every pressure fulfils, run over every registered pressure (as
tests/models/test_contract.py does over every model). A new pressure adds its example entry
to ``EXAMPLES`` and must pass all of these."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import steppe
from steppe.assembly import assemble, load_scenario
from steppe.engine.timeline import Timeline, model_controls
from steppe.errors import ParameterError, ScenarioError
from steppe.pressures.base import Pressure, Stage, World, available_pressures
from steppe.rng import Stream
from steppe.scenario.schema import Scenario

BASE = {
    "name": "contract", "seed": 11, "runs": 2,
    "population": {"total": 3000, "groups": {"kazakh": 0.7, "russian": 0.3},
                   "regions": {"north": 0.4, "south": 0.6},
                   "ages": {"young": 0.5, "old": 0.5}},
    "network": {"kind": "homophily", "mean_degree": 8, "within_group": 0.7},
    "model": {"name": "qvoter", "q": 3, "p": 0.05},
    "initial": {"shares": {"A": 0.4, "B": 0.6}},
    "time": {"start": "2022-03-01", "end": "2022-06-01", "step": "week"},
    "stop": {"at_consensus": False},
}

#: a minimal declaration of each pressure, and one entry in it that names a stance
EXAMPLES = {
    "expression": ({"expression": {"penalised": ["A"], "safe": "B", "enforcement": 1.2,
                                   "conviction": {"dist": "beta", "a": 2, "b": 3}}},
                   ("expression", "safe")),
    "media": ({"media": [{"name": "tv", "stance": "A", "strength": 0.1, "exposure": 0.5,
                          "exposure_by_age": {"old": 1.5}}]}, ("media", 0, "stance")),
    "protest": ({"protest": {"eligible": ["A"], "threshold": 0.2, "instigators": 0.01,
                             "requires_voicing": False}}, ("protest", "eligible")),
    "flows": ({"flows": [{"name": "wave", "direction": "in", "start": "2022-04-01",
                          "total": 300, "initial": {"A": 0.9, "B": 0.1}},
                         {"name": "out", "direction": "out", "start": "2022-04-15",
                          "rate": 2.0}]}, ("flows", 0, "initial")),
    "news": ({"news": [{"name": "shock", "at": "2022-04-05", "toward": "A", "reach": 0.4,
                        "amount": 0.5, "reach_by_age": {"old": 2.0}}]},
             ("news", 0, "toward")),
}

FIELDS = sorted(available_pressures())


def scenario(field: str, **extra) -> dict:
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(EXAMPLES[field][0]))
    data.update(extra)
    return data


def test_every_registered_pressure_has_an_example():
    assert set(EXAMPLES) == set(available_pressures())


@pytest.mark.parametrize("field", FIELDS)
def test_declared_by_its_own_schema_entry(field):
    cls = available_pressures()[field]
    assert issubclass(cls, Pressure)
    assert field in Scenario.model_fields  # one schema entry
    assert isinstance(cls.stage, Stage) and isinstance(cls.stream, Stream)
    # absent from a scenario: nothing is built
    sc = load_scenario(BASE)
    assert cls.from_scenario(sc, assemble(sc, dry=True).model) == []


@pytest.mark.parametrize("field", FIELDS)
def test_dry_assembly_declares_without_drawing(field):
    """A dry assembly builds the pressure from its entry, with its controls, and draws
    nothing (no network is needed)."""
    a = assemble(load_scenario(scenario(field)), 0, dry=True)
    mine = [p for p in a.pressures if p.field == field]
    assert mine and a.network is None and a.state is None
    for p in mine:
        for c in p.controls():
            assert c.path.startswith(f"{field}.")
            c.check(c.get())  # the current value is allowed
            for bad in (float("inf"), 1e300, "x", True):  # out of every control's range
                with pytest.raises(ParameterError):
                    c.check(bad)
            assert c.path in a.timeline.paths  # the allowed event targets


@pytest.mark.parametrize("field", FIELDS)
def test_an_unknown_stance_names_its_field(field):
    data = scenario(field)
    *where, key = EXAMPLES[field][1]
    node = data
    for k in where:
        node = node[k]
    value = node[key]
    node[key] = (["Z"] if isinstance(value, list) else
                 {"Z": 1.0} if isinstance(value, dict) else "Z")
    with pytest.raises(ScenarioError) as err:
        load_scenario(data)
    assert ".".join(str(w) for w in EXAMPLES[field][1]) in str(err.value)


@pytest.mark.parametrize("field", FIELDS)
def test_same_run_same_draws_other_run_other_draws(field):
    """A pressure draws from its own stream of the run: assembling run r twice gives the
    same results, bit for bit; the runs of a scenario differ."""
    sc = load_scenario(scenario(field))
    outs = []
    for run in (0, 0, 1):
        a = assemble(sc, run)
        a.simulate()
        outs.append(a.state.stance.copy())
    assert np.array_equal(outs[0], outs[1])
    assert not np.array_equal(outs[0], outs[2])


@pytest.mark.parametrize("field", FIELDS)
def test_quiet_means_apply_changes_nothing_random(field):
    """While a pressure is quiet the loop may hand the model many sweeps at once and call
    apply once: a quiet apply is idempotent and draws nothing."""
    a = assemble(load_scenario(scenario(field)), 0)
    st, world = a.state, World(a.network)
    for p in a.pressures:
        p.prepare(st, world)
    for p in a.pressures:
        p.start(st, world)
    for p in a.pressures:
        for c in p.controls():  # silenced: no enforcement, no pull...
            c.set(0.0)
    checked = 0
    for p in a.pressures:
        if not p.quiet:
            continue
        checked += 1
        gen = getattr(p, "gen", None)
        before = None if gen is None else gen.bit_generator.state
        p.apply(st, world)
        snap = (st.stance.copy(), st.expressed.copy())
        p.apply(st, world)
        assert np.array_equal(snap[0], st.stance) and np.array_equal(snap[1], st.expressed)
        if gen is not None:
            assert gen.bit_generator.state == before
    assert checked or field == "protest"  # protest re-evaluates every sweep: never quiet


@pytest.mark.parametrize("field", FIELDS)
def test_events_reach_every_control(field):
    """Every control can be set by an event and read back; ramps move live controls."""
    a = assemble(load_scenario(scenario(field)), 0)
    controls = [c for p in a.pressures for c in p.controls()]
    for c in controls:
        from steppe.engine.timeline import Event

        tl = Timeline([Event(at=1, changes={c.path: 0.5})],
                      [*model_controls(a.model), *controls])
        tl.apply(1.0)
        assert c.get() == 0.5


@pytest.mark.parametrize("field", FIELDS)
def test_observables_land_in_their_table(field):
    """What a pressure records is a table of the run's results, one row per record."""
    a = assemble(load_scenario(scenario(field)), 0)
    obs = [o for p in a.pressures if p.field == field for o in p.observables()]
    res = steppe.run(scenario(field, runs=1))
    for o in obs:
        assert o.table in res.tables, o.table
        assert o.name in res.tables[o.table].columns
        assert o.table not in ("series", "summary")


@pytest.mark.parametrize("field", FIELDS)
def test_results_do_not_depend_on_workers(field):
    one = steppe.run(scenario(field), workers=1)
    two = steppe.run(scenario(field), workers=2)
    assert one.series.equals(two.series)
    for name, df in one.tables.items():
        assert df.equals(two.tables[name]), name
