"""Global sensitivity analysis (Morris, Sobol) over a scenario's [[assumptions]]: a known
case, the noise floor, determinism and resume, workers, the posterior mapping, the command
line and the report. A tiny scenario (200 agents, 10 sweeps) keeps each run a few ms."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("SALib")

from steppe.errors import ParameterError, ScenarioError, SteppeError
from steppe.experiments.gsa import (
    DUMMY,
    MORRIS_COLUMNS,
    SOBOL_COLUMNS,
    Marginal,
    factors,
    gsa_name,
    morris,
    sobol,
    verdicts,
)
from steppe.experiments.store import SweepStore
from steppe.scenario import read_scenario

SCENARIO = """
name = "gsa"
seed = 11
runs = 1
[network]
kind = "complete"
n = 200
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
max_sweeps = 10
at_consensus = false

[[polls]]
at = 10
n = 200
name = "end"

[[assumptions]]
name = "committed share"
path = "committed.fraction"
low = 0.0
high = 0.4

[[assumptions]]
name = "poll size"
path = "polls.0.n"
low = 50
high = 150

[[assumptions]]
name = "not varied (one value)"
path = "model.p"
low = 0.05
high = 0.05

[[readings]]
name = "open"

[[readings]]
name = "fixed"
fix = { "committed.fraction" = 0.2 }
"""

PRIVATE = "final private share of A"
POLL = "poll end: A"


@pytest.fixture
def scenario_file(tmp_path):
    path = tmp_path / "gsa.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def _row(frame: pd.DataFrame, outcome: str, assumption: str) -> pd.Series:
    return frame[(frame["outcome"] == outcome)
                 & (frame["assumption"] == assumption)].iloc[0]


def test_morris_known_case_and_noise_floor(scenario_file, tmp_path):
    """The poll's size cannot change the private share (its draws are the poll's own), so
    under common random numbers its elementary effects are exactly zero, below the dummy's
    noise floor; the committed share moves it far more than the noise."""
    out = tmp_path / "out"
    frame = morris(scenario_file, trajectories=6, out=out)
    assert frame.columns.tolist() == MORRIS_COLUMNS
    assert (out / "gsa-morris-prior.parquet").is_file()
    stored = pd.read_parquet(out / "gsa-morris-prior.parquet")
    pd.testing.assert_frame_equal(stored, frame)
    # 2 varied assumptions (the one of one value is not) and the dummy, per outcome
    assert set(frame["assumption"]) == {"committed share", "poll size", DUMMY}
    assert {PRIVATE, POLL} <= set(frame["outcome"])
    # 6 trajectories of k + 2 = 4 points, one run each
    assert len(SweepStore(out / gsa_name("morris", "prior")).finished()) == 6 * 4
    floor = _row(frame, PRIVATE, DUMMY)
    assert pd.isna(floor["path"]) and floor["mu_star"] > 0  # run-to-run noise exists
    size = _row(frame, PRIVATE, "poll size")
    assert size["mu_star"] == 0.0 and size["sigma"] == 0.0
    committed = _row(frame, PRIVATE, "committed share")
    assert committed["mu"] > 0.2  # more committed agents, more A
    assert committed["mu_star"] > 5 * floor["mu_star"]
    v = verdicts(frame).set_index(["outcome", "assumption"])["verdict"]
    assert v[(PRIVATE, "committed share")] == "depends"
    assert v[(PRIVATE, "poll size")] == "noise"
    assert v[(PRIVATE, DUMMY)] == "floor"


def test_sobol_known_case(scenario_file, tmp_path):
    frame = sobol(scenario_file, base_samples=16, out=tmp_path / "out")
    assert frame.columns.tolist() == SOBOL_COLUMNS
    assert (tmp_path / "out" / "gsa-sobol-prior.parquet").is_file()
    # N (k + 3) runs: 16 x 5, each with its own seed
    store = SweepStore(tmp_path / "out" / gsa_name("sobol", "prior"))
    assert len(store.finished()) == 16 * 5
    seeds = pd.read_parquet(store.root / "points.parquet")["seed"]
    assert seeds.is_unique
    committed = _row(frame, PRIVATE, "committed share")
    size = _row(frame, PRIVATE, "poll size")
    floor = _row(frame, PRIVATE, DUMMY)
    assert committed["ST"] > 0.6 and committed["S1"] > 0.4
    assert np.isfinite(committed["ST_conf"]) and committed["ST_conf"] > 0
    # the irrelevant assumption's ST is the noise's share, like the dummy's, far below
    assert size["ST"] < 0.2 and floor["ST"] < 0.2
    v = verdicts(frame).set_index(["outcome", "assumption"])["verdict"]
    assert v[(PRIVATE, "committed share")] == "depends"
    assert v[(PRIVATE, "poll size")] != "depends"


def test_same_seed_same_table_whatever_the_workers_and_resume(scenario_file, tmp_path):
    one = morris(scenario_file, trajectories=3, out=tmp_path / "a", workers=1)
    two = morris(scenario_file, trajectories=3, out=tmp_path / "b", workers=2)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    # every point of a trajectory has the trajectory's seed, but the dummy's step
    folder = tmp_path / "b" / gsa_name("morris", "prior")
    assert pd.read_parquet(folder / "points.parquet")["seed"].nunique() <= 3 * 2
    # delete some runs: running again reruns those only and gives the same table
    files = sorted(folder.glob("*/point-0000[2-4]/run-00000.parquet"))
    assert files
    for f in files:
        f.unlink()
    kept = {p: p.stat().st_mtime_ns for p in folder.glob("runs/point-*/run-*.parquet")}
    again = morris(scenario_file, trajectories=3, out=tmp_path / "b", workers=1)
    pd.testing.assert_frame_equal(one, again, check_exact=True)
    assert all(f.is_file() for f in files)
    assert {p: p.stat().st_mtime_ns for p in kept} == kept  # the others were not rerun
    other = morris(scenario_file, trajectories=3, seed=12, out=tmp_path / "c")
    assert not other["mu_star"].equals(one["mu_star"])


def test_posterior_mapping(scenario_file, tmp_path):
    # a weighted inverse CDF: 90% of the weight on particles near 0.2, 10% spread over
    # 0 - 1: nine quantiles in ten land near 0.2, none beyond the particles
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(0.19, 0.21, 100), rng.uniform(0, 1, 100), [np.nan]])
    w = np.concatenate([np.full(100, 0.009), np.full(100, 0.001), [0.5]])
    m = Marginal.from_posterior(pd.DataFrame({"x": x, "weight": w}), "x")
    q = m.quantile(np.linspace(0, 1, 201))
    assert q.min() == np.nanmin(x) and q.max() == np.nanmax(x)
    assert 0.85 < np.mean(np.abs(q - 0.2) < 0.02) < 0.95
    # a posterior concentrated in 0.20 - 0.22 gives samples only there; the poll size,
    # absent from it, keeps its prior range
    post = pd.DataFrame({"committed.fraction": rng.uniform(0.20, 0.22, 40),
                         "weight": np.full(40, 1 / 40)})
    frame = morris(scenario_file, trajectories=4, posterior=post, out=tmp_path / "o")
    assert (tmp_path / "o" / "gsa-morris-posterior.parquet").is_file()
    pts = pd.read_parquet(tmp_path / "o" / gsa_name("morris", "posterior") / "points.parquet")
    assert pts["committed_fraction"].between(0.20, 0.22).all()
    assert pts["committed_fraction"].nunique() > 1
    assert pts["polls_0_n"].min() == 50 and pts["polls_0_n"].max() == 150
    committed = _row(frame, PRIVATE, "committed share")
    assert committed["mu_star"] < 0.2  # a narrow range moves the outcome little
    # the same through a file
    post.to_parquet(tmp_path / "posterior.parquet")
    again = morris(scenario_file, trajectories=4, posterior=tmp_path / "posterior.parquet",
                   out=tmp_path / "o")
    pd.testing.assert_frame_equal(frame, again, check_exact=True)


def test_posterior_of_one_reading(scenario_file, tmp_path):
    """A posterior of several readings is refused; one reading's rows are analysed with
    the assumptions it fixes set to their value and not varied."""
    n = 20
    post = pd.DataFrame({"reading": ["open"] * n + ["fixed"] * n,
                         "committed.fraction": [0.1] * n + [np.nan] * n,
                         "polls.0.n": np.r_[np.linspace(60, 80, n), np.linspace(60, 80, n)],
                         "weight": np.full(2 * n, 1 / n)})
    with pytest.raises(SteppeError, match="holds 2 readings"):
        morris(scenario_file, posterior=post)
    with pytest.raises(SteppeError, match="not one of the scenario's"):
        morris(scenario_file, posterior=post.assign(reading="other"))
    frame = morris(scenario_file, trajectories=2, out=tmp_path / "o",
                   posterior=post[post["reading"] == "fixed"])
    assert set(frame["assumption"]) == {"poll size", DUMMY}
    pts = pd.read_parquet(tmp_path / "o" / gsa_name("morris", "posterior") / "points.parquet")
    assert (pts["committed_fraction"] == 0.2).all()
    assert pts["polls_0_n"].between(60, 80).all() and pts["polls_0_n"].nunique() > 1


def test_refusals(scenario_file, tmp_path):
    none = tmp_path / "none.toml"
    none.write_text(SCENARIO.split("[[assumptions]]")[0], encoding="utf-8")
    with pytest.raises(ScenarioError, match="no assumption to vary"):
        morris(none)
    with pytest.raises(ScenarioError, match="no assumption to vary"):
        sobol(none)
    sc = read_scenario(scenario_file)
    with pytest.raises(SteppeError, match="no 'weight' column"):
        factors(sc, pd.DataFrame({"committed.fraction": [0.1]}))
    with pytest.raises(SteppeError, match="names none of the scenario's assumptions"):
        factors(sc, pd.DataFrame({"model.q": [1.0], "weight": [1.0]}))
    with pytest.raises(SteppeError, match="no such file"):
        morris(scenario_file, posterior=tmp_path / "missing.parquet")
    with pytest.raises(ParameterError, match="trajectories"):
        morris(scenario_file, trajectories=1)
    with pytest.raises(ParameterError, match="base_samples"):
        sobol(scenario_file, base_samples=0)
    assert [f.integer for f in factors(sc)] == [False, True]


def _steppe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "steppe", *args], capture_output=True,
                          text=True, timeout=300)


def test_command_line(scenario_file, tmp_path):
    r = _steppe("sensitivity", str(scenario_file), "--method", "bogus")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "--method" in r.stderr
    r = _steppe("sensitivity", str(scenario_file), "--method", "morris", "--posterior",
                str(tmp_path / "nowhere.parquet"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "--posterior" in r.stderr
    out = tmp_path / "res"
    r = _steppe("sensitivity", str(scenario_file), "--method", "morris", "--trajectories",
                "4", "--out", str(out), "-q")
    assert r.returncode == 0, r.stderr
    assert "Depends on: committed share" in r.stdout and DUMMY in r.stdout
    assert (out / "gsa-morris-prior.parquet").is_file()


def test_report_draws_the_figures(scenario_file, tmp_path):
    from steppe.report import make_report
    from steppe.report.sensitivity import gsa_markdown

    out = tmp_path / "res"
    r = _steppe("run", str(scenario_file), "--out", str(out), "-q")
    assert r.returncode == 0, r.stderr
    m = morris(scenario_file, trajectories=4, out=out)
    sobol(scenario_file, base_samples=8, out=out)
    written = [p.name for p in make_report(out)]
    assert "gsa-morris-prior.png" in written and "gsa-sobol-prior.png" in written
    assert (out / "report" / "gsa-morris-prior.png").stat().st_size > 10_000
    md = (out / "report" / "summary.md").read_text(encoding="utf-8")
    assert "## Global sensitivity" in md and "### Morris screening over the prior" in md
    assert "### Sobol indices over the prior" in md
    assert f"**{PRIVATE}** depends on: committed share" in gsa_markdown(m, "morris", "prior")
    manifest = json.loads((out / gsa_name("morris", "prior") / "manifest.json").read_text())
    assert "given by its design" in manifest["seed_rule"]


@pytest.mark.parametrize(("kw", "message"), [
    ({"method": "Morris"}, "--method: unknown method 'Morris'"),
    ({"method": "oat", "trajectories": 4}, "--trajectories: only with --method morris"),
    ({"method": "morris", "runs": 2}, "--runs: --method morris runs each sample point once"),
    ({"method": "sobol", "trajectories": 4}, "--trajectories is for --method morris"),
    ({"method": "morris", "reading": "x"}, "--reading: selects rows of --posterior"),
])
def test_option_checks(kw, message, tmp_path):
    from steppe.cli_sensitivity import _check_options

    args = {"method": "oat", "runs": None, "posterior": None, "reading": None,
            "trajectories": None, "samples": None, "second_order": False, **kw}
    with pytest.raises(SteppeError) as err:
        _check_options(**args)
    assert str(err.value).startswith(message)
