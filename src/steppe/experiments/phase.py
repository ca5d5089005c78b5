"""Phase diagrams: an outcome of a sweep over one or two swept fields, as a PNG and as data.

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

__all__ = ["PhaseSpec", "check_phase", "crossing", "describe_outcome", "draw_phase",
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


def _position(values: Sequence[Any], x0: float) -> float | None:
    """Where ``x0`` falls on an axis whose cells are ``values`` (by index)."""
    try:
        v = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return None
    if len(v) < 2 or not (np.all(np.diff(v) > 0) or np.all(np.diff(v) < 0)):
        return None
    order = np.argsort(v)
    return float(np.interp(x0, v[order], np.arange(len(v))[order]))


def draw_phase(grid: pd.DataFrame, spec: PhaseSpec, path: str | Path, *, title: str,
               x_values: Sequence[Any], y_values: Sequence[Any] | None = None,
               runs: int | None = None) -> Path:
    """Draw one phase diagram from its grid (columns ``x``, ``y``, ``value``, ``se``).

    Returns the PNG's path (written atomically)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from ..observe.writers import atomic_path

    label = describe_outcome(spec.outcome)
    bounded = _bounded(spec.outcome)
    fig = Figure(figsize=(9.0, 5.6) if y_values is not None else (8.0, 5.0),
                 layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    handles: list[Any] = []
    if y_values is not None:
        nx_, ny_ = len(x_values), len(y_values)
        z = np.full((ny_, nx_), np.nan)
        xi = {_key(v): i for i, v in enumerate(x_values)}
        yi = {_key(v): i for i, v in enumerate(y_values)}
        for row in grid.itertuples(index=False):
            i, j = xi.get(_key(row.x)), yi.get(_key(row.y))
            if i is not None and j is not None:  # points of an earlier, larger grid
                z[j, i] = row.value
        cmap = "viridis" if bounded else "magma"
        vmin, vmax = (0.0, 1.0) if bounded else (np.nanmin(z) if np.isfinite(z).any()
                                                 else 0, np.nanmax(z) if np.isfinite(
                                                     z).any() else 1)
        mesh = ax.pcolormesh(np.arange(nx_ + 1) - 0.5, np.arange(ny_ + 1) - 0.5,
                             np.ma.masked_invalid(z), cmap=cmap, vmin=vmin, vmax=vmax,
                             shading="flat")
        bar = fig.colorbar(mesh, ax=ax, pad=0.02)
        bar.set_label(label)
        if nx_ <= 24 and ny_ <= 14:
            for j in range(ny_):
                for i in range(nx_):
                    if np.isfinite(z[j, i]):
                        frac = (z[j, i] - vmin) / ((vmax - vmin) or 1)
                        ax.text(i, j, f"{z[j, i]:.2f}" if bounded else f"{z[j, i]:.3g}",
                                ha="center", va="center", fontsize=7,
                                color="black" if frac > 0.6 else "white")
        if not np.isfinite(z).all():
            handles.append(Patch(facecolor="white", edgecolor="0.6",
                                 label="blank: no value (e.g. no run reached consensus)"))
        if bounded and nx_ >= 2 and ny_ >= 2 and np.isfinite(z).all() \
                and np.nanmin(z) < 0.5 < np.nanmax(z):
            ax.contour(np.arange(nx_), np.arange(ny_), z, levels=[0.5], colors="white",
                       linewidths=2.0, linestyles="--")
            handles.append(Line2D([], [], color="0.35", linestyle="--", linewidth=2.0,
                                  label="50% line"))
        ax.set_xticks(np.arange(nx_))
        ax.set_xticklabels([_fmt(v) for v in x_values], rotation=45 if nx_ > 10 else 0,
                           ha="right" if nx_ > 10 else "center")
        ax.set_yticks(np.arange(ny_))
        ax.set_yticklabels([_fmt(v) for v in y_values])
        ax.set_ylabel(spec.ylabel or spec.y or "")
        ax.set_xlim(-0.5, nx_ - 0.5)
        ax.set_ylim(-0.5, ny_ - 0.5)
        for mark in spec.marks:
            m = dict(mark)
            style = {"color": "#D55E00", "linewidth": 2.2, "linestyle": "-"}
            if "x" in m:
                pos = _position(x_values, float(m["x"]))
                if pos is not None:
                    ax.axvline(pos, **style)
            if "y" in m:
                pos = _position(y_values, float(m["y"]))
                if pos is not None:
                    ax.axhline(pos, **style)
            handles.append(Line2D([], [], **style, label=str(m.get("label", "reference"))))
    else:
        groups = grid.groupby("others", sort=False) if "others" in grid else [("", grid)]
        for i, (name, g) in enumerate(groups):
            g = g.sort_values("x")
            err = 1.96 * g["se"].fillna(0).to_numpy()
            ax.errorbar(g["x"].to_numpy(), g["value"].to_numpy(), yerr=err, marker="o",
                        markersize=4, capsize=3, label=str(name) or None,
                        color=f"C{i % 10}")
        for mark in spec.marks:
            m = dict(mark)
            if "x" in m:
                ax.axvline(float(m["x"]), color="#D55E00", linewidth=1.8)
                handles.append(Line2D([], [], color="#D55E00", linewidth=1.8,
                                      label=str(m.get("label", "reference"))))
        if bounded:
            ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        if len(grid.get("others", pd.Series(dtype=object)).unique()) > 1:
            handles = ax.get_legend_handles_labels()[0] + handles
    ax.set_xlabel(spec.xlabel or spec.x)
    sub = f" — {runs} runs per point" if runs else ""
    ax.set_title(title + sub, fontsize=11)
    if handles:  # below the plot, where it hides no cell or curve
        fig.legend(handles=handles, loc="outside lower center", fontsize=8,
                   ncols=min(len(handles), 3), frameon=False)
    target = Path(path)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, dpi=150, format="png")
    return target


def _key(v: Any) -> str:
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
    """Write a phase diagram's PNG, CSV and Parquet files into ``out_dir``.

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
        The files written (per diagram: PNG, CSV, Parquet).

    Raises
    ------
    ParameterError
        x or y is not a swept field, or the outcome is unknown.
    """
    from ..observe.writers import atomic_path
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
    for key, g in frames:
        fixed = dict(zip(others, key if isinstance(key, tuple) else (key,), strict=False)) \
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
        png = draw_phase(grid, spec, out / f"{stem}.png", title=title,
                         x_values=list(axes[spec.x]),
                         y_values=list(axes[spec.y]) if spec.y else None, runs=runs)
        table = grid.rename(columns={"x": column_name(spec.x), "y": column_name(
            spec.y or "y"), "value": spec.outcome, "se": f"{spec.outcome}_se"})
        for k, v in fixed.items():
            table[column_name(k)] = v
        csv = out / f"{stem}.csv"
        with atomic_path(csv) as tmp:
            table.to_csv(tmp, index=False)
        pq_path = write_table_atomic(table.astype({c: str for c in table.columns
                                                   if table[c].dtype == object}),
                                     out / f"{stem}.parquet")
        written += [png, csv, pq_path]
        if spec.y is not None and _bounded(spec.outcome):
            line = _half_line(grid, list(axes[spec.y]))
            if line is not None:
                line.columns = [column_name(spec.y), f"{column_name(spec.x)}_at_50pct"]
                path = out / f"{stem}-line.csv"
                with atomic_path(path) as tmp:
                    line.to_csv(tmp, index=False)
                written.append(path)
    return written


def _bounded(outcome: str) -> bool:
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
        g = grid[[_key(v) == _key(y) for v in grid["y"]]].assign(xf=xs).sort_values("xf")
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
