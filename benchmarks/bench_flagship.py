"""Time the flagship scenario (scenarios/kazakhstan-2022.toml) at a given scale: network
build, the weekly loop, seconds per simulated week and per simulated year, peak memory.

Usage::

    python benchmarks/bench_flagship.py [--scale 0.01] [--weeks 95 | --days 365]
                                        [--step week|day] [--set FIELD=VALUE ...]

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
import json
import resource
import sys
import time
from pathlib import Path

from _machine import machine
from steppe import load_scenario
from steppe.assembly import assemble, cached_network, clear_cache
from steppe.scenario import read_scenario_file

FLAGSHIP = Path(__file__).resolve().parents[1] / "scenarios" / "kazakhstan-2022.toml"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.01)
    ap.add_argument("--weeks", type=int, default=95, help="weeks from 2022-03-01 (<= 95)")
    ap.add_argument("--days", type=int, default=None,
                    help="days from 2022-03-01 instead of --weeks")
    ap.add_argument("--step", choices=("week", "day"), default="week",
                    help="the scenario's time step (the flagship is written with weeks; "
                         "its rates_per = week makes a day act by a seventh of them)")
    ap.add_argument("--record-every", type=int, default=None,
                    help="record every this many steps (the flagship: every step)")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    help="override a field of the scenario (a JSON value or a string), e.g. "
                         "expression.voiced_precision=single; repeatable")
    args = ap.parse_args(argv)
    overrides = {}
    for item in args.set:
        field, _, text = item.partition("=")
        try:
            overrides[field] = json.loads(text)
        except json.JSONDecodeError:
            overrides[field] = text
    span = dt.timedelta(days=args.days) if args.days else dt.timedelta(weeks=args.weeks)
    end = dt.date(2022, 3, 1) + span

    data, _, _ = read_scenario_file(FLAGSHIP)
    # a shorter run keeps only the polls and events it reaches (later ones are refused)
    kept = {k: [x for x in data.get(k, []) if x["at"] < end] for k in ("polls", "events", "news")}
    # the assumptions table names fields of polls and events a shorter run drops; a timing
    # needs none of it (it changes no run)
    kept.update(assumptions=[], readings=[])

    def timed(scale: float, breakdown: dict[str, float] | None = None) -> dict[str, float]:
        sc = load_scenario(FLAGSHIP, {"population.scale": scale, "runs": 1,
                                      "time.end": end.isoformat(), "time.step": args.step,
                                      **kept, **({} if args.record_every is None else {
                                          "record.every": args.record_every}), **overrides})
        t0 = time.perf_counter()
        clear_cache()
        dry = assemble(sc, 0, dry=True)
        net = cached_network(sc, 0, dry.slots)
        t1 = time.perf_counter()
        a = assemble(sc, 0, network=net)  # state, pressures bound, polls: the run's setup
        t2 = time.perf_counter()
        restore = _instrument(a, breakdown) if breakdown is not None else (lambda: None)
        try:
            traj = a.simulate()
        finally:
            restore()
        t3 = time.perf_counter()
        return {"agents": net.n, "edges": net.n_edges, "network": t1 - t0, "setup": t2 - t1,
                "loop": t3 - t2, "steps": traj.final_time, "days": traj.final_time * (
                    7 if args.step == "week" else 1)}

    timed(0.0001)  # compile
    parts: dict[str, float] = {}
    r = timed(args.scale, parts)
    once = parts.pop("start (once per run)", 0.0)
    r["loop"] -= once  # the answer model's first passes, the flows' first filter
    r["setup"] += once
    per_step = r["loop"] / max(r["steps"], 1)
    per_day = r["loop"] / max(r["days"], 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    unit = "daily" if args.step == "day" else "weekly"
    print(f"flagship at scale {args.scale:g}, {unit} steps "
          f"({dt.date.today().isoformat()}, {machine()}): {r['agents']:,} agents "
          f"(with arrival slots), {r['edges']:,} edges"
          + "".join(f"; {k} = {v}" for k, v in overrides.items()))
    print(f"  network build      {r['network']:8.1f} s")
    print(f"  state and layers   {r['setup']:8.1f} s (with the layers' start: {once:.1f} s)")
    print(f"  {r['steps']:.0f} {unit} steps {r['loop']:8.1f} s  ({per_step:.3f} s per "
          f"step, {per_day:.3f} s per simulated day)")
    print(f"  per simulated year {365 * per_day:8.1f} s = {365 * per_day / 60:.1f} min "
          "(365 days, loop only)")
    print(f"  peak memory        {peak:8.2f} GB (resident set)")
    print("  where the loop's time went (s per step; the rest: the engine's own work):")
    for name, secs in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"    {name:<34s} {secs / max(r['steps'], 1):8.4f}  ({secs / r['loop']:5.1%})")
    sys.stdout.flush()


def _instrument(a, parts: dict[str, float]):
    """Time the model's step, each pressure's acts and the recording, by wrapping the
    bound methods of this one run (returns a function that undoes it)."""
    from steppe.observe import observables as obs

    undo = []

    def wrap(obj, name: str, label: str) -> None:
        fn = getattr(obj, name)

        def timed_call(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                parts[label] = parts.get(label, 0.0) + time.perf_counter() - t
        setattr(obj, name, timed_call)
        undo.append(lambda: delattr(obj, name) if obj is not obs.Recorder
                    else setattr(obj, name, fn))

    wrap(a.model, "advance", f"model step ({a.model.name})")
    wrap(a.model, "on_start", "start (once per run)")
    wrap(a.model, "on_network_change", "model: weights after a flow")
    for p in a.pressures:
        kind = type(p).__name__
        wrap(p, "apply", f"{kind}.apply")
        wrap(p, "due", f"{kind}.due")
        wrap(p, "start", "start (once per run)")
        wrap(p, "prepare", "start (once per run)")
    wrap(obs.Recorder, "record", "recording tallies")
    for o in a.observers:
        wrap(o, "observe", "polls")

    def restore() -> None:
        for u in undo:
            u()
    return restore


if __name__ == "__main__":
    main()
