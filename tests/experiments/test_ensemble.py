"""Running scenarios: outputs, reproducibility across worker counts, atomic writes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import steppe
from steppe.errors import ParameterError, ScenarioError

SCEN = {
    "name": "runner-test", "seed": 12, "runs": 4,
    "network": {"kind": "complete", "n": 300},
    "model": {"name": "voter"},
    "initial": {"shares": {"A": 0.3, "B": 0.7}},
    "stop": {"max_sweeps": 40},
    "record": {"every": 4},
}


@pytest.fixture(scope="module")
def result():
    return steppe.run(SCEN)


def test_series_is_tidy(result):
    s = result.series
    assert list(s.columns) == ["run", "step", "time", "by", "level", "stance", "count",
                               "share", "expressed_count", "expressed_share", "gap"]
    assert set(s["stance"].cat.categories) == {"A", "B"}
    assert set(s["by"]) == {"all"} and set(s["level"]) == {"all"}
    assert np.allclose(s.groupby(["run", "time"])["share"].sum(), 1.0)
    # no expression layer: everyone voices what they hold
    assert (s["count"] == s["expressed_count"]).all() and (s["gap"] == 0).all()
    first = s[s["time"] == 0]
    assert np.allclose(first.loc[first["stance"] == "A", "share"], 0.3)
    # recorded every 4 sweeps (plus the final record of runs that stopped early)
    steps = s.loc[s["run"] == 0, "step"].unique()
    assert steps[0] == 0 and all(x % 4 == 0 for x in steps[:-1])


def test_summary_matches_final_states(result):
    summ = result.summary
    assert len(summ) == 4 and list(summ["run"]) == [0, 1, 2, 3]
    for _, row in summ.iterrows():
        final = result.final_states[row["run"]]
        assert row["final_share_A"] == pytest.approx(np.mean(final == 0))
        assert row["consensus"] == (row["final_share_A"] in (0.0, 1.0))
        if row["consensus"]:
            assert row["consensus_time"] == row["sweeps"] <= 40
        else:
            assert np.isnan(row["consensus_time"]) and row["sweeps"] == 40


def test_same_seed_identical_whatever_the_workers(result):
    two = steppe.run(SCEN, workers=2)
    pd.testing.assert_frame_equal(result.series, two.series)
    cols = [c for c in result.summary.columns if c != "wall_seconds"]
    pd.testing.assert_frame_equal(result.summary[cols], two.summary[cols])
    for r in range(4):
        assert np.array_equal(result.final_states[r], two.final_states[r])


def test_more_runs_keep_the_first_ones(result):
    six = steppe.run(SCEN, runs=6)
    first = six.series[six.series["run"] < 4].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, result.series)


def test_seed_changes_results(result):
    other = steppe.run(SCEN, seed=13)
    assert not other.series.equals(result.series)


def test_resampled_network_per_run_reproducible():
    scen = dict(SCEN, network={"kind": "erdos_renyi", "n": 200, "mean_degree": 6,
                               "resample": True}, runs=3)
    a = steppe.run(scen)
    b = steppe.run(scen, workers=2)
    pd.testing.assert_frame_equal(a.series, b.series)


def test_save_writes_all_files_atomically(result, tmp_path):
    paths = result.save(tmp_path / "out", final_states=True)
    names = sorted(p.name for p in paths)
    assert names == ["final_states.npz", "metadata.json", "series.parquet", "summary.parquet"]
    meta = json.loads((tmp_path / "out" / "metadata.json").read_text())
    assert meta["seed"] == 12 and meta["runs"] == 4
    assert meta["scenario"]["model"]["variant"] == "node"
    assert meta["steppe_version"] == steppe.__version__
    assert "numba" in meta["dependencies"]
    back = pd.read_parquet(tmp_path / "out" / "series.parquet")
    assert len(back) == len(result.series)
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]
    with np.load(tmp_path / "out" / "final_states.npz") as z:
        assert np.array_equal(z["run_0002"], result.final_states[2])


def test_bad_scenario_writes_nothing(tmp_path):
    bad = dict(SCEN, model={"name": "voter", "variant": "nope"})
    with pytest.raises(ScenarioError, match=r"model\.variant"):
        steppe.run(bad, out=tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_committed_by_group_needs_groups():
    scen = dict(SCEN, committed={"stance": "A", "by_group": {0: 0.5}})
    with pytest.raises(ScenarioError, match=r"committed\.by_group"):
        steppe.run(scen)


def test_committed_by_group_on_sbm():
    scen = dict(SCEN, network={"kind": "sbm", "sizes": [100, 200],
                               "probabilities": [[0.1, 0.01], [0.01, 0.1]]},
                committed={"stance": "A", "by_group": {0: 0.5, 1: 0.0}}, runs=1)
    res = steppe.run(scen)
    assert res.summary["final_share_A"].iloc[0] >= 50 / 300
    # series by group: the groups' counts add up to the whole
    s = res.series
    assert set(s["by"]) == {"all", "group"} and set(s["level"]) == {"all", "0", "1"}
    whole = s[s["by"] == "all"].set_index(["time", "stance"])["count"]
    parts = s[s["by"] == "group"].groupby(["time", "stance"], observed=True)["count"].sum()
    assert (whole.sort_index() == parts.sort_index()).all()
    first = s[(s["time"] == 0) & (s["stance"] == "A") & (s["by"] == "group")]
    first = dict(zip(first["level"].astype(str), first["count"], strict=True))
    assert first["0"] >= 50


def test_user_network_through_the_api():
    import networkx as nx

    from steppe.networks import from_networkx

    net = from_networkx(nx.karate_club_graph())
    res = steppe.run(dict(SCEN, runs=2), network=net)
    assert res.metadata["network"]["n"] == 34


def test_committed_among_holders_keeps_the_initial_shares():
    from steppe.engine import Committed, init_state
    from steppe.models import get_model
    from steppe.networks import stochastic_block_model

    g = stochastic_block_model([600, 400], probabilities=[[0.01, 0.001], [0.001, 0.01]],
                               seed=1)
    m = get_model("voter")()
    c = Committed(stance="A", by_group={0: 0.1, 1: 0.2}, among="holders")
    st = init_state(m, g, shares={"A": 0.3, "B": 0.7}, committed=c, seed=2)
    assert st.counts[0] == 300                       # 30% of everyone, as declared
    assert st.committed[:600].sum() == 60 and st.committed[600:].sum() == 80
    assert np.all(st.stance[st.committed] == 0)      # drawn among holders of A
    everyone = init_state(m, g, shares={"A": 0.3, "B": 0.7},
                          committed=Committed(stance="A", by_group={0: 0.1, 1: 0.2}), seed=2)
    assert everyone.counts[0] == 140 + round(0.3 * 860)  # committed, plus 30% of the rest
    with pytest.raises(ParameterError, match="holding their stance"):
        init_state(m, g, shares={"A": 0.05, "B": 0.95}, seed=2,
                   committed=Committed(stance="A", by_group={0: 0.1}, among="holders"))
