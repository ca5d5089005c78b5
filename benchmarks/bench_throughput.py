"""Throughput of many runs: runs per minute of the flagship through the Python API, and the
wall time of ``steppe sensitivity`` on the flagship.

Usage::

    python benchmarks/bench_throughput.py [--repeats 3] [--runs 8] [--skip-sensitivity]

Measured, each ``--repeats`` times (the median is printed, with every repeat):

- ``steppe.run("scenarios/kazakhstan-2022.toml", runs=R, workers=W,
  overrides={"population.scale": s})`` for s = 1:2000 and 1:500 and W = 1 (this process)
  and 2 (two worker processes): runs per minute of wall time, everything included (loading
  the scenario, building the network, starting the workers, the runs, assembling the
  tables). A warm-up call first compiles (or loads cached) Numba kernels in this process.
- a small voter scenario (``scenarios/voter-lattice.toml`` on a 30 x 30 torus, 50 sweeps,
  recorded every 10): runs per second for 200 runs in one call, and the wall time of a
  single-run call (what a calibration's or a sweep's every simulation pays on top of
  its own work), in this process;
- ``steppe sensitivity scenarios/kazakhstan-2022.toml --scale 0.002 --runs 4
  --workers 0`` (the README's command: 29 assumptions x 2 ends + the baseline = 59
  settings x 4 runs = 236 runs, one worker per core) as a subprocess, wall time.

The figures depend on the machine and on what else runs on it: quote medians and compare
before and after on the same machine, side by side.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import machine

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "scenarios" / "kazakhstan-2022.toml"


def runs_per_minute(scale: float, workers: int, runs: int) -> float:
    import steppe

    t0 = time.perf_counter()
    steppe.run(FLAGSHIP, runs=runs, workers=workers, overrides={"population.scale": scale},
               keep_final_states=False)
    return 60.0 * runs / (time.perf_counter() - t0)


SMALL = ROOT / "scenarios" / "voter-lattice.toml"
SMALL_SETTINGS = {"network.shape": [30, 30], "stop.max_sweeps": 50, "record.every": 10}


def small_runs(runs: int) -> float:
    """Wall seconds of one ``steppe.run`` call of ``runs`` runs of the small voter scenario
    in this process."""
    import steppe

    t0 = time.perf_counter()
    steppe.run(SMALL, runs=runs, workers=1, overrides=SMALL_SETTINGS, keep_final_states=False)
    return time.perf_counter() - t0


def sensitivity_seconds(workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "steppe", "sensitivity", str(FLAGSHIP), "--scale",
               "0.002", "--runs", "4", "--workers", str(workers), "--quiet", "--out", tmp]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=tmp)
        return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--runs", type=int, default=8, help="runs per steppe.run call")
    ap.add_argument("--skip-sensitivity", action="store_true")
    ap.add_argument("--skip-flagship", action="store_true")
    ap.add_argument("--sensitivity-workers", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    runs_per_minute(1 / 5000, 1, 1)  # warm-up: kernels compiled or loaded from the cache
    out: dict[str, list[float]] = {}
    print(f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: {machine()}")
    print(f"{os.cpu_count()} cores; {args.runs} runs per call, {args.repeats} repeats; "
          "median (all repeats)")
    small_runs(2)  # warm-up
    many = [200 / small_runs(200) for _ in range(args.repeats)]
    one = [1000 * small_runs(1) for _ in range(5 * args.repeats)]
    out["small voter runs/s"] = many
    out["small voter single-run call ms"] = one
    print(f"small voter scenario (30 x 30, 50 sweeps), this process: "
          f"{statistics.median(many):.0f} runs/s in a 200-run call ("
          + ", ".join(f"{v:.0f}" for v in many) + f"); a 1-run call {statistics.median(one):.1f}"
          " ms (median of " + str(len(one)) + ")", flush=True)
    print(f"{'flagship scale':>15} {'workers':>8} {'runs/min':>9}   repeats")
    for scale in (1 / 2000, 1 / 500):
        for workers in (1, 2):
            if args.skip_flagship:
                break
            vals = [runs_per_minute(scale, workers, args.runs) for _ in range(args.repeats)]
            out[f"1:{round(1 / scale)} x{workers}"] = vals
            print(f"{'1:' + str(round(1 / scale)):>15} {workers:>8} "
                  f"{statistics.median(vals):>9.1f}   "
                  + ", ".join(f"{v:.1f}" for v in vals), flush=True)
    if not args.skip_sensitivity:
        w = args.sensitivity_workers
        vals = [sensitivity_seconds(w) for _ in range(max(1, args.repeats - 1))]
        out["sensitivity"] = vals
        print(f"steppe sensitivity (1:500, 4 runs, --workers {w}): "
              f"{statistics.median(vals):.1f} s (" + ", ".join(f"{v:.1f}" for v in vals)
              + ")", flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
