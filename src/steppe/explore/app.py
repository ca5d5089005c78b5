"""The explorer's page and server: one Panel app over one root folder.

:class:`Explorer` builds a page per browser session: a selector of everything under the
root (:func:`steppe.explore.paths.find_sources`) in the sidebar, the chosen source's view
in the main area. The source comes from the selector or from the ``?path=`` URL parameter
(relative to the root); both go through :func:`steppe.explore.paths.inside`, so a path
outside the root is refused with a message and nothing is read.

:func:`serve` starts the server: on ``127.0.0.1`` unless told otherwise, websocket
connections accepted only from the page's own origin, every script and style served by the
server itself (Bokeh's and Panel's bundled resources; no CDN, no web font), so it works
with no internet.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import sys
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

import panel as pn

from ..errors import ParameterError, SteppeError
from .live import LiveScenario, check_runs
from .paths import Source, classify, find_sources, inside, open_path
from .views import calibration_view, live_view, results_view, sweep_view

__all__ = ["Explorer", "browser_available", "free_port", "serve"]

log = logging.getLogger(__name__)

#: what the page's title says
TITLE = "steppe explore"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class Explorer:
    """The explorer over one root folder (see the module docstring).

    Parameters
    ----------
    path
        What ``steppe explore`` was given: a results, sweep or calibration folder, a
        scenario file, or a folder holding any of them.
    scale
        Agents per person for live scenarios with a population (default 1:2000).
    runs
        Runs per setting of a live scenario.

    Raises
    ------
    SteppeError
        ``path`` is missing or holds nothing the explorer can show.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.toml").write_text("name = 'a'\\nmodel = { name = 'voter' }")
    >>> ex = Explorer(d)
    >>> ex.root == d.resolve(), [s.rel for s in ex.sources()]
    (True, ['a.toml'])
    """

    def __init__(self, path: str | Path, *, scale: float | None = None, runs: int = 3
                 ) -> None:
        self.root, self.initial = open_path(path)
        if scale is not None and not (0.0 < float(scale) <= 1.0):
            raise ParameterError("agents per person", field="--scale",
                                 allowed="a number in (0, 1]", given=scale)
        self.scale = scale
        self.runs = check_runs(runs)
        self._live: dict[Path, LiveScenario] = {}
        self._lock = threading.Lock()

    # -- sources --------------------------------------------------------------------------
    def sources(self) -> list[Source]:
        """Everything under the root the explorer can show (the opened path first)."""
        found = find_sources(self.root)
        if self.initial is not None and all(s.path != self.initial.path for s in found):
            found.insert(0, self.initial)
        return found

    def resolve(self, rel: str) -> Source:
        """The source at ``rel`` (relative to the root), refused outside the root.

        Raises
        ------
        SteppeError
            Outside the root, or nothing the explorer can show.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "a.toml").write_text("name = 'a'\\nmodel = { name = 'voter' }")
        >>> Explorer(d).resolve("../../etc/passwd")
        Traceback (most recent call last):
        ...
        steppe.errors.SteppeError: ../../etc/passwd: outside the folder the explorer was opened on
        """
        p = inside(self.root, rel)
        kind = classify(p)
        if kind == "calibration" and (p / "calibration").is_dir():
            p = p / "calibration"
        if kind is None:
            raise SteppeError(f"{rel}: not a results, sweep or calibration folder, nor a "
                              "scenario file")
        r = p.relative_to(self.root).as_posix() or "."
        return Source(kind, p, r)

    def live(self, path: Path) -> LiveScenario:
        """The live scenario at ``path``, read once and kept (with its warm caches)."""
        with self._lock:
            if path not in self._live:
                self._live[path] = LiveScenario(path, scale=self.scale)
            return self._live[path]

    def warm(self) -> None:
        """When the opened path is a scenario: read it and run it once in a background
        thread, so that the first page answers quickly (compiled kernels, cached network).
        Errors are left for the page to show."""
        src = self.initial
        if src is None or src.kind != "scenario":
            return

        def go() -> None:
            try:
                self.live(src.path).warm()
            except Exception as exc:  # shown again, with its message, on the page
                log.info("warm-up of %s failed: %s", src.path, exc)

        threading.Thread(target=go, name="steppe-explore-warm", daemon=True).start()

    # -- the page -------------------------------------------------------------------------
    def view(self, source: Source, doc: Any = None,
             cleanup: list[Callable[[], None]] | None = None) -> tuple[Any, list[Any]]:
        """The main view and the sidebar's extra widgets of one source (``cleanup``: see
        :func:`steppe.explore.views.live_view`)."""
        if source.kind == "results":
            return results_view(source.path), []
        if source.kind == "sweep":
            return sweep_view(source.path), []
        if source.kind == "calibration":
            return calibration_view(source.path), []
        return live_view(self.live(source.path), runs=self.runs, doc=doc, cleanup=cleanup)

    def page(self) -> Any:
        """A new page for one browser session."""
        # every view's scripts are loaded with the page (Tabulator included), so that a view
        # chosen later in the session renders
        pn.extension("tabulator")
        doc = pn.state.curdoc
        sources = self.sources()
        options = {"(choose)": "", **{s.label: s.rel for s in sources}}
        args = pn.state.session_args or {}
        asked = args.get("path")
        main = pn.Column(sizing_mode="stretch_width")
        extra = pn.Column(sizing_mode="stretch_width")
        selector = pn.widgets.Select(name=f"open (under {self.root.name or self.root})",
                                     options=options, value="", sizing_mode="stretch_width")

        cleanup: list[Callable[[], None]] = []

        def show(rel: str) -> None:
            while cleanup:  # the previous view's runs stop
                cleanup.pop()()
            try:
                src = self.resolve(rel)
                body, side = self.view(src, doc, cleanup)
            except SteppeError as exc:
                main.objects = [pn.pane.Alert(f"**cannot open this**: {exc}",
                                              alert_type="danger",
                                              sizing_mode="stretch_width",
                                              css_classes=["steppe-refused"])]
                extra.objects = []
                return
            except Exception as exc:  # a bug: say what, keep the page
                log.exception("cannot show %s", rel)
                main.objects = [pn.pane.Alert(f"**cannot show {rel}**: "
                                              f"{type(exc).__name__}: {exc}",
                                              alert_type="danger",
                                              sizing_mode="stretch_width")]
                extra.objects = []
                return
            main.objects = [body]
            extra.objects = side

        first: str | None = None
        if asked:
            raw = asked[0]
            first = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        elif self.initial is not None:
            first = self.initial.rel
        elif sources:
            first = sources[0].rel
        if first is not None and first in options.values():
            selector.value = first

        def on_select(event: Any) -> None:
            if not event.new:
                return
            show(event.new)

        selector.param.watch(on_select, "value")
        if first is not None:
            show(first)
        elif not sources:
            main.objects = [pn.pane.Alert("nothing to show under this folder",
                                          alert_type="warning")]
        about = pn.pane.Markdown(
            f"Root: `{self.root}`  \nOnly paths inside it are opened.",
            styles={"font-size": "0.85em", "color": "#555"})
        return pn.template.BootstrapTemplate(
            title=TITLE, sidebar=[selector, extra, about], main=[main],
            sidebar_width=420, header_background="#0072B2")


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on ``host`` now (the system's choice).

    Examples
    --------
    >>> 0 < free_port() < 65536
    True
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise SteppeError(f"--port {port}: already in use on {host}; choose another "
                                  "port, or --port 0 for a free one") from None
            if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                raise SteppeError(f"--host {host}: not an address of this machine") from None
            if exc.errno == errno.EACCES:
                raise SteppeError(f"--port {port}: not allowed (ports below 1024 need "
                                  "administrator rights); choose another, or --port 0"
                                  ) from None
            raise SteppeError(f"--host {host} --port {port}: cannot listen ({exc})") from None


def browser_available() -> bool:
    """Whether opening a web browser here is likely to work: a desktop session (macOS,
    Windows, or a ``DISPLAY`` / ``WAYLAND_DISPLAY``), not a CI job.

    Examples
    --------
    >>> isinstance(browser_available(), bool)
    True
    """
    if os.environ.get("CI", "").lower() == "true":
        return False
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def serve(explorer: Explorer, *, host: str = "127.0.0.1", port: int = 5006,
          open_browser: bool | None = None,
          announce: Callable[[str], None] = print,
          started: Callable[[Any], None] | None = None) -> None:
    """Serve the explorer until interrupted (Ctrl+C).

    Parameters
    ----------
    explorer
        The explorer.
    host
        The address to listen on (default: this machine only).
    port
        The port; 0 picks a free one.
    open_browser
        Open the page in a web browser (``None``: when :func:`browser_available`).
    announce
        Called with the line that gives the page's address.
    started
        Called with the Bokeh server once it listens (tests stop it with
        ``server.io_loop.add_callback(server.io_loop.stop)``).

    Raises
    ------
    SteppeError
        The port is in use, the host is not an address of this machine.
    """
    if not 0 <= port <= 65535:
        raise SteppeError(f"--port {port}: not a port (allowed: 0 to 65535)")
    if port == 0:
        try:
            port = free_port(host)
        except OSError:
            raise SteppeError(f"--host {host}: not an address of this machine") from None
    else:
        _check_port(host, port)
    shown = f"[{host}]" if ":" in host else host
    origins = [f"{shown}:{port}"]
    if host in _LOOPBACK:
        origins += [f"localhost:{port}", f"127.0.0.1:{port}"]
    elif host in ("0.0.0.0", "::"):
        origins = [f"*:{port}"]
    pn.config.inline = False  # scripts from this server's /static/, never a CDN
    try:
        server = pn.serve({"/": explorer.page}, address=host, port=port, show=False,
                          start=False, title=TITLE, verbose=False,
                          websocket_origin=sorted(set(origins)))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise SteppeError(f"--port {port}: already in use on {host}; choose another "
                              "port, or --port 0 for a free one") from None
        raise SteppeError(f"--host {host} --port {port}: cannot listen ({exc})") from None
    url = f"http://{'localhost' if host in ('0.0.0.0', '::') else shown}:{port}/"
    announce(url)
    explorer.warm()
    if started is not None:
        started(server)
    if open_browser is None:
        open_browser = browser_available()
    if open_browser:
        server.io_loop.add_callback(lambda: webbrowser.open(url))
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
