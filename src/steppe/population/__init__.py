"""Synthetic populations: agents with a group, a region and an age band.

:func:`synthesize` builds a :class:`Population` from declared marginal shares and optional
joint tables (group mix per region, age mix per group); see
:mod:`steppe.population.synthetic` for the rule.

Examples
--------
>>> from steppe.population import synthesize
>>> synthesize(10, groups={"a": 0.6, "b": 0.4}, seed=0).table("group").tolist()
[6, 4]
"""

from __future__ import annotations

from .arrivals import ArrivalPool, with_arrivals
from .synthetic import Population, synthesize

__all__ = ["ArrivalPool", "Population", "synthesize", "with_arrivals"]
