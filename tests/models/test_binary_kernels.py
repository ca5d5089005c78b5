"""The voter and q-voter kernels against plain-Python re-implementations.

The Numba kernels keep the generator state in registers, split one 64-bit draw into two
choices, keep the rare rejection step out of line and are specialised for the complete graph,
for "no agent committed" and (voter) for "stop at consensus". Each reference below is the
rule written out directly, drawing from the same xoshiro256** stream in pure Python; the
trajectories (stances, counts, elementary updates done and the generator state, after every
chunk of a few hundred updates) must be equal exactly, with committed agents, with the
private-versus-expressed layer (``seen`` distinct from ``stance``), on the implicit complete
graph and on a network with isolated agents and agents of degree below q.
"""

from __future__ import annotations

import numpy as np
import pytest

from steppe.models.qvoter import _qvoter
from steppe.models.voter import _voter_invasion, _voter_node
from steppe.networks import complete_graph, erdos_renyi
from steppe.rng import (
    load_state,
    make_state,
    next_u64,
    next_u64_r,
    randint_hi,
    randint_lo,
    store_state,
)

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1


class PyXoshiro:
    """xoshiro256** on Python integers, with the two half-draw integer maps."""

    def __init__(self, words: np.ndarray) -> None:
        self.s = [int(w) for w in words]

    @staticmethod
    def _rotl(x: int, k: int) -> int:
        return ((x << k) | (x >> (64 - k))) & M64

    def next(self) -> int:
        s0, s1, s2, s3 = self.s
        result = (self._rotl((s1 * 5) & M64, 7) * 9) & M64
        t = (s1 << 17) & M64
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = self._rotl(s3, 45)
        self.s = [s0, s1, s2, s3]
        return result

    def hi(self, x: int, n: int) -> tuple[int, int]:
        """Lemire on the high half of x; on rejection, the high halves of fresh draws."""
        m = (x >> 32) * n
        threshold = ((1 << 32) - n) % n
        while (m & M32) < threshold:
            x = self.next()
            m = (x >> 32) * n
        return m >> 32, x

    def lo(self, x: int, n: int) -> int:
        """Lemire on the low half of x; on rejection, the low halves of fresh draws."""
        m = (x & M32) * n
        threshold = ((1 << 32) - n) % n
        while (m & M32) < threshold:
            x = self.next()
            m = (x & M32) * n
        return m >> 32

    def words(self) -> np.ndarray:
        return np.array(self.s, dtype=np.uint64)


# -- references -----------------------------------------------------------------------------
def ref_voter(stance, seen, committed, counts, complete, indptr, indices, n_updates, stop,
              cmask, s, invasion):
    """Node (i copies a random neighbour j) or invasion (j copies i) updates; one draw per
    update: agent from its high half, neighbour from its low half."""
    g = PyXoshiro(s)
    n = len(stance)
    ones = int(counts[1])
    done = n_updates
    for u in range(n_updates):
        x = g.next()
        i, x = g.hi(x, n)
        if complete:
            j = g.lo(x, n - 1)
            if j >= i:
                j += 1
        else:
            a, d = int(indptr[i]), int(indptr[i + 1] - indptr[i])
            if d == 0:
                continue
            j = int(indices[a + g.lo(x, d)])
        src, dst = (i, j) if invasion else (j, i)
        if committed[dst]:
            continue
        new = int(seen[src])
        ones += new - int(stance[dst])
        stance[dst] = new
        if stop and ((cmask[1] and ones == n) or (cmask[0] and ones == 0)):
            done = u + 1
            break
    s[:] = g.words()
    counts[1] = ones
    counts[0] = n - ones
    return done


def ref_qvoter(stance, seen, committed, counts, complete, indptr, indices, n_updates, stop,
               cmask, q, p, anti, repetition, s):
    """The q-voter rule: one draw gives the agent (high half) and, when p > 0, a 32-bit
    uniform (low half) for "nonconforming" (below p) and the independent coin (below p/2
    flips); panel positions come two per draw (high half, then low half), the first one from
    the agent's draw when p = 0; Floyd's sampling without repetition; the panel is abandoned
    at the first dissenter."""
    g = PyXoshiro(s)
    n = len(stance)
    ones = int(counts[1])
    done = n_updates
    p_cut = int(min(p * 2.0**32, 2.0**32))
    flip_cut = int(0.5 * p * 2.0**32)
    for u in range(n_updates):
        x = g.next()
        i, x = g.hi(x, n)
        pending = True

        def position(bound):
            nonlocal x, pending
            if pending:
                pending = False
                return g.lo(x, bound)
            x = g.next()
            k, x = g.hi(x, bound)
            pending = True
            return k

        nonconform = False
        if p > 0:
            r = x & M32
            pending = False
            nonconform = r < p_cut
            if nonconform and not anti:
                if r >= flip_cut or committed[i]:
                    continue
                new = 1 - int(stance[i])
                ones += new - int(stance[i])
                stance[i] = new
                if stop and ((cmask[1] and ones == n) or (cmask[0] and ones == 0)):
                    done = u + 1
                    break
                continue
        if complete:
            a, d = 0, n - 1
        else:
            a, d = int(indptr[i]), int(indptr[i + 1] - indptr[i])
        if d == 0 or (not repetition and d < q):
            continue

        def member(k, i=i, a=a):
            if complete:
                return k + 1 if k >= i else k
            return int(indices[a + k])

        first, unanimous = -1, True
        if repetition:
            for w in range(q):
                v = int(seen[member(position(d))])
                if w == 0:
                    first = v
                elif v != first:
                    unanimous = False
                    break
        else:
            chosen: list[int] = []
            for jj in range(d - q, d):
                k = position(jj + 1)
                if k in chosen:
                    k = jj
                chosen.append(k)
                v = int(seen[member(k)])
                if len(chosen) == 1:
                    first = v
                elif v != first:
                    unanimous = False
                    break
        if not unanimous or committed[i]:
            continue
        new = 1 - first if nonconform else first
        ones += new - int(stance[i])
        stance[i] = new
        if stop and ((cmask[1] and ones == n) or (cmask[0] and ones == 0)):
            done = u + 1
            break
    s[:] = g.words()
    counts[1] = ones
    counts[0] = n - ones
    return done


# -- the cases ------------------------------------------------------------------------------
N = 60
NETS = {"complete": lambda: complete_graph(N), "er": lambda: erdos_renyi(N, 3.5, seed=4)}
CHUNKS = ((1, False), (37, False), (400, False), (300, True), (2000, True))


def _arrays(net: str, committed: float, separate: bool, seed: int):
    gen = np.random.default_rng(seed)
    stance = (gen.random(N) < 0.5).astype(np.int8)
    mask = gen.random(N) < committed
    seen = (gen.random(N) < 0.3).astype(np.int8) if separate else stance
    counts = np.bincount(stance, minlength=2).astype(np.int64)
    return stance, seen, mask, counts, make_state(seed + 1)


def _compare(kernel, reference, net: str, committed: float, separate: bool, extra: tuple,
             cmask=(True, True), seed: int = 7) -> None:
    network = NETS[net]()
    complete, indptr, indices = network.kernel_args()
    cm = np.array(cmask, dtype=np.bool_)
    got = _arrays(net, committed, separate, seed)
    want = _arrays(net, committed, separate, seed)
    if not separate:  # keep the aliasing: seen *is* stance
        assert got[1] is got[0] and want[1] is want[0]
    for n_updates, stop in CHUNKS:
        d_got = kernel(got[0], got[1], got[2], got[3], complete, indptr, indices, n_updates,
                       stop, cm, *extra, got[4])
        d_want = reference(want[0], want[1], want[2], want[3], complete, indptr, indices,
                           n_updates, stop, cm, *extra, want[4])
        assert d_got == d_want
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[3], want[3])
        np.testing.assert_array_equal(got[4], want[4])
        assert int(got[3].sum()) == N and int(got[3][1]) == int(got[0].sum())
        if separate:
            np.testing.assert_array_equal(got[1], want[1])  # what agents voice: untouched


LAYERS = [(0.0, False), (0.2, False), (0.0, True), (0.25, True)]


@pytest.mark.parametrize("net", sorted(NETS))
@pytest.mark.parametrize(("committed", "separate"), LAYERS)
@pytest.mark.parametrize("invasion", [False, True], ids=["node", "invasion"])
def test_voter_kernel_equals_reference(net, committed, separate, invasion):
    kernel = _voter_invasion if invasion else _voter_node

    def reference(*args):
        return ref_voter(*args, invasion)

    _compare(kernel, reference, net, committed, separate, ())


def test_voter_kernel_stops_at_consensus_exactly():
    # a small complete graph reaches consensus within the chunks; only B counts as the end
    for cmask in ((True, True), (False, True), (True, False)):
        _compare(_voter_node, lambda *a: ref_voter(*a, False), "complete", 0.0, False, (),
                 cmask=cmask, seed=11)


QV = [
    (4, 0.2, False, False), (4, 0.2, True, False), (3, 0.1, False, True),
    (2, 0.3, True, True), (4, 0.0, False, False), (3, 0.0, False, True), (2, 1.0, False, False),
]


@pytest.mark.parametrize("net", sorted(NETS))
@pytest.mark.parametrize(("committed", "separate"), LAYERS)
@pytest.mark.parametrize(("q", "p", "anti", "repetition"), QV)
def test_qvoter_kernel_equals_reference(net, committed, separate, q, p, anti, repetition):
    _compare(_qvoter, ref_qvoter, net, committed, separate, (q, p, anti, repetition))


# -- the half-draw integer maps, rejection included -------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3, 10, 2**31 + 1, 3_000_000_000, 2**32 - 1])
def test_half_draws_equal_reference(n):
    """With n close to 2**32 about half of the draws are rejected: the out-of-line path."""
    from numba import njit

    @njit
    def draw(s, n, k, out):
        t = load_state(s)
        for r in range(k):
            x, t = next_u64_r(t)
            a, x, t = randint_hi(t, x, n)
            b, t = randint_lo(t, x, n)
            out[r, 0] = a
            out[r, 1] = b
        store_state(s, t)

    s = make_state(5)
    g = PyXoshiro(s)
    out = np.empty((300, 2), dtype=np.int64)
    draw(s, n, 300, out)
    for r in range(300):
        a, x = g.hi(g.next(), n)
        assert out[r, 0] == a
        assert out[r, 1] == g.lo(x, n)
        assert 0 <= a < n
    np.testing.assert_array_equal(s, g.words())


def test_register_stream_is_the_array_stream():
    from numba import njit

    @njit
    def run(s, k, out):
        t = load_state(s)
        for r in range(k):
            out[r], t = next_u64_r(t)
        store_state(s, t)

    a, b = make_state(9), make_state(9)
    g = PyXoshiro(a)
    for _ in range(50):
        assert int(next_u64(a)) == g.next()
    out = np.empty(50, dtype=np.uint64)
    run(b, 50, out)
    np.testing.assert_array_equal(a, b)
    h = PyXoshiro(make_state(9))
    assert [int(v) for v in out] == [h.next() for _ in range(50)]


@pytest.mark.parametrize("invasion", [False, True], ids=["node", "invasion"])
@pytest.mark.parametrize("cmask", [(True, True), (False, True), (True, False)])
def test_voter_replay_finds_the_consensus_update(invasion, cmask):
    """Stopping at consensus with ``seen is stance``: the updates run without the tally and
    the call is replayed with it when it ends in consensus; ``done`` and everything else must
    equal the reference, which tallies every update."""
    kernel = _voter_invasion if invasion else _voter_node
    net = complete_graph(12)
    complete, indptr, indices = net.kernel_args()
    cm = np.array(cmask, dtype=np.bool_)
    stopped = 0
    for seed in range(40):
        gen = np.random.default_rng(seed)
        got = (gen.random(12) < 0.5).astype(np.int8)
        want = got.copy()
        c_got = np.bincount(got, minlength=2).astype(np.int64)
        c_want = c_got.copy()
        s_got, s_want = make_state(seed), make_state(seed)
        no = np.zeros(12, dtype=np.bool_)
        d_got = kernel(got, got, no, c_got, complete, indptr, indices, 300, True, cm, s_got)
        d_want = ref_voter(want, want, no, c_want, complete, indptr, indices, 300, True, cm,
                           s_want, invasion)
        assert d_got == d_want
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(c_got, c_want)
        np.testing.assert_array_equal(s_got, s_want)
        stopped += d_got < 300
    assert stopped >= 10  # the replay path ran
