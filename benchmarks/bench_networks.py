"""Time :func:`steppe.networks.erdos_renyi` at scale.

Usage::

    python benchmarks/bench_networks.py [--n 20000000] [--mean-degree 10] [--repeats 3]

Prints one row per repeat and a summary: median seconds, edges, bytes of the CSR arrays and
the peak resident set size of the process (``resource.getrusage``, which on Linux reports
kilobytes). A small warm-up build compiles (or loads cached) Numba kernels first, so the
timings exclude compilation.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import resource
import statistics
import sys
import time

from _machine import machine
from steppe.networks import erdos_renyi


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far, in bytes."""
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return ru if sys.platform == "darwin" else ru * 1024


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000_000)
    ap.add_argument("--mean-degree", type=float, default=10.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    erdos_renyi(1000, 5, seed=0)  # warm-up: compile / load the Numba cache
    base_rss = peak_rss_bytes()
    times = []
    edges = nbytes = 0
    print(f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; machine: {machine()}")
    print(f"erdos_renyi(n={a.n:,}, mean_degree={a.mean_degree}) x {a.repeats}")
    print(f"{'run':>4} {'seconds':>9} {'edges':>14} {'CSR MB':>9} {'peak RSS MB':>12}")
    for r in range(a.repeats):
        gc.collect()
        t0 = time.perf_counter()
        g = erdos_renyi(a.n, a.mean_degree, seed=a.seed + r)
        dt = time.perf_counter() - t0
        times.append(dt)
        edges, nbytes = g.n_edges, g.nbytes
        print(f"{r:>4} {dt:>9.2f} {edges:>14,} {nbytes / 1e6:>9.0f} "
              f"{peak_rss_bytes() / 1e6:>12.0f}")
        del g
    print(f"median {statistics.median(times):.2f} s; edges {edges:,}; CSR {nbytes / 1e6:.0f} MB;"
          f" peak RSS {peak_rss_bytes() / 1e6:.0f} MB (before first build "
          f"{base_rss / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
