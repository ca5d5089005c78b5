"""Pressures acting on agents besides their neighbours, all through one protocol
(:mod:`steppe.pressures.base`): border flows, news shocks, media, what agents dare to voice
(expression), protest. A new pressure is one module here plus its entry in the scenario
schema."""

from __future__ import annotations

from .base import Control, Pressure, Stage, World, available_pressures, register
from .expression import ExpressionLayer, express_once
from .flows import BorderFlows, FlowPlan
from .media import MediaChannel
from .news import NewsShock
from .protest import ProtestLayer

__all__ = ["BorderFlows", "Control", "ExpressionLayer", "FlowPlan", "MediaChannel",
           "NewsShock", "Pressure", "ProtestLayer", "Stage", "World", "available_pressures",
           "express_once", "register"]
