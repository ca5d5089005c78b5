"""The time loop: advance a model in chunks, record observables between chunks, stop.

Recording is layered on top of stepping: the model's kernel runs ``every`` sweeps at a time
and knows nothing of what is recorded; this loop reads ``state.counts`` between chunks.

Examples
--------
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> from steppe.engine.state import init_state
>>> model = get_model("voter")()
>>> net = complete_graph(50)
>>> st = init_state(model, net, shares={"A": 0.5, "B": 0.5}, seed=3)
>>> traj = simulate(model, net, st, max_sweeps=10_000, stop_at_consensus=True)
>>> traj.consensus_stance in (0, 1), traj.final_time == traj.consensus_time
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit

from ..errors import ParameterError
from ..models.base import Model, State
from ..networks.base import Network
from ..population.flows import BorderFlows
from ..pressures.expression import ExpressionLayer
from ..pressures.media import MediaChannel
from ..pressures.protest import ProtestLayer

__all__ = ["Breakdown", "Controls", "Event", "Trajectory", "apply_event", "default_breakdowns",
           "simulate"]


@dataclass(frozen=True)
class Event:
    """A change at a given time: at sweep ``at`` each ``path = value`` in ``changes`` is set;
    with ``until``, each path instead moves linearly from its value at ``at`` to ``value`` at
    sweep ``until`` (a ramp), one step per sweep.

    Paths: ``expression.enforcement``, ``expression.support_weight``,
    ``media.<channel>.strength`` and ``model.<parameter>``.

    Examples
    --------
    >>> Event(at=10, changes={"expression.enforcement": 0.0}).at
    10
    >>> Event(at=10, until=20, changes={"media.tv.strength": 0.4}).until
    20
    """

    at: int
    changes: dict[str, Any]
    until: int | None = None


@dataclass
class Breakdown:
    """Counts recorded separately for each level of an agent attribute (group, region...).

    Attributes
    ----------
    labels : list of str
        The levels, in the order of the level axis.
    counts, expressed_counts : numpy.ndarray
        int64 arrays (records, levels, stances).
    """

    labels: list[str]
    counts: np.ndarray
    expressed_counts: np.ndarray


@dataclass
class Trajectory:
    """What one run recorded.

    Attributes
    ----------
    time : numpy.ndarray
        float64 time of each record, in sweeps.
    counts, expressed_counts : numpy.ndarray
        int64 arrays (records, stances): agents privately holding / voicing each stance.
    breakdowns : dict[str, Breakdown]
        The same counts per level of each agent attribute (e.g. ``"group"`` when the network
        has groups).
    participation : dict[str, numpy.ndarray] or None
        With a protest layer: protesters per record, for everyone (``"all"``, one level)
        and per level of each attribute.
    consensus_stance : int or None
        The stance code all agents (or ``consensus_share`` of them) hold at the end.
    consensus_time : float or None
        When consensus was first seen: exact (to one elementary update) when the run stops
        at consensus, otherwise the first record at which it held.
    absorbed : bool
        Whether the run ended in an absorbing state other than consensus (``is_frozen``).
    final_time : float
        Time at the end of the run, in sweeps.
    """

    time: np.ndarray
    counts: np.ndarray
    consensus_stance: int | None
    consensus_time: float | None
    final_time: float
    expressed_counts: np.ndarray | None = None
    breakdowns: dict[str, Breakdown] = field(default_factory=dict)
    absorbed: bool = False
    #: protest participants per record: {"all": (records, 1), attribute: (records, levels)}
    participation: dict[str, np.ndarray] | None = None
    #: with border flows: agents present per record ("present") and cumulative arrivals and
    #: departures per flow ("arrived:<flow>", "left:<flow>"), int64 (records,)
    flows: dict[str, np.ndarray] | None = None


def default_breakdowns(network: Network) -> dict[str, tuple[np.ndarray, list[str]]]:
    """The agent attributes carried by the network (group, region, age band of a synthetic
    population), or ``{"group": ...}`` when it only has groups, else nothing. Attributes
    with a single level are left out."""
    if network.attributes:
        return {name: (codes, [str(x) for x in labels])
                for name, (codes, labels) in network.attributes.items() if len(labels) > 1}
    if network.groups is None:
        return {}
    labels, inverse = np.unique(network.groups, return_inverse=True)
    return {"group": (inverse.astype(np.int64), [str(x) for x in labels.tolist()])}


@njit(cache=True)
def _tally(codes, stance, expressed, present, priv, expr):
    """Agents (present ones, if ``present`` is not empty) per level of ``codes`` and stance,
    private and expressed, in one pass."""
    use = present.shape[0] > 0
    for i in range(codes.shape[0]):
        if use and not present[i]:
            continue
        c = codes[i]
        priv[c, stance[i]] += 1
        expr[c, expressed[i]] += 1


class _Recorder:
    """Collects counts between chunks (private, expressed, per attribute level)."""

    def __init__(self, model: Model,
                 breakdowns: dict[str, tuple[np.ndarray, list[str]]]) -> None:
        self.k = len(model.stances)
        self.time: list[float] = []
        self.counts: list[np.ndarray] = []
        self.expressed: list[np.ndarray] = []
        self.by = {name: (np.ascontiguousarray(codes), list(labels))
                   for name, (codes, labels) in breakdowns.items()}
        self.by_counts: dict[str, list[np.ndarray]] = {name: [] for name in self.by}
        self.by_expressed: dict[str, list[np.ndarray]] = {name: [] for name in self.by}
        self.protest: ProtestLayer | None = None
        self.participation: dict[str, list[np.ndarray]] = {"all": [], **{n: [] for n in
                                                                         self.by}}
        self.flows: BorderFlows | None = None
        self.flow_totals: list[dict[str, int]] = []

    def __call__(self, state: State) -> None:
        self.time.append(state.time)
        present = state.present
        self.counts.append(state.present_counts().copy())
        self.expressed.append(state.present_counts(expressed=True).copy())
        mask = present if present is not None else np.zeros(0, dtype=np.bool_)
        for name, (codes, labels) in self.by.items():
            priv = np.zeros((len(labels), self.k), dtype=np.int64)
            expr = np.zeros((len(labels), self.k), dtype=np.int64)
            _tally(codes, state.stance, state.expressed, mask, priv, expr)
            self.by_counts[name].append(priv)
            self.by_expressed[name].append(expr)
        if self.flows is not None:
            self.flow_totals.append({"present": state.n_present, **self.flows.totals()})
        if self.protest is not None:
            active = self.protest.active
            if present is not None:
                active = active & present
            self.participation["all"].append(np.array([active.sum()], dtype=np.int64))
            for name, (codes, labels) in self.by.items():
                self.participation[name].append(np.bincount(
                    codes[active], minlength=len(labels)).astype(np.int64))

    def trajectory(self, **kw: Any) -> Trajectory:
        return Trajectory(
            time=np.asarray(self.time, dtype=np.float64),
            counts=np.vstack(self.counts).astype(np.int64),
            expressed_counts=np.vstack(self.expressed).astype(np.int64),
            breakdowns={name: Breakdown(labels=labels,
                                        counts=np.stack(self.by_counts[name]),
                                        expressed_counts=np.stack(self.by_expressed[name]))
                        for name, (_, labels) in self.by.items()},
            participation=({k: np.vstack(v) for k, v in self.participation.items()}
                           if self.protest is not None else None),
            flows=({k: np.array([r[k] for r in self.flow_totals], dtype=np.int64)
                    for k in self.flow_totals[0]} if self.flow_totals else None),
            **kw,
        )


class Controls:
    """The parameters events may set or ramp during a run, addressed by path."""

    def __init__(self, model: Model, expression: ExpressionLayer | None = None,
                 media: Sequence[MediaChannel] = (), protest: ProtestLayer | None = None
                 ) -> None:
        self.model = model
        self.expression = expression
        self.media = {m.name: m for m in media}
        self.protest = protest

    def paths(self) -> list[str]:
        out = []
        if self.expression is not None:
            out += ["expression.enforcement", "expression.support_weight"]
        out += [f"media.{name}.strength" for name in self.media]
        if self.protest is not None:
            out.append("protest.permitted")
        out += [f"model.{p}" for p in type(self.model.params).model_fields]
        return out

    def _where(self, path: str) -> tuple[Any, str]:
        head, _, rest = path.partition(".")
        if head == "expression" and rest in ("enforcement", "support_weight") and (
                self.expression is not None):
            return self.expression, rest
        if head == "media":
            name, _, attr = rest.partition(".")
            if name in self.media and attr == "strength":
                return self.media[name], "strength"
        if head == "protest" and rest == "permitted" and self.protest is not None:
            return self.protest, "permitted"
        if head == "model" and rest in type(self.model.params).model_fields:
            return self.model, rest
        raise ParameterError("unknown event target", field=f"events.{path}",
                             allowed=", ".join(self.paths()), given=path)

    def get(self, path: str) -> Any:
        obj, attr = self._where(path)
        return getattr(obj.params, attr) if obj is self.model else getattr(obj, attr)

    def set(self, path: str, value: Any) -> None:
        obj, attr = self._where(path)
        if obj is self.model:
            self.model.update_params(**{attr: value})
            return
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ParameterError("must be a number >= 0", field=f"events.{path}",
                                 allowed=">= 0", given=value)
        setattr(obj, attr, float(value))


def apply_event(event: Event, model: Model, expression: ExpressionLayer | None,
                media: Sequence[MediaChannel] = ()) -> None:
    """Carry out the changes of ``event`` at once (ramps are handled by :func:`simulate`)."""
    controls = Controls(model, expression, media)
    for path, value in event.changes.items():
        controls.set(path, value)


class _Ramps:
    """Parameters moving linearly between two sweeps."""

    def __init__(self, controls: Controls) -> None:
        self.controls = controls
        self.active: list[tuple[str, float, float, float, float]] = []

    def start(self, event: Event) -> None:
        for path, target in event.changes.items():
            start = self.controls.get(path)
            if not isinstance(start, int | float) or isinstance(start, bool):
                raise ParameterError("only numbers can be ramped", field=f"events.{path}",
                                     given=start)
            self.active = [r for r in self.active if r[0] != path]
            self.active.append((path, float(start), float(target), float(event.at),
                                float(event.until)))

    def update(self, t: float) -> None:
        keep = []
        for path, a, b, t0, t1 in self.active:
            frac = min(1.0, max(0.0, (t - t0) / (t1 - t0)))
            value = a + (b - a) * frac
            model_int = (path.startswith("model.") and isinstance(self.controls.get(path), int))
            self.controls.set(path, round(value) if model_int else value)
            if frac < 1.0:
                keep.append((path, a, b, t0, t1))
        self.active = keep


def simulate(
    model: Model,
    network: Network,
    state: State,
    *,
    max_sweeps: float | None = None,
    stop_at_consensus: bool = True,
    record_every: int = 1,
    consensus_share: float = 1.0,
    expression: ExpressionLayer | None = None,
    media: Sequence[MediaChannel] = (),
    protest: ProtestLayer | None = None,
    events: Sequence[Event] = (),
    breakdowns: dict[str, tuple[np.ndarray, list[str]]] | None = None,
    observations: Sequence[tuple[int, Callable[[State], None]]] = (),
    progress: Callable[[float], None] | None = None,
    flows: BorderFlows | None = None,
) -> Trajectory:
    """Run ``model`` on ``network`` from ``state`` (modified in place) until a stop condition.

    Parameters
    ----------
    max_sweeps
        Stop after this many sweeps (None: no limit; then ``stop_at_consensus`` must be set).
    stop_at_consensus
        Stop the moment every agent holds the same stance (one of the model's consensus
        stances), or the model reports an absorbing state (:meth:`Model.is_frozen`).
    record_every
        Record the stance counts every this many sweeps (and at the start and the end).
    consensus_share
        Count as consensus a consensus stance held by at least this share of the agents
        (default 1: all of them). Below 1 it is checked at each record, so its time has the
        resolution of ``record_every``; full consensus is still detected exactly. Useful on
        networks with isolated agents, which never change.
    expression
        The preference-falsification layer, or None (everyone voices what they hold). While
        its enforcement is above zero the model runs one sweep at a time, agents read what
        others voice, and the expressed stances are re-evaluated after every sweep.
    media
        Media channels pulling exposed agents toward their stance once per sweep.
    protest
        Protest participation, updated once per sweep after expression.
    events
        Changes at given times (in sweeps), e.g. lifting the enforcement; with ``until``,
        linear ramps.
    breakdowns
        Agent attributes to record counts by: ``{name: (codes, labels)}`` with codes
        0 .. len(labels)-1 per agent. Default: the network's groups, if any.
    observations
        ``(sweep, callback)`` pairs: the callback sees the state when the run reaches that
        sweep (e.g. a poll). It must not change the state.
    progress
        Called with the current time after each chunk.
    flows
        Border flows: agents arriving and leaving at given sweeps (before that sweep's
        updates). Counts, consensus and breakdowns are then over the agents present, and
        kernels see only the ties among them (:mod:`steppe.population.flows`).
    """
    if max_sweeps is None and not stop_at_consensus:
        raise ParameterError("a run needs a stop condition: max_sweeps, consensus, or both",
                             field="stop")
    if not 0.5 < consensus_share <= 1.0:
        raise ParameterError("consensus share out of range", field="stop.consensus_share",
                             allowed="0.5 < share <= 1", given=consensus_share)
    if record_every < 1:
        raise ParameterError("record interval must be at least one sweep",
                             field="record.every", allowed=">= 1", given=record_every)
    limit = math.inf if max_sweeps is None else float(max_sweeps)
    pending = sorted(events, key=lambda e: e.at)
    controls = Controls(model, expression, media, protest)
    ramps = _Ramps(controls)

    def due_events() -> None:
        while pending and pending[0].at <= state.time + 1e-9:
            event = pending.pop(0)
            if event.until is not None and event.until > event.at:
                ramps.start(event)
            else:
                for path, value in event.changes.items():
                    controls.set(path, value)
        ramps.update(state.time)

    own = getattr(model, "own_expression", False)
    watch = sorted(observations, key=lambda o: o[0])

    def due_observations() -> None:
        while watch and watch[0][0] <= state.time + 1e-9:
            watch.pop(0)[1](state)

    if flows is not None:
        flows.start(state)
        flows.due(state)
        model.on_network_change(state, flows.active)
    net = network if flows is None else flows.active

    def due_flows() -> Network:
        if flows is not None and flows.due(state):
            model.on_network_change(state, flows.active)
            return flows.active
        return net

    due_events()
    if expression is not None:
        expression.start(state)
    record = _Recorder(model, default_breakdowns(network) if breakdowns is None
                       else breakdowns)
    record.protest = protest
    record.flows = flows
    if protest is not None:
        protest.update(state, net)
    record(state)
    due_observations()
    model.on_start(state, net, media)
    consensus = model.consensus_stance(state, consensus_share)
    consensus_time = state.time if consensus is not None else None
    absorbed = False
    while state.time < limit and not (stop_at_consensus and (consensus is not None
                                                             or absorbed)):
        due_events()
        net = due_flows()
        next_record = (math.floor(state.time / record_every + 1e-9) + 1) * record_every
        boundary = min(next_record, limit, pending[0].at if pending else math.inf,
                       watch[0][0] if watch else math.inf,
                       flows.next_time(state.time) if flows is not None else math.inf)
        chunk = max(1, math.ceil(boundary - state.time - 1e-9))
        hiding = expression is not None and expression.active
        if hiding or ramps.active or any(m.active for m in media) or protest is not None:
            for _ in range(chunk):  # one sweep at a time: pressures act between sweeps
                if hiding:
                    state.see_expressed()
                step = model.advance(state, net, 1, stop_at_consensus)
                if hiding:
                    state.see_private()
                for channel in media:
                    channel.apply(state)
                if expression is not None:
                    expression.update(state, net)
                if protest is not None:
                    protest.update(state, net)
                state.time += step
                if step < 1:
                    break
                ramps.update(state.time)
                hiding = expression is not None and expression.active
        else:
            dt = model.advance(state, net, chunk, stop_at_consensus)
            if expression is not None:
                expression.sync(state)
            state.time += dt
        net = due_flows()  # arrivals and departures of the sweep about to start count now
        consensus = model.consensus_stance(state, consensus_share)
        if consensus is not None and consensus_time is None:
            consensus_time = state.time
        elif consensus is None:
            consensus_time = None
        if consensus is None and stop_at_consensus:
            absorbed = model.is_frozen(state, net) and not (
                expression is not None and expression.active and expression.changed) and not (
                any(m.active for m in media) or ramps.active or protest is not None) and not (
                flows is not None and flows.next_time(state.time) < math.inf)
        at_record = abs(state.time / record_every - round(state.time / record_every)) < 1e-9
        stopping = state.time >= limit or (stop_at_consensus and (consensus is not None
                                                                  or absorbed))
        if at_record or stopping:
            record(state)
        due_observations()
        if progress is not None:
            progress(state.time)
    if not own and expression is None:
        state.see_private()
    return record.trajectory(consensus_stance=consensus, consensus_time=consensus_time,
                             final_time=state.time, absorbed=absorbed)
