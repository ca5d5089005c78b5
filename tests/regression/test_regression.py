"""Every scenario in ``scenarios/`` gives, bit for bit, the results stored in ``baseline/``
(recorded by ``record.py`` before the middle layers were rebuilt): every table ``steppe
run`` writes, a hash of every final state, the flagship's sensitivity table and a small
sweep's runs and outcomes. A refactoring must not move any of them."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from . import record

BASELINE = record.BASELINE


#: columns added to a table after the baseline was recorded: new outputs, not changed
#: results; the comparison keeps the baseline's columns, and of the polls the rows of the
#: whole sample (``by == "all"``: subgroup rows are new)
ADDED = {"question", "by", "level"}


def _same(got: pd.DataFrame, want: pd.DataFrame, what: str) -> None:
    added = [c for c in got.columns if c not in want.columns]
    assert set(added) <= ADDED, (what, added)
    if "by" in added:
        got = got[got["by"] == "all"]
    got = got[list(want.columns)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_exact=True, obj=what)


@pytest.mark.parametrize("name", sorted(record.SMALL))
def test_scenario_results_unchanged(name):
    tables, hashes = record.run_tables(name)
    d = BASELINE / name
    stored = sorted(p.stem for p in d.glob("*.parquet"))
    assert sorted(tables) == stored
    for t in stored:
        # through a Parquet round trip, as the baseline was stored
        _same(pd.read_parquet(_roundtrip(tables[t])), pd.read_parquet(d / f"{t}.parquet"),
              f"{name}/{t}")
    assert hashes == json.loads((d / "final_states.json").read_text())


def _roundtrip(df: pd.DataFrame) -> io.BytesIO:
    buf = io.BytesIO()
    df.to_parquet(buf)
    buf.seek(0)
    return buf


def test_sensitivity_unchanged():
    got = record.sensitivity_table()
    _same(pd.read_parquet(_roundtrip(got)), pd.read_parquet(BASELINE / "sensitivity.parquet"),
          "sensitivity")


def test_sweep_unchanged():
    got = record.sweep_tables()
    for t, df in got.items():
        _same(pd.read_parquet(_roundtrip(df)),
              pd.read_parquet(BASELINE / "sweep" / f"{t}.parquet"), f"sweep/{t}")
