"""A frozen pydantic base whose validation errors are raised as ParameterError."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ..models.base import parameter_error_from

__all__ = ["Validated"]


class Validated(BaseModel):
    """Frozen, unknown fields refused, errors raised as :class:`ParameterError` with the
    class's ``_prefix`` before the field; :meth:`_check` holds checks across fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True,
                              strict=True, allow_inf_nan=False)
    _prefix: ClassVar[str] = "poll"

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise parameter_error_from(exc, prefix=type(self)._prefix,
                                       params=type(self)) from None
        self._check()

    def _check(self) -> None:
        """Checks across fields (raise :class:`ParameterError`)."""
