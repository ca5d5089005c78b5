"""The ``steppe explore`` command (registered on the app in ``cli.py``).

Examples
--------
>>> from typer.testing import CliRunner
>>> from steppe.cli import app
>>> result = CliRunner().invoke(app, ["explore", "--help"])
>>> result.exit_code, "--no-browser" in result.output
(0, True)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from .errors import SteppeError

__all__ = ["register"]


def register(app: typer.Typer, console: Console, err_console: Console) -> None:
    """Add ``explore`` to the ``steppe`` app."""

    @app.command()
    def explore(
        path: Annotated[Path, typer.Argument(
            help="A results folder (steppe run), a sweep folder, a calibration, a scenario "
                 "file (.toml), or a folder holding any of them.")],
        host: Annotated[str, typer.Option(
            "--host", help="Address to listen on (default: this machine only; 0.0.0.0 "
                           "makes it reachable from the network).")] = "127.0.0.1",
        port: Annotated[int, typer.Option(
            "--port", "-p", help="Port; 0 picks a free one.")] = 5006,
        browser: Annotated[bool | None, typer.Option(
            "--browser/--no-browser", help="Open the page in a web browser (default: when "
                                           "there is a desktop, not on a headless "
                                           "machine or in CI).", show_default=False)] = None,
        scale: Annotated[float | None, typer.Option(
            "--scale", help="Agents per person when re-running a scenario with a "
                            "population table (default 0.0005, i.e. 1:2000).")] = None,
        runs: Annotated[int, typer.Option(
            "--runs", "-r", help="Runs per setting when re-running a scenario (each is "
                                 "shown as soon as it ends).")] = 3,
    ) -> None:
        """A local web app over results, sweeps, calibrations and scenarios.

        Bands and observed polls; a scenario's assumptions as sliders, re-run live.
        Listens on 127.0.0.1, opens nothing outside PATH's folder; Ctrl+C stops it."""
        if not 0 <= port <= 65535:
            raise SteppeError(f"--port {port}: not a port (allowed: 0 to 65535)")
        if scale is not None and not 0.0 < scale <= 1.0:
            raise SteppeError(f"--scale {scale}: agents per person must be in (0, 1]")
        if not 1 <= runs <= 50:
            raise SteppeError(f"--runs {runs}: runs per setting must be 1 to 50")
        from .explore.paths import open_path

        open_path(path)  # a missing or unusable path is refused before Panel is imported
        try:
            from .explore.app import Explorer, serve
        except ImportError as exc:
            raise SteppeError(f"steppe explore needs Panel ({exc.name} is not installed): "
                              "pip install 'steppe[explore]'") from None
        explorer = Explorer(path, scale=scale, runs=runs)

        def announce(url: str) -> None:
            console.print(f"steppe explore: [bold]{escape(str(explorer.root))}[/] at "
                          f"[bold]{url}[/] (Ctrl+C stops it)", highlight=False,
                          soft_wrap=True)
            if host not in ("127.0.0.1", "localhost", "::1"):
                err_console.print(f"note: listening on {host}: other machines on the network "
                                  "can open it", highlight=False)

        serve(explorer, host=host, port=port, open_browser=browser, announce=announce)
