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
                        "--population", "40", "--generations", "2"], cwd=tmp_path,
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
