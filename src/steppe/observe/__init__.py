"""Observables and writers: what is recorded from runs, and how it reaches disk."""

from __future__ import annotations

from .writers import atomic_path, write_json_atomic, write_npz_atomic, write_parquet_atomic

__all__ = ["atomic_path", "write_json_atomic", "write_npz_atomic", "write_parquet_atomic"]
