"""The incremental re-filtering of the ties in force (border flows) against a full pass."""

from __future__ import annotations

import numpy as np
import pytest

from steppe.networks import erdos_renyi, lattice, restrict


@pytest.mark.parametrize("make", [lambda: erdos_renyi(3_000, 8.0, seed=3),
                                  lambda: lattice((40, 40)),
                                  # rows in several parallel blocks of 2**14
                                  lambda: erdos_renyi(40_000, 4.0, seed=5)])
def test_incremental_restriction_equals_a_full_filter(make) -> None:
    full = make()
    rng = np.random.default_rng(11)
    present = rng.random(full.n) < 0.7
    net = restrict(full, present)
    for step in range(40):
        # some arrive, some leave, sometimes none, sometimes the same agent twice
        k = int(rng.integers(0, 60))
        who = rng.integers(0, full.n, size=k)
        present[who] = ~present[who] if step % 3 else True
        net = restrict(full, present, net, who)
        ref = restrict(full, present)
        np.testing.assert_array_equal(net.indptr, ref.indptr)
        np.testing.assert_array_equal(net.indices, ref.indices)
        assert net.indices.dtype == ref.indices.dtype


def test_rows_at_the_edges_of_the_parallel_blocks() -> None:
    """Agents moving on either side of a block edge (rows 2**14 - 1 and 2**14), at the
    first and last rows, and no one at all."""
    full = lattice((200, 200))
    present = np.ones(full.n, bool)
    net = restrict(full, present)
    for who in ([16_383], [16_384], [16_383, 16_384, 32_768], [0, full.n - 1], []):
        who = np.array(who, dtype=np.int64)
        present[who] = ~present[who]
        net = restrict(full, present, net, who)
        ref = restrict(full, present)
        np.testing.assert_array_equal(net.indptr, ref.indptr)
        np.testing.assert_array_equal(net.indices, ref.indices)


def test_without_the_previous_restriction_it_filters_everything() -> None:
    full = lattice((10,))
    present = np.ones(10, bool)
    present[3] = False
    ref = restrict(full, present)
    net = restrict(full, present, None, np.array([3]))
    np.testing.assert_array_equal(net.indices, ref.indices)
    assert net.degree().tolist() == ref.degree().tolist()


def test_restriction_written_into_given_arrays() -> None:
    full = erdos_renyi(500, 6.0, seed=1)
    present = np.ones(500, bool)
    present[::7] = False
    ptr, room = np.empty(501, np.int64), np.empty(len(full.indices), full.indices.dtype)
    net = restrict(full, present, into=(ptr, room))
    assert net.indptr is ptr and np.shares_memory(net.indices, room)
    np.testing.assert_array_equal(net.indices, restrict(full, present).indices)
    present[3] = False
    with pytest.raises(ValueError, match="previous"):
        restrict(full, present, net, np.array([3]), into=(ptr, room))
