"""``steppe sensitivity``: which conclusions depend on which assumption.

``--method oat`` (the default) moves one assumption at a time to the ends of its range
(:mod:`steppe.experiments.sensitivity`); ``--method morris`` and ``--method sobol`` vary them
all at once (:mod:`steppe.experiments.gsa`), over their prior ranges or, with
``--posterior``, over a calibrated posterior.

Examples
--------
>>> import typer
>>> from rich.console import Console
>>> app = typer.Typer()
>>> register(app, Console(), Console())
>>> [c.name or c.callback.__name__ for c in app.registered_commands]
['sensitivity']
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .errors import SteppeError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["METHODS", "register"]

#: the methods of ``--method``
METHODS = ("oat", "morris", "sobol")
#: assumptions listed per outcome in the printed tables
TOP = 8


def _check_options(method: str, runs: int | None, posterior: Path | None,
                   reading: str | None, trajectories: int | None, samples: int | None,
                   second_order: bool, seed: int | None = None) -> None:
    """Refuse options that do not fit together, before anything is read or run."""
    if method not in METHODS:
        raise SteppeError(f"--method: unknown method {method!r}; choose one of "
                          f"{', '.join(METHODS)}")
    if method == "oat":
        extra = [name for name, v in (("--posterior", posterior), ("--reading", reading),
                                      ("--trajectories", trajectories),
                                      ("--samples", samples),
                                      ("--second-order", second_order or None),
                                      ("--seed", seed))
                 if v is not None]
        if extra:
            raise SteppeError(f"{', '.join(extra)}: only with --method morris or sobol")
    else:
        if runs is not None:
            raise SteppeError(f"--runs: --method {method} runs each sample point once "
                              "(use --trajectories or --samples for more runs)")
        if method == "morris" and (samples is not None or second_order):
            raise SteppeError("--samples and --second-order are for --method sobol; "
                              "Morris takes --trajectories")
        if method == "sobol" and trajectories is not None:
            raise SteppeError("--trajectories is for --method morris; Sobol takes "
                              "--samples")
    if reading is not None and posterior is None:
        raise SteppeError("--reading: selects rows of --posterior, which is not given")
    if posterior is not None and not posterior.is_file():
        raise SteppeError(f"--posterior: {posterior} is not a file (expected "
                          "OUT/calibration/posterior.parquet from `steppe calibrate`)")


def _posterior(path: Path, reading: str | None) -> pd.DataFrame:
    """The posterior table, with the rows of one reading when it has a ``reading``
    column and ``--reading`` names one (weights renormalised)."""
    import pandas as pd

    try:
        post = pd.read_parquet(path)
    except Exception as exc:  # any unreadable file is the user's to fix
        raise SteppeError(f"--posterior: {path} is not a readable Parquet table "
                          f"({type(exc).__name__})") from None
    if reading is None:
        return post
    if "reading" not in post.columns:
        raise SteppeError(f"--reading: {path} has no reading column")
    names = [str(r) for r in dict.fromkeys(post["reading"])]
    if reading not in names:
        raise SteppeError(f"--reading: no reading {reading!r} in {path} (there: "
                          f"{', '.join(names)})")
    post = post[post["reading"].astype(str) == reading].copy()
    post["weight"] = post["weight"] / post["weight"].sum()
    return post


def _pp(x: float) -> str:
    return f"{100 * x:.1f} pp"


def _print_gsa(console: Console, frame: pd.DataFrame, method: str) -> None:
    """One rich table per outcome: the assumptions with the largest effect, their
    intervals and verdicts, then the line saying what the outcome depends on."""
    from rich.table import Table

    from .experiments.gsa import DUMMY, verdicts

    v = verdicts(frame)
    key = "mu_star" if method == "morris" else "ST"
    for outcome, g in v.groupby("outcome", sort=False):
        g = g.sort_values(key, ascending=False, na_position="last")
        if not (g[key].fillna(0.0) != 0).any():
            console.print(f"{outcome}: does not vary over the sample.\n", markup=False,
                          highlight=False)
            continue
        real = g[g["assumption"] != DUMMY]
        floor = g[g["assumption"] == DUMMY]
        table = Table(title=escape(str(outcome)), title_justify="left", show_edge=False,
                      pad_edge=False)
        table.add_column("assumption")
        if method == "morris":
            for col in ("μ*", "± 95%", "σ", "μ"):
                table.add_column(col, justify="right")
        else:
            for col in ("ST", "± 95%", "S1", "± 95%"):
                table.add_column(col, justify="right")
        table.add_column("")

        def cells(r: Any) -> list[str]:
            if method == "morris":
                return [_pp(r["mu_star"]), _pp(r["mu_star_conf"]), _pp(r["sigma"]),
                        _pp(r["mu"])]
            return [f"{r['ST']:.2f}", f"{r['ST_conf']:.2f}", f"{r['S1']:.2f}",
                    f"{r['S1_conf']:.2f}"]

        for _, r in real.head(TOP).iterrows():
            mark = {"depends": "[bold]depends[/]", "maybe": "maybe"}.get(r["verdict"], "")
            table.add_row(escape(str(r["assumption"])), *cells(r), mark)
        if len(real) > TOP:
            table.add_row(f"[dim]… {len(real) - TOP} more[/]", *[""] * 5)
        for _, r in floor.iterrows():
            table.add_row(f"[dim]{escape(DUMMY)}[/]", *cells(r), "[dim]floor[/]")
        console.print(table)
        dep = real[real["verdict"] == "depends"]["assumption"].tolist()
        maybe = real[real["verdict"] == "maybe"]["assumption"].tolist()
        console.print(("Depends on: " + ", ".join(dep) if dep
                       else "Depends on no assumption clearly")
                      + (f"; maybe on: {', '.join(maybe[:5])}" if maybe else "")
                      + (f" and {len(maybe) - 5} more" if len(maybe) > 5 else "") + ".\n",
                      markup=False, highlight=False)


def register(app: typer.Typer, console: Console, err_console: Console) -> None:
    """Add ``sensitivity`` to the ``steppe`` app."""

    @app.command()
    def sensitivity(
        scenario: Annotated[Path, typer.Argument(help="Scenario file (TOML) with an "
                                                      "\\[\\[assumptions]] table.")],
        method: Annotated[str, typer.Option(
            "--method", "-m", help="oat: one assumption at a time to each end of its "
                                   "range (the quick look); morris: screening, all at "
                                   "once; sobol: variance shares with intervals.")] = "oat",
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", help="Results folder to write the table into (default: the "
                                "scenario's, as for steppe run).")] = None,
        runs: Annotated[int | None, typer.Option(
            "--runs", "-r", min=1, help="Runs per setting (oat only; default 4).")] = None,
        trajectories: Annotated[int | None, typer.Option(
            "--trajectories", help="Morris trajectories (default 10; runs: trajectories "
                                   "x (assumptions + 2)).")] = None,
        samples: Annotated[int | None, typer.Option(
            "--samples", help="Sobol base samples N, a power of two (default 64; runs: "
                              "N x (assumptions + 3)).")] = None,
        second_order: Annotated[bool, typer.Option(
            "--second-order", help="Sobol: also second-order indices (twice the "
                                   "runs).")] = False,
        posterior: Annotated[Path | None, typer.Option(
            "--posterior", help="Vary the assumptions over this posterior (a "
                                "posterior.parquet of steppe calibrate) instead of their "
                                "ranges.")] = None,
        reading: Annotated[str | None, typer.Option(
            "--reading", help="With --posterior: take the rows of this reading only.")
                           ] = None,
        seed: Annotated[int | None, typer.Option(
            "--seed", help="Seed of the sample and the runs (default: the "
                           "scenario's).")] = None,
        workers: Annotated[int | None, typer.Option(
            "--workers", "-w", min=0, help="Local worker processes for all settings together "
                                           "(0: one per core; 1: this process).")] = 1,
        scale: Annotated[float | None, typer.Option(
            "--scale", min=0.0, max=1.0, help="Agents per person for every setting "
                                              "(e.g. 0.002 for a quick look).")] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
        scheduler: Annotated[str | None, typer.Option(
            "--scheduler", help="Run on a Dask cluster: scheduler address "
                                "tcp://HOST:PORT.")] = None,
        cluster: Annotated[Path | None, typer.Option(
            "--cluster", help="Start a Dask cluster from a description file (SLURM, PBS "
                              "or local; see docs/sweeps.md).")] = None,
        resume: Annotated[bool, typer.Option(
            "--resume/--no-resume", help="Keep the runs already done in the analysis's "
                                         "sweep folder (default), or start again.")] = True,
    ) -> None:
        """Which conclusions depend on which assumption.

        oat (default) runs the scenario with each assumption at the low and the
        high end of its range, everything else unchanged: sensitivity.parquet.
        morris and sobol vary every assumption at once (SALib), over the ranges
        or a posterior: gsa-METHOD-prior.parquet (or -posterior). `steppe
        report` adds the figures and which conclusions depend on which
        assumption. See docs/sensitivity.md."""
        _check_options(method, runs, posterior, reading, trajectories, samples,
                       second_order, seed)
        from .assembly import load_scenario
        from .experiments import gsa

        over = {} if scale is None else {"population.scale": scale}
        loaded = load_scenario(scenario, over)
        out_dir = loaded.output_dir(out)
        post = _posterior(posterior, reading) if posterior is not None else None
        if method == "oat":
            from .experiments.sensitivity import settings

            n_runs = runs if runs is not None else 4
            n = len(settings(loaded))
            name = "sensitivity"
            console.print(f"[bold]{escape(loaded.spec.name)}[/]: {(n - 1) // 2} assumptions "
                          f"x 2 ends + the baseline, {n_runs} runs each, as one sweep in "
                          f"{escape(str(out_dir / name))}", highlight=False)
        else:
            k = len(gsa.factors(loaded, post))
            over_what = "posterior" if post is not None else "prior"
            name = gsa.gsa_name(method, over_what)
            if method == "morris":
                n_traj = 10 if trajectories is None else trajectories
                desc, total = f"Morris screening, {n_traj} trajectories", n_traj * (k + 2)
            else:
                n = 64 if samples is None else samples
                desc = f"Sobol indices, N = {n}"
                total = n * ((2 * k + 4) if second_order else (k + 3))
            console.print(f"[bold]{escape(loaded.spec.name)}[/]: {desc} over the "
                          f"{over_what} of {k} assumptions and the dummy, {total} runs, as "
                          f"one sweep in {escape(str(out_dir / name))}", highlight=False)
        with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                      disable=quiet, transient=True) as bar:
            task = bar.add_task("running", total=None)

            def progress(done: int, total: int, label: str) -> None:
                bar.update(task, completed=done, total=total, description=label)

            where: dict[str, Any] = dict(workers=workers, out=out_dir, progress=progress,
                                         scheduler=scheduler, cluster=cluster,
                                         resume=resume)
            if method == "oat":
                from .experiments.sensitivity import sensitivity as run_sensitivity

                frame = run_sensitivity(loaded, runs=n_runs, **where)
            elif method == "morris":
                frame = gsa.morris(loaded, trajectories=n_traj, posterior=post, seed=seed,
                                   **where)
            else:
                frame = gsa.sobol(loaded, base_samples=n, posterior=post, seed=seed,
                                  second_order=second_order, **where)
        if method == "oat":
            from .report.sensitivity import sensitivity_markdown

            unvaried = [(a.name, a.note) for a in loaded.spec.assumptions if a.path is None]
            console.print(sensitivity_markdown(frame, unvaried=unvaried, tables=False),
                          highlight=False, markup=False)
        else:
            _print_gsa(console, frame, method)
        console.print(f"wrote {name}.parquet to [bold]{escape(str(out_dir))}[/]; "
                      f"`steppe report {escape(str(out_dir))}` adds it to the report",
                      highlight=False)
