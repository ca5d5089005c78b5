"""Homophily network: a stochastic block model over the (region, group) blocks of a population.

Rule, as implemented. The blocks ``k = (r, g)`` of a block-sorted
:class:`~steppe.population.Population` (contiguous id ranges, region-major, sizes ``s_k``)
are linked like a stochastic block model (Holland, Laskey & Leinhardt 1983) in which each
pair of distinct agents ``i`` in ``k``, ``j`` in ``l`` is an edge independently with
probability

    p_kl = c · h_g^[g_k = g_l] · h_r^[r_k = r_l],

i.e. the block-pair weights are ``w(k, l) = s_k s_l h_g^[same group] h_r^[same region]``
with ``h_g`` and ``h_r`` odds multipliers for sharing a group and a region (homophily,
McPherson, Smith-Lovin & Cook 2001). With the ordered-pair totals

    A11 = Σ_k s_k (s_k − 1)                          (same group, same region: same block)
    A10 = Σ_g G_g² − Σ_k s_k²                         (same group, other region)
    A01 = Σ_r R_r² − Σ_k s_k²                         (other group, same region)
    A00 = n² − Σ_g G_g² − Σ_r R_r² + Σ_k s_k²          (neither)

(``G_g``, ``R_r`` group and region totals), the expected share of edge ends inside the own
group is ``φ_g = (A11 x y + A10 x) / Z`` and inside the own region ``φ_r = (A11 x y + A01 y)
/ Z``, with ``x = h_g``, ``y = h_r``, ``Z = A11 x y + A10 x + A01 y + A00``. Setting
``φ_g = a`` (``within_group``) and ``φ_r = b`` (``within_region``): the first equation is
linear in ``x``, ``x = a (A01 y + A00) / ((1 − a)(A11 y + A10))``, and substituting it into
the second gives the quadratic

    (1−b) A11 A01 y² + [(1−b)(a A11 A00 + (1−a) A01 A10) − b (a A10 A01 + (1−a) A00 A11)] y
        − b A10 A00 = 0,

whose leading and constant coefficients have opposite signs, so for ``a, b`` in [0, 1) it has
exactly one root ``y >= 0``: the solve is in closed form, and the solution is checked by
substituting it back (to 1e-9). Targets below the no-homophily baseline (``φ`` at
``x = y = 1``) give ``h < 1`` (heterophily); this is allowed, and a target of 0 gives
``h = 0`` (no ties inside the group / region). ``within_group=None`` (``within_region=None``)
fixes ``h_g = 1`` (``h_r = 1``): no preference for that attribute, the other solved alone.
A population with a single (non-empty) group or region must pass ``None`` for it, since
every tie is then inside it. The scale ``c = n d / Z`` makes the expected mean degree ``d``
(``mean_degree``); a ``p_kl`` above 1 raises :class:`~steppe.errors.ParameterError`.

The expected degree is *not* the same for every agent: an agent in block ``k`` expects
``c Σ_l (s_l − δ_kl) h_g^[..] h_r^[..]`` ties, so with ``h_g > 1`` members of large groups
(and regions) have more ties than members of small ones. The shares ``within_group`` and
``within_region`` are national averages over edge ends, not the share of every agent.
``equal_degree=True`` is the degree-corrected variant (Karrer & Newman 2011): ``p_kl = c θ_k
θ_l h_g^[..] h_r^[..]`` with block weights ``θ`` found together with ``h_g, h_r`` by
alternating the closed-form solve (with every ordered block pair weighted by ``θ_k θ_l``)
and the fixed-point step ``θ_k <- θ_k sqrt(mean degree / expected degree of k)`` until every
block's expected degree is within 1e-11 of the mean; the national shares still hit the
targets.

Sampling, per block pair ``k <= l`` in row-major order, exactly as
:func:`~steppe.networks.sbm.stochastic_block_model`: the edge count is Binomial(N_kl, p_kl)
(``N_kk = s_k (s_k − 1) / 2``, ``N_kl = s_k s_l``), then that many distinct pairs uniformly
(the private sampler of :mod:`steppe.networks._pairs`). Nothing is O(n) per block pair, so
51 blocks (1,326 block pairs) at 19.5 million agents cost one pass over the edges.

Examples
--------
>>> from steppe.population import synthesize
>>> pop = synthesize(20000, groups={"a": 0.7, "b": 0.3}, regions={"n": 0.5, "s": 0.5},
...                  seed=0)
>>> g = homophily_network(pop, mean_degree=8, within_group=0.9, within_region=0.6, seed=1)
>>> round(g.params["h_group"], 3), round(g.params["h_region"], 3)
(6.518, 1.5)
>>> round(g.mean_degree())
8
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ParameterError, check_real
from ..rng import SeedLike, as_generator
from . import _pairs
from .base import Network

if TYPE_CHECKING:
    from ..population import Population

__all__ = ["homophily_network", "solve_homophily"]

SOLVE_TOL = 1e-9


def _pair_totals(sizes: np.ndarray) -> tuple[float, float, float, float]:
    """(A11, A10, A01, A00) ordered distinct-pair totals of a regions x groups size table,
    computed exactly in Python integers and returned as floats divided by n²."""
    s = [[int(v) for v in row] for row in sizes]
    n = sum(map(sum, s))
    sq = sum(v * v for row in s for v in row)
    gsq = sum(sum(row[g] for row in s) ** 2 for g in range(len(s[0])))
    rsq = sum(sum(row) ** 2 for row in s)
    a11 = sq - n
    a10 = gsq - sq
    a01 = rsq - sq
    a00 = n * n - gsq - rsq + sq
    nn = float(n) * n
    return a11 / nn, a10 / nn, a01 / nn, a00 / nn


def _blocks(sizes: np.ndarray):
    """Per block (region-major): sizes, and the same-group / same-region / ordered
    distinct-pair matrices over block pairs."""
    nr, ng = sizes.shape
    s = sizes.ravel().astype(np.float64)
    reg = np.repeat(np.arange(nr), ng)
    grp = np.tile(np.arange(ng), nr)
    same_g = grp[:, None] == grp[None, :]
    same_r = reg[:, None] == reg[None, :]
    pairs = s[:, None] * (s[None, :] - np.eye(len(s)))
    return s, same_g, same_r, pairs


def _weighted_totals(sizes: np.ndarray, theta: np.ndarray) -> tuple[float, ...]:
    """(A11, A10, A01, A00) with each ordered pair of blocks k, l weighted by θ_k θ_l,
    normalised to sum 1."""
    _, same_g, same_r, pairs = _blocks(sizes)
    w = pairs * np.outer(theta, theta)
    tot = w.sum()
    return (w[same_g & same_r].sum() / tot, w[same_g & ~same_r].sum() / tot,
            w[~same_g & same_r].sum() / tot, w[~same_g & ~same_r].sum() / tot)


def _equal_degree(sizes: np.ndarray, a: float | None, b: float | None
                  ) -> tuple[np.ndarray, float, float]:
    """Block weights θ (mean 1 over agents) and (h_g, h_r) such that every block has the
    same expected degree and the national shares hit the targets: alternate the closed-form
    solve for h given θ and the symmetric fixed-point step θ_k <- θ_k sqrt(mean / deg_k)."""
    s, same_g, same_r, pairs = _blocks(sizes)
    theta = np.ones(len(s))
    live = s > 0
    for _ in range(10_000):
        h_g, h_r = solve_homophily(sizes, a, b, theta=theta)
        f = np.where(same_g, h_g, 1.0) * np.where(same_r, h_r, 1.0)
        deg = theta * (((pairs / np.where(s > 0, s, 1.0)[:, None]) * f) @ theta)
        mean = (s * deg).sum() / s.sum()
        ratio = np.where(live, mean / np.where(deg > 0, deg, mean), 1.0)
        if np.abs(ratio - 1).max() < 1e-11:
            return theta, h_g, h_r
        theta = theta * np.sqrt(ratio)
        theta /= (s * theta).sum() / s.sum()
    raise ParameterError("no block weights give every agent the same expected degree with "
                         "these targets", field="equal_degree",
                         given={"within_group": a, "within_region": b})


def _shares_at(t, x: float, y: float) -> tuple[float, float]:
    a11, a10, a01, a00 = t
    z = a11 * x * y + a10 * x + a01 * y + a00
    return (a11 * x * y + a10 * x) / z, (a11 * x * y + a01 * y) / z


def solve_homophily(sizes: np.ndarray, within_group: float | None,
                    within_region: float | None, *,
                    theta: np.ndarray | None = None) -> tuple[float, float]:
    """The odds multipliers ``(h_g, h_r)`` that give the target national shares of edge
    ends inside the own group and region (the closed form of the module docstring).

    Parameters
    ----------
    sizes : numpy.ndarray
        Agents per block, shape ``(regions, groups)``.
    within_group, within_region : float or None
        Targets in [0, 1); None fixes that multiplier at 1.
    theta : numpy.ndarray, optional
        Block weights (region-major), for the degree-corrected variant
        (``p_kl ∝ θ_k θ_l h..``); default all 1.

    Returns
    -------
    tuple of float
        ``(h_group, h_region)``.

    Examples
    --------
    >>> import numpy as np
    >>> h = solve_homophily(np.array([[500, 500], [500, 500]]), 0.5, 0.5)
    >>> [round(v, 6) for v in h]
    [1.001002, 1.001002]
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    t = _pair_totals(sizes) if theta is None else _weighted_totals(sizes, theta)
    a11, a10, a01, a00 = t
    n_groups = int(np.count_nonzero(sizes.sum(axis=0)))
    n_regions = int(np.count_nonzero(sizes.sum(axis=1)))
    for name, value, count, what in (("within_group", within_group, n_groups, "group"),
                                     ("within_region", within_region, n_regions, "region")):
        if value is None:
            continue
        check_real(name, value, 0.0, math.nextafter(1.0, 0.0))
        if count < 2:
            raise ParameterError(f"the population has a single {what}, so every tie is inside"
                                 f" it; pass None (no preference)", field=name,
                                 allowed="None", given=value)
    a = within_group
    b = within_region
    try:
        if a is None and b is None:
            x = y = 1.0
        elif b is None:
            y = 1.0
            x = a * (a01 + a00) / ((1 - a) * (a11 + a10)) if a > 0 else 0.0
        elif a is None:
            x = 1.0
            y = b * (a10 + a00) / ((1 - b) * (a11 + a01)) if b > 0 else 0.0
        else:
            p = (1 - b) * a11 * a01
            q = ((1 - b) * (a * a11 * a00 + (1 - a) * a01 * a10)
                 - b * (a * a10 * a01 + (1 - a) * a00 * a11))
            r = b * a10 * a00
            if r == 0:
                y = max(-q / p, 0.0) if p > 0 else 0.0
            else:
                disc = math.sqrt(q * q + 4 * p * r)
                # the root >= 0 of p y² + q y − r, in the form that avoids cancellation
                y = 2 * r / (q + disc) if q > 0 else ((disc - q) / (2 * p) if p > 0 else
                                                      math.inf)
            x = a * (a01 * y + a00) / ((1 - a) * (a11 * y + a10)) if a > 0 else 0.0
    except (ZeroDivisionError, OverflowError):
        x = y = math.nan
    ok = math.isfinite(x) and math.isfinite(y) and x >= 0 and y >= 0
    if ok:
        try:
            phi_g, phi_r = _shares_at(t, x, y)
        except ZeroDivisionError:
            phi_g = phi_r = math.nan
        ok = ((a is None or abs(phi_g - a) <= SOLVE_TOL)
              and (b is None or abs(phi_r - b) <= SOLVE_TOL))
    if not ok:
        base_g, base_r = _shares_at(t, 1.0, 1.0)
        raise ParameterError(
            f"these block sizes cannot reach within_group={a} and within_region={b} "
            f"(no-homophily baseline: {base_g:.4g} and {base_r:.4g}); a target needs two "
            "agents sharing the group (region) and two that do not",
            field="within_group" if a is not None else "within_region",
            given={"within_group": a, "within_region": b})
    return float(x), float(y)


def homophily_network(
    population: Population,
    *,
    mean_degree: float,
    within_group: float | None,
    within_region: float | None,
    seed: SeedLike,
    equal_degree: bool = False,
) -> Network:
    """Stochastic block model over the population's (region, group) blocks with a preference
    for one's own group and region (see the module docstring for the rule).

    Parameters
    ----------
    population : Population
        Sorted by region, then group (as :func:`steppe.population.synthesize` makes it).
    mean_degree : float
        Expected mean degree (> 0).
    within_group : float or None
        Target expected national share of edge ends inside the own group, in [0, 1); None:
        no preference (``h_g = 1``).
    within_region : float or None
        The same for the own region.
    seed : int, SeedSequence or Generator
        Source of randomness.
    equal_degree : bool
        False (default): the rule of the module docstring, in which members of large groups
        and regions get more ties. True: degree-corrected variant, ``p_kl = c θ_k θ_l
        h_g^[..] h_r^[..]`` with block weights ``θ`` (``params["block_weights"]``) solved
        together with ``h_g, h_r`` so that *every* agent's expected degree is
        ``mean_degree`` (up to the one missing self-pair) and the national shares still hit
        the targets.

    Returns
    -------
    Network
        Undirected, ``name="homophily"``, ``groups`` = the population's group codes (int32),
        ``params`` holding the targets, the solved ``h_group``, ``h_region``, the scale
        ``c`` (``edge_probability``), the no-homophily baselines and the block sizes.

    Raises
    ------
    ParameterError
        Targets out of range or unreachable, a population that is not block-sorted, or a
        mean degree that needs an edge probability above 1.

    Examples
    --------
    >>> from steppe.population import synthesize
    >>> pop = synthesize(300, groups={"a": 0.5, "b": 0.5}, regions={"n": 0.5, "s": 0.5},
    ...                  seed=0)
    >>> g = homophily_network(pop, mean_degree=4, within_group=0.8, within_region=None,
    ...                       seed=2)
    >>> g.n, g.name, g.groups[:3].tolist()
    (300, 'homophily', [0, 0, 0])
    """
    n = population.n
    if n < 2:
        raise ParameterError("needs at least two agents", field="population", given=n)
    d = check_real("mean_degree", mean_degree, 0.0, float(n - 1))
    if not population.is_block_sorted():
        raise ParameterError("agents must be sorted by region, then group (contiguous blocks),"
                             " as synthesize() makes them", field="population")
    sizes = population.block_sizes()
    if equal_degree:
        theta, h_g, h_r = _equal_degree(sizes, within_group, within_region)
    else:
        theta = np.ones(sizes.size)
        h_g, h_r = solve_homophily(sizes, within_group, within_region)
    t = _pair_totals(sizes)
    _, same_g, same_r, pairs = _blocks(sizes)
    z = float((pairs * np.outer(theta, theta) * np.where(same_g, h_g, 1.0)
               * np.where(same_r, h_r, 1.0)).sum())
    c = n * d / z if z > 0 else 0.0
    nr, ng = sizes.shape
    bs = sizes.ravel()  # blocks, region-major (as the ids)
    off = np.concatenate([[0], np.cumsum(bs)[:-1]]).astype(np.int64)
    b_reg = np.repeat(np.arange(nr), ng)
    b_grp = np.tile(np.arange(ng), nr)
    rng = as_generator(seed)
    specs = []
    for k in range(len(bs)):
        if bs[k] == 0:
            continue
        for m in range(k, len(bs)):
            if bs[m] == 0:
                continue
            p = c * theta[k] * theta[m] * (h_g if b_grp[k] == b_grp[m] else 1.0) * (
                h_r if b_reg[k] == b_reg[m] else 1.0)
            spec = (int(off[k]), int(bs[k]), int(off[m]), int(bs[m]))
            total = _pairs.n_pairs(spec)
            if total == 0 or p == 0:
                continue
            if p > 1 + 1e-12:
                raise ParameterError(
                    f"implies an edge probability {p:.4g} > 1 between blocks "
                    f"({population.region_labels[b_reg[k]]}, "
                    f"{population.group_labels[b_grp[k]]}) and "
                    f"({population.region_labels[b_reg[m]]}, "
                    f"{population.group_labels[b_grp[m]]}); lower mean_degree or the "
                    "homophily targets", field="mean_degree", given=d)
            specs.append((*spec, int(rng.binomial(total, min(p, 1.0)))))
    ptr, idx = _pairs.sample_pairs_csr(n, specs, rng)
    base_g, base_r = _shares_at(t, 1.0, 1.0)
    params: dict[str, Any] = {
        "mean_degree": d,
        "within_group": within_group,
        "within_region": within_region,
        "h_group": h_g,
        "h_region": h_r,
        "edge_probability": c,
        "equal_degree": bool(equal_degree),
        "block_weights": theta.tolist(),
        "baseline_within_group": base_g,
        "baseline_within_region": base_r,
        "block_sizes": sizes.tolist(),
        "group_labels": list(population.group_labels),
        "region_labels": list(population.region_labels),
    }
    return Network.from_csr(ptr, idx, name="homophily", groups=population.group,
                            params=params)
