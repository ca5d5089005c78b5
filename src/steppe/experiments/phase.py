"""Phase diagrams as data: an outcome of a sweep over one or two swept fields.

The figures are drawn from these files by :mod:`steppe.report.phase` (``steppe sweep`` and
``steppe report`` on a sweep folder do it).

A phase diagram is declared by the field on the x axis, optionally the one on the y axis,
and the outcome (a column of the sweep's outcomes, see
:mod:`steppe.experiments.summaries`): ``p_consensus``, ``p_consensus_<stance>``,
``consensus_time``, ``consensus_time_median``, ``final_share_<stance>``,
``final_expressed_share_<stance>``.

- With x and y: a heatmap, one cell per point (axes in the order of the swept values, so
  uneven steps such as N = 100, 300, 1000 get equal cells), a colour bar, the value in each
  cell when the grid is small enough to read, and for probabilities and shares the 50%
  contour (the tipping line; its x for each y, interpolated linearly between neighbouring
  points, is written to ``<name>-line.csv``). ``marks`` draw reference lines, e.g. a
  published critical value: ``marks = [{ x = 0.0979, label = "mean-field p_c" }]``.
- With x only: the outcome against x with 95% error bars (± 1.96 standard errors), one line
  per value of the other swept fields.

When the sweep has more fields than the diagram shows, one diagram is drawn per value of
the others (their values are in the file name and title).

On the command line: ``--phase x=committed.fraction,y=network.n,outcome=p_consensus_A``; in a
scenario file, ``[[sweep.phase]]`` tables with ``x``, ``y``, ``outcome`` and optional
``title``, ``marks``, ``xlabel``, ``ylabel``.

Examples
--------
>>> spec = parse_phase("x=model.p,y=network.n,outcome=p_consensus")
>>> spec.x, spec.y, spec.outcome
('model.p', 'network.n', 'p_consensus')
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .grid import column_name

__all__ = ["PhaseSpec", "bounded", "check_phase", "crossing", "describe_outcome", "key",
           "parse_phase", "phase_from_table", "write_phase"]

_DESCRIPTIONS = {
    "p_consensus": "probability of consensus",
    "consensus_time": "mean consensus time (sweeps)",
    "consensus_time_median": "median consensus time (sweeps)",
}


@dataclass(frozen=True)
class PhaseSpec:
    """One phase diagram: fields on the axes, the outcome shown, title and marks."""

    x: str
    y: str | None
    outcome: str
    title: str | None = None
    marks: tuple[tuple[tuple[str, Any], ...], ...] = ()
    xlabel: str | None = None
    ylabel: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for the manifest)."""
        return {"x": self.x, "y": self.y, "outcome": self.outcome, "title": self.title,
                "marks": [dict(m) for m in self.marks], "xlabel": self.xlabel,
                "ylabel": self.ylabel}


def describe_outcome(outcome: str) -> str:
    """Words for an outcome column.

    Examples
    --------
    >>> describe_outcome("p_consensus_A"), describe_outcome("final_share_B")
    ('probability of consensus on A', 'mean final share of B')
    """
    if outcome in _DESCRIPTIONS:
        return _DESCRIPTIONS[outcome]
    for prefix, words in (("p_consensus_", "probability of consensus on "),
                          ("final_expressed_share_", "mean final expressed share of "),
                          ("final_share_", "mean final share of ")):
        if outcome.startswith(prefix):
            return words + outcome[len(prefix):]
    return outcome


_PHASE_HELP = "x=PATH[,y=PATH][,outcome=NAME][,title=TEXT]"


def parse_phase(text: str) -> PhaseSpec:
    """A phase diagram from ``--phase`` text.

    Raises
    ------
    ParameterError
        A part is not ``key=value`` or the key is unknown.

    Examples
    --------
    >>> parse_phase("x=committed.fraction").outcome
    'p_consensus'
    >>> parse_phase("z=1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    steppe.errors.ParameterError: --phase: unknown key 'z' (allowed: x, y, outcome, title, ...
    """
    table: dict[str, Any] = {}
    for part in [p for p in text.split(",") if p.strip()]:
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep:
            raise ParameterError("expected key=value", field="--phase", allowed=_PHASE_HELP,
                                 given=text)
        if key not in ("x", "y", "outcome", "title", "xlabel", "ylabel"):
            raise ParameterError(f"unknown key {key!r}", field="--phase",
                                 allowed="x, y, outcome, title, xlabel, ylabel", given=text)
        table[key] = value.strip()
    return phase_from_table(table, "--phase")


def phase_from_table(table: Mapping[str, Any], where: str = "sweep.phase") -> PhaseSpec:
    """A phase diagram from a ``[[sweep.phase]]`` table (or parsed ``--phase`` text).

    Examples
    --------
    >>> phase_from_table({"x": "model.p", "marks": [{"x": 0.1, "label": "p_c"}]}).marks
    ((('x', 0.1), ('label', 'p_c')),)
    """
    allowed = {"x", "y", "outcome", "title", "marks", "xlabel", "ylabel"}
    for k in table:
        if k not in allowed:
            raise ParameterError("unknown field", field=f"{where}.{k}",
                                 allowed=", ".join(sorted(allowed)), given=k)
    x = table.get("x")
    if not isinstance(x, str) or not x:
        raise ParameterError("a phase diagram needs the swept field on its x axis",
                             field=f"{where}.x", allowed=_PHASE_HELP, given=x)
    y = table.get("y")
    if y is not None and not isinstance(y, str):
        raise ParameterError("must be a field path", field=f"{where}.y", given=y)
    outcome = table.get("outcome", "p_consensus")
    marks = table.get("marks", [])
    if not isinstance(marks, list) or not all(
            isinstance(m, Mapping) and ("x" in m or "y" in m) for m in marks):
        raise ParameterError("marks must be a list of tables with x or y (and label)",
                             field=f"{where}.marks", given=marks)
    return PhaseSpec(x=x, y=y or None, outcome=str(outcome), title=table.get("title"),
                     marks=tuple(tuple(dict(m).items()) for m in marks),
                     xlabel=table.get("xlabel"), ylabel=table.get("ylabel"))


def check_phase(spec: PhaseSpec, axes: Sequence[str], stances: Sequence[str]) -> None:
    """Check that a diagram's axes are swept fields and its outcome exists.

    Raises
    ------
    ParameterError
        Naming ``--phase x``, ``y`` or ``outcome``, what is allowed and what was given.

    Examples
    --------
    >>> check_phase(parse_phase("x=model.p,outcome=p_consensus_A"), ["model.p"], ["A", "B"])
    >>> check_phase(parse_phase("x=model.q"), ["model.p"], ["A"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    steppe.errors.ParameterError: --phase x: not a swept field (allowed: model.p; given: ...
    """
    from .summaries import outcome_names

    for name, path in (("x", spec.x), ("y", spec.y)):
        if path is not None and path not in axes:
            raise ParameterError("not a swept field", field=f"--phase {name}",
                                 allowed=", ".join(axes) or "(nothing is swept)", given=path)
    if spec.y is not None and spec.y == spec.x:
        raise ParameterError("x and y must differ", field="--phase y", given=spec.y)
    names = outcome_names(stances)
    if spec.outcome not in names:
        raise ParameterError("unknown outcome", field="--phase outcome",
                             allowed=", ".join(names), given=spec.outcome)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, int) and abs(v) >= 10_000:
        return f"{v:,}"
    return str(v)


def key(v: Any) -> str:
    """A value as the text that identifies it on an axis (1 and 1.0 alike)."""
    if isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool):
        return repr(float(v))
    return str(v)


def _file_stem(spec: PhaseSpec, others: Mapping[str, Any]) -> str:
    parts = [spec.outcome, column_name(spec.x)] + ([column_name(spec.y)] if spec.y else [])
    stem = "-".join(parts)
    for k, v in others.items():
        stem += f"-{column_name(k)}={v}"
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", stem)


def write_phase(outcomes: pd.DataFrame, spec: PhaseSpec, axes: Mapping[str, Sequence[Any]],
                out_dir: str | Path, *, stances: Sequence[str], name: str,
                params: pd.DataFrame) -> list[Path]:
    """Write a phase diagram's data into ``out_dir``: per diagram ``<stem>.csv`` and
    ``<stem>.parquet`` (x, [y,] the outcome, its standard error, runs per point) and, for
    probabilities and shares over two fields, ``<stem>-line.csv`` (the 50% line); and
    ``<stem>.json``, what :func:`steppe.report.phase.draw_phase` needs to draw it.

    Parameters
    ----------
    outcomes
        The sweep's outcomes (one row per point, ``point`` column).
    spec
        The diagram.
    axes
        Each swept field and its values, in sweep order.
    stances
        The model's stance labels (to check the outcome name).
    name
        The scenario's name (in the title).
    params
        ``point`` and the swept values of every point, one column per field path.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    ParameterError
        x or y is not a swept field, or the outcome is unknown.
    """
    from ..observe.writers import atomic_path, write_json_atomic
    from .store import write_table_atomic

    check_phase(spec, list(axes), stances)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = params.merge(outcomes, on="point", how="inner")
    shown = [spec.x] + ([spec.y] if spec.y else [])
    others = [a for a in axes if a not in shown]
    se_col = f"{spec.outcome}_se"
    if spec.outcome == "consensus_time_median":
        se_col = "__none__"
    written: list[Path] = []
    frames = [((), data)] if (spec.y is None or not others) else list(
        data.groupby(others, sort=False, dropna=False))
    for k, g in frames:
        fixed = dict(zip(others, k if isinstance(k, tuple) else (k,), strict=False)) \
            if spec.y is not None and others else {}
        grid = pd.DataFrame({"x": g[spec.x].to_numpy(),
                             "value": g[spec.outcome].to_numpy(dtype=float),
                             "se": g[se_col].to_numpy(dtype=float) if se_col in g
                             else np.full(len(g), np.nan),
                             "runs": g["runs"].to_numpy()})
        if spec.y is not None:
            grid.insert(1, "y", g[spec.y].to_numpy())
        elif others:
            cols = [g[o].tolist() for o in others]
            grid["others"] = [", ".join(f"{o}={_fmt(v)}" for o, v in zip(others, vals,
                                                                         strict=True))
                              for vals in zip(*cols, strict=True)]
        title = spec.title or f"{name}: {describe_outcome(spec.outcome)}"
        if fixed:
            title += " (" + ", ".join(f"{k}={_fmt(v)}" for k, v in fixed.items()) + ")"
        runs = int(grid["runs"].min()) if len(grid) and grid["runs"].min() == grid[
            "runs"].max() else None
        stem = _file_stem(spec, fixed)
        table = grid.rename(columns={"x": column_name(spec.x), "y": column_name(
            spec.y or "y"), "value": spec.outcome, "se": f"{spec.outcome}_se"})
        for col, v in fixed.items():
            table[column_name(col)] = v
        csv = out / f"{stem}.csv"
        with atomic_path(csv) as tmp:
            table.to_csv(tmp, index=False)
        pq_path = write_table_atomic(table.astype({c: str for c in table.columns
                                                   if table[c].dtype == object}),
                                     out / f"{stem}.parquet")
        figure = write_json_atomic({"spec": spec.as_dict(), "title": title, "runs": runs,
                                    "x_values": _plain(list(axes[spec.x])),
                                    "y_values": _plain(list(axes[spec.y])) if spec.y
                                    else None, "grid": _plain(grid.to_dict("list"))},
                                   out / f"{stem}.json")
        written += [csv, pq_path, figure]
        if spec.y is not None and bounded(spec.outcome):
            line = _half_line(grid, list(axes[spec.y]))
            if line is not None:
                line.columns = [column_name(spec.y), f"{column_name(spec.x)}_at_50pct"]
                path = out / f"{stem}-line.csv"
                with atomic_path(path) as tmp:
                    line.to_csv(tmp, index=False)
                written.append(path)
    return written


def _plain(v: Any) -> Any:
    """JSON-friendly: numpy scalars as Python numbers, NaN as None."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def bounded(outcome: str) -> bool:
    """Whether an outcome is a probability or a share (drawn on [0, 1])."""
    return outcome.startswith(("p_consensus", "final_share", "final_expressed"))


def _half_line(grid: pd.DataFrame, y_values: Sequence[Any]) -> pd.DataFrame | None:
    """For each y, the x where the outcome crosses 0.5 (linear interpolation between
    neighbouring points; NaN where it does not cross): the tipping line as data."""
    try:
        xs = grid["x"].astype(float)
    except (TypeError, ValueError):
        return None
    rows = []
    for y in y_values:
        g = grid[[key(v) == key(y) for v in grid["y"]]].assign(xf=xs).sort_values("xf")
        rows.append((y, crossing(g["xf"].to_numpy(), g["value"].to_numpy())))
    return pd.DataFrame(rows)


def crossing(x: Sequence[float], p: Sequence[float], level: float = 0.5) -> float:
    """Where a curve first crosses ``level`` (linear interpolation), NaN if it does not.

    Examples
    --------
    >>> crossing([0.08, 0.09, 0.10], [0.0, 0.2, 0.8])
    0.095
    """
    xs, ps = np.asarray(x, float), np.asarray(p, float)
    for i in range(len(xs) - 1):
        a, b = ps[i] - level, ps[i + 1] - level
        if a == 0:
            return float(xs[i])
        if a < 0 < b or b < 0 < a:
            return round(float(xs[i] + (xs[i + 1] - xs[i]) * a / (a - b)), 12)
    return math.nan
