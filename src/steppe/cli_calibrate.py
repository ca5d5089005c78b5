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
from rich.markup import escape
from rich.table import Table

from .errors import ParameterError
from .priors import describe as prior_text

__all__ = ["register"]


def _num(v: float) -> str:
    """Three significant digits, large numbers written out: 0.0512, 4,900."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _print(console: Console, res: Any) -> None:
    several = len(res.readings) > 1
    table = Table(title="posterior (weighted median and 90% credible interval"
                  + (", all readings by their probabilities)" if several else ")"),
                  title_justify="left", show_edge=False)
    for col in ("assumption (its field: calibration.json)", "prior", "median",
                "90% interval"):
        table.add_column(col, justify="left" if col.startswith("assumption") else "right")
    for p in res.priors:
        med, lo, hi = res.interval(p.key)
        prior = (f"{_num(p.low)} – {_num(p.high)}" if p.dist is None
                 else f"{prior_text(p.dist)} on {_num(p.low)} – {_num(p.high)}")
        table.add_row(escape(p.name), escape(prior), _num(med), f"{_num(lo)} – {_num(hi)}")
    console.print(table)
    if several:
        console.print("readings (posterior probability, equal prior odds): " + "; ".join(
            f"{r.name} {res.probability(r.name):.2f}" for r in res.readings),
            highlight=False)
    g = res.generations
    console.print(f"{len(g)} generations, {int(g['samples'].sum()):,} simulations; "
                  f"tolerance {g['epsilon'].iloc[0]:.3g} → {g['epsilon'].iloc[-1]:.3g} "
                  f"(distance in figure standard errors over "
                  f"{int((~res.targets['held_out']).sum())} figures); "
                  f"last acceptance {g['acceptance'].iloc[-1]:.1%}, ESS "
                  f"{g['ess'].iloc[-1]:.0f} of {res.settings['population']}",
                  highlight=False)


def _print_predictive(console: Console, pred: Any) -> None:
    f = pred.figures
    fitted = f[~f["held_out"]]
    console.print(f"{int(fitted['inside'].sum())} of {len(fitted)} fitted figures inside the "
                  "90% posterior predictive interval of their simulated poll", highlight=False)
    held = f[f["held_out"]]
    if len(held):
        console.print(f"held out (not fitted): {int(held['inside'].sum())} of {len(held)} "
                      "inside their interval", highlight=False)
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


def _print_variants(console: Console, eff: Any) -> None:
    end = eff[(eff["by"] == "all") & (eff["time"] == eff["time"].max())]
    table = Table(title="variants at the end: effect on the share (variant − baseline, "
                  "same posterior draws), median and 90% interval", title_justify="left",
                  show_edge=False)
    for col in ("variant", "measure", "share", "effect", "90% interval"):
        table.add_column(col, justify="left" if col in ("variant", "measure") else "right")
    for r in end.itertuples(index=False):
        table.add_row(escape(str(r.variant)), r.measure, f"{100 * r.median:.1f}%",
                      f"{100 * r.diff_median:+.1f} pp",
                      f"{100 * r.diff_low:+.1f} to {100 * r.diff_high:+.1f} pp")
    console.print(table)


def _print_voi(console: Console, v: Any) -> None:
    first = v.iloc[0]
    table = Table(title=f"value of information: {first['measure']} at {first['poll']} "
                  f"({first['date'] or ''}), now {100 * first['width_now']:.1f} pp wide",
                  title_justify="left", show_edge=False)
    for col in ("candidate poll", "expected width", "narrowing"):
        table.add_column(col, justify="left" if col == "candidate poll" else "right")
    for r in v.sort_values("narrowing", ascending=False).itertuples(index=False):
        table.add_row(escape(r.design), f"{100 * r.width_expected:.1f} pp",
                      f"{r.narrowing:.0%}")
    console.print(table)


def register(app: typer.Typer, console: Console, err_console: Console) -> None:
    """Add ``calibrate`` to the ``steppe`` app."""

    @app.command()
    def calibrate(
        scenario: Annotated[Path, typer.Argument(help="Scenario file (TOML) with "
                                                      "assumptions (ranges) and published "
                                                      "figures (report.targets).")],
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", help="Results folder (default: the scenario's); the calibration "
                                "goes to OUT/calibration.")] = None,
        scale: Annotated[float | None, typer.Option(
            "--scale", min=0.0, max=1.0, help="Agents per person (e.g. 0.0005).")] = None,
        population: Annotated[int, typer.Option(
            "--population", min=10, help="Particles per generation.")] = 200,
        generations: Annotated[int, typer.Option(
            "--generations", min=1, help="Generations at most (counting those done).")] = 12,
        discrepancy: Annotated[float, typer.Option(
            "--discrepancy", min=0.0, max=0.99,
            help="Model discrepancy (a share) added to each figure's standard error.")] = 0.02,
        min_epsilon: Annotated[float, typer.Option(
            "--min-epsilon", min=0.0, help="Stop once the tolerance is this small.")] = 0.0,
        max_minutes: Annotated[float | None, typer.Option(
            "--max-minutes", min=0.0, help="Start no generation that would not end within this "
                                           "long (then the predictive checks run; 0: no "
                                           "limit).")] = 40.0,
        workers: Annotated[int, typer.Option("--workers", "-w", min=0,
                                             help="Worker processes (default 0: one per "
                                                  "core; 1: this process).")] = 0,
        scheduler: Annotated[str | None, typer.Option(
            "--scheduler", help="A Dask scheduler address (instead of --workers).")] = None,
        resume: Annotated[bool, typer.Option(
            "--resume/--no-resume", help="Continue the calibration in OUT/calibration "
                                         "(default), or start again.")] = True,
        predictive: Annotated[int, typer.Option(
            "--predictive", min=0, help="Posterior draws to run for the predictive checks "
                                        "and the outcomes (0: none).")] = 100,
        screening: Annotated[int, typer.Option(
            "--screening", min=0, help="Morris trajectories of the screening that ranks the "
                                       "assumptions (0: none; the kernel perturbs all).")] = 6,
        kernel_dims: Annotated[int, typer.Option(
            "--kernel-dims", min=1, help="Assumptions the proposal kernel perturbs (the most "
                                         "influential); the others come from their prior."
                                         )] = 3,
        kernel_scale: Annotated[float, typer.Option(
            "--kernel-scale", min=0.0, help="Factor on the proposal kernel's covariance."
                                            )] = 1.0,
        reading: Annotated[str | None, typer.Option(
            "--reading", help="Fit this reading only (default: every reading of the "
                              "scenario, weighed against each other).")] = None,
        hold_out: Annotated[list[str] | None, typer.Option(
            "--hold-out", help="Leave figures out of the fit and check their prediction: "
                               "column=value (poll, question, by, level, answer); repeat "
                               "for more. Goes to OUT/calibration/loo/.")] = None,
        variant: Annotated[list[Path] | None, typer.Option(
            "--variant", help="A variant scenario to run over the posterior draws (its "
                              "effect as a difference with an interval); repeat for more."
                              )] = None,
        voi: Annotated[bool, typer.Option(
            "--voi", help="Value of information: how much a list experiment or a "
                          "language-stratified poll would narrow the private share's "
                          "interval (at the --predictive draws).")] = False,
        voi_poll: Annotated[str | None, typer.Option(
            "--voi-poll", help="The poll whose date and method the candidates take "
                               "(default: the one with a list experiment).")] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")
                         ] = False,
    ) -> None:
        """Fit the scenario's assumptions to its published figures (ABC-SMC).

        Uniform priors over the assumptions' ranges; every published figure of the
        report's targets compared with the simulated poll of the same design, in units of
        its standard error plus the model discrepancy; the scenario's readings weighed
        against each other. Writes posterior.parquet, generations.parquet, readings.parquet,
        calibration.json, predictive.parquet, outcomes.parquet (and pyabc's database, which
        resumes an interrupted run) to OUT/calibration."""
        import pandas as pd

        from .assembly import load_scenario
        from .experiments.calibrate import calibrate as run_calibration
        from .experiments.calibrate import posterior_predictive, variant_effects
        from .observe.writers import folder_lock, json_default, prepare_folder, write_group

        over = {} if scale is None else {"population.scale": scale}
        loaded = load_scenario(scenario, over)
        variants = {v.spec.name: v for v in (load_scenario(f, over) for f in variant or [])}
        if variants and predictive < 2:
            raise ParameterError("variants run at the posterior draws", field="--predictive",
                                 allowed=">= 2 with --variant", given=predictive)
        if voi and predictive < 10:
            raise ParameterError("the value of information needs posterior draws",
                                 field="--predictive", allowed=">= 10 with --voi",
                                 given=predictive)
        out_dir = prepare_folder(loaded.output_dir(out))
        top = out_dir / "calibration"
        held = list(hold_out or [])
        check = ("hold out " + " and ".join(held)) if held else ""
        folder = top / "loo" / _slug(held) if held else top

        def progress(t: int, eps: float, sims: int) -> None:
            if not quiet:
                console.print(f"generation {t}: tolerance {eps:.4g}, {sims:,} simulations",
                              highlight=False)

        with folder_lock(out_dir):
            res = run_calibration(loaded, out=out_dir, folder=folder, population=population,
                                  generations=generations, min_epsilon=min_epsilon,
                                  discrepancy=discrepancy, screening=screening,
                                  kernel_dims=kernel_dims, kernel_scale=kernel_scale,
                                  reading=reading, hold_out=held,
                                  workers=workers, scheduler=scheduler, resume=resume,
                                  max_seconds=None if not max_minutes
                                  else 60 * max_minutes, progress=progress)
            meta = {**res.settings, "priors": [
                {"name": p.name, "fields": list(p.paths), "low": p.low, "high": p.high,
                 "prior": None if p.dist is None else p.dist.model_dump()}
                for p in res.priors], "targets": res.targets.to_dict(orient="records")}
            files: list[tuple[Path, Any]] = []
            pred = eff = vtable = None
            if predictive > 0:
                if not quiet:
                    console.print(f"posterior predictive: {predictive} runs at draws from "
                                  "the posterior", highlight=False)
                pred = posterior_predictive(res, loaded, draws=predictive, workers=workers)
                files += [(folder / "predictive.parquet",
                           lambda p: pred.figures.to_parquet(p, index=False)),
                          (folder / "outcomes.parquet",
                           lambda p: pred.outcomes.to_parquet(p, index=False))]
                if held:
                    loo = pred.figures.assign(check=check)
                    old = top / "loo.parquet"
                    if old.exists():
                        prev = pd.read_parquet(old)
                        loo = pd.concat([prev[prev["check"] != check], loo],
                                        ignore_index=True)
                    files.append((old, lambda p: loo.to_parquet(p, index=False)))
            if variants and pred is not None:
                if not quiet:
                    console.print(f"variants over the same {predictive} draws: "
                                  + ", ".join(variants), highlight=False)
                eff = variant_effects(res, loaded, variants, draws=predictive,
                                      workers=workers, baseline=pred)
                files.append((folder / "variants.parquet",
                              lambda p: eff.to_parquet(p, index=False)))
            if voi:
                from .experiments.voi import value_of_information

                if not quiet:
                    console.print(f"value of information: candidate polls at {predictive} "
                                  "posterior draws", highlight=False)
                vtable = value_of_information(res, loaded, poll=voi_poll, draws=predictive,
                                              workers=workers)
                files.append((folder / "voi.parquet",
                              lambda p: vtable.to_parquet(p, index=False)))
            paths = write_group([
                *files,
                (folder / "posterior.parquet",
                 lambda p: res.posterior.to_parquet(p, index=False)),
                (folder / "generations.parquet",
                 lambda p: res.generations.to_parquet(p, index=False)),
                (folder / "readings.parquet",
                 lambda p: res.probabilities.to_parquet(p, index=False)),
                (folder / "calibration.json", lambda p: p.write_text(
                    json.dumps(meta, indent=2, default=json_default))),
            ])
        _print(console, res)
        if res.settings.get("stopped"):
            err_console.print(f"note: {res.settings['stopped']}", highlight=False)
        if pred is not None:
            _print_predictive(console, pred)
        if eff is not None:
            _print_variants(console, eff)
        if vtable is not None:
            _print_voi(console, vtable)
        console.print(f"wrote {', '.join(p.name for p in paths)} to [bold]{folder}[/]")


def _slug(filters: list[str]) -> str:
    """A folder name for a hold-out (``poll=Demoscope Nov 2022`` → ``poll-demoscope-nov-2022``).

    Examples
    --------
    >>> _slug(["by=age", "by=language"])
    'by-age+by-language'
    """
    import re

    return "+".join(re.sub(r"[^a-z0-9]+", "-", f.lower()).strip("-") for f in filters)
