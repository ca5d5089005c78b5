"""The naming game: the compiled kernel against a plain-Python rule on the same random stream
(interaction by interaction), invariants of the inventories, committed agents, the reduction
to binary agreement, the recorded quantities, and the published checks."""

from __future__ import annotations

import numpy as np
import pytest

from steppe.engine import Committed, init_state, simulate
from steppe.models import get_model
from steppe.models.naming_game import (
    DISTINCT,
    INTER,
    NEXT,
    PEAK,
    SUCC,
    TOTAL,
    WINNER,
    inventories,
)
from steppe.networks import complete_graph, erdos_renyi, lattice
from steppe.validation import all_checks

from ..conftest import ring
from .test_binary_kernels import PyXoshiro


# -- the reference ----------------------------------------------------------------------------
class RefGame:
    """The rule written out with Python lists, drawing from the same xoshiro256** stream:
    one 64-bit draw per interaction (speaker from its high half, hearer from its low half),
    and one more (its high half) for the word when the speaker holds two or more."""

    def __init__(self, state, network) -> None:
        self.inv = [list(x) for x in inventories(state)]
        self.committed = state.committed.copy()
        self.g = PyXoshiro(state.rng)
        self.complete, self.indptr, self.indices = network.kernel_args()
        self.next_word = int(state.aux["tally"][NEXT])
        self.inter = int(state.aux["tally"][INTER])
        self.succ = int(state.aux["tally"][SUCC])

    def interact(self, count: int, stop: bool) -> int:
        g, inv, n = self.g, self.inv, len(self.inv)
        for u in range(count):
            x = g.next()
            sp, x = g.hi(x, n)
            if self.complete:
                li = g.lo(x, n - 1)
                if li >= sp:
                    li += 1
            else:
                a, d = int(self.indptr[sp]), int(self.indptr[sp + 1] - self.indptr[sp])
                if d == 0:
                    continue
                li = int(self.indices[a + g.lo(x, d)])
            self.inter += 1
            if not inv[sp]:
                inv[sp].append(self.next_word)
                self.next_word += 1
            if len(inv[sp]) == 1:
                w = inv[sp][0]
            else:
                k, _ = g.hi(g.next(), len(inv[sp]))
                w = inv[sp][k]
            if w in inv[li]:
                self.succ += 1
                for agent in (li, sp):
                    if not self.committed[agent]:
                        inv[agent] = [w]
                if stop and all(v == [w] for v in inv):
                    return u + 1
            elif not self.committed[li]:
                inv[li].append(w)
        return count


def _check_same(state, ref: RefGame) -> None:
    assert inventories(state) == ref.inv
    t = state.aux["tally"]
    assert (int(t[NEXT]), int(t[INTER]), int(t[SUCC])) == (ref.next_word, ref.inter, ref.succ)
    assert np.array_equal(state.rng, ref.g.words())


def _invariants(state, model) -> None:
    """No duplicate words, the tallies and holders match a recount, stances follow the
    winning-word rule."""
    inv = inventories(state)
    assert all(len(set(v)) == len(v) for v in inv)
    t = state.aux["tally"]
    flat = [w for v in inv for w in v]
    assert int(t[TOTAL]) == len(flat)
    assert int(t[DISTINCT]) == len(set(flat))
    held = np.bincount(np.asarray(flat, dtype=np.int64), minlength=int(t[NEXT]))
    assert np.array_equal(state.aux["holders"][:int(t[NEXT])], held[:int(t[NEXT])])
    assert int(t[PEAK]) >= int(t[TOTAL])
    win = int(t[WINNER])
    expect = np.array([0 if v == [win] else 1 for v in inv], dtype=np.int8)
    assert np.array_equal(state.stance, expect)
    assert np.array_equal(state.counts, np.bincount(state.stance, minlength=2))


CASES = {
    "complete, empty": (lambda: complete_graph(30), {}, None, {"other": 1.0}),
    "ring, committed": (lambda: ring(40), {}, Committed(stance="winner", fraction=0.1),
                        {"other": 1.0}),
    "ER with isolated, mixed": (lambda: erdos_renyi(50, 2.0, seed=3), {},
                                Committed(stance="other", fraction=0.1),
                                {"winner": 0.3, "other": 0.7}),
    "complete, binary start": (lambda: complete_graph(40), {"others_start": "B"},
                               Committed(stance="winner", fraction=0.1), {"other": 1.0}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_kernel_equals_the_reference_interaction_by_interaction(case):
    make, params, committed, shares = CASES[case]
    net = make()
    model = get_model("naming_game")(**params)
    state = init_state(model, net, shares=shares, committed=committed, seed=7)
    ref = RefGame(state, net)
    for _ in range(300):  # one interaction at a time
        model.interact(state, net, 1, stop_at_consensus=False)
        ref.interact(1, stop=False)
        _check_same(state, ref)
    for _ in range(40):  # then in chunks, stopping at consensus
        done = model.interact(state, net, 137, stop_at_consensus=True)
        assert ref.interact(137, stop=True) == done
        _check_same(state, ref)
        _invariants(state, model)
        if done < 137:
            break


def test_committed_agents_never_change_and_still_speak():
    model = get_model("naming_game")()
    net = complete_graph(100)
    st = init_state(model, net, committed=Committed(stance="winner", fraction=0.2), seed=2)
    before = [v for v, c in zip(inventories(st), st.committed, strict=True) if c]
    assert before == [[0]] * 20
    traj = simulate(model, net, st, max_sweeps=500, stop_at_consensus=True)
    after = [v for v, c in zip(inventories(st), st.committed, strict=True) if c]
    assert after == before
    assert traj.consensus_stance == 0  # their word A wins
    assert inventories(st) == [[0]] * 100


def test_a_success_collapses_both_and_the_game_reaches_one_word():
    model = get_model("naming_game")(others_start="B")
    net = complete_graph(2)
    st = init_state(model, net, shares={"winner": 0.5, "other": 0.5}, seed=4)
    assert sorted(inventories(st)) == [[0], [1]]
    model.interact(st, net, 1, stop_at_consensus=False)  # always a failure: hearer adds
    inv = inventories(st)
    assert sorted(len(v) for v in inv) == [1, 2] and int(st.aux["tally"][SUCC]) == 0
    while int(st.aux["tally"][SUCC]) == 0:
        model.interact(st, net, 1, stop_at_consensus=False)
    w = inventories(st)[0]
    assert len(w) == 1 and inventories(st) == [w, w]


def test_results_do_not_depend_on_how_the_run_is_chunked():
    model = get_model("naming_game")()
    net = lattice((64,))
    a = init_state(model, net, seed=9)
    b = init_state(model, net, seed=9)
    model.advance(a, net, 30, stop_at_consensus=False)
    for _ in range(30):
        model.advance(b, net, 1, stop_at_consensus=False)
    assert inventories(a) == inventories(b)
    assert np.array_equal(a.rng, b.rng) and np.array_equal(a.stance, b.stance)


def test_the_pool_grows_and_shrinks_back():
    model = get_model("naming_game")()
    net = complete_graph(2000)
    st = init_state(model, net, seed=1)
    size0 = st.aux["words"].shape[0]
    model.interact(st, net, 40_000, stop_at_consensus=False)
    grown = st.aux["words"].shape[0]
    assert grown > size0  # inventories of tens of words
    model.advance(st, net, 10_000, stop_at_consensus=True)
    assert inventories(st) == [inventories(st)[0]] * 2000
    assert st.aux["words"].shape[0] < grown  # given back after the collapse
    _invariants(st, model)


def test_binary_reduction_matches_binary_agreement():
    """With A committed and everyone else on B, the naming game is Xie et al.'s binary
    agreement: the mean time to consensus on A at p = 0.15, N = 200, over 60 runs each,
    agrees within 4 standard errors of the difference (the two means are of the same law;
    4 SE: a false alarm about once in 16,000)."""
    net = complete_graph(200)
    committed = Committed(stance="A", fraction=0.15)
    out = []
    for model, c in ((get_model("binary_agreement")(), committed),
                     (get_model("naming_game")(others_start="B"),
                      Committed(stance="winner", fraction=0.15))):
        times = []
        for ss in np.random.SeedSequence(5).spawn(60):
            st = init_state(model, net, shares={model.stances[1]: 1.0}, committed=c,
                            seed=ss)
            traj = simulate(model, net, st, max_sweeps=2000, stop_at_consensus=True,
                            record_every=10_000)
            assert traj.consensus_stance == 0
            times.append(traj.consensus_time)
        out.append(np.asarray(times))
    se = np.sqrt(out[0].var(ddof=1) / 60 + out[1].var(ddof=1) / 60)
    assert abs(out[0].mean() - out[1].mean()) <= 4 * se, (out[0].mean(), out[1].mean(), se)


def test_the_naming_game_table_is_recorded():
    from steppe.observe.tables import RunOutput, tables

    model = get_model("naming_game")()
    net = complete_graph(300)
    st = init_state(model, net, seed=3)
    traj = simulate(model, net, st, max_sweeps=5000, stop_at_consensus=True, record_every=5)
    nw = traj.values("naming_game", "total_words")
    assert nw[0] == 0 and nw[-1] == 300 and nw.max() > 300
    assert traj.values("naming_game", "distinct_words")[-1] == 1
    assert traj.values("naming_game", "winner_only")[-1] == 300
    out = RunOutput(run=0, recording=traj.recording, consensus_stance=traj.consensus_stance,
                    consensus_time=traj.consensus_time, final_time=traj.final_time,
                    absorbed=traj.absorbed, wall_seconds=0.0)
    df = tables([out], model.stances, seed=0)["naming_game"]
    assert list(df.columns[-7:]) == ["total_words", "distinct_words", "winning_word",
                                     "winner_only", "interactions", "successes",
                                     "success_rate"]
    rate = df["success_rate"].to_numpy()
    assert np.isnan(rate[0]) and np.all((rate[1:] >= 0) & (rate[1:] <= 1))
    assert rate[-1] > 0.5  # near consensus almost every interaction succeeds


def test_same_seed_same_run_and_absorbed_on_a_losing_word():
    """Agents committed to "other" hold B, which never counts as the winner: when
    everyone ends up holding B alone the run is absorbed, not a consensus."""
    model = get_model("naming_game")(others_start="B")
    net = complete_graph(60)
    st = init_state(model, net, committed=Committed(stance="other", fraction=0.5), seed=1)
    traj = simulate(model, net, st, max_sweeps=1000, stop_at_consensus=True)
    assert traj.consensus_stance is None and traj.absorbed
    assert inventories(st) == [[1]] * 60 and st.counts.tolist() == [0, 60]


@pytest.mark.parametrize("chk", [c for c in all_checks() if c.model == "naming_game"
                                 and c.quick], ids=lambda c: c.name)
def test_quick_published_checks_pass(chk):
    result = chk.run()
    assert result.passed, (result.measured, result.expected, result.detail)


@pytest.mark.slow
@pytest.mark.parametrize("chk", [c for c in all_checks() if c.model == "naming_game"
                                 and not c.quick], ids=lambda c: c.name)
def test_published_scaling_checks_pass(chk):
    """The complete graph's exponents (about 20 s: runs up to N = 32,000, shared by the
    three checks)."""
    result = chk.run()
    assert result.passed, (result.measured, result.expected, result.detail)
