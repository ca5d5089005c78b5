"""The state of a run: everything that changes during it, as plain arrays.

:class:`State` sits below models, pressures and the engine: update rules change it in
place, pressures read and write it between sweeps, observers read it. It holds no Python
object per agent.

Examples
--------
>>> import numpy as np
>>> st = State(stance=np.array([0, 1, 1], np.int8), committed=np.zeros(3, bool),
...            counts=np.array([1, 2]), rng=np.zeros(4, np.uint64))
>>> st.n, st.shares().tolist()
(3, [0.3333333333333333, 0.6666666666666666])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

__all__ = ["State"]

#: the presence mask of a run without border flows: empty, "everyone is present" (it has
#: no element to change)
_EVERYONE = np.zeros(0, dtype=np.bool_)


@dataclass
class State:
    """Everything that changes during a run, as plain arrays.

    Private and expressed stances: ``stance`` (and ``opinion`` for continuous models) is what
    each agent privately holds; ``expressed`` (and ``expressed_opinion``) is what it voices.
    Update rules change private stances and read the neighbours' *voiced* stances through
    ``seen`` / ``seen_counts`` / ``seen_opinion``. Without an expression layer (or while its
    enforcement is zero) all of these are the very same arrays as the private ones, so every
    model runs exactly as published; the engine points ``seen`` at ``expressed`` only while
    an enforcement is in force.

    Attributes
    ----------
    stance : numpy.ndarray
        int8 private stance code of every agent (an index into the model's ``stances``).
    committed : numpy.ndarray
        bool; committed agents never change their private stance.
    counts : numpy.ndarray
        int64 number of agents privately holding each stance, kept current by the kernels.
    rng : numpy.ndarray
        uint64[4] xoshiro256** state of this run (see :mod:`steppe.rng`).
    aux : dict
        Model-specific per-agent arrays (e.g. a memory), allocated by ``init_aux``.
    time : float
        Elapsed time in sweeps.
    opinion : numpy.ndarray or None
        float64 private opinion of continuous models (``stance`` is then its category).
    expressed, expressed_counts, expressed_opinion
        What agents voice (their *answer*), and how many give each answer (aliases of the
        private arrays when there is no expression layer). With a "don't know / refuse"
        answer, ``expressed`` holds its code (the number of stances) and ``expressed_counts``
        has one more entry.
    heard, heard_counts
        What the neighbours hear, as stance codes: ``expressed`` with "don't know" replaced
        by the stance it is heard as (the same array as ``expressed`` without such an
        answer).
    seen, seen_counts, seen_opinion
        What kernels read for other agents: the private arrays or the heard ones.
    present : numpy.ndarray or None
        With border flows: bool, the agents in the country now. Absent agents (arrivals yet
        to come, leavers) are frozen (``committed`` is set for them), have no ties in the
        network the kernels see, and are left out of every count reported; ``counts`` still
        covers all agents. None: everyone is present.
    """

    stance: np.ndarray
    committed: np.ndarray
    counts: np.ndarray
    rng: np.ndarray
    aux: dict[str, np.ndarray] = field(default_factory=dict)
    time: float = 0.0
    opinion: np.ndarray | None = None
    expressed: np.ndarray = None  # type: ignore[assignment]
    expressed_counts: np.ndarray = None  # type: ignore[assignment]
    expressed_opinion: np.ndarray | None = None
    heard: np.ndarray = None  # type: ignore[assignment]
    heard_counts: np.ndarray = None  # type: ignore[assignment]
    seen: np.ndarray = None  # type: ignore[assignment]
    seen_counts: np.ndarray = None  # type: ignore[assignment]
    seen_opinion: np.ndarray | None = None
    present: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.expressed is None:
            self.expressed = self.stance
        if self.expressed_counts is None:
            self.expressed_counts = self.counts
        if self.expressed_opinion is None:
            self.expressed_opinion = self.opinion
        if self.heard is None:
            self.heard = self.expressed
            self.heard_counts = self.expressed_counts
        self.see_private()

    @property
    def n(self) -> int:
        return int(self.stance.shape[0])

    def present_mask(self) -> np.ndarray:
        """Who is present, as the kernels take it: ``present``, or an empty mask when
        everyone is (no border flows).

        Examples
        --------
        >>> st = State(stance=np.zeros(2, np.int8), committed=np.zeros(2, bool),
        ...            counts=np.array([2]), rng=np.zeros(4, np.uint64))
        >>> st.present_mask().shape
        (0,)
        """
        return _EVERYONE if self.present is None else self.present

    @property
    def live(self) -> bool:
        """True when others are seen as they privately are (no enforcement in force)."""
        return self.seen is self.stance

    def see_private(self) -> None:
        """Kernels read the private arrays (no enforcement in force)."""
        self.seen = self.stance
        self.seen_counts = self.counts
        self.seen_opinion = self.opinion

    def see_expressed(self) -> None:
        """Kernels read what agents voice (as heard: stance codes)."""
        self.seen = self.heard
        self.seen_counts = self.heard_counts
        self.seen_opinion = self.expressed_opinion

    def separate_expression(self, answers: int | None = None) -> None:
        """Give the expressed stances arrays of their own (for an expression layer).

        ``answers``: the number of answers when it exceeds the number of stances (a "don't
        know" answer); ``heard`` then gets arrays of its own too."""
        if self.expressed is self.stance:
            self.expressed = self.stance.copy()
            self.expressed_counts = self.counts.copy()
            if self.opinion is not None:
                self.expressed_opinion = self.opinion.copy()
            self.heard, self.heard_counts = self.expressed, self.expressed_counts
        k = len(self.counts)
        if answers is not None and answers > k and len(self.expressed_counts) != answers:
            self.expressed_counts = np.zeros(answers, dtype=np.int64)
            self.expressed_counts[:k] = self.heard_counts
            self.heard = self.expressed.copy()
        self.see_private()

    def voice_own(self, who: np.ndarray) -> None:
        """Agents ``who`` voice what they privately hold (e.g. on arriving), every
        expressed array and count kept current."""
        if self.expressed is self.stance:
            return
        codes = self.stance[who]
        ka, k = len(self.expressed_counts), len(self.heard_counts)
        self.expressed_counts -= np.bincount(self.expressed[who], minlength=ka)[:ka]
        self.expressed[who] = codes
        self.expressed_counts += np.bincount(codes, minlength=ka)[:ka]
        if self.heard is not self.expressed:
            self.heard_counts -= np.bincount(self.heard[who], minlength=k)[:k]
            self.heard[who] = codes
            self.heard_counts += np.bincount(codes, minlength=k)[:k]
        if (self.expressed_opinion is not None and self.opinion is not None
                and self.expressed_opinion is not self.opinion):
            self.expressed_opinion[who] = self.opinion[who]

    @property
    def n_present(self) -> int:
        """Number of agents present (all of them without border flows)."""
        return self.n if self.present is None else int(np.count_nonzero(self.present))

    def present_counts(self, expressed: bool = False) -> np.ndarray:
        """Agents present privately holding (or voicing) each stance.

        Examples
        --------
        >>> st = State(stance=np.array([0, 1, 1], np.int8), committed=np.zeros(3, bool),
        ...            counts=np.array([1, 2]), rng=np.zeros(4, np.uint64))
        >>> st.present = np.array([True, True, False])
        >>> st.present_counts().tolist(), st.n_present
        ([1, 1], 2)
        """
        counts = self.expressed_counts if expressed else self.counts
        if self.present is None:
            return counts
        out = np.zeros(len(counts), dtype=np.int64)
        _count_present(self.expressed if expressed else self.stance, self.present, out)
        return out

    def shares(self) -> np.ndarray:
        """Share of present agents privately holding each stance."""
        return self.present_counts() / self.n_present

    def recount(self, k: int) -> None:
        """Recompute ``counts`` from ``stance`` (after editing stances by hand)."""
        self.counts[:] = np.bincount(self.stance, minlength=k)[:k]


@njit(cache=True)
def _count_present(codes, present, out):
    for i in range(codes.shape[0]):
        if present[i]:
            out[codes[i]] += 1
