"""Experiments built on the engine: running scenarios (ensembles of runs), in this process
or in worker processes."""

from __future__ import annotations

from .runner import Result, RunOutput, execute_run, run

__all__ = ["Result", "RunOutput", "execute_run", "run"]
