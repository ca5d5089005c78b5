"""A sweep resumed into a folder that holds the same sweep over another grid says so (the
folder grows; nothing stored is deleted), from Python (a warning) and on the command line
(a note); the same grid again says nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import pytest

from steppe.experiments.sweep import sweep

SCEN = {"name": "grid", "seed": 1, "runs": 2, "network": {"kind": "complete", "n": 60},
        "model": {"name": "voter"}, "stop": {"max_sweeps": 5},
        "initial": {"shares": {"A": 0.5, "B": "rest"}}}


def test_another_grid_is_named(tmp_path):
    out = tmp_path / "sw"
    sweep(SCEN, sets=["initial.shares.A=0.2,0.8"], out=out, workers=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same grid: no warning
        sweep(SCEN, sets=["initial.shares.A=0.2,0.8"], out=out, workers=1)
    with pytest.warns(UserWarning, match=r"another grid: 1 of this grid's 2 points are "
                                         r"stored there, 1 are new, and 1 stored points"):
        res = sweep(SCEN, sets=["initial.shares.A=0.2,0.5"], out=out, workers=1)
    assert res.runs_done == 2 and res.runs_skipped == 2


def test_command_line_prints_a_note(tmp_path):
    toml = tmp_path / "s.toml"
    toml.write_text('name = "grid"\nseed = 1\nruns = 2\n[network]\nkind = "complete"\n'
                    'n = 60\n[model]\nname = "voter"\n[stop]\nmax_sweeps = 5\n'
                    '[initial]\nshares = { A = 0.5, B = "rest" }\n')

    def cli(values: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "steppe", "sweep", str(toml), "--set",
                               f"initial.shares.A={values}", "--out", str(tmp_path / "sw"),
                               "--workers", "1", "--quiet"], capture_output=True, text=True,
                              env={**os.environ, "COLUMNS": "300"}, timeout=300)

    assert cli("0.2,0.8").returncode == 0
    res = cli("0.2,0.5")
    assert res.returncode == 0, res.stderr
    assert "note:" in res.stdout and "another grid" in res.stdout
    assert "UserWarning" not in res.stderr  # said once, as a note
