"""Scenario files: schema, loading and validation. Pure data, never executed."""

from __future__ import annotations

from .loader import LoadedScenario, apply_overrides, load_scenario, network_seed, run_seed
from .schema import Scenario

__all__ = [
    "LoadedScenario",
    "Scenario",
    "apply_overrides",
    "load_scenario",
    "network_seed",
    "run_seed",
]
