"""What a sweep varies: value syntax, grids, seeds, paths, the [sweep] table."""

from __future__ import annotations

import pytest

from steppe.errors import ParameterError, ScenarioError
from steppe.experiments.grid import (
    Axis,
    make_points,
    merge_axes,
    parse_set,
    parse_values,
    point_seed,
    set_path,
)
from steppe.experiments.sweep import plan_sweep

BASE = {"name": "g", "seed": 4, "runs": 2, "network": {"kind": "complete", "n": 50},
        "model": {"name": "voter"}, "stop": {"max_sweeps": 5}}


@pytest.mark.parametrize(("spec", "values"), [
    ("0:0.5:0.1", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]),   # stop included, no float drift
    ("0.06:0.14:0.02", [0.06, 0.08, 0.1, 0.12, 0.14]),
    ("0:0.45:0.1", [0.0, 0.1, 0.2, 0.3, 0.4]),       # stop not on the grid
    ("10:30:10", [10, 20, 30]),                       # integers (not a TOML time)
    ("3:1:-1", [3, 2, 1]),
    ("100:10000:*10", [100, 1000, 10000]),
    ("1:0.01:*0.1", [1.0, 0.1, 0.01]),
    ("100,300,1000", [100, 300, 1000]),
    ("[1, 2.5]", [1, 2.5]),
    ("both,listener_only", ["both", "listener_only"]),
    ("true,false", [True, False]),
    ("0.3", [0.3]),
    ("link", ["link"]),
])
def test_value_syntax(spec, values):
    got = parse_values("model.p", spec)
    assert got == values
    assert [type(v) for v in got] == [type(v) for v in values]


@pytest.mark.parametrize(("text", "match"), [
    ("model.p=0:1:0", "step must not be zero"),
    ("model.p=1:0:0.1", "empty range"),
    ("model.p=0:x:0.1", "not a number"),
    ("model.p=0:1:*1", "geometric"),
    ("model.p=1,,2", "empty item"),
    ("model.p=", "no value"),
    ("model.p", "expected PATH=VALUES"),
    ("=1,2", "dotted scenario path"),
    ("seed=1,2", "--seed"),
    ("runs=1,2", "--runs"),
    ("model.p=0:1:0.000001", "too many values"),
])
def test_bad_specs_name_field_allowed_and_given(text, match):
    with pytest.raises(ParameterError, match=match) as info:
        parse_set(text)
    msg = str(info.value)
    assert msg.startswith("--set")
    assert "allowed" in msg and "given" in msg


def test_grid_is_cartesian_last_axis_fastest_and_seeds_follow_parameters():
    axes = [Axis("network.n", (10, 20)), Axis("model.p", (0.1, 0.2, 0.3))]
    pts = make_points(axes, seed=9)
    assert [p.index for p in pts] == list(range(6))
    assert [(p.params["network.n"], p.params["model.p"]) for p in pts][:4] == [
        (10, 0.1), (10, 0.2), (10, 0.3), (20, 0.1)]
    assert len({p.seed for p in pts}) == 6 and all(0 <= p.seed < 2**63 for p in pts)
    # a point's seed depends on its values, not its position: a larger grid keeps it
    bigger = make_points([Axis("network.n", (5, 10, 20)), Axis("model.p", (0.3, 0.2, 0.1))],
                         seed=9)
    by_params = {tuple(sorted(p.params.items())): p.seed for p in bigger}
    for p in pts:
        assert by_params[tuple(sorted(p.params.items()))] == p.seed
    assert point_seed(9, {"model.p": 0.1}) != point_seed(10, {"model.p": 0.1})
    assert {p.seed for p in make_points(axes, seed=9, seeds="common")} == {9}


def test_merge_later_source_replaces_and_single_values_are_fixed():
    axes, fixed = merge_axes([("model.p", [0.1, 0.2]), ("network.n", [30, 40])],
                             [("network.n", [50]), ("model.q", [2, 3])])
    assert [a.path for a in axes] == ["model.p", "model.q"]
    assert fixed == {"network.n": 50}
    with pytest.raises(ParameterError, match="appears twice"):
        merge_axes([("model.p", [0.1, 0.1])])
    with pytest.raises(ParameterError, match="overlaps"):
        merge_axes([("initial.shares", [{"A": 1}, {"B": 1}]), ("initial.shares.A", [0, 1])])


def test_set_path_tables_arrays_and_dotted_keys():
    data = {"media": [{"name": "tv", "strength": 0.1}],
            "events": [{"at": 3, "set": {"expression.enforcement": 1.0}}]}
    out = set_path(data, "media.0.strength", 0.5)
    assert out["media"][0]["strength"] == 0.5 and data["media"][0]["strength"] == 0.1
    out = set_path(data, "events.0.set.expression.enforcement", 0.0)
    assert out["events"][0]["set"] == {"expression.enforcement": 0.0}
    out = set_path(data, "committed.fraction", 0.2)
    assert out["committed"] == {"fraction": 0.2}
    with pytest.raises(ParameterError, match="no such item"):
        set_path(data, "media.3.strength", 1)


def test_sweep_table_in_file(tmp_path):
    text = """
name = "tabled"
seed = 1
runs = 3
[network]
kind = "complete"
n = 40
[model]
name = "binary_agreement"
[committed]
stance = "A"
fraction = 0.1
[stop]
max_sweeps = 5

[sweep]
runs = 2
seeds = "common"
[sweep.set]
"committed.fraction" = { start = 0.05, stop = 0.15, step = 0.05 }
network.n = [40, 80]
"model.collapse" = "both,listener_only"

[[sweep.phase]]
x = "committed.fraction"
y = "network.n"
outcome = "p_consensus_A"
marks = [{ x = 0.0979, label = "p_c" }]
"""
    f = tmp_path / "s.toml"
    f.write_text(text)
    plan = plan_sweep(f)
    assert [a.path for a in plan.axes] == ["committed.fraction", "network.n", "model.collapse"]
    assert plan.axes[0].values == (0.05, 0.1, 0.15)
    assert plan.runs == 2 and plan.seeds == "common" and len(plan.points) == 12
    assert plan.phases[0].outcome == "p_consensus_A"
    # the command line replaces a field of the file
    plan = plan_sweep(f, sets=["network.n=100"], runs=1)
    assert [a.path for a in plan.axes] == ["committed.fraction", "model.collapse"]
    assert plan.fixed == {"network.n": 100} and plan.runs == 1
    assert all(s.spec.network.n == 100 for s in plan.scenarios.values())
    assert plan.phases[0].y is None and "network.n is not swept" in plan.notes[0]


@pytest.mark.parametrize(("table", "field"), [
    ('[sweep]\nrepeat = 3\n', "sweep.repeat"),
    ('[sweep.set]\n"model.p" = "0:1:0"\n', "sweep.set.model.p"),
    ('[sweep]\nseeds = "same"\n', "sweep.seeds"),
    ('[[sweep.phase]]\ny = "network.n"\n', "sweep.phase.0.x"),
])
def test_bad_sweep_table_names_file_and_field(tmp_path, table, field):
    f = tmp_path / "s.toml"
    f.write_text('name = "t"\nseed = 1\n[network]\nkind = "complete"\nn = 10\n[model]\n'
                 'name = "qvoter"\n[stop]\nmax_sweeps = 2\n' + table)
    with pytest.raises(ScenarioError) as info:
        plan_sweep(f)
    assert str(info.value).startswith(f"{f}: {field}")


def test_bad_point_names_field_and_point():
    with pytest.raises(ScenarioError) as info:
        plan_sweep(BASE, sets=["network.n=10,1"])
    msg = str(info.value)
    assert "network.n" in msg and "at the sweep point network.n=1" in msg
    with pytest.raises(ScenarioError, match=r"model\.variant"):
        plan_sweep(BASE, sets=["model.variant=node,sideways"])
    with pytest.raises(ParameterError, match="not a swept field"):
        plan_sweep(BASE, sets=["network.n=10,20"], phases=["x=model.p"])
    with pytest.raises(ParameterError, match="unknown outcome"):
        plan_sweep(BASE, sets=["network.n=10,20"], phases=["x=network.n,outcome=magic"])
