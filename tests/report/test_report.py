"""Tests of the report: synthetic results folders written by hand, then make_report.

The folders are built here (not by running a model), so every number the report prints is
known in advance: e.g. final private shares 0.1, 0.2, 0.6 over three runs have median 20.0%
and 5th/95th percentiles (linear interpolation) 0.1 + 0.1·0.1 = 11.0% and
0.2 + 0.9·0.4 = 56.0%.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from steppe.errors import ParameterError, SteppeError
from steppe.report import load_results, make_report, participation_stance
from steppe.report.plots import ensemble_bands, levels_shown
from steppe.report.summary import read_observed_polls

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
START = pd.Timestamp("2022-03-01")
#: the repository's copy of the published polls (sources in SOURCES.md beside it)
REAL_POLLS = (Path(__file__).resolve().parents[2] / "scenarios" / "data" / "kazakhstan"
              / "polls.csv")


# -- building synthetic results folders ---------------------------------------------------
def _rows(run: int, times: list[float], by: str, level: str, priv: dict[str, float],
          expr: dict[str, float], size: int, dated: bool) -> list[dict]:
    out = []
    for t in times:
        for st in ("A", "B"):
            row = {"run": run, "step": math.ceil(t), "time": float(t), "by": by,
                   "level": level, "stance": st, "count": round(priv[st] * size),
                   "share": priv[st], "expressed_count": round(expr[st] * size),
                   "expressed_share": expr[st], "gap": priv[st] - expr[st]}
            if dated:
                row["date"] = START + pd.Timedelta(days=7 * t)  # one step = one week
            out.append(row)
    return out


# private and expressed share of A in each run, constant over time
PRIV_A = [0.1, 0.2, 0.6]
EXPR_A = [0.05, 0.1, 0.3]


def write_results(d: Path, *, dated: bool = False, groups: bool = False,
                  polls: bool = False, summary: bool = True, metadata: bool = True,
                  report: dict | None = None, stances=("A", "B")) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    for r in range(3):
        # run 2 stops early, at a fractional time (consensus): grids differ
        times = [0, 1, 2, 3, 4, 5] if r < 2 else [0, 1, 2, 2.5]
        priv = {"A": PRIV_A[r], "B": 1 - PRIV_A[r]}
        expr = {"A": EXPR_A[r], "B": 1 - EXPR_A[r]}
        rows += _rows(r, times, "all", "all", priv, expr, 1000, dated)
        if groups:
            for g, shift in (("kazakh", -0.05), ("russian", 0.1)):
                gp = {"A": PRIV_A[r] + shift, "B": 1 - PRIV_A[r] - shift}
                ge = {"A": EXPR_A[r] + shift / 2, "B": 1 - EXPR_A[r] - shift / 2}
                rows += _rows(r, times, "group", g, gp, ge, 500, dated)
    s = pd.DataFrame(rows)
    s["stance"] = pd.Categorical(s["stance"], categories=list(stances))
    s["by"] = s["by"].astype("category")
    s["level"] = s["level"].astype("category")
    s.to_parquet(d / "series.parquet", index=False)
    if summary:
        pd.DataFrame({
            "run": [0, 1, 2], "seed": 7,
            "final_share_A": PRIV_A, "final_share_B": [1 - p for p in PRIV_A],
            "final_expressed_share_A": EXPR_A,
            "final_expressed_share_B": [1 - p for p in EXPR_A],
            "consensus": [False, False, True], "consensus_stance": [None, None, "B"],
            "consensus_time": [np.nan, np.nan, 2.5], "absorbed": [False] * 3,
            "sweeps": [5.0, 5.0, 2.5]}).to_parquet(d / "summary.parquet", index=False)
    if metadata:
        meta = {"scenario": {"name": "synthetic-test", "description": "hand-made results",
                             "events": [{"at": 2, "set": {"expression.enforcement": 0.5}}]},
                "model": {"name": "voter", "title": "voter model", "stances": list(stances)},
                "seed": 7, "runs": 3}
        if report is not None:
            meta["report"] = report
        (d / "metadata.json").write_text(json.dumps(meta))
    if polls:
        prow = []
        for r in range(3):
            for t in (1.0, 2.0):
                for method, true in (("direct", EXPR_A[r]), ("list_experiment", PRIV_A[r])):
                    est = true + 0.01
                    row = {"run": r, "time": t, "stance": "A", "method": method,
                           "estimate": est, "ci_low": est - 0.03, "ci_high": est + 0.03,
                           "n": 1000, "true_expressed": EXPR_A[r], "true_private": PRIV_A[r]}
                    if dated:
                        row["date"] = START + pd.Timedelta(days=7 * t)
                    prow.append(row)
        pd.DataFrame(prow).to_parquet(d / "polls.parquet", index=False)
    return d


def write_polls_csv(path: Path) -> Path:
    # midpoints: 2022-03-08 (inside), 2022-03-22 (inside), 2023-05-07 (after the run)
    path.write_text(
        "# observed polls, shares as fractions\n"
        "pollster,fieldwork_start,fieldwork_end,n,support_a\n"
        "P1,2022-03-06,2022-03-10,1110,0.13\n"
        "P2,2022-03-20,2022-03-24,1100,0.39\n"
        "P3,2023-05-03,2023-05-11,1100,0.128\n", encoding="utf-8")
    return path


def assert_png(path: Path) -> None:
    assert path.is_file(), path
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    img = imread(path)
    assert img.shape[0] > 300 and img.shape[1] > 300
    assert img.std() > 0.01  # not a blank image


# -- alignment of runs --------------------------------------------------------------------
def test_bands_on_union_of_times_with_forward_fill():
    f = pd.DataFrame({"run": [0, 0, 0, 1, 1, 1, 2, 2],
                      "time": [0, 1, 2, 0, 1.5, 2, 0, 1],
                      "share": [0.0, 0.2, 0.4, 1.0, 0.6, 0.8, 0.5, 0.1]})
    b = ensemble_bands(f, "share")
    assert b.x.tolist() == [0.0, 1.0, 1.5, 2.0]
    # at 1.0 run 1 is still at its time-0 value 1.0; at 1.5 run 0 is held at 0.2 and
    # run 2 (stopped at 1) at 0.1; at 2.0: 0.4, 0.8, 0.1
    assert b.median.tolist() == pytest.approx([0.5, 0.2, 0.2, 0.4])
    # 5th percentile of (0.1, 0.4, 0.8), linear interpolation: 0.1 + 0.1 * 0.3
    assert b.q[0][-1] == pytest.approx(0.13)
    assert b.runs == 3
    assert b.at(1.7)[2] == pytest.approx(0.2) and b.at(-1) is None and b.at(3) is None


def test_bands_on_dates_and_empty_level():
    f = pd.DataFrame({"run": [0, 1], "date": pd.to_datetime(["2022-03-01"] * 2),
                      "share": [np.nan, np.nan]})
    b = ensemble_bands(f, "share", "date")
    assert np.issubdtype(b.x.dtype, np.datetime64) and np.isnan(b.median).all()
    assert b.at("2022-03-01") is not None


# -- reports ------------------------------------------------------------------------------
def test_report_without_dates(tmp_path):
    d = write_results(tmp_path / "res")
    paths = make_report(d)
    names = [p.name for p in paths]
    # report.html (the interactive report) comes before summary.md: an intended addition
    assert names == ["share_A.png", "gap.png", "report.html", "summary.md"]
    assert all(p.parent == d / "report" for p in paths)
    for p in paths[:-2]:
        assert_png(p)
    md = (d / "report" / "summary.md").read_text()
    assert md.startswith("# synthetic-test\n")
    assert "hand-made results" in md and "3 runs" in md and "seed 7" in md
    # A: private 0.1, 0.2, 0.6; expressed 0.05, 0.1, 0.3; hidden 0.05, 0.1, 0.3
    assert "| A | 20.0% | 11.0%–56.0% | 10.0% | 5.5%–28.0% | +10.0 pp |" in md
    assert "| B | 80.0% | 44.0%–89.0% | 90.0% | 72.0%–94.5% | −10.0 pp |" in md
    assert "median +10.0 pp (90% interval +5.5 pp to +28.0 pp)" in md
    assert "1 of 3 runs reached consensus (B: 1), median time 2.5 sweeps" in md
    assert "![share_A](share_A.png)" in md and "![gap](gap.png)" in md
    assert "Observed polls" not in md and "Simulated polls" not in md
    assert not list((d / "report").glob(".*.tmp"))  # atomic writes leave nothing behind


def test_report_with_dates_groups_and_polls(tmp_path):
    polls_csv = write_polls_csv(tmp_path / "observed.csv")
    d = write_results(tmp_path / "res", dated=True, groups=True, polls=True,
                      report={"stance": "A", "observed_polls": str(polls_csv),
                              "observed_columns": {"A": "support_a"}})
    out = tmp_path / "out"
    paths = make_report(d, out)
    assert [p.name for p in paths] == ["share_A.png", "share_A_by_group.png", "gap.png",
                                       "report.html", "summary.md"]
    for p in paths[:-2]:
        assert_png(p)
    md = (out / "summary.md").read_text()
    # expressed A across runs: 0.05, 0.1, 0.3 -> median 10.0%, band 5.5%–28.0%;
    # private 0.1, 0.2, 0.6 -> 20.0%, 11.0%–56.0%
    half = 1.96 * math.sqrt(0.13 * 0.87 / 1110)
    obs = f"13.0% ({100 * (0.13 - half):.1f}%–{100 * (0.13 + half):.1f}%)"
    # beside each observed poll: the simulated direct polls nearest in time (0.06, 0.11,
    # 0.31 -> median 11.0%, 90% range 6.5%–29.0%), then the population bands
    assert (f"| P1 (Mar 2022) | 2022-03-08 | A | 1,110 | {obs} | 11.0% (6.5%–29.0%) | yes "
            "| 10.0% (5.5%–28.0%) | 20.0% (11.0%–56.0%) |") in md
    assert "| P2 (Mar 2022) | 2022-03-22 | A | 1,100 | " in md
    assert ("| 11.0% (6.5%–29.0%) | no | 10.0% (5.5%–28.0%) | 20.0% (11.0%–56.0%) |"
            in md)
    assert "| P3 (May 2023) | 2023-05-07 | A | 1,100 |" in md
    assert "outside the simulated period" in md
    # simulated polls: direct estimates 0.06, 0.11, 0.31 -> median 11.0%
    assert "## Simulated polls" in md
    assert "| 2022-03-08 | direct | 3 | 11.0% | 6.5%–29.0% | 10.0% | 20.0% |" in md
    assert "| 2022-03-08 | list_experiment | 3 | 21.0% | 12.0%–57.0% | 10.0% | 20.0% |" in md


def test_polls_without_dates_are_plotted_on_sweeps(tmp_path):
    polls_csv = write_polls_csv(tmp_path / "observed.csv")
    d = write_results(tmp_path / "res", polls=True,
                      report={"observed_polls": str(polls_csv),
                              "observed_columns": {"A": "support_a"}})
    paths = make_report(d)
    assert_png(paths[0])
    md = paths[-1].read_text()
    assert "no calendar" in md and "| 1 | direct | 3 | 11.0% |" in md


def test_missing_optional_inputs_are_skipped(tmp_path):
    d = write_results(tmp_path / "bare", summary=False, metadata=False)
    paths = make_report(d)
    assert [p.name for p in paths] == ["share_A.png", "gap.png", "report.html", "summary.md"]
    md = paths[-1].read_text()
    assert md.startswith("# bare\n")  # the folder name stands in for the scenario's
    assert "## Consensus" not in md
    # final shares from each run's last record: the same 0.1, 0.2, 0.6
    assert "| A | 20.0% | 11.0%–56.0% |" in md


def test_observed_polls_file_not_found_is_noted(tmp_path):
    d = write_results(tmp_path / "res", dated=True,
                      report={"observed_polls": "no/such/polls.csv"})
    with pytest.warns(UserWarning, match="not found"):
        paths = make_report(d)
    assert "no/such/polls.csv' not found" in paths[-1].read_text()


def test_relative_polls_path_found_in_results_folder(tmp_path):
    d = write_results(tmp_path / "res", dated=True,
                      report={"observed_polls": "observed.csv",
                              "observed_columns": {"A": "support_a"}})
    write_polls_csv(d / "observed.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        md = make_report(d)[-1].read_text()
    assert "| P1 (Mar 2022) |" in md


def test_missing_series_is_a_clear_error(tmp_path):
    d = write_results(tmp_path / "res")
    (d / "series.parquet").unlink()
    with pytest.raises(SteppeError, match=r"series\.parquet"):
        make_report(d)
    with pytest.raises(SteppeError, match="no such results folder"):
        make_report(tmp_path / "nowhere")
    (d / "series.parquet").write_bytes(b"not parquet")
    with pytest.raises(SteppeError, match=r"series\.parquet: cannot read"):
        make_report(d)


def test_unknown_stance_is_a_parameter_error(tmp_path):
    d = write_results(tmp_path / "res")
    with pytest.raises(ParameterError, match="given: 'C'"):
        make_report(d, stance="C")


def test_focus_stance_argument_and_settings(tmp_path):
    d = write_results(tmp_path / "res", report={"stance": "B"})
    assert make_report(d)[0].name == "share_B.png"
    assert make_report(d, stance="A")[0].name == "share_A.png"


def test_participation_plot(tmp_path):
    d = write_results(tmp_path / "res", stances=("A", "B"),
                      report={"participation_stance": "B"})
    names = [p.name for p in make_report(d)]
    assert "participation.png" in names
    assert_png(d / "report" / "participation.png")
    assert participation_stance(["inactive", "active"]) == "active"
    assert participation_stance(["calm", "protesting"]) == "protesting"
    assert participation_stance(["A", "B", "inactive"]) is None
    with pytest.raises(ParameterError):
        participation_stance(["A"], {"participation_stance": "X"})


def test_many_levels_keep_the_largest(tmp_path):
    rows = pd.DataFrame({"level": [f"r{i:02d}" for i in range(25)],
                         "count": [100 + i for i in range(25)]})
    shown, size = levels_shown(rows, 20)
    assert shown == [f"r{i:02d}" for i in range(5, 25)] and len(size) == 25


def test_read_real_polls_csv():
    p = read_observed_polls(REAL_POLLS, {"pro": "support_russia"}, ["against", "pro"])
    assert len(p) == 3
    assert p["date"].iloc[1] == pd.Timestamp("2022-11-14")  # 4–24 Nov midpoint
    assert p["estimate"].tolist() == [0.39, 0.13, 0.128]
    half = 1.96 * math.sqrt(0.13 * 0.87 / 1110)
    assert p["ci_high"].iloc[1] - p["ci_low"].iloc[1] == pytest.approx(2 * half)


def test_bad_observed_polls(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("date,n,a\n2022-01-01,100,39\n")
    with pytest.raises(SteppeError, match="fractions"):
        read_observed_polls(f, {"A": "a"}, ["A"])
    with pytest.raises(SteppeError, match="no column 'b'"):
        read_observed_polls(f, {"A": "b"}, ["A"])
    with pytest.raises(SteppeError, match="unknown stance"):
        read_observed_polls(f, {"Z": "a"}, ["A"])


def test_load_results_reads_optional_parts(tmp_path):
    d = write_results(tmp_path / "res", polls=True)
    res = load_results(d)
    assert res.stances == ["A", "B"] and res.name == "synthetic-test"
    assert res.polls is not None and len(res.polls) == 12 and len(res.summary) == 3


def test_every_published_figure_beside_its_simulated_poll(tmp_path):
    """A targets file: each figure is matched to the simulated poll of its name, question,
    subgroup and answer; the table, figure and summary section are written, and figures
    with no simulated counterpart say why."""
    import steppe
    from steppe.report import make_report
    from steppe.report.targets import compare_targets, read_targets

    targets = tmp_path / "targets.csv"
    targets.write_text(
        "# published figures\n"
        "poll,question,by,level,answer,value,source,note\n"
        "P,stance,all,all,A,0.5,made up,\n"
        "P,stance,all,all,B,0.99,made up,\n"
        "P,yesno,all,all,yes,0.5,made up,\n"
        "Q,stance,all,all,A,0.5,made up,\n")
    scen = {"name": "tg", "seed": 1, "runs": 4, "network": {"kind": "complete", "n": 400},
            "model": {"name": "voter"}, "initial": {"shares": {"A": 0.5, "B": 0.5}},
            "stop": {"max_sweeps": 2, "at_consensus": False},
            "questions": {"yesno": {"answers": ["yes", "no"],
                                    "map": {"A": {"yes": 1.0}, "B": {"no": 1.0}}}},
            "polls": [{"at": 1, "name": "P", "n": 200}],
            "report": {"targets": str(targets)}}
    out = tmp_path / "res"
    steppe.run(scen, out=out)
    written = make_report(out)
    assert {"targets.csv", "targets.png", "summary.md"} <= {p.name for p in written}
    table = compare_targets(read_targets(targets), steppe.run(scen).polls)
    assert table["runs"].tolist() == [4, 4, 0, 0]
    assert table["inside"].tolist()[:2] == [True, False]
    assert "asks no question 'yesno'" in table["missing"][2]
    assert "no simulated poll named 'Q'" in table["missing"][3]
    text = (out / "report" / "summary.md").read_text()
    assert "1 of 4 published figures fall inside" in text


def test_a_bad_targets_file_names_the_row(tmp_path):
    from steppe.errors import SteppeError
    from steppe.report.targets import read_targets

    p = tmp_path / "t.csv"
    p.write_text("poll,question,by,level,answer,value\nP,stance,all,all,A,39\n")
    with pytest.raises(SteppeError, match="row 2, column 'value'"):
        read_targets(p)
    p.write_text("poll,question,answer,value\nP,stance,A,0.3\n")
    with pytest.raises(SteppeError, match="no column 'by', 'level'"):
        read_targets(p)
