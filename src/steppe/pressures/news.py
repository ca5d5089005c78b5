"""News shocks: on a date, a share of the agents hear something that moves their private
view toward a stance (for example the Bucha revelations of early April 2022).

Declared by the scenario's ``[[news]]`` tables. At the start of sweep ``at`` (after the
border crossings of that sweep, before the agents update) every present, uncommitted agent
is *reached* with probability

    ``reach_i = min(1, reach_by_group[g_i] (or reach) x reach_by_age[a_i] (or 1))``,

independently (one draw per agent), and a reached agent moves toward the shock's stance:

- discrete stances: it adopts the stance with probability ``amount``;
- continuous opinions: ``x_i += amount x (target - x_i)`` (``target``: the shock's
  ``opinion``, by default the middle of the stance's interval), and its stance is the new
  opinion's category.

With ``lasting = true`` (the default) the change is the agent's own from then on: models
whose agents are anchored to a view (Friedkin–Johnsen, EPO) move the anchor by as much as
the opinion (:meth:`~steppe.models.base.Model.on_opinion_shift`), so the rest state moves
instead of pulling the opinion back; with ``lasting = false`` it is a perturbation the model
may undo. What agents *voice* follows from the new private views through the expression
layer, if any. Shock ``i`` of run ``r`` draws from the stream ``(NEWS, r, i)``; a shock
that reaches nobody draws nothing else. Records ``news.parquet``: per record, the agents
reached by each shock so far (``reached_<name>``) and those whose stance it changed
(``moved_<name>``).

Examples
--------
>>> import numpy as np
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> from steppe.engine import init_state
>>> from steppe.pressures.base import World
>>> model = get_model("voter")()
>>> net = complete_graph(10_000)
>>> st = init_state(model, net, shares={"B": 1.0}, seed=1)
>>> shock = NewsShock(model, name="bucha", at=0, toward="A", reach=0.5, amount=0.4)
>>> shock = shock.bind(net, np.random.default_rng(0))
>>> shock.due(st, World(net))
>>> 0.17 < st.counts[0] / 10_000 < 0.23   # about 0.5 x 0.4 of everyone
np.True_
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Self

import numpy as np

from ..errors import ParameterError
from ..models.base import Model
from ..networks.base import Network
from ..observe.observables import Observable
from ..rng import Stream
from ..state import State
from .base import Pressure, Stage, World, per_agent_probability, register

if TYPE_CHECKING:
    from ..scenario.loaded import LoadedScenario

__all__ = ["NewsShock"]


@register
class NewsShock(Pressure):
    """One news shock bound to a run.

    Parameters
    ----------
    model
        The run's model (stance labels; continuous or not).
    name
        Identifier (output columns ``reached_<name>``, ``moved_<name>``).
    at
        The sweep at whose start it happens.
    toward
        The stance it moves agents toward.
    reach, reach_by_group
        Probability that an agent hears it, and per-group probabilities (network group
        codes) replacing it for members of the listed groups.
    reach_by_age
        Relative reach by age band code (unlisted bands: 1), multiplied in, capped at 1
        (needs an ``age`` attribute on the network).
    amount
        How far a reached agent moves: the probability of adopting the stance (discrete)
        or the share of the way to ``opinion`` (continuous), in [0, 1].
    opinion
        Continuous models: the opinion it moves agents toward (default: the middle of the
        stance's interval).
    lasting
        Whether the change is the agents' own from then on (models with anchors move them).
    """

    field = "news"
    stage = Stage.SHOCK
    stream = Stream.NEWS

    def __init__(self, model: Model, *, name: str, at: int, toward: str, reach: float = 1.0,
                 reach_by_group: Mapping[int, float] | None = None,
                 reach_by_age: Mapping[int, float] | None = None, amount: float = 1.0,
                 opinion: float | None = None, lasting: bool = True) -> None:
        if toward not in model.stances:
            raise ParameterError(f"unknown stance for model {model.name!r}",
                                 field=f"news.{name}.toward",
                                 allowed=", ".join(repr(s) for s in model.stances), given=toward)
        for what, value in (("reach", reach), ("amount", amount),
                            *((f"reach_by_group.{g}", v)
                              for g, v in (reach_by_group or {}).items())):
            if not 0.0 <= value <= 1.0:
                raise ParameterError("a probability must lie in [0, 1]",
                                     field=f"news.{name}.{what}", allowed="0 <= p <= 1",
                                     given=value)
        for a, f in (reach_by_age or {}).items():
            if not f >= 0:
                raise ParameterError("a relative reach must be >= 0",
                                     field=f"news.{name}.reach_by_age.{a}", allowed=">= 0",
                                     given=f)
        if at < 0:
            raise ParameterError("a sweep number must be >= 0", field=f"news.{name}.at",
                                 given=at)
        self.model = model
        self.name = name
        self.label = f"news.{name}"
        self.at = int(at)
        self.code = model.stances.index(toward)
        self.reach = float(reach)
        self.reach_by_group = dict(reach_by_group or {})
        self.reach_by_age = dict(reach_by_age or {})
        self.amount = float(amount)
        self.lasting = bool(lasting)
        self.target = None
        if model.continuous:
            value = opinion if opinion is not None else model.representative(self.code)
            lo, hi = model.bounds(self.code)
            if not lo <= value <= hi:
                raise ParameterError("opinion outside the stance's interval",
                                     field=f"news.{name}.opinion", allowed=f"[{lo}, {hi}]",
                                     given=value)
            self.target = float(value)
        elif opinion is not None:
            raise ParameterError("an opinion is for continuous models", field=f"news.{name}."
                                 "opinion", given=opinion)
        self.reached = 0
        self.moved = 0
        self.done = False

    @classmethod
    def from_scenario(cls, scenario: LoadedScenario, model: Model) -> list[NewsShock]:
        """Every ``[[news]]`` table, in order (shock ``i`` draws from ``(NEWS, run, i)``)."""
        out = []
        names = [n.name for n in scenario.spec.news]
        for i, n in enumerate(scenario.spec.news):
            if names.count(n.name) > 1:
                raise scenario.fail("news shock names must differ", f"news.{i}.name",
                                    given=n.name)
            if n.toward not in model.stances:
                raise scenario.fail(f"unknown stance for model {model.name!r}",
                                    f"news.{i}.toward",
                                    allowed=", ".join(repr(s) for s in model.stances),
                                    given=n.toward)
            if n.opinion is not None and not model.continuous:
                raise scenario.fail(f"model {model.name!r} has discrete stances; an opinion "
                                    "is for continuous models", f"news.{i}.opinion")
            at = scenario.within_run(scenario.sweep_of(n.at, f"news.{i}.at"),
                                     f"news.{i}.at", n.at)
            by_group = scenario.by_group(n.reach_by_group, f"news.{i}.reach_by_group")
            by_age = scenario.by_age(n.reach_by_age, f"news.{i}.reach_by_age")
            with scenario.errors(rename={f"news.{n.name}": f"news.{i}"}):
                shock = cls(model, name=n.name, at=at, toward=n.toward, reach=n.reach,
                            reach_by_group=by_group, reach_by_age=by_age, amount=n.amount,
                            opinion=n.opinion, lasting=n.lasting)
            shock.stream_keys = (i,)
            out.append(shock)
        return out

    def bind(self, network: Network, gen: np.random.Generator) -> Self:
        """Each agent's probability of being reached (its group's, times its age band's)."""
        self.gen = gen
        self.p = per_agent_probability(network, self.reach, self.reach_by_group,
                                       self.reach_by_age, f"news.{self.name}.reach", "reach")
        return self

    # -- the protocol --------------------------------------------------------------------
    def next_time(self, t: float) -> float:
        return float(self.at) if not self.done and self.at > t + 1e-9 else float("inf")

    def settled(self, state: State) -> bool:
        return self.done

    def due(self, state: State, world: World) -> None:
        """The shock, once its sweep has come."""
        if self.done or state.time + 1e-9 < self.at:
            return
        self.done = True
        n = state.n
        reached = ~state.committed & (self.gen.random(n) < self.p)
        if state.present is not None:
            reached &= state.present
        who = np.flatnonzero(reached)
        self.reached += len(who)
        if len(who) == 0 or self.amount <= 0.0:
            return
        before = state.stance[who].copy()
        k = len(state.counts)
        if self.target is not None:
            delta = self.amount * (self.target - state.opinion[who])
            state.opinion[who] += delta
            self.model.categorize(state)
            if self.lasting:
                self.model.on_opinion_shift(state, who, delta)
        else:
            switch = who[self.gen.random(len(who)) < self.amount]
            state.stance[switch] = self.code
            state.recount(k)
            if self.lasting:
                self.model.on_opinion_shift(state, switch, None)
        self.moved += int(np.count_nonzero(state.stance[who] != before))

    def observables(self) -> list[Observable]:
        """``reached_<name>`` and ``moved_<name>``, cumulative, per record."""
        return [Observable(f"reached_{self.name}", "news", "record",
                           lambda st, tally: self.reached,
                           description=f"agents reached by the news shock {self.name}"),
                Observable(f"moved_{self.name}", "news", "record",
                           lambda st, tally: self.moved,
                           description=f"agents whose stance the news shock {self.name} "
                                       "changed")]
