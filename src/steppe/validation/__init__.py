"""Published results that steppe's models must reproduce, runnable as ``steppe validate``.

Each module of this package registers checks with :func:`~steppe.validation.base.check`.
A check runs simulations with a fixed seed and compares a measured value with the published
one, with a tolerance stated in standard errors (or exactly, for deterministic results).
The test suite runs the same checks, so the table printed by ``steppe validate`` and the
tests can never disagree.

Examples
--------
>>> from steppe.validation import all_checks
>>> any(c.model == "voter" for c in all_checks())
True
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import Check, CheckResult, all_checks, check, run_checks

__all__ = ["Check", "CheckResult", "all_checks", "check", "run_checks"]

_DISCOVERED = False


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_") and info.name != "base":
            importlib.import_module(f"{__name__}.{info.name}")
    _DISCOVERED = True
