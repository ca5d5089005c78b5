"""Time :func:`steppe.population.synthesize` and :func:`steppe.networks.homophily_network`
at country scale.

Usage::

    python benchmarks/bench_population.py [--n 19500000] [--mean-degree 10]
                                          [--within-group 0.85] [--within-region 0.7]

A Kazakhstan-like population: 3 groups (Kazakh 70.4%, Russian 15.54%, other; 2021 census,
``scenarios/data/kazakhstan/population.csv``), the 17 regions before the 2022 split with
*made-up* round shares, the group mix of six regions from ``regions.csv`` (the missing
"other" share filled in; Almaty city's Kazakh share made up) and made-up age bands, older
among Russians. Prints: synthesis seconds, network seconds, edges, bytes of the population
arrays and of the CSR arrays, the solved multipliers, measured within-group / within-region
shares, mean degree per group, and the peak resident set size of the process
(``resource.getrusage``; Linux reports kilobytes). Small warm-up builds compile (or load
cached) Numba kernels first, so timings exclude compilation.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import resource
import sys
import time

import numpy as np

from _machine import machine
from steppe.networks import homophily_network
from steppe.population import synthesize

GROUPS = {"Kazakh": 0.704, "Russian": 0.1554, "other": 1 - 0.704 - 0.1554}
# made-up round shares of the 17 regions (pre-2022 division), summing to 1
REGIONS = {
    "Almaty (city)": 0.10, "Astana": 0.065, "Shymkent": 0.055, "Akmola": 0.04,
    "Aktobe": 0.05, "Almaty": 0.125, "Atyrau": 0.035, "East Kazakhstan": 0.07,
    "Zhambyl": 0.06, "West Kazakhstan": 0.035, "Karaganda": 0.07, "Kostanay": 0.045,
    "Kyzylorda": 0.04, "Mangystau": 0.035, "Pavlodar": 0.04, "North Kazakhstan": 0.03,
    "Turkistan": 0.105,
}
# regions.csv (years differ; "other" = the rest); Almaty city's Kazakh share is made up
GROUP_BY_REGION = {
    "Akmola": {"Kazakh": 0.5581, "Russian": 0.2692, "other": 1 - 0.5581 - 0.2692},
    "Pavlodar": {"Kazakh": 0.5594, "Russian": 0.2956, "other": 1 - 0.5594 - 0.2956},
    "Kostanay": {"Kazakh": 0.4027, "Russian": 0.4128, "other": 1 - 0.4027 - 0.4128},
    "North Kazakhstan": {"Kazakh": 0.3589, "Russian": 0.4825, "other": 1 - 0.3589 - 0.4825},
    "East Kazakhstan": {"Kazakh": 0.55, "Russian": 0.41, "other": 0.04},
    "Almaty (city)": {"Kazakh": 0.60, "Russian": 0.21, "other": 0.19},
}
AGES = {"0-17": 0.31, "18-29": 0.17, "30-44": 0.23, "45-59": 0.16, "60+": 0.13}
AGE_BY_GROUP = {"Russian": {"0-17": 0.18, "18-29": 0.12, "30-44": 0.20, "45-59": 0.22,
                            "60+": 0.28}}


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far, in bytes."""
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return ru if sys.platform == "darwin" else ru * 1024


def build(n: int, d: float, wg: float, wr: float, seed: int, eq: bool = False):
    t0 = time.perf_counter()
    pop = synthesize(n, groups=GROUPS, regions=REGIONS, ages=AGES,
                     group_by_region=GROUP_BY_REGION, age_by_group=AGE_BY_GROUP, seed=seed)
    t1 = time.perf_counter()
    g = homophily_network(pop, mean_degree=d, within_group=wg, within_region=wr,
                          seed=seed + 1, equal_degree=eq)
    t2 = time.perf_counter()
    return pop, g, t1 - t0, t2 - t1


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=19_500_000)
    ap.add_argument("--mean-degree", type=float, default=10.0)
    ap.add_argument("--within-group", type=float, default=0.85)
    ap.add_argument("--within-region", type=float, default=0.7)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--equal-degree", action="store_true",
                    help="degree-corrected variant (every agent expects mean-degree ties)")
    a = ap.parse_args(argv)

    # warm-up: compile / load the Numba cache
    build(20_000, 5, a.within_group, a.within_region, 0, a.equal_degree)
    gc.collect()
    base = peak_rss_bytes()
    pop, g, t_pop, t_net = build(a.n, a.mean_degree, a.within_group, a.within_region, a.seed,
                                  a.equal_degree)
    peak = peak_rss_bytes()
    rows = np.repeat(np.arange(g.n, dtype=np.int64), np.diff(g.indptr))
    same_g = float(np.mean(pop.group[rows] == pop.group[g.indices]))
    same_r = float(np.mean(pop.region[rows] == pop.region[g.indices]))
    del rows
    deg = g.degree()
    print(f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; machine: {machine()}")
    print(f"n = {a.n:,}; {len(pop.group_labels)} groups x {len(pop.region_labels)} regions x "
          f"{len(pop.age_labels)} age bands; mean degree {a.mean_degree}; "
          f"equal_degree={a.equal_degree}")
    print(f"synthesize:        {t_pop:8.2f} s   population arrays {pop.nbytes / 1e6:,.0f} MB")
    print(f"homophily_network: {t_net:8.2f} s   edges {g.n_edges:,}   CSR {g.nbytes / 1e6:,.0f} "
          f"MB (incl. int32 groups)")
    print(f"h_group = {g.params['h_group']:.4f}, h_region = {g.params['h_region']:.4f}; "
          f"within group {same_g:.4f} (target {a.within_group}, baseline "
          f"{g.params['baseline_within_group']:.4f}), within region {same_r:.4f} (target "
          f"{a.within_region}, baseline {g.params['baseline_within_region']:.4f})")
    for code, label in enumerate(pop.group_labels):
        print(f"  mean degree of {label}: {deg[pop.group == code].mean():.2f}")
    print(f"peak RSS {peak / 1e6:,.0f} MB (after warm-up {base / 1e6:,.0f} MB)")


if __name__ == "__main__":
    main()
