"""Scenarios with a synthetic population: homophily network, per-group initial stances and
committed shares by group label, series by group, region and age band, stratified polls."""

from __future__ import annotations

import numpy as np
import pytest

import steppe
from steppe import load_scenario
from steppe.assembly import assemble
from steppe.errors import ScenarioError

POP = {
    "name": "pop", "seed": 3, "runs": 2,
    "population": {
        "total": 400_000, "scale": 0.05,
        "groups": {"kazakh": 0.7, "russian": 0.16, "other": 0.14},
        "regions": {"north": 0.3, "south": 0.5, "capital": 0.2},
        "ages": {"young": 0.3, "middle": 0.45, "old": 0.25},
        "group_by_region": {"north": {"kazakh": 0.45, "russian": 0.4, "other": 0.15}},
    },
    "network": {"kind": "homophily", "mean_degree": 10, "within_group": 0.8,
                "within_region": 0.7},
    "model": {"name": "voter"},
    "initial": {"shares": {"A": 0.3, "B": 0.7},
                "by_group": {"russian": {"A": 0.6, "B": 0.4}}},
    "committed": {"stance": "B", "by_group": {"kazakh": 0.1}},
    "polls": [{"at": 2, "n": 400, "stratify_by": "region"}],
    "stop": {"max_sweeps": 4},
}


@pytest.fixture(scope="module")
def result():
    return steppe.run(POP)


def test_population_marginals_and_initial_shares(result):
    s = result.series
    start = s[(s["time"] == 0) & (s["run"] == 0)]
    assert set(s["by"]) == {"all", "group", "region", "age"}
    counts = start[start["by"] == "group"].groupby("level", observed=True)["count"].sum()
    assert counts.to_dict() == {"kazakh": 14_000, "russian": 3_200, "other": 2_800}
    regions = start[start["by"] == "region"].groupby("level", observed=True)["count"].sum()
    assert regions.to_dict() == {"north": 6_000, "south": 10_000, "capital": 4_000}
    a = start[start["stance"] == "A"].set_index(["by", "level"], drop=False)
    assert a.loc[("group", "russian"), "share"].item() == pytest.approx(0.6)
    # 10% of Kazakhs are committed to B; uncommitted Kazakhs and "other" share one pool
    # that is exactly 30% A, placed at random: per group the share is hypergeometric
    # (sd about 0.008 for the 2,800 "other"); tolerance 4 sd
    assert a.loc[("group", "kazakh"), "share"].item() == pytest.approx(0.9 * 0.3, abs=0.02)
    assert a.loc[("group", "other"), "share"].item() == pytest.approx(0.3, abs=0.03)
    pooled = start[(start["by"] == "group") & (start["level"] != "russian")]
    pooled_a = pooled[pooled["stance"] == "A"]["count"].sum()
    assert pooled_a == round(0.3 * (14_000 - 1_400 + 2_800))  # exact in the pool


def test_network_carries_population_and_homophily(result):
    meta = result.metadata["network"]
    assert meta["name"] == "homophily" and meta["n"] == 20_000
    assert abs(meta["mean_degree"] - 10) < 0.5


def test_stratified_polls_by_region(result):
    p = result.polls
    assert set(p["run"]) == {0, 1} and (p["n"] == 400).all()
    assert np.allclose(p.groupby(["run", "method"])["estimate"].sum(), 1.0)


def test_scale_override_and_determinism():
    a = steppe.run(POP, overrides={"population.scale": 0.02}, runs=1)
    b = steppe.run(POP, overrides={"population.scale": 0.02}, runs=1, workers=1)
    assert a.metadata["network"]["n"] == 8_000
    assert a.series.equals(b.series)


@pytest.mark.parametrize(("change", "fragment"), [
    ({"committed": {"stance": "B", "by_group": {"kazak": 0.1}}},
     "committed.by_group.kazak: unknown group"),
    ({"initial": {"by_group": {"russian": {"A": 0.6, "B": 0.3}}}},
     "initial.by_group.russian: shares must sum to 1"),
    ({"network": {"kind": "complete", "n": 100}}, "needs network kind = 'homophily'"),
    ({"population": None}, "needs a [population] table"),
])
def test_population_errors(change, fragment):
    with pytest.raises(ScenarioError) as err:
        load_scenario({**POP, **change})
    assert fragment in str(err.value)


def test_group_names_need_a_population():
    scen = {"name": "x", "seed": 1, "network": {"kind": "sbm", "sizes": [10, 10],
                                                 "probabilities": [[0.5, 0.1], [0.1, 0.5]]},
            "model": {"name": "voter"}, "stop": {"max_sweeps": 1},
            "committed": {"stance": "A", "by_group": {"russian": 0.1}}}
    with pytest.raises(ScenarioError, match="group names need a"):
        load_scenario(scen)


def test_initial_shares_by_age_band_combine_with_groups():
    from steppe.engine.state import combine_shares

    data = {**POP, "initial": {"shares": {"A": 0.3, "B": 0.7},
                               "by_group": {"russian": {"A": 0.6, "B": 0.4}},
                               "by_age": {"old": {"A": 0.5, "B": 0.5}}},
            "committed": None, "polls": [], "stop": {"max_sweeps": 1}}
    data = {k: v for k, v in data.items() if v is not None}
    a = assemble(load_scenario(data), 0)
    net, st = a.network, a.state
    group = net.attributes["group"][0]
    age = net.attributes["age"][0]
    base = np.array([0.3, 0.7])
    for g, gvec in ((0, None), (1, np.array([0.6, 0.4]))):
        for a, avec in ((0, None), (2, np.array([0.5, 0.5]))):
            cell = (group == g) & (age == a)
            want = combine_shares(gvec, avec, base)[0]
            got = np.mean(st.stance[cell] == 0)
            assert abs(got - want) <= 1.0 / cell.sum() + 1e-12, (g, a, got, want)


def test_media_exposure_by_age_band_multiplies_exposure():
    data = {**POP, "media": [{"name": "tv", "stance": "A", "strength": 0.1, "exposure": 0.4,
                              "exposure_by_age": {"old": 2.0, "young": 0.5}}],
            "polls": [], "stop": {"max_sweeps": 1}}
    a = assemble(load_scenario(data), 0)
    net = a.network
    [tv] = [p for p in a.pressures if p.field == "media"]
    age = net.attributes["age"][0]
    assert np.allclose(tv.exposure[age == 0], 0.2)
    assert np.allclose(tv.exposure[age == 1], 0.4)
    assert np.allclose(tv.exposure[age == 2], 0.8)


def test_unknown_age_band_names_its_field():
    data = {**POP, "initial": {"shares": {"A": 0.3, "B": 0.7},
                               "by_age": {"ancient": {"A": 1.0}}}}
    with pytest.raises(ScenarioError) as err:
        load_scenario(data).check()
    assert err.value.field == "initial.by_age.ancient"
