"""The pressure protocol: everything besides the neighbours that acts on agents during a run.

A pressure (what agents dare to voice, media, news shocks, protest, border flows, …) is one
module holding a subclass of :class:`Pressure` decorated with :func:`register`. The time loop
(:func:`steppe.engine.simulate`) names no pressure: it only calls this interface.

Life of a pressure in one run
-----------------------------
1. **Declared**: :meth:`Pressure.from_scenario` reads the pressure's own entry of the
   scenario (its ``field``, e.g. ``[[media]]``) and returns unbound instances, checking
   stance labels, groups, age bands and dates against the model and the scenario. This is
   what a *dry* assembly does: it needs no network and draws nothing.
2. **Controls**: :meth:`Pressure.controls` names the numbers events may set or ramp
   (``media.<name>.strength`` …). The allowed event targets are derived from them, and the
   scenario's events are compiled once into a :class:`steppe.engine.timeline.Timeline`
   over them; :meth:`Pressure.schedule` then lets a pressure read whole schedules up front
   (a flow rate becomes arrivals per sweep), and :meth:`Pressure.slots` asks for agents who
   are not there at the start (arrival slots, :class:`~steppe.population.arrivals.ArrivalPool`,
   built into the network).
3. **Bound**: :meth:`Pressure.bind` draws the per-agent arrays of this run (exposures,
   thresholds…) from the pressure's own random stream (:attr:`Pressure.stream`).
4. **Run**: :meth:`prepare` (before anything else), :meth:`due` (discrete acts at given
   sweeps, such as arrivals or a news shock, announced by :meth:`next_time`), :meth:`start`
   (after the events of sweep 0), then :meth:`apply` once per sweep at its
   :attr:`Pressure.stage`. While every pressure is :attr:`quiet` (and no ramp moves), the
   loop runs many sweeps in one kernel call and calls :meth:`apply` once after them; it
   stops a run as absorbed only when every pressure is :meth:`settled`.

A pressure talks to the model only through the state and through arrays: it may ask the
model to read what agents *voice* (:attr:`voice_view`) and may offer a continuous pull
(:meth:`pull`, an :class:`~steppe.models.base.OpinionPull`) that models folding their
pressures into a rest state read. It records what it adds with :meth:`observables`.

Examples
--------
>>> sorted(available_pressures())
['expression', 'flows', 'media', 'news', 'protest']
>>> [p.__name__ for p in sorted(available_pressures().values(), key=lambda c: c.stage)][:2]
['BorderFlows', 'NewsShock']
"""

from __future__ import annotations

import abc
import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np

from ..errors import ParameterError
from ..networks.base import Network
from ..population.arrivals import ArrivalPool
from ..rng import Stream
from ..state import State

if TYPE_CHECKING:
    from ..models.base import Model, OpinionPull
    from ..observe.observables import Observable
    from ..scenario.loaded import LoadedScenario

__all__ = [
    "Control",
    "Pressure",
    "Stage",
    "World",
    "available_pressures",
    "non_negative",
    "number_control",
    "register",
    "share_in_unit",
    "step_fraction",
]


class Stage(IntEnum):
    """Where in a sweep a pressure acts; pressures act in this order, and in the order
    they are declared within a stage.

    ``ARRIVALS``: before the sweep, at given sweeps only (people arriving and leaving);
    ``SHOCK``: before the sweep, at given sweeps only (news); ``INFLUENCE``: right after
    the model's update (media); ``VOICE``: what agents say (expression); ``ACTION``: what
    agents do (protest).
    """

    ARRIVALS = 0
    SHOCK = 1
    INFLUENCE = 2
    VOICE = 3
    ACTION = 4


@dataclass
class World:
    """What the loop and the pressures share besides the state: the full network and the
    ties the kernels see now (``active``: without absent agents under border flows)."""

    network: Network
    active: Network = field(init=False)

    def __post_init__(self) -> None:
        self.active = self.network


@dataclass(frozen=True)
class Control:
    """A number of the model or a pressure that events may set or ramp.

    Attributes
    ----------
    path : str
        The event target, e.g. ``"media.russian_tv.strength"``.
    get, set : callable
        Read and write the current value (``set`` validates and raises
        :class:`~steppe.errors.ParameterError`).
    check : callable
        Validates a value without setting it (events are checked when compiled).
    integer : bool
        Ramps round to whole numbers.
    live : bool
        False when the pressure reads the control's whole schedule up front
        (:meth:`Pressure.schedule`); the loop then need not stop or step for its events.
    """

    path: str
    get: Callable[[], Any]
    set: Callable[[Any], None]
    check: Callable[[Any], Any]
    integer: bool = False
    live: bool = True


#: the largest value a control takes unless it says otherwise (an intensity of 10^6 is
#: already "everything"; beyond, arithmetic on it can overflow)
MAX_CONTROL = 1e6


def non_negative(path: str, value: Any, high: float = MAX_CONTROL) -> float:
    """``value`` as a float if it is a number in ``[0, high]``.

    Parameters
    ----------
    path
        The event target, for the message (``"media.tv.strength"``).
    value
        The value an event gives it.
    high
        The largest value allowed.

    Returns
    -------
    float

    Raises
    ------
    ParameterError
        Not a number, or outside ``[0, high]``.
    """
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= high:
        raise ParameterError("must be a number >= 0", field=f"events.{path}",
                             allowed=f"0 <= value <= {high:g}", given=value)
    return float(value)


def step_fraction(h: Any) -> float:
    """``h`` as a float if it is a share of a period in (0, 1]: what one sweep stands for of
    the period a scenario's rates are written for (``time.rates_per``).

    Parameters
    ----------
    h
        The share (1: the rates are per sweep).

    Returns
    -------
    float

    Raises
    ------
    ParameterError
        Not a number, or outside (0, 1] (the field named is ``time.rates_per``).

    Examples
    --------
    >>> step_fraction(1 / 7) == 1 / 7
    True
    """
    return share_in_unit(h, "the share of a period one sweep stands for", "time.rates_per",
                         "0 < h <= 1")


def share_in_unit(value: Any, what: str, field: str, allowed: str = "0 < share <= 1"
                  ) -> float:
    """``value`` as a float if it is a number in (0, 1] (not a bool, not NaN).

    Parameters
    ----------
    value
        The given value.
    what, field, allowed
        The message's words, the field it names and what it allows.

    Returns
    -------
    float

    Raises
    ------
    ParameterError
        Not such a number.

    Examples
    --------
    >>> share_in_unit(0.25, "a share", "expression.revise")
    0.25
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not 0.0 < value <= 1.0:
        raise ParameterError(what, field=field, allowed=allowed, given=value)
    return float(value)


def number_control(obj: Any, attr: str, path: str, *, live: bool = True,
                   high: float = MAX_CONTROL) -> Control:
    """A control over the attribute ``attr`` of ``obj``: a number >= 0, stored as float.

    Parameters
    ----------
    obj
        The object holding the number (usually the pressure).
    attr
        The attribute's name.
    path
        The event target that sets it (``"media.tv.strength"``).
    live
        False when the pressure reads the whole schedule up front (:class:`Control`).
    high
        The largest value allowed.

    Returns
    -------
    Control

    Examples
    --------
    >>> class Tv:
    ...     strength = 0.1
    >>> tv = Tv()
    >>> c = number_control(tv, "strength", "media.tv.strength")
    >>> c.set(0.5); tv.strength
    0.5
    >>> c.set(-1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    steppe.errors.ParameterError: events.media.tv.strength: must be a number >= 0 ...
    """

    def set_(value: Any) -> None:
        setattr(obj, attr, non_negative(path, value, high))

    return Control(path=path, get=lambda: getattr(obj, attr), set=set_,
                   check=lambda v: non_negative(path, v, high), live=live)


_REGISTRY: dict[str, type[Pressure]] = {}


class Pressure(abc.ABC):
    """Base class of pressures (see the module docstring for the protocol).

    Attributes
    ----------
    field : str
        The scenario field the pressure is declared in (``"media"`` for ``[[media]]``).
    stage : Stage
        Where in a sweep it acts.
    stream : Stream
        Its random stream; instance ``i`` of run ``r`` draws from ``(stream, r, *keys)``
        with ``keys`` = :attr:`stream_keys`.
    """

    field: ClassVar[str] = ""
    stage: ClassVar[Stage] = Stage.INFLUENCE
    stream: ClassVar[Stream]
    #: whether agents arrive and leave with this pressure (the state then tracks who is
    #: present; at the start, the residents)
    moves_people: ClassVar[bool] = False
    #: extra words of the spawn key after the run (e.g. the channel's index)
    stream_keys: tuple[int, ...] = ()
    #: a short name for messages ("media.russian_tv")
    label: str = ""

    # -- declaration ---------------------------------------------------------------------
    @classmethod
    @abc.abstractmethod
    def from_scenario(cls, scenario: LoadedScenario, model: Model) -> Sequence[Pressure]:
        """The unbound pressures the scenario declares in ``cls.field`` (none if absent).

        Parameters
        ----------
        scenario
            The loaded scenario.
        model
            The run's model (its stances, continuous or not).

        Returns
        -------
        sequence of Pressure
            Unbound instances, in the order declared.

        Raises
        ------
        ScenarioError
            Anything the model or the scenario contradicts (naming the file and the field).
        """

    def controls(self) -> Sequence[Control]:
        """The numbers events may set or ramp (default: none).

        Returns
        -------
        sequence of Control
        """
        return ()

    def schedule(self, value_at: Callable[[str, int], float],  # noqa: B027
                 sweeps: int | None) -> None:
        """Read whole control schedules up front. Default: nothing to read.

        Parameters
        ----------
        value_at
            ``value_at(path, t)`` is the value the timeline gives ``path`` at sweep ``t``.
        sweeps
            The length of the run (None when it has none).
        """

    def slots(self) -> Sequence[ArrivalPool]:
        """Agents this pressure needs who are not present at the start (default: none).

        Returns
        -------
        sequence of ArrivalPool
        """
        return ()

    # -- binding -------------------------------------------------------------------------
    def bind(self, network: Network, gen: np.random.Generator) -> Self:
        """Draw this run's per-agent arrays (default: nothing to draw).

        Parameters
        ----------
        network
            The run's network (its groups and attributes select per-agent values).
        gen
            The pressure's own random generator for this run; keep it for later draws.

        Returns
        -------
        Pressure
            The pressure itself, bound.
        """
        return self

    # -- in the loop ---------------------------------------------------------------------
    def prepare(self, state: State, world: World) -> None:  # noqa: B027
        """Before anything else in the run (e.g. mark absent agents).

        Parameters
        ----------
        state
            The run's initial state.
        world
            The full network and the ties in force.
        """

    def next_time(self, t: float) -> float:
        """The first sweep after ``t`` at which :meth:`due` has something to do.

        Parameters
        ----------
        t
            The current time, in sweeps.

        Returns
        -------
        float
            A sweep, or ``inf`` when nothing is due any more.
        """
        return float("inf")

    def due(self, state: State, world: World) -> None:  # noqa: B027
        """Carry out every discrete act due up to ``state.time``.

        Parameters
        ----------
        state
            The run's state, changed in place.
        world
            The full network and the ties in force (it may replace ``world.active``).
        """

    def start(self, state: State, world: World) -> None:  # noqa: B027
        """Once, after the events of sweep 0 and before the first record.

        Parameters
        ----------
        state
            The run's state.
        world
            The full network and the ties in force.
        """

    def apply(self, state: State, world: World) -> None:  # noqa: B027
        """Once per sweep, at :attr:`stage` (and once after a chunk of quiet sweeps).

        Parameters
        ----------
        state
            The run's state, changed in place.
        world
            The full network and the ties in force.
        """

    @property
    def quiet(self) -> bool:
        """True when :meth:`apply` would change nothing random between sweeps now, so
        that the loop may run several sweeps in one kernel call (default True)."""
        return True

    @property
    def voice_view(self) -> bool:
        """True while the model should read what agents voice rather than what they hold
        (default False)."""
        return False

    def settled(self, state: State) -> bool:
        """Whether nothing this pressure does can change the state any more (a run may
        then stop as absorbed); default: when nothing is due.

        Parameters
        ----------
        state
            The run's state.

        Returns
        -------
        bool
        """
        return self.next_time(state.time) == float("inf")

    def extra_answers(self) -> Sequence[str]:
        """Answers agents may voice besides the model's stances (e.g. "don't know"): they
        follow the stances in the outputs (default: none).

        Returns
        -------
        sequence of str
        """
        return ()

    def pull(self) -> OpinionPull | None:
        """A continuous pull toward an opinion, as arrays, for models that fold the
        pressures into their rest state (default: none).

        Returns
        -------
        OpinionPull or None
        """
        return None

    def observables(self) -> Sequence[Observable]:
        """What this pressure adds to the outputs (default: nothing).

        Returns
        -------
        sequence of Observable
        """
        return ()


def per_agent_probability(network: Network, value: float, by_group: dict[int, float],
                          by_age: dict[int, float], field: str, what: str) -> np.ndarray:
    """Each agent's probability: ``value``, replaced by its group's entry of ``by_group``,
    times its age band's factor of ``by_age``, capped at 1.

    Parameters
    ----------
    network
        The run's network (its ``groups`` and ``age`` attribute).
    value
        The probability of agents whose group is not listed.
    by_group
        Group code -> probability, replacing ``value`` for its members.
    by_age
        Age band code -> factor (unlisted bands: 1).
    field, what
        The scenario field and the quantity, for messages.

    Returns
    -------
    numpy.ndarray
        One probability per agent.

    Raises
    ------
    ParameterError
        A table by group without network groups, or by age band without ages (``field``
        names the scenario field, ``what`` the quantity: "reach", "an audience").

    Examples
    --------
    >>> from steppe.networks import complete_graph
    >>> net = complete_graph(3)
    >>> per_agent_probability(net, 0.4, {}, {}, "media.tv.audience", "an audience").tolist()
    [0.4, 0.4, 0.4]
    """
    p = np.full(network.n, float(value))
    if by_group:
        if network.groups is None:
            raise ParameterError(f"{what} by group needs a network with groups",
                                 field=f"{field}_by_group", given=network.name)
        for g, v in by_group.items():
            p[network.groups == g] = v
    if by_age:
        attrs = network.attributes or {}
        if "age" not in attrs:
            raise ParameterError(f"{what} by age band needs a population with ages",
                                 field=f"{field}_by_age", given=network.name)
        ages, labels = attrs["age"]
        factor = np.ones(len(labels))
        for code, f in by_age.items():
            factor[code] = f
        p = p * factor[ages]
    return np.minimum(1.0, p)


def register(cls: type[Pressure]) -> type[Pressure]:
    """Class decorator: make a pressure available for its scenario ``field``.

    Parameters
    ----------
    cls
        A :class:`Pressure` subclass with a non-empty ``field``.

    Returns
    -------
    type
        ``cls`` itself, registered.

    Raises
    ------
    TypeError
        No field, or a field another pressure already uses.
    """
    if not cls.field:
        raise TypeError(f"{cls.__name__} must set a non-empty `field`")
    if cls.field in _REGISTRY and _REGISTRY[cls.field] is not cls:
        raise TypeError(f"a pressure for field {cls.field!r} is already registered")
    _REGISTRY[cls.field] = cls
    return cls


_DISCOVERED = False


def _discover() -> None:
    """Import every pressure module of the package, once (as the models do: listing the
    modules cost about a millisecond per run)."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    from .. import pressures

    for mod in pkgutil.iter_modules(pressures.__path__):
        if not mod.name.startswith("_") and mod.name != "base":
            importlib.import_module(f"{pressures.__name__}.{mod.name}")
    _DISCOVERED = True


def available_pressures() -> dict[str, type[Pressure]]:
    """Every registered pressure, by scenario field, in the order they act in a sweep.

    Returns
    -------
    dict
        Scenario field -> :class:`Pressure` subclass.
    """
    _discover()
    return dict(sorted(_REGISTRY.items(), key=lambda kv: (kv[1].stage, kv[0])))
