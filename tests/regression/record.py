"""Record the regression baseline: every scenario in ``scenarios/`` run at a small scale with
a fixed seed, every table it writes (series, summary, polls, participation, flows) and a hash
of every final state, plus the sensitivity table of the flagship and a small sweep.

Run from the repository root::

    python tests/regression/record.py

It was first run before the middle layers were rebuilt (issue 9); ``test_regression.py``
checks that the code reproduces these files bit for bit. Rerun it only when a change of
results is intended, and say so in the commit: the flagship and its variants were recorded
again when the flagship was restated (issue 11: the answer and poll models, the true shares
as parameters, the run extended to February 2025), with their sensitivity table, e.g.
``python tests/regression/record.py kazakhstan-2022 kazakhstan-2022-hand-fit ...
sensitivity``. The sensitivity table was recorded again with one run per setting instead of
two (to halve the test's time), by code that reproduced the two-run table bit for bit.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
BASELINE = Path(__file__).resolve().parent / "baseline"

#: per-scenario overrides giving a small run (every scenario also gets runs = 2)
SMALL: dict[str, dict[str, Any]] = {
    "binary-agreement-tipping": {"network.n": 300, "stop.max_sweeps": 60},
    "centola-tipping": {"network.n": 300, "stop.max_sweeps": 40},
    "committed-minority": {"network.n": 600, "stop.max_sweeps": 30},
    "crackdown-lifted": {"network.n": 600, "stop.max_sweeps": 40},
    "deffuant-clusters": {"network.n": 300, "stop.max_sweeps": 40},
    "epo-expressed-private": {"network.n": 400, "stop.max_sweeps": 40},
    "friedkin-johnsen": {"network.n": 400, "stop.max_sweeps": 40},
    "granovetter-riot": {},
    "hegselmann-krause": {"network.n": 400, "stop.max_sweeps": 40},
    "kazakhstan-2022": {"population.scale": 0.0001},
    "kazakhstan-2022-border-wave": {"population.scale": 0.0001},
    "kazakhstan-2022-crackdown-lifted": {"population.scale": 0.0001},
    "kazakhstan-2022-hand-fit": {"population.scale": 0.0001},
    "kazakhstan-2022-method-reading": {"population.scale": 0.0001},
    "kazakhstan-2022-stress-propaganda": {"population.scale": 0.0001},
    "majority-rule-galam": {"network.n": 400, "stop.max_sweeps": 40},
    "majority-vote-lattice": {"network.shape": [16, 16], "stop.max_sweeps": 60},
    "naming-game": {"network.n": 300},
    "qvoter-anticonformity": {"network.n": 400, "stop.max_sweeps": 40},
    "voter-lattice": {"network.shape": [16, 16], "stop.max_sweeps": 60},
}

#: the flagship's sensitivity analysis at a tiny scale
SENSITIVITY = {"scenario": "kazakhstan-2022", "overrides": {"population.scale": 0.0005},
               "runs": 1}
#: a small sweep with a phase diagram's data (outcomes per point)
SWEEP = {"scenario": "binary-agreement-tipping",
         "sets": ["network.n=100,200", "committed.fraction=0.05,0.12"], "runs": 3,
         "overrides": {"stop.max_sweeps": 40}}


def digest(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a)
    return hashlib.sha256(str(a.dtype).encode() + a.tobytes()).hexdigest()


def run_tables(name: str) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The tables and final-state hashes of one scenario at its small size."""
    import steppe

    over = {"runs": 2, "record.final_state": True, **SMALL[name]}
    res = steppe.run(SCENARIOS / f"{name}.toml", overrides=over, workers=1)
    tables = {"series": res.series, "summary": res.summary.drop(columns="wall_seconds")}
    for t in ("polls", "participation", "flows"):
        df = getattr(res, t)
        if df is not None:
            tables[t] = df
    hashes = {}
    for r, a in sorted(res.final_states.items()):
        hashes[f"run_{r}_stance"] = digest(a)
    for r, a in sorted(res.final_expressed.items()):
        hashes[f"run_{r}_expressed"] = digest(a)
    for r, a in sorted(res.final_opinions.items()):
        if a is not None:
            hashes[f"run_{r}_opinion"] = digest(a)
    return tables, hashes


def sensitivity_table() -> pd.DataFrame:
    from steppe.experiments.sensitivity import sensitivity

    return sensitivity(SCENARIOS / f"{SENSITIVITY['scenario']}.toml",
                       runs=SENSITIVITY["runs"], workers=1,
                       overrides=SENSITIVITY["overrides"])


def sweep_tables() -> dict[str, pd.DataFrame]:
    from steppe.experiments.sweep import sweep

    with tempfile.TemporaryDirectory() as tmp:
        scen = SCENARIOS / f"{SWEEP['scenario']}.toml"
        from steppe.scenario import read_scenario_file

        data, _, _ = read_scenario_file(scen)
        data.pop("sweep", None)
        for k, v in SWEEP["overrides"].items():
            head, _, tail = k.partition(".")
            data.setdefault(head, {})[tail] = v
        res = sweep(data, sets=SWEEP["sets"], runs=SWEEP["runs"], out=Path(tmp) / "s",
                    workers=1)
        runs = res.query("SELECT * EXCLUDE (wall_seconds) FROM runs ORDER BY point, run")
        outcomes = pd.read_parquet(Path(tmp) / "s" / "outcomes.parquet")
        return {"runs": runs, "outcomes": outcomes}


def main(argv: list[str]) -> None:
    only = set(argv)
    BASELINE.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {}
    for name in SMALL:
        if only and name not in only:
            continue
        tables, hashes = run_tables(name)
        d = BASELINE / name
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir()
        for t, df in tables.items():
            df.to_parquet(d / f"{t}.parquet")
        (d / "final_states.json").write_text(json.dumps(hashes, indent=1) + "\n")
        manifest[name] = sorted(tables)
        print(name, {t: len(df) for t, df in tables.items()})
    if not only or "sensitivity" in only:
        sensitivity_table().to_parquet(BASELINE / "sensitivity.parquet")
        print("sensitivity")
    if not only or "sweep" in only:
        d = BASELINE / "sweep"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir()
        for t, df in sweep_tables().items():
            df.to_parquet(d / f"{t}.parquet")
        print("sweep")


if __name__ == "__main__":
    main(sys.argv[1:])
