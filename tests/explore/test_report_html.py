"""The interactive report (``report.html``) in a real browser with no network: opened from
disk in the system's Chromium (Playwright), every request that is not to the file itself
recorded and refused, every figure must render its plot (plotly's SVG with traces drawn),
and a screenshot is kept (``report-html.png`` in ``tmp_path`` and, when
``$STEPPE_ARTIFACTS`` is set, ``$STEPPE_ARTIFACTS/explore/``). Without Chromium the test is
skipped, under ``CI=true`` it fails (see ``conftest.py``)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from steppe.report import make_report

from .conftest import keep_screenshot


class _OfflinePage:
    """A page on which every request other than ``file:``, ``data:`` and ``blob:`` is
    aborted and recorded."""

    def __init__(self, browser: Any) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.page.set_default_timeout(30_000)
        self.outside: list[str] = []
        self.page.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()


def test_report_html_renders_every_plot_offline(browser, explore_root: Path, tmp_path):
    results = tmp_path / "tiny"
    shutil.copytree(explore_root / "results" / "tiny", results)
    make_report(results)
    html = results / "report" / "report.html"
    assert html.is_file()
    page = _OfflinePage(browser)
    try:
        page.page.goto(html.as_uri(), wait_until="load")
        figures = page.page.locator("div.js-plotly-plot")
        page.page.wait_for_function(
            "() => document.querySelectorAll('div.js-plotly-plot .main-svg').length > 0")
        n = figures.count()
        assert n >= 3  # the shares, a breakdown, the calibration's figures at least
        drawn = page.page.evaluate(
            """() => Array.from(document.querySelectorAll('div.js-plotly-plot')).map(
                 d => d.querySelectorAll('.main-svg .trace').length)""")
        assert len(drawn) == n and all(k > 0 for k in drawn), drawn
        keep_screenshot(page, tmp_path, "report-html.png")
        assert page.outside == []
    finally:
        page.page.close()
