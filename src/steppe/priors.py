"""Prior distributions over an assumption's range, for ``steppe calibrate`` and the global
sensitivity analyses.

An ``[[assumptions]]`` entry declares a range ``[low, high]``; by default every value in it
is equally likely a priori. Its ``prior`` table can say otherwise, always **within** the
range (a distribution that reaches beyond it is truncated to it)::

    prior = { dist = "beta", a = 2, b = 5 }          # beta(2, 5) stretched over [low, high]
    prior = { dist = "normal", mean = 0.3, sd = 0.1 } # normal, truncated to [low, high]
    prior = { dist = "lognormal", mu = -2, sigma = 1 }# log-normal, truncated
    prior = { dist = "loguniform" }                  # uniform in log(x) (needs low > 0)
    prior = { dist = "triangular", mode = 0.2 }      # triangular with its peak at mode
    prior = { dist = "uniform" }                     # the default

Every consumer works through the prior's quantile function :func:`quantile`: a value at
prior quantile ``q`` in (0, 1). A uniform ``q`` gives a draw from the prior, so samplers
that work on the unit cube (Morris, Sobol) or on the logit scale (the calibration's
ABC-SMC) need nothing else; the density (:func:`density`) is for drawing the prior beside
a posterior.

Examples
--------
>>> spec = Beta(dist="beta", a=2, b=2)
>>> float(quantile(spec, 10.0, 20.0, 0.5))
15.0
>>> describe(spec, 10.0, 20.0)
'beta(2, 2) over 10 to 20'
>>> describe(None, 0.0, 1.0)
'uniform over 0 to 1'
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

__all__ = [
    "Beta",
    "LogNormal",
    "LogUniform",
    "Normal",
    "PriorDist",
    "Triangular",
    "Uniform",
    "check",
    "density",
    "describe",
    "from_dict",
    "morris_quantiles",
    "quantile",
]

#: the least prior probability a truncated distribution must put inside the range (less,
#: and the declared distribution is not what the range leaves of it)
MIN_MASS = 0.01


class _Prior(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True,
                              strict=True, allow_inf_nan=False)


class Uniform(_Prior):
    """Every value of the range equally likely (the default)."""

    dist: Literal["uniform"]


class Beta(_Prior):
    """Beta(a, b) stretched over the range: ``low + (high - low) * Beta(a, b)``."""

    dist: Literal["beta"]
    a: float = Field(gt=0)
    """First shape parameter (> 0)."""
    b: float = Field(gt=0)
    """Second shape parameter (> 0)."""


class Normal(_Prior):
    """Normal(mean, sd) truncated to the range."""

    dist: Literal["normal"]
    mean: float
    """Mean before truncation."""
    sd: float = Field(gt=0)
    """Standard deviation before truncation (> 0)."""


class LogNormal(_Prior):
    """exp(Normal(mu, sigma)) truncated to the range."""

    dist: Literal["lognormal"]
    mu: float
    """Mean of the logarithm before truncation."""
    sigma: float = Field(gt=0)
    """Standard deviation of the logarithm before truncation (> 0)."""


class LogUniform(_Prior):
    """Uniform in ``log(x)`` over the range (every factor of ten equally likely); needs
    ``low > 0``."""

    dist: Literal["loguniform"]


class Triangular(_Prior):
    """Triangular over the range with its peak at ``mode``."""

    dist: Literal["triangular"]
    mode: float
    """The most likely value (within the range)."""


#: a prior over an assumption's range (the ``prior`` table of an ``[[assumptions]]`` entry)
PriorDist = Annotated[Uniform | Beta | Normal | LogNormal | LogUniform | Triangular,
                      Field(discriminator="dist")]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(PriorDist)


def from_dict(data: dict[str, Any] | None) -> Any:
    """The prior a table describes (``None`` stays ``None``: uniform).

    Parameters
    ----------
    data
        An assumption's ``prior`` table (``{"dist": "beta", "a": 2, "b": 5}``), or None.

    Returns
    -------
    Uniform, Beta, Normal, LogNormal, LogUniform, Triangular or None

    Raises
    ------
    pydantic.ValidationError
        An unknown ``dist``, a missing or out-of-range field.

    Examples
    --------
    >>> from_dict({"dist": "triangular", "mode": 0.2})
    Triangular(dist='triangular', mode=0.2)
    """
    return None if data is None else _ADAPTER.validate_python(data)


def _truncnorm(mean: float, sd: float, low: float, high: float) -> Any:
    from scipy.stats import truncnorm

    return truncnorm((low - mean) / sd, (high - mean) / sd, loc=mean, scale=sd)


def _log_bounds(low: float, high: float) -> tuple[float, float]:
    return (math.log(low) if low > 0 else -math.inf), math.log(high)


def _normal_mass(mean: float, sd: float, low: float, high: float) -> float:
    from scipy.stats import norm

    return float(norm.cdf(high, mean, sd) - norm.cdf(low, mean, sd))


def check(spec: Any, low: float, high: float) -> None:
    """Refuse a prior that does not fit the range ``[low, high]``.

    Parameters
    ----------
    spec
        A prior (:class:`Uniform`, :class:`Beta`, :class:`Normal`, :class:`LogNormal`,
        :class:`LogUniform`, :class:`Triangular`), or None for uniform.
    low, high
        The assumption's range.

    Raises
    ------
    ValueError
        Saying what is wrong: a zero-width range, a log-uniform prior over a range that
        reaches 0, a triangle's mode outside the range, or a normal or log-normal prior that
        puts less than 1% of its mass inside the range.

    Examples
    --------
    >>> check(Normal(dist="normal", mean=5.0, sd=0.1), 0.0, 1.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: normal(5, 0.1) puts less than 1% of its mass in [0, 1], the assumption...
    """
    if spec is None:
        return
    if not high > low:
        raise ValueError(f"a prior needs a range (low < high; given {low:g} to {high:g})")
    if isinstance(spec, LogUniform) and low <= 0:
        raise ValueError(f"a log-uniform prior needs low > 0 (given low = {low:g})")
    if isinstance(spec, Triangular) and not low <= spec.mode <= high:
        raise ValueError(f"the triangle's mode must lie in [{low:g}, {high:g}] "
                         f"(given mode = {spec.mode:g})")
    if isinstance(spec, LogNormal) and high <= 0:
        raise ValueError(f"a log-normal prior needs high > 0 (given high = {high:g})")
    mass = 1.0
    if isinstance(spec, Normal):
        mass = _normal_mass(spec.mean, spec.sd, low, high)
    elif isinstance(spec, LogNormal):
        mass = _normal_mass(spec.mu, spec.sigma, *_log_bounds(low, high))
    if mass < MIN_MASS:
        raise ValueError(f"{describe(spec)} puts less than {MIN_MASS:.0%} of its mass in "
                         f"[{low:g}, {high:g}], the assumption's range: truncated to it, it "
                         "would not be the distribution declared")


def quantile(spec: Any, low: float, high: float, q: float | np.ndarray) -> np.ndarray:
    """The value at prior quantile ``q`` (in [0, 1]) of ``spec`` over ``[low, high]``
    (``None``: uniform). A uniform ``q`` gives a draw from the prior.

    Parameters
    ----------
    spec
        A prior (:class:`Uniform`, :class:`Beta`, :class:`Normal`, :class:`LogNormal`,
        :class:`LogUniform`, :class:`Triangular`), or None for uniform.
    low, high
        The assumption's range.
    q
        Prior quantiles, in [0, 1].

    Returns
    -------
    numpy.ndarray
        The values, within ``[low, high]``, shaped like ``q``.

    Examples
    --------
    >>> quantile(None, 1.0, 3.0, np.array([0.0, 0.25, 1.0])).tolist()
    [1.0, 1.5, 3.0]
    >>> round(float(quantile(LogUniform(dist="loguniform"), 0.01, 1.0, 0.5)), 6)
    0.1
    """
    q = np.asarray(q, dtype=float)
    if spec is None or isinstance(spec, Uniform):
        # the formula SALib and the uniform sampler have always used, to the last bit
        return low + q * (high - low)
    from scipy import stats

    if isinstance(spec, Beta):
        x = low + (high - low) * stats.beta.ppf(q, spec.a, spec.b)
    elif isinstance(spec, Normal):
        x = _truncnorm(spec.mean, spec.sd, low, high).ppf(q)
    elif isinstance(spec, LogNormal):
        x = np.exp(_truncnorm(spec.mu, spec.sigma, *_log_bounds(low, high)).ppf(q))
    elif isinstance(spec, LogUniform):
        x = low * (high / low) ** q
    else:  # Triangular
        c = (spec.mode - low) / (high - low)
        x = stats.triang.ppf(q, c, loc=low, scale=high - low)
    return np.clip(x, low, high)


def density(spec: Any, low: float, high: float, x: float | np.ndarray) -> np.ndarray:
    """The prior density of ``spec`` over ``[low, high]`` at ``x`` (0 outside the range).

    Parameters
    ----------
    spec
        A prior (:class:`Uniform`, :class:`Beta`, :class:`Normal`, :class:`LogNormal`,
        :class:`LogUniform`, :class:`Triangular`), or None for uniform.
    low, high
        The assumption's range.
    x
        Where to evaluate it.

    Returns
    -------
    numpy.ndarray
        The density (of the prior truncated to the range), shaped like ``x``.

    Examples
    --------
    >>> density(None, 0.0, 2.0, np.array([-1.0, 1.0])).tolist()
    [0.0, 0.5]
    """
    x = np.asarray(x, dtype=float)
    inside = (x >= low) & (x <= high)
    if spec is None or isinstance(spec, Uniform):
        d = np.full(x.shape, 1.0 / (high - low))
    else:
        from scipy import stats

        xc = np.clip(x, low, high)
        with np.errstate(divide="ignore", invalid="ignore"):
            if isinstance(spec, Beta):
                d = stats.beta.pdf((xc - low) / (high - low), spec.a, spec.b) / (high - low)
            elif isinstance(spec, Normal):
                d = _truncnorm(spec.mean, spec.sd, low, high).pdf(xc)
            elif isinstance(spec, LogNormal):
                lx = np.log(np.where(xc > 0, xc, np.nan))
                d = _truncnorm(spec.mu, spec.sigma, *_log_bounds(low, high)).pdf(lx) / xc
            elif isinstance(spec, LogUniform):
                d = 1.0 / (xc * math.log(high / low))
            else:
                c = (spec.mode - low) / (high - low)
                d = stats.triang.pdf(xc, c, loc=low, scale=high - low)
    return np.where(inside, np.nan_to_num(d, nan=0.0, posinf=0.0), 0.0)


def describe(spec: Any, low: float | None = None, high: float | None = None) -> str:
    """A short form, e.g. ``beta(2, 5) over 0 to 1`` (the range when given).

    Parameters
    ----------
    spec
        A prior (:class:`Uniform`, :class:`Beta`, :class:`Normal`, :class:`LogNormal`,
        :class:`LogUniform`, :class:`Triangular`), or None for uniform.
    low, high
        The assumption's range.
        Optional: without them the range is left out.

    Returns
    -------
    str

    Examples
    --------
    >>> describe(Normal(dist="normal", mean=0.3, sd=0.1))
    'normal(0.3, 0.1)'
    """
    if spec is None:
        text = "uniform"
    else:
        args = [f"{v:g}" for k, v in spec.model_dump().items() if k != "dist"]
        text = f"{spec.dist}({', '.join(args)})" if args else spec.dist
    if low is None or high is None:
        return text
    return f"{text} over {low:g} to {high:g}"


def morris_quantiles(spec: Any, q: np.ndarray, levels: int) -> np.ndarray:
    """The prior quantiles at which a Morris design samples an assumption: for a uniform
    prior the grid itself (``0, 1/(L-1), ..., 1``: the range's ends included); for a prior
    given as a distribution the grid's midpoints ``(j + 1/2) / L``, so that a truncated
    tail's end, which the prior holds unlikely, is not sampled as often as its bulk.

    Parameters
    ----------
    spec
        The assumption's prior (None: uniform).
    q
        The Morris design's grid values, ``k / (levels - 1)``.
    levels
        The number of grid levels ``L``.

    Returns
    -------
    numpy.ndarray
        Prior quantiles, to pass to :func:`quantile`.

    Examples
    --------
    >>> g = np.array([0.0, 1 / 3, 2 / 3, 1.0])
    >>> morris_quantiles(None, g, 4).tolist() == g.tolist()
    True
    >>> morris_quantiles(LogUniform(dist="loguniform"), g, 4).round(3).tolist()
    [0.125, 0.375, 0.625, 0.875]
    """
    q = np.asarray(q, dtype=float)
    if spec is None or isinstance(spec, Uniform):
        return q
    return (q * (levels - 1) + 0.5) / levels
