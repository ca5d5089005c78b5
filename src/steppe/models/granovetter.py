"""Granovetter's threshold model of collective action (Granovetter 1978; Watts 2002).

Every agent ``i`` has a threshold ``θ_i`` (``state.aux["threshold"]``, float64). Stances are
``"inactive"`` (code 0) and ``"active"`` (code 1). Agent ``i`` *wants* to be active when

- ``mode = "count"`` (Granovetter): the number ``a_i`` of **other** active agents among its
  neighbours satisfies ``a_i >= θ_i``; on the complete graph the neighbours are everyone
  else, so ``a_i = seen_counts[1] - seen[i]`` (O(1) per agent);
- ``mode = "fraction"`` (Watts): the share ``a_i / k_i`` of active neighbours satisfies
  ``a_i / k_i >= θ_i`` (``k_i`` its degree, ``N - 1`` on the complete graph; an agent without
  neighbours has share 0, so only ``θ_i <= 0`` activates it).

Other agents are read through ``state.seen`` (what they voice). With ``reversible = False``
(Granovetter's riot, Watts' cascades) an active agent stays active: its new stance is
``active if (active or wants)``; with ``reversible = True`` it is ``active if wants``.
Committed agents keep their stance: committed active agents are instigators who are always
active, committed inactive agents never join.

``update = "synchronous"`` (default): at each step every agent compares the counts of the
previous step with its threshold at once; from nobody active this is Granovetter's iteration
``r <- #{i : θ_i <= r}``, one step per iteration. ``update = "random_sequential"``: one sweep
is ``N`` updates of uniformly random agents, each seeing the current stances. Without
reversal the dynamics is monotone, so both updates reach the same final state (the smallest
fixed point above the start).

A run ends at a fixed point: :meth:`Granovetter.is_frozen` is true when no agent's rule would
change its stance; with ``stop_at_consensus`` the kernels return as soon as they see one (a
synchronous step that changes nothing, or a random-sequential sweep without a change that
an exact check confirms), and at "everyone active" (the consensus stance). Without stopping,
a synchronous step that changes nothing ends the chunk at once: the rest of it would change
nothing either.

Thresholds come from, in this order: ``thresholds`` (an explicit list, one per agent, e.g.
Granovetter's ``0, 1, ..., 99``), ``thresholds_file`` (a ``.npy`` array, or a ``.csv`` /
``.parquet`` column named ``threshold`` or the file's only column), or draws from
``threshold`` (a number or a distribution table, see :mod:`steppe.distributions`; overridden
per group by ``threshold_by_group``) with the run's generator, clipped to ``[0, inf)`` in
count mode and to ``[0, 1]`` in fraction mode. Default ``threshold``: a normal of mean 25 and
standard deviation 10 in count mode (Granovetter's crowd of 100 with mean threshold 25; at
``sd = 10`` it is below his critical 12.2, so from nobody active a small riot results —
raise ``sd`` above 12.2 to see almost everyone join); 0.18 in fraction mode (Watts' Fig. 1,
where ``φ = 0.18`` on Erdős–Rényi graphs cascades for mean degree between about 1 and 5.8).

Edge weights of a network are ignored (every neighbour counts once).

Examples
--------
>>> import numpy as np
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> from steppe.engine.state import init_state
>>> g = complete_graph(100)
>>> m = get_model("granovetter")(thresholds=list(range(100)))
>>> st = init_state(m, g, seed=0)
>>> m.advance(st, g, sweeps=200, stop_at_consensus=True), int(st.counts[1])
(100.0, 100)
>>> m = get_model("granovetter")(thresholds=[0, 2] + list(range(2, 100)))
>>> st = init_state(m, g, seed=0)
>>> m.advance(st, g, sweeps=200, stop_at_consensus=True), int(st.counts[1])
(2.0, 1)
>>> m.is_frozen(st, g)
True
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from numba import njit
from pydantic import ValidationError

from ..distributions import Constant, DistLike, Normal, checked, sample_by_group
from ..errors import ParameterError, ScenarioError
from ..inputs import MAX_DATA_BYTES, check_file
from ..networks.base import Network
from ..rng import randint
from ..state import State
from .base import Model, ModelParams, parameter_error_from, register

__all__ = ["Granovetter", "load_thresholds"]

_FILE_SUFFIXES = (".npy", ".csv", ".parquet", ".pq")


class GranovetterParams(ModelParams):
    mode: Literal["count", "fraction"] = "count"
    """count: threshold = number of other active neighbours (Granovetter); fraction: share of
    active neighbours (Watts)."""
    threshold: DistLike | None = None
    """Distribution of the thresholds (a number or a distribution table), clipped to
    [0, inf) in count mode and [0, 1] in fraction mode. Default: normal(25, 10) in count
    mode, 0.18 in fraction mode."""
    threshold_by_group: dict[int, DistLike] | None = None
    """Per-group threshold distributions (the network's groups), overriding ``threshold``."""
    thresholds: list[float] | None = None
    """Explicit thresholds, one per agent (instead of drawing them)."""
    thresholds_file: str | None = None
    """A .npy file, or a .csv / .parquet column (named threshold, or the only column), with
    one threshold per agent."""
    update: Literal["synchronous", "random_sequential"] = "synchronous"
    """Synchronous (all agents at once, Granovetter's iteration) or random-sequential (one
    sweep = N updates of random agents)."""
    reversible: bool = False
    """If true an agent is active exactly while its condition holds; if false (Granovetter,
    Watts) an active agent stays active."""


def _allowed_range(mode: str) -> tuple[float, float, str]:
    if mode == "count":
        return 0.0, math.inf, "numbers >= 0 (count mode)"
    return 0.0, 1.0, "numbers in [0, 1] (fraction mode)"


def _check_values(values: np.ndarray, mode: str, field: str) -> None:
    lo, hi, words = _allowed_range(mode)
    bad = np.flatnonzero(~((values >= lo) & (values <= hi)))  # catches NaN too
    if len(bad):
        i = int(bad[0])
        raise ParameterError("threshold out of range", field=f"{field}[{i}]", allowed=words,
                             given=float(values[i]))


def load_thresholds(path: str | Path, field: str = "granovetter.thresholds_file") -> np.ndarray:
    """Read one threshold per agent from a ``.npy``, ``.csv`` or ``.parquet`` file.

    A ``.npy`` file holds a 1-D numeric array; a ``.csv`` file (with or without a header row)
    or a ``.parquet`` file holds a column named ``threshold``, or a single column.

    Parameters
    ----------
    path
        The file.
    field
        The parameter named in errors.

    Returns
    -------
    numpy.ndarray
        float64 thresholds, in file order.

    Raises
    ------
    ParameterError
        For a missing file, an unknown format, several columns none named ``threshold``, or
        values that are not numbers.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> p = os.path.join(d, "t.csv")
    >>> _ = open(p, "w").write("threshold\\n0\\n1.5\\n2\\n")
    >>> load_thresholds(p).tolist()
    [0.0, 1.5, 2.0]
    >>> load_thresholds(os.path.join(d, "nope.npy"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    steppe.errors.ParameterError: granovetter.thresholds_file: no such file ...
    """
    p = Path(path)
    suffix = p.suffix.lower()
    allowed = "an existing .npy, .csv or .parquet file of thresholds"
    if suffix not in _FILE_SUFFIXES:
        raise ParameterError("unknown thresholds file format", field=field,
                             allowed=allowed, given=str(path))
    try:
        check_file(p, what="thresholds file", limit=MAX_DATA_BYTES)
    except ScenarioError as exc:
        raise ParameterError("no such file" if exc.message == "file not found"
                             else exc.message, field=field, allowed=allowed,
                             given=str(path)[:200]) from None
    try:
        if suffix == ".npy":
            arr = np.load(p, allow_pickle=False)
            if arr.ndim == 2 and 1 in arr.shape:
                arr = arr.reshape(-1)
            if arr.ndim != 1:
                raise ParameterError("a .npy thresholds file must hold a 1-D array",
                                     field=field, allowed="shape (n,)", given=arr.shape)
            values = np.asarray(arr, dtype=np.float64)
        elif suffix == ".csv":
            values = _read_csv_column(p, field)
        else:
            import pyarrow.parquet as pq

            table = pq.read_table(p)
            name = _pick_column(list(table.column_names), field)
            values = np.asarray(table.column(name).to_numpy(zero_copy_only=False),
                                dtype=np.float64)
    except ParameterError:
        raise
    except (ValueError, TypeError, OSError) as exc:
        raise ParameterError(f"cannot read thresholds: {exc}", field=field, allowed=allowed,
                             given=str(path)) from None
    return np.ascontiguousarray(values, dtype=np.float64)


def _pick_column(names: list[str], field: str) -> str:
    if "threshold" in names:
        return "threshold"
    if len(names) == 1:
        return names[0]
    raise ParameterError("cannot tell which column holds the thresholds", field=field,
                         allowed="a column named 'threshold', or a single column",
                         given=", ".join(names))


def _read_csv_column(path: Path, field: str) -> np.ndarray:
    with open(path, newline="") as fh:
        rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    if not rows:
        return np.zeros(0)
    try:
        [float(c) for c in rows[0]]
        header = None
    except ValueError:
        header = [c.strip() for c in rows[0]]
        rows = rows[1:]
    col = 0 if header is None and len(rows[0]) == 1 else None
    if header is not None:
        col = header.index(_pick_column(header, field))
    elif col is None:
        raise ParameterError("cannot tell which column holds the thresholds", field=field,
                             allowed="a column named 'threshold', or a single column",
                             given=f"{len(rows[0])} unnamed columns")
    return np.array([float(r[col]) for r in rows], dtype=np.float64)


_DIST_WORDS = ("a number, or a table with dist = 'constant' (value), 'uniform' (low, high), "
               "'normal' (mean, sd), 'beta' (a, b[, low, high]) or 'lognormal' (mu, sigma)")


def _dist_error(exc: ValidationError, prefix: str) -> ParameterError | None:
    """A readable error for a bad distribution table (pydantic reports the failed 'float'
    branch of the union first); None when the problem is elsewhere."""
    errors = exc.errors()
    if not errors or errors[0]["loc"][0] not in ("threshold", "threshold_by_group"):
        return None
    chosen = errors[0]
    for err in errors:  # prefer the error inside the distribution table, if it is a table
        if any(str(part).startswith("tagged-union") for part in err["loc"]):
            chosen = err
            break
    parts = [str(x) for x in chosen["loc"] if str(x) != "float"
             and not str(x).startswith(("tagged-union", "function-after"))]
    if len(parts) >= 2 and parts[-2] in ("constant", "uniform", "normal", "beta",
                                           "lognormal"):
        del parts[-2]  # the tag: threshold.normal.sd -> threshold.sd
    elif parts and parts[-1] in ("constant", "uniform", "normal", "beta", "lognormal"):
        parts.pop()
    top = errors[0]["loc"][0]
    given = _values_at(exc, chosen["loc"])
    return ParameterError(chosen["msg"], field=f"{prefix}." + ".".join(parts),
                          allowed=_DIST_WORDS if top == "threshold" else
                          "a table {group label = " + _DIST_WORDS + "}", given=given)


def _values_at(exc: ValidationError, loc: tuple) -> Any:
    """The input value where an error arose (the top-level input if it cannot be found)."""
    for err in exc.errors():
        if err["loc"] == loc:
            return err.get("input")
    return None


# -- kernels --------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _wants(i, stance, seen, seen_counts, threshold, complete, indptr, indices, fraction,
           reversible):
    """The stance agent i's rule gives it now (0 or 1)."""
    n = stance.shape[0]
    if complete:
        a = seen_counts[1] - np.int64(seen[i])
        k = n - 1
    else:
        a = 0
        lo = indptr[i]
        hi = indptr[i + 1]
        for p in range(lo, hi):
            a += np.int64(seen[indices[p]])
        k = hi - lo
    if fraction:
        x = a / k if k > 0 else 0.0
    else:
        x = float(a)
    if x >= threshold[i]:
        return 1
    if not reversible and stance[i] == 1:
        return 1
    return 0


@njit(cache=True)
def _n_unstable(stance, seen, seen_counts, committed, threshold, complete, indptr, indices,
                fraction, reversible):
    """How many uncommitted agents' rule would change their stance now."""
    c = 0
    for i in range(stance.shape[0]):
        if committed[i]:
            continue
        if _wants(i, stance, seen, seen_counts, threshold, complete, indptr, indices, fraction,
                  reversible) != stance[i]:
            c += 1
    return c


@njit(cache=True)
def _granovetter_sync(stance, seen, committed, counts, seen_counts, threshold, complete,
                      indptr, indices, fraction, reversible, steps, stop, cmask, buffer):
    n = stance.shape[0]
    for t in range(steps):
        changed = 0
        for i in range(n):  # decide all from the previous step, then write
            if committed[i]:
                buffer[i] = stance[i]
                continue
            new = _wants(i, stance, seen, seen_counts, threshold, complete, indptr, indices,
                         fraction, reversible)
            buffer[i] = new
            if new != stance[i]:
                changed += 1
        if changed == 0:  # a fixed point: every further step changes nothing either
            return t + 1 if stop else steps
        for i in range(n):
            new = buffer[i]
            old = stance[i]
            if new != old:
                counts[old] -= 1
                counts[new] += 1
                stance[i] = new
        if stop and ((cmask[1] and counts[1] == n) or (cmask[0] and counts[0] == n)):
            return t + 1
    return steps


@njit(cache=True)
def _granovetter_rs(stance, seen, committed, counts, seen_counts, threshold, complete, indptr,
                    indices, fraction, reversible, n_updates, stop, cmask, s):
    n = stance.shape[0]
    changed = 0
    for u in range(n_updates):
        i = randint(s, n)
        if not committed[i]:
            new = _wants(i, stance, seen, seen_counts, threshold, complete, indptr, indices,
                         fraction, reversible)
            old = stance[i]
            if new != old:
                counts[old] -= 1
                counts[new] += 1
                stance[i] = new
                changed += 1
                if stop and ((cmask[1] and counts[1] == n) or (cmask[0] and counts[0] == n)):
                    return u + 1
        if (u + 1) % n == 0:  # end of a sweep
            if stop and changed == 0 and _n_unstable(
                    stance, seen, seen_counts, committed, threshold, complete, indptr, indices,
                    fraction, reversible) == 0:
                return u + 1
            changed = 0
    return n_updates


@register
class Granovetter(Model):
    name = "granovetter"
    title = "Granovetter threshold model of collective action (count or fraction thresholds)"
    summary = (
        "Each agent has a threshold and becomes active when the number (or share) of other "
        "active agents among its neighbours reaches it; active agents stay active unless the "
        "model is reversible. Cascades run to a fixed point."
    )
    references = (
        "Granovetter 1978, Am. J. Sociol. 83, 1420",
        "Watts 2002, Proc. Natl. Acad. Sci. USA 99, 5766 (fractional thresholds on networks)",
    )
    stances = ("inactive", "active")
    consensus_stances = (1,)
    default_initial: ClassVar[dict[str, float]] = {"inactive": 1.0}
    Params = GranovetterParams

    @classmethod
    def _validate(cls, values: dict[str, Any]) -> ModelParams:
        try:
            return cls.Params(**values)
        except ValidationError as exc:
            raise _dist_error(exc, cls.name) or parameter_error_from(
                exc, prefix=cls.name, params=cls.Params) from None

    def __init__(self, params: ModelParams | dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(params, **kwargs)
        p = self.params
        field = f"{self.name}."
        given = [k for k in ("threshold", "thresholds", "thresholds_file")
                 if getattr(p, k) is not None]
        if len(given) > 1:
            raise ParameterError("give the thresholds one way only", field=field + given[1],
                                 allowed="one of threshold, thresholds, thresholds_file",
                                 given=", ".join(given))
        lo, hi, words = _allowed_range(p.mode)
        specs = [("threshold", p.threshold)] + [
            (f"threshold_by_group.{g}", v) for g, v in (p.threshold_by_group or {}).items()]
        for name, spec in specs:
            value = spec.value if isinstance(spec, Constant) else spec
            if isinstance(value, int | float) and not lo <= value <= hi:
                raise ParameterError("threshold out of range", field=field + name,
                                     allowed=words, given=value)
            if spec is not None:
                checked(spec, lo, hi, field + name)
        self._thresholds: np.ndarray | None = None
        if p.thresholds is not None:
            self._thresholds = np.asarray(p.thresholds, dtype=np.float64)
            _check_values(self._thresholds, p.mode, field + "thresholds")
        elif p.thresholds_file is not None:
            self._thresholds = load_thresholds(p.thresholds_file, field + "thresholds_file")
            _check_values(self._thresholds, p.mode, field + "thresholds_file")

    def default_threshold(self) -> DistLike:
        """The threshold distribution used when none is given (depends on ``mode``).

        Examples
        --------
        >>> from steppe.models import get_model
        >>> get_model("granovetter")(mode="fraction").default_threshold()
        0.18
        """
        if self.params.mode == "count":
            return Normal(dist="normal", mean=25.0, sd=10.0)
        return 0.18

    def check_network(self, network: Network) -> None:
        p = self.params
        if self._thresholds is not None and len(self._thresholds) != network.n:
            fld = "thresholds" if p.thresholds is not None else "thresholds_file"
            raise ParameterError("one threshold per agent is needed", field=f"{self.name}.{fld}",
                                 allowed=f"{network.n} values (the number of agents)",
                                 given=f"{len(self._thresholds)} values")
        if p.threshold_by_group and network.groups is None:
            raise ParameterError("per-group thresholds need a network with groups",
                                 field=f"{self.name}.threshold_by_group", given=network.name)

    def init_aux(self, state: State, network: Network,
                 gen: np.random.Generator | None = None) -> None:
        p = self.params
        if self._thresholds is not None:
            theta = self._thresholds.copy()
        else:
            gen = np.random.default_rng(0) if gen is None else gen
            lo, hi, _ = _allowed_range(p.mode)
            spec = self.default_threshold() if p.threshold is None else p.threshold
            theta = sample_by_group(spec, p.threshold_by_group, network.groups, state.n, gen,
                                    low=lo, high=hi)
        state.aux["threshold"] = np.ascontiguousarray(theta, dtype=np.float64)
        if p.update == "synchronous":
            state.aux["buffer"] = np.empty_like(state.stance)

    def _args(self, state: State, network: Network) -> tuple:
        complete, indptr, indices = network.kernel_args()
        return (state.stance, state.seen, state.committed, state.counts, state.seen_counts,
                state.aux["threshold"], complete, indptr, indices,
                self.params.mode == "fraction", self.params.reversible)

    def advance(self, state: State, network: Network, sweeps: int,
                stop_at_consensus: bool) -> float:
        args = self._args(state, network)
        cmask = self.consensus_mask()
        if self.params.update == "synchronous":
            return float(_granovetter_sync(*args, sweeps, stop_at_consensus, cmask,
                                           state.aux["buffer"]))
        n = state.n
        done = _granovetter_rs(*args, sweeps * n, stop_at_consensus, cmask, state.rng)
        return done / n

    def settles(self) -> bool:
        """Without ``reversible`` agents only ever join, so a run ends at a fixed point; a
        reversible synchronous update can cycle."""
        return not self.params.reversible

    def is_frozen(self, state: State, network: Network) -> bool:
        """True at a fixed point: no uncommitted agent's rule would change its stance."""
        return _n_unstable(state.stance, state.seen, state.seen_counts, state.committed,
                           state.aux["threshold"], *network.kernel_args(),
                           self.params.mode == "fraction", self.params.reversible) == 0
