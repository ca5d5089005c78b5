"""Hardening, through the command line where the user meets it: every bad input gives one
clear message and exit status 2 (no traceback, nothing written), no run can hang, outputs
are read-only where they should be and whole or absent, worker processes die with their
parent. One test (or a parametrized set) per class of problem found by the input campaign
of issue 10."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

BASE = """
name = "h"
seed = 1
runs = 2
[network]
kind = "complete"
n = 100
[model]
name = "voter"
[stop]
max_sweeps = 10
"""


def steppe(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "steppe", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def refused(p: subprocess.CompletedProcess, *fragments: str) -> None:
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr and p.stderr.startswith("error: "), p.stderr
    for f in fragments:
        assert f in p.stderr, (f, p.stderr)


def run_file(tmp_path: Path, text: str, *extra: str, name: str = "s.toml"
             ) -> subprocess.CompletedProcess:
    (tmp_path / name).write_text(text, encoding="utf-8")
    p = steppe("run", name, "--out", "out", "-q", *extra, cwd=tmp_path)
    if p.returncode != 0:
        assert not (tmp_path / "out").exists(), "a refused run wrote something"
    return p


# -- input that escaped validation ------------------------------------------------------
@pytest.mark.parametrize("text", [
    "x = " + "[" * 1000 + "1" + "]" * 1000 + "\n",
    "x = " + "{ a = " * 1000 + "1" + " }" * 1000 + "\n",
])
def test_deeply_nested_toml(tmp_path, text):
    refused(run_file(tmp_path, text), "nested too deeply")


def test_paths_too_long_nul_and_special_files(tmp_path):
    long = "a" * 5000
    refused(run_file(tmp_path, BASE.replace('name = "h"', f'extends = "{long}.toml"\nname = "h"')),
            "too long")
    refused(steppe("run", long + ".toml", cwd=tmp_path), "too long")
    edge = BASE.replace('kind = "complete"\nn = 100', f'kind = "edgelist"\npath = "{long}.csv"')
    refused(run_file(tmp_path, edge), "network.path", "too long")
    mid = "b" * 300  # within the schema's limit, too long for the file system
    edge = BASE.replace('kind = "complete"\nn = 100', f'kind = "edgelist"\npath = "{mid}.csv"')
    refused(run_file(tmp_path, edge), "network.path", "too long for the file system")
    missing = BASE.replace('kind = "complete"\nn = 100', 'kind = "edgelist"\npath = "no.csv"')
    refused(run_file(tmp_path, missing), "no.csv", "file not found")
    (tmp_path / "fake.parquet").write_text("source,target\n0,1\n")
    fake = BASE.replace('kind = "complete"\nn = 100', 'kind = "edgelist"\npath = "fake.parquet"')
    refused(run_file(tmp_path, fake), "fake.parquet", "cannot read as an edge list")
    nul = BASE.replace('kind = "complete"\nn = 100', 'kind = "edgelist"\npath = "a\\u0000b"')
    refused(run_file(tmp_path, nul), "network.path")
    zero = BASE.replace('kind = "complete"\nn = 100', 'kind = "edgelist"\npath = "/dev/zero"')
    refused(run_file(tmp_path, zero), "not a regular file")
    refused(run_file(tmp_path, 'extends = "/dev/zero"\n'), "not a regular file")
    os.mkfifo(tmp_path / "fifo.toml")
    t0 = time.monotonic()
    refused(steppe("run", "fifo.toml", cwd=tmp_path, timeout=30), "FIFO")
    assert time.monotonic() - t0 < 30


@pytest.mark.parametrize(("edit", "field"), [
    (("max_sweeps = 10", "max_sweeps = inf"), "stop.max_sweeps"),
    (("max_sweeps = 10", "max_sweeps = 1e308"), "stop.max_sweeps"),
    (("max_sweeps = 10", "max_sweeps = nan"), "stop.max_sweeps"),
    (("n = 100", "n = 100\n[initial]\nopinion = { dist = \"uniform\", low = 0, high = inf }"),
     "initial.opinion"),
    (("max_sweeps = 10", "max_sweeps = true"), "stop.max_sweeps"),
    (("max_sweeps = 10", 'max_sweeps = "10"'), "stop.max_sweeps"),
    (("runs = 2", "runs = 2.0"), "runs"),
])
def test_non_finite_enormous_and_lax_values(tmp_path, edit, field):
    refused(run_file(tmp_path, BASE.replace(*edit)), field)


EXPR = BASE + """
[expression]
penalised = ["A"]
safe = "B"
enforcement = 1.0
"""


@pytest.mark.parametrize(("edit", "field"), [
    (("enforcement = 1.0", "enforcement = 1.0\nvisibility = -1"), "expression.visibility"),
    (("enforcement = 1.0", 'enforcement = 1.0\nconviction = { dist = "beta", a = 2, b = inf }'),
     "expression.conviction"),
    (("enforcement = 1.0",
      'enforcement = 1.0\nconviction = { dist = "normal", mean = inf, sd = 1 }'),
     "expression.conviction"),
    (("enforcement = 1.0", 'enforcement = 1.0\nconviction = { dist = "uniform", low = -3, '
                           'high = -2 }'), "expression.conviction"),
    (("enforcement = 1.0", "enforcement = 1e308"), "expression.enforcement"),
])
def test_distributions_and_values_outside_their_domain(tmp_path, edit, field):
    refused(run_file(tmp_path, EXPR.replace(*edit)), field)


def test_model_domains(tmp_path):
    fj = BASE.replace('name = "voter"', 'name = "friedkin_johnsen"\nsusceptibility = -0.5')
    refused(run_file(tmp_path, fj), "model.susceptibility")
    cut = BASE.replace('name = "voter"', 'name = "deffuant"') + \
        '[stances]\nlabels = ["a", "b"]\ncutoffs = [7.0]\n'
    refused(run_file(tmp_path, cut), "stances.cutoffs")


def test_events_and_polls_after_the_end_are_refused(tmp_path):
    late = BASE + '[[events]]\nat = 50\nset = { "model.variant" = "link" }\n'
    refused(run_file(tmp_path, late), "events.0.at", "after the end of the run")
    poll = BASE + "[[polls]]\nat = 11\nn = 10\n"
    refused(run_file(tmp_path, poll), "polls.0.at", "after the end of the run")
    at_end = BASE + "[[polls]]\nat = 10\nn = 10\n"  # a poll at the end is taken
    assert run_file(tmp_path, at_end).returncode == 0


def test_overrides_and_extends_chains_name_the_users_file(tmp_path):
    (tmp_path / "base.toml").write_text(BASE)
    (tmp_path / "v.toml").write_text('extends = "base.toml"\n[overrides]\n'
                                     '"stop.max_sweeps" = 1e308\n')
    p = steppe("run", "v.toml", "--out", "out", cwd=tmp_path)
    refused(p, "v.toml: stop.max_sweeps", "given: 1e+308")
    for i in range(1, 11):
        (tmp_path / f"c{i}.toml").write_text(f'extends = "c{i + 1}.toml"\n')
    (tmp_path / "c11.toml").write_text(BASE)
    refused(steppe("run", "c1.toml", cwd=tmp_path), "c1.toml: extends: more than 8 levels")
    (tmp_path / "l1.toml").write_text('extends = "l2.toml"\n')
    (tmp_path / "l2.toml").write_text('extends = "l1.toml"\n')
    refused(steppe("run", "l1.toml", cwd=tmp_path), "l1.toml: extends:", "loop")


# -- runs that could hang or mislead -----------------------------------------------------
def test_no_stop_condition_can_run_forever(tmp_path):
    """The original Sznajd rule's stalemate used to run until the end of time: a scenario
    whose model need not settle must have a length, and the stalemate is absorbing."""
    forever = BASE.replace("max_sweeps = 10", "at_consensus = true").replace(
        'kind = "complete"\nn = 100', 'kind = "ring"\nn = 12').replace(
        'name = "voter"', 'name = "sznajd"\nvariant = "original"')
    refused(run_file(tmp_path, forever), "stop.max_sweeps", "fixed length")
    stale = forever.replace("at_consensus = true", "max_sweeps = 100000") + \
        "[initial]\nshares = { A = 0.5, B = 0.5 }\n"
    p = run_file(tmp_path, stale)
    assert p.returncode == 0, p.stderr
    import pandas as pd

    s = pd.read_parquet(tmp_path / "out" / "summary.parquet")
    assert ((s["consensus"] | s["absorbed"]) & (s["sweeps"] < 100000)).all()


def test_continuous_consensus_means_converged_opinions(tmp_path):
    hk = BASE.replace('name = "voter"', 'name = "hegselmann_krause"\nepsilon = 0.25') \
        .replace("n = 100", "n = 2000").replace("max_sweeps = 10", "max_sweeps = 200")
    p = run_file(tmp_path, hk)
    assert p.returncode == 0, p.stderr
    import pandas as pd

    s = pd.read_parquet(tmp_path / "out" / "summary.parquet")
    final = pd.read_parquet(tmp_path / "out" / "series.parquet")
    assert (s["sweeps"] > 3).all()  # not "consensus" after a few steps in one category
    assert (s["consensus"] | s["absorbed"]).all()
    del final


# -- outputs and the results folder ------------------------------------------------------
@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("q")
    (d / "s.toml").write_text(BASE)
    p = steppe("sweep", "s.toml", "--set", "network.n=50,60", "--workers", "1", "--out",
               "sw", "-q", cwd=d)
    assert p.returncode == 0, p.stderr
    return d


@pytest.mark.parametrize(("sql", "fragment"), [
    ("COPY runs TO '/tmp/steppe-evil.csv'", "refused: COPY"),
    ("COPY runs TO 'sw/evil.csv'", "refused: COPY"),
    ("ATTACH 'x.db'", "refused"),
    ("SELECT * FROM read_csv('/etc/passwd')", "disabled"),
    ("SELECT * FROM read_text('/etc/hostname')", "disabled"),
    ("SELECT * FROM glob('/etc/*')", "disabled"),
    ("INSTALL httpfs", "refused"),
    ("SET enable_external_access = true", "refused"),
    ("SELECT 1; SELECT 2", "2 statements"),
    ("CREATE TABLE t AS SELECT 1", "refused: CREATE"),
])
def test_query_is_read_only_over_the_folder(sweep_folder, sql, fragment):
    refused(steppe("query", "sw", sql, cwd=sweep_folder), fragment)
    assert not Path("/tmp/steppe-evil.csv").exists()
    assert not (sweep_folder / "sw" / "evil.csv").exists()


def test_query_still_reads(sweep_folder):
    p = steppe("query", "sw", "SELECT count(*) AS n FROM runs", cwd=sweep_folder)
    assert p.returncode == 0 and "4" in p.stdout, p.stderr


def test_huge_sweeps_are_refused_up_front(tmp_path):
    (tmp_path / "s.toml").write_text(BASE)
    p = steppe("sweep", "s.toml", "--runs", "100000000", "--out", "big", cwd=tmp_path)
    refused(p, "this sweep")
    assert not (tmp_path / "big").exists()


def test_a_damaged_run_file_is_found_and_rerun(tmp_path):
    (tmp_path / "s.toml").write_text(BASE)
    args = ["sweep", "s.toml", "--set", "network.n=50,60", "--workers", "1", "--out", "sw",
            "-q"]
    assert steppe(*args, cwd=tmp_path).returncode == 0
    bad = tmp_path / "sw" / "series" / "point-00001" / "run-00000.parquet"
    bad.write_bytes(bad.read_bytes()[:50])
    refused(steppe("query", "sw", "SELECT count(*) FROM series", cwd=tmp_path),
            "damaged", "run-00000.parquet")
    p = steppe(*args, cwd=tmp_path)
    assert p.returncode == 0 and "damaged run file" in p.stderr, p.stderr
    q = steppe("query", "sw", "SELECT count(*) AS n FROM runs", cwd=tmp_path)
    assert q.returncode == 0 and " 4" in q.stdout


def test_output_folder_problems_before_the_run(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "s.toml").write_text(BASE)
    refused(steppe("run", "s.toml", "--out", "file/sub", cwd=tmp_path), "is a file")
    refused(steppe("run", "s.toml", "--out", "/proc/steppe-out", cwd=tmp_path),
            "/proc/steppe-out")


def test_a_full_disk_leaves_nothing_half_written(tmp_path, monkeypatch):
    """A write that fails (the disk full while the second file is written) leaves the
    folder as it was: none of the new files, the earlier results whole."""
    import errno

    import pandas as pd

    import steppe as st
    from steppe.errors import SteppeError

    out = tmp_path / "out"
    first = st.run({**_base_dict(), "runs": 1}, out=out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = pd.DataFrame.to_parquet
    calls = {"n": 0}

    def failing(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *a, **k)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", failing)
    with pytest.raises(SteppeError, match="No space left on device"):
        st.run({**_base_dict(), "runs": 2, "seed": 9}, out=out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert len(first.summary) == 1


def _base_dict() -> dict:
    import tomllib

    return tomllib.loads(BASE)


def test_two_runs_into_one_folder(tmp_path):
    """The second writer is refused while the first holds the folder."""
    # long enough to be still writing when the second starts (it is killed below)
    big = BASE.replace("n = 100", "n = 300000").replace("max_sweeps = 10",
                                                        "max_sweeps = 40000")
    (tmp_path / "s.toml").write_text(big)
    first = subprocess.Popen([sys.executable, "-m", "steppe", "run", "s.toml", "--out", "out",
                              "-q"], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "out").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        second = steppe("run", "s.toml", "--out", "out", cwd=tmp_path)
        refused(second, "another steppe run is writing to this folder")
    finally:
        first.kill()
        first.wait()


def test_workers_die_with_their_parent(tmp_path):
    """kill -9 of steppe run with two workers leaves no worker process behind."""
    big = BASE.replace("n = 100", "n = 2000000").replace("max_sweeps = 10",
                                                          "max_sweeps = 100") \
        .replace("runs = 2", "runs = 4")
    (tmp_path / "s.toml").write_text(big)
    proc = subprocess.Popen([sys.executable, "-m", "steppe", "run", "s.toml", "--out", "out",
                             "--workers", "2", "-q"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        kids: list[int] = []
        while len(kids) < 2 and time.monotonic() < deadline:
            time.sleep(0.3)
            out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                 text=True).stdout.split()
            kids = [int(k) for k in out]
        assert kids, "no worker process started"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 20
    alive = kids
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [k for k in alive if _alive(k)]
    assert not alive, f"worker processes still running: {alive}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False
