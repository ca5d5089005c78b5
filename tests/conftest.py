"""Shared fixtures: small networks every model is defined on; figures written as PNG only
(the SVG and PDF copies that ``steppe report`` writes beside each PNG triple the time a
report takes) except in tests that ask for the ``vectors`` fixture."""

from __future__ import annotations

import numpy as np
import pytest

from steppe.networks.base import Network, complete_graph
from steppe.report import plots


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` first (the order is otherwise kept): with ``-n auto`` each
    worker then starts on a long one and the short ones fill in behind, rather than a long
    one collected last running alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def vectors() -> None:
    """Write the SVG and PDF copies of every figure, as ``steppe report`` does."""


@pytest.fixture(autouse=True)
def _png_only(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if "vectors" not in request.fixturenames:
        monkeypatch.setattr(plots, "VECTOR_FORMATS", ())


def ring(n: int) -> Network:
    """A ring built by hand (independent of the network builders under test)."""
    i = np.arange(n)
    nbrs = np.sort(np.stack([(i - 1) % n, (i + 1) % n], axis=1), axis=1).reshape(-1)
    return Network.from_csr(np.arange(0, 2 * n + 1, 2), nbrs, name="lattice", shape=(n,))


def graph_from_edges(edges: list[tuple[int, int]], n: int) -> Network:
    """An undirected network on ``n`` agents from an edge list (rows in insertion order)."""
    nbrs: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        nbrs[a].append(b)
        nbrs[b].append(a)
    indptr = np.concatenate([[0], np.cumsum([len(x) for x in nbrs])])
    return Network.from_csr(indptr, np.concatenate([np.array(x, dtype=np.int32)
                                                    for x in nbrs]))


@pytest.fixture(params=["complete", "ring"])
def small_network(request) -> Network:
    return complete_graph(60) if request.param == "complete" else ring(60)
