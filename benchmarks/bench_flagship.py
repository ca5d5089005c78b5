"""Time the flagship scenario (scenarios/kazakhstan-2022.toml) at a given scale: network
build, the weekly loop, seconds per simulated week and per simulated year, peak memory.

Usage::

    python benchmarks/bench_flagship.py [--scale 0.01] [--weeks 95]

``--scale 1`` runs all 19.5 million residents (plus the arrival slots of the border flows);
``steppe run`` of the same took about 12 minutes and 5.6 GB on the 2-core reference
machine. One run; a short warm-up run at 1:10,000 first compiles (or loads cached) Numba
kernels, so timings exclude compilation.
Prints one line per phase and the totals; the peak resident set size comes from
``resource.getrusage`` (Linux reports kilobytes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time
from pathlib import Path

from steppe import load_scenario
from steppe.assembly import assemble, cached_network, clear_cache
from steppe.scenario import read_scenario_file

FLAGSHIP = Path(__file__).resolve().parents[1] / "scenarios" / "kazakhstan-2022.toml"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.01)
    ap.add_argument("--weeks", type=int, default=95, help="weeks from 2022-03-01 (<= 95)")
    args = ap.parse_args(argv)
    end = dt.date(2022, 3, 1) + dt.timedelta(weeks=args.weeks)

    data, _, _ = read_scenario_file(FLAGSHIP)
    # a shorter run keeps only the polls and events it reaches (later ones are refused)
    kept = {k: [x for x in data.get(k, []) if x["at"] < end] for k in ("polls", "events")}
    # the assumptions table names fields of polls and events a shorter run drops; a timing
    # needs none of it (it changes no run)
    kept.update(assumptions=[], readings=[])

    def timed(scale: float) -> dict[str, float]:
        sc = load_scenario(FLAGSHIP, {"population.scale": scale, "runs": 1,
                                      "time.end": end.isoformat(), **kept})
        t0 = time.perf_counter()
        clear_cache()
        dry = assemble(sc, 0, dry=True)
        net = cached_network(sc, 0, dry.slots)
        t1 = time.perf_counter()
        a = assemble(sc, 0, network=net)  # state, pressures bound, polls: the run's setup
        t2 = time.perf_counter()
        traj = a.simulate()
        t3 = time.perf_counter()
        return {"agents": net.n, "edges": net.n_edges, "network": t1 - t0, "setup": t2 - t1,
                "loop": t3 - t2, "weeks": traj.final_time}

    timed(0.0001)  # compile
    r = timed(args.scale)
    per_week = r["loop"] / max(r["weeks"], 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"flagship at scale {args.scale:g}: {r['agents']:,} agents (with arrival slots), "
          f"{r['edges']:,} edges")
    print(f"  network build      {r['network']:8.1f} s")
    print(f"  state and layers   {r['setup']:8.1f} s")
    print(f"  {r['weeks']:.0f} weekly steps  {r['loop']:8.1f} s  ({per_week:.2f} s per week)")
    print(f"  per simulated year {52 * per_week:8.1f} s = {52 * per_week / 60:.1f} min "
          "(52 weeks, loop only)")
    print(f"  peak memory        {peak:8.2f} GB (resident set)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
