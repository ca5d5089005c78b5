"""Shared fixtures: small networks every model is defined on."""

from __future__ import annotations

import numpy as np
import pytest

from steppe.networks.base import Network, complete_graph


def ring(n: int) -> Network:
    """A ring built by hand (independent of the network builders under test)."""
    i = np.arange(n)
    nbrs = np.sort(np.stack([(i - 1) % n, (i + 1) % n], axis=1), axis=1).reshape(-1)
    return Network.from_csr(np.arange(0, 2 * n + 1, 2), nbrs, name="lattice", shape=(n,))


@pytest.fixture(params=["complete", "ring"])
def small_network(request) -> Network:
    return complete_graph(60) if request.param == "complete" else ring(60)
