"""Voter model: published results, the three variants told apart, a NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest

from steppe.engine import init_state, simulate
from steppe.models import get_model
from steppe.models.voter import _voter_node
from steppe.networks import complete_graph, star
from steppe.validation import voter as checks


@pytest.mark.parametrize("fn", [
    checks.voter_time_half, checks.voter_time_fifth, checks.voter_exit_probability,
    checks.voter_star_node, checks.voter_star_link, checks.voter_star_invasion,
])
def test_published_results(fn):
    res = fn()
    assert res.passed, res


def test_synchronous_update_fails_the_consensus_time_check():
    """docs/validation.md entry 8: a wrong variant must fail. Synchronous copying is a
    Wright–Fisher process whose consensus time is about twice the Moran (random-sequential)
    one, far outside four standard errors."""
    res = checks.consensus_time_check(0.5, 68.13, runs=400, seed=5, update="synchronous")
    assert not res.passed and res.measured > 100


def test_star_tells_the_variants_apart():
    # the node-update answer (0.5) is many standard errors from the link one (0.09)
    assert checks._star_exit("link", 600, 1) < 0.2
    assert checks._star_exit("node", 600, 1) > 0.4


def _reference_one_update_probs(stance: np.ndarray, nbrs: list[list[int]]) -> np.ndarray:
    """Exact probability that one node-update leaves agent k holding stance 1."""
    n = len(stance)
    p = stance.astype(float).copy()
    for i in range(n):
        if not nbrs[i]:
            continue
        share_one = np.mean([stance[j] for j in nbrs[i]])
        # with prob 1/n agent i is chosen and copies a random neighbour
        p[i] = (1 - 1 / n) * stance[i] + (1 / n) * share_one
    return p


def test_one_update_matches_exact_probabilities():
    """Many single elementary updates from the same state, against enumeration."""
    net = star(5)
    model = get_model("voter")()
    base = np.array([1, 0, 0, 1, 0], dtype=np.int8)
    nbrs = [net.neighbors(i).tolist() for i in range(5)]
    expected = _reference_one_update_probs(base, nbrs)
    reps = 40_000
    ones = np.zeros(5)
    c, ip, ix = net.kernel_args()
    st = init_state(model, net, shares={"A": 0.5, "B": 0.5}, seed=3)
    for _ in range(reps):
        st.stance[:] = base
        st.recount(2)
        _voter_node(st.stance, st.stance, st.committed, st.counts, c, ip, ix, 1, False,
                    model.consensus_mask(), st.rng)
        ones += st.stance
    freq = ones / reps
    se = np.sqrt(expected * (1 - expected) / reps) + 1e-12
    assert np.all(np.abs(freq - expected) < 5 * se + 1e-9)


def test_committed_agents_hold_and_block_consensus():
    model = get_model("voter")()
    net = complete_graph(100)
    from steppe.engine import Committed

    st = init_state(model, net, shares={"B": 1.0}, committed=Committed("A", fraction=0.05),
                    seed=1)
    traj = simulate(model, net, st, max_sweeps=500, stop_at_consensus=True)
    # B can never win while 5 agents hold A; A wins eventually (absorbing) or not yet
    assert traj.consensus_stance in (None, 0)
    assert np.all(st.stance[st.committed] == 0)


def test_link_update_on_complete_graph_equals_node_update():
    net = complete_graph(50)
    a = get_model("voter")(variant="node")
    b = get_model("voter")(variant="link")
    sa = init_state(a, net, seed=9)
    sb = init_state(b, net, seed=9)
    a.advance(sa, net, 20, False)
    b.advance(sb, net, 20, False)
    assert np.array_equal(sa.stance, sb.stance)


def test_synchronous_only_for_node_variant():
    from steppe.errors import ParameterError

    model = get_model("voter")(variant="link", update="synchronous")
    with pytest.raises(ParameterError, match="synchronous"):
        init_state(model, complete_graph(10), seed=1)
