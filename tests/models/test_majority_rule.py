"""Majority rule: exact one-update / one-step laws vs the kernels, invariants, validation."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from scipy.stats import chisquare

from steppe.engine import init_state, simulate
from steppe.engine.state import Committed
from steppe.errors import ParameterError
from steppe.models import get_model
from steppe.models.majority_rule import _majority_rs, _majority_sync
from steppe.networks import Network, complete_graph
from steppe.rng import make_state
from steppe.validation import majority_rule as checks

from ..conftest import graph_from_edges as _graph


def _apply(stance, committed, group, random_tie, sq):
    """Pure-Python group rule: list of (new state, probability)."""
    na = sum(stance[a] == 0 for a in group)
    g = len(group)
    if 2 * na > g:
        outcomes = [(0, 1.0)]
    elif 2 * na < g:
        outcomes = [(1, 1.0)]
    else:
        outcomes = [(0, 0.5), (1, 0.5)] if random_tie else [(sq, 1.0)]
    res = []
    for maj, pr in outcomes:
        s = list(stance)
        for a in group:
            if not committed[a]:
                s[a] = maj
        res.append((tuple(s), pr))
    return res


def _reference_rs(stance, committed, net, r, random_tie, sq):
    n = len(stance)
    out: Counter = Counter()
    if net.complete:
        groups = list(itertools.combinations(range(n), r))
        for gr in groups:
            for s, pr in _apply(stance, committed, gr, random_tie, sq):
                out[s] += pr / len(groups)
        return out
    for i in range(n):
        nb = net.neighbors(i).tolist()
        if not nb:
            out[tuple(stance)] += 1 / n
            continue
        subsets = list(itertools.combinations(nb, r - 1)) if len(nb) >= r - 1 else [tuple(nb)]
        for sub in subsets:
            for s, pr in _apply(stance, committed, (i, *sub), random_tie, sq):
                out[s] += pr / n / len(subsets)
    return out


def _reference_sync(stance, committed, r, random_tie, sq):
    n = len(stance)
    out: Counter = Counter()
    perms = list(itertools.permutations(range(n)))
    for perm in perms:
        dist = [(tuple(stance), 1.0)]
        for b in range(n // r):
            group = perm[b * r:(b + 1) * r]
            new = []
            for s, pr in dist:
                for s2, pr2 in _apply(np.array(s), committed, group, random_tie, sq):
                    new.append((s2, pr * pr2))
            dist = new
        for s, pr in dist:
            out[s] += pr / len(perms)
    return out


def _chi2(exact: Counter, seen: Counter, trials: int) -> None:
    support = {k for k, v in exact.items() if v > 1e-15}
    assert set(seen) <= support
    keys = sorted(support)
    obs = np.array([seen[k] for k in keys], dtype=float)
    exp = np.array([exact[k] for k in keys]) * trials
    # fixed seed; the kernel is rejected if the chi-square p-value is below 1e-3
    assert chisquare(obs, exp).pvalue > 1e-3, (obs, exp)


@pytest.mark.parametrize("net_kind,r,random_tie", [
    ("complete", 3, False), ("complete", 4, False), ("complete", 4, True),
    ("network", 3, False), ("network", 4, True),
])
def test_one_group_update_law(net_kind, r, random_tie):
    if net_kind == "complete":
        net = complete_graph(7)
        stance = np.array([0, 0, 1, 1, 0, 1, 1], dtype=np.int8)
    else:  # agent 5 has a single neighbour: its group is {5, 4}; agent 6 is isolated
        net = _graph([(0, 1), (0, 2), (0, 3), (1, 2), (2, 3), (3, 4), (4, 1), (4, 5)], 7)
        stance = np.array([0, 1, 1, 0, 0, 1, 0], dtype=np.int8)
    committed = np.zeros(7, dtype=np.bool_)
    committed[2] = True
    sq = 1
    exact = _reference_rs(stance, committed, net, r, random_tie, sq)
    complete, indptr, indices = net.kernel_args()
    rng = make_state(11)
    seen: Counter = Counter()
    trials = 20000
    for _ in range(trials):
        st = stance.copy()
        counts = np.bincount(st, minlength=2).astype(np.int64)
        _majority_rs(st, st, committed, counts, complete, indptr, indices, 1, False,
                     np.ones(2, dtype=np.uint8), r, random_tie, sq, rng)
        assert counts.tolist() == np.bincount(st, minlength=2).tolist()
        seen[tuple(st.tolist())] += 1
    _chi2(exact, seen, trials)


@pytest.mark.parametrize("random_tie", [False, True])
def test_one_synchronous_step_law(random_tie):
    # n = 7, r = 3: two groups and one agent left over, exhaustively over 7! permutations
    stance = np.array([0, 0, 1, 1, 0, 1, 1], dtype=np.int8)
    committed = np.zeros(7, dtype=np.bool_)
    committed[0] = True
    r = 3 if not random_tie else 2
    exact = _reference_sync(stance, committed, r, random_tie, 1)
    rng = make_state(12)
    perm = np.arange(7, dtype=np.int64)
    seen: Counter = Counter()
    trials = 20000
    for _ in range(trials):
        st = stance.copy()
        counts = np.bincount(st, minlength=2).astype(np.int64)
        _majority_sync(st, st, committed, counts, 1, False, np.ones(2, dtype=np.uint8), r,
                       random_tie, 1, perm, rng)
        assert counts.tolist() == np.bincount(st, minlength=2).tolist()
        seen[tuple(st.tolist())] += 1
    _chi2(exact, seen, trials)


@pytest.mark.parametrize("update", ["random_sequential", "synchronous"])
def test_invariants_and_committed(update):
    model = get_model("majority_rule")(r=4, update=update, tie="random")
    g = complete_graph(301)
    st = init_state(model, g, shares={"A": 0.3, "B": 0.7},
                    committed=Committed(stance="A", fraction=0.1), seed=5)
    before = st.stance[st.committed].copy()
    for _ in range(10):
        model.advance(st, g, 1, stop_at_consensus=False)
        assert st.counts.tolist() == np.bincount(st.stance, minlength=2).tolist()
        assert np.array_equal(st.stance[st.committed], before)


@pytest.mark.parametrize("update", ["random_sequential", "synchronous"])
def test_stops_at_consensus_and_is_reproducible(update):
    model = get_model("majority_rule")(update=update)
    g = complete_graph(200)
    trajs = [simulate(model, g, init_state(model, g, seed=9), max_sweeps=10_000)
             for _ in range(2)]
    t = trajs[0]
    assert t.consensus_stance is not None and t.final_time < 10_000
    assert t.final_time == t.consensus_time
    assert trajs[0].final_time == trajs[1].final_time
    assert np.array_equal(trajs[0].counts, trajs[1].counts)


@pytest.mark.parametrize("kw", [{"r": 1}, {"tie": "coin"}, {"status_quo": "C"},
                                {"update": "parallel"}])
def test_bad_params(kw):
    with pytest.raises(ParameterError):
        get_model("majority_rule")(**kw)


def test_synchronous_needs_complete_graph():
    model = get_model("majority_rule")(update="synchronous")
    ring = Network.from_csr(np.arange(0, 11, 2), np.array([4, 1, 0, 2, 1, 3, 2, 4, 3, 0]),
                            shape=(5,))
    with pytest.raises(ParameterError):
        init_state(model, ring, seed=0)
    with pytest.raises(ParameterError):
        init_state(get_model("majority_rule")(r=9), complete_graph(5), seed=0)


def test_exact_chain_helpers():
    up, down = checks.majority3_rates(50)
    e = checks.birth_death_exit(up, down)
    assert abs(e[25] - 0.5) < 1e-12 and e[10] < 0.01 and e[40] > 0.99
    t = checks.birth_death_time(up, down, 50)
    assert t[0] == 0 and t[50] == 0 and t[25] == t.max()


@pytest.mark.parametrize("fn", [checks.majority_time_log_n, checks.majority_exit_probability,
                                checks.galam_one_step, checks.galam_fixed_point])
def test_published_results(fn):
    res = fn()
    assert res.passed, res


def test_random_ties_break_galam_fixed_point():
    """With random tie-breaking, r=4 is symmetric: from 0.74 A wins (p_c = ½ instead)."""
    model = get_model("majority_rule")(r=4, update="synchronous", tie="random")
    g = complete_graph(10_000)
    trajs = checks.replicate(model, g, runs=5, seed=3, shares={"A": 0.74, "B": 0.26},
                             max_sweeps=1000)
    assert all(t.consensus_stance == 0 for t in trajs)
