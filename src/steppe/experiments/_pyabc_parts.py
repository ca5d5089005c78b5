"""Pieces of pyabc that steppe's calibration adds (imported only once pyabc is: see
:func:`steppe.experiments.calibrate.import_pyabc`).

:class:`FromPrior` proposes parameters from their (uniform) prior, independently of the
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

__all__ = ["FromPrior"]


class FromPrior(Transition):
    """Propose ``keys`` independently and uniformly over ``[low, high]`` (their prior).

    Parameters
    ----------
    keys, low, high
        The parameters' names in pyabc and their prior ranges.

    Examples
    --------
    >>> t = FromPrior(["a"], [0.0], [2.0])
    >>> float(t.pdf(pd.Series({"a": 1.0})))
    0.5
    """

    def __init__(self, keys: Sequence[str], low: Sequence[float], high: Sequence[float]):
        self.keys = list(keys)
        self.low = np.asarray(low, dtype=float)
        self.high = np.asarray(high, dtype=float)

    def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:
        """Nothing to fit: the proposal does not depend on the previous generation."""

    def rvs_single(self) -> Parameter:
        """One draw from the prior."""
        # pyabc draws from NumPy's global generator, seeded by the calibration
        x = self.low + (self.high - self.low) * np.random.random_sample(len(self.keys))  # noqa: NPY002
        return Parameter(dict(zip(self.keys, x.tolist(), strict=True)))

    def pdf(self, x: Parameter | pd.Series | pd.DataFrame) -> float | np.ndarray:
        """The prior density at ``x`` (zero outside the ranges)."""
        if isinstance(x, pd.DataFrame):
            v = x[self.keys].to_numpy(dtype=float)
        else:
            v = np.array([[float(x[k]) for k in self.keys]])
        inside = ((v >= self.low) & (v <= self.high)).all(axis=1)
        dens = np.where(inside, 1.0 / np.prod(self.high - self.low), 0.0)
        return dens if isinstance(x, pd.DataFrame) else float(dens[0])
