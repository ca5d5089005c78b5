"""What agents say, and why: the answer model (preference falsification; Kuran 1995).

Every agent *chooses* the answer it voices. The answers are the model's stances and,
optionally, "don't know / refuse" (``dont_know``). Agent ``i``, privately holding stance
``s_i``, gives answer ``a`` the utility

    ``U_i(a) = c_i [a = s_i] + w R_i(a) - v_i sigma(a)``          (a a stance)
    ``U_i(dont_know) = d_i``

- ``c_i [a = s_i]``: *intrinsic* utility, the conviction ``c_i >= 0`` an agent gains by voicing
  what it holds;
- ``w R_i(a)``: *reputational* utility, ``R_i(a)`` the share of ``i``'s neighbours who
  currently voice ``a`` (on the complete graph: of all other agents) and ``w`` the
  ``support_weight``. With ``reputation = "all"`` (Kuran's reading) every answer earns it:
  one gains standing by saying what those around one say. With ``reputation = "own"`` (the
  default) only the agent's own stance earns it: others voicing it are the courage to voice
  it too;
- ``v_i sigma(a)``: the *sanction* the state attaches to answer ``a`` (``sanction``; a
  negative sanction is a reward, e.g. for voicing the government's line), felt in proportion
  to the agent's visibility ``v_i >= 0``;
- ``d_i``: the utility of refusing to answer (it earns no conviction, no standing, no
  sanction). Without ``dont_know`` refusing is not an option.

**The choice.** With ``temperature = 0`` each agent voices the answer of highest utility;
ties go to its own stance, then to the declared ``safe`` answer, then to the lowest code.
With ``temperature = T > 0`` it is a logit choice, ``P(a) = exp(U(a) / T) / sum_b exp(U(b) /
T)``, one draw per agent per pass from the layer's random stream: a dispersed answer for a
given setting, the hiders spreading over the other answers by how good each is for them. The
choice is per agent: conviction and visibility (and the refusal utility) are drawn per agent
from declared distributions, per group, and scaled (refusal: shifted) by age band.

**The rule of the earlier versions is the limit case.** ``penalised`` stances with an
``enforcement`` are ``sanction = enforcement`` on each of them, nothing else sanctioned,
``reputation = "own"``, no "don't know", ``temperature = 0``: an agent holding a penalised
stance ``s`` then voices it exactly when ``enforcement x v_i <= c_i + w R_i(s)`` and otherwise
voices the ``safe`` stance (every other answer is worth 0 to it, and ties go to ``safe``); every
other agent voices what it holds. These results are unchanged bit for bit (tested).

**Timing.** The answers are chosen once per sweep, synchronously, from the answers of the
previous sweep, so revelations spread over successive sweeps: lifting a crackdown can start a
cascade in which each round of revealed support emboldens the next (Kuran 1989, 1995;
Granovetter 1978). At the start of a run the answers are the fixed point reached from
everybody holding a sanctioned stance voicing the ``safe`` answer (``start = "hidden"``, the
least-revealing equilibrium) or from everybody voicing what they hold (``start = "open"``);
with a positive temperature there is no fixed point, and the start is ``start_rounds``
passes from there.

**What neighbours hear.** Update rules read what others voice (:class:`~steppe.state.State`
``seen``) as stance codes: a refusal is heard as the ``heard_as`` stance (default ``safe``).
Continuous models: an agent voicing its own stance voices its private opinion; voicing another
stance it voices that stance's typical opinion (the middle of its interval; ``safe_opinion``
for the safe stance); a refusal is heard as the ``heard_as`` stance's.

Committed agents never change their *private* stance, but choose their answer like everyone
else, unless ``committed_always_voice`` makes them activists who always voice it.

Examples
--------
>>> import numpy as np
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> from steppe.engine import init_state
>>> model = get_model("voter")()
>>> net = complete_graph(1000)
>>> st = init_state(model, net, shares={"A": 0.3, "B": 0.7}, seed=1)
>>> layer = ExpressionLayer(model, penalised=["A"], safe="B", enforcement=2.0,
...                         conviction=0.5, visibility=1.0).bind(net, np.random.default_rng(0))
>>> layer.start(st)
>>> int(st.expressed_counts[0]), int(st.counts[0])   # nobody dares to voice A
(0, 300)
>>> layer.enforcement = 0.0
>>> layer.update(st, net)
>>> int(st.expressed_counts[0])
300

A hider may voice the rewarded view, or refuse:

>>> model = get_model("qvoter")()   # stances A, B
>>> layer = ExpressionLayer(model, sanction={"A": 2.0, "B": -0.2}, conviction=0.5,
...                         dont_know=0.1, safe="B").bind(net, np.random.default_rng(0))
>>> st = init_state(model, net, shares={"A": 0.3, "B": 0.7}, seed=1)
>>> layer.start(st)
>>> layer.answers, st.expressed_counts.tolist()   # A hides behind B (worth 0.2 > 0.1)
(('A', 'B', 'dont_know'), [0, 1000, 0])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal, Self

import numba
import numpy as np
from numba import njit, prange

from ..distributions import DistLike, checked, sample_by_group
from ..errors import ParameterError
from ..models.base import Model
from ..networks._prefetch import AHEAD, prefetch
from ..networks.base import Network
from ..rng import Stream
from ..state import State
from .base import (
    MAX_CONTROL,
    Control,
    Pressure,
    Stage,
    World,
    number_control,
    register,
    share_in_unit,
)
from .base import step_fraction as step_fraction_of

if TYPE_CHECKING:
    from ..scenario.loaded import LoadedScenario

__all__ = ["DONT_KNOW", "ExpressionLayer", "answer_probabilities", "express_once"]

#: the label of the "don't know / refuse" answer
DONT_KNOW = "dont_know"

#: agents per block of the parallel choice (one small utility buffer per block)
_BLOCK = 4096

#: "no counts of the neighbours' answers: walk the ties" (see :func:`_support`)
_NO_COUNTS = np.zeros((0, 1), dtype=np.uint8)


@njit(cache=True)
def _tally(codes, k):
    """How many agents hold each code ``0..k-1`` (``np.bincount`` without its copy to
    64-bit integers)."""
    out = np.zeros(k, dtype=np.int64)
    for c in codes:
        if c < k:
            out[c] += 1
    return out


@njit(cache=True, parallel=True)
def _commit_all(new, expressed, expressed_counts, separate, heard_map, heard, heard_counts,
                continuous, stance, opinion, expressed_opinion, voiced):
    """Copy ``new`` into ``expressed`` and, in the same parallel pass, what follows from
    it: the expressed tallies, the answers as heard (with their tallies: ``separate``) and
    the voiced opinions (``continuous``: one's own where one voices one's stance, the
    answer's opinion otherwise). Returns whether any answer changed. One pass instead of
    the six NumPy passes it replaced (tested against a NumPy reference); with ``new`` the
    expressed array itself, it only recomputes what follows from it."""
    n = new.shape[0]
    a = expressed_counts.shape[0]
    k = heard_counts.shape[0]
    blocks = (n + _BLOCK - 1) // _BLOCK
    by_block = np.zeros((blocks, a), dtype=np.int64)
    heard_by_block = np.zeros((blocks, k if separate else 0), dtype=np.int64)
    changed = np.zeros(blocks, dtype=np.bool_)
    for b in prange(blocks):
        for i in range(b * _BLOCK, min(n, (b + 1) * _BLOCK)):
            e = new[i]
            if e != expressed[i]:
                changed[b] = True
                expressed[i] = e
            if e < a:
                by_block[b, e] += 1
            if separate:
                h = heard_map[e]
                heard[i] = h
                if h < k:
                    heard_by_block[b, h] += 1
            if continuous:
                expressed_opinion[i] = opinion[i] if e == stance[i] else voiced[e]
    expressed_counts[:] = by_block.sum(axis=0)
    if separate:
        heard_counts[:] = heard_by_block.sum(axis=0)
    return changed.any()


@njit(cache=True, parallel=True)
def _count_answers(codes, indptr, indices, counts):
    """``counts[i, a]``: how many entries of row ``i`` hold answer ``a`` in ``codes`` (every
    row, in parallel; codes beyond the columns are not counted)."""
    n, m = counts.shape
    last = indptr[n]
    for i in prange(n):
        for a in range(m):
            counts[i, a] = 0
        for e in range(indptr[i], indptr[i + 1]):
            if e + AHEAD < last:  # ask for the code a few ties on (no result changes)
                prefetch(codes, indices[e + AHEAD])
            c = codes[indices[e]]
            if c < m:
                counts[i, c] += 1


@njit(cache=True)
def _presence_moved(moved, was, now, codes, indptr, indices, counts):
    """Bring ``counts`` (over the ties among agents present in ``was``) to the ties among
    those present in ``now``: a tie of the full network (``indptr``, ``indices``; both
    directions stored) is in force when both its ends are present, and only ties of the
    agents ``moved`` (whose presence differs) come or go. Each tie whose two ends both
    moved is seen from both ends, each updating the other's counts."""
    m = counts.shape[1]
    for j in moved:
        cj = codes[j]
        for e in range(indptr[j], indptr[j + 1]):
            i = indices[e]
            before = was[i] and was[j]
            after = now[i] and now[j]
            if before == after:
                continue
            d = 1 if after else -1
            if cj < m:
                counts[i, cj] += d
            if was[i] == now[i]:  # i stayed: this is the tie's only visit
                ci = codes[i]
                if ci < m:
                    counts[j, ci] += d


@njit(cache=True, parallel=True)
def _differing(a, b):
    """The positions where ``a`` and ``b`` differ, in increasing order (parallel blocks:
    count, then fill)."""
    n = a.shape[0]
    blocks = (n + _BLOCK - 1) // _BLOCK
    found = np.zeros(blocks + 1, dtype=np.int64)
    for k in prange(blocks):
        c = 0
        for i in range(k * _BLOCK, min(n, (k + 1) * _BLOCK)):
            if a[i] != b[i]:
                c += 1
        found[k + 1] = c
    start = np.cumsum(found)
    out = np.empty(start[blocks], dtype=np.int64)
    for k in prange(blocks):
        c = start[k]
        for i in range(k * _BLOCK, min(n, (k + 1) * _BLOCK)):
            if a[i] != b[i]:
                out[c] = i
                c += 1
    return out


@njit(cache=True, parallel=True)
def _answers_moved(moved, codes, now, indptr, indices, counts, parts):
    """Bring ``counts`` from the answers ``codes`` to the answers ``now`` for the agents
    ``moved`` whose answer changed: each moves one count in each neighbour's row (the ties
    in force, both directions stored). The rows are split into ``parts``, each updated by
    one thread alone in the same order (integer counts: the same whatever the threads);
    ``codes`` becomes ``now``."""
    m = counts.shape[1]
    n = counts.shape[0]
    size = (n + parts - 1) // parts
    for p in prange(parts):
        lo = p * size
        hi = min(n, lo + size)
        for j in moved:
            a = codes[j]
            b = now[j]
            for e in range(indptr[j], indptr[j + 1]):
                i = indices[e]
                if lo <= i < hi:
                    if a < m:
                        counts[i, a] -= 1
                    if b < m:
                        counts[i, b] += 1
    for j in moved:
        codes[j] = now[j]


@njit(cache=True, inline="always")
def _support(i, a, old, complete, indptr, indices, old_counts, n, counts):
    """Share of ``i``'s neighbours voicing answer ``a`` (complete graph: of all others).
    With ``counts`` (rows: agents) the neighbours' answers are counted already, and
    their ties are not walked."""
    if complete:
        same = old_counts[a] - (1 if old[i] == a else 0)
        return same / (n - 1) if n > 1 else 0.0
    if indptr[i + 1] > indptr[i]:
        if counts.shape[0] > 0:
            same = np.int64(counts[i, a])
        else:
            same = 0
            for e in range(indptr[i], indptr[i + 1]):
                if old[indices[e]] == a:
                    same += 1
        return same / (indptr[i + 1] - indptr[i])
    return 0.0


@njit(cache=True, parallel=True)
def _choose(stance, committed, old, new, sanction, n_answers, has_dk, conviction, visibility,
            dk_utility, weight, scope_all, temperature, uniform, safe, complete, indptr,
            indices, old_counts, committed_voice, counts, revise):
    """One synchronous pass of the answer rule: ``new`` from ``old`` (every agent
    independently: a parallel loop over blocks of agents). ``counts``: the neighbours'
    answers counted per agent (:func:`_count_answers`), or an empty array to walk the
    ties. ``revise`` < 1: only the agents whose uniform is below it reconsider (the others
    keep ``old``), and their logit draw is that uniform divided by ``revise`` (uniform
    again, given that it is below): one draw per agent for both."""
    n = stance.shape[0]
    k = sanction.shape[0]
    blocks = (n + _BLOCK - 1) // _BLOCK
    for b in prange(blocks):
        util = np.empty(n_answers)
        for i in range(b * _BLOCK, min(n, (b + 1) * _BLOCK)):
            s = stance[i]
            if committed_voice and committed[i]:
                new[i] = s
                continue
            if revise < 1.0 and uniform[i] >= revise:  # keeps the answer it gave
                new[i] = old[i]
                continue
            c = conviction[i]
            v = visibility[i]
            if temperature == 0.0 and not scope_all:
                # the best any other answer can do for i, without looking at neighbours
                other = -np.inf
                for a in range(k):
                    if a != s:
                        u = -(v * sanction[a])
                        if u > other:
                            other = u
                if has_dk and dk_utility[i] > other:
                    other = dk_utility[i]
                own = c - v * sanction[s]
                if own >= other:  # voices its stance whatever the support
                    new[i] = s
                    continue
                own = (c + weight * _support(i, s, old, complete, indptr, indices,
                                             old_counts, n, counts)) - v * sanction[s]
                if own >= other:
                    new[i] = s
                    continue
                for a in range(k):
                    util[a] = -(v * sanction[a])
                util[s] = own
            else:
                for a in range(k):
                    u = -(v * sanction[a])
                    if a == s:
                        u = (c + weight * _support(i, a, old, complete, indptr, indices,
                                                   old_counts, n, counts)) - v * sanction[a]
                    elif scope_all:
                        u = weight * _support(i, a, old, complete, indptr, indices,
                                              old_counts, n, counts) - v * sanction[a]
                    util[a] = u
            if has_dk:
                util[k] = dk_utility[i]
            if temperature == 0.0:
                best = s
                top = util[s]
                if safe >= 0 and util[safe] > top:
                    best = safe
                    top = util[safe]
                for a in range(n_answers):
                    if util[a] > top:
                        best = a
                        top = util[a]
                new[i] = best
            else:
                top = util[0]
                for a in range(1, n_answers):
                    if util[a] > top:
                        top = util[a]
                total = 0.0
                for a in range(n_answers):
                    d = util[a] - top
                    # exp(0) is exactly 1: the best answer's weight costs no exponential
                    util[a] = 1.0 if d == 0.0 else np.exp(d / temperature)
                    total += util[a]
                r = (uniform[i] if revise == 1.0 else uniform[i] / revise) * total
                pick = n_answers - 1
                acc = 0.0
                for a in range(n_answers):
                    acc += util[a]
                    if r < acc:
                        pick = a
                        break
                new[i] = pick
    return new


def express_once(stance: np.ndarray, committed: np.ndarray, expressed: np.ndarray,
                 penalised: np.ndarray, safe: int, enforcement: float, support_weight: float,
                 conviction: np.ndarray, visibility: np.ndarray, network: Network,
                 k: int, committed_always_voice: bool = False) -> np.ndarray:
    """One synchronous pass of the earlier rule (penalised stances at one enforcement, the
    limit case of the answer model); returns the new expressed codes (a new array).
    ``penalised`` is a uint8 mask over stance codes.

    Examples
    --------
    >>> import numpy as np
    >>> from steppe.networks import complete_graph
    >>> st = np.array([0, 0, 1, 1], dtype=np.int8)
    >>> out = express_once(st, np.zeros(4, bool), st.copy(), np.array([1, 0], np.uint8), 1,
    ...                    1.0, 1.0, np.full(4, 0.5), np.ones(4), complete_graph(4), 2)
    >>> out.tolist()   # each A sees 1 of 3 others voicing A: 0.5 + 1/3 < 1, so it hides
    [1, 1, 1, 1]
    """
    sanction = np.where(np.asarray(penalised, dtype=bool), float(enforcement), 0.0)
    return _pass(stance, committed, expressed, sanction, k, False, conviction, visibility,
                 np.zeros(0), support_weight, False, 0.0, np.zeros(0), safe, network,
                 committed_always_voice)


def _pass(stance, committed, old, sanction, n_answers, has_dk, conviction, visibility,
          dk_utility, weight, scope_all, temperature, uniform, safe, network,
          committed_voice, new: np.ndarray | None = None,
          tallied: np.ndarray | None = None, revise: float = 1.0) -> np.ndarray:
    complete, indptr, indices = network.kernel_args()
    # the counts of answers matter on the complete graph only (its support is a share of
    # everyone)
    counts = _tally(old, n_answers) if complete else np.zeros(n_answers, dtype=np.int64)
    if new is None:
        new = np.empty_like(old)
    return _choose(stance, committed, old, new, np.asarray(sanction, dtype=np.float64),
                   n_answers, has_dk, conviction, visibility, dk_utility, float(weight),
                   scope_all, float(temperature), uniform, safe, complete, indptr, indices,
                   counts, bool(committed_voice),
                   _NO_COUNTS if tallied is None else tallied, float(revise))


def answer_probabilities(utilities: np.ndarray, temperature: float) -> np.ndarray:
    """The logit choice probabilities over answers (rows: agents), or, at temperature 0,
    the indicator of the best answer (first one on ties): the rule's reference in NumPy.

    Examples
    --------
    >>> answer_probabilities(np.array([[1.0, 0.0]]), 1.0).round(4).tolist()
    [[0.7311, 0.2689]]
    >>> answer_probabilities(np.array([[0.0, 1.0, 1.0]]), 0.0).tolist()
    [[0.0, 1.0, 0.0]]
    """
    u = np.atleast_2d(np.asarray(utilities, dtype=np.float64))
    if temperature == 0:
        out = np.zeros_like(u)
        out[np.arange(len(u)), np.argmax(u, axis=1)] = 1.0
        return out
    e = np.exp((u - u.max(axis=1, keepdims=True)) / temperature)
    return e / e.sum(axis=1, keepdims=True)


@register
class ExpressionLayer(Pressure):
    """The answer model bound to one run: per-agent convictions, visibilities (and refusal
    utilities), and the current sanctions, support weight and temperature (which events may
    change). Declared by the scenario's ``[expression]`` table; events target
    ``expression.enforcement`` (the sanction of every ``penalised`` stance),
    ``expression.sanction.<stance>``, ``expression.support_weight`` and
    ``expression.temperature``.

    Parameters
    ----------
    model
        The run's model (for stance labels and, for continuous models, opinion values).
    penalised, enforcement
        Stances that are costly to voice, and the sanction on each of them (the earlier
        form; ``sanction`` names them one by one).
    sanction
        Sanction per stance label (negative: a reward); stances in neither are free.
    safe
        The answer preferred on ties after one's own stance (the stance hiders voiced in
        the earlier form), the answer of the ``hidden`` start, and what a refusal is heard
        as by default.
    conviction, visibility
        Per-agent distributions (numbers or distribution tables), >= 0.
    conviction_by_group, visibility_by_group
        Per-group replacements, keyed by network group code.
    conviction_by_age, visibility_by_age
        Factors per age band code (unlisted bands: 1), multiplied in (needs an ``age``
        attribute on the network).
    dont_know
        Utility of refusing to answer (a number or a distribution; may be negative). None:
        refusing is not an answer.
    dont_know_by_group, dont_know_by_age
        Per-group replacements, and shifts per age band code added in.
    heard_as
        The stance a refusal is heard as (default: ``safe``).
    support_weight
        ``w``: how much the share of neighbours voicing an answer is worth.
    reputation
        ``"own"``: only voicing one's own stance earns standing (courage from others);
        ``"all"``: every answer does (Kuran).
    temperature
        0: the best answer; above 0: a logit choice.
    start
        Initial answers: the fixed point from everybody hiding, or from everybody speaking.
    start_rounds
        With a positive temperature: the passes made at the start.
    safe_opinion
        Continuous models: the opinion voiced by those voicing the safe stance when it is
        not theirs (default: middle of the safe stance's interval).
    committed_always_voice
        If True, committed agents voice their stance whatever it costs.
    voiced_precision
        Continuous models whose kernels accept it (``single_voiced``: Friedkin–Johnsen):
        ``"single"`` stores the voiced opinions the neighbours read as float32 (half the
        memory; at full scale the step's walk over the ties 0.05–0.11 s faster, of about
        0.95 s, on a 2-core AMD EPYC). Each is then rounded to a relative 2^-24; since a
        Friedkin–Johnsen step is a contraction, the opinions stay within
        ``2^-24 λ_max / (1 − λ_max)`` of the double-precision run while no opinion falls
        on the other side of a cut-off (tested on the flagship).
    revise
        The share of agents who reconsider their answer in each step (one uniform per
        agent decides, and is reused, rescaled, for the logit choice); the others keep the
        answer they gave. 1 (default): everybody, every step. With daily steps, 1/7 has
        each agent reconsider about once a week, as with weekly steps at 1 (an assumption
        about how often people revise what they say, not a speed setting, though fewer
        changed answers also cost less). The start's passes revise everybody; while the
        layer has no reason to make anyone hide, everybody voices what they hold.
    step_fraction
        h, the share of the period ``revise`` was written for that one sweep stands for
        (``time.rates_per``): each sweep a share ``revise x h`` reconsider, as many per
        period as written. 1 (default): the period is a sweep.

    Notes
    -----
    :meth:`bind` then draws the per-agent values over a network (whose neighbourhoods
    define support).
    """

    field = "expression"
    stage = Stage.VOICE
    stream = Stream.EXPRESSION
    label = "expression"

    def __init__(self, model: Model, *, penalised: Sequence[str] = (), safe: str | None = None,
                 enforcement: float = 0.0, sanction: Mapping[str, float] | None = None,
                 conviction: DistLike = 1.0, visibility: DistLike = 1.0,
                 conviction_by_group: Mapping[int, DistLike] | None = None,
                 visibility_by_group: Mapping[int, DistLike] | None = None,
                 conviction_by_age: Mapping[int, float] | None = None,
                 visibility_by_age: Mapping[int, float] | None = None,
                 dont_know: DistLike | None = None,
                 dont_know_by_group: Mapping[int, DistLike] | None = None,
                 dont_know_by_age: Mapping[int, float] | None = None,
                 heard_as: str | None = None, support_weight: float = 1.0,
                 reputation: Literal["own", "all"] = "own", temperature: float = 0.0,
                 start: Literal["hidden", "open"] = "hidden", start_rounds: int = 50,
                 safe_opinion: float | None = None,
                 committed_always_voice: bool = False,
                 voiced_precision: Literal["double", "single"] = "double",
                 revise: float = 1.0, step_fraction: float = 1.0) -> None:
        if getattr(model, "own_expression", False):
            raise ParameterError(f"model {model.name!r} has expressed opinions of its own; "
                                 "an expression layer cannot be added", field="expression",
                                 given=model.name)
        sanction = dict(sanction or {})
        if not penalised and not sanction and dont_know is None and reputation == "own":
            raise ParameterError("name at least one penalised (or sanctioned) stance, or "
                                 "give agents another reason to answer otherwise (dont_know, "
                                 "reputation = 'all')", field="expression.penalised",
                                 given=list(penalised))
        k = len(model.stances)
        self.k = k
        self.stances = tuple(model.stances)
        self.penal = np.zeros(k, dtype=np.uint8)
        for label in penalised:
            self.penal[_code(model, label, "expression.penalised")] = 1
        self.sanction = np.zeros(k)
        for label, value in sanction.items():
            code = _code(model, label, f"expression.sanction.{label}")
            if self.penal[code]:
                raise ParameterError("a stance is either penalised (at the enforcement) or "
                                     "given its own sanction, not both",
                                     field=f"expression.sanction.{label}", given=label)
            self.sanction[code] = _sanction(f"expression.sanction.{label}", value)
        self._own_sanction = {self.stances.index(lb) for lb in sanction}
        self.safe = -1 if safe is None else _code(model, safe, "expression.safe")
        if self.safe >= 0 and self.penal[self.safe]:
            raise ParameterError("the safe stance cannot be penalised", field="expression.safe",
                                 given=safe)
        if penalised and safe is None:
            raise ParameterError("penalised stances need a safe stance to voice instead",
                                 field="expression.safe", allowed="a stance label")
        if not 0 <= enforcement <= MAX_CONTROL:
            raise ParameterError("enforcement must be >= 0", field="expression.enforcement",
                                 allowed=f"0 <= value <= {MAX_CONTROL:g}", given=enforcement)
        if start not in ("hidden", "open"):
            raise ParameterError("unknown start", field="expression.start",
                                 allowed="'hidden', 'open'", given=start)
        if start == "hidden" and self.safe < 0:
            raise ParameterError("a hidden start needs a safe stance to hide behind",
                                 field="expression.safe", allowed="a stance label (or start "
                                 "= 'open')")
        if reputation not in ("own", "all"):
            raise ParameterError("unknown reputation", field="expression.reputation",
                                 allowed="'own', 'all'", given=reputation)
        if not 0 <= temperature <= MAX_CONTROL:
            raise ParameterError("temperature must be >= 0", field="expression.temperature",
                                 allowed=f"0 <= value <= {MAX_CONTROL:g}", given=temperature)
        if not isinstance(start_rounds, int) or not 1 <= start_rounds <= 10_000:
            raise ParameterError("a number of passes", field="expression.start_rounds",
                                 allowed="1 .. 10000", given=start_rounds)
        if voiced_precision not in ("double", "single"):
            raise ParameterError("unknown precision", field="expression.voiced_precision",
                                 allowed="'double', 'single'", given=voiced_precision)
        if voiced_precision == "single" and not getattr(model, "single_voiced", False):
            raise ParameterError(
                f"model {model.name!r} does not read voiced opinions in single precision",
                field="expression.voiced_precision",
                allowed="'double' (or 'single' with friedkin_johnsen)", given=voiced_precision)
        self.voiced_precision = voiced_precision
        self.revise = share_in_unit(revise, "the share of agents who reconsider their answer "
                                    "in a step", "expression.revise")
        self.step_fraction = step_fraction_of(step_fraction)
        self.enforcement = float(enforcement)
        self.changed = False
        self.support_weight = float(support_weight)
        self.reputation = reputation
        self.temperature = float(temperature)
        self.start_mode = start
        self.start_rounds = start_rounds
        self.committed_always_voice = bool(committed_always_voice)
        self._conviction = (conviction, dict(conviction_by_group or {}))
        self._visibility = (visibility, dict(visibility_by_group or {}))
        self._by_age = {"conviction": dict(conviction_by_age or {}),
                        "visibility": dict(visibility_by_age or {})}
        for what, (spec, by_group) in (("conviction", self._conviction),
                                       ("visibility", self._visibility)):
            checked(spec, 0.0, np.inf, f"expression.{what}")
            for g, sub in by_group.items():
                checked(sub, 0.0, np.inf, f"expression.{what}_by_group.{g}")
            for a, f in self._by_age[what].items():
                if not 0 <= f <= MAX_CONTROL:
                    raise ParameterError("an age band's factor must be >= 0",
                                         field=f"expression.{what}_by_age.{a}",
                                         allowed=f"0 <= factor <= {MAX_CONTROL:g}", given=f)
        self.has_dk = dont_know is not None
        self._dont_know = (dont_know, dict(dont_know_by_group or {}))
        self._dk_by_age = dict(dont_know_by_age or {})
        if self.has_dk:
            checked(dont_know, -MAX_CONTROL, MAX_CONTROL, "expression.dont_know")
            for g, sub in self._dont_know[1].items():
                checked(sub, -MAX_CONTROL, MAX_CONTROL, f"expression.dont_know_by_group.{g}")
            for a, f in self._dk_by_age.items():
                _sanction(f"expression.dont_know_by_age.{a}", f)
        elif dont_know_by_group or dont_know_by_age:
            raise ParameterError("per-group or per-age refusal utilities need dont_know",
                                 field="expression.dont_know", allowed="a number or a "
                                 "distribution")
        if heard_as is not None:
            self.heard_as = _code(model, heard_as, "expression.heard_as")
        elif self.has_dk and safe is None:
            raise ParameterError("a refusal must be heard as some stance",
                                 field="expression.heard_as",
                                 allowed="a stance label (or a safe stance)")
        else:
            self.heard_as = self.safe
        self.answers = (*self.stances, DONT_KNOW) if self.has_dk else self.stances
        self.continuous = model.continuous
        self.safe_opinion = None
        self.voiced_opinion = None
        if model.continuous:
            self.safe_opinion = None
            if self.safe >= 0:
                value = safe_opinion if safe_opinion is not None else model.representative(
                    self.safe)
                lo, hi = model.bounds(self.safe)
                if not lo <= value <= hi:
                    raise ParameterError("safe_opinion outside the safe stance's interval",
                                         field="expression.safe_opinion",
                                         allowed=f"[{lo}, {hi}]", given=value)
                self.safe_opinion = float(value)
            opinions = [model.representative(c) for c in range(k)]
            if self.safe >= 0:
                opinions[self.safe] = self.safe_opinion
            if self.has_dk:
                opinions.append(opinions[self.heard_as])
            self.voiced_opinion = np.array(opinions, dtype=np.float64)
        self._heard_map = np.arange(len(self.answers), dtype=np.int8)
        if self.has_dk:
            self._heard_map[k] = self.heard_as

    @classmethod
    def from_scenario(cls, scenario: LoadedScenario, model: Model) -> list[ExpressionLayer]:
        """The ``[expression]`` table, if any."""
        e = scenario.spec.expression
        if e is None:
            return []
        if getattr(model, "own_expression", False):
            raise scenario.fail(f"model {model.name!r} has expressed opinions of its own",
                                "expression", allowed="no [expression] table")
        stances = ", ".join(repr(s) for s in model.stances)
        for where, labels in (("expression.penalised", e.penalised),
                              ("expression.safe", [e.safe] if e.safe else []),
                              ("expression.heard_as", [e.heard_as] if e.heard_as else [])):
            for label in labels:
                if label not in model.stances:
                    raise scenario.fail(f"unknown stance for model {model.name!r}", where,
                                        allowed=stances, given=label)
        for label in e.sanction:
            if label not in model.stances:
                raise scenario.fail(f"unknown stance for model {model.name!r}",
                                    f"expression.sanction.{label}", allowed=stances,
                                    given=label)
        if e.safe is not None and e.safe in e.penalised:
            raise scenario.fail("the safe stance cannot be penalised", "expression.safe",
                                given=e.safe)
        with scenario.errors():
            return [cls(model, penalised=e.penalised, safe=e.safe,
                        enforcement=e.enforcement, sanction=e.sanction,
                        conviction=e.conviction, visibility=e.visibility,
                        conviction_by_group=scenario.by_group(
                            e.conviction_by_group, "expression.conviction_by_group"),
                        visibility_by_group=scenario.by_group(
                            e.visibility_by_group, "expression.visibility_by_group"),
                        conviction_by_age=scenario.by_age(e.conviction_by_age,
                                                          "expression.conviction_by_age"),
                        visibility_by_age=scenario.by_age(e.visibility_by_age,
                                                          "expression.visibility_by_age"),
                        dont_know=e.dont_know,
                        dont_know_by_group=scenario.by_group(
                            e.dont_know_by_group, "expression.dont_know_by_group"),
                        dont_know_by_age=scenario.by_age(e.dont_know_by_age,
                                                         "expression.dont_know_by_age"),
                        heard_as=e.heard_as, support_weight=e.support_weight,
                        reputation=e.reputation, temperature=e.temperature, start=e.start,
                        start_rounds=e.start_rounds, safe_opinion=e.safe_opinion,
                        committed_always_voice=e.committed_always_voice,
                        voiced_precision=e.voiced_precision, revise=e.revise,
                        step_fraction=scenario.calendar.step_fraction)]

    def controls(self) -> list[Control]:
        out = [number_control(self, "enforcement", "expression.enforcement"),
               number_control(self, "support_weight", "expression.support_weight"),
               number_control(self, "temperature", "expression.temperature")]
        free = set(np.flatnonzero(self.sanction == 0).tolist())
        for code in sorted((self._own_sanction | free) -
                           set(np.flatnonzero(self.penal).tolist())):
            path = f"expression.sanction.{self.stances[code]}"

            def set_(value: object, code: int = code, path: str = path) -> None:
                self.sanction[code] = _sanction(path, value, events=True)

            out.append(Control(path=path, get=lambda code=code: float(self.sanction[code]),
                               set=set_, check=lambda v, path=path: _sanction(path, v,
                                                                             events=True)))
        return out

    def extra_answers(self) -> tuple[str, ...]:
        """"don't know" when refusing is an answer."""
        return (DONT_KNOW,) if self.has_dk else ()

    def bind(self, network: Network, gen: np.random.Generator) -> Self:
        """Draw every agent's conviction and visibility (per group, scaled by age band),
        and its refusal utility when refusing is an answer."""
        try:
            self.conviction = sample_by_group(*self._conviction, network.groups, network.n,
                                              gen, low=0.0)
            self.visibility = sample_by_group(*self._visibility, network.groups, network.n,
                                              gen, low=0.0)
            self.dk_utility = np.zeros(0)
            if self.has_dk:
                self.dk_utility = sample_by_group(*self._dont_know, network.groups,
                                                  network.n, gen, low=-MAX_CONTROL,
                                                  high=MAX_CONTROL)
        except ValueError as exc:
            raise ParameterError(str(exc), field="expression") from None
        if any(self._by_age.values()) or self._dk_by_age:
            attrs = network.attributes or {}
            if "age" not in attrs:
                raise ParameterError("values by age band need a population with ages",
                                     field="expression", given=network.name)
            ages, labels = attrs["age"]
            for what in ("conviction", "visibility"):
                if self._by_age[what]:
                    factor = np.ones(len(labels))
                    for code, f in self._by_age[what].items():
                        factor[code] = f
                    setattr(self, what, getattr(self, what) * factor[ages])
            if self._dk_by_age:
                shift = np.zeros(len(labels))
                for code, f in self._dk_by_age.items():
                    shift[code] = f
                self.dk_utility = self.dk_utility + shift[ages]
        self.gen = gen
        self.network = network
        self._counted: _AnswerCounts | None = None
        return self

    # -- the protocol --------------------------------------------------------------------
    @property
    def quiet(self) -> bool:
        """Quiet while everyone voices what they hold whatever happens (nothing
        sanctioned or rewarded, no refusal, no standing in other answers, no randomness)."""
        return not self.active

    @property
    def voice_view(self) -> bool:
        """While the answers can differ from the views, agents hear only what others
        voice."""
        return self.active

    def settled(self, state: State) -> bool:
        """Nothing more to reveal or hide: the rule is off, or the last pass changed
        nothing (never with a positive temperature)."""
        return not (self.active and (self.changed or self.temperature > 0))

    def apply(self, state: State, world: World) -> None:
        """One synchronous pass of the rule over the ties in force (the neighbours'
        answers counted incrementally, :class:`_AnswerCounts`, where the ties allow)."""
        if not self.active:
            self.update(state, world.active)
            return
        if self._counted is None:
            self._counted = _AnswerCounts(self.network, len(self.answers))
        self.update(state, world.active, self._counted.sync(state, world))

    @property
    def active(self) -> bool:
        """Whether anyone can voice something other than what it holds."""
        return bool(self.enforcement > 0.0 and self.penal.any()) or bool(
            np.any(self.sanction != 0.0)) or self.has_dk or self.temperature > 0.0 or (
            self.reputation == "all" and self.support_weight > 0.0)

    def _sanctions(self) -> np.ndarray:
        return np.where(self.penal.astype(bool), self.enforcement, self.sanction)

    def start(self, state: State, world: World | None = None,
              max_rounds: int = 100_000) -> None:
        """Give the state its own expressed arrays and set them to the starting answers
        (over the whole network the layer was bound to)."""
        state.separate_expression(len(self.answers))
        if self.voiced_precision == "single" and state.opinion is not None and \
                state.expressed_opinion.dtype != np.float32:
            state.expressed_opinion = state.expressed_opinion.astype(np.float32)
        if self.start_mode == "hidden":
            hide = self._sanctions()[state.stance] > 0
            if self.committed_always_voice:
                hide &= ~state.committed
            state.expressed[:] = np.where(hide, self.safe, state.stance)
        else:
            state.expressed[:] = state.stance
        self._finish(state)
        # the start's passes are over the whole bound network (its answers counted)
        full = self.network
        counted = None if full.complete or full.directed else (
            self._counted or _AnswerCounts(full, len(self.answers)))
        self._counted = counted

        def start_pass() -> None:  # everyone reconsiders: the start's equilibrium
            self.update(state, full, None if counted is None or not self.active else
                        counted.follow(state.expressed, None, full), revise=1.0)

        if self.temperature > 0:
            for _ in range(self.start_rounds):
                start_pass()
            return
        for _ in range(max_rounds):
            before = state.expressed.copy()
            start_pass()
            if np.array_equal(before, state.expressed):
                return
        raise RuntimeError("the expression rule did not reach a fixed point")  # pragma: no cover

    def update(self, state: State, network: Network,
               tallied: np.ndarray | None = None, revise: float | None = None) -> None:
        """One synchronous pass of the rule (call once per sweep). ``tallied``: the
        neighbours' answers counted per agent over ``network`` (rows: agents; default:
        walk the ties). ``revise``: the share of agents who reconsider their answer
        (default: the layer's ``revise`` x ``step_fraction``)."""
        if not self.active:
            self.sync(state)
            return
        revise = self.revise * self.step_fraction if revise is None else float(revise)
        if getattr(self, "_buffers", None) is None or len(self._buffers[1]) != state.n:
            self._buffers = (np.empty(state.n), np.empty_like(state.expressed))
        uniform, new = self._buffers
        drawn = self.temperature > 0 or revise < 1.0
        if drawn:
            self.gen.random(out=uniform)  # the same draws as gen.random(n), no new array
        new = _pass(state.stance, state.committed, state.expressed, self._sanctions(),
                    len(self.answers), self.has_dk, self.conviction, self.visibility,
                    self.dk_utility, self.support_weight, self.reputation == "all",
                    self.temperature, uniform if drawn else np.zeros(0),
                    self.safe, network, self.committed_always_voice, new, tallied, revise)
        self.changed = self._finish(state, new)

    def sync(self, state: State) -> None:
        """Everybody voices what they hold."""
        state.expressed[:] = state.stance
        state.expressed_counts[:] = 0
        state.expressed_counts[:self.k] = state.counts
        if state.heard is not state.expressed:
            state.heard[:] = state.stance
            state.heard_counts[:] = state.counts
        if state.opinion is not None and state.expressed_opinion is not state.opinion:
            state.expressed_opinion[:] = state.opinion

    def _finish(self, state: State, new: np.ndarray | None = None) -> bool:
        """Make ``new`` (default: the expressed answers as they are) the expressed answers,
        with their tallies, the answers as heard and the voiced opinions; returns whether
        any answer changed."""
        continuous = self.continuous and state.opinion is not None
        none = np.zeros(0)
        return bool(_commit_all(
            state.expressed if new is None else new, state.expressed,
            state.expressed_counts, state.heard is not state.expressed, self._heard_map,
            state.heard, state.heard_counts, continuous, state.stance,
            state.opinion if continuous else none,
            state.expressed_opinion if continuous else none,
            self.voiced_opinion if continuous else none))


class _AnswerCounts:
    """How many of each agent's neighbours voice each answer, kept up to date between
    passes instead of walking every tie in every pass: about 2% of agents change their
    answer in a day of the flagship, and a walk over 100 million ties is most of a pass.

    The counts are exact integers, so the rule's result is the same bit for bit as with
    the walk (tested). They follow the answers they were counted from (``codes``, compared
    with the expressed answers before each pass: whoever changed them) and the ties in
    force: the full ``network`` among the agents present (:class:`World`'s ``active``).
    Without border flows that is the full network itself; a tie comes or goes only with
    an agent who came or went. The full network must store both directions of each tie
    (undirected); a directed or complete network, or ties in force that are not those of
    the bound network, fall back to the walk.

    Memory: one byte per agent and answer (two above 255 neighbours, four above 65,535),
    plus a copy of the answers and of who is present: 6 bytes per agent with 4 answers.
    """

    #: above this share of agents changing answer, counting again in parallel is cheaper
    RECOUNT = 1 / 8

    def __init__(self, network: Network, answers: int) -> None:
        self.network = network
        self.answers = answers
        self.counts: np.ndarray | None = None
        self.codes = np.zeros(0, dtype=np.int8)
        self.present: np.ndarray | None = None

    def usable(self, state: State, world: World) -> bool:
        """Whether ``world.active`` is the bound network among ``state``'s present agents
        (its ties stored both ways)."""
        full = self.network
        if full.complete or full.directed or world.network is not full:
            return False
        if state.present is None:
            return world.active is full
        return world.active is not full and world.active.n == full.n and \
            not world.active.complete

    def sync(self, state: State, world: World) -> np.ndarray | None:
        """The counts for ``state``'s answers over ``world.active`` (None: walk the
        ties)."""
        if not self.usable(state, world):
            self.counts = None
            return None
        return self.follow(state.expressed, state.present, world.active)

    def follow(self, expressed: np.ndarray, present: np.ndarray | None,
               active: Network) -> np.ndarray:
        """The counts for the answers ``expressed`` over ``active``: the bound network
        among the agents ``present`` (None: all of it)."""
        n = len(expressed)
        if self.counts is None or (self.present is None) != (present is None) or \
                len(self.codes) != n:
            return self._recount(expressed, present, active)
        if present is not None:
            moved = _differing(self.present, present)
            if moved.size:
                _presence_moved(moved, self.present, present, self.codes,
                                self.network.indptr, self.network.indices, self.counts)
                self.present[:] = present
        changed = _differing(self.codes, expressed)
        if changed.size > self.RECOUNT * n:
            return self._recount(expressed, present, active)
        if changed.size:
            _answers_moved(changed, self.codes, expressed, active.indptr, active.indices,
                           self.counts, max(1, numba.get_num_threads()))
        return self.counts

    def _recount(self, expressed: np.ndarray, present: np.ndarray | None,
                 active: Network) -> np.ndarray:
        n = len(expressed)
        if self.counts is None or self.counts.shape != (n, self.answers):
            top = int(np.diff(self.network.indptr).max(initial=0))
            dtype = np.uint8 if top <= 255 else np.uint16 if top <= 65_535 else np.int32
            self.counts = np.empty((n, self.answers), dtype=dtype)
        # into the arrays of the last count where they fit (a recount comes most days once
        # many answers change: no new 20 MB arrays)
        if self.codes.shape == expressed.shape:
            self.codes[:] = expressed
        else:
            self.codes = expressed.copy()
        if present is None or self.present is None or self.present.shape != present.shape:
            self.present = None if present is None else present.copy()
        else:
            self.present[:] = present
        _count_answers(self.codes, active.indptr, active.indices, self.counts)
        return self.counts


def _sanction(field: str, value: object, events: bool = False) -> float:
    """A sanction (or reward, below 0) as a float in [-1e6, 1e6]."""
    if not isinstance(value, int | float) or isinstance(value, bool) or \
            not -MAX_CONTROL <= value <= MAX_CONTROL:
        raise ParameterError("must be a number (below 0: a reward)",
                             field=f"events.{field}" if events else field,
                             allowed=f"{-MAX_CONTROL:g} <= value <= {MAX_CONTROL:g}",
                             given=value)
    return float(value)


def _code(model: Model, label: str, field: str) -> int:
    if label not in model.stances:
        raise ParameterError(f"unknown stance for model {model.name!r}", field=field,
                             allowed=", ".join(repr(s) for s in model.stances), given=label)
    return model.stances.index(label)
