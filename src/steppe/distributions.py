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

from .errors import ParameterError

__all__ = [
    "Beta",
    "Constant",
    "DistLike",
    "Distribution",
    "LogNormal",
    "Normal",
    "Uniform",
    "check_range",
    "checked",
    "describe",
    "sample",
    "sample_by_group",
]


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True,
                              strict=True, allow_inf_nan=False)


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


def _normal_mass(mean: float, sd: float, low: float, high: float) -> float:
    """P(low <= X <= high) for X ~ Normal(mean, sd)."""
    if sd == 0:
        return float(low <= mean <= high)

    def cdf(x: float) -> float:
        if x == math.inf:
            return 1.0
        if x == -math.inf:
            return 0.0
        return 0.5 * (1.0 + math.erf((x - mean) / (sd * math.sqrt(2.0))))

    return cdf(high) - cdf(low)


#: the least probability a distribution must put inside a quantity's allowed range
MIN_MASS = 0.01


def check_range(spec: DistLike, low: float = -math.inf, high: float = math.inf, *,
                field: str = "value") -> None:
    """Refuse a value, or a distribution, that does not fit a quantity's allowed range
    ``[low, high]``: a number (or constant) outside it, or a distribution that puts less
    than 1% of its draws inside it (they would all be clipped to an end: the declared
    distribution would not be what runs).

    Raises
    ------
    ValueError
        Naming the field, the range and what was given.

    Examples
    --------
    >>> check_range(0.5, 0.0, 1.0)
    >>> check_range(-1.0, 0.0, field="visibility")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: visibility: must lie in [0.0, inf] (given: -1.0)
    >>> check_range(Normal(dist="normal", mean=5, sd=0.1), 0.0, 1.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: value: puts less than 1% of its draws in [0.0, 1.0], the allowed range ...
    """
    where = f"[{low}, {high}]"
    if isinstance(spec, bool) or not isinstance(spec, int | float | _Dist):
        raise ValueError(f"{field}: a number or a distribution table (given: {spec!r})")
    if isinstance(spec, int | float | Constant):
        v = float(spec.value if isinstance(spec, Constant) else spec)
        if not math.isfinite(v) or not low <= v <= high:
            raise ValueError(f"{field}: must lie in {where} (given: {v!r})")
        return
    if isinstance(spec, Uniform):
        width = spec.high - spec.low
        inside = min(spec.high, high) - max(spec.low, low)
        mass = float(low <= spec.low <= high) if width == 0 else max(0.0, inside) / width
    elif isinstance(spec, Beta):
        inside = min(spec.high, high) - max(spec.low, low)
        width = spec.high - spec.low
        mass = float(low <= spec.low <= high) if width == 0 else (
            1.0 if inside >= width else max(0.0, inside) / width)
    elif isinstance(spec, Normal):
        mass = _normal_mass(spec.mean, spec.sd, low, high)
    else:  # LogNormal: log X ~ Normal(mu, sigma)
        lo = math.log(low) if low > 0 else -math.inf
        hi = math.log(high) if high > 0 else -math.inf
        mass = 0.0 if high <= 0 else _normal_mass(spec.mu, spec.sigma, lo, hi)
    if mass < MIN_MASS:
        raise ValueError(f"{field}: puts less than {MIN_MASS:.0%} of its draws in {where}, "
                         f"the allowed range (given: {describe(spec)})")


def checked(spec: DistLike, low: float, high: float, field: str) -> DistLike:
    """:func:`check_range`, raising :class:`~steppe.errors.ParameterError` (for model and
    pressure parameters); returns ``spec``."""
    try:
        check_range(spec, low, high, field=field)
    except ValueError as exc:
        message = str(exc).split(": ", 1)[-1]
        raise ParameterError(message.split(" (given")[0], field=field,
                             allowed=f"values in [{low}, {high}]", given=describe(spec)) from None
    return spec


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
