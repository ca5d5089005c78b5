"""``steppe calibrate``: a posterior over the scenario's assumptions from its published
figures (ABC-SMC with pyabc).

Examples
--------
>>> import typer
>>> from rich.console import Console
>>> app = typer.Typer()
>>> register(app, Console(), Console())
>>> [c.name or c.callback.__name__ for c in app.registered_commands]
['calibrate']
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["register"]


def _print(console: Console, res: Any) -> None:
    table = Table(title="posterior (weighted median and 90% credible interval)",
                  title_justify="left", show_edge=False)
    for col in ("assumption (its field: calibration.json)", "prior range", "median",
                "90% interval"):
        table.add_column(col, justify="left" if col.startswith("assumption") else "right")
    for p in res.priors:
        med, lo, hi = res.interval(p.key)
        table.add_row(p.name, f"{p.low:.3g} – {p.high:.3g}", f"{med:.3g}",
                      f"{lo:.3g} – {hi:.3g}")
    console.print(table)
    g = res.generations
    console.print(f"{len(g)} generations, {int(g['samples'].sum()):,} simulations; "
                  f"tolerance {g['epsilon'].iloc[0]:.3g} → {g['epsilon'].iloc[-1]:.3g} "
                  f"(distance in figure standard errors over {len(res.targets)} figures); "
                  f"last acceptance {g['acceptance'].iloc[-1]:.1%}, ESS "
                  f"{g['ess'].iloc[-1]:.0f}", highlight=False)


def _print_predictive(console: Console, pred: Any) -> None:
    f = pred.figures
    console.print(f"{int(f['inside'].sum())} of {len(f)} published figures inside the 90% "
                  "posterior predictive interval of their simulated poll", highlight=False)
    o = pred.outcomes
    end = o[(o["by"] == "all") & (o["time"] == o["time"].max())]
    when = str(end["date"].iloc[0])[:10] if end["date"].notna().all() else \
        f"sweep {end['time'].iloc[0]:g}"
    table = Table(title=f"{o['stance'].iloc[0]!r} at the end ({when}), "
                  "posterior median and 90% interval", title_justify="left",
                  show_edge=False)
    for col in ("measure", "median", "90% interval"):
        table.add_column(col, justify="left" if col == "measure" else "right")
    for r in end.itertuples(index=False):
        table.add_row(r.measure, f"{100 * r.median:.1f}%",
                      f"{100 * r.low:.1f}% – {100 * r.high:.1f}%")
    console.print(table)


def register(app: typer.Typer, console: Console, err_console: Console) -> None:
    """Add ``calibrate`` to the ``steppe`` app."""

    @app.command()
    def calibrate(
        scenario: Annotated[Path, typer.Argument(help="Scenario file (TOML) with "
                                                      "[[assumptions]] and [report] targets.")],
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", help="Results folder (default: the scenario's); the calibration "
                                "goes to OUT/calibration.")] = None,
        scale: Annotated[float | None, typer.Option(
            "--scale", min=0.0, max=1.0, help="Agents per person (e.g. 0.0005).")] = None,
        population: Annotated[int, typer.Option(
            "--population", min=10, help="Particles per generation.")] = 200,
        generations: Annotated[int, typer.Option(
            "--generations", min=1, help="Generations at most (counting those done).")] = 8,
        discrepancy: Annotated[float, typer.Option(
            "--discrepancy", min=0.0, max=0.99,
            help="Model discrepancy (a share) added to each figure's standard error.")] = 0.02,
        min_epsilon: Annotated[float, typer.Option(
            "--min-epsilon", min=0.0, help="Stop once the tolerance is this small.")] = 0.0,
        max_minutes: Annotated[float | None, typer.Option(
            "--max-minutes", min=0.0, help="Start no generation after this long.")] = None,
        workers: Annotated[int, typer.Option("--workers", "-w", min=0,
                                             help="Worker processes; 0 = one per core."
                                             )] = 1,
        scheduler: Annotated[str | None, typer.Option(
            "--scheduler", help="A Dask scheduler address (instead of --workers).")] = None,
        resume: Annotated[bool, typer.Option(
            "--resume/--no-resume", help="Continue the calibration in OUT/calibration "
                                         "(default), or start again.")] = True,
        predictive: Annotated[int, typer.Option(
            "--predictive", min=0, help="Posterior draws to run for the predictive checks "
                                        "and the outcomes (0: none).")] = 100,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")
                         ] = False,
    ) -> None:
        """Fit the scenario's assumptions to its published figures (ABC-SMC).

        Uniform priors over the [[assumptions]] ranges; every figure of [report] targets
        compared with the simulated poll of the same design, in units of its standard
        error plus the model discrepancy. Writes posterior.parquet, generations.parquet
        and calibration.json (and pyabc's database, which resumes an interrupted run)."""
        from .assembly import load_scenario
        from .experiments.calibrate import calibrate as run_calibration
        from .experiments.calibrate import posterior_predictive
        from .observe.writers import folder_lock, json_default, prepare_folder, write_group

        over = {} if scale is None else {"population.scale": scale}
        loaded = load_scenario(scenario, over)
        out_dir = prepare_folder(loaded.output_dir(out))
        folder = out_dir / "calibration"

        def progress(t: int, eps: float, sims: int) -> None:
            if not quiet:
                console.print(f"generation {t}: tolerance {eps:.4g}, {sims:,} simulations",
                              highlight=False)

        with folder_lock(out_dir):
            res = run_calibration(loaded, out=out_dir, population=population,
                                  generations=generations, min_epsilon=min_epsilon,
                                  discrepancy=discrepancy, workers=workers,
                                  scheduler=scheduler, resume=resume,
                                  max_seconds=None if max_minutes is None
                                  else 60 * max_minutes, progress=progress)
            meta = {**res.settings, "priors": [
                {"name": p.name, "fields": list(p.paths), "low": p.low, "high": p.high}
                for p in res.priors], "targets": res.targets.to_dict(orient="records")}
            files = []
            pred = None
            if predictive > 0:
                if not quiet:
                    console.print(f"posterior predictive: {predictive} runs at draws from "
                                  "the posterior", highlight=False)
                pred = posterior_predictive(res, loaded, draws=predictive, workers=workers)
                files = [(folder / "predictive.parquet",
                          lambda p: pred.figures.to_parquet(p, index=False)),
                         (folder / "outcomes.parquet",
                          lambda p: pred.outcomes.to_parquet(p, index=False))]
            paths = write_group([
                *files,
                (folder / "posterior.parquet",
                 lambda p: res.posterior.to_parquet(p, index=False)),
                (folder / "generations.parquet",
                 lambda p: res.generations.to_parquet(p, index=False)),
                (folder / "calibration.json", lambda p: p.write_text(
                    json.dumps(meta, indent=2, default=json_default))),
            ])
        _print(console, res)
        if res.settings.get("stopped"):
            err_console.print(f"note: {res.settings['stopped']}", highlight=False)
        if pred is not None:
            _print_predictive(console, pred)
        console.print(f"wrote {', '.join(p.name for p in paths)} to [bold]{folder}[/]")
