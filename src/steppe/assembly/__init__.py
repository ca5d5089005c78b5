"""Assembly: a scenario and a run index become everything the run needs (network, model,
initial state, pressures, observers, timeline). A dry assembly of run 0 is the check of a
scenario against its model (:func:`load_scenario`)."""

from __future__ import annotations

from .assemble import Assembly, assemble, execute, load_scenario, make_model, resolved
from .network import cached_network, clear_cache, network_seed

__all__ = [
    "Assembly",
    "assemble",
    "cached_network",
    "clear_cache",
    "execute",
    "load_scenario",
    "make_model",
    "network_seed",
    "resolved",
]
