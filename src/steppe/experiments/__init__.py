"""Experiments built on the assembly step, all through one path for many runs
(:mod:`steppe.experiments.tasks` on an executor: this process, local processes or a Dask
cluster): ensembles of runs of a scenario, parameter sweeps stored as Parquet and queried
with DuckDB, phase diagrams as data, one-at-a-time sensitivity analyses; memory estimates
checked before anything runs."""

from __future__ import annotations

from .ensemble import Result, final_shares, run
from .memory import InsufficientMemoryError, MemoryEstimate, check_memory, estimate_memory
from .query import query
from .sensitivity import sensitivity
from .sweep import SweepResult, plan_sweep, sweep
from .tasks import RunTask, run_tables, run_task

__all__ = [
    "InsufficientMemoryError",
    "MemoryEstimate",
    "Result",
    "RunTask",
    "SweepResult",
    "check_memory",
    "estimate_memory",
    "final_shares",
    "plan_sweep",
    "query",
    "run",
    "run_tables",
    "run_task",
    "sensitivity",
    "sweep",
]
