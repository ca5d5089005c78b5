"""From a scenario's ``[network]`` (and ``[population]``) to a built network, with one cache
shared by every way of running many runs.

The network of run ``r`` draws from the stream ``(NETWORK,)`` (one network for all runs) or
``(NETWORK, r + 1)`` with ``network.resample``. A ``homophily`` network first synthesises
the population (stream ``POPULATION``, a child of the network's) and, with border flows,
every arrival slot (``ARRIVALS``), and carries their attributes (group, region, age band,
origin).

Examples
--------
>>> from steppe.scenario.schema import CompleteSpec
>>> build(CompleteSpec(kind="complete", n=10), seed=0).n
10
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import networks as nw
from ..errors import ParameterError
from ..networks.base import Network
from ..networks.homophily import homophily_network
from ..population import synthesize
from ..population.arrivals import ArrivalPool, with_arrivals
from ..rng import Stream, stream_seed, substream
from ..scenario.loaded import LoadedScenario
from ..scenario.schema import (
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

__all__ = ["build", "cached_network", "clear_cache", "network_key", "network_seed"]


def network_seed(seed: int, run: int | None = None) -> np.random.SeedSequence:
    """The seed of the network: shared by all runs, or one per run when resampled."""
    return stream_seed(seed, Stream.NETWORK) if run is None else stream_seed(
        seed, Stream.NETWORK, run + 1)


def build(spec: NetworkSpec, *, seed: int | np.random.SeedSequence,
          base_dir: Path | None = None, population: PopulationSpec | None = None,
          arrivals: Sequence[ArrivalPool] = ()) -> Network:
    """Build the network a scenario describes; random builders draw from ``seed``.

    A ``homophily`` network first synthesises the ``population`` and carries its attributes
    (group, region, age band) on the network. With ``arrivals`` (border flows) it also holds
    every arrival slot, wired in by the same rules, and an ``origin`` attribute (resident or
    the arrival flow's name)."""
    match spec:
        case HomophilySpec():
            if population is None:
                raise ParameterError("a homophily network needs a [population] table",
                                     field="kind", given="homophily")
            ss = seed if isinstance(seed, np.random.SeedSequence) else (
                np.random.SeedSequence(seed))
            try:
                pop = synthesize(population.agents(), groups=population.shares("groups"),
                                 regions=population.shares("regions"),
                                 ages=population.shares("ages"),
                                 group_by_region=population.group_by_region,
                                 age_by_group=population.age_by_group,
                                 seed=substream(ss, Stream.POPULATION), exact=population.exact,
                                 languages=population.shares("languages"),
                                 language_by_group=population.language_by_group)
            except ParameterError as exc:
                raise ParameterError(exc.message, field=f"population.{exc.field or ''}",
                                     allowed=exc.allowed, given=exc.given) from None
            origin = None
            if any(a.n > 0 for a in arrivals):
                pop, codes, labels = with_arrivals(pop, arrivals,
                                                   seed=substream(ss, Stream.ARRIVALS))
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


def network_key(scenario: LoadedScenario, run: int,
                arrivals: Sequence[ArrivalPool]) -> str:
    """What the network of run ``run`` depends on, as text: two runs (of any scenarios)
    with the same key share one network."""
    spec = scenario.spec
    resample = spec.network.resample
    return json.dumps({
        "network": spec.network.model_dump(mode="json"),
        "population": (spec.population.model_dump(mode="json")
                       if spec.population is not None else None),
        "arrivals": [dataclasses.asdict(a) for a in arrivals],
        "seed": spec.seed, "run": run if resample else None,
        "base_dir": str(scenario.base_dir) if spec.network.kind == "edgelist" else None,
    }, sort_keys=True, default=str)


_CACHE: dict[str, Network] = {}


def cached_network(scenario: LoadedScenario, run: int,
                   arrivals: Sequence[ArrivalPool] = ()) -> Network:
    """The network of run ``run``, built once per process for consecutive runs that share
    it (one network is kept at a time, so memory stays that of one run).

    Raises
    ------
    ScenarioError
        A network the scenario's parameters cannot build (the message names the field).
    """
    key = network_key(scenario, run, arrivals)
    net = _CACHE.get(key)
    if net is None:
        _CACHE.clear()
        spec = scenario.spec
        seed = network_seed(spec.seed, run if spec.network.resample else None)
        with scenario.errors(prefix="network"):
            net = build(spec.network, seed=seed, base_dir=scenario.base_dir,
                        population=spec.population, arrivals=arrivals)
        _CACHE[key] = net
    return net


def clear_cache() -> None:
    """Forget the cached network."""
    _CACHE.clear()


def _jsonable(v: Any) -> bool:
    return isinstance(v, str | int | float | bool | list | tuple | type(None))


def describe(net: Network) -> dict[str, Any]:
    """The network as the metadata describe it."""
    return {"name": net.name, "n": net.n, "edges": net.n_edges,
            "mean_degree": round(net.mean_degree(), 6), "directed": net.directed,
            "params": {k: v for k, v in net.params.items() if _jsonable(v)}}
