"""``target_rows`` (a dict lookup, once per calibration simulation) against the pandas
merge it replaced, kept here as the reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from steppe import load_scenario
from steppe.assembly import execute
from steppe.observe.targets import read_targets, target_rows

ROOT = Path(__file__).resolve().parents[2]


def reference(targets: pd.DataFrame, polls: pd.DataFrame) -> pd.DataFrame:
    """The merge: first direct row per key, left-joined onto the targets in order."""
    sim = polls[polls["method"].astype(str) == "direct"]
    if "question" not in sim.columns:
        sim = sim.assign(question="stance", by="all", level="all")
    cols = [c for c in ("estimate", "se", "n_eff") if c in sim.columns]
    key = ["poll", "question", "by", "level", "stance"]
    sim = sim.assign(**{c: sim[c].astype(str) for c in key})[key + cols]
    sim = sim.drop_duplicates(key)
    want = targets[["poll", "question", "by", "level", "answer"]].astype(str).rename(
        columns={"answer": "stance"})
    out = want.merge(sim, on=key, how="left")
    for c in ("estimate", "se", "n_eff"):
        if c not in out.columns:
            out[c] = np.nan
    return out[["estimate", "se", "n_eff"]].astype(float).reset_index(drop=True)


@pytest.fixture(scope="module")
def flagship_polls() -> pd.DataFrame:
    sc = load_scenario(ROOT / "scenarios" / "kazakhstan-2022.toml",
                       {"population.scale": 0.0002, "runs": 1})
    return execute(sc, 0, keep_state=False).polls


def test_the_flagship_targets_match_the_merge(flagship_polls):
    targets = read_targets(ROOT / "scenarios" / "data" / "kazakhstan" / "targets.csv")
    got = target_rows(targets, flagship_polls)
    assert len(got) == len(targets) and got["estimate"].notna().sum() >= 20
    pd.testing.assert_frame_equal(got, reference(targets, flagship_polls), check_exact=True)


def test_missing_rows_duplicates_and_shuffles_match_the_merge(flagship_polls):
    """Targets the run has no poll for, repeated targets, targets in another order, polls
    with duplicated keys (the first counts) and without the se column."""
    targets = read_targets(ROOT / "scenarios" / "data" / "kazakhstan" / "targets.csv")
    rng = np.random.default_rng(4)
    extra = targets.iloc[:3].assign(poll="no such poll")
    wrong_answer = targets.iloc[3:5].assign(answer="nobody")
    many = pd.concat([targets, extra, wrong_answer, targets.iloc[:4]], ignore_index=True)
    many = many.iloc[rng.permutation(len(many))].reset_index(drop=True)
    polls = pd.concat([flagship_polls, flagship_polls.assign(estimate=-1.0)],
                      ignore_index=True)
    for p in (polls, polls.drop(columns=["se"])):
        got = target_rows(many, p)
        pd.testing.assert_frame_equal(got, reference(many, p), check_exact=True)
        assert (got["estimate"].dropna() >= 0).all()  # the first of duplicated keys


def test_polls_without_a_question_column_are_the_stance_question():
    polls = pd.DataFrame({"poll": ["p", "p"], "stance": ["A", "B"], "method": "direct",
                          "estimate": [0.3, 0.7], "se": 0.01, "n_eff": 400.0})
    targets = pd.DataFrame({"poll": ["p", "p", "q"], "question": "stance", "by": "all",
                            "level": "all", "answer": ["B", "A", "A"]})
    got = target_rows(targets, polls)
    pd.testing.assert_frame_equal(got, reference(targets, polls), check_exact=True)
    assert got["estimate"].tolist()[:2] == [0.7, 0.3] and np.isnan(got["estimate"][2])
