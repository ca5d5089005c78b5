"""Sznajd model: exact one-update laws vs the kernels, exact absorption, invariants."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from scipy.stats import chisquare

from steppe.engine import init_state, simulate
from steppe.engine.state import Committed
from steppe.errors import ParameterError
from steppe.models import get_model
from steppe.models.sznajd import _sznajd_agree, _sznajd_original, is_ring
from steppe.networks import Network, complete_graph
from steppe.rng import make_state
from steppe.validation import sznajd as checks
from steppe.validation.sznajd import ring, ring_absorption_exact, run_to_absorption

from ..conftest import graph_from_edges as _graph


def _reference(stance, committed, net, variant):
    """Exact law of the state after one pair draw (pure Python)."""
    n = len(stance)
    out: Counter = Counter()

    def convinced(targets, values):
        s = list(stance)
        for a, v in zip(targets, values, strict=True):
            if not committed[a]:
                s[a] = v
        return tuple(s)

    for i in range(n):
        if variant == "original":
            ip1 = (i + 1) % n
            out[convinced([(i - 1) % n, (i + 2) % n], [stance[ip1], stance[i]])] += 1 / n
            continue
        nb = net.neighbors(i).tolist()
        if not nb:
            out[tuple(stance)] += 1 / n
            continue
        for j in nb:
            w = 1 / n / len(nb)
            if stance[i] != stance[j]:
                out[tuple(stance)] += w
            elif variant == "mean_field":
                others = [k for k in range(n) if k not in (i, j)]
                for k in others:
                    out[convinced([k], [stance[i]])] += w / len(others)
            else:
                tg = {k for k in net.neighbors(i).tolist() + net.neighbors(j).tolist()
                      if k not in (i, j)}
                out[convinced(sorted(tg), [stance[i]] * len(tg))] += w
    return out


@pytest.mark.parametrize("variant,kind", [("original", "ring"), ("agree_only", "ring"),
                                          ("agree_only", "network"),
                                          ("agree_only", "complete"),
                                          ("mean_field", "complete"),
                                          ("mean_field", "network")])
def test_one_update_law(variant, kind):
    n = 7
    net = {"ring": ring(n), "complete": complete_graph(n),
           "network": _graph([(0, 1), (0, 2), (1, 2), (2, 3), (3, 4), (4, 5), (3, 5)], n)}[kind]
    stance = np.array([0, 0, 1, 1, 0, 1, 1], dtype=np.int8)
    committed = np.zeros(n, dtype=np.bool_)
    committed[4] = True
    exact = _reference(stance, committed, net, variant)
    complete, indptr, indices = net.kernel_args()
    rng = make_state(21)
    seen: Counter = Counter()
    trials = 20000
    cm = np.ones(2, dtype=np.uint8)
    for _ in range(trials):
        st = stance.copy()
        counts = np.bincount(st, minlength=2).astype(np.int64)
        if variant == "original":
            _sznajd_original(st, st, committed, counts, 1, False, cm, rng)
        else:
            _sznajd_agree(st, st, committed, counts, complete, indptr, indices, 1, False, cm,
                          rng, variant == "mean_field")
        assert counts.tolist() == np.bincount(st, minlength=2).tolist()
        seen[tuple(st.tolist())] += 1
    support = {k for k, v in exact.items() if v > 0}
    assert set(seen) <= support
    keys = sorted(support)
    obs = np.array([seen[k] for k in keys], dtype=float)
    exp = np.array([exact[k] for k in keys]) * trials
    # fixed seed; reject if the chi-square p-value is below 1e-3
    assert chisquare(obs, exp).pvalue > 1e-3, (obs, exp)


def test_original_absorption_matches_exact_chain():
    # L = 10 from exactly 5 A: exact stalemate probability 5/9 (= L/(2(L−1))); 3000 runs,
    # binomial se ≈ 0.009, tolerance 4 se.
    n, runs = 10, 3000
    exact = ring_absorption_exact(n, "original")
    sel = exact["n_b"] == n // 2
    p_stale = float(exact["stalemate"][sel].mean())
    assert abs(p_stale - n / (2 * (n - 1))) < 1e-10
    model = get_model("sznajd")(variant="original")
    g = ring(n)
    res = [run_to_absorption(model, g, init_state(model, g, seed=c), chunk=2)
           for c in np.random.SeedSequence(4).spawn(runs)]
    freq = np.mean([r == "stalemate" for r in res])
    assert abs(freq - p_stale) < 4 * np.sqrt(p_stale * (1 - p_stale) / runs)


def test_original_rule_is_not_agree_only():
    # agree-only never reaches the stalemate from a non-alternating start (a domain of
    # length >= 3 always survives an effective update); the original rule does in ~half.
    out = ring_absorption_exact(8, "agree_only")
    sel = (out["n_b"] == 4)
    alt = {int("01" * 4, 2), int("10" * 4, 2)}
    mask = sel & ~np.isin(np.arange(256), list(alt))
    assert out["stalemate"][mask].max() < 1e-12


def test_the_same_graph_gives_the_same_rule_however_it_is_stored():
    """agree_only on the implicit complete graph and on the complete graph given edge by
    edge: the same exit probability (binomial, 4 se of the difference)."""
    import networkx as nx

    from steppe.networks import from_networkx

    n, runs = 30, 400
    model = get_model("sznajd")(variant="agree_only")
    wins = []
    for g in (complete_graph(n), from_networkx(nx.complete_graph(n))):
        trajs = [simulate(model, g, init_state(model, g, shares={"A": 0.4, "B": 0.6},
                                               seed=c), max_sweeps=1000)
                 for c in np.random.SeedSequence(8).spawn(runs)]
        wins.append(np.mean([t.consensus_stance == 0 for t in trajs]))
    p = (wins[0] + wins[1]) / 2
    assert abs(wins[0] - wins[1]) < 4 * np.sqrt(2 * p * (1 - p) / runs), wins


def test_the_stalemate_is_absorbing_and_detected():
    model = get_model("sznajd")(variant="original")
    g = ring(10)
    st = init_state(model, g, seed=3)
    st.stance[:] = [0, 1] * 5
    st.recount(2)
    traj = simulate(model, g, st, max_sweeps=50)
    assert traj.absorbed and traj.consensus_stance is None and traj.final_time < 50


def test_invariants_and_committed():
    for variant, g in (("original", ring(200)), ("agree_only", ring(200)),
                       ("agree_only", complete_graph(200)),
                       ("mean_field", complete_graph(200))):
        model = get_model("sznajd")(variant=variant)
        st = init_state(model, g, shares={"A": 0.3, "B": 0.7},
                        committed=Committed(stance="A", fraction=0.1), seed=5)
        before = st.stance[st.committed].copy()
        for _ in range(10):
            model.advance(st, g, 1, stop_at_consensus=False)
            assert st.counts.tolist() == np.bincount(st.stance, minlength=2).tolist()
            assert np.array_equal(st.stance[st.committed], before)


def test_stops_at_consensus_and_is_reproducible():
    model = get_model("sznajd")()
    g = complete_graph(100)
    trajs = [simulate(model, g, init_state(model, g, seed=9), max_sweeps=100_000)
             for _ in range(2)]
    t = trajs[0]
    assert t.consensus_stance is not None and t.final_time < 100_000
    assert t.final_time == t.consensus_time
    assert trajs[0].final_time == trajs[1].final_time
    assert np.array_equal(trajs[0].counts, trajs[1].counts)


def test_bad_params_and_networks():
    with pytest.raises(ParameterError):
        get_model("sznajd")(variant="mixed")
    model = get_model("sznajd")(variant="original")
    for g in (complete_graph(10), _graph([(0, 1), (1, 2), (2, 3), (3, 0), (0, 2)], 4),
              Network.from_csr(ring(6).indptr, ring(6).indices)):  # no shape
        with pytest.raises(ParameterError):
            init_state(model, g, seed=0)
    assert is_ring(ring(6)) and not is_ring(complete_graph(6))


@pytest.mark.parametrize("fn", [checks.sznajd_stalemate, checks.sznajd_ring_exit,
                                checks.sznajd_mean_field_exit])
def test_published_results(fn):
    res = fn()
    assert res.passed, res
