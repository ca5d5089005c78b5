"""Binary agreement: kernel vs a pure-Python reference, exact one-interaction law,
invariants, and the published-result checks."""

from __future__ import annotations

import numpy as np
import pytest

from steppe.engine.state import Committed, init_state
from steppe.errors import ParameterError
from steppe.models import get_model
from steppe.models.binary_agreement import _binary_agreement
from steppe.networks import complete_graph
from steppe.rng import randint
from steppe.validation.binary_agreement import (
    ba_consensus_above,
    ba_critical_fraction,
    ba_metastable_below,
    ba_variants_differ,
    critical_fraction,
)
from steppe.validation.majority_vote import square_lattice

BA = get_model("binary_agreement")
AB = 2


def reference_interaction(stance, committed, nbrs, both, s):
    """One interaction in plain Python, same draws in the same order as the kernel: speaker,
    listener (uniform over the speaker's neighbours), then the word of an AB speaker."""
    n = len(stance)
    sp = int(randint(s, n))
    if len(nbrs[sp]) == 0:
        return
    li = nbrs[sp][int(randint(s, len(nbrs[sp])))]
    word = stance[sp] if stance[sp] != AB else int(randint(s, 2))
    if stance[li] in (word, AB):  # the listener knows the word
        if not committed[li]:
            stance[li] = word
        if both and not committed[sp]:
            stance[sp] = word
    elif not committed[li]:
        stance[li] = AB


def _complete_nbrs_draw(n):
    """Neighbour lists that reproduce the complete graph's draw (randint over n−1, skipping i)."""
    return [[j for j in range(n) if j != i] for i in range(n)]


@pytest.mark.parametrize("collapse", ["both", "listener_only"])
@pytest.mark.parametrize("net", ["complete", "lattice"])
def test_kernel_matches_reference(collapse, net):
    g = complete_graph(10) if net == "complete" else square_lattice(4)
    nbrs = _complete_nbrs_draw(g.n) if net == "complete" else [
        g.neighbors(i).tolist() for i in range(g.n)]
    m = BA(collapse=collapse)
    st = init_state(m, g, shares={"A": 0.3, "B": 0.4, "AB": 0.3},
                    committed=Committed("A", 0.2), seed=8)
    stance = st.stance.astype(int).copy()
    s = st.rng.copy()
    m.advance(st, g, 40, False)
    for _ in range(40 * g.n):
        reference_interaction(stance, st.committed, nbrs, collapse == "both", s)
    assert st.stance.tolist() == stance.tolist()
    assert np.array_equal(st.rng, s)
    assert st.counts.tolist() == np.bincount(st.stance, minlength=3).tolist()


def exact_one_interaction(stance, committed, both):
    """Law of the stance counts after one interaction on the complete graph, by enumerating
    speaker, listener and the AB speaker's word."""
    n = len(stance)
    out = {}
    for sp in range(n):
        for li in range(n):
            if li == sp:
                continue
            words = [(stance[sp], 1.0)] if stance[sp] != AB else [(0, 0.5), (1, 0.5)]
            for w, pw in words:
                s2 = list(stance)
                if s2[li] in (w, AB):
                    if not committed[li]:
                        s2[li] = w
                    if both and not committed[sp]:
                        s2[sp] = w
                elif not committed[li]:
                    s2[li] = AB
                key = tuple(np.bincount(s2, minlength=3).tolist())
                out[key] = out.get(key, 0.0) + pw / (n * (n - 1))
    return out


@pytest.mark.parametrize("collapse", ["both", "listener_only"])
def test_one_interaction_law(collapse):
    # Empirical law of the counts after one interaction vs enumeration, 40000 draws, four
    # binomial standard errors per outcome. Listener-only vs both, letting committed agents
    # change, or allowing the speaker to talk to itself each move an outcome by > 0.03.
    start = np.array([0, 0, 1, 1, 2, 2], dtype=np.int8)
    committed = np.array([1, 0, 0, 0, 0, 0], dtype=np.bool_)
    both = collapse == "both"
    law = exact_one_interaction(start.astype(int).tolist(), committed, both)
    g = complete_graph(len(start))
    st = init_state(BA(), g, seed=3)
    cmask = BA().consensus_mask()
    draws = 40000
    hits: dict = {}
    for _ in range(draws):
        stance = start.copy()
        counts = np.bincount(stance, minlength=3).astype(np.int64)
        _binary_agreement(stance, stance, committed, counts, True, *g.kernel_args()[1:], both,
                          1, False, cmask, st.rng)
        key = tuple(counts.tolist())
        hits[key] = hits.get(key, 0) + 1
    for k in set(law) | set(hits):
        p = law.get(k, 0.0)
        freq = hits.get(k, 0) / draws
        assert abs(freq - p) < 4 * np.sqrt(max(p * (1 - p), 1e-9) / draws), (k, p, freq)


def test_committed_never_change_and_counts():
    g = complete_graph(200)
    for collapse in ("both", "listener_only"):
        m = BA(collapse=collapse)
        st = init_state(m, g, committed=Committed("A", 0.05), seed=6)
        mask = st.committed.copy()
        for _ in range(30):
            m.advance(st, g, 2, False)
            assert (st.stance[mask] == 0).all()
            assert st.counts.tolist() == np.bincount(st.stance, minlength=3).tolist()


def test_consensus_stops_early_and_ab_is_not_consensus():
    g = complete_graph(300)
    m = BA()
    st = init_state(m, g, committed=Committed("A", 0.2), seed=1)
    dt = m.advance(st, g, 1000, True)
    assert dt < 1000 and st.counts.tolist() == [300, 0, 0]
    st = init_state(m, g, shares={"AB": 1.0}, seed=1)
    assert m.consensus_stance(st) is None


@pytest.mark.parametrize("kw", [{"collapse": "speaker_only"}, {"p": 0.1}])
def test_bad_params(kw):
    with pytest.raises(ParameterError):
        BA(**kw)


def test_same_seed_same_result():
    g = complete_graph(500)
    res = []
    for _ in range(2):
        st = init_state(BA(), g, committed=Committed("A", 0.09), seed=21)
        BA().advance(st, g, 30, False)
        res.append(st.stance.copy())
    assert np.array_equal(*res)


def test_mean_field_listener_only_threshold():
    # Published (Baronchelli et al. 2007 rule, Xie et al. 2011 comparison): ≈ 0.072.
    assert abs(critical_fraction("listener_only") - 0.072) < 1e-3


@pytest.mark.parametrize("fn", [ba_critical_fraction, ba_consensus_above,
                                ba_metastable_below, ba_variants_differ])
def test_validation_checks(fn):
    r = fn()
    assert r.passed, (r.measured, r.se, r.expected, r.detail)
