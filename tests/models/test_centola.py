"""Centola et al. 2018 memory model: kernel vs a pure-Python reference with explicit
deques, invariants of the ring buffer, and the checks."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from steppe.engine.state import Committed, init_state
from steppe.errors import ParameterError
from steppe.models import get_model
from steppe.networks import complete_graph
from steppe.rng import randint
from steppe.validation.centola import (
    centola_simulated_tipping,
    centola_tipping_point,
    low_fixed_point,
    play_b_probability,
)
from steppe.validation.majority_vote import square_lattice

CE = get_model("centola")


def reference_interaction(stance, committed, mem, nbrs, s):
    """One interaction: agent, neighbour, then each one's play (a coin only on a memory
    tie, i's before j's), then both record the partner's play; memories are deques."""
    n = len(stance)
    i = int(randint(s, n))
    if not nbrs[i]:
        return
    j = nbrs[i][int(randint(s, len(nbrs[i])))]

    def play(k):
        if committed[k]:
            return stance[k]
        b = sum(mem[k])
        m = len(mem[k])
        if 2 * b > m:
            return 1
        if 2 * b < m:
            return 0
        return int(randint(s, 2))

    a, b = play(i), play(j)
    for k, mine, heard in ((i, a, b), (j, b, a)):
        if not committed[k]:
            mem[k].append(heard)  # maxlen drops the oldest
            stance[k] = mine


@pytest.mark.parametrize("memory", [1, 4, 5])
@pytest.mark.parametrize("net", ["complete", "lattice"])
def test_kernel_matches_reference(memory, net):
    g = complete_graph(12) if net == "complete" else square_lattice(4)
    nbrs = ([[j for j in range(g.n) if j != i] for i in range(g.n)] if net == "complete"
            else [g.neighbors(i).tolist() for i in range(g.n)])
    m = CE(memory=memory)
    st = init_state(m, g, shares={"A": 0.6, "B": 0.4}, committed=Committed("B", 0.25), seed=4)
    stance = st.stance.astype(int).tolist()
    mem = [deque([stance[k]] * memory, maxlen=memory) for k in range(g.n)]
    s = st.rng.copy()
    for _ in range(30):
        m.advance(st, g, 1, False)
        for _ in range(g.n):
            reference_interaction(stance, st.committed, mem, nbrs, s)
        assert st.stance.tolist() == stance
        # ring buffer holds the same multiset, in order starting at pos, as the deque
        for k in np.flatnonzero(~st.committed):
            ring = np.roll(st.aux["memory"][k], -int(st.aux["pos"][k])).tolist()
            assert ring == list(mem[k])
            assert st.aux["n_b"][k] == sum(mem[k])
    assert np.array_equal(st.rng, s)


def test_committed_never_change_and_counts():
    g = complete_graph(300)
    m = CE()
    st = init_state(m, g, committed=Committed("B", 0.2), seed=3)
    mask = st.committed.copy()
    for _ in range(20):
        m.advance(st, g, 5, False)
        assert (st.stance[mask] == 1).all()
        assert st.counts.tolist() == np.bincount(st.stance, minlength=2).tolist()
        assert (st.aux["n_b"] == st.aux["memory"].sum(axis=1)).all()


def test_consensus_stops_early():
    g = complete_graph(200)
    m = CE(memory=6)
    st = init_state(m, g, committed=Committed("B", 0.4), seed=2)
    dt = m.advance(st, g, 1000, True)
    assert dt < 1000 and st.counts.tolist() == [0, 200]


def test_no_committed_norm_is_absorbing():
    g = complete_graph(100)
    st = init_state(CE(), g, seed=1)
    CE().advance(st, g, 50, False)
    assert st.counts.tolist() == [100, 0]


@pytest.mark.parametrize("kw", [{"memory": 0}, {"memory": 2.5}, {"memory": 20_000}, {"M": 3}])
def test_bad_params(kw):
    with pytest.raises(ParameterError):
        CE(**kw)


def test_same_seed_same_result():
    g = complete_graph(300)
    res = []
    for _ in range(2):
        st = init_state(CE(), g, committed=Committed("B", 0.23), seed=17)
        CE().advance(st, g, 40, False)
        res.append(st.stance.copy())
    assert np.array_equal(*res)


def test_play_probability_and_fixed_point():
    # g(y) by direct enumeration of the memory's B count, tie → ½
    from math import comb

    for memory in (3, 4, 12):
        for y in (0.1, 0.37, 0.5, 0.8):
            direct = sum(comb(memory, k) * y**k * (1 - y) ** (memory - k)
                         * (1.0 if 2 * k > memory else 0.5 if 2 * k == memory else 0.0)
                         for k in range(memory + 1))
            assert abs(float(play_b_probability(y, memory)) - direct) < 1e-12
    x = low_fixed_point(0.2, 12)
    assert abs(float(play_b_probability(0.2 + 0.8 * x, 12)) - x) < 1e-10
    assert low_fixed_point(0.3, 12) is None


@pytest.mark.parametrize("fn", [centola_tipping_point, centola_simulated_tipping])
def test_validation_checks(fn):
    r = fn()
    assert r.passed, (r.measured, r.se, r.expected, r.detail)
