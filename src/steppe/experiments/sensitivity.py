"""Which conclusions depend on which assumption: one-at-a-time sensitivity over the ranges a
scenario declares in its ``[[assumptions]]`` table.

Rule. The scenario is run as it stands (the baseline) and then, for each assumption that
names a field (``path``), once with the field at the low end of its range and once at the
high end, everything else unchanged, the seed included (common random numbers: run r of
every variant starts from the same draws, so differences are the assumption's doing and not
noise). All settings run as one sweep (:func:`steppe.experiments.sweep.sweep`, one point per
setting, common seeds): in parallel on local processes or a Dask cluster, stored run by run
in ``<out>/sensitivity/`` so that an interrupted analysis resumes where it stopped.
Each run gives the outcomes: the final private and expressed shares of the focus
stance, their gap, and the estimate of each simulated poll of that stance. Per variant the
median over runs is reported, with the 5th–95th percentile across runs; an assumption's
*swing* for an outcome is the high-end median minus the low-end median.

The outcome is said to *depend* on an assumption when the swing (to 0.1 pp) is at least
``threshold`` (default 0.05, five percentage points), and to be *robust* to it below a fifth
of that.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"assumption": ["baseline", "a", "a"], "path": [None, "x", "x"],
...                       "end": ["base", "low", "high"], "value": [None, 1.0, 2.0],
...                       "outcome": ["final private share of A"] * 3,
...                       "median": [0.30, 0.20, 0.40], "q05": [0.3, 0.2, 0.4],
...                       "q95": [0.3, 0.2, 0.4], "runs": [2, 2, 2]})
>>> swings(frame)[["assumption", "swing"]].round(2).to_dict("records")
[{'assumption': 'a', 'swing': 0.2}]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..assembly import make_model
from ..errors import ScenarioError, SteppeError
from ..observe.writers import write_parquet_atomic
from ..scenario.loaded import LoadedScenario
from ..scenario.loader import read_scenario
from .executors import Executor
from .grid import params_key
from .store import SweepStore
from .sweep import sweep

__all__ = ["SENSITIVITY_DIR", "SENSITIVITY_FILE", "focus_stance", "sensitivity", "settings",
           "swings"]

#: the file `steppe sensitivity` writes into a results folder
SENSITIVITY_FILE = "sensitivity.parquet"
#: the sweep folder of its runs, inside the results folder
SENSITIVITY_DIR = "sensitivity"

#: called as progress(done, total, label)
Progress = Callable[[int, int, str], None]


def focus_stance(loaded: LoadedScenario) -> str:
    """The stance the report is about: ``report.stance``, else the first penalised stance,
    else the model's first."""
    spec = loaded.spec
    if spec.report is not None and spec.report.stance:
        return spec.report.stance
    if spec.expression is not None and spec.expression.penalised:
        return spec.expression.penalised[0]
    return make_model(loaded).stances[0]


def whole_number(loaded: LoadedScenario, assumption: Any) -> bool:
    """Whether an assumption's field takes only whole numbers: its value in the scenario
    is an integer, so are its range's ends, and the scenario refuses a value half-way
    between two of them (a field that takes any number, such as a beta's shape written
    ``b = 5``, is not one). Analyses that vary it set whole numbers.

    Examples
    --------
    >>> sc = read_scenario({"name": "s", "seed": 1, "network": {"kind": "complete", "n": 9},
    ...     "model": {"name": "deffuant", "mu": 0.3, "epsilon": 1},
    ...     "stop": {"max_sweeps": 2},
    ...     "assumptions": [{"name": "n", "path": "network.n", "low": 5, "high": 9},
    ...                     {"name": "e", "path": "model.epsilon", "low": 0, "high": 1}]})
    >>> [whole_number(sc, a) for a in sc.spec.assumptions]
    [True, False]
    """
    from ..assembly import assemble
    from ..scenario.loader import with_overrides

    a = assumption
    current = None if a.path is None else loaded.field_value(a.path)
    if not (isinstance(current, int) and not isinstance(current, bool)
            and a.low is not None and a.high is not None
            and float(a.low).is_integer() and float(a.high).is_integer()):
        return False
    probe = float(a.low) + 0.5
    try:
        assemble(with_overrides(loaded, dict.fromkeys(a.paths, probe),
                                check_assumptions=False), dry=True)
    except SteppeError:
        return True
    return False


def _outcomes(series: pd.DataFrame, polls: pd.DataFrame | None,
              focus: str) -> dict[str, np.ndarray]:
    """Per-run outcomes of one setting (``series`` and ``polls`` of its runs)."""
    s = series
    rows = s[(s["by"].astype(str) == "all") & (s["stance"].astype(str) == focus)]
    last = rows.loc[rows.groupby("run", observed=True)["time"].idxmax()].sort_values("run")
    out = {
        f"final private share of {focus}": last["share"].to_numpy(dtype=float),
        f"final expressed share of {focus}": last["expressed_share"].to_numpy(dtype=float),
        f"final hidden share of {focus}": (last["share"] - last["expressed_share"]).to_numpy(
            dtype=float),
    }
    if polls is not None and not polls.empty:
        p = polls[(polls["stance"].astype(str) == focus)
                  & (polls["method"].astype(str) == "direct")]
        for name, g in p.groupby("poll", sort=False):
            out[f"poll {name}: {focus}"] = g.sort_values("run")["estimate"].to_numpy(
                dtype=float)
    return out


def settings(loaded: LoadedScenario) -> list[tuple[str, str | None, str, Any,
                                                   dict[str, Any]]]:
    """The settings a sensitivity analysis runs: ``(assumption, path, end, value,
    design)``, the baseline first (``design`` ``{}``), then each assumption with a path
    at its low and its high end (``design`` ``{path: value}``).

    Examples
    --------
    >>> from steppe.scenario import read_scenario
    >>> sc = read_scenario({"name": "s", "seed": 1, "network": {"kind": "complete", "n": 9},
    ...     "model": {"name": "qvoter", "p": 0.01}, "stop": {"max_sweeps": 2},
    ...     "assumptions": [{"name": "noise", "path": "model.p", "low": 0, "high": 0.1}]})
    >>> for a, _, e, _, d in settings(sc):
    ...     print(a, e, d)
    baseline base {}
    noise low {'model.p': 0.0}
    noise high {'model.p': 0.1}
    """
    out: list[tuple[str, str | None, str, Any, dict[str, Any]]] = [
        ("baseline", None, "base", None, {})]
    for i, a in enumerate(loaded.spec.assumptions):
        if a.path is None:
            continue
        for end in ("low", "high"):
            value = loaded.assumption_value(i, end)
            out.append((a.name, a.path, end, getattr(a, end),
                        dict.fromkeys(a.paths, value)))
    return out


def _rows(label: str, path: str | None, end: str, value: Any,
          outcomes: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    rows = []
    for name, x in outcomes.items():
        q05, med, q95 = (np.quantile(x, [0.05, 0.5, 0.95]) if len(x) else (math.nan,) * 3)
        rows.append({"assumption": label, "path": path, "end": end,
                     "value": None if value is None else float(value), "outcome": name,
                     "median": float(med), "q05": float(q05), "q95": float(q95),
                     "runs": len(x)})
    return rows


def sensitivity(scenario: str | Path | LoadedScenario, *, runs: int | None = None,
                workers: int | None = 1, out: str | Path | None = None,
                overrides: Mapping[str, Any] | None = None,
                progress: Progress | None = None, scheduler: str | None = None,
                cluster: str | Path | None = None, resume: bool = True,
                executor: Executor | None = None) -> pd.DataFrame:
    """Run the baseline and both ends of every assumption's range as one sweep; return the
    tidy outcomes (and write ``sensitivity.parquet`` into ``out``).

    Parameters
    ----------
    scenario
        A scenario file or a loaded scenario with an ``[[assumptions]]`` table.
    runs
        Runs per setting (default: the scenario's).
    workers
        Local worker processes for all the settings together (1: this process; 0 or
        None: one per core).
    out
        The results folder: the runs go to ``<out>/sensitivity/`` (a sweep folder; run
        again to resume) and the table to ``<out>/sensitivity.parquet``, each file
        atomically. None: a temporary folder, removed afterwards.
    overrides
        Dotted-path overrides applied to every setting (e.g. ``{"population.scale":
        0.001}``).
    progress
        Called as ``progress(done, total, label)`` as runs finish.
    scheduler, cluster
        A Dask scheduler address or a cluster description file (instead of local
        processes).
    resume
        Keep the runs already in ``<out>/sensitivity/`` (default); False starts afresh.
    executor
        An executor to use instead (not closed here).

    Returns
    -------
    pandas.DataFrame
        Columns ``assumption, path, end, value, outcome, median, q05, q95, runs``; the
        baseline has ``assumption == "baseline"`` and ``end == "base"``.

    Raises
    ------
    ScenarioError
        The scenario declares no assumption with a path, or one of them is invalid.
    SteppeError
        A run failed (the message gives the first error; the finished runs are kept).
    """
    import tempfile

    loaded = read_scenario(scenario, overrides)
    chosen = settings(loaded)
    if len(chosen) == 1:
        raise ScenarioError("no assumption to vary: add [[assumptions]] with a path, low "
                            "and high", file=loaded.source, field="assumptions")
    focus = focus_stance(loaded)
    n_runs = runs if runs is not None else loaded.spec.runs
    base = LoadedScenario(spec=loaded.spec.model_copy(update={"assumptions": []}),
                          source=loaded.source, base_dir=loaded.base_dir,
                          sha256=loaded.sha256)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(out) / SENSITIVITY_DIR if out is not None else Path(tmp) / "s"
        def tick(done: int, total: int, failed: int) -> None:
            if progress is not None:
                progress(done, total, f"{done} of {total} runs"
                         + (f", {failed} failed" if failed else ""))

        res = sweep(base, designs=[d for *_, d in chosen], runs=n_runs, seeds="common",
                    workers=workers if not (scheduler or cluster) else None, out=folder,
                    scheduler=scheduler, cluster=cluster, resume=resume, progress=tick,
                    executor=executor)
        store = check_complete(res, folder)
        points = {params_key(p["params"]): int(p["point"]) for p in res.manifest["points"]}
        series = _read_table(store, "series")
        polls = _read_table(store, "polls") if store.has("polls") else None
    rows: list[dict[str, Any]] = []
    for label, path, end, value, design in chosen:
        point = points[params_key(design)]
        s = series[series["point"] == point]
        p = polls[polls["point"] == point] if polls is not None else None
        rows += _rows(label, path, end, value, _outcomes(s, p, focus))
    frame = pd.DataFrame(rows)
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        write_parquet_atomic(frame, Path(out) / SENSITIVITY_FILE)
    return frame


def check_complete(res: Any, folder: Path) -> SweepStore:
    """The sweep folder of an analysis whose runs all finished.

    Raises
    ------
    SteppeError
        Some run failed or did not finish (the message gives the first error; the
        finished runs are kept, so running again resumes).
    """
    store = SweepStore(folder)
    if res.runs_failed or not res.complete:
        first = store.failures()[:1]
        raise SteppeError(
            f"{res.runs_failed} run(s) of the sensitivity analysis failed"
            + (f" (first: {first[0]['error']})" if first else "")
            + f"; the finished runs are kept in {folder}: run again to resume")
    return store


def _read_table(store: SweepStore, table: str) -> pd.DataFrame:
    """Every run file of one table of a sweep folder, in point and run order."""
    import pyarrow.dataset as ds

    files = sorted(Path(store.root).glob(f"{table}/point-*/run-*.parquet"))
    df = ds.dataset([str(f) for f in files], format="parquet").to_table().to_pandas()
    return df.sort_values(["point", "run"], kind="stable").reset_index(drop=True)


def swings(frame: pd.DataFrame) -> pd.DataFrame:
    """Per assumption and outcome: the medians at the low and high ends and the swing
    (high − low), largest absolute swing first within each outcome."""
    f = frame[frame["end"].isin(["low", "high"])]
    wide = f.pivot_table(index=["outcome", "assumption"], columns="end", values="median",
                         aggfunc="first", sort=False)
    vals = f.pivot_table(index=["outcome", "assumption"], columns="end", values="value",
                         aggfunc="first", sort=False)
    out = pd.DataFrame({"low": wide["low"], "high": wide["high"],
                        "low_value": vals["low"], "high_value": vals["high"]}).reset_index()
    out["swing"] = out["high"] - out["low"]
    out["size"] = out["swing"].abs()
    order = {o: k for k, o in enumerate(dict.fromkeys(frame["outcome"]))}
    out = out.sort_values(["outcome", "size"], ascending=[True, False],
                          key=lambda c: c.map(order) if c.name == "outcome" else c)
    return out.drop(columns="size").reset_index(drop=True)
