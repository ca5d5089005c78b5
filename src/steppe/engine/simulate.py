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
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from ..models.base import Model, State
from ..networks.base import Network

__all__ = ["Trajectory", "simulate"]


@dataclass
class Trajectory:
    """What one run recorded.

    Attributes
    ----------
    time : numpy.ndarray
        float64 time of each record, in sweeps.
    counts : numpy.ndarray
        int64 array (records, stances): agents per stance at each record.
    consensus_stance : int or None
        The stance code all agents share at the end, if they do.
    consensus_time : float or None
        When consensus was first seen: exact (to one elementary update) when the run stops
        at consensus, otherwise the first record at which it held.
    final_time : float
        Time at the end of the run, in sweeps.
    """

    time: np.ndarray
    counts: np.ndarray
    consensus_stance: int | None
    consensus_time: float | None
    final_time: float


def simulate(
    model: Model,
    network: Network,
    state: State,
    *,
    max_sweeps: float | None = None,
    stop_at_consensus: bool = True,
    record_every: int = 1,
    consensus_share: float = 1.0,
    progress: Callable[[float], None] | None = None,
) -> Trajectory:
    """Run ``model`` on ``network`` from ``state`` (modified in place) until a stop condition.

    Parameters
    ----------
    max_sweeps
        Stop after this many sweeps (None: no limit; then ``stop_at_consensus`` must be set).
    stop_at_consensus
        Stop the moment every agent holds the same stance (one of the model's consensus
        stances).
    record_every
        Record the stance counts every this many sweeps (and at the start and the end).
    consensus_share
        Count as consensus a consensus stance held by at least this share of the agents
        (default 1: all of them). Below 1 it is checked at each record, so its time has the
        resolution of ``record_every``; full consensus is still detected exactly. Useful on
        networks with isolated agents, which never change.
    progress
        Called with the current time after each chunk.
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
    times = [state.time]
    counts = [state.counts.copy()]
    consensus = model.consensus_stance(state, consensus_share)
    consensus_time = state.time if consensus is not None else None
    while state.time < limit and not (stop_at_consensus and consensus is not None):
        chunk = record_every if limit == math.inf else int(
            min(record_every, math.ceil(limit - state.time)))
        dt = model.advance(state, network, chunk, stop_at_consensus)
        state.time += dt
        times.append(state.time)
        counts.append(state.counts.copy())
        consensus = model.consensus_stance(state, consensus_share)
        if consensus is not None and consensus_time is None:
            consensus_time = state.time
        elif consensus is None:
            consensus_time = None
        if progress is not None:
            progress(state.time)
    return Trajectory(
        time=np.asarray(times, dtype=np.float64),
        counts=np.vstack(counts).astype(np.int64),
        consensus_stance=consensus,
        consensus_time=consensus_time,
        final_time=state.time,
    )
