"""Majority-vote model: kernel vs a pure-Python reference, exact one-update law, invariants,
and the published-result checks."""

from __future__ import annotations

import numpy as np
import pytest

from steppe.engine.state import Committed, init_state
from steppe.errors import ParameterError
from steppe.models import get_model
from steppe.models.majority_vote import _mv_sequential
from steppe.networks import complete_graph
from steppe.rng import randint, uniform
from steppe.validation.majority_vote import (
    mv_binder_crossing,
    mv_complete_f010,
    mv_complete_f030,
    mv_lattice_phases,
    square_lattice,
)

MV = get_model("majority_vote")


def reference_step(stance, committed, nbrs, f, s):
    """One random-sequential update in plain Python, drawing from the same generator in the
    same order as the kernel (agent, then the tie coin or the noise uniform)."""
    n = len(stance)
    i = int(randint(s, n))
    if committed[i] or len(nbrs[i]) == 0:
        return
    n_b = sum(int(stance[j]) for j in nbrs[i])
    n_a = len(nbrs[i]) - n_b
    if n_a == n_b:
        stance[i] = int(randint(s, 2))
        return
    maj = 0 if n_a > n_b else 1
    stance[i] = 1 - maj if uniform(s) < f else maj


def reference_sync_step(stance, committed, nbrs, f, s):
    old = stance.copy()
    for i in range(len(stance)):
        if committed[i] or len(nbrs[i]) == 0:
            continue
        n_b = sum(int(old[j]) for j in nbrs[i])
        n_a = len(nbrs[i]) - n_b
        if n_a == n_b:
            stance[i] = int(randint(s, 2))
        else:
            maj = 0 if n_a > n_b else 1
            stance[i] = 1 - maj if uniform(s) < f else maj


@pytest.mark.parametrize("update", ["random_sequential", "synchronous"])
@pytest.mark.parametrize("net", ["complete", "lattice"])
def test_kernel_matches_reference(update, net):
    g = complete_graph(9) if net == "complete" else square_lattice(4)
    nbrs = [g.neighbors(i).tolist() for i in range(g.n)]
    m = MV(f=0.2, update=update)
    st = init_state(m, g, shares={"A": 0.5, "B": 0.5}, committed=Committed("A", 0.2), seed=5)
    stance = st.stance.astype(int).copy()
    s = st.rng.copy()
    sweeps = 30
    m.advance(st, g, sweeps, False)
    for _ in range(sweeps if update == "synchronous" else sweeps * g.n):
        if update == "synchronous":
            reference_sync_step(stance, st.committed, nbrs, 0.2, s)
        else:
            reference_step(stance, st.committed, nbrs, 0.2, s)
    assert st.stance.tolist() == stance.tolist()
    assert np.array_equal(st.rng, s)
    assert st.counts.tolist() == np.bincount(st.stance, minlength=2).tolist()


def exact_one_update(stance, f):
    """Law of n_A after one update on the complete graph, by enumerating the chosen agent."""
    n = len(stance)
    out = {}
    for i in range(n):
        others = np.delete(stance, i)
        n_b = int(others.sum())
        n_a = n - 1 - n_b
        if n_a == n_b:
            p_b = 0.5
        else:
            p_b = f if n_a > n_b else 1 - f
        for new, p in ((0, 1 - p_b), (1, p_b)):
            s2 = stance.copy()
            s2[i] = new
            k = int((s2 == 0).sum())
            out[k] = out.get(k, 0.0) + p / n
    return out


@pytest.mark.parametrize("start", [[0, 0, 0, 1, 1], [0, 0, 0, 0, 1, 1]])
def test_one_update_law_complete_graph(start):
    # Empirical frequencies of n_A after one update vs the enumerated law; 40000 draws,
    # tolerance 4 binomial standard errors per outcome. Counting the agent itself among its
    # neighbours, swapping f and 1 − f, or resolving ties towards the current stance all
    # move some outcome by more than 0.05, i.e. > 15 se.
    f = 0.2
    start = np.array(start, dtype=np.int8)
    law = exact_one_update(start.astype(int), f)
    g = complete_graph(len(start))
    m = MV(f=f)
    st = init_state(m, g, seed=11)
    draws = 40000
    hits = {}
    cmask = m.consensus_mask()
    committed = np.zeros(len(start), dtype=np.bool_)
    for _ in range(draws):
        stance = start.copy()
        counts = np.bincount(stance, minlength=2).astype(np.int64)
        _mv_sequential(stance, stance, committed, counts, counts, True, *g.kernel_args()[1:], f,
                       1, False, cmask, st.rng)
        hits[int(counts[0])] = hits.get(int(counts[0]), 0) + 1
    for k in set(law) | set(hits):
        p = law.get(k, 0.0)
        freq = hits.get(k, 0) / draws
        assert abs(freq - p) < 4 * np.sqrt(max(p * (1 - p), 1e-9) / draws) + 1e-12, (k, p, freq)


def test_committed_never_change_and_counts():
    g = square_lattice(8)
    for update in ("random_sequential", "synchronous"):
        m = MV(f=0.3, update=update)
        st = init_state(m, g, shares={"B": 1.0}, committed=Committed("A", 0.25), seed=2)
        mask = st.committed.copy()
        for _ in range(20):
            m.advance(st, g, 3, False)
            assert (st.stance[mask] == 0).all()
            assert st.counts.tolist() == np.bincount(st.stance, minlength=2).tolist()


def test_isolated_agents_do_nothing():
    from steppe.networks import Network

    g = Network.from_csr(np.zeros(6, dtype=np.int64), np.zeros(0, dtype=np.int32))
    for update in ("random_sequential", "synchronous"):
        m = MV(f=0.5, update=update)
        st = init_state(m, g, shares={"A": 0.4, "B": 0.6}, seed=1)
        before = st.stance.copy()
        m.advance(st, g, 10, False)
        assert np.array_equal(st.stance, before)


def test_consensus_stops_early():
    g = complete_graph(50)
    m = MV(f=0.0)
    st = init_state(m, g, shares={"A": 0.7, "B": 0.3}, seed=4)
    dt = m.advance(st, g, 100, True)
    assert dt < 100 and st.counts.tolist() == [50, 0]
    st = init_state(MV(f=0.0, update="synchronous"), g, shares={"A": 0.7, "B": 0.3}, seed=4)
    assert MV(f=0.0, update="synchronous").advance(st, g, 100, True) == 1.0


@pytest.mark.parametrize("kw", [{"f": -0.1}, {"f": 0.6}, {"update": "async"}, {"q": 3}])
def test_bad_params(kw):
    with pytest.raises(ParameterError):
        MV(**kw)


def test_same_seed_same_result():
    g = square_lattice(6)
    res = []
    for _ in range(2):
        m = MV(f=0.1)
        st = init_state(m, g, seed=99)
        m.advance(st, g, 50, False)
        res.append(st.stance.copy())
    assert np.array_equal(*res)


@pytest.mark.parametrize("fn", [mv_complete_f010, mv_complete_f030, mv_lattice_phases,
                                mv_binder_crossing])
def test_validation_checks(fn):
    r = fn()
    assert r.passed, (r.measured, r.se, r.expected, r.detail)
