"""Speed of steppe's voter and q-voter models against a tight hand-written loop, NDlib and Mesa 3.

Run ``python benchmarks/bench_models.py`` (NDlib and Mesa come with
``pip install -e '.[bench]'``; without them the script runs the steppe-versus-loop rows and
says what it skipped); see ``benchmarks/README.md`` for what is measured and the numbers on
the reference machine.

At every size (default N = 100,000 and 2,000,000) every implementation runs on the same
Erdős–Rényi graph G(N, p = k/(N−1)) (``steppe.networks.erdos_renyi``; NDlib and Mesa get it
as a networkx graph, at sizes up to ``--competitors-max-n``), from the same initial stances
(half A, half B, placed by ``steppe.engine.init_state``). The figure of merit is *elementary
updates per second*: one elementary update is one randomly chosen agent applying the rule
once, whether or not its stance changes (one sweep = N of them).

- steppe: ``model.advance(state, network, sweeps, stop_at_consensus=False)``.
- hand-written: plain Numba loops over the same CSR arrays (``_handwritten.py``): one 64-bit
  SplitMix64 draw per voter update split into two 32-bit halves (agent, then neighbour), the
  generator counter in a local variable.
- NDlib: ``VoterModel`` / ``QVoterModel``; one ``iteration()`` updates exactly one agent
  (the first call only reports the initial status and is not timed).
- Mesa 3: an idiomatic model (``FixedAgent`` on a ``discrete_space.Network``,
  ``model.agents.shuffle_do("step")``); one ``model.step()`` updates all N agents.

Compilation (Numba) and model construction are excluded from the timings; construction
times are reported separately. Each figure is the median over repeats.

The naming game (``--models naming_game``, at sizes up to ``--naming-game-max-n``) has no
hand-written, NDlib or Mesa counterpart; its rows give *interactions per second* (one
interaction = one random speaker, whether or not it has a neighbour), from empty
inventories: on the implicit complete graph over a whole run to consensus (about 1.7 N^1.5
interactions; the inventories reach about 0.34 N^0.5 words per agent, so the hearer's
search makes the peak the slow part), and on the same Erdős–Rényi graph over the first 50
sweeps (consensus never comes there: an isolated agent never plays). The note of each row
gives the memory per agent: bytes of the inventory arrays (``state.aux``: word pool,
offsets, lengths, capacities, holders per word) divided by N, at the largest seen (after
each sweep) and at the end, and the peak number of words per agent.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from _handwritten import qvoter_loop, voter_loop
from _machine import machine as describe
from steppe.engine import init_state
from steppe.models import get_model
from steppe.networks import complete_graph, erdos_renyi
from steppe.networks.base import Network

Q = 4
P_INDEPENDENCE = 0.1
MODELS = ("voter", "qvoter", "naming_game")
MODEL_LABEL = {"voter": "voter", "qvoter": f"q-voter (q={Q}, p={P_INDEPENDENCE})",
               "naming_game": "naming game (ER)", "naming_game_complete":
               "naming game (complete graph)"}
NAMING_GAME_SWEEPS = 50


@dataclass
class Result:
    """The timed repeats of one implementation of one model at one size."""

    implementation: str
    model: str
    n: int
    rates: list[float]  # elementary updates per second, one per repeat
    updates: list[int]  # elementary updates timed, one per repeat
    setup_seconds: float = 0.0
    note: str = ""
    #: steppe / hand loop, repeat by repeat (timed side by side); steppe rows only
    paired_ratios: list[float] = field(default_factory=list)
    median: float = field(init=False)

    def __post_init__(self) -> None:
        self.median = statistics.median(self.rates) if self.rates else math.nan


# -- the graph ------------------------------------------------------------------------------
def build_graph(n: int, mean_degree: float, seed: int) -> Network:
    """The benchmark graph as a steppe CSR Network (G(N, p), p = k/(N−1))."""
    return erdos_renyi(n, mean_degree, seed)


def as_networkx(net: Network) -> nx.Graph:
    """The same graph as a networkx Graph (for NDlib and Mesa)."""
    src = np.repeat(np.arange(net.n, dtype=np.int64), np.diff(net.indptr))
    dst = net.indices.astype(np.int64)
    keep = src < dst
    g = nx.Graph()
    g.add_nodes_from(range(net.n))
    g.add_edges_from(zip(src[keep].tolist(), dst[keep].tolist(), strict=True))
    return g


def make_model(name: str):
    if name == "voter":
        return get_model("voter")()
    return get_model("qvoter")(q=Q, p=P_INDEPENDENCE, nonconformity="independence")


# -- steppe and the hand-written loop (fast: timed in alternation) ---------------------------
def bench_fast(name: str, net: Network, stance0: np.ndarray, seed: int, sweeps: int,
               warmup_sweeps: int, repeats: int) -> list[Result]:
    """steppe and the hand-written loop, each from a copy of the same initial stances.

    Both first run ``warmup_sweeps`` sweeps untimed (this also compiles the kernels), then
    alternate timed chunks of ``sweeps`` sweeps, so that machine noise hits both alike.
    """
    n = net.n
    model = make_model(name)
    state = init_state(model, net, shares={"A": 0.5, "B": 0.5}, seed=seed)
    state.stance[:] = stance0
    state.recount(len(model.stances))
    hand_stance = stance0.copy()
    indptr, indices = net.indptr, net.indices
    counter = np.uint64(seed)

    def run_hand(n_updates: int) -> None:
        nonlocal counter
        if name == "voter":
            counter = np.uint64(voter_loop(hand_stance, indptr, indices, n_updates, counter))
        else:
            counter = np.uint64(qvoter_loop(hand_stance, indptr, indices, Q, P_INDEPENDENCE,
                                            n_updates, counter))

    model.advance(state, net, max(warmup_sweeps, 1), False)
    run_hand(max(warmup_sweeps, 1) * n)
    n_updates = sweeps * n
    steppe_rates, hand_rates = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.advance(state, net, sweeps, False)
        steppe_rates.append(n_updates / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        run_hand(n_updates)
        hand_rates.append(n_updates / (time.perf_counter() - t0))
    paired = [a / b for a, b in zip(steppe_rates, hand_rates, strict=True)]
    return [
        Result("steppe", name, n, steppe_rates, [n_updates] * repeats, paired_ratios=paired),
        Result("hand-written Numba", name, n, hand_rates, [n_updates] * repeats),
    ]


# -- the naming game: steppe only ----------------------------------------------------------
def bench_naming_game(net: Network, seed: int, repeats: int,
                      sweeps: int | None = None) -> Result:
    """Interactions per second from empty inventories, run one sweep at a time: ``sweeps``
    sweeps, or (None) until consensus; ``repeats`` runs with seeds ``seed + r``. The
    memory per agent goes in the note."""
    from steppe.models.naming_game import PEAK

    model = get_model("naming_game")()
    warm = init_state(model, net, seed=seed)
    model.interact(warm, net, 10, stop_at_consensus=True)  # compiles the kernel
    rates, counts, peak_bytes, end_bytes, peak_words = [], [], [], [], []
    n = net.n
    for r in range(repeats):
        state = init_state(model, net, seed=seed + r)
        done, elapsed, top = 0, 0.0, 0
        k = 0
        while sweeps is None or k < sweeps:
            t0 = time.perf_counter()
            d = model.interact(state, net, n, stop_at_consensus=True)
            elapsed += time.perf_counter() - t0
            done += d
            k += 1
            top = max(top, sum(a.nbytes for a in state.aux.values()))
            if d < n:
                break
        rates.append(done / elapsed)
        counts.append(done)
        peak_bytes.append(top / n)
        end_bytes.append(sum(a.nbytes for a in state.aux.values()) / n)
        peak_words.append(int(state.aux["tally"][PEAK]) / n)
    label = "naming_game_complete" if net.complete else "naming_game"
    what = ("whole runs to consensus" if sweeps is None
            else f"first {sweeps} sweeps") + " from empty inventories"
    note = (f"{what}; bytes/agent peak {statistics.median(peak_bytes):.0f}, end "
            f"{statistics.median(end_bytes):.0f}; peak words/agent "
            f"{statistics.median(peak_words):.1f}")
    return Result("steppe", label, n, rates, counts, note=note)


# -- slow implementations: time whole calls against a wall-clock budget ---------------------
def time_budgeted(call: Callable[[], int], budget: float, repeats: int) -> tuple[list, list]:
    """Run ``call`` (returns the elementary updates it did) until each repeat has used
    ``budget / repeats`` seconds (at least one call per repeat)."""
    per_repeat = budget / repeats
    rates, counts = [], []
    for _ in range(repeats):
        done = 0
        t0 = time.perf_counter()
        while True:
            done += call()
            elapsed = time.perf_counter() - t0
            if elapsed >= per_repeat:
                break
        rates.append(done / elapsed)
        counts.append(done)
    return rates, counts


def bench_ndlib(name: str, g: nx.Graph, stance0: np.ndarray, seed: int, budget: float,
                repeats: int) -> Result:
    import ndlib.models.ModelConfig as mc
    import ndlib.models.opinions as op

    t0 = time.perf_counter()
    model = op.VoterModel(g, seed=seed) if name == "voter" else op.QVoterModel(g, seed=seed)
    config = mc.Configuration()
    if name == "qvoter":
        config.add_model_parameter("q", Q)
    config.add_model_initial_configuration("Infected", np.flatnonzero(stance0 == 1).tolist())
    model.set_initial_status(config)
    model.iteration(node_status=False)  # iteration 0 only reports the initial status
    setup = time.perf_counter() - t0

    def one() -> int:
        # One iteration = one randomly chosen agent updated once. NDlib raises ValueError
        # when the chosen agent has no neighbour (np.random.randint(0, 0)); that is still
        # one elementary update (steppe and the loops skip such agents too).
        try:
            model.iteration(node_status=False)
        except ValueError:
            pass
        return 1

    rates, counts = time_budgeted(one, budget, repeats)
    note = "" if name == "voter" else (
        f"NDlib {_version('ndlib')} QVoterModel: q={Q} drawn with repetition, no "
        "independence (it has no nonconformity parameter)")
    return Result("NDlib", name, g.number_of_nodes(), rates, counts, setup, note)


def _mesa_models():
    import mesa
    from mesa.discrete_space import FixedAgent
    from mesa.discrete_space import Network as MesaNetwork

    class VoterAgent(FixedAgent):
        """Copies the opinion of a random neighbour."""

        def __init__(self, model, cell, opinion):
            super().__init__(model)
            self.cell = cell
            self.opinion = opinion

        def step(self):
            neighbourhood = self.cell.neighborhood
            if len(neighbourhood) > 0:
                self.opinion = neighbourhood.select_random_agent().opinion

    class QVoterAgent(VoterAgent):
        """q-voter with independence: flip w.p. 1/2 with probability p, else follow a
        unanimous panel of q distinct neighbours (nothing if it has fewer than q)."""

        def step(self):
            model = self.model
            if self.random.random() < model.p:
                if self.random.random() < 0.5:
                    self.opinion = 1 - self.opinion
                return
            neighbours = list(self.cell.neighborhood.agents)
            if len(neighbours) < model.q:
                return
            panel = self.random.sample(neighbours, model.q)
            first = panel[0].opinion
            if all(a.opinion == first for a in panel[1:]):
                self.opinion = first

    class OpinionModel(mesa.Model):
        def __init__(self, graph, opinions, agent_class, q=Q, p=P_INDEPENDENCE, seed=None):
            super().__init__(seed=seed)
            self.q = q
            self.p = p
            self.grid = MesaNetwork(graph, capacity=1, random=self.random)
            for cell in self.grid.all_cells:
                agent_class(self, cell, int(opinions[cell.coordinate]))

        def step(self):
            self.agents.shuffle_do("step")

    return OpinionModel, VoterAgent, QVoterAgent


def bench_mesa(name: str, g: nx.Graph, stance0: np.ndarray, seed: int, budget: float,
               repeats: int) -> Result:
    opinion_model, voter_agent, qvoter_agent = _mesa_models()
    t0 = time.perf_counter()
    model = opinion_model(g, stance0, voter_agent if name == "voter" else qvoter_agent,
                          seed=seed)
    setup = time.perf_counter() - t0
    n = g.number_of_nodes()

    def one() -> int:
        model.step()  # every agent steps once, in random order: n elementary updates
        return n

    rates, counts = time_budgeted(one, budget, repeats)
    return Result("Mesa 3", name, n, rates, counts, setup,
                  "one step = N updates (each agent once, random order)")


# -- reporting --------------------------------------------------------------------------------
def _version(pkg: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(pkg)
    except PackageNotFoundError:
        return "not installed"


def _fmt_rate(x: float) -> str:
    if math.isnan(x):
        return "-"
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.3g}{unit}"
    return f"{x:.3g}"


def _fmt_ratio(a: float, b: float | None) -> str:
    if b is None or math.isnan(a) or math.isnan(b) or b == 0:
        return "-"
    r = a / b
    return f"{r:.3g}x" if r < 1e3 else f"{r:.3g}x".replace("e+0", "e").replace("e+", "e")


def table(results: list[Result]) -> str:
    """A Markdown table: one row per implementation, model and size."""
    by = {(r.implementation, r.model, r.n): r.median for r in results}
    head = ("implementation", "model", "N", "updates/s (median)", "spread (min-max)",
            "vs hand loop", "paired ratio (min-max)", "vs NDlib", "vs Mesa")
    rows = []
    for r in results:
        hand = by.get(("hand-written Numba", r.model, r.n))
        ndl = by.get(("NDlib", r.model, r.n))
        mes = by.get(("Mesa 3", r.model, r.n))
        spread = f"{_fmt_rate(min(r.rates))}-{_fmt_rate(max(r.rates))}" if r.rates else "-"
        paired = (f"{min(r.paired_ratios):.2f}-{max(r.paired_ratios):.2f}"
                  if r.paired_ratios else "-")
        label = MODEL_LABEL[r.model]
        if r.implementation == "NDlib" and r.model == "qvoter":
            label = f"q-voter (q={Q}, p=0: NDlib has no independence)"
        rows.append((r.implementation, label, f"{r.n:,}", _fmt_rate(r.median),
                     spread, _fmt_ratio(r.median, hand), paired, _fmt_ratio(r.median, ndl),
                     _fmt_ratio(r.median, mes)))
    widths = [max(len(h), *(len(row[k]) for row in rows)) for k, h in enumerate(head)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
                     + " |")
    return "\n".join(lines)


def _importable(module: str) -> bool:
    from importlib.util import find_spec

    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "numba": _version("numba"),
        "numpy": _version("numpy"),
        "networkx": _version("networkx"),
        "ndlib": _version("ndlib"),
        "mesa": _version("mesa"),
        "steppe": _version("steppe"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--sizes", default="100000,2000000",
                    help="comma-separated numbers of agents")
    ap.add_argument("--n", type=int, default=None,
                    help="one number of agents (overrides --sizes)")
    ap.add_argument("--mean-degree", type=float, default=10.0, help="mean degree of the graph")
    ap.add_argument("--seed", type=int, default=1, help="seed of the graph and initial state")
    ap.add_argument("--repeats", type=int, default=7,
                    help="timed repeats for steppe and the hand-written loop")
    ap.add_argument("--slow-repeats", type=int, default=3,
                    help="timed repeats for NDlib and Mesa")
    ap.add_argument("--updates", type=int, default=4_000_000,
                    help="elementary updates per timed repeat of steppe / hand loop (rounded "
                    "up to whole sweeps)")
    ap.add_argument("--warmup-sweeps", type=int, default=2,
                    help="untimed sweeps first (includes Numba compilation)")
    ap.add_argument("--budget-seconds", type=float, default=10.0,
                    help="wall-clock time for each NDlib / Mesa measurement (all repeats)")
    ap.add_argument("--competitors-max-n", type=int, default=100_000,
                    help="run NDlib and Mesa only at sizes up to this")
    ap.add_argument("--models", default=",".join(MODELS),
                    help="comma-separated: voter,qvoter,naming_game")
    ap.add_argument("--naming-game-max-n", type=int, default=100_000,
                    help="run the naming game only at sizes up to this")
    ap.add_argument("--naming-game-repeats", type=int, default=3,
                    help="runs of the naming game (each on the complete graph is a whole "
                    "run to consensus: about 20 s at N = 100,000)")
    ap.add_argument("--skip-ndlib", action="store_true")
    ap.add_argument("--skip-mesa", action="store_true")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = ap.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        if m not in MODELS:
            ap.error(f"unknown model {m!r}; choose from {', '.join(MODELS)}")
    sizes = [args.n] if args.n else [int(x) for x in args.sizes.split(",") if x.strip()]

    skipped: list[str] = []
    run_ndlib = not args.skip_ndlib and _importable("ndlib")
    run_mesa = not args.skip_mesa and _importable("mesa")
    if not args.skip_ndlib and not run_ndlib:
        skipped.append("NDlib (not installed: pip install -e '.[bench]')")
    if not args.skip_mesa and not run_mesa:
        skipped.append("Mesa 3 (not installed: pip install -e '.[bench]')")
    if (run_ndlib or run_mesa) and any(n > args.competitors_max_n for n in sizes):
        skipped.append(f"NDlib and Mesa at N > {args.competitors_max_n:,} "
                       "(--competitors-max-n)")

    import datetime as dt

    print(f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: {describe()}")
    t_start = time.perf_counter()
    results: list[Result] = []
    graphs: list[dict[str, Any]] = []
    for n in sizes:
        print(f"graph: Erdős–Rényi, N={n:,}, mean degree {args.mean_degree}, "
              f"seed {args.seed} ...", flush=True)
        t0 = time.perf_counter()
        net = build_graph(n, args.mean_degree, args.seed)
        print(f"  {net.n_edges:,} edges, mean degree {net.mean_degree():.3f}, "
              f"{int((net.degree() < Q).sum())} agents with degree < {Q} "
              f"({time.perf_counter() - t0:.1f} s)", flush=True)
        graphs.append({"n": net.n, "edges": net.n_edges, "mean_degree": net.mean_degree()})
        stance0 = init_state(make_model("voter"), net, shares={"A": 0.5, "B": 0.5},
                             seed=args.seed).stance.copy()
        sweeps = max(1, -(-args.updates // n))
        competitors = n <= args.competitors_max_n and (run_ndlib or run_mesa)
        g = as_networkx(net) if competitors else None
        for name in models:
            if name == "naming_game":
                if n > args.naming_game_max_n:
                    skipped.append(f"the naming game at N = {n:,} (--naming-game-max-n)")
                    continue
                print(f"naming game, N={n:,}: ER, {args.naming_game_repeats} x "
                      f"{NAMING_GAME_SWEEPS} sweeps ...", flush=True)
                results.append(bench_naming_game(net, args.seed, args.naming_game_repeats,
                                                 NAMING_GAME_SWEEPS))
                print(f"naming game, N={n:,}: complete graph, {args.naming_game_repeats} "
                      "runs to consensus ...", flush=True)
                results.append(bench_naming_game(complete_graph(n), args.seed,
                                                 args.naming_game_repeats))
                continue
            print(f"{MODEL_LABEL[name]}, N={n:,}: steppe and hand-written loop "
                  f"({args.repeats} x {sweeps} sweeps) ...", flush=True)
            results += bench_fast(name, net, stance0, args.seed, sweeps, args.warmup_sweeps,
                                  args.repeats)
            if competitors and run_ndlib:
                print(f"{MODEL_LABEL[name]}: NDlib ({args.budget_seconds:g} s) ...", flush=True)
                results.append(bench_ndlib(name, g, stance0, args.seed, args.budget_seconds,
                                           args.slow_repeats))
            if competitors and run_mesa:
                print(f"{MODEL_LABEL[name]}: Mesa 3 ({args.budget_seconds:g} s) ...",
                      flush=True)
                results.append(bench_mesa(name, g, stance0, args.seed, args.budget_seconds,
                                          args.slow_repeats))
        del g, net

    order = {"steppe": 0, "hand-written Numba": 1, "NDlib": 2, "Mesa 3": 3}
    rank = {m: i for i, m in enumerate(models)}
    rank["naming_game_complete"] = rank.get("naming_game", len(models))
    results.sort(key=lambda r: (rank[r.model], r.n, order[r.implementation]))
    print()
    print(table(results))
    for r in results:
        extra = f"; setup {r.setup_seconds:.1f} s" if r.setup_seconds else ""
        if r.note or extra:
            print(f"  {r.implementation}, {r.model}: {r.note}{extra}".replace(": ;", ":"))
    for what in skipped:
        print(f"skipped: {what}")
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s")

    if args.json:
        payload = {"args": vars(args), "machine": machine(), "graphs": graphs,
                   "skipped": skipped, "results": [asdict(r) for r in results]}
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
