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
>>> tv = MediaChannel(model, net, name="tv", stance="A", strength=0.5, exposure=0.2,
...                   gen=np.random.default_rng(0))
>>> tv.apply(st)
>>> 0.08 < st.counts[0] / 10_000 < 0.12   # about 0.5 x 0.2 of everyone
np.True_
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numba import njit

from ..distributions import DistLike, sample_by_group
from ..errors import ParameterError
from ..models.base import Model, State
from ..networks.base import Network

__all__ = ["MediaChannel"]


@njit(cache=True)
def _pull_opinions(x, committed, exposure, strength, target):
    """Move every uncommitted opinion min(1, strength x exposure) of the way to target."""
    for i in range(x.shape[0]):
        if not committed[i]:
            m = min(1.0, strength * exposure[i])
            x[i] += m * (target - x[i])


class MediaChannel:
    """One media channel bound to a run.

    Parameters
    ----------
    model, network
        The run's model (stance labels; continuous or not) and network (groups for
        per-group exposure).
    name
        Identifier used by events: ``media.<name>.strength``.
    stance
        The stance the channel pushes.
    strength
        Pull per sweep at full exposure (>= 0).
    exposure, exposure_by_group
        Per-agent exposure in [0, 1]: a number or a distribution (clipped to [0, 1]), and
        per-group overrides keyed by network group.
    opinion
        Continuous models: the opinion the channel pushes (default: middle of the stance's
        interval).
    gen
        Generator for the exposure draws and the pulls.
    """

    def __init__(self, model: Model, network: Network, *, name: str, stance: str,
                 strength: float, exposure: DistLike = 1.0,
                 exposure_by_group: Mapping[int, DistLike] | None = None,
                 opinion: float | None = None,
                 gen: np.random.Generator | None = None) -> None:
        if stance not in model.stances:
            raise ParameterError(f"unknown stance for model {model.name!r}",
                                 field=f"media.{name}.stance",
                                 allowed=", ".join(repr(s) for s in model.stances), given=stance)
        if strength < 0:
            raise ParameterError("strength must be >= 0", field=f"media.{name}.strength",
                                 allowed=">= 0", given=strength)
        self.name = name
        self.code = model.stances.index(stance)
        self.strength = float(strength)
        self.gen = gen if gen is not None else np.random.default_rng(0)
        try:
            self.exposure = sample_by_group(exposure, exposure_by_group, network.groups,
                                            network.n, self.gen, low=0.0, high=1.0)
        except ValueError as exc:
            raise ParameterError(str(exc), field=f"media.{name}.exposure_by_group") from None
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

    @property
    def active(self) -> bool:
        return self.strength > 0.0

    def apply(self, state: State) -> None:
        """One sweep's pull on every exposed, uncommitted agent."""
        if not self.active:
            return
        if self.continuous:
            _pull_opinions(state.opinion, state.committed, self.exposure, self.strength,
                           float(self.target))
            self.model.categorize(state)
            return
        pull = np.minimum(1.0, self.strength * self.exposure)
        free = ~state.committed
        hit = free & (state.stance != self.code) & (self.gen.random(state.n) < pull)
        if hit.any():
            state.stance[hit] = self.code
            state.counts[:] = np.bincount(state.stance, minlength=self.k)[: self.k]
