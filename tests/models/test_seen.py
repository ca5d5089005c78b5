"""Private versus expressed stances in the discrete kernels.

Two properties for the q-voter, majority-rule, Sznajd, majority-vote, binary-agreement and
Centola models:

- the kernels really read the others through ``state.seen`` (and ``seen_counts``): with every
  agent privately ``A`` but voicing ``B``, one sweep moves private stances towards ``B``;
- while ``state.live`` (``seen is stance``) the kernels are bit-for-bit what they were before
  the expression layer existed: a fixed-seed run of every variant reproduces a trajectory
  hash computed with the kernels before the change (``_BEFORE``).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from steppe.models import get_model
from steppe.networks import complete_graph, erdos_renyi, lattice
from steppe.rng import make_state
from steppe.state import State

N = 300

_NETS = {
    "complete": lambda: complete_graph(N),
    "er": lambda: erdos_renyi(N, 6.0, seed=11),
    "ring": lambda: lattice(N),
    "square": lambda: lattice((15, 20)),
}

# (model, params, network, initial shares by code) — every kernel of the six models.
_CASES = [
    ("qvoter", {"q": 4, "p": 0.2}, "complete", (0.5, 0.5)),
    ("qvoter", {"q": 4, "p": 0.2, "nonconformity": "anticonformity"}, "complete", (0.5, 0.5)),
    ("qvoter", {"q": 3, "p": 0.1, "repetition": True}, "complete", (0.5, 0.5)),
    ("qvoter", {"q": 3, "p": 0.1}, "er", (0.5, 0.5)),
    ("qvoter", {"q": 2, "p": 0.3, "nonconformity": "anticonformity", "repetition": True},
     "square", (0.5, 0.5)),
    ("qvoter", {"q": 4, "p": 0.0}, "complete", (0.5, 0.5)),
    ("majority_rule", {"r": 3}, "complete", (0.5, 0.5)),
    ("majority_rule", {"r": 4, "tie": "random"}, "complete", (0.5, 0.5)),
    ("majority_rule", {"r": 4}, "er", (0.5, 0.5)),
    ("majority_rule", {"r": 5}, "ring", (0.5, 0.5)),
    ("majority_rule", {"r": 4, "update": "synchronous"}, "complete", (0.6, 0.4)),
    ("majority_rule", {"r": 3, "update": "synchronous", "tie": "random"}, "complete",
     (0.5, 0.5)),
    ("sznajd", {"variant": "original"}, "ring", (0.5, 0.5)),
    # the rule agree_only used on the implicit complete graph is now named mean_field
    ("sznajd", {"variant": "mean_field"}, "complete", (0.5, 0.5)),
    ("sznajd", {"variant": "agree_only"}, "ring", (0.5, 0.5)),
    ("sznajd", {"variant": "agree_only"}, "er", (0.5, 0.5)),
    ("majority_vote", {"f": 0.1}, "complete", (0.5, 0.5)),
    ("majority_vote", {"f": 0.1}, "square", (0.5, 0.5)),
    ("majority_vote", {"f": 0.05}, "er", (0.5, 0.5)),
    ("majority_vote", {"f": 0.1, "update": "synchronous"}, "complete", (0.5, 0.5)),
    ("majority_vote", {"f": 0.1, "update": "synchronous"}, "square", (0.5, 0.5)),
    ("binary_agreement", {}, "complete", (0.3, 0.4, 0.3)),
    ("binary_agreement", {"collapse": "listener_only"}, "complete", (0.3, 0.4, 0.3)),
    ("binary_agreement", {}, "er", (0.3, 0.4, 0.3)),
    ("centola", {"memory": 12}, "complete", (0.6, 0.4)),
    ("centola", {"memory": 4}, "er", (0.5, 0.5)),
    ("centola", {"memory": 1}, "ring", (0.5, 0.5)),
]


def _state(model, network, shares, seed: int, committed: float = 0.1) -> State:
    """A state built without the engine (so that engine changes cannot move the hashes):
    stances placed from ``shares``, a ``committed`` fraction holding stance 0."""
    gen = np.random.default_rng(seed)
    n = network.n
    k = len(model.stances)
    stance = gen.choice(k, size=n, p=np.asarray(shares, dtype=float)).astype(np.int8)
    mask = np.zeros(n, dtype=np.bool_)
    mask[gen.choice(n, size=round(committed * n), replace=False)] = True
    stance[mask] = 0
    counts = np.bincount(stance, minlength=k).astype(np.int64)
    state = State(stance=stance, committed=mask, counts=counts, rng=make_state(seed + 1))
    model.check_network(network)
    model.init_aux(state, network, gen=np.random.default_rng(seed + 2))
    return state


def _trajectory_hash(name: str, params: dict, net: str, shares, seed: int = 5) -> str:
    """Hash of stances, counts, generator state and aux arrays after each of a few chunks
    (the last one stopping at consensus)."""
    model = get_model(name)(**params)
    network = _NETS[net]()
    state = _state(model, network, shares, seed)
    h = hashlib.sha256()
    for sweeps, stop in ((1, False), (3, False), (20, True)):
        dt = model.advance(state, network, sweeps, stop)
        assert state.live
        h.update(np.float64(dt).tobytes())
        h.update(state.stance.tobytes())
        h.update(state.counts.tobytes())
        h.update(state.rng.tobytes())
        for key in sorted(state.aux):
            h.update(np.ascontiguousarray(state.aux[key]).tobytes())
    return h.hexdigest()[:16]


# Computed with the kernels *before* they read ``seen`` (commit 77c5736); the q-voter's
# (cases 0-5) again when its kernel changed its draws (issue 14: one 64-bit draw for two
# choices), with the seen-reading kernel checked against a plain-Python reference in
# test_binary_kernels.py.
_BEFORE: dict[int, str] = {
    0: 'ec53e0c32e6cb2e0', 1: '43ba5907de193a24', 2: '3cf9d2597ee4c258', 3: '4a148358f2e6fd3b',
    4: 'ac6089e431045a38', 5: '7ec1603d4e61b34a', 6: '673fb8a7dfb17bf4', 7: '181fb1c6e801e096',
    8: '2f0c0ce43a58277a', 9: 'adf2eaa70a064c4e', 10: 'dee2dedc55c6c1f4', 11: '2ce3f93309b31b86',
    12: '4a33ab80c4c6290c', 13: '0f0494095b908763', 14: 'de067718dd8b9446', 15: '635cb650901c144f',
    16: '95e1e94686151318', 17: '2c74913717064611', 18: '5f12d11abc4557de', 19: 'eb3f8c2fb77dcc1b',
    20: 'eefc2cefc6818305', 21: '80929077cf6cc558', 22: '5cc4866751a6b089', 23: 'fa2cf3cd9bdf8358',
    24: '471960c7c727380c', 25: '2c3a551b15c61c5f', 26: 'e5bd4021392eef3f',
}


@pytest.mark.parametrize("case", range(len(_CASES)), ids=lambda c: "-".join(
    str(x) for x in _CASES[c][:3]))
def test_live_runs_unchanged(case: int) -> None:
    name, params, net, shares = _CASES[case]
    assert _trajectory_hash(name, params, net, shares) == _BEFORE[case]


# -- kernels read the others through ``seen`` -------------------------------------------------
# Every agent privately holds A but voices B; one sweep without committed agents. With the
# rules below, an A agent reached by an update is converted (q-voter p=0, majority rule,
# majority vote f=0, Sznajd) or hears B and becomes AB (binary agreement); a Centola agent with
# memory 1 records B at its first interaction and plays B from its second one. So X, the
# number of agents no longer privately A, has an exact mean (below), whereas kernels that read
# private stances leave X = 0. Tolerance: X is a function of the sweep's N independent draws,
# and changing one draw changes X by at most c (the agents its old and new versions reach), so
# by McDiarmid's inequality P(|X − E X| >= t) <= 2 exp(−2t²/(N c²)); t is set for 1e-6.
M = 2000


def _reached(n: int, per_draw: int) -> float:
    """Mean number of agents reached at least once by n draws that each reach a given agent
    with probability per_draw / n."""
    return n * (1.0 - (1.0 - per_draw / n) ** n)


def _twice(n: int) -> float:
    """Mean number of agents taking part in at least two of n interactions (each involves a
    given agent with probability 2/n)."""
    p = 2.0 / n
    return n * (1.0 - (1.0 - p) ** n - n * p * (1.0 - p) ** (n - 1))


_SEEN_NETS = {
    "complete": lambda: complete_graph(M),
    "ring": lambda: lattice(M),
    "square": lambda: lattice((40, 50)),
}

# (model, params, network, E X, c)
_SEEN_CASES = [
    ("qvoter", {"q": 4, "p": 0.0}, "complete", _reached(M, 1), 2),
    ("qvoter", {"q": 4, "p": 0.0, "repetition": True}, "complete", _reached(M, 1), 2),
    ("qvoter", {"q": 2, "p": 0.0}, "ring", _reached(M, 1), 2),
    ("majority_rule", {"r": 3}, "complete", _reached(M, 3), 6),
    ("majority_rule", {"r": 3}, "ring", _reached(M, 3), 6),
    ("majority_rule", {"r": 4, "update": "synchronous"}, "complete", M, 0),
    ("sznajd", {"variant": "mean_field"}, "complete", _reached(M, 1), 2),
    ("sznajd", {"variant": "agree_only"}, "ring", _reached(M, 2), 4),
    ("sznajd", {"variant": "original"}, "ring", _reached(M, 2), 4),
    ("majority_vote", {"f": 0.0}, "complete", _reached(M, 1), 2),
    ("majority_vote", {"f": 0.0}, "square", _reached(M, 1), 2),
    ("majority_vote", {"f": 0.0, "update": "synchronous"}, "complete", M, 0),
    ("majority_vote", {"f": 0.0, "update": "synchronous"}, "square", M, 0),
    ("binary_agreement", {}, "complete", _reached(M, 1), 2),
    ("binary_agreement", {"collapse": "listener_only"}, "complete", _reached(M, 1), 2),
    ("centola", {"memory": 1}, "complete", _twice(M), 4),
]


def _all_a_voicing_b(name: str, params: dict, net: str, *, express: bool):
    model = get_model(name)(**params)
    network = _SEEN_NETS[net]()
    k = len(model.stances)
    state = _state(model, network, (1.0,) + (0.0,) * (k - 1), seed=3, committed=0.0)
    state.separate_expression()
    state.expressed[:] = 1
    state.expressed_counts[:] = 0
    state.expressed_counts[1] = state.n
    if express:
        state.see_expressed()
    model.advance(state, network, 1, False)
    return model, state


@pytest.mark.parametrize("case", _SEEN_CASES, ids=lambda c: f"{c[0]}-{c[2]}-{c[1]}")
def test_kernels_read_seen(case) -> None:
    name, params, net, mean, c = case
    model, state = _all_a_voicing_b(name, params, net, express=True)
    k = len(model.stances)
    moved = state.n - int(state.counts[0])
    t = np.sqrt(state.n * c**2 * np.log(2e6) / 2)
    assert abs(moved - mean) <= t, (moved, mean, t)
    assert moved > 0.3 * state.n
    # private counts exact; what agents voice is not touched by the kernels
    assert state.counts.tolist() == np.bincount(state.stance, minlength=k).tolist()
    assert (state.expressed == 1).all()
    assert state.expressed_counts.tolist() == [0, state.n] + [0] * (k - 2)
    if name == "binary_agreement":  # A agents that heard B hold AB (or B after a 2nd B)
        assert state.counts[2] > 0


@pytest.mark.parametrize("case", _SEEN_CASES, ids=lambda c: f"{c[0]}-{c[2]}-{c[1]}")
def test_private_stances_alone_do_not_move(case) -> None:
    """Control: the same state read live (seen is stance, everyone A) stays all A."""
    name, params, net, _, _ = case
    _, state = _all_a_voicing_b(name, params, net, express=False)
    assert state.live
    assert int(state.counts[0]) == state.n
