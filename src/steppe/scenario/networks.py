"""From a network table of a scenario to a built :class:`~steppe.networks.base.Network`.

Examples
--------
>>> from steppe.scenario.schema import CompleteSpec
>>> build_network(CompleteSpec(kind="complete", n=10), seed=0).n
10
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import networks as nw
from ..errors import ParameterError
from ..networks.base import Network
from ..networks.homophily import homophily_network
from ..population import synthesize
from ..population.flows import ArrivalPool, with_arrivals
from .schema import (
    BarabasiAlbertSpec,
    CompleteSpec,
    EdgeListSpec,
    ErdosRenyiSpec,
    HomophilySpec,
    LatticeSpec,
    NetworkSpec,
    PopulationSpec,
    RandomRegularSpec,
    RingSpec,
    StarSpec,
    StochasticBlockSpec,
    WattsStrogatzSpec,
)

__all__ = ["build_network"]


def build_network(spec: NetworkSpec, *, seed: int | np.random.SeedSequence,
                  base_dir: Path | None = None,
                  population: PopulationSpec | None = None,
                  arrivals: Sequence[ArrivalPool] = ()) -> Network:
    """Build the network a scenario describes; random builders draw from ``seed``.

    A ``homophily`` network first synthesises the ``population`` (from a seed derived from
    ``seed``) and carries its attributes (group, region, age band) on the network. With
    ``arrivals`` (border flows) it also holds every arrival slot, wired in by the same
    rules, and an ``origin`` attribute (resident or the arrival flow's name)."""
    match spec:
        case HomophilySpec():
            if population is None:
                raise ParameterError("a homophily network needs a [population] table",
                                     field="kind", given="homophily")
            ss = seed if isinstance(seed, np.random.SeedSequence) else (
                np.random.SeedSequence(seed))
            pop_seed = np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, 9))
            try:
                pop = synthesize(population.agents(), groups=population.groups,
                                 regions=population.regions, ages=population.ages,
                                 group_by_region=population.group_by_region,
                                 age_by_group=population.age_by_group, seed=pop_seed,
                                 exact=population.exact)
            except ParameterError as exc:
                raise ParameterError(exc.message, field=f"population.{exc.field or ''}",
                                     allowed=exc.allowed, given=exc.given) from None
            origin = None
            if any(a.n > 0 for a in arrivals):
                pop, codes, labels = with_arrivals(
                    pop, arrivals, seed=np.random.SeedSequence(
                        ss.entropy, spawn_key=(*ss.spawn_key, 10)))
                origin = (codes, labels)
            net = homophily_network(pop, mean_degree=spec.mean_degree,
                                    within_group=spec.within_group,
                                    within_region=spec.within_region, seed=ss,
                                    equal_degree=spec.equal_degree)
            attributes = dict(pop.attributes())
            if origin is not None:
                attributes["origin"] = origin
            return dataclasses.replace(net, attributes=attributes)
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
