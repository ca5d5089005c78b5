"""Observation: what is recorded from runs (observables registered by name, the name being
the output column), polls as observation models, the tidy tables, and the atomic writers."""

from __future__ import annotations

from .observables import (
    Breakdowns,
    Derived,
    Observable,
    Recorder,
    Recording,
    default_breakdowns,
    register_derived,
    register_observable,
    registered_observables,
)
from .polls import (
    ListEstimate,
    ListExperiment,
    PollDesign,
    PollObserver,
    PollResult,
    polls_to_frame,
    run_poll,
    wilson_interval,
)
from .tables import SERIES_COLUMNS, RunOutput, tables
from .writers import atomic_path, write_json_atomic, write_npz_atomic, write_parquet_atomic

__all__ = [
    "SERIES_COLUMNS",
    "Breakdowns",
    "Derived",
    "ListEstimate",
    "ListExperiment",
    "Observable",
    "PollDesign",
    "PollObserver",
    "PollResult",
    "Recorder",
    "Recording",
    "RunOutput",
    "atomic_path",
    "default_breakdowns",
    "polls_to_frame",
    "register_derived",
    "register_observable",
    "registered_observables",
    "run_poll",
    "tables",
    "wilson_interval",
    "write_json_atomic",
    "write_npz_atomic",
    "write_parquet_atomic",
]
