"""One-at-a-time sensitivity over a scenario's [[assumptions]]: the runs, common random
numbers, the markdown section, the command line and the report."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from steppe import load_scenario
from steppe.errors import ScenarioError
from steppe.experiments.sensitivity import SENSITIVITY_DIR, sensitivity, swings
from steppe.experiments.store import SweepStore
from steppe.report.sensitivity import sensitivity_markdown

SCENARIO = """
name = "sens"
seed = 4
runs = 3
[network]
kind = "erdos_renyi"
n = 400
mean_degree = 6
[model]
name = "qvoter"
q = 2
p = 0.05
[initial]
shares = { A = 0.3, B = 0.7 }
[committed]
stance = "A"
fraction = 0.1
[stop]
max_sweeps = 30
at_consensus = false

[[assumptions]]
name = "committed share"
path = "committed.fraction"
low = 0.0
high = 0.4

[[assumptions]]
name = "independence (range of one value)"
path = "model.p"
low = 0.05
high = 0.05

[[assumptions]]
name = "network structure"
note = "not one number"
"""


@pytest.fixture
def scenario_file(tmp_path):
    path = tmp_path / "sens.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def test_sensitivity_runs_both_ends_with_common_random_numbers(scenario_file, tmp_path):
    frame = sensitivity(scenario_file, runs=2, out=tmp_path / "out")
    assert (tmp_path / "out" / "sensitivity.parquet").is_file()
    assert set(frame["end"]) == {"base", "low", "high"}
    sw = swings(frame).set_index(["outcome", "assumption"])
    # more committed agents, more A at the end
    assert sw.loc[("final private share of A", "committed share"), "swing"] > 0.2
    # a range of one value reruns the baseline's draws exactly: no swing at all
    assert sw.loc[("final private share of A", "independence (range of one value)"),
                  "swing"] == 0.0
    md = sensitivity_markdown(frame, unvaried=[("network structure", "not one number")])
    assert "Depends on: committed share" in md
    assert "Robust to: independence (range of one value)" in md
    assert "- network structure: not one number" in md


def test_settings_run_as_one_resumable_sweep_whatever_the_workers(scenario_file, tmp_path):
    """The settings are points of one sweep folder: two worker processes give the same
    table as this process, and a second call finds every run done and runs nothing."""
    one = sensitivity(scenario_file, runs=2, out=tmp_path / "a", workers=1)
    two = sensitivity(scenario_file, runs=2, out=tmp_path / "b", workers=2)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    store = SweepStore(tmp_path / "b" / SENSITIVITY_DIR)
    assert len(store.finished()) == 2 * 4  # baseline, committed low/high, p (one value)
    stamp = {p: p.stat().st_mtime_ns for p in (tmp_path / "b" / SENSITIVITY_DIR).rglob(
        "run-*.parquet")}
    again = sensitivity(scenario_file, runs=2, out=tmp_path / "b", workers=2)
    pd.testing.assert_frame_equal(one, again, check_exact=True)
    assert {p: p.stat().st_mtime_ns for p in stamp} == stamp  # nothing was rerun


def test_sensitivity_needs_assumptions(tmp_path):
    path = tmp_path / "none.toml"
    path.write_text(SCENARIO.split("[[assumptions]]")[0], encoding="utf-8")
    with pytest.raises(ScenarioError, match="no assumption to vary"):
        sensitivity(path, runs=1)


def test_bad_assumption_paths_and_ranges_name_their_field(tmp_path):
    bad = SCENARIO.replace('path = "committed.fraction"', 'path = "committed.fractio"')
    path = tmp_path / "bad.toml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.field == "assumptions.0.path"
    bad = SCENARIO.replace("high = 0.4", "high = 1.4")
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.field == "assumptions.0.high"


def test_command_line_and_report(scenario_file, tmp_path):
    out = tmp_path / "res"
    run = [sys.executable, "-m", "steppe"]
    r = subprocess.run([*run, "run", str(scenario_file), "--out", str(out), "-q"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([*run, "sensitivity", str(scenario_file), "--out", str(out),
                        "--runs", "2", "-q"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Depends on: committed share" in r.stdout
    r = subprocess.run([*run, "report", str(out)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    md = (out / "report" / "summary.md").read_text(encoding="utf-8")
    assert "## Which conclusions depend on which assumptions" in md
    assert (out / "report" / "sensitivity.png").is_file()
    none = tmp_path / "none.toml"
    none.write_text(SCENARIO.split("[[assumptions]]")[0], encoding="utf-8")
    r = subprocess.run([*run, "sensitivity", str(none), "-q"], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 2 and "no assumption to vary" in r.stderr
    assert "Traceback" not in r.stderr
