"""State arrays and the time loop."""

from __future__ import annotations

from .simulate import Event, Trajectory, apply_event, simulate
from .state import Committed, apportion, init_state

__all__ = ["Committed", "Event", "Trajectory", "apply_event", "apportion", "init_state", "simulate"]
