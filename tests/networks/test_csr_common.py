"""Contract shared by every builder: well-formed CSR, seeds, parameter errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steppe.errors import ParameterError
from steppe.networks import (
    Network,
    barabasi_albert,
    erdos_renyi,
    lattice,
    random_regular,
    star,
    stochastic_block_model,
    watts_strogatz,
)


def assert_well_formed(g: Network, *, undirected: bool = True) -> None:
    """indptr int64 monotone from 0; indices int32 in range; rows strictly increasing (sorted,
    no duplicates); no self-loops; symmetric when undirected."""
    assert g.indptr.dtype == np.int64 and g.indices.dtype == np.int32
    assert g.indptr.shape == (g.n + 1,)
    assert g.indptr[0] == 0 and g.indptr[-1] == len(g.indices)
    assert np.all(np.diff(g.indptr) >= 0)
    if len(g.indices):
        assert g.indices.min() >= 0 and g.indices.max() < g.n
    rows = np.repeat(np.arange(g.n), np.diff(g.indptr))
    assert not np.any(rows == g.indices), "self-loop"
    same_row = rows[1:] == rows[:-1]
    assert np.all(np.diff(g.indices.astype(np.int64))[same_row] > 0), "unsorted or duplicate"
    if undirected:
        assert not g.directed
        fwd = np.sort(rows.astype(np.int64) * g.n + g.indices)
        bwd = np.sort(g.indices.astype(np.int64) * g.n + rows)
        assert np.array_equal(fwd, bwd), "not symmetric"


RANDOM_BUILDERS = {
    "erdos_renyi": lambda seed: erdos_renyi(300, 6, seed),
    "erdos_renyi_sampled": lambda seed: erdos_renyi(5000, 4, seed),  # > 2**22 pairs
    "random_regular": lambda seed: random_regular(200, 5, seed),
    "barabasi_albert": lambda seed: barabasi_albert(300, 3, seed),
    "watts_strogatz": lambda seed: watts_strogatz(300, 6, 0.2, seed),
    "sbm": lambda seed: stochastic_block_model([100, 3500], probabilities=[[0.1, 0.01],
                                                                           [0.01, 0.002]],
                                               seed=seed),
}


@pytest.mark.parametrize("name", list(RANDOM_BUILDERS))
def test_random_builders_contract(name):
    build = RANDOM_BUILDERS[name]
    a = build(1)
    assert_well_formed(a)
    assert a.params
    b = build(1)
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    c = build(np.random.SeedSequence(1))  # int and SeedSequence(int) agree
    assert np.array_equal(a.indices, c.indices)
    d = build(2)
    assert not (np.array_equal(a.indptr, d.indptr) and np.array_equal(a.indices, d.indices))
    e = build(np.random.default_rng(5))
    assert_well_formed(e)


def test_deterministic_builders_contract():
    for g in (lattice((7,)), lattice((7,), periodic=False), lattice((4, 5)),
              lattice((4, 5), periodic=False), lattice((2, 3)), lattice((1,)), star(6),
              star(1)):
        assert_well_formed(g)


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda: erdos_renyi(0, 1, 0), "n"),
        (lambda: erdos_renyi(10, 10, 0), "mean_degree"),
        (lambda: erdos_renyi(10, -1, 0), "mean_degree"),
        (lambda: erdos_renyi(10.5, 1, 0), "n"),
        (lambda: erdos_renyi(10, 1, -3), "seed"),
        (lambda: random_regular(5, 3, 0), "k"),
        (lambda: random_regular(5, 5, 0), "k"),
        (lambda: barabasi_albert(3, 3, 0), "n"),
        (lambda: barabasi_albert(10, 0, 0), "m"),
        (lambda: watts_strogatz(10, 3, 0.1, 0), "k"),
        (lambda: watts_strogatz(10, 4, 1.5, 0), "p"),
        (lambda: lattice((3, 0)), "shape"),
        (lambda: lattice((2, 2, 2)), "shape"),
        (lambda: star(0), "n"),
        (lambda: stochastic_block_model([], probabilities=[], seed=0), "sizes"),
        (lambda: stochastic_block_model([2, 2], probabilities=[[0.1, 0.2], [0.3, 0.1]],
                                        seed=0), "probabilities"),
        (lambda: stochastic_block_model([2, 2], probabilities=[[0.1, 2], [2, 0.1]], seed=0),
         "probabilities"),
        (lambda: stochastic_block_model([2, 2], seed=0), "mean_degree"),
    ],
)
def test_bad_parameters_name_the_field(call, field):
    with pytest.raises(ParameterError) as exc:
        call()
    assert exc.value.field == field
    assert field in str(exc.value)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 60), k=st.integers(0, 59), seed=st.integers(0, 2**32))
def test_regular_and_ws_invariants(n, k, seed):
    k = k % n
    if (n * k) % 2 == 0:
        g = random_regular(n, k, seed)
        assert_well_formed(g)
        assert np.all(g.degree() == k)
    k2 = k - (k % 2)
    g = watts_strogatz(n, k2, 0.5, seed)
    assert_well_formed(g)
    assert g.n_edges == n * k2 // 2


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 80), d=st.floats(0, 1), m=st.integers(1, 5),
       seed=st.integers(0, 2**32))
def test_er_ba_invariants(n, d, m, seed):
    g = erdos_renyi(n, d * (n - 1), seed)
    assert_well_formed(g)
    if n > m:
        g = barabasi_albert(n, m, seed)
        assert_well_formed(g)
        assert g.n_edges == m * (n - m)
        assert g.degree().min() >= 1
