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


def pytest_sessionstart(session: pytest.Session) -> None:
    """With several test processes (``-n auto``), compile the kernels first, in two
    processes (``tests/_warm.py``), so that the workers and the command-line processes the
    tests start load them from Numba's cache instead of each compiling them again (on a
    fresh clone). Nothing is checked here: a failure shows up in the tests."""
    import subprocess
    import sys
    from pathlib import Path

    config = session.config
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    warm = Path(__file__).with_name("_warm.py")
    procs = [subprocess.Popen([sys.executable, str(warm), str(k), "2"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for k in range(2)]
    for p in procs:
        try:
            p.wait(timeout=300)
        except subprocess.TimeoutExpired:
            p.kill()


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
