"""Opinion models, one module each, registered by name.

Every module in this package that defines a :class:`~steppe.models.base.Model` subclass
decorated with :func:`~steppe.models.base.register` is found automatically: adding a model
means adding one file.

Examples
--------
>>> from steppe.models import available_models
>>> "voter" in available_models()
True
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import (
    Model,
    ModelParams,
    State,
    available_models,
    describe_field,
    get_model,
    register,
)

__all__ = [
    "Model",
    "ModelParams",
    "State",
    "available_models",
    "describe_field",
    "get_model",
    "register",
]

_DISCOVERED = False


def _discover() -> None:
    """Import every module of this package once, so that their models register."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_") and info.name != "base":
            importlib.import_module(f"{__name__}.{info.name}")
    _DISCOVERED = True
