"""The assembly step: a scenario and a run index become everything a run needs; a dry
assembly checks the scenario against its model without building anything; the network
cache is keyed on everything the network depends on."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from steppe.assembly import assemble, cached_network, clear_cache, execute, load_scenario
from steppe.assembly.network import network_key
from steppe.errors import ScenarioError
from steppe.scenario import read_scenario

FLOWS = {
    "name": "asm", "seed": 9, "runs": 3,
    "population": {"total": 2000, "groups": {"a": 0.6, "b": 0.4},
                   "regions": {"n": 0.5, "s": 0.5}},
    "network": {"kind": "homophily", "mean_degree": 6, "within_group": 0.7},
    "model": {"name": "voter"},
    "initial": {"shares": {"A": 0.5, "B": 0.5}},
    "stop": {"max_sweeps": 20, "at_consensus": False},
    "flows": [{"name": "wave", "direction": "in", "start": 2, "end": 10, "total": 200}],
    "media": [{"name": "tv", "stance": "A", "strength": 0.05}],
    "events": [{"at": 5, "set": {"media.tv.strength": 0.2}}],
}


def test_dry_assembly_builds_nothing_and_knows_the_slots():
    a = assemble(load_scenario(FLOWS), 0, dry=True)
    assert a.dry and a.network is None and a.state is None and a.observers == []
    assert [p.field for p in a.pressures] == ["flows", "media"]  # stage order
    assert [(s.name, s.n) for s in a.slots] == [("wave", 200)]
    assert "media.tv.strength" in a.timeline.paths and "model.variant" in a.timeline.paths


def test_validation_is_the_dry_assembly():
    """read_scenario checks the schema only; load_scenario adds the dry assembly."""
    bad = copy.deepcopy(FLOWS)
    bad["events"] = [{"at": 5, "set": {"media.radio.strength": 0.2}}]
    sc = read_scenario(bad)  # fine for the schema
    with pytest.raises(ScenarioError) as err:
        assemble(sc, 0, dry=True)
    assert err.value.field == "events.0.set.media.radio.strength"
    assert "media.tv.strength" in str(err.value)  # the allowed targets: the controls
    with pytest.raises(ScenarioError):
        load_scenario(bad)


def test_a_run_is_the_same_whoever_assembles_it_and_in_whatever_order():
    sc = load_scenario(FLOWS)
    clear_cache()
    b = execute(sc, 2)
    a = execute(sc, 0)
    clear_cache()
    a2 = execute(sc, 0)
    assert np.array_equal(a.final_stance, a2.final_stance)
    assert not np.array_equal(a.final_stance, b.final_stance)


def test_the_network_cache_knows_what_the_network_depends_on():
    sc = load_scenario(FLOWS)
    slots = assemble(sc, 0, dry=True).slots
    clear_cache()
    net = cached_network(sc, 0, slots)
    assert cached_network(sc, 1, slots) is net  # shared by the runs
    more = copy.deepcopy(FLOWS)
    more["flows"][0]["total"] = 400  # more arrival slots: another network
    sc2 = load_scenario(more)
    slots2 = assemble(sc2, 0, dry=True).slots
    assert network_key(sc, 0, slots) != network_key(sc2, 0, slots2)
    assert cached_network(sc2, 0, slots2).n == net.n + 200
    resampled = load_scenario({**FLOWS, "network": {**FLOWS["network"], "resample": True}})
    assert network_key(resampled, 0, slots) != network_key(resampled, 1, slots)


def test_pressures_are_fresh_for_every_run():
    """Events change controls during a run; the next run starts from the declared values."""
    sc = load_scenario(FLOWS)
    a = assemble(sc, 0)
    a.simulate()
    [tv] = [p for p in a.pressures if p.field == "media"]
    assert tv.strength == 0.2
    again = assemble(sc, 1)
    [tv2] = [p for p in again.pressures if p.field == "media"]
    assert tv2.strength == 0.05
