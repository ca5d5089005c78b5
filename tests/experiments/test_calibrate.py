"""steppe calibrate: priors from the assumptions, a posterior that recovers known
parameters, resume from pyabc's database, the command line and its errors."""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys

import numpy as np
import pytest

if importlib.util.find_spec("pyabc") is None:  # not imported here: see import_pyabc
    pytest.skip("pyabc is not installed (pip install 'steppe[calibrate]')",
                allow_module_level=True)

from steppe.assembly import load_scenario
from steppe.errors import SteppeError
from steppe.experiments.calibrate import calibrate, priors, target_scales
from steppe.observe.targets import read_targets


def _scenario(tmp_path, value: float, n: int = 400, name: str = "t.csv") -> dict:
    """A population that does not move before its poll (sweep 0): the published share of A
    is a draw of the poll's sampling distribution, so the posterior of the true share is
    (nearly) the binomial one."""
    (tmp_path / name).write_text(f"poll,question,by,level,answer,value\np,stance,all,all,A,"
                                 f"{value}\n")
    return {"name": "cal", "seed": 3, "runs": 1, "network": {"kind": "complete", "n": 5000},
            "model": {"name": "voter"}, "stop": {"max_sweeps": 1, "at_consensus": False},
            "initial": {"shares": {"A": 0.5, "B": "rest"}},
            "polls": [{"at": 0, "n": n, "name": "p"}],
            "report": {"targets": str(tmp_path / name)},
            "assumptions": [{"name": "share of A", "path": "initial.shares.A", "low": 0.05,
                             "high": 0.95}]}


def test_importing_pyabc_leaves_the_thread_settings_alone():
    from steppe.experiments.calibrate import import_pyabc

    before = os.environ.get("OMP_NUM_THREADS")
    import_pyabc()
    assert os.environ.get("OMP_NUM_THREADS") == before


def test_priors_and_scales(tmp_path):
    sc = load_scenario(_scenario(tmp_path, 0.3))
    (p,) = priors(sc)
    assert (p.name, p.paths, p.low, p.high) == ("share of A", ("initial.shares.A",), 0.05,
                                                0.95)
    t = read_targets(tmp_path / "t.csv")
    s = target_scales(sc, t, runs=2, discrepancy=0.02)
    # s^2 = y (1 - y) / n + delta^2 with the poll's n (unweighted: n_eff = n)
    assert s[0] == pytest.approx(math.sqrt(0.3 * 0.7 / 400 + 0.02 ** 2))


def test_recovers_a_known_share(tmp_path):
    """The published figure is the truth (0.35) exactly: the 90% credible interval must hold
    it and be about as wide as the poll's own 90% interval (1.645 x 2 x sqrt(p(1-p)/n) =
    0.078), within a factor 2 (ABC tolerance and the simulated poll's own noise widen it)."""
    res = calibrate(_scenario(tmp_path, 0.35), out=tmp_path, population=100, generations=5,
                    discrepancy=0.0)
    med, lo, hi = res.interval("initial.shares.A")
    assert lo < med < hi and lo < 0.35 < hi
    poll_width = 2 * 1.645 * math.sqrt(0.35 * 0.65 / 400)
    assert poll_width / 2 < hi - lo < 2.5 * poll_width
    g = res.generations
    assert list(g["t"]) == [0, 1, 2, 3, 4]
    assert np.all(np.diff(g["epsilon"]) < 0)           # the tolerance shrinks
    assert res.posterior["weight"].sum() == pytest.approx(1.0)


def test_an_informative_prior_gives_the_exact_abc_posterior(tmp_path):
    """A normal(0.45, 0.04) prior on the true share, a published 0.30 from a poll of 400
    (se 0.023): the posterior is pulled from 0.30 towards the prior (to 0.38 at the last
    tolerance of this short run, about 3 standard errors).

    The exact ABC posterior at the last tolerance eps is prior(p) x P(|k/400 - 0.30| <=
    eps s), with k hypergeometric (400 drawn from 5,000 agents, round(5000 p) of them A).
    Its median must match the weighted median of the particles within 4 standard errors of
    a median, 1 / (2 f(m) sqrt(ESS)) (0.02 here). A calibration that ignored the prior
    would land near 0.30, some 15 of those standard errors away."""
    from scipy.stats import hypergeom

    from steppe import priors as pr

    y, n, big = 0.30, 400, 5000
    sc = _scenario(tmp_path, y, n=n)
    sc["assumptions"][0]["prior"] = {"dist": "normal", "mean": 0.45, "sd": 0.04}
    res = calibrate(sc, out=tmp_path, population=100, generations=4, discrepancy=0.0,
                    screening=0)
    eps = float(res.generations["epsilon"].iloc[-1])
    s = math.sqrt(y * (1 - y) / n)
    k_lo, k_hi = math.ceil(n * (y - eps * s) - 1e-9), math.floor(n * (y + eps * s) + 1e-9)
    big_k = np.arange(round(0.05 * big), round(0.95 * big) + 1)
    p = big_k / big
    like = hypergeom.cdf(k_hi, big, big_k, n) - hypergeom.cdf(k_lo - 1, big, big_k, n)
    post = pr.density(pr.Normal(dist="normal", mean=0.45, sd=0.04), 0.05, 0.95, p) * like
    cdf = np.cumsum(post) / post.sum()
    exact = float(np.interp(0.5, cdf, p))
    f_m = (np.interp(exact + 0.01, p, cdf) - np.interp(exact - 0.01, p, cdf)) / 0.02
    w = res.posterior["weight"].to_numpy()
    ess = w.sum() ** 2 / (w ** 2).sum()
    med, _, _ = res.interval("initial.shares.A")
    assert abs(med - exact) < 4 / (2 * f_m * math.sqrt(ess))
    assert exact > y + 0.02


def test_resume_continues_the_same_history(tmp_path):
    sc = _scenario(tmp_path, 0.6)
    first = calibrate(sc, out=tmp_path, population=50, generations=2)
    more = calibrate(sc, out=tmp_path, population=50, generations=3)
    assert list(more.generations["t"]) == [0, 1, 2]
    assert more.generations["epsilon"].iloc[:2].tolist() == \
        first.generations["epsilon"].tolist()
    again = calibrate(sc, out=tmp_path, population=50, generations=2, resume=False)
    assert list(again.generations["t"]) == [0, 1]


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_credible_intervals_cover_the_truth(tmp_path):
    """Coverage: 40 synthetic published figures drawn from the poll's sampling distribution
    around a known share; the 90% credible interval holds the truth in about 90% of them.
    Binomial tolerance: 4 standard errors of a proportion over 40 repetitions (±0.19)."""
    rng = np.random.default_rng(11)
    truth, n, reps, hits = 0.4, 400, 40, 0
    for k in range(reps):
        y = rng.binomial(n, truth) / n
        sub = tmp_path / f"r{k}"
        sub.mkdir()
        res = calibrate(_scenario(sub, y), out=sub, population=40, generations=4,
                        discrepancy=0.0, pilot_runs=1)
        _, lo, hi = res.interval("initial.shares.A")
        hits += lo <= truth <= hi
    se = math.sqrt(0.9 * 0.1 / reps)
    assert abs(hits / reps - 0.9) < 4 * se


def test_cli_writes_the_posterior(tmp_path):
    import json

    sc = _scenario(tmp_path, 0.3)
    toml = f"""name = "cal"
seed = 3
runs = 1
network = {{ kind = "complete", n = 5000 }}
model = {{ name = "voter" }}
stop = {{ max_sweeps = 1, at_consensus = false }}
initial = {{ shares = {{ A = 0.5, B = "rest" }} }}
report = {{ targets = "{sc['report']['targets']}" }}

[[polls]]
at = 0
n = 400
name = "p"

[[assumptions]]
name = "share of A"
path = "initial.shares.A"
low = 0.05
high = 0.95
"""
    (tmp_path / "s.toml").write_text(toml)
    p = subprocess.run([sys.executable, "-m", "steppe", "calibrate", "s.toml", "--out", "out",
                        "--population", "40", "--generations", "2", "--workers", "1"],
                       cwd=tmp_path,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert "posterior" in p.stdout and "share of A" in p.stdout
    folder = tmp_path / "out" / "calibration"
    assert {"posterior.parquet", "generations.parquet", "calibration.json",
            "calibration.db"} <= {f.name for f in folder.iterdir()}
    meta = json.loads((folder / "calibration.json").read_text())
    assert meta["priors"][0]["fields"] == ["initial.shares.A"]


def test_nothing_to_calibrate_is_refused(tmp_path):
    sc = _scenario(tmp_path, 0.3)
    del sc["assumptions"]
    with pytest.raises(SteppeError, match="nothing to calibrate"):
        calibrate(sc, out=tmp_path)
    sc = _scenario(tmp_path, 0.3)
    del sc["report"]
    with pytest.raises(SteppeError, match="no published figures"):
        calibrate(sc, out=tmp_path)
    sc = _scenario(tmp_path, 0.3)
    (tmp_path / "t.csv").write_text("poll,question,by,level,answer,value\nq,stance,all,all,"
                                    "A,0.3\n")
    with pytest.raises(SteppeError, match="no simulated counterpart"):
        calibrate(sc, out=tmp_path)


def test_posterior_predictive(tmp_path):
    """On a population that does not move, each draw's private share at the poll is its
    parameter value (exact counts of 5,000 agents): the outcomes' median equals the
    posterior's weighted median within the resampling error of 100 draws (4 x 1.2533 x
    sd / sqrt(100)); the published figure is inside its predictive interval."""
    from steppe.experiments.calibrate import posterior_predictive

    sc = _scenario(tmp_path, 0.35)
    res = calibrate(sc, out=tmp_path, population=100, generations=4, discrepancy=0.0)
    pred = posterior_predictive(res, sc, draws=100, seed=1)
    assert bool(pred.figures["inside"].iloc[0])
    o = pred.outcomes
    at0 = o[(o["time"] == 0) & (o["by"] == "all") & (o["measure"] == "private")].iloc[0]
    post = res.posterior
    w = post["weight"].to_numpy()
    mean = float(np.sum(w * post["initial.shares.A"]))
    sd = float(np.sqrt(np.sum(w * (post["initial.shares.A"] - mean) ** 2)))
    med, _, _ = res.interval("initial.shares.A")
    assert abs(at0["median"] - med) < 4 * 1.2533 * sd / 10 + 1 / 5000
    hidden = o[(o["measure"] == "hidden") & (o["by"] == "all")]
    assert np.allclose(hidden[["low", "median", "high"]], 0.0)   # nobody hides here
    assert len(pred.draws) == 100


def test_resume_refuses_another_calibration(tmp_path):
    calibrate(_scenario(tmp_path, 0.6), out=tmp_path, population=20, generations=1)
    with pytest.raises(SteppeError, match="fitted other figures"):
        calibrate(_scenario(tmp_path, 0.3), out=tmp_path, population=20, generations=2)
    # the same figures under another prior: the stored logit-scale values would mean other
    # shares
    sc = _scenario(tmp_path, 0.6)
    sc["assumptions"][0]["prior"] = {"dist": "beta", "a": 2, "b": 2}
    with pytest.raises(SteppeError, match="drew from other priors"):
        calibrate(sc, out=tmp_path, population=20, generations=2)


def test_model_choice_between_readings(tmp_path):
    """Published 0.30 from a poll of 400 (se 0.023): a reading that fixes the true share at
    0.70 is 17 standard errors away and must lose; the free reading must win."""
    sc = _scenario(tmp_path, 0.30)
    sc["readings"] = [{"name": "free", "description": "any share"},
                      {"name": "high", "fix": {"initial.shares.A": 0.7}}]
    res = calibrate(sc, out=tmp_path, population=60, generations=3, discrepancy=0.0)
    assert [r.name for r in res.readings] == ["free", "high"]
    assert res.probability("free") > 0.95 and res.probability("high") < 0.05
    assert set(res.probabilities["reading"]) == {"free", "high"}
    _, lo, hi = res.interval("initial.shares.A", reading="free")
    assert lo < 0.30 < hi


def test_a_reading_can_narrow_a_range(tmp_path):
    sc = _scenario(tmp_path, 0.30)
    sc["readings"] = [{"name": "low", "ranges": {"initial.shares.A": [0.05, 0.5]}}]
    res = calibrate(sc, out=tmp_path, population=40, generations=2)
    assert res.readings[0].priors[0].high == 0.5
    assert res.posterior["initial.shares.A"].max() <= 0.5


def test_hold_out_predicts_what_was_not_fitted(tmp_path):
    """Two polls of the same population: fitted on one, the other (held out, published
    within its sampling error of the truth) falls inside its predictive interval; a
    filter that matches nothing is refused with the choices."""
    from steppe.errors import ParameterError
    from steppe.experiments.calibrate import held_out, posterior_predictive

    sc = _scenario(tmp_path, 0.35)
    (tmp_path / "t.csv").write_text("poll,question,by,level,answer,value\n"
                                    "p,stance,all,all,A,0.35\nq,stance,all,all,A,0.33\n")
    sc["polls"].append({"at": 0, "n": 400, "name": "q"})
    res = calibrate(sc, out=tmp_path, population=60, generations=3, hold_out=["poll=q"])
    assert res.targets["held_out"].tolist() == [False, True]
    assert res.settings["hold_out"] == ["poll=q"]
    pred = posterior_predictive(res, sc, draws=40)
    assert pred.figures["held_out"].tolist() == [False, True]
    assert bool(pred.figures["inside"].iloc[1])
    with pytest.raises(ParameterError, match="matches no published figure"):
        held_out(res.targets, ["poll=nope"])
    with pytest.raises(ParameterError, match="column=value"):
        held_out(res.targets, ["poll"])


def test_screening_finds_what_moves_the_figures(tmp_path):
    """The poll's confidence level changes no estimate: its influence is below the noise
    floor (the dummy's); the true share moves the figure by (0.95 - 0.05) / 0.023 = 39
    standard errors across its range."""
    from steppe.experiments.calibrate import Prior, _Simulator, screen

    sc = load_scenario(_scenario(tmp_path, 0.3))
    t = read_targets(tmp_path / "t.csv")
    ps = [Prior("share", ("initial.shares.A",), 0.05, 0.95),
          Prior("confidence", ("polls.0.confidence",), 0.8, 0.99)]
    sim = _Simulator(sc, t, ps, target_scales(sc, t, runs=1))
    res = screen(sim, trajectories=4, seed=1).set_index("key")
    assert bool(res.loc["initial.shares.A", "influential"])
    assert res.loc["initial.shares.A", "influence"] > 20
    assert not bool(res.loc["polls.0.confidence", "influential"])
    # with common random numbers a step in the confidence changes nothing at all: its
    # influence is minus the noise floor, the dummy's mean |difference| of two independent
    # polls, E|N(0, 2)| = 1.13 standard errors (4 trajectories: a rough estimate)
    assert res.loc["polls.0.confidence", "influence"] <= 0
    assert 0.3 < res.loc["polls.0.confidence", "noise"] < 3


def test_variant_effects_keep_the_variants_own_settings(tmp_path):
    """A variant that sets the assumption itself (true share 0.9) keeps it in every draw:
    its private share at sweep 0 is 0.9 exactly and the effect is 0.9 minus the baseline's
    draw by draw."""
    from steppe.experiments.calibrate import posterior_predictive, variant_effects

    sc = _scenario(tmp_path, 0.35)
    res = calibrate(sc, out=tmp_path, population=40, generations=2)
    base = posterior_predictive(res, sc, draws=20, seed=2)
    var = {**sc, "initial": {"shares": {"A": 0.9, "B": "rest"}}}
    eff = variant_effects(res, sc, {"ninety": var}, draws=20, seed=2, baseline=base)
    row = eff[(eff["time"] == 0) & (eff["by"] == "all") & (eff["measure"] == "private")]
    assert row["median"].iloc[0] == pytest.approx(0.9)
    b = base.per_draw
    b0 = b[(b["time"] == 0) & (b["by"] == "all")]["private"]
    assert row["diff_median"].iloc[0] == pytest.approx(0.9 - b0.median(), abs=1e-9)


def test_value_of_information_ranks_designs(tmp_path):
    """Nobody hides here, so a direct question of 1,000 (se 0.015) measures the private
    share far better than a list experiment of 1,000 with four items (se about 0.06): it
    must narrow the interval more; no narrowing reaches 1 (a poll has sampling error)."""
    from steppe.experiments.design import Candidate
    from steppe.experiments.voi import value_of_information

    sc = _scenario(tmp_path, 0.35)
    sc["polls"][0]["list_experiment"] = {"sensitive": "A", "items": 3}
    res = calibrate(sc, out=tmp_path, population=60, generations=2)
    cands = [("list", Candidate(1000, items=4), None), ("direct", Candidate(1000), None)]
    voi = value_of_information(res, sc, candidates=cands, draws=60)
    v = voi.set_index("design")
    assert v.loc["direct", "narrowing"] > v.loc["list", "narrowing"]
    assert ((voi["narrowing"] > -0.1) & (voi["narrowing"] < 1)).all()
    assert (voi["width_now"] > 0).all()


def test_kernel_perturbs_only_the_most_influential(tmp_path):
    """Two assumptions, a kernel over one: the screening ranks them, the kernel perturbs
    the share (which moves the figure), the confidence level (which moves nothing) comes
    from its prior, and the weights stay usable (ESS at least 30% of the particles: with
    one perturbed dimension the smooth-density rule aims at 80%)."""
    sc = _scenario(tmp_path, 0.3)
    sc["polls"][0]["confidence"] = 0.95
    sc["assumptions"].append({"name": "confidence", "path": "polls.0.confidence",
                              "low": 0.8, "high": 0.99})
    res = calibrate(sc, out=tmp_path, population=60, generations=3, kernel_dims=1,
                    screening=3)
    assert res.settings["perturbed"] == ["initial.shares.A"]
    scr = res.screening.set_index("key")
    assert bool(scr.loc["initial.shares.A", "perturbed"])
    assert not bool(scr.loc["polls.0.confidence", "perturbed"])
    assert (res.generations["ess"] >= 0.3 * 60).all()
    # the confidence level is not identified: its posterior spans most of its range
    _, lo, hi = res.interval("polls.0.confidence")
    assert hi - lo > 0.5 * (0.99 - 0.8)


def test_cli_holds_out_runs_variants_and_values_information(tmp_path):
    import json

    import pandas as pd

    (tmp_path / "t.csv").write_text("poll,question,by,level,answer,value\n"
                                    "p,stance,all,all,A,0.30\nq,stance,all,all,A,0.32\n")
    base = """name = "cal"
seed = 3
runs = 1
network = { kind = "complete", n = 3000 }
model = { name = "voter" }
stop = { max_sweeps = 1, at_consensus = false }
initial = { shares = { A = 0.5, B = "rest" } }
report = { targets = "t.csv" }

[[polls]]
at = 0
n = 400
name = "p"
list_experiment = { sensitive = "A", items = 3 }

[[polls]]
at = 0
n = 400
name = "q"

[[assumptions]]
name = "share of A"
path = "initial.shares.A"
low = 0.05
high = 0.95

[[readings]]
name = "free"

[[readings]]
name = "even"
fix = { "initial.shares.A" = 0.5 }
"""
    (tmp_path / "s.toml").write_text(base)
    (tmp_path / "v.toml").write_text('extends = "s.toml"\nname = "v"\n[overrides]\n'
                                     '"initial.shares.A" = 0.9\n')
    args = [sys.executable, "-m", "steppe", "calibrate", "s.toml", "--out", "out",
            "--population", "30", "--generations", "2", "--predictive", "12", "--workers", "1"]
    p = subprocess.run([*args, "--hold-out", "poll=q", "--variant", "v.toml", "--voi"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr
    assert "readings (posterior probability" in p.stdout and "held out" in p.stdout
    assert "value of information" in p.stdout and "variants at the end" in p.stdout
    top = tmp_path / "out" / "calibration"
    folder = top / "loo" / "poll-q"
    assert {"posterior.parquet", "readings.parquet", "variants.parquet", "voi.parquet",
            "predictive.parquet"} <= {f.name for f in folder.iterdir()}
    loo = pd.read_parquet(top / "loo.parquet")
    assert set(loo["check"]) == {"hold out poll=q"} and loo["held_out"].tolist() == [False,
                                                                                      True]
    meta = json.loads((folder / "calibration.json").read_text())
    assert [r["name"] for r in meta["readings"]] == ["free", "even"]
    bad = subprocess.run([*args, "--hold-out", "poll=nope"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2
    assert "matches no published figure" in bad.stderr and "Traceback" not in bad.stderr


def test_runs_on_a_dask_scheduler(tmp_path):
    """The same calibration through a Dask scheduler (an in-process cluster here): pyabc's
    Dask sampler runs the simulations on the cluster's workers."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address="127.0.0.1:0") as cluster:
        res = calibrate(_scenario(tmp_path, 0.35), out=tmp_path, population=30,
                        generations=2, scheduler=cluster.scheduler_address, workers=None)
    assert list(res.generations["t"]) == [0, 1]
    _, lo, hi = res.interval("initial.shares.A")
    assert lo < 0.35 < hi


def test_time_budget_stops_between_generations(tmp_path):
    """No generation starts that would not end within the budget: with a budget shorter
    than the first generation, the calibration keeps that one and says why it stopped."""
    res = calibrate(_scenario(tmp_path, 0.35), out=tmp_path, population=20, generations=5,
                    max_seconds=1e-3)
    assert list(res.generations["t"]) == [0]
    assert "time budget" in res.settings["stopped"]
    assert (res.generations["seconds"] > 0).all()
