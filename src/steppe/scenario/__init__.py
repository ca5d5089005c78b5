"""Scenario files: schema and loading. Pure data, never executed.

:func:`read_scenario` returns a frozen :class:`LoadedScenario` (schema-validated);
:mod:`steppe.assembly` turns it into runs (and checks what needs the model).
"""

from __future__ import annotations

from .calendar import Calendar
from .files import apply_overrides, read_scenario_file, resolve_variant, set_path
from .loaded import LoadedScenario
from .loader import read_scenario, with_overrides
from .schema import Scenario

__all__ = [
    "Calendar",
    "LoadedScenario",
    "Scenario",
    "apply_overrides",
    "read_scenario",
    "read_scenario_file",
    "resolve_variant",
    "set_path",
    "with_overrides",
]
