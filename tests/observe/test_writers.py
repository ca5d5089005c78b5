"""Atomic writers: nothing half-written, and the permissions a plain open() gives."""

from __future__ import annotations

import os

import pandas as pd

from steppe.observe.writers import write_parquet_atomic


def test_atomic_files_get_the_usual_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        path = write_parquet_atomic(pd.DataFrame({"a": [1]}), tmp_path / "x.parquet")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644
