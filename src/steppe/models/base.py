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

import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar

import annotated_types as at
import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import ParameterError

if typing.TYPE_CHECKING:
    from ..networks.base import Network

__all__ = [
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

    Attributes
    ----------
    stance : numpy.ndarray
        int8 stance code of every agent (an index into the model's ``stances``).
    committed : numpy.ndarray
        bool; committed agents never change their stance.
    counts : numpy.ndarray
        int64 number of agents holding each stance, kept current by the kernels.
    rng : numpy.ndarray
        uint64[4] xoshiro256** state of this run (see :mod:`steppe.rng`).
    aux : dict
        Model-specific per-agent arrays (e.g. a memory), allocated by ``init_aux``.
    time : float
        Elapsed time in sweeps.
    """

    stance: np.ndarray
    committed: np.ndarray
    counts: np.ndarray
    rng: np.ndarray
    aux: dict[str, np.ndarray] = field(default_factory=dict)
    time: float = 0.0

    @property
    def n(self) -> int:
        return int(self.stance.shape[0])

    def shares(self) -> np.ndarray:
        """Share of agents holding each stance."""
        return self.counts / self.n

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

    # -- the interface --------------------------------------------------------------------
    def check_network(self, network: Network) -> None:
        """Raise :class:`ParameterError` if the rule is not defined on ``network``."""

    def init_aux(self, state: State, network: Network) -> None:
        """Allocate model-specific arrays in ``state.aux`` (called once per run)."""

    def advance(self, state: State, network: Network, sweeps: int,
                stop_at_consensus: bool) -> float:
        """Run ``sweeps`` sweeps in place; return the time advanced (in sweeps)."""
        raise NotImplementedError(f"model {self.name!r} does not define advance()")

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
        need = state.n if share >= 1.0 else max(1, int(np.ceil(share * state.n - 1e-9)))
        for k in self.consensus_codes():
            if state.counts[k] >= need:
                return k
        return None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.model_dump().items())
        return f"{type(self).__name__}({args})"


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
    ann = info.annotation
    origin = typing.get_origin(ann)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(ann))
    kind = {int: "integer", float: "number", bool: "true/false", str: "text"}.get(ann, str(ann))
    lo = hi = None
    lo_op = hi_op = ""
    for m in info.metadata:
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
