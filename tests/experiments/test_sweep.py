"""Sweeps and ensembles in the Python API: the dataset, reproducibility across workers and
resumes, failures, bands, outcomes and phase diagrams (real runs, no mocks)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import steppe
from steppe.errors import ScenarioError, SteppeError
from steppe.experiments import InsufficientMemoryError, sweep
from steppe.experiments.store import SweepStore

from .sweep_helpers import same_dataset

VOTER = {"name": "sw", "seed": 21, "runs": 3,
         "network": {"kind": "erdos_renyi", "n": 200, "mean_degree": 6},
         "model": {"name": "qvoter", "q": 2, "p": 0.1},
         "initial": {"shares": {"A": 0.5, "B": 0.5}},
         "stop": {"max_sweeps": 20}, "record": {"every": 5}}


def test_ensemble_is_exactly_steppe_run(tmp_path):
    res = sweep(VOTER, out=tmp_path / "e", workers=1)
    ref = steppe.run(VOTER)
    assert res.runs_done == 3 and res.complete
    runs = res.runs
    cols = [c for c in ref.summary.columns if c != "wall_seconds"]
    pd.testing.assert_frame_equal(runs[cols].reset_index(drop=True),
                                  ref.summary[cols].astype({"consensus_stance": object}),
                                  check_dtype=False)
    series = res.query('SELECT * EXCLUDE (point) FROM series ORDER BY run, time, "by", '
                       "level, stance")
    expect = ref.series.astype({"by": str, "level": str, "stance": str})
    got = series[list(expect.columns)].astype({"by": str, "level": str, "stance": str})
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expect, check_dtype=False)


def test_same_seed_same_dataset_with_1_2_and_4_workers(tmp_path):
    sets = ["network.mean_degree=4,8", "model.p=0.05,0.2"]
    res = {w: sweep(VOTER, sets=sets, out=tmp_path / f"w{w}", workers=w,
                    phases=["x=model.p,y=network.mean_degree,outcome=final_share_A"])
           for w in (1, 2, 4)}
    assert res[1].executor == "this process"
    assert res[2].executor == "2 local processes" and res[4].executor == "4 local processes"
    for w in (1, 2, 4):
        assert res[w].runs_done == 12 and res[w].runs_failed == 0
    same_dataset(tmp_path / "w1", tmp_path / "w2")
    same_dataset(tmp_path / "w1", tmp_path / "w4")
    # and the points differ from one another (independent seeds, different parameters)
    runs = res[1].runs
    assert runs.groupby("point")["seed"].nunique().eq(1).all()
    assert runs["seed"].nunique() == 4


def test_common_seeds_give_each_point_the_runs_of_steppe_run(tmp_path):
    res = sweep(VOTER, sets=["model.p=0.05,0.2"], seeds="common", out=tmp_path / "c",
                workers=1, runs=2)
    runs = res.runs
    assert set(runs["seed"]) == {21}
    for p in (0.05, 0.2):
        ref = steppe.run(VOTER, runs=2, overrides={"model.p": p})
        got = runs[runs["model_p"] == p].reset_index(drop=True)
        assert np.array_equal(got["final_share_A"], ref.summary["final_share_A"])


def test_resume_adds_points_and_runs_and_keeps_the_rest(tmp_path):
    d = tmp_path / "grow"
    first = sweep(VOTER, sets=["network.n=40,60"], runs=2, out=d, workers=1)
    assert first.runs_done == 4
    before = {f: f.read_bytes() for f in (d / "series").rglob("*.parquet")}
    with pytest.warns(UserWarning, match="already holds this sweep over another grid"):
        second = sweep(VOTER, sets=["network.n=40,60,80"], runs=3, out=d, workers=1)
    assert (second.runs_skipped, second.runs_done) == (4, 5)
    for f, data in before.items():
        assert f.read_bytes() == data  # finished runs are never rewritten
    fresh = sweep(VOTER, sets=["network.n=40,60,80"], runs=3, out=tmp_path / "fresh",
                  workers=1)
    same_dataset(d, tmp_path / "fresh")
    manifest = json.loads((d / "manifest.json").read_text())
    assert [s["runs"] for s in manifest["sessions"]] == [4, 5]
    assert manifest["status"]["state"] == "complete"
    assert fresh.runs_done == 9
    # nothing left to do: a rerun runs nothing
    again = sweep(VOTER, sets=["network.n=40,60,80"], runs=3, out=d, workers=1)
    assert (again.runs_skipped, again.runs_done) == (9, 0)


def test_resume_refuses_another_sweep_and_no_resume_replaces_it(tmp_path):
    d = tmp_path / "s"
    sweep(VOTER, sets=["network.n=40,60"], runs=1, out=d, workers=1)
    with pytest.raises(SteppeError, match="the seed"):
        sweep(VOTER, sets=["network.n=40,60"], runs=1, seed=5, out=d, workers=1)
    with pytest.raises(SteppeError, match="the swept fields"):
        sweep(VOTER, sets=["model.p=0.1,0.2"], runs=1, out=d, workers=1)
    with pytest.raises(SteppeError, match="the scenario"):
        sweep(dict(VOTER, model={"name": "voter"}), sets=["network.n=40,60"], runs=1,
              out=d, workers=1)
    res = sweep(VOTER, sets=["model.p=0.1,0.2"], runs=1, out=d, workers=1, resume=False)
    assert res.runs_done == 2 and res.runs_skipped == 0
    assert list(res.runs.columns[:3]) == ["point", "run", "model_p"]
    # a folder holding something else is not written to
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(SteppeError, match="not empty and holds no sweep"):
        sweep(VOTER, out=other, workers=1)


def test_one_sweep_at_a_time_per_folder(tmp_path):
    d = tmp_path / "locked"
    store = SweepStore(d)
    with store.locked(), pytest.raises(SteppeError, match="another sweep is writing"):
        sweep(VOTER, out=d, workers=1)


def test_failed_runs_are_reported_with_parameters_and_seed_and_do_not_sink_the_sweep(
        tmp_path):
    # n * k must be even: every run of the point n = 21 fails when its network is built
    scen = dict(VOTER, network={"kind": "random_regular", "n": 20, "k": 3})
    seen = []
    d = tmp_path / "f"
    res = sweep(scen, sets=["network.n=20,21,22"], runs=2, out=d, workers=2,
                on_failure=seen.append)
    assert (res.runs_done, res.runs_failed) == (4, 2)
    assert not res.complete and res.manifest["status"]["state"] == "incomplete"
    assert len(seen) == 2 and len(res.failures) == 2
    for f in res.failures:
        assert f["params"] == {"network.n": 21}
        assert "n * k must be even" in f["error"]
    points = res.query("SELECT point, seed FROM points WHERE network_n = 21")
    assert {f["seed"] for f in res.failures} == {int(points["seed"][0])}
    assert set(res.runs["network_n"]) == {20, 22}
    failures = res.query("SELECT * FROM failures")
    assert len(failures) == 2 and failures["error"].str.contains("must be even").all()
    # a rerun tries the failed runs again (and only them)
    again = sweep(scen, sets=["network.n=20,21,22"], runs=2, out=d, workers=1)
    assert (again.runs_skipped, again.runs_done, again.runs_failed) == (4, 0, 2)


def test_memory_is_checked_before_anything_starts(tmp_path):
    huge = dict(VOTER, network={"kind": "complete", "n": 2_000_000_000})
    d = tmp_path / "m"
    with pytest.raises(InsufficientMemoryError) as info:
        sweep(huge, out=d, workers=1)
    msg = str(info.value)
    assert "this sweep needs about" in msg and "is available" in msg
    assert "a network of at most" in msg and "agents would fit" in msg
    assert not d.exists()
    big = dict(VOTER, network={"kind": "complete", "n": 20_000_000})
    with pytest.raises(InsufficientMemoryError, match=r"it would fit with --workers 2"):
        sweep(big, out=d, workers=4, available_memory=2 * 2**30)
    assert not d.exists()


def test_bands_per_stance_and_group(tmp_path):
    scen = {"name": "sbm", "seed": 3, "runs": 5,
            "network": {"kind": "sbm", "sizes": [60, 40], "mean_degree": 6,
                        "mixing": [[0.8, 0.2], [0.3, 0.7]]},
            "model": {"name": "voter"}, "initial": {"shares": {"A": 0.5, "B": 0.5}},
            "stop": {"max_sweeps": 10, "at_consensus": False}, "record": {"every": 2}}
    res = sweep(scen, out=tmp_path / "b", workers=1)
    bands = res.query('SELECT * FROM bands ORDER BY "by", level, stance, time')
    assert set(bands["by"]) == {"all", "group"}
    assert set(bands.loc[bands["by"] == "group", "level"]) == {"0", "1"}
    assert (bands["runs"] == 5).all()
    assert (bands["share_q05"] <= bands["share_q25"]).all()
    assert (bands["share_q25"] <= bands["share_median"]).all()
    assert (bands["share_median"] <= bands["share_q95"]).all()
    # the median at t = 4 in group 1 is the median of the five runs' shares there
    series = res.query("""SELECT share FROM series WHERE "by" = 'group' AND level = '1'
                          AND stance = 'A' AND time = 4""")
    row = bands[(bands["by"] == "group") & (bands["level"] == "1") & (bands["stance"] == "A")
                & (bands["time"] == 4)]
    assert row["share_median"].item() == pytest.approx(np.median(series["share"]))
    assert row["share_q95"].item() == pytest.approx(np.quantile(series["share"], 0.95))


def test_outcomes_and_phase_diagram_files(tmp_path):
    scen = {"name": "tip", "seed": 8, "runs": 6, "network": {"kind": "complete", "n": 100},
            "model": {"name": "binary_agreement"}, "initial": {"shares": {"B": 1.0}},
            "committed": {"stance": "A", "fraction": 0.1},
            "stop": {"max_sweeps": 150}, "record": {"every": 25}}
    d = tmp_path / "p"
    res = sweep(scen, sets=["committed.fraction=0.02,0.2", "network.n=60,120"], out=d,
                workers=1, phases=["x=committed.fraction,y=network.n,outcome=p_consensus_A",
                                   "x=committed.fraction,outcome=consensus_time"])
    out = res.outcomes
    assert len(out) == 4 and (out["runs"] == 6).all()
    low = out[out["committed_fraction"] == 0.02]
    high = out[out["committed_fraction"] == 0.2]
    assert (low["p_consensus_A"] == 0).all() and (high["p_consensus_A"] == 1).all()
    assert (high["p_consensus_A_se"] == 0).all() and high["consensus_time"].notna().all()
    names = sorted(p.name for p in res.files)
    assert "p_consensus_A-committed_fraction-network_n.json" in names
    assert "consensus_time-committed_fraction.csv" in names
    # the figures are the report's, drawn from that data
    from steppe.report.phase import draw_phase_folder

    pngs = sorted(p.name for p in draw_phase_folder(d / "phase"))
    assert pngs == ["consensus_time-committed_fraction.png",
                    "p_consensus_A-committed_fraction-network_n.png"]
    grid = pd.read_csv(d / "phase" / "p_consensus_A-committed_fraction-network_n.csv")
    assert list(grid.columns[:3]) == ["committed_fraction", "network_n", "p_consensus_A"]
    merged = grid.merge(out, on=["committed_fraction", "network_n"], suffixes=("", "_o"))
    assert np.allclose(merged["p_consensus_A"], merged["p_consensus_A_o"])
    import matplotlib.image as mpimg

    img = mpimg.imread(d / "phase" / "p_consensus_A-committed_fraction-network_n.png")
    assert img.shape[0] > 400 and img.shape[1] > 600


def test_bad_scenario_writes_nothing(tmp_path):
    d = tmp_path / "bad"
    with pytest.raises(ScenarioError, match=r"network\.n"):
        sweep(VOTER, sets=["network.n=0,10"], out=d, workers=1)
    assert not d.exists()


EXAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "binary-agreement-tipping.toml"


def test_example_tipping_sweep_validates_and_a_small_version_tips(tmp_path):
    from steppe.experiments import plan_sweep

    plan = plan_sweep(EXAMPLE)
    assert len(plan.points) == 85 and plan.runs == 40 and len(plan.phases) == 3
    # a small version: far below and far above the mean-field p_c = 0.0979
    res = sweep(EXAMPLE, sets=["committed.fraction=0.06,0.14", "network.n=100,1000"],
                runs=4, out=tmp_path / "tip", workers=1)
    out = res.outcomes.set_index(["committed_fraction", "network_n"])
    assert out.loc[(0.14, 100), "p_consensus_A"] == 1.0
    assert out.loc[(0.14, 1000), "p_consensus_A"] == 1.0
    assert out.loc[(0.06, 1000), "p_consensus_A"] == 0.0
    assert {p.suffix for p in res.files} == {".json", ".csv", ".parquet"}
    assert len(res.files) == 10  # 3 diagrams x (json, csv, parquet) + the tipping line


def test_bands_are_those_of_the_report_plots():
    """bands_frame computes, all at once, what steppe.report.plots.ensemble_bands gives for
    each breakdown level and stance (runs stopping early included)."""
    from steppe.experiments.summaries import BAND_STATS, bands_frame
    from steppe.report.plots import ensemble_bands

    res = steppe.run({"name": "b", "seed": 3, "runs": 7,
                      "network": {"kind": "sbm", "sizes": [60, 40], "mean_degree": 6,
                                  "mixing": [[0.8, 0.2], [0.3, 0.7]]},
                      "model": {"name": "voter"}, "initial": {"shares": {"A": 0.5, "B": 0.5}},
                      "stop": {"max_sweeps": 40}, "record": {"every": 3}})
    s = res.series
    assert s.groupby("run")["time"].max().nunique() > 1  # some runs stopped early
    b = bands_frame(s)
    for (by, level, stance), g in s.groupby(["by", "level", "stance"], observed=True):
        rows = b[(b["by"] == str(by)) & (b["level"] == str(level))
                 & (b["stance"] == str(stance))]
        for value in ("share", "expressed_share"):
            e = ensemble_bands(g, value)
            assert np.array_equal(rows["time"].to_numpy(), e.x)
            assert (rows["runs"] == e.runs).all()
            for i, stat in enumerate(BAND_STATS):
                assert np.array_equal(rows[f"{value}_{stat}"].to_numpy(), e.q[i],
                                      equal_nan=True)


def test_sweep_of_the_flagship_keeps_dates_polls_flows_and_breakdowns(tmp_path):
    """A scenario with a population, a calendar, polls, protest and border flows: every
    per-run table is written, bands come per group and region, with dates."""
    flagship = EXAMPLE.parent / "kazakhstan-2022.toml"
    res = sweep(flagship, sets=["population.scale=0.0005", "expression.enforcement=0.5,1.5"],
                runs=1, out=tmp_path / "kz", workers=1)
    assert res.runs_done == 2 and res.runs_failed == 0
    for table in ("polls", "participation", "flows"):
        got = res.query(f"SELECT count(*) AS n, count(DISTINCT point) AS points FROM {table}")
        assert got["n"][0] > 0 and got["points"][0] == 2
    bands = res.query('SELECT DISTINCT "by" FROM bands')
    assert {"all", "group", "region"} <= set(bands["by"])
    dated = res.query("SELECT min(date) AS first FROM bands")
    assert str(dated["first"][0]).startswith("2022-")


def test_a_network_that_cannot_be_built_is_refused_before_any_run(tmp_path):
    """A point whose homophily network needs an edge probability above 1 (a mean degree of
    30 in a population of 4,000) is refused up front, naming the point, and nothing is
    run or written; the buildable points' networks are built once each and not kept."""
    from steppe.assembly import network as assembly_network

    flagship = EXAMPLE.parent / "kazakhstan-2022.toml"
    with pytest.raises(ScenarioError, match=r"edge probability .* > 1.*mean_degree=30"):
        sweep(flagship, sets=["population.scale=0.0002", "network.mean_degree=10,20,30"],
              runs=1, out=tmp_path / "kz", workers=1)
    assert not (tmp_path / "kz").exists()
    assert assembly_network._CACHE == {}
