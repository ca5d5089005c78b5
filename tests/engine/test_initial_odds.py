"""Initial shares as national figures with gradients as odds factors, and "rest" shares."""

from __future__ import annotations

import numpy as np
import pytest

import steppe
from steppe.assembly import assemble
from steppe.engine.state import odds_shares
from steppe.errors import ScenarioError


def test_odds_shares_keep_the_target_and_the_odds_ratios():
    gen = np.random.default_rng(0)
    w = gen.integers(1, 1000, 12).astype(float)
    f = np.exp(gen.normal(0, 1, (12, 3)))
    target = np.array([0.2, 0.5, 0.3])
    p = odds_shares(w, f, target)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose((w / w.sum()) @ p, target, atol=1e-12)
    # the odds of stance 0 against stance 1 differ between cells by the factors' ratio
    np.testing.assert_allclose((p[:, 0] / p[:, 1]) / (p[0, 0] / p[0, 1]),
                               (f[:, 0] / f[:, 1]) / (f[0, 0] / f[0, 1]), rtol=1e-9)


SCEN = {"name": "odds", "seed": 1,
        "population": {"total": 60_000, "groups": {"kazakh": 0.7, "russian": 0.16,
                                                   "other": 0.14},
                       "ages": {"young": 0.4, "old": 0.6},
                       "languages": {"russian": 0.55, "kazakh": 0.45},
                       "language_by_group": {"russian": {"russian": 1.0}}},
        "network": {"kind": "homophily", "mean_degree": 6},
        "model": {"name": "voter"},
        "initial": {"shares": {"A": 0.3, "B": "rest"},
                    "odds": {"group": {"russian": {"A": 5.0}},
                             "language": {"russian": {"A": 2.0}}}},
        "stop": {"max_sweeps": 1, "at_consensus": False}}


def _initial(scen):
    r = steppe.run(scen)
    s = r.series[(r.series.step == 0) & (r.series.stance == "A")]
    return s.assign(level=s.level.astype(str), by=s.by.astype(str)).set_index(["by", "level"])


def test_national_share_holds_and_gradients_are_odds_ratios():
    s = _initial(SCEN)
    # national: exact up to one agent of rounding per cell (group x language cells: 5)
    assert abs(s.loc[("all", "all"), "count"] - 0.3 * 60_000) <= 5
    # among Kazakhs, Russian speakers have twice the odds of Kazakh speakers (the initial
    # state of run 0, cell by cell)
    a = assemble(steppe.load_scenario(SCEN), 0)
    group, lang, st0 = a.network.attributes["group"][0], a.network.attributes["language"][0], \
        a.state.stance
    kaz = group == 0
    p_ru = np.mean(st0[kaz & (lang == 0)] == 0)
    p_kz = np.mean(st0[kaz & (lang == 1)] == 0)
    assert abs((p_ru / (1 - p_ru)) / (p_kz / (1 - p_kz)) - 2.0) < 0.01
    ru = group == 1
    p_rus = np.mean(st0[ru] == 0)
    assert abs((p_rus / (1 - p_rus)) / (p_ru / (1 - p_ru)) - 5.0) < 0.05


def test_rest_shares_and_their_errors():
    sc = steppe.load_scenario(SCEN)
    assert sc.spec.initial.share_table() == {"A": 0.3, "B": 0.7}
    assert sc.data()["initial"]["shares"]["B"] == "rest"  # kept through a dump (variants)
    bad = dict(SCEN, initial={"shares": {"A": "rest", "B": "rest"}})
    with pytest.raises(ScenarioError, match="only one share can be the rest"):
        steppe.load_scenario(bad)
    bad = dict(SCEN, initial={"shares": {"A": 1.0, "B": 0.2, "C": "rest"}})
    with pytest.raises(ScenarioError):
        steppe.load_scenario(bad)


@pytest.mark.parametrize(("odds", "field"), [
    ({"religion": {"x": {"A": 2.0}}}, "initial.odds.religion"),
    ({"group": {"martian": {"A": 2.0}}}, "initial.odds.group.martian"),
    ({"age": {"young": {"C": 2.0}}}, "initial.odds.age.young.C"),
])
def test_bad_odds_name_their_field(odds, field):
    scen = dict(SCEN, initial={"shares": {"A": 0.3, "B": 0.7}, "odds": odds})
    with pytest.raises(ScenarioError) as err:
        steppe.load_scenario(scen)
    assert err.value.field == field


def test_odds_and_tables_do_not_mix():
    scen = dict(SCEN, initial={"shares": {"A": 0.3, "B": 0.7},
                               "odds": {"group": {"russian": {"A": 2.0}}},
                               "by_age": {"young": {"A": 0.5, "B": 0.5}}})
    with pytest.raises(ScenarioError, match="not both"):
        steppe.load_scenario(scen)
