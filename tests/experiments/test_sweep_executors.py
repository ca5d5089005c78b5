"""Local executors: results as tasks finish, exceptions returned not raised, worker
processes that die replaced and their tasks run again."""

from __future__ import annotations

import pytest

from steppe.experiments.executors import (
    MAX_POOL_RESTARTS,
    InlineExecutor,
    ProcessExecutor,
    WorkerLost,
    chunk_size,
    make_executor,
)

from . import _sweep_tasks as tasks


def test_inline_and_process_executors_return_every_result_or_its_exception():
    for ex in (InlineExecutor(), ProcessExecutor(2)):
        out = dict(ex.map(tasks.square, range(6)))
        assert out == {i: i * i for i in range(6)}
        errs = dict(ex.map(tasks.fail, [1, 2]))
        assert all(isinstance(e, ValueError) and "bad task" in str(e) for e in errs.values())


def test_a_worker_process_that_dies_is_replaced_and_its_task_run_again(tmp_path):
    ex = ProcessExecutor(2)
    markers = [str(tmp_path / f"m{i}") for i in range(3)]
    out = dict(ex.map(tasks.die_once, markers))
    assert out == {m: f"ok:m{i}" for i, m in enumerate(markers)}
    assert ex.restarts >= 1


def test_a_task_that_keeps_killing_its_worker_is_given_up():
    ex = ProcessExecutor(1)
    out = list(ex.map(tasks.always_die, [0]))
    assert len(out) == 1 and isinstance(out[0][1], WorkerLost)
    assert f"died {MAX_POOL_RESTARTS + 1} times" in str(out[0][1])


def test_make_executor_and_chunks():
    assert make_executor(workers=1).description == "this process"
    assert make_executor(workers=3, tasks=2).description == "2 local processes"
    with pytest.raises(Exception, match="--workers"):
        make_executor(workers=2, scheduler="tcp://127.0.0.1:1")
    assert chunk_size(1000, 4) == 16 and chunk_size(10, 4) == 1
