"""Border flows: agents who arrive in and leave the country during a run.

Rule. Every agent who will ever arrive exists from the start, as an *arrival slot*: the
population is synthesised with the residents plus, for each arrival flow, as many extra
agents as the flow brings over the whole run (drawn from the flow's own group, region and
age mix), and the homophily network is built over all of them by the same rules, once. So an
arrival's ties are those a member of its group and region would have; nothing is rebuilt
while the run goes on.

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

The counts ``k`` per sweep come from :func:`schedule`: the expected number per sweep
(a total spread evenly between two sweeps, or a rate per sweep that events may change) is
accumulated and rounded, so that the realised numbers add up to the rounded total exactly.

Examples
--------
>>> import numpy as np
>>> schedule(np.full(4, 2.5)).tolist()
[3, 2, 3, 2]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numba import njit, prange

from ..errors import ParameterError
from ..models.base import Model, State
from ..networks.base import Network
from .synthetic import Population, synthesize

__all__ = ["ArrivalPool", "BorderFlows", "FlowPlan", "active_network", "schedule",
           "with_arrivals"]


def schedule(expected: np.ndarray) -> np.ndarray:
    """Whole numbers of agents per sweep from expected (fractional) numbers per sweep:
    differences of the rounded cumulative sum, so the total is the rounded expected total.

    Examples
    --------
    >>> schedule(np.array([0.4, 0.4, 0.4, 0.0, 1.2])).tolist()
    [0, 1, 0, 0, 1]
    """
    expected = np.asarray(expected, dtype=np.float64)
    if expected.size and (not np.all(np.isfinite(expected)) or expected.min() < 0):
        raise ParameterError("expected numbers of agents must be finite and >= 0",
                             field="flows", given=float(expected.min()))
    cum = np.floor(np.concatenate([[0.0], np.cumsum(expected)]) + 0.5 + 1e-9)
    return np.diff(cum).astype(np.int64)


@dataclass(frozen=True)
class ArrivalPool:
    """Who an arrival flow brings: how many, and their group, region and age mix (labels
    of the resident population; missing labels mean 0; None: the national mix)."""

    name: str
    n: int
    groups: Mapping[str, float] | None = None
    regions: Mapping[str, float] | None = None
    ages: Mapping[str, float] | None = None


def _mix(field_name: str, given: Mapping[str, float] | None, labels: tuple[str, ...],
         national: np.ndarray) -> dict[str, float]:
    if given is None:
        return dict(zip(labels, national.tolist(), strict=True))
    unknown = sorted(set(given) - set(labels))
    if unknown:
        raise ParameterError("unknown label", field=f"{field_name}.{unknown[0]}",
                             allowed=", ".join(labels), given=unknown[0])
    return {label: float(given.get(label, 0.0)) for label in labels}


def with_arrivals(residents: Population, pools: Sequence[ArrivalPool], *,
                  seed: int | np.random.SeedSequence) -> tuple[Population, np.ndarray,
                                                                tuple[str, ...]]:
    """The residents plus every arrival slot, sorted by region then group (as the
    homophily network needs), and each agent's origin: 0 for residents, ``1 + f`` for
    the slots of ``pools[f]``.

    Examples
    --------
    >>> res = synthesize(8, groups={"a": 0.5, "b": 0.5}, seed=0)
    >>> pop, origin, labels = with_arrivals(res, [ArrivalPool("wave", 2, {"b": 1.0})], seed=1)
    >>> pop.n, labels, pop.table("group").tolist(), int((origin == 1).sum())
    (10, ('resident', 'wave'), [4, 6], 2)
    """
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    parts = [residents]
    origin = [np.zeros(residents.n, dtype=np.int8)]
    n_tot = residents.n
    for f, pool in enumerate(pools):
        if pool.n <= 0:
            continue
        national = {a: residents.table(a) / residents.n for a in ("group", "region", "age")}
        g = _mix(f"flows.{pool.name}.groups", pool.groups, residents.group_labels,
                 national["group"])
        r = _mix(f"flows.{pool.name}.regions", pool.regions, residents.region_labels,
                 national["region"])
        a = _mix(f"flows.{pool.name}.ages", pool.ages, residents.age_labels, national["age"])
        p = synthesize(pool.n, groups=g, regions=r, ages=a,
                       seed=np.random.SeedSequence(ss.entropy,
                                                   spawn_key=(*ss.spawn_key, f)))
        parts.append(p)
        origin.append(np.full(p.n, f + 1, dtype=np.int8))
        n_tot += p.n
    labels = ("resident", *(p.name for p in pools))
    if len(parts) == 1:
        return residents, origin[0], labels
    group = np.concatenate([p.group for p in parts])
    region = np.concatenate([p.region for p in parts])
    age = np.concatenate([p.age for p in parts])
    org = np.concatenate(origin)
    key = region.astype(np.int64) * len(residents.group_labels) + group
    order = np.argsort(key, kind="stable")
    pop = Population(n=n_tot, group=group[order], group_labels=residents.group_labels,
                     region=region[order], region_labels=residents.region_labels,
                     age=age[order], age_labels=residents.age_labels)
    return pop, org[order], labels


@njit(cache=True, parallel=True)
def _count_kept(indptr, indices, present, kept):
    for i in prange(indptr.shape[0] - 1):
        c = 0
        if present[i]:
            for e in range(indptr[i], indptr[i + 1]):
                if present[indices[e]]:
                    c += 1
        kept[i] = c


@njit(cache=True, parallel=True)
def _fill_kept(indptr, indices, present, out_ptr, out_idx):
    for i in prange(indptr.shape[0] - 1):
        if present[i]:
            k = out_ptr[i]
            for e in range(indptr[i], indptr[i + 1]):
                j = indices[e]
                if present[j]:
                    out_idx[k] = j
                    k += 1


def _filter_csr(indptr: np.ndarray, indices: np.ndarray, present: np.ndarray,
                out_ptr: np.ndarray) -> np.ndarray:
    """The CSR rows restricted to present agents (two parallel passes: count, fill)."""
    kept = np.empty(len(indptr) - 1, dtype=np.int64)
    _count_kept(indptr, indices, present, kept)
    out_ptr[0] = 0
    np.cumsum(kept, out=out_ptr[1:])
    out_idx = np.empty(int(out_ptr[-1]), dtype=indices.dtype)
    _fill_kept(indptr, indices, present, out_ptr, out_idx)
    return out_idx


def active_network(full: Network, present: np.ndarray) -> Network:
    """The ties among present agents (absent agents keep their ids and have no ties).

    Examples
    --------
    >>> from steppe.networks import lattice
    >>> g = active_network(lattice((5,)), np.array([True, True, False, True, True]))
    >>> g.degree().tolist()
    [2, 1, 0, 1, 2]
    """
    if full.complete:
        raise ParameterError("border flows need an explicit network (not the complete graph)",
                             field="flows", given=full.name)
    if full.weights is not None:
        raise ParameterError("border flows do not support weighted networks", field="flows",
                             given=full.name)
    ptr = np.empty(full.n + 1, dtype=np.int64)
    idx = _filter_csr(full.indptr, full.indices, np.ascontiguousarray(present, np.bool_), ptr)
    import dataclasses

    return dataclasses.replace(full, indptr=ptr, indices=idx)


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


@dataclass
class BorderFlows:
    """Arrivals and departures during one run (see the module docstring for the rule).

    Parameters
    ----------
    model : Model
        The run's model (stance labels, continuous categories, ``on_arrival``).
    network : Network
        The full network over residents and arrival slots.
    origin : numpy.ndarray
        Origin code of every agent: 0 residents, ``1 + f`` slots of arrival flow ``f``
        (the order of ``origin_labels``).
    origin_labels : tuple of str
    plans : list of FlowPlan
    gen : numpy.random.Generator
        The run's draws: slot order, arrivals' stances, who leaves.

    Examples
    --------
    >>> from steppe.models import get_model
    >>> from steppe.networks import lattice
    >>> from steppe.engine.state import init_state
    >>> m, g = get_model("voter")(), lattice((6,))
    >>> origin = np.array([0, 0, 0, 0, 1, 1], np.int8)
    >>> plan = FlowPlan("wave", "in", np.array([0, 2]), shares=np.array([1.0, 0.0]))
    >>> fl = BorderFlows(m, g, origin, ("resident", "wave"), [plan], np.random.default_rng(0))
    >>> st = init_state(m, g, shares={"B": 1.0}, seed=0, present=fl.present0())
    >>> fl.start(st); st.n_present
    4
    >>> fl.apply(st, 1); st.n_present, st.present_counts().tolist()
    (6, [2, 4])
    """

    model: Model
    network: Network
    origin: np.ndarray
    origin_labels: tuple[str, ...]
    plans: list[FlowPlan]
    gen: np.random.Generator
    active: Network = field(init=False)
    arrived: dict[str, int] = field(init=False)
    left: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        if not self.model.supports_flows:
            raise ParameterError(f"model {self.model.name!r} does not support border flows",
                                 field="flows", given=self.model.name)
        self.origin = np.asarray(self.origin, dtype=np.int8)
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

    def present0(self) -> np.ndarray:
        """Who is present at the start: the residents."""
        return self.origin == 0

    @property
    def initial(self) -> int:
        return int(np.count_nonzero(self.origin == 0))

    def start(self, state: State) -> None:
        """Mark absent agents in ``state`` (frozen) and build the active network."""
        if state.present is None:
            state.present = self.present0()
        state.committed[~state.present] = True
        self.active = active_network(self.network, state.present)

    def next_time(self, t: float) -> float:
        """The first sweep after ``t`` at which a flow acts (inf: none)."""
        k = np.searchsorted(self._times, t + 1e-9, side="right")
        return float(self._times[k]) if k < len(self._times) else float("inf")

    def due(self, state: State) -> bool:
        """Carry out every flow due up to ``state.time``; True if anyone came or went."""
        t = int(np.floor(state.time + 1e-9))
        changed = False
        for s in self._times[(self._times > self._done_until) & (self._times <= t)]:
            changed |= self._apply(state, int(s))
        self._done_until = max(self._done_until, t)
        if changed:
            self.active = active_network(self.network, state.present)
        return changed

    def apply(self, state: State, sweep: int) -> None:
        """Carry out the flows of one sweep (and rebuild the active network)."""
        if self._apply(state, sweep):
            self.active = active_network(self.network, state.present)
        self._done_until = max(self._done_until, sweep)

    def _apply(self, state: State, sweep: int) -> bool:
        changed = False
        for f, plan in enumerate(self.plans):
            k = int(plan.counts[sweep]) if sweep < len(plan.counts) else 0
            if k <= 0:
                continue
            if plan.direction == "in":
                self._arrive(state, f, plan, k)
            else:
                self._leave(state, plan, k)
            changed = True
        return changed

    def _arrive(self, state: State, f: int, plan: FlowPlan, k: int) -> None:
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
        if state.expressed is not state.stance:
            state.expressed_counts -= np.bincount(state.expressed[who], minlength=kk)[:kk]
            state.expressed[who] = codes
            state.expressed_counts += np.bincount(codes, minlength=kk)[:kk]
            if (state.expressed_opinion is not None and state.opinion is not None
                    and state.expressed_opinion is not state.opinion):
                state.expressed_opinion[who] = state.opinion[who]
        assert state.present is not None
        state.present[who] = True
        self.model.on_arrival(state, who)
        self.arrived[plan.name] += len(who)

    def _leave(self, state: State, plan: FlowPlan, k: int) -> None:
        assert state.present is not None
        eligible = state.present.copy()
        if plan.source is not None:
            eligible &= self.origin == plan.source
        groups = self.network.groups
        if plan.group_weights is None or groups is None:
            pool = np.flatnonzero(eligible)
            who = self.gen.choice(pool, size=min(k, len(pool)), replace=False)
        else:
            from ..engine.state import apportion

            want = apportion(k, plan.group_weights)
            picks = []
            for g, kg in enumerate(want.tolist()):
                if kg <= 0:
                    continue
                pool = np.flatnonzero(eligible & (groups == g))
                picks.append(self.gen.choice(pool, size=min(kg, len(pool)), replace=False))
            who = np.concatenate(picks) if picks else np.zeros(0, np.int64)
        state.present[who] = False
        state.committed[who] = True
        self.left[plan.name] += len(who)

    def totals(self) -> dict[str, int]:
        """Cumulative arrivals (``arrived:<flow>``) and departures (``left:<flow>``)."""
        return {**{f"arrived:{k}": v for k, v in self.arrived.items()},
                **{f"left:{k}": v for k, v in self.left.items()}}
