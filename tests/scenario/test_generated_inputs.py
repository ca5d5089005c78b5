"""Generated inputs: mutations of every scenario in ``scenarios/`` (the Kazakhstan family and
its variants included), as data and as TOML text, at a size that builds. Each must give a
clean error (one message, nothing written) or a valid run — never a traceback, a hang or
files left behind by a failure (see ``fuzz.py``). Hypothesis draws the mutations from a
fixed seed (``derandomize``), so the cases are the same in every run."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from . import fuzz

NAMES = sorted(fuzz.SMALL)
OK = {"accepted", "checked", "error"}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    return fuzz.scenario_files(tmp_path_factory.mktemp("fuzz"))


def _one(files: Path, name: str, kind: str, seed: int, k: int) -> tuple[str, str]:
    rng = random.Random(seed)
    out = files.parent / f"out-{seed}-{kind}"
    shutil.rmtree(out, ignore_errors=True)
    if kind == "data":
        src = fuzz.mutate(fuzz.base_data(name), rng, k=k)
    else:
        text = (files / f"{name}.toml").read_text(encoding="utf-8")
        src = files / f"fuzz-{name}-{seed}.toml"
        src.write_text(fuzz.mutate_text(text, rng), encoding="utf-8")
    try:
        return fuzz.attempt(src, out)
    finally:
        shutil.rmtree(out, ignore_errors=True)


CASE = dict(name=st.sampled_from(NAMES), kind=st.sampled_from(["data", "text"]),
            seed=st.integers(0, 2**32 - 1), k=st.integers(1, 3))


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(**CASE)
def test_generated_inputs_give_a_clean_error_or_a_valid_run(files, name, kind, seed, k):
    outcome, detail = _one(files, name, kind, seed, k)
    assert outcome in OK, detail


@pytest.mark.slow
@settings(max_examples=4000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(**CASE)
def test_thousands_of_generated_inputs(files, name, kind, seed, k):
    outcome, detail = _one(files, name, kind, seed, k)
    assert outcome in OK, detail


def test_the_unmutated_scenarios_run():
    """The starting points are valid: the campaign mutates working scenarios."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for name in NAMES:
            outcome, detail = fuzz.attempt(fuzz.base_data(name), Path(tmp) / name)
            assert outcome == "accepted", (name, detail)


def test_the_classifier_sees_failures(tmp_path, monkeypatch):
    """The check is not vacuous: a traceback, a hang and a partial write are caught."""
    import steppe

    data = fuzz.base_data("voter-lattice")

    def boom(*a, **k):
        raise KeyError("bug")

    monkeypatch.setattr(steppe, "run", boom)
    assert fuzz.attempt(data, tmp_path / "a")[0] == "traceback"

    def slow(*a, **k):
        import time

        time.sleep(5)

    monkeypatch.setattr(fuzz, "TIME_LIMIT", 1)
    monkeypatch.setattr(steppe, "run", slow)
    assert fuzz.attempt(data, tmp_path / "b")[0] == "hang"

    def half(*a, out, **k):
        out.mkdir()
        (out / "series.parquet").write_text("x")
        raise steppe.SteppeError("disk full")

    monkeypatch.setattr(steppe, "run", half)
    assert fuzz.attempt(data, tmp_path / "c")[0] == "partial"
