"""The scenario schema: what a scenario file may contain, with defaults and allowed values.

A scenario is pure data. It is validated here and never executed: no field is evaluated as
code. The top-level tables are ``[network]``, ``[model]``, ``[initial]``, ``[committed]``,
``[stop]``, ``[record]`` and ``[output]``; see ``scenarios/`` for examples.

Examples
--------
>>> s = Scenario.model_validate({
...     "name": "demo", "seed": 1,
...     "network": {"kind": "complete", "n": 100},
...     "model": {"name": "voter"},
...     "stop": {"max_sweeps": 10},
... })
>>> s.network.kind, s.runs, s.record.every
('complete', 1, 1)
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ..distributions import DistLike
from ..priors import PriorDist
from ..priors import check as check_prior

__all__ = [
    "BarabasiAlbertSpec",
    "CommittedSpec",
    "CompleteSpec",
    "EdgeListSpec",
    "ErdosRenyiSpec",
    "EventSpec",
    "ExpressionSpec",
    "HomophilySpec",
    "InitialSpec",
    "LatticeSpec",
    "MediaSpec",
    "ModelSpec",
    "NetworkSpec",
    "NewsSpec",
    "OutputSpec",
    "PollSpec",
    "PopulationSpec",
    "ProtestSpec",
    "RandomRegularSpec",
    "RecordSpec",
    "ReportSpec",
    "RingSpec",
    "Scenario",
    "StancesSpec",
    "StarSpec",
    "StochasticBlockSpec",
    "StopSpec",
    "TimeSpec",
    "WattsStrogatzSpec",
]


#: the numbers a scenario takes are finite; a number is never text, a whole number never
#: true/false (strict types), and unknown fields are refused
STRICT = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True, strict=True,
                    allow_inf_nan=False)

#: a calendar date: a TOML date, or (from Python or JSON) an ISO date string
Date = Annotated[dt.date, Field(strict=False)]
#: when something happens: a sweep number, or a date when the scenario has a calendar
When = Annotated[int, Field(ge=0)] | Date
def _file_path(value: str) -> str:
    if not value:
        raise ValueError("a file path must not be empty")
    if "\0" in value:
        raise ValueError("a file path cannot hold a NUL character")
    if len(value) > 4096:
        raise ValueError(f"the path is too long ({len(value)} characters; at most 4096)")
    return value


#: a path a scenario names (relative to the scenario file): text a file system can take
FilePath = Annotated[str, AfterValidator(_file_path)]
#: the most sweeps a run may be asked for (a run of 10^9 sweeps would take centuries)
MAX_SWEEPS = 1e9
#: the most agents a network or population may have (int32 neighbour ids)
MAX_AGENTS = 2**31 - 1


class _Strict(BaseModel):
    model_config = STRICT


class _NetworkBase(_Strict):
    resample: bool = False
    """Draw a new random network for every run (default: one network, shared by all runs)."""


class CompleteSpec(_NetworkBase):
    """Everyone is everyone's neighbour (stored implicitly: no memory for edges)."""

    kind: Literal["complete"]
    n: int = Field(ge=2, le=MAX_AGENTS)
    """Number of agents."""


class ErdosRenyiSpec(_NetworkBase):
    """Erdős–Rényi G(n, p) with p = mean_degree / (n − 1)."""

    kind: Literal["erdos_renyi"]
    n: int = Field(ge=2, le=MAX_AGENTS)
    """Number of agents."""
    mean_degree: float = Field(gt=0, le=MAX_AGENTS)
    """Expected number of neighbours per agent."""

    @model_validator(mode="after")
    def _degree_fits(self) -> ErdosRenyiSpec:
        if self.mean_degree > self.n - 1:
            raise ValueError(f"mean_degree must be at most n - 1 = {self.n - 1}, "
                             f"given {self.mean_degree}")
        return self


class RandomRegularSpec(_NetworkBase):
    """Random k-regular graph (edge switching)."""

    kind: Literal["random_regular"]
    n: int = Field(ge=2, le=MAX_AGENTS)
    """Number of agents."""
    k: int = Field(ge=1)
    """Degree of every agent (n * k must be even, k < n)."""


class BarabasiAlbertSpec(_NetworkBase):
    """Barabási–Albert preferential attachment."""

    kind: Literal["barabasi_albert"]
    n: int = Field(ge=2, le=MAX_AGENTS)
    """Number of agents."""
    m: int = Field(ge=1)
    """Edges brought by each new agent (m < n)."""


class WattsStrogatzSpec(_NetworkBase):
    """Watts–Strogatz small world: a ring of k nearest neighbours, each edge rewired w.p. p."""

    kind: Literal["watts_strogatz"]
    n: int = Field(ge=3, le=MAX_AGENTS)
    """Number of agents."""
    k: int = Field(ge=2)
    """Neighbours on the ring before rewiring (even, k < n)."""
    p: float = Field(ge=0, le=1)
    """Rewiring probability."""


class LatticeSpec(_NetworkBase):
    """Square lattice (two dimensions) or chain (one dimension), periodic by default."""

    kind: Literal["lattice"]
    shape: list[Annotated[int, Field(ge=3, le=MAX_AGENTS)]] = Field(min_length=1,
                                                                     max_length=2)
    """Side lengths: [L] for a ring, [L1, L2] for a square lattice."""
    periodic: bool = True
    """Periodic boundaries (a torus)."""


class RingSpec(_NetworkBase):
    """A ring of n agents, each linked to its two neighbours (a periodic chain)."""

    kind: Literal["ring"]
    n: int = Field(ge=3, le=MAX_AGENTS)
    """Number of agents."""


class StarSpec(_NetworkBase):
    """One hub (agent 0) linked to everyone else."""

    kind: Literal["star"]
    n: int = Field(ge=2, le=MAX_AGENTS)
    """Number of agents."""


class StochasticBlockSpec(_NetworkBase):
    """Stochastic block model: groups of given sizes, edge probability per pair of groups.

    Give either ``probabilities`` (a symmetric matrix) or ``mean_degree`` and ``mixing``
    (row a: the share of a group-a member's edges that go to each group).
    """

    kind: Literal["sbm"]
    sizes: list[Annotated[int, Field(ge=1, le=MAX_AGENTS)]] = Field(min_length=1)
    """Number of agents in each group."""
    probabilities: list[list[Annotated[float, Field(ge=0, le=1)]]] | None = None
    """Edge probability between a member of group a and one of group b."""
    mean_degree: float | None = Field(default=None, gt=0, le=MAX_AGENTS)
    """Mean degree (with ``mixing``)."""
    mixing: list[list[Annotated[float, Field(ge=0, le=1)]]] | None = None
    """Share of a group-a member's edges that go to group b (rows sum to 1)."""

    @model_validator(mode="after")
    def _one_form(self) -> StochasticBlockSpec:
        k = len(self.sizes)
        if self.probabilities is not None:
            if self.mixing is not None or self.mean_degree is not None:
                raise ValueError("give either probabilities, or mean_degree with mixing, "
                                 "not both")
            _square(self.probabilities, k, "probabilities")
        else:
            if self.mixing is None or self.mean_degree is None:
                raise ValueError("give probabilities, or both mean_degree and mixing")
            _square(self.mixing, k, "mixing")
        return self


def _square(matrix: list[list[float]], k: int, name: str) -> None:
    if len(matrix) != k or any(len(row) != k for row in matrix):
        raise ValueError(f"{name} must be a {k} x {k} matrix (one row and column per group)")


class HomophilySpec(_NetworkBase):
    """A stochastic block model over the population's (region, group) blocks with a
    preference for one's own group and region (needs a [population] table)."""

    kind: Literal["homophily"]
    mean_degree: float = Field(gt=0, le=MAX_AGENTS)
    """Expected number of contacts per agent."""
    within_group: float | None = Field(default=None, ge=0, lt=1)
    """Share of each agent's ties inside its own group (None: no preference)."""
    within_region: float | None = Field(default=None, ge=0, lt=1)
    """Share of each agent's ties inside its own region (None: no preference)."""
    equal_degree: bool = True
    """Give every agent the same expected degree whatever the size of its group
    (degree-corrected blocks); otherwise members of small groups get fewer ties."""


class EdgeListSpec(_NetworkBase):
    """A network read from a CSV or Parquet edge list (node ids 0 .. n−1)."""

    kind: Literal["edgelist"]
    path: FilePath
    """File path, relative to the scenario file."""
    source: str = "source"
    """Column with the first end of each edge."""
    target: str = "target"
    """Column with the second end of each edge."""
    directed: bool = False
    """If true, agent `source` listens to agent `target` only."""
    weight: str | None = None
    """Optional column of non-negative influence weights (used by Friedkin–Johnsen and
    EPO)."""
    n: int | None = Field(default=None, ge=1, le=MAX_AGENTS)
    """Number of agents (default: largest id + 1)."""


NetworkSpec = Annotated[
    CompleteSpec | ErdosRenyiSpec | RandomRegularSpec | BarabasiAlbertSpec | WattsStrogatzSpec
    | LatticeSpec | RingSpec | StarSpec | StochasticBlockSpec | EdgeListSpec | HomophilySpec,
    Field(discriminator="kind"),
]


class ModelSpec(BaseModel):
    """The update rule by registered name, and its parameters (checked by the model)."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True, allow_inf_nan=False)
    name: str
    """A registered model (see ``steppe models``)."""

    def params(self) -> dict[str, Any]:
        """The model's parameters: every field except ``name``."""
        return dict(self.model_extra or {})


Share = Annotated[float, Field(ge=0, le=1)] | Literal["rest"]


def resolve_shares(table: dict[str, Any] | None, field: str) -> dict[str, float] | None:
    """A share table with its one ``"rest"`` entry (if any) turned into 1 minus the
    others; raises ValueError naming ``field`` when that is negative or there are two."""
    if table is None:
        return None
    rest = [k for k, v in table.items() if v == "rest"]
    if len(rest) > 1:
        raise ValueError(f"{field}: only one share can be the rest (given: {rest})")
    out = {k: float(v) for k, v in table.items() if v != "rest"}
    if rest:
        left = 1.0 - sum(out.values())
        if left < -1e-9:
            raise ValueError(f"{field}: the other shares sum to {1 - left:.6g} > 1, leaving "
                             f"nothing for {rest[0]!r} (allowed: shares besides the rest "
                             f"summing to at most 1; given: {table})")
        out[rest[0]] = max(0.0, left)
        return {k: out[k] for k in table}
    return out


class PopulationSpec(_Strict):
    """A synthetic population: one agent per person with a group, a region, an age band and
    a language, from declared shares (and joint tables where they are known)."""

    total: int = Field(ge=1, le=10**10)
    """The real population size."""
    scale: float = Field(default=1.0, gt=0, le=1)
    """Agents per person: 0.01 simulates 1 agent per 100 people (`steppe run --scale`)."""
    groups: dict[str, Share] = Field(min_length=1)
    """National shares of each group (e.g. language or ethnicity); one may be "rest"."""
    regions: dict[str, Share] | None = None
    """Shares of each region (one may be "rest")."""
    ages: dict[str, Share] | None = None
    """Shares of each age band (one may be "rest")."""
    group_by_region: dict[str, dict[str, Annotated[float, Field(ge=0, le=1)]]] | None = None
    """Group mix inside the listed regions; the others get the mix that keeps the national
    shares."""
    age_by_group: dict[str, dict[str, Annotated[float, Field(ge=0, le=1)]]] | None = None
    """Age mix inside the listed groups."""
    languages: dict[str, Share] | None = None
    """Shares of each language (the language one would choose for an interview; one may
    be "rest")."""
    language_by_group: dict[str, dict[str, Annotated[float, Field(ge=0, le=1)]]] | None = (
        None)
    """Language mix inside the listed groups; the others get the mix that keeps the
    national shares."""
    exact: bool = True
    """Counts exactly equal to shares x agents (largest remainder), or drawn at random."""

    def agents(self) -> int:
        """Number of agents simulated: total x scale, rounded (at least 2)."""
        return max(2, round(self.total * self.scale))

    @model_validator(mode="after")
    def _rest(self) -> PopulationSpec:
        for name in ("groups", "regions", "ages", "languages"):
            resolve_shares(getattr(self, name), name)
        return self

    def shares(self, name: str) -> dict[str, float] | None:
        """The ``groups``, ``regions``, ``ages`` or ``languages`` table with "rest"
        resolved."""
        return resolve_shares(getattr(self, name), f"population.{name}")


class InitialSpec(_Strict):
    """Initial stances of the agents who are not committed."""

    shares: dict[str, Share] | None = None
    """Share of each stance (labels as the model names them); one of them may be "rest"
    (1 minus the others); default: the model's."""
    method: Literal["exact", "random"] = "exact"
    """exact: counts are exactly shares x agents, in random places; random: each agent
    draws its stance independently."""
    opinion: DistLike | None = None
    """Continuous models: distribution of initial opinions (instead of shares), e.g.
    { dist = "uniform", low = 0, high = 1 }."""
    by_group: dict[str | int, dict[str, Annotated[float, Field(ge=0, le=1)]]] = Field(
        default_factory=dict)
    """Initial shares within each group (group labels of the population, or network group
    numbers); groups not listed use `shares`."""
    by_age: dict[str, dict[str, Annotated[float, Field(ge=0, le=1)]]] = Field(
        default_factory=dict)
    """Initial shares within each age band (labels of population.ages). Where an agent's
    group is listed too, p(stance | group, age) ∝ p(stance | group) p(stance | age) /
    p(stance), with p(stance) from `shares`."""
    odds: dict[str, dict[str, dict[str, Annotated[float, Field(gt=0, le=1e6)]]]] = Field(
        default_factory=dict)
    """Gradients as odds factors, per attribute (group, region, age, language), level and
    stance, e.g. {group = {russian = {russia = 5.9}}, age = {"60+" = {russia = 3}}}: p(stance
    | levels) ∝ b(stance) x the product of the factors, with b solved so that the national
    shares are `shares`. Unlisted levels and stances: 1. Not with by_group or by_age."""

    @model_validator(mode="after")
    def _shares(self) -> InitialSpec:
        resolve_shares(self.shares, "shares")
        if self.odds and (self.by_group or self.by_age):
            raise ValueError("give the gradients either as by_group / by_age tables or as "
                             "odds, not both")
        return self

    def share_table(self) -> dict[str, float] | None:
        """``shares`` with "rest" resolved."""
        return resolve_shares(self.shares, "initial.shares")


class CommittedSpec(_Strict):
    """Agents who never change their stance."""

    stance: str
    """The stance they hold."""
    fraction: float = Field(default=0.0, ge=0, le=1)
    """Share of all agents that are committed."""
    by_group: dict[str | int, Annotated[float, Field(ge=0, le=1)]] = Field(default_factory=dict)
    """Share committed within each group (population group labels, or network group
    numbers such as SBM blocks): {russian = 0.05} or {0 = 0.2}."""
    opinion: float | None = None
    """Continuous models: the opinion committed agents hold (default: the middle of their
    stance's interval)."""
    among: Literal["everyone", "holders"] = "everyone"
    """everyone: committed agents are drawn first and the initial shares apply to the rest;
    holders: the initial shares apply to everyone and the committed are drawn among those
    holding their stance."""


class StancesSpec(_Strict):
    """Continuous models: names of the stance categories and the opinion cut-offs between
    them, e.g. labels = ["against", "neutral", "pro"], cutoffs = [0.4, 0.6]."""

    labels: list[str] = Field(min_length=2)
    """Category names, from low to high opinions."""
    cutoffs: list[float] = Field(min_length=1)
    """Opinion values separating consecutive categories (increasing; one fewer than
    labels)."""


class ExpressionSpec(_Strict):
    """What agents say, and why (Kuran 1995): each agent voices the answer of highest
    utility, conviction x [the answer is its own stance] + support_weight x (share of its
    neighbours voicing the answer; with reputation = "own" only for its own stance) -
    visibility x sanction of the answer; "don't know" is worth `dont_know`. With a
    temperature above 0 the choice is a logit one. The earlier form, `penalised` stances at
    one `enforcement` with a `safe` stance, is the case of one sanction, reputation "own",
    no "don't know" and temperature 0: an agent holding a penalised stance voices it only if
    enforcement x visibility <= conviction + support_weight x (share of its neighbours
    voicing it), and otherwise voices the safe stance.
    """

    penalised: list[str] = Field(default_factory=list)
    """Stances that are costly to voice, each at the `enforcement`."""
    safe: str | None = None
    """The stance voiced instead: preferred on ties after one's own, the answer of the
    hidden start, and what "don't know" is heard as by default."""
    enforcement: float = Field(default=0.0, ge=0, le=1e6)
    """The sanction on each penalised stance (0: nobody hides). Events can change it."""
    sanction: dict[str, Annotated[float, Field(ge=-1e6, le=1e6)]] = Field(
        default_factory=dict)
    """Sanction per stance (below 0: a reward), for stances not in `penalised`. Events can
    change it (expression.sanction.<stance>)."""
    support_weight: float = Field(default=1.0, ge=0, le=1e6)
    """What the share of neighbours voicing an answer is worth."""
    reputation: Literal["own", "all"] = "own"
    """own: only voicing one's own stance earns standing (courage from others); all: every
    answer does (Kuran)."""
    temperature: float = Field(default=0.0, ge=0, le=1e6)
    """0: each agent voices its best answer; above 0: a logit choice (events can change
    it)."""
    conviction: DistLike = 1.0
    """Per-agent conviction (a number or a distribution table), >= 0."""
    visibility: DistLike = 1.0
    """Per-agent visibility (a number or a distribution table), >= 0."""
    conviction_by_group: dict[str | int, DistLike] = Field(default_factory=dict)
    """Per-group conviction, overriding `conviction` for members of the listed groups."""
    visibility_by_group: dict[str | int, DistLike] = Field(default_factory=dict)
    """Per-group visibility, overriding `visibility` for members of the listed groups."""
    conviction_by_age: dict[str, Annotated[float, Field(ge=0, le=1e6)]] = Field(
        default_factory=dict)
    """Factor on the conviction of the listed age bands."""
    visibility_by_age: dict[str, Annotated[float, Field(ge=0, le=1e6)]] = Field(
        default_factory=dict)
    """Factor on the visibility of the listed age bands."""
    dont_know: DistLike | None = None
    """Utility of answering "don't know / refuse" (a number or a distribution; may be
    negative). Absent: refusing is not an answer."""
    dont_know_by_group: dict[str | int, DistLike] = Field(default_factory=dict)
    """Per-group refusal utility, overriding `dont_know` for the listed groups."""
    dont_know_by_age: dict[str, Annotated[float, Field(ge=-1e6, le=1e6)]] = Field(
        default_factory=dict)
    """Added to the refusal utility of the listed age bands."""
    heard_as: str | None = None
    """The stance neighbours hear from a refusal (default: `safe`)."""
    start: Literal["hidden", "open"] = "hidden"
    """Initial answers: the equilibrium reached from everybody hiding (voicing `safe`), or
    from everybody speaking openly."""
    start_rounds: int = Field(default=50, ge=1, le=10_000)
    """With a temperature above 0: passes of the rule made at the start."""
    safe_opinion: float | None = None
    """Continuous models: the opinion voiced by those who voice the safe stance without
    holding it (default: middle of the safe stance's interval)."""
    committed_always_voice: bool = False
    """Committed agents never change their private stance; if true they also always voice
    it (activists), otherwise they choose their answer like everyone else."""
    revise: float = Field(default=1.0, gt=0, le=1)
    """The share of agents who reconsider their answer in each step; the others keep the
    answer they gave. 1: everybody, every step. With daily steps, about 1/7 has each agent
    reconsider about once a week, as weekly steps do at 1 (an assumption: mark it so)."""
    voiced_precision: Literal["double", "single"] = "double"
    """Continuous models (Friedkin–Johnsen): how the voiced opinions the neighbours read
    are stored. "single" halves their memory (4 bytes per agent) and speeds up the walk
    over the ties at country scale; each voiced opinion is then rounded to about 7
    significant digits, and results stay within a tested tolerance of "double"
    (docs/answers-and-polls.md)."""


class EventSpec(_Strict):
    """A change during the run: at `at`, set each path to its value; with `until`, move each
    path linearly from its value at `at` to the new value at `until` (a ramp)."""

    at: When
    """When: a sweep number, or a date when the scenario has a [time] calendar."""
    until: When | None = None
    """End of a ramp (a sweep number or a date); without it the change is immediate."""
    set: dict[str, float | int | bool | str] = Field(min_length=1)
    """Paths and new values: the controls of the model and the pressures the scenario
    declares: "model.<parameter>", "expression.enforcement", "expression.sanction.<stance>",
    "expression.support_weight", "expression.temperature", "media.<channel>.strength",
    "protest.permitted", "flows.<flow>.rate"."""
    note: str = ""
    """What happened, in words (e.g. "border reopens"); shown in reports."""


class PollSpec(BaseModel):
    """A poll during the run: at `at`, sample present agents, who answer with what they
    voice (and, in a list experiment, reveal the private share without naming it).

    Other fields are those of :class:`steppe.observe.polls.PollDesign`: n, name, frame,
    stratify_by, allocation, confidence, response, response_by, response_rate,
    response_factors, weight, weight_by, weighted_se, report_by, question (a name from
    [questions]), list_experiment. Levels may be given by label (e.g. allocation = {russian =
    0.77, kazakh = 0.23} with stratify_by = "language")."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True, allow_inf_nan=False)
    at: When
    """When: a sweep number, or a date when the scenario has a [time] calendar."""

    def design(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class QuestionSpec(_Strict):
    """A poll question as an observation model: for each voiced answer (or private stance),
    the probability of each of the question's answers, e.g. answers = ["yes", "no"], map =
    {russia = {yes = 1}, neutral = {yes = 0.15, no = "rest"}, ukraine = {no = 1}}. A label
    that is also one of the question's answers and has no row maps to itself."""

    answers: list[str] = Field(min_length=1)
    """The question's answers."""
    map: dict[str, dict[str, Annotated[float, Field(ge=0, le=1)] | Literal["rest"]]] = Field(
        default_factory=dict)
    """Per input label: the probability of each answer (one may be "rest")."""
    source: Literal["voiced", "private"] = "voiced"
    """Answered from what respondents voice (default) or privately hold."""
    text: str = ""
    """The question as asked."""


class ProtestSpec(_Strict):
    """Protest participation (Granovetter 1978) on top of the opinion model: eligible agents
    join when the share (or number) of their neighbours protesting reaches their threshold.
    """

    eligible: list[str] = Field(min_length=1)
    """Private stances whose holders may protest."""
    threshold: DistLike = 0.25
    """Per-agent threshold (a number or a distribution table)."""
    threshold_by_group: dict[str | int, DistLike] = Field(default_factory=dict)
    """Per-group thresholds."""
    mode: Literal["fraction", "count"] = "fraction"
    """Thresholds on the share (Watts 2002) or the number (Granovetter 1978) of neighbours
    protesting."""
    instigators: float = Field(default=0.0, ge=0, le=1)
    """Share of agents who protest whenever eligible."""
    requires_voicing: bool = True
    """Only agents who voice their eligible stance may protest."""
    permitted: float = Field(default=1.0, ge=0, le=1e6)
    """1: protests allowed, 0: banned (events can change it: "protest.permitted")."""


class ReportSpec(_Strict):
    """What the report (``steppe report`` / ``steppe run --report``) focuses on."""

    stance: str | None = None
    """The stance whose private and expressed shares are plotted (default: the first
    penalised stance, else the model's first)."""
    participation_stance: str | None = None
    """A stance meaning "taking part" (e.g. protest), plotted on its own."""
    observed_polls: FilePath | None = None
    """A CSV of real polls to overlay (columns n and date, or fieldwork_start and
    fieldwork_end, and one column per stance), relative to the scenario file."""
    observed_columns: dict[str, str] = Field(default_factory=dict)
    """Which CSV column holds each stance's observed share: {pro = "support_russia"}."""
    targets: FilePath | None = None
    """A CSV of every published figure (poll, question, by, level, answer, value), relative
    to the scenario file: the report sets each beside the simulated poll of that name."""


class TimeSpec(_Strict):
    """A calendar: what a step of the simulation is in real time."""

    start: Date
    """The date of the initial state."""
    end: Date | None = None
    """The last date recorded (its morning); sets stop.max_sweeps when that is not given."""
    step: Literal["day", "week"] = "day"
    """The real time one step stands for."""
    sweeps_per_step: int = Field(default=1, ge=1)
    """Sweeps of social influence per step (one sweep = N elementary updates)."""
    rates_per: Literal["day", "week"] | None = None
    """The period the scenario's per-sweep rates were written for (absent: a sweep, as
    written). With ``rates_per = "week"`` and daily steps each sweep is h = 1/7 of that
    period, and the layers act by a fraction h of their rate: an agent reconsiders its
    answer (``expression.revise``) and its protest with probability h per sweep; a media
    channel's pull m becomes 1 − (1 − m)^h (seven daily pulls make one weekly pull); a
    Friedkin–Johnsen step moves each opinion the share h of the way to where the written
    step would take it (the same rest state; both are Euler steps of dx/dt = FJ(x) − x,
    a week or a day long, so they relax alike while a week moves opinions little).
    Only models with a fractional step accept h < 1 (``friedkin_johnsen``); the period
    may not be shorter than a sweep."""

    @model_validator(mode="after")
    def _order(self) -> TimeSpec:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must come after start ({self.start})")
        if self.rates_per is not None and self.step_fraction() > 1.0:
            raise ValueError(f"rates_per: the period is shorter than a sweep "
                             f"({self.days_per_step() / self.sweeps_per_step:g} days) "
                             f"(allowed: a period at least a sweep long, or step = "
                             f"{self.rates_per!r} or more sweeps_per_step; given: "
                             f"{self.rates_per!r})")
        return self

    def days_per_step(self) -> int:
        return 1 if self.step == "day" else 7

    def step_fraction(self) -> float:
        """h: the share of the ``rates_per`` period one sweep stands for (1 without it)."""
        if self.rates_per is None:
            return 1.0
        return self.days_per_step() / self.sweeps_per_step / (
            1 if self.rates_per == "day" else 7)


class MediaSpec(_Strict):
    """A media channel pulling exposed agents toward its stance once per sweep."""

    name: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    """Identifier, used by events as media.<name>.strength."""
    stance: str
    """The stance it pushes."""
    strength: float = Field(ge=0, le=1e6)
    """Pull per sweep at full exposure: an exposed agent adopts the stance with probability
    strength x exposure (continuous models: moves that share of the way)."""
    exposure: DistLike = 1.0
    """Per-agent exposure in [0, 1] (a number or a distribution table)."""
    exposure_by_group: dict[str | int, DistLike] = Field(default_factory=dict)
    """Per-group exposure, overriding `exposure` for members of the listed groups."""
    exposure_by_age: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    """Relative exposure by age band (labels of population.ages): each agent's exposure is
    multiplied by its band's factor (unlisted bands: 1), then capped at 1."""
    audience: float | None = Field(default=None, ge=0, le=1)
    """Share of agents who watch at all (drawn once per run); outside the audience the
    exposure is 0. Absent: everyone watches."""
    audience_by_group: dict[str | int, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict)
    """Per-group audience, replacing `audience` for members of the listed groups."""
    audience_by_age: dict[str, Annotated[float, Field(ge=0, le=1e6)]] = Field(
        default_factory=dict)
    """Factor on the audience of the listed age bands (capped at 1)."""
    opinion: float | None = None
    """Continuous models: the opinion it pushes (default: middle of the stance's interval)."""


class NewsSpec(_Strict):
    """A news shock (steppe.pressures.news): on a date a share of the agents hear something
    that moves their private view toward a stance, e.g. the Bucha revelations of April
    2022. Reached agents adopt the stance with probability `amount` (discrete stances) or
    move that share of the way to `opinion` (continuous opinions)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    """Identifier: output columns reached_<name> and moved_<name> of news.parquet."""
    at: When
    """When: a sweep number, or a date when the scenario has a [time] calendar (at the
    start of that sweep, before the agents update)."""
    toward: str
    """The stance it moves agents toward."""
    reach: float = Field(default=1.0, ge=0, le=1)
    """Probability that an agent (present, not committed) hears it."""
    reach_by_group: dict[str | int, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict)
    """Per-group reach, replacing `reach` for members of the listed groups."""
    reach_by_age: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    """Relative reach by age band (labels of population.ages): multiplied in, capped at 1."""
    amount: float = Field(default=1.0, ge=0, le=1)
    """How far a reached agent moves: probability of adopting the stance (discrete), or
    share of the way to `opinion` (continuous)."""
    opinion: float | None = None
    """Continuous models: the opinion it moves agents toward (default: the middle of the
    stance's interval)."""
    lasting: bool = True
    """The change is the agents' own from then on (models with anchors, such as
    Friedkin–Johnsen, move the anchor too); false: a perturbation the model may undo."""
    note: str = ""
    """What happened, in words; shown in reports."""


class FlowSpec(_Strict):
    """People crossing the border: a stream of arrivals or departures between two times,
    as a total or as a rate per day (scaled by population.scale like everyone else)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    """Identifier: series by origin use it, departures name it as their source and events
    change its rate as flows.<name>.rate."""
    direction: Literal["in", "out"]
    """in: arrivals (new agents); out: departures (present agents leave for good)."""
    start: When
    """First sweep (or date) of the flow."""
    end: When | None = None
    """The flow stops before this sweep (or date); default: the end of the run."""
    total: float | None = Field(default=None, ge=0, le=1e10)
    """People over the whole period, spread evenly over its sweeps."""
    rate: float | None = Field(default=None, ge=0, le=1e9)
    """People per day (per sweep without a [time] calendar); events can change it."""
    groups: dict[str, Annotated[float, Field(ge=0, le=1)]] | None = None
    """Arrivals: their group mix (default: the national mix). Departures: how leavers
    split among groups (default: uniformly among those eligible)."""
    regions: dict[str, Annotated[float, Field(ge=0, le=1)]] | None = None
    """Arrivals: where they settle (default: the national mix)."""
    ages: dict[str, Annotated[float, Field(ge=0, le=1)]] | None = None
    """Arrivals: their age-band mix (default: the national mix)."""
    initial: dict[str, Share] | None = None
    """Arrivals: their private stance shares, one of them may be "rest" (default:
    initial.shares)."""
    committed: float = Field(default=0.0, ge=0, le=1)
    """Arrivals: share committed to committed_stance."""
    committed_stance: str | None = None
    """The stance committed arrivals hold (default: committed.stance)."""
    source: str | None = None
    """Departures: only agents who came with this arrival flow leave (default: anyone)."""
    note: str = ""
    """What happened, in words; shown in reports."""

    @model_validator(mode="after")
    def _consistent(self) -> FlowSpec:
        if (self.total is None) == (self.rate is None):
            raise ValueError(f"flow {self.name!r}: give either total or rate")
        if self.direction == "out":
            extra = [k for k in ("regions", "ages", "initial", "committed_stance")
                     if getattr(self, k) is not None] + (["committed"] if self.committed
                                                          else [])
            if extra:
                raise ValueError(f"flow {self.name!r}: {', '.join(extra)} only apply to "
                                 "arrivals (direction = 'in')")
        elif self.source is not None:
            raise ValueError(f"flow {self.name!r}: source only applies to departures")
        resolve_shares(self.initial, "initial")  # a "rest" left with less than nothing
        return self


class AssumptionSpec(_Strict):
    """A number no source pins down, with the range it could plausibly take. `steppe
    sensitivity` reruns the scenario with the field at each end of the range and the report
    says which conclusions move with it."""

    name: str = Field(min_length=1)
    """What it stands for, in words."""
    path: str | None = None
    """The scenario field that carries it (a dotted path; array items by index, e.g.
    "events.0.set.expression.enforcement"), or none for an assumption that is not one
    number."""
    also: list[str] = Field(default_factory=list)
    """Other fields that carry the same number (set together with `path`), e.g. the same
    response factor of two polls made the same way."""
    low: float | None = None
    """Low end of the plausible range."""
    high: float | None = None
    """High end of the plausible range."""
    prior: PriorDist | None = None
    """How likely each value of the range is before the polls are seen, for `steppe
    calibrate` and the global sensitivity analyses: a table such as
    ``{ dist = "beta", a = 2, b = 5 }`` (stretched over the range), ``{ dist = "normal",
    mean = 0.3, sd = 0.1 }`` or ``{ dist = "lognormal", mu = -2, sigma = 1 }`` (truncated
    to it), ``{ dist = "loguniform" }`` or ``{ dist = "triangular", mode = 0.2 }``.
    Default: uniform over the range."""
    note: str = ""
    """Why this range (and this prior)."""

    @property
    def paths(self) -> list[str]:
        """Every field that carries it."""
        return [] if self.path is None else [self.path, *self.also]

    @model_validator(mode="after")
    def _range(self) -> AssumptionSpec:
        if self.path is not None and (self.low is None or self.high is None):
            raise ValueError(f"assumption {self.name!r}: a path needs low and high")
        if self.also and self.path is None:
            raise ValueError(f"assumption {self.name!r}: `also` needs a path")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"assumption {self.name!r}: low ({self.low}) is above high "
                             f"({self.high})")
        if self.prior is not None:
            if self.path is None:
                raise ValueError(f"assumption {self.name!r}: a prior needs a path, low "
                                 "and high")
            try:
                check_prior(self.prior, float(self.low), float(self.high))
            except ValueError as exc:
                raise ValueError(f"assumption {self.name!r}: {exc}") from None
        return self


class ReadingSpec(_Strict):
    """One reading of the evidence: the scenario with some of its assumptions fixed, or given
    narrower ranges, e.g. "nobody hides" (no sanction on voicing a view) against "people
    hide". `steppe calibrate` fits every reading and weighs them against each other by their
    posterior probabilities (equal prior odds)."""

    name: str = Field(min_length=1)
    """A short name, e.g. "hiding" or "method artefact"."""
    description: str = ""
    """What the reading says, in words."""
    fix: dict[str, float] = Field(default_factory=dict)
    """Assumptions this reading fixes: the assumption's `path` → its value (set in every
    field that carries it)."""
    ranges: dict[str, list[float]] = Field(default_factory=dict)
    """Assumptions this reading gives another range: `path` → [low, high]."""

    @model_validator(mode="after")
    def _values(self) -> ReadingSpec:
        for path, v in self.fix.items():
            if not math.isfinite(v):
                raise ValueError(f"reading {self.name!r}: fix.{path} must be finite, got {v}")
            if path in self.ranges:
                raise ValueError(f"reading {self.name!r}: {path} is both fixed and given a "
                                 "range")
        for path, pair in self.ranges.items():
            lo, hi = [*pair, math.nan, math.nan][:2]
            if len(pair) != 2 or not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"reading {self.name!r}: ranges.{path} must be two finite "
                                 f"numbers, low below high, got {pair}")
        return self


class StopSpec(_Strict):
    """When a run ends: after max_sweeps, at consensus, or whichever comes first."""

    max_sweeps: float | None = Field(default=None, gt=0, le=MAX_SWEEPS)
    """Stop after this many sweeps (one sweep = N elementary updates)."""
    at_consensus: bool = True
    """Stop as soon as there is consensus (see `consensus`), or the dynamics can no longer
    change anything (converged opinions, a stalemate)."""
    consensus_share: float = Field(default=1.0, gt=0.5, le=1)
    """What counts as consensus: one stance held by at least this share of agents (1: all).
    Below 1 it is checked at each record. Isolated agents of a sparse random network never
    change, so full consensus may never come there."""
    consensus: Literal["opinions", "stance"] | None = None
    """Continuous models: what consensus means. "opinions" (the default): the opinions
    have converged to one cluster, all within `spread` of each other; "stance": every
    agent in one stance category, however far apart their opinions are. Discrete models:
    one stance (the only meaning)."""
    spread: float = Field(default=1e-3, gt=0, le=1)
    """Continuous models, consensus = "opinions": how close the opinions of one cluster
    are (the largest difference between two of them)."""


class RecordSpec(_Strict):
    """What to record and how often."""

    every: int = Field(default=1, ge=1)
    """Record stance shares every this many sweeps (and at the start and the end)."""
    final_state: bool = False
    """Also save every run's final stances (final_states.npz)."""


class OutputSpec(_Strict):
    """Where results go."""

    dir: FilePath | None = None
    """Output folder, relative to the working directory (default: results/<name>)."""


class Scenario(_Strict):
    """A whole scenario: one network, one model, initial condition, stop rule, runs, seed."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    """Short identifier (letters, digits, _ . -), used for the default output folder."""
    description: str = ""
    """Free text: what the scenario asks."""
    seed: int = Field(ge=0)
    """The one seed of the scenario; runs get independent streams split from it."""
    runs: int = Field(default=1, ge=1)
    """Number of independent runs."""
    population: PopulationSpec | None = None
    network: NetworkSpec
    model: ModelSpec
    initial: InitialSpec = Field(default_factory=InitialSpec)
    committed: CommittedSpec | None = None
    stances: StancesSpec | None = None
    expression: ExpressionSpec | None = None
    media: list[MediaSpec] = Field(default_factory=list)
    polls: list[PollSpec] = Field(default_factory=list)
    questions: dict[str, QuestionSpec] = Field(default_factory=dict)
    protest: ProtestSpec | None = None
    time: TimeSpec | None = None
    report: ReportSpec | None = None
    events: list[EventSpec] = Field(default_factory=list)
    flows: list[FlowSpec] = Field(default_factory=list)
    news: list[NewsSpec] = Field(default_factory=list)
    assumptions: list[AssumptionSpec] = Field(default_factory=list)
    readings: list[ReadingSpec] = Field(default_factory=list)
    """Readings of the evidence that `steppe calibrate` weighs against each other (each the
    scenario with some assumptions fixed or narrowed); none: one reading, the scenario."""
    sweep: dict[str, Any] | None = None
    """The sweep `steppe sweep` runs over this scenario (fields swept, runs per point,
    phase diagrams; see docs/sweeps.md); `steppe run` ignores it."""
    stop: StopSpec = Field(default_factory=StopSpec)
    record: RecordSpec = Field(default_factory=RecordSpec)
    output: OutputSpec = Field(default_factory=OutputSpec)

    @model_validator(mode="after")
    def _population_network(self) -> Scenario:
        homophily = self.network.kind == "homophily"
        if homophily and self.population is None:
            raise ValueError("network kind 'homophily' needs a [population] table")
        if self.population is not None and not homophily:
            raise ValueError("a [population] table needs network kind = 'homophily' (its "
                             "blocks are the population's regions and groups)")
        return self

    @model_validator(mode="after")
    def _flows_population(self) -> Scenario:
        if self.flows and self.population is None:
            raise ValueError("[[flows]] need a [population] table (arrivals are synthesised "
                             "from its groups, regions and age bands)")
        names = [f.name for f in self.flows]
        arrivals = [f.name for f in self.flows if f.direction == "in"]
        for i, f in enumerate(self.flows):
            if names.count(f.name) > 1:
                raise ValueError(f"flows.{i}.name: flow names must differ: {f.name!r} is "
                                 "used twice")
            if f.source is not None and f.source not in arrivals:
                raise ValueError(f"flows.{i}.source: not an arrival flow of this scenario "
                                 f"(allowed: {', '.join(arrivals) or 'none declared'}; "
                                 f"given: {f.source!r})")
        return self

    @model_validator(mode="after")
    def _some_stop(self) -> Scenario:
        has_end = self.time is not None and self.time.end is not None
        if self.stop.max_sweeps is None and not self.stop.at_consensus and not has_end:
            raise ValueError("a run needs a stop condition: set stop.max_sweeps, "
                             "stop.at_consensus = true, or time.end")
        return self
