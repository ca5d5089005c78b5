"""Polls as an observation model: sample the present agents, ask them, estimate the shares.

A poll is what an analyst sees of a simulated population. It runs between steps (pure NumPy,
never inside a kernel) and reproduces the ways a real poll differs from the truth:

- **sampling error** — ``n`` respondents are drawn *without replacement* from the agents that
  are present (migrants who left are never asked);
- **stratification** — with ``stratify_by`` (an agent attribute: group, region, age band, ...)
  the sample is drawn separately within each level of the attribute. ``n`` is split among the
  levels in proportion to their present population (the default) or by explicit
  ``allocation`` shares, in both cases rounded by the *largest-remainder* (Hamilton) rule:
  each level first gets ``floor(n * share)``, and the seats left go one each to the levels
  with the largest fractional remainders (ties: the lower level code first). Proportional
  quotas are computed in exact integer arithmetic;
- **non-response** — with ``response`` (a response probability per level of ``response_by``,
  default the stratification attribute; unlisted levels always answer) each contacted agent
  answers with its probability; a non-respondent is replaced by a further random draw from
  the same stratum until the stratum's quota is complete. This is how most phone polls work,
  and it biases the sample toward responders: a level whose members answer with probability
  ``r_l`` ends up with an expected share proportional to ``N_l * r_l`` instead of ``N_l``
  (exactly: the respondents are a uniformly random ``n``-subset of a population in which each
  agent was kept with its response probability). ``contacted`` counts the contacts it took;
- **answering with the expressed stance** — every respondent gives its *expressed* stance
  (what it voices), not its private one: ``estimate`` estimates the expressed shares;
- **post-stratification** — with ``weight=True`` each respondent of level ``l`` of
  ``weight_by`` (default: ``stratify_by``, else ``response_by``) gets the weight
  ``w_l = (N_l / N) / (n_l / n)``, so the weighted sample matches the population shares of
  that attribute among present agents. This removes the bias of a non-proportional
  allocation, and of non-response that differs *between* the weighting levels (not within
  them). Levels with no respondent cannot be weighted up: the weights are renormalised over
  the levels that have respondents and ``uncovered`` reports the population share left out;
- **a list experiment** (item-count technique; Miller 1984, Blair & Imai 2012) — with
  ``list_experiment`` the respondents are split at random into a control half
  (``n_c = n - n // 2``) and a treatment half (``n_t = n // 2``). Each is shown ``J`` control
  items that it holds independently with prevalences ``p_1 .. p_J`` (drawn fresh: Bernoulli),
  and the treatment half also the sensitive item, "holds stance *s*", answered with the
  *private* stance, since only the count is reported. The direct question is still asked of
  all ``n`` respondents.

Estimators (``z`` is the normal quantile of ``(1 + confidence) / 2``; ``N`` the number of
present agents; ``f = (N - n) / (N - 1)`` the finite-population correction of sampling
without replacement, 0 for a census):

- unweighted shares ``p = x / n``, ``se = sqrt(p (1 - p) / n * f)``, and the Wilson score
  interval (Wilson 1927) with ``m = n / f`` in place of ``n`` (``m`` is the sample size whose
  with-replacement variance equals ``f p (1 - p) / n``)::

      centre = (p + z^2 / (2m)) / (1 + z^2 / m)
      half   = z / (1 + z^2 / m) * sqrt(p (1 - p) / m + z^2 / (4 m^2))

  (the interval is ``[p, p]`` when ``f = 0``, i.e. everyone present was asked);
- weighted shares ``p = sum(w y) / sum(w) = sum_l W_l p_l`` (``W_l = N_l / N`` the level's
  population share, ``p_l`` its sample share) and the normal interval ``p ± z se`` clipped
  to [0, 1], with, by default (``weighted_se="poststratified"``), the variance of the
  post-stratified estimator ``se^2 = sum_l W_l^2 p_l (1 - p_l) / n_l * f_l``
  (``f_l = (N_l - n_l) / (N_l - 1)``; Cochran 1977, sec. 5A.9, conditional on the ``n_l``),
  or with ``weighted_se="kish"`` ``se = sqrt(p (1 - p) / n_eff * f)``, Kish's effective
  sample size ``n_eff = (sum w)^2 / sum(w^2)`` (Kish 1965; always reported as ``n_eff``).
  Kish's formula is the design effect of unequal weights alone and assumes the same
  variance in every level: it is too small when the up-weighted levels are the more
  varied ones (measured: 93 % coverage of nominal 95 % intervals in the non-response test,
  against 95 % for the post-stratified variance), too large in the opposite case;
- the list experiment estimates the *private* share of stance *s* by the difference in mean
  counts, ``mean(Y | treatment) - mean(Y | control)``, with
  ``se = sqrt(var_t / n_t + var_c / n_c)`` (sample variances, ``ddof = 1``) and the normal
  interval ``estimate ± z se``, not clipped (a list estimate may fall outside [0, 1]). With
  weights, the means and variances are weighted and ``n_t``, ``n_c`` are the arms' Kish
  sizes. Its variance is about ``(2 sum p_j (1 - p_j) + π (1 - π)) * 2 / n`` against
  ``π (1 - π) / n`` for a direct question that everyone answered honestly: the price of
  hiding each answer in a count (Blair & Imai 2012).

The true expressed and private shares among the present agents are reported alongside.

References
----------
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
JASA 22, 209-212. Kish, L. (1965). *Survey Sampling*. Wiley. Miller, J. D. (1984). A new
survey technique for studying deviant behavior. PhD thesis, George Washington University.
Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed. Wiley. Blair, G., & Imai, K. (2012).
Statistical analysis of list experiments. Political Analysis 20, 47-77.

Examples
--------
>>> import numpy as np
>>> expressed = np.repeat(np.array([0, 1, 2], dtype=np.int8), [6000, 3000, 1000])
>>> res = run_poll(PollDesign(n=1000), expressed=expressed, private=expressed,
...                stance_labels=("against", "neutral", "pro"), seed=1)
>>> res.n, res.true_expressed.tolist()
(1000, [0.6, 0.3, 0.1])
>>> bool(np.all((res.ci_low <= res.true_expressed) & (res.true_expressed <= res.ci_high)))
True
>>> list(res.to_frame().columns)  # doctest: +NORMALIZE_WHITESPACE
['time', 'poll', 'stance', 'method', 'estimate', 'se', 'ci_low', 'ci_high', 'n', 'n_eff',
 'true_expressed', 'true_private']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ParameterError
from ..models.base import parameter_error_from
from ..rounding import largest_remainder

__all__ = [
    "ListEstimate",
    "ListExperiment",
    "PollDesign",
    "PollObserver",
    "PollResult",
    "polls_to_frame",
    "run_poll",
    "wilson_interval",
]

Probability = Annotated[float, Field(ge=0, le=1)]
ResponseProbability = Annotated[float, Field(gt=0, le=1)]

_COLUMNS = ["time", "poll", "stance", "method", "estimate", "se", "ci_low", "ci_high", "n",
            "n_eff", "true_expressed", "true_private"]


class _Validated(BaseModel):
    """Frozen, unknown fields refused, errors raised as :class:`ParameterError`."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True,
                              strict=True, allow_inf_nan=False)
    _prefix: ClassVar[str] = "poll"

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise parameter_error_from(exc, prefix=type(self)._prefix,
                                       params=type(self)) from None
        self._check()

    def _check(self) -> None:
        """Checks across fields (raise :class:`ParameterError`)."""


class ListExperiment(_Validated):
    """The list-experiment (item-count) question of a poll.

    Examples
    --------
    >>> le = ListExperiment(sensitive="pro")
    >>> le.items, le.prevalences
    (3, (0.5, 0.5, 0.5))
    >>> ListExperiment(sensitive="pro", items=2, prevalence=[0.2, 0.3, 0.4])
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    steppe.errors.ParameterError: poll.list_experiment.prevalence: one prevalence per ...
    """

    _prefix: ClassVar[str] = "poll.list_experiment"

    sensitive: str
    """The stance label whose private share the experiment estimates."""
    items: int = Field(3, ge=1)
    """Number J of control items."""
    prevalence: float | Annotated[tuple[float, ...], Field(strict=False)] = 0.5
    """Probability that a respondent holds each control item (one number, or one per item);
    the items are independent Bernoulli draws."""

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

    @property
    def prevalences(self) -> tuple[float, ...]:
        """The prevalence of each control item."""
        if isinstance(self.prevalence, tuple):
            return self.prevalence
        return (float(self.prevalence),) * self.items

    @property
    def control_variance(self) -> float:
        """Variance of the control count, ``sum p_j (1 - p_j)``."""
        return float(sum(p * (1 - p) for p in self.prevalences))


class PollDesign(_Validated):
    """How a poll is drawn, asked and estimated (see the module docstring for the formulas).

    Examples
    --------
    >>> d = PollDesign(n=1100, stratify_by="region", response={0: 0.2}, weight=True)
    >>> d.response_attribute, d.weight_attribute
    ('region', 'region')
    >>> PollDesign(n=0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    steppe.errors.ParameterError: poll.n: invalid value (allowed: integer, n >= 1; given: 0)
    >>> PollDesign(n=10, allocation={0: 0.5, 1: 0.4})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    steppe.errors.ParameterError: poll.allocation: allocation shares need stratify_by ...
    """

    n: int = Field(ge=1)
    """Number of complete interviews."""
    name: str | None = None
    """A label for the poll (the ``poll`` column of the tidy frame)."""
    stratify_by: str | None = None
    """Agent attribute to stratify the sample by (e.g. "group", "region", "age"), or none."""
    allocation: dict[int, Probability] | None = None
    """Share of the sample per level code of ``stratify_by`` (summing to 1); unlisted levels
    are not sampled. Default: proportional to the present population."""
    confidence: float = Field(0.95, gt=0, lt=1)
    """Confidence level of the intervals."""
    response: dict[int, ResponseProbability] | None = None
    """Response probability per level code of ``response_by``; unlisted levels always answer.
    Non-respondents are replaced by further draws from the same stratum."""
    response_by: str | None = None
    """Attribute the response probabilities refer to (default: ``stratify_by``)."""
    weight: bool = False
    """Post-stratify: weight respondents to the population shares of ``weight_by``."""
    weight_by: str | None = None
    """Attribute to weight by (default: ``stratify_by``, else ``response_by``)."""
    weighted_se: Literal["poststratified", "kish"] = "poststratified"
    """Standard error of weighted shares: the post-stratified variance
    ``sum_l W_l^2 p_l (1 - p_l) / n_l`` or Kish's ``p (1 - p) / n_eff``."""
    list_experiment: ListExperiment | None = None
    """Also ask a list-experiment question about one stance."""
    frame: dict[str, list[int]] | None = None
    """The sampling frame: only agents whose level code of each named attribute is listed
    are sampled, e.g. adults only: ``{"age": [1, 2, 3]}``. The true shares reported beside
    the estimates are those of the frame. Default: every present agent."""

    def __init__(self, **data: Any) -> None:
        le = data.get("list_experiment")
        if isinstance(le, Mapping):  # validated on its own, for errors naming its fields
            data["list_experiment"] = ListExperiment(**le)
        super().__init__(**data)

    def _check(self) -> None:
        if self.list_experiment is not None:
            self.list_experiment._check()
        if self.allocation is not None:
            if self.stratify_by is None:
                raise ParameterError("allocation shares need stratify_by (the attribute "
                                     "whose levels they refer to)", field="poll.allocation",
                                     given=self.allocation)
            total = sum(self.allocation.values())
            if abs(total - 1.0) > 1e-6:
                raise ParameterError("allocation shares must sum to 1",
                                     field="poll.allocation", given=self.allocation)
        if self.response is not None and self.response_attribute is None:
            raise ParameterError("response probabilities need response_by or stratify_by",
                                 field="poll.response", given=self.response)
        if self.weight and self.weight_attribute is None:
            raise ParameterError("weighting needs an attribute", field="poll.weight_by",
                                 allowed="an agent attribute name (or set stratify_by or "
                                 "response_by)", given=None)
        if self.list_experiment is not None and self.n < 4:
            raise ParameterError("a list experiment needs n >= 4 (two arms of at least 2)",
                                 field="poll.n", given=self.n)

    @property
    def response_attribute(self) -> str | None:
        """The attribute the response probabilities refer to."""
        return self.response_by if self.response_by is not None else self.stratify_by

    @property
    def weight_attribute(self) -> str | None:
        """The attribute the post-stratification weights refer to."""
        for name in (self.weight_by, self.stratify_by, self.response_attribute):
            if name is not None:
                return name
        return None


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


@dataclass
class PollResult:
    """What one poll found, next to the truth.

    Arrays are indexed by stance code (``stances``). ``respondents`` are the agent indices
    that answered, ``strata`` the number of them per level of ``stratify_by``; ``contacted``
    the number of agents asked (``n`` plus the non-respondents).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0, 0, 1, 1], dtype=np.int8)
    >>> r = run_poll(PollDesign(n=4), expressed=x, private=x, stance_labels=("a", "b"),
    ...              seed=0, time=3.0)
    >>> r.to_frame()[["time", "stance", "estimate", "ci_low", "ci_high"]]
       time stance  estimate  ci_low  ci_high
    0   3.0      a       0.5     0.5      0.5
    1   3.0      b       0.5     0.5      0.5
    """

    stances: tuple[str, ...]
    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n: int
    n_eff: float
    contacted: int
    weighted: bool
    confidence: float
    true_expressed: np.ndarray
    true_private: np.ndarray
    respondents: np.ndarray
    strata: dict[int, int] | None = None
    uncovered: float = 0.0
    list_experiment: ListEstimate | None = None
    time: float | None = None
    name: str | None = None
    weights: np.ndarray | None = field(default=None, repr=False)

    @property
    def response_rate(self) -> float:
        """Complete interviews per contact."""
        return self.n / self.contacted

    def to_frame(self) -> pd.DataFrame:
        """Tidy rows: one per stance (``method="direct"``) and one for the list experiment.

        Columns: time, poll, stance, method, estimate, se, ci_low, ci_high, n, n_eff,
        true_expressed, true_private.
        """
        time = np.nan if self.time is None else float(self.time)
        rows = [
            (time, self.name, s, "direct", float(self.estimate[k]), float(self.se[k]),
             float(self.ci_low[k]), float(self.ci_high[k]), self.n, float(self.n_eff),
             float(self.true_expressed[k]), float(self.true_private[k]))
            for k, s in enumerate(self.stances)
        ]
        le = self.list_experiment
        if le is not None:
            k = self.stances.index(le.stance)
            rows.append((time, self.name, le.stance, "list_experiment", le.estimate, le.se,
                         le.ci_low, le.ci_high, le.n_treatment + le.n_control, le.n_eff,
                         float(self.true_expressed[k]), float(self.true_private[k])))
        return pd.DataFrame(rows, columns=_COLUMNS)


def polls_to_frame(results: Iterable[PollResult],
                   times: Sequence[Any] | None = None) -> pd.DataFrame:
    """Concatenate many polls into one tidy frame with a ``time`` column.

    Parameters
    ----------
    results
        Poll results, e.g. one per poll date of a run.
    times
        Optional times (or dates) replacing each result's own ``time``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0, 1] * 50, dtype=np.int8)
    >>> rs = [run_poll(PollDesign(n=10), expressed=x, private=x, stance_labels=("a", "b"),
    ...                seed=s, time=t) for s, t in [(1, 0.0), (2, 7.0)]]
    >>> polls_to_frame(rs)[["time", "stance"]].values.tolist()
    [[0.0, 'a'], [0.0, 'b'], [7.0, 'a'], [7.0, 'b']]
    """
    results = list(results)
    if times is not None and len(times) != len(results):
        raise ParameterError("one time per poll", field="times",
                             allowed=f"{len(results)} values", given=len(times))
    frames = []
    for i, r in enumerate(results):
        f = r.to_frame()
        if times is not None:
            f["time"] = [times[i]] * len(f)
        frames.append(f)
    if not frames:
        return pd.DataFrame(columns=_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def wilson_interval(p: np.ndarray | float, m: float, z: float) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    """Wilson score interval of a proportion ``p`` observed in a sample of size ``m``.

    Examples
    --------
    >>> lo, hi = wilson_interval(0.0, 10, 1.96)
    >>> float(lo), round(float(hi), 4)
    (0.0, 0.2775)
    """
    p = np.asarray(p, dtype=np.float64)
    z2 = z * z
    denom = 1.0 + z2 / m
    centre = (p + z2 / (2.0 * m)) / denom
    half = z / denom * np.sqrt(np.maximum(p * (1.0 - p), 0.0) / m + z2 / (4.0 * m * m))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _lookup(codes: np.ndarray, table: Mapping[int, float], default: float) -> np.ndarray:
    """``table[code]`` for every code (``default`` where the code is not listed)."""
    out = np.full(codes.shape, default, dtype=np.float64)
    for level, value in table.items():
        out[codes == level] = value
    return out


def _counts(codes: np.ndarray, k: int) -> np.ndarray:
    """Number of entries equal to each of ``0 .. k-1``."""
    if k <= 16:  # k byte comparisons beat bincount's cast to intp
        return np.array([np.count_nonzero(codes == c) for c in range(k)], dtype=np.int64)
    return np.bincount(codes, minlength=k)[:k]


def _levels(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct codes (sorted) and how many agents hold each."""
    if codes.size and codes.min() >= 0 and codes.max() < 1_000_000:
        counts = np.bincount(codes)
        levels = np.flatnonzero(counts)
        return levels, counts[levels]
    return np.unique(codes, return_counts=True)


def _members(codes: np.ndarray, levels: np.ndarray) -> list[np.ndarray]:
    """Positions (ascending) of the agents of each level."""
    if levels.size <= 64:
        return [np.flatnonzero(codes == v) for v in levels]
    order = np.argsort(codes, kind="stable")
    bounds = [*np.searchsorted(codes[order], levels, side="left").tolist(), codes.size]
    return [order[bounds[j]:bounds[j + 1]] for j in range(levels.size)]


def _attribute(attributes: Mapping[str, np.ndarray], name: str, n_agents: int,
               what: str) -> np.ndarray:
    if name not in attributes:
        raise ParameterError(f"unknown agent attribute for {what}", field=f"poll.{what}",
                             allowed=", ".join(sorted(attributes)) or "no attributes given",
                             given=name)
    a = np.asarray(attributes[name])
    if a.shape != (n_agents,) or not np.issubdtype(a.dtype, np.integer):
        raise ParameterError("an attribute must hold one integer code per agent",
                             field=f"attributes.{name}",
                             given=f"{a.dtype} array of shape {a.shape}")
    return a


def _draw_stratum(members: np.ndarray | None, size: int, need: int,
                  response: Callable[[np.ndarray], np.ndarray] | None,
                  gen: np.random.Generator, level: int | None) -> tuple[np.ndarray, int]:
    """``need`` respondents among ``size`` agents (``members[i]`` is the agent id of the
    ``i``-th; ``members=None``: the ids are ``0 .. size-1``), contacting agents in a random
    order without replacement and skipping the non-respondents (``response(ids)`` gives
    their response probabilities). Returns (respondent ids, contacts made).

    The random order is generated in batches: each batch is drawn without replacement from
    the whole stratum and the agents already contacted are dropped from it, which leaves
    the not-yet-contacted ones in uniformly random order (rejection sampling of the next
    positions of one random permutation). A batch of the whole stratum contacts everyone
    left, so the loop ends.
    """
    def ids(pos: np.ndarray) -> np.ndarray:
        return pos.astype(np.int64) if members is None else members[pos]

    if need == 0:
        return np.zeros(0, dtype=np.int64), 0
    if response is None:
        return ids(gen.choice(size, need, replace=False)), need
    taken: list[np.ndarray] = []
    seen = np.zeros(0, dtype=np.int64)
    contacted = hits_total = 0
    while need > 0:
        if contacted >= size:
            where = "" if level is None else f" in level {level} of the stratification"
            raise ParameterError(f"every present agent{where} was contacted before the "
                                 "quota was complete: response too low for this n",
                                 field="poll.response", given=contacted)
        rate = max((hits_total + 1) / (contacted + 1), 1e-3)
        fresh_share = 1.0 - contacted / size
        m = min(size, math.ceil((1.25 * need / rate + 16) / fresh_share))
        batch = gen.choice(size, m, replace=False).astype(np.int64)
        if seen.size:
            batch = batch[~np.isin(batch, seen, assume_unique=True)]
        cand = ids(batch)
        hits = np.flatnonzero(gen.random(batch.size) < response(cand))
        if hits.size >= need:
            taken.append(cand[hits[:need]])
            contacted += int(hits[need - 1]) + 1
            need = 0
        else:
            taken.append(cand[hits])
            contacted += batch.size
            hits_total += hits.size
            need -= hits.size
            seen = np.concatenate([seen, batch])
    return np.concatenate(taken), contacted


def _weighted_share(y: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    """Weighted mean, variance (with the Kish-size ddof correction) and Kish size."""
    sw = float(w.sum())
    mean = float((w * y).sum() / sw)
    neff = sw * sw / float((w * w).sum())
    var = float((w * (y - mean) ** 2).sum() / sw)
    if neff > 1:
        var *= neff / (neff - 1.0)
    return mean, var, neff


def run_poll(design: PollDesign, *, expressed: np.ndarray, private: np.ndarray,
             stance_labels: Sequence[str], present: np.ndarray | None = None,
             attributes: Mapping[str, np.ndarray] | None = None,
             seed: int | np.random.Generator | np.random.SeedSequence | None = None,
             time: float | None = None) -> PollResult:
    """Draw, ask and estimate one poll of the present agents.

    Parameters
    ----------
    design
        The poll's design.
    expressed, private
        Stance codes of every agent (what it voices, what it holds): ``state.expressed`` and
        ``state.stance``.
    stance_labels
        Label of each stance code.
    present
        Boolean mask of the agents that are in the country (default: everyone).
    attributes
        Per-agent integer codes by attribute name (e.g. ``{"group": ..., "region": ...}``),
        for stratification, response and weighting.
    seed
        Seed or generator of the poll's draws (same seed, same poll).
    time
        When the poll was taken (the ``time`` column).

    Returns
    -------
    PollResult

    Raises
    ------
    ParameterError
        ``n`` larger than the present population, an unknown attribute or stance, a stratum
        too small for its quota, or too few respondents.

    Examples
    --------
    >>> import numpy as np
    >>> private = np.repeat(np.array([0, 2], dtype=np.int8), [7000, 3000])
    >>> expressed = private.copy(); expressed[7000:9000] = 1   # most "pro" keep quiet
    >>> d = PollDesign(n=2000, list_experiment={"sensitive": "pro"})
    >>> r = run_poll(d, expressed=expressed, private=private,
    ...              stance_labels=("against", "neutral", "pro"), seed=3)
    >>> f = r.to_frame().set_index(["method", "stance"])
    >>> round(float(f.loc[("direct", "pro"), "estimate"]), 2)
    0.1
    >>> le = r.list_experiment
    >>> bool(le.ci_low < 0.3 < le.ci_high), bool(le.se > f.loc[("direct", "pro"), "se"])
    (True, True)
    """
    gen = np.random.default_rng(seed)
    attributes = dict(attributes or {})
    labels = tuple(str(s) for s in stance_labels)
    k_stances = len(labels)
    expressed = np.asarray(expressed)
    private = np.asarray(private)
    n_agents = expressed.shape[0]
    if expressed.ndim != 1 or private.shape != expressed.shape:
        raise ParameterError("expressed and private must be 1-d arrays of the same length",
                             field="expressed", given=(expressed.shape, private.shape))
    for nm, arr in (("expressed", expressed), ("private", private)):
        if n_agents and (arr.min() < 0 or arr.max() >= k_stances):
            raise ParameterError("stance codes must index stance_labels", field=nm,
                                 allowed=f"0 .. {k_stances - 1}",
                                 given=(int(arr.min()), int(arr.max())))
    if design.frame:
        in_frame = np.ones(n_agents, dtype=bool) if present is None else np.asarray(
            present, dtype=bool).copy()
        for name, codes in design.frame.items():
            levels = _attribute(attributes, name, n_agents, "frame")
            in_frame &= np.isin(levels, np.asarray(codes, dtype=np.int64))
        present = in_frame
    idx = np.zeros(0, dtype=np.int64)  # positions of the present agents (if any absent)
    if present is None:
        n_present = n_agents
    else:
        present = np.asarray(present, dtype=bool)
        if present.shape != (n_agents,):
            raise ParameterError("present must hold one flag per agent", field="present",
                                 given=present.shape)
        idx = np.flatnonzero(present)
        n_present = idx.size
    n = design.n
    if n > n_present:
        raise ParameterError("sample larger than the present population", field="poll.n",
                             allowed=f"n <= {n_present}", given=n)
    le_design = design.list_experiment
    if le_design is not None and le_design.sensitive not in labels:
        raise ParameterError("unknown stance for the list experiment",
                             field="poll.list_experiment.sensitive",
                             allowed=", ".join(labels), given=le_design.sensitive)

    e_present = expressed if present is None else expressed[idx]
    p_present = private if present is None else private[idx]
    true_expressed = _counts(e_present, k_stances) / n_present
    true_private = _counts(p_present, k_stances) / n_present

    response = None
    if design.response is not None:
        name = design.response_attribute
        assert name is not None
        rcodes = _attribute(attributes, name, n_agents, "response_by")
        table = design.response

        def response(agents: np.ndarray) -> np.ndarray:
            return _lookup(rcodes[agents], table, 1.0)

    # -- draw the sample, stratum by stratum ----------------------------------------------
    strata: dict[int, int] | None = None
    if design.stratify_by is None:
        chosen, contacted = _draw_stratum(None if present is None else idx, n_present, n,
                                          response, gen, None)
    else:
        codes = _attribute(attributes, design.stratify_by, n_agents, "stratify_by")
        if present is not None:
            codes = codes[idx]
        levels, sizes = _levels(codes)
        if design.allocation is None:
            quota = largest_remainder(n, sizes.astype(np.int64))
        else:
            unknown = sorted(set(design.allocation) - set(levels.tolist()))
            if any(design.allocation[u] > 0 for u in unknown):
                raise ParameterError("allocation names levels with no present agent",
                                     field="poll.allocation",
                                     allowed=", ".join(map(str, levels.tolist())),
                                     given=unknown)
            shares = np.array([design.allocation.get(int(v), 0.0) for v in levels])
            quota = largest_remainder(n, shares)
            over = np.flatnonzero(quota > sizes)
            if over.size:
                i = int(over[0])
                raise ParameterError("a stratum's quota exceeds its present population",
                                     field=f"poll.allocation.{int(levels[i])}",
                                     allowed=f"at most {int(sizes[i])} respondents",
                                     given=int(quota[i]))
        parts = []
        contacted = 0
        strata = {}
        for j, (level, sel) in enumerate(zip(levels.tolist(), _members(codes, levels),
                                             strict=True)):
            members = sel if present is None else idx[sel]
            got, c = _draw_stratum(members, sel.size, int(quota[j]), response, gen,
                                   int(level))
            parts.append(got)
            contacted += c
            strata[int(level)] = int(quota[j])
        chosen = np.concatenate(parts)

    # -- weights --------------------------------------------------------------------------
    weights = None
    uncovered = 0.0
    if design.weight:
        name = design.weight_attribute
        assert name is not None
        wcodes_all = _attribute(attributes, name, n_agents, "weight_by")
        levels, pop = _levels(wcodes_all if present is None else wcodes_all[idx])
        wcodes = wcodes_all[chosen]
        pos = np.searchsorted(levels, wcodes)
        got = np.bincount(pos, minlength=levels.size)
        covered = got > 0
        uncovered = float(pop[~covered].sum() / n_present)
        share = pop / pop[covered].sum()
        per_level = np.zeros(levels.size)
        per_level[covered] = share[covered] / (got[covered] / n)
        weights = per_level[pos]

    # -- the direct question: expressed stances -------------------------------------------
    z = NormalDist().inv_cdf(0.5 + design.confidence / 2.0)
    fpc = (n_present - n) / (n_present - 1) if n_present > 1 else 0.0
    answers = expressed[chosen].astype(np.int64)
    if weights is None:
        p = np.bincount(answers, minlength=k_stances)[:k_stances] / n
        n_eff = float(n)
        se = np.sqrt(p * (1.0 - p) / n * fpc)
        if fpc > 0:
            lo, hi = wilson_interval(p, n / fpc, z)
        else:
            lo, hi = p.copy(), p.copy()
    else:
        sw = float(weights.sum())
        p = np.bincount(answers, weights=weights, minlength=k_stances)[:k_stances] / sw
        n_eff = sw * sw / float((weights * weights).sum())
        if design.weighted_se == "kish":
            se = np.sqrt(np.maximum(p * (1.0 - p), 0.0) / n_eff * fpc)
        else:  # sum over levels of W_l^2 p_l (1 - p_l) / n_l, each with its own fpc
            var = np.zeros(k_stances)
            for j in np.flatnonzero(covered):
                in_level = pos == j
                n_l, big_l = int(got[j]), int(pop[j])
                p_l = np.bincount(answers[in_level], minlength=k_stances)[:k_stances] / n_l
                f_l = (big_l - n_l) / (big_l - 1) if big_l > 1 else 0.0
                var += share[j] ** 2 * p_l * (1.0 - p_l) / n_l * f_l
            se = np.sqrt(var)
        lo, hi = np.clip(p - z * se, 0.0, 1.0), np.clip(p + z * se, 0.0, 1.0)

    # -- the list experiment: private stance, hidden in a count ---------------------------
    le_est = None
    if le_design is not None:
        s_code = labels.index(le_design.sensitive)
        perm = gen.permutation(n)
        n_t = n // 2
        treat = np.zeros(n, dtype=bool)
        treat[perm[:n_t]] = True
        prev = np.asarray(le_design.prevalences)
        count = (gen.random((n, prev.size)) < prev).sum(axis=1).astype(np.float64)
        count += treat & (private[chosen] == s_code)
        w = np.ones(n) if weights is None else weights
        mt, vt, nt_eff = _weighted_share(count[treat], w[treat])
        mc, vc, nc_eff = _weighted_share(count[~treat], w[~treat])
        est = mt - mc
        le_se = math.sqrt(vt / nt_eff + vc / nc_eff)
        le_est = ListEstimate(stance=le_design.sensitive, estimate=est, se=le_se,
                              ci_low=est - z * le_se, ci_high=est + z * le_se,
                              n_treatment=n_t, n_control=n - n_t, n_eff=nt_eff + nc_eff)

    return PollResult(stances=labels, estimate=p, se=se, ci_low=lo, ci_high=hi, n=n,
                      n_eff=n_eff, contacted=contacted, weighted=weights is not None,
                      confidence=design.confidence, true_expressed=true_expressed,
                      true_private=true_private, respondents=chosen, strata=strata,
                      uncovered=uncovered, list_experiment=le_est, time=time,
                      name=design.name, weights=weights)


@dataclass
class PollObserver:
    """A poll bound to one run: at sweep ``at`` it polls the state (present agents, their
    expressed and private stances, their attributes) and keeps the result.

    Examples
    --------
    >>> import numpy as np
    >>> from steppe.state import State
    >>> st = State(stance=np.repeat(np.array([0, 1], np.int8), 50), committed=np.zeros(100, bool),
    ...            counts=np.array([50, 50]), rng=np.zeros(4, np.uint64))
    >>> obs = PollObserver(at=0, design=PollDesign(n=20), stances=("A", "B"), seed=1)
    >>> obs.observe(st); len(obs.results)
    1
    """

    at: int
    design: PollDesign
    stances: Sequence[str]
    seed: int | np.random.SeedSequence
    attributes: Mapping[str, np.ndarray] = field(default_factory=dict)
    results: list[PollResult] = field(default_factory=list)

    def observe(self, state: Any) -> None:
        """Poll the state now (it is not changed)."""
        self.results.append(run_poll(self.design, expressed=state.expressed,
                                     private=state.stance, stance_labels=self.stances,
                                     attributes=self.attributes, present=state.present,
                                     seed=self.seed, time=state.time))
