"""steppe: country-scale simulation of how a population's stance moves under pressure.

Examples
--------
>>> import steppe
>>> res = steppe.run({"name": "demo", "seed": 1, "network": {"kind": "complete", "n": 50},
...                   "model": {"name": "voter"}, "stop": {"max_sweeps": 5}})
>>> list(res.summary["run"])
[0]
"""

from __future__ import annotations

from ._version import __version__
from .assembly import load_scenario
from .errors import ParameterError, ScenarioError, SteppeError
from .experiments.ensemble import Result, run
from .models.base import available_models, get_model

__all__ = [
    "ParameterError",
    "Result",
    "ScenarioError",
    "SteppeError",
    "__version__",
    "available_models",
    "get_model",
    "load_scenario",
    "run",
]
