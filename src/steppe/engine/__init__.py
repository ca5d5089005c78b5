"""State arrays and the time loop."""

from __future__ import annotations

from .simulate import Trajectory, simulate
from .state import Committed, apportion, init_state

__all__ = ["Committed", "Trajectory", "apportion", "init_state", "simulate"]
