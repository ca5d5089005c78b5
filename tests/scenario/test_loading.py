"""Scenario files: validation, error messages naming file/field/allowed/given, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from steppe import load_scenario
from steppe.assembly import assemble, make_model
from steppe.assembly import resolved as steppe_resolved
from steppe.errors import ScenarioError
from steppe.scenario import apply_overrides

GOOD = """
name = "t"
seed = 4
runs = 2
[network]
kind = "complete"
n = 30
[model]
name = "qvoter"
q = 3
p = 0.1
[initial]
shares = { A = 0.25, B = 0.75 }
[committed]
stance = "A"
fraction = 0.1
[stop]
max_sweeps = 5
"""


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_good_file_loads_and_resolves(tmp_path):
    sc = load_scenario(write(tmp_path, GOOD))
    assert sc.spec.runs == 2 and make_model(sc).params.q == 3
    resolved = steppe_resolved(sc)
    assert resolved["model"] == {"name": "qvoter", "q": 3, "p": 0.1,
                                 "nonconformity": "independence", "repetition": False}
    assert sc.sha256 and len(sc.sha256) == 64


@pytest.mark.parametrize(("edit", "field", "fragments"), [
    (("q = 3", "q = 0"), "model.q", ["allowed", "given: 0"]),
    (("p = 0.1", "p = 1.5"), "model.p", ["allowed", "given: 1.5"]),
    (('kind = "complete"', 'kind = "grid"'), "network.kind", ["erdos_renyi", "'grid'"]),
    (("n = 30", "n = 30\nmean_degree = 4"), "network.mean_degree", ["unknown field",
                                                                     "allows: resample, n"]),
    (('name = "qvoter"', 'name = "qvotr"'), "model.name", ["voter", "'qvotr'"]),
    (("B = 0.75", "B = 0.7"), "initial.shares", ["sum of 1"]),
    (("B = 0.75", "C = 0.75"), "initial.shares.C", ["'A', 'B'", "'C'"]),
    (('stance = "A"', 'stance = "Z"'), "committed.stance", ["'Z'"]),
    (("fraction = 0.1", "fraction = 2"), "committed.fraction", ["less than or equal to 1"]),
    (("max_sweeps = 5", "max_sweeps = -5"), "stop.max_sweeps", ["greater than 0"]),
    (("runs = 2", "runs = 0"), "runs", ["greater than or equal to 1"]),
    (("seed = 4", 'seed = "four"'), "seed", ["integer", "'four'"]),
])
def test_errors_name_file_field_allowed_given(tmp_path, edit, field, fragments):
    path = write(tmp_path, GOOD.replace(*edit))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    assert text.startswith(str(path) + ": ")
    assert field in text
    for frag in fragments:
        assert frag in text, text


def test_missing_required_field(tmp_path):
    with pytest.raises(ScenarioError, match="seed: missing required field"):
        load_scenario(write(tmp_path, GOOD.replace("seed = 4", "")))


def test_stop_condition_required(tmp_path):
    text = GOOD.replace("max_sweeps = 5", "at_consensus = false")
    with pytest.raises(ScenarioError, match="stop condition"):
        load_scenario(write(tmp_path, text))


def test_several_problems_listed_in_one_message(tmp_path):
    text = GOOD.replace("runs = 2", "runs = 0").replace("n = 30", "n = 1")
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, text))
    assert "2 problems" in str(err.value)
    assert "runs" in str(err.value) and "network.n" in str(err.value)


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "nope.toml")
    with pytest.raises(ScenarioError, match=r"not valid TOML.*line"):
        load_scenario(write(tmp_path, "name = \"a\"\nseed = = 3\n"))
    with pytest.raises(ScenarioError, match="folder"):
        load_scenario(tmp_path)


def test_overrides_and_dict_source():
    data = {"name": "d", "seed": 1, "network": {"kind": "complete", "n": 10},
            "model": {"name": "voter"}, "stop": {"max_sweeps": 1}}
    sc = load_scenario(data, {"model.variant": "invasion", "runs": 3})
    assert sc.source == "<dict>" and sc.spec.runs == 3
    assert make_model(sc).params.variant == "invasion"
    assert data["model"] == {"name": "voter"}  # the caller's dict is not modified
    assert apply_overrides({}, {"a.b.c": 1}) == {"a": {"b": {"c": 1}}}


def test_scenario_is_never_executed(tmp_path):
    # strings that look like code stay strings and are refused where a number is expected
    text = GOOD.replace("p = 0.1", 'p = "__import__(\'os\').getcwd()"')
    with pytest.raises(ScenarioError, match=r"model\.p"):
        load_scenario(write(tmp_path, text))


def test_shipped_scenarios_validate():
    root = Path(__file__).resolve().parents[2] / "scenarios"
    files = sorted(root.glob("*.toml"))
    assert files, "scenarios/ should hold example scenarios"
    for f in files:
        load_scenario(f)


EXPR = GOOD.replace('name = "qvoter"\nq = 3\np = 0.1', 'name = "voter"') + """
[expression]
penalised = ["A"]
safe = "B"
enforcement = 1.5
conviction = { dist = "beta", a = 2, b = 5 }

[[events]]
at = 3
set = { "expression.enforcement" = 0.0, "model.variant" = "link" }
"""


def test_expression_and_events_load(tmp_path):
    sc = load_scenario(write(tmp_path, EXPR))
    assert sc.spec.expression.enforcement == 1.5
    assert sc.spec.expression.conviction.dist == "beta"
    ev = assemble(sc, dry=True).timeline.segments
    assert [(e.t0, e.path, e.b) for e in ev] == [(3, "expression.enforcement", 0.0),
                                                 (3, "model.variant", "link")]


@pytest.mark.parametrize(("edit", "field", "fragment"), [
    (('safe = "B"', 'safe = "A"'), "expression.safe", "cannot be penalised"),
    (('penalised = ["A"]', 'penalised = ["Z"]'), "expression.penalised", "'Z'"),
    (("enforcement = 1.5", "enforcement = -1"), "expression.enforcement", "greater than"),
    (('a = 2, b = 5', 'a = -2, b = 5'), "expression.conviction", "greater than 0"),
    (('dist = "beta"', 'dist = "gamma"'), "expression.conviction", "gamma"),
    (('"model.variant"', '"model.nope"'), "events.0.set.model.nope", "unknown event target"),
    (('"expression.enforcement"', '"expression.gain"'), "events.0.set.expression.gain",
     "unknown event target"),
    (("at = 3", "at = -3"), "events.0.at", "greater than or equal to 0"),
])
def test_expression_and_event_errors(tmp_path, edit, field, fragment):
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, EXPR.replace(*edit)))
    assert field in str(err.value) and fragment in str(err.value), str(err.value)


def test_expression_event_without_table(tmp_path):
    text = GOOD + '\n[[events]]\nat = 2\nset = { "expression.enforcement" = 0.0 }\n'
    with pytest.raises(ScenarioError, match=r"needs the scenario's \[expression\] table"):
        load_scenario(write(tmp_path, text))


def test_continuous_only_fields_refused_for_discrete_models(tmp_path):
    text = GOOD + '\n[stances]\nlabels = ["A", "B"]\ncutoffs = [0.5]\n'
    with pytest.raises(ScenarioError, match=r"stances: .*continuous"):
        load_scenario(write(tmp_path, text))
    text = GOOD.replace("[initial]", '[initial]\nopinion = 0.5')
    with pytest.raises(ScenarioError, match=r"initial\.opinion"):
        load_scenario(write(tmp_path, text))


def test_an_arrival_flow_whose_rest_is_negative_is_refused_with_its_field():
    """Found by the generated-input campaign: a flow's ``initial`` whose other shares sum
    past 1 was a traceback at assembly; now the schema refuses it, naming the flow."""
    flagship = Path(__file__).resolve().parents[2] / "scenarios" / "kazakhstan-2022.toml"
    flow = {"name": "w", "direction": "in", "start": "2022-05-01", "rate": 10,
            "groups": {"russian": 1.0},
            "initial": {"ukraine": 0.9, "neutral": "rest", "russia": 0.55}}
    with pytest.raises(ScenarioError) as exc:
        load_scenario(flagship, {"flows": [flow]})
    text = str(exc.value)
    assert "flows.0" in text and "leaving nothing for 'neutral'" in text and "1.45" in text
