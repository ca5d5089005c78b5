"""Task functions for the executor tests, importable by spawned worker processes (kept
free of heavy imports so that the processes start fast)."""

from __future__ import annotations

import os
from pathlib import Path


def die_once(marker: str) -> str:
    """Kill this worker process the first time (leaving a marker file), succeed after."""
    p = Path(marker)
    if not p.exists():
        p.write_text(str(os.getpid()))
        os._exit(1)
    return f"ok:{p.name}"


def always_die(_: object) -> None:
    """Kill this worker process, every time."""
    os._exit(1)


def square(x: int) -> int:
    """A task that works."""
    return x * x


def fail(x: int) -> int:
    """A task that raises."""
    raise ValueError(f"bad task {x}")
