"""Synthetic populations: marginals, joint tables, ages, errors, determinism.

Statistical tolerances (exact=False): every agent is an independent draw (region, then group
given region, then age given group), so any cell count is Binomial(n, p_cell) with
p_cell = rho_r * mix_r[g] (national marginals: Binomial(n, s_g)); SE = sqrt(n p (1 - p)).
Each check allows 4.5 SE per cell (with <= 60 cells per test, a false alarm has probability
about 60 * 7e-6 < 1e-3, and the seed is fixed anyway).
"""

from __future__ import annotations

import numpy as np
import pytest

from steppe.errors import ParameterError
from steppe.population import Population, synthesize
from steppe.rounding import largest_remainder as apportion

GROUPS = {"Kazakh": 0.70, "Russian": 0.16, "other": 0.14}
REGIONS = {"north": 0.2, "capital": 0.25, "south": 0.35, "west": 0.2}
AGES = {"18-29": 0.25, "30-44": 0.3, "45-59": 0.25, "60+": 0.2}
GBR = {"north": {"Kazakh": 0.4, "Russian": 0.45, "other": 0.15},
       "capital": {"Kazakh": 0.65, "Russian": 0.2, "other": 0.15}}
ABG = {"Russian": {"18-29": 0.15, "30-44": 0.25, "45-59": 0.3, "60+": 0.3}}


def residual(shares, rows, listed):
    """Residual column mix of unlisted rows (module docstring formula), computed here
    independently from plain dicts."""
    cols = list(shares)
    rest = 1 - sum(rows[r] for r in listed)
    return {c: (shares[c] - sum(rows[r] * listed[r].get(c, 0) for r in listed)) / rest
            for c in cols}


def full(n, **kw):
    return synthesize(n, groups=GROUPS, regions=REGIONS, ages=AGES, group_by_region=GBR,
                      age_by_group=ABG, **kw)


def test_layout_dtypes_memory_and_sorting():
    p = full(10_007, seed=1)
    assert p.group.dtype == np.int8 and p.region.dtype == np.int16 and p.age.dtype == np.int8
    assert p.nbytes == 5 * p.n  # group, region (2), age, language
    assert p.group_labels == tuple(GROUPS) and p.region_labels == tuple(REGIONS)
    assert p.age_labels == tuple(AGES)
    assert p.is_block_sorted()
    key = p.region.astype(np.int64) * 3 + p.group
    assert np.all(np.diff(key) >= 0)
    attrs = p.attributes()
    assert set(attrs) == {"group", "region", "age", "language"}
    assert attrs["region"][0] is p.region and attrs["region"][1] == tuple(REGIONS)
    assert np.array_equal(p.block_sizes(), p.crosstab("region", "group"))
    # ages are shuffled inside each block: not sorted in a large block
    b = p.age[(p.region == 2) & (p.group == 0)]
    assert np.any(np.diff(b.astype(int)) < 0)


def test_exact_marginals_without_tables():
    n = 10_007
    p = synthesize(n, groups=GROUPS, regions=REGIONS, ages=AGES, seed=0)
    for attr, shares in (("group", GROUPS), ("region", REGIONS), ("age", AGES)):
        want = apportion(n, np.array(list(shares.values())))  # the engine's rule
        assert p.table(attr).tolist() == want.tolist(), attr
    # no joint table: each region's group mix is the national one, up to rounding (the
    # sequential spread moves at most a few agents per cell)
    ct = p.crosstab("region", "group")
    expect = np.outer(p.table("region"), list(GROUPS.values()))
    assert np.abs(ct - expect).max() <= 2
    ct = p.crosstab("group", "age")
    expect = np.outer(p.table("group"), list(AGES.values()))
    assert np.abs(ct - expect).max() <= 2


def test_joint_tables_exact_and_national_marginal_kept():
    n = 50_003
    p = full(n, seed=2)
    r_tot = p.table("region")
    assert r_tot.tolist() == apportion(n, np.array(list(REGIONS.values()))).tolist()
    # national marginals exact although only two regions have a table
    assert p.table("group").tolist() == apportion(n, np.array(list(GROUPS.values()))).tolist()
    assert p.table("age").tolist() == apportion(n, np.array(list(AGES.values()))).tolist()
    ct = p.crosstab("region", "group")
    labels = list(REGIONS)
    for r, mix in GBR.items():
        i = labels.index(r)
        assert ct[i].tolist() == apportion(int(r_tot[i]), np.array(list(mix.values()))).tolist()
    # unlisted regions get the residual mix (not the national one): within a few agents
    q = residual(GROUPS, REGIONS, GBR)
    for r in ("south", "west"):
        i = labels.index(r)
        assert np.abs(ct[i] - r_tot[i] * np.array(list(q.values()))).max() <= 2
    # ages: the listed group exact, the others the residual mix
    ga = p.crosstab("group", "age")
    g_tot = p.table("group")
    assert ga[1].tolist() == apportion(int(g_tot[1]), np.array(list(ABG["Russian"].values())))\
        .tolist()
    qa = residual(AGES, GROUPS, ABG)
    for g in (0, 2):
        assert np.abs(ga[g] - g_tot[g] * np.array(list(qa.values()))).max() <= 2
    # age independent of region given group: the Russians of each region have the Russian
    # age mix (within rounding)
    for i in range(4):
        sel = (p.region == i) & (p.group == 1)
        counts = np.bincount(p.age[sel], minlength=4)
        assert np.abs(counts - sel.sum() * np.array(list(ABG["Russian"].values()))).max() <= 2


def test_multinomial_marginals_and_joint_within_sampling_error():
    n = 400_000
    p = full(n, seed=3, exact=False)
    assert p.is_block_sorted()
    checks = []  # (observed, probability)
    for attr, shares in (("group", GROUPS), ("region", REGIONS), ("age", AGES)):
        t = p.table(attr)
        checks += list(zip(t.tolist(), shares.values(), strict=True))
    q = residual(GROUPS, REGIONS, GBR)
    ct = p.crosstab("region", "group")
    for i, (r, rho) in enumerate(REGIONS.items()):
        mix = GBR.get(r, q)
        checks += [(ct[i, j], rho * mix[g]) for j, g in enumerate(GROUPS)]
    qa = residual(AGES, GROUPS, ABG)
    ga = p.crosstab("group", "age")
    for j, (g, sg) in enumerate(GROUPS.items()):
        mix = ABG.get(g, qa)
        checks += [(ga[j, k], sg * mix[a]) for k, a in enumerate(AGES)]
    z = [(obs - n * pr) / np.sqrt(n * pr * (1 - pr)) for obs, pr in checks]
    assert max(abs(v) for v in z) < 4.5, z
    # not exact: counts differ from the largest-remainder ones
    assert p.table("group").tolist() != full(n, seed=3).table("group").tolist()


def test_inconsistent_joint_table_names_region_group_and_numbers():
    with pytest.raises(ParameterError) as e:
        synthesize(1000, groups={"Kazakh": 0.9, "Russian": 0.1}, regions={"a": 0.5, "b": 0.5},
                   group_by_region={"a": {"Kazakh": 0.7, "Russian": 0.3}}, seed=0)
    msg = str(e.value)
    assert e.value.field == "group_by_region"
    assert "'Russian'" in msg and "a 0.5 x 0.3" in msg and "0.15" in msg and "0.1" in msg
    with pytest.raises(ParameterError) as e:
        synthesize(1000, groups={"x": 0.5, "y": 0.5}, ages={"old": 0.2, "young": 0.8},
                   age_by_group={"x": {"old": 0.5, "young": 0.5}}, seed=0)
    assert e.value.field == "age_by_group" and "'old'" in str(e.value)


def test_all_regions_listed_consistent_table_keeps_marginal():
    gbr = {"a": {"x": 0.8, "y": 0.2}, "b": {"x": 0.2, "y": 0.8}}
    p = synthesize(1001, groups={"x": 0.5, "y": 0.5}, regions={"a": 0.5, "b": 0.5},
                   group_by_region=gbr, seed=0)
    assert p.table("group").tolist() == [501, 500]
    assert np.abs(p.crosstab("region", "group") - [[400.8, 100.2], [100, 400]]).max() <= 1.5


def test_rounding_deficit_is_repaired():
    # the listed regions use up all of group y; rounding each region up would need more y
    # agents than the national count: the repair keeps the national marginal exact
    gbr = {r: {"x": 0.5, "y": 0.5} for r in "abc"}
    p = synthesize(10, groups={"x": 0.5, "y": 0.5}, regions={"a": 1 / 3, "b": 1 / 3,
                                                             "c": 1 / 3},
                   group_by_region=gbr, seed=0)
    assert p.table("group").tolist() == [5, 5]
    assert p.table("region").sum() == 10


@pytest.mark.parametrize("kw, field", [
    ({"groups": {"a": 0.5, "b": 0.4}}, "groups"),
    ({"regions": {"r": 0.5, "s": 0.6}}, "regions"),
    ({"ages": {"young": 1.1}}, "ages"),
    ({"groups": {"a": -0.5, "b": 1.5}}, "groups.a"),
    ({"groups": {}}, "groups"),
    ({"regions": {"r": 0.5, "s": 0.5}, "group_by_region": {"r": {"a": 0.5, "b": 0.6}}},
     "group_by_region.r"),
    ({"regions": {"r": 0.5, "s": 0.5}, "group_by_region": {"t": {"a": 1.0}}},
     "group_by_region.t"),
    ({"regions": {"r": 0.5, "s": 0.5}, "group_by_region": {"r": {"zz": 1.0}}},
     "group_by_region.r.zz"),
    ({"group_by_region": {"r": {"a": 1.0}}}, "group_by_region"),
    ({"age_by_group": {"a": {"x": 1.0}}}, "age_by_group"),
    ({"n": 0}, "n"),
    ({"seed": -1}, "seed"),
])
def test_bad_parameters(kw, field):
    args = {"n": 100, "groups": {"a": 0.5, "b": 0.5}, "seed": 0, **kw}
    with pytest.raises(ParameterError) as e:
        synthesize(**args)
    assert e.value.field == field


def test_seeds():
    a = full(5000, seed=7)
    b = full(5000, seed=np.random.SeedSequence(7))
    c = full(5000, seed=8)
    for attr in ("group", "region", "age"):
        assert np.array_equal(getattr(a, attr), getattr(b, attr))
    assert np.array_equal(a.group, c.group)  # exact counts do not depend on the seed
    assert not np.array_equal(a.age, c.age)  # the order of ages inside blocks does
    d = full(5000, seed=7, exact=False)
    e = full(5000, seed=7, exact=False)
    assert np.array_equal(d.age, e.age) and np.array_equal(d.region, e.region)


def test_defaults_and_population_checks():
    p = synthesize(7, groups={"only": 1.0}, seed=0)
    assert p.region_labels == ("all",) and p.age_labels == ("all",)
    assert p.table("region").tolist() == [7] and p.table("age").tolist() == [7]
    with pytest.raises(ParameterError):
        p.table("colour")
    with pytest.raises(ParameterError):
        Population(2, np.array([0, 2], np.int8), ("a", "b"), np.zeros(2, np.int16), ("r",),
                   np.zeros(2, np.int8), ("all",))
    with pytest.raises(ParameterError):
        Population(2, np.array([0, 1], np.int64), ("a", "b"), np.zeros(2, np.int16), ("r",),
                   np.zeros(2, np.int8), ("all",))


def test_scale_two_million_is_fast():
    import time

    t0 = time.perf_counter()
    p = full(2_000_000, seed=0)
    dt = time.perf_counter() - t0
    assert p.n == 2_000_000
    assert dt < 5.0, dt  # 19.5 million take a few seconds (benchmarks/bench_population.py)


def test_languages_within_groups_exact_and_independent_of_the_rest():
    """National language shares and the listed groups' mixes hold exactly (largest
    remainder); unlisted groups get the residual mix; ages and regions are those of the
    same population without languages (languages are drawn last)."""
    langs = {"russian": 0.55, "kazakh": 0.45}
    by_group = {"Russian": {"russian": 1.0}}
    p = full(20_000, seed=3, languages=langs, language_by_group=by_group)
    q = full(20_000, seed=3)
    assert np.array_equal(p.age, q.age) and np.array_equal(p.region, q.region)
    assert p.language_labels == ("russian", "kazakh")
    assert p.table("language").tolist() == [11_000, 9_000]
    table = p.crosstab("group", "language")
    g = list(GROUPS).index("Russian")
    assert table[g, 1] == 0
    # residual mix of the other groups: (0.55 - share of Russians) / (1 - share of Russians)
    rest = np.delete(table, g, axis=0)
    want = (0.55 - GROUPS["Russian"]) / (1 - GROUPS["Russian"])
    assert abs(rest[:, 0].sum() / rest.sum() - want) < 1e-3
    # independent of age band given the group: each age band speaks about the group's mix
    kaz = p.group == list(GROUPS).index(next(iter(GROUPS)))
    for a in range(len(AGES)):
        sel = kaz & (p.age == a)
        if sel.sum() > 500:
            share = np.mean(p.language[sel] == 0)
            ref = np.mean(p.language[kaz] == 0)
            se = np.sqrt(ref * (1 - ref) / sel.sum())
            assert abs(share - ref) < 4 * se


def test_languages_that_need_more_than_there_is_are_refused():
    with pytest.raises(ParameterError, match="language_by_group"):
        full(1000, seed=1, languages={"russian": 0.1, "kazakh": 0.9},
             language_by_group={"Russian": {"russian": 1.0}})


def test_arrivals_speak_as_the_residents_of_their_group():
    from steppe.population.arrivals import ArrivalPool, with_arrivals

    res = full(5000, seed=2, languages={"russian": 0.55, "kazakh": 0.45},
               language_by_group={"Russian": {"russian": 1.0}})
    pop, origin, _ = with_arrivals(res, [ArrivalPool("wave", 400, {"Russian": 1.0})], seed=4)
    assert np.all(pop.language[origin == 1] == 0)  # Russians: all Russian-speaking
    assert pop.table("language").sum() == 5400
