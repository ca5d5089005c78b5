"""Observables and writers: what is recorded from runs, and how it reaches disk."""

from __future__ import annotations

from .polls import (
    ListEstimate,
    ListExperiment,
    PollDesign,
    PollResult,
    largest_remainder,
    polls_to_frame,
    run_poll,
    wilson_interval,
)
from .writers import atomic_path, write_json_atomic, write_npz_atomic, write_parquet_atomic

__all__ = ["atomic_path", "write_json_atomic", "write_npz_atomic", "write_parquet_atomic"]
__all__ += ["ListEstimate", "ListExperiment", "PollDesign", "PollResult", "largest_remainder",
            "polls_to_frame", "run_poll", "wilson_interval"]
