"""Throughput of the continuous bounded-confidence models at large N.

Run ``python benchmarks/bench_continuous.py [--n 1000000] [--repeats 3] [--json out.json]``.

- Deffuant–Weisbuch: *pair interactions per second* (one sweep = N interactions), on the
  implicit complete graph and on an Erdős–Rényi graph of mean degree 10.
- Hegselmann–Krause: *agent updates per second* (one synchronous step updates all N agents),
  on the same two graphs; on the complete graph a step is O(N) after sorting (prefix sums,
  two-pointer windows), on the Erdős–Rényi graph O(E).

Each repeat starts from a fresh state (opinions i.i.d. uniform on [0, 1], ε = 0.2, μ = 0.5,
no committed agents; building it is not timed) and times one ``model.advance`` call of
``--dw-sweeps`` sweeps or ``--hk-steps`` steps. Numba compilation is excluded by a warm-up
run on a small system. Reported: the median over repeats, and the spread (min–max).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import time

from _machine import machine
from steppe.distributions import Uniform
from steppe.engine.state import init_state
from steppe.models import get_model
from steppe.networks import complete_graph, erdos_renyi

UNIFORM = Uniform(dist="uniform", low=0.0, high=1.0)


def _time_advance(model, net, amount: int, seed: int) -> float:
    st = init_state(model, net, seed=seed, opinions=UNIFORM)
    t0 = time.perf_counter()
    model.advance(st, net, amount, False)
    return time.perf_counter() - t0


def bench(n: int, repeats: int, dw_sweeps: int, hk_steps: int, mean_degree: float,
          seed: int) -> list[dict]:
    dw = get_model("deffuant")(epsilon=0.2, mu=0.5)
    hk = get_model("hegselmann_krause")(epsilon=0.2)
    t0 = time.perf_counter()
    er = erdos_renyi(n, mean_degree, seed=seed)
    er_build = time.perf_counter() - t0
    nets = {"complete": complete_graph(n), f"erdos_renyi <k>={mean_degree:g}": er}
    # warm-up: compile every kernel on small systems
    for small in (complete_graph(200), erdos_renyi(200, 5, seed=1)):
        _time_advance(dw, small, 1, 0)
        _time_advance(hk, small, 2, 0)
    rows = []
    for gname, net in nets.items():
        for label, model, amount, unit in (("deffuant", dw, dw_sweeps, "interactions/s"),
                                           ("hegselmann_krause", hk, hk_steps,
                                            "agent updates/s")):
            times = [_time_advance(model, net, amount, seed + r) for r in range(repeats)]
            work = amount * n
            med = statistics.median(times)
            rows.append({
                "model": label, "network": gname, "n": n, "amount": amount,
                "unit": unit, "seconds_median": med, "seconds_min": min(times),
                "seconds_max": max(times), "rate_median": work / med,
                "rate_min": work / max(times), "rate_max": work / min(times),
                "graph_build_seconds": er_build if gname != "complete" else 0.0,
            })
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="number of agents")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats per case")
    ap.add_argument("--dw-sweeps", type=int, default=5, help="Deffuant sweeps per repeat")
    ap.add_argument("--hk-steps", type=int, default=10, help="HK steps per repeat")
    ap.add_argument("--mean-degree", type=float, default=10.0,
                    help="mean degree of the Erdős–Rényi graph")
    ap.add_argument("--seed", type=int, default=1, help="seed of the graph and the states")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args()
    rows = bench(args.n, args.repeats, args.dw_sweeps, args.hk_steps, args.mean_degree,
                 args.seed)
    print(f"N = {args.n:,}; median of {args.repeats} repeats (min–max); "
          f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {machine()}")
    print(f"{'model':<18} {'network':<22} {'rate (median)':>16} {'range':>26}  unit")
    for r in rows:
        rng = f"{r['rate_min'] / 1e6:.2f}–{r['rate_max'] / 1e6:.2f} M"
        print(f"{r['model']:<18} {r['network']:<22} {r['rate_median'] / 1e6:>14.2f} M "
              f"{rng:>26}  {r['unit']}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"args": vars(args), "machine": platform.platform(), "rows": rows},
                      fh, indent=2)


if __name__ == "__main__":
    main()
