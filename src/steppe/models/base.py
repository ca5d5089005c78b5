"""The contract every opinion model fulfils, and the registry that finds models by name.

A model is one module holding a subclass of :class:`Model` decorated with :func:`register`:

- ``Params``: a frozen pydantic class whose fields declare defaults and allowed ranges
  (``Field(ge=0, le=1)``, ``Literal[...]``); bad values raise :class:`ParameterError` naming
  the parameter, what is allowed and what was given;
- ``stances``: the labels of the stance codes ``0 .. K-1`` it works with;
- ``advance(state, network, sweeps, stop_at_consensus)``: runs the dynamics for ``sweeps``
  Monte Carlo sweeps (``sweeps * n`` elementary updates for random-sequential rules, or
  ``sweeps`` synchronous steps) by calling a Numba kernel over plain arrays, and returns the
  time actually advanced (less when it stopped at consensus);
- optionally ``check_network`` (refuse a network the rule is not defined on) and
  ``init_aux`` (allocate per-agent auxiliary arrays, e.g. a memory).

Committed agents (``state.committed``) never change their stance, in every model. Kernels
keep ``state.counts`` (agents per stance) up to date, so consensus is detected the moment
it happens.

Examples
--------
>>> from steppe.models import get_model
>>> m = get_model("voter")(variant="node")
>>> m.params.variant
'node'
>>> get_model("voter")(variant="sideways")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
steppe.errors.ParameterError: voter.variant: ...
"""

from __future__ import annotations

import itertools
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import annotated_types as at
import numpy as np
from numba import njit, prange
from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import ParameterError
from ..state import State

if typing.TYPE_CHECKING:
    from ..networks.base import Network

__all__ = [
    "ContinuousModel",
    "Model",
    "ModelParams",
    "OpinionPull",
    "available_models",
    "describe_field",
    "get_model",
    "register",
]


class ModelParams(BaseModel):
    """Base class of model parameters: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True,
                              strict=True, allow_inf_nan=False)


@dataclass(frozen=True)
class OpinionPull:
    """What a pressure does to continuous opinions each sweep, as arrays a model can read:
    every uncommitted agent ``i`` moves ``share[i]`` of the way toward ``target``
    (``x_i += share_i (target - x_i)``). A media channel's pull, for instance; models that
    solve for a rest state (Friedkin–Johnsen's equilibrium anchors) fold it in."""

    share: np.ndarray
    target: float


_REGISTRY: dict[str, type[Model]] = {}


class Model:
    """Base class of opinion models. Subclasses set the class attributes and ``advance``."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    references: ClassVar[tuple[str, ...]] = ()
    stances: ClassVar[tuple[str, ...]] = ("A", "B")
    #: stance codes whose unanimity counts as consensus (None: any stance)
    consensus_stances: ClassVar[tuple[int, ...] | None] = None
    #: initial shares used when a scenario gives none
    default_initial: ClassVar[dict[str, float]] = {"A": 0.5, "B": 0.5}
    Params: ClassVar[type[ModelParams]] = ModelParams
    #: continuous models hold a float opinion; ``stance`` is its category
    continuous: ClassVar[bool] = False
    #: whether agents may arrive and leave during a run (border flows): the kernel reads
    #: neighbours from the network at each update, and anything it derives from the ties is
    #: recomputed by ``on_network_change``
    supports_flows: ClassVar[bool] = True
    #: whether a sweep can stand for a fraction h < 1 of the period the rates were written
    #: for (``time.rates_per``): the rule then moves each agent the share h of its step
    fractional_step: ClassVar[bool] = False
    #: h, set by :meth:`set_step_fraction` (1: every sweep is a full step of the rule)
    step_fraction: float = 1.0

    def __init__(self, params: ModelParams | dict[str, Any] | None = None, **kwargs: Any):
        if isinstance(params, ModelParams):
            if kwargs:
                params = params.model_copy(update=kwargs)
                params = self._validate(params.model_dump())
        else:
            merged = dict(params or {})
            merged.update(kwargs)
            params = self._validate(merged)
        self.params = params

    @classmethod
    def _validate(cls, values: dict[str, Any]) -> ModelParams:
        try:
            return cls.Params(**values)
        except ValidationError as exc:
            raise parameter_error_from(exc, prefix=cls.name, params=cls.Params) from None

    def update_params(self, **changes: Any) -> None:
        """Change parameters mid-run (events); validated like the constructor's.

        Parameters
        ----------
        **changes
            New values by parameter name; the others keep theirs.

        Raises
        ------
        ParameterError
            A value the parameter does not allow, or an unknown parameter.
        """
        self.params = self._validate({**self.params.model_dump(), **changes})

    def set_step_fraction(self, h: float) -> None:
        """Let each sweep stand for the share ``h`` of the period the rates were written for
        (``time.rates_per``).

        Parameters
        ----------
        h
            In (0, 1]; 1 is the rule as written.

        Raises
        ------
        ParameterError
            ``h`` outside (0, 1], or below 1 for a model without a fractional step.

        Examples
        --------
        >>> from steppe.models import get_model
        >>> m = get_model("friedkin_johnsen")()
        >>> m.set_step_fraction(1 / 7)
        >>> round(m.step_fraction, 4)
        0.1429
        """
        h = float(h)
        if not 0.0 < h <= 1.0:
            raise ParameterError("the share of a period one sweep stands for must be in (0, 1]",
                                 field="time.rates_per", allowed="0 < h <= 1", given=h)
        if h < 1.0 and not self.fractional_step:
            able = ", ".join(sorted(name for name, cls in _REGISTRY.items()
                                    if cls.fractional_step))
            raise ParameterError(f"model {self.name!r} has no fractional step: a sweep "
                                 f"cannot stand for {h:.4g} of the period its rates are "
                                 "written for", field="time.rates_per",
                                 allowed=f"a period no longer than a sweep, or a model with a "
                                         f"fractional step ({able})",
                                 given=f"h = {h:.4g} of the period per sweep")
        self.step_fraction = h

    # -- the interface --------------------------------------------------------------------
    def check_network(self, network: Network) -> None:
        """Raise :class:`ParameterError` if the rule is not defined on ``network``.

        Parameters
        ----------
        network
            The network a run is about to use (the default accepts every network).
        """

    def init_aux(self, state: State, network: Network,
                 gen: np.random.Generator | None = None) -> None:
        """Allocate model-specific arrays in ``state.aux`` (called once per run).

        Parameters
        ----------
        state
            The run's initial state.
        network
            The run's network.
        gen
            Draws anything random (e.g. per-agent thresholds) from the run's seed.
        """

    def advance(self, state: State, network: Network, sweeps: int,
                stop_at_consensus: bool) -> float:
        """Run ``sweeps`` sweeps in place.

        Parameters
        ----------
        state
            The run's state, changed in place (``stance``, ``counts``, ``opinion`` …).
        network
            The ties in force now (``network.kernel_args()`` gives the kernel's arrays).
        sweeps
            Sweeps to run: ``sweeps * n`` elementary updates for random-sequential rules,
            ``sweeps`` steps for synchronous ones.
        stop_at_consensus
            Stop the moment the agents reach consensus on one of the consensus stances
            (:meth:`consensus_mask`).

        Returns
        -------
        float
            The time advanced, in sweeps (less than ``sweeps`` when it stopped at
            consensus).
        """
        raise NotImplementedError(f"model {self.name!r} does not define advance()")

    def on_arrival(self, state: State, agents: np.ndarray) -> None:
        """Reset model-specific arrays (``state.aux``) of agents who just arrived with the
        stances now in ``state.stance``; the default has nothing to reset.

        Parameters
        ----------
        state
            The run's state.
        agents
            Indices of the agents who arrived.
        """

    def on_start(self, state: State, network: Network,
                 pulls: Sequence[OpinionPull] = ()) -> None:
        """Called by the engine once, right before the first sweep; the default does
        nothing.

        Parameters
        ----------
        state
            The run's state after the events of sweep 0.
        network
            The ties in force then.
        pulls
            The continuous pulls the pressures exert, in the order they act.
        """

    def on_opinion_shift(self, state: State, agents: np.ndarray,
                         delta: np.ndarray | None) -> None:
        """A pressure moved the private opinions (or stances) of ``agents`` from outside and
        the change is meant to last (a news shock that changes minds): models with
        per-agent anchors move them with the opinions. The default has no anchors.

        Parameters
        ----------
        state
            The run's state, with the new opinions or stances.
        agents
            Indices of the agents moved.
        delta
            The change of each agent's opinion; None for discrete stances.
        """

    def on_network_change(self, state: State, network: Network) -> None:
        """Recompute model-specific arrays that depend on the ties (border flows change
        who is connected); the default has none.

        Parameters
        ----------
        state
            The run's state.
        network
            The ties in force from now on.
        """

    def is_frozen(self, state: State, network: Network) -> bool:
        """Whether the dynamics can no longer change anything (an absorbing state other
        than consensus, e.g. converged continuous opinions or Sznajd's stalemate). Checked
        between chunks; the default is never.

        Parameters
        ----------
        state
            The run's state.
        network
            The ties in force now.

        Returns
        -------
        bool
            True when no further sweep can change the state.
        """
        return False

    def quantities(self) -> dict[str, tuple[Callable[[State], int], str]]:
        """Model-specific integers recorded at every record, in the output table named
        after the model (one row per record): column name -> ``(measure(state),
        description)``. The default records none.

        Returns
        -------
        dict
        """
        return {}

    def settles(self) -> bool:
        """Whether every run of this model ends on its own, on any finite network: it
        reaches consensus or a state :meth:`is_frozen` detects. A scenario whose model does
        not settle must give the run a fixed length. The default is no: stochastic rules
        with noise never settle, and without noise a disconnected network can still keep
        a run going forever.

        Returns
        -------
        bool
            True when every run ends on its own.
        """
        return False

    # -- helpers shared by all models ------------------------------------------------------
    def stance_code(self, label: str) -> int:
        """The code of a stance label.

        Parameters
        ----------
        label
            One of :attr:`stances`.

        Returns
        -------
        int
            Its position in :attr:`stances`.

        Raises
        ------
        ParameterError
            An unknown label (the message lists the model's stances).
        """
        try:
            return self.stances.index(label)
        except ValueError:
            raise ParameterError(
                f"unknown stance for model {self.name!r}",
                allowed=", ".join(self.stances), given=label,
            ) from None

    def consensus_codes(self) -> tuple[int, ...]:
        """The stance codes whose unanimity counts as consensus (all, unless the model sets
        :attr:`consensus_stances`).

        Returns
        -------
        tuple of int
        """
        if self.consensus_stances is None:
            return tuple(range(len(self.stances)))
        return self.consensus_stances

    def consensus_mask(self) -> np.ndarray:
        """Which stances' unanimity is consensus, as kernels read it.

        Returns
        -------
        numpy.ndarray
            uint8 over stance codes: 1 where unanimity on that stance is consensus.
        """
        mask = np.zeros(len(self.stances), dtype=np.uint8)
        mask[list(self.consensus_codes())] = 1
        return mask

    def consensus_stance(self, state: State, share: float = 1.0) -> int | None:
        """The consensus stance held by at least ``share`` of the agents, if any.

        Parameters
        ----------
        state
            The run's state (only the agents present count).
        share
            The share of agents that must hold it (1: all of them).

        Returns
        -------
        int or None
            Its stance code, or None when no consensus stance is held that widely.
        """
        n = state.n_present
        counts = state.present_counts()
        need = n if share >= 1.0 else max(1, int(np.ceil(share * n - 1e-9)))
        for k in self.consensus_codes():
            if counts[k] >= need:
                return k
        return None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.model_dump().items())
        return f"{type(self).__name__}({args})"


@njit(cache=True, parallel=True)
def _present_range(x, present):
    """How many agents are present (``present`` empty: all), and the least and greatest
    of their values (min and max: exact whatever the order, so in parallel)."""
    everyone = present.shape[0] == 0
    n = 0
    lo = np.inf
    hi = -np.inf
    for i in prange(x.shape[0]):
        if everyone or present[i]:
            n += 1
            lo = min(lo, x[i])
            hi = max(hi, x[i])
    return n, lo, hi


#: agents per block of the parallel categorisation (one row of counts per block)
_BLOCK = 1 << 16


@njit(cache=True, parallel=True)
def _categorize(x, cutoffs, stance, counts):
    """Each opinion's category (the number of cut-offs at or below it) into ``stance``,
    and the agents per category into ``counts``: parallel blocks whose integer counts are
    summed, so the result is the same whatever the threads."""
    n = x.shape[0]
    blocks = (n + _BLOCK - 1) // _BLOCK
    by_block = np.zeros((blocks, counts.shape[0]), dtype=np.int64)
    for b in prange(blocks):
        for i in range(b * _BLOCK, min(n, (b + 1) * _BLOCK)):
            c = 0
            for k in range(cutoffs.shape[0]):
                if x[i] >= cutoffs[k]:
                    c = k + 1
            stance[i] = c
            by_block[b, c] += 1
    counts[:] = 0
    for b in range(blocks):
        for c in range(counts.shape[0]):
            counts[c] += by_block[b, c]


class ContinuousModel(Model):
    """Base class of models whose agents hold a continuous opinion.

    The private opinion lives in ``state.opinion`` (float64); ``state.stance`` is its
    category under the cut-offs (``labels`` and ``cutoffs``, set from the scenario's
    ``[stances]`` table), recomputed by :meth:`categorize` after every chunk, so that series,
    polls and the expression layer compare across discrete and continuous models. Kernels
    read the other agents' opinions from ``state.seen_opinion``.

    Examples
    --------
    >>> import numpy as np
    >>> m = ContinuousModel()
    >>> m.set_categories(("low", "high"), (0.5,))
    >>> m.stances, m.representative(1)
    (('low', 'high'), 0.75)
    """

    continuous: ClassVar[bool] = True
    #: whether the model's kernels may read voiced opinions stored in single precision
    #: (``[expression] voiced_precision = "single"``; tested against double precision)
    single_voiced: ClassVar[bool] = False
    stances: tuple[str, ...] = ("against", "neutral", "pro")  # type: ignore[misc]
    #: the range opinions live in
    domain: ClassVar[tuple[float, float]] = (0.0, 1.0)
    default_initial: ClassVar[dict[str, float]] = {"against": 1 / 3, "neutral": 1 / 3,
                                                   "pro": 1 / 3}

    def __init__(self, params: ModelParams | dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(params, **kwargs)
        lo, hi = self.domain
        self.cutoffs: tuple[float, ...] = tuple(lo + (hi - lo) * k / 3 for k in (1, 2))
        #: what counts as consensus: "opinions" (one cluster: every opinion within
        #: ``spread`` of every other) or "stance" (everyone in one category)
        self.consensus_by = "opinions"
        self.spread = 1e-3

    def set_consensus(self, by: str = "opinions", spread: float = 1e-3) -> None:
        """What counts as consensus: ``"opinions"`` (the default: the opinions have
        converged to one cluster, all within ``spread`` of each other) or ``"stance"``
        (every agent in one stance category, however far apart their opinions).

        Parameters
        ----------
        by
            ``"opinions"`` or ``"stance"``.
        spread
            With ``"opinions"``: how close all opinions must be, within the opinion range.

        Raises
        ------
        ParameterError
            An unknown kind, or a spread outside ``(0, width of the range]``.

        Examples
        --------
        >>> m = ContinuousModel()
        >>> m.set_consensus("stance"); m.consensus_mask().tolist()
        [1, 1, 1]
        """
        if by not in ("opinions", "stance"):
            raise ParameterError("unknown kind of consensus", field="stop.consensus",
                                 allowed="'opinions', 'stance'", given=by)
        if not (0 < spread <= self.domain[1] - self.domain[0]):
            raise ParameterError("spread out of range", field="stop.spread",
                                 allowed="0 < spread <= the width of the opinion range",
                                 given=spread)
        self.consensus_by = by
        self.spread = float(spread)

    def consensus_mask(self) -> np.ndarray:
        """Kernels stop at a category's unanimity only when that is what consensus means.

        Returns
        -------
        numpy.ndarray
            uint8 over stance codes: all zero with ``consensus_by = "opinions"``.
        """
        if self.consensus_by == "opinions":
            return np.zeros(len(self.stances), dtype=np.uint8)
        return super().consensus_mask()

    def consensus_stance(self, state: State, share: float = 1.0) -> int | None:
        """With ``consensus_by = "opinions"``: the category of the one cluster holding at
        least ``share`` of the (present) agents whose opinions lie within ``spread`` of each
        other, or None; with ``"stance"``: as for discrete models.

        Parameters
        ----------
        state
            The run's state.
        share
            The share of agents the cluster must hold (1: all of them).

        Returns
        -------
        int or None
            The cluster's stance code (the category of its midpoint), or None.

        Examples
        --------
        >>> import numpy as np
        >>> from steppe.state import State
        >>> m = ContinuousModel()
        >>> x = np.array([0.40, 0.45, 0.60])   # all "neutral", but not converged
        >>> st = State(stance=np.ones(3, np.int8), committed=np.zeros(3, bool),
        ...            counts=np.array([0, 3, 0]), rng=np.zeros(4, np.uint64), opinion=x)
        >>> m.consensus_stance(st) is None, m.consensus_stance(st, share=0.6) is None
        (True, True)
        >>> m.set_consensus("opinions", spread=0.05); m.consensus_stance(st, share=0.6)
        1
        >>> m.set_consensus("stance"); m.consensus_stance(st)
        1
        """
        if self.consensus_by == "stance" or state.opinion is None:
            return super().consensus_stance(state, share)
        if share >= 1.0:  # the range of the present agents' opinions, without a copy
            n, lo, hi = _present_range(state.opinion, state.present_mask())
            if n == 0:
                return None
        else:
            x = state.opinion if state.present is None else state.opinion[state.present]
            n = x.shape[0]
            if n == 0:
                return None
            need = max(1, int(np.ceil(share * n - 1e-9)))
            xs = np.sort(x)
            widths = xs[need - 1:] - xs[:n - need + 1]
            i = int(np.argmin(widths))
            lo, hi = float(xs[i]), float(xs[i + need - 1])
        if hi - lo > self.spread:
            return None
        mid = 0.5 * (lo + hi)
        code = int(np.searchsorted(np.asarray(self.cutoffs), mid, side="right"))
        return code if code in self.consensus_codes() else None

    def settles(self) -> bool:
        """Continuous models converge and detect it (:meth:`is_frozen`).

        Returns
        -------
        bool
            Always True.
        """
        return True

    def set_categories(self, labels: tuple[str, ...] | list[str],
                       cutoffs: tuple[float, ...] | list[float]) -> None:
        """Name the stance categories and the opinion values that separate them.

        Parameters
        ----------
        labels
            The categories' labels, from the lowest opinions up.
        cutoffs
            One fewer than ``labels``, increasing, inside the opinion range: an opinion's
            category is the number of cut-offs at or below it.

        Raises
        ------
        ParameterError
            Labels and cut-offs that do not fit together, repeated labels, cut-offs that do
            not increase or lie outside the range.
        """
        labels = tuple(labels)
        cutoffs = tuple(float(c) for c in cutoffs)
        if len(labels) != len(cutoffs) + 1:
            raise ParameterError("there must be one more stance label than cut-offs",
                                 field="stances", given={"labels": labels, "cutoffs": cutoffs})
        if len(set(labels)) != len(labels):
            raise ParameterError("stance labels must differ", field="stances.labels",
                                 given=labels)
        if any(b <= a for a, b in itertools.pairwise(cutoffs)):
            raise ParameterError("cut-offs must increase", field="stances.cutoffs",
                                 given=cutoffs)
        lo, hi = self.domain
        if any(not lo < c < hi for c in cutoffs):
            raise ParameterError("every cut-off must lie inside the opinion range (else a "
                                 "stance holds no opinion at all)", field="stances.cutoffs",
                                 allowed=f"{lo} < cut-off < {hi}", given=cutoffs)
        self.stances = labels
        self.cutoffs = cutoffs

    def bounds(self, code: int) -> tuple[float, float]:
        """The opinion interval of a category.

        Parameters
        ----------
        code
            The category's stance code.

        Returns
        -------
        tuple of float
            Its lower and upper bound (within :attr:`domain`).
        """
        edges = (self.domain[0], *self.cutoffs, self.domain[1])
        return edges[code], edges[code + 1]

    def representative(self, code: int) -> float:
        """A typical opinion of a category: the middle of its interval.

        Parameters
        ----------
        code
            The category's stance code.

        Returns
        -------
        float
        """
        lo, hi = self.bounds(code)
        return 0.5 * (lo + hi)

    def categorize(self, state: State) -> None:
        """Recompute ``state.stance`` and ``state.counts`` from ``state.opinion`` (one pass:
        the category is the number of cut-offs <= the opinion).

        Parameters
        ----------
        state
            The run's state, changed in place.
        """
        _categorize(state.opinion, np.asarray(self.cutoffs, dtype=np.float64), state.stance,
                    state.counts)


def register(cls: type[Model]) -> type[Model]:
    """Class decorator: make a model available by its ``name``.

    Parameters
    ----------
    cls
        A :class:`Model` subclass with a non-empty ``name`` and a ``Params`` class deriving
        from :class:`ModelParams`.

    Returns
    -------
    type
        ``cls`` itself, registered.

    Raises
    ------
    TypeError
        No name, a name another model already uses, or ``Params`` not a
        :class:`ModelParams`.
    """
    if not cls.name:
        raise TypeError(f"{cls.__name__} must set a non-empty `name`")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise TypeError(f"a model named {cls.name!r} is already registered")
    if not issubclass(cls.Params, ModelParams):
        raise TypeError(f"{cls.__name__}.Params must subclass ModelParams")
    _REGISTRY[cls.name] = cls
    return cls


def get_model(name: str) -> type[Model]:
    """The model class registered as ``name``.

    Parameters
    ----------
    name
        A registered name (``steppe models`` lists them).

    Returns
    -------
    type
        The :class:`Model` subclass; call it with parameters to make a model.

    Raises
    ------
    ParameterError
        An unknown name (the message lists the registered ones).
    """
    from . import _discover

    _discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ParameterError(
            "unknown model", field="model.name",
            allowed=", ".join(sorted(_REGISTRY)), given=name,
        ) from None


def available_models() -> dict[str, type[Model]]:
    """All registered models, by name (sorted).

    Returns
    -------
    dict
        Name -> :class:`Model` subclass.
    """
    from . import _discover

    _discover()
    return dict(sorted(_REGISTRY.items()))


# -- describing parameters ----------------------------------------------------------------
def describe_field(info: Any, name: str = "x") -> str:
    """What a pydantic field allows, in words: ``"0 <= x <= 1"``, ``"one of 'a', 'b'"``.

    Parameters
    ----------
    info
        The field (``Params.model_fields[name]``).
    name
        The name to use for the value in the description.

    Returns
    -------
    str

    Examples
    --------
    >>> from pydantic import Field
    >>> class P(ModelParams):
    ...     p: float = Field(0.1, ge=0, le=1)
    >>> describe_field(P.model_fields["p"], "p")
    'number, 0 <= p <= 1'
    """
    return _describe(info.annotation, list(info.metadata), name)


def _describe(ann: Any, metadata: list[Any], name: str) -> str:
    import types

    from pydantic.fields import FieldInfo

    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(ann)
        metas = list(metadata)
        for e in extra:
            metas.extend(e.metadata if isinstance(e, FieldInfo) else [e])
        return _describe(base, metas, name)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(ann))
    if origin is dict:
        key, value = typing.get_args(ann)
        return f"a table of {_describe(key, [], 'key')} -> {_describe(value, [], name)}"
    if origin is list:
        (item,) = typing.get_args(ann)
        return f"a list of {_describe(item, [], name)}"
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(ann)
        if all(isinstance(a, type) and issubclass(a, BaseModel) for a in args):
            kinds = ", ".join(typing.get_args(a.model_fields["dist"].annotation)[0]
                              for a in args if "dist" in a.model_fields)
            return f"a distribution table ({kinds})" if kinds else "a table"
        parts = [_describe(a, metadata, name) for a in args if a is not type(None)]
        text = " or ".join(dict.fromkeys(parts))
        return text + (" or none" if type(None) in args else "")
    kind = {int: "integer", float: "number", bool: "true/false", str: "text"}.get(ann, str(ann))
    lo = hi = None
    lo_op = hi_op = ""
    for m in metadata:
        if isinstance(m, at.Ge):
            lo, lo_op = m.ge, "<="
        elif isinstance(m, at.Gt):
            lo, lo_op = m.gt, "<"
        elif isinstance(m, at.Le):
            hi, hi_op = m.le, "<="
        elif isinstance(m, at.Lt):
            hi, hi_op = m.lt, "<"
    if lo is not None and hi is not None:
        return f"{kind}, {lo} {lo_op} {name} {hi_op} {hi}"
    if lo is not None:
        return f"{kind}, {name} {'>=' if lo_op == '<=' else '>'} {lo}"
    if hi is not None:
        return f"{kind}, {name} {hi_op} {hi}"
    return kind


def parameter_error_from(exc: ValidationError, *, prefix: str,
                         params: type[ModelParams] | None = None) -> ParameterError:
    """Turn the first problem of a pydantic error into a :class:`ParameterError`.

    Parameters
    ----------
    exc
        The validation error.
    prefix
        Put before the field's name in the message (the model's name).
    params
        The parameter class validated, to say what the field allows.

    Returns
    -------
    ParameterError
    """
    err = exc.errors()[0]
    loc = ".".join(str(x) for x in err["loc"])
    allowed = None
    if params is not None and err["loc"] and err["loc"][0] in params.model_fields:
        fname = str(err["loc"][0])
        allowed = describe_field(params.model_fields[fname], fname)
    elif err["type"] == "extra_forbidden" and params is not None:
        allowed = "parameters " + ", ".join(params.model_fields) if params.model_fields else (
            "no parameters")
    message = "invalid value" if allowed is not None else err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown parameter"
    return ParameterError(message, field=f"{prefix}.{loc}" if prefix else loc,
                          allowed=allowed, given=err.get("input"))
