"""A validated scenario and where it came from: frozen data, with the look-ups every later
layer needs (labels to codes, dates to sweeps, field paths, error addressing).

Nothing here builds a network, a model or a pressure: :mod:`steppe.assembly` does, from this.

Examples
--------
>>> from steppe.scenario import read_scenario
>>> sc = read_scenario({"name": "d", "seed": 1, "network": {"kind": "complete", "n": 10},
...                     "model": {"name": "voter"}, "stop": {"max_sweeps": 3}})
>>> sc.max_sweeps(), sc.output_dir().as_posix()
(3.0, 'results/d')
>>> sc.field_value("network.n")
10
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ParameterError, ScenarioError
from .calendar import Calendar
from .files import apply_overrides
from .schema import Scenario

__all__ = ["LoadedScenario"]


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and where it came from.

    Attributes
    ----------
    spec : Scenario
        The validated data (frozen).
    source : str
        The file path, or ``"<dict>"`` for a scenario given as a mapping.
    base_dir : Path
        Folder that relative paths inside the scenario are relative to.
    sha256 : str or None
        Hash of the file's bytes, and its bases' (None for a mapping).
    """

    spec: Scenario
    source: str
    base_dir: Path
    sha256: str | None = None

    # -- where things go ---------------------------------------------------------------
    def output_dir(self, override: str | Path | None = None) -> Path:
        """``override``, else ``output.dir``, else ``results/<name>``."""
        if override is not None:
            return Path(override)
        if self.spec.output.dir is not None:
            return Path(self.spec.output.dir)
        return Path("results") / self.spec.name

    def path(self, value: str) -> Path:
        """A path of the scenario (edge list, data file), relative to its file."""
        p = Path(value)
        return p if p.is_absolute() else self.base_dir / p

    # -- time ----------------------------------------------------------------------------
    @property
    def calendar(self) -> Calendar:
        return Calendar(self.spec.time)

    def sweep_of(self, when: int | dt.date, field: str) -> int:
        """A time given as a sweep number or a calendar date, in sweeps."""
        with self.errors():
            return self.calendar.sweep_of(when, field)

    def max_sweeps(self) -> float | None:
        """``stop.max_sweeps``, or the sweeps up to ``time.end`` (None: no fixed length)."""
        if self.spec.stop.max_sweeps is not None:
            return self.spec.stop.max_sweeps
        return self.calendar.length

    def sweeps(self) -> int | None:
        """The whole sweeps a run lasts at most (None: no fixed length)."""
        limit = self.max_sweeps()
        return None if limit is None else int(np.ceil(limit - 1e-9))

    def within_run(self, at: int, field: str, given: Any, *, at_end: bool = False) -> int:
        """``at`` (a sweep) if the run reaches it: an event or a news shock must come
        before the run's end (one at the end would never act), a poll (``at_end``) may
        come at the end; anything later would silently never happen.

        Raises
        ------
        ScenarioError
            ``at`` lies after the end of a run of fixed length.
        """
        limit = self.max_sweeps()
        if limit is not None and (at > limit + 1e-9 or (at >= limit - 1e-9 and not at_end)):
            end = self.spec.time.end if (self.spec.time is not None and
                                         self.spec.stop.max_sweeps is None) else None
            where = f"the end of the run ({end})" if end is not None else \
                f"the end of the run (sweep {limit:g})"
            raise self.fail(f"after {where}: it would never happen", field,
                            allowed=f"before {end if end is not None else f'sweep {limit:g}'}"
                            + (" or on it" if at_end else ""), given=str(given))
        return at

    def dates(self, times: np.ndarray) -> np.ndarray | None:
        """Calendar dates (datetime64[D]) of times in sweeps, or None without a calendar."""
        return self.calendar.dates(times)

    # -- labels --------------------------------------------------------------------------
    def group_labels(self) -> list[str] | None:
        """The population's group labels (their order gives the group codes), if any."""
        pop = self.spec.population
        return list(pop.groups) if pop is not None else None

    def group_code(self, key: str | int, field: str) -> int:
        """A group given by label (population) or number (network groups) -> its code."""
        labels = self.group_labels()
        if labels is not None:
            if str(key) in labels:
                return labels.index(str(key))
            raise self.fail("unknown group", field, allowed=", ".join(labels), given=key)
        try:
            return int(key)
        except ValueError:
            raise self.fail("groups are numbered here (network groups, e.g. SBM blocks); "
                            "group names need a [population] table", field,
                            given=key) from None

    def age_code(self, label: str, field: str) -> int:
        """The code of an age band of the population."""
        pop = self.spec.population
        if pop is None or pop.ages is None:
            raise self.fail("age bands need a [population] table with ages", field,
                            given=label)
        labels = list(pop.ages)
        if label not in labels:
            raise self.fail("unknown age band", field, allowed=", ".join(labels), given=label)
        return labels.index(label)

    def by_group(self, table: Mapping[str | int, Any], field: str) -> dict[int, Any]:
        """A per-group table with its keys turned into group codes."""
        return {self.group_code(k, f"{field}.{k}"): v for k, v in table.items()}

    def by_age(self, table: Mapping[str, Any], field: str) -> dict[int, Any]:
        """A per-age-band table with its keys turned into age codes."""
        return {self.age_code(k, f"{field}.{k}"): v for k, v in table.items()}

    def level_tables(self) -> dict[str, list[str]]:
        """Labels of each population attribute (group, region, age, language), for poll
        frames and breakdowns."""
        pop = self.spec.population
        if pop is None:
            return {}
        return {"group": list(pop.groups), "region": list(pop.regions or {"all": 1}),
                "age": list(pop.ages or {"all": 1}),
                "language": list(pop.languages or {"all": 1})}

    # -- fields --------------------------------------------------------------------------
    def data(self) -> dict[str, Any]:
        """The scenario as plain data (every default filled in, none left out)."""
        return self.spec.model_dump(mode="json", exclude_none=True)

    def field_value(self, path: str) -> Any:
        """The value of a dotted field path of the validated scenario (None if absent)."""
        node: Any = self.data()
        parts = path.split(".")
        i = 0
        while i < len(parts):
            if isinstance(node, list):
                if not parts[i].isdigit() or int(parts[i]) >= len(node):
                    return None
                node = node[int(parts[i])]
                i += 1
                continue
            if not isinstance(node, dict):
                return None
            for j in range(len(parts), i, -1):
                key = ".".join(parts[i:j])
                if key in node:
                    node = node[key]
                    i = j
                    break
            else:
                return None
        return node

    def assumption_value(self, index: int, end: str) -> Any:
        """Assumption ``index`` at its ``"low"`` or ``"high"`` end, as the field takes it
        (a whole number where the scenario has one)."""
        a = self.spec.assumptions[index]
        value = a.low if end == "low" else a.high
        current = self.field_value(a.path or "")
        if isinstance(current, int) and not isinstance(current, bool) and value is not None \
                and float(value).is_integer():
            value = int(value)
        return value

    def assumption_variant(self, index: int, end: str) -> dict[str, Any]:
        """The scenario's data with assumption ``index`` at its ``"low"`` or ``"high"``
        end in every field that carries it (the assumptions table left out)."""
        a = self.spec.assumptions[index]
        data = self.data()
        data.pop("assumptions", None)
        try:
            value = self.assumption_value(index, end)
            # data() is a fresh dict: set the fields in it, no copy
            return apply_overrides(data, dict.fromkeys(a.paths, value), in_place=True)
        except ParameterError as exc:
            raise self.fail(f"assumption {a.name!r}: {exc.message}",
                            f"assumptions.{index}.path", allowed=exc.allowed,
                            given=a.path) from None

    # -- errors --------------------------------------------------------------------------
    def fail(self, message: str, field: str | None, **kw: Any) -> ScenarioError:
        """An error naming this scenario's file and ``field``."""
        return ScenarioError(message, file=self.source, field=field, **kw)

    def error_from(self, exc: ParameterError, prefix: str | None = None,
                   rename: Mapping[str, str] | None = None) -> ScenarioError:
        """Re-address a parameter error to this scenario's file and field path: ``prefix``
        goes before a field that lacks it, ``rename`` maps a field's leading part to the
        scenario's (``{"media.tv": "media.0"}``), and a model's own name becomes ``model``."""
        fld = exc.field or ""
        for old, new in (rename or {}).items():
            if fld == old or fld.startswith(old + "."):
                fld = new + fld[len(old):]
        if prefix and not fld.startswith((prefix, "population.")):
            fld = f"{prefix}.{fld}" if fld else prefix
        if fld.startswith(f"{self.spec.model.name}."):
            fld = "model." + fld[len(self.spec.model.name) + 1:]
        return ScenarioError(exc.message, file=self.source, field=fld or None,
                             allowed=exc.allowed, given=exc.given)

    @contextlib.contextmanager
    def errors(self, prefix: str | None = None,
               rename: Mapping[str, str] | None = None) -> Iterator[None]:
        """Inside, a :class:`ParameterError` becomes a :class:`ScenarioError` of this
        scenario (see :meth:`error_from`)."""
        try:
            yield
        except ParameterError as exc:
            raise self.error_from(exc, prefix, rename) from None
