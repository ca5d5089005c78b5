"""One assembly step: a scenario and a run index become everything the run needs.

:func:`assemble` reads the scenario (frozen data) and builds, in order: the model; every
pressure the scenario declares (each from its own entry, :mod:`steppe.pressures`); the
timeline, the scenario's events compiled over the controls of the model and the pressures;
the pressures' schedules (a flow's rate becomes arrivals per sweep) and the arrival slots
they need; the polls. That much needs no network and draws nothing: it is the *dry*
assembly (``dry=True``), and it is how a scenario is checked against its model
(:func:`load_scenario`). The full assembly then builds (or takes from the cache) the network,
the initial state of run ``r`` and binds every pressure to it, each drawing from its own
named random stream, so that run ``r`` is the same whoever runs it and in whatever order.

Examples
--------
>>> sc = load_scenario({"name": "d", "seed": 1, "network": {"kind": "complete", "n": 30},
...                     "model": {"name": "voter"}, "stop": {"max_sweeps": 4}})
>>> a = assemble(sc, run=0)
>>> a.network.n, a.state.n, [p.field for p in a.pressures]
(30, 30, [])
>>> out = execute(sc, 0)
>>> out.final_time
4.0
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..engine.simulate import Trajectory, simulate
from ..engine.state import Committed, init_state
from ..engine.timeline import Event, Timeline, model_controls
from ..errors import ParameterError
from ..models.base import Model, get_model
from ..networks.base import Network
from ..observe.polls import PollDesign, PollObserver, polls_to_frame
from ..observe.questions import Question
from ..observe.tables import RunOutput
from ..population.arrivals import ArrivalPool
from ..pressures.base import Pressure, available_pressures
from ..rng import Stream, stream_generator, stream_seed
from ..scenario.loaded import LoadedScenario
from ..scenario.loader import read_scenario
from ..state import State
from .network import cached_network, describe

__all__ = ["Assembly", "assemble", "execute", "load_scenario", "make_model", "resolved"]


def make_model(scenario: LoadedScenario) -> Model:
    """The scenario's model with its parameters (and stance categories); parameter files
    (``*_file``) are read relative to the scenario file."""
    spec = scenario.spec
    params = spec.model.params()
    for key, value in params.items():
        if key.endswith("_file") and isinstance(value, str):
            params[key] = str(scenario.path(value))
    with scenario.errors():
        model = get_model(spec.model.name)(params)
        if spec.stances is not None and model.continuous:
            model.set_categories(spec.stances.labels, spec.stances.cutoffs)
        if model.continuous:
            model.set_consensus(spec.stop.consensus or "opinions", spec.stop.spread)
        model.set_step_fraction(scenario.calendar.step_fraction)
    return model


@dataclass
class Assembly:
    """Everything one run needs (a dry assembly has no network, state or observers).

    Attributes
    ----------
    scenario : LoadedScenario
    run : int
    model : Model
    pressures : list of Pressure
        In the order they act within a sweep.
    timeline : Timeline
        The events over the controls of the model and the pressures.
    polls : list of (int, PollDesign)
        The polls' sweeps and designs, in time order.
    slots : list of ArrivalPool
        Agents who arrive during the run (built into the network).
    network, state : Network, State or None
    observers : list of PollObserver
    """

    scenario: LoadedScenario
    run: int
    model: Model
    pressures: list[Pressure]
    timeline: Timeline
    polls: list[tuple[int, PollDesign]]
    slots: list[ArrivalPool]
    network: Network | None = None
    state: State | None = None
    observers: list[PollObserver] = field(default_factory=list)

    @property
    def dry(self) -> bool:
        return self.state is None

    @property
    def answers(self) -> tuple[str, ...]:
        """What agents may voice: the model's stances, then any other answer a pressure
        adds ("dont_know")."""
        return (*self.model.stances, *(a for p in self.pressures for a in p.extra_answers()))

    def simulate(self, progress: Callable[[float], None] | None = None, *,
                 until: float | None = None) -> Trajectory:
        """Run it (the state is changed in place); ``until``: stop at this sweep if the run
        has not ended before (the state there is the full run's: nothing later is drawn
        early)."""
        if self.state is None or self.network is None:
            raise ValueError("a dry assembly cannot run; assemble(..., dry=False)")
        spec = self.scenario.spec
        limit = self.scenario.max_sweeps()
        if until is not None:
            limit = until if limit is None else min(float(limit), float(until))
        with self.scenario.errors():
            return simulate(self.model, self.network, self.state,
                            max_sweeps=limit,
                            stop_at_consensus=spec.stop.at_consensus,
                            record_every=spec.record.every,
                            consensus_share=spec.stop.consensus_share,
                            pressures=self.pressures, events=self.timeline,
                            observers=self.observers, progress=progress)


def _committed(scenario: LoadedScenario) -> Committed | None:
    c = scenario.spec.committed
    if c is None:
        return None
    with scenario.errors():
        return Committed(stance=c.stance, fraction=c.fraction,
                         by_group=scenario.by_group(c.by_group, "committed.by_group"),
                         opinion=c.opinion, among=c.among)


def _check_shares(scenario: LoadedScenario, model: Model, shares: Mapping[str, float],
                  where: str) -> None:
    for label in shares:
        if label not in model.stances:
            raise scenario.fail(f"unknown stance for model {model.name!r}",
                                f"{where}.{label}",
                                allowed=", ".join(repr(s) for s in model.stances), given=label)
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-9:
        if where == "initial.shares":
            raise scenario.fail("initial shares must sum to 1", where, allowed="a sum of 1",
                                given=round(total, 12))
        raise scenario.fail("shares must sum to 1", where, given=dict(shares))


def _check_model(scenario: LoadedScenario, model: Model) -> None:
    """What the scenario says about stances, checked against the model."""
    spec = scenario.spec
    stances = ", ".join(repr(s) for s in model.stances)
    if spec.initial.shares is not None:
        _check_shares(scenario, model, spec.initial.share_table() or {}, "initial.shares")
    _odds(scenario, model)
    if spec.committed is not None and spec.committed.stance not in model.stances:
        raise scenario.fail(f"unknown stance for model {model.name!r}", "committed.stance",
                            allowed=stances, given=spec.committed.stance)
    if not model.continuous:
        kind = f"model {model.name!r} has discrete stances"
        if spec.stop.consensus == "opinions":
            raise scenario.fail(f"{kind}; consensus among opinions is for continuous models",
                                "stop.consensus", allowed="'stance'", given="opinions")
        if spec.stances is not None:
            raise scenario.fail(f"{kind}; [stances] cut-offs are for continuous models",
                                "stances", allowed="no [stances] table")
        if spec.initial.opinion is not None:
            raise scenario.fail(f"{kind}; initial opinions are for continuous models",
                                "initial.opinion", allowed="initial.shares")
        if spec.committed is not None and spec.committed.opinion is not None:
            raise scenario.fail(f"{kind}; a committed opinion is for continuous models",
                                "committed.opinion")
    for key, shares in spec.initial.by_group.items():
        scenario.group_code(key, f"initial.by_group.{key}")
        _check_shares(scenario, model, shares, f"initial.by_group.{key}")
    for key, shares in spec.initial.by_age.items():
        scenario.age_code(key, f"initial.by_age.{key}")
        _check_shares(scenario, model, shares, f"initial.by_age.{key}")
    _committed(scenario)


def _odds(scenario: LoadedScenario, model: Model) -> dict[str, dict[int, dict[str, float]]]:
    """``initial.odds`` with level labels turned into codes (stances checked)."""
    out: dict[str, dict[int, dict[str, float]]] = {}
    tables = scenario.level_tables()
    for attr, levels in scenario.spec.initial.odds.items():
        where = f"initial.odds.{attr}"
        if attr == "group":
            codes = {str(k): scenario.group_code(k, f"{where}.{k}") for k in levels}
        elif attr in tables:
            labels = tables[attr]
            for k in levels:
                if k not in labels:
                    raise scenario.fail(f"unknown {attr} level", f"{where}.{k}",
                                        allowed=", ".join(labels), given=k)
            codes = {k: labels.index(k) for k in levels}
        else:
            raise scenario.fail("odds over an attribute the population does not have",
                                where, allowed=", ".join(["group", *tables]) or "group",
                                given=attr)
        for k, factors in levels.items():
            for label in factors:
                if label not in model.stances:
                    raise scenario.fail(f"unknown stance for model {model.name!r}",
                                        f"{where}.{k}.{label}",
                                        allowed=", ".join(repr(s) for s in model.stances),
                                        given=label)
            out.setdefault(attr, {})[codes[str(k)]] = dict(factors)
    return out


def _events(scenario: LoadedScenario) -> list[Event]:
    """The scenario's events in sweeps (dates turned into sweeps by the calendar)."""
    out = []
    for i, ev in enumerate(scenario.spec.events):
        at = scenario.within_run(scenario.sweep_of(ev.at, f"events.{i}.at"),
                                 f"events.{i}.at", ev.at)
        until = None if ev.until is None else scenario.sweep_of(ev.until, f"events.{i}.until")
        if until is not None and until <= at:
            raise scenario.fail("a ramp must end after it starts", f"events.{i}.until",
                                allowed=f"later than {ev.at}", given=str(ev.until))
        out.append(Event(at=at, until=until, changes=dict(ev.set), where=f"events.{i}"))
    return out


def _check_targets(scenario: LoadedScenario, events: list[Event],
                   pressures: list[Pressure]) -> None:
    """An event on a pressure the scenario does not declare says which table it needs."""
    declared = {p.field for p in pressures}
    for ev in events:
        for path in ev.changes:
            head = path.partition(".")[0]
            if head in available_pressures() and head not in declared:
                table = f"[[{head}]]" if isinstance(getattr(scenario.spec, head), list) \
                    else f"[{head}]"
                raise scenario.fail(f"an event on {path} needs the scenario's {table} table",
                                    f"{ev.where}.set.{path}", given=path)


def _level(scenario: LoadedScenario, model: Model, attr: str, level: Any, where: str) -> int:
    """A level of an agent attribute (or of "stance", the private stance) as its code: a
    label of the population's (or model's) levels, or a number."""
    if attr == "stance":
        labels: list[str] | None = list(model.stances)
    else:
        labels = scenario.level_tables().get(attr)
    if isinstance(level, str) and not level.lstrip("-").isdigit():
        if labels is None or level not in labels:
            raise scenario.fail(f"unknown level of {attr!r}", where,
                                allowed=", ".join(labels or []) or "level numbers",
                                given=level)
        return labels.index(level)
    if isinstance(level, str):
        level = int(level)
    if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level < 2**31:
        raise scenario.fail(f"a level of {attr!r}: a label or a level number", where,
                            allowed=", ".join(labels or []) or "level numbers", given=level)
    return level


def _frame(scenario: LoadedScenario, model: Model, frame: Mapping[str, Any], where: str
           ) -> dict[str, Any]:
    """A poll's sampling frame with level labels turned into codes."""
    out: dict[str, Any] = {}
    for attr, levels in frame.items():
        if not isinstance(levels, list):
            raise scenario.fail("a list of levels", f"{where}.{attr}", given=levels)
        out[attr] = [_level(scenario, model, attr, lv, f"{where}.{attr}") for lv in levels]
    return out


def _keyed(scenario: LoadedScenario, model: Model, attr: str | None, table: Any,
           where: str) -> Any:
    """A table keyed by levels of ``attr`` with the keys turned into codes."""
    if not isinstance(table, Mapping) or not isinstance(attr, str):
        return table  # the poll's design refuses an attribute that is not a name
    return {_level(scenario, model, attr, k, f"{where}.{k}"): v for k, v in table.items()}


def _question(scenario: LoadedScenario, name: Any, inputs: Sequence[str],
              stances: Sequence[str], where: str) -> Question:
    """The scenario's question ``name``, checked to say how each input is answered."""
    questions = scenario.spec.questions
    if not isinstance(name, str) or name not in questions:
        raise scenario.fail("unknown question", where,
                            allowed=", ".join(questions) or "none declared ([questions])",
                            given=name)
    q = questions[name]
    with scenario.errors():
        question = Question(name=name, **q.model_dump())
        question.matrix(list(stances) if question.source == "private" else list(inputs))
    return question


def _polls(scenario: LoadedScenario, model: Model, answers: Sequence[str]
           ) -> list[tuple[int, PollDesign]]:
    """The scenario's polls: (sweep, design), in time order."""
    out = []
    for i, p in enumerate(scenario.spec.polls):
        at = scenario.within_run(scenario.sweep_of(p.at, f"polls.{i}.at"), f"polls.{i}.at",
                                 p.at, at_end=True)
        design = p.design()
        where = f"polls.{i}"
        if isinstance(design.get("frame"), Mapping):
            design["frame"] = _frame(scenario, model, design["frame"], f"{where}.frame")
        strat = design.get("stratify_by")
        if "allocation" in design:
            design["allocation"] = _keyed(scenario, model, strat, design["allocation"],
                                          f"{where}.allocation")
        if "response" in design:
            design["response"] = _keyed(scenario, model, design.get("response_by", strat),
                                        design["response"], f"{where}.response")
        factors = design.get("response_factors")
        if isinstance(factors, Mapping):
            design["response_factors"] = {
                attr: _keyed(scenario, model, attr, table, f"{where}.response_factors.{attr}")
                for attr, table in factors.items()}
        if "question" in design:
            design["question"] = _question(scenario, design["question"], answers,
                                           model.stances, f"{where}.question")
        design.setdefault("name", f"poll {i}" if not isinstance(p.at, dt.date)
                          else f"poll {p.at}")
        try:
            d = PollDesign(**design)
        except ParameterError as exc:
            fld = (exc.field or "").removeprefix("poll")
            raise scenario.fail(exc.message, f"{where}{fld}", allowed=exc.allowed,
                                given=exc.given) from None
        if d.list_experiment is not None and d.list_experiment.sensitive not in model.stances:
            raise scenario.fail(f"unknown stance for model {model.name!r}",
                                f"{where}.list_experiment.sensitive",
                                allowed=", ".join(repr(s) for s in model.stances),
                                given=d.list_experiment.sensitive)
        known = set(scenario.level_tables()) or {"group"}
        for attr in (*d.report_by, *d.weight_attributes):
            if attr not in known and scenario.spec.population is not None:
                raise scenario.fail("unknown agent attribute", f"{where}.report_by"
                                    if attr in d.report_by else f"{where}.weight_by",
                                    allowed=", ".join(sorted(known)), given=attr)
        out.append((at, d))
    return sorted(out, key=lambda x: x[0])


def _presence(network: Network, pressures: list[Pressure]) -> np.ndarray | None:
    """Who is present at the start when a pressure moves people: the residents."""
    if not any(p.moves_people for p in pressures):
        return None
    attrs = network.attributes or {}
    if "origin" in attrs:
        return np.asarray(attrs["origin"][0]) == 0
    return np.ones(network.n, dtype=np.bool_)


def assemble(scenario: LoadedScenario, run: int = 0, *, network: Network | None = None,
             dry: bool = False) -> Assembly:
    """Everything run ``run`` of ``scenario`` needs (see the module docstring).

    Parameters
    ----------
    scenario
        A scenario read by :func:`steppe.scenario.read_scenario` (or :func:`load_scenario`).
    run
        The run index: it selects the run's random streams.
    network
        Use this network instead of building the scenario's (Python API; e.g. from
        :func:`steppe.networks.from_networkx`).
    dry
        Stop before the network: check everything that needs only the model.

    Returns
    -------
    Assembly

    Raises
    ------
    ScenarioError
        Anything the scenario asks that the model, the network or a pressure refuses (the
        message names the file and the field).
    """
    spec = scenario.spec
    model = make_model(scenario)
    _check_model(scenario, model)
    pressures: list[Pressure] = []
    for cls in available_pressures().values():
        pressures += cls.from_scenario(scenario, model)
    if scenario.max_sweeps() is None and (not model.settles() or pressures):
        why = (f"model {model.name!r} need not settle on its own" if not model.settles()
               else "the pressures can keep a run going")
        raise scenario.fail(f"a run needs a fixed length: {why}, so stopping at consensus "
                            "alone could run forever", "stop.max_sweeps",
                            allowed="a number of sweeps (or time.end)")
    events = _events(scenario)
    _check_targets(scenario, events, pressures)
    with scenario.errors():
        timeline = Timeline(events, [*model_controls(model),
                                     *(c for p in pressures for c in p.controls())])
        for p in pressures:
            p.schedule(timeline.value, scenario.sweeps())
    slots = [s for p in pressures for s in p.slots()]
    answers = (*model.stances, *(a for p in pressures for a in p.extra_answers()))
    polls = _polls(scenario, model, answers)
    out = Assembly(scenario=scenario, run=run, model=model, pressures=pressures,
                   timeline=timeline, polls=polls, slots=slots)
    if dry:
        return out
    net = network if network is not None else cached_network(scenario, run, slots)
    with scenario.errors():
        state = init_state(model, net, shares=spec.initial.share_table(),
                           committed=_committed(scenario),
                           seed=stream_seed(spec.seed, Stream.RUN, run),
                           exact=spec.initial.method == "exact", opinions=spec.initial.opinion,
                           shares_by_group=scenario.by_group(spec.initial.by_group,
                                                             "initial.by_group"),
                           present=_presence(net, pressures),
                           shares_by_age=scenario.by_age(spec.initial.by_age,
                                                         "initial.by_age"),
                           odds=_odds(scenario, model))
        for p in pressures:
            p.bind(net, stream_generator(spec.seed, p.stream, run, *p.stream_keys))
    attributes, levels, people = poll_context(scenario, net)
    observers = [PollObserver(at=at, design=design, stances=answers, levels=levels,
                              people_per_agent=people,
                              seed=stream_seed(spec.seed, Stream.POLL, run, i),
                              attributes=attributes)
                 for i, (at, design) in enumerate(polls)]
    return dataclasses.replace(out, network=net, state=state, observers=observers)


def poll_context(scenario: LoadedScenario, network: Network
                 ) -> tuple[dict[str, np.ndarray], dict[str, list[str]], float]:
    """What a poll of this scenario reads besides the stances: the agents' attribute codes
    (``group`` and the network's attributes), the labels of each attribute's levels, and how
    many people each agent stands for."""
    attributes: dict[str, np.ndarray] = {}
    if network.groups is not None:
        attributes["group"] = network.groups
    for name, (codes, _) in (network.attributes or {}).items():
        attributes[name] = codes
    levels = {name: list(labels) for name, (_, labels) in (network.attributes or {}).items()}
    pop = scenario.spec.population
    return attributes, levels, 1.0 / pop.scale if pop is not None else 1.0


def execute(scenario: LoadedScenario, run: int, network: Network | None = None, *,
            keep_state: bool = True,
            progress: Callable[[float], None] | None = None) -> RunOutput:
    """Assemble run ``run`` and run it; what it produced, ready for the tables.

    Examples
    --------
    >>> sc = load_scenario({"name": "d", "seed": 2, "network": {"kind": "complete", "n": 20},
    ...                     "model": {"name": "voter"}, "stop": {"max_sweeps": 2}})
    >>> execute(sc, 1).recording.time.tolist()
    [0.0, 1.0, 2.0]
    """
    t0 = time.perf_counter()
    a = assemble(scenario, run, network=network)
    traj = a.simulate(progress)
    state = a.state
    assert state is not None
    results = [r for o in a.observers for r in o.results]
    separate = state.expressed is not state.stance
    return RunOutput(run=run, recording=traj.recording,
                     consensus_stance=traj.consensus_stance,
                     consensus_time=traj.consensus_time, final_time=traj.final_time,
                     absorbed=traj.absorbed, wall_seconds=time.perf_counter() - t0,
                     polls=polls_to_frame(results) if results else None,
                     final_stance=state.stance if keep_state else None,
                     final_expressed=state.expressed if keep_state and separate else None,
                     final_opinion=state.opinion if keep_state else None,
                     network=describe(a.network))


def load_scenario(src: str | Path | Mapping[str, Any] | LoadedScenario,
                  overrides: Mapping[str, Any] | None = None) -> LoadedScenario:
    """Read a scenario and check it completely: the schema, then a dry assembly of run 0
    (stance labels, groups, age bands, dates, event targets and values, parameters, polls
    against the model).

    Parameters
    ----------
    src
        A TOML file, a dict with the same structure, or a scenario already read.
    overrides
        Dotted-path overrides, e.g. ``{"model.p": 0.1}``.

    Returns
    -------
    LoadedScenario

    Raises
    ------
    ScenarioError
        Anything wrong, naming the file, the field, what is allowed and what was given.

    Examples
    --------
    >>> load_scenario({"name": "d", "seed": 1, "network": {"kind": "complete", "n": 9},
    ...                "model": {"name": "voter"}, "initial": {"shares": {"C": 1.0}},
    ...                "stop": {"max_sweeps": 1}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    steppe.errors.ScenarioError: <dict>: initial.shares.C: unknown stance for model 'voter' ...
    """
    loaded = read_scenario(src, overrides)
    assemble(loaded, 0, dry=True)
    return loaded


def resolved(scenario: LoadedScenario, model: Model | None = None) -> dict[str, Any]:
    """The scenario with every default filled in, model parameters included (for
    metadata)."""
    data = scenario.spec.model_dump(mode="json")
    model = model if model is not None else make_model(scenario)
    data["model"] = {"name": scenario.spec.model.name, **model.params.model_dump(mode="json")}
    if model.continuous:
        data["stances"] = {"labels": list(model.stances), "cutoffs": list(model.cutoffs)}
    rep = data.get("report")
    for key in ("observed_polls", "targets"):
        if rep and rep.get(key) and not Path(rep[key]).is_absolute():
            with contextlib.suppress(OSError, ValueError):  # an unusable path stays as given
                rep[key] = str((scenario.base_dir / rep[key]).resolve())
    return data
