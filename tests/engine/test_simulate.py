"""The time loop: it names no pressure, it calls the protocol in stage order, quiet
pressures let it run many sweeps in one kernel call with the same result, it records what
the observables declare, and it stops as absorbed only when every pressure is settled."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from steppe.engine import init_state, simulate
from steppe.models import get_model
from steppe.networks import complete_graph, erdos_renyi
from steppe.observe.observables import Observable
from steppe.pressures import available_pressures
from steppe.pressures.base import Pressure, Stage
from steppe.pressures.media import MediaChannel

LOOP = Path(__file__).resolve().parents[2] / "src" / "steppe" / "engine" / "simulate.py"


def _code_only(path: Path) -> str:
    """The module's code without its docstrings."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                isinstance(getattr(body[0], "value", None), ast.Constant):
            body.pop(0)
    return ast.unparse(tree)


def test_the_loop_names_no_pressure():
    code = _code_only(LOOP).lower()
    for field, cls in available_pressures().items():
        assert field not in code and cls.__name__.lower() not in code, field


class Recorder(Pressure):
    """A test pressure that logs when the loop calls it."""

    field = "test-log"
    stage = Stage.ACTION

    def __init__(self, log: list, name: str, stage: Stage, quiet: bool = True) -> None:
        self.log, self.name, self._quiet = log, name, quiet
        self.stage = stage  # type: ignore[misc]

    @classmethod
    def from_scenario(cls, scenario, model):  # pragma: no cover - not registered
        return []

    @property
    def quiet(self) -> bool:
        return self._quiet

    def prepare(self, state, world):
        self.log.append(("prepare", self.name))

    def start(self, state, world):
        self.log.append(("start", self.name))

    def apply(self, state, world):
        self.log.append(("apply", self.name, state.time))

    def observables(self):
        return [Observable(f"calls_{self.name}", "log", "record",
                           lambda st, tally: len(self.log))]


def test_pressures_act_in_stage_order_and_record_their_observables():
    model = get_model("voter")()
    net = complete_graph(50)
    st = init_state(model, net, seed=1)
    log: list = []
    late = Recorder(log, "late", Stage.ACTION, quiet=False)
    early = Recorder(log, "early", Stage.INFLUENCE)
    traj = simulate(model, net, st, max_sweeps=3, stop_at_consensus=False,
                    pressures=[late, early])
    assert log[:4] == [("prepare", "early"), ("prepare", "late"), ("start", "early"),
                       ("start", "late")]
    applies = [e for e in log if e[0] == "apply"]
    assert applies == [("apply", n, t) for t in (0.0, 1.0, 2.0) for n in ("early", "late")]
    assert traj.values("log", "calls_late").tolist() == [4, 6, 8, 10]


def test_quiet_pressures_let_the_loop_run_in_chunks_with_the_same_result():
    """A silent media channel is quiet: the loop hands the kernel whole chunks; a channel
    that is not quiet forces one sweep at a time. With a pull of 0 either way the results
    are identical, bit for bit."""
    model = get_model("qvoter")(q=3, p=0.1)
    net = erdos_renyi(500, 6, seed=2)
    runs = []
    for strength in (0.0, 1e-300):  # 1e-300: active (not quiet) but pulls nobody
        st = init_state(model, net, seed=5)
        tv = MediaChannel(model, name="tv", stance="A", strength=strength,
                          exposure=0.0).bind(net, np.random.default_rng(1))
        calls = []
        orig = model.advance

        def advance(state, network, sweeps, stop, calls=calls, orig=orig):
            calls.append(sweeps)
            return orig(state, network, sweeps, stop)

        model.advance = advance
        traj = simulate(model, net, st, max_sweeps=40, stop_at_consensus=False,
                        record_every=10, pressures=[tv])
        del model.advance
        runs.append((traj.counts, st.stance.copy(), calls))
    assert runs[0][2] == [10, 10, 10, 10] and runs[1][2] == [1] * 40
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])


class Busy(Pressure):
    """Never settled: nothing can be absorbed while it acts."""

    field = "test-busy"

    @classmethod
    def from_scenario(cls, scenario, model):  # pragma: no cover - not registered
        return []

    def settled(self, state):
        return False


def test_absorbed_only_when_every_pressure_is_settled():
    model = get_model("friedkin_johnsen")(susceptibility=0.5)
    net = erdos_renyi(200, 6, seed=3)
    st = init_state(model, net, seed=4)
    free = simulate(model, net, st, max_sweeps=5000)
    assert free.absorbed and free.final_time < 5000
    st = init_state(model, net, seed=4)
    busy = simulate(model, net, st, max_sweeps=300, pressures=[Busy()])
    assert not busy.absorbed and busy.final_time == 300
