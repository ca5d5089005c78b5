"""Validating scenario data against the schema, with messages a user can act on: every
problem names the file, the field path, what is allowed and what was given; an unknown field
lists the fields its table allows.

Examples
--------
>>> validate({"name": "d", "seed": 1, "network": {"kind": "complete", "n": 1},
...           "model": {"name": "voter"}}, "s.toml")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
steppe.errors.ScenarioError: s.toml: network.n: Input should be greater than or equal to 2 ...
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ..errors import ScenarioError
from . import schema
from .schema import Scenario

__all__ = ["validate"]


def _network_kinds() -> set[str]:
    union = typing.get_args(schema.NetworkSpec)[0]
    return {typing.get_args(m.model_fields["kind"].annotation)[0]
            for m in typing.get_args(union)}


#: the tags of the distribution tables (per-agent quantities and assumptions' priors)
_DIST_TAGS = {"constant", "uniform", "normal", "beta", "lognormal", "loguniform", "triangular"}


def _format_loc(loc: tuple[Any, ...]) -> str:
    parts = list(loc)
    # inside the network union pydantic puts the kind tag in the path: network.complete.n
    if len(parts) > 1 and parts[0] == "network" and parts[1] in _network_kinds():
        del parts[1]
    # and inside a distribution table its dist tag: assumptions.0.prior.beta.a (a tag with
    # a field after it: a field of that name would hold a number, not a table)
    parts = [x for i, x in enumerate(parts)
             if not (i > 0 and i < len(parts) - 1 and x in _DIST_TAGS)]
    return ".".join(str(x) for x in parts)


def _problems(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = _format_loc(err["loc"])
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        given = err.get("input")
        if err["type"] == "union_tag_invalid" and loc.startswith("network"):
            kinds = ", ".join(sorted(_network_kinds()))
            line = f"{loc}.kind: unknown network kind (allowed: {kinds}; given: " \
                   f"{err['ctx']['tag']!r})"
        elif err["type"] == "union_tag_invalid":
            tag = str(err["ctx"]["discriminator"]).strip("'")
            allowed = str(err["ctx"]["expected_tags"]).replace("'", "")
            line = f"{loc}.{tag}: unknown {tag} (allowed: {allowed}; given: " \
                   f"{err['ctx']['tag']!r})"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field"
            given = err["loc"][-1]
            line = f"{loc}: {msg} (given: {given!r})"
        elif err["type"] == "missing":
            line = f"{loc}: missing required field"
        elif isinstance(given, dict | list):
            line = f"{loc}: {msg}"
        else:
            line = f"{loc}: {msg} (given: {given!r})"
        if not loc:  # a rule about the scenario as a whole
            line = msg
        out.append(line)
    return out


def _allowed_fields(exc: ValidationError) -> list[str]:
    """For unknown fields, say which fields the table allows."""
    hints = []
    for err in exc.errors():
        if err["type"] != "extra_forbidden":
            continue
        loc = err["loc"][:-1]
        cls: Any = schema.Scenario
        for part in loc:
            fld = getattr(cls, "model_fields", {}).get(part)
            if fld is None:
                # inside a discriminated union the location carries the tag
                cls = _union_member(part)
                if cls is None:
                    break
                continue
            cls = _model_class(fld.annotation)
            if cls is None:
                break
        if cls is not None and hasattr(cls, "model_fields"):
            names = ", ".join(f for f in cls.model_fields if f != "kind")
            where = _format_loc(loc) or "top level"
            hints.append(f"{where} allows: {names}")
    return hints


def _model_class(ann: Any) -> Any:
    if isinstance(ann, type) and hasattr(ann, "model_fields"):
        return ann
    for arg in typing.get_args(ann):
        c = _model_class(arg)
        if c is not None:
            return c
    return None


def _union_member(tag: Any) -> Any:
    union = typing.get_args(schema.NetworkSpec)[0]
    for member in typing.get_args(union):
        if typing.get_args(member.model_fields["kind"].annotation) == (tag,):
            return member
    return None


def validate(data: Mapping[str, Any], source: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = _problems(exc)
        hints = _allowed_fields(exc)
        if len(problems) == 1:
            raise ScenarioError("; ".join(problems + hints), file=source) from None
        raise ScenarioError(f"{len(problems)} problems", file=source,
                            problems=problems + hints) from None
