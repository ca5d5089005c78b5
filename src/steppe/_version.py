"""steppe's version (on the ground floor: metadata of results and sweeps record it)."""

__version__ = "0.1.0"
