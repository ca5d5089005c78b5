"""Design analysis: which poll would tell two scenarios apart, and how sure it would be.

Two readings of the same evidence (two scenario files, or one scenario and a changed setting
of it) predict the world differently at the date of a poll. :func:`design_analysis` asks,
for each candidate poll design (a sample size; a direct question or a list experiment with
``J`` control items, with or without a placebo item), how often a poll of that design would
come out in a way that the other reading does not expect:

1. Both scenarios are run ``runs`` times up to the date of the named poll (``poll``), and the
   state of each run at that date is kept (who is present, what each voices, what each
   holds, their attributes);
2. every candidate design polls each kept state ``reps`` times, with its own random stream
   (``Stream.DESIGN``: ``(11, run, candidate, rep)``), so that the estimates vary as a real
   poll's would: from the world (the runs) and from the sample (the repetitions);
3. the statistic is the estimated share of one answer (``answer``): the direct question's
   estimate, or the list experiment's estimate of the *private* share of that stance;
4. reading A's estimates as the distribution a poll would have if A were true, the poll
   *rejects* A when its estimate falls outside A's central ``1 - alpha`` range. The power
   against A is the share of B's estimates that A rejects; the reverse likewise. A design
   tells the two apart when both powers reach ``power``: whichever reading is true, the
   poll would contradict the other with at least that probability.

The powers are Monte Carlo estimates: their standard error (``power_se``) treats the runs as
clusters (the repetitions of one run share its world), ``sd(per-run power) / sqrt(runs)``.
A's range is estimated from ``runs x reps`` estimates, so with few runs the nominal level is
approximate; the level actually reached (A's own estimates outside A's range) is
``alpha`` by construction and is not reported.

A candidate keeps everything of the base poll (its frame, stratification, allocation,
response, weighting, question) and changes only the sample size and the question's form. A
list of ``J`` items keeps the base list experiment's design effects (correlation, ceiling,
floor, omission, deflation) and gives each control item the mean prevalence of the base
list's items (0.5 without a base list experiment); the placebo item is added or not. The
biases these effects cause are part of the estimates, as they would be in the field: a
design with a large bias can separate the readings while estimating neither well
(``bias_a``, ``bias_b``: mean estimate minus the private share at the poll date).

Examples
--------
>>> base = {"name": "d", "seed": 1, "runs": 1, "network": {"kind": "complete", "n": 400},
...         "model": {"name": "voter"}, "stop": {"max_sweeps": 1, "at_consensus": False},
...         "initial": {"shares": {"A": 0.3, "B": 0.7}},
...         "polls": [{"at": 1, "n": 100, "name": "p"}]}
>>> other = {**base, "initial": {"shares": {"A": 0.6, "B": 0.4}}}
>>> res = design_analysis(base, other, poll="p", answer="A", sizes=[10, 25, 100],
...                       items=(), runs=2, reps=20)
>>> print(res.table[["design", "mean_a", "mean_b", "power"]].round(2).to_string(index=False))
       design  mean_a  mean_b  power
 direct, n=10    0.31    0.58   0.28
 direct, n=25    0.30    0.57   0.78
direct, n=100    0.30    0.58   1.00
>>> res.smallest("direct")
Candidate(n=100, items=None, placebo=False)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..assembly import assemble, load_scenario, make_model
from ..assembly.assemble import poll_context
from ..errors import ParameterError, SteppeError
from ..observe.list_experiment import ListExperiment
from ..observe.polls import PollDesign, run_poll
from ..rng import Stream, stream_seed
from ..scenario.loaded import LoadedScenario
from .executors import Executor, make_executor

__all__ = ["Candidate", "DesignResult", "candidate_designs", "design_analysis"]

#: called as progress(done, total) after each run
DesignProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class Candidate:
    """One candidate poll design: a sample size and a form of question.

    Examples
    --------
    >>> Candidate(n=1000).label, Candidate(n=2000, items=4, placebo=True).label
    ('direct, n=1000', 'list J=4 + placebo, n=2000')
    """

    n: int
    #: control items of a list experiment (None: the direct question)
    items: int | None = None
    placebo: bool = False

    @property
    def method(self) -> str:
        """"direct" or "list"."""
        return "direct" if self.items is None else "list"

    @property
    def label(self) -> str:
        """How the design reads in a table."""
        if self.items is None:
            return f"direct, n={self.n}"
        return f"list J={self.items}{' + placebo' if self.placebo else ''}, n={self.n}"


def candidate_designs(base: PollDesign, candidates: Sequence[Candidate], answer: str
                      ) -> list[PollDesign]:
    """The poll design of each candidate: the base poll with its sample size and question form
    changed (module docstring).

    Examples
    --------
    >>> base = PollDesign(n=1000, list_experiment={"sensitive": "pro", "items": 4,
    ...                                             "prevalence": [0.2, 0.4, 0.6, 0.8],
    ...                                             "deflation": 0.1})
    >>> d = candidate_designs(base, [Candidate(500, items=3, placebo=True)], "pro")[0]
    >>> d.n, d.list_experiment.items, d.list_experiment.prevalence, d.list_experiment.placebo
    (500, 3, 0.5, True)
    >>> d.list_experiment.deflation
    0.1
    """
    le = base.list_experiment
    out = []
    for c in candidates:
        fields = base.model_dump(exclude_none=True)
        fields.pop("list_experiment", None)
        fields["n"] = c.n
        if c.items is not None:
            kept = le.model_dump() if le is not None else {}
            kept.update(sensitive=answer, items=c.items, placebo=c.placebo,
                        prevalence=float(np.mean(le.prevalences)) if le is not None else 0.5)
            if not c.placebo:
                kept["placebo_prevalence"] = 0.0
            fields["list_experiment"] = ListExperiment(**kept)
        if base.question is not None:
            fields["question"] = base.question
        out.append(PollDesign(**fields))
    return out


@dataclass
class DesignResult:
    """What :func:`design_analysis` found.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per candidate: ``design, method, n, items, placebo``; the mean estimate
        under each reading (``mean_a``, ``mean_b``) and its spread (``sd_a``, ``sd_b``),
        its bias against the private share (``bias_a``, ``bias_b``), the central ranges
        (``a_low, a_high, b_low, b_high``), the powers (``power_vs_a``: B's estimates
        outside A's range; ``power_vs_b``: the reverse; ``power``: the smaller), the Monte
        Carlo standard error of the smaller (``power_se``) and whether it reaches the
        target (``enough``).
    estimates : pandas.DataFrame
        Every simulated estimate: ``reading, run, candidate, rep, estimate``.
    truth : pandas.DataFrame
        Per reading and run, the private and the voiced share of the answer at the poll
        date (in the poll's frame).
    settings : dict
        What was asked (the two sources, the poll, the answer, runs, reps, alpha, power).
    """

    table: pd.DataFrame
    estimates: pd.DataFrame
    truth: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def smallest(self, method: str | None = None) -> Candidate | None:
        """The cheapest candidate that tells the readings apart (fewest interviews; among
        equals a direct question before a list, a shorter list first), or None.

        ``method``: only "direct" or only "list" designs."""
        t = self.table[self.table["enough"]]
        if method is not None:
            t = t[t["method"] == method]
        if t.empty:
            return None
        t = t.assign(_j=t["items"].fillna(0)).sort_values(["n", "_j", "placebo"])
        row = t.iloc[0]
        return Candidate(n=int(row["n"]),
                         items=None if row["method"] == "direct" else int(row["items"]),
                         placebo=bool(row["placebo"]))


@dataclass
class _Snapshot:
    """An observer that keeps what a poll would see at sweep ``at``."""

    at: int
    taken: dict[str, Any] | None = None

    def observe(self, state: Any) -> None:
        self.taken = {"expressed": np.array(state.expressed, copy=True),
                      "private": np.array(state.stance, copy=True),
                      "present": None if state.present is None
                      else np.array(state.present, copy=True),
                      "time": float(state.time)}


@dataclass
class _Task:
    reading: int
    runs: tuple[int, ...]
    scenario: LoadedScenario
    poll: int
    designs: list[PollDesign]
    answer: str
    reps: int
    threads: int | None = None


def _poll_index(loaded: LoadedScenario, poll: str | int | None) -> int:
    """The index (in time order) of the poll named ``poll`` in the scenario."""
    polls = assemble(loaded, dry=True).polls
    names = [d.name for _, d in polls]
    if not polls:
        raise loaded.fail("a design analysis needs a poll to start from", "polls",
                          allowed="a [[polls]] entry")
    if poll is None:
        if len(polls) > 1:
            raise ParameterError("the scenario has several polls: say which one",
                                 field="--poll", allowed=", ".join(map(repr, names)))
        return 0
    if isinstance(poll, int) and not isinstance(poll, bool) and 0 <= poll < len(polls):
        return poll
    if poll in names:
        return names.index(poll)
    raise ParameterError("unknown poll", field="--poll",
                         allowed=", ".join(map(repr, names)), given=poll)


def _date(loaded: LoadedScenario, sweep: int) -> str:
    """A poll's sweep as a calendar date (or "sweep N" without a calendar)."""
    dates = loaded.dates(np.array([float(sweep)]))
    return f"sweep {sweep}" if dates is None else str(dates[0])


def _run_reading(task: _Task) -> list[dict[str, Any]]:
    """Run the task's runs up to the poll and poll each kept state with every candidate."""
    from .executors import use_threads

    use_threads(task.threads)
    spec = task.scenario.spec
    out = []
    for r in task.runs:
        a = assemble(task.scenario, r)
        at, _ = a.polls[task.poll]
        snap = _Snapshot(at)
        a = dataclasses.replace(a, observers=[snap])
        traj = a.simulate(until=at)
        taken = snap.taken
        if taken is None:
            raise SteppeError(f"run {r} of {task.scenario.source} ended at sweep "
                              f"{traj.final_time:g}, before the poll (sweep {at}): there "
                              "is nothing to poll (stop.at_consensus = false keeps runs "
                              "going)")
        assert a.network is not None
        attrs, levels, people = poll_context(task.scenario, a.network)
        est = np.full((len(task.designs), task.reps), np.nan)
        for c, design in enumerate(task.designs):
            for k in range(task.reps):
                res = run_poll(design, expressed=taken["expressed"], private=taken["private"],
                               stance_labels=a.answers, present=taken["present"],
                               attributes=attrs, levels=levels, time=taken["time"],
                               seed=stream_seed(spec.seed, Stream.DESIGN, r, c, k),
                               people_per_agent=people)
                if design.list_experiment is not None:
                    assert res.list_experiment is not None
                    est[c, k] = res.list_experiment.estimate
                else:
                    est[c, k] = res.estimate[res.stances.index(task.answer)]
        # the truth in the poll's frame: who holds and who voices the answer
        frame = np.ones(taken["private"].shape[0], bool) if taken["present"] is None \
            else taken["present"].copy()
        for name, codes in (task.designs[0].frame or {}).items():
            frame &= np.isin(attrs[name], np.asarray(codes))
        j = list(a.answers).index(task.answer)
        truth = (float(np.mean(taken["private"][frame] == j)),
                 float(np.mean(taken["expressed"][frame] == j)))
        out.append({"reading": task.reading, "run": r, "estimates": est,
                    "private": truth[0], "voiced": truth[1]})
    return out


def _answer(loaded: LoadedScenario, base: PollDesign, answer: str | None) -> str:
    model = make_model(loaded)
    le = base.list_experiment
    if answer is None:
        if le is not None:
            return le.sensitive
        raise ParameterError("say which answer's share should tell the readings apart",
                             field="--answer", allowed=", ".join(model.stances))
    if answer not in model.stances:
        raise ParameterError("the answer must be one of the model's stances (a list "
                             "experiment estimates a stance's private share)",
                             field="--answer", allowed=", ".join(model.stances), given=answer)
    if base.question is not None and answer not in base.question.answers:
        raise ParameterError("the answer must be one of the poll's question's answers",
                             field="--answer", allowed=", ".join(base.question.answers),
                             given=answer)
    return answer


def design_analysis(a: str | Path | Mapping[str, Any] | LoadedScenario,
                    b: str | Path | Mapping[str, Any] | LoadedScenario | None = None, *,
                    overrides: Mapping[str, Any] | None = None,
                    overrides_b: Mapping[str, Any] | None = None,
                    poll: str | int | None = None, answer: str | None = None,
                    sizes: Sequence[int] | None = None,
                    items: Sequence[int] = (3, 4, 5), placebo: Sequence[bool] = (False, True),
                    direct: bool = True, runs: int = 10, reps: int = 50,
                    alpha: float = 0.1, power: float = 0.8, workers: int | None = 1,
                    executor: Executor | None = None,
                    progress: DesignProgress | None = None) -> DesignResult:
    """Which poll design tells reading A from reading B with the stated power (module
    docstring).

    Parameters
    ----------
    a, b
        The two readings: scenario files (or dicts, or loaded scenarios). Without ``b``,
        B is A with ``overrides_b``.
    overrides, overrides_b
        Field overrides (``{"path.to.field": value}``) applied to both readings, and to B
        only (on top of ``overrides``).
    poll
        The poll of A (its name or index in time order) whose date, frame, stratification,
        response and weighting every candidate keeps. Optional when A has one poll.
    answer
        The stance whose estimated share is compared (default: the base poll's list
        experiment's stance).
    sizes
        Candidate sample sizes (default: the base poll's n times 1/2, 1, 2 and 4).
    items
        Candidate list lengths J (none: no list experiment).
    placebo
        Candidate list designs without and/or with a placebo item.
    direct
        Include the direct question.
    runs, reps
        Runs of each reading, and polls of each candidate per run.
    alpha
        A poll contradicts a reading when its estimate is outside the reading's central
        ``1 - alpha`` range.
    power
        The probability of contradicting the false reading a design must reach.
    workers
        Local worker processes (0 or None: one per core; 1: this process).
    executor
        An executor to use instead (not closed here).
    progress
        Called as ``progress(done, total)`` after each run.

    Returns
    -------
    DesignResult

    Raises
    ------
    SteppeError
        A bad scenario or setting (a clear message naming the field).
    """
    for name, value, lo, hi in (("--runs", runs, 2, 100_000), ("--reps", reps, 1, 100_000)):
        if not isinstance(value, int) or not lo <= value <= hi:
            raise ParameterError("out of range", field=name, allowed=f"{lo} .. {hi}",
                                 given=value)
    for name, value in (("--alpha", alpha), ("--power", power)):
        if not (isinstance(value, float | int) and 0 < value < 1):
            raise ParameterError("a probability strictly between 0 and 1", field=name,
                                 allowed="0 < value < 1", given=value)
    la = load_scenario(a, overrides)
    lb = load_scenario(b if b is not None else a, {**(overrides or {}), **(overrides_b or {})})
    ia = _poll_index(la, poll)
    base = assemble(la, dry=True).polls[ia][1]
    names_b = [d.name for _, d in assemble(lb, dry=True).polls]
    ib = names_b.index(base.name) if base.name in names_b else None
    if ib is None:
        raise ParameterError("reading B has no poll of that name (both readings must "
                             "declare it, so that it falls on the same date)",
                             field="--poll", allowed=", ".join(map(repr, names_b)),
                             given=base.name)
    when_a = _date(la, assemble(la, dry=True).polls[ia][0])
    when_b = _date(lb, assemble(lb, dry=True).polls[ib][0])
    if when_a != when_b:
        raise ParameterError("the poll falls on different dates in the two readings",
                             field="--poll", given=(when_a, when_b))
    answer = _answer(la, base, answer)
    _answer(lb, base, answer)
    sizes = list(sizes) if sizes else sorted({max(4, int(base.n * f)) for f in
                                              (0.5, 1, 2, 4)})
    for s in sizes:
        if not isinstance(s, int) or s < 4:
            raise ParameterError("sample sizes are integers of at least 4", field="--sizes",
                                 allowed=">= 4", given=s)
    cands: list[Candidate] = []
    for s in sorted(set(sizes)):
        if direct:
            cands.append(Candidate(s))
        for j in sorted(set(items)):
            for pl in sorted(set(placebo)):
                cands.append(Candidate(s, items=int(j), placebo=bool(pl)))
    if not cands:
        raise ParameterError("no candidate design: give sizes and a direct question or "
                             "list lengths", field="--items")
    try:
        designs = candidate_designs(base, cands, answer)
    except ParameterError as exc:
        raise ParameterError(exc.message, field=f"candidate {exc.field}",
                             allowed=exc.allowed, given=exc.given) from None
    own = executor is None
    if executor is None:
        executor = make_executor(workers=workers, tasks=2 * runs)
    tasks = [_Task(reading=i, runs=(r,), scenario=sc, poll=ix, designs=designs,
                   answer=answer, reps=reps, threads=executor.threads)
             for r in range(runs) for i, (sc, ix) in enumerate(((la, ia), (lb, ib)))]
    done = 0
    recs: list[dict[str, Any]] = []
    try:
        for _, result in executor.map(_run_reading, tasks):
            if isinstance(result, BaseException):
                raise result
            recs += result
            done += 1
            if progress is not None:
                progress(done, len(tasks))
    finally:
        if own:
            executor.close()
    recs.sort(key=lambda x: (x["reading"], x["run"]))
    est = {i: np.stack([x["estimates"] for x in recs if x["reading"] == i])
           for i in (0, 1)}  # (runs, candidates, reps)
    truth = pd.DataFrame([{"reading": "AB"[x["reading"]], "run": x["run"],
                           "private": x["private"], "voiced": x["voiced"]} for x in recs])
    private = truth.groupby("reading")["private"].mean()
    q = (alpha / 2, 1 - alpha / 2)
    rows = []
    for c, cand in enumerate(cands):
        xa, xb = est[0][:, c, :], est[1][:, c, :]
        alo, ahi = np.quantile(xa, q)
        blo, bhi = np.quantile(xb, q)
        per_b = np.mean((xb < alo) | (xb > ahi), axis=1)  # per run of B
        per_a = np.mean((xa < blo) | (xa > bhi), axis=1)
        pw_b, pw_a = float(per_b.mean()), float(per_a.mean())
        weak = per_b if pw_b <= pw_a else per_a
        rows.append({"design": cand.label, "method": cand.method, "n": cand.n,
                     "items": cand.items, "placebo": cand.placebo,
                     "mean_a": float(xa.mean()), "mean_b": float(xb.mean()),
                     "sd_a": float(xa.std(ddof=1)), "sd_b": float(xb.std(ddof=1)),
                     "bias_a": float(xa.mean() - private["A"]),
                     "bias_b": float(xb.mean() - private["B"]),
                     "a_low": float(alo), "a_high": float(ahi),
                     "b_low": float(blo), "b_high": float(bhi),
                     "power_vs_a": pw_b, "power_vs_b": pw_a, "power": min(pw_a, pw_b),
                     "power_se": float(weak.std(ddof=1) / math.sqrt(runs)),
                     "enough": min(pw_a, pw_b) >= power})
    table = pd.DataFrame(rows)
    table["items"] = table["items"].astype("Int64")
    estimates = pd.DataFrame([
        {"reading": "AB"[i], "run": r, "candidate": cands[c].label, "rep": k,
         "estimate": float(est[i][r, c, k])}
        for i in (0, 1) for r in range(runs) for c in range(len(cands))
        for k in range(reps)])
    settings = {"a": la.source, "b": lb.source, "overrides": dict(overrides or {}),
                "overrides_b": dict(overrides_b or {}), "poll": base.name,
                "date": when_a,
                "answer": answer, "runs": runs, "reps": reps, "alpha": alpha,
                "power": power, "private_a": float(private["A"]),
                "private_b": float(private["B"]),
                "voiced_a": float(truth.loc[truth.reading == "A", "voiced"].mean()),
                "voiced_b": float(truth.loc[truth.reading == "B", "voiced"].mean())}
    return DesignResult(table=table, estimates=estimates, truth=truth, settings=settings)
