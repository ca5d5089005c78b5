"""Granovetter threshold model: published results, a pure-Python reference of the synchronous
iteration, monotonicity, committed instigators, thresholds from lists and files, fixed points."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from steppe.distributions import Normal, Uniform
from steppe.engine import Committed, init_state, simulate
from steppe.errors import ParameterError
from steppe.models import get_model
from steppe.networks import complete_graph, erdos_renyi
from steppe.validation import all_checks
from steppe.validation.granovetter import run_to_rest

from ..conftest import ring

G = get_model("granovetter")


@pytest.mark.parametrize("chk", [c for c in all_checks() if c.model == "granovetter"],
                         ids=lambda c: c.name)
def test_published_results(chk):
    res = chk.run()
    assert res.passed, res


def test_entry5_exact_one_step_per_agent():
    """Thresholds 0..99: one agent joins per synchronous step (Granovetter's iteration)."""
    g = complete_graph(100)
    m = G(thresholds=list(range(100)))
    st = init_state(m, g, seed=0)
    for t in range(1, 101):
        assert m.advance(st, g, 1, stop_at_consensus=False) == 1.0
        assert st.counts[1] == t
    m = G(thresholds=[0, 2, *range(2, 100)])
    st = init_state(m, g, seed=0)
    assert m.advance(st, g, 1000, stop_at_consensus=True) == 2.0  # the step that changes nothing
    assert st.counts[1] == 1 and st.stance[0] == 1 and m.is_frozen(st, g)


# -- a pure-Python reference of the synchronous rule ------------------------------------------
def _reference_steps(stance, committed, theta, nbrs, fraction, reversible, steps):
    """Yield the stances after each synchronous step; ``nbrs`` None means complete graph."""
    s = [int(x) for x in stance]
    n = len(s)
    for _ in range(steps):
        new = list(s)
        for i in range(n):
            if committed[i]:
                continue
            others = [j for j in range(n) if j != i] if nbrs is None else nbrs[i]
            a = sum(s[j] for j in others)
            k = len(others)
            x = (a / k if k > 0 else 0.0) if fraction else float(a)
            wants = x >= theta[i]
            new[i] = 1 if wants or (not reversible and s[i] == 1) else 0
        s = new
        yield np.array(s, dtype=np.int8)


def _random_thresholds(rng, n, fraction):
    if fraction:  # many exact ties a/k == θ, plus generic values
        pool = np.array([0.0, 0.25, 1 / 3, 0.5, 2 / 3, 0.75, 1.0, 0.2, 0.4])
        th = rng.choice(pool, size=n)
        generic = rng.random(n) < 0.3
        th[generic] = rng.random(int(generic.sum()))
    else:
        th = rng.integers(0, n // 2, size=n).astype(float)
        generic = rng.random(n) < 0.3
        th[generic] = rng.random(int(generic.sum())) * n / 2
    return th


@pytest.mark.parametrize("mode", ["count", "fraction"])
@pytest.mark.parametrize("reversible", [False, True])
@pytest.mark.parametrize("kind", ["complete", "erdos_renyi", "ring"])
def test_kernel_matches_reference(mode, reversible, kind):
    rng = np.random.default_rng(zlib.crc32(f"{mode}{reversible}{kind}".encode()))
    for trial in range(6):
        n = 30 if kind != "erdos_renyi" else 40
        net = {"complete": complete_graph(n), "ring": ring(n),
               "erdos_renyi": erdos_renyi(n, 4.0, seed=trial)}[kind]
        nbrs = None if net.complete else [list(net.neighbors(i)) for i in range(n)]
        theta = _random_thresholds(rng, n, mode == "fraction")
        m = G(mode=mode, reversible=reversible, thresholds=theta.tolist())
        share = float(rng.uniform(0.0, 0.5))
        st = init_state(m, net, shares={"inactive": 1 - share, "active": share},
                        committed=Committed(stance=["inactive", "active"][trial % 2],
                                            fraction=0.1), seed=trial)
        ref = _reference_steps(st.stance.copy(), st.committed, theta, nbrs, mode == "fraction",
                               reversible, 12)
        for expected in ref:
            m.advance(st, net, 1, stop_at_consensus=False)
            assert np.array_equal(st.stance, expected)
            assert np.array_equal(st.counts, np.bincount(st.stance, minlength=2))


@pytest.mark.parametrize("mode", ["count", "fraction"])
def test_irreversible_is_monotone_and_order_independent(mode):
    """Without reversal nobody ever leaves; the final state is the smallest fixed point above
    the start, whatever the update order (so both updates end in the same state)."""
    net = erdos_renyi(400, 6.0, seed=3)
    thr = (Uniform(dist="uniform", low=0, high=0.5) if mode == "fraction"
           else Uniform(dist="uniform", low=0, high=4))
    finals = {}
    for upd in ("synchronous", "random_sequential"):
        m = G(mode=mode, threshold=thr, update=upd)
        st = init_state(m, net, shares={"inactive": 0.97, "active": 0.03}, seed=8)
        prev = st.stance.copy()
        for _ in range(200):
            m.advance(st, net, 1, stop_at_consensus=False)
            assert np.all(st.stance >= prev)  # active never decreases, agent by agent
            prev = st.stance.copy()
        assert m.is_frozen(st, net)
        finals[upd] = st.stance.copy()
    assert np.array_equal(finals["synchronous"], finals["random_sequential"])
    assert finals["synchronous"].sum() > 12  # the cascade went somewhere (3% started)


def test_reversible_agents_leave():
    """Reversible: an agent is active exactly while its condition holds."""
    g = complete_graph(10)
    m = G(thresholds=[5.0] * 10, reversible=True)
    st = init_state(m, g, shares={"inactive": 0.7, "active": 0.3}, seed=0)
    m.advance(st, g, 1, stop_at_consensus=False)
    assert st.counts[1] == 0  # 2 or 3 others active < 5: everyone leaves
    m = G(thresholds=[5.0] * 10)
    st = init_state(m, g, shares={"inactive": 0.7, "active": 0.3}, seed=0)
    m.advance(st, g, 1, stop_at_consensus=False)
    assert st.counts[1] == 3  # irreversible: the three stay


def test_committed_instigators_and_refusers():
    g = complete_graph(50)
    m = G(thresholds=[1.0] * 50)
    st = init_state(m, g, seed=0)
    run_to_rest(m, g, st, 100)
    assert st.counts[1] == 0 and m.is_frozen(st, g)  # nobody starts
    st = init_state(m, g, committed=Committed(stance="active", fraction=0.02), seed=0)
    run_to_rest(m, g, st, 100)
    assert st.counts[1] == 50  # one instigator sets off everyone
    m = G(thresholds=[0.0] * 50)
    st = init_state(m, g, committed=Committed(stance="inactive", fraction=0.2), seed=0)
    run_to_rest(m, g, st, 100)
    assert st.counts[1] == 40 and np.all(st.stance[st.committed] == 0)


def test_reads_what_others_voice():
    """With an expression layer in force the rule reads seen / seen_counts, not stance."""
    for net in (complete_graph(20), ring(20)):
        m = G(thresholds=[1.0] * 20)
        st = init_state(m, net, seed=0)
        st.separate_expression()
        st.expressed[:] = 1
        st.expressed_counts[:] = [0, 20]
        st.see_expressed()
        assert not st.live
        m.advance(st, net, 1, stop_at_consensus=False)
        assert st.counts[1] == 20  # everyone *hears* others active, and joins


def test_fraction_mode_isolated_and_ties():
    # a star of 3 plus an isolated agent; 1 of 2 = 0.5 >= 0.5 exactly
    from steppe.networks.base import Network
    net = Network.from_csr(np.array([0, 2, 3, 4, 4]), np.array([1, 2, 0, 0]))
    m = G(mode="fraction", thresholds=[0.5, 1.0, 1.0, 0.0])
    st = init_state(m, net, seed=0)
    st.stance[1] = 1
    st.recount(2)
    m.advance(st, net, 1, stop_at_consensus=False)
    assert st.stance.tolist() == [1, 1, 0, 1]  # isolated agent with θ = 0 joins (share 0)
    m.advance(st, net, 1, stop_at_consensus=False)
    assert st.stance.tolist() == [1, 1, 1, 1]


def test_thresholds_drawn_clipped_and_seeded():
    g = complete_graph(2000)
    m = G()
    a = init_state(m, g, seed=4).aux["threshold"]
    b = init_state(m, g, seed=4).aux["threshold"]
    c = init_state(m, g, seed=5).aux["threshold"]
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.dtype == np.float64 and a.min() == 0.0  # normal(25, 10) clipped at 0
    assert abs(a.mean() - 25) < 1.0
    f = init_state(G(mode="fraction"), g, seed=4).aux["threshold"]
    assert np.all(f == 0.18)
    wide = G(mode="fraction", threshold=Normal(dist="normal", mean=0.5, sd=2))
    x = init_state(wide, g, seed=1).aux["threshold"]
    assert x.min() == 0.0 and x.max() == 1.0


def test_same_seed_same_run():
    net = erdos_renyi(300, 5, seed=1)
    m = G(mode="fraction", threshold=Uniform(dist="uniform", low=0, high=0.4),
          update="random_sequential", reversible=True)
    out = []
    for _ in range(2):
        st = init_state(m, net, shares={"inactive": 0.9, "active": 0.1}, seed=12)
        tr = simulate(m, net, st, max_sweeps=20, stop_at_consensus=False)
        out.append((st.stance.copy(), tr.counts))
    assert np.array_equal(out[0][0], out[1][0]) and np.array_equal(out[0][1], out[1][1])


def test_is_frozen_and_early_stop():
    g = complete_graph(30)
    m = G(thresholds=[0.0] * 3 + [3.0] * 10 + [20.0] * 17)
    st = init_state(m, g, seed=0)
    assert not m.is_frozen(st, g)  # three instigators want to start
    dt = m.advance(st, g, 100, stop_at_consensus=True)
    assert dt == 3.0 and st.counts[1] == 13 and m.is_frozen(st, g)
    st = init_state(m, g, seed=0)
    assert m.advance(st, g, 100, stop_at_consensus=False) == 100.0  # no early return
    assert st.counts[1] == 13
    rs = G(thresholds=m.params.thresholds, update="random_sequential")
    st = init_state(rs, g, seed=0)
    dt = rs.advance(st, g, 1000, stop_at_consensus=True)
    assert dt < 50 and dt == int(dt) and st.counts[1] == 13 and rs.is_frozen(st, g)


# -- parameters and files -------------------------------------------------------------------
def test_explicit_thresholds_wrong_length():
    m = G(thresholds=[0.0, 1.0, 2.0])
    with pytest.raises(ParameterError) as err:
        init_state(m, complete_graph(5), seed=0)
    e = err.value
    assert e.field == "granovetter.thresholds" and "5" in str(e.allowed) and "3" in str(e.given)


@pytest.mark.parametrize("kw, field", [
    ({"thresholds": [0, -1]}, "granovetter.thresholds[1]"),
    ({"mode": "fraction", "thresholds": [0.5, 1.5]}, "granovetter.thresholds[1]"),
    ({"mode": "fraction", "threshold": 25}, "granovetter.threshold"),
    ({"threshold": -2}, "granovetter.threshold"),
    ({"threshold": 3, "thresholds": [1]}, "granovetter.thresholds"),
    ({"threshold": {"dist": "normal", "mean": 1, "sd": -1}}, "granovetter.threshold.sd"),
    ({"thresholds_file": "nowhere.npy"}, "granovetter.thresholds_file"),
    ({"thresholds_file": "thresholds.xlsx"}, "granovetter.thresholds_file"),
])
def test_bad_parameters(kw, field):
    with pytest.raises(ParameterError) as err:
        G(**kw)
    assert err.value.field == field and err.value.allowed and err.value.given is not None


def test_by_group_needs_groups():
    m = G(threshold_by_group={0: 1.0})
    with pytest.raises(ParameterError, match="threshold_by_group"):
        init_state(m, complete_graph(10), seed=0)


def _write(path, values, fmt):
    if fmt == "npy":
        np.save(path, np.asarray(values))
    elif fmt == "csv":
        path.write_text("threshold\n" + "\n".join(str(v) for v in values) + "\n")
    elif fmt == "csv_bare":
        path.write_text("\n".join(str(v) for v in values) + "\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"id": np.arange(len(values)), "threshold": values}), path)


@pytest.mark.parametrize("fmt, suffix", [("npy", ".npy"), ("csv", ".csv"),
                                         ("csv_bare", ".csv"), ("parquet", ".parquet")])
def test_thresholds_file_round_trip(tmp_path, fmt, suffix):
    values = np.array([0.0, *range(2, 21)], dtype=float)  # the broken riot of 20
    path = tmp_path / f"t{suffix}"
    _write(path, values, fmt)
    m = G(thresholds_file=str(path))
    g = complete_graph(20)
    st = init_state(m, g, seed=0)
    assert np.array_equal(st.aux["threshold"], values)
    run_to_rest(m, g, st, 100)
    assert st.counts[1] == 1
    with pytest.raises(ParameterError) as err:
        init_state(m, complete_graph(21), seed=0)
    assert err.value.field == "granovetter.thresholds_file" and "21" in err.value.allowed


def test_thresholds_file_problems(tmp_path):
    two = tmp_path / "two.csv"
    two.write_text("a,b\n1,2\n")
    with pytest.raises(ParameterError, match="which column"):
        G(thresholds_file=str(two))
    bad = tmp_path / "bad.csv"
    bad.write_text("threshold\n1\nx\n")
    with pytest.raises(ParameterError, match="cannot read"):
        G(thresholds_file=str(bad))
    neg = tmp_path / "neg.npy"
    np.save(neg, np.array([1.0, -3.0]))
    with pytest.raises(ParameterError) as err:
        G(thresholds_file=str(neg))
    assert err.value.field == "granovetter.thresholds_file[1]"
