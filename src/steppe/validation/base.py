"""The check registry and the helpers checks share.

Examples
--------
>>> from steppe.validation.base import CheckResult
>>> r = CheckResult(measured=68.0, se=1.6, passed=True, expected="68.13 ± 6.5")
>>> r.passed
True
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..engine.simulate import Trajectory, simulate
from ..engine.state import Committed, init_state
from ..models.base import Model
from ..networks.base import Network

__all__ = ["Check", "CheckResult", "all_checks", "check", "replicate", "run_checks"]


@dataclass
class CheckResult:
    """The outcome of one check.

    ``expected`` says the published value and the accepted band in words; ``measured`` is
    the value found and ``se`` its standard error (None for exact results).
    """

    measured: float
    passed: bool
    expected: str
    se: float | None = None
    detail: str = ""


@dataclass
class Check:
    """A published result: which model, where it was published, and how to test it."""

    name: str
    model: str
    reference: str
    func: Callable[[], CheckResult]
    quick: bool = False
    seconds: float = field(default=0.0, compare=False)

    def run(self) -> CheckResult:
        t0 = time.perf_counter()
        result = self.func()
        self.seconds = time.perf_counter() - t0
        return result


_CHECKS: dict[str, Check] = {}


def check(name: str, *, model: str, reference: str,
          quick: bool = False) -> Callable[[Callable[[], CheckResult]], Callable[[], CheckResult]]:
    """Decorator registering a check function under a unique ``name``.

    ``quick`` checks together run in under a minute (``steppe validate --quick``).
    """

    def deco(func: Callable[[], CheckResult]) -> Callable[[], CheckResult]:
        if name in _CHECKS:
            raise TypeError(f"duplicate check name {name!r}")
        _CHECKS[name] = Check(name=name, model=model, reference=reference, func=func,
                              quick=quick)
        return func

    return deco


def all_checks(quick: bool = False) -> list[Check]:
    """Registered checks (only the quick ones if ``quick``), in registration order."""
    from . import _discover

    _discover()
    return [c for c in _CHECKS.values() if c.quick or not quick]


def run_checks(checks: Iterable[Check]) -> list[tuple[Check, CheckResult]]:
    """Run checks one after another and pair each with its result."""
    return [(c, c.run()) for c in checks]


def replicate(
    model: Model,
    network: Network,
    *,
    runs: int,
    seed: int,
    shares: Mapping[str, float] | None = None,
    committed: Committed | None = None,
    max_sweeps: float | None = None,
    stop_at_consensus: bool = True,
    record_every: int = 1_000_000,
) -> list[Trajectory]:
    """``runs`` independent runs with seeds split from ``seed`` by ``SeedSequence``."""
    children = np.random.SeedSequence(seed).spawn(runs)
    out = []
    for ss in children:
        st = init_state(model, network, shares=shares, committed=committed, seed=ss)
        out.append(simulate(model, network, st, max_sweeps=max_sweeps,
                            stop_at_consensus=stop_at_consensus, record_every=record_every))
    return out
