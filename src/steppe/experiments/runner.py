"""Running a scenario: R independent runs, in this process or in worker processes.

Each run depends only on the scenario and its run index: run ``r`` draws from
``SeedSequence(seed, spawn_key=(1, r))`` and the network from ``spawn_key=(0,)`` (or
``(0, r + 1)`` when resampled per run). Results are therefore identical whatever the number
of workers and whatever order they finish in.

Examples
--------
>>> from steppe import run
>>> res = run({"name": "demo", "seed": 1, "runs": 3,
...            "network": {"kind": "complete", "n": 100},
...            "model": {"name": "voter"}, "stop": {"max_sweeps": 20}})
>>> list(res.summary.columns)[:4]
['run', 'seed', 'final_share_A', 'final_share_B']
>>> res.series.groupby(["run", "step"])["share"].sum().round(12).eq(1).all()
np.True_
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import platform
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..engine.simulate import Breakdown, simulate
from ..engine.state import init_state
from ..errors import ParameterError
from ..networks.base import Network
from ..observe.polls import PollDesign, polls_to_frame, run_poll
from ..observe.writers import write_json_atomic, write_npz_atomic, write_parquet_atomic
from ..scenario.loader import LoadedScenario, load_scenario, run_seed

__all__ = ["Result", "RunOutput", "execute_run", "run"]

#: called as progress(run, time_in_sweeps, finished)
Progress = Callable[[int, float, bool], None]


@dataclass
class RunOutput:
    """Everything one run produced."""

    run: int
    time: np.ndarray
    counts: np.ndarray
    consensus_stance: int | None
    consensus_time: float | None
    final_time: float
    final_stance: np.ndarray | None
    wall_seconds: float
    expressed_counts: np.ndarray | None = None
    breakdowns: dict[str, Breakdown] = field(default_factory=dict)
    absorbed: bool = False
    final_expressed: np.ndarray | None = None
    final_opinion: np.ndarray | None = None
    polls: pd.DataFrame | None = None
    participation: dict[str, np.ndarray] | None = None
    participation_labels: dict[str, list[str]] = field(default_factory=dict)
    flows: dict[str, np.ndarray] | None = None


@dataclass
class Result:
    """The results of a scenario: tidy series, per-run summary, final states, metadata.

    Attributes
    ----------
    series : pandas.DataFrame
        One row per run, record, breakdown level and stance: ``run, step, time, by, level,
        stance, count, share, expressed_count, expressed_share, gap``. ``by`` is ``"all"``
        (the whole population, ``level`` ``"all"``) or an agent attribute such as
        ``"group"`` (``level``: its value); ``gap`` = private share minus expressed share.
    summary : pandas.DataFrame
        One row per run: final private and expressed share of each stance, consensus
        reached, its stance and time, absorbed (frozen) or not.
    final_states : dict[int, numpy.ndarray]
        Each run's final private stance codes (int8), by run index, when kept.
    final_expressed, final_opinions : dict[int, numpy.ndarray]
        Each run's final expressed stance codes (when an expression layer separates them)
        and, for continuous models, final private opinions.
    metadata : dict
        The resolved scenario, seed, versions, timings.
    polls, participation : pandas.DataFrame or None
        Simulated polls and protest participation, when the scenario has them.
    flows : pandas.DataFrame or None
        With border flows: per run and record, the agents present and the cumulative
        arrivals (``arrived_<flow>``) and departures (``left_<flow>``).
    """

    scenario: LoadedScenario
    series: pd.DataFrame
    summary: pd.DataFrame
    final_states: dict[int, np.ndarray] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    final_expressed: dict[int, np.ndarray] = field(default_factory=dict)
    final_opinions: dict[int, np.ndarray] = field(default_factory=dict)
    polls: pd.DataFrame | None = None
    participation: pd.DataFrame | None = None
    flows: pd.DataFrame | None = None

    def save(self, out_dir: str | Path, *, final_states: bool | None = None) -> list[Path]:
        """Write ``series.parquet``, ``summary.parquet``, ``metadata.json`` (and
        ``final_states.npz``) into ``out_dir``, each atomically. Returns the paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = [
            write_parquet_atomic(self.series, out / "series.parquet"),
            write_parquet_atomic(self.summary, out / "summary.parquet"),
        ]
        if self.polls is not None:
            paths.append(write_parquet_atomic(self.polls, out / "polls.parquet"))
        if self.participation is not None:
            paths.append(write_parquet_atomic(self.participation,
                                              out / "participation.parquet"))
        if self.flows is not None:
            paths.append(write_parquet_atomic(self.flows, out / "flows.parquet"))
        keep = self.scenario.spec.record.final_state if final_states is None else final_states
        if keep and self.final_states:
            arrays = {f"run_{r:04d}": s for r, s in sorted(self.final_states.items())}
            arrays.update({f"run_{r:04d}_expressed": s
                           for r, s in sorted(self.final_expressed.items())})
            arrays.update({f"run_{r:04d}_opinion": s
                           for r, s in sorted(self.final_opinions.items())})
            paths.append(write_npz_atomic(arrays, out / "final_states.npz"))
        meta = dict(self.metadata)
        meta["files"] = [p.name for p in paths] + ["metadata.json"]
        paths.append(write_json_atomic(meta, out / "metadata.json"))
        return paths


# -- one run ------------------------------------------------------------------------------
def execute_run(scenario: LoadedScenario, run: int, network: Network | None = None, *,
                keep_state: bool = True, progress: Progress | None = None) -> RunOutput:
    """Run one replicate of ``scenario``; ``network`` is built if not given."""
    spec = scenario.spec
    t0 = time.perf_counter()
    model = scenario.model()
    net = network if network is not None else scenario.build_network(run)
    try:
        flows = scenario.border_flows(model, net, run)
        state = _initial_state(scenario, model, net, run,
                               None if flows is None else flows.present0())
        layer = scenario.expression_layer(model, net, run)
        media = scenario.media_channels(model, net, run)
        protest = scenario.protest_layer(model, net, run)
        poll_results: list[Any] = []
        observations = _poll_observations(scenario, model, net, run, poll_results)
        cb = None if progress is None else (lambda t: progress(run, t, False))
        traj = simulate(model, net, state, max_sweeps=scenario.max_sweeps(),
                        stop_at_consensus=spec.stop.at_consensus,
                        record_every=spec.record.every,
                        consensus_share=spec.stop.consensus_share, expression=layer,
                        media=media, protest=protest, events=scenario.events(),
                        observations=observations,
                        progress=cb, flows=flows)
    except ParameterError as exc:
        raise scenario.error_from(exc) from None
    separate = state.expressed is not state.stance
    out = RunOutput(run=run, time=traj.time, counts=traj.counts,
                    consensus_stance=traj.consensus_stance,
                    consensus_time=traj.consensus_time, final_time=traj.final_time,
                    final_stance=state.stance if keep_state else None,
                    wall_seconds=time.perf_counter() - t0,
                    expressed_counts=traj.expressed_counts, breakdowns=traj.breakdowns,
                    absorbed=traj.absorbed,
                    final_expressed=state.expressed if keep_state and separate else None,
                    final_opinion=state.opinion if keep_state else None,
                    polls=polls_to_frame(poll_results) if poll_results else None,
                    participation=traj.participation,
                    participation_labels={"all": ["all"], **{
                        k: b.labels for k, b in traj.breakdowns.items()}},
                    flows=traj.flows)
    if progress is not None:
        progress(run, traj.final_time, True)
    return out


def _poll_observations(scenario: LoadedScenario, model: Any, net: Network, run: int,
                       sink: list[Any]) -> list[tuple[int, Any]]:
    """Callbacks that poll the state at the scenario's poll times, into ``sink``."""
    attributes: dict[str, np.ndarray] = {}
    if net.groups is not None:
        attributes["group"] = net.groups
    for name, (codes, _) in (net.attributes or {}).items():
        attributes[name] = codes
    out = []
    for i, (at, design) in enumerate(scenario.polls()):
        seed = np.random.SeedSequence(scenario.spec.seed, spawn_key=(4, run, i))

        def observe(state: Any, design: PollDesign = design,
                    seed: np.random.SeedSequence = seed) -> None:
            sink.append(run_poll(design, expressed=state.expressed, private=state.stance,
                                 stance_labels=model.stances, attributes=attributes,
                                 present=state.present,
                                 seed=seed, time=state.time))

        out.append((at, observe))
    return out


def _initial_state(scenario: LoadedScenario, model: Any, net: Network, run: int,
                   present: np.ndarray | None = None) -> Any:
    spec = scenario.spec
    return init_state(model, net, shares=spec.initial.shares, committed=scenario.committed(),
                      seed=run_seed(spec.seed, run), exact=spec.initial.method == "exact",
                      opinions=spec.initial.opinion,
                      shares_by_group=scenario.by_group(spec.initial.by_group,
                                                        "initial.by_group"),
                      present=present,
                      shares_by_age=scenario.by_age(spec.initial.by_age, "initial.by_age"))


_WORKER_NETWORKS: dict[tuple[str, int | None], Network] = {}


def _worker_run(scenario: LoadedScenario, run: int, keep_state: bool) -> RunOutput:
    """Entry point in worker processes: the shared network is built once per process."""
    key_run = run if scenario.spec.network.resample else None
    key = (scenario.spec.network.model_dump_json(), key_run)
    net = _WORKER_NETWORKS.get(key)
    if net is None:
        if scenario.spec.network.resample:
            _WORKER_NETWORKS.clear()
        net = scenario.build_network(run)
        _WORKER_NETWORKS[key] = net
    return execute_run(scenario, run, net, keep_state=keep_state)


# -- many runs ----------------------------------------------------------------------------
def run(
    scenario: str | Path | Mapping[str, Any] | LoadedScenario,
    *,
    runs: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    out: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    network: Network | None = None,
    keep_final_states: bool = True,
    progress: Progress | None = None,
) -> Result:
    """Run a scenario and return its results (and write them if ``out`` is given).

    Parameters
    ----------
    scenario
        A TOML file path, a dict with the same structure, or a loaded scenario.
    runs, seed
        Override the scenario's number of runs and seed.
    workers
        Worker processes (1: run in this process; 0: one per CPU core).
    out
        If given, write the results there (see :meth:`Result.save`).
    overrides
        Dotted-path overrides, e.g. ``{"model.p": 0.1}``.
    network
        Use this network instead of building the scenario's (Python API only; e.g. from
        :func:`steppe.networks.from_networkx`).
    keep_final_states
        Keep each run's final stance array in memory (``Result.final_states``).
    progress
        Called as ``progress(run, time, finished)``.

    Raises
    ------
    ScenarioError
        The scenario is invalid (nothing is written).
    """
    over = dict(overrides or {})
    if runs is not None:
        over["runs"] = runs
    if seed is not None:
        over["seed"] = seed
    if isinstance(scenario, LoadedScenario):
        loaded = scenario if not over else load_scenario(
            scenario.spec.model_dump(mode="json", exclude_none=True), over)
    else:
        loaded = load_scenario(scenario, over)
    spec = loaded.spec
    if workers < 0:
        raise ParameterError("number of workers must be >= 0", field="workers",
                             allowed="0 (all cores) or more", given=workers)
    n_workers = (os.cpu_count() or 1) if workers == 0 else workers
    n_workers = max(1, min(n_workers, spec.runs))
    started = datetime.now(UTC)
    t0 = time.perf_counter()

    # Build the network and run 0's initial state here first: a bad scenario fails now,
    # cleanly, before any worker starts and before anything is written.
    net = network if network is not None else loaded.build_network(
        0 if spec.network.resample else None)
    try:
        probe_model = loaded.model()
        probe_flows = loaded.border_flows(probe_model, net, 0)
        _initial_state(loaded, probe_model, net, 0,
                       None if probe_flows is None else probe_flows.present0())
        loaded.expression_layer(probe_model, net, 0)
        loaded.media_channels(probe_model, net, 0)
        loaded.protest_layer(probe_model, net, 0)
        loaded.events()
        loaded.polls()
    except ParameterError as exc:
        raise loaded.error_from(exc) from None
    net_info = _network_info(net)

    outputs: dict[int, RunOutput] = {}
    if n_workers == 1 or network is not None:
        for r in range(spec.runs):
            if network is None and spec.network.resample and r > 0:
                net = loaded.build_network(r)
            outputs[r] = execute_run(loaded, r, net, keep_state=keep_final_states,
                                     progress=progress)
    else:
        del net
        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
            futures = {pool.submit(_worker_run, loaded, r, keep_final_states): r
                       for r in range(spec.runs)}
            for fut in as_completed(futures):
                o = fut.result()
                outputs[o.run] = o
                if progress is not None:
                    progress(o.run, o.final_time, True)

    ordered = [outputs[r] for r in range(spec.runs)]
    model = loaded.model()
    frames = result_frames(loaded, ordered)
    series, summary = frames["series"], frames["summary"]
    polls, participation, flows = (frames.get(k) for k in ("polls", "participation",
                                                           "flows"))
    finished = datetime.now(UTC)
    meta = {
        "steppe_version": __version__,
        "scenario": loaded.resolved(),
        "source": loaded.source,
        "source_sha256": loaded.sha256,
        "seed": spec.seed,
        "runs": spec.runs,
        "workers": n_workers,
        "network": net_info,
        "model": {"name": model.name, "title": model.title, "stances": list(model.stances),
                  "references": list(model.references)},
        "report": (loaded.resolved().get("report") or {}),
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": finished.isoformat(timespec="seconds"),
        "wall_seconds": round(time.perf_counter() - t0, 3),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "dependencies": _versions(),
    }
    result = Result(scenario=loaded, series=series, summary=summary,
                    final_states={o.run: o.final_stance for o in ordered
                                  if o.final_stance is not None},
                    final_expressed={o.run: o.final_expressed for o in ordered
                                     if o.final_expressed is not None},
                    final_opinions={o.run: o.final_opinion for o in ordered
                                    if o.final_opinion is not None},
                    polls=polls, participation=participation, flows=flows, metadata=meta)
    if out is not None:
        result.save(out)
    return result


def result_frames(loaded: LoadedScenario, outputs: list[RunOutput]
                  ) -> dict[str, pd.DataFrame]:
    """The tables of finished runs, as ``steppe run`` writes them: ``series``, ``summary``
    and, when the scenario has them, ``polls``, ``participation`` and ``flows`` (each with
    a ``date`` column when the scenario has a calendar). Sweeps use it run by run.

    Examples
    --------
    >>> from steppe.scenario.loader import load_scenario
    >>> sc = load_scenario({"name": "t", "seed": 1, "network": {"kind": "complete",
    ...                     "n": 20}, "model": {"name": "voter"}, "stop": {"max_sweeps": 2}})
    >>> sorted(result_frames(sc, [execute_run(sc, 0)]))
    ['series', 'summary']
    """
    stances = loaded.model().stances
    out: dict[str, pd.DataFrame] = {"series": _series_frame(outputs, stances)}
    part = _participation_frame(outputs)
    if part is not None:
        out["participation"] = part
    frames = [o.polls.assign(run=o.run) for o in outputs if o.polls is not None]
    if frames:
        polls = pd.concat(frames, ignore_index=True)
        out["polls"] = polls[["run", *[c for c in polls.columns if c != "run"]]]
    flows = _flows_frame(outputs)
    if flows is not None:
        out["flows"] = flows
    for name, df in out.items():
        dates = loaded.dates(df["time"].to_numpy())
        if dates is not None:
            df.insert(2 if name == "polls" else 3, "date", dates)
    out["summary"] = _summary_frame(outputs, stances, loaded.spec.seed)
    return out


def _network_info(net: Network) -> dict[str, Any]:
    return {"name": net.name, "n": net.n, "edges": net.n_edges,
            "mean_degree": round(net.mean_degree(), 6), "directed": net.directed,
            "params": {k: v for k, v in net.params.items() if _jsonable(v)}}


def _jsonable(v: Any) -> bool:
    return isinstance(v, str | int | float | bool | list | tuple | type(None))


SERIES_COLUMNS = ["run", "step", "time", "by", "level", "stance", "count", "share",
                  "expressed_count", "expressed_share", "gap"]


def _series_frame(outputs: list[RunOutput], stances: tuple[str, ...]) -> pd.DataFrame:
    """Tidy series: one row per run, record, breakdown level and stance, with private and
    expressed counts and shares and their gap. ``by`` names the breakdown (``"all"`` for
    the whole population, ``"group"``, ...) and ``level`` its value."""
    k = len(stances)
    frames = []
    for o in outputs:
        recs = len(o.time)
        steps = np.ceil(o.time - 1e-9).astype(np.int64)
        expressed = o.expressed_counts if o.expressed_counts is not None else o.counts
        blocks = [("all", "all", o.counts, expressed)]
        for by, bd in o.breakdowns.items():
            for li, label in enumerate(bd.labels):
                blocks.append((by, label, bd.counts[:, li, :], bd.expressed_counts[:, li, :]))
        for by, label, priv, expr in blocks:
            size = priv.sum(axis=1, keepdims=True).astype(float)
            size[size == 0] = np.nan
            share = priv / size
            eshare = expr / size
            frames.append(pd.DataFrame({
                "run": np.full(recs * k, o.run, dtype=np.int32),
                "step": np.repeat(steps, k),
                "time": np.repeat(o.time, k),
                "by": by,
                "level": label,
                "stance": np.tile(np.arange(k), recs),
                "count": priv.reshape(-1).astype(np.int64),
                "share": share.reshape(-1),
                "expressed_count": expr.reshape(-1).astype(np.int64),
                "expressed_share": eshare.reshape(-1),
                "gap": (share - eshare).reshape(-1),
            }))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=SERIES_COLUMNS)
    df["stance"] = pd.Categorical.from_codes(df["stance"].to_numpy(dtype=np.int64),
                                             categories=list(stances))
    df["by"] = df["by"].astype("category")
    df["level"] = df["level"].astype("category")
    return df[SERIES_COLUMNS]


def _participation_frame(outputs: list[RunOutput]) -> pd.DataFrame | None:
    """Tidy protest participation: run, step, time, by, level, count, share (of the
    level's agents)."""
    rows = []
    for o in outputs:
        if o.participation is None:
            continue
        steps = np.ceil(o.time - 1e-9).astype(np.int64)
        sizes = {"all": o.counts.sum(axis=1)[:, None]}
        for by, bd in o.breakdowns.items():
            sizes[by] = bd.counts.sum(axis=2)
        for by, counts in o.participation.items():
            for li, label in enumerate(o.participation_labels.get(by, [])):
                size = sizes[by][:, li].astype(float)
                size[size == 0] = np.nan
                rows.append(pd.DataFrame({
                    "run": np.full(len(o.time), o.run, dtype=np.int32), "step": steps,
                    "time": o.time, "by": by, "level": label,
                    "count": counts[:, li], "share": counts[:, li] / size}))
    if not rows:
        return None
    df = pd.concat(rows, ignore_index=True)
    df["by"] = df["by"].astype("category")
    df["level"] = df["level"].astype("category")
    return df


def _flows_frame(outputs: list[RunOutput]) -> pd.DataFrame | None:
    """Border flows per record: agents present, cumulative arrivals ``arrived_<flow>``
    and departures ``left_<flow>`` (in agents)."""
    rows = []
    for o in outputs:
        if o.flows is None:
            continue
        cols = {k.replace(":", "_"): v for k, v in o.flows.items()}
        rows.append(pd.DataFrame({"run": np.full(len(o.time), o.run, dtype=np.int32),
                                  "step": np.ceil(o.time - 1e-9).astype(np.int64),
                                  "time": o.time, **cols}))
    return pd.concat(rows, ignore_index=True) if rows else None


def _summary_frame(outputs: list[RunOutput], stances: tuple[str, ...],
                   seed: int) -> pd.DataFrame:
    rows = []
    for o in outputs:
        n = int(o.counts[-1].sum())
        row: dict[str, Any] = {"run": o.run, "seed": seed}
        expressed = o.expressed_counts[-1] if o.expressed_counts is not None else o.counts[-1]
        for code, label in enumerate(stances):
            row[f"final_share_{label}"] = o.counts[-1][code] / n
        for code, label in enumerate(stances):
            row[f"final_expressed_share_{label}"] = expressed[code] / n
        row["consensus"] = o.consensus_stance is not None
        row["consensus_stance"] = None if o.consensus_stance is None else stances[
            o.consensus_stance]
        row["consensus_time"] = math.nan if o.consensus_time is None else o.consensus_time
        row["absorbed"] = o.absorbed
        row["sweeps"] = o.final_time
        row["wall_seconds"] = o.wall_seconds
        rows.append(row)
    return pd.DataFrame(rows)


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("numpy", "numba", "pandas", "pyarrow", "pydantic", "scipy", "networkx"):
        try:
            out[pkg] = importlib_metadata.version(pkg)
        except importlib_metadata.PackageNotFoundError:  # pragma: no cover
            out[pkg] = "not installed"
    return out
