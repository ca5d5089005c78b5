"""Numba's OpenMP threads spin briefly, not for 300,000 turns, when they wait (see
``steppe/__init__.py``): importing steppe sets ``GOMP_SPINCOUNT`` unless the user chose a
wait policy, and worker processes inherit it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_SHOW = "import os, steppe; print(os.environ.get('GOMP_SPINCOUNT'))"


@pytest.mark.parametrize(("env", "expected"), [
    ({}, "10000"),
    ({"GOMP_SPINCOUNT": "500"}, "500"),
    ({"OMP_WAIT_POLICY": "active"}, "None"),
])
def test_import_sets_a_short_spin_unless_the_user_chose(env, expected):
    base = {k: v for k, v in os.environ.items()
            if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    out = subprocess.run([sys.executable, "-c", _SHOW], env={**base, **env},
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == expected


def test_worker_processes_inherit_it():
    import steppe  # noqa: F401
    from steppe.experiments.executors import ProcessExecutor

    mine = os.environ.get("GOMP_SPINCOUNT")
    got = dict(ProcessExecutor(1).map(os.getenv, ["GOMP_SPINCOUNT"]))
    assert got == {"GOMP_SPINCOUNT": mine}
