"""Helpers shared by the sweep tests: comparing two sweep folders."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pandas as pd


def tables(d: Path) -> dict[str, pd.DataFrame]:
    """Every per-run table of a sweep folder, in file order; ``wall_seconds`` (a timing)
    dropped."""
    out = {}
    for name in ("runs", "series"):
        files = sorted((d / name).glob("point-*/run-*.parquet"))
        df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        out[name] = df.drop(columns=["wall_seconds"], errors="ignore")
    return out


def same_dataset(a: Path, b: Path) -> None:
    """Two sweep folders hold the same results: the same series and bands files, byte for
    byte, and the same runs and outcomes except the runs' ``wall_seconds``."""
    for sub in ("series", "bands"):
        fa = sorted(p.relative_to(a) for p in (a / sub).rglob("*.parquet"))
        fb = sorted(p.relative_to(b) for p in (b / sub).rglob("*.parquet"))
        assert fa == fb and fa
        for f in fa:
            assert filecmp.cmp(a / f, b / f, shallow=False), f
    ta, tb = tables(a), tables(b)
    for name in ta:
        pd.testing.assert_frame_equal(ta[name], tb[name], check_exact=True)
    oa = pd.read_parquet(a / "outcomes.parquet")
    ob = pd.read_parquet(b / "outcomes.parquet")
    pd.testing.assert_frame_equal(oa, ob, check_exact=True)
