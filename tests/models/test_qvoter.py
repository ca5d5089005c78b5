"""q-voter model: exact one-update transition law vs the kernel, invariants, validation."""

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
from steppe.models.qvoter import _qvoter, mean_field_share
from steppe.networks import complete_graph
from steppe.rng import make_state
from steppe.validation import qvoter as checks

from ..conftest import graph_from_edges as _graph


def _reference(stance, committed, nbrs, q, p, anti, repetition):
    """Exact law of the state after one elementary update (pure Python enumeration)."""
    n = len(stance)
    out: Counter = Counter()

    def add(i, new, prob):
        s = list(stance)
        if not committed[i]:
            s[i] = new
        out[tuple(s)] += prob

    for i in range(n):
        pi = 1 / n
        nb = nbrs[i]
        if repetition:
            panels = list(itertools.product(nb, repeat=q)) if nb else []
        else:
            panels = list(itertools.combinations(nb, q)) if len(nb) >= q else []
        for conform, pb in ((True, 1 - p), (False, p)):
            if pb == 0:
                continue
            if not conform and not anti:
                add(i, 1 - stance[i], pi * pb / 2)
                add(i, stance[i], pi * pb / 2)
                continue
            if not panels:
                add(i, stance[i], pi * pb)
                continue
            for panel in panels:
                vals = {stance[j] for j in panel}
                w = pi * pb / len(panels)
                if len(vals) == 1:
                    v = vals.pop()
                    add(i, v if conform else 1 - v, w)
                else:
                    add(i, stance[i], w)
    return out


def _compare(net, stance, committed, q, p, anti, repetition, trials=20000, seed=1):
    n = len(stance)
    nbrs = [net.neighbors(i).tolist() for i in range(n)]
    exact = _reference(stance, committed, nbrs, q, p, anti, repetition)
    complete, indptr, indices = net.kernel_args()
    rng = make_state(seed)
    seen: Counter = Counter()
    cm = np.ones(2, dtype=np.uint8)
    for _ in range(trials):
        st = stance.copy()
        counts = np.bincount(st, minlength=2).astype(np.int64)
        _qvoter(st, st, committed, counts, complete, indptr, indices, 1, False, cm, q, p,
                anti, repetition, rng)
        assert counts.tolist() == np.bincount(st, minlength=2).tolist()
        seen[tuple(st.tolist())] += 1
    assert set(seen) <= {k for k, v in exact.items() if v > 0}
    keys = [k for k, v in exact.items() if v > 0]
    obs = np.array([seen[k] for k in keys], dtype=float)
    exp = np.array([exact[k] for k in keys]) * trials
    # a chi-square p-value below 1e-3 would reject the kernel (fixed seed)
    assert chisquare(obs, exp).pvalue > 1e-3, (obs, exp)


@pytest.mark.parametrize("anti,repetition,p", [
    (False, False, 0.3), (True, False, 0.3), (True, True, 0.4), (False, True, 0.0),
])
def test_one_update_law_complete_graph(anti, repetition, p):
    stance = np.array([0, 0, 0, 1, 0, 1, 1], dtype=np.int8)
    committed = np.zeros(7, dtype=np.bool_)
    committed[1] = True
    _compare(complete_graph(7), stance, committed, 3, p, anti, repetition)


@pytest.mark.parametrize("repetition", [False, True])
def test_one_update_law_network(repetition):
    # agent 5 has one neighbour (< q = 2): it forms no panel without repetition
    net = _graph([(0, 1), (0, 2), (0, 3), (1, 2), (2, 3), (3, 4), (4, 1), (4, 5)], 6)
    stance = np.array([0, 1, 1, 0, 0, 1], dtype=np.int8)
    _compare(net, stance, np.zeros(6, dtype=np.bool_), 2, 0.25, True, repetition)


def test_distinct_panel_differs_from_repetition():
    # q=2 on the complete graph of 4; agent 0 sees {A, B, B}. A distinct panel is
    # unanimously B with probability 1/3 ({2,3} of three pairs), a panel drawn with
    # repetition with (2/3)² = 4/9.
    stance = np.array([0, 0, 1, 1], dtype=np.int8)
    committed = np.array([False, True, True, True])
    net = complete_graph(4)
    complete, indptr, indices = net.kernel_args()
    for rep, expect in ((False, 1 / 3), (True, 4 / 9)):
        rng = make_state(3)
        hits = 0
        trials = 20000
        for _ in range(trials):
            st = stance.copy()
            counts = np.array([2, 2], dtype=np.int64)
            _qvoter(st, st, committed, counts, complete, indptr, indices, 1, False,
                    np.ones(2, dtype=np.uint8), 2, 0.0, False, rep, rng)
            hits += st[0] == 1
        # agent 0 chosen with prob 1/4; se of the frequency ~ 0.003
        freq = hits / trials * 4
        assert abs(freq - expect) < 4 * np.sqrt(expect * (1 - expect / 4) * 4 / trials)


def test_invariants_and_committed():
    model = get_model("qvoter")(q=3, p=0.3, nonconformity="anticonformity")
    g = complete_graph(300)
    st = init_state(model, g, shares={"A": 0.2, "B": 0.8},
                    committed=Committed(stance="A", fraction=0.1), seed=5)
    before = st.stance[st.committed].copy()
    for _ in range(20):
        model.advance(st, g, 1, stop_at_consensus=False)
        assert st.counts.tolist() == np.bincount(st.stance, minlength=2).tolist()
        assert np.array_equal(st.stance[st.committed], before)


def test_stops_at_consensus_and_is_reproducible():
    model = get_model("qvoter")(q=2, p=0.0)
    g = complete_graph(50)
    trajs = [simulate(model, g, init_state(model, g, seed=9), max_sweeps=10_000)
             for _ in range(2)]
    t = trajs[0]
    assert t.consensus_stance is not None and t.final_time < 10_000
    assert t.final_time == t.consensus_time
    assert trajs[0].final_time == trajs[1].final_time
    assert np.array_equal(trajs[0].counts, trajs[1].counts)


@pytest.mark.parametrize("kw", [{"q": 0}, {"p": 1.5}, {"nonconformity": "contrarian"},
                                {"other": 1}])
def test_bad_params(kw):
    with pytest.raises(ParameterError):
        get_model("qvoter")(**kw)


def test_panel_larger_than_population():
    model = get_model("qvoter")(q=10)
    with pytest.raises(ParameterError):
        init_state(model, complete_graph(5), seed=0)


def test_mean_field_solution_satisfies_the_equations():
    for q, p, kind in ((4, 0.25, "anticonformity"), (4, 0.1, "independence"),
                       (3, 0.2, "independence")):
        c = mean_field_share(q, p, kind)
        a = (1 - c) * c**q - c * (1 - c) ** q
        rhs = a / (c**q - (1 - c) ** q) if kind == "anticonformity" else a / (a + c - 0.5)
        assert abs(rhs - p) < 1e-9 and c > 0.5
    assert mean_field_share(4, 3 / 11 + 1e-3, "independence") == 0.5


@pytest.mark.parametrize("fn", [checks.qvoter_anticonformity, checks.qvoter_independence,
                                checks.qvoter_disordered])
def test_published_results(fn):
    res = fn()
    assert res.passed, res


def test_wrong_variant_fails_entry_3():
    """Independence instead of anticonformity at q=4, p=0.25 gives |m| ≈ 0.8, not 0.486."""
    m = np.abs(checks.time_series_m(4, 0.25, "independence", 1000, 300, seed=1)[100:])
    assert abs(m.mean() - 0.486) > 0.1
