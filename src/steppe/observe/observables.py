"""Observables: what a run records, registered by name, the name being the output column.

An :class:`Observable` is measured at every record of a run (the start, every
``record.every`` sweeps, the end) and becomes the column ``name`` of the output table
``table``. It is measured either per stance and per level of every breakdown (``per =
"stance"``: the private ``count`` of the series), per level (``per = "level"``: protest
participation) or once per record (``per = "record"``: agents present under border flows).
The levels are ``all`` (everyone present) followed by the levels of each breakdown
attribute (group, region, age band, origin…). With ``share``, the table also gets the value
divided by the number of agents present in the level, as the column ``share``.

Two kinds of observables reach a run:

- the ones registered here with :func:`register_observable` (the series' ``count`` and
  ``expressed_count``; a new output for every run is one more registration), and
- the ones a pressure adds for itself (:meth:`steppe.pressures.base.Pressure.observables`).

:mod:`steppe.observe.tables` turns what the :class:`Recorder` collected into the tidy tables.

Examples
--------
>>> import numpy as np
>>> from steppe.state import State
>>> st = State(stance=np.array([0, 1, 1, 0], np.int8), committed=np.zeros(4, bool),
...            counts=np.array([2, 2]), rng=np.zeros(4, np.uint64))
>>> b = Breakdowns({"group": (np.array([0, 0, 1, 1]), ["x", "y"])})
>>> rec = Recorder(registered_observables(), b, k=2)
>>> rec.record(st, 0.0)
>>> r = rec.recording()
>>> r.values["series", "count"][0].tolist()   # levels: all, group x, group y
[[2, 2], [1, 1], [1, 1]]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numba
import numpy as np
from numba import njit, prange

from ..networks.base import Network
from ..state import State

__all__ = [
    "Breakdowns",
    "Column",
    "Derived",
    "Observable",
    "Recorder",
    "Recording",
    "Tally",
    "default_breakdowns",
    "derived_columns",
    "register_derived",
    "register_observable",
    "registered_observables",
]

Per = Literal["stance", "level", "record"]


@dataclass(frozen=True)
class Observable:
    """A quantity recorded at every record of a run.

    Attributes
    ----------
    name : str
        The output column.
    table : str
        The output table (``"series"``, ``"participation"``, ``"flows"``…).
    per : {"stance", "level", "record"}
        Measured per level and stance (an int array ``(levels, stances)``), per level
        (``(levels,)``) or once per record (a number).
    measure : callable
        ``measure(state, tally)`` -> the value at this record; ``tally`` counts agents by
        level (:class:`Tally`).
    share : str or None
        Also write the value divided by the agents present in the level, as this column.
    description : str
        What the column means (for the documentation).
    """

    name: str
    table: str
    per: Per
    measure: Callable[[State, Tally], Any]
    share: str | None = None
    description: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.table, self.name)

    def column(self) -> Column:
        """What the tables need to know of it (plain data: it travels between processes)."""
        return Column(self.name, self.table, self.per, self.share, self.description)


@dataclass(frozen=True)
class Column:
    """An output column recorded by an observable: its name, table, kind and share column."""

    name: str
    table: str
    per: Per
    share: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Derived:
    """A column computed from other columns of the same table once it is assembled
    (``compute(columns) -> array``), e.g. the series' ``gap``."""

    name: str
    table: str
    compute: Callable[[Mapping[str, np.ndarray]], np.ndarray]
    description: str = ""


_OBSERVABLES: dict[tuple[str, str], Observable] = {}
_DERIVED: dict[tuple[str, str], Derived] = {}


def register_observable(obs: Observable) -> Observable:
    """Record ``obs`` in every run from now on (its ``(table, name)`` must be new)."""
    if obs.key in _OBSERVABLES and _OBSERVABLES[obs.key] is not obs:
        raise ValueError(f"an observable {obs.name!r} of table {obs.table!r} is already "
                         "registered")
    _OBSERVABLES[obs.key] = obs
    return obs


def register_derived(col: Derived) -> Derived:
    """Add a computed column to a table."""
    _DERIVED[(col.table, col.name)] = col
    return col


def registered_observables() -> list[Observable]:
    """Observables recorded in every run, in registration order."""
    return list(_OBSERVABLES.values())


def derived_columns(table: str) -> list[Derived]:
    """The computed columns of ``table``, in registration order."""
    return [d for (t, _), d in _DERIVED.items() if t == table]


# -- breakdowns and tallies ---------------------------------------------------------------
@dataclass
class Breakdowns:
    """The agent attributes results are broken down by: ``{name: (codes, labels)}`` with
    codes ``0 .. len(labels) - 1`` per agent. Levels are ``("all", "all")`` first, then
    ``(name, label)`` for each attribute and label in order."""

    by: dict[str, tuple[np.ndarray, list[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by = {name: (np.ascontiguousarray(codes), [str(x) for x in labels])
                   for name, (codes, labels) in self.by.items()}

    @property
    def levels(self) -> list[tuple[str, str]]:
        """Every (breakdown, level) pair in output order."""
        return [("all", "all")] + [(name, label) for name, (_, labels) in self.by.items()
                                   for label in labels]

    def joint(self) -> np.ndarray | None:
        """Each agent's combination of levels, one code (the levels of the first breakdown
        vary slowest), so that a tally counts each agent once instead of once per
        breakdown; None without breakdowns or above :data:`_JOINT_LEVELS` combinations.
        Made at the first call and kept: the codes must not change afterwards (they are
        the agents' fixed attributes during a run).

        Examples
        --------
        >>> b = Breakdowns({"x": (np.array([0, 1, 1]), ["a", "b"]),
        ...                 "y": (np.array([2, 0, 1]), ["p", "q", "r"])})
        >>> b.joint().tolist()
        [2, 3, 4]
        """
        if not hasattr(self, "_joint"):
            sizes = [len(labels) for _, labels in self.by.values()]
            total = int(np.prod(sizes, dtype=np.int64)) if sizes else 0
            joint = None
            if 1 < total <= _JOINT_LEVELS:
                joint = np.zeros(len(next(iter(self.by.values()))[0]),
                                 dtype=np.int16 if total <= np.iinfo(np.int16).max
                                 else np.int32)
                for (codes, _), size in zip(self.by.values(), sizes, strict=True):
                    joint *= size
                    joint += codes
            self._joint = joint
        return self._joint


def default_breakdowns(network: Network) -> Breakdowns:
    """The agent attributes carried by the network (group, region, age band, origin of a
    synthetic population), or its groups when it only has groups, else none. Attributes
    with a single level are left out.

    Examples
    --------
    >>> from steppe.networks import complete_graph
    >>> default_breakdowns(complete_graph(5)).levels
    [('all', 'all')]
    """
    if network.attributes:
        return Breakdowns({name: (codes, [str(x) for x in labels])
                           for name, (codes, labels) in network.attributes.items()
                           if len(labels) > 1})
    if network.groups is None:
        return Breakdowns()
    labels, inverse = np.unique(network.groups, return_inverse=True)
    return Breakdowns({"group": (inverse.astype(np.int64),
                                 [str(x) for x in labels.tolist()])})


#: agents per block of the parallel tallies (one small table of counts per block)
_TALLY_BLOCK = 1 << 16

#: at most this many combinations of levels are tallied jointly (one count per agent);
#: beyond, each breakdown is tallied on its own
_JOINT_LEVELS = 1 << 12

#: the joint tally needs this many agents per cell of its table (combination, stance,
#: answer) to pay for the table: in the flagship (8,064 cells) it took 0.57 ms against
#: 0.52 ms for the breakdowns one by one at 40,229 agents, 0.65 against 0.82 ms at
#: 100,573, 0.59 against 0.16 ms at 10,058
_JOINT_PER_CELL = 8


@njit(cache=True, parallel=True)
def _tally(codes, stance, expressed, present, priv, expr):
    """Add to ``priv`` and ``expr`` the agents (present ones, if ``present`` is not empty)
    per level of ``codes`` and stance, private and expressed, in one pass: in parallel
    over blocks of agents, each with its own counts, summed at the end (integers: the
    same counts whatever the number of threads). Each agent adds one to a joint count of
    (level, private stance, answer), spread over four interleaved copies so that
    neighbouring agents rarely wait on the same counter."""
    n = codes.shape[0]
    use = present.shape[0] > 0
    levels, k = priv.shape
    ke = expr.shape[1]
    cells = levels * k * ke
    blocks = (n + _TALLY_BLOCK - 1) // _TALLY_BLOCK
    h = np.zeros((blocks, 4 * cells), dtype=np.int64)
    for b in prange(blocks):
        for i in range(b * _TALLY_BLOCK, min(n, (b + 1) * _TALLY_BLOCK)):
            if use and not present[i]:
                continue
            h[b, (i & 3) * cells + (codes[i] * k + stance[i]) * ke + expressed[i]] += 1
    for b in range(blocks):
        for r in range(4):
            for c in range(levels):
                for s in range(k):
                    for a in range(ke):
                        v = h[b, r * cells + (c * k + s) * ke + a]
                        priv[c, s] += v
                        expr[c, a] += v


@njit(cache=True, parallel=True)
def _tally_joint(codes, stance, expressed, present, parts, hist):
    """``hist[c, s, a]``: the agents (present ones, if ``present`` is not empty) of code
    ``c`` privately holding ``s`` and voicing ``a``, in one pass: the agents split into
    ``parts`` in parallel, each with four interleaved copies of the counts (neighbouring
    agents rarely wait on the same counter), summed at the end (integers: the same counts
    whatever ``parts``)."""
    n = codes.shape[0]
    use = present.shape[0] > 0
    levels, k, ke = hist.shape
    cells = levels * k * ke
    size = (n + parts - 1) // parts
    h = np.zeros((parts, 4 * cells), dtype=np.int64)
    for p in prange(parts):
        for i in range(p * size, min(n, (p + 1) * size)):
            if use and not present[i]:
                continue
            h[p, (i & 3) * cells + (codes[i] * k + stance[i]) * ke + expressed[i]] += 1
    flat = hist.reshape(cells)
    for p in range(parts):
        for r in range(4):
            for c in range(cells):
                flat[c] += h[p, r * cells + c]


def _padded(counts: np.ndarray, k: int) -> np.ndarray:
    """``counts`` as an int64 array of length ``k`` (answers beyond the stances: 0)."""
    out = np.zeros(k, dtype=np.int64)
    out[:len(counts)] = counts
    return out


class Tally:
    """Counts of agents by level at one record, computed once and shared by the
    observables measured then."""

    def __init__(self, state: State, breakdowns: Breakdowns, k: int) -> None:
        self.state = state
        self.breakdowns = breakdowns
        self.k = k
        self._counts: tuple[np.ndarray, np.ndarray] | None = None

    def _by_stance(self) -> tuple[np.ndarray, np.ndarray]:
        if self._counts is None:
            st = self.state
            priv: list[np.ndarray] = []
            expr: list[np.ndarray] = []
            mask = st.present_mask()
            sizes = [len(labels) for _, labels in self.breakdowns.by.values()]
            combos = int(np.prod(sizes)) if sizes else 0
            joint = self.breakdowns.joint() if sizes and len(st.stance) >= \
                _JOINT_PER_CELL * combos * self.k * self.k else None
            if joint is not None:  # one count per agent, each breakdown a sum of them
                hist = np.zeros((combos, self.k, self.k), dtype=np.int64)
                _tally_joint(joint, st.stance, st.expressed, mask,
                             max(1, numba.get_num_threads()), hist)
                hist = hist.reshape(*sizes, self.k, self.k)
                for b in range(len(sizes)):
                    others = tuple(x for x in range(len(sizes)) if x != b)
                    priv.append(hist.sum(axis=(*others, len(sizes) + 1)))
                    expr.append(hist.sum(axis=(*others, len(sizes))))
            else:
                for codes, labels in self.breakdowns.by.values():
                    p = np.zeros((len(labels), self.k), dtype=np.int64)
                    e = np.zeros((len(labels), self.k), dtype=np.int64)
                    _tally(codes, st.stance, st.expressed, mask, p, e)
                    priv.append(p)
                    expr.append(e)
            if priv:  # every agent is in one level of a breakdown: its sums are "all"
                priv.insert(0, priv[0].sum(axis=0, keepdims=True))
                expr.insert(0, expr[0].sum(axis=0, keepdims=True))
            else:
                priv.insert(0, _padded(st.present_counts(), self.k))
                expr.insert(0, _padded(st.present_counts(expressed=True), self.k))
            self._counts = (np.vstack(priv).astype(np.int64), np.vstack(expr).astype(np.int64))
        return self._counts

    @property
    def private(self) -> np.ndarray:
        """Present agents privately holding each stance, per level: int64 (levels, k)."""
        return self._by_stance()[0]

    @property
    def expressed(self) -> np.ndarray:
        """Present agents voicing each stance, per level: int64 (levels, k)."""
        return self._by_stance()[1]

    def of(self, mask: np.ndarray) -> np.ndarray:
        """Agents selected by ``mask`` (present ones only), per level: int64 (levels,)."""
        st = self.state
        if st.present is not None:
            mask = mask & st.present
        out = [np.array([np.count_nonzero(mask)], dtype=np.int64)]
        for codes, labels in self.breakdowns.by.values():
            out.append(np.bincount(codes[mask], minlength=len(labels)).astype(np.int64))
        return np.concatenate(out)


# -- recording ------------------------------------------------------------------------------
@dataclass
class Recording:
    """What a :class:`Recorder` collected over one run.

    Attributes
    ----------
    time : numpy.ndarray
        float64 time of each record, in sweeps.
    levels : list of (str, str)
        The (breakdown, level) pairs of the level axis.
    values : dict[(table, name), numpy.ndarray]
        Each observable over the records: ``(records, levels, stances)``, ``(records,
        levels)`` or ``(records,)``.
    observables : dict[(table, name), Column]
        What each recorded column is.
    labels : tuple of str or None
        The categories of the stance axis: the model's stances, then any other answer
        agents may voice (e.g. "dont_know", whose private count is always 0).
    """

    time: np.ndarray
    levels: list[tuple[str, str]]
    values: dict[tuple[str, str], np.ndarray]
    observables: dict[tuple[str, str], Column]
    labels: tuple[str, ...] | None = None

    def tables(self) -> list[str]:
        """The tables with at least one observable, in order of first appearance."""
        return list(dict.fromkeys(t for t, _ in self.values))


class Recorder:
    """Measures observables at each record (see the module docstring).

    Parameters
    ----------
    observables
        What to measure, in column order.
    breakdowns
        The levels to measure per-level observables over.
    k
        Number of categories of the stance axis (stances, then other answers).
    labels
        Their labels, if known.
    """

    def __init__(self, observables: Iterable[Observable], breakdowns: Breakdowns,
                 k: int, labels: Sequence[str] | None = None) -> None:
        self.observables = {o.key: o for o in observables}
        self.breakdowns = breakdowns
        self.k = k
        self.labels = None if labels is None else tuple(labels)
        self.time: list[float] = []
        self.values: dict[tuple[str, str], list[Any]] = {key: [] for key in self.observables}

    def record(self, state: State, time: float) -> None:
        """Measure every observable now."""
        tally = Tally(state, self.breakdowns, self.k)
        self.time.append(time)
        for key, obs in self.observables.items():
            self.values[key].append(obs.measure(state, tally))

    def recording(self) -> Recording:
        """Everything recorded so far, stacked per observable."""
        values = {}
        for key, vals in self.values.items():
            per = self.observables[key].per
            values[key] = (np.asarray(vals, dtype=np.int64) if per == "record"
                           else np.stack(vals).astype(np.int64))
        return Recording(time=np.asarray(self.time, dtype=np.float64),
                         levels=self.breakdowns.levels, values=values,
                         observables={k: o.column() for k, o in self.observables.items()},
                         labels=self.labels)


def level_sizes(recording: Recording) -> np.ndarray:
    """Agents present in each level at each record: float64 ``(records, levels)`` from the
    private counts, NaN where a level is empty."""
    size = recording.values["series", "count"].sum(axis=2).astype(float)
    size[size == 0] = np.nan
    return size


# -- the registered ones --------------------------------------------------------------------
register_observable(Observable(
    "count", "series", "stance", lambda st, tally: tally.private, share="share",
    description="agents present privately holding the stance (share: of the level's "
                "agents present)"))
register_observable(Observable(
    "expressed_count", "series", "stance", lambda st, tally: tally.expressed,
    share="expressed_share",
    description="agents present voicing the stance (expressed_share: of the level's "
                "agents present)"))
register_derived(Derived(
    "gap", "series", lambda cols: cols["share"] - cols["expressed_share"],
    description="private share minus expressed share: who hides the stance"))


def _rate_since_last_record(cols: Mapping[str, np.ndarray]) -> np.ndarray:
    """Successes per interaction since the run's previous record (NaN at its first)."""
    df = cols  # a DataFrame: differences within each run
    d_succ = df["successes"].groupby(df["run"]).diff()  # type: ignore[attr-defined]
    d_int = df["interactions"].groupby(df["run"]).diff()  # type: ignore[attr-defined]
    return (d_succ / d_int.where(d_int > 0)).to_numpy(dtype=np.float64)


register_derived(Derived(
    "success_rate", "naming_game", _rate_since_last_record,
    description="naming game: successful interactions per interaction since the previous "
                "record (empty at the first record)"))


def with_observables(extra: Sequence[Observable]) -> list[Observable]:
    """The registered observables followed by ``extra`` (a pressure's), checked for
    clashing names."""
    out = registered_observables()
    keys = {o.key for o in out}
    for o in extra:
        if o.key in keys:
            raise ValueError(f"two observables named {o.name!r} in table {o.table!r}")
        keys.add(o.key)
        out.append(o)
    return out
