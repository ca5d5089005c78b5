"""One path for many runs: the task every executor runs, for ensembles, sweeps and
sensitivity analyses alike.

A :class:`RunTask` is some runs of one scenario (a sweep point, a sensitivity setting, or
the scenario itself for ``steppe run``). :func:`run_task` assembles and runs each of them in
the worker it lands on (the network comes from the per-process cache of
:mod:`steppe.assembly.network`, so consecutive runs that share a network build it once) and
returns one record per run: the run's output, or its tables already serialised to Parquet
(so that the writing process only copies bytes), or the error that stopped it. A failing
run never sinks the others.

Examples
--------
>>> from steppe.assembly import load_scenario
>>> sc = load_scenario({"name": "t", "seed": 1, "network": {"kind": "complete", "n": 20},
...                     "model": {"name": "voter"}, "stop": {"max_sweeps": 2}})
>>> recs = run_task(RunTask(point=0, runs=(0, 1), scenario=sc))
>>> [(r["run"], r["output"].final_time, r["error"]) for r in recs]
[(0, 2.0, None), (1, 2.0, None)]
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..assembly import execute, make_model
from ..errors import SteppeError
from ..networks.base import Network
from ..observe.tables import RunOutput, tables
from ..scenario.loaded import LoadedScenario
from .executors import Executor, chunk_size, use_threads
from .store import parquet_bytes

__all__ = ["RunTask", "make_tasks", "run_tables", "run_task"]

#: called as progress(run, time_in_sweeps, finished)
Progress = Callable[[int, float, bool], None]


@dataclass
class RunTask:
    """Runs of one scenario, executed together in one worker.

    Attributes
    ----------
    point : int
        The sweep point (0 for an ensemble).
    runs : tuple of int
        The run indices.
    scenario : LoadedScenario
        The point's scenario (its seed is the point's seed).
    params : dict
        The point's swept fields (for failure records).
    tables : bool
        Return each run's tables as Parquet bytes (sweeps) instead of its output.
    keep_state : bool
        Keep the final stances in the output (ensembles).
    threads : int or None
        Numba threads the runs may use (the executor's share of the cores per task).
    """

    point: int
    runs: tuple[int, ...]
    scenario: LoadedScenario
    params: dict[str, Any] = field(default_factory=dict)
    tables: bool = False
    keep_state: bool = False
    #: Numba threads the runs may use (None: leave as it is)
    threads: int | None = None


def _string_column(df: pd.DataFrame, col: str) -> None:
    if col in df:
        df[col] = df[col].astype("string")


def run_tables(loaded: LoadedScenario, output: RunOutput, point: int,
               stances: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """The per-run tables of one finished run (the frames ``steppe run`` writes, for one
    run, the summary named ``runs``), each with a ``point`` column first.

    Examples
    --------
    >>> from steppe.assembly import execute, load_scenario
    >>> sc = load_scenario({"name": "t", "seed": 1, "network": {"kind": "complete",
    ...                     "n": 20}, "model": {"name": "voter"}, "stop": {"max_sweeps": 2}})
    >>> t = run_tables(sc, execute(sc, 0), point=4)
    >>> list(t["runs"].columns[:3]), int(t["series"]["point"].iloc[0])
    (['point', 'run', 'seed'], 4)
    """
    stances = stances if stances is not None else make_model(loaded).stances
    out = tables([output], stances, seed=loaded.spec.seed, dates=loaded.dates)
    out["runs"] = out.pop("summary")
    _string_column(out["runs"], "consensus_stance")
    for df in out.values():
        df.insert(0, "point", np.int32(point))
    return out


def run_task(task: RunTask, *, network: Network | None = None,
             progress: Progress | None = None) -> list[dict[str, Any]]:
    """Run a task's runs; one record per run: ``point``, ``run``, ``output`` (a
    :class:`~steppe.observe.tables.RunOutput`) or ``tables`` (Parquet bytes by table), or
    ``error`` (its message), ``exception`` and ``traceback``; ``host``, ``pid`` and
    ``seconds``. Never raises for a failing run.

    ``network`` and ``progress`` (called as ``progress(run, time, finished)``) are for
    runs in this process only.
    """
    use_threads(task.threads)
    out = []
    host = socket.gethostname()
    stances = None
    for r in task.runs:
        t0 = time.perf_counter()
        rec: dict[str, Any] = {"point": task.point, "run": r, "output": None, "tables": None,
                               "error": None, "exception": None, "traceback": None,
                               "host": host, "pid": os.getpid()}
        try:
            cb = None if progress is None else (lambda t, r=r: progress(r, t, False))
            o = execute(task.scenario, r, network, keep_state=task.keep_state, progress=cb)
            if task.tables:
                if stances is None:
                    stances = make_model(task.scenario).stances
                # serialised here, in the worker: the writing process only copies bytes
                rec["tables"] = {k: parquet_bytes(v) for k, v in run_tables(
                    task.scenario, o, task.point, stances).items()}
            else:
                rec["output"] = o
        except Exception as exc:
            rec["error"] = f"{type(exc).__name__}: {exc}"
            # user errors travel back whole (they pickle); anything else as text
            rec["exception"] = exc if isinstance(exc, SteppeError) else None
            rec["traceback"] = traceback.format_exc()
        rec["seconds"] = time.perf_counter() - t0
        out.append(rec)
    return out


def make_tasks(pending: Sequence[tuple[int, int]], scenarios: Mapping[int, LoadedScenario],
               params: Mapping[int, dict[str, Any]], slots: int, *, tables: bool,
               keep_state: bool = False, threads: int | None = None) -> list[RunTask]:
    """Group pending ``(point, run)`` pairs into tasks: consecutive runs of one point
    together (their network is built once per worker), enough tasks to keep every slot
    busy (:func:`~steppe.experiments.executors.chunk_size`)."""
    size = chunk_size(len(pending), slots)
    tasks: list[RunTask] = []
    i = 0
    while i < len(pending):
        point = pending[i][0]
        j = i
        while j < len(pending) and pending[j][0] == point and j - i < size:
            j += 1
        tasks.append(RunTask(point=point, runs=tuple(r for _, r in pending[i:j]),
                             scenario=scenarios[point], params=dict(params.get(point, {})),
                             tables=tables, keep_state=keep_state, threads=threads))
        i = j
    return tasks


def records(executor: Executor, tasks: Sequence[RunTask],
            fn: Callable[[RunTask], list[dict[str, Any]]] = run_task
            ) -> Iterator[tuple[RunTask, dict[str, Any]]]:
    """Run the tasks on ``executor`` and yield ``(task, record)`` per run as they finish;
    a task whose worker died yields one failure record per run."""
    for task, result in executor.map(fn, tasks):
        if isinstance(result, BaseException):
            for r in task.runs:
                yield task, {"point": task.point, "run": r, "output": None, "tables": None,
                             "error": f"{type(result).__name__}: {result}",
                             "exception": result if isinstance(result, SteppeError) else None,
                             "traceback": "".join(traceback.format_exception(result)),
                             "host": None, "pid": None, "seconds": None}
        else:
            for rec in result:
                yield task, rec
