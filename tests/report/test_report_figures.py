"""Tests of what readers noticed in the figures, and of the interactive HTML report.

Each test builds a small synthetic results folder or series by hand (no model is run), so
the expected values are known in advance (each test says how).
"""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer

from steppe.errors import ParameterError
from steppe.report import make_report, whose_share
from steppe.report.interactive import markdown_to_html
from steppe.report.plots import (
    MIN_RUNS,
    adults_series,
    share_by_figure,
    share_figure,
    small_ensemble_note,
)
from steppe.report.targets import published_by

from .test_report import write_polls_csv, write_results

START = pd.Timestamp("2022-03-01")


def _series(runs: int = 3, weeks: int = 150, levels: dict[str, int] | None = None,
            by: str = "all") -> pd.DataFrame:
    """A dated series: private share of A 0.3 (expressed 0.1) in every run and week; with
    ``levels``, rows of one breakdown of those sizes instead."""
    levels = levels or {"all": 1000}
    rows = []
    for r, w in itertools.product(range(runs), range(weeks)):
        for lv, n in levels.items():
            for st, priv, expr in (("A", 0.3, 0.1), ("B", 0.7, 0.9)):
                rows.append({"run": r, "time": float(w), "date": START + pd.Timedelta(weeks=w),
                             "by": by, "level": lv, "stance": st, "count": round(priv * n),
                             "share": priv, "expressed_count": round(expr * n),
                             "expressed_share": expr, "gap": priv - expr})
    return pd.DataFrame(rows)


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


# -- event labels -------------------------------------------------------------------------
def test_event_labels_are_inside_the_figure_and_do_not_overlap():
    """Eight events, several days apart or on the same day, with long notes, one at the
    very end of the period: every number and every line of the key lies inside the figure
    and none overlaps another (measured with matplotlib's renderer)."""
    long = "a very long note about what happened on this day, far longer than any label "
    events = [{"at": d, "note": f"{long}{i}"} for i, d in enumerate(
        ["2022-03-01", "2022-03-03", "2022-03-03", "2022-03-08", "2022-09-21",
         "2022-10-01", "2023-06-01", "2025-01-20"])]
    events.append({"at": "2022-04-11", "set": {"expression.enforcement": 1.4}})
    fig = share_figure(_series(), "A", title="events", events=events)
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    numbers = [t for t in ax.texts if t.get_gid() == "event-number"]
    assert sorted(int(t.get_text()) for t in numbers) == list(range(1, 10))
    key = next(c for c in ax.get_children() if getattr(c, "get_gid", lambda: None)()
               == "event-key")
    lines = [t for t in key.get_texts()]
    assert len(lines) == 9
    assert "enforcement \u2192 1.4 (a scenario input)" in lines[4].get_text()
    page = fig.bbox
    boxes = [t.get_window_extent(renderer) for t in numbers + lines]
    for b in boxes:
        assert page.x0 <= b.x0 and b.x1 <= page.x1 and page.y0 <= b.y0 and b.y1 <= page.y1
    for a, b in itertools.combinations(boxes, 2):
        assert not _overlap(a, b), (a, b)
    # the numbers sit above the plot, clear of the title and of the axes
    title = ax.title.get_window_extent(renderer)
    for t in numbers:
        b = t.get_window_extent(renderer)
        assert b.y0 >= ax.bbox.y1 and not _overlap(b, title)


# -- whose share --------------------------------------------------------------------------
def test_adults_only_share_and_the_axis_label(tmp_path):
    """Ages 0-17 (400 agents, A: 0.3) and 18+ (600 agents): the adults' share is that of
    the 18+ band only, and the whole-population figure says children are included."""
    rows = []
    for lv, n, a in (("0-17", 400, 0.5), ("18+", 600, 0.2)):
        for st, p in (("A", a), ("B", 1 - a)):
            rows.append({"run": 0, "time": 0.0, "by": "age", "level": lv, "stance": st,
                         "count": round(p * n), "expressed_count": round(p * n),
                         "share": p, "expressed_share": p, "gap": 0.0})
    s = pd.DataFrame(rows)
    adults = adults_series(s, ["18+"])
    assert adults.set_index("stance").loc["A", "share"] == pytest.approx(0.2)
    d = write_results(tmp_path / "res", dated=True)
    series = pd.read_parquet(d / "series.parquet")
    extra = s.assign(run=0, time=0.0, date=START)
    series = pd.concat([series.astype({"by": str, "level": str, "stance": str}),
                        extra.astype({"by": str, "level": str, "stance": str})])
    series.to_parquet(d / "series.parquet", index=False)
    meta = json.loads((d / "metadata.json").read_text())
    meta["scenario"]["polls"] = [{"name": "P", "at": 1, "frame": {"age": ["18+"]}}]
    (d / "metadata.json").write_text(json.dumps(meta))
    from steppe.report import load_results

    who = whose_share(load_results(d))
    assert who.ylabel == "share of all agents (children included)"
    assert who.adult_bands == ["18+"] and who.adults is not None
    names = [p.name for p in make_report(d)]
    assert "share_A_adults.png" in names
    md = (d / "report" / "summary.md").read_text()
    assert "children (0-17) included" in md and "shares of all agents" in md


# -- breakdown panels ---------------------------------------------------------------------
def test_published_age_rows_are_drawn_on_their_panel():
    targets = pd.DataFrame({"poll": ["P", "P", "P"], "question": "stance", "by": "age",
                            "level": ["60+", "18-29", "60+"], "answer": ["A", "A", "B"],
                            "value": [0.34, 0.06, 0.5]})
    polls = pd.DataFrame({"run": 0, "poll": "P", "question": "stance", "by": "age",
                          "level": ["60+", "18-29"], "stance": "A", "method": "direct",
                          "date": START + pd.Timedelta(weeks=30), "time": 30.0,
                          "estimate": [0.2, 0.1], "ci_low": [0.15, 0.05],
                          "ci_high": [0.25, 0.15], "n": [200, 300]})
    pub = published_by(targets, polls, "age", "A")
    assert pub["level"].tolist() == ["60+", "18-29"]
    half = 1.96 * np.sqrt(0.34 * 0.66 / 200)
    assert pub["ci_high"].iloc[0] == pytest.approx(0.34 + half)
    s = _series(weeks=40, levels={"18-29": 300, "60+": 200, "0-17": 500}, by="age")
    fig = share_by_figure(s, "A", "age", title="t", published=pub, simulated_polls=polls)
    titles = [a.get_title().split()[0] for a in fig.axes if a.get_visible()]
    assert titles == ["0-17", "18-29", "60+"]  # age bands in their order
    ax60 = next(a for a in fig.axes if a.get_title().startswith("60+"))
    diamonds = [ln for ln in ax60.lines if ln.get_marker() == "D"]
    assert [float(v) for ln in diamonds for v in ln.get_ydata()] == [pytest.approx(0.34)]
    circles = [ln for ln in ax60.lines if ln.get_marker() == "o"]
    assert [float(v) for ln in circles for v in ln.get_ydata()] == [pytest.approx(0.2)]


def test_panels_go_largest_first_and_small_ones_are_flagged():
    s = _series(weeks=5, levels={"arrivals": 40, "resident": 9000, "leavers": 150},
                by="origin")
    fig = share_by_figure(s, "A", "origin", title="t")
    titles = [a.get_title() for a in fig.axes if a.get_visible()]
    assert [t.split()[0] for t in titles] == ["resident", "leavers", "arrivals"]
    assert "noisy" not in titles[0]
    assert titles[1].endswith("n \u2248 150 agents: noisy")
    assert titles[2].endswith("n \u2248 40 agents: noisy")


# -- polls, runs and inputs on the main figure --------------------------------------------
def test_list_experiment_is_one_point_with_its_interval():
    """Three runs' list experiments at one date (estimates 0.2, 0.3, 0.4; intervals
    ±0.15): one point at the median 0.3 with the typical interval 0.15 to 0.45."""
    est = np.array([0.2, 0.3, 0.4])
    polls = pd.DataFrame({"run": [0, 1, 2], "date": START + pd.Timedelta(weeks=30),
                          "time": 30.0, "stance": "A", "method": "list_experiment",
                          "estimate": est, "ci_low": est - 0.15, "ci_high": est + 0.15})
    fig = share_figure(_series(weeks=40), "A", title="t", simulated_polls=polls)
    ax = fig.axes[0]
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 1
    line, _caps, (segments,) = bars[0]
    assert line.get_ydata().tolist() == [pytest.approx(0.3)]
    (seg,) = segments.get_segments()
    assert sorted(seg[:, 1]) == [pytest.approx(0.15), pytest.approx(0.45)]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "simulated list experiment: median of 3 runs, typical 95% CI" in labels


def test_small_ensembles_are_flagged_on_the_figure_and_in_the_summary(tmp_path):
    assert small_ensemble_note(MIN_RUNS) is None and small_ensemble_note(1) is None
    fig = share_figure(_series(runs=4, weeks=3), "A", title="t")
    assert "only 4 runs" in fig.axes[0].get_title()
    fig = share_figure(_series(runs=MIN_RUNS, weeks=3), "A", title="t")
    assert "only" not in fig.axes[0].get_title()
    d = write_results(tmp_path / "res")
    md = make_report(d)[-1].read_text()
    assert "**Warning:** Only 3 runs" in md and "min to max" in md


def test_inputs_are_marked_as_inputs(tmp_path):
    """The starting share is set by the scenario (an assumption with a range): the ring's
    legend entry says so; an event that sets a parameter is a scenario input."""
    from steppe.report.assumed import start_input

    meta = {"scenario": {"initial": {"shares": {"A": 0.3}}, "assumptions": [
        {"name": "true share of A", "path": "initial.shares.A", "low": 0.1, "high": 0.5}]}}
    note = start_input(meta, "A")
    fig = share_figure(_series(weeks=10), "A", title="t", start_input=note,
                       events=[{"at": 2, "set": {"expression.enforcement": 1.4}}])
    labels = [t.get_text().replace("\n", " ") for t in fig.legends[0].get_texts()]
    assert any("set by the scenario (assumption: true share of A, 10%\u201350%)" in lab
               and "not a result" in lab for lab in labels)
    key = fig.axes[0].get_legend()
    assert "a scenario input" in key.get_texts()[0].get_text().replace("\n", " ")


# -- files --------------------------------------------------------------------------------
def test_every_figure_is_also_svg_and_pdf(tmp_path, vectors):
    d = write_results(tmp_path / "res", groups=True)
    pngs = [p for p in make_report(d) if p.suffix == ".png"]
    assert len(pngs) == 3
    for p in pngs:
        assert p.with_suffix(".svg").read_text()[:200].find("<svg") >= 0
        assert p.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    assert not list((d / "report").glob(".*tmp*"))  # atomic writes leave nothing behind


def test_vector_copies_are_chosen_and_stale_ones_removed(tmp_path, vectors):
    """``vectors=("pdf",)`` writes PDF copies only and removes the SVG copies an earlier
    report left, so that no copy disagrees with its PNG; an unknown format is refused."""
    d = write_results(tmp_path / "res", groups=True)
    make_report(d)
    assert len(list((d / "report").glob("*.svg"))) == 3
    pngs = [p for p in make_report(d, vectors=("pdf",)) if p.suffix == ".png"]
    assert len(pngs) == 3
    assert all(p.with_suffix(".pdf").is_file() for p in pngs)
    assert not list((d / "report").glob("*.svg"))
    make_report(d, vectors=())
    assert not list((d / "report").glob("*.pdf"))
    assert len(list((d / "report").glob("*.png"))) == 3
    with pytest.raises(ParameterError, match=r"vectors.*given: 'eps'"):
        make_report(d, vectors=("eps",))


def test_interactive_report_stands_alone(tmp_path):
    """report.html: one inlined plotly.js, a div per figure, the summary, every level of
    a breakdown in the legend, the observed polls, the events; nothing fetched from the
    network; a scenario's text is escaped."""
    polls_csv = write_polls_csv(tmp_path / "observed.csv")
    d = write_results(tmp_path / "res", dated=True, groups=True, polls=True,
                      report={"stance": "A", "observed_polls": str(polls_csv),
                              "observed_columns": {"A": "support_a"}})
    meta = json.loads((d / "metadata.json").read_text())
    meta["scenario"]["description"] = "hand-made <script>alert(1)</script> results"
    meta["scenario"]["events"][0]["note"] = "the sanction starts"
    (d / "metadata.json").write_text(json.dumps(meta))
    make_report(d)
    whole = (d / "report" / "report.html").read_text(encoding="utf-8")
    assert whole.startswith("<!DOCTYPE html>")
    # plotly.js once; each figure a div drawn by it
    big = [m for m in re.findall(r"<script[^>]*>(.*?)</script>", whole, re.S)
           if len(m) > 1_000_000]
    assert len(big) == 1
    assert len(whole) < 8_000_000
    # the bundle's code holds URL strings (never fetched): look at the rest of the page
    page = whole.replace(big[0], "")
    # no resource fetched by address: scripts, styles, images, fonts, frames
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<(?:link|img|iframe|source|embed|object)\b", page, re.I)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page, re.I)
    assert not re.search(r"""@import|url\(\s*["']?(?:https?:)?//""", page, re.I)
    assert page.count("Plotly.newPlot(") == 3  # share, by group, gap
    # the summary, escaped
    assert "<table>" in page and "Final shares" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    # hover values, toggleable levels, observed polls, events
    assert "hovertemplate" in page and '"legendgroup":"kazakh"' in page
    assert '"legendgroup":"russian"' in page and "observed poll (95% CI)" in page
    assert "P1 (Mar 2022)" in page and "the sanction starts" in page


def test_markdown_rendering():
    text = ("# T\n\nA **bold** `x<y` line\nwrapped.\n\n> Note: <b>\n\n- one\n- two\n\n"
            "| a | b |\n|---|---:|\n| 1 | 2 |\n\n![share_A](share_A.png)\n")
    out = markdown_to_html(text, {"share_A": "share"})
    assert '<h1 id="t">T</h1>' in out
    assert "<p>A <strong>bold</strong> <code>x&lt;y</code> line wrapped.</p>" in out
    assert "<blockquote>Note: &lt;b&gt;</blockquote>" in out
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in out
    assert '<td style="text-align:right">2</td>' in out
    assert '<a href="#share">figure: share_A</a>' in out
