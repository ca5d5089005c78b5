"""Survey weights: post-stratification on one attribute, raking on several, and the
variances that go with them.

**Post-stratification** on one attribute: respondent ``i`` of level ``l`` gets
``w_l = (N_l / N) / (n_l / n)`` so that the weighted sample has the population's shares of
that attribute (:func:`poststratify`).

**Raking** (iterative proportional fitting; Deming & Stephan 1940) on several attributes at
once, as pollsters weight "by sex, age and ethnicity": the weights are adjusted to each
attribute's population margin in turn until all of them hold (:func:`rake`). The fitting is
done by the ``ipfn`` package on the respondents' cross-table (cells: the combinations of
levels present among the respondents), each respondent's weight being its cell's fitted
total over its count. With one attribute, raking is post-stratification (tested). Levels of
an attribute with no respondent cannot be weighted up: the margin is renormalised over the
levels that have respondents, and the population share left out is reported
(``uncovered``).

**Variance of a weighted share** ``p = sum(w y) / sum(w)``:

- ``"poststratified"`` (one attribute): ``sum_l W_l^2 p_l (1 - p_l) / n_l * f_l`` (Cochran
  1977, sec. 5A.9);
- ``"linearized"`` (raking; Deville & Särndal 1992): the raked estimator behaves like a
  regression estimator on the margins' level indicators ``x``, so its variance is that of the
  residuals ``e_i = y_i - x_i' B`` (``B`` the weighted least-squares fit): ``se^2 = n / (n -
  1) * sum_i (w_i e_i)^2 / (sum w)^2 * f``. Calibration removes the part of the variance the
  margins explain, which Kish's formula does not see;
- ``"kish"``: ``p (1 - p) / n_eff * f`` with ``n_eff = (sum w)^2 / sum(w^2)`` (Kish 1965),
  the design effect of unequal weights alone.

References
----------
Deming, W. E., & Stephan, F. F. (1940). On a least squares adjustment of a sampled frequency
table when the expected marginal totals are known. Ann. Math. Statist. 11, 427-444.
Deville, J.-C., & Särndal, C.-E. (1992). Calibration estimators in survey sampling. JASA
87, 376-382. Kish, L. (1965). *Survey Sampling*. Wiley.

Examples
--------
>>> import numpy as np
>>> age = np.array([0, 0, 0, 1]); sex = np.array([0, 1, 1, 0])
>>> w, uncovered = rake([age, sex], [np.array([50, 50]), np.array([60, 40])])
>>> [round(float(w[age == a].sum() / w.sum()), 6) for a in (0, 1)]
[0.5, 0.5]
>>> [round(float(w[sex == s].sum() / w.sum()), 6) for s in (0, 1)]
[0.6, 0.4]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ParameterError

__all__ = ["linearized_se", "poststratify", "rake"]

#: convergence of the raking: largest relative gap between a margin and its target
RAKE_TOL = 1e-10
RAKE_MAX_ITER = 1000


def poststratify(codes: np.ndarray, population: np.ndarray) -> tuple[np.ndarray, float]:
    """Post-stratification weights (mean 1) of respondents with level ``codes`` (0 .. L-1)
    to the population counts ``population`` (length L), and the population share of levels
    with no respondent.

    Examples
    --------
    >>> w, out = poststratify(np.array([0, 0, 0, 1]), np.array([50, 50]))
    >>> w.round(4).tolist(), out
    ([0.6667, 0.6667, 0.6667, 2.0], 0.0)
    """
    codes = np.asarray(codes, dtype=np.int64)
    pop = np.asarray(population, dtype=np.float64)
    n = len(codes)
    got = np.bincount(codes, minlength=len(pop)).astype(np.float64)
    covered = got > 0
    uncovered = float(pop[~covered].sum() / pop.sum())
    share = pop / pop[covered].sum()
    per_level = np.zeros(len(pop))
    per_level[covered] = share[covered] / (got[covered] / n)
    return per_level[codes], uncovered


def rake(codes: Sequence[np.ndarray], populations: Sequence[np.ndarray], *,
         tol: float = RAKE_TOL, max_iter: int = RAKE_MAX_ITER) -> tuple[np.ndarray, float]:
    """Raking weights (mean 1) of respondents to several population margins at once.

    Parameters
    ----------
    codes
        For each attribute, the respondents' level codes (0 .. L_m - 1).
    populations
        For each attribute, the population count of each level (length L_m).
    tol, max_iter
        Convergence of the iterative proportional fitting (``ipfn``).

    Returns
    -------
    weights : numpy.ndarray
        One per respondent, mean 1.
    uncovered : float
        The largest population share, over the attributes, of levels with no respondent
        (left out: their margin is renormalised over the covered levels).

    Raises
    ------
    ParameterError
        The margins cannot all be met by these respondents (the fitting does not
        converge), e.g. when a combination of levels that some margin needs is empty.
    """
    from ipfn import ipfn  # optional at import time: only polls that rake need it

    codes = [np.asarray(c, dtype=np.int64) for c in codes]
    n = len(codes[0])
    shape = tuple(len(p) for p in populations)
    table = np.zeros(shape)
    np.add.at(table, tuple(codes), 1.0)
    aggregates, uncovered = [], 0.0
    for m, pop in enumerate(populations):
        pop = np.asarray(pop, dtype=np.float64)
        other = tuple(a for a in range(len(shape)) if a != m)
        covered = table.sum(axis=other) > 0
        uncovered = max(uncovered, float(pop[~covered].sum() / pop.sum()))
        target = np.where(covered, pop, 0.0)
        aggregates.append(target / target.sum() * n)
    if len(shape) == 1:
        fitted = aggregates[0]
    else:
        fit = ipfn.ipfn(table.copy(), aggregates, [[m] for m in range(len(shape))],
                        convergence_rate=tol, max_iteration=max_iter, verbose=1,
                        rate_tolerance=0.0)
        with np.errstate(divide="ignore", invalid="ignore"):  # empty cells stay empty
            fitted, _ = fit.iteration()
        margins_ok = all(
            np.allclose(fitted.sum(axis=tuple(a for a in range(len(shape)) if a != m)),
                        aggregates[m], rtol=1e-6, atol=1e-6 * n)
            for m in range(len(shape)))
        if not margins_ok:
            raise ParameterError("the weighting margins cannot all be met by these "
                                 "respondents (raking did not converge)", field="poll.weight_by",
                                 given=f"{len(shape)} attributes, {int((table > 0).sum())} "
                                 "cells with respondents")
    with np.errstate(divide="ignore", invalid="ignore"):
        per_cell = np.where(table > 0, fitted / table, 0.0)
    w = per_cell[tuple(codes)]
    return w / w.mean(), uncovered


def linearized_se(answers: np.ndarray, k: int, weights: np.ndarray,
                  codes: Sequence[np.ndarray], fpc: float = 1.0) -> np.ndarray:
    """Standard error of each weighted answer share under raking (module docstring): the
    weighted residuals of the answer indicators regressed on the margins' level dummies.

    Examples
    --------
    >>> gen = np.random.default_rng(0)
    >>> a = gen.integers(0, 2, 400); g = gen.integers(0, 2, 400)
    >>> se = linearized_se(a, 2, np.ones(400), [g])
    >>> bool(abs(se[0] - np.sqrt(0.25 / 400)) < 0.003)
    True
    """
    answers = np.asarray(answers, dtype=np.int64)
    n = len(answers)
    w = np.asarray(weights, dtype=np.float64)
    cols = [np.ones(n)]
    for c in codes:
        c = np.asarray(c, dtype=np.int64)
        for level in np.unique(c)[1:]:  # one level of each attribute is the reference
            cols.append((c == level).astype(np.float64))
    x = np.column_stack(cols)
    y = (answers[:, None] == np.arange(k)[None, :]).astype(np.float64)
    sw = np.sqrt(w)[:, None]
    beta, *_ = np.linalg.lstsq(x * sw, y * sw, rcond=None)
    e = y - x @ beta
    if n < 2:
        return np.zeros(k)
    var = n / (n - 1.0) * ((w[:, None] * e) ** 2).sum(axis=0) / w.sum() ** 2 * fpc
    return np.sqrt(var)
