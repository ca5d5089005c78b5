"""Reading scenario files: TOML, variants that extend a base file, overrides by dotted path.

Nothing in a file is ever executed. A variant names its base in ``extends`` (relative to
itself); its tables override the base's key by key, arrays replace the base's unless listed
in ``append``, and ``[overrides]`` sets single fields by dotted path (array items by
index). :func:`set_path` is the one way steppe sets a field by path: overrides, variants,
assumptions at the ends of their ranges and sweep points all use it.

Examples
--------
>>> set_path({"media": [{"strength": 1}]}, "media.0.strength", 2)
{'media': [{'strength': 2}]}
"""

from __future__ import annotations

import copy
import hashlib
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ParameterError, ScenarioError
from ..inputs import read_bytes

__all__ = ["MAX_DEPTH", "MAX_EXTENDS", "apply_overrides", "check_depth", "read_scenario_file",
           "resolve_variant", "set_path"]


#: the deepest nesting of tables and arrays a scenario may have
MAX_DEPTH = 32
#: the longest chain of variants (a file that extends a file that extends ...)
MAX_EXTENDS = 8


def check_depth(data: Any, source: str, limit: int = MAX_DEPTH) -> None:
    """Refuse data nested more than ``limit`` tables or arrays deep (no scenario needs
    more; deeper data would exhaust the interpreter's recursion later).

    Examples
    --------
    >>> check_depth({"a": [[1]]}, "s.toml")
    >>> check_depth({"a": [[[[1]]]]}, "s.toml", limit=3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    steppe.errors.ScenarioError: s.toml: a.0.0.0: nested too deeply ...
    """
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        node, depth, where = stack.pop()
        if isinstance(node, Mapping | list | tuple):
            if depth > limit:
                raise ScenarioError("nested too deeply", file=source, field=where or None,
                                    allowed=f"at most {limit} levels of tables and arrays")
            items = node.items() if isinstance(node, Mapping) else enumerate(node)
            for k, v in items:
                stack.append((v, depth + 1, f"{where}.{k}" if where else str(k)))


def _read_toml(path: Path) -> tuple[dict[str, Any], bytes]:
    source = str(path)
    raw = read_bytes(path, what="scenario file")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ScenarioError("not a UTF-8 text file", file=source) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}", file=source) from None
    except RecursionError:
        raise ScenarioError("nested too deeply to read", file=source,
                            allowed=f"at most {MAX_DEPTH} levels of tables and arrays") \
            from None
    check_depth(data, source)
    return data, raw


def read_scenario_file(src: str | Path) -> tuple[dict[str, Any], Path, str]:
    """The raw data of a scenario file (a variant merged onto its base), the folder its
    relative paths refer to, and the SHA-256 of its bytes (and its bases').

    Raises
    ------
    ScenarioError
        A missing or unreadable file, invalid TOML, or a bad ``extends``.
    """
    path = Path(src)
    data, raw = _read_toml(path)
    try:
        base_dir = path.resolve().parent
    except OSError as exc:  # pragma: no cover - the file was just read
        raise ScenarioError(f"cannot resolve the path ({exc.strerror})", file=str(path)) \
            from None
    digest = hashlib.sha256(raw)
    if "extends" in data:
        data = resolve_variant(data, base_dir, str(path), digest=digest,
                               chain=(str(path),))
    return data, base_dir, digest.hexdigest()


#: keys of a variant file that are instructions, not scenario fields
_VARIANT_KEYS = ("extends", "overrides", "append")


def resolve_variant(data: Mapping[str, Any], base_dir: Path, source: str, *,
                    digest: Any = None, chain: tuple[str, ...] = ()) -> dict[str, Any]:
    r"""Merge a variant onto the scenario it ``extends``.

    A variant names its base file (relative to itself) in ``extends``. Its tables override
    the base's key by key (recursively); an array (such as ``[[events]]``) replaces the
    base's, unless the variant lists it in ``append``, in which case its items follow the
    base's. ``[overrides]`` sets single fields by dotted path, array items by index:
    ``"flows.0.rate" = 2000``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "base.toml").write_text('name = "b"\nseed = 1\n[[events]]\nat = 3\n'
    ...                                  'set = { "model.p" = 0.1 }\n')
    >>> v = resolve_variant({"extends": "base.toml", "name": "v", "append": ["events"],
    ...                      "events": [{"at": 9, "set": {"model.p": 0.2}}],
    ...                      "overrides": {"events.0.at": 4}}, d, "v.toml")
    >>> v["name"], [e["at"] for e in v["events"]]
    ('v', [4, 9])
    """
    chain = chain or (source,)
    name = data.get("extends")
    if not isinstance(name, str) or not name:
        raise ScenarioError("must name the base scenario file", file=source,
                            field="extends", allowed="a path relative to this file",
                            given=name)
    path = Path(name) if Path(name).is_absolute() else base_dir / name
    if "\0" not in name:
        try:
            seen = {str(Path(c).resolve()) for c in chain if c != "<dict>"}
            if str(path.resolve()) in seen:
                raise ScenarioError(
                    "variants extend each other in a loop: "
                    + " -> ".join([*chain, str(path)]), file=chain[0], field="extends")
        except OSError:
            pass  # an unusable path: reading it says what is wrong
    if len(chain) > MAX_EXTENDS:
        raise ScenarioError(f"more than {MAX_EXTENDS} levels of variants: "
                            + " -> ".join([*chain, str(path)]), file=chain[0],
                            field="extends", allowed=f"at most {MAX_EXTENDS}")
    try:
        base, raw = _read_toml(path)
    except ScenarioError as exc:
        raise ScenarioError(f"base scenario {name[:200]!r}: {exc.message}", file=source,
                            field="extends", allowed=exc.allowed) from None
    if digest is not None:
        digest.update(raw)
    if "extends" in base:
        base = resolve_variant(base, path.resolve().parent, str(path), digest=digest,
                               chain=(*chain, str(path)))
    append = data.get("append", [])
    if not isinstance(append, list) or not all(isinstance(a, str) for a in append):
        raise ScenarioError("a list of array names", file=source, field="append",
                            allowed='e.g. ["events"]', given=append)
    merged = copy.deepcopy(base)
    for key, value in data.items():
        if key in _VARIANT_KEYS:
            continue
        if key in append:
            if not isinstance(value, list):
                raise ScenarioError("only arrays can be appended to", file=source,
                                    field=f"append.{key}", given=type(value).__name__)
            merged[key] = list(merged.get(key) or []) + copy.deepcopy(value)
        else:
            merged[key] = _merge(merged.get(key), value)
    overrides = data.get("overrides", {})
    if not isinstance(overrides, Mapping):
        raise ScenarioError("a table of dotted paths and values", file=source,
                            field="overrides", given=overrides)
    for dotted, value in overrides.items():
        try:
            merged = set_path(merged, dotted, value)
        except ParameterError as exc:
            raise ScenarioError(exc.message, file=source, field=f"overrides.{dotted}",
                                allowed=exc.allowed, given=exc.given) from None
    return merged


def _merge(base: Any, value: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(value, Mapping):
        out = dict(base)
        for k, v in value.items():
            out[k] = _merge(base.get(k), v)
        return out
    return copy.deepcopy(value)


def set_path(data: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``data`` with the dotted ``path`` set to ``value``: tables are created as
    needed, a number selects an item of an array (``media.0.strength``), and a key that
    itself holds dots is matched whole (``events.0.set.expression.enforcement``).

    Examples
    --------
    >>> set_path({"media": [{"strength": 1}]}, "media.0.strength", 2)
    {'media': [{'strength': 2}]}
    >>> set_path({"events": [{"set": {"model.p": 0.1}}]}, "events.0.set.model.p", 0.2)
    {'events': [{'set': {'model.p': 0.2}}]}
    """
    out = copy.deepcopy(dict(data))
    _set_in_place(out, path, value)
    return out


def _set_in_place(out: dict[str, Any], path: str, value: Any) -> None:
    """:func:`set_path` on ``out`` itself (no copy)."""
    parts = path.split(".")
    node: Any = out
    i = 0
    while True:
        if isinstance(node, list):
            part = parts[i]
            if not part.isdigit() or int(part) >= len(node):
                raise ParameterError("no such item in this array", field=path,
                                     allowed=f"0 .. {len(node) - 1}", given=part)
            if i == len(parts) - 1:
                node[int(part)] = value
                return
            node = node[int(part)]
            i += 1
            continue
        if not isinstance(node, dict):
            raise ParameterError("not a table", field=path, given=".".join(parts[:i]))
        for j in range(len(parts), i, -1):  # a key holding dots, longest first
            key = ".".join(parts[i:j])
            if key in node and (j == len(parts) or isinstance(node[key], dict | list)):
                break
        else:
            j = i + 1
            key = parts[i]
        if j == len(parts):
            node[key] = value
            return
        if not isinstance(node.get(key), dict | list):
            node[key] = {}
        node = node[key]
        i = j


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any], *,
                    in_place: bool = False) -> dict[str, Any]:
    """Set dotted paths in a nested dict (a copy, or ``data`` itself with ``in_place``),
    creating tables as needed; a number selects an item of an existing array, as in
    :func:`set_path`.

    Raises
    ------
    ParameterError
        A path through an array names an item it does not have.

    Examples
    --------
    >>> apply_overrides({"model": {"name": "voter"}}, {"model.variant": "link", "runs": 3})
    {'model': {'name': 'voter', 'variant': 'link'}, 'runs': 3}
    >>> apply_overrides({"news": [{"amount": 0.1}]}, {"news.0.amount": 0.2})
    {'news': [{'amount': 0.2}]}
    """
    # one copy (not one per path: the tables are large), none for data made to be changed
    out = data if in_place and isinstance(data, dict) else copy.deepcopy(dict(data))
    for dotted, value in overrides.items():
        # a table or array given as a value is the caller's: a later path may set into it
        _set_in_place(out, dotted, copy.deepcopy(value) if isinstance(value, dict | list)
                      else value)
    return out
