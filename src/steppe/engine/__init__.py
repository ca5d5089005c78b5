"""The time loop, the timeline of events, and the initial state of a run."""

from __future__ import annotations

from .simulate import Breakdown, Observer, Trajectory, simulate
from .state import Committed, combine_shares, init_state
from .timeline import Event, Timeline, model_controls

__all__ = ["Breakdown", "Committed", "Event", "Observer", "Timeline", "Trajectory",
           "combine_shares", "init_state", "model_controls", "simulate"]
