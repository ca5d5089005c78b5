"""Pressures acting on agents besides their neighbours: what they dare to voice (expression),
and, in later releases, media fields and border flows."""

from __future__ import annotations

from .expression import ExpressionLayer, express_once

__all__ = ["ExpressionLayer", "express_once"]
