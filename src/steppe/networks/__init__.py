"""Network builders. Each returns a :class:`~steppe.networks.base.Network` in CSR form.

Examples
--------
>>> from steppe.networks import complete_graph
>>> complete_graph(10).n
10
"""

from __future__ import annotations

from .base import Network, complete_graph, random_neighbor

__all__ = ["Network", "complete_graph", "random_neighbor"]
