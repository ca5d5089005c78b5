"""List experiments (the item-count technique; Miller 1984, Blair & Imai 2012), ideal and
as they go wrong in the field.

The respondents are split at random into a control half (``n_c = n - n // 2``) and a
treatment half (``n_t = n // 2``). Each is shown ``J`` control items that it holds with
prevalences ``p_1 .. p_J``; the treatment half also sees the sensitive item, "holds stance
*s*", answered from the *private* stance, since only the count of items is reported. The
estimate of the private share of *s* is the difference in mean counts,
``mean(Y | treatment) - mean(Y | control)``, with ``se = sqrt(var_t / n_t + var_c / n_c)``
(sample variances, ``ddof = 1``) and the normal interval ``estimate ± z se``, not clipped.
With weights the means and variances are weighted and ``n_t``, ``n_c`` are the arms' Kish
sizes. Its variance is about ``(2 sum p_j (1 - p_j) + π (1 - π)) * 2 / n``, against ``π (1 -
π) / n`` for a direct question everyone answered honestly: the price of hiding each answer
in a count.

**Design effects** (all off by default: the ideal experiment; each is a probability or a
correlation, drawn only when it is not zero):

- ``correlation``: the control items are held together, an exchangeable correlation ``ρ``
  of a Gaussian copula (item ``j`` held when ``sqrt(ρ) g_i + sqrt(1 - ρ) e_ij <
  Φ^-1(p_j)``). Correlated items widen the spread of the control count, and so the
  variance of the estimate, and make ceiling and floor cases more common;
- ``ceiling``: a treatment respondent who holds the sensitive item and every control item
  would report ``J + 1``, which reveals it; with this probability it reports ``J``
  (Blair & Imai 2012);
- ``floor``: a treatment respondent who holds the sensitive item and no control item
  would report 1, which nearly reveals it; with this probability it reports 0;
- ``omit``: with this probability a treatment respondent holding the sensitive item leaves
  it out of the count whatever the others (the list does not fully reassure);
- ``deflation``: on a list of ``J + 1`` items each control item a respondent holds goes
  uncounted with this probability (longer lists are under-counted: "artificial
  deflation", Riambau & Ostwald 2021). Without a placebo only the treatment list is
  longer, and the estimate falls by about ``deflation x sum p_j``;
- ``placebo``: the control list gets a placebo item, one nobody should hold (held with
  ``placebo_prevalence``, which the estimate subtracts), so both lists have ``J + 1``
  items and the deflation cancels (Riambau & Ostwald 2021).

The bias each effect causes is a property of the design, not of the population: it is what
the design analysis (``steppe design``) weighs against the experiment's variance.

References
----------
Miller, J. D. (1984). A new survey technique for studying deviant behavior. PhD thesis,
George Washington University. Blair, G., & Imai, K. (2012). Statistical analysis of list
experiments. Political Analysis 20, 47-77. Riambau, G., & Ostwald, K. (2021). Placebo
statements in list experiments: evidence from a face-to-face survey in Singapore. Political
Science Research and Methods 9, 172-179.

Examples
--------
>>> import numpy as np
>>> holds = np.zeros(2000, bool); holds[:600] = True
>>> est = ask_list(ListExperiment(sensitive="pro"), holds, None, np.random.default_rng(1),
...                z=1.96)
>>> bool(est.ci_low < 0.3 < est.ci_high)
True
>>> biased = ask_list(ListExperiment(sensitive="pro", prevalence=1.0, ceiling=1.0), holds,
...                   None, np.random.default_rng(1), z=1.96)
>>> biased.estimate   # everyone holds every control item: every holder hides
0.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, ClassVar

import numpy as np
from pydantic import Field
from scipy.special import ndtri

from ..errors import ParameterError
from ._validated import Validated

__all__ = ["ListEstimate", "ListExperiment", "ask_list"]

Probability = Annotated[float, Field(ge=0, le=1)]


class ListExperiment(Validated):
    """The list-experiment (item-count) question of a poll, with its design effects (module
    docstring).

    Examples
    --------
    >>> le = ListExperiment(sensitive="pro")
    >>> le.items, le.prevalences, le.ideal
    (3, (0.5, 0.5, 0.5), True)
    >>> ListExperiment(sensitive="pro", items=2, prevalence=[0.2, 0.3, 0.4])
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    steppe.errors.ParameterError: poll.list_experiment.prevalence: one prevalence per ...
    """

    _prefix: ClassVar[str] = "poll.list_experiment"

    sensitive: str
    """The stance label whose private share the experiment estimates."""
    items: int = Field(3, ge=1, le=100)
    """Number J of control items."""
    prevalence: float | Annotated[tuple[float, ...], Field(strict=False)] = 0.5
    """Probability that a respondent holds each control item (one number, or one per
    item)."""
    correlation: float = Field(0.0, ge=0, lt=1)
    """Exchangeable correlation of the control items (Gaussian copula); 0: independent."""
    ceiling: Probability = 0.0
    """Probability that a treatment respondent who would report J + 1 reports J."""
    floor: Probability = 0.0
    """Probability that a treatment respondent holding the sensitive item and no control
    item reports 0."""
    omit: Probability = 0.0
    """Probability that a treatment respondent leaves the sensitive item out."""
    deflation: Probability = 0.0
    """Probability that a held control item goes uncounted on a list of J + 1 items."""
    placebo: bool = False
    """Add a placebo item to the control list (both lists then have J + 1 items)."""
    placebo_prevalence: Probability = 0.0
    """Probability that a respondent says yes to the placebo item (subtracted)."""

    def _check(self) -> None:
        values = self.prevalence if isinstance(self.prevalence, tuple) else (self.prevalence,)
        if not all(0.0 <= v <= 1.0 for v in values):
            raise ParameterError("control-item prevalences are probabilities",
                                 field=f"{self._prefix}.prevalence",
                                 allowed="numbers in [0, 1]", given=self.prevalence)
        if isinstance(self.prevalence, tuple) and len(self.prevalence) != self.items:
            raise ParameterError("one prevalence per control item",
                                 field=f"{self._prefix}.prevalence",
                                 allowed=f"{self.items} values", given=self.prevalence)
        if self.placebo_prevalence > 0 and not self.placebo:
            raise ParameterError("a placebo prevalence needs a placebo item",
                                 field=f"{self._prefix}.placebo_prevalence",
                                 allowed="placebo = true", given=self.placebo_prevalence)

    @property
    def prevalences(self) -> tuple[float, ...]:
        """The prevalence of each control item."""
        if isinstance(self.prevalence, tuple):
            return self.prevalence
        return (float(self.prevalence),) * self.items

    @property
    def control_variance(self) -> float:
        """Variance of the control count with independent items, ``sum p_j (1 - p_j)``."""
        return float(sum(p * (1 - p) for p in self.prevalences))

    @property
    def ideal(self) -> bool:
        """No design effect: independent items, honest counts, no placebo."""
        return (self.correlation == 0 and self.ceiling == 0 and self.floor == 0
                and self.omit == 0 and self.deflation == 0 and not self.placebo)


@dataclass(frozen=True)
class ListEstimate:
    """The list-experiment estimate of the private share of one stance."""

    stance: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n_treatment: int
    n_control: int
    n_eff: float


def weighted_mean_var(y: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    """Weighted mean, variance (with the Kish-size ddof correction) and Kish size."""
    sw = float(w.sum())
    mean = float((w * y).sum() / sw)
    neff = sw * sw / float((w * w).sum())
    var = float((w * (y - mean) ** 2).sum() / sw)
    if neff > 1:
        var *= neff / (neff - 1.0)
    return mean, var, neff


def ask_list(design: ListExperiment, holds: np.ndarray, weights: np.ndarray | None,
             gen: np.random.Generator, *, z: float) -> ListEstimate:
    """Ask the list experiment of ``design`` of respondents of whom ``holds`` (bool) hold
    the sensitive item, and estimate its share (module docstring).

    The draws, in order: the split, the control items, then (each only when its effect is
    not zero) the deflation, the placebo answers, the omissions, the ceiling and the floor.
    The ideal experiment draws the split and the items only.
    """
    holds = np.asarray(holds, dtype=bool)
    n = len(holds)
    perm = gen.permutation(n)
    n_t = n // 2
    treat = np.zeros(n, dtype=bool)
    treat[perm[:n_t]] = True
    prev = np.asarray(design.prevalences)
    j = prev.size
    if design.correlation == 0:
        items = gen.random((n, j)) < prev
    else:
        rho = design.correlation
        common = gen.standard_normal(n)[:, None]
        latent = math.sqrt(rho) * common + math.sqrt(1.0 - rho) * gen.standard_normal((n, j))
        items = latent < ndtri(prev)
    controls = items.sum(axis=1).astype(np.int64)
    reported = controls
    if design.deflation > 0:
        long_list = treat | design.placebo
        dropped = gen.binomial(controls, design.deflation)
        reported = np.where(long_list, controls - dropped, controls)
    sensitive = treat & holds
    if design.omit > 0:
        sensitive &= ~(gen.random(n) < design.omit)
    placebo = np.zeros(n, dtype=np.int64)
    if design.placebo and design.placebo_prevalence > 0:
        placebo = (~treat & (gen.random(n) < design.placebo_prevalence)).astype(np.int64)
    count = (reported + sensitive + placebo).astype(np.float64)
    if design.ceiling > 0:  # all J + 1 would reveal the sensitive item
        top = sensitive & (reported == j) & (gen.random(n) < design.ceiling)
        count[top] -= 1
    if design.floor > 0:  # 1 with no control item would all but reveal it
        bottom = sensitive & (reported == 0) & (gen.random(n) < design.floor)
        count[bottom] -= 1
    w = np.ones(n) if weights is None else weights
    mt, vt, nt_eff = weighted_mean_var(count[treat], w[treat])
    mc, vc, nc_eff = weighted_mean_var(count[~treat], w[~treat])
    est = mt - (mc - (design.placebo_prevalence if design.placebo else 0.0))
    se = math.sqrt(vt / nt_eff + vc / nc_eff)
    return ListEstimate(stance=design.sensitive, estimate=est, se=se, ci_low=est - z * se,
                        ci_high=est + z * se, n_treatment=n_t, n_control=n - n_t,
                        n_eff=nt_eff + nc_eff)
