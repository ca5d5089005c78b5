"""The time loop: the model's update, then each pressure at its point of the sweep, the
timeline setting their controls, observers between steps. It names no pressure.

One sweep is, in order: the border crossings and news due then (pressures' ``due``), the
model's update (``model.advance``; while a pressure asks for it, the model reads what agents
*voice*), then every pressure's ``apply`` in stage order (media, what agents voice, protest).
While every pressure is quiet and no ramp moves, the loop hands the model many sweeps at
once (up to the next record, event, observation or due act) and calls the pressures once
after them; the results are the same as one sweep at a time, only faster.

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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import ParameterError
from ..models.base import Model
from ..networks.base import Network
from ..observe.observables import (
    Breakdowns,
    Observable,
    Recorder,
    Recording,
    default_breakdowns,
    with_observables,
)
from ..pressures.base import Pressure, World
from ..state import State
from .timeline import Event, Timeline, model_controls

__all__ = ["Breakdown", "Observer", "Trajectory", "simulate"]


class Observer(Protocol):
    """Something that looks at the state at one sweep (a poll): ``at`` is the sweep,
    ``observe(state)`` must not change the state."""

    at: int

    def observe(self, state: State) -> None: ...


@dataclass
class Breakdown:
    """Counts of one breakdown attribute: ``labels`` in the order of the level axis, and
    int64 arrays ``(records, levels, stances)`` of private and expressed counts."""

    labels: list[str]
    counts: np.ndarray
    expressed_counts: np.ndarray


@dataclass
class Trajectory:
    """What one run recorded.

    Attributes
    ----------
    recording : Recording
        Every observable over the records (:mod:`steppe.observe.observables`).
    consensus_stance : int or None
        The stance code all agents (or ``consensus_share`` of them) hold at the end.
    consensus_time : float or None
        When consensus was first seen: exact (to one elementary update) when the run stops
        at consensus, otherwise the first record at which it held.
    final_time : float
        Time at the end of the run, in sweeps.
    absorbed : bool
        Whether the run ended in an absorbing state other than consensus.
    """

    recording: Recording
    consensus_stance: int | None
    consensus_time: float | None
    final_time: float
    absorbed: bool = False

    @property
    def time(self) -> np.ndarray:
        """float64 time of each record, in sweeps."""
        return self.recording.time

    @property
    def counts(self) -> np.ndarray:
        """int64 (records, stances): agents present privately holding each stance."""
        return self.recording.values["series", "count"][:, 0, :]

    @property
    def expressed_counts(self) -> np.ndarray:
        """int64 (records, stances): agents present voicing each stance."""
        return self.recording.values["series", "expressed_count"][:, 0, :]

    @property
    def breakdowns(self) -> dict[str, Breakdown]:
        """The same counts per level of each breakdown attribute."""
        levels = self.recording.levels
        priv = self.recording.values["series", "count"]
        expr = self.recording.values["series", "expressed_count"]
        out: dict[str, Breakdown] = {}
        for by, label in levels:
            if by == "all":
                continue
            out.setdefault(by, Breakdown([], np.zeros(0), np.zeros(0))).labels.append(label)
        for by, bd in out.items():
            idx = [i for i, (b, _) in enumerate(levels) if b == by]
            bd.counts = priv[:, idx, :]
            bd.expressed_counts = expr[:, idx, :]
        return out

    def values(self, table: str, name: str) -> np.ndarray:
        """One observable over the records."""
        return self.recording.values[table, name]


def model_observables(model: Model) -> list[Observable]:
    """The model's own quantities (:meth:`Model.quantities`) as observables of the table
    named after the model, one value per record."""
    return [Observable(name, model.name, "record",
                       lambda st, tally, f=f: f(st), description=text)
            for name, (f, text) in model.quantities().items()]


def simulate(
    model: Model,
    network: Network,
    state: State,
    *,
    max_sweeps: float | None = None,
    stop_at_consensus: bool = True,
    record_every: int = 1,
    consensus_share: float = 1.0,
    pressures: Sequence[Pressure] = (),
    events: Sequence[Event] | Timeline = (),
    observers: Iterable[Observer] = (),
    breakdowns: Breakdowns | Mapping[str, tuple[np.ndarray, Sequence[str]]] | None = None,
    observables: Sequence[Observable] | None = None,
    progress: Callable[[float], None] | None = None,
) -> Trajectory:
    """Run ``model`` on ``network`` from ``state`` (modified in place) until a stop condition.

    Parameters
    ----------
    max_sweeps
        Stop after this many sweeps (None: no limit; then ``stop_at_consensus`` must be set).
    stop_at_consensus
        Stop the moment every agent holds the same stance (one of the model's consensus
        stances), or the model reports an absorbing state (:meth:`Model.is_frozen`) and
        every pressure is settled.
    record_every
        Record the observables every this many sweeps (and at the start and the end).
    consensus_share
        Count as consensus a consensus stance held by at least this share of the agents
        (default 1: all of them). Below 1 it is checked at each record, so its time has the
        resolution of ``record_every``; full consensus is still detected exactly. Useful on
        networks with isolated agents, which never change.
    pressures
        Bound pressures (:mod:`steppe.pressures`): what agents dare to voice, media, news,
        protest, border flows. Each acts at its stage of every sweep.
    events
        Changes at given times (in sweeps), or a compiled :class:`Timeline` over the
        controls of the model and the pressures.
    observers
        Called (``observe(state)``) when the run reaches their sweep ``at``, e.g. polls.
    breakdowns
        Agent attributes to record counts by (``{name: (codes, labels)}``). Default: the
        network's attributes or groups.
    observables
        What to record (default: the registered observables and the pressures' own).
    progress
        Called with the current time after each chunk.

    Returns
    -------
    Trajectory
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
    pressures = sorted(pressures, key=lambda p: p.stage)
    timeline = events if isinstance(events, Timeline) else Timeline(
        events, [*model_controls(model), *(c for p in pressures for c in p.controls())])
    watch = sorted(observers, key=lambda o: o.at)
    world = World(network)

    def due_observations() -> None:
        while watch and watch[0].at <= state.time + 1e-9:
            watch.pop(0).observe(state)

    def due_acts(tell_model: bool = True) -> Network:
        before = world.active
        for p in pressures:
            p.due(state, world)
        if tell_model and world.active is not before:
            model.on_network_change(state, world.active)
        return world.active

    def next_act(t: float) -> float:
        return min((p.next_time(t) for p in pressures), default=math.inf)

    for p in pressures:
        p.prepare(state, world)
    due_acts(tell_model=False)
    if world.active is not network:  # absent agents: the model sees the ties in force
        model.on_network_change(state, world.active)
    timeline.apply(state.time)
    for p in pressures:
        p.start(state, world)
    if observables is None:
        observables = with_observables([*model_observables(model),
                                         *(o for p in pressures for o in p.observables())])
    if breakdowns is None:
        breakdowns = default_breakdowns(network)
    elif not isinstance(breakdowns, Breakdowns):
        breakdowns = Breakdowns(dict(breakdowns))
    labels = (*model.stances, *(a for p in pressures for a in p.extra_answers()))
    record = Recorder(observables, breakdowns, k=len(labels), labels=labels)
    record.record(state, state.time)
    due_observations()
    net = world.active
    model.on_start(state, net, [pl for p in pressures if (pl := p.pull()) is not None])
    consensus = model.consensus_stance(state, consensus_share)
    consensus_time = state.time if consensus is not None else None
    absorbed = False
    while state.time < limit and not (stop_at_consensus and (consensus is not None
                                                             or absorbed)):
        timeline.apply(state.time)
        net = due_acts()
        next_record = (math.floor(state.time / record_every + 1e-9) + 1) * record_every
        boundary = min(next_record, limit, timeline.next_event(state.time),
                       watch[0].at if watch else math.inf, next_act(state.time))
        chunk = max(1, math.ceil(boundary - state.time - 1e-9))
        hiding = any(p.voice_view for p in pressures)
        if hiding or timeline.ramping or not all(p.quiet for p in pressures):
            for _ in range(chunk):  # one sweep at a time: pressures act between sweeps
                if hiding:
                    state.see_expressed()
                step = model.advance(state, net, 1, stop_at_consensus)
                if hiding:
                    state.see_private()
                for p in pressures:
                    p.apply(state, world)
                state.time += step
                if step < 1:
                    break
                timeline.update(state.time)
                hiding = any(p.voice_view for p in pressures)
        else:
            dt = model.advance(state, net, chunk, stop_at_consensus)
            for p in pressures:
                p.apply(state, world)
            state.time += dt
        net = due_acts()  # arrivals and departures of the sweep about to start count now
        consensus = model.consensus_stance(state, consensus_share)
        if consensus is not None and consensus_time is None:
            consensus_time = state.time
        elif consensus is None:
            consensus_time = None
        if consensus is None and stop_at_consensus:
            absorbed = (model.is_frozen(state, net) and not timeline.ramping
                        and all(p.settled(state) for p in pressures))
        at_record = abs(state.time / record_every - round(state.time / record_every)) < 1e-9
        stopping = state.time >= limit or (stop_at_consensus and (consensus is not None
                                                                  or absorbed))
        if at_record or stopping:
            record.record(state, state.time)
        due_observations()
        if progress is not None:
            progress(state.time)
    return Trajectory(recording=record.recording(), consensus_stance=consensus,
                      consensus_time=consensus_time, final_time=state.time,
                      absorbed=absorbed)
