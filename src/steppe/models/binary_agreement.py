"""Binary agreement: the two-word naming game, with committed agents.

Rule, as implemented (Xie et al. 2011; Baronchelli et al. 2006 restricted to two words):
stances are ``A``, ``B`` and ``AB`` (an agent holding both words). One interaction: pick a
uniformly random speaker, then a uniformly random neighbour of it as the listener (on the
complete graph, any other agent). The speaker voices its word; an ``AB`` speaker voices
``A`` or ``B`` with probability ½ each. If the listener's state contains the voiced word
(it is that word or ``AB``), the listener collapses to the voiced word, and — with
``collapse = "both"`` — so does the speaker; with ``collapse = "listener_only"`` the
speaker keeps its state (Baronchelli, Dall'Asta, Barrat & Loreto 2007). Otherwise the
listener adds the word (``A`` hearing ``B`` or ``B`` hearing ``A`` becomes ``AB``).
Committed agents (normally committed to ``A``) never change their state; they still speak
and listen. Speakers without neighbours do nothing. One time unit = N interactions.
Consensus means everyone holds ``A`` or everyone holds ``B``.

Private and expressed stances: the speaker voices the word of its voiced state
``state.seen[speaker]`` (an ``AB`` there voices ``A`` or ``B`` at random) — without an
expression layer that is its private state, exactly as above —, and the listener's private
state changes as above; on success the speaker's private state collapses to the word only if
it contains it (always the case without an expression layer: a speaker voicing a word it
does not privately hold keeps its private state).

With a fraction p of agents committed to A and everyone else starting at B, the mean-field
critical fraction is p_c ≈ 0.0979 for ``"both"`` (Xie et al. 2011) and about 0.072 for
``"listener_only"``: below it a B-majority state survives for a time exponential in N,
above it the committed minority wins in a time ~ ln N.

References: J. Xie, S. Sreenivasan, G. Korniss, W. Zhang, C. Lim, B. K. Szymanski, Phys.
Rev. E 84, 011130 (2011); A. Baronchelli, M. Felici, V. Loreto, E. Caglioti, L. Steels,
J. Stat. Mech. P06014 (2006); A. Baronchelli, L. Dall'Asta, A. Barrat, V. Loreto, Phys.
Rev. E 76, 051102 (2007).

Examples
--------
>>> from steppe.models import get_model
>>> from steppe.networks import complete_graph
>>> from steppe.engine.state import Committed, init_state
>>> m = get_model("binary_agreement")()
>>> g = complete_graph(500)
>>> st = init_state(m, g, committed=Committed(stance="A", fraction=0.2), seed=0)
>>> st.counts.tolist()
[100, 400, 0]
>>> dt = m.advance(st, g, sweeps=200, stop_at_consensus=True)
>>> st.counts.tolist(), dt < 200
([500, 0, 0], True)
"""

from __future__ import annotations

from typing import ClassVar, Literal

from numba import njit

from ..networks.base import Network, random_neighbor
from ..rng import randint
from ..state import State
from .base import Model, ModelParams, register

__all__ = ["BinaryAgreement"]

_AB = 2


class BinaryAgreementParams(ModelParams):
    collapse: Literal["both", "listener_only"] = "both"
    """Who collapses to the voiced word on success: speaker and listener (Xie et al. 2011)
    or the listener only (Baronchelli et al. 2007)."""


@njit(cache=True)
def _binary_agreement(stance, seen, committed, counts, complete, indptr, indices, both,
                      n_updates, stop, cmask, s):
    n = stance.shape[0]
    for u in range(n_updates):
        sp = randint(s, n)
        li = random_neighbor(s, sp, n, complete, indptr, indices)
        if li < 0:
            continue
        # the voiced word: from the speaker's voiced state (its private state when seen is
        # stance); an AB speaker voices A or B at random
        w = seen[sp]
        if w == _AB:
            w = randint(s, 2)
        ss = stance[sp]
        ls = stance[li]
        changed = False
        if ls == w or ls == _AB:
            if ls != w and not committed[li]:
                stance[li] = w
                counts[ls] -= 1
                counts[w] += 1
                changed = True
            if both and ss == _AB and not committed[sp]:
                stance[sp] = w
                counts[ss] -= 1
                counts[w] += 1
                changed = True
            if changed and stop and cmask[w] and counts[w] == n:
                return u + 1
        elif not committed[li]:
            stance[li] = _AB
            counts[ls] -= 1
            counts[_AB] += 1
    return n_updates


@register
class BinaryAgreement(Model):
    """Binary agreement (two-word naming game) with committed agents.

    Examples
    --------
    >>> BinaryAgreement().params.collapse
    'both'
    >>> BinaryAgreement(collapse="speaker")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    steppe.errors.ParameterError: binary_agreement.collapse: ...
    """

    name = "binary_agreement"
    title = "Binary agreement (two-word naming game)"
    summary = (
        "A random speaker voices its word (an undecided AB speaker picks one at random); a "
        "listener who knows it collapses to it, with the speaker (unless listener_only); "
        "otherwise the listener adds it and becomes AB."
    )
    references = (
        "Xie, Sreenivasan, Korniss, Zhang, Lim & Szymanski 2011, Phys. Rev. E 84, 011130",
        "Baronchelli, Felici, Loreto, Caglioti & Steels 2006, J. Stat. Mech. P06014",
        "Baronchelli, Dall'Asta, Barrat & Loreto 2007, Phys. Rev. E 76, 051102 "
        "(listener-only collapse)",
    )
    stances = ("A", "B", "AB")
    consensus_stances = (0, 1)
    default_initial: ClassVar[dict[str, float]] = {"B": 1.0}
    Params = BinaryAgreementParams

    def advance(self, state: State, network: Network, sweeps: int,
                stop_at_consensus: bool) -> float:
        complete, indptr, indices = network.kernel_args()
        both = self.params.collapse == "both"
        n_updates = sweeps * state.n
        done = _binary_agreement(state.stance, state.seen, state.committed, state.counts,
                                 complete, indptr, indices, both, n_updates, stop_at_consensus,
                                 self.consensus_mask(), state.rng)
        return done / state.n
