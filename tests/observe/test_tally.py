"""The recorder's tallies by level (parallel passes over the agents) against NumPy, and the
joint tally (one count per agent) against one tally per breakdown."""

from __future__ import annotations

import numpy as np
import pytest

from steppe.observe import observables
from steppe.observe.observables import _TALLY_BLOCK, Breakdowns, Tally, _tally, _tally_joint
from steppe.state import State


@pytest.mark.parametrize(("n", "with_present"), [(5, False), (3 * _TALLY_BLOCK + 17, True),
                                                 (2 * _TALLY_BLOCK, False)])
def test_tally_matches_bincount(n, with_present):
    rng = np.random.default_rng(n)
    levels, k, answers = 17, 3, 4
    codes = rng.integers(0, levels, n).astype(np.int16)
    stance = rng.integers(0, k, n).astype(np.int8)
    expressed = rng.integers(0, answers, n).astype(np.int8)
    present = rng.random(n) < 0.9 if with_present else np.zeros(0, dtype=np.bool_)
    priv = np.ones((levels, k), dtype=np.int64)  # added to, not overwritten
    expr = np.ones((levels, answers), dtype=np.int64)
    _tally(codes, stance, expressed, present, priv, expr)
    keep = present if with_present else np.ones(n, dtype=bool)
    want_p = 1 + np.bincount(codes[keep].astype(np.int64) * k + stance[keep],
                             minlength=levels * k).reshape(levels, k)
    want_e = 1 + np.bincount(codes[keep].astype(np.int64) * answers + expressed[keep],
                             minlength=levels * answers).reshape(levels, answers)
    np.testing.assert_array_equal(priv, want_p)
    np.testing.assert_array_equal(expr, want_e)


@pytest.mark.parametrize("parts", [1, 2, 3])
def test_joint_tally_matches_bincount_whatever_the_parts(parts):
    rng = np.random.default_rng(parts)
    n, levels, k = 50_001, 24, 4
    codes = rng.integers(0, levels, n).astype(np.int16)
    stance = rng.integers(0, 3, n).astype(np.int8)
    expressed = rng.integers(0, k, n).astype(np.int8)
    present = rng.random(n) < 0.8
    hist = np.zeros((levels, k, k), dtype=np.int64)
    _tally_joint(codes, stance, expressed, present, parts, hist)
    want = np.bincount((codes[present].astype(np.int64) * k + stance[present]) * k
                       + expressed[present], minlength=levels * k * k)
    np.testing.assert_array_equal(hist.ravel(), want)


def _state(n: int, k: int, present: bool, seed: int) -> State:
    rng = np.random.default_rng(seed)
    stance = rng.integers(0, k - 1, n).astype(np.int8)
    st = State(stance=stance, committed=np.zeros(n, bool),
               counts=np.bincount(stance, minlength=k - 1), rng=np.zeros(4, np.uint64),
               present=rng.random(n) < 0.7 if present else None)
    st.expressed = rng.integers(0, k, n).astype(np.int8)
    return st


@pytest.mark.parametrize("present", [False, True])
def test_joint_and_separate_tallies_agree(monkeypatch, present):
    """Counted once per agent over the combinations of levels, or once per breakdown: the
    same tables (the second is what a breakdown with too many combinations gets)."""
    n, k = 3 * _TALLY_BLOCK + 5, 4
    rng = np.random.default_rng(7)
    by = {"group": (rng.integers(0, 3, n).astype(np.int8), ["a", "b", "c"]),
          "region": (rng.integers(0, 17, n).astype(np.int16), [f"r{i}" for i in range(17)]),
          "age": (rng.integers(0, 4, n), ["0", "1", "2", "3"])}  # int64 codes
    state = _state(n, k, present, 3)
    joint = Tally(state, Breakdowns(by), k)
    with monkeypatch.context() as m:  # the joint tally alone, not one per breakdown
        m.setattr(observables, "_tally", None)
        assert joint.private.shape == (1 + 3 + 17 + 4, k)
    monkeypatch.setattr(observables, "_JOINT_LEVELS", 3 * 17 * 4 - 1)
    separate = Tally(state, Breakdowns(by), k)
    assert separate.breakdowns.joint() is None
    small = Tally(_state(1_000, k, present, 3), Breakdowns(
        {name: (codes[:1_000], labels) for name, (codes, labels) in by.items()}), k)
    with monkeypatch.context() as m:  # too few agents for its table: one per breakdown
        m.setattr(observables, "_tally_joint", None)
        assert small.private[0].sum() == (small.state.present.sum() if present else 1_000)
    np.testing.assert_array_equal(joint.private, separate.private)
    np.testing.assert_array_equal(joint.expressed, separate.expressed)
    keep = state.present if present else np.ones(n, bool)
    region = by["region"][0][keep]
    want = np.bincount(region.astype(np.int64) * k + state.expressed[keep], minlength=17 * k)
    np.testing.assert_array_equal(joint.expressed[1 + 3:1 + 3 + 17], want.reshape(17, k))
    assert joint.private[0].sum() == keep.sum()
