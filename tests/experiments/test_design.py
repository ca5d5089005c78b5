"""steppe design: the snapshot a candidate polls is the run's state at the poll date, the
power agrees with the exact sampling distribution, the list designs carry their biases,
and bad requests are refused clearly."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import hypergeom
from typer.testing import CliRunner

from steppe.assembly import assemble, execute, load_scenario
from steppe.cli import app
from steppe.errors import ParameterError, SteppeError
from steppe.experiments.design import Candidate, _Snapshot, design_analysis
from steppe.observe.polls import run_poll
from steppe.rng import Stream, stream_seed

N = 20_000


def _static(share_a: float, name: str = "static") -> dict:
    """A population that does not move before the poll (taken at sweep 0), with exact
    initial counts: the estimates vary only by sampling (hypergeometric counts)."""
    return {"name": name, "seed": 4, "runs": 1, "network": {"kind": "complete", "n": N},
            "model": {"name": "voter"}, "stop": {"max_sweeps": 1, "at_consensus": False},
            "initial": {"shares": {"A": share_a, "B": 1 - share_a}, "method": "exact"},
            "polls": [{"at": 0, "n": 400, "name": "p"}]}


def test_snapshot_is_the_runs_state_at_the_poll():
    """Stopping at the poll date and polling the kept state with the scenario's own design
    and seed gives exactly the poll of the full run."""
    sc = load_scenario("scenarios/kazakhstan-2022.toml", {"population.scale": 0.0002})
    a = assemble(sc, 1)
    i = 1
    at, design = a.polls[i]
    snap = _Snapshot(at)
    a = dataclasses.replace(a, observers=[snap])
    a.simulate(until=at)
    assert a.state.time == at
    net = a.network
    attrs = {"group": net.groups, **{k: c for k, (c, _) in net.attributes.items()}}
    levels = {k: list(lb) for k, (_, lb) in net.attributes.items()}
    got = run_poll(design, expressed=snap.taken["expressed"], private=snap.taken["private"],
                   stance_labels=a.answers, present=snap.taken["present"], attributes=attrs,
                   levels=levels, time=snap.taken["time"],
                   people_per_agent=1 / sc.spec.population.scale,
                   seed=stream_seed(sc.spec.seed, Stream.POLL, 1, i))
    full = execute(sc, 1).polls
    want = full[(full.poll == design.name) & (full.by == "all") & (full.method == "direct")]
    np.testing.assert_array_equal(got.to_frame().query("by == 'all' and method == 'direct'")
                                  ["estimate"].to_numpy(), want["estimate"].to_numpy())


def test_power_matches_the_exact_sampling_distribution():
    """With no dynamics and exact counts, each direct estimate is a hypergeometric count over
    n. Given the range the analysis estimated for A, the chance that B's estimate falls
    outside it is exact; the simulated power differs from it only by Monte Carlo error:
    tolerance 4 standard errors of a proportion over runs x reps estimates."""
    res = design_analysis(_static(0.30), _static(0.36, "b"), poll="p", answer="A",
                          sizes=[100, 400, 1600], items=(), runs=4, reps=250, alpha=0.1,
                          power=0.8)
    assert res.settings["private_a"] == pytest.approx(0.30)
    assert res.settings["private_b"] == pytest.approx(0.36)
    m = 4 * 250
    for _, row in res.table.iterrows():
        n = int(row["n"])
        k = np.arange(n + 1)
        pmf_b = hypergeom(N, int(0.36 * N), n).pmf(k)
        outside = (k / n < row["a_low"] - 1e-12) | (k / n > row["a_high"] + 1e-12)
        exact = float(pmf_b[outside].sum())
        se = math.sqrt(max(exact * (1 - exact), 1e-4) / m)
        assert abs(row["power_vs_a"] - exact) < 4 * se, (n, row["power_vs_a"], exact)
    powers = res.table.sort_values("n")["power"].to_numpy()
    assert powers[0] < 0.5 < 0.95 < powers[-1]   # 100 interviews cannot, 1600 can
    best = res.smallest()
    assert best is not None and best.n == 1600 and best.items is None


def test_list_designs_carry_their_biases():
    """Deflation without a placebo lowers the list estimate by about deflation x sum of the
    control prevalences (0.2 x 3 x 0.5 = 0.3); the placebo list cancels it. Tolerance: 4
    standard errors of the mean estimate."""
    a = _static(0.30)
    a["polls"][0]["list_experiment"] = {"sensitive": "A", "items": 3, "deflation": 0.2}
    res = design_analysis(a, _static(0.36, "b") | {"polls": a["polls"]}, poll="p",
                          sizes=[1000], items=[3], placebo=(False, True), direct=False,
                          runs=2, reps=200)
    t = res.table.set_index("design")
    m = 2 * 200
    plain, placebo = t.loc["list J=3, n=1000"], t.loc["list J=3 + placebo, n=1000"]
    assert plain["bias_a"] == pytest.approx(-0.30, abs=4 * plain["sd_a"] / math.sqrt(m))
    assert abs(placebo["bias_a"]) < 4 * placebo["sd_a"] / math.sqrt(m)
    assert res.smallest("direct") is None


def test_same_result_with_workers():
    a, b = _static(0.30), _static(0.34, "b")
    one = design_analysis(a, b, poll="p", answer="A", sizes=[200], items=[3],
                          placebo=(False,), runs=2, reps=5, workers=1)
    two = design_analysis(a, b, poll="p", answer="A", sizes=[200], items=[3],
                          placebo=(False,), runs=2, reps=5, workers=2)
    assert one.table.equals(two.table)
    assert one.estimates.equals(two.estimates)


def test_overrides_make_reading_b():
    res = design_analysis(_static(0.30), poll="p", answer="A", sizes=[400], items=(),
                          overrides_b={"initial.shares": {"A": 0.5, "B": 0.5}}, runs=2,
                          reps=10)
    assert res.settings["private_b"] == pytest.approx(0.5)
    assert res.table["power"].iloc[0] == 1.0


@pytest.mark.parametrize("kw, field", [
    ({"poll": "nope", "answer": "A"}, "--poll"),
    ({"poll": "p", "answer": "C"}, "--answer"),
    ({"poll": "p"}, "--answer"),                       # no list experiment to default to
    ({"poll": "p", "answer": "A", "runs": 1}, "--runs"),
    ({"poll": "p", "answer": "A", "alpha": 1.0}, "--alpha"),
    ({"poll": "p", "answer": "A", "sizes": [2]}, "--sizes"),
    ({"poll": "p", "answer": "A", "sizes": [100], "items": [], "direct": False}, "--items"),
])
def test_bad_requests(kw, field):
    with pytest.raises(ParameterError) as exc:
        design_analysis(_static(0.3), _static(0.4, "b"), **kw)
    assert exc.value.field == field


def test_reading_b_needs_the_same_poll():
    b = _static(0.4, "b")
    b["polls"][0]["name"] = "other"
    with pytest.raises(SteppeError, match="reading B has no poll"):
        design_analysis(_static(0.3), b, poll="p", answer="A")


def test_candidate_label():
    assert Candidate(500, items=5).label == "list J=5, n=500"


def _toml(share_a: float, name: str) -> str:
    return f"""name = "{name}"
seed = 4
runs = 1
network = {{ kind = "complete", n = {N} }}
model = {{ name = "voter" }}
stop = {{ max_sweeps = 1, at_consensus = false }}
initial = {{ shares = {{ A = {share_a}, B = {1 - share_a:.4f} }}, method = "exact" }}

[[polls]]
at = 0
n = 400
name = "p"
"""


def test_cli(tmp_path):
    for name, share in (("a", 0.3), ("b", 0.45)):
        (tmp_path / f"{name}.toml").write_text(_toml(share, name))
    out = tmp_path / "design"
    r = CliRunner().invoke(app, ["design", str(tmp_path / "a.toml"), str(tmp_path / "b.toml"),
                                 "--answer", "A", "--sizes", "100,400", "--items", "3",
                                 "--placebo", "no", "--runs", "2", "--reps", "20", "-q",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "Smallest design reaching 80% power" in r.output
    assert sorted(p.name for p in out.iterdir()) == [
        "design.csv", "design.json", "design.md", "design.png", "design_estimates.parquet"]


@pytest.mark.parametrize("args, says", [
    (["--set-b", "initial.shares.A"], "--set-b: expected PATH=VALUES"),
    (["--set-b", "initial.method=exact,random"], "one value per field"),
    ([], "give reading B"),
    (["--set-b", "initial.method=random", "--placebo", "maybe"], "--placebo"),
    (["--set-b", "initial.method=random", "--sizes", "1,x"], "--sizes"),
])
def test_cli_errors(tmp_path, args, says):
    (tmp_path / "a.toml").write_text(_toml(0.3, "a"))
    p = subprocess.run([sys.executable, "-m", "steppe", "design", "a.toml", *args, "-q",
                        "--out", "out"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 2, p.stderr
    assert says in p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    assert not (tmp_path / "out").exists()


def test_overrides_apply_to_both_readings():
    """`overrides` (the CLI's --set) change both files; `overrides_b` only B."""
    res = design_analysis(_static(0.30), _static(0.40, "b"), poll="p", answer="A",
                          sizes=[400], items=(), runs=2, reps=5,
                          overrides={"initial.shares": {"A": 0.2, "B": 0.8}})
    assert res.settings["private_a"] == pytest.approx(0.2)
    assert res.settings["private_b"] == pytest.approx(0.2)


def test_a_run_that_ends_before_the_poll_says_so():
    sc = {"name": "short", "seed": 1, "runs": 1, "network": {"kind": "complete", "n": 20},
          "model": {"name": "voter"}, "stop": {"max_sweeps": 10_000},
          "polls": [{"at": 9_000, "n": 10, "name": "p"}]}
    with pytest.raises(SteppeError, match="before the poll"):
        design_analysis(sc, overrides_b={"seed": 2}, poll="p", answer="A", sizes=[10],
                        items=(), runs=2, reps=2)
