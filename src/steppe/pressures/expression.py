"""Preference falsification: what agents voice versus what they privately hold (Kuran 1995).

The rule, for every agent i whose private stance s is *penalised*::

    i voices s   if   enforcement * visibility_i  <=  conviction_i + support_weight * support_i(s)
    otherwise    i voices the declared safe stance

where ``support_i(s)`` is the share of i's neighbours who currently *voice* s (on the complete
graph: of all other agents). Agents whose private stance is not penalised voice it.
Committed agents never change their *private* stance, but they obey the same rule when it
comes to voicing it, unless ``committed_always_voice`` makes them activists who never hide.
``conviction`` and ``visibility`` are per-agent, drawn from declared distributions (optionally
per group). With ``enforcement = 0`` every agent voices its private stance.

Timing: the expressed stances are re-evaluated once per sweep, synchronously, from the
previous sweep's expressed stances, so revelations spread over successive sweeps: lifting a
crackdown can start a cascade in which each round of revealed support emboldens the next
(Kuran 1989, 1995; Granovetter 1978). At the start of a run the expressed state is the fixed
point reached from everybody hiding (``start = "hidden"``, the least-revealing equilibrium)
or from everybody speaking openly (``start = "open"``, the most revealing one); with
multiple equilibria the two differ — that is Kuran's point.

Continuous models: an agent voicing its stance voices its private opinion; an agent hiding it
voices ``safe_opinion`` (default: the middle of the safe stance's interval).

Examples
--------
>>> import numpy as np
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> from steppe.engine import init_state
>>> model = get_model("voter")()
>>> net = complete_graph(1000)
>>> st = init_state(model, net, shares={"A": 0.3, "B": 0.7}, seed=1)
>>> layer = ExpressionLayer(model, penalised=["A"], safe="B", enforcement=2.0,
...                         conviction=0.5, visibility=1.0).bind(net, np.random.default_rng(0))
>>> layer.start(st)
>>> int(st.expressed_counts[0]), int(st.counts[0])   # nobody dares to voice A
(0, 300)
>>> layer.enforcement = 0.0
>>> layer.update(st, net)
>>> int(st.expressed_counts[0])
300
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal, Self

import numpy as np
from numba import njit, prange

from ..distributions import DistLike, checked, sample_by_group
from ..errors import ParameterError
from ..models.base import Model
from ..networks.base import Network
from ..rng import Stream
from ..state import State
from .base import Control, Pressure, Stage, World, number_control, register

if TYPE_CHECKING:
    from ..scenario.loaded import LoadedScenario

__all__ = ["ExpressionLayer", "express_once"]


@njit(cache=True, parallel=True)
def _express(stance, committed, old, new, penal, safe, enforcement, weight, conviction,
             visibility, complete, indptr, indices, old_counts, committed_voice):
    """One synchronous pass of the expression rule: ``new`` from ``old`` (every agent
    independently: a parallel loop)."""
    n = stance.shape[0]
    for i in prange(n):
        s = stance[i]
        cost = enforcement * visibility[i]
        if not penal[s] or (committed_voice and committed[i]) or cost <= conviction[i]:
            new[i] = s  # not penalised, an activist, or voices it whatever the support
        else:
            support = 0.0
            if complete:
                same = old_counts[s] - (1 if old[i] == s else 0)
                support = same / (n - 1) if n > 1 else 0.0
            elif indptr[i + 1] > indptr[i]:
                same = 0
                for e in range(indptr[i], indptr[i + 1]):
                    if old[indices[e]] == s:
                        same += 1
                support = same / (indptr[i + 1] - indptr[i])
            new[i] = s if cost <= conviction[i] + weight * support else safe
    return new


def express_once(stance: np.ndarray, committed: np.ndarray, expressed: np.ndarray,
                 penalised: np.ndarray, safe: int, enforcement: float, support_weight: float,
                 conviction: np.ndarray, visibility: np.ndarray, network: Network,
                 k: int, committed_always_voice: bool = False) -> np.ndarray:
    """One synchronous application of the rule; returns the new expressed codes (a new
    array). ``penalised`` is a uint8 mask over stance codes.

    Examples
    --------
    >>> import numpy as np
    >>> from steppe.networks import complete_graph
    >>> st = np.array([0, 0, 1, 1], dtype=np.int8)
    >>> out = express_once(st, np.zeros(4, bool), st.copy(), np.array([1, 0], np.uint8), 1,
    ...                    1.0, 1.0, np.full(4, 0.5), np.ones(4), complete_graph(4), 2)
    >>> out.tolist()   # each A sees 1 of 3 others voicing A: 0.5 + 1/3 < 1, so it hides
    [1, 1, 1, 1]
    """
    complete, indptr, indices = network.kernel_args()
    counts = np.bincount(expressed, minlength=k).astype(np.int64)
    new = np.empty_like(expressed)
    return _express(stance, committed, expressed, new, penalised, safe, float(enforcement),
                    float(support_weight), conviction, visibility, complete, indptr, indices,
                    counts, bool(committed_always_voice))


@register
class ExpressionLayer(Pressure):
    """The expression rule bound to one run: its per-agent convictions and visibilities,
    and the current enforcement (which events may change). Declared by the scenario's
    ``[expression]`` table; events target ``expression.enforcement`` and
    ``expression.support_weight``.

    Parameters
    ----------
    model
        The run's model (for stance labels and, for continuous models, opinion values).
    penalised
        Stance labels that are costly to voice.
    safe
        The stance voiced instead.
    enforcement
        Intensity of the penalty (>= 0).
    conviction, visibility
        Per-agent distributions (numbers or distribution tables), >= 0.
    conviction_by_group, visibility_by_group
        Optional per-group overrides, keyed by network group code.
    support_weight
        How much the share of neighbours voicing a stance lowers the cost of voicing it.
    start
        Initial expressed state: the fixed point reached from everybody hiding or from
        everybody speaking.
    safe_opinion
        Continuous models: the opinion voiced by agents who hide (default: middle of the
        safe stance's interval).
    committed_always_voice
        If True, committed agents voice their stance whatever the cost.

    :meth:`bind` then draws the per-agent convictions and visibilities over a network
    (whose neighbourhoods define support).
    """

    field = "expression"
    stage = Stage.VOICE
    stream = Stream.EXPRESSION
    label = "expression"

    def __init__(self, model: Model, *, penalised: Sequence[str], safe: str,
                 enforcement: float, conviction: DistLike = 1.0, visibility: DistLike = 1.0,
                 conviction_by_group: Mapping[int, DistLike] | None = None,
                 visibility_by_group: Mapping[int, DistLike] | None = None,
                 support_weight: float = 1.0, start: Literal["hidden", "open"] = "hidden",
                 safe_opinion: float | None = None,
                 committed_always_voice: bool = False) -> None:
        if getattr(model, "own_expression", False):
            raise ParameterError(f"model {model.name!r} has expressed opinions of its own; "
                                 "an expression layer cannot be added", field="expression",
                                 given=model.name)
        if not penalised:
            raise ParameterError("name at least one penalised stance",
                                 field="expression.penalised", given=list(penalised))
        k = len(model.stances)
        self.k = k
        self.penal = np.zeros(k, dtype=np.uint8)
        for label in penalised:
            self.penal[_code(model, label, "expression.penalised")] = 1
        self.safe = _code(model, safe, "expression.safe")
        if self.penal[self.safe]:
            raise ParameterError("the safe stance cannot be penalised", field="expression.safe",
                                 given=safe)
        if enforcement < 0:
            raise ParameterError("enforcement must be >= 0", field="expression.enforcement",
                                 allowed=">= 0", given=enforcement)
        if start not in ("hidden", "open"):
            raise ParameterError("unknown start", field="expression.start",
                                 allowed="'hidden', 'open'", given=start)
        self.enforcement = float(enforcement)
        self.changed = False
        self.support_weight = float(support_weight)
        self.start_mode = start
        self.committed_always_voice = bool(committed_always_voice)
        self._conviction = (conviction, dict(conviction_by_group or {}))
        self._visibility = (visibility, dict(visibility_by_group or {}))
        for what, (spec, by_group) in (("conviction", self._conviction),
                                       ("visibility", self._visibility)):
            checked(spec, 0.0, np.inf, f"expression.{what}")
            for g, sub in by_group.items():
                checked(sub, 0.0, np.inf, f"expression.{what}_by_group.{g}")
        self.continuous = model.continuous
        self.safe_opinion = None
        if model.continuous:
            value = safe_opinion if safe_opinion is not None else model.representative(
                self.safe)
            lo, hi = model.bounds(self.safe)
            if not lo <= value <= hi:
                raise ParameterError("safe_opinion outside the safe stance's interval",
                                     field="expression.safe_opinion",
                                     allowed=f"[{lo}, {hi}]", given=value)
            self.safe_opinion = float(value)

    @classmethod
    def from_scenario(cls, scenario: LoadedScenario, model: Model) -> list[ExpressionLayer]:
        """The ``[expression]`` table, if any."""
        e = scenario.spec.expression
        if e is None:
            return []
        if getattr(model, "own_expression", False):
            raise scenario.fail(f"model {model.name!r} has expressed opinions of its own",
                                "expression", allowed="no [expression] table")
        stances = ", ".join(repr(s) for s in model.stances)
        for label in [*e.penalised, e.safe]:
            if label not in model.stances:
                where = "expression.safe" if label == e.safe else "expression.penalised"
                raise scenario.fail(f"unknown stance for model {model.name!r}", where,
                                    allowed=stances, given=label)
        if e.safe in e.penalised:
            raise scenario.fail("the safe stance cannot be penalised", "expression.safe",
                                given=e.safe)
        with scenario.errors():
            return [cls(model, penalised=e.penalised, safe=e.safe,
                        enforcement=e.enforcement, conviction=e.conviction,
                        visibility=e.visibility,
                        conviction_by_group=scenario.by_group(
                            e.conviction_by_group, "expression.conviction_by_group"),
                        visibility_by_group=scenario.by_group(
                            e.visibility_by_group, "expression.visibility_by_group"),
                        support_weight=e.support_weight, start=e.start,
                        safe_opinion=e.safe_opinion,
                        committed_always_voice=e.committed_always_voice)]

    def controls(self) -> list[Control]:
        return [number_control(self, "enforcement", "expression.enforcement"),
                number_control(self, "support_weight", "expression.support_weight")]

    def bind(self, network: Network, gen: np.random.Generator) -> Self:
        """Draw every agent's conviction and visibility (per group where given)."""
        try:
            self.conviction = sample_by_group(*self._conviction, network.groups, network.n,
                                              gen, low=0.0)
            self.visibility = sample_by_group(*self._visibility, network.groups, network.n,
                                              gen, low=0.0)
        except ValueError as exc:
            raise ParameterError(str(exc), field="expression") from None
        self.network = network
        return self

    # -- the protocol --------------------------------------------------------------------
    @property
    def quiet(self) -> bool:
        """Quiet while nobody can be made to hide (then everyone voices what they hold)."""
        return not self.active

    @property
    def voice_view(self) -> bool:
        """While an enforcement is in force, agents hear only what others voice."""
        return self.active

    def settled(self, state: State) -> bool:
        """Nothing more to reveal or hide: no enforcement, or the last pass changed
        nothing."""
        return not (self.active and self.changed)

    def apply(self, state: State, world: World) -> None:
        """One synchronous pass of the rule over the ties in force."""
        self.update(state, world.active)

    @property
    def active(self) -> bool:
        """Whether anyone can be made to hide (enforcement above zero)."""
        return self.enforcement > 0.0

    def start(self, state: State, world: World | None = None,
              max_rounds: int = 100_000) -> None:
        """Give the state its own expressed arrays and set them to the starting fixed
        point (over the whole network the layer was bound to)."""
        state.separate_expression()
        if self.start_mode == "hidden":
            hide = self.penal[state.stance].astype(bool)
            if self.committed_always_voice:
                hide &= ~state.committed
            state.expressed[:] = np.where(hide, self.safe, state.stance)
        else:
            state.expressed[:] = state.stance
        self._finish(state)
        for _ in range(max_rounds):
            before = state.expressed.copy()
            self.update(state, self.network)
            if np.array_equal(before, state.expressed):
                return
        raise RuntimeError("the expression rule did not reach a fixed point")  # pragma: no cover

    def update(self, state: State, network: Network) -> None:
        """One synchronous pass of the rule (call once per sweep)."""
        if not self.active:
            self.sync(state)
            return
        new = express_once(state.stance, state.committed, state.expressed, self.penal,
                           self.safe, self.enforcement, self.support_weight, self.conviction,
                           self.visibility, network, self.k, self.committed_always_voice)
        self.changed = not np.array_equal(new, state.expressed)
        state.expressed[:] = new
        self._finish(state)

    def sync(self, state: State) -> None:
        """Everybody voices what they hold (no enforcement)."""
        state.expressed[:] = state.stance
        state.expressed_counts[:] = state.counts
        if state.opinion is not None and state.expressed_opinion is not state.opinion:
            state.expressed_opinion[:] = state.opinion

    def _finish(self, state: State) -> None:
        state.expressed_counts[:] = np.bincount(state.expressed, minlength=self.k)[: self.k]
        if self.continuous and state.opinion is not None:
            hidden = state.expressed != state.stance
            np.copyto(state.expressed_opinion, state.opinion)
            state.expressed_opinion[hidden] = self.safe_opinion


def _code(model: Model, label: str, field: str) -> int:
    if label not in model.stances:
        raise ParameterError(f"unknown stance for model {model.name!r}", field=field,
                             allowed=", ".join(repr(s) for s in model.stances), given=label)
    return model.stances.index(label)
