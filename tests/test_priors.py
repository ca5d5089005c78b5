"""Prior distributions over an assumption's range (``steppe.priors``): the quantile
function gives draws from the declared distribution, the density is its derivative, and
the scenario refuses a prior that does not fit the range, with a message naming the field.

Each distribution is checked against a CDF written out here independently of the module
(closed forms, or the error function), with a Kolmogorov-Smirnov test of 4,000 draws at
alpha = 0.001 (critical value 1.949 / sqrt(n), the asymptotic Kolmogorov distribution)."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from steppe import priors as pr
from steppe.assembly import load_scenario
from steppe.errors import ScenarioError
from steppe.experiments.calibrate import Prior, priors, readings
from steppe.experiments.gsa import factors


def _phi(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.vectorize(math.erf)(np.asarray(x) / math.sqrt(2)))


def _beta_cdf(a: int, b: int):
    """Beta(a, b) CDF for whole a, b: P(Binomial(a + b - 1, x) >= a)."""
    n = a + b - 1
    return lambda x: sum(math.comb(n, j) * x ** j * (1 - x) ** (n - j) for j in range(a, n + 1))


LOW, HIGH = 0.1, 2.0
CASES = [
    (None, lambda x: (x - LOW) / (HIGH - LOW)),
    ({"dist": "beta", "a": 2, "b": 5},
     lambda x: _beta_cdf(2, 5)((x - LOW) / (HIGH - LOW))),
    ({"dist": "normal", "mean": 0.4, "sd": 0.5},
     lambda x: (_phi((x - 0.4) / 0.5) - _phi((LOW - 0.4) / 0.5))
     / (_phi((HIGH - 0.4) / 0.5) - _phi((LOW - 0.4) / 0.5))),
    ({"dist": "lognormal", "mu": 0.0, "sigma": 1.0},
     lambda x: (_phi(np.log(x)) - _phi(math.log(LOW))) / (_phi(math.log(HIGH))
                                                          - _phi(math.log(LOW)))),
    ({"dist": "loguniform"}, lambda x: np.log(x / LOW) / math.log(HIGH / LOW)),
    ({"dist": "triangular", "mode": 0.5},
     lambda x: np.where(x <= 0.5, (x - LOW) ** 2 / ((HIGH - LOW) * (0.5 - LOW)),
                        1 - (HIGH - x) ** 2 / ((HIGH - LOW) * (HIGH - 0.5)))),
]
IDS = ["uniform", "beta", "normal", "lognormal", "loguniform", "triangular"]


@pytest.mark.parametrize(("table", "cdf"), CASES, ids=IDS)
def test_logistic_draws_follow_the_declared_prior(table, cdf):
    """The calibration samples on the logit scale from a standard logistic: through
    ``Prior.value`` those draws must follow the declared distribution over the range."""
    n = 4000
    u = np.random.default_rng(5).logistic(size=n)
    p = Prior("x", ("x",), LOW, HIGH, pr.from_dict(table))
    x = np.sort(p.value(u))
    assert LOW <= x[0] and x[-1] <= HIGH
    f = cdf(x)
    ks = max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))
    assert ks < 1.949 / math.sqrt(n)


@pytest.mark.parametrize(("table", "cdf"), CASES, ids=IDS)
def test_density_is_the_derivative_of_the_cdf(table, cdf):
    spec = pr.from_dict(table)
    x = np.linspace(LOW + 1e-3, HIGH - 1e-3, 400)
    h = 1e-5
    numeric = (cdf(x + h) - cdf(x - h)) / (2 * h)
    np.testing.assert_allclose(pr.density(spec, LOW, HIGH, x), numeric, rtol=1e-4,
                               atol=1e-6)
    assert pr.density(spec, LOW, HIGH, np.array([LOW - 0.01, HIGH + 0.01])).tolist() == \
        [0.0, 0.0]
    # the quantile function inverts the CDF
    q = np.array([0.05, 0.5, 0.95])
    np.testing.assert_allclose(cdf(pr.quantile(spec, LOW, HIGH, q)), q, atol=1e-9)


def _scenario(**prior) -> dict:
    a = {"name": "share of A", "path": "initial.shares.A", "low": 0.1, "high": 0.9}
    if prior:
        a["prior"] = prior
    return {"name": "p", "seed": 1, "network": {"kind": "complete", "n": 50},
            "model": {"name": "voter"}, "initial": {"shares": {"A": 0.5, "B": "rest"}},
            "stop": {"max_sweeps": 1}, "assumptions": [a]}


def test_priors_reach_the_calibration_and_the_global_analyses():
    sc = load_scenario(_scenario(dist="beta", a=2, b=2))
    (p,) = priors(sc)
    assert p.text == "beta(2, 2) over 0.1 to 0.9"
    assert p.value(0.0) == pytest.approx(0.5)       # the symmetric beta's median
    (f,) = factors(sc)
    assert f.values(np.array([0.5])) == [pytest.approx(0.5)]
    # Beta(2, 2)'s lower quartile, x^2 (3 - 2x) = 1/4: x = 0.326352...
    assert f.values(np.array([0.25]))[0] == pytest.approx(0.1 + 0.8 * 0.3263518, abs=1e-6)


def test_a_reading_truncates_the_prior_to_its_range():
    sc = _scenario(dist="normal", mean=0.5, sd=0.2)
    sc["readings"] = [{"name": "low", "ranges": {"initial.shares.A": [0.1, 0.5]}}]
    (r,) = readings(load_scenario(sc))
    (p,) = r.priors
    assert (p.low, p.high, p.dist.dist) == (0.1, 0.5, "normal")
    assert p.at(1.0) == 0.5


@pytest.mark.parametrize(("prior", "says"), [
    ({"dist": "beta", "a": -1, "b": 2}, "greater than 0"),
    ({"dist": "normal", "mean": 5.0, "sd": 0.1}, "less than 1% of its mass in [0.1, 0.9]"),
    ({"dist": "triangular", "mode": 1.5}, "mode must lie in [0.1, 0.9]"),
    ({"dist": "gamma", "k": 2}, "dist"),
    ({"dist": "normal", "mean": 0.5, "sd": 0.1, "skew": 1}, "skew"),
])
def test_a_prior_that_does_not_fit_is_refused(prior, says):
    with pytest.raises(ScenarioError) as err:
        load_scenario(_scenario(**prior))
    assert says in str(err.value) and "assumptions" in str(err.value)


def test_log_uniform_needs_a_positive_range():
    sc = _scenario(dist="loguniform")
    sc["assumptions"][0]["low"] = 0.0
    with pytest.raises(ScenarioError, match="log-uniform prior needs low > 0"):
        load_scenario(sc)


def test_a_reading_range_the_prior_barely_reaches_is_refused():
    sc = _scenario(dist="normal", mean=0.2, sd=0.02)
    sc["readings"] = [{"name": "high", "ranges": {"initial.shares.A": [0.6, 0.9]}}]
    with pytest.raises(ScenarioError, match="reading 'high': the prior of assumption"):
        load_scenario(sc)


def test_cli_names_the_field_and_exits_2(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('''name = "p"
seed = 1
network = { kind = "complete", n = 50 }
model = { name = "voter" }
initial = { shares = { A = 0.5, B = "rest" } }
stop = { max_sweeps = 1 }
[[assumptions]]
name = "share of A"
path = "initial.shares.A"
low = 0.1
high = 0.9
prior = { dist = "beta", a = 0, b = 2 }
''')
    res = subprocess.run([sys.executable, "-m", "steppe", "run", str(f), "--out",
                          str(tmp_path / "out")],
                         capture_output=True, text=True)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr + res.stdout
    out = " ".join((res.stderr + res.stdout).split())
    assert "s.toml" in out and "assumptions.0.prior.a" in out and "greater than 0" in out
    assert not (tmp_path / "out").exists()


def test_the_report_reads_and_states_the_prior():
    from steppe.report.calibration import _priors

    meta = {"priors": [{"name": "a", "fields": ["a"], "low": 0.0, "high": 1.0,
                        "prior": {"dist": "beta", "a": 2, "b": 2}},
                       {"name": "b", "fields": ["b"], "low": 0.0, "high": 2.0, "prior": None},
                       {"name": "c", "fields": ["c"], "low": 0.0, "high": 1.0,
                        "prior": {"dist": "beta", "a": "two"}}]}
    notes: list[str] = []
    a, b = _priors(meta, None, notes)
    assert (a.text, b.text) == ("beta(2, 2) over 0 to 1", "0 to 2")
    assert notes and "unreadable 'prior'" in notes[0]
    # the prior's central 90%: Beta(2, 2)'s 5% point solves x^2 (3 - 2x) = 0.05
    lo, hi = 0.0, 0.5
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mid * mid * (3 - 2 * mid) < 0.05 else (lo, mid)
    assert a.spread() == pytest.approx(1 - 2 * lo, abs=1e-9)
    assert b.spread() == pytest.approx(0.9 * 2.0)
