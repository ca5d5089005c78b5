"""Synthetic populations: one agent per person, with a group, a region, an age band and a
language.

Rule, as implemented by :func:`synthesize` (``n`` agents; shares are fractions that must sum
to 1 within 1e-6 and are then divided by their sum):

1. **Regions.** ``exact=True``: region sizes are ``n`` split by largest remainder (the rule of
   :func:`steppe.rounding.largest_remainder`). ``exact=False``: Multinomial(n, region shares).
2. **Groups within regions.** A region listed in ``group_by_region`` gets that group mix.
   Every unlisted region gets the same *residual* mix, the one that makes the national group
   marginal come out as declared::

       q_g = (s_g - sum_{listed r} rho_r pi_rg) / (1 - sum_{listed r} rho_r)

   (``s`` national group shares, ``rho`` region shares, ``pi_r`` the listed mix of region
   ``r``). A negative numerator (beyond 1e-6) means the table needs more of a group than the
   country has: :class:`~steppe.errors.ParameterError` naming the group, the regions and the
   numbers. ``exact=True``: national group counts are ``largest_remainder(n, s)``; a listed region's
   counts are ``largest_remainder(size_r, pi_r)``; what is left of each group is spread over the
   unlisted regions in proportion (region by region, largest remainder of what is still left,
   the last region taking the rest), so every row and column total is exact. Rounding can
   leave a group a few agents short when the table uses up (nearly) all of it; such a
   deficit is moved, agent by agent, from the listed region holding most of that group to
   the group with most agents left, so the national marginal stays exact. ``exact=False``:
   the counts of region ``r`` are Multinomial(size_r, pi_r or q): each agent is then an
   independent draw whose group is, nationally, exactly Categorical(s).
3. **Ages within groups**, the same way with groups in the role of regions
   (``age_by_group``; unlisted groups get the residual age mix; default: age independent of
   group). Age is independent of region given the group: ``exact=True`` spreads each group's
   age counts over its regions in proportion (as in step 2); ``exact=False`` draws each
   (region, group) block's ages from Multinomial(size, age mix of the group).
4. **Languages within groups**, as ages (``language_by_group``; unlisted groups get the
   residual language mix; default: language independent of group), independent of region
   and age band given the group: in a block, languages are placed in an order of their
   own. ``language`` is the language a person would choose for an interview (what a poll's
   interview-language mix refers to); without ``languages`` everyone has the single level
   ``"all"``, and nothing is drawn for it.
5. **Order of the ids.** Agents are sorted by region, then group: each (region, group) pair
   is a contiguous *block* of ids, region-major (region 0's group 0, region 0's group 1, ...),
   which is what :func:`~steppe.networks.homophily.homophily_network` (a stochastic block model
   on contiguous id ranges) needs. Inside a block the ages are in a random order (a uniform
   permutation from ``seed``), so within a block the ids carry no structure.

Memory: 5 bytes per agent (group int8, region int16, age int8, language int8).

Examples
--------
>>> pop = synthesize(1000, groups={"Kazakh": 0.7, "Russian": 0.2, "other": 0.1},
...                  regions={"north": 0.4, "south": 0.6},
...                  group_by_region={"north": {"Kazakh": 0.5, "Russian": 0.4, "other": 0.1}},
...                  seed=0)
>>> pop.table("group").tolist(), pop.table("region").tolist()
([700, 200, 100], [400, 600])
>>> pop.crosstab("region", "group").tolist()
[[200, 160, 40], [500, 40, 60]]
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError, check_int
from ..rng import as_generator
from ..rounding import largest_remainder

__all__ = ["SHARE_TOL", "Population", "synthesize"]

#: tolerance on the sum of declared shares (and on the consistency of joint tables)
SHARE_TOL = 1e-6
_ATTRS = ("group", "region", "age", "language")
_MAX_CODES = {"group": 127, "region": 32767, "age": 127, "language": 127}
_DTYPES = {"group": np.int8, "region": np.int16, "age": np.int8, "language": np.int8}


@dataclass(frozen=True, eq=False)
class Population:
    """Agents ``0 .. n-1`` with a group, a region, an age band and a language (codes into
    label tuples).

    Attributes
    ----------
    n : int
        Number of agents.
    group, region, age, language : numpy.ndarray
        Codes per agent: group int8, region int16, age int8, language int8 (5 bytes per agent
        together). Without a language, everyone has code 0 (label ``"all"``).
    group_labels, region_labels, age_labels, language_labels : tuple of str
        The label of each code.

    Examples
    --------
    >>> import numpy as np
    >>> p = Population(3, np.array([0, 1, 1], np.int8), ("a", "b"), np.zeros(3, np.int16),
    ...                ("all",), np.zeros(3, np.int8), ("all",))
    >>> p.table("group").tolist(), p.nbytes
    ([1, 2], 15)
    """

    n: int
    group: np.ndarray
    group_labels: tuple[str, ...]
    region: np.ndarray
    region_labels: tuple[str, ...]
    age: np.ndarray
    age_labels: tuple[str, ...]
    language: np.ndarray | None = None
    language_labels: tuple[str, ...] = ("all",)

    def __post_init__(self) -> None:
        if self.language is None:
            object.__setattr__(self, "language", np.zeros(self.n, dtype=np.int8))
        for name in _ATTRS:
            codes = getattr(self, name)
            labels = getattr(self, f"{name}_labels")
            if not isinstance(codes, np.ndarray) or codes.dtype != _DTYPES[name]:
                raise ParameterError(f"{name} codes must be a numpy {_DTYPES[name].__name__} "
                                     "array", field=name, given=type(codes).__name__)
            if codes.shape != (self.n,):
                raise ParameterError(f"need one {name} code per agent", field=name,
                                     allowed=f"shape ({self.n},)", given=codes.shape)
            if len(labels) == 0:
                raise ParameterError("needs at least one label", field=f"{name}_labels")
            if self.n and (codes.min() < 0 or codes.max() >= len(labels)):
                raise ParameterError("codes out of range", field=name,
                                     allowed=f"0 .. {len(labels) - 1}",
                                     given=(int(codes.min()), int(codes.max())))

    def _codes(self, attr: str) -> tuple[np.ndarray, tuple[str, ...]]:
        if attr not in _ATTRS:
            raise ParameterError("unknown attribute", field="attr", allowed=list(_ATTRS),
                                 given=attr)
        return getattr(self, attr), getattr(self, f"{attr}_labels")

    def table(self, attr: str) -> np.ndarray:
        """Number of agents at each level of ``attr`` (``"group"``, ``"region"``, ``"age"``
        or ``"language"``), int64, in label order.

        Examples
        --------
        >>> synthesize(10, groups={"a": 0.3, "b": 0.7}, seed=0).table("group").tolist()
        [3, 7]
        """
        codes, labels = self._codes(attr)
        return np.bincount(codes, minlength=len(labels)).astype(np.int64)

    def crosstab(self, a: str, b: str) -> np.ndarray:
        """Counts of agents by level of ``a`` (rows) and ``b`` (columns), int64.

        Examples
        --------
        >>> p = synthesize(10, groups={"x": 0.5, "y": 0.5}, ages={"young": 0.4, "old": 0.6},
        ...                seed=0)
        >>> p.crosstab("group", "age").tolist()
        [[2, 3], [2, 3]]
        """
        ca, la = self._codes(a)
        cb, lb = self._codes(b)
        key = ca.astype(np.int64) * len(lb) + cb
        return np.bincount(key, minlength=len(la) * len(lb)).reshape(len(la), len(lb))

    def attributes(self) -> dict[str, tuple[np.ndarray, tuple[str, ...]]]:
        """``{name: (codes, labels)}`` for group, region, age and language (what series
        are broken down by).

        Examples
        --------
        >>> sorted(synthesize(4, groups={"a": 1.0}, seed=0).attributes())
        ['age', 'group', 'language', 'region']
        """
        return {name: self._codes(name) for name in _ATTRS}

    def block_sizes(self) -> np.ndarray:
        """Agents per (region, group) block, shape ``(regions, groups)``; in a population from
        :func:`synthesize` block ``(r, g)`` is a contiguous id range, region-major.

        Examples
        --------
        >>> synthesize(6, groups={"a": 0.5, "b": 0.5}, regions={"n": 0.5, "s": 0.5},
        ...            seed=0).block_sizes().tolist()
        [[2, 1], [1, 2]]
        """
        return self.crosstab("region", "group")

    def is_block_sorted(self) -> bool:
        """Whether ids are sorted by region, then group (contiguous blocks).

        Examples
        --------
        >>> synthesize(100, groups={"a": 0.5, "b": 0.5}, seed=0).is_block_sorted()
        True
        """
        if self.n < 2:
            return True
        key = self.region.astype(np.int32) * len(self.group_labels) + self.group
        return bool(np.all(key[1:] >= key[:-1]))

    @property
    def nbytes(self) -> int:
        """Bytes held by the code arrays."""
        return (self.group.nbytes + self.region.nbytes + self.age.nbytes
                + self.language.nbytes)

    def __repr__(self) -> str:
        return (f"Population(n={self.n}, groups={len(self.group_labels)}, "
                f"regions={len(self.region_labels)}, ages={len(self.age_labels)}, "
                f"languages={len(self.language_labels)})")


# --------------------------------------------------------------------------- helpers


def _shares(field: str, value, labels: tuple[str, ...] | None = None,
            partial: bool = False) -> tuple[tuple[str, ...], np.ndarray]:
    """Validated ``(labels, shares)`` of a mapping label -> share (normalised to sum 1).

    With ``labels`` given, the keys must be among them and the result is aligned to them
    (missing labels get 0)."""
    if not isinstance(value, Mapping) or len(value) == 0:
        raise ParameterError("must be a non-empty table of label = share", field=field,
                             allowed="mapping of str to numbers >= 0 summing to 1",
                             given=value)
    keys = []
    vals = []
    for k, v in value.items():
        if not isinstance(k, str) or not k:
            raise ParameterError("labels must be non-empty strings", field=field, given=k)
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) \
                or v < 0:
            raise ParameterError("shares must be finite numbers >= 0", field=f"{field}.{k}",
                                 allowed="number >= 0", given=v)
        keys.append(k)
        vals.append(float(v))
    total = math.fsum(vals)
    if abs(total - 1.0) > SHARE_TOL:
        raise ParameterError(f"shares must sum to 1 (they sum to {total:.9g})", field=field,
                             allowed=f"sum 1 within {SHARE_TOL:g}", given=dict(value))
    arr = np.array(vals) / total
    if labels is None:
        return tuple(keys), arr
    out = np.zeros(len(labels))
    for k, v in zip(keys, arr, strict=True):
        if k not in labels:
            raise ParameterError("unknown label", field=f"{field}.{k}", allowed=list(labels),
                                 given=k)
        out[labels.index(k)] = v
    return labels, out


def _listed(field: str, table, row_labels: tuple[str, ...], col_labels: tuple[str, ...]
            ) -> dict[int, np.ndarray]:
    """``{row index: shares over col_labels}`` of a joint table keyed by row label."""
    if table is None:
        return {}
    if not isinstance(table, Mapping):
        raise ParameterError("must be a table of label = {label = share}", field=field,
                             given=table)
    out = {}
    for key, row in table.items():
        if key not in row_labels:
            raise ParameterError("unknown label", field=f"{field}.{key}",
                                 allowed=list(row_labels), given=key)
        out[row_labels.index(key)] = _shares(f"{field}.{key}", row, col_labels)[1]
    return out


def _residual_mix(field: str, row_share: np.ndarray, col_share: np.ndarray,
                  listed: dict[int, np.ndarray], row_labels, col_labels) -> np.ndarray:
    """Column mix of the unlisted rows that keeps the national column marginal; raises
    ParameterError when the listed rows need more of a column than there is."""
    need = np.zeros(len(col_share))
    for r, mix in listed.items():
        need += row_share[r] * mix
    left = col_share - need
    for c in np.flatnonzero(left < -SHARE_TOL):
        parts = ", ".join(f"{row_labels[r]} {row_share[r]:.6g} x {mix[c]:.6g}"
                          for r, mix in listed.items() if mix[c] > 0)
        raise ParameterError(
            f"inconsistent with the national marginal: the listed rows need a share "
            f"{need[c]:.6g} of all agents to be {col_labels[c]!r} ({parts}), but the national "
            f"share of {col_labels[c]!r} is only {col_share[c]:.6g}", field=field,
            allowed=f"sum over listed r of share_r x mix_r[{col_labels[c]!r}] <= "
                    f"{col_share[c]:.6g}", given=float(need[c]))
    left = np.clip(left, 0.0, None)
    rest = 1.0 - sum(row_share[r] for r in listed)
    if rest <= SHARE_TOL or left.sum() <= 0:
        return col_share.copy()  # no unlisted mass: the mix is never used
    return left / left.sum()


def _spread(row_totals: np.ndarray, col_totals: np.ndarray) -> np.ndarray:
    """Integer matrix with these exact row and column totals (equal sums), each row in
    proportion to what is left of the columns (largest remainder; last row takes the rest)."""
    rows = len(row_totals)
    out = np.zeros((rows, len(col_totals)), np.int64)
    left = np.asarray(col_totals, np.int64).copy()
    nonzero = np.flatnonzero(row_totals)
    for k, r in enumerate(nonzero):
        if k == len(nonzero) - 1:
            out[r] = left
        else:
            out[r] = largest_remainder(int(row_totals[r]), left)
        left -= out[r]
    return out


def _joint_exact(row_totals: np.ndarray, col_totals: np.ndarray,
                 listed: dict[int, np.ndarray]) -> np.ndarray:
    """Exact integer rows x cols counts: listed rows by their mix, the rest spread in
    proportion to what is left, national column totals kept exactly (see module docstring)."""
    table = np.zeros((len(row_totals), len(col_totals)), np.int64)
    for r, mix in listed.items():
        table[r] = largest_remainder(int(row_totals[r]), mix)
    left = np.asarray(col_totals, np.int64) - table.sum(axis=0)
    # rounding deficits (a few agents): move from the listed row holding most of the column
    listed_rows = np.array(sorted(listed), dtype=np.int64)
    while np.any(left < 0):
        c = int(np.argmin(left))
        r = int(listed_rows[np.argmax(table[listed_rows, c])])
        d = int(np.argmax(left))
        k = min(-int(left[c]), int(left[d]), int(table[r, c]))
        table[r, c] -= k
        table[r, d] += k
        left[c] += k
        left[d] -= k
    unlisted = np.array([r for r in range(len(row_totals)) if r not in listed], np.int64)
    if len(unlisted):
        table[unlisted] = _spread(row_totals[unlisted], left)
    return table


# --------------------------------------------------------------------------- synthesize


def synthesize(
    n: int,
    *,
    groups: Mapping[str, float],
    regions: Mapping[str, float] | None = None,
    ages: Mapping[str, float] | None = None,
    group_by_region: Mapping[str, Mapping[str, float]] | None = None,
    age_by_group: Mapping[str, Mapping[str, float]] | None = None,
    seed: int | np.random.SeedSequence | np.random.Generator,
    exact: bool = True,
    languages: Mapping[str, float] | None = None,
    language_by_group: Mapping[str, Mapping[str, float]] | None = None,
) -> Population:
    """A synthetic population of ``n`` agents from declared marginals and joint tables.

    Parameters
    ----------
    n : int
        Number of agents (0 < n < 2**31).
    groups : mapping str -> float
        National group shares (e.g. language/ethnicity), summing to 1; at most 127 groups.
    regions : mapping str -> float, optional
        Region shares; default one region ``"all"``.
    ages : mapping str -> float, optional
        Age-band shares; default one band ``"all"``.
    group_by_region : mapping region -> (mapping group -> share), optional
        Group mix inside the listed regions (each row sums to 1; missing groups count 0).
        Unlisted regions get the residual mix that keeps the national ``groups`` marginal.
    age_by_group : mapping group -> (mapping age -> share), optional
        Age mix inside the listed groups; unlisted groups get the residual mix that keeps the
        national ``ages`` marginal. Default: age independent of group.
    seed : int, SeedSequence or Generator
        Source of randomness (the order of ages inside blocks; all counts when not exact).
    exact : bool
        True: counts by largest remainder, marginals and listed rows exact. False: every
        agent an independent draw (multinomial counts).
    languages : mapping str -> float, optional
        National shares of each (interview) language; default one level ``"all"``.
    language_by_group : mapping group -> (mapping language -> share), optional
        Language mix inside the listed groups; unlisted groups get the residual mix that
        keeps the national ``languages`` marginal.

    Returns
    -------
    Population
        Sorted by region, then group (contiguous blocks; see the module docstring).

    Raises
    ------
    ParameterError
        Shares that do not sum to 1 (naming the field), unknown labels, or a joint table that
        needs more of a group (age band) than the national marginal holds (naming the group,
        the rows and the numbers).

    Examples
    --------
    >>> p = synthesize(100, groups={"a": 0.8, "b": 0.2}, ages={"young": 0.5, "old": 0.5},
    ...                age_by_group={"b": {"young": 0.1, "old": 0.9}}, seed=3)
    >>> p.crosstab("group", "age").tolist()
    [[48, 32], [2, 18]]
    """

    n = check_int("n", n, 1, 2**31 - 1)
    rng = as_generator(seed)
    g_labels, g_share = _shares("groups", groups)
    r_labels, r_share = (("all",), np.ones(1)) if regions is None else _shares("regions",
                                                                               regions)
    a_labels, a_share = (("all",), np.ones(1)) if ages is None else _shares("ages", ages)
    for name, labels in (("groups", g_labels), ("regions", r_labels), ("ages", a_labels)):
        cap = _MAX_CODES[name[:-1]]
        if len(labels) > cap:
            raise ParameterError("too many levels", field=name, allowed=f"at most {cap}",
                                 given=len(labels))
    if group_by_region is not None and regions is None:
        raise ParameterError("a group mix per region needs regions", field="group_by_region")
    if age_by_group is not None and ages is None:
        raise ParameterError("an age mix per group needs ages", field="age_by_group")
    if language_by_group is not None and languages is None:
        raise ParameterError("a language mix per group needs languages",
                             field="language_by_group")
    l_labels, l_share = (("all",), np.ones(1)) if languages is None else _shares(
        "languages", languages)
    if len(l_labels) > _MAX_CODES["language"]:
        raise ParameterError("too many levels", field="languages",
                             allowed=f"at most {_MAX_CODES['language']}", given=len(l_labels))
    lg_listed = _listed("language_by_group", language_by_group, g_labels, l_labels)
    q_lang = _residual_mix("language_by_group", g_share, l_share, lg_listed, g_labels,
                           l_labels)
    gr_listed = _listed("group_by_region", group_by_region, r_labels, g_labels)
    ag_listed = _listed("age_by_group", age_by_group, g_labels, a_labels)
    q_group = _residual_mix("group_by_region", r_share, g_share, gr_listed, r_labels, g_labels)
    q_age = _residual_mix("age_by_group", g_share, a_share, ag_listed, g_labels, a_labels)
    ng, nr, na = len(g_labels), len(r_labels), len(a_labels)
    g_mix = np.array([ag_listed.get(g, q_age) for g in range(ng)])  # age mix per group

    if exact:
        r_tot = largest_remainder(n, r_share)
        g_tot = largest_remainder(n, g_share)
        rg = _joint_exact(r_tot, g_tot, gr_listed)  # regions x groups
        ga = _joint_exact(g_tot, largest_remainder(n, a_share), ag_listed)  # groups x ages
        rga = np.zeros((nr, ng, na), np.int64)
        for g in range(ng):
            rga[:, g, :] = _spread(rg[:, g], ga[g])
    else:
        r_tot = rng.multinomial(n, r_share)
        rg = np.zeros((nr, ng), np.int64)
        for r in range(nr):
            rg[r] = rng.multinomial(r_tot[r], gr_listed.get(r, q_group))
        rga = np.zeros((nr, ng, na), np.int64)
        for r in range(nr):
            for g in range(ng):
                rga[r, g] = rng.multinomial(rg[r, g], g_mix[g])

    sizes = rga.sum(axis=2).ravel()  # blocks, region-major
    group = np.repeat(np.tile(np.arange(ng, dtype=np.int8), nr), sizes)
    region = np.repeat(np.repeat(np.arange(nr, dtype=np.int16), ng), sizes)
    age = np.empty(n, np.int8)
    codes = np.arange(na, dtype=np.int8)
    off = 0
    for b, s in enumerate(sizes.tolist()):
        block = age[off: off + s]
        block[:] = np.repeat(codes, rga.reshape(-1, na)[b])
        if na > 1 and s > 1:
            rng.shuffle(block)
        off += s
    language = np.zeros(n, np.int8)
    nl = len(l_labels)
    if nl > 1:  # drawn after everything else: the rest is as without languages
        if exact:
            gl = _joint_exact(largest_remainder(n, g_share), largest_remainder(n, l_share),
                              lg_listed)  # groups x languages
            rgl = np.zeros((nr, ng, nl), np.int64)
            for g in range(ng):
                rgl[:, g, :] = _spread(rg[:, g], gl[g])
        else:
            l_mix = np.array([lg_listed.get(g, q_lang) for g in range(ng)])
            rgl = np.zeros((nr, ng, nl), np.int64)
            for r in range(nr):
                for g in range(ng):
                    rgl[r, g] = rng.multinomial(rg[r, g], l_mix[g])
        lcodes = np.arange(nl, dtype=np.int8)
        off = 0
        for b, s in enumerate(sizes.tolist()):
            block = language[off: off + s]
            block[:] = np.repeat(lcodes, rgl.reshape(-1, nl)[b])
            if s > 1:
                rng.shuffle(block)
            off += s
    return Population(n=n, group=group, group_labels=g_labels, region=region,
                      region_labels=r_labels, age=age, age_labels=a_labels,
                      language=language, language_labels=l_labels)
