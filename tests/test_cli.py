"""The command line as a user meets it: exit codes, messages, files written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

SCEN = """
name = "cli-test"
seed = 2
runs = 3
[network]
kind = "complete"
n = 200
[model]
name = "voter"
[stop]
max_sweeps = 30
"""


def steppe(*args: str, cwd: Path, env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "steppe", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env=None if env is None else {**os.environ, **env})


def test_run_writes_outputs_and_summary(tmp_path):
    (tmp_path / "s.toml").write_text(SCEN)
    p = steppe("run", "s.toml", "--out", "out", "--runs", "2", "--seed", "5", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "final shares" in p.stdout and "wrote" in p.stdout
    out = tmp_path / "out"
    assert sorted(x.name for x in out.iterdir()) == ["metadata.json", "series.parquet",
                                                    "summary.parquet"]
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["runs"] == 2 and meta["seed"] == 5
    summary = pd.read_parquet(out / "summary.parquet")
    assert len(summary) == 2
    # the table's consensus column counts runs: whole numbers out of the runs
    for stance in ("A", "B"):
        wins = int((summary["consensus_stance"] == stance).sum())
        assert f"{wins} / 2" in p.stdout
    assert ".0 / 2" not in p.stdout


def test_default_output_folder(tmp_path):
    (tmp_path / "s.toml").write_text(SCEN)
    p = steppe("run", "s.toml", "-q", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "results" / "cli-test" / "series.parquet").exists()


@pytest.mark.parametrize(("text", "expect"), [
    (SCEN.replace("n = 200", "n = 1"), "s.toml: network.n"),
    (SCEN.replace('name = "voter"', 'name = "voter"\nvariant = "x"'), "s.toml: model.variant"),
    (SCEN.replace("runs = 3", "runs = -1"), "s.toml: runs"),
    ("this is not toml", "s.toml: not valid TOML"),
])
def test_bad_input_exit_2_one_message_nothing_written(tmp_path, text, expect):
    (tmp_path / "s.toml").write_text(text)
    p = steppe("run", "s.toml", "--out", "out", cwd=tmp_path)
    assert p.returncode == 2
    assert expect in p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    assert not (tmp_path / "out").exists()


def test_missing_file_exit_2(tmp_path):
    p = steppe("run", "missing.toml", cwd=tmp_path)
    assert p.returncode == 2 and "missing.toml: file not found" in p.stderr
    assert "Traceback" not in p.stderr


def test_bad_option_exit_2(tmp_path):
    (tmp_path / "s.toml").write_text(SCEN)
    p = steppe("run", "s.toml", "--runs", "0", cwd=tmp_path)
    assert p.returncode == 2 and "Traceback" not in p.stderr


def test_models_lists_every_model_with_parameters(tmp_path):
    from steppe.models import available_models

    p = steppe("models", cwd=tmp_path)
    assert p.returncode == 0
    for name in available_models():
        assert name in p.stdout
    one = steppe("models", "qvoter", cwd=tmp_path)
    assert "Nyczka" in one.stdout and "nonconformity" in one.stdout
    bad = steppe("models", "nope", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown model" in bad.stderr


def test_validate_one_model(tmp_path):
    p = steppe("validate", "--quick", "--model", "voter", cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert " passed, 0 failed" in p.stdout and "voter" in p.stdout


def test_version(tmp_path):
    p = steppe("--version", cwd=tmp_path)
    assert p.returncode == 0 and "steppe" in p.stdout


def test_run_with_report_and_report_command(tmp_path):
    (tmp_path / "s.toml").write_text(SCEN)
    p = steppe("run", "s.toml", "--out", "out", "-q", "--report", "--vectors", "pdf",
               cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "out" / "report" / "summary.md").exists()
    assert (tmp_path / "out" / "report" / "share_A.png").stat().st_size > 10_000
    assert (tmp_path / "out" / "report" / "share_A.pdf").exists()
    assert not (tmp_path / "out" / "report" / "share_A.svg").exists()
    # the environment variable sets --vectors: PNG only
    again = steppe("report", "out", "--out", "rep2", "--stance", "B", cwd=tmp_path,
                   env={"STEPPE_REPORT_VECTORS": "none"})
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "rep2" / "share_B.png").exists()
    assert not list((tmp_path / "rep2").glob("*.pdf"))
    typo = steppe("report", "out", "--out", "rep3", "--vectors", "svg,eps", cwd=tmp_path)
    assert typo.returncode == 2 and "--vectors" in typo.stderr and "'svg,eps'" in typo.stderr
    assert "Traceback" not in typo.stderr and not (tmp_path / "rep3").exists()
    missing = steppe("report", "nothing-here", cwd=tmp_path)
    assert missing.returncode == 2 and "nothing-here" in missing.stderr
    assert "Traceback" not in missing.stderr
    # `run`: a typo in --vectors is refused before the runs; --vectors without --report
    # (it would do nothing) is refused; the environment variable alone is not
    for args in (["--report", "--vectors", "eps"], ["--vectors", "svg"]):
        bad = steppe("run", "s.toml", "--out", "out4", "-q", *args, cwd=tmp_path)
        assert bad.returncode == 2 and "--vectors" in bad.stderr, bad.stderr
        assert "Traceback" not in bad.stderr and not (tmp_path / "out4").exists()
    quiet = steppe("run", "s.toml", "--out", "out5", "-q", cwd=tmp_path,
                   env={"STEPPE_REPORT_VECTORS": "svg"})
    assert quiet.returncode == 0, quiet.stderr
    assert not (tmp_path / "out5" / "report").exists()


def test_run_refuses_what_will_not_fit_in_memory(tmp_path):
    (tmp_path / "big.toml").write_text(
        'name = "big"\nseed = 1\n[network]\nkind = "erdos_renyi"\nn = 1_000_000_000\n'
        'mean_degree = 10\n[model]\nname = "voter"\n[stop]\nmax_sweeps = 1\n',
        encoding="utf-8")
    r = steppe("run", "big.toml", "--out", "out", cwd=tmp_path)
    assert r.returncode == 2
    assert "needs about" in r.stderr and "would fit" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()
