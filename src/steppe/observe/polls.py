"""Polls as an observation model: sample the present agents, ask them, estimate the shares.

A poll is what an analyst sees of a simulated population. It runs between steps (pure NumPy,
never inside a kernel) and reproduces the ways a real poll differs from the truth:

- **sampling error** — ``n`` respondents are drawn *without replacement* from the agents that
  are present (migrants who left are never asked) and in the sampling ``frame`` (e.g. adults).
  In a scaled population (one agent per ``1 / scale`` people) a poll samples people: agents
  are drawn *with* replacement, each contact a different person sharing the agent's views and
  attributes, so that a phone poll's thousands of contacts need no more agents than there
  are, and the corrections for sampling without replacement count people;
- **stratification** — with ``stratify_by`` (an agent attribute: group, region, age band,
  language, ...) the sample is drawn separately within each level of the attribute. ``n`` is
  split among the levels in proportion to their present population (the default) or by
  explicit ``allocation`` shares (e.g. the interview-language mix of a real poll: 77% of the
  interviews in Russian), in both cases rounded by the *largest-remainder* (Hamilton) rule:
  each level first gets ``floor(n * share)``, and the seats left go one each to the levels
  with the largest fractional remainders (ties: the lower level code first). Proportional
  quotas are computed in exact integer arithmetic;
- **unit non-response** — each contacted agent answers with its response probability; a
  non-respondent is replaced by a further random draw from the same stratum until the
  stratum's quota is complete. This is how most phone polls work, and it biases the sample
  toward responders: a level whose members answer with probability ``r_l`` ends up with an
  expected share proportional to ``N_l * r_l`` instead of ``N_l`` (exactly: the respondents
  are a uniformly random ``n``-subset of a population in which each agent was kept with its
  response probability). ``contacted`` counts the contacts it took. The probability is
  either ``response`` per level of one attribute (``response_by``, default the
  stratification attribute; unlisted levels always answer), or ``response_rate`` times
  ``response_factors`` per level of any attributes and of the agent's *private stance*
  (``"stance"``), capped at 1: a phone poll with a 16% response rate in which those who
  privately side with one party answer less often;
- **answering** — every respondent gives its *voiced* answer (a stance, or "don't know"
  when refusing is an answer of the answer model), not its private stance; with a
  ``question`` (:mod:`steppe.observe.questions`) the voiced (or private) answer becomes the
  question's answer through the question's observation model;
- **weighting** — with ``weight=True`` respondents are weighted to the population shares of
  ``weight_by`` among the agents in the frame: one attribute is post-stratification
  (``w_l = (N_l / N) / (n_l / n)``), several attributes are raked to all their margins at
  once (:mod:`steppe.observe.weighting`). This removes the bias of a non-proportional
  allocation, and of non-response that differs *between* the weighting levels (not within
  them). Levels with no respondent cannot be weighted up: the weights are renormalised over
  the levels that have respondents and ``uncovered`` reports the population share left out;
- **subgroups** — with ``report_by`` the estimates are also given within each level of the
  listed attributes (e.g. by age band, as published);
- **a list experiment** (:mod:`steppe.observe.list_experiment`) — estimates the *private*
  share of one stance without anyone naming it, ideal or with its design effects (ceiling
  and floor effects, omission, deflation, correlated control items, a placebo list). The
  direct question is still asked of all ``n`` respondents.

Estimators (``z`` is the normal quantile of ``(1 + confidence) / 2``; ``N`` the number of
agents in the frame; ``f = (N - n) / (N - 1)`` the finite-population correction of sampling
without replacement, 0 for a census):

- unweighted shares ``p = x / n``, ``se = sqrt(p (1 - p) / n * f)``, and the Wilson score
  interval (Wilson 1927) with ``m = n / f`` in place of ``n`` (``m`` is the sample size whose
  with-replacement variance equals ``f p (1 - p) / n``)::

      centre = (p + z^2 / (2m)) / (1 + z^2 / m)
      half   = z / (1 + z^2 / m) * sqrt(p (1 - p) / m + z^2 / (4 m^2))

  (the interval is ``[p, p]`` when ``f = 0``, i.e. everyone present was asked);
- weighted shares ``p = sum(w y) / sum(w)`` and the normal interval ``p ± z se`` clipped to
  [0, 1]. ``weighted_se = "auto"`` (the default) uses, for one weighting attribute, the
  variance of the post-stratified estimator ``se^2 = sum_l W_l^2 p_l (1 - p_l) / n_l * f_l``
  (``W_l = N_l / N``, ``f_l = (N_l - n_l) / (N_l - 1)``; Cochran 1977, sec. 5A.9,
  conditional on the ``n_l``) and, for raking, the linearized (regression-residual)
  variance of :func:`steppe.observe.weighting.linearized_se`; ``"kish"`` uses
  ``se = sqrt(p (1 - p) / n_eff * f)``, Kish's effective sample size ``n_eff = (sum w)^2 /
  sum(w^2)`` (Kish 1965; always reported as ``n_eff``). Kish's formula is the design effect
  of unequal weights alone and assumes the same variance in every level: it is too small
  when the up-weighted levels are the more varied ones (measured: 93 % coverage of nominal
  95 % intervals in the non-response test, against 95 % for the post-stratified variance),
  too large in the opposite case;
- within a subgroup: the same, over the respondents of the level (with weights: Kish's
  formula within the level).

The true shares among the agents in the frame are reported alongside: ``true_expressed``
(what a census of the same question would find) and ``true_private`` (the same if everyone
answered from what they hold).

References
----------
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
JASA 22, 209-212. Kish, L. (1965). *Survey Sampling*. Wiley. Cochran, W. G. (1977).
*Sampling Techniques*, 3rd ed. Wiley.

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
['time', 'poll', 'question', 'by', 'level', 'stance', 'method', 'estimate', 'se', 'ci_low',
 'ci_high', 'n', 'n_eff', 'true_expressed', 'true_private']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from ..errors import ParameterError
from ..rounding import largest_remainder
from ._validated import Validated
from .list_experiment import ListEstimate, ListExperiment, ask_list
from .questions import Question, ask, expected_shares
from .weighting import linearized_se, poststratify, rake

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
Factor = Annotated[float, Field(ge=0, le=1e6)]

_COLUMNS = ["time", "poll", "question", "by", "level", "stance", "method", "estimate", "se",
            "ci_low", "ci_high", "n", "n_eff", "true_expressed", "true_private"]
#: the attribute name under which ``response_factors`` refer to the private stance
STANCE = "stance"


class PollDesign(Validated):
    """How a poll is drawn, asked and estimated (see the module docstring for the formulas).

    Examples
    --------
    >>> d = PollDesign(n=1100, stratify_by="region", response={0: 0.2}, weight=True)
    >>> d.response_attribute, d.weight_attributes
    ('region', ('region',))
    >>> PollDesign(n=1110, response_rate=0.16, response_factors={"stance": {2: 0.7}},
    ...            weight=True, weight_by=["age", "group"]).weight_attributes
    ('age', 'group')
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
    """Agent attribute to stratify the sample by (e.g. "group", "region", "age",
    "language"), or none."""
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
    response_rate: ResponseProbability | None = None
    """Base response probability of every contacted agent (instead of ``response``)."""
    response_factors: dict[str, dict[int, Factor]] | None = None
    """Factors on ``response_rate`` per attribute ("stance": the private stance) and level
    code; unlisted levels: 1. The probability is capped at 1."""
    weight: bool = False
    """Weight respondents to the population shares of ``weight_by``."""
    weight_by: str | Annotated[tuple[str, ...], Field(strict=False, min_length=1)] | None = \
        None
    """Attribute(s) to weight by: one (post-stratification) or several (raking). Default:
    ``stratify_by``, else ``response_by``."""
    weighted_se: Literal["auto", "poststratified", "linearized", "kish"] = "auto"
    """Standard error of weighted shares: "auto" (post-stratified for one attribute,
    linearized for raking), or one of them, or Kish's ``p (1 - p) / n_eff``."""
    list_experiment: ListExperiment | None = None
    """Also ask a list-experiment question about one stance."""
    frame: dict[str, list[int]] | None = None
    """The sampling frame: only agents whose level code of each named attribute is listed
    are sampled, e.g. adults only: ``{"age": [1, 2, 3]}``. The true shares reported beside
    the estimates are those of the frame. Default: every present agent."""
    report_by: Annotated[tuple[str, ...], Field(strict=False)] = ()
    """Attributes to give the estimates by, level by level, besides the whole sample."""
    question: Question | None = None
    """The question asked (default: the model's own, "which stance")."""

    def __init__(self, **data: Any) -> None:
        le = data.get("list_experiment")
        if isinstance(le, Mapping):  # validated on its own, for errors naming its fields
            data["list_experiment"] = ListExperiment(**le)
        if isinstance(data.get("weight_by"), list):
            data["weight_by"] = tuple(data["weight_by"])
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
        if self.response is not None and self.response_rate is not None:
            raise ParameterError("give response probabilities per level (response) or a "
                                 "rate with factors (response_rate), not both",
                                 field="poll.response_rate", given=self.response_rate)
        if self.response_factors is not None and self.response_rate is None:
            raise ParameterError("response factors multiply a response rate",
                                 field="poll.response_factors",
                                 allowed="response_rate set", given=self.response_factors)
        if self.weight and not self.weight_attributes:
            raise ParameterError("weighting needs an attribute", field="poll.weight_by",
                                 allowed="an agent attribute name (or set stratify_by or "
                                 "response_by)", given=None)
        if self.list_experiment is not None and self.n < 4:
            raise ParameterError("a list experiment needs n >= 4 (two arms of at least 2)",
                                 field="poll.n", given=self.n)
        if self.weighted_se == "poststratified" and len(self.weight_attributes) > 1:
            raise ParameterError("the post-stratified variance is for one weighting "
                                 "attribute", field="poll.weighted_se",
                                 allowed="'auto', 'linearized' or 'kish'",
                                 given=self.weighted_se)

    @property
    def response_attribute(self) -> str | None:
        """The attribute the per-level response probabilities refer to."""
        return self.response_by if self.response_by is not None else self.stratify_by

    @property
    def weight_attributes(self) -> tuple[str, ...]:
        """The attributes the weights refer to (none without an attribute)."""
        if isinstance(self.weight_by, tuple):
            return self.weight_by
        for name in (self.weight_by, self.stratify_by, self.response_attribute):
            if name is not None:
                return (name,)
        return ()

    @property
    def weight_attribute(self) -> str | None:
        """The first weighting attribute (the only one without raking)."""
        attrs = self.weight_attributes
        return attrs[0] if attrs else None


@dataclass(frozen=True)
class Subgroup:
    """The estimates within one level of a ``report_by`` attribute."""

    by: str
    level: str
    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n: int
    n_eff: float
    true_expressed: np.ndarray
    true_private: np.ndarray


@dataclass
class PollResult:
    """What one poll found, next to the truth.

    Arrays are indexed by answer code (``stances``: the model's stances and "don't know",
    or the question's answers). ``respondents`` are the agent indices that answered,
    ``strata`` the number of them per level of ``stratify_by``; ``contacted`` the number of
    agents asked (``n`` plus the non-respondents); ``subgroups`` the estimates by level of
    the ``report_by`` attributes.

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
    question: str | None = None
    subgroups: list[Subgroup] = field(default_factory=list)
    #: the list experiment's truth: the voiced and the private share of its stance in the
    #: frame
    list_truth: tuple[float, float] = (math.nan, math.nan)

    @property
    def response_rate(self) -> float:
        """Complete interviews per contact."""
        return self.n / self.contacted

    def to_frame(self) -> pd.DataFrame:
        """Tidy rows: one per answer (``method="direct"``) for the whole sample (``by`` and
        ``level`` "all") and for each subgroup, and one for the list experiment.

        Returns
        -------
        pandas.DataFrame
            Columns: time, poll, question, by, level, stance, method, estimate, se,
            ci_low, ci_high, n, n_eff, true_expressed, true_private.
        """
        time = np.nan if self.time is None else float(self.time)
        question = self.question if self.question is not None else "stance"

        def rows(by: str, level: str, est: Any, se: Any, lo: Any, hi: Any, n: int,
                 neff: float, te: Any, tp: Any) -> list[tuple[Any, ...]]:
            return [(time, self.name, question, by, level, s, "direct", float(est[k]),
                     float(se[k]), float(lo[k]), float(hi[k]), n, float(neff), float(te[k]),
                     float(tp[k])) for k, s in enumerate(self.stances)]

        out = rows("all", "all", self.estimate, self.se, self.ci_low, self.ci_high, self.n,
                   self.n_eff, self.true_expressed, self.true_private)
        for g in self.subgroups:
            out += rows(g.by, g.level, g.estimate, g.se, g.ci_low, g.ci_high, g.n, g.n_eff,
                        g.true_expressed, g.true_private)
        le = self.list_experiment
        if le is not None:
            out.append((time, self.name, "list", "all", "all", le.stance, "list_experiment",
                        le.estimate, le.se, le.ci_low, le.ci_high,
                        le.n_treatment + le.n_control, le.n_eff, *self.list_truth))
        return pd.DataFrame(out, columns=_COLUMNS)


def polls_to_frame(results: Iterable[PollResult],
                   times: Sequence[Any] | None = None) -> pd.DataFrame:
    """Concatenate many polls into one tidy frame with a ``time`` column.

    Parameters
    ----------
    results
        Poll results, e.g. one per poll date of a run.
    times
        Optional times (or dates) replacing each result's own ``time``.

    Returns
    -------
    pandas.DataFrame
        The rows of :meth:`PollResult.to_frame` of every result, in order.

    Raises
    ------
    ParameterError
        ``times`` does not give one time per result.

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

    Parameters
    ----------
    p
        Observed proportions.
    m
        The sample size (an effective sample size for weighted samples).
    z
        The normal quantile of the interval's level (1.96 for 95%).

    Returns
    -------
    tuple of numpy.ndarray
        The lower and upper bounds, within [0, 1].

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


def _draw_people(members: np.ndarray | None, size: int, need: int,
                 response: Callable[[np.ndarray], np.ndarray] | None,
                 gen: np.random.Generator) -> tuple[np.ndarray, int]:
    """``need`` respondents among the people ``size`` agents stand for (each agent many
    people): agents drawn uniformly *with* replacement, each contact answering with its
    probability. Returns (respondent agent ids, contacts made)."""
    def ids(pos: np.ndarray) -> np.ndarray:
        return pos.astype(np.int64) if members is None else members[pos]

    if need == 0:
        return np.zeros(0, dtype=np.int64), 0
    if response is None:
        return ids(gen.integers(0, size, need)), need
    taken: list[np.ndarray] = []
    contacted = hits_total = 0
    while need > 0:
        rate = max((hits_total + 1) / (contacted + 1), 1e-3)
        m = math.ceil(1.25 * need / rate + 16)
        cand = ids(gen.integers(0, size, m))
        hits = np.flatnonzero(gen.random(m) < response(cand))
        if hits.size >= need:
            taken.append(cand[hits[:need]])
            contacted += int(hits[need - 1]) + 1
            need = 0
        else:
            taken.append(cand[hits])
            contacted += m
            hits_total += hits.size
            need -= hits.size
            if contacted > 1_000_000 and hits_total == 0:
                raise ParameterError("a million contacts and nobody answered: response "
                                     "too low", field="poll.response", given=contacted)
    return np.concatenate(taken), contacted


def _draw_stratum(members: np.ndarray | None, size: int, need: int,
                  response: Callable[[np.ndarray], np.ndarray] | None,
                  gen: np.random.Generator, level: int | None,
                  people: float = 1.0) -> tuple[np.ndarray, int]:
    """``need`` respondents among ``size`` agents (``members[i]`` is the agent id of the
    ``i``-th; ``members=None``: the ids are ``0 .. size-1``), contacting agents in a random
    order without replacement and skipping the non-respondents (``response(ids)`` gives
    their response probabilities). Returns (respondent ids, contacts made). With
    ``people > 1`` (agents standing for that many people each) see :func:`_draw_people`.

    The random order is generated in batches: each batch is drawn without replacement from
    the whole stratum and the agents already contacted are dropped from it, which leaves
    the not-yet-contacted ones in uniformly random order (rejection sampling of the next
    positions of one random permutation). A batch of the whole stratum contacts everyone
    left, so the loop ends.
    """
    if people > 1.0:
        return _draw_people(members, size, need, response, gen)

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


def _response(design: PollDesign, attributes: Mapping[str, np.ndarray], private: np.ndarray,
              n_agents: int) -> Callable[[np.ndarray], np.ndarray] | None:
    """Each agent's response probability, as a function of agent ids (None: all answer)."""
    if design.response is not None:
        name = design.response_attribute
        assert name is not None
        rcodes = _attribute(attributes, name, n_agents, "response_by")
        table = design.response

        def by_level(agents: np.ndarray) -> np.ndarray:
            return _lookup(rcodes[agents], table, 1.0)

        return by_level
    if design.response_rate is None:
        return None
    rate = float(design.response_rate)
    factors = []
    for name, table in (design.response_factors or {}).items():
        codes = private if name == STANCE else _attribute(attributes, name, n_agents,
                                                          "response_factors")
        factors.append((codes, table))

    def by_rate(agents: np.ndarray) -> np.ndarray:
        p = np.full(len(agents), rate)
        for codes, table in factors:
            p *= _lookup(codes[agents], table, 1.0)
        return np.minimum(p, 1.0)

    return by_rate


def _estimate(answers: np.ndarray, k: int, weights: np.ndarray | None, fpc: float, z: float,
              n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Shares, standard errors and intervals of ``answers`` (unweighted: Wilson; weighted:
    Kish's formula), and the Kish size."""
    if weights is None:
        p = np.bincount(answers, minlength=k)[:k] / n
        se = np.sqrt(p * (1.0 - p) / n * fpc)
        if fpc > 0:
            lo, hi = wilson_interval(p, n / fpc, z)
        else:
            lo, hi = p.copy(), p.copy()
        return p, se, lo, hi, float(n)
    sw = float(weights.sum())
    p = np.bincount(answers, weights=weights, minlength=k)[:k] / sw
    n_eff = sw * sw / float((weights * weights).sum())
    se = np.sqrt(np.maximum(p * (1.0 - p), 0.0) / n_eff * fpc)
    return p, se, np.clip(p - z * se, 0.0, 1.0), np.clip(p + z * se, 0.0, 1.0), n_eff


def run_poll(design: PollDesign, *, expressed: np.ndarray, private: np.ndarray,
             stance_labels: Sequence[str], present: np.ndarray | None = None,
             attributes: Mapping[str, np.ndarray] | None = None,
             seed: int | np.random.Generator | np.random.SeedSequence | None = None,
             time: float | None = None,
             levels: Mapping[str, Sequence[str]] | None = None,
             people_per_agent: float = 1.0) -> PollResult:
    """Draw, ask and estimate one poll of the present agents.

    Parameters
    ----------
    design
        The poll's design.
    expressed, private
        Codes of every agent: what it voices (a stance, or "don't know"), what it holds
        (``state.expressed`` and ``state.stance``).
    stance_labels
        Label of each voiced code: the stances, then any other answer (``"dont_know"``).
    present
        Boolean mask of the agents that are in the country (default: everyone).
    attributes
        Per-agent integer codes by attribute name (e.g. ``{"group": ..., "region": ...}``),
        for the frame, stratification, response, weighting and subgroups.
    seed
        Seed or generator of the poll's draws (same seed, same poll).
    time
        When the poll was taken (the ``time`` column).
    levels
        Labels of each attribute's levels, for the subgroup rows (default: the codes).
    people_per_agent
        How many people each agent stands for (``1 / population.scale``). Above 1 a poll
        samples *people*: agents are drawn with replacement (an agent can be asked more than
        once, as different people who share its views and attributes), and the
        finite-population corrections count people.

    Returns
    -------
    PollResult

    Raises
    ------
    ParameterError
        ``n`` larger than the present population, an unknown attribute or stance, a stratum
        too small for its quota, too few respondents, or margins raking cannot meet.

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
    k_voiced = len(labels)
    expressed = np.asarray(expressed)
    private = np.asarray(private)
    n_agents = expressed.shape[0]
    if expressed.ndim != 1 or private.shape != expressed.shape:
        raise ParameterError("expressed and private must be 1-d arrays of the same length",
                             field="expressed", given=(expressed.shape, private.shape))
    for nm, arr in (("expressed", expressed), ("private", private)):
        if n_agents and (arr.min() < 0 or arr.max() >= k_voiced):
            raise ParameterError("stance codes must index stance_labels", field=nm,
                                 allowed=f"0 .. {k_voiced - 1}",
                                 given=(int(arr.min()), int(arr.max())))
    if design.frame:
        in_frame = np.ones(n_agents, dtype=bool) if present is None else np.asarray(
            present, dtype=bool).copy()
        for name, codes in design.frame.items():
            lv = _attribute(attributes, name, n_agents, "frame")
            in_frame &= np.isin(lv, np.asarray(codes, dtype=np.int64))
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
    people = max(1.0, float(people_per_agent))
    if n > n_present * people:
        raise ParameterError("sample larger than the present population", field="poll.n",
                             allowed=f"n <= {int(n_present * people)}", given=n)
    le_design = design.list_experiment
    if le_design is not None and le_design.sensitive not in labels:
        raise ParameterError("unknown stance for the list experiment",
                             field="poll.list_experiment.sensitive",
                             allowed=", ".join(labels), given=le_design.sensitive)
    # the question: from voiced (or private) codes to its answers
    question = design.question
    if question is None:
        answer_labels, matrix = labels, None
    else:
        answer_labels = question.answers
        # answered from the private stance: the voiced-only answers never occur
        never = ([lb for c, lb in enumerate(labels) if not np.any(private == c)]
                 if question.source == "private" else [])
        matrix = question.matrix(labels, never=never)
    k = len(answer_labels)

    def truth(sel: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        e = expressed if sel is None else expressed[sel]
        p = private if sel is None else private[sel]
        ce, cp = _counts(e, k_voiced), _counts(p, k_voiced)
        if matrix is None:
            total = max(len(e), 1)
            return ce / total, cp / total
        voiced = cp if question is not None and question.source == "private" else ce
        return expected_shares(matrix, voiced), expected_shares(matrix, cp)

    true_expressed, true_private = truth(None if present is None else idx)
    response = _response(design, attributes, private, n_agents)

    # -- draw the sample, stratum by stratum ----------------------------------------------
    strata: dict[int, int] | None = None
    if design.stratify_by is None:
        chosen, contacted = _draw_stratum(None if present is None else idx, n_present, n,
                                          response, gen, None, people)
    else:
        codes = _attribute(attributes, design.stratify_by, n_agents, "stratify_by")
        if present is not None:
            codes = codes[idx]
        lv, sizes = _levels(codes)
        if design.allocation is None:
            quota = largest_remainder(n, sizes.astype(np.int64))
        else:
            unknown = sorted(set(design.allocation) - set(lv.tolist()))
            if any(design.allocation[u] > 0 for u in unknown):
                raise ParameterError("allocation names levels with no present agent",
                                     field="poll.allocation",
                                     allowed=", ".join(map(str, lv.tolist())),
                                     given=unknown)
            shares = np.array([design.allocation.get(int(v), 0.0) for v in lv])
            quota = largest_remainder(n, shares)
            over = np.flatnonzero(quota > sizes * people)
            if over.size:
                i = int(over[0])
                raise ParameterError("a stratum's quota exceeds its present population",
                                     field=f"poll.allocation.{int(lv[i])}",
                                     allowed=f"at most {int(sizes[i] * people)} "
                                     "respondents",
                                     given=int(quota[i]))
        parts = []
        contacted = 0
        strata = {}
        for j, (level, sel) in enumerate(zip(lv.tolist(), _members(codes, lv), strict=True)):
            members = sel if present is None else idx[sel]
            got, c = _draw_stratum(members, sel.size, int(quota[j]), response, gen,
                                   int(level), people)
            parts.append(got)
            contacted += c
            strata[int(level)] = int(quota[j])
        chosen = np.concatenate(parts)

    # -- weights --------------------------------------------------------------------------
    weights = None
    uncovered = 0.0
    wattrs = design.weight_attributes if design.weight else ()
    wcodes: list[np.ndarray] = []
    pops: list[np.ndarray] = []
    for name in wattrs:
        full = _attribute(attributes, name, n_agents, "weight_by")
        pop_codes = full if present is None else full[idx]
        size = int(max(pop_codes.max(initial=0), full[chosen].max(initial=0))) + 1
        pops.append(np.bincount(pop_codes, minlength=size).astype(np.float64))
        wcodes.append(full[chosen].astype(np.int64))
    if len(wattrs) == 1:
        weights, uncovered = poststratify(wcodes[0], pops[0])
    elif len(wattrs) > 1:
        weights, uncovered = rake(wcodes, pops)

    # -- the direct question --------------------------------------------------------------
    z = NormalDist().inv_cdf(0.5 + design.confidence / 2.0)
    big_n = n_present * people
    fpc = (big_n - n) / (big_n - 1) if big_n > 1 else 0.0
    source = private if question is not None and question.source == "private" else expressed
    answers = source[chosen].astype(np.int64)
    if matrix is not None:
        answers = ask(matrix, answers, gen)
    p, se, lo, hi, n_eff = _estimate(answers, k, weights, fpc, z, n)
    if weights is not None:
        how = design.weighted_se
        if how == "auto":
            how = "poststratified" if len(wattrs) == 1 else "linearized"
        if how == "poststratified":
            se = _poststratified_se(answers, k, wcodes[0], pops[0] * people)
        elif how == "linearized":
            se = linearized_se(answers, k, weights, wcodes, fpc)
        lo, hi = np.clip(p - z * se, 0.0, 1.0), np.clip(p + z * se, 0.0, 1.0)

    # -- subgroups ------------------------------------------------------------------------
    subgroups = []
    for name in design.report_by:
        full = _attribute(attributes, name, n_agents, "report_by")
        resp = full[chosen]
        names = list(levels.get(name, [])) if levels else []
        for level in np.unique(resp).tolist():
            sel = resp == level
            n_l = int(sel.sum())
            pop_sel = full == level if present is None else present & (full == level)
            n_pop = np.count_nonzero(pop_sel) * people
            f_l = (n_pop - n_l) / (n_pop - 1) if n_pop > 1 else 0.0
            w_l = None if weights is None else weights[sel]
            est = _estimate(answers[sel], k, w_l, f_l, z, n_l)
            te, tp = truth(np.flatnonzero(pop_sel))
            label = names[level] if level < len(names) else str(level)
            subgroups.append(Subgroup(name, label, est[0], est[1], est[2], est[3], n_l,
                                      est[4], te, tp))

    # -- the list experiment: private stance, hidden in a count ---------------------------
    le_est = None
    list_truth = (math.nan, math.nan)
    if le_design is not None:
        s_code = labels.index(le_design.sensitive)
        le_est = ask_list(le_design, private[chosen] == s_code, weights, gen, z=z)
        e = expressed if present is None else expressed[idx]
        h = private if present is None else private[idx]
        size = max(len(h), 1)
        list_truth = (float(np.count_nonzero(e == s_code) / size),
                      float(np.count_nonzero(h == s_code) / size))

    return PollResult(stances=tuple(answer_labels), estimate=p, se=se, ci_low=lo, ci_high=hi,
                      n=n, n_eff=n_eff, contacted=contacted, weighted=weights is not None,
                      confidence=design.confidence, true_expressed=true_expressed,
                      true_private=true_private, respondents=chosen, strata=strata,
                      uncovered=uncovered, list_experiment=le_est, time=time,
                      name=design.name, weights=weights,
                      question=None if question is None else question.name,
                      subgroups=subgroups, list_truth=list_truth)


def _poststratified_se(answers: np.ndarray, k: int, codes: np.ndarray,
                       pop: np.ndarray) -> np.ndarray:
    """``sqrt(sum_l W_l^2 p_l (1 - p_l) / n_l * f_l)`` over the levels with respondents."""
    got = np.bincount(codes, minlength=len(pop))
    covered = got > 0
    share = pop / pop[covered].sum()
    var = np.zeros(k)
    for j in np.flatnonzero(covered):
        in_level = codes == j
        n_l, big_l = int(got[j]), float(pop[j])
        p_l = np.bincount(answers[in_level], minlength=k)[:k] / n_l
        f_l = (big_l - n_l) / (big_l - 1) if big_l > 1 else 0.0
        var += share[j] ** 2 * p_l * (1.0 - p_l) / n_l * f_l
    return np.sqrt(var)


@dataclass
class PollObserver:
    """A poll bound to one run: at sweep ``at`` it polls the state (present agents, their
    voiced answers and private stances, their attributes) and keeps the result.

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
    #: labels of each attribute's levels (for subgroup rows)
    levels: Mapping[str, Sequence[str]] = field(default_factory=dict)
    #: people each agent stands for (1 / population.scale)
    people_per_agent: float = 1.0

    def observe(self, state: Any) -> None:
        """Poll the state now (it is not changed); the result is appended to
        ``results``.

        Parameters
        ----------
        state
            The run's state.
        """
        self.results.append(run_poll(self.design, expressed=state.expressed,
                                     private=state.stance, stance_labels=self.stances,
                                     attributes=self.attributes, present=state.present,
                                     seed=self.seed, time=state.time, levels=self.levels,
                                     people_per_agent=self.people_per_agent))
