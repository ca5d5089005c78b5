"""Reading, validating and resolving scenario files.

Every problem becomes a :class:`~steppe.errors.ScenarioError` naming the file, the field path,
what is allowed and what was given; nothing in a file is ever executed.

Examples
--------
>>> sc = load_scenario({"name": "demo", "seed": 7, "network": {"kind": "complete", "n": 50},
...                     "model": {"name": "voter", "variant": "link"},
...                     "stop": {"max_sweeps": 5}})
>>> sc.model().params.variant
'link'
>>> load_scenario({"name": "demo", "seed": 7, "network": {"kind": "complete", "n": 1},
...                "model": {"name": "voter"}})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
steppe.errors.ScenarioError: <dict>: network.n: Input should be greater than or equal to 2 ...
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from ..engine.simulate import Event
from ..engine.state import Committed
from ..errors import ParameterError, ScenarioError
from ..models.base import Model, get_model
from ..networks.base import Network
from ..observe.polls import PollDesign
from ..population.flows import ArrivalPool, BorderFlows, FlowPlan
from ..pressures.expression import ExpressionLayer
from ..pressures.media import MediaChannel
from ..pressures.protest import ProtestLayer
from .schema import Scenario

__all__ = ["LoadedScenario", "apply_overrides", "load_scenario", "network_seed",
           "read_scenario_file", "resolve_variant", "run_seed", "set_path"]


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and where it came from.

    Attributes
    ----------
    spec : Scenario
        The validated data.
    source : str
        The file path, or ``"<dict>"`` for a scenario given as a mapping.
    base_dir : Path
        Folder that relative paths inside the scenario are relative to.
    sha256 : str or None
        Hash of the file's bytes (None for a mapping).
    """

    spec: Scenario
    source: str
    base_dir: Path
    sha256: str | None = None

    def model(self) -> Model:
        """A model instance with the scenario's parameters (and stance categories)."""
        params = self.spec.model.params()
        for key, value in params.items():
            # file parameters are relative to the scenario file, like network paths
            if key.endswith("_file") and isinstance(value, str) and not Path(value).is_absolute():
                params[key] = str(self.base_dir / value)
        try:
            model = get_model(self.spec.model.name)(params)
            if self.spec.stances is not None and model.continuous:
                model.set_categories(self.spec.stances.labels, self.spec.stances.cutoffs)
            return model
        except ParameterError as exc:
            raise self.error_from(exc) from None

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
            raise self._fail("unknown group", field, allowed=", ".join(labels), given=key)
        try:
            return int(key)
        except ValueError:
            raise self._fail("groups are numbered here (network groups, e.g. SBM blocks); "
                             "group names need a [population] table", field,
                             given=key) from None

    def age_code(self, label: str, field: str) -> int:
        """The code of an age band of the population."""
        pop = self.spec.population
        if pop is None or pop.ages is None:
            raise self._fail("age bands need a [population] table with ages", field,
                             given=label)
        labels = list(pop.ages)
        if label not in labels:
            raise self._fail("unknown age band", field, allowed=", ".join(labels),
                             given=label)
        return labels.index(label)

    def by_age(self, table: Mapping[str, Any], field: str) -> dict[int, Any]:
        """A per-age-band table with its keys turned into age codes."""
        return {self.age_code(k, f"{field}.{k}"): v for k, v in table.items()}

    def by_group(self, table: Mapping[str | int, Any], field: str) -> dict[int, Any]:
        """A per-group table with its keys turned into group codes."""
        return {self.group_code(k, f"{field}.{k}"): v for k, v in table.items()}

    def committed(self) -> Committed | None:
        c = self.spec.committed
        if c is None:
            return None
        return Committed(stance=c.stance, fraction=c.fraction,
                         by_group=self.by_group(c.by_group, "committed.by_group"),
                         opinion=c.opinion, among=c.among)

    def expression_layer(self, model: Model, network: Network,
                         run: int) -> ExpressionLayer | None:
        """The run's expression layer (its per-agent draws seeded from the run)."""
        e = self.spec.expression
        if e is None:
            return None
        gen = np.random.default_rng(np.random.SeedSequence(self.spec.seed,
                                                           spawn_key=(2, run)))
        try:
            return ExpressionLayer(
                model, network, penalised=e.penalised, safe=e.safe,
                enforcement=e.enforcement, conviction=e.conviction, visibility=e.visibility,
                conviction_by_group=self.by_group(e.conviction_by_group,
                                                  "expression.conviction_by_group"),
                visibility_by_group=self.by_group(e.visibility_by_group,
                                                  "expression.visibility_by_group"),
                support_weight=e.support_weight,
                start=e.start, safe_opinion=e.safe_opinion,
                committed_always_voice=e.committed_always_voice, gen=gen)
        except ParameterError as exc:
            raise self.error_from(exc) from None

    def media_channels(self, model: Model, network: Network, run: int) -> list[MediaChannel]:
        """The run's media channels (exposure draws and pulls seeded from the run)."""
        out = []
        for i, m in enumerate(self.spec.media):
            gen = np.random.default_rng(np.random.SeedSequence(self.spec.seed,
                                                               spawn_key=(3, run, i)))
            try:
                channel = MediaChannel(model, network, name=m.name, stance=m.stance,
                                       strength=m.strength, exposure=m.exposure,
                                       exposure_by_group=self.by_group(
                                           m.exposure_by_group, f"media.{i}.exposure_by_group"),
                                       opinion=m.opinion, gen=gen)
                if m.exposure_by_age:
                    factors = self.by_age(m.exposure_by_age, f"media.{i}.exposure_by_age")
                    ages = (network.attributes or {})["age"][0]
                    scale = np.ones(len(self.spec.population.ages or {"all": 1}))
                    for code, f in factors.items():
                        scale[code] = f
                    channel.exposure = np.minimum(1.0, channel.exposure * scale[ages])
                out.append(channel)
            except ParameterError as exc:
                raise self.error_from(exc) from None
        return out

    def protest_layer(self, model: Model, network: Network, run: int) -> ProtestLayer | None:
        """The run's protest layer (thresholds and instigators seeded from the run)."""
        p = self.spec.protest
        if p is None:
            return None
        gen = np.random.default_rng(np.random.SeedSequence(self.spec.seed,
                                                           spawn_key=(6, run)))
        try:
            return ProtestLayer(model, network, eligible=p.eligible, threshold=p.threshold,
                                threshold_by_group=self.by_group(p.threshold_by_group,
                                                                 "protest.threshold_by_group"),
                                mode=p.mode, instigators=p.instigators,
                                requires_voicing=p.requires_voicing, permitted=p.permitted,
                                gen=gen)
        except ParameterError as exc:
            raise self.error_from(exc) from None

    def sweep_of(self, when: int | dt.date, field: str) -> int:
        """A time given as a sweep number or a calendar date, in sweeps."""
        if isinstance(when, dt.date):
            if self.spec.time is None:
                raise self._fail("a date needs a [time] calendar (or give a sweep number)",
                                 field, given=str(when))
            if when < self.spec.time.start:
                raise self._fail("date before the start of the calendar", field,
                                 allowed=f">= {self.spec.time.start}", given=str(when))
            return self.spec.time.sweep_of(when)
        return int(when)

    def events(self) -> list[Event]:
        """The scenario's events in sweeps, in time order."""
        out = []
        for i, ev in enumerate(self.spec.events):
            at = self.sweep_of(ev.at, f"events.{i}.at")
            until = None if ev.until is None else self.sweep_of(ev.until, f"events.{i}.until")
            if until is not None and until <= at:
                raise self._fail("a ramp must end after it starts", f"events.{i}.until",
                                 allowed=f"later than {ev.at}", given=str(ev.until))
            changes = {k: v for k, v in ev.set.items() if not k.startswith("flows.")}
            if changes:
                out.append(Event(at=at, changes=changes, until=until))
        return sorted(out, key=lambda e: e.at)

    # -- border flows -------------------------------------------------------------------
    def _flow_sweeps(self) -> int:
        limit = self.max_sweeps()
        if limit is None:
            raise self._fail("border flows need a fixed length of run: stop.max_sweeps or "
                             "time.end", "flows")
        return int(np.ceil(limit - 1e-9))

    def _per_sweep(self) -> float:
        """Days per sweep (1 without a calendar: rates are then per sweep)."""
        t = self.spec.time
        return 1.0 if t is None else t.days_per_step() / t.sweeps_per_step

    def flow_counts(self) -> dict[str, np.ndarray]:
        """Agents arriving (leaving) with each flow at the start of each sweep, after
        scaling (events on ``flows.<name>.rate`` included)."""
        from ..population.flows import schedule

        spec = self.spec
        if not spec.flows:
            return {}
        n_sweeps = self._flow_sweeps()
        scale = spec.population.scale if spec.population is not None else 1.0
        out = {}
        for i, f in enumerate(spec.flows):
            a = self.sweep_of(f.start, f"flows.{i}.start")
            b = n_sweeps if f.end is None else self.sweep_of(f.end, f"flows.{i}.end")
            if f.end is not None and b <= a:
                raise self._fail("a flow must end after it starts", f"flows.{i}.end",
                                 allowed=f"later than {f.start}", given=str(f.end))
            b = min(b, n_sweeps)  # a flow starting after the run's end brings nobody
            expected = np.zeros(n_sweeps)
            if f.total is not None:
                if a < n_sweeps:
                    expected[a:b] = f.total * scale / (b - a)
            else:
                rate = np.full(n_sweeps, float(f.rate))
                for j, ev in enumerate(spec.events):
                    value = ev.set.get(f"flows.{f.name}.rate")
                    if value is None:
                        continue
                    at = self.sweep_of(ev.at, f"events.{j}.at")
                    until = None if ev.until is None else self.sweep_of(
                        ev.until, f"events.{j}.until")
                    if until is None or until <= at:
                        rate[at:] = float(value)
                    else:  # a ramp, as the engine's: linear from the value at `at`
                        t = np.arange(n_sweeps, dtype=float)
                        frac = np.clip((t - at) / (until - at), 0.0, 1.0)
                        start = rate[min(at, n_sweeps - 1)] if n_sweeps else 0.0
                        ramp = start + (float(value) - start) * frac
                        rate[at:] = ramp[at:]
                expected[a:b] = rate[a:b] * self._per_sweep() * scale
            out[f.name] = schedule(expected)
        return out

    def arrival_pools(self) -> list[ArrivalPool]:
        """Who each arrival flow brings over the whole run (the slots built in)."""
        counts = self.flow_counts()
        return [ArrivalPool(name=f.name, n=int(counts[f.name].sum()), groups=f.groups,
                            regions=f.regions, ages=f.ages)
                for f in self.spec.flows if f.direction == "in"]

    def border_flows(self, model: Model, network: Network, run: int) -> BorderFlows | None:
        """The run's border flows (slot order, stances of arrivals, who leaves: drawn from
        the run's seed), or None."""
        spec = self.spec
        if not spec.flows:
            return None
        attrs = network.attributes or {}
        if "origin" in attrs:
            origin, labels = attrs["origin"]
        else:
            origin, labels = np.zeros(network.n, np.int8), ("resident",)
        plans = self.flow_plans(model, tuple(labels))
        gen = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=(7, run)))
        try:
            return BorderFlows(model, network, origin, tuple(labels), plans, gen)
        except ParameterError as exc:
            raise self.error_from(exc) from None

    def flow_plans(self, model: Model, labels: tuple[str, ...]) -> list[FlowPlan]:
        """The flows as the engine carries them out (``labels``: the origin labels,
        residents first, then the arrival flows)."""
        spec = self.spec
        counts = self.flow_counts()
        base = dict(spec.initial.shares or model.default_initial)
        plans = []
        group_labels = self.group_labels() or []
        for i, f in enumerate(spec.flows):
            plan = FlowPlan(name=f.name, direction=f.direction, counts=counts[f.name])
            if f.direction == "in":
                shares = np.zeros(len(model.stances))
                for label, v in (f.initial or base).items():
                    shares[self._stance(model, label, f"flows.{i}.initial.{label}")] = v
                if abs(shares.sum() - 1.0) > 1e-9:
                    raise self._fail("shares must sum to 1", f"flows.{i}.initial",
                                     given=dict(f.initial or base))
                plan.shares = shares
                plan.committed = f.committed
                if f.committed > 0:
                    label = f.committed_stance or (spec.committed.stance if spec.committed
                                                   else None)
                    if label is None:
                        raise self._fail("committed arrivals need a stance",
                                         f"flows.{i}.committed_stance",
                                         allowed="a stance label (or a [committed] table)")
                    plan.committed_code = self._stance(model, label,
                                                       f"flows.{i}.committed_stance")
            else:
                if f.source is not None:  # -1: a source flow that brings nobody
                    plan.source = (list(labels).index(f.source) if f.source in labels
                                   else -1)
                if f.groups is not None:
                    w = np.zeros(len(group_labels))
                    for g, v in f.groups.items():
                        w[self.group_code(g, f"flows.{i}.groups.{g}")] = v
                    if w.sum() <= 0:
                        raise self._fail("group weights must not all be 0",
                                         f"flows.{i}.groups", given=dict(f.groups))
                    plan.group_weights = w / w.sum()
            plans.append(plan)
        return plans

    def _stance(self, model: Model, label: str, field: str) -> int:
        if label not in model.stances:
            raise self._fail(f"unknown stance for model {model.name!r}", field,
                             allowed=", ".join(repr(x) for x in model.stances), given=label)
        return model.stances.index(label)

    def polls(self) -> list[tuple[int, PollDesign]]:
        """The scenario's polls: (sweep, design), in time order."""
        out = []
        for i, p in enumerate(self.spec.polls):
            at = self.sweep_of(p.at, f"polls.{i}.at")
            design = p.design()
            if isinstance(design.get("frame"), Mapping):
                design["frame"] = self._frame(design["frame"], f"polls.{i}.frame")
            design.setdefault("name", f"poll {i}" if not isinstance(p.at, dt.date)
                              else f"poll {p.at}")
            try:
                out.append((at, PollDesign(**design)))
            except ParameterError as exc:
                fld = (exc.field or "").removeprefix("poll")
                raise ScenarioError(exc.message, file=self.source, field=f"polls.{i}{fld}",
                                    allowed=exc.allowed, given=exc.given) from None
        return sorted(out, key=lambda x: x[0])

    def _frame(self, frame: Mapping[str, Any], field: str) -> dict[str, Any]:
        """A poll's sampling frame with level labels turned into codes."""
        pop = self.spec.population
        tables = {} if pop is None else {"group": list(pop.groups),
                                         "region": list(pop.regions or {"all": 1}),
                                         "age": list(pop.ages or {"all": 1})}
        out: dict[str, Any] = {}
        for attr, levels in frame.items():
            if not isinstance(levels, list):
                raise self._fail("a list of levels", f"{field}.{attr}", given=levels)
            codes = []
            for level in levels:
                if isinstance(level, str):
                    labels = tables.get(attr)
                    if labels is None or level not in labels:
                        raise self._fail("unknown level", f"{field}.{attr}",
                                         allowed=", ".join(labels or []), given=level)
                    codes.append(labels.index(level))
                else:
                    codes.append(level)
            out[attr] = codes
        return out

    def max_sweeps(self) -> float | None:
        """stop.max_sweeps, or the sweeps up to time.end."""
        if self.spec.stop.max_sweeps is not None:
            return self.spec.stop.max_sweeps
        t = self.spec.time
        if t is not None and t.end is not None:
            return float(t.sweep_of(t.end))
        return None

    def dates(self, times: np.ndarray) -> np.ndarray | None:
        """Calendar dates (datetime64[D]) of times in sweeps, or None without a calendar.

        A record's date is the day whose *start* it describes: time 0 is the morning of
        ``time.start``; an event dated d acts from the start of day d; the last record is
        the morning of ``time.end``."""
        t = self.spec.time
        if t is None:
            return None
        steps = np.floor(np.asarray(times) / t.sweeps_per_step + 1e-9).astype(np.int64)
        return np.datetime64(t.start, "D") + steps * t.days_per_step()

    def output_dir(self, override: str | Path | None = None) -> Path:
        if override is not None:
            return Path(override)
        if self.spec.output.dir is not None:
            return Path(self.spec.output.dir)
        return Path("results") / self.spec.name

    def build_network(self, run: int | None = None) -> Network:
        """Build the scenario's network (for ``run`` when it is resampled per run)."""
        from .networks import build_network

        seed = network_seed(self.spec.seed, run if self.spec.network.resample else None)
        try:
            return build_network(self.spec.network, seed=seed, base_dir=self.base_dir,
                                 population=self.spec.population,
                                 arrivals=self.arrival_pools())
        except ParameterError as exc:
            raise self.error_from(exc, prefix="network") from None

    def error_from(self, exc: ParameterError, prefix: str | None = None) -> ScenarioError:
        """Re-address a parameter error to this scenario's file and field path."""
        fld = exc.field or ""
        if prefix and not fld.startswith((prefix, "population.")):
            fld = f"{prefix}.{fld}" if fld else prefix
        if fld.startswith(f"{self.spec.model.name}."):
            fld = "model." + fld[len(self.spec.model.name) + 1 :]
        return ScenarioError(exc.message, file=self.source, field=fld or None,
                             allowed=exc.allowed, given=exc.given)

    def check(self) -> None:
        """Validate everything that needs the model: parameters, stance labels."""
        model = self.model()
        stances = ", ".join(repr(s) for s in model.stances)
        if self.spec.initial.shares is not None:
            for label in self.spec.initial.shares:
                if label not in model.stances:
                    raise ScenarioError(f"unknown stance for model {model.name!r}",
                                        file=self.source, field=f"initial.shares.{label}",
                                        allowed=stances, given=label)
            total = sum(self.spec.initial.shares.values())
            if abs(total - 1.0) > 1e-9:
                raise ScenarioError("initial shares must sum to 1", file=self.source,
                                    field="initial.shares", allowed="a sum of 1",
                                    given=round(total, 12))
        if self.spec.committed is not None and self.spec.committed.stance not in model.stances:
            raise ScenarioError(f"unknown stance for model {model.name!r}", file=self.source,
                                field="committed.stance", allowed=stances,
                                given=self.spec.committed.stance)
        self._check_continuous(model)
        self._check_expression_and_events(model)
        for key, shares in self.spec.initial.by_group.items():
            where = f"initial.by_group.{key}"
            self.group_code(key, where)
            for label in shares:
                if label not in model.stances:
                    raise self._fail(f"unknown stance for model {model.name!r}",
                                     f"{where}.{label}", allowed=stances, given=label)
            if abs(sum(shares.values()) - 1.0) > 1e-9:
                raise self._fail("shares must sum to 1", where, given=dict(shares))
        self.committed()
        if self.spec.expression is not None:
            self.by_group(self.spec.expression.conviction_by_group,
                          "expression.conviction_by_group")
            self.by_group(self.spec.expression.visibility_by_group,
                          "expression.visibility_by_group")
        for i, m in enumerate(self.spec.media):
            self.by_group(m.exposure_by_group, f"media.{i}.exposure_by_group")
            self.by_age(m.exposure_by_age, f"media.{i}.exposure_by_age")
        for key, shares in self.spec.initial.by_age.items():
            where = f"initial.by_age.{key}"
            self.age_code(key, where)
            for label in shares:
                if label not in model.stances:
                    raise self._fail(f"unknown stance for model {model.name!r}",
                                     f"{where}.{label}", allowed=stances, given=label)
            if abs(sum(shares.values()) - 1.0) > 1e-9:
                raise self._fail("shares must sum to 1", where, given=dict(shares))
        if self.spec.flows:
            if not model.supports_flows:
                raise self._fail(f"model {model.name!r} does not support border flows",
                                 "flows", given=model.name)
            self.flow_plans(model, ("resident", *(f.name for f in self.spec.flows
                                                  if f.direction == "in")))
        self._check_assumptions()
        for _, design in self.polls():
            for label in [design.list_experiment.sensitive] if design.list_experiment else []:
                if label not in model.stances:
                    raise self._fail(f"unknown stance for model {model.name!r}",
                                     "polls.list_experiment.sensitive", allowed=stances,
                                     given=label)

    def assumption_variant(self, index: int, end: str) -> dict[str, Any]:
        """The scenario's data with assumption ``index`` at its ``"low"`` or ``"high"``
        end (the assumptions table left out)."""
        a = self.spec.assumptions[index]
        data = self.spec.model_dump(mode="json", exclude_none=True)
        data.pop("assumptions", None)
        value = a.low if end == "low" else a.high
        current = self.field_value(a.path or "")
        if isinstance(current, int) and not isinstance(current, bool) and value is not None \
                and float(value).is_integer():
            value = int(value)
        try:
            return set_path(data, a.path or "", value)
        except ParameterError as exc:
            raise self._fail(f"assumption {a.name!r}: {exc.message}",
                             f"assumptions.{index}.path", allowed=exc.allowed,
                             given=a.path) from None

    def field_value(self, path: str) -> Any:
        """The value of a dotted field path of the validated scenario (None if absent)."""
        node: Any = self.spec.model_dump(mode="json", exclude_none=True)
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

    def _check_assumptions(self) -> None:
        for i, a in enumerate(self.spec.assumptions):
            if a.path is None:
                continue
            if self.field_value(a.path) is None:
                raise self._fail(f"assumption {a.name!r}: no such field in this scenario",
                                 f"assumptions.{i}.path", allowed="a dotted path to a "
                                 "number the scenario sets", given=a.path)
            for end in ("low", "high"):
                try:
                    _validate(self.assumption_variant(i, end), self.source)
                except ScenarioError as exc:
                    raise self._fail(f"assumption {a.name!r} at its {end} end makes the "
                                     f"scenario invalid: {exc.message}",
                                     f"assumptions.{i}.{end}",
                                     given=getattr(a, end)) from None

    def _fail(self, message: str, field: str, **kw: Any) -> ScenarioError:
        return ScenarioError(message, file=self.source, field=field, **kw)

    def _check_continuous(self, model: Model) -> None:
        spec = self.spec
        if model.continuous:
            return
        kind = f"model {model.name!r} has discrete stances"
        if spec.stances is not None:
            raise self._fail(f"{kind}; [stances] cut-offs are for continuous models",
                             "stances", allowed="no [stances] table")
        if spec.initial.opinion is not None:
            raise self._fail(f"{kind}; initial opinions are for continuous models",
                             "initial.opinion", allowed="initial.shares")
        if spec.committed is not None and spec.committed.opinion is not None:
            raise self._fail(f"{kind}; a committed opinion is for continuous models",
                             "committed.opinion")

    def _check_expression_and_events(self, model: Model) -> None:
        spec = self.spec
        stances = ", ".join(repr(s) for s in model.stances)
        e = spec.expression
        if e is not None:
            if getattr(model, "own_expression", False):
                raise self._fail(f"model {model.name!r} has expressed opinions of its own",
                                 "expression", allowed="no [expression] table")
            for label in e.penalised:
                if label not in model.stances:
                    raise self._fail(f"unknown stance for model {model.name!r}",
                                     "expression.penalised", allowed=stances, given=label)
            if e.safe not in model.stances:
                raise self._fail(f"unknown stance for model {model.name!r}",
                                 "expression.safe", allowed=stances, given=e.safe)
            if e.safe in e.penalised:
                raise self._fail("the safe stance cannot be penalised", "expression.safe",
                                 given=e.safe)
        names = [m.name for m in spec.media]
        for i, m in enumerate(spec.media):
            if names.count(m.name) > 1:
                raise self._fail("media channel names must differ", f"media.{i}.name",
                                 given=m.name)
            if m.stance not in model.stances:
                raise self._fail(f"unknown stance for model {model.name!r}",
                                 f"media.{i}.stance", allowed=stances, given=m.stance)
        params = type(model.params).model_fields
        media_paths = [f"media.{n}.strength" for n in names]
        media_paths += [f"flows.{f.name}.rate" for f in spec.flows if f.rate is not None]
        if spec.protest is not None:
            media_paths.append("protest.permitted")
            for label in spec.protest.eligible:
                if label not in model.stances:
                    raise self._fail(f"unknown stance for model {model.name!r}",
                                     "protest.eligible", allowed=stances, given=label)
        for i, ev in enumerate(spec.events):
            self.sweep_of(ev.at, f"events.{i}.at")
            if ev.until is not None:
                self.sweep_of(ev.until, f"events.{i}.until")
            for path in ev.set:
                head, _, name = path.partition(".")
                where = f"events.{i}.set.{path}"
                if head == "expression" and name in ("enforcement", "support_weight"):
                    if e is None:
                        raise self._fail("an expression event needs an [expression] table",
                                         where)
                elif (head == "model" and name in params) or path in media_paths:
                    continue
                else:
                    allowed = ["expression.enforcement", "expression.support_weight",
                               *media_paths] + [f"model.{p}" for p in params]
                    raise self._fail("unknown event target", where,
                                     allowed=", ".join(allowed), given=path)

    def resolved(self) -> dict[str, Any]:
        """The scenario with every default filled in, model parameters included."""
        data = self.spec.model_dump(mode="json")
        model = self.model()
        data["model"] = {"name": self.spec.model.name, **model.params.model_dump(mode="json")}
        if model.continuous:
            data["stances"] = {"labels": list(model.stances), "cutoffs": list(model.cutoffs)}
        rep = data.get("report")
        if rep and rep.get("observed_polls") and not Path(rep["observed_polls"]).is_absolute():
            rep["observed_polls"] = str((self.base_dir / rep["observed_polls"]).resolve())
        return data


def network_seed(seed: int, run: int | None = None) -> np.random.SeedSequence:
    """The seed of the network: shared by all runs, or one per run when resampled."""
    key = (0,) if run is None else (0, run + 1)
    return np.random.SeedSequence(seed, spawn_key=key)


def run_seed(seed: int, run: int) -> np.random.SeedSequence:
    """The seed of run ``run``: independent of how many runs there are and who runs them."""
    return np.random.SeedSequence(seed, spawn_key=(1, run))


def _network_kinds() -> set[str]:
    import typing

    from . import schema

    union = typing.get_args(schema.NetworkSpec)[0]
    return {typing.get_args(m.model_fields["kind"].annotation)[0]
            for m in typing.get_args(union)}


def _format_loc(loc: tuple[Any, ...]) -> str:
    parts = list(loc)
    # inside the network union pydantic puts the kind tag in the path: network.complete.n
    if len(parts) > 1 and parts[0] == "network" and parts[1] in _network_kinds():
        del parts[1]
    return ".".join(str(x) for x in parts)


def _problems(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = _format_loc(err["loc"])
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        given = err.get("input")
        if err["type"] == "union_tag_invalid":
            kinds = ", ".join(sorted(_network_kinds()))
            line = f"{loc}.kind: unknown network kind (allowed: {kinds}; given: " \
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
    from . import schema

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
    import typing

    if isinstance(ann, type) and hasattr(ann, "model_fields"):
        return ann
    for arg in typing.get_args(ann):
        c = _model_class(arg)
        if c is not None:
            return c
    return None


def _union_member(tag: Any) -> Any:
    import typing

    from . import schema

    union = typing.get_args(schema.NetworkSpec)[0]
    for member in typing.get_args(union):
        if typing.get_args(member.model_fields["kind"].annotation) == (tag,):
            return member
    return None


def _validate(data: Mapping[str, Any], source: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = _problems(exc)
        hints = _allowed_fields(exc)
        if len(problems) == 1:
            raise ScenarioError("; ".join(problems + hints), file=source) from None
        raise ScenarioError(f"{len(problems)} problems", file=source,
                            problems=problems + hints) from None


def load_scenario(src: str | Path | Mapping[str, Any],
                  overrides: Mapping[str, Any] | None = None) -> LoadedScenario:
    """Read and validate a scenario from a TOML file or a mapping.

    Parameters
    ----------
    src
        Path of a ``.toml`` file, or the scenario as a dict.
    overrides
        Dotted field paths and values applied before validation, e.g.
        ``{"runs": 10, "model.p": 0.1}``.

    Raises
    ------
    ScenarioError
        The file is missing or unreadable, is not valid TOML, or does not validate.
    """
    if isinstance(src, Mapping):
        data = copy.deepcopy(dict(src))
        source, base_dir, digest = "<dict>", Path.cwd(), None
        if "extends" in data:
            data = resolve_variant(data, base_dir, source)
    else:
        source = str(src)
        data, base_dir, digest = read_scenario_file(src)
    if overrides:
        data = apply_overrides(data, overrides)
    spec = _validate(data, source)
    loaded = LoadedScenario(spec=spec, source=source, base_dir=base_dir, sha256=digest)
    loaded.check()
    return loaded


def _read_toml(path: Path) -> tuple[dict[str, Any], bytes]:
    source = str(path)
    if not path.exists():
        raise ScenarioError("file not found", file=source)
    if path.is_dir():
        raise ScenarioError("is a folder, not a scenario file", file=source)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"cannot read the file ({exc.strerror})", file=source) from None
    try:
        return tomllib.loads(raw.decode("utf-8")), raw
    except UnicodeDecodeError:
        raise ScenarioError("not a UTF-8 text file", file=source) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}", file=source) from None


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
    base_dir = path.resolve().parent
    digest = hashlib.sha256(raw)
    if "extends" in data:
        data = resolve_variant(data, base_dir, str(path), digest=digest)
    return data, base_dir, digest.hexdigest()


#: keys of a variant file that are instructions, not scenario fields
_VARIANT_KEYS = ("extends", "overrides", "append")


def resolve_variant(data: Mapping[str, Any], base_dir: Path, source: str, *,
                    digest: Any = None, depth: int = 0) -> dict[str, Any]:
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
    if depth > 8:
        raise ScenarioError("variants extend each other in a loop (or more than 8 deep)",
                            file=source, field="extends")
    name = data.get("extends")
    if not isinstance(name, str) or not name:
        raise ScenarioError("must name the base scenario file", file=source,
                            field="extends", allowed="a path relative to this file",
                            given=name)
    path = Path(name) if Path(name).is_absolute() else base_dir / name
    try:
        base, raw = _read_toml(path)
    except ScenarioError as exc:
        raise ScenarioError(f"base scenario: {exc.message}", file=source, field="extends",
                            given=name) from None
    if digest is not None:
        digest.update(raw)
    if "extends" in base:
        base = resolve_variant(base, path.resolve().parent, str(path), digest=digest,
                               depth=depth + 1)
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
                return out
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
            return out
        if not isinstance(node.get(key), dict | list):
            node[key] = {}
        node = node[key]
        i = j


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Set dotted paths in a nested dict (a copy), creating tables as needed.

    Examples
    --------
    >>> apply_overrides({"model": {"name": "voter"}}, {"model.variant": "link", "runs": 3})
    {'model': {'name': 'voter', 'variant': 'link'}, 'runs': 3}
    """
    out = copy.deepcopy(dict(data))
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node = out
        for part in parts[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = {}
                node[part] = nxt
            node = nxt
        node[parts[-1]] = value
    return out
