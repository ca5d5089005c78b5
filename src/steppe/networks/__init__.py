"""Network builders. Each returns a :class:`~steppe.networks.base.Network` in CSR form.

Modules: :mod:`~steppe.networks.classic` (lattice, star),
:mod:`~steppe.networks.random_graphs` (Erdős–Rényi, random regular, Barabási–Albert,
Watts–Strogatz), :mod:`~steppe.networks.sbm` (stochastic block model) and
:mod:`~steppe.networks.io` (edge lists, networkx, scipy).

Examples
--------
>>> from steppe.networks import complete_graph, lattice
>>> complete_graph(10).n
10
>>> lattice((3, 3)).n_edges
18
"""

from __future__ import annotations

from .base import Network, complete_graph, random_neighbor, restrict
from .classic import lattice, star
from .homophily import homophily_network
from .io import from_networkx, from_scipy, read_edgelist
from .random_graphs import barabasi_albert, erdos_renyi, random_regular, watts_strogatz
from .sbm import stochastic_block_model

__all__ = [
    "Network",
    "barabasi_albert",
    "complete_graph",
    "erdos_renyi",
    "from_networkx",
    "from_scipy",
    "homophily_network",
    "lattice",
    "random_neighbor",
    "random_regular",
    "read_edgelist",
    "restrict",
    "star",
    "stochastic_block_model",
    "watts_strogatz",
]
