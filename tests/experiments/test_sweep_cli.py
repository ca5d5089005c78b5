"""steppe sweep and steppe query as a user meets them: exit codes, messages, files, and a
sweep killed with SIGKILL and resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from steppe.experiments import sweep

from .sweep_helpers import same_dataset

TIPPING = """
name = "cli-sweep"
seed = 11
runs = 4
[network]
kind = "complete"
n = 100
[model]
name = "binary_agreement"
[initial]
shares = { B = 1.0 }
[committed]
stance = "A"
fraction = 0.1
[stop]
max_sweeps = 120
[record]
every = 20
"""


def steppe(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "steppe", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def test_sweep_and_query(tmp_path):
    (tmp_path / "s.toml").write_text(TIPPING)
    p = steppe("sweep", "s.toml", "--set", "committed.fraction=0.04:0.16:0.06",
               "--set", "network.n=50,100", "--workers", "1", "--out", "out",
               "--phase", "x=committed.fraction,y=network.n,outcome=p_consensus_A",
               cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "6 point(s) over committed.fraction (3) x network.n (2)" in p.stdout
    assert "24 run(s) in" in p.stdout and "runs/min" in p.stdout
    assert "phase diagram:" in p.stdout
    out = tmp_path / "out"
    assert len(list((out / "runs").glob("point-*/run-*.parquet"))) == 24
    q = steppe("query", "out", "SELECT committed_fraction, avg(consensus::INT) AS p "
               "FROM runs GROUP BY 1 ORDER BY 1", "--csv", "p.csv", cwd=tmp_path)
    assert q.returncode == 0, q.stderr
    assert "committed_fraction" in q.stdout and "3 row(s)" in q.stdout
    csv = pd.read_csv(tmp_path / "p.csv")
    assert list(csv["committed_fraction"]) == [0.04, 0.1, 0.16]
    assert csv["p"].iloc[-1] == 1.0
    views = steppe("query", "out", cwd=tmp_path)
    assert views.returncode == 0 and "outcomes" in views.stdout and "series" in views.stdout


@pytest.mark.parametrize(("args", "expect"), [
    (["--set", "committed.fraction=0:0.1:0"], "--set committed.fraction: a range's step "
                                              "must not be zero"),
    (["--set", "committed.fraction=0.1,1.5"], "s.toml: committed.fraction"),
    (["--set", "model.nonsense=1,2"], "s.toml: model.nonsense"),
    (["--set", "seed=1,2"], "use --seed"),
    (["--phase", "x=network.n"], "--phase x: not a swept field"),
    (["--set", "network.n=10,20", "--phase", "x=network.n,outcome=odds"],
     "--phase outcome: unknown outcome"),
    (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "--workers"),
    (["--seeds", "same"], "--seeds: unknown seed mode"),
    (["--set", "network.n=2000000000"], "this sweep needs about"),
])
def test_bad_input_exit_2_one_message_nothing_written(tmp_path, args, expect):
    (tmp_path / "s.toml").write_text(TIPPING)
    local = [] if "--scheduler" in args else ["--workers", "1"]
    p = steppe("sweep", "s.toml", "--out", "out", *local, *args, cwd=tmp_path)
    assert p.returncode == 2, p.stdout + p.stderr
    assert expect in p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    assert not (tmp_path / "out").exists()


def test_failed_runs_exit_1_and_are_named(tmp_path):
    (tmp_path / "s.toml").write_text(TIPPING.replace(
        'kind = "complete"\nn = 100', 'kind = "random_regular"\nn = 20\nk = 3'))
    p = steppe("sweep", "s.toml", "--set", "network.n=20,21", "--runs", "2", "--workers",
               "1", "--out", "out", cwd=tmp_path)
    assert p.returncode == 1
    assert "run failed: point 1 (network.n=21), run 0, seed" in p.stderr
    assert "n * k must be even" in p.stderr and "2 run(s) failed" in p.stderr
    assert "Traceback" not in p.stderr
    q = steppe("query", "out", "SELECT point, run, error FROM failures ORDER BY run",
               "--csv", "f.csv", cwd=tmp_path)
    assert q.returncode == 0 and "2 row(s)" in q.stdout
    f = pd.read_csv(tmp_path / "f.csv")
    assert list(f["run"]) == [0, 1] and set(f["point"]) == {1}


def test_query_errors_exit_2(tmp_path):
    (tmp_path / "s.toml").write_text(TIPPING)
    assert steppe("sweep", "s.toml", "--runs", "1", "--workers", "1", "--out", "out",
                  cwd=tmp_path).returncode == 0
    p = steppe("query", "out", "SELECT nothing FROM runs", cwd=tmp_path)
    assert p.returncode == 2 and p.stderr.startswith("error: SQL:")
    assert "views: bands, failures, outcomes, points, runs, series" in p.stderr
    p = steppe("query", "out", "SELECT by FROM series", cwd=tmp_path)
    assert p.returncode == 2 and 'write the column as "by"' in p.stderr
    p = steppe("query", "s.toml", "SELECT 1", cwd=tmp_path)
    assert p.returncode == 2 and "no such sweep folder" in p.stderr
    p = steppe("query", ".", "SELECT 1", cwd=tmp_path)
    assert p.returncode == 2 and "not a sweep folder" in p.stderr


SLOW = TIPPING.replace("n = 100", "n = 20000").replace("fraction = 0.1", "fraction = 0.08") \
    .replace("max_sweeps = 120", "max_sweeps = 300").replace("runs = 4", "runs = 12")


def test_killed_sweep_resumes_to_the_uninterrupted_dataset(tmp_path):
    """kill -9 the sweep mid-way; the rerun skips the finished runs, completes the rest,
    and the dataset equals that of a sweep never interrupted."""
    (tmp_path / "s.toml").write_text(SLOW)
    args = ["sweep", "s.toml", "--set", "committed.fraction=0.07,0.08", "--workers", "2",
            "--out", "out", "--quiet"]
    proc = subprocess.Popen([sys.executable, "-m", "steppe", *args], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    runs = tmp_path / "out" / "runs"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list(runs.glob("point-*/run-*.parquet"))) >= 4:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the sweep ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)  # the sweep process only, not its workers
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:  # pragma: no cover - only if an assertion failed above
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        time.sleep(0.5)
        try:  # its orphaned worker processes (they exit by themselves, lacking a parent)
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert proc.returncode == -signal.SIGKILL
    done = len(list(runs.glob("point-*/run-*.parquet")))
    assert 4 <= done < 24, done
    p = steppe(*args, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert f"{24 - done} run(s) in" in p.stdout and f"{done} already done" in p.stdout
    assert not list((tmp_path / "out").rglob(".*.tmp"))
    sweep(tmp_path / "s.toml", sets=["committed.fraction=0.07,0.08"], workers=1,
          out=tmp_path / "whole")
    same_dataset(tmp_path / "out", tmp_path / "whole")
