"""From a network table of a scenario to a built :class:`~steppe.networks.base.Network`.

Examples
--------
>>> from steppe.scenario.schema import CompleteSpec
>>> build_network(CompleteSpec(kind="complete", n=10), seed=0).n
10
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import networks as nw
from ..networks.base import Network
from .schema import (
    BarabasiAlbertSpec,
    CompleteSpec,
    EdgeListSpec,
    ErdosRenyiSpec,
    LatticeSpec,
    NetworkSpec,
    RandomRegularSpec,
    RingSpec,
    StarSpec,
    StochasticBlockSpec,
    WattsStrogatzSpec,
)

__all__ = ["build_network"]


def build_network(spec: NetworkSpec, *, seed: int | np.random.SeedSequence,
                  base_dir: Path | None = None) -> Network:
    """Build the network a scenario describes; random builders draw from ``seed``."""
    match spec:
        case CompleteSpec():
            return nw.complete_graph(spec.n)
        case ErdosRenyiSpec():
            return nw.erdos_renyi(spec.n, spec.mean_degree, seed=seed)
        case RandomRegularSpec():
            return nw.random_regular(spec.n, spec.k, seed=seed)
        case BarabasiAlbertSpec():
            return nw.barabasi_albert(spec.n, spec.m, seed=seed)
        case WattsStrogatzSpec():
            return nw.watts_strogatz(spec.n, spec.k, spec.p, seed=seed)
        case LatticeSpec():
            return nw.lattice(tuple(spec.shape), periodic=spec.periodic)
        case RingSpec():
            return nw.lattice((spec.n,), periodic=True)
        case StarSpec():
            return nw.star(spec.n)
        case StochasticBlockSpec():
            return nw.stochastic_block_model(spec.sizes, probabilities=spec.probabilities,
                                             mean_degree=spec.mean_degree, mixing=spec.mixing,
                                             seed=seed)
        case EdgeListSpec():
            path = Path(spec.path)
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            return nw.read_edgelist(path, source=spec.source, target=spec.target,
                                    directed=spec.directed, n=spec.n, weight=spec.weight)
    raise TypeError(f"no builder for network spec {spec!r}")  # pragma: no cover
