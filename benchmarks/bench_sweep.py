"""Time the full committed-minority tipping sweep, as README.md and docs/sweeps.md run it.

``steppe sweep scenarios/binary-agreement-tipping.toml`` (17 committed fractions x 5 values
of N x 40 runs = 3,400 runs) with 1 and with 2 worker processes, each into a fresh folder,
``--repeats`` times (the median is reported). Prints the date, the machine (CPU model,
cores, memory, load average before the first sweep) and, per worker count, the sweep's own
"N run(s) in S s" figure and the wall time of the whole command (start-up, summaries and
phase diagrams included); then the results the docs quote from that sweep: the 50% line of
P(consensus on A) for each N, and the mean consensus time at p = 0.100 and p = 0.140 for
N = 10,000. The datasets are identical for every worker count (same seed), so the results
are printed once.

    python benchmarks/bench_sweep.py                  # 1 and 2 workers, one sweep each
    python benchmarks/bench_sweep.py --workers 2 --repeats 3

The figures quoted in README.md, docs/sweeps.md and the scenario's comment come from this
script; run it again when they change, and update them with the date and machine it prints.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import machine

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "binary-agreement-tipping.toml"
_DONE = re.compile(r"(\d+) run\(s\) in ([\d.]+) s")


def one_sweep(workers: int, out: Path) -> tuple[int, float, float]:
    """Runs done, the sweep's own seconds, and the command's wall seconds."""
    steppe = Path(sys.executable).with_name("steppe")
    command = [str(steppe) if steppe.exists() else "steppe", "sweep", str(SCENARIO),
               "--workers", str(workers), "--out", str(out)]
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", MPLBACKEND="Agg")
    t0 = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{proc.stdout}{proc.stderr}")
    m = _DONE.search(proc.stdout + proc.stderr)
    if m is None:
        sys.exit(f"no 'N run(s) in S s' line in the output of {' '.join(command)}")
    return int(m[1]), float(m[2]), wall


def results(out: Path) -> None:
    """The figures the docs quote from the sweep's data."""
    import pandas as pd

    line = out / "phase" / "p_consensus_A-committed_fraction-network_n-line.csv"
    print(f"50% line ({line.relative_to(out)}):")
    print(line.read_text().strip())
    outcomes = pd.read_parquet(out / "outcomes.parquet")
    t_col = "consensus_time"  # mean over the runs that reached consensus
    big = outcomes[outcomes["network_n"] == outcomes["network_n"].max()]
    for p in (0.10, 0.14):
        row = big[(big["committed_fraction"] - p).abs() < 1e-9]
        print(f"mean consensus time at p = {p:.3f}, N = {int(big['network_n'].iloc[0]):,}: "
              f"{float(row[t_col].iloc[0]):.1f} sweeps ({t_col})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", default="1,2", help="worker counts to time, comma-separated")
    ap.add_argument("--repeats", type=int, default=1, help="sweeps per worker count (median)")
    args = ap.parse_args()
    import steppe

    print(f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    print(f"python {platform.python_version()}, steppe {getattr(steppe, '__version__', '?')}")
    print(f"sweep: steppe sweep {SCENARIO.relative_to(ROOT)} --workers W (fresh folder each)")
    kept: Path | None = None
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        for workers in (int(w) for w in args.workers.split(",")):
            own, walls = [], []
            for r in range(args.repeats):
                out = Path(tmp) / f"w{workers}-r{r}"
                runs, seconds, wall = one_sweep(workers, out)
                own.append(seconds)
                walls.append(wall)
                if kept is None:
                    kept = out
                else:
                    shutil.rmtree(out)
            print(f"{workers} worker(s): {runs} runs in {statistics.median(own):.1f} s "
                  f"({runs / statistics.median(own) * 60:,.0f} runs/min; median of "
                  f"{args.repeats}: {', '.join(f'{s:.1f}' for s in own)} s); whole command "
                  f"{statistics.median(walls):.1f} s")
        assert kept is not None
        results(kept)


if __name__ == "__main__":
    main()
