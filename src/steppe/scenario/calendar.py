"""Dates and sweeps: the one place where a scenario's calendar turns dates into sweeps and
sweeps back into dates.

A scenario with a ``[time]`` table says what one step is in real time (a day or a week) and
how many sweeps of social influence it holds. Time 0 is the morning of ``time.start``; a
date ``d`` begins at sweep ``sweeps_per_step x floor((d - start) / days_per_step)``: an
event, poll, flow or news shock dated ``d`` acts from the start of that step. A record at
time ``t`` (in sweeps) describes the morning of the step it falls in; the last record is
the morning of ``time.end``. Without a calendar, times are sweep numbers.

Examples
--------
>>> import datetime as dt
>>> from steppe.scenario.schema import TimeSpec
>>> cal = Calendar(TimeSpec(start=dt.date(2022, 3, 1), end=dt.date(2022, 3, 29), step="week"))
>>> cal.sweep_of(dt.date(2022, 3, 15)), cal.length
(2, 4.0)
>>> str(cal.dates(np.array([0.0, 2.0]))[1])
'2022-03-15'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from .schema import TimeSpec

__all__ = ["Calendar"]


@dataclass(frozen=True)
class Calendar:
    """A scenario's calendar (``time`` None: none, times are sweep numbers)."""

    time: TimeSpec | None

    def sweep_of(self, when: int | dt.date, field: str = "at") -> int:
        """A time given as a sweep number or a date, in sweeps.

        Raises
        ------
        ParameterError
            A date without a calendar, or before its start (``field`` names where).
        """
        if isinstance(when, dt.date):
            t = self.time
            if t is None:
                raise ParameterError("a date needs a [time] calendar (or give a sweep number)",
                                     field=field, given=str(when))
            if when < t.start:
                raise ParameterError("date before the start of the calendar", field=field,
                                     allowed=f">= {t.start}", given=str(when))
            steps = (when - t.start).days // t.days_per_step()
            return steps * t.sweeps_per_step
        return int(when)

    @property
    def length(self) -> float | None:
        """The sweeps up to ``time.end`` (None without an end)."""
        t = self.time
        if t is None or t.end is None:
            return None
        return float(self.sweep_of(t.end))

    @property
    def days_per_sweep(self) -> float:
        """Days one sweep stands for (1 without a calendar: rates are then per sweep)."""
        t = self.time
        return 1.0 if t is None else t.days_per_step() / t.sweeps_per_step

    @property
    def step_fraction(self) -> float:
        """h: the share of ``time.rates_per`` one sweep stands for; the layers act by that
        fraction of their written rates (1 without a calendar or ``rates_per``)."""
        return 1.0 if self.time is None else self.time.step_fraction()

    def dates(self, times: np.ndarray) -> np.ndarray | None:
        """Calendar dates (datetime64[D]) of times in sweeps, or None without a calendar:
        the day whose morning each time describes."""
        t = self.time
        if t is None:
            return None
        steps = np.floor(np.asarray(times) / t.sweeps_per_step + 1e-9).astype(np.int64)
        return np.datetime64(t.start, "D") + steps * t.days_per_step()
