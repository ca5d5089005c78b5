"""What a sweep varies: axes, their values, the grid of points, and each point's seed.

A sweep varies scenario fields. Each varied field is an :class:`Axis` (a dotted path and its
values); the points of the sweep are the Cartesian product of the axes (the last axis varies
fastest). Axes come from a ``[sweep]`` table in the scenario file and from ``--set`` on the
command line (which replaces a field the file sweeps, or adds one).

Value syntax (``--set PATH=VALUES`` and the strings of ``[sweep.set]``)
-----------------------------------------------------------------------
``start:stop:step``
    An arithmetic range, *including* ``stop`` when it falls on the grid (as in NetLogo's
    BehaviorSpace ``[start increment end]``); decimal arithmetic, so ``0:0.3:0.1`` gives
    exactly ``0.0, 0.1, 0.2, 0.3``. Integers when all three parts are integers. A negative
    step counts down.
``start:stop:*factor``
    A geometric range: ``100:10000:*10`` gives ``100, 1000, 10000``.
``v1,v2,...`` or a TOML array ``[v1, v2]``
    A list; each item is read as a TOML value (number, boolean, quoted or bare string).
``v``
    A single TOML value: not swept, a fixed override of the field for every point.

In ``[sweep.set]`` a value may also be a TOML array, or a table ``{start, stop, step}``,
``{start, stop, factor}`` or ``{start, stop, num}`` (``num`` evenly spaced values, both ends
included).

Seeds
-----
With ``seeds = "independent"`` (the default) each point gets its own seed, derived from the
sweep's seed and the point's *parameter values* (not its position in the grid)::

    point_seed = SeedSequence(seed, spawn_key=(POINT_KEY, *sha256(params))) -> 63-bit int

and run ``r`` of the point draws from ``SeedSequence(point_seed, spawn_key=(1, r))``, exactly as
``steppe run`` does with ``seed = point_seed``. A point therefore has the same runs whatever
else the sweep holds, in whatever order it is run, by however many workers: growing a grid
or adding runs later keeps every result already computed. With ``seeds = "common"`` every
point uses the sweep's seed itself (common random numbers: the same initial draws and
network at every point, which smooths differences between neighbouring points). A sweep
without axes (an ensemble) uses the sweep's seed, so it holds exactly the runs of
``steppe run`` with the same seed.

Examples
--------
>>> parse_values("model.p", "0:0.3:0.1")
[0.0, 0.1, 0.2, 0.3]
>>> parse_values("network.n", "100:10000:*10")
[100, 1000, 10000]
>>> parse_values("model.collapse", "both,listener_only")
['both', 'listener_only']
>>> axes = [Axis("network.n", (100, 200)), Axis("model.p", (0.1, 0.2))]
>>> [p.params for p in make_points(axes, seed=1)][:2]
[{'network.n': 100, 'model.p': 0.1}, {'network.n': 100, 'model.p': 0.2}]
>>> point_seed(1, {"model.p": 0.1}) == point_seed(1, {"model.p": 0.1})
True
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import numpy as np

from ..errors import ParameterError
from ..rng import Stream
from ..scenario.files import set_path

__all__ = [
    "MAX_POINTS",
    "Axis",
    "Point",
    "column_name",
    "design_key",
    "design_points",
    "make_points",
    "merge_axes",
    "params_key",
    "parse_set",
    "parse_values",
    "point_seed",
    "set_path",
]

#: the largest number of values one axis, or points one grid, may have
MAX_POINTS = 1_000_000
#: first spawn-key word of the point seeds ("SWEP", distinct from the run streams' keys)
POINT_KEY = int(Stream.SWEEP_POINT)
#: fields a sweep may not vary (they are the sweep's own settings, or its identity)
RESERVED = {"seed": "--seed", "runs": "--runs", "name": "the scenario's name",
            "output": "--out"}

SeedMode = Literal["independent", "common"]


@dataclass(frozen=True)
class Axis:
    """One swept field: a dotted scenario path and its values, in order.

    Examples
    --------
    >>> Axis("committed.fraction", (0.1, 0.2)).column
    'committed_fraction'
    """

    path: str
    values: tuple[Any, ...]

    @property
    def column(self) -> str:
        """The field as an SQL-friendly column name (dots and dashes become ``_``)."""
        return column_name(self.path)


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its index in the dataset, swept values and seed."""

    index: int
    params: dict[str, Any]
    seed: int
    key: str = field(default="", compare=False)

    def describe(self) -> str:
        """``path=value, ...`` for messages.

        Examples
        --------
        >>> Point(0, {"model.p": 0.1, "network.n": 100}, 5).describe()
        'model.p=0.1, network.n=100'
        """
        return ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}"
                         for k, v in self.params.items()) or "(no swept fields)"


def column_name(path: str) -> str:
    """A dotted scenario path as a column name.

    Examples
    --------
    >>> column_name("media.0.strength")
    'media_0_strength'
    """
    return re.sub(r"[^A-Za-z0-9_]", "_", path)


def _fail(path: str, message: str, allowed: str, given: Any) -> ParameterError:
    return ParameterError(message, field=f"--set {path}" if path else "--set",
                          allowed=allowed, given=given)


_RANGE_HELP = ("start:stop:step, start:stop:*factor, a list v1,v2,... or a TOML array, "
               "or one value")


def _toml_value(text: str) -> tuple[bool, Any]:
    """(True, value) if ``text`` reads as one TOML value."""
    try:
        return True, tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return False, None


def _item(text: str) -> Any:
    ok, value = _toml_value(text.strip())
    return value if ok else text.strip()


def _decimal(path: str, text: str, spec: str) -> Decimal:
    try:
        d = Decimal(text.strip().replace("_", ""))
    except InvalidOperation:
        raise _fail(path, f"not a number in a range: {text!r}", _RANGE_HELP, spec) from None
    if not d.is_finite():
        raise _fail(path, "range bounds must be finite numbers", _RANGE_HELP, spec)
    return d


def _is_int(text: str) -> bool:
    return re.fullmatch(r"\s*[+-]?\d[\d_]*\s*", text) is not None


def _number(d: Decimal, as_int: bool) -> int | float:
    return int(d) if as_int else float(d)


def _arith(path: str, start: Decimal, stop: Decimal, step: Decimal, as_int: bool,
           spec: Any) -> list[Any]:
    if step == 0:
        raise _fail(path, "a range's step must not be zero", _RANGE_HELP, spec)
    if (stop - start) * step < 0:
        raise _fail(path, "empty range: the step goes away from stop", _RANGE_HELP, spec)
    count = int((stop - start) / step) + 1
    if count > MAX_POINTS:
        raise _fail(path, f"too many values ({count:,})", f"at most {MAX_POINTS:,}", spec)
    return [_number(start + i * step, as_int) for i in range(count)]


def _geom(path: str, start: Decimal, stop: Decimal, factor: Decimal, as_int: bool,
          spec: Any) -> list[Any]:
    if start == 0 or factor <= 0 or factor == 1:
        raise _fail(path, "a geometric range needs start != 0 and a factor > 0, != 1",
                    _RANGE_HELP, spec)
    out = []
    v = start
    grows = abs(factor) > 1
    while (abs(v) <= abs(stop)) if grows else (abs(v) >= abs(stop)):
        out.append(_number(v, as_int))
        if len(out) > MAX_POINTS:
            raise _fail(path, "too many values", f"at most {MAX_POINTS:,}", spec)
        v = v * factor
    if not out:
        raise _fail(path, "empty range", _RANGE_HELP, spec)
    return out


def _range_string(path: str, text: str) -> list[Any]:
    parts = text.split(":")
    if len(parts) != 3:
        raise _fail(path, "a range needs three parts", _RANGE_HELP, text)
    start_s, stop_s, step_s = parts
    start = _decimal(path, start_s, text)
    stop = _decimal(path, stop_s, text)
    if step_s.strip().startswith("*"):
        factor_s = step_s.strip()[1:]
        factor = _decimal(path, factor_s, text)
        as_int = _is_int(start_s) and _is_int(stop_s) and _is_int(factor_s)
        return _geom(path, start, stop, factor, as_int, text)
    step = _decimal(path, step_s, text)
    as_int = _is_int(start_s) and _is_int(stop_s) and _is_int(step_s)
    return _arith(path, start, stop, step, as_int, text)


def _range_table(path: str, table: Mapping[str, Any]) -> list[Any]:
    allowed = "a table {start, stop, step}, {start, stop, factor} or {start, stop, num}"
    keys = set(table)
    kinds = [k for k in ("step", "factor", "num") if k in keys]
    if not {"start", "stop"} <= keys or len(kinds) != 1 or keys - {"start", "stop", *kinds}:
        raise _fail(path, "invalid range table", allowed, dict(table))
    for k in table:
        if isinstance(table[k], bool) or not isinstance(table[k], int | float):
            raise _fail(path, f"range {k} must be a number", allowed, dict(table))
    as_int = all(isinstance(table[k], int) for k in ("start", "stop", kinds[0]))
    start, stop = Decimal(repr(table["start"])), Decimal(repr(table["stop"]))
    if kinds[0] == "num":
        num = table["num"]
        if not isinstance(num, int) or num < 1 or num > MAX_POINTS:
            raise _fail(path, "num must be a whole number from 1", allowed, dict(table))
        if num == 1:
            return [_number(start, as_int)]
        vals = np.linspace(float(start), float(stop), num)
        return [float(v) for v in vals]
    third = Decimal(repr(table[kinds[0]]))
    if kinds[0] == "factor":
        return _geom(path, start, stop, third, as_int, dict(table))
    return _arith(path, start, stop, third, as_int, dict(table))


def _check_path(path: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*", path or ""):
        raise _fail("", "the field must be a dotted scenario path such as model.p",
                    "PATH=VALUES, e.g. committed.fraction=0.05:0.15:0.01", path)
    head = path.split(".")[0]
    if head in RESERVED:
        raise _fail(path, f"{head} is a setting of the sweep itself, not a swept field",
                    f"use {RESERVED[head]}", path)


def parse_values(path: str, spec: Any) -> list[Any]:
    """The values of a swept field from ``--set`` text or a ``[sweep.set]`` entry.

    A single value gives a one-element list (a fixed override).

    Raises
    ------
    ParameterError
        The text is not a range, a list or a value (the message names the field, what is
        allowed and what was given).

    Examples
    --------
    >>> parse_values("model.p", "0.1:0.3:0.1")
    [0.1, 0.2, 0.3]
    >>> parse_values("network.n", "[100, 300]"), parse_values("network.n", 100)
    ([100, 300], [100])
    >>> parse_values("model.p", {"start": 0, "stop": 1, "num": 3})
    [0.0, 0.5, 1.0]
    >>> parse_values("model.p", "0:1:0")
    Traceback (most recent call last):
    ...
    steppe.errors.ParameterError: --set model.p: a range's step must not be zero (allowed: ...
    """
    _check_path(path)
    if isinstance(spec, list | tuple):
        if not spec:
            raise _fail(path, "an empty list of values", "at least one value", list(spec))
        return list(spec)
    if isinstance(spec, Mapping):
        return _range_table(path, spec)
    if not isinstance(spec, str):
        return [spec]
    text = spec.strip()
    if not text:
        raise _fail(path, "no value given", _RANGE_HELP, spec)
    if text.count(":") == 2 and not any(c in text for c in ",[]{}\"'"):
        return _range_string(path, text)  # before TOML, which reads 10:30:10 as a time
    ok, value = _toml_value(text)
    if ok:
        return list(value) if isinstance(value, list) else [value]
    if "," in text:
        items = [s for s in text.split(",")]
        if any(not s.strip() for s in items):
            raise _fail(path, "an empty item in a list", _RANGE_HELP, spec)
        return [_item(s) for s in items]
    return [text]


def parse_set(text: str) -> tuple[str, list[Any]]:
    """Split one ``--set PATH=VALUES`` into the path and its values.

    Examples
    --------
    >>> parse_set("committed.fraction=0.05:0.07:0.01")
    ('committed.fraction', [0.05, 0.06, 0.07])
    >>> parse_set("model.p")
    Traceback (most recent call last):
    ...
    steppe.errors.ParameterError: --set: expected PATH=VALUES (allowed: ...; given: 'model.p')
    """
    path, sep, spec = text.partition("=")
    if not sep:
        raise _fail("", "expected PATH=VALUES",
                    "PATH=VALUES, e.g. committed.fraction=0.05:0.15:0.01", text)
    path = path.strip()
    return path, parse_values(path, spec)


def merge_axes(*sources: Iterable[tuple[str, Sequence[Any]]]) -> tuple[list[Axis],
                                                                        dict[str, Any]]:
    """Axes (fields with several values) and fixed overrides (one value) from several
    sources in order; a later source replaces a field an earlier one set.

    Examples
    --------
    >>> axes, fixed = merge_axes([("model.p", [0.1, 0.2]), ("network.n", [50])],
    ...                          [("model.p", [0.3, 0.4])])
    >>> axes, fixed
    ([Axis(path='model.p', values=(0.3, 0.4))], {'network.n': 50})
    """
    merged: dict[str, list[Any]] = {}
    for src in sources:
        for path, values in src:
            merged.pop(path, None)  # a replaced field moves to the end, like a new one
            merged[path] = list(values)
    paths = list(merged)
    for a in paths:
        for b in paths:
            if a != b and b.startswith(a + "."):
                raise _fail(b, f"overlaps {a} (one path inside the other)",
                            "separate fields", b)
    axes = [Axis(p, tuple(v)) for p, v in merged.items() if len(v) > 1]
    fixed = {p: v[0] for p, v in merged.items() if len(v) == 1}
    for ax in axes:
        keys = [params_key({"v": v}) for v in ax.values]
        if len(set(keys)) != len(keys):
            raise _fail(ax.path, "a value appears twice", "distinct values",
                        list(ax.values))
    cols = [ax.column for ax in axes]
    if len(set(cols)) != len(cols):
        raise _fail(axes[0].path, "two swept fields give the same column name",
                    "paths that differ in letters, not only in punctuation",
                    [ax.path for ax in axes])
    return axes, fixed


def params_key(params: Mapping[str, Any]) -> str:
    """Canonical JSON of a point's parameters: its identity in the dataset.

    Examples
    --------
    >>> params_key({"b": 1, "a": 0.5})
    '{"a":0.5,"b":1}'
    """
    return json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)


def point_seed(seed: int, params: Mapping[str, Any]) -> int:
    """The seed of the point with these parameters (see the module docstring).

    Examples
    --------
    >>> point_seed(7, {"model.p": 0.1}) != point_seed(7, {"model.p": 0.2})
    True
    """
    digest = hashlib.sha256(params_key(params).encode()).digest()
    words = np.frombuffer(digest, dtype="<u4").tolist()
    state = np.random.SeedSequence(seed, spawn_key=(POINT_KEY, *words)).generate_state(
        2, np.uint32)
    return (int(state[0]) & 0x7FFFFFFF) << 32 | int(state[1])


def make_points(axes: Sequence[Axis], seed: int, seeds: SeedMode = "independent",
                start: int = 0) -> list[Point]:
    """The grid of points (Cartesian product, the last axis varying fastest).

    Raises
    ------
    ParameterError
        The grid has more than :data:`MAX_POINTS` points.

    Examples
    --------
    >>> [p.seed == 3 for p in make_points([Axis("model.p", (0.1, 0.2))], 3, "common")]
    [True, True]
    >>> make_points([], 3)[0].seed
    3
    """
    total = 1
    for ax in axes:
        total *= len(ax.values)
    if total > MAX_POINTS:
        raise ParameterError(f"the grid has {total:,} points", field="--set",
                             allowed=f"at most {MAX_POINTS:,}",
                             given=" x ".join(str(len(a.values)) for a in axes))
    out = []
    for i, combo in enumerate(itertools.product(*[ax.values for ax in axes])):
        params = {ax.path: v for ax, v in zip(axes, combo, strict=True)}
        s = seed if (seeds == "common" or not axes) else point_seed(seed, params)
        out.append(Point(start + i, params, s, params_key(params)))
    return out


def design_points(designs: Sequence[Mapping[str, Any]], seed: int,
                  seeds: SeedMode = "independent") -> list[Point]:
    """Points given one by one (each a mapping of field paths to values), in order; with
    ``"common"`` seeds every point uses ``seed``. Two equal designs are one point.

    A design may also give its point's seed under the key ``"seed"`` (a whole number
    >= 0; ``seed`` is no field a sweep varies): the point then runs with that seed
    whatever the seed mode, and the seed is part of the point's identity, so two designs
    with the same fields and different seeds are two points. This is how
    :mod:`steppe.experiments.gsa` gives the points of one Morris trajectory one seed
    (common random numbers within a trajectory, other seeds in the others).

    Raises
    ------
    ParameterError
        A given seed is not a whole number >= 0.

    Examples
    --------
    >>> [p.params for p in design_points([{}, {"model.p": 0.1}, {}], 3, "common")]
    [{}, {'model.p': 0.1}]
    >>> [(p.params, p.seed) for p in design_points(
    ...     [{"model.p": 0.1, "seed": 5}, {"model.p": 0.1, "seed": 6}], 3)]
    [({'model.p': 0.1}, 5), ({'model.p': 0.1}, 6)]
    """
    out: list[Point] = []
    seen: set[str] = set()
    for design in designs:
        params = {k: v for k, v in design.items() if k != "seed"}
        given = design.get("seed") if "seed" in design else None
        if "seed" in design and (not isinstance(given, int) or isinstance(given, bool)
                                 or given < 0):
            raise ParameterError("a design's seed must be a whole number >= 0",
                                 field="seed", allowed="0, 1, 2, ...", given=given)
        key = design_key(params, given)
        if key in seen:
            continue
        seen.add(key)
        if given is not None:
            s = int(given)
        else:
            s = seed if seeds == "common" or not params else point_seed(seed, params)
        out.append(Point(len(out), dict(params), s, key))
    return out


def design_key(params: Mapping[str, Any], seed: int | None = None) -> str:
    """A point's identity: :func:`params_key` of its fields, and its seed when its design
    gives one.

    Examples
    --------
    >>> design_key({"model.p": 0.1}), design_key({"model.p": 0.1}, 7)
    ('{"model.p":0.1}', '{"model.p":0.1}#seed=7')
    """
    key = params_key(params)
    return key if seed is None else f"{key}#seed={int(seed)}"
