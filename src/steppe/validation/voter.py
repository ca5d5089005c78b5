"""Voter model on the complete graph: exit probability and mean consensus time.

The exact finite-size consensus times come from the backward equation of the voter model on
the complete graph (docs/validation.md, entry 1): N = 100 gives 68.13 sweeps from ρ = 0.5 and 49.05
from ρ = 0.2. The standard deviation of T is about 50 sweeps, so with 1000 runs the standard
error is about 1.6 and four standard errors are 6.5. The exit probability has standard error
sqrt(ρ(1−ρ)/runs).
"""

from __future__ import annotations

import numpy as np

from ..models import get_model
from ..networks import complete_graph
from .base import CheckResult, check, replicate

REFERENCE = "Redner 2001; Sood & Redner 2005 (backward equation, N=100)"


def _consensus_stats(rho: float, runs: int, seed: int, variant: str = "node",
                     update: str = "random_sequential") -> tuple[float, float, float]:
    model = get_model("voter")(variant=variant, update=update)
    trajs = replicate(model, complete_graph(100), runs=runs, seed=seed,
                      shares={"A": rho, "B": 1 - rho})
    times = np.array([t.consensus_time for t in trajs])
    exit_a = np.mean([t.consensus_stance == 0 for t in trajs])
    return float(times.mean()), float(times.std(ddof=1) / np.sqrt(runs)), float(exit_a)


def consensus_time_check(rho: float, expected: float, runs: int = 1000,
                         seed: int = 20240501, **kw: str) -> CheckResult:
    mean, se, _ = _consensus_stats(rho, runs, seed, **kw)
    tol = 4 * se
    return CheckResult(measured=mean, se=se, passed=abs(mean - expected) < tol,
                       expected=f"{expected} ± 4 se", detail=f"{runs} runs, N=100, ρ={rho}")


@check("voter: consensus time, complete graph, N=100, ρ=0.5", model="voter",
       reference=REFERENCE, quick=True)
def voter_time_half() -> CheckResult:
    return consensus_time_check(0.5, 68.13)


@check("voter: consensus time, complete graph, N=100, ρ=0.2", model="voter",
       reference=REFERENCE)
def voter_time_fifth() -> CheckResult:
    return consensus_time_check(0.2, 49.05, seed=20240502)


@check("voter: exit probability E(ρ)=ρ, complete graph, N=100, ρ=0.2", model="voter",
       reference="Liggett 1985; Redner 2001", quick=True)
def voter_exit_probability() -> CheckResult:
    runs = 1000
    _, _, exit_a = _consensus_stats(0.2, runs, seed=20240503)
    se = float(np.sqrt(0.2 * 0.8 / runs))
    return CheckResult(measured=exit_a, se=se, passed=abs(exit_a - 0.2) < 4 * se,
                       expected="0.2 ± 4 se", detail=f"{runs} runs")


def _star_exit(variant: str, runs: int, seed: int) -> float:
    """Share of runs that end with everyone holding A, on a star of 11 whose hub starts A
    and whose 10 leaves start B."""
    from ..engine.simulate import simulate
    from ..engine.state import init_state
    from ..networks import star

    net = star(11)
    model = get_model("voter")(variant=variant)
    wins = 0
    for ss in np.random.SeedSequence(seed).spawn(runs):
        st = init_state(model, net, shares={"B": 1.0}, seed=ss)
        st.stance[0] = 0  # the hub holds A
        st.recount(2)
        traj = simulate(model, net, st, max_sweeps=None, stop_at_consensus=True,
                        record_every=1_000_000)
        wins += traj.consensus_stance == 0
    return wins / runs


# Exit probabilities on a heterogeneous graph tell the three updates apart (Sood & Redner
# 2005; Suchecki, Eguíluz & San Miguel 2005): the conserved quantity is the degree-weighted
# density for the node update, the plain density for the link update, and the 1/degree-
# weighted density for invasion. Star of 11, hub A, leaves B: 10/20 = 0.5, 1/11 and
# 0.1/10.1 = 0.0099. Binomial standard errors over the runs.
_STAR = {"node": 10 / 20, "link": 1 / 11, "invasion": 0.1 / 10.1}


def _star_check(variant: str, seed: int) -> CheckResult:
    runs = 2000
    expected = _STAR[variant]
    measured = _star_exit(variant, runs, seed)
    se = float(np.sqrt(expected * (1 - expected) / runs))
    return CheckResult(measured=measured, se=se, passed=abs(measured - expected) < 4 * se,
                       expected=f"{expected:.4f} ± 4 se",
                       detail=f"{runs} runs; star of 11, hub A, leaves B")


@check("voter (node): exit probability = degree-weighted density, star", model="voter",
       reference="Sood & Redner 2005, Phys. Rev. Lett. 94, 178701", quick=True)
def voter_star_node() -> CheckResult:
    return _star_check("node", 31)


@check("voter (link): exit probability = density, star", model="voter",
       reference="Suchecki, Eguíluz & San Miguel 2005, Phys. Rev. E 72, 036132", quick=True)
def voter_star_link() -> CheckResult:
    return _star_check("link", 32)


@check("voter (invasion): exit probability = 1/degree-weighted density, star",
       model="voter", reference="Sood & Redner 2005; Antal, Redner & Sood 2006", quick=True)
def voter_star_invasion() -> CheckResult:
    return _star_check("invasion", 33)
