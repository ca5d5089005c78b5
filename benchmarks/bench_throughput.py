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
- ``steppe sensitivity scenarios/kazakhstan-2022.toml --scale 0.002 --runs 4
  --workers 0`` (the README's command: 13 assumptions x 2 ends + the baseline = 27
  settings x 4 runs = 108 runs, one worker per core) as a subprocess, wall time.

The figures depend on the machine and on what else runs on it: quote medians and compare
before and after on the same machine, side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "scenarios" / "kazakhstan-2022.toml"


def runs_per_minute(scale: float, workers: int, runs: int) -> float:
    import steppe

    t0 = time.perf_counter()
    steppe.run(FLAGSHIP, runs=runs, workers=workers, overrides={"population.scale": scale},
               keep_final_states=False)
    return 60.0 * runs / (time.perf_counter() - t0)


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
    ap.add_argument("--sensitivity-workers", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    runs_per_minute(1 / 5000, 1, 1)  # warm-up: kernels compiled or loaded from the cache
    out: dict[str, list[float]] = {}
    print(f"{os.cpu_count()} cores; {args.runs} runs per call, {args.repeats} repeats; "
          "median (all repeats)")
    print(f"{'flagship scale':>15} {'workers':>8} {'runs/min':>9}   repeats")
    for scale in (1 / 2000, 1 / 500):
        for workers in (1, 2):
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
