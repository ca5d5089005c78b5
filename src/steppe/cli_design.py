"""``steppe design``: which poll (size, direct question or list experiment, placebo) would
tell two readings apart, and with what power.

Examples
--------
>>> import typer
>>> from rich.console import Console
>>> app = typer.Typer()
>>> register(app, Console(), Console())
>>> [c.name or c.callback.__name__ for c in app.registered_commands]
['design']
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .errors import ParameterError

__all__ = ["register"]


def _overrides(items: list[str] | None, option: str) -> dict[str, Any]:
    from .experiments.grid import parse_set

    out: dict[str, Any] = {}
    for text in items or []:
        try:
            path, values = parse_set(text)
        except ParameterError as exc:
            raise ParameterError(exc.message, field=option, allowed=exc.allowed,
                                 given=exc.given) from None
        if len(values) != 1:
            raise ParameterError("one value per field (a design compares two settings, "
                                 "it does not sweep)", field=f"{option} {path}",
                                 given=text)
        out[path] = values[0]
    return out


def _ints(text: str | None, option: str) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ParameterError("a comma-separated list of whole numbers", field=option,
                             allowed="e.g. 500,1000,2000", given=text) from None


def _analyse(a: Path, b: Path | None, both: dict[str, Any], only_b: dict[str, Any],
             poll: str | None, answer: str | None, sizes: list[int] | None,
             items: list[int], placebo: tuple[bool, ...], direct: bool, runs: int, reps: int,
             alpha: float, power: float, workers: int, quiet: bool, console: Console) -> Any:
    from .experiments.design import design_analysis

    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  disable=quiet, transient=True) as bar:
        task = bar.add_task("runs of A and B", total=2 * runs)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return design_analysis(a, b, overrides=both, overrides_b=only_b, poll=poll,
                               answer=answer, sizes=sizes, items=items, placebo=placebo,
                               direct=direct, runs=runs, reps=reps, alpha=alpha,
                               power=power, workers=workers, progress=progress)


def _print(console: Console, res: Any, text: str) -> None:
    """The analysis on the terminal: the text, the candidates as a table, the conclusion."""
    from rich.table import Table

    intro, _, last = text.rpartition("\n\n")
    console.print(intro.replace("## ", "").replace("**", ""), highlight=False,
                  markup=False)
    table = Table(title_justify="left", show_edge=False)
    for col in ("design", "A: mean (90% range)", "B: mean (90% range)", "bias A",
                "bias B", "power"):
        table.add_column(col, justify="left" if col == "design" else "right")

    def pct(x: float) -> str:
        return f"{100 * x:.1f}%"

    for _, r in res.table.iterrows():
        table.add_row(r["design"], f"{pct(r['mean_a'])} ({pct(r['a_low'])}–{pct(r['a_high'])})",
                      f"{pct(r['mean_b'])} ({pct(r['b_low'])}–{pct(r['b_high'])})",
                      f"{100 * r['bias_a']:+.1f} pp", f"{100 * r['bias_b']:+.1f} pp",
                      f"{100 * r['power']:.0f}% ± {100 * r['power_se']:.0f}%",
                      style="bold" if r["enough"] else None)
    console.print(table)
    console.print(last.replace("**", ""), highlight=False, markup=False)


def register(app: typer.Typer, console: Console, err_console: Console) -> None:
    """Add ``design`` to the ``steppe`` app."""

    @app.command()
    def design(
        a: Annotated[Path, typer.Argument(help="Scenario file of reading A (TOML).")],
        b: Annotated[Path | None, typer.Argument(
            help="Scenario file of reading B (default: A with the --set-b changes).")] = None,
        poll: Annotated[str | None, typer.Option(
            "--poll", "-p", help="The poll of A whose date and design the candidates keep "
                                 "(its name; optional when A has one poll).")] = None,
        answer: Annotated[str | None, typer.Option(
            "--answer", help="The stance whose estimated share is compared (default: the "
                             "poll's list-experiment stance).")] = None,
        set_both: Annotated[list[str] | None, typer.Option(
            "--set", help="PATH=VALUE for both readings (repeatable).")] = None,
        set_b: Annotated[list[str] | None, typer.Option(
            "--set-b", help="PATH=VALUE for reading B only (repeatable).")] = None,
        sizes: Annotated[str | None, typer.Option(
            "--sizes", help="Candidate sample sizes, comma-separated (default: the poll's "
                            "n times 1/2, 1, 2, 4).")] = None,
        items: Annotated[str, typer.Option(
            "--items", help="Candidate list-experiment lengths J, comma-separated; empty "
                            "for none.")] = "3,4,5",
        placebo: Annotated[str, typer.Option(
            "--placebo", help="List designs without a placebo item, with one, or both.",
            case_sensitive=False)] = "both",
        no_direct: Annotated[bool, typer.Option(
            "--no-direct", help="Leave out the direct question.")] = False,
        runs: Annotated[int, typer.Option("--runs", "-r", min=2, help="Runs of each "
                                                                     "reading.")] = 10,
        reps: Annotated[int, typer.Option("--reps", min=1, help="Polls of each candidate "
                                                               "per run.")] = 50,
        alpha: Annotated[float, typer.Option(
            "--alpha", min=0.0, max=1.0, help="A poll contradicts a reading outside its "
                                              "central 1 - alpha range.")] = 0.1,
        power: Annotated[float, typer.Option(
            "--power", min=0.0, max=1.0, help="Power a design must reach.")] = 0.8,
        scale: Annotated[float | None, typer.Option(
            "--scale", min=0.0, max=1.0, help="Agents per person for both readings.")] = None,
        workers: Annotated[int, typer.Option("--workers", "-w", min=0,
                                             help="Worker processes; 0 = one per core."
                                             )] = 1,
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", help="Folder to write design.csv, design.md, design.png, "
                                "design.json and design_estimates.parquet into.")] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    ) -> None:
        """Which poll (size, direct question or list experiment) tells two readings apart.

        Runs both readings up to the date of a poll, polls each run's state with every
        candidate design many times, and reports how often each design would contradict
        the reading that is false, and the smallest design that reaches --power."""
        from .observe.writers import (
            folder_lock,
            json_default,
            prepare_folder,
            remove_empty,
            write_group,
        )
        from .report.design import design_markdown, plot_design

        both = _overrides(set_both, "--set")
        if scale is not None:
            both["population.scale"] = scale
        only_b = _overrides(set_b, "--set-b")
        if b is None and not only_b:
            raise ParameterError("give reading B as a second file or as --set-b changes "
                                 "of A", field="B")
        forms = {"no": (False,), "yes": (True,), "both": (False, True)}
        if placebo.lower() not in forms:
            raise ParameterError("unknown choice", field="--placebo",
                                 allowed="no, yes, both", given=placebo)
        size_list, item_list = _ints(sizes, "--sizes"), _ints(items, "--items") or []
        created: list[Path] = []
        if out is not None:
            prepare_folder(out, created=created)
        try:
            res = _analyse(a, b, both, only_b, poll, answer, size_list, item_list,
                           forms[placebo.lower()], not no_direct, runs, reps, alpha, power,
                           workers, quiet, console)
        except BaseException:
            remove_empty(created)  # a refused analysis leaves no folder behind
            raise
        text = design_markdown(res.table, res.settings)
        _print(console, res, design_markdown(res.table, res.settings, rows=False))
        if out is not None:
            import json

            def md(p: Path) -> None:
                p.write_text(text + "\n\n![power against sample size](design.png)\n")

            with folder_lock(out):
                paths = write_group([
                    (out / "design.csv", lambda p: res.table.to_csv(p, index=False)),
                    (out / "design_estimates.parquet",
                     lambda p: res.estimates.to_parquet(p, index=False)),
                    (out / "design.json", lambda p: p.write_text(json.dumps(
                        res.settings, indent=2, default=json_default))),
                    (out / "design.md", md),
                    (out / "design.png", lambda p: plot_design(res.table, res.settings, p)),
                ])
            console.print(f"wrote {', '.join(p.name for p in paths)} to [bold]{out}[/]")
