"""Lattice, star, stochastic block model and I/O round trips."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp

from steppe.errors import ParameterError
from steppe.networks import (
    erdos_renyi,
    from_networkx,
    from_scipy,
    lattice,
    read_edgelist,
    star,
    stochastic_block_model,
)

from .test_csr_common import assert_well_formed


def nbrs(g, i):
    return set(g.neighbors(i).tolist())


def test_ring_and_chain():
    g = lattice((6,))
    assert g.shape == (6,) and g.name == "lattice"
    assert nbrs(g, 0) == {1, 5} and nbrs(g, 5) == {4, 0}
    c = lattice((6,), periodic=False)
    assert nbrs(c, 0) == {1} and nbrs(c, 3) == {2, 4} and c.n_edges == 5
    assert lattice((2,)).n_edges == 1  # wrap repeats the single edge: collapsed
    assert lattice(5).shape == (5,)


def test_square_lattice_exact_neighbours():
    l1, l2 = 4, 5
    g = lattice((l1, l2))
    assert g.shape == (l1, l2) and g.n == 20 and g.n_edges == 40
    for r in range(l1):
        for c in range(l2):
            want = {((r + 1) % l1) * l2 + c, ((r - 1) % l1) * l2 + c,
                    r * l2 + (c + 1) % l2, r * l2 + (c - 1) % l2}
            assert nbrs(g, r * l2 + c) == want
    assert nbrs(g, 0) == {1, 4, 5, 15}  # wraps both ways
    ref = nx.grid_2d_graph(l1, l2, periodic=False)
    h = lattice((l1, l2), periodic=False)
    assert h.n_edges == ref.number_of_edges()
    for (r, c), nb in ref.adjacency():
        assert nbrs(h, r * l2 + c) == {rr * l2 + cc for rr, cc in nb}


def test_star():
    g = star(5)
    assert g.degree().tolist() == [4, 1, 1, 1, 1]
    assert star(1).n_edges == 0


# ---------------------------------------------------------------- SBM


def block_edge_counts(g, b):
    rows = np.repeat(np.arange(g.n), g.degree())
    up = rows < g.indices
    ga, gb = g.groups[rows[up]], g.groups[g.indices[up]]
    out = np.zeros((b, b), int)
    np.add.at(out, (np.minimum(ga, gb), np.maximum(ga, gb)), 1)
    return out


@pytest.mark.parametrize("sizes", [[300, 700], [3000, 2500]])  # small: exact; large: sampled
def test_sbm_block_edge_counts(sizes):
    p = np.array([[0.05, 0.01], [0.01, 0.02]])
    g = stochastic_block_model(sizes, probabilities=p, seed=3)
    assert_well_formed(g)
    assert g.groups.dtype == np.int32
    assert g.groups.tolist() == [0] * sizes[0] + [1] * sizes[1]
    counts = block_edge_counts(g, 2)
    for a, c in [(0, 0), (0, 1), (1, 1)]:
        n_pairs = sizes[a] * (sizes[a] - 1) / 2 if a == c else sizes[a] * sizes[c]
        mean = n_pairs * p[a, c]
        se = np.sqrt(n_pairs * p[a, c] * (1 - p[a, c]))  # binomial count
        assert abs(counts[a, c] - mean) < 4.5 * se, (a, c, counts[a, c], mean)


def test_sbm_mixing_gives_mean_degree_and_fractions():
    sizes = [3000, 6000]
    d = 8.0
    mix = [[0.6, 0.4], [0.2, 0.8]]  # 3000 * 0.4 == 6000 * 0.2
    g = stochastic_block_model(sizes, mean_degree=d, mixing=mix, seed=4)
    assert_well_formed(g)
    counts = block_edge_counts(g, 2)
    # expected between-block edges = 3000 * 8 * 0.4 = 9600 (binomial, SE ≈ sqrt(9600))
    assert abs(counts[0, 1] - 9600) < 4.5 * np.sqrt(9600)
    # within block 0: 3000 * 8 * 0.6 / 2 = 7200 edges
    assert abs(counts[0, 0] - 7200) < 4.5 * np.sqrt(7200)
    assert abs(counts[1, 1] - 6000 * 8 * 0.8 / 2) < 4.5 * np.sqrt(19200)


def test_sbm_inconsistent_mixing_names_entries():
    with pytest.raises(ParameterError) as exc:
        stochastic_block_model([100, 200], mean_degree=4, mixing=[[0.5, 0.5], [0.5, 0.5]],
                               seed=0)
    assert exc.value.field == "mixing"
    assert "mixing[0][1]" in str(exc.value) and "mixing[1][0]" in str(exc.value)
    with pytest.raises(ParameterError, match="sum to 1"):
        stochastic_block_model([100, 200], mean_degree=4, mixing=[[0.5, 0.4], [0.2, 0.8]],
                               seed=0)
    with pytest.raises(ParameterError, match="not both"):
        stochastic_block_model([1], probabilities=[[0]], mean_degree=1, mixing=[[1]], seed=0)


def test_sbm_seeds():
    a = stochastic_block_model([50, 60], probabilities=[[0.1, 0.05], [0.05, 0.1]], seed=1)
    b = stochastic_block_model([50, 60], probabilities=[[0.1, 0.05], [0.05, 0.1]], seed=1)
    c = stochastic_block_model([50, 60], probabilities=[[0.1, 0.05], [0.05, 0.1]], seed=2)
    assert np.array_equal(a.indices, b.indices)
    assert not np.array_equal(a.indices, c.indices)


# ---------------------------------------------------------------- I/O


def same_edges(a, b):
    return np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)


def edge_table(g):
    rows = np.repeat(np.arange(g.n), g.degree())
    keep = np.ones(len(rows), bool) if g.directed else rows < g.indices
    return pa.table({"src": rows[keep], "dst": g.indices[keep].astype(np.int64)})


def test_csv_and_parquet_round_trip(tmp_path):
    g = erdos_renyi(200, 5, seed=1)
    t = edge_table(g)
    pq.write_table(t, tmp_path / "e.parquet")
    import pyarrow.csv as pcsv

    pcsv.write_csv(t, tmp_path / "e.csv")
    for f in ("e.parquet", "e.csv"):
        h = read_edgelist(tmp_path / f, source="src", target="dst", n=200)
        assert same_edges(g, h)
        assert_well_formed(h)


def test_directed_edgelist(tmp_path):
    (tmp_path / "d.csv").write_text("source,target\n0,1\n1,2\n2,0\n0,1\n3,3\n")
    g = read_edgelist(tmp_path / "d.csv", directed=True)
    assert g.directed and g.n == 4
    assert g.neighbors(0).tolist() == [1] and g.neighbors(2).tolist() == [0]
    assert g.n_edges == 3  # duplicate collapsed, self-loop dropped


def test_edgelist_errors(tmp_path):
    with pytest.raises(ParameterError, match=r"nope\.csv: file not found"):
        read_edgelist(tmp_path / "nope.csv")
    with pytest.raises(ParameterError, match="not a regular file"):
        read_edgelist("/dev/zero")
    (tmp_path / "fake.parquet").write_text("source,target\n0,1\n")
    with pytest.raises(ParameterError, match=r"fake\.parquet: cannot read as an edge list"):
        read_edgelist(tmp_path / "fake.parquet")
    (tmp_path / "a.csv").write_text("from,to\n0,1\n")
    with pytest.raises(ParameterError, match=r"a.csv.*'source'"):
        read_edgelist(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text("source,target\n0,x\n")
    with pytest.raises(ParameterError, match=r"b.csv.*'target'.*integer"):
        read_edgelist(tmp_path / "b.csv")
    (tmp_path / "c.csv").write_text("source,target\n0,-1\n")
    with pytest.raises(ParameterError, match="negative"):
        read_edgelist(tmp_path / "c.csv")
    (tmp_path / "d.csv").write_text("source,target\n0,7\n")
    with pytest.raises(ParameterError, match="n=5"):
        read_edgelist(tmp_path / "d.csv", n=5)
    (tmp_path / "e.json").write_text("{}")
    with pytest.raises(ParameterError, match="format"):
        read_edgelist(tmp_path / "e.json")


def test_networkx_round_trip():
    g = erdos_renyi(100, 4, seed=2)
    assert same_edges(g, from_networkx(g.to_networkx()))
    h = nx.relabel_nodes(nx.path_graph(4), {0: "d", 1: "c", 2: "b", 3: "a"})
    f = from_networkx(h)
    assert f.params["nodes"] == ["d", "c", "b", "a"]
    assert f.neighbors(0).tolist() == [1]
    d = from_networkx(nx.DiGraph([(0, 1), (1, 2)]), direction="listens")
    assert d.directed and d.neighbors(1).tolist() == [2] and d.neighbors(2).tolist() == []
    assert_well_formed(d, undirected=False)
    r = from_networkx(nx.DiGraph([(0, 1), (1, 2)]), direction="influences")
    assert r.neighbors(1).tolist() == [0] and r.neighbors(2).tolist() == [1]
    with pytest.raises(ParameterError, match="direction"):
        from_networkx(nx.DiGraph([(0, 1)]))


def test_networkx_weights_are_opt_in():
    g = nx.karate_club_graph()  # its edges carry "weight"
    assert from_networkx(g).weights is None
    weighted = from_networkx(g, weight="weight")
    assert weighted.weights is not None and weighted.weights.max() > 1


def test_scipy_round_trip():
    g = erdos_renyi(100, 4, seed=3)
    assert same_edges(g, from_scipy(g.to_scipy()))
    assert same_edges(g, from_scipy(sp.coo_matrix(g.to_scipy())))
    assert same_edges(g, from_scipy(g.to_scipy().toarray()))
    d = from_scipy(np.array([[1, 1, 0], [0, 0, 1], [0, 0, 0]]))
    assert d.directed and d.neighbors(0).tolist() == [1] and d.n_edges == 2
    with pytest.raises(ParameterError):
        from_scipy(np.zeros((2, 3)))
