"""Every column of every table ``steppe run`` and ``steppe sweep`` write is listed in
docs/outputs.md: a run of the flagship at 1:5000 (every layer: polls, protest, flows, news)
and a two-point sweep, each table's columns put in the page's generic form (``<stance>``,
``<flow>``, ``<shock>``, ``<field>``) and looked up among the page's code spans."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import steppe
from steppe.experiments.sweep import sweep

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "outputs.md"
FLAGSHIP = ROOT / "scenarios" / "kazakhstan-2022.toml"


def _documented() -> set[str]:
    """Every name in a code span of the page, a comma-separated span split into names."""
    spans = re.findall(r"`([^`]+)`", PAGE.read_text(encoding="utf-8"))
    return {name.strip() for span in spans for name in span.split(",")}


def _generic(column: str, stances: list[str], flows: list[str], shocks: list[str],
             fields: list[str]) -> str:
    for f in sorted(fields, key=len, reverse=True):
        if column == f:
            return "<field>"
    for prefix, names, tag in (("arrived_", flows, "<flow>"), ("left_", flows, "<flow>"),
                               ("reached_", shocks, "<shock>"),
                               ("moved_", shocks, "<shock>")):
        if column.startswith(prefix) and column[len(prefix):] in names:
            return prefix + tag
    for s in sorted(stances, key=len, reverse=True):
        for suffix in ("_se", ""):
            end = f"_{s}{suffix}"
            if column.endswith(end) and column[:-len(end)] in (
                    "final_share", "final_expressed_share", "p_consensus"):
                return f"{column[:-len(end)]}_<stance>{suffix}"
    return column


def _undocumented(tables: dict[str, pd.DataFrame], **names: list[str]) -> list[str]:
    doc = _documented()
    return sorted({f"{t}: {c}" for t, df in tables.items() for c in df.columns
                   if _generic(str(c), **names) not in doc})


def test_every_column_of_a_run_is_documented(tmp_path):
    res = steppe.run(FLAGSHIP, runs=1, out=tmp_path / "run",
                     overrides={"population.scale": 0.0002}, keep_final_states=False)
    out = tmp_path / "run"
    tables = {p.stem: pd.read_parquet(p) for p in sorted(out.glob("*.parquet"))}
    # the test would be empty without them: every layer's table is there
    assert {"series", "summary", "polls", "participation", "flows", "news"} <= set(tables)
    spec = res.scenario.spec
    missing = _undocumented(
        tables, stances=sorted(tables["series"]["stance"].unique()),
        flows=[f.name for f in spec.flows],
        shocks=[n.name for n in spec.news], fields=[])
    assert missing == [], f"columns docs/outputs.md does not list: {missing}"


def test_every_column_of_a_sweep_is_documented(tmp_path):
    scen = {"name": "cols", "seed": 1, "runs": 2, "network": {"kind": "complete", "n": 60},
            "model": {"name": "binary_agreement"}, "stop": {"max_sweeps": 20},
            "initial": {"shares": {"B": 1.0}},
            "committed": {"stance": "A", "fraction": 0.05}}
    res = sweep(scen, sets=["committed.fraction=0.05,0.3"], out=tmp_path / "sw", workers=1)
    tables = {t: res.query(f"SELECT * FROM {t} LIMIT 1")
              for t in ("runs", "points", "outcomes", "series", "bands")}
    missing = _undocumented(tables, stances=["A", "B", "AB"], flows=[], shocks=[],
                            fields=["committed_fraction"])
    assert missing == [], f"columns docs/outputs.md does not list: {missing}"


@pytest.mark.parametrize("column", ["final_share_russia", "p_consensus_A_se",
                                    "arrived_reopening", "network_n"])
def test_generic_names(column):
    g = _generic(column, stances=["russia", "A"], flows=["reopening"], shocks=[],
                 fields=["network_n"])
    assert "<" in g and g != column
