"""Reading a scenario into a frozen, schema-validated :class:`LoadedScenario`.

This checks everything the schema alone can: types, ranges, required fields, tables that
must go together, assumptions whose ends are valid values. What needs the model (stance
labels, event targets, parameter values) is checked by a dry assembly of run 0
(:func:`steppe.assembly.load_scenario`, which is also ``steppe.load_scenario``).

Examples
--------
>>> sc = read_scenario({"name": "demo", "seed": 7, "network": {"kind": "complete", "n": 50},
...                     "model": {"name": "voter", "variant": "link"},
...                     "stop": {"max_sweeps": 5}})
>>> sc.spec.model.params()
{'variant': 'link'}
>>> read_scenario({"name": "demo", "seed": 7, "network": {"kind": "complete", "n": 1},
...                "model": {"name": "voter"}})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
steppe.errors.ScenarioError: <dict>: network.n: Input should be greater than or equal to 2 ...
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ParameterError, ScenarioError
from ..priors import check as check_prior
from .files import apply_overrides, check_depth, read_scenario_file, resolve_variant, set_path
from .loaded import LoadedScenario
from .messages import validate

__all__ = ["read_scenario", "with_overrides"]


def read_scenario(src: str | Path | Mapping[str, Any] | LoadedScenario,
                  overrides: Mapping[str, Any] | None = None) -> LoadedScenario:
    """Read and validate a scenario from a TOML file or a mapping (schema only).

    Parameters
    ----------
    src
        Path of a ``.toml`` file, the scenario as a dict, or a scenario already read (to
        apply ``overrides`` to).
    overrides
        Dotted field paths and values applied before validation, e.g.
        ``{"runs": 10, "model.p": 0.1}``.

    Returns
    -------
    LoadedScenario

    Raises
    ------
    ScenarioError
        The file is missing or unreadable, is not valid TOML, or does not validate.
    """
    if isinstance(src, LoadedScenario):
        if not overrides:
            return src
        return with_overrides(src, overrides)
    if isinstance(src, Mapping):
        check_depth(src, "<dict>")
        data = copy.deepcopy(dict(src))
        source, base_dir, digest = "<dict>", Path.cwd(), None
        if "extends" in data:
            data = resolve_variant(data, base_dir, source)
    else:
        source = str(src)
        data, base_dir, digest = read_scenario_file(src)
    if overrides:
        check_depth(dict(overrides), source)
        try:
            data = apply_overrides(data, overrides)
        except ParameterError as exc:
            raise ScenarioError(exc.message, file=source, field=exc.field,
                                allowed=exc.allowed, given=exc.given) from None
    loaded = LoadedScenario(spec=validate(data, source), source=source, base_dir=base_dir,
                            sha256=digest)
    _check_assumptions(loaded)
    return loaded


def with_overrides(loaded: LoadedScenario, overrides: Mapping[str, Any], *,
                   check_assumptions: bool = True) -> LoadedScenario:
    """The scenario with dotted fields changed, validated again, still addressed to its
    file and reading its relative paths from the same folder.

    Parameters
    ----------
    loaded
        The scenario.
    overrides
        Dotted field -> new value (``{"network.mean_degree": 12}``).
    check_assumptions
        Validate the scenario at both ends of every assumption's range again; False skips
        it (a calibration's draws lie inside the ranges already checked).

    Returns
    -------
    LoadedScenario

    Raises
    ------
    ScenarioError
        A field that does not exist or a value it does not allow (naming the file).
    """
    try:
        data = apply_overrides(loaded.data(), overrides, in_place=True)  # data(): a fresh dict
    except ParameterError as exc:
        raise loaded.fail(exc.message, exc.field, allowed=exc.allowed,
                          given=exc.given) from None
    out = LoadedScenario(spec=validate(data, loaded.source), source=loaded.source,
                         base_dir=loaded.base_dir, sha256=loaded.sha256)
    if check_assumptions:
        _check_assumptions(out)
    return out


def _check_readings(loaded: LoadedScenario) -> None:
    """Each reading names assumptions by their path, once, with values the scenario takes."""
    by_path = {a.path: (i, a) for i, a in enumerate(loaded.spec.assumptions)
               if a.path is not None}
    seen: set[str] = set()
    for k, r in enumerate(loaded.spec.readings):
        if r.name in seen:
            raise loaded.fail(f"two readings are named {r.name!r}", f"readings.{k}.name",
                              allowed="distinct names", given=r.name)
        seen.add(r.name)
        data = loaded.data()
        data.pop("assumptions", None)
        data.pop("readings", None)
        for kind, table in (("fix", r.fix), ("ranges", r.ranges)):
            for path, value in table.items():
                if path not in by_path:
                    raise loaded.fail(f"reading {r.name!r}: {path!r} is not the path of an "
                                      "assumption", f"readings.{k}.{kind}",
                                      allowed="the `path` of an [[assumptions]] entry: "
                                      + ", ".join(sorted(by_path)), given=path)
                if kind == "fix":
                    for p in by_path[path][1].paths:
                        data = set_path(data, p, value)
                elif by_path[path][1].prior is not None:
                    try:
                        check_prior(by_path[path][1].prior, *map(float, value))
                    except ValueError as exc:
                        raise loaded.fail(f"reading {r.name!r}: the prior of assumption "
                                          f"{by_path[path][1].name!r} over this range: {exc}",
                                          f"readings.{k}.ranges", given=list(value)) from None
        try:
            validate(data, loaded.source)
        except ScenarioError as exc:
            raise loaded.fail(f"reading {r.name!r} makes the scenario invalid: "
                              f"{exc.message}", f"readings.{k}.fix") from None


def _check_assumptions(loaded: LoadedScenario) -> None:
    _check_readings(loaded)
    for i, a in enumerate(loaded.spec.assumptions):
        if a.path is None:
            continue
        for j, path in enumerate(a.paths):
            if loaded.field_value(path) is None:
                where = f"assumptions.{i}.path" if j == 0 else f"assumptions.{i}.also.{j - 1}"
                raise loaded.fail(f"assumption {a.name!r}: no such field in this scenario",
                                  where, allowed="a dotted path to a number the scenario "
                                  "sets", given=path)
        for end in ("low", "high"):
            try:
                validate(loaded.assumption_variant(i, end), loaded.source)
            except ScenarioError as exc:
                raise loaded.fail(f"assumption {a.name!r} at its {end} end makes the "
                                  f"scenario invalid: {exc.message}",
                                  f"assumptions.{i}.{end}",
                                  given=getattr(a, end)) from None
