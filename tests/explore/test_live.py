"""The live scenario without a browser: settings from [[assumptions]], overrides, runs,
cancellation."""

from __future__ import annotations

from pathlib import Path

import pytest

from steppe.errors import ParameterError, ScenarioError
from steppe.explore.live import Cancelled, LiveScenario

from .conftest import POLLS, TINY


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> LiveScenario:
    d = tmp_path_factory.mktemp("live")
    (d / "tiny.toml").write_text(TINY)
    (d / "polls.csv").write_text(POLLS)
    return LiveScenario(d / "tiny.toml")


def test_settings_come_from_the_assumptions(live):
    assert [(s.name, s.path, s.low, s.high, s.value) for s in live.settings] == [
        ("cost of voicing A", "expression.enforcement", 0.0, 2.0, 0.8),
        ("initial share of A", "initial.shares.A", 0.1, 0.6, 0.3)]
    assert live.settings[1].prior.startswith("beta(")
    assert live.unvaried == [("how the crowd was sampled", "not one number")]
    assert live.focus == "A" and live.dated
    assert list(live.observed["estimate"]) == [0.12, 0.18]


def test_a_setting_changes_the_run_and_the_seed_does_not(live):
    seen = []
    low = live.run({"initial.shares.A": 0.1}, runs=2, on_update=lambda r: seen.append(r.runs))
    high = live.run({"initial.shares.A": 0.6}, runs=2)
    same = live.run({"initial.shares.A": 0.6}, runs=2)
    assert seen == [1, 2]

    def first(res):
        s = res.series
        return float(s[(s["stance"] == "A") & (s["by"] == "all") & (s["run"] == 0)]
                     ["share"].iloc[0])

    assert first(low) == pytest.approx(0.1, abs=0.03)
    assert first(high) == pytest.approx(0.6, abs=0.03)
    assert high.series.equals(same.series)  # the same settings, the same runs


def test_bad_settings_are_refused(live):
    with pytest.raises(ParameterError, match="outside the assumption's range"):
        live.overrides({"initial.shares.A": 0.9})
    with pytest.raises(ParameterError, match="not an assumption"):
        live.overrides({"model.q": 2})


def test_a_newer_request_cancels_the_run(live):
    with pytest.raises(Cancelled):
        live.run({}, runs=3, cancelled=lambda: True)


def test_a_scenario_that_does_not_validate_is_refused(tmp_path: Path):
    (tmp_path / "bad.toml").write_text("name = 'x'\nseed = 1\n[model]\nname = 'nope'\n")
    with pytest.raises(ScenarioError, match=r"bad\.toml"):
        LiveScenario(tmp_path / "bad.toml")
