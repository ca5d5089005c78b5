"""Collective action: who takes part in a protest (Granovetter 1978), on top of any model.

An agent is *eligible* when its private stance is one of the declared ``eligible`` stances
(and, with ``requires_voicing``, when it also voices that stance: nobody marches for a view
they hide). Once per sweep, synchronously, every eligible agent protests when the share
(``mode = "fraction"``) or number (``mode = "count"``) of its neighbours who protested in the
previous sweep reaches its threshold; *instigators* (a share of the agents, drawn once)
protest whenever they are eligible. Agents who are not eligible do not protest. With
``permitted = 0`` (a ban, set by an event) nobody protests. With a fractional step h < 1
(``time.rates_per`` longer than a sweep) each eligible agent who is not an instigator
reconsiders in a sweep with probability h (a uniform draw per agent) and otherwise does what
it did in the previous sweep: once per written period on average.

Thresholds are per agent, from a declared distribution (optionally per group), clipped to
[0, 1] in fraction mode and to >= 0 in count mode. On the complete graph the neighbours are
all other agents.

Examples
--------
>>> import numpy as np
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> from steppe.engine import init_state
>>> model = get_model("voter")()
>>> net = complete_graph(100)
>>> st = init_state(model, net, shares={"A": 0.5, "B": 0.5}, seed=1)
>>> layer = ProtestLayer(model, eligible=["A"], threshold=0.0,
...                      instigators=0.0).bind(net, np.random.default_rng(0))
>>> layer.update(st, net)   # threshold 0: every eligible agent joins at once
>>> int(layer.active.sum())
50
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal, Self

import numpy as np
from numba import njit, prange

from ..distributions import DistLike, checked, sample_by_group
from ..errors import ParameterError
from ..models.base import Model
from ..networks._prefetch import AHEAD, prefetch
from ..networks.base import Network
from ..observe.observables import Observable
from ..rng import Stream
from ..state import State
from .base import Control, Pressure, Stage, World, number_control, register
from .base import step_fraction as step_fraction_of

if TYPE_CHECKING:
    from ..scenario.loaded import LoadedScenario

__all__ = ["ProtestLayer"]

@njit(cache=True, parallel=True)
def _protest(eligible_mask, stance, expressed, requires_voicing, present, old, new, threshold,
             instigator, fraction, complete, indptr, indices, total_old, uniform, h):
    """One synchronous round: ``new`` from ``old`` (each agent independently, in parallel).
    An agent is eligible when its stance is in ``eligible_mask``, it voices that stance
    (with ``requires_voicing``) and it is present (``present`` empty: everyone is).
    ``uniform`` non-empty: an eligible agent reconsiders only if its uniform is below
    ``h``, and otherwise keeps ``old``."""
    n = stance.shape[0]
    everyone = present.shape[0] == 0
    last = indptr[indptr.shape[0] - 1] if indptr.shape[0] > 0 else 0  # complete: no ties
    for i in prange(n):
        if not (eligible_mask[stance[i]] and (not requires_voicing or expressed[i] == stance[i])
                and (everyone or present[i])):
            new[i] = False
            continue
        if instigator[i]:
            new[i] = True
            continue
        if uniform.shape[0] > 0 and uniform[i] >= h:
            new[i] = old[i]
            continue
        if complete:
            others = total_old - (1 if old[i] else 0)
            level = others / (n - 1) if fraction else float(others)
        else:
            a = indptr[i]
            b = indptr[i + 1]
            count = 0
            for e in range(a, b):
                if e + AHEAD < last:  # ask for the value a few ties on (no result changes)
                    prefetch(old, indices[e + AHEAD])
                if old[indices[e]]:
                    count += 1
            if fraction:
                level = count / (b - a) if b > a else 0.0
            else:
                level = float(count)
        new[i] = level >= threshold[i]
    return new


@register
class ProtestLayer(Pressure):
    """Protest participation bound to one run. Declared by the scenario's ``[protest]``
    table; events target ``protest.permitted``. Records ``participation.parquet``: the
    agents protesting per breakdown level (``count``) and their ``share`` of the level.

    Parameters
    ----------
    model
        The run's model (stance labels).
    eligible
        Private stances whose holders may protest.
    threshold, threshold_by_group
        Per-agent thresholds (a number or a distribution) and per-group overrides (keyed by
        network group code).
    mode
        ``"fraction"`` of neighbours (Watts 2002) or ``"count"`` of neighbours
        (Granovetter 1978).
    instigators
        Share of agents who protest whenever eligible, whatever the others do.
    requires_voicing
        Only agents who also voice their eligible stance may protest.
    permitted
        1: protests allowed; 0: banned (events may change it).
    step_fraction
        h in (0, 1]: the share of the period a round was written for that one sweep stands
        for; each eligible agent reconsiders with probability h (1, default: every sweep).

    Notes
    -----
    :meth:`bind` then draws thresholds and instigators over a network.
    """

    field = "protest"
    stage = Stage.ACTION
    stream = Stream.PROTEST
    label = "protest"

    def __init__(self, model: Model, *, eligible: Sequence[str],
                 threshold: DistLike = 0.25,
                 threshold_by_group: Mapping[int, DistLike] | None = None,
                 mode: Literal["fraction", "count"] = "fraction", instigators: float = 0.0,
                 requires_voicing: bool = True, permitted: float = 1.0,
                 step_fraction: float = 1.0) -> None:
        if not eligible:
            raise ParameterError("name at least one stance whose holders may protest",
                                 field="protest.eligible", given=list(eligible))
        self.eligible_mask = np.zeros(len(model.stances), dtype=np.bool_)
        for label in eligible:
            if label not in model.stances:
                raise ParameterError(f"unknown stance for model {model.name!r}",
                                     field="protest.eligible",
                                     allowed=", ".join(repr(s) for s in model.stances),
                                     given=label)
            self.eligible_mask[model.stances.index(label)] = True
        if mode not in ("fraction", "count"):
            raise ParameterError("unknown mode", field="protest.mode",
                                 allowed="'fraction', 'count'", given=mode)
        if not 0.0 <= instigators <= 1.0:
            raise ParameterError("share out of range", field="protest.instigators",
                                 allowed="0 <= share <= 1", given=instigators)
        self._threshold = (threshold, dict(threshold_by_group or {}))
        top = 1.0 if mode == "fraction" else np.inf
        checked(threshold, 0.0, top, "protest.threshold")
        for g, sub in self._threshold[1].items():
            checked(sub, 0.0, top, f"protest.threshold_by_group.{g}")
        self.instigators = float(instigators)
        self.fraction = mode == "fraction"
        self.requires_voicing = bool(requires_voicing)
        self.permitted = float(permitted)
        self.step_fraction = step_fraction_of(step_fraction)

    @classmethod
    def from_scenario(cls, scenario: LoadedScenario, model: Model) -> list[ProtestLayer]:
        """The ``[protest]`` table, if any."""
        p = scenario.spec.protest
        if p is None:
            return []
        for label in p.eligible:
            if label not in model.stances:
                raise scenario.fail(f"unknown stance for model {model.name!r}",
                                    "protest.eligible",
                                    allowed=", ".join(repr(s) for s in model.stances),
                                    given=label)
        by_group = scenario.by_group(p.threshold_by_group, "protest.threshold_by_group")
        with scenario.errors():
            return [cls(model, eligible=p.eligible, threshold=p.threshold,
                        threshold_by_group=by_group, mode=p.mode, instigators=p.instigators,
                        requires_voicing=p.requires_voicing, permitted=p.permitted,
                        step_fraction=scenario.calendar.step_fraction)]

    def controls(self) -> list[Control]:
        return [number_control(self, "permitted", "protest.permitted")]

    def bind(self, network: Network, gen: np.random.Generator) -> Self:
        """Draw every agent's threshold (per group where given) and the instigators."""
        high = 1.0 if self.fraction else np.inf
        try:
            self.threshold = sample_by_group(*self._threshold, network.groups, network.n,
                                             gen, low=0.0, high=high)
        except ValueError as exc:
            raise ParameterError(str(exc), field="protest.threshold_by_group") from None
        self.instigator = gen.random(network.n) < self.instigators
        self.gen = gen  # the reconsidering draws of a fractional step (none otherwise)
        self.active = np.zeros(network.n, dtype=np.bool_)
        self._new = np.zeros(network.n, dtype=np.bool_)
        return self

    # -- the protocol --------------------------------------------------------------------
    @property
    def quiet(self) -> bool:
        """Never: who protests is re-evaluated after every sweep."""
        return False

    def settled(self, state: State) -> bool:
        return False

    def start(self, state: State, world: World) -> None:
        """The first round, before the first record."""
        self.update(state, world.active)

    def apply(self, state: State, world: World) -> None:
        self.update(state, world.active)

    def observables(self) -> list[Observable]:
        return [Observable("count", "participation", "level",
                           lambda st, tally: tally.of(self.active), share="share",
                           description="agents present protesting (share: of the level's "
                                       "agents present)")]

    def eligible(self, state: State) -> np.ndarray:
        """Agents who may protest now."""
        ok = self.eligible_mask[state.stance]
        if self.requires_voicing:
            ok &= state.expressed == state.stance
        if state.present is not None:
            ok &= state.present
        return ok

    def update(self, state: State, network: Network) -> None:
        """One synchronous round (call once per sweep)."""
        if self.permitted <= 0.0:
            self.active[:] = False
            return
        complete, indptr, indices = network.kernel_args()
        uniform = (self.gen.random(state.n) if self.step_fraction < 1.0
                   else np.zeros(0))
        _protest(self.eligible_mask, state.stance, state.expressed,
                 bool(self.requires_voicing),
                 state.present_mask(), self.active,
                 self._new, self.threshold, self.instigator, self.fraction, complete, indptr,
                 indices, int(self.active.sum()) if complete else 0, uniform,
                 self.step_fraction)
        self.active, self._new = self._new, self.active
