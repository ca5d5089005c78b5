"""Hegselmann–Krause on the complete graph: the consensus threshold and the 2ε spacing of
clusters.

Opinions start i.i.d. uniform on [0, 1]; every run goes on until the model reports a fixed
point (a step that moves no opinion by more than 1e-9), which HK reaches in finitely many
steps (Dittmer 2001; Lorenz 2005); a check fails if any run has not frozen by its step
limit. Clusters are found as for Deffuant–Weisbuch (:mod:`steppe.validation.deffuant`).

- Consensus threshold: on the complete graph ε_c ≈ 0.2 for large N (Fortunato 2005,
  Int. J. Mod. Phys. C 16, 259; Lorenz 2007). Well above it (ε = 0.3, N = 1000) every run
  ends in one cluster; well below it (ε = 0.15) none does. The bands are P ≥ 0.95 and
  P ≤ 0.05; the standard error is binomial.
- Cluster spacing (the "2R conjecture", Blondel, Hendrickx & Tsitsiklis 2009, IEEE Trans.
  Autom. Control 54, 2586; Wang, Li, E & Chazelle 2017, J. Stat. Phys. 166, 1209): below
  the threshold neighbouring clusters end roughly 2ε apart — at least 2ε for a stable
  equilibrium in the many-agent limit, and observed somewhat above it. The check takes
  ε = 0.05, N = 10,000 (about ten clusters per run), clusters of over 1% of the agents, and
  accepts a mean spacing in [2ε, 3ε]: a window of the wrong width (ε/2 or 2ε: spacing near ε
  or 4ε) fails it. Its standard error is the standard deviation of the spacings over the
  square root of their number.

Examples
--------
>>> share, frozen = one_cluster_share(0.5, 200, runs=3, seed=0)
>>> share, frozen
(1.0, 3)
"""

from __future__ import annotations

import numpy as np

from ..models import get_model
from ..networks import complete_graph
from .base import CheckResult, check
from .deffuant import _binomial_se, cluster_positions, cluster_sizes, ensemble

REFERENCE = "Fortunato 2005, Int. J. Mod. Phys. C 16, 259; Lorenz 2007"


def one_cluster_share(epsilon: float, n: int, runs: int, seed: int,
                      max_steps: int = 5000) -> tuple[float, int]:
    """Share of runs on the complete graph of ``n`` ending in a single cluster, and how
    many runs froze."""
    model = get_model("hegselmann_krause")(epsilon=epsilon)
    finals, frozen = ensemble(model, complete_graph(n), runs, seed, max_steps, chunk=1)
    return float(np.mean([len(cluster_sizes(x)) == 1 for x in finals])), frozen


def spacings(epsilon: float, n: int, runs: int, seed: int,
             max_steps: int = 5000) -> tuple[np.ndarray, int]:
    """Distances between neighbouring clusters of over 1% of the agents, in units of ε,
    pooled over runs; and how many runs froze.

    Examples
    --------
    >>> gaps, frozen = spacings(0.1, 500, runs=2, seed=0)
    >>> bool(gaps.min() > 1), frozen
    (True, 2)
    """
    model = get_model("hegselmann_krause")(epsilon=epsilon)
    finals, frozen = ensemble(model, complete_graph(n), runs, seed, max_steps, chunk=1)
    gaps = [np.diff(cluster_positions(x, min_size=int(0.01 * n) + 1)) for x in finals]
    return np.concatenate(gaps) / epsilon, frozen


def _one_cluster_check(epsilon: float, seed: int, *, at_least: float | None = None,
                       at_most: float | None = None, n: int = 1000,
                       runs: int = 40) -> CheckResult:
    share, frozen = one_cluster_share(epsilon, n, runs, seed)
    ok = frozen == runs and (at_least is None or share >= at_least) and (
        at_most is None or share <= at_most)
    band = f"≥ {at_least}" if at_least is not None else f"≤ {at_most}"
    return CheckResult(measured=share, se=_binomial_se(share, runs), passed=bool(ok),
                       expected=f"P(one cluster) {band}",
                       detail=f"{runs} runs, complete N={n}, ε={epsilon}; "
                              f"{frozen}/{runs} reached a fixed point")


@check("hegselmann_krause: consensus well above ε_c ≈ 0.2 (ε=0.3), complete graph, N=1000",
       model="hegselmann_krause", reference=REFERENCE, quick=True)
def hk_consensus() -> CheckResult:
    return _one_cluster_check(0.3, 5001, at_least=0.95)


@check("hegselmann_krause: no consensus well below ε_c ≈ 0.2 (ε=0.15), complete graph, "
       "N=1000", model="hegselmann_krause", reference=REFERENCE, quick=True)
def hk_no_consensus() -> CheckResult:
    return _one_cluster_check(0.15, 5002, at_most=0.05)


@check("hegselmann_krause: clusters about 2ε apart (ε=0.05), complete graph, N=10000",
       model="hegselmann_krause",
       reference="Blondel, Hendrickx & Tsitsiklis 2009, IEEE Trans. Autom. Control 54, 2586",
       quick=True)
def hk_spacing() -> CheckResult:
    runs = 20
    gaps, frozen = spacings(0.05, 10_000, runs, 5003)
    mean = float(gaps.mean())
    se = float(gaps.std(ddof=1) / np.sqrt(len(gaps)))
    return CheckResult(measured=mean, se=se, passed=bool(2.0 <= mean <= 3.0 and
                                                         frozen == runs),
                       expected="mean spacing in [2ε, 3ε] (in units of ε)",
                       detail=f"{runs} runs, {len(gaps)} spacings, ε=0.05; "
                              f"{frozen}/{runs} reached a fixed point")
