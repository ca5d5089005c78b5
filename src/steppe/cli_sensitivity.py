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
        workers: Annotated[int, typer.Option("--workers", "-w", min=0,
                                             help="Worker processes; 0 = one per core.")] = 1,
        scale: Annotated[float | None, typer.Option(
            "--scale", min=0.0, max=1.0, help="Agents per person for every setting "
                                              "(e.g. 0.002 for a quick look).")] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    ) -> None:
        """Run the scenario with each assumption at the low and the high end of its range
        (everything else unchanged) and write sensitivity.parquet; `steppe report` then adds
        the tornado plot and the table of which conclusions depend on which assumption."""
        from .experiments.sensitivity import sensitivity as run_sensitivity
        from .experiments.sensitivity import sensitivity_markdown
        from .scenario.loader import load_scenario

        over = {} if scale is None else {"population.scale": scale}
        loaded = load_scenario(scenario, over)
        out_dir = loaded.output_dir(out)
        varied = sum(a.path is not None for a in loaded.spec.assumptions)
        console.print(f"[bold]{loaded.spec.name}[/]: {varied} assumptions x 2 ends + the "
                      f"baseline, {runs} runs each")
        with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                      disable=quiet, transient=True) as bar:
            task = bar.add_task("baseline", total=1 + 2 * varied)

            def progress(done: int, total: int, label: str) -> None:
                bar.update(task, completed=done, description=label)

            frame = run_sensitivity(scenario, runs=runs, workers=workers, out=out_dir,
                                    overrides=over, progress=progress)
        unvaried = [(a.name, a.note) for a in loaded.spec.assumptions if a.path is None]
        console.print(sensitivity_markdown(frame, unvaried=unvaried, tables=False), highlight=False,
                      markup=False)
        console.print(f"wrote sensitivity.parquet to [bold]{out_dir}[/]; "
                      f"`steppe report {out_dir}` adds it to the report")
