"""The timeline: events compiled once into schedules over the controls of the model and the
pressures; carried out sweep by sweep exactly as compiled."""

from __future__ import annotations

import pytest

from steppe.engine.timeline import Event, Timeline, model_controls
from steppe.errors import ParameterError
from steppe.models import get_model
from steppe.pressures.base import Control, number_control


class Knob:
    def __init__(self) -> None:
        self.level = 1.0
        self.rate = 5.0


def _timeline(events, live_rate=True):
    m = get_model("qvoter")(p=0.0, q=3)
    k = Knob()
    controls = [*model_controls(m), number_control(k, "level", "x.level"),
                number_control(k, "rate", "x.rate", live=live_rate)]
    return m, k, Timeline(events, controls)


def test_set_then_ramp_then_set_compile_to_one_schedule():
    _, k, tl = _timeline([Event(at=2, changes={"x.level": 3.0}),
                          Event(at=4, until=8, changes={"x.level": 1.0}),
                          Event(at=10, changes={"x.level": 0.0})])
    want = [1.0, 1.0, 3.0, 3.0, 3.0, 2.5, 2.0, 1.5, 1.0, 1.0, 0.0, 0.0]
    assert [tl.value("x.level", t) for t in range(12)] == want
    seen = []
    for t in range(12):  # carried out as compiled
        tl.apply(float(t))
        seen.append(k.level)
    assert seen == want


def test_a_ramp_starts_from_where_an_earlier_ramp_has_got_to():
    _, _, tl = _timeline([Event(at=0, until=10, changes={"x.level": 11.0}),
                          Event(at=5, until=7, changes={"x.level": 0.0})])
    assert tl.value("x.level", 5) == 6.0  # the first ramp's value at 5
    assert tl.value("x.level", 6) == 3.0 and tl.value("x.level", 9) == 0.0


def test_an_event_ends_a_ramp_in_progress():
    _, k, tl = _timeline([Event(at=0, until=10, changes={"x.level": 11.0}),
                          Event(at=4, changes={"x.level": 2.0})])
    for t in range(12):
        tl.apply(float(t))
    assert k.level == 2.0 and not tl.ramping


def test_integer_model_parameters_ramp_in_whole_numbers():
    m, _, tl = _timeline([Event(at=0, until=4, changes={"model.q": 7})])
    qs = []
    for t in range(5):
        tl.apply(float(t))
        qs.append(m.params.q)
    assert qs == [3, 4, 5, 6, 7]


def test_non_live_controls_set_no_boundary_and_no_ramp():
    """A control read up front (a flow rate) makes the loop neither stop nor step."""
    _, _, tl = _timeline([Event(at=3, until=9, changes={"x.rate": 0.0})], live_rate=False)
    assert tl.next_event(0.0) == float("inf")
    tl.apply(4.0)
    assert not tl.ramping
    assert tl.value("x.rate", 6) == pytest.approx(5.0 * 0.5)
    _, _, live = _timeline([Event(at=3, until=9, changes={"x.rate": 0.0})])
    assert live.next_event(0.0) == 3.0


@pytest.mark.parametrize(("event", "match"), [
    (Event(at=1, changes={"x.nope": 1.0}), r"unknown event target.*x\.level"),
    (Event(at=1, changes={"x.level": -2.0}), r"events\.set\.x\.level: must be a number >= 0"),
    (Event(at=1, changes={"model.q": 0}), r"events\.set\.model\.q"),
    (Event(at=5, until=5, changes={"x.level": 2.0}), "ramp must end after"),
    (Event(at=1, until=3, changes={"model.nonconformity": "anticonformity"}),
     "only numbers can be ramped"),
])
def test_bad_events_are_refused_when_compiled(event, match):
    with pytest.raises(ParameterError, match=match):
        _timeline([event])


def test_allowed_targets_are_the_controls():
    _, _, tl = _timeline([])
    assert tl.paths == ["model.q", "model.p", "model.nonconformity", "model.repetition",
                        "x.level", "x.rate"]
    assert isinstance(tl.controls["x.level"], Control)
