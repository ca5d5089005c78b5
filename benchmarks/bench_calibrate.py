"""The flagship's calibration: simulations per minute, the calibration's wall time, and the
scale its poll statistics need.

Usage::

    python benchmarks/bench_calibrate.py [--calibration results/kazakhstan-2022/calibration]
                                         [--sims 40] [--runs 20]

Measured:

- **Simulations per minute** of one calibration simulation (the flagship run to its last
  poll and its 25 target figures read off the simulated polls, as ``steppe calibrate``
  does), at 1:2000 and 1:500, in this process (median of ``--sims`` simulations after one
  warm-up), and with two worker processes (``--sims`` simulations through the executor the
  calibration uses, process start-up included).
- **The calibration's wall time**: read from a calibration folder (``generations.parquet``:
  each generation's wall time and simulations, over every resumed session).
- **Which scale the poll statistics need**: at the posterior's weighted median (all
  readings; the scenario's central values without a calibration folder), ``--runs`` runs at
  1:2000 and at 1:500. For each target figure: the mean and standard deviation over runs at
  each scale, and ``z``, the difference of the means over its standard error. If the scale
  did not matter, ``|z|`` would exceed 2 for about 1 figure in 20 by chance; the run-to-run
  standard deviations are compared too (a coarser population adds noise of its own).

The figures depend on the machine and on what else runs on it: quote medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "scenarios" / "kazakhstan-2022.toml"


def _simulator(scale: float):
    from steppe.assembly import load_scenario
    from steppe.experiments.calibrate import _Simulator, priors, target_scales
    from steppe.observe.targets import read_targets

    loaded = load_scenario(FLAGSHIP, {"population.scale": scale})
    targets = read_targets(loaded.path(loaded.spec.report.targets))
    scales = target_scales(loaded, targets, runs=1)
    return _Simulator(loaded, targets, priors(loaded), scales), loaded, targets


def _median_values(folder: Path | None, ps) -> list[float]:
    if folder is None or not (folder / "posterior.parquet").exists():
        return [None] * len(ps)
    from steppe.experiments.calibrate import Calibration, Reading, _weighted_quantiles

    meta = json.loads((folder / "calibration.json").read_text())
    post = pd.read_parquet(folder / "posterior.parquet")
    probs = pd.read_parquet(folder / "readings.parquet")
    reads = [Reading(r["name"], r.get("description", ""), (), r.get("fixed", {}))
             for r in meta.get("readings", [])]
    cal = Calibration(posterior=post, generations=pd.DataFrame(), priors=list(ps),
                      targets=pd.DataFrame(), readings=reads,
                      probabilities=probs)
    w = cal.weights()
    return [_weighted_quantiles(cal.values(p.key), w, 0.9)[0] for p in ps]


def per_minute(sim, values: list[float], n: int) -> float:
    sim.figures(values, 0)                       # warm-up: kernels compiled or loaded
    times = []
    for k in range(n):
        t0 = time.perf_counter()
        sim.figures(values, k + 1)
        times.append(time.perf_counter() - t0)
    return 60.0 / statistics.median(times)


def per_minute_workers(sim, values: list[float], n: int, workers: int) -> float:
    from steppe.experiments.calibrate import _screen_one
    from steppe.experiments.executors import make_executor

    t0 = time.perf_counter()
    ex = make_executor(workers=workers, tasks=n)
    try:
        for _, res in ex.map(_screen_one, [(k, sim, values, k, ex.threads) for k in range(n)]):
            if isinstance(res, BaseException):
                raise res
    finally:
        ex.close()
    return 60.0 * n / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calibration", type=Path, default=None,
                    help="a calibration folder (OUT/calibration)")
    ap.add_argument("--sims", type=int, default=40)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args(argv)

    import datetime as dt

    from _machine import machine

    print(f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: {machine()}")
    sims = {s: _simulator(s) for s in (0.0005, 0.002)}
    ps = sims[0.0005][0].priors
    med = _median_values(args.calibration, ps)
    values = [p.value(0.0) if v is None else v for p, v in zip(ps, med, strict=True)]
    where = "the posterior median" if med[0] is not None else "the middle of every range"
    print(f"parameters: {where}")
    print("\nsimulations per minute (median; one simulation = the flagship to its last poll "
          "and its 25 figures)")
    for s, (sim, *_) in sims.items():
        one = per_minute(sim, values, args.sims)
        two = per_minute_workers(sim, values, args.sims, 2)
        print(f"  1:{round(1 / s)}: {one:.0f} in this process, {two:.0f} with 2 workers "
              "(start-up included)")

    if args.calibration is not None and (args.calibration / "calibration.json").exists():
        meta = json.loads((args.calibration / "calibration.json").read_text())
        gens = pd.read_parquet(args.calibration / "generations.parquet")
        secs = float(gens["seconds"].sum()) if "seconds" in gens else \
            float(meta.get("seconds_total", meta["seconds"]))
        print(f"\ncalibration {args.calibration}: {len(gens)} generations, "
              f"{int(gens['samples'].sum()):,} simulations, {secs / 60:.1f} min of "
              "generations (pyabc's wall time of each, whichever session ran it; the "
              f"pilot runs and the screening before, the predictive checks after); "
              f"{60 * gens['samples'].sum() / secs:.0f} simulations per minute")

    print(f"\nthe scale the poll statistics need: {args.runs} runs at each scale at "
          f"{where}")
    x = {}
    for s, (sim, *_) in sims.items():
        x[s] = np.vstack([sim.figures(values, r) * sim.scales for r in range(args.runs)])
    a, b = x[0.0005], x[0.002]
    se = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
    z = (a.mean(axis=0) - b.mean(axis=0)) / np.where(se > 0, se, np.nan)
    tg = sims[0.0005][2]
    table = pd.DataFrame({
        "figure": [f"{t.poll} / {t.by} {t.level} / {t.answer}" for t in tg.itertuples()],
        "1:2000 mean": a.mean(axis=0), "1:500 mean": b.mean(axis=0),
        "1:2000 sd": a.std(axis=0, ddof=1), "1:500 sd": b.std(axis=0, ddof=1), "z": z})
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(table.round(4).to_string(index=False))
    big = int((np.abs(z) > 2).sum())
    print(f"|z| > 2 for {big} of {len(z)} figures (about {0.05 * len(z):.1f} expected by "
          f"chance); median sd ratio 1:2000 / 1:500 = "
          f"{np.nanmedian(a.std(axis=0, ddof=1) / b.std(axis=0, ddof=1)):.2f}")


if __name__ == "__main__":
    main()
