"""The ``steppe`` command line: ``run``, ``report``, ``models``, ``validate``, ``sweep``,
``query``, ``sensitivity``, ``design``, ``calibrate``, ``explore``.

Bad input (a wrong scenario field, an impossible parameter, a missing file) prints one clear
message and exits with status 2, without a traceback and without writing anything.

Examples
--------
>>> from typer.testing import CliRunner
>>> result = CliRunner().invoke(app, ["models"])
>>> result.exit_code, "voter" in result.output
(0, True)
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated

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

from ._version import __version__
from .errors import SteppeError

__all__ = ["app", "main"]

app = typer.Typer(
    name="steppe",
    help="Simulate how a population's stance moves under pressure, one agent per person.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"steppe {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """steppe: opinion dynamics at the size of a country."""


#: the environment variable that sets ``--vectors`` for every report
VECTORS_ENV = "STEPPE_REPORT_VECTORS"
_VECTORS_HELP = ("Vector copies of each figure beside its PNG: svg,pdf (the default), svg, "
                 "pdf, or none (PNG only, quicker to write).")


@app.command()
def run(
    ctx: typer.Context,
    scenario: Annotated[Path, typer.Argument(help="Scenario file (TOML).")],
    out: Annotated[Path | None, typer.Option("--out", "-o",
                                             help="Output folder (default: the scenario's "
                                                  "output.dir, or results/<name>).")] = None,
    runs: Annotated[int | None, typer.Option("--runs", "-r", min=1,
                                             help="Number of runs (overrides the file).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", "-s", min=0,
                                             help="Seed (overrides the file).")] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", min=0,
                                         help="Worker processes; 0 = one per core.")] = 1,
    scale: Annotated[float | None, typer.Option("--scale", min=0.0, max=1.0,
                                                help="Agents per person for scenarios with a "
                                                     "\\[population] (1 = everyone).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    report: Annotated[bool, typer.Option("--report", help="Also write the report (plots "
                                                          "and summary.md) into OUT/report."
                                         )] = False,
    vectors: Annotated[str, typer.Option("--vectors", envvar=VECTORS_ENV,
                                         help=_VECTORS_HELP)] = "svg,pdf",
) -> None:
    """Run a scenario; write series.parquet, summary.parquet and metadata.json."""
    from .assembly import load_scenario, make_model
    from .errors import ParameterError
    from .experiments.ensemble import run as run_scenario

    if report:
        parse_vectors(vectors)  # a typo is refused before the runs, not after them
    elif getattr(ctx.get_parameter_source("vectors"), "name", "") == "COMMANDLINE":
        raise ParameterError("sets the report's figures: give --report too",
                             field="--vectors", allowed="with --report", given=vectors)
    over = {}
    if runs is not None:
        over["runs"] = runs
    if seed is not None:
        over["seed"] = seed
    if scale is not None:
        over["population.scale"] = scale
    loaded = load_scenario(scenario, over)
    spec = loaded.spec
    out_dir = loaded.output_dir(out)
    if out_dir.exists() and not out_dir.is_dir():
        raise SteppeError(f"--out: {out_dir} exists and is not a folder")
    model = make_model(loaded)
    console.print(f"[bold]{spec.name}[/]: {escape(model.title)}; network {spec.network.kind}; "
                  f"{spec.runs} run(s), seed {spec.seed}")

    max_sweeps = loaded.max_sweeps()
    per_run = float(max_sweeps) if max_sweeps is not None else 1.0
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                  MofNCompleteColumn() if max_sweeps is None else TextColumn(
                      "{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console,
                  disable=quiet, transient=True) as bar:
        task = bar.add_task("running", total=spec.runs * per_run)
        seen: dict[int, float] = {}

        def progress(r: int, t: float, finished: bool) -> None:
            if max_sweeps is None:
                if finished:
                    bar.advance(task, 1)
                return
            last = seen.get(r, 0.0)
            now = per_run if finished else min(t, per_run)
            bar.advance(task, now - last)
            seen[r] = now

        # the API checks the memory and the output folder first and refuses, with the
        # estimate or the reason, what will not work; it writes the results atomically
        result = run_scenario(loaded, workers=workers, progress=progress, out=out_dir)
    paths = [out_dir / f for f in result.metadata.get("files", [])]
    _print_summary(result)
    console.print(f"wrote {', '.join(p.name for p in paths)} to [bold]{out_dir}[/] "
                  f"in {result.metadata['wall_seconds']:.1f} s")
    if report:
        _write_report(out_dir, None, None, vectors)


def parse_vectors(text: str) -> tuple[str, ...]:
    """``--vectors``: ``"svg,pdf"`` → ``("svg", "pdf")``; ``"none"`` → ``()``.

    Examples
    --------
    >>> parse_vectors("pdf"), parse_vectors("none")
    (('pdf',), ())
    """
    from .errors import ParameterError

    parts = [p.strip().lower() for p in text.split(",") if p.strip()]
    if parts == ["none"]:
        return ()
    if not parts or any(p not in ("svg", "pdf") for p in parts):
        raise ParameterError("unknown vector format", field=f"--vectors (or {VECTORS_ENV})",
                             allowed="svg,pdf, svg, pdf or none", given=text)
    return tuple(dict.fromkeys(parts))


def _write_report(results: Path, out: Path | None, stance: str | None,
                  vectors: str = "svg,pdf") -> None:
    formats = parse_vectors(vectors)  # a typo is refused before anything is drawn
    from .report import make_report  # matplotlib is only imported when a report is made

    paths = make_report(results, out, stance=stance, vectors=formats)
    where = paths[0].parent if paths else results
    console.print(f"report: {', '.join(p.name for p in paths)} in [bold]{where}[/]")


@app.command()
def report(
    results: Annotated[Path, typer.Argument(help="A folder written by steppe run.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write the "
                                             "report (default: RESULTS/report).")] = None,
    stance: Annotated[str | None, typer.Option("--stance", help="The stance to focus on."
                                               )] = None,
    vectors: Annotated[str, typer.Option("--vectors", envvar=VECTORS_ENV,
                                         help=_VECTORS_HELP)] = "svg,pdf",
) -> None:
    """Plots (PNG, SVG and PDF), report.html and a Markdown summary from saved results;
    runs nothing."""
    _write_report(results, out, stance, vectors)


def _print_summary(result) -> None:
    s = result.summary
    shares = result.final_shares()
    from .models.base import get_model

    layered = result.scenario.spec.expression is not None or getattr(
        get_model(result.metadata["model"]["name"]), "own_expression", False)
    table = Table(title="final shares over runs" + (" (private / expressed)" if layered
                                                    else ""), title_justify="left")
    table.add_column("stance")
    table.add_column("private" if layered else "mean", justify="right")
    table.add_column("sd", justify="right")
    if layered:
        table.add_column("voiced", justify="right")
        table.add_column("hidden", justify="right")
    table.add_column("min", justify="right")
    table.add_column("max", justify="right")
    table.add_column("consensus runs", justify="right")
    for label, r in shares.iterrows():
        row = [escape(str(label)), f"{r['mean']:.4f}",
               "–" if math.isnan(r["sd"]) else f"{r['sd']:.4f}"]
        if layered:
            row += [f"{r['expressed']:.4f}", f"{r['hidden']:+.4f}"]
        row += [f"{r['min']:.4f}", f"{r['max']:.4f}",
                f"{int(r['consensus_runs'])} / {len(s)}"]
        table.add_row(*row)
    console.print(table)
    absorbed = int(s["absorbed"].sum())
    if absorbed:
        console.print(f"{absorbed} of {len(s)} runs ended in an absorbing state (nothing "
                      "could change any more)")
    reached = s["consensus"].sum()
    share = result.scenario.spec.stop.consensus_share
    if share < 1:
        console.print(f"(consensus here means one stance held by at least {share:.4g} of "
                      "the agents)")
    if reached:
        t = s.loc[s["consensus"], "consensus_time"]
        if len(t) > 1:
            se = t.std(ddof=1) / math.sqrt(len(t))
            when = f"mean consensus time {t.mean():.2f} ± {se:.2f} sweeps (mean ± se)"
        else:
            when = f"consensus time {t.mean():.2f} sweeps"
        console.print(f"consensus in {reached} of {len(s)} runs; {when}")
    else:
        console.print(f"no consensus in any of {len(s)} runs "
                      f"(ran {s['sweeps'].max():g} sweeps)")


@app.command()
def models(
    name: Annotated[str | None, typer.Argument(help="Show one model in detail.")] = None,
) -> None:
    """List the models with their parameters, allowed ranges and references."""
    from .models.base import available_models, describe_field, get_model

    chosen = {name: get_model(name)} if name else available_models()
    for key, cls in chosen.items():
        console.print(f"[bold cyan]{key}[/] — {cls.title}", highlight=False)
        if name is not None:
            console.print(cls.summary, highlight=False)
        console.print(f"  stances: {', '.join(cls.stances)}", highlight=False)
        if name is not None and cls.fractional_step:
            console.print("  fractional step: a sweep may stand for part of the period the "
                          "rates are written for (" + escape("[time]") + " rates_per)",
                          highlight=False)
        table = Table(show_header=False, box=None, padding=(0, 1), pad_edge=False)
        table.add_column(style="bold")
        table.add_column()
        table.add_column()
        for f, info in cls.Params.model_fields.items():
            row = [f"  {f}", f"= {info.default!r}", describe_field(info, f)]
            table.add_row(*row)
            if name is not None and info.description:
                table.add_row("", "", f"[dim]{' '.join(info.description.split())}[/]")
        console.print(table)
        refs = cls.references if name is not None else cls.references[:2]
        for ref in refs:
            console.print(f"  [dim]{ref}[/]", highlight=False)
        console.print()
    if name is None:
        console.print("[bold]Layers any model can carry[/] (scenario tables; see "
                      "docs/answers-and-polls.md and the README):")
        for table_name, what in _LAYERS:
            console.print(f"  [bold cyan]{escape(table_name)}[/] — {what}", highlight=False)
        console.print("\nsteppe models NAME shows one model in detail.")


#: the pressures and observation models a scenario can add to any model
_LAYERS = (
    ("[expression]", "the answer model: each agent voices the answer of highest utility "
     "(conviction, standing among neighbours, sanction or reward per stance, don't know), "
     "or a logit choice at a temperature"),
    ("[[media]]", "channels pulling their audience toward a stance"),
    ("[[news]]", "shocks that move private views on a date"),
    ("[[flows]]", "people crossing the border, with their own mix"),
    ("[protest]", "collective action with thresholds"),
    ("[[polls]], [questions]", "the poll model: sampling, non-response, raking, don't know, "
     "questions as observation models, list experiments; steppe design compares designs"),
)


@app.command()
def validate(
    quick: Annotated[bool, typer.Option("--quick", help="Only the fast subset "
                                                        "(under a minute).")] = False,
    model: Annotated[str | None, typer.Option("--model", "-m",
                                              help="Only the checks of this model.")] = None,
) -> None:
    """Reproduce published results and print a table; non-zero exit if any check fails."""
    from .validation import all_checks

    checks = all_checks(quick=quick)
    if model is not None:
        from .models.base import get_model

        get_model(model)
        checks = [c for c in checks if c.model == model]
    table = Table(title="steppe validate" + (" --quick" if quick else ""), show_lines=True)
    for col, just in (("#", "right"), ("model", "left"), ("check", "left"),
                      ("expected", "right"), ("measured ± se", "right"), ("result", "center"),
                      ("s", "right")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    failed = 0
    notes = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("validating", total=len(checks))
        for i, c in enumerate(checks, start=1):
            bar.update(task, description=c.name[:60])
            res = c.run()
            failed += not res.passed
            measured = f"{res.measured:.4g}" + (f" ± {res.se:.2g}" if res.se else "")
            verdict = "[green]pass[/]" if res.passed else "[red]FAIL[/]"
            # the checks' own text is not markup: "[min x̂*, max x̂*]" must print as written
            table.add_row(str(i), c.model, escape(c.name), escape(str(res.expected)),
                          measured, verdict, f"{c.seconds:.1f}")
            notes.append(f"[bold]{i}[/] " + escape(c.reference + (f". {res.detail}"
                                                                    if res.detail else "")))
            bar.advance(task)
    console.print(table)
    console.print("references and details:")
    for note in notes:
        console.print("  " + note, highlight=False)
    console.print(f"{len(checks) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


# steppe sweep and steppe query live in cli_sweep.py
from .cli_sweep import register as _register_sweep  # noqa: E402

_register_sweep(app, console, err_console)

# steppe sensitivity lives in cli_sensitivity.py
from .cli_sensitivity import register as _register_sensitivity  # noqa: E402

_register_sensitivity(app, console, err_console)

# steppe design lives in cli_design.py
from .cli_design import register as _register_design  # noqa: E402

_register_design(app, console, err_console)

# steppe calibrate lives in cli_calibrate.py
from .cli_calibrate import register as _register_calibrate  # noqa: E402

_register_calibrate(app, console, err_console)

# steppe explore lives in cli_explore.py
from .cli_explore import register as _register_explore  # noqa: E402

_register_explore(app, console, err_console)


def main() -> None:
    """Entry point: run the app, turning user errors into one message and exit status 2."""
    try:
        app()
    except SteppeError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False,
                          soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
