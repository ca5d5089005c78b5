"""Fixtures of the explorer's tests: a folder with one of everything the explorer shows, the
explorer serving it (a subprocess, as a user starts it), and a headless Chromium.

Chromium is the system's (Playwright's own browser download is not used): ``$STEPPE_CHROMIUM``
if set, else ``chromium``, ``chromium-browser``, ``google-chrome`` or
``google-chrome-stable`` on the PATH, else ``/usr/bin/chromium``, else the browser
Playwright installed (``playwright install chromium``). When none is found (or Playwright is
not installed) the browser tests are skipped with a reason that says how to get one, except
under CI (``CI=true``), where they fail: CI must run them.

Screenshots are written to the test's ``tmp_path`` and, when ``$STEPPE_ARTIFACTS`` is set,
copied into ``$STEPPE_ARTIFACTS/explore/`` (see :func:`keep_screenshot`).
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

#: Chromium's flags: headless in a container, nothing fetched behind the page's back
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

TINY = """
# a tiny scenario for the explorer's tests: a crackdown on A, weekly over one year
name = "tiny-crackdown"
description = "q-voter under a crackdown on voicing A, weekly, one year"
seed = 7
runs = 3

[network]
kind = "erdos_renyi"
n = 1500
mean_degree = 10

[model]
name = "qvoter"
q = 4
p = 0.02
nonconformity = "independence"

[initial]
shares = { A = 0.3, B = "rest" }

[expression]
penalised = ["A"]
safe = "B"
enforcement = 0.8
support_weight = 1.0
conviction = { dist = "beta", a = 2, b = 3 }
visibility = { dist = "uniform", low = 0.5, high = 1.0 }
start = "hidden"

[time]
start = 2022-01-03
end = 2022-12-26
step = "week"

[stop]
at_consensus = false

[report]
stance = "A"
observed_polls = "polls.csv"

[[assumptions]]
name = "cost of voicing A"
path = "expression.enforcement"
low = 0.0
high = 2.0

[[assumptions]]
name = "initial share of A"
path = "initial.shares.A"
low = 0.1
high = 0.6
prior = { dist = "beta", a = 2, b = 2 }

[[assumptions]]
name = "how the crowd was sampled"
note = "not one number"
"""

POLLS = """pollster,date,n,A
Pollco,2022-03-15,800,0.12
Pollco,2022-09-15,800,0.18
"""


# -- Chromium -----------------------------------------------------------------------------
def find_chromium() -> str | None:
    """The Chromium (or Chrome) executable the browser tests use, or None."""
    env = os.environ.get("STEPPE_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            path = p.chromium.executable_path
        return path if path and Path(path).is_file() else None
    except Exception:  # Playwright missing, or its browser not installed
        return None


def _no_browser(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}: the browser tests must run in CI (.ci/run "
                    "installs the system's Chromium)", pytrace=False)
    pytest.skip(f"BROWSER TESTS SKIPPED: {reason}. Install Chromium (apt-get install "
                "chromium) or set STEPPE_CHROMIUM=/path/to/chrome")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium executable; skips (fails under CI=true) when there is none."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _no_browser("Playwright (python) is not installed (pip install -e '.[test]')")
    path = find_chromium()
    if path is None:
        _no_browser("no Chromium found")
    return str(path)


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """A headless Chromium (Playwright, sync API) for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Page:
    """A page that aborts, and records, every request not addressed to 127.0.0.1."""

    def __init__(self, browser: Any, width: int = 1400, height: int = 1000) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.page.set_default_timeout(30_000)
        self.outside: list[str] = []
        self.page.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        url = route.request.url
        if re.match(r"^(https?|wss?)://127\.0\.0\.1(:\d+)?/", url) or \
                url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def source(self, name: str) -> dict[str, list[Any]]:
        """The data of the last ColumnDataSource called ``name`` in the page's document."""
        return self.page.evaluate(
            """(name) => {
                 let found = null;
                 for (const doc of window.Bokeh.documents)
                   for (const m of doc.all_models)
                     if (m.name === name && m.data !== undefined) found = m;
                 if (found === null) return null;
                 const out = {};
                 for (const [k, v] of Object.entries(found.data)) out[k] = Array.from(v);
                 return out;
               }""", name)

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    """A fresh page; the test asserts ``page.outside == []`` itself."""
    p = Page(browser)
    try:
        yield p
    finally:
        p.close()


def keep_screenshot(page: Page, tmp_path: Path, name: str) -> Path:
    """Screenshot the whole page into ``tmp_path/name`` and, when ``$STEPPE_ARTIFACTS`` is
    set, copy it to ``$STEPPE_ARTIFACTS/explore/name``."""
    target = tmp_path / name
    page.page.screenshot(path=str(target), full_page=True)
    where = os.environ.get("STEPPE_ARTIFACTS")
    if where:
        out = Path(where) / "explore"
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy2(target, out / name)
    assert target.stat().st_size > 10_000  # a real picture, not a blank page
    return target


# -- the folder ---------------------------------------------------------------------------
def write_calibration(folder: Path) -> Path:
    """A small calibration folder as ``steppe calibrate`` writes it (two readings, two
    assumptions, a posterior, predictive checks, generations)."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"source": "tiny.toml", "population": 40,
            "priors": [{"name": "cost of voicing A", "fields": ["expression.enforcement"],
                        "low": 0.0, "high": 2.0},
                       {"name": "initial share of A", "fields": ["initial.shares.A"],
                        "low": 0.1, "high": 0.6,
                        "prior": {"dist": "beta", "a": 2, "b": 2}}],
            "readings": [{"name": "hiding", "description": "people hide A"},
                         {"name": "no hiding", "fixed": {"expression.enforcement": 0.0}}]}
    (folder / "calibration.json").write_text(json.dumps(meta))
    rng = np.random.default_rng(1)
    n = 40
    post = pd.DataFrame({"reading": ["hiding"] * n + ["no hiding"] * n,
                         "expression.enforcement": np.r_[rng.uniform(0.6, 1.4, n),
                                                         np.zeros(n)],
                         "initial.shares.A": rng.uniform(0.2, 0.4, 2 * n),
                         "weight": np.full(2 * n, 1.0 / (2 * n))})
    post.to_parquet(folder / "posterior.parquet")
    pd.DataFrame({"t": [0, 0, 1, 1], "reading": ["hiding", "no hiding"] * 2,
                  "probability": [0.5, 0.5, 0.7, 0.3]}).to_parquet(
        folder / "readings.parquet")
    pd.DataFrame({"t": [0, 1], "epsilon": [3.0, 1.5], "samples": [80, 160],
                  "accepted": [40, 40], "acceptance": [0.5, 0.25],
                  "ess": [40.0, 31.0]}).to_parquet(folder / "generations.parquet")
    pd.DataFrame({"poll": ["Pollco Mar 2022", "Pollco Sep 2022"],
                  "question": ["stance", "stance"], "by": ["all", "all"],
                  "level": ["all", "all"], "answer": ["A", "A"], "value": [0.12, 0.18],
                  "median": [0.11, 0.09], "low": [0.08, 0.06], "high": [0.15, 0.12],
                  "inside": [True, False]}).to_parquet(folder / "predictive.parquet")
    return folder


@pytest.fixture(scope="session")
def explore_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a scenario (``tiny.toml``, with observed polls), its results
    (``results/tiny``, with a calibration), a sweep (``sweep``) and nothing else."""
    import steppe
    from steppe.experiments.sweep import sweep

    root = tmp_path_factory.mktemp("explore")
    (root / "tiny.toml").write_text(TINY)
    (root / "polls.csv").write_text(POLLS)
    steppe.run(root / "tiny.toml", out=root / "results" / "tiny")
    write_calibration(root / "results" / "tiny" / "calibration")
    sweep(root / "tiny.toml", sets=["expression.enforcement=0.0,1.0",
                                    "initial.shares.A=0.2,0.4"],
          runs=2, out=root / "sweep", workers=1,
          phases=["x=expression.enforcement,y=initial.shares.A,outcome=final_share_A"])
    return root


def start_explorer(path: Path, *args: str, timeout: float = 90.0
                   ) -> tuple[subprocess.Popen[str], str]:
    """Start ``python -m steppe explore PATH --port 0 --no-browser ARGS`` and return the
    process and the URL it printed."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "steppe", "explore", str(path), "--port",
                             "0", "--no-browser", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    seen = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        m = re.search(r"http://127\.0\.0\.1:\d+/", line)
        if m:
            return proc, m.group(0)
    stop_explorer(proc)
    raise AssertionError("the explorer did not print its address:\n" + "".join(seen))


def stop_explorer(proc: subprocess.Popen[str]) -> None:
    """Stop a server started by :func:`start_explorer` (this process only)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def explorer_url(explore_root: Path) -> Iterator[str]:
    """The explorer serving ``explore_root`` (2 runs per setting); stopped at the end."""
    proc, url = start_explorer(explore_root, "--runs", "2")
    try:
        yield url
    finally:
        stop_explorer(proc)
