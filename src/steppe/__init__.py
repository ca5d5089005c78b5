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

import os as _os

# Numba's parallel kernels run on GNU OpenMP, whose threads spin for about 300,000 turns
# before they sleep when they wait for each other. On a machine whose cores are busy with
# other work (a shared cluster node, a test suite, a browser), a spinning thread holds the
# core the thread it waits for needs: measured here, a small flagship run took 5 to 31 s
# instead of 3.4 s with two other processes busy, each parallel call up to 8 ms instead
# of 4 us. 10,000 turns keep the idle speed and the fair share under load. Set before
# Numba loads OpenMP; a value of your own (GOMP_SPINCOUNT or OMP_WAIT_POLICY) is kept.
if "GOMP_SPINCOUNT" not in _os.environ and "OMP_WAIT_POLICY" not in _os.environ:
    _os.environ["GOMP_SPINCOUNT"] = "10000"

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
