"""``steppe sensitivity``: which conclusions depend on which assumption.

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
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["register"]


def register(app: typer.Typer, console: Console, err_console: Console) -> None:
    """Add ``sensitivity`` to the ``steppe`` app."""

    @app.command()
    def sensitivity(
        scenario: Annotated[Path, typer.Argument(help="Scenario file (TOML) with an "
                                                      "[[assumptions]] table.")],
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", help="Results folder to write sensitivity.parquet into (default: "
                                "the scenario's, as for steppe run).")] = None,
        runs: Annotated[int, typer.Option("--runs", "-r", min=1,
                                          help="Runs per setting.")] = 4,
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
            "--resume/--no-resume", help="Keep the runs already done in OUT/sensitivity "
                                         "(default), or start again.")] = True,
    ) -> None:
        """Which conclusions depend on which assumption.

        Runs the scenario with each assumption at the low and the high end of its range
        (everything else unchanged) and writes sensitivity.parquet; `steppe report` then
        adds the tornado plot and the table of which conclusions depend on which
        assumption."""
        from .assembly import load_scenario
        from .experiments.sensitivity import sensitivity as run_sensitivity
        from .experiments.sensitivity import settings
        from .report.sensitivity import sensitivity_markdown

        over = {} if scale is None else {"population.scale": scale}
        loaded = load_scenario(scenario, over)
        out_dir = loaded.output_dir(out)
        n = len(settings(loaded))
        console.print(f"[bold]{loaded.spec.name}[/]: {(n - 1) // 2} assumptions x 2 ends + "
                      f"the baseline, {runs} runs each, as one sweep in "
                      f"{out_dir / 'sensitivity'}", highlight=False)
        with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                      disable=quiet, transient=True) as bar:
            task = bar.add_task("running", total=n * runs)

            def progress(done: int, total: int, label: str) -> None:
                bar.update(task, completed=done, total=total, description=label)

            frame = run_sensitivity(loaded, runs=runs, workers=workers, out=out_dir,
                                    progress=progress, scheduler=scheduler, cluster=cluster,
                                    resume=resume)
        unvaried = [(a.name, a.note) for a in loaded.spec.assumptions if a.path is None]
        console.print(sensitivity_markdown(frame, unvaried=unvaried, tables=False),
                      highlight=False, markup=False)
        console.print(f"wrote sensitivity.parquet to [bold]{out_dir}[/]; "
                      f"`steppe report {out_dir}` adds it to the report")
