"""Tests of the calibration part of the report: a small real run plus a hand-made
``calibration/`` folder, so that every number the report prints is known in advance.

The known posterior: the assumption ``initial.shares.A`` takes the values 0.2, 0.3, 0.4, 0.5
with total weights 0.1, 0.2, 0.3, 0.4 (each value carried by ten particles). The cumulative
weights are 0.1, 0.3, 0.6, 1.0, so the weighted median is 0.4 (the unweighted one would be
0.35), the 5th percentile 0.2 and the 95th 0.5; against the uniform prior's 90% interval
over 0.1 to 0.9 (0.14 to 0.86, 0.72 wide) the posterior's is 1 − 0.3 / 0.72 = 58.3% narrower.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from steppe import run
from steppe.report import make_report
from steppe.report.calibration import (
    CalibrationResults,
    PriorRange,
    Reading,
    _constrained,
    calibration_markdown,
    calibration_report,
    read_calibration,
    weighted_quantile,
)
from steppe.report.plots import BLUE, VERMILLION

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
POPULATION = 40
PRIORS = [
    {"name": "true share of A, March", "fields": ["initial.shares.A"], "low": 0.1,
     "high": 0.9},
    {"name": "sanction on voicing A (enforcement)",
     "fields": ["expression.enforcement", "events.0.set.expression.enforcement"],
     "low": 0.0, "high": 2.0},
    {"name": "ties per person", "fields": ["network.mean_degree"], "low": 5, "high": 30},
]
TARGETS = [
    {"poll": "March", "question": "stance", "by": "all", "level": "all", "answer": "A",
     "value": 0.39, "s": 0.025},
    {"poll": "March", "question": "stance", "by": "age", "level": "60+", "answer": "A",
     "value": 0.45, "s": 0.04},
    {"poll": "November", "question": "stance", "by": "all", "level": "all", "answer": "A",
     "value": 0.13, "s": 0.02},
]
READINGS = [
    {"name": "hiding", "description": "people hide the view under the sanction",
     "fixed": {}, "priors": ["initial.shares.A", "expression.enforcement",
                             "network.mean_degree"]},
    {"name": "method-artefact", "description": "the March poll's method inflated the share",
     "fixed": {"expression.enforcement": 0.0},
     "priors": ["initial.shares.A", "network.mean_degree"]},
]


# -- building the folders -----------------------------------------------------------------
@pytest.fixture(scope="module")
def base_run(tmp_path_factory) -> Path:
    """One small real results folder (series, summary, metadata), copied by each test."""
    d = tmp_path_factory.mktemp("base") / "res"
    run({"name": "demo", "seed": 1, "runs": 3, "network": {"kind": "complete", "n": 100},
         "model": {"name": "voter"}, "stop": {"max_sweeps": 5}}, out=d)
    return d


@pytest.fixture
def results(base_run, tmp_path) -> Path:
    d = tmp_path / "res"
    shutil.copytree(base_run, d)
    return d


def _posterior(rng: np.random.Generator, reading: str | None, *, fixes: bool = False
               ) -> pd.DataFrame:
    share = np.repeat([0.2, 0.3, 0.4, 0.5], 10)
    weight = np.repeat([0.1, 0.2, 0.3, 0.4], 10) / 10
    frame = pd.DataFrame({
        "initial.shares.A": share,
        # enforcement: fairly well pinned down (unless the reading fixes it)
        "expression.enforcement": (np.full(POPULATION, np.nan) if fixes
                                   else rng.uniform(0.9, 1.3, POPULATION)),
        # ties per person: spread over the whole prior range, so the least constrained
        "network.mean_degree": rng.uniform(5, 30, POPULATION),
        "weight": weight,
    })
    if reading is not None:
        frame.insert(0, "reading", reading)
    return frame


def write_calibration(d: Path, *, readings: bool = False, partial: bool = False,
                      ess: float = 12.0, stopped: str = "") -> Path:
    """A calibration/ folder with every file (``partial``: the three an interrupted
    calibration leaves)."""
    c = d / "calibration"
    c.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    meta = {"source": "scenarios/demo.toml", "population": POPULATION, "generations": 6,
            "discrepancy": 0.02, "seconds": 3725.0, "stopped": stopped, "priors": PRIORS,
            "targets": TARGETS}
    if readings:
        meta["readings"] = READINGS
        post = pd.concat([_posterior(rng, "hiding"),
                          _posterior(rng, "method-artefact", fixes=True)],
                         ignore_index=True)
    else:
        post = _posterior(rng, None)
    (c / "calibration.json").write_text(json.dumps(meta), encoding="utf-8")
    post.to_parquet(c / "posterior.parquet", index=False)
    pd.DataFrame({"t": [0, 1, 2, 3], "epsilon": [20.0, 12.0, 8.0, 6.5],
                  "samples": [80, 120, 200, 400], "accepted": POPULATION,
                  "acceptance": [0.5, 1 / 3, 0.2, 0.1],
                  "ess": [40.0, 30.0, 20.0, ess]}).to_parquet(c / "generations.parquet",
                                                              index=False)
    if readings:
        pd.DataFrame({"t": [0, 0, 1, 1, 2, 2, 3, 3],
                      "reading": ["hiding", "method-artefact"] * 4,
                      "probability": [0.5, 0.5, 0.6, 0.4, 0.75, 0.25, 0.83, 0.17]}
                     ).to_parquet(c / "readings.parquet", index=False)
    if partial:
        return c
    pred = pd.DataFrame(TARGETS).drop(columns="s")
    pred["median"] = [0.30, 0.44, 0.14]
    pred["low"] = [0.25, 0.38, 0.10]
    pred["high"] = [0.35, 0.50, 0.18]
    pred["inside"] = [False, True, True]
    pred.to_parquet(c / "predictive.parquet", index=False)
    out = []
    for time, date in ((2.0, "2022-03-15"), (5.0, "2022-11-15")):
        for by, level, shift in (("all", "all", 0.0), ("group", "russian", 0.2)):
            for measure, (lo, med, hi) in (("private", (0.267, 0.278, 0.303)),
                                           ("voiced", (0.262, 0.270, 0.297)),
                                           ("hidden", (0.002, 0.006, 0.010))):
                out.append({"stance": "A", "time": time, "date": pd.Timestamp(date),
                            "by": by, "level": level, "measure": measure,
                            "low": lo + shift + time / 100, "median": med + shift + time / 100,
                            "high": hi + shift + time / 100})
    pd.DataFrame(out).to_parquet(c / "outcomes.parquet", index=False)
    loo = pd.DataFrame(TARGETS * 2).drop(columns="s")
    loo.insert(0, "check", ["fit March, predict November"] * 3
               + ["fit November, predict March"] * 3)
    loo["held_out"] = [False, False, True, True, True, False]
    loo["median"] = [0.38, 0.44, 0.20, 0.30, 0.40, 0.14]
    loo["low"] = [0.33, 0.38, 0.16, 0.25, 0.35, 0.10]
    loo["high"] = [0.43, 0.50, 0.24, 0.35, 0.48, 0.18]
    loo["inside"] = [True, True, False, False, True, True]
    loo.to_parquet(c / "loo.parquet", index=False)
    var = []
    for variant in ("stress propaganda", "crackdown lifted"):
        for time, date in ((5.0, "2022-11-15"), (9.0, None)):
            for measure in ("private", "voiced", "hidden"):
                var.append({"variant": variant, "time": time,
                            "date": pd.Timestamp(date) if date else pd.NaT, "by": "all",
                            "level": "all", "measure": measure, "median": 0.3, "low": 0.25,
                            "high": 0.35, "diff_median": 0.02, "diff_low": -0.01,
                            "diff_high": 0.05})
    pd.DataFrame(var).to_parquet(c / "variants.parquet", index=False)
    pd.DataFrame({"design": ["list experiment, n=2000", "direct poll, n=1000",
                             "direct poll, n=4000"],
                  "measure": "private", "width_now": 0.10,
                  "width_expected": [0.06, 0.095, 0.09],
                  "narrowing": [0.4, 0.05, 0.1]}).to_parquet(c / "voi.parquet", index=False)
    return c


def assert_png(path: Path) -> None:
    assert path.is_file(), path
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    img = imread(path)
    assert img.shape[0] > 300 and img.shape[1] > 300
    assert img.std() > 0.01


def colour_pixels(path: Path, hex_colour: str, tol: float = 0.02) -> int:
    """How many pixels of the PNG have (within ``tol``) the given colour."""
    img = imread(path)[..., :3]
    rgb = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return int((np.abs(img - rgb).max(axis=-1) < tol).sum())


# -- weighted quantiles -------------------------------------------------------------------
def test_weighted_quantile_is_the_inverse_weighted_distribution():
    x = np.repeat([0.5, 0.2, 0.4, 0.3], 10)  # order does not matter
    w = np.repeat([0.4, 0.1, 0.3, 0.2], 10)
    assert weighted_quantile(x, w, [0.05, 0.5, 0.95]).tolist() == [0.2, 0.4, 0.5]
    # equal weights: the median of an even count is the lower middle value (as printed
    # by `steppe calibrate`), despite rounding in the cumulative sum
    assert float(weighted_quantile([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [1 / 6] * 6, 0.5)) == 0.3
    # NaN (fixed by a reading) and zero weights are left out
    assert float(weighted_quantile([np.nan, 1.0, 2.0, 9.0], [5, 1, 1, 0], 0.5)) == 1.0
    assert np.isnan(weighted_quantile([np.nan], [1.0], [0.5])).all()


# -- the full report ----------------------------------------------------------------------
def test_report_draws_every_calibration_file(results):
    write_calibration(results)
    paths = make_report(results)
    names = [p.name for p in paths]
    cal_figs = ["posterior_marginals.png", "posterior_pairs.png", "predictive.png",
                "calibration_diagnostics.png", "loo.png", "variants.png", "voi.png"]
    assert names[-2:] == ["report.html", "summary.md"]  # report.html: an intended addition
    assert names[-2 - len(cal_figs):-2] == cal_figs
    for n in cal_figs:
        assert_png(results / "report" / n)
    md = (results / "report" / "summary.md").read_text(encoding="utf-8")
    cal = md[md.index("## Calibration"):]
    # settings
    assert ("Settings: population 40 particles per generation; 4 of at most 6 generations; "
            "800 simulations; model discrepancy 0.02") in cal
    assert "wall time 1 h 02 min" in cal and "`scenarios/demo.toml`" in cal
    # last ESS 12 of 40 (30%) is above 20%: no warning
    assert "few effective particles" not in cal
    # the known weighted posterior (module docstring)
    assert ("| true share of A, March | 0.1 to 0.9 | 0.4 | 0.2 to 0.5 | 58.3% |") in cal
    # one reading: no reading column, no probabilities
    assert "### Readings" not in cal and "reading |" not in cal
    # headline: whole population only, at each date, the last marked as the end
    assert "| 2022-03-15 | 29.8% (28.7%–32.3%) | 29.0% (28.2%–31.7%) | 2.6% (2.2%–3.0%) |" \
        in cal
    assert "| 2022-11-15 (end) | 32.8% (31.7%–35.3%) |" in cal
    assert "49.8%" not in cal  # the group rows (shifted by 0.2) are not in the headline
    # the figure the fitted model misses, and only that one
    assert ("2 of 3 published figures lie inside the 90% posterior predictive interval"
            in cal)
    assert "| March | stance | all | A | 39.0% | 30.0% | 25.0%–35.0% |" in cal
    assert "| March | stance | age 60+ | A |" not in cal.split("### Held-out")[0]
    # held-out rows only
    assert "1 of 3 held-out figures lie inside" in cal
    assert ("| fit March, predict November | November | stance | all | A | 13.0% | "
            "20.0% (16.0%–24.0%) | **no** |") in cal
    assert "| fit November, predict March | March | stance | age 60+ | A | 45.0% | " \
        "40.0% (35.0%–48.0%) | yes |" in cal
    # variants: the difference with its interval, the last time without a date
    assert ("| stress propaganda | 2022-11-15 | +2.0 pp (−1.0 pp to +5.0 pp) | "
            "+2.0 pp (−1.0 pp to +5.0 pp) | +2.0 pp (−1.0 pp to +5.0 pp) |") in cal
    assert "| crackdown lifted | sweep 9 (end) |" in cal
    # value of information, most narrowing first
    voi = cal[cal.index("### Which survey"):]
    assert "The most informative: **list experiment, n=2000**" in voi
    assert voi.index("direct poll, n=4000") < voi.index("direct poll, n=1000")
    assert "| list experiment, n=2000 | private | 10.0 pp | 6.0 pp | 40.0% |" in voi
    for n in cal_figs:
        assert f"![{n[:-4]}]({n})" in cal
    # the Monte Carlo bands get their footnote
    assert "(5th to 95th percentile).¹" in md
    assert "¹ These intervals across runs are Monte Carlo (run-to-run) noise at one " \
        "setting of the assumptions" in md
    assert "> Note:" not in md


def test_low_ess_warns_and_a_stop_is_stated(results):
    write_calibration(results, partial=True, ess=7.0,
                      stopped="generation 4 failed in pyabc (degenerate weights)")
    make_report(results)
    md = (results / "report" / "summary.md").read_text(encoding="utf-8")
    assert ("> **Warning:** the last generation's effective sample size is 7 of 40 particles "
            "(18%): the posterior rests on few effective particles; treat intervals as "
            "rough.") in md
    assert "Stopped early: generation 4 failed in pyabc (degenerate weights)." in md


def test_partial_folder(results):
    c = write_calibration(results, partial=True)
    assert sorted(p.name for p in c.iterdir()) == ["calibration.json", "generations.parquet",
                                                    "posterior.parquet"]
    paths = make_report(results)
    names = [p.name for p in paths]
    assert names[-5:] == ["posterior_marginals.png", "posterior_pairs.png",
                          "calibration_diagnostics.png", "report.html", "summary.md"]
    md = (results / "report" / "summary.md").read_text(encoding="utf-8")
    assert "| true share of A, March | 0.1 to 0.9 | 0.4 | 0.2 to 0.5 | 58.3% |" in md
    assert "No posterior predictive yet" in md
    for absent in ("### Headline", "still misses", "### Held-out", "### Variants",
                   "Which survey", "> Note:"):
        assert absent not in md
    assert "¹ These intervals across runs" in md  # a posterior exists: the footnote too


def test_figures_held_out_of_the_fit_are_told_apart(results):
    c = write_calibration(results)
    pred = pd.read_parquet(c / "predictive.parquet")
    pred["held_out"] = [False, False, True]
    pred["inside"] = [False, True, False]
    pred.to_parquet(c / "predictive.parquet", index=False)
    rep = calibration_report(c, results / "report")
    assert ("1 of 2 fitted figures lie inside the 90% posterior predictive interval of the "
            "simulated poll of the same design; of the figures held out of the fit, 0 of 1."
            ) in rep.markdown
    assert "| March | stance | all | A | fitted | 39.0% |" in rep.markdown
    assert "| November | stance | all | A | held out | 13.0% |" in rep.markdown
    assert "predictive.png" in [p.name for p in rep.files]


def test_garbled_and_missing_files_are_skipped_with_a_note(results):
    c = write_calibration(results)
    (c / "predictive.parquet").write_bytes(b"PAR1 this is not parquet")
    pd.read_parquet(c / "outcomes.parquet").drop(columns="median").to_parquet(
        c / "outcomes.parquet", index=False)
    (c / "voi.parquet").unlink()
    (c / "calibration.json").write_text('{"population": 40, "priors": [', encoding="utf-8")
    paths = make_report(results)  # no traceback
    names = [p.name for p in paths]
    assert "predictive.png" not in names and "voi.png" not in names
    assert {"posterior_marginals.png", "loo.png", "variants.png"} <= set(names)
    md = (results / "report" / "summary.md").read_text(encoding="utf-8")
    assert "> Note: calibration/predictive.parquet: cannot be read (" in md
    assert "> Note: calibration/outcomes.parquet: no column median; skipped" in md
    assert "> Note: calibration/calibration.json: cannot be read (JSONDecodeError" in md
    assert "voi.parquet" not in md  # simply absent: no note
    # without calibration.json the assumptions are the posterior's columns, ranges unknown
    assert "| initial.shares.A | not recorded | 0.4 | 0.2 to 0.5 | – |" in md
    assert "still misses" not in md and "### Headline" not in md


def test_a_figure_that_fails_is_left_out_with_a_note(results):
    c = write_calibration(results, partial=True)
    # a readable table whose values cannot be drawn
    pd.DataFrame({"t": [0, 1], "epsilon": ["a", "b"], "samples": [1, 2],
                  "acceptance": [0.5, 0.5], "ess": [3.0, 2.0]}).to_parquet(
        c / "generations.parquet", index=False)
    rep = calibration_report(c, results / "report", name="demo")
    assert "calibration_diagnostics.png" not in [p.name for p in rep.files]
    assert "> Note: calibration_diagnostics.png not drawn (ValueError" in rep.markdown


def test_several_readings(results):
    write_calibration(results, readings=True)
    make_report(results)
    md = (results / "report" / "summary.md").read_text(encoding="utf-8")
    assert ("the hiding reading: 0.83; the method-artefact reading: 0.17 (posterior "
            "probabilities given these figures, equal prior odds)") in md
    assert "- **method-artefact**: the March poll's method inflated the share (fixes " \
        "`expression.enforcement` = 0)" in md
    # one row per assumption and reading; the fixed assumption says so
    assert "| true share of A, March | hiding | 0.1 to 0.9 | 0.4 | 0.2 to 0.5 | 58.3% |" in md
    # and all readings pooled by probability (as `steppe calibrate` prints them): the same
    # for the share; for the sanction, 17% of the weight sits at the method reading's 0
    assert ("| true share of A, March | all readings, by probability | 0.1 to 0.9 | 0.4 | "
            "0.2 to 0.5 | 58.3% |") in md
    post = pd.read_parquet(results / "calibration" / "posterior.parquet")
    x = post["expression.enforcement"].fillna(0.0)
    w = np.where(post["reading"] == "hiding", 0.83, 0.17) * post["weight"]
    lo, med, hi = weighted_quantile(x, w, [0.05, 0.5, 0.95])
    assert lo == 0 and 0.9 < med < hi < 1.3
    assert (f"| sanction on voicing A (enforcement) | all readings, by probability | 0 to 2 "
            f"| {med:.3g} | 0 to {hi:.3g} | {1 - hi / (0.9 * 2):.1%} |") in md
    assert "| true share of A, March | method-artefact | 0.1 to 0.9 | 0.4 |" in md
    assert ("| sanction on voicing A (enforcement) | method-artefact | 0 to 2 | fixed at 0 "
            "| – | – |") in md
    # one colour per reading: the first blue, the second vermillion
    fig = results / "report" / "posterior_marginals.png"
    assert colour_pixels(fig, BLUE) > 200
    assert colour_pixels(fig, VERMILLION) > 200
    # the diagnostics get a fourth panel, the readings' probabilities (2 x 2, not 1 x 3)
    diag = imread(results / "report" / "calibration_diagnostics.png")
    assert diag.shape[0] / diag.shape[1] > 0.5


def test_a_reading_that_leaves_an_assumption_as_written():
    post = pd.DataFrame({"reading": ["a", "a", "b", "b"], "x": [0.2, 0.4, np.nan, np.nan],
                         "weight": [0.5, 0.5, 0.5, 0.5]})
    cal = CalibrationResults(Path("c"), {}, [PriorRange("x share", ("x",), 0.0, 1.0)],
                             [Reading("a", free=("x",)), Reading("b", free=())],
                             posterior=post)
    md = calibration_markdown(cal)
    assert "| x share | a | 0 to 1 | 0.2 | 0.2 to 0.4 | 77.8% |" in md
    assert "| x share | b | 0 to 1 | not varied (as written) | – | – |" in md
    # no readings.parquet: no probabilities, and no pooled row
    assert "were not recorded" in md and "all readings" not in md


def test_one_reading_draws_one_colour(results):
    write_calibration(results, partial=True)
    rep = calibration_report(results / "calibration", results / "report")
    fig = results / "report" / "posterior_marginals.png"
    assert fig in rep.files
    assert colour_pixels(fig, BLUE) > 200
    assert colour_pixels(fig, VERMILLION) == 0
    diag = imread(results / "report" / "calibration_diagnostics.png")
    assert diag.shape[0] / diag.shape[1] < 0.4  # three panels in a row


def test_most_constrained_assumptions_first(results):
    write_calibration(results, partial=True)
    cal = read_calibration(results / "calibration")
    # enforcement (interval within 0.9–1.3 of 0–2) before the share (58.3%) before the
    # ties per person (spread over the whole range)
    assert [p.key for p in _constrained(cal)] == ["expression.enforcement",
                                                  "initial.shares.A",
                                                  "network.mean_degree"]
    assert [p.key for p in _constrained(cal, 2)] == ["expression.enforcement",
                                                     "initial.shares.A"]


def test_without_a_calibration_the_summary_is_unchanged(results):
    make_report(results)
    md = (results / "report" / "summary.md").read_text(encoding="utf-8")
    assert "## Calibration" not in md and "¹" not in md


def test_a_folder_with_only_a_calibration(tmp_path):
    d = tmp_path / "only"
    write_calibration(d)
    paths = make_report(d)
    assert paths[-1] == d / "report" / "summary.md"
    assert len(paths) == 9  # the figures, report.html (an intended addition), summary.md
    md = paths[-1].read_text(encoding="utf-8")
    # titled by the calibrated scenario file (no metadata.json here)
    assert md.startswith("# demo\n\n## Calibration\n")
