"""Border flows: agents who arrive in and leave the country during a run.

Declared by the scenario's ``[[flows]]`` tables; events target ``flows.<name>.rate`` for
flows given as a rate (read up front: the compiled timeline of the rate becomes the numbers
arriving or leaving per sweep).

Rule. Every agent who will ever arrive exists from the start, as an *arrival slot*
(:mod:`steppe.population.arrivals`): the population is synthesised with the residents plus,
for each arrival flow, as many extra agents as the flow brings over the whole run (drawn from
the flow's own group, region and age mix), and the homophily network is built over all of
them by the same rules, once. So an arrival's ties are those a member of its group and
region would have; nothing is rebuilt while the run goes on.

At each sweep the flows due that sweep are carried out before the agents update:

- an *arrival* flow makes the next ``k`` of its slots (in an order drawn per run) present;
  each draws its private stance from the flow's ``initial`` shares (or is committed to the
  flow's committed stance with the flow's ``committed`` probability) and starts out voicing
  what it holds;
- a *departure* flow removes ``k`` agents chosen uniformly among those present who are
  eligible: members of its ``source`` flow (e.g. the arrivals of a wave leaving again) or
  anyone; with ``groups`` weights, ``k`` is first split among the groups (largest
  remainder) and each group's share drawn among its present members. Leavers never come
  back.

Absent agents (slots not yet arrived, leavers) are frozen (``state.committed``), hold no ties
in the network the kernels see (the *active* network: the edges among present agents,
recomputed from the full network after each change, an O(edges) filter), and are left out of
every count, poll and breakdown. A sweep is still N elementary updates over all slots, so each
present agent is updated once per sweep on average, as without flows; absent slots drawn do
nothing.

The counts ``k`` per sweep come from :func:`steppe.rounding.cumulative_round`: the expected
number per sweep (a total spread evenly between two sweeps, or a rate per day that events
may change) is accumulated and rounded, so that the realised numbers add up to the rounded
total exactly.

Records ``flows.parquet``: per record, the agents ``present`` and the cumulative arrivals
``arrived_<flow>`` and departures ``left_<flow>`` (in agents).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from ..errors import ParameterError
from ..models.base import Model
from ..networks.base import Network, restrict
from ..observe.observables import Observable
from ..population.arrivals import ArrivalPool
from ..rng import Stream
from ..rounding import cumulative_round, largest_remainder
from ..scenario.schema import resolve_shares
from ..state import State
from .base import Control, Pressure, Stage, World, non_negative, register

if TYPE_CHECKING:
    from ..scenario.loaded import LoadedScenario

__all__ = ["BorderFlows", "FlowPlan"]

#: the largest rate a flow may have (people per day, as the schema allows)
MAX_RATE = 1e9


@dataclass
class FlowPlan:
    """One flow as the engine carries it out.

    Attributes
    ----------
    name : str
    direction : {"in", "out"}
    counts : numpy.ndarray
        int64 agents arriving (leaving) at the start of each sweep 0, 1, ...
    shares : numpy.ndarray or None
        Arrivals: probability of each stance code.
    committed : float
        Arrivals: probability of being committed to ``committed_code``.
    committed_code : int
    source : int or None
        Departures: only agents of this origin code leave (None: anyone present).
    group_weights : numpy.ndarray or None
        Departures: how the leavers split among group codes (None: uniformly among all
        eligible agents).
    """

    name: str
    direction: str
    counts: np.ndarray
    shares: np.ndarray | None = None
    committed: float = 0.0
    committed_code: int = 0
    source: int | None = None
    group_weights: np.ndarray | None = None

    @property
    def total(self) -> int:
        return int(self.counts.sum())


@dataclass(frozen=True)
class _Window:
    """A flow's declared extent in sweeps (``end`` None: to the end of the run)."""

    start: int
    end: int | None
    total: float | None
    rate: float | None


@register
class BorderFlows(Pressure):
    """Arrivals and departures during one run (see the module docstring for the rule).

    Parameters
    ----------
    model : Model
        The run's model (stance labels, continuous categories, ``on_arrival``).
    plans : list of FlowPlan
        The flows, in declared order (their ``counts`` may come later, from
        :meth:`schedule`).

    Notes
    -----
    :meth:`bind` then reads every agent's origin from the network (0 residents, ``1 + f``
    the slots of arrival flow ``f``, its ``origin`` attribute) and draws the order in which
    slots arrive; the same generator draws the arrivals' stances and who leaves.

    Examples
    --------
    >>> from steppe.models import get_model
    >>> from steppe.networks import lattice
    >>> from steppe.engine.state import init_state
    >>> m, g = get_model("voter")(), lattice((6,))
    >>> import dataclasses
    >>> g = dataclasses.replace(g, attributes={"origin": (np.array([0, 0, 0, 0, 1, 1], np.int8),
    ...                                                   ("resident", "wave"))})
    >>> plan = FlowPlan("wave", "in", np.array([0, 2]), shares=np.array([1.0, 0.0]))
    >>> fl = BorderFlows(m, [plan]).bind(g, np.random.default_rng(0))
    >>> st = init_state(m, g, shares={"B": 1.0}, seed=0, present=fl.present0())
    >>> world = World(g)
    >>> fl.prepare(st, world); st.n_present
    4
    >>> fl.apply_sweep(st, world, 1); st.n_present, st.present_counts().tolist()
    (6, [2, 4])
    """

    field = "flows"
    stage = Stage.ARRIVALS
    stream = Stream.FLOWS
    label = "flows"
    moves_people = True

    def __init__(self, model: Model, plans: Sequence[FlowPlan], *,
                 windows: Sequence[_Window] | None = None,
                 mixes: Sequence[tuple[Any, Any, Any]] | None = None, scale: float = 1.0,
                 days_per_sweep: float = 1.0) -> None:
        if not model.supports_flows:
            raise ParameterError(f"model {model.name!r} does not support border flows",
                                 field="flows", given=model.name)
        self.model = model
        self.plans = list(plans)
        self._windows = list(windows) if windows is not None else None
        self._mixes = list(mixes) if mixes is not None else [(None, None, None)] * len(plans)
        self._scale = scale
        self._days_per_sweep = days_per_sweep
        self.rates = {p.name: w.rate for p, w in zip(self.plans, self._windows or [],
                                                     strict=False) if w.rate is not None}

    # -- declaration ---------------------------------------------------------------------
    @classmethod
    def from_scenario(cls, scenario: LoadedScenario, model: Model) -> list[BorderFlows]:
        """The ``[[flows]]`` tables (one pressure carries them all, in declared order)."""
        spec = scenario.spec
        if not spec.flows:
            return []
        if not model.supports_flows:
            raise scenario.fail(f"model {model.name!r} does not support border flows",
                                "flows", given=model.name)
        base = dict(spec.initial.share_table() or model.default_initial)
        arrivals = ["resident", *(f.name for f in spec.flows if f.direction == "in")]
        group_labels = scenario.group_labels() or []
        plans, windows = [], []
        for i, f in enumerate(spec.flows):
            a = scenario.sweep_of(f.start, f"flows.{i}.start")  # after the end: nobody
            b = None if f.end is None else scenario.sweep_of(f.end, f"flows.{i}.end")
            if b is not None and b <= a:
                raise scenario.fail("a flow must end after it starts", f"flows.{i}.end",
                                    allowed=f"later than {f.start}", given=str(f.end))
            windows.append(_Window(a, b, f.total, f.rate))
            plan = FlowPlan(name=f.name, direction=f.direction,
                            counts=np.zeros(0, dtype=np.int64))
            if f.direction == "in":
                shares = np.zeros(len(model.stances))
                given = resolve_shares(f.initial, f"flows.{i}.initial") or base
                for label, v in given.items():
                    shares[_stance(scenario, model, label,
                                   f"flows.{i}.initial.{label}")] = v
                if abs(shares.sum() - 1.0) > 1e-9:
                    raise scenario.fail("shares must sum to 1", f"flows.{i}.initial",
                                        given=dict(f.initial or base))
                plan.shares = shares
                plan.committed = f.committed
                if f.committed > 0:
                    label = f.committed_stance or (spec.committed.stance if spec.committed
                                                   else None)
                    if label is None:
                        raise scenario.fail("committed arrivals need a stance",
                                            f"flows.{i}.committed_stance",
                                            allowed="a stance label (or a [committed] table)")
                    plan.committed_code = _stance(scenario, model, label,
                                                  f"flows.{i}.committed_stance")
            else:
                if f.source is not None:  # -1 until bound: a source that brings nobody
                    plan.source = arrivals.index(f.source) if f.source in arrivals else -1
                if f.groups is not None:
                    w = np.zeros(len(group_labels))
                    for g, v in f.groups.items():
                        w[scenario.group_code(g, f"flows.{i}.groups.{g}")] = v
                    if w.sum() <= 0:
                        raise scenario.fail("group weights must not all be 0",
                                            f"flows.{i}.groups", given=dict(f.groups))
                    plan.group_weights = w / w.sum()
            plans.append(plan)
        t = spec.time
        days = 1.0 if t is None else t.days_per_step() / t.sweeps_per_step
        scale = spec.population.scale if spec.population is not None else 1.0
        return [cls(model, plans, windows=windows, scale=scale, days_per_sweep=days,
                    mixes=[(f.groups, f.regions, f.ages) for f in spec.flows])]

    def controls(self) -> list[Control]:
        """``flows.<name>.rate`` for every flow given as a rate (read up front)."""
        out = []
        for name in self.rates:
            path = f"flows.{name}.rate"

            def set_(value: Any, name: str = name, path: str = path) -> None:
                self.rates[name] = non_negative(path, value, MAX_RATE)

            out.append(Control(path=path, get=lambda name=name: self.rates[name], set=set_,
                               check=lambda v, path=path: non_negative(path, v, MAX_RATE),
                               live=False))
        return out

    def schedule(self, value_at: Callable[[str, int], Any], sweeps: int | None) -> None:
        """Agents arriving (leaving) with each flow at the start of each sweep, after
        scaling, from the compiled timeline of its rate (or its total spread evenly)."""
        if self._windows is None:
            return
        if sweeps is None:
            raise ParameterError("border flows need a fixed length of run: stop.max_sweeps "
                                 "or time.end", field="flows")
        for plan, w in zip(self.plans, self._windows, strict=True):
            b = sweeps if w.end is None else w.end
            b = min(b, sweeps)  # a flow starting after the run's end brings nobody
            expected = np.zeros(sweeps)
            if w.total is not None:
                if w.start < sweeps:
                    expected[w.start:b] = w.total * self._scale / (b - w.start)
            else:
                rate = np.array([value_at(f"flows.{plan.name}.rate", t)
                                 for t in range(sweeps)], dtype=np.float64)
                expected[w.start:b] = rate[w.start:b] * self._days_per_sweep * self._scale
            plan.counts = cumulative_round(expected, field=f"flows.{plan.name}")

    def slots(self) -> list[ArrivalPool]:
        """An arrival slot for everyone each arrival flow brings over the run."""
        return [ArrivalPool(name=p.name, n=p.total, groups=g, regions=r, ages=a)
                for p, (g, r, a) in zip(self.plans, self._mixes, strict=True)
                if p.direction == "in"]

    # -- binding -------------------------------------------------------------------------
    def bind(self, network: Network, gen: np.random.Generator) -> Self:
        """Read every agent's origin and draw the order in which slots arrive."""
        attrs = network.attributes or {}
        if "origin" in attrs:
            origin, labels = attrs["origin"]
        else:
            origin, labels = np.zeros(network.n, np.int8), ("resident",)
        self.network = network
        self.gen = gen
        self.origin = np.asarray(origin, dtype=np.int8)
        self.origin_labels = tuple(str(x) for x in labels)
        self._slots: dict[int, np.ndarray] = {}
        self._next: dict[int, int] = {}
        for f, plan in enumerate(self.plans):
            if plan.direction == "in":
                code = (self.origin_labels.index(plan.name) if plan.name in
                        self.origin_labels else -1)
                slots = np.flatnonzero(self.origin == code)
                if len(slots) < plan.total:
                    raise ParameterError("fewer arrival slots than arrivals",
                                         field=f"flows.{plan.name}",
                                         allowed=f"<= {len(slots)}", given=plan.total)
                self._slots[f] = self.gen.permutation(slots)
                self._next[f] = 0
        self.arrived = {p.name: 0 for p in self.plans if p.direction == "in"}
        self.left = {p.name: 0 for p in self.plans if p.direction == "out"}
        self._times = np.unique(np.concatenate(
            [np.flatnonzero(p.counts) for p in self.plans] or [np.zeros(0, np.int64)]))
        self._done_until = -1
        self._active: Network | None = None  # the restriction this layer made last
        self._spare: Network | None = None  # the one before: its arrays can be reused
        self._members: dict[int, np.ndarray] = {}  # agents by origin (sorted ids)
        return self

    # -- in the loop ---------------------------------------------------------------------
    def present0(self) -> np.ndarray:
        """Who is present at the start: the residents."""
        return self.origin == 0

    @property
    def initial(self) -> int:
        return int(np.count_nonzero(self.origin == 0))

    def prepare(self, state: State, world: World) -> None:
        """Mark absent agents (frozen) and give the kernels the ties among those present."""
        if state.present is None:
            state.present = self.present0()
        state.committed[~state.present] = True
        # indices with room for every tie, so that later restrictions can be written into
        # the arrays of those no longer in use
        world.active = restrict(self.network, state.present, into=self._new_arrays())
        self._active = world.active

    def next_time(self, t: float) -> float:
        """The first sweep after ``t`` at which a flow acts (inf: none)."""
        k = np.searchsorted(self._times, t + 1e-9, side="right")
        return float(self._times[k]) if k < len(self._times) else float("inf")

    def due(self, state: State, world: World) -> None:
        """Carry out every flow due up to ``state.time`` (and refilter the ties if anyone
        came or went)."""
        t = int(np.floor(state.time + 1e-9))
        moved: list[np.ndarray] = []
        for s in self._times[(self._times > self._done_until) & (self._times <= t)]:
            moved += self._apply(state, int(s))
        self._done_until = max(self._done_until, t)
        if moved:
            self._refilter(state, world, moved)

    def apply_sweep(self, state: State, world: World, sweep: int) -> None:
        """Carry out the flows of one given sweep (and refilter the ties)."""
        moved = self._apply(state, sweep)
        if moved:
            self._refilter(state, world, moved)
        self._done_until = max(self._done_until, sweep)

    def _refilter(self, state: State, world: World, moved: list[np.ndarray]) -> None:
        """The ties among those present, after the agents ``moved`` came or went: only
        their rows and their neighbours' are filtered again when the network in force is
        the one this layer made last."""
        previous = world.active if world.active is self._active else None
        into = self._spare_arrays()
        world.active = restrict(self.network, state.present, previous,
                                np.concatenate(moved), into)
        self._spare = previous  # replaced: free once the loop has moved on to the new one
        self._active = world.active

    def _spare_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Arrays to write the next restriction into: those of the restriction before the
        one in force when nothing but this layer holds that network or its arrays (a
        day's flows at full scale otherwise allocate and fault in 0.8 GB), else new ones
        with room for every tie."""
        spare, self._spare = self._spare, None
        # the references: `spare` here and getrefcount's argument; each array: the
        # network's field (or the view over it) and the argument
        if (spare is not None and isinstance(spare.indices.base, np.ndarray)
                and len(spare.indices.base) >= len(self.network.indices)
                and sys.getrefcount(spare) == 2 and sys.getrefcount(spare.indptr) == 2
                and sys.getrefcount(spare.indices) == 2
                and sys.getrefcount(spare.indices.base) == 2):
            return spare.indptr, spare.indices.base
        return self._new_arrays()

    def _new_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        net = self.network
        return np.empty(net.n + 1, np.int64), np.empty(len(net.indices), net.indices.dtype)

    def observables(self) -> list[Observable]:
        """Agents ``present``, and cumulative ``arrived_<flow>`` and ``left_<flow>``."""
        out = [Observable("present", "flows", "record", lambda st, tally: st.n_present,
                          description="agents present")]
        out += [Observable(f"arrived_{name}", "flows", "record",
                           lambda st, tally, name=name: self.arrived[name],
                           description=f"agents arrived with flow {name} so far")
                for name in self.arrived]
        out += [Observable(f"left_{name}", "flows", "record",
                           lambda st, tally, name=name: self.left[name],
                           description=f"agents left with flow {name} so far")
                for name in self.left]
        return out

    def _apply(self, state: State, sweep: int) -> list[np.ndarray]:
        """The flows of one sweep; returns who came or went (one array per flow)."""
        moved = []
        for f, plan in enumerate(self.plans):
            k = int(plan.counts[sweep]) if sweep < len(plan.counts) else 0
            if k <= 0:
                continue
            if plan.direction == "in":
                moved.append(self._arrive(state, f, plan, k))
            else:
                moved.append(self._leave(state, plan, k))
        return moved

    def _arrive(self, state: State, f: int, plan: FlowPlan, k: int) -> np.ndarray:
        start = self._next[f]
        who = self._slots[f][start:start + k]
        self._next[f] = start + len(who)
        assert plan.shares is not None
        codes = self.gen.choice(len(plan.shares), size=len(who), p=plan.shares).astype(np.int8)
        committed = self.gen.random(len(who)) < plan.committed if plan.committed > 0 else (
            np.zeros(len(who), dtype=np.bool_))
        codes[committed] = plan.committed_code
        kk = len(state.counts)
        state.counts -= np.bincount(state.stance[who], minlength=kk)[:kk]
        state.stance[who] = codes
        state.counts += np.bincount(codes, minlength=kk)[:kk]
        state.committed[who] = committed
        if self.model.continuous and state.opinion is not None:
            for c in np.unique(codes).tolist():
                sel = who[codes == c]
                lo, hi = self.model.bounds(c)  # type: ignore[attr-defined]
                state.opinion[sel] = self.gen.uniform(lo, hi, size=len(sel))
        state.voice_own(who)  # arrivals start out voicing what they hold
        assert state.present is not None
        state.present[who] = True
        self.model.on_arrival(state, who)
        self.arrived[plan.name] += len(who)
        return who

    def _leave(self, state: State, plan: FlowPlan, k: int) -> np.ndarray:
        assert state.present is not None
        if plan.source is not None:  # only the source's arrival slots can leave
            if plan.source not in self._members:
                self._members[plan.source] = np.flatnonzero(self.origin == plan.source)
            members = self._members[plan.source]
            candidates = members[state.present[members]]
        else:
            candidates = np.flatnonzero(state.present)
        groups = self.network.groups
        if plan.group_weights is None or groups is None:
            pool = candidates
            who = self.gen.choice(pool, size=min(k, len(pool)), replace=False)
        else:
            want = largest_remainder(k, plan.group_weights)
            picks = []
            for g, kg in enumerate(want.tolist()):
                if kg <= 0:
                    continue
                pool = candidates[groups[candidates] == g]
                picks.append(self.gen.choice(pool, size=min(kg, len(pool)), replace=False))
            who = np.concatenate(picks) if picks else np.zeros(0, np.int64)
        state.present[who] = False
        state.committed[who] = True
        self.left[plan.name] += len(who)
        return who


def _stance(scenario: LoadedScenario, model: Model, label: str, field: str) -> int:
    if label not in model.stances:
        raise scenario.fail(f"unknown stance for model {model.name!r}", field,
                            allowed=", ".join(repr(x) for x in model.stances), given=label)
    return model.stances.index(label)
