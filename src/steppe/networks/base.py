"""The network type every builder returns and every kernel reads.

A :class:`Network` is a graph in compressed sparse row (CSR) form: ``indptr`` (int64, length
``n + 1``) and ``indices`` (int32), so that the neighbours of agent ``i`` are
``indices[indptr[i]:indptr[i + 1]]``. Undirected graphs store each edge in both directions.
"Neighbour" means "someone whose stance the agent sees": in a directed graph the row of ``i``
lists the agents that ``i`` listens to.

The complete graph is implicit: ``indptr`` and ``indices`` are empty and kernels draw a
uniformly random other agent instead of reading a row, so mean-field runs need no memory
for edges.

Memory: 8 bytes per agent for ``indptr`` and 4 bytes per stored (directed) edge, i.e. 8 bytes
per undirected edge; a 20-million-agent graph of mean degree 10 takes 160 MB + 800 MB.

Examples
--------
>>> import numpy as np
>>> g = Network.from_csr(np.array([0, 1, 2]), np.array([1, 0]), name="pair")
>>> g.n, g.n_edges, g.degree().tolist()
(2, 1, [1, 1])
>>> complete_graph(5).n_edges
10
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit

from ..errors import ParameterError
from ..rng import randint, randint_excluding
from ._csr import filter_rows, refilter_rows

__all__ = ["Network", "complete_graph", "random_neighbor", "restrict"]

_EMPTY_PTR = np.zeros(0, dtype=np.int64)
_EMPTY_IDX = np.zeros(0, dtype=np.int32)


@dataclass(frozen=True, eq=False)
class Network:
    """A graph on agents ``0 .. n-1`` stored as CSR arrays (or implicit when complete).

    Attributes
    ----------
    n : int
        Number of agents.
    indptr : numpy.ndarray
        int64 offsets of length ``n + 1``; empty for the implicit complete graph.
    indices : numpy.ndarray
        int32 neighbour ids; empty for the implicit complete graph.
    name : str
        The builder that made it (``"erdos_renyi"``, ``"lattice"``, ...).
    directed : bool
        Whether rows are one-directional (``i`` listens to ``indices[...]``).
    groups : numpy.ndarray or None
        Optional int32 group (block) label of each agent, e.g. from a stochastic block model.
    shape : tuple of int or None
        Geometry of lattices (``(L,)`` for a ring, ``(L, L)`` for a square lattice).
    params : dict
        The parameters it was built with, for metadata.
    weights : numpy.ndarray or None
        Optional float64 weight of every stored entry, aligned with ``indices`` (the weight
        of ``i → indices[e]``); None for an unweighted network. Models that use influence
        weights (e.g. Friedkin–Johnsen) read it; the others ignore it.
    """

    n: int
    indptr: np.ndarray
    indices: np.ndarray
    name: str = "custom"
    directed: bool = False
    groups: np.ndarray | None = None
    shape: tuple[int, ...] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    weights: np.ndarray | None = None
    #: agent attributes carried along (e.g. from a synthetic population):
    #: name -> (codes per agent, level labels); used for breakdowns, polls and per-group
    #: parameters
    attributes: dict[str, tuple[np.ndarray, tuple[str, ...]]] | None = None

    @classmethod
    def from_csr(
        cls,
        indptr: np.ndarray,
        indices: np.ndarray,
        *,
        name: str = "custom",
        directed: bool = False,
        groups: np.ndarray | None = None,
        shape: tuple[int, ...] | None = None,
        params: dict[str, Any] | None = None,
        weights: np.ndarray | None = None,
    ) -> Network:
        """Wrap CSR arrays, converting them to int64 offsets and int32 neighbours (and the
        optional per-entry ``weights`` to float64)."""
        indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        indices = np.ascontiguousarray(indices, dtype=np.int32)
        n = len(indptr) - 1
        if n < 1:
            raise ValueError("a network needs at least one agent (indptr of length >= 2)")
        if indptr[0] != 0 or indptr[-1] != len(indices):
            raise ValueError("indptr must start at 0 and end at len(indices)")
        if groups is not None:
            groups = np.ascontiguousarray(groups, dtype=np.int32)
            if groups.shape != (n,):
                raise ValueError(f"groups must have one label per agent ({n}), got {groups.shape}")
        if weights is not None:
            weights = np.ascontiguousarray(weights, dtype=np.float64)
            if weights.shape != indices.shape:
                raise ValueError(f"weights must have one value per stored edge "
                                 f"({len(indices)}), got {weights.shape}")
        return cls(
            n=n,
            indptr=indptr,
            indices=indices,
            name=name,
            directed=directed,
            groups=groups,
            shape=shape,
            params=dict(params or {}),
            weights=weights,
        )

    @property
    def complete(self) -> bool:
        """True for the implicit complete graph (no stored edges)."""
        return self.indptr.shape[0] == 0

    @property
    def n_edges(self) -> int:
        """Number of edges (undirected edges counted once)."""
        if self.complete:
            return self.n * (self.n - 1) // 2
        m = int(self.indptr[-1])
        return m if self.directed else m // 2

    def degree(self) -> np.ndarray:
        """Degree (row length) of every agent, as int64."""
        if self.complete:
            return np.full(self.n, self.n - 1, dtype=np.int64)
        return np.diff(self.indptr)

    def mean_degree(self) -> float:
        """Mean row length."""
        if self.complete:
            return float(self.n - 1)
        return float(self.indptr[-1]) / self.n

    def neighbors(self, i: int) -> np.ndarray:
        """Neighbours of agent ``i`` (materialised even for the complete graph)."""
        if self.complete:
            return np.concatenate([np.arange(i), np.arange(i + 1, self.n)]).astype(np.int32)
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    @property
    def nbytes(self) -> int:
        """Bytes held by the CSR arrays (and group labels, and weights)."""
        extra = 0 if self.groups is None else self.groups.nbytes
        extra += 0 if self.weights is None else self.weights.nbytes
        return self.indptr.nbytes + self.indices.nbytes + extra

    def to_scipy(self):
        """The adjacency matrix as a ``scipy.sparse.csr_array``, holding the weights if the
        network has any (not for the complete graph at large n: it materialises every
        edge)."""
        import scipy.sparse as sp

        if self.complete:
            dense = np.ones((self.n, self.n), dtype=np.int8) - np.eye(self.n, dtype=np.int8)
            return sp.csr_array(dense)
        data = np.ones(len(self.indices), dtype=np.int8) if self.weights is None else (
            self.weights)
        return sp.csr_array((data, self.indices, self.indptr), shape=(self.n, self.n))

    def to_networkx(self):
        """The graph as a networkx (Di)Graph."""
        import networkx as nx

        g = nx.DiGraph() if self.directed else nx.Graph()
        g.add_nodes_from(range(self.n))
        if self.complete:
            g.add_edges_from((i, j) for i in range(self.n) for j in range(i + 1, self.n))
            return g
        src = np.repeat(np.arange(self.n), np.diff(self.indptr))
        g.add_edges_from(zip(src.tolist(), self.indices.tolist(), strict=True))
        return g

    def kernel_args(self) -> tuple[bool, np.ndarray, np.ndarray]:
        """``(complete, indptr, indices)`` as the Numba kernels take them."""
        if self.complete:
            return True, _EMPTY_PTR, _EMPTY_IDX
        return False, self.indptr, self.indices

    def __repr__(self) -> str:
        kind = "implicit complete" if self.complete else f"{self.n_edges} edges"
        return f"Network(name={self.name!r}, n={self.n}, {kind})"


def complete_graph(n: int) -> Network:
    """The complete graph on ``n`` agents, stored implicitly (no edges in memory).

    Examples
    --------
    >>> g = complete_graph(1000)
    >>> g.complete, g.nbytes
    (True, 0)
    """
    if n < 2:
        raise ValueError(f"the complete graph needs n >= 2, got {n}")
    return Network(n=int(n), indptr=_EMPTY_PTR, indices=_EMPTY_IDX, name="complete",
                   params={"n": int(n)})


@njit(inline="always", cache=True)
def random_neighbor(s, i, n, complete, indptr, indices):
    """A uniformly random neighbour of ``i``, or -1 if ``i`` has none.

    On the implicit complete graph it is a uniformly random agent other than ``i``.
    """
    if complete:
        return randint_excluding(s, n, i)
    a = indptr[i]
    d = indptr[i + 1] - a
    if d == 0:
        return -1
    return np.int64(indices[a + randint(s, d)])


def restrict(full: Network, present: np.ndarray, previous: Network | None = None,
             who: np.ndarray | None = None,
             into: tuple[np.ndarray, np.ndarray] | None = None) -> Network:
    """The ties among present agents (absent agents keep their ids and have no ties): the
    network the kernels see under border flows, recomputed when someone comes or goes.

    Given the ``previous`` restriction of ``full`` and the agents ``who`` came or went
    since, only their rows and their neighbours' are filtered again (the rest is copied):
    the same network, without a pass over every tie's two ends.

    ``into``: arrays ``(indptr, indices)`` to write the result into (``indptr`` of
    ``n + 1`` 64-bit integers; ``indices`` long enough, else a new array is made), e.g.
    those of a restriction no longer in use: each day's flows then allocate nothing.
    They must not be ``previous``'s own.

    Examples
    --------
    >>> from steppe.networks import lattice
    >>> g = restrict(lattice((5,)), np.array([True, True, False, True, True]))
    >>> g.degree().tolist()
    [2, 1, 0, 1, 2]
    """
    if full.complete:
        raise ParameterError("border flows need an explicit network (not the complete graph)",
                             field="flows", given=full.name)
    if full.weights is not None:
        raise ParameterError("border flows do not support weighted networks", field="flows",
                             given=full.name)
    ptr, room = into if into is not None else (np.empty(full.n + 1, dtype=np.int64), None)
    if previous is not None and (ptr is previous.indptr or (
            room is not None and np.shares_memory(room, previous.indices))):
        raise ValueError("restrict: `into` must not hold the previous restriction")
    present = np.ascontiguousarray(present, np.bool_)
    if previous is not None and who is not None and not previous.complete and (
            previous.n == full.n):
        idx = refilter_rows(full.indptr, full.indices, present, previous.indptr,
                            previous.indices, who, ptr, room)
    else:
        idx = filter_rows(full.indptr, full.indices, present, ptr, room)
    return dataclasses.replace(full, indptr=ptr, indices=idx)
