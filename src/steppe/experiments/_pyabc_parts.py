"""Pieces of pyabc that steppe's calibration adds (imported only once pyabc is: see
:func:`steppe.experiments.calibrate.import_pyabc`).

:class:`FromPrior` proposes parameters from their prior, independently of the
previous generation. In ABC-SMC a particle's weight is its prior density over its proposal
density; for a parameter proposed from its prior the two cancel, so it adds nothing to the
spread of the weights. Any proposal that covers the prior leaves the posterior unchanged (it
is importance sampling): only the efficiency differs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pyabc.parameters import Parameter
from pyabc.transition import Transition
from scipy.stats import logistic

__all__ = ["FromPrior"]


class FromPrior(Transition):
    """Propose ``keys`` independently from their prior, a standard logistic each (the
    calibration's parameters live on the logit scale of their ranges, where the uniform
    prior over a range is the standard logistic).

    Parameters
    ----------
    keys
        The parameters' names in pyabc.

    Examples
    --------
    >>> t = FromPrior(["a"])
    >>> float(t.pdf(pd.Series({"a": 0.0})))
    0.25
    """

    def __init__(self, keys: Sequence[str]):
        self.keys = list(keys)

    def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:
        """Nothing to fit: the proposal does not depend on the previous generation."""

    def rvs_single(self) -> Parameter:
        """One draw from the prior."""
        # pyabc draws from NumPy's global generator, seeded by the calibration
        x = np.random.logistic(size=len(self.keys))  # noqa: NPY002
        return Parameter(dict(zip(self.keys, x.tolist(), strict=True)))

    def pdf(self, x: Parameter | pd.Series | pd.DataFrame) -> float | np.ndarray:
        """The prior density at ``x``."""
        if isinstance(x, pd.DataFrame):
            v = x[self.keys].to_numpy(dtype=float)
        else:
            v = np.array([[float(x[k]) for k in self.keys]])
        dens = np.prod(logistic.pdf(v), axis=1)
        return dens if isinstance(x, pd.DataFrame) else float(dens[0])
