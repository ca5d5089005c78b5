"""Sweeps on Dask: a real scheduler and two workers on 127.0.0.1 (separate processes, one
killed with SIGKILL mid-sweep), a local cluster from a description file, and a SLURM
cluster's job script. Results must equal those of a sweep in this process, bit for bit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from steppe.errors import SteppeError
from steppe.experiments import InsufficientMemoryError, sweep
from steppe.experiments.executors import (
    DaskExecutor,
    load_cluster_description,
    make_executor,
    start_cluster,
)

from .sweep_helpers import same_dataset

SCEN = {"name": "dask-sweep", "seed": 17, "runs": 12,
        "network": {"kind": "complete", "n": 20_000},
        "model": {"name": "binary_agreement"}, "initial": {"shares": {"B": 1.0}},
        "committed": {"stance": "A", "fraction": 0.08},
        "stop": {"max_sweeps": 300}, "record": {"every": 50}}
SETS = ["committed.fraction=0.07,0.08"]


def _dask(*args: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=open(log, "w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def dask_cluster(tmp_path):
    """A scheduler and two single-threaded workers (no nanny: a killed worker stays dead),
    each its own process, on 127.0.0.1 with random ports."""
    sched_file = tmp_path / "scheduler.json"
    procs = [_dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                   "--scheduler-file", str(sched_file), log=tmp_path / "scheduler.log")]
    try:
        deadline = time.monotonic() + 120
        address = None
        while time.monotonic() < deadline:
            if sched_file.exists():
                try:
                    address = json.loads(sched_file.read_text())["address"]
                    break
                except (json.JSONDecodeError, KeyError):
                    pass
            assert procs[0].poll() is None, (tmp_path / "scheduler.log").read_text()
            time.sleep(0.1)
        assert address, "the scheduler did not start"
        workers = {}
        for name in ("a", "b"):
            workers[name] = _dask("worker", address, "--name", name, "--nthreads", "1",
                                  "--no-nanny", "--host", "127.0.0.1", "--no-dashboard",
                                  "--memory-limit", "2GiB", "--local-directory",
                                  str(tmp_path / f"worker-{name}"),
                                  log=tmp_path / f"worker-{name}.log")
            procs.append(workers[name])
        yield address, workers
    finally:
        for p in reversed(procs):
            _stop(p)


def test_sweep_on_dask_survives_a_killed_worker_with_identical_results(tmp_path,
                                                                        dask_cluster):
    address, workers = dask_cluster
    ex = DaskExecutor(address, timeout=60)
    try:
        ex.client.wait_for_workers(2, timeout=120)
        names = {w["name"]: addr for addr, w in ex.client.scheduler_info()["workers"].items()}
        killed: dict[str, object] = {}

        def progress(done: int, total: int, failed: int) -> None:
            if done >= 4 and not killed:
                # worker a still has runs in hand: they are lost with it
                killed["held"] = len(ex.client.processing().get(names["a"], ()))
                os.kill(workers["a"].pid, signal.SIGKILL)
                killed["at"] = done

        res = sweep(SCEN, sets=SETS, out=tmp_path / "dask", executor=ex, progress=progress)
        assert killed["at"] < 24 and killed["held"] > 0
        assert res.runs_done == 24 and res.runs_failed == 0 and res.complete
        assert res.executor.startswith("Dask cluster at tcp://127.0.0.1:")
        workers["a"].wait(timeout=30)
        assert workers["a"].returncode == -signal.SIGKILL
        deadline = time.monotonic() + 60
        while len(ex.client.scheduler_info()["workers"]) != 1:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        # a run that does not fit in a worker's memory limit (2 GiB) is refused up front
        big = dict(SCEN, network={"kind": "complete", "n": 200_000_000})
        with pytest.raises(InsufficientMemoryError, match="per worker"):
            sweep(big, out=tmp_path / "big", executor=ex)
        assert not (tmp_path / "big").exists()
    finally:
        ex.close()
    sweep(SCEN, sets=SETS, out=tmp_path / "local", workers=1)
    same_dataset(tmp_path / "dask", tmp_path / "local")


def test_local_dask_cluster_from_a_description_file(tmp_path):
    desc = tmp_path / "cluster.toml"
    desc.write_text('kind = "local"\nworkers = 2\n')
    scen = dict(SCEN, runs=3, network={"kind": "complete", "n": 2000})
    res = sweep(scen, sets=SETS, out=tmp_path / "c", cluster=desc)
    assert res.runs_done == 6 and res.executor.startswith("Dask cluster at")
    sweep(scen, sets=SETS, out=tmp_path / "l", workers=1)
    same_dataset(tmp_path / "c", tmp_path / "l")


def test_slurm_description_gives_the_job_script_without_submitting(tmp_path):
    desc = tmp_path / "slurm.toml"
    desc.write_text("""
kind = "slurm"
jobs = 4
[job]
queue = "compute"
account = "opinion-lab"
cores = 8
processes = 8
memory = "32GB"
walltime = "02:00:00"
job_script_prologue = ["source /opt/steppe/.venv/bin/activate"]
""")
    d = load_cluster_description(desc)
    assert (d.kind, d.jobs) == ("slurm", 4)
    cluster = start_cluster(d, scale=False)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH -p compute" in script and "#SBATCH -A opinion-lab" in script
    assert "#SBATCH -t 02:00:00" in script
    assert "--nworkers 8" in script and "--nthreads 1" in script
    assert "source /opt/steppe/.venv/bin/activate" in script


@pytest.mark.parametrize(("text", "match"), [
    ('kind = "sge"\njobs = 1\n', "kind: unknown cluster kind"),
    ('kind = "slurm"\n', "jobs: say how many batch jobs"),
    ('kind = "slurm"\njobs = 0\n', "jobs: must be a whole number"),
    ('kind = "pbs"\njobs = 1\nnodes = 3\n', "nodes: unknown field"),
    ('kind = "local"\njobs = 2\n', "a local cluster takes workers"),
    ("kind = ", "not valid TOML"),
])
def test_bad_cluster_descriptions(tmp_path, text, match):
    desc = tmp_path / "c.toml"
    desc.write_text(text)
    with pytest.raises(SteppeError, match=match) as info:
        load_cluster_description(desc)
    assert str(info.value).startswith(str(desc))


def test_unreachable_scheduler_is_one_clear_error():
    with pytest.raises(SteppeError, match="cannot reach the Dask scheduler"):
        make_executor(scheduler="tcp://127.0.0.1:9", timeout=2)
    with pytest.raises(SteppeError, match="either --scheduler or --cluster"):
        make_executor(scheduler="tcp://127.0.0.1:9", cluster="c.toml")


def test_pbs_description_gives_the_job_script_without_submitting(tmp_path):
    desc = tmp_path / "pbs.toml"
    desc.write_text('kind = "pbs"\n[adapt]\nminimum_jobs = 0\nmaximum_jobs = 10\n'
                    '[job]\nqueue = "workq"\ncores = 4\nmemory = "16GB"\n'
                    'walltime = "01:00:00"\n')
    d = load_cluster_description(desc)
    assert d.adapt == {"minimum_jobs": 0, "maximum_jobs": 10} and d.jobs is None
    cluster = start_cluster(d, scale=False)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#PBS -q workq" in script and "#PBS -l walltime=01:00:00" in script
    assert "--nworkers 4" in script and "--nthreads 1" in script
