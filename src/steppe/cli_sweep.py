"""The ``steppe sweep`` and ``steppe query`` commands (registered on the app in ``cli.py``).

Examples
--------
>>> from typer.testing import CliRunner
>>> from steppe.cli import app
>>> result = CliRunner().invoke(app, ["sweep", "--help"])
>>> result.exit_code, "--set" in result.output
(0, True)
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from .errors import SteppeError

__all__ = ["register"]

_SET_HELP = ("Sweep a scenario field: PATH=start:stop:step (stop included), "
             "PATH=start:stop:*factor, PATH=v1,v2,... or a TOML array; one value fixes the "
             "field. Repeat for a grid over several fields; replaces the file's sweep.set "
             "entry for that field.")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.4g}"
    return str(v)


def register(app: typer.Typer, console: Console, err_console: Console) -> None:
    """Add ``sweep`` and ``query`` to the ``steppe`` app."""

    @app.command()
    def sweep(
        scenario: Annotated[Path, typer.Argument(help="Scenario file (TOML), optionally "
                                                      "with a sweep table.")],
        set_: Annotated[list[str] | None, typer.Option("--set", help=_SET_HELP)] = None,
        runs: Annotated[int | None, typer.Option("--runs", "-r", min=1,
                                                 help="Runs per point.")] = None,
        seed: Annotated[int | None, typer.Option("--seed", "-s", min=0,
                                                 help="Seed of the sweep.")] = None,
        workers: Annotated[int | None, typer.Option(
            "--workers", "-w", min=0, help="Local worker processes (default: one per core; "
                                           "1: in this process).")] = None,
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", help="Sweep folder (default: results/<name>-sweep).")] = None,
        scheduler: Annotated[str | None, typer.Option(
            "--scheduler", help="Run on a Dask cluster: scheduler address "
                                "tcp://HOST:PORT.")] = None,
        cluster: Annotated[Path | None, typer.Option(
            "--cluster", help="Start a Dask cluster from a description file (SLURM, PBS "
                              "or local; see docs/sweeps.md).")] = None,
        resume: Annotated[bool, typer.Option(
            "--resume/--no-resume", help="Skip runs already in the folder (default), or "
                                         "clear its sweep files and start again.")] = True,
        phase: Annotated[list[str] | None, typer.Option(
            "--phase", help="Draw a phase diagram: x=PATH,y=PATH,outcome=NAME (y "
                            "optional) "
                            "(outcomes: p_consensus, p_consensus_<stance>, consensus_time, "
                            "final_share_<stance>, ...).")] = None,
        seeds: Annotated[str | None, typer.Option(
            "--seeds", help="independent (default): each point its own seed; common: the "
                            "same seed at every point.")] = None,
        memory_check: Annotated[bool, typer.Option(
            "--memory-check/--no-memory-check",
            help="Refuse a sweep whose runs will not fit in memory.")] = True,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")
                         ] = False,
    ) -> None:
        """Run a scenario over a grid of field values (or R runs of it: an ensemble);
        write one Parquet file per run, outcomes, bands and phase diagrams."""
        from .experiments.sweep import sweep as run_sweep

        if seeds is not None and seeds not in ("independent", "common"):
            raise SteppeError(f"--seeds: unknown seed mode (allowed: independent, common; "
                              f"given: {seeds!r})")
        failures: list[dict[str, Any]] = []
        bar = Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                       MofNCompleteColumn(), TextColumn("{task.fields[failed]}"),
                       TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                       console=console, disable=quiet, transient=True)
        task_id = None
        started = False

        def on_start(plan: Any, pending: int, total: int, where: str) -> None:
            nonlocal task_id, started
            axes = " x ".join(f"{a.path} ({len(a.values)})" for a in plan.axes) or \
                "no swept field (an ensemble)"
            console.print(f"[bold]{plan.name}[/]: {len(plan.points)} point(s) over {axes}; "
                          f"{plan.runs} run(s) per point, seed {plan.seed} "
                          f"({plan.seeds} seeds); {total} runs, {total - pending} already "
                          f"done; on {where}", highlight=False)
            for note in plan.notes:
                console.print(f"note: {note}", highlight=False)
            bar.start()
            started = True
            task_id = bar.add_task("sweeping", total=total, failed="")

        def progress(done: int, total: int, failed: int) -> None:
            if task_id is not None:
                bar.update(task_id, completed=done + failed,
                           failed=f"[red]{failed} failed[/]" if failed else "")

        def on_failure(rec: dict[str, Any]) -> None:
            failures.append(rec)
            if len(failures) > 10:
                if len(failures) == 11:
                    err_console.print("more runs failed; every failure is recorded in "
                                      "the folder's failures/ (steppe query DIR "
                                      '"SELECT * FROM failures")')
                return
            params = ", ".join(f"{k}={v}" for k, v in rec["params"].items())
            err_console.print(f"[red]run failed[/]: point {rec['point']}"
                              + (f" ({params})" if params else "")
                              + f", run {rec['run']}, seed {rec['seed']}: {rec['error']}",
                              highlight=False, soft_wrap=True)

        try:
            with warnings.catch_warnings():
                # printed as a note when the sweep starts (on_start)
                warnings.filterwarnings("ignore", message=".*over another grid",
                                        category=UserWarning)
                res = run_sweep(scenario, sets=set_ or [], runs=runs, seed=seed, seeds=seeds,
                                workers=workers, out=out, scheduler=scheduler,
                                cluster=cluster, resume=resume, phases=phase or [],
                                check_memory_first=memory_check, progress=progress,
                                on_failure=on_failure, on_start=on_start)
        except KeyboardInterrupt:
            if started:
                bar.stop()
            err_console.print("interrupted: every finished run is saved; run the same "
                              "command again to resume")
            raise typer.Exit(130) from None
        finally:
            if started:
                bar.stop()
        for line in res.repaired:
            err_console.print(f"[yellow]damaged run file[/]: {escape(line)}", highlight=False,
                              soft_wrap=True)
        _print_outcomes(console, res)
        rate = res.runs_per_minute
        console.print(f"{res.runs_done} run(s) in {res.seconds:.1f} s"
                      + (f" ({rate:,.0f} runs/min)" if not math.isnan(rate) else "")
                      + f" on {res.executor}"
                      + (f"; {res.runs_skipped} already done" if res.runs_skipped else "")
                      + f"; results in [bold]{res.path}[/]", highlight=False)
        pngs = _draw_phase(res.files)
        for f in res.files:
            if f.suffix == ".json" and f.with_suffix(".png") in pngs:
                console.print(f"phase diagram: {f.with_suffix('.png')} (data: "
                              f"{f.with_suffix('.csv').name}, "
                              f"{f.with_suffix('.parquet').name})", highlight=False)
            elif f.name.endswith("-line.csv"):
                console.print(f"50% line (x where the outcome crosses 0.5, for each y): {f}",
                              highlight=False)
        console.print(f'query it: steppe query {res.path} "SELECT * FROM outcomes"',
                      highlight=False)
        if res.runs_failed:
            err_console.print(f"[red]{res.runs_failed} run(s) failed[/] (listed above and "
                              f"in {res.path / 'failures'}); run the same command again to "
                              "retry them")
            raise typer.Exit(1)

    @app.command()
    def query(
        results: Annotated[Path, typer.Argument(help="A folder written by steppe sweep.")],
        sql: Annotated[str | None, typer.Argument(
            help="DuckDB SQL over the views points, runs, series, bands, outcomes, "
                 "failures (without it: list the views).")] = None,
        csv: Annotated[Path | None, typer.Option("--csv", help="Also write the whole "
                                                 "result to this CSV file.")] = None,
        max_rows: Annotated[int, typer.Option("--max-rows", min=1,
                                              help="Rows to print.")] = 50,
    ) -> None:
        """Run SQL (DuckDB) over a sweep folder and print the result."""
        from .experiments.query import query as run_query
        from .experiments.query import views

        if sql is None:
            table = Table(title=f"views of {results}", title_justify="left")
            table.add_column("view", style="bold")
            table.add_column("rows", justify="right")
            table.add_column("columns")
            for name, cols, rows in views(results):
                table.add_row(name, str(rows), ", ".join(cols))
            console.print(table)
            return
        df = run_query(results, sql)
        if csv is not None:
            from .observe.writers import atomic_path

            with atomic_path(csv) as tmp:
                df.to_csv(tmp, index=False)
        table = Table(show_lines=False)
        for col in df.columns:
            numeric = df[col].dtype.kind in "iuf"
            table.add_column(str(col), justify="right" if numeric else "left")
        for row in df.head(max_rows).itertuples(index=False):
            table.add_row(*[_fmt(v) for v in row])
        console.print(table)
        more = len(df) - max_rows
        console.print(f"{len(df)} row(s)" + (f", {more} not shown (--max-rows, --csv)"
                                             if more > 0 else "")
                      + (f"; wrote {csv}" if csv is not None else ""), highlight=False)


def _draw_phase(files: list[Path]) -> set[Path]:
    """Draw the phase diagrams whose data the sweep wrote (the report owns figures)."""
    from .report.phase import draw_phase_folder

    folders = {f.parent for f in files if f.suffix == ".json"}
    return {png for folder in sorted(folders) for png in draw_phase_folder(folder)}


def _print_outcomes(console: Console, res: Any, limit: int = 30) -> None:
    """A compact table of outcomes per point."""
    path = res.path / "outcomes.parquet"
    if not path.exists():
        return
    import pandas as pd

    o = pd.read_parquet(path)
    axes = [(c["column"], c["path"]) for c in res.manifest.get("axes", [])]
    stances = res.manifest.get("stances", [])
    winners = [s for s in stances
               if f"p_consensus_{s}" in o and o[f"p_consensus_{s}"].max() > 0]
    shown: list[tuple[str, str]] = [*axes, ("runs", "runs")]
    if len(winners) == 1:  # one stance ever wins: say which
        shown.append((f"p_consensus_{winners[0]}", f"P(consensus on {winners[0]})"))
    else:
        shown.append(("p_consensus", "P(consensus)"))
        shown += [(f"p_consensus_{s}", f"P({s})") for s in winners]
    shown += [("consensus_time", "T consensus")]
    shown += [(f"final_share_{s}", f"share {s}") for s in stances[:4]]
    shown = [(c, h) for c, h in shown if c in o]
    table = Table(title="outcomes per point", title_justify="left")
    for _, header in shown:
        table.add_column(header, justify="right")
    for row in o[[c for c, _ in shown]].head(limit).itertuples(index=False):
        table.add_row(*[_fmt(v) for v in row])
    console.print(table)
    if len(o) > limit:
        console.print(f"... {len(o) - limit} more point(s) in outcomes.parquet")
