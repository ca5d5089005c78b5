"""Pressures acting on agents besides their neighbours: what they dare to voice (expression)
and media channels pulling exposed agents toward a stance."""

from __future__ import annotations

from .expression import ExpressionLayer, express_once
from .media import MediaChannel

__all__ = ["ExpressionLayer", "MediaChannel", "express_once"]
