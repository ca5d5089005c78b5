"""Errors that reach the user as one clear message (and exit status 2 on the command line).

Examples
--------
>>> print(ScenarioError("must be >= 0", file="s.toml", field="model.p", given=-1,
...                     allowed=">= 0"))
s.toml: model.p: must be >= 0 (allowed: >= 0; given: -1)
"""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = ["ParameterError", "ScenarioError", "SteppeError", "check_int", "check_real"]


class SteppeError(Exception):
    """Base class of errors caused by the user's input rather than by a bug in steppe."""


class ParameterError(SteppeError, ValueError):
    """An impossible or unknown parameter value passed to a model or builder."""

    def __init__(self, message: str, *, field: str | None = None, allowed: Any = None,
                 given: Any = None) -> None:
        self.field = field
        self.allowed = allowed
        self.given = given
        self.message = message
        super().__init__(self._render())

    def __reduce__(self):  # picklable across worker processes
        return (_rebuild, (type(self), self.message, {
            "field": self.field, "allowed": self.allowed, "given": self.given}))

    def _render(self) -> str:
        parts = []
        if self.field:
            parts.append(f"{self.field}: ")
        parts.append(self.message)
        extra = []
        if self.allowed is not None:
            extra.append(f"allowed: {self.allowed}")
        if self.given is not None:
            extra.append(f"given: {self.given!r}")
        if extra:
            parts.append(f" ({'; '.join(extra)})")
        return "".join(parts)


class ScenarioError(SteppeError, ValueError):
    """A scenario file that cannot be read or does not validate.

    The message names the file, the field path, what is allowed and what was given.
    ``problems`` holds one line per problem when several were found at once.
    """

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None,
                 allowed: Any = None, given: Any = None,
                 problems: list[str] | None = None) -> None:
        self.file = file
        self.field = field
        self.allowed = allowed
        self.given = given
        self.message = message
        self.problems = problems or []
        super().__init__(self._render())

    def __reduce__(self):  # picklable across worker processes
        return (_rebuild, (type(self), self.message, {
            "file": self.file, "field": self.field, "allowed": self.allowed,
            "given": self.given, "problems": self.problems}))

    def _render(self) -> str:
        head = f"{self.file}: " if self.file else ""
        if self.field:
            head += f"{self.field}: "
        text = head + self.message
        extra = []
        if self.allowed is not None:
            extra.append(f"allowed: {self.allowed}")
        if self.given is not None:
            extra.append(f"given: {self.given!r}")
        if extra:
            text += f" ({'; '.join(extra)})"
        for p in self.problems:
            text += f"\n  - {p}"
        return text


def _rebuild(cls: type, message: str, kwargs: dict[str, Any]) -> Exception:
    return cls(message, **kwargs)


# -- checks shared by builders: a ParameterError naming the parameter --------------------
def check_int(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    """``value`` as an int in ``[lo, hi]``, else a ParameterError naming ``name``.

    Examples
    --------
    >>> check_int("n", 5, 1)
    5
    """
    allowed = f"integer >= {lo}" if hi is None else f"integer in [{lo}, {hi}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterError("must be an integer", field=name, allowed=allowed, given=value)
    v = int(value)
    if v < lo or (hi is not None and v > hi):
        raise ParameterError("out of range", field=name, allowed=allowed, given=v)
    return v


def check_real(name: str, value: Any, lo: float, hi: float) -> float:
    """``value`` as a finite float in ``[lo, hi]``, else a ParameterError naming ``name``.

    Examples
    --------
    >>> check_real("p", 0.5, 0.0, 1.0)
    0.5
    """
    allowed = f"number in [{lo}, {hi}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError("must be a number", field=name, allowed=allowed, given=value)
    v = float(value)
    if not math.isfinite(v) or v < lo or v > hi:
        raise ParameterError("out of range", field=name, allowed=allowed, given=value)
    return v
