"""Declared distributions for per-agent quantities (conviction, visibility, thresholds, ...).

In a scenario a per-agent quantity is either a bare number (everyone the same) or a table
naming a distribution::

    conviction = { dist = "uniform", low = 0.0, high = 1.0 }
    visibility = { dist = "beta", a = 2, b = 5 }
    threshold  = { dist = "normal", mean = 0.25, sd = 0.1 }   # clipped to the allowed range

Optionally per group: ``by_group = { 0 = 0.3, 1 = { dist = "uniform", low = 0, high = 1 } }``
overrides the default for members of the listed groups.

Examples
--------
>>> import numpy as np
>>> gen = np.random.default_rng(0)
>>> sample(0.5, 3, gen).tolist()
[0.5, 0.5, 0.5]
>>> x = sample(Uniform(dist="uniform", low=1, high=2), 1000, gen)
>>> bool(x.min() >= 1 and x.max() < 2)
True
>>> sample(Normal(dist="normal", mean=0, sd=1), 1000, gen, low=0.0).min()
np.float64(0.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Beta",
    "Constant",
    "DistLike",
    "Distribution",
    "LogNormal",
    "Normal",
    "Uniform",
    "describe",
    "sample",
    "sample_by_group",
]


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Constant(_Dist):
    """Everyone the same value."""

    dist: Literal["constant"]
    value: float


class Uniform(_Dist):
    """Uniform on [low, high)."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self


class Normal(_Dist):
    """Normal with mean and standard deviation (clipped to the quantity's allowed range)."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(ge=0)


class Beta(_Dist):
    """Beta(a, b) on [0, 1], optionally stretched to [low, high]."""

    dist: Literal["beta"]
    a: float = Field(gt=0)
    b: float = Field(gt=0)
    low: float = 0.0
    high: float = 1.0


class LogNormal(_Dist):
    """exp(Normal(mu, sigma))."""

    dist: Literal["lognormal"]
    mu: float
    sigma: float = Field(ge=0)


Distribution = Annotated[Constant | Uniform | Normal | Beta | LogNormal,
                         Field(discriminator="dist")]
#: a bare number or a distribution table
DistLike = float | Distribution


def sample(spec: DistLike, n: int, gen: np.random.Generator, *, low: float = -math.inf,
           high: float = math.inf) -> np.ndarray:
    """``n`` float64 draws from ``spec``, clipped to ``[low, high]``."""
    if isinstance(spec, int | float):
        x = np.full(n, float(spec))
    elif isinstance(spec, Constant):
        x = np.full(n, spec.value)
    elif isinstance(spec, Uniform):
        x = gen.uniform(spec.low, spec.high, size=n)
    elif isinstance(spec, Normal):
        x = gen.normal(spec.mean, spec.sd, size=n)
    elif isinstance(spec, Beta):
        x = spec.low + (spec.high - spec.low) * gen.beta(spec.a, spec.b, size=n)
    elif isinstance(spec, LogNormal):
        x = gen.lognormal(spec.mu, spec.sigma, size=n)
    else:  # pragma: no cover - the schema admits nothing else
        raise TypeError(f"not a distribution: {spec!r}")
    if low > -math.inf or high < math.inf:
        np.clip(x, low, high, out=x)
    return x


def sample_by_group(spec: DistLike, by_group: Mapping[int, DistLike] | None,
                    groups: np.ndarray | None, n: int, gen: np.random.Generator, *,
                    low: float = -math.inf, high: float = math.inf) -> np.ndarray:
    """Draws from ``spec``, replaced by ``by_group[g]`` for members of group ``g``."""
    x = sample(spec, n, gen, low=low, high=high)
    if by_group:
        if groups is None:
            raise ValueError("per-group values need agents with groups")
        for g, sub in sorted(by_group.items()):
            members = np.flatnonzero(groups == int(g))
            x[members] = sample(sub, len(members), gen, low=low, high=high)
    return x


def describe(spec: DistLike) -> str:
    """A short human-readable form, e.g. ``uniform(0, 1)``.

    Examples
    --------
    >>> describe(0.3), describe(Beta(dist="beta", a=2, b=5))
    ('0.3', 'beta(2.0, 5.0)')
    """
    if isinstance(spec, int | float):
        return f"{spec:g}"
    fields = {k: v for k, v in spec.model_dump().items() if k != "dist"}
    if isinstance(spec, Beta) and (spec.low, spec.high) == (0.0, 1.0):
        fields = {"a": spec.a, "b": spec.b}
    return f"{spec.dist}({', '.join(str(v) for v in fields.values())})"
