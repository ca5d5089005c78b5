"""steppe: country-scale simulation of how a population's stance moves under pressure."""

from __future__ import annotations

__version__ = "0.1.0"
