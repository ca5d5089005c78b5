"""Whole numbers of agents from shares: the one largest-remainder rule steppe uses everywhere
(initial stances, committed agents, synthetic populations, poll allocations, who leaves with
a border flow), and the cumulative rounding of expected numbers per sweep.

The rule. ``total`` is split in proportion to the ``weights``: every entry first gets the
whole part of its exact quota ``total * w_i / sum(w)``, and the seats left over go to the
entries with the largest fractional parts, ties to the earlier entry. The quotas are
computed in exact rational arithmetic (:class:`fractions.Fraction` of the binary values of
the weights, or integer arithmetic for integer weights), so the result depends on the
weights alone, not on the order of floating-point operations.

Examples
--------
>>> largest_remainder(10, [0.34, 0.33, 0.33]).tolist()
[4, 3, 3]
>>> largest_remainder(100, [1, 1, 1]).tolist()
[34, 33, 33]
>>> cumulative_round([0.4, 0.4, 0.4, 0.0, 1.2]).tolist()
[0, 1, 0, 0, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from .errors import ParameterError

__all__ = ["cumulative_round", "largest_remainder"]


def largest_remainder(total: int, weights: Sequence[float] | np.ndarray, *,
                      field: str = "weights") -> np.ndarray:
    """Split ``total`` into whole numbers proportional to ``weights`` (largest remainder).

    Parameters
    ----------
    total : int
        What is split (>= 0).
    weights : sequence of float or int
        Non-negative weights; they need not sum to 1. All zero (or empty) gives zeros.
    field : str
        The field named in the error for bad weights.

    Returns
    -------
    numpy.ndarray
        int64 counts summing to ``total`` (zeros when every weight is 0).

    Raises
    ------
    ParameterError
        A weight is negative or not finite.

    Examples
    --------
    >>> largest_remainder(1000, [5000, 3000, 1500, 499, 1]).tolist()
    [500, 300, 150, 50, 0]
    >>> largest_remainder(3, [0.0, 0.0]).tolist()
    [0, 0]
    """
    w = np.asarray(weights)
    if w.ndim != 1:
        raise ParameterError("weights must be a flat list", field=field, given=w.tolist())
    if w.size and (not np.all(np.isfinite(w)) or np.any(w < 0)):
        raise ParameterError("weights must be finite and non-negative", field=field,
                             given=w.tolist())
    total = int(total)
    if np.issubdtype(w.dtype, np.integer):
        exact = [Fraction(int(x)) for x in w]
    else:
        exact = [Fraction(float(x)) for x in w]
    s = sum(exact, Fraction(0))
    if total == 0 or s == 0:
        return np.zeros(len(w), dtype=np.int64)
    quotas = [total * x / s for x in exact]
    base = np.array([q.numerator // q.denominator for q in quotas], dtype=np.int64)
    rest = total - int(base.sum())
    if rest > 0:
        fractional = [q - int(b) for q, b in zip(quotas, base.tolist(), strict=True)]
        order = sorted(range(len(w)), key=lambda i: -fractional[i])  # stable: ties to earlier
        base[order[:rest]] += 1
    return base


def cumulative_round(expected: Sequence[float] | np.ndarray, *,
                     field: str = "flows") -> np.ndarray:
    """Whole numbers per step from expected (fractional) numbers per step: the differences
    of the rounded cumulative sum, so that the realised total is the rounded expected
    total and no step drifts by more than one from its expectation.

    Parameters
    ----------
    expected : sequence of float
        Expected number per step, finite and >= 0.
    field : str
        The field named in the error for bad numbers.

    Returns
    -------
    numpy.ndarray
        int64, one entry per step.

    Raises
    ------
    ParameterError
        A number is negative or not finite.

    Examples
    --------
    >>> cumulative_round(np.full(4, 2.5)).tolist()
    [3, 2, 3, 2]
    """
    expected = np.asarray(expected, dtype=np.float64)
    if expected.size and (not np.all(np.isfinite(expected)) or expected.min() < 0):
        raise ParameterError("expected numbers of agents must be finite and >= 0",
                             field=field, given=float(expected.min()))
    cum = np.floor(np.concatenate([[0.0], np.cumsum(expected)]) + 0.5 + 1e-9)
    return np.diff(cum).astype(np.int64)
