"""Arrival slots: the agents who will arrive during a run (border flows), synthesised with
the residents so that the network is built once over everyone.

Every agent who will ever arrive exists from the start, as an *arrival slot*: for each arrival
flow, as many extra agents as the flow brings over the whole run, drawn from the flow's own
group, region and age mix (the national mix where it gives none); their languages are those
of the residents of their group. The homophily network is
built over residents and slots by the same rules, so an arrival's ties are those a member of
its group and region would have. See :mod:`steppe.pressures.flows` for what happens during
the run.

Examples
--------
>>> res = synthesize(8, groups={"a": 0.5, "b": 0.5}, seed=0)
>>> pop, origin, labels = with_arrivals(res, [ArrivalPool("wave", 2, {"b": 1.0})], seed=1)
>>> pop.n, labels, int((origin == 1).sum())
(10, ('resident', 'wave'), 2)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from .synthetic import Population, synthesize

__all__ = ["ArrivalPool", "with_arrivals"]


@dataclass(frozen=True)
class ArrivalPool:
    """Who an arrival flow brings: how many, and their group, region and age mix (labels
    of the resident population; missing labels mean 0; None: the national mix)."""

    name: str
    n: int
    groups: Mapping[str, float] | None = None
    regions: Mapping[str, float] | None = None
    ages: Mapping[str, float] | None = None


def _mix(field_name: str, given: Mapping[str, float] | None, labels: tuple[str, ...],
         national: np.ndarray) -> dict[str, float]:
    if given is None:
        return dict(zip(labels, national.tolist(), strict=True))
    unknown = sorted(set(given) - set(labels))
    if unknown:
        raise ParameterError("unknown label", field=f"{field_name}.{unknown[0]}",
                             allowed=", ".join(labels), given=unknown[0])
    return {label: float(given.get(label, 0.0)) for label in labels}


def with_arrivals(residents: Population, pools: Sequence[ArrivalPool], *,
                  seed: int | np.random.SeedSequence) -> tuple[Population, np.ndarray,
                                                                tuple[str, ...]]:
    """The residents plus every arrival slot, sorted by region then group (as the
    homophily network needs), and each agent's origin: 0 for residents, ``1 + f`` for
    the slots of ``pools[f]``.

    Examples
    --------
    >>> res = synthesize(8, groups={"a": 0.5, "b": 0.5}, seed=0)
    >>> pop, origin, labels = with_arrivals(res, [ArrivalPool("wave", 2, {"b": 1.0})], seed=1)
    >>> pop.n, labels, pop.table("group").tolist(), int((origin == 1).sum())
    (10, ('resident', 'wave'), [4, 6], 2)
    """
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    parts = [residents]
    origin = [np.zeros(residents.n, dtype=np.int8)]
    n_tot = residents.n
    for f, pool in enumerate(pools):
        if pool.n <= 0:
            continue
        national = {a: residents.table(a) / residents.n for a in ("group", "region", "age")}
        g = _mix(f"flows.{pool.name}.groups", pool.groups, residents.group_labels,
                 national["group"])
        r = _mix(f"flows.{pool.name}.regions", pool.regions, residents.region_labels,
                 national["region"])
        a = _mix(f"flows.{pool.name}.ages", pool.ages, residents.age_labels, national["age"])
        langs = _languages(residents, g)
        p = synthesize(pool.n, groups=g, regions=r, ages=a,
                       seed=np.random.SeedSequence(ss.entropy,
                                                   spawn_key=(*ss.spawn_key, f)),
                       **langs)
        parts.append(p)
        origin.append(np.full(p.n, f + 1, dtype=np.int8))
        n_tot += p.n
    labels = ("resident", *(p.name for p in pools))
    if len(parts) == 1:
        return residents, origin[0], labels
    group = np.concatenate([p.group for p in parts])
    region = np.concatenate([p.region for p in parts])
    age = np.concatenate([p.age for p in parts])
    language = np.concatenate([p.language for p in parts])
    org = np.concatenate(origin)
    key = region.astype(np.int64) * len(residents.group_labels) + group
    order = np.argsort(key, kind="stable")
    pop = Population(n=n_tot, group=group[order], group_labels=residents.group_labels,
                     region=region[order], region_labels=residents.region_labels,
                     age=age[order], age_labels=residents.age_labels,
                     language=language[order], language_labels=residents.language_labels)
    return pop, org[order], labels


def _languages(residents: Population, groups: Mapping[str, float]) -> dict[str, object]:
    """Arrivals speak as the residents of their group do: the residents' language mix
    within each group, and the national mix it implies for the arrivals' groups."""
    if len(residents.language_labels) < 2:
        return {}
    table = residents.crosstab("group", "language").astype(float)
    rows = table.sum(axis=1, keepdims=True)
    everyone = table.sum(axis=0) / table.sum()
    mix = np.where(rows > 0, table / np.maximum(rows, 1.0), everyone)  # no residents: national
    weights = np.array([groups.get(label, 0.0) for label in residents.group_labels])
    total = weights.sum()
    national = weights @ mix / total if total > 0 else everyone
    by_group = {label: dict(zip(residents.language_labels, row.tolist(), strict=True))
                for label, row in zip(residents.group_labels, mix, strict=True)}
    return {"languages": dict(zip(residents.language_labels, national.tolist(), strict=True)),
            "language_by_group": by_group}
