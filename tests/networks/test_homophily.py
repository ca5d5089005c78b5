"""Homophily network: the closed-form solve, the sampled shares, the CSR contract, errors.

Standard errors. Every pair of agents is an edge independently (binomial count per block
pair, then a uniform set of distinct pairs: exactly independent Bernoulli edges), so the
number of edges M is a sum of independent Bernoullis with tiny p, Var M ~= E M, and the
mean degree 2M/n has SE 2 sqrt(E M) / n. The share of within-group edges W/M (each edge
gives two edge ends with the same indicator, so the share of ends equals the share of edges;
a binomial over the M *edges*, not the 2M ends, is the right count) has, by the delta method,
Var ~= phi (1 - phi) / E M: the binomial SE. Tolerance: 4 SE.
"""

from __future__ import annotations

import numpy as np
import pytest

from steppe.errors import ParameterError
from steppe.networks import homophily_network
from steppe.networks.homophily import solve_homophily
from steppe.population import Population, synthesize
from tests.networks.test_csr_common import assert_well_formed

GROUPS = {"K": 0.65, "R": 0.25, "O": 0.10}
REGIONS = {"n": 0.3, "c": 0.2, "s": 0.35, "w": 0.15}
GBR = {"n": {"K": 0.35, "R": 0.55, "O": 0.10}, "c": {"K": 0.6, "R": 0.3, "O": 0.1}}


def pop(n=30_000, seed=0):
    return synthesize(n, groups=GROUPS, regions=REGIONS, group_by_region=GBR, seed=seed)


def reference_shares(sizes, h_g, h_r, d):
    """Expected within-group / within-region shares of edge ends and the mean degree, by an
    explicit sum over all ordered block pairs (independent of the closed form)."""
    nr, ng = sizes.shape
    s = sizes.ravel().astype(float)
    reg = np.repeat(np.arange(nr), ng)
    grp = np.tile(np.arange(ng), nr)
    same_g = grp[:, None] == grp[None, :]
    same_r = reg[:, None] == reg[None, :]
    f = np.where(same_g, h_g, 1.0) * np.where(same_r, h_r, 1.0)
    pairs = s[:, None] * (s[None, :] - np.eye(len(s)))  # ordered distinct pairs
    w = pairs * f
    c = s.sum() * d / w.sum()
    return (w[same_g].sum() / w.sum(), w[same_r].sum() / w.sum(), c * w.sum() / s.sum(),
            c * f.max())


@pytest.mark.parametrize("wg, wr", [(0.85, 0.7), (0.6, 0.5), (0.2, 0.1), (0.0, 0.4),
                                    (0.5, 0.0), (0.99, 0.95), (0.9, None), (None, 0.8)])
def test_solve_against_explicit_block_sums(wg, wr):
    sizes = pop().block_sizes()
    h_g, h_r = solve_homophily(sizes, wg, wr)
    phi_g, phi_r, deg, _ = reference_shares(sizes, h_g, h_r, 10.0)
    if wg is not None:
        assert phi_g == pytest.approx(wg, abs=1e-9)
    else:
        assert h_g == 1.0
    if wr is not None:
        assert phi_r == pytest.approx(wr, abs=1e-9)
    else:
        assert h_r == 1.0
    assert deg == pytest.approx(10.0, rel=1e-12)


def test_below_baseline_gives_heterophily():
    sizes = pop().block_sizes()
    base_g, base_r, _, _ = reference_shares(sizes, 1.0, 1.0, 1.0)
    h_g, h_r = solve_homophily(sizes, base_g - 0.1, base_r - 0.05)
    assert h_g < 1 and h_r < 1
    h_g, h_r = solve_homophily(sizes, base_g, base_r)
    assert h_g == pytest.approx(1.0, abs=1e-9) and h_r == pytest.approx(1.0, abs=1e-9)


def measured(g, p):
    rows = np.repeat(np.arange(g.n), np.diff(g.indptr))
    return (float(np.mean(p.group[rows] == p.group[g.indices])),
            float(np.mean(p.region[rows] == p.region[g.indices])))


@pytest.mark.parametrize("wg, wr", [(0.85, 0.7), (0.3, 0.15)])
def test_sampled_shares_and_degree_within_standard_errors(wg, wr):
    # blocks of 1,000-6,000 agents: the largest block pairs (> 2**22 pairs) go through the
    # sampled path of _pairs, the others through the direct one
    p = pop(60_000)
    d = 10.0
    g = homophily_network(p, mean_degree=d, within_group=wg, within_region=wr, seed=4)
    em = p.n * d / 2
    sg, sr = measured(g, p)
    se_g = np.sqrt(wg * (1 - wg) / em)
    se_r = np.sqrt(wr * (1 - wr) / em)
    assert abs(sg - wg) < 4 * se_g, (sg, wg, se_g)
    assert abs(sr - wr) < 4 * se_r, (sr, wr, se_r)
    assert abs(g.mean_degree() - d) < 4 * 2 * np.sqrt(em) / p.n
    # the same shares would be far off if the two multipliers were solved one at a time
    # (ignoring that groups cluster in regions): the joint solve is what the test checks
    h_alone = solve_homophily(p.block_sizes(), wg, None)[0]
    assert abs(reference_shares(p.block_sizes(), h_alone, g.params["h_region"], d)[0]
               - wg) > 10 * se_g


def test_block_pair_counts_match_expectation():
    p = pop(20_000)
    g = homophily_network(p, mean_degree=8, within_group=0.8, within_region=0.6, seed=9)
    sizes = p.block_sizes().ravel().astype(float)
    ng = len(p.group_labels)
    block = p.region.astype(np.int64) * ng + p.group
    rows = np.repeat(np.arange(g.n), np.diff(g.indptr))
    keep = rows < g.indices  # each edge once
    b1, b2 = block[rows[keep]], block[g.indices[keep]]
    nb = len(sizes)
    counts = np.bincount(np.minimum(b1, b2) * nb + np.maximum(b1, b2),
                         minlength=nb * nb).reshape(nb, nb)
    c = g.params["edge_probability"]
    hg, hr = g.params["h_group"], g.params["h_region"]
    z = []
    for k in range(nb):
        for m in range(k, nb):
            f = (hg if k % ng == m % ng else 1) * (hr if k // ng == m // ng else 1)
            pairs = sizes[k] * (sizes[k] - 1) / 2 if k == m else sizes[k] * sizes[m]
            mu = pairs * c * f
            if mu > 0:
                z.append((counts[k, m] - mu) / np.sqrt(mu * (1 - c * f)))
    z = np.array(z)
    # 78 block pairs, binomial counts: no |z| beyond 4.5, and sum z^2 ~ chi2(78)
    assert np.abs(z).max() < 4.5
    assert (z**2).sum() < 78 + 5 * np.sqrt(2 * 78)


def test_contract_groups_params_and_seeds():
    p = pop(8_000)
    a = homophily_network(p, mean_degree=6, within_group=0.8, within_region=0.6, seed=1)
    assert_well_formed(a)
    assert a.name == "homophily" and not a.directed
    assert a.groups.dtype == np.int32 and np.array_equal(a.groups, p.group)
    for key in ("h_group", "h_region", "within_group", "within_region", "mean_degree",
                "edge_probability", "baseline_within_group", "baseline_within_region"):
        assert key in a.params
    assert a.params["within_group"] == 0.8 and a.params["h_group"] > 1
    b = homophily_network(p, mean_degree=6, within_group=0.8, within_region=0.6, seed=1)
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    c = homophily_network(p, mean_degree=6, within_group=0.8, within_region=0.6,
                          seed=np.random.SeedSequence(1))
    assert np.array_equal(a.indices, c.indices)
    d = homophily_network(p, mean_degree=6, within_group=0.8, within_region=0.6, seed=2)
    assert not np.array_equal(a.indices, d.indices)


def test_empty_blocks_and_no_preference():
    p = synthesize(3000, groups={"a": 0.5, "b": 0.5}, regions={"x": 0.5, "y": 0.5},
                   group_by_region={"x": {"a": 1.0}, "y": {"b": 1.0}}, seed=0)
    assert (p.block_sizes() == 0).sum() == 2
    g = homophily_network(p, mean_degree=5, within_group=None, within_region=None, seed=0)
    assert_well_formed(g)
    assert g.params["h_group"] == 1.0 and g.params["h_region"] == 1.0
    # groups == regions here: a group target and a region target must agree, else no solve
    g = homophily_network(p, mean_degree=5, within_group=0.7, within_region=None, seed=0)
    assert_well_formed(g)
    with pytest.raises(ParameterError):
        homophily_network(p, mean_degree=5, within_group=0.7, within_region=0.6, seed=0)


@pytest.mark.parametrize("kw, field", [
    ({"within_group": 1.0}, "within_group"),
    ({"within_group": -0.1}, "within_group"),
    ({"within_region": 1.5}, "within_region"),
    ({"within_region": "high"}, "within_region"),
    ({"within_group": float("nan")}, "within_group"),
    ({"mean_degree": -1}, "mean_degree"),
    ({"mean_degree": 5000}, "mean_degree"),
    ({"mean_degree": 500, "within_group": 0.99}, "mean_degree"),  # p > 1
    ({"seed": -3}, "seed"),
])
def test_bad_parameters(kw, field):
    p = pop(1000)
    args = {"mean_degree": 5, "within_group": 0.8, "within_region": 0.6, "seed": 0, **kw}
    with pytest.raises(ParameterError) as e:
        homophily_network(p, **args)
    assert e.value.field == field


def test_single_region_needs_none_and_unsorted_population_refused():
    p = synthesize(500, groups={"a": 0.5, "b": 0.5}, seed=0)
    with pytest.raises(ParameterError) as e:
        homophily_network(p, mean_degree=4, within_group=0.8, within_region=0.5, seed=0)
    assert e.value.field == "within_region" and "None" in str(e.value)
    g = homophily_network(p, mean_degree=4, within_group=0.8, within_region=None, seed=0)
    assert_well_formed(g)
    perm = np.random.default_rng(0).permutation(p.n)
    q = Population(p.n, p.group[perm], p.group_labels, p.region[perm], p.region_labels,
                   p.age[perm], p.age_labels)
    with pytest.raises(ParameterError) as e:
        homophily_network(q, mean_degree=4, within_group=0.8, within_region=None, seed=0)
    assert e.value.field == "population"


def test_equal_degree_variant():
    # degree-corrected: every block's expected degree is d (explicit sums), and the sampled
    # per-group mean degrees and national shares agree within 4 SE (SE of a group's mean
    # degree: 2 sqrt(E edges touching it) / size ~ sqrt(2 d / size) as edges are Poisson-like
    # — an upper bound: ends inside the group are counted twice, SE <= 2 sqrt(d n_g) / n_g)
    p = pop(60_000)
    d = 10.0
    g = homophily_network(p, mean_degree=d, within_group=0.85, within_region=0.7, seed=5,
                          equal_degree=True)
    assert_well_formed(g)
    th = np.array(g.params["block_weights"])
    sizes = p.block_sizes()
    s = sizes.ravel().astype(float)
    ng = sizes.shape[1]
    reg = np.repeat(np.arange(sizes.shape[0]), ng)
    grp = np.tile(np.arange(ng), sizes.shape[0])
    f = (np.where(grp[:, None] == grp[None, :], g.params["h_group"], 1.0)
         * np.where(reg[:, None] == reg[None, :], g.params["h_region"], 1.0))
    pm = g.params["edge_probability"] * np.outer(th, th) * f
    exp_deg = (pm * (s[None, :] - np.eye(len(s)))).sum(axis=1)
    assert np.allclose(exp_deg, d, rtol=1e-9)
    w = s[:, None] * (s[None, :] - np.eye(len(s))) * pm
    assert w[grp[:, None] == grp[None, :]].sum() / w.sum() == pytest.approx(0.85, abs=1e-9)
    assert w[reg[:, None] == reg[None, :]].sum() / w.sum() == pytest.approx(0.7, abs=1e-9)
    deg = g.degree()
    for c in range(ng):
        size = int((p.group == c).sum())
        assert abs(deg[p.group == c].mean() - d) < 4 * 2 * np.sqrt(d * size) / size
    em = p.n * d / 2
    sg, sr = measured(g, p)
    assert abs(sg - 0.85) < 4 * np.sqrt(0.85 * 0.15 / em)
    assert abs(sr - 0.7) < 4 * np.sqrt(0.7 * 0.3 / em)
    # the default variant does not equalise: Kazakh ("K", 65%) agents have more ties
    g0 = homophily_network(p, mean_degree=d, within_group=0.85, within_region=0.7, seed=5)
    d0 = g0.degree()
    assert d0[p.group == 0].mean() > d0[p.group == 2].mean() + 2
