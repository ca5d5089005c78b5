"""Building the initial state of a run: stances, committed agents, the run's generator.

Examples
--------
>>> import numpy as np
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> model = get_model("voter")()
>>> st = init_state(model, complete_graph(100), shares={"A": 0.3, "B": 0.7},
...                 committed=Committed(stance="A", fraction=0.1), seed=1)
>>> st.counts.tolist(), int(st.committed.sum())
([37, 63], 10)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..distributions import DistLike, checked, sample
from ..errors import ParameterError
from ..models.base import Model
from ..networks.base import Network
from ..rng import make_state
from ..rounding import largest_remainder
from ..state import State

__all__ = ["Committed", "combine_shares", "init_state", "odds_shares"]


@dataclass(frozen=True)
class Committed:
    """Agents who never change their stance.

    Either ``fraction`` of all agents, or ``by_group``: a fraction per group label (the
    network's ``groups``, e.g. the blocks of a stochastic block model). The committed agents
    are drawn uniformly at random (within each group) and hold ``stance``.

    ``among = "everyone"``: they are drawn first, and the initial shares then apply to the
    others (so the share holding ``stance`` is the committed fraction plus its share among
    the rest). ``among = "holders"``: every agent first gets its stance from the initial
    shares, and the committed are then drawn among those holding ``stance`` (the initial
    shares hold for everyone; the fraction must not exceed the holders).
    """

    stance: str
    fraction: float = 0.0
    by_group: Mapping[int, float] = field(default_factory=dict)
    #: for continuous models: the opinion committed agents hold (default: the middle of the
    #: stance's interval)
    opinion: float | None = None
    among: str = "everyone"

    def __post_init__(self) -> None:
        if not 0.0 <= self.fraction <= 1.0:
            raise ParameterError("committed fraction out of range", field="committed.fraction",
                                 allowed="0 <= fraction <= 1", given=self.fraction)
        for g, f in self.by_group.items():
            if not 0.0 <= f <= 1.0:
                raise ParameterError("committed fraction out of range",
                                     field=f"committed.by_group.{g}",
                                     allowed="0 <= fraction <= 1", given=f)
        if self.among not in ("everyone", "holders"):
            raise ParameterError("unknown rule", field="committed.among",
                                 allowed="'everyone', 'holders'", given=self.among)


def _committed_mask(network: Network, committed: Committed | None,
                    gen: np.random.Generator, present: np.ndarray | None = None,
                    holders: np.ndarray | None = None) -> np.ndarray:
    n = network.n if present is None else int(np.count_nonzero(present))
    mask = np.zeros(network.n, dtype=np.bool_)
    if committed is None:
        return mask
    if committed.by_group:
        if network.groups is None:
            raise ParameterError(
                "committed agents per group need a network with groups "
                "(e.g. a stochastic block model)", field="committed.by_group",
                given=network.name)
        for g, frac in sorted(committed.by_group.items()):
            members = np.flatnonzero(network.groups == int(g))
            if present is not None:
                members = members[present[members]]
            if len(members) == 0:
                present = sorted(np.unique(network.groups).tolist())
                raise ParameterError("no agent in this group", field=f"committed.by_group.{g}",
                                     allowed=f"groups {present}", given=g)
            k = round(frac * len(members))
            if holders is not None:
                members = members[holders[members]]
                if k > len(members):
                    raise ParameterError(
                        "more committed agents than agents holding their stance",
                        field=f"committed.by_group.{g}",
                        allowed=f"<= {len(members)} agents", given=k)
            mask[gen.choice(members, size=k, replace=False)] = True
    if committed.fraction > 0:
        k = round(committed.fraction * n)
        free = ~mask if present is None else ~mask & present
        candidates = np.flatnonzero(free if holders is None else free & holders)
        if holders is not None and k > len(candidates):
            raise ParameterError("more committed agents than agents holding their stance",
                                 field="committed.fraction",
                                 allowed=f"<= {len(candidates)} agents", given=k)
        k = min(k, len(candidates))
        mask[gen.choice(candidates, size=k, replace=False)] = True
    return mask


def init_state(
    model: Model,
    network: Network,
    *,
    shares: Mapping[str, float] | None = None,
    committed: Committed | None = None,
    seed: int | np.random.SeedSequence = 0,
    exact: bool = True,
    opinions: DistLike | None = None,
    shares_by_group: Mapping[int, Mapping[str, float]] | None = None,
    present: np.ndarray | None = None,
    shares_by_age: Mapping[int, Mapping[str, float]] | None = None,
    odds: Mapping[str, Mapping[int, Mapping[str, float]]] | None = None,
) -> State:
    """The initial :class:`~steppe.models.base.State` of one run.

    Parameters
    ----------
    model, network
        What will run, and on what.
    shares
        Initial share of each stance among the *uncommitted* agents (labels from
        ``model.stances``; missing labels mean 0). Defaults to ``model.default_initial``.
    committed
        Committed agents and their stance, or None.
    seed
        Seed of this run: stances are placed, and the kernel generator seeded, from it.
    exact
        If True, the counts are exactly ``shares * n_uncommitted`` (largest-remainder
        rounding) in random positions; if False each agent draws its stance independently.
    opinions
        Continuous models only: the distribution of initial opinions (clipped to the model's
        domain). Without it, each uncommitted agent's category is drawn from ``shares`` and
        its opinion is uniform within the category's interval.
    shares_by_group
        Initial shares within the listed groups (``network.groups`` codes); members of other
        groups use ``shares``.
    shares_by_age
        Initial shares within the listed age bands (codes of the network's ``age``
        attribute). An agent whose group and age band are both listed takes
        p(s | g, a) ∝ p(s | g) · p(s | a) / p(s), with p(s) from ``shares``: group and age
        act independently on the odds of each stance.
    odds
        Gradients of the initial shares over agent attributes, as odds factors:
        ``{attribute: {level code: {stance: factor}}}`` (attributes of the network:
        ``group``, ``region``, ``age``, ``language``; unlisted levels and stances: 1). An
        agent in the cell of levels ``l`` holds stance ``s`` with probability
        ``p(s | l) ∝ b_s prod_attr f_attr(l_attr, s)``, where the base ``b`` is solved so that
        the shares among all the agents placed are ``shares`` (exactly up to rounding):
        ``shares`` stays the national figure and each factor is an odds ratio between levels.
        Not together with ``shares_by_group`` or ``shares_by_age``.
    present
        With border flows: the agents present at the start. Shares and committed fractions
        apply to them; absent agents are frozen and hold stance code 0 until they arrive
        (see :mod:`steppe.population.flows`). Default: everyone.
    """
    if opinions is not None:
        opinions = _distribution(opinions, model)
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    place_ss, kernel_ss, aux_ss = ss.spawn(3)
    gen = np.random.default_rng(place_ss)
    k = len(model.stances)
    shares = dict(model.default_initial if shares is None else shares)
    vec = _share_vector(model, shares, "initial.shares")

    n = network.n
    if present is not None:
        present = np.asarray(present, dtype=np.bool_)
        if present.shape != (n,):
            raise ParameterError("need one presence flag per agent", field="present",
                                 allowed=f"shape ({n},)", given=present.shape)
    holders_first = committed is not None and committed.among == "holders"
    if holders_first and opinions is not None:
        raise ParameterError("committed agents among the holders of a stance need initial "
                             "shares, not a distribution of opinions",
                             field="committed.among", allowed="'everyone'", given="holders")
    mask = (np.zeros(n, dtype=np.bool_) if holders_first
            else _committed_mask(network, committed, gen, present))
    stance = np.zeros(n, dtype=np.int8)
    if committed is not None:
        stance[mask] = model.stance_code(committed.stance)
    free = np.flatnonzero(~mask if present is None else ~mask & present)
    if odds:
        if shares_by_group or shares_by_age:
            raise ParameterError("give initial shares either per group and age band or as "
                                 "odds factors, not both", field="initial.odds")
        _assign_odds(model, network, stance, free, vec, odds, exact, gen)
    elif shares_by_age:
        _assign_cells(model, network, stance, free, vec, shares_by_group or {},
                      shares_by_age, exact, gen)
    elif shares_by_group:
        if network.groups is None:
            raise ParameterError("initial shares per group need a network with groups",
                                 field="initial.by_group", given=network.name)
        listed = np.isin(network.groups[free], np.fromiter(shares_by_group, dtype=np.int64))
        _assign(stance, free[~listed], vec, exact, gen)
        for g, group_shares in sorted(shares_by_group.items()):
            gvec = _share_vector(model, group_shares, f"initial.by_group.{g}")
            _assign(stance, free[network.groups[free] == g], gvec, exact, gen)
    else:
        _assign(stance, free, vec, exact, gen)
    if holders_first:
        assert committed is not None
        held = stance == model.stance_code(committed.stance)
        if present is not None:
            held &= present
        mask = _committed_mask(network, committed, gen, present, holders=held)
        free = np.flatnonzero(~mask if present is None else ~mask & present)
    counts = np.bincount(stance, minlength=k).astype(np.int64)
    opinion = None
    if model.continuous:
        opinion = _initial_opinions(model, stance, mask, free, committed, opinions, gen)
    elif opinions is not None:
        raise ParameterError("initial opinions are for continuous models only",
                             field="initial.opinion", given=model.name)
    if present is not None:
        mask = mask | ~present
        if opinion is not None:
            opinion[~present] = model.representative(0)
    state = State(stance=stance, committed=mask, counts=counts, rng=make_state(kernel_ss),
                  opinion=opinion, present=None if present is None else present.copy())
    if model.continuous:
        model.categorize(state)
    model.check_network(network)
    model.init_aux(state, network, gen=np.random.default_rng(aux_ss))
    return state


def combine_shares(by_group: np.ndarray | None, by_age: np.ndarray | None,
                   base: np.ndarray) -> np.ndarray:
    """Stance shares of an agent from its group's and its age band's shares (either may
    be None): p(s | g, a) ∝ p(s | g) p(s | a) / p(s).

    Examples
    --------
    >>> base = np.array([0.5, 0.5])
    >>> combine_shares(np.array([0.8, 0.2]), np.array([0.8, 0.2]), base).round(4).tolist()
    [0.9412, 0.0588]
    >>> combine_shares(None, np.array([0.3, 0.7]), base).tolist()
    [0.3, 0.7]
    """
    if by_group is None and by_age is None:
        return base
    if by_group is None or by_age is None:
        return by_age if by_group is None else by_group
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(base > 0, by_group * by_age / base, 0.0)
    total = v.sum()
    return by_group if total <= 0 else v / total


def _assign_cells(model: Model, network: Network, stance: np.ndarray, free: np.ndarray,
                  vec: np.ndarray, by_group: Mapping[int, Mapping[str, float]],
                  by_age: Mapping[int, Mapping[str, float]], exact: bool,
                  gen: np.random.Generator) -> None:
    """Initial stances per (group, age band) cell."""
    attrs = network.attributes or {}
    if "age" not in attrs:
        raise ParameterError("initial shares per age band need a [population] with ages",
                             field="initial.by_age", given=network.name)
    ages = np.asarray(attrs["age"][0], dtype=np.int64)
    if by_group and network.groups is None:
        raise ParameterError("initial shares per group need a network with groups",
                             field="initial.by_group", given=network.name)
    groups = (np.zeros(network.n, np.int64) if network.groups is None
              else np.asarray(network.groups, dtype=np.int64))
    gvec = {g: _share_vector(model, v, f"initial.by_group.{g}") for g, v in by_group.items()}
    avec = {a: _share_vector(model, v, f"initial.by_age.{a}") for a, v in by_age.items()}
    n_ages = int(ages.max()) + 1 if ages.size else 1
    cell = groups[free] * n_ages + ages[free]
    order = np.argsort(cell, kind="stable")
    keys, starts = np.unique(cell[order], return_index=True)
    bounds = [*starts.tolist(), len(order)]
    for c, key in enumerate(keys.tolist()):
        g, a = divmod(int(key), n_ages)
        who = free[order[bounds[c]:bounds[c + 1]]]
        _assign(stance, who, combine_shares(gvec.get(g), avec.get(a), vec), exact, gen)


def odds_shares(weights: np.ndarray, factors: np.ndarray, target: np.ndarray,
                tol: float = 1e-13, max_iter: int = 100_000) -> np.ndarray:
    """Stance shares per cell, ``p(s | c) ∝ b_s F[c, s]``, with the base ``b`` solved so
    that the cells' weighted mean is ``target`` (multiplicative fixed-point updates,
    ``b <- b * target / mean``, which converge for positive factors).

    Parameters
    ----------
    weights
        Agents per cell, shape ``(cells,)``.
    factors
        Odds factors per cell and stance, shape ``(cells, stances)``, > 0.
    target
        The shares the population as a whole must have, shape ``(stances,)``.

    Returns
    -------
    numpy.ndarray
        ``(cells, stances)``, each row summing to 1.

    Examples
    --------
    >>> p = odds_shares(np.array([1.0, 1.0]), np.array([[1.0, 1.0], [4.0, 1.0]]),
    ...                 np.array([0.5, 0.5]))
    >>> p.round(4).tolist(), (p[:, 0] / p[:, 1] * (p[0, 1] / p[0, 0])).round(6).tolist()
    ([[0.3333, 0.6667], [0.6667, 0.3333]], [1.0, 4.0])
    """
    w = np.asarray(weights, dtype=np.float64) / np.sum(weights)
    f = np.asarray(factors, dtype=np.float64)
    b = np.asarray(target, dtype=np.float64).copy()
    for _ in range(max_iter):
        p = b * f
        p /= p.sum(axis=1, keepdims=True)
        mean = w @ p
        if np.max(np.abs(mean - target)) < tol:
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            b = np.where(target > 0, b * target / mean, 0.0)
    return p


def _assign_odds(model: Model, network: Network, stance: np.ndarray, free: np.ndarray,
                 vec: np.ndarray, odds: Mapping[str, Mapping[int, Mapping[str, float]]],
                 exact: bool, gen: np.random.Generator) -> None:
    """Initial stances per cell of the attributes named in ``odds`` (see init_state)."""
    attrs = dict(network.attributes or {})
    if "group" not in attrs and network.groups is not None:
        attrs["group"] = (network.groups, ())
    cell = np.zeros(len(free), dtype=np.int64)
    sizes = []
    for name in odds:
        if name not in attrs:
            raise ParameterError("odds over an attribute the agents do not have",
                                 field=f"initial.odds.{name}",
                                 allowed=", ".join(sorted(attrs)) or "none (no population)",
                                 given=name)
        codes = np.asarray(attrs[name][0], dtype=np.int64)
        size = int(codes.max()) + 1 if codes.size else 1
        cell = cell * size + codes[free]
        sizes.append(size)
    order = np.argsort(cell, kind="stable")
    keys, starts, counts = np.unique(cell[order], return_index=True, return_counts=True)
    k = len(model.stances)
    factors = np.ones((len(keys), k))
    for c, key in enumerate(keys.tolist()):
        levels = []
        for size in reversed(sizes):
            key, level = divmod(key, size)
            levels.append(level)
        for name, level in zip(odds, reversed(levels), strict=True):
            for label, f in odds[name].get(level, {}).items():
                if not 0 < f < np.inf:
                    raise ParameterError("an odds factor must be > 0",
                                         field=f"initial.odds.{name}.{level}.{label}",
                                         allowed="0 < factor", given=f)
                factors[c, model.stance_code(label)] *= f
    shares = odds_shares(counts, factors, vec)
    bounds = [*starts.tolist(), len(order)]
    for c in range(len(keys)):
        _assign(stance, free[order[bounds[c]:bounds[c + 1]]], shares[c], exact, gen)


def _share_vector(model: Model, shares: Mapping[str, float], field: str) -> np.ndarray:
    vec = np.zeros(len(model.stances))
    for label, value in shares.items():
        code = model.stance_code(label)
        if not (0.0 <= value <= 1.0):
            raise ParameterError("share out of range", field=f"{field}.{label}",
                                 allowed="0 <= share <= 1", given=value)
        vec[code] = value
    if not np.isclose(vec.sum(), 1.0, atol=1e-9):
        raise ParameterError("initial shares must sum to 1", field=field, given=dict(shares))
    return vec


def _assign(stance: np.ndarray, who: np.ndarray, vec: np.ndarray, exact: bool,
            gen: np.random.Generator) -> None:
    """Give the agents ``who`` stances in proportions ``vec`` (exact counts or drawn)."""
    k = len(vec)
    if exact:
        codes = np.repeat(np.arange(k, dtype=np.int8), largest_remainder(len(who), vec))
        gen.shuffle(codes)
    else:
        codes = gen.choice(k, size=len(who), p=vec).astype(np.int8)
    stance[who] = codes


def _initial_opinions(model: Model, stance: np.ndarray, mask: np.ndarray, free: np.ndarray,
                      committed: Committed | None, opinions: DistLike | None,
                      gen: np.random.Generator) -> np.ndarray:
    lo, hi = model.domain
    x = np.empty(len(stance), dtype=np.float64)
    if opinions is not None:
        x[free] = sample(opinions, len(free), gen, low=lo, high=hi)
    else:
        for code in range(len(model.stances)):
            members = free[stance[free] == code]
            a, b = model.bounds(code)
            x[members] = gen.uniform(a, b, size=len(members))
    if committed is not None and mask.any():
        code = model.stance_code(committed.stance)
        value = committed.opinion if committed.opinion is not None else model.representative(
            code)
        a, b = model.bounds(code)
        if not (a <= value <= b):
            raise ParameterError("committed opinion outside its stance's interval",
                                 field="committed.opinion", allowed=f"[{a}, {b}]",
                                 given=value)
        x[mask] = value
    return x


def _distribution(spec: Any, model: Model) -> DistLike:
    """Initial opinions as a distribution: a number, a distribution object, or a table
    such as ``{"dist": "uniform", "low": 0, "high": 1}`` (as in a scenario file); it must
    put its draws in the model's opinion range."""
    if isinstance(spec, Mapping):
        from pydantic import TypeAdapter, ValidationError

        from ..distributions import Distribution

        try:
            spec = TypeAdapter(Distribution).validate_python(dict(spec))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ParameterError(f"not a distribution table: {err['msg']}",
                                 field="initial.opinion",
                                 allowed="e.g. {dist = 'uniform', low = 0, high = 1}",
                                 given=dict(spec)) from None
    if not model.continuous:
        return spec
    lo, hi = model.domain
    return checked(spec, lo, hi, "initial.opinion")
