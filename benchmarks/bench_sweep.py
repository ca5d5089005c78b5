"""Time the full committed-minority tipping sweep, as README.md and docs/sweeps.md run it.

``steppe sweep scenarios/binary-agreement-tipping.toml`` (17 committed fractions x 5 values
of N x 40 runs = 3,400 runs) with 1 and with 2 worker processes and on a local Dask cluster
(``--scheduler``: 2 single-threaded workers on 127.0.0.1), each into a fresh folder,
``--repeats`` times (the median is reported). Prints the date, the machine (CPU model,
cores, memory, load average before the first sweep) and, per worker count, the sweep's own
"N run(s) in S s" figure and the wall time of the whole command (start-up, summaries and
phase diagrams included), and, in one process, how much of the sweep the runs themselves
took (the sum of the ``runs`` view's ``wall_seconds``) and the work around each run; then
the results the docs quote from that sweep: the 50% line of P(consensus on A) for each N,
and the mean consensus time at p = 0.100 and p = 0.140 for N = 10,000. The datasets are
identical for every executor (same seed), so the results are printed once.

    python benchmarks/bench_sweep.py                  # 1 and 2 workers and Dask, one each
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


def _steppe() -> str:
    steppe = Path(sys.executable).with_name("steppe")
    return str(steppe) if steppe.exists() else "steppe"


def one_sweep(workers: int | str, out: Path) -> tuple[int, float, float]:
    """Runs done, the sweep's own seconds, and the command's wall seconds; ``workers`` is
    a number of local processes or a Dask scheduler's address."""
    where = ["--scheduler", workers] if isinstance(workers, str) else ["--workers",
                                                                       str(workers)]
    command = [_steppe(), "sweep", str(SCENARIO), *where, "--out", str(out)]
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


def run_seconds(out: Path) -> tuple[int, float]:
    """Runs and the sum of their own wall times (the ``runs`` view's ``wall_seconds``)."""
    subprocess.run([_steppe(), "query", str(out),
                    "SELECT count(*) AS n, sum(wall_seconds) AS s FROM runs",
                    "--csv", str(out.parent / "runs-seconds.csv")],
                   capture_output=True, text=True, check=True)
    n, s = (out.parent / "runs-seconds.csv").read_text().splitlines()[1].split(",")
    return int(n), float(s)


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
    ap.add_argument("--workers", default="1,2,dask",
                    help="executors to time, comma-separated: numbers of local processes, "
                    "and 'dask' (a local Dask cluster: scheduler and 2 single-threaded "
                    "worker processes on 127.0.0.1, through --scheduler)")
    ap.add_argument("--repeats", type=int, default=1, help="sweeps per executor (median)")
    args = ap.parse_args()
    import steppe

    print(f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    print(f"python {platform.python_version()}, steppe {getattr(steppe, '__version__', '?')}")
    print(f"sweep: steppe sweep {SCENARIO.relative_to(ROOT)} --workers W (fresh folder each)")
    kept: Path | None = None
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        for name in (w.strip() for w in args.workers.split(",")):
            own, walls, inside = [], [], []
            for r in range(args.repeats):
                out = Path(tmp) / f"{name}-r{r}"
                if name == "dask":
                    from distributed import LocalCluster

                    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                      dashboard_address="127.0.0.1:0") as cluster:
                        runs, seconds, wall = one_sweep(cluster.scheduler_address, out)
                else:
                    runs, seconds, wall = one_sweep(int(name), out)
                own.append(seconds)
                walls.append(wall)
                inside.append(run_seconds(out)[1])
                if kept is None:
                    kept = out
                else:
                    shutil.rmtree(out)
            label = ("Dask, 2 single-threaded workers" if name == "dask"
                     else f"{name} worker(s)")
            mid = statistics.median(own)
            print(f"{label}: {runs} runs in {mid:.1f} s "
                  f"({runs / mid * 60:,.0f} runs/min; median of "
                  f"{args.repeats}: {', '.join(f'{s:.1f}' for s in own)} s); whole command "
                  f"{statistics.median(walls):.1f} s")
            if name == "1":
                ran = statistics.median(inside)
                print(f"    in one process the runs themselves took {ran:.1f} of the "
                      f"{mid:.1f} s; the work around each run (assembling it, its tables, "
                      f"writing them): {(mid - ran) / runs * 1000:.1f} ms")
        assert kept is not None
        results(kept)


if __name__ == "__main__":
    main()
