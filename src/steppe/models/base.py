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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import annotated_types as at
import numpy as np
from numba import njit
from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import ParameterError

if typing.TYPE_CHECKING:
    from ..networks.base import Network

__all__ = [
    "ContinuousModel",
    "Model",
    "ModelParams",
    "State",
    "available_models",
    "describe_field",
    "get_model",
    "register",
]


class ModelParams(BaseModel):
    """Base class of model parameters: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


@dataclass
class State:
    """Everything that changes during a run, as plain arrays.

    Private and expressed stances: ``stance`` (and ``opinion`` for continuous models) is what
    each agent privately holds; ``expressed`` (and ``expressed_opinion``) is what it voices.
    Update rules change private stances and read the neighbours' *voiced* stances through
    ``seen`` / ``seen_counts`` / ``seen_opinion``. Without an expression layer (or while its
    enforcement is zero) all of these are the very same arrays as the private ones, so every
    model runs exactly as published; the engine points ``seen`` at ``expressed`` only while
    an enforcement is in force.

    Attributes
    ----------
    stance : numpy.ndarray
        int8 private stance code of every agent (an index into the model's ``stances``).
    committed : numpy.ndarray
        bool; committed agents never change their private stance.
    counts : numpy.ndarray
        int64 number of agents privately holding each stance, kept current by the kernels.
    rng : numpy.ndarray
        uint64[4] xoshiro256** state of this run (see :mod:`steppe.rng`).
    aux : dict
        Model-specific per-agent arrays (e.g. a memory), allocated by ``init_aux``.
    time : float
        Elapsed time in sweeps.
    opinion : numpy.ndarray or None
        float64 private opinion of continuous models (``stance`` is then its category).
    expressed, expressed_counts, expressed_opinion
        What agents voice, and how many voice each stance (aliases of the private arrays
        when there is no expression layer).
    seen, seen_counts, seen_opinion
        What kernels read for other agents: the private arrays or the expressed ones.
    present : numpy.ndarray or None
        With border flows: bool, the agents in the country now. Absent agents (arrivals yet
        to come, leavers) are frozen (``committed`` is set for them), have no ties in the
        network the kernels see, and are left out of every count reported; ``counts`` still
        covers all agents. None: everyone is present.
    """

    stance: np.ndarray
    committed: np.ndarray
    counts: np.ndarray
    rng: np.ndarray
    aux: dict[str, np.ndarray] = field(default_factory=dict)
    time: float = 0.0
    opinion: np.ndarray | None = None
    expressed: np.ndarray = None  # type: ignore[assignment]
    expressed_counts: np.ndarray = None  # type: ignore[assignment]
    expressed_opinion: np.ndarray | None = None
    seen: np.ndarray = None  # type: ignore[assignment]
    seen_counts: np.ndarray = None  # type: ignore[assignment]
    seen_opinion: np.ndarray | None = None
    present: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.expressed is None:
            self.expressed = self.stance
        if self.expressed_counts is None:
            self.expressed_counts = self.counts
        if self.expressed_opinion is None:
            self.expressed_opinion = self.opinion
        self.see_private()

    @property
    def n(self) -> int:
        return int(self.stance.shape[0])

    @property
    def live(self) -> bool:
        """True when others are seen as they privately are (no enforcement in force)."""
        return self.seen is self.stance

    def see_private(self) -> None:
        """Kernels read the private arrays (no enforcement in force)."""
        self.seen = self.stance
        self.seen_counts = self.counts
        self.seen_opinion = self.opinion

    def see_expressed(self) -> None:
        """Kernels read what agents voice."""
        self.seen = self.expressed
        self.seen_counts = self.expressed_counts
        self.seen_opinion = self.expressed_opinion

    def separate_expression(self) -> None:
        """Give the expressed stances arrays of their own (for an expression layer)."""
        if self.expressed is self.stance:
            self.expressed = self.stance.copy()
            self.expressed_counts = self.counts.copy()
            if self.opinion is not None:
                self.expressed_opinion = self.opinion.copy()
        self.see_private()

    @property
    def n_present(self) -> int:
        """Number of agents present (all of them without border flows)."""
        return self.n if self.present is None else int(np.count_nonzero(self.present))

    def present_counts(self, expressed: bool = False) -> np.ndarray:
        """Agents present privately holding (or voicing) each stance.

        Examples
        --------
        >>> st = State(stance=np.array([0, 1, 1], np.int8), committed=np.zeros(3, bool),
        ...            counts=np.array([1, 2]), rng=np.zeros(4, np.uint64))
        >>> st.present = np.array([True, True, False])
        >>> st.present_counts().tolist(), st.n_present
        ([1, 1], 2)
        """
        counts = self.expressed_counts if expressed else self.counts
        if self.present is None:
            return counts
        out = np.zeros(len(counts), dtype=np.int64)
        _count_present(self.expressed if expressed else self.stance, self.present, out)
        return out

    def shares(self) -> np.ndarray:
        """Share of present agents privately holding each stance."""
        return self.present_counts() / self.n_present

    def recount(self, k: int) -> None:
        """Recompute ``counts`` from ``stance`` (after editing stances by hand)."""
        self.counts[:] = np.bincount(self.stance, minlength=k)[:k]


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
        """Change parameters mid-run (events); validated like the constructor's."""
        self.params = self._validate({**self.params.model_dump(), **changes})

    # -- the interface --------------------------------------------------------------------
    def check_network(self, network: Network) -> None:
        """Raise :class:`ParameterError` if the rule is not defined on ``network``."""

    def init_aux(self, state: State, network: Network,
                 gen: np.random.Generator | None = None) -> None:
        """Allocate model-specific arrays in ``state.aux`` (called once per run); ``gen``
        draws anything random (e.g. per-agent thresholds) from the run's seed."""

    def advance(self, state: State, network: Network, sweeps: int,
                stop_at_consensus: bool) -> float:
        """Run ``sweeps`` sweeps in place; return the time advanced (in sweeps)."""
        raise NotImplementedError(f"model {self.name!r} does not define advance()")

    def on_arrival(self, state: State, agents: np.ndarray) -> None:
        """Reset model-specific arrays (``state.aux``) of agents who just arrived with the
        stances now in ``state.stance``; the default has nothing to reset."""

    def on_start(self, state: State, network: Network, media: Sequence[Any] = ()) -> None:
        """Called by the engine once, right before the first sweep, with the ties and media
        channels in force then; the default does nothing."""

    def on_network_change(self, state: State, network: Network) -> None:
        """Recompute model-specific arrays that depend on the ties (border flows change
        who is connected); the default has none."""

    def is_frozen(self, state: State, network: Network) -> bool:
        """True when the dynamics can no longer change anything (an absorbing state other
        than consensus, e.g. converged continuous opinions or Sznajd's stalemate). Checked
        between chunks; the default is never."""
        return False

    # -- helpers shared by all models ------------------------------------------------------
    def stance_code(self, label: str) -> int:
        """The code of a stance label; :class:`ParameterError` for unknown labels."""
        try:
            return self.stances.index(label)
        except ValueError:
            raise ParameterError(
                f"unknown stance for model {self.name!r}",
                allowed=", ".join(self.stances), given=label,
            ) from None

    def consensus_codes(self) -> tuple[int, ...]:
        if self.consensus_stances is None:
            return tuple(range(len(self.stances)))
        return self.consensus_stances

    def consensus_mask(self) -> np.ndarray:
        """uint8 array over stance codes: 1 where unanimity on that stance is consensus."""
        mask = np.zeros(len(self.stances), dtype=np.uint8)
        mask[list(self.consensus_codes())] = 1
        return mask

    def consensus_stance(self, state: State, share: float = 1.0) -> int | None:
        """The consensus stance held by at least ``share`` of the agents (all of them by
        default), or None."""
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


@njit(cache=True)
def _count_present(codes, present, out):
    for i in range(codes.shape[0]):
        if present[i]:
            out[codes[i]] += 1


@njit(cache=True)
def _categorize(x, cutoffs, stance, counts):
    counts[:] = 0
    for i in range(x.shape[0]):
        c = 0
        for k in range(cutoffs.shape[0]):
            if x[i] >= cutoffs[k]:
                c = k + 1
        stance[i] = c
        counts[c] += 1


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
    stances: tuple[str, ...] = ("against", "neutral", "pro")  # type: ignore[misc]
    #: the range opinions live in
    domain: ClassVar[tuple[float, float]] = (0.0, 1.0)
    default_initial: ClassVar[dict[str, float]] = {"against": 1 / 3, "neutral": 1 / 3,
                                                   "pro": 1 / 3}

    def __init__(self, params: ModelParams | dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(params, **kwargs)
        lo, hi = self.domain
        self.cutoffs: tuple[float, ...] = tuple(lo + (hi - lo) * k / 3 for k in (1, 2))

    def set_categories(self, labels: tuple[str, ...] | list[str],
                       cutoffs: tuple[float, ...] | list[float]) -> None:
        """Name the stance categories and the opinion values that separate them."""
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
        self.stances = labels
        self.cutoffs = cutoffs

    def bounds(self, code: int) -> tuple[float, float]:
        """The opinion interval of category ``code`` (within the domain)."""
        edges = (self.domain[0], *self.cutoffs, self.domain[1])
        return edges[code], edges[code + 1]

    def representative(self, code: int) -> float:
        """A typical opinion of category ``code``: the middle of its interval."""
        lo, hi = self.bounds(code)
        return 0.5 * (lo + hi)

    def categorize(self, state: State) -> None:
        """Recompute ``state.stance`` and ``state.counts`` from ``state.opinion`` (one pass:
        the category is the number of cut-offs <= the opinion)."""
        _categorize(state.opinion, np.asarray(self.cutoffs, dtype=np.float64), state.stance,
                    state.counts)


def register(cls: type[Model]) -> type[Model]:
    """Class decorator: make a model available by its ``name``."""
    if not cls.name:
        raise TypeError(f"{cls.__name__} must set a non-empty `name`")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise TypeError(f"a model named {cls.name!r} is already registered")
    if not issubclass(cls.Params, ModelParams):
        raise TypeError(f"{cls.__name__}.Params must subclass ModelParams")
    _REGISTRY[cls.name] = cls
    return cls


def get_model(name: str) -> type[Model]:
    """The model class registered as ``name``."""
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
    """All registered models, by name (sorted)."""
    from . import _discover

    _discover()
    return dict(sorted(_REGISTRY.items()))


# -- describing parameters ----------------------------------------------------------------
def describe_field(info: Any, name: str = "x") -> str:
    """What a pydantic field allows, in words: ``"0 <= x <= 1"``, ``"one of 'a', 'b'"``.

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
    """Turn the first problem of a pydantic error into a :class:`ParameterError`."""
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
