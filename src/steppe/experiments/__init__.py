"""Experiments built on the engine: running scenarios (ensembles of runs), in this process
or in worker processes; parameter sweeps on local processes or a Dask cluster, stored as
Parquet and queried with DuckDB; phase diagrams; memory estimates."""

from __future__ import annotations

from .memory import InsufficientMemoryError, MemoryEstimate, check_memory, estimate_memory
from .query import query
from .runner import Result, RunOutput, execute_run, run
from .sweep import SweepResult, plan_sweep, sweep

__all__ = [
    "InsufficientMemoryError",
    "MemoryEstimate",
    "Result",
    "RunOutput",
    "SweepResult",
    "check_memory",
    "estimate_memory",
    "execute_run",
    "plan_sweep",
    "query",
    "run",
    "sweep",
]
