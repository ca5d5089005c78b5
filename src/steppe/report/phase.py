"""Phase diagrams as figures, drawn from the data a sweep writes
(:func:`steppe.experiments.phase.write_phase`).

- With x and y: a heatmap, one cell per point (axes in the order of the swept values, so
  uneven steps such as N = 100, 300, 1000 get equal cells), a colour bar, the value in each
  cell when the grid is small enough to read, and for probabilities and shares the 50%
  contour (the tipping line). ``marks`` draw reference lines, e.g. a published critical
  value.
- With x only: the outcome against x with 95% error bars (± 1.96 standard errors), one line
  per value of the other swept fields.

Examples
--------
>>> import tempfile, pandas as pd
>>> from steppe.experiments.phase import parse_phase
>>> grid = pd.DataFrame({"x": [0.1, 0.2], "value": [0.2, 0.9], "se": [0.05, 0.05],
...                      "runs": [10, 10]})
>>> p = draw_phase(grid, parse_phase("x=committed.fraction"), tempfile.mkdtemp() + "/p.png",
...                title="demo", x_values=[0.1, 0.2])
>>> p.name
'p.png'
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..experiments.phase import PhaseSpec, bounded, describe_outcome, key, phase_from_table
from ..observe.writers import atomic_path

__all__ = ["draw_phase", "draw_phase_folder"]


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

    label = describe_outcome(spec.outcome)
    is_share = bounded(spec.outcome)
    fig = Figure(figsize=(9.0, 5.6) if y_values is not None else (8.0, 5.0),
                 layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    handles: list[Any] = []
    if y_values is not None:
        nx_, ny_ = len(x_values), len(y_values)
        z = np.full((ny_, nx_), np.nan)
        xi = {key(v): i for i, v in enumerate(x_values)}
        yi = {key(v): i for i, v in enumerate(y_values)}
        for row in grid.itertuples(index=False):
            i, j = xi.get(key(row.x)), yi.get(key(row.y))
            if i is not None and j is not None:  # points of an earlier, larger grid
                z[j, i] = row.value
        cmap = "viridis" if is_share else "magma"
        vmin, vmax = (0.0, 1.0) if is_share else (np.nanmin(z) if np.isfinite(z).any()
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
                        ax.text(i, j, f"{z[j, i]:.2f}" if is_share else f"{z[j, i]:.3g}",
                                ha="center", va="center", fontsize=7,
                                color="black" if frac > 0.6 else "white")
        if not np.isfinite(z).all():
            handles.append(Patch(facecolor="white", edgecolor="0.6",
                                 label="blank: no value (e.g. no run reached consensus)"))
        if is_share and nx_ >= 2 and ny_ >= 2 and np.isfinite(z).all() \
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
        if is_share:
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


def draw_phase_folder(folder: str | Path) -> list[Path]:
    """Draw every phase diagram whose data a sweep wrote into ``folder`` (``*.json`` beside
    the CSV files); each PNG is written beside its data. Returns the PNG paths."""
    out = []
    for meta_path in sorted(Path(folder).glob("*.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        table = dict(meta["spec"])
        table["marks"] = table.get("marks") or []
        spec = phase_from_table({k: v for k, v in table.items() if v is not None})
        grid = pd.DataFrame(meta["grid"])
        for col in ("value", "se"):
            grid[col] = pd.to_numeric(grid[col], errors="coerce").astype(float)
        out.append(draw_phase(grid, spec, meta_path.with_suffix(".png"), title=meta["title"],
                              x_values=meta["x_values"], y_values=meta["y_values"],
                              runs=meta["runs"]))
    return out
