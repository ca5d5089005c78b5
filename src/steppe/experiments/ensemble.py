"""Running a scenario: R independent runs, in this process, in worker processes or on a Dask
cluster, through the same executors and tasks as sweeps.

Each run depends only on the scenario and its run index: run ``r`` draws from the named
streams of :class:`steppe.rng.Stream` (its initial state and kernels from ``(RUN, r)``, its
pressures from their own streams) and the network from ``(NETWORK,)`` (or ``(NETWORK, r +
1)`` when resampled per run). Results are therefore identical whatever the executor, the
number of workers and the order they finish in.

Before anything runs, the scenario is checked by a dry assembly of run 0, and the memory the
runs need is compared with what the machine has (:func:`steppe.experiments.memory.
check_memory`): a run that will not fit is refused with the estimate.

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

import contextlib
import functools
import json
import platform
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..assembly import assemble, resolved
from ..assembly.network import describe
from ..errors import ParameterError, SteppeError
from ..networks.base import Network
from ..observe.tables import RunOutput, tables
from ..observe.writers import (
    folder_lock,
    json_default,
    prepare_folder,
    remove_empty,
    write_group,
)
from ..scenario.loaded import LoadedScenario
from ..scenario.loader import read_scenario
from .executors import Executor, InlineExecutor, make_executor
from .memory import check_memory
from .tasks import Progress, make_tasks, records, run_task

__all__ = ["Result", "RunFailed", "final_shares", "run"]


@dataclass
class Result:
    """The results of a scenario: tidy series, per-run summary, final states, metadata.

    Attributes
    ----------
    series : pandas.DataFrame
        One row per run, record, breakdown level and stance: ``run, step, time, [date,]
        by, level, stance, count, share, expressed_count, expressed_share, gap``. ``by`` is
        ``"all"`` (the whole population, ``level`` ``"all"``) or an agent attribute such as
        ``"group"`` (``level``: its value); ``gap`` = private share minus expressed share.
    summary : pandas.DataFrame
        One row per run: final private and expressed share of each stance, consensus
        reached, its stance and time, absorbed (frozen) or not.
    tables : dict[str, pandas.DataFrame]
        Every other table the runs recorded, by name: ``polls`` (simulated polls),
        ``participation`` (protest), ``flows`` (border flows), ``news`` (news shocks)…
    final_states : dict[int, numpy.ndarray]
        Each run's final private stance codes (int8), by run index, when kept.
    final_expressed, final_opinions : dict[int, numpy.ndarray]
        Each run's final expressed stance codes (when an expression layer separates them)
        and, for continuous models, final private opinions.
    metadata : dict
        The resolved scenario, seed, versions, timings.
    """

    scenario: LoadedScenario
    series: pd.DataFrame
    summary: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    final_states: dict[int, np.ndarray] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    final_expressed: dict[int, np.ndarray] = field(default_factory=dict)
    final_opinions: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def polls(self) -> pd.DataFrame | None:
        """Simulated polls, when the scenario has polls."""
        return self.tables.get("polls")

    @property
    def participation(self) -> pd.DataFrame | None:
        """Protest participation, when the scenario has protest."""
        return self.tables.get("participation")

    @property
    def flows(self) -> pd.DataFrame | None:
        """Per run and record: the agents present, cumulative arrivals (``arrived_<flow>``)
        and departures (``left_<flow>``), with border flows."""
        return self.tables.get("flows")

    def final_shares(self) -> pd.DataFrame:
        """Per stance: mean, sd, min and max of the final private share over runs, the
        voiced (expressed) mean and the hidden share, and the runs ending in consensus on
        it (:func:`final_shares`); "don't know", when it is an answer, has a row of its
        own (nobody holds it privately).

        Returns
        -------
        pandas.DataFrame
            Indexed by stance: ``mean``, ``sd``, ``min``, ``max``, ``expressed``,
            ``hidden``, ``consensus_runs``.
        """
        model = self.metadata["model"]
        return final_shares(self.summary, model.get("answers") or model["stances"])

    def save(self, out_dir: str | Path, *, final_states: bool | None = None) -> list[Path]:
        """Write ``series.parquet``, ``summary.parquet``, every other table as
        ``<name>.parquet``, ``metadata.json`` (and ``final_states.npz``) into ``out_dir``,
        each atomically.

        Parameters
        ----------
        out_dir
            The results folder (created if missing).
        final_states
            Write ``final_states.npz`` (default: as the scenario's ``record.final_state``
            says).

        Returns
        -------
        list of pathlib.Path
            The files written.

        Raises
        ------
        SteppeError
            The folder cannot be written (a file in the way, no permission, a full disk):
            the files of this save written so far are removed again, so the folder holds
            either all of the results or none of them.
        """
        out = prepare_folder(out_dir)
        with folder_lock(out, "another steppe run"):
            return self._write(out, final_states)

    def _write(self, out: Path, final_states: bool | None = None) -> list[Path]:
        """Write the files into ``out`` (its lock held) as one group: all of them, or on a
        failure none (an earlier set of results there stays as it was)."""
        try:
            return write_group(self._files(out, final_states))
        except OSError as exc:
            raise SteppeError(f"could not write the results to {out} "
                              f"({exc.strerror or type(exc).__name__}); nothing was "
                              "written: free the space (or fix the folder) and run again") \
                from None

    def _files(self, out: Path, final_states: bool | None
               ) -> list[tuple[Path, Callable[[Path], Any]]]:
        """Every file to write and how."""
        def parquet(df: pd.DataFrame) -> Callable[[Path], Any]:
            return lambda p: df.to_parquet(p, index=False, engine="pyarrow",
                                           compression="zstd")

        items = [(out / "series.parquet", parquet(self.series)),
                 (out / "summary.parquet", parquet(self.summary))]
        known = [t for t in ("polls", "participation", "flows") if t in self.tables]
        for name in [*known, *sorted(set(self.tables) - set(known))]:
            items.append((out / f"{name}.parquet", parquet(self.tables[name])))
        keep = self.scenario.spec.record.final_state if final_states is None else final_states
        if keep and self.final_states:
            arrays = {f"run_{r:04d}": s for r, s in sorted(self.final_states.items())}
            arrays.update({f"run_{r:04d}_expressed": s
                           for r, s in sorted(self.final_expressed.items())})
            arrays.update({f"run_{r:04d}_opinion": s
                           for r, s in sorted(self.final_opinions.items())})

            def npz(p: Path) -> None:
                with open(p, "wb") as fh:
                    np.savez_compressed(fh, **arrays)

            items.append((out / "final_states.npz", npz))
        self.metadata["files"] = [p.name for p, _ in items] + ["metadata.json"]
        meta = dict(self.metadata)
        items.append((out / "metadata.json", lambda p: p.write_text(
            json.dumps(meta, indent=2, default=json_default) + "\n", encoding="utf-8")))
        return items


class RunFailed(SteppeError):
    """A run stopped on an error that is not the scenario's (a bug, or the machine ran out
    of something); ``traceback`` holds where, for a bug report."""

    def __init__(self, message: str, *, traceback: str | None = None) -> None:
        super().__init__(message + " (an error inside steppe or the machine, not in the "
                         "scenario; please report it with the scenario file)")
        self.traceback = traceback

    def __reduce__(self):  # picklable across worker processes
        return (type(self), (str(self),), {"traceback": self.traceback})


def final_shares(summary: pd.DataFrame, stances: list[str]) -> pd.DataFrame:
    """Per stance: the final private share over runs (``mean``, ``sd``, ``min``, ``max``),
    the voiced share (``expressed``), ``hidden`` = mean private − mean voiced, and
    ``consensus_runs`` ending in consensus on it.

    Parameters
    ----------
    summary
        One row per run (:attr:`Result.summary`).
    stances
        The stances (and answers) to summarise, in order.

    Returns
    -------
    pandas.DataFrame
        Indexed by stance.

    Examples
    --------
    >>> s = pd.DataFrame({"final_share_A": [0.2, 0.4], "final_share_B": [0.8, 0.6],
    ...                   "final_expressed_share_A": [0.1, 0.1],
    ...                   "final_expressed_share_B": [0.9, 0.9],
    ...                   "consensus_stance": [None, None]})
    >>> final_shares(s, ["A", "B"]).loc["A", ["mean", "hidden"]].round(2).tolist()
    [0.3, 0.2]
    """
    rows = []
    for label in stances:
        col = summary[f"final_share_{label}"]
        expr = summary[f"final_expressed_share_{label}"]
        rows.append({"stance": label, "mean": col.mean(),
                     "sd": col.std(ddof=1) if len(col) > 1 else np.nan,
                     "min": col.min(), "max": col.max(), "expressed": expr.mean(),
                     "hidden": col.mean() - expr.mean(),
                     "consensus_runs": int((summary["consensus_stance"] == label).sum())})
    return pd.DataFrame(rows).set_index("stance")


@functools.cache
def _package_versions() -> tuple[tuple[str, str], ...]:
    out = {}
    for pkg in ("numpy", "numba", "pandas", "pyarrow", "pydantic", "scipy", "networkx"):
        try:
            out[pkg] = importlib_metadata.version(pkg)
        except importlib_metadata.PackageNotFoundError:  # pragma: no cover
            out[pkg] = "not installed"
    return tuple(out.items())


def _versions() -> dict[str, str]:
    """The versions of the packages a run's results depend on (read once per process)."""
    return dict(_package_versions())


def run(
    scenario: str | Path | Mapping[str, Any] | LoadedScenario,
    *,
    runs: int | None = None,
    seed: int | None = None,
    workers: int | None = 1,
    out: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    network: Network | None = None,
    keep_final_states: bool = True,
    progress: Progress | None = None,
    scheduler: str | None = None,
    cluster: str | Path | None = None,
    executor: Executor | None = None,
    check_memory_first: bool = True,
    available_memory: int | None = None,
) -> Result:
    """Run a scenario and return its results (and write them if ``out`` is given).

    Parameters
    ----------
    scenario
        A TOML file path, a dict with the same structure, or a loaded scenario.
    runs, seed
        Override the scenario's number of runs and seed.
    workers
        Local worker processes (1: this process; 0 or None: one per CPU core).
    out
        If given, write the results there (see :meth:`Result.save`).
    overrides
        Dotted-path overrides, e.g. ``{"model.p": 0.1}``.
    network
        Use this network instead of building the scenario's (Python API only; e.g. from
        :func:`steppe.networks.from_networkx`); the runs then go in this process.
    keep_final_states
        Keep each run's final stance array in memory (``Result.final_states``).
    progress
        Called as ``progress(run, time, finished)`` (during runs only in this process).
    scheduler, cluster
        A Dask scheduler address, or a cluster description file, instead of local
        processes (as for sweeps).
    executor
        An executor to use instead (not closed here).
    check_memory_first
        Refuse, before anything runs, runs that would not fit in memory.
    available_memory
        Bytes to check against instead of what this machine has available.

    Returns
    -------
    Result

    Raises
    ------
    ScenarioError
        The scenario is invalid (nothing is written).
    InsufficientMemoryError
        The runs would not fit in memory (the message says what would).
    """
    over = dict(overrides or {})
    if runs is not None:
        over["runs"] = runs
    if seed is not None:
        over["seed"] = seed
    loaded = read_scenario(scenario, over)
    if workers is not None and workers < 0:
        raise ParameterError("number of workers must be >= 0", field="workers",
                             allowed="0 (all cores) or more", given=workers)
    dry = assemble(loaded, 0, dry=True)  # the whole scenario checked before anything runs
    lock = contextlib.ExitStack()
    created: list[Path] = []
    try:
        if out is not None:  # a folder we cannot write to is refused before the runs
            lock.enter_context(folder_lock(prepare_folder(out, created=created),
                                           "another steppe run"))
        with lock:
            result = _run(loaded, dry, workers, network, keep_final_states, progress,
                          scheduler, cluster, executor, check_memory_first, available_memory)
            if out is not None:
                result._write(Path(out))
    except BaseException:
        remove_empty(created)  # refused or failed: leave no folder behind
        raise
    return result


def _run(loaded: LoadedScenario, dry: Any, workers: int | None, network: Network | None,
         keep_final_states: bool, progress: Progress | None, scheduler: str | None,
         cluster: str | Path | None, executor: Executor | None, check_memory_first: bool,
         available_memory: int | None) -> Result:
    spec = loaded.spec
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    own = executor is None
    if executor is None:
        if network is not None:
            executor = InlineExecutor()
        else:
            executor = make_executor(workers=None if scheduler or cluster else workers,
                                     scheduler=scheduler, cluster=cluster, tasks=spec.runs)
    try:
        if check_memory_first and network is None:
            if executor.worker_memory() is not None:
                check_memory(loaded, 1, per_worker=executor.worker_memory())
            else:
                check_memory(loaded, workers=max(1, executor.slots), runs_held=spec.runs,
                             available=available_memory)
        tasks = make_tasks([(0, r) for r in range(spec.runs)], {0: loaded}, {},
                           executor.slots, tables=False, keep_state=keep_final_states,
                           threads=executor.threads)
        fn = run_task
        if isinstance(executor, InlineExecutor):
            fn = functools.partial(run_task, network=network, progress=progress)
        outputs: dict[int, RunOutput] = {}
        for _, rec in records(executor, tasks, fn):
            if rec["output"] is None:
                if rec["exception"] is not None:
                    raise rec["exception"]
                raise RunFailed(f"run {rec['run']} of {loaded.source} failed: "
                                f"{rec['error']}", traceback=rec["traceback"])
            o = rec["output"]
            outputs[o.run] = o
            if progress is not None:
                progress(o.run, o.final_time, True)
        description = executor.description
    finally:
        if own:
            executor.close()
    ordered = [outputs[r] for r in range(spec.runs)]
    stances = dry.model.stances
    frames = tables(ordered, stances, seed=spec.seed, dates=loaded.dates)
    series, summary = frames.pop("series"), frames.pop("summary")
    finished = datetime.now(UTC)
    model = dry.model
    scenario_data = resolved(loaded, model)
    meta = {
        "steppe_version": __version__,
        "scenario": scenario_data,
        "source": loaded.source,
        "source_sha256": loaded.sha256,
        "seed": spec.seed,
        "runs": spec.runs,
        "workers": max(1, executor.slots),
        "executor": description,
        "network": ordered[0].network if network is None else describe(network),
        "model": {"name": model.name, "title": model.title, "stances": list(model.stances),
                  "answers": list(dry.answers),
                  "references": list(model.references)},
        "report": scenario_data.get("report") or {},
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": finished.isoformat(timespec="seconds"),
        "wall_seconds": round(time.perf_counter() - t0, 3),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "dependencies": _versions(),
    }
    result = Result(scenario=loaded, series=series, summary=summary, tables=frames,
                    final_states={o.run: o.final_stance for o in ordered
                                  if o.final_stance is not None},
                    final_expressed={o.run: o.final_expressed for o in ordered
                                     if o.final_expressed is not None},
                    final_opinions={o.run: o.final_opinion for o in ordered
                                    if o.final_opinion is not None},
                    metadata=meta)
    return result
