"""Media: external fields that pull exposed agents toward a channel's stance.

Each channel has a stance (discrete models: a stance label; continuous models: an opinion
value, by default the middle of that stance's interval), a *strength* that events can set or
ramp (a propaganda surge is a jump in strength), and a per-agent *exposure* in [0, 1] drawn
from declared distributions, optionally per group (e.g. the share watching Russian TV by
language group and age band).

Once per sweep, after social influence, every exposed agent who is not committed is pulled:

- discrete stances: it adopts the channel's stance with probability
  ``min(1, strength * exposure_i)``;
- continuous opinions: ``x_i += min(1, strength * exposure_i) * (target - x_i)``.

With a fractional step h < 1 (``time.rates_per`` longer than a sweep) the share
``m = min(1, strength * exposure_i)`` is that of the written period and each sweep pulls by
``1 − (1 − m)^h``: 1/h sweeps of it make one pull of m (an agent nobody else moves ends the
period where one written step would put it; a discrete agent adopts with the same chance).

Channels act in the order they are declared. With strength zero a channel does nothing (and
draws no random numbers), so adding a silent channel changes no result.

Examples
--------
>>> import numpy as np
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> from steppe.engine import init_state
>>> model = get_model("voter")()
>>> net = complete_graph(10_000)
>>> st = init_state(model, net, shares={"B": 1.0}, seed=1)
>>> tv = MediaChannel(model, name="tv", stance="A", strength=0.5,
...                   exposure=0.2).bind(net, np.random.default_rng(0))
>>> tv.apply(st)
>>> 0.08 < st.counts[0] / 10_000 < 0.12   # about 0.5 x 0.2 of everyone
np.True_
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Self

import numpy as np
from numba import njit, prange

from ..distributions import DistLike, checked, sample_by_group
from ..errors import ParameterError
from ..models.base import Model, OpinionPull
from ..networks.base import Network
from ..rng import Stream
from ..state import State
from .base import (
    Control,
    Pressure,
    Stage,
    World,
    number_control,
    per_agent_probability,
    register,
)
from .base import step_fraction as step_fraction_of

if TYPE_CHECKING:
    from ..scenario.loaded import LoadedScenario

__all__ = ["MediaChannel"]


@njit(cache=True, parallel=True)
def _pull_opinions(x, committed, share, target):
    """Move every uncommitted opinion ``share[i]`` of the way to target."""
    for i in prange(x.shape[0]):
        if not committed[i]:
            x[i] += share[i] * (target - x[i])


@register
class MediaChannel(Pressure):
    """One media channel bound to a run. Declared by the scenario's ``[[media]]`` tables (in
    the order they act); events target ``media.<name>.strength``.

    Parameters
    ----------
    model
        The run's model (stance labels; continuous or not).
    name
        Identifier used by events: ``media.<name>.strength``.
    stance
        The stance the channel pushes.
    strength
        Pull per sweep at full exposure (>= 0; per ``time.rates_per`` with a fractional
        step).
    exposure, exposure_by_group
        Per-agent exposure in [0, 1]: a number or a distribution (clipped to [0, 1]), and
        per-group overrides keyed by network group code.
    exposure_by_age
        Relative exposure by age band code: each agent's exposure is multiplied by its
        band's factor (unlisted bands: 1), then capped at 1 (needs an ``age`` attribute on
        the network).
    audience, audience_by_group, audience_by_age
        Who watches at all: each agent is in the channel's audience with probability
        ``audience`` (replaced by ``audience_by_group[g]`` for the listed groups, times
        ``audience_by_age[a]``, capped at 1), drawn once per run; outside the audience the
        exposure is 0 (a share of viewers, as "a fifth watch Russian TV", rather than a
        partial exposure of everyone). None: everyone watches.
    opinion
        Continuous models: the opinion the channel pushes (default: middle of the stance's
        interval).
    step_fraction
        h in (0, 1]: the share of the period ``strength`` was written for that one sweep
        stands for; each sweep pulls by ``1 − (1 − m)^h`` (1, default: by m).

    Notes
    -----
    :meth:`bind` then draws the exposures over a network (its groups select per-group
    exposures); the same generator draws the pulls.
    """

    field = "media"
    stage = Stage.INFLUENCE
    stream = Stream.MEDIA

    def __init__(self, model: Model, *, name: str, stance: str, strength: float,
                 exposure: DistLike = 1.0,
                 exposure_by_group: Mapping[int, DistLike] | None = None,
                 exposure_by_age: Mapping[int, float] | None = None,
                 opinion: float | None = None, audience: float | None = None,
                 audience_by_group: Mapping[int, float] | None = None,
                 audience_by_age: Mapping[int, float] | None = None,
                 step_fraction: float = 1.0) -> None:
        if stance not in model.stances:
            raise ParameterError(f"unknown stance for model {model.name!r}",
                                 field=f"media.{name}.stance",
                                 allowed=", ".join(repr(s) for s in model.stances), given=stance)
        if strength < 0:
            raise ParameterError("strength must be >= 0", field=f"media.{name}.strength",
                                 allowed=">= 0", given=strength)
        self.step_fraction = step_fraction_of(step_fraction)
        self.name = name
        self.label = f"media.{name}"
        self.code = model.stances.index(stance)
        self.strength = float(strength)
        self._exposure = (exposure, dict(exposure_by_group or {}))
        checked(exposure, 0.0, 1.0, f"media.{name}.exposure")
        for g, sub in self._exposure[1].items():
            checked(sub, 0.0, 1.0, f"media.{name}.exposure_by_group.{g}")
        self.exposure_by_age = dict(exposure_by_age or {})
        self.audience = audience
        self.audience_by_group = dict(audience_by_group or {})
        self.audience_by_age = dict(audience_by_age or {})
        if audience is None and (self.audience_by_group or self.audience_by_age):
            raise ParameterError("an audience per group or age band needs an audience",
                                 field=f"media.{name}.audience", allowed="a share in [0, 1]")
        for what, table, top in (("audience", {"": audience} if audience is not None
                                  else {}, 1.0),
                                 ("audience_by_group", self.audience_by_group, 1.0),
                                 ("audience_by_age", self.audience_by_age, 1e6)):
            for key, v in table.items():
                if not 0.0 <= v <= top:
                    raise ParameterError("out of range", field=f"media.{name}.{what}"
                                         + (f".{key}" if key != "" else ""),
                                         allowed=f"0 <= value <= {top:g}", given=v)
        self.model = model
        self.continuous = model.continuous
        self.target = None
        if model.continuous:
            value = opinion if opinion is not None else model.representative(self.code)
            lo, hi = model.bounds(self.code)
            if not lo <= value <= hi:
                raise ParameterError("opinion outside the stance's interval",
                                     field=f"media.{name}.opinion", allowed=f"[{lo}, {hi}]",
                                     given=value)
            self.target = float(value)
        self.k = len(model.stances)

    @classmethod
    def from_scenario(cls, scenario: LoadedScenario, model: Model) -> list[MediaChannel]:
        """Every ``[[media]]`` table, in order (channel ``i`` draws from stream
        ``(MEDIA, run, i)``)."""
        out = []
        names = [m.name for m in scenario.spec.media]
        stances = ", ".join(repr(s) for s in model.stances)
        for i, m in enumerate(scenario.spec.media):
            if names.count(m.name) > 1:
                raise scenario.fail("media channel names must differ", f"media.{i}.name",
                                    given=m.name)
            if m.stance not in model.stances:
                raise scenario.fail(f"unknown stance for model {model.name!r}",
                                    f"media.{i}.stance", allowed=stances, given=m.stance)
            by_group = scenario.by_group(m.exposure_by_group, f"media.{i}.exposure_by_group")
            by_age = scenario.by_age(m.exposure_by_age, f"media.{i}.exposure_by_age")
            aud_group = scenario.by_group(m.audience_by_group, f"media.{i}.audience_by_group")
            aud_age = scenario.by_age(m.audience_by_age, f"media.{i}.audience_by_age")
            with scenario.errors(rename={f"media.{m.name}": f"media.{i}"}):
                ch = cls(model, name=m.name, stance=m.stance, strength=m.strength,
                         exposure=m.exposure, exposure_by_group=by_group,
                         exposure_by_age=by_age, opinion=m.opinion, audience=m.audience,
                         audience_by_group=aud_group, audience_by_age=aud_age,
                         step_fraction=scenario.calendar.step_fraction)
            ch.stream_keys = (i,)
            out.append(ch)
        return out

    def controls(self) -> list[Control]:
        return [number_control(self, "strength", f"media.{self.name}.strength")]

    def bind(self, network: Network, gen: np.random.Generator) -> Self:
        """Draw every agent's exposure (per group, then scaled by age band)."""
        self.gen = gen
        self._share = None
        try:
            self.exposure = sample_by_group(*self._exposure, network.groups, network.n,
                                            self.gen, low=0.0, high=1.0)
        except ValueError as exc:
            raise ParameterError(str(exc),
                                 field=f"media.{self.name}.exposure_by_group") from None
        if self.exposure_by_age:
            attrs = network.attributes or {}
            if "age" not in attrs:
                raise ParameterError("exposure by age band needs a population with ages",
                                     field=f"media.{self.name}.exposure_by_age",
                                     given=network.name)
            ages, labels = attrs["age"]
            scale = np.ones(len(labels))
            for code, f in self.exposure_by_age.items():
                scale[code] = f
            self.exposure = np.minimum(1.0, self.exposure * scale[ages])
        if self.audience is not None:
            p = per_agent_probability(network, self.audience, self.audience_by_group,
                                      self.audience_by_age, f"media.{self.name}.audience",
                                      "an audience")
            self.watches = self.gen.random(network.n) < p
            self.exposure = np.where(self.watches, self.exposure, 0.0)
        return self

    # -- the protocol --------------------------------------------------------------------
    @property
    def quiet(self) -> bool:
        """A silent channel (strength 0) does nothing and draws nothing."""
        return not self.active

    def settled(self, state: State) -> bool:
        return not self.active

    def pull(self) -> OpinionPull | None:
        """Continuous models: the share of the way each agent moves per sweep."""
        if not self.active or self.target is None:
            return None
        return OpinionPull(share=self.share(), target=self.target)

    def share(self) -> np.ndarray:
        """Each agent's pull in one sweep: ``m = min(1, strength x exposure)``, or
        ``1 − (1 − m)^h`` with a fractional step h (after :meth:`bind`). Kept until the
        strength changes (a power per agent and sweep cost 0.05 s a day at full scale).

        Returns
        -------
        numpy.ndarray
            float64, one value in [0, 1] per agent (read only).
        """
        key = (self.strength, self.step_fraction)
        cached = getattr(self, "_share", None)
        if cached is not None and cached[0] == key and len(cached[1]) == len(self.exposure):
            return cached[1]
        m = np.minimum(1.0, self.strength * self.exposure)
        if self.step_fraction != 1.0:
            m = np.where(m > 0.0, 1.0 - (1.0 - m) ** self.step_fraction, 0.0)
        m.flags.writeable = False
        self._share = (key, m)
        return m

    @property
    def active(self) -> bool:
        return self.strength > 0.0

    def apply(self, state: State, world: World | None = None) -> None:
        """One sweep's pull on every exposed, uncommitted agent."""
        if not self.active:
            return
        if self.continuous:
            _pull_opinions(state.opinion, state.committed, self.share(), float(self.target))
            self.model.categorize(state)
            return
        pull = self.share()
        free = ~state.committed
        hit = free & (state.stance != self.code) & (self.gen.random(state.n) < pull)
        if hit.any():
            state.stance[hit] = self.code
            state.counts[:] = np.bincount(state.stance, minlength=self.k)[: self.k]
