"""Pressures acting on agents besides their neighbours: what they dare to voice (expression)
media channels pulling exposed agents toward a stance, and protest participation."""

from __future__ import annotations

from .expression import ExpressionLayer, express_once
from .media import MediaChannel
from .protest import ProtestLayer

__all__ = ["ExpressionLayer", "MediaChannel", "ProtestLayer", "express_once"]
