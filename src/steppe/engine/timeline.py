"""One timeline: the scenario's events compiled once into schedules over the controls of the
model and of every pressure.

An :class:`Event` sets each of its paths at sweep ``at``, or, with ``until``, ramps each
path linearly from its value at ``at`` to the new value at ``until``, one step per sweep:
the value at sweep ``t`` is ``a + (b - a) * min(1, (t - at) / (until - at))``. The paths are
the controls (:class:`steppe.pressures.base.Control`): ``model.<parameter>`` for every
parameter of the model, and whatever each pressure names (``expression.enforcement``,
``media.<channel>.strength``, ``protest.permitted``, ``flows.<flow>.rate``…). The allowed
event targets are exactly these paths; every value is checked when the timeline is
compiled, before anything runs.

Events on one path take effect in time order; an event ends a ramp still in progress on
the same path (the value then continues from where the ramp was). :meth:`Timeline.value`
gives the compiled value of a path at any sweep, so a pressure can read a whole schedule up
front (a flow rate becomes arrivals per sweep); :meth:`Timeline.apply` carries the
schedules out during a run.

Examples
--------
>>> from steppe.models import get_model
>>> m = get_model("qvoter")(p=0.0)
>>> tl = Timeline([Event(at=2, until=4, changes={"model.p": 0.2})], model_controls(m))
>>> [round(tl.value("model.p", t), 3) for t in range(6)]
[0.0, 0.0, 0.0, 0.1, 0.2, 0.2]
>>> tl.apply(3.0); m.params.p
0.1
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ParameterError
from ..models.base import Model
from ..pressures.base import Control

__all__ = ["Event", "Timeline", "model_controls"]


@dataclass(frozen=True)
class Event:
    """A change at a given time: at sweep ``at`` each ``path = value`` in ``changes`` is set;
    with ``until``, each path instead moves linearly from its value at ``at`` to ``value`` at
    sweep ``until`` (a ramp), one step per sweep.

    Examples
    --------
    >>> Event(at=10, changes={"expression.enforcement": 0.0}).at
    10
    >>> Event(at=10, until=20, changes={"media.tv.strength": 0.4}).until
    20
    """

    at: int
    changes: Mapping[str, Any]
    until: int | None = None
    #: where the event came from, for messages (e.g. "events.2")
    where: str = "events"

    @property
    def ramp(self) -> bool:
        return self.until is not None and self.until > self.at


def model_controls(model: Model) -> list[Control]:
    """A control ``model.<parameter>`` for every parameter of ``model`` (set through
    :meth:`~steppe.models.base.Model.update_params`, so validated as the constructor's)."""
    out = []
    for name in type(model.params).model_fields:
        def set_(value: Any, name: str = name) -> None:
            model.update_params(**{name: value})

        def check(value: Any, name: str = name) -> Any:
            return model._validate({**model.params.model_dump(), name: value})

        current = getattr(model.params, name)
        out.append(Control(path=f"model.{name}", get=lambda n=name: getattr(model.params, n),
                           set=set_, check=check,
                           integer=isinstance(current, int) and not isinstance(current, bool)))
    return out


@dataclass(frozen=True)
class _Segment:
    """One event on one path: from ``t0`` the value moves from ``a`` to ``b`` by ``t1``
    (``t1 == t0``: set at once)."""

    path: str
    t0: int
    t1: int
    a: Any
    b: Any
    order: int

    def value(self, t: float) -> Any:
        if self.t1 <= self.t0:
            return self.b
        frac = min(1.0, max(0.0, (t - self.t0) / (self.t1 - self.t0)))
        return self.a + (self.b - self.a) * frac


class Timeline:
    """The events of a run compiled over its controls (see the module docstring).

    Parameters
    ----------
    events
        The events, in sweeps.
    controls
        Every control of the run.

    Raises
    ------
    ParameterError
        An unknown target (the message lists the allowed ones), a value a control refuses,
        a ramp of something that is not a number, or a ramp that ends before it starts.
    """

    def __init__(self, events: Iterable[Event], controls: Iterable[Control]) -> None:
        self.controls: dict[str, Control] = {c.path: c for c in controls}
        evs = sorted(events, key=lambda e: e.at)
        segments: list[_Segment] = []
        last: dict[str, _Segment] = {}
        initial = {p: c.get() for p, c in self.controls.items()}
        for order, ev in enumerate(evs):
            if ev.until is not None and ev.until <= ev.at:
                raise ParameterError("a ramp must end after it starts",
                                     field=f"{ev.where}.until", allowed=f"> {ev.at}",
                                     given=ev.until)
            for path, value in ev.changes.items():
                c = self.controls.get(path)
                if c is None:
                    raise ParameterError("unknown event target", field=f"{ev.where}.set.{path}",
                                         allowed=", ".join(self.controls), given=path)
                try:
                    c.check(value)
                except ParameterError as exc:
                    raise ParameterError(exc.message, field=f"{ev.where}.set.{path}",
                                         allowed=exc.allowed, given=exc.given) from None
                if ev.ramp:
                    # the value at `at`: where an earlier event (or ramp) left it
                    prev = last.get(path)
                    start = initial[path] if prev is None else prev.value(ev.at)
                    if prev is not None and prev.t1 > prev.t0 and c.integer:
                        start = round(start)
                    for v in (start, value):
                        if not isinstance(v, int | float) or isinstance(v, bool):
                            raise ParameterError("only numbers can be ramped",
                                                 field=f"{ev.where}.set.{path}", given=v)
                    seg = _Segment(path, ev.at, int(ev.until), float(start), float(value),
                                   order)
                else:
                    seg = _Segment(path, ev.at, ev.at, value, value, order)
                last[path] = seg
                segments.append(seg)
        self.segments = segments
        self._initial = initial
        self._pending = list(segments)
        self._active: dict[str, _Segment] = {}

    # -- compiled values -----------------------------------------------------------------
    @property
    def paths(self) -> list[str]:
        """Every allowed event target."""
        return list(self.controls)

    def value(self, path: str, t: float) -> Any:
        """The value the timeline gives ``path`` at sweep ``t``."""
        v = self._initial[path]
        for seg in self.segments:
            if seg.path == path and seg.t0 <= t:
                v = seg.value(t)
        return v

    def values(self, path: str, sweeps: int) -> list[Any]:
        """:meth:`value` at sweeps ``0 .. sweeps - 1``."""
        return [self.value(path, t) for t in range(sweeps)]

    # -- carrying it out -----------------------------------------------------------------
    def _set(self, seg: _Segment, t: float) -> None:
        c = self.controls[seg.path]
        v = seg.value(t)
        c.set(round(v) if c.integer and seg.t1 > seg.t0 else v)

    def apply(self, t: float) -> None:
        """Carry out every event due by sweep ``t`` and move the ramps in progress to their
        value at ``t``."""
        while self._pending and self._pending[0].t0 <= t + 1e-9:
            seg = self._pending.pop(0)
            self._active.pop(seg.path, None)
            if seg.t1 > seg.t0:
                self._active[seg.path] = seg
            else:
                self._set(seg, t)
        self.update(t)

    def update(self, t: float) -> None:
        """Move the ramps in progress to their value at ``t`` (a ramp ends at its end)."""
        for path, seg in list(self._active.items()):
            self._set(seg, t)
            if t >= seg.t1:
                del self._active[path]

    @property
    def ramping(self) -> bool:
        """Whether a ramp of a live control is in progress."""
        return any(self.controls[p].live for p in self._active)

    def next_event(self, t: float) -> float:
        """The sweep of the next event on a live control after ``t`` (inf: none)."""
        for seg in self._pending:
            if seg.t0 > t + 1e-9 and self.controls[seg.path].live:
                return float(seg.t0)
        return math.inf


def events_changing(events: Sequence[Event], prefix: str) -> list[str]:
    """Paths starting with ``prefix`` that some event changes (for messages)."""
    return sorted({p for e in events for p in e.changes if p.startswith(prefix)})
