"""Stochastic block model (Holland, Laskey & Leinhardt 1983).

Agents are split into blocks of the given sizes, occupying contiguous id ranges in order
(block 0 is ``0 … sizes[0]-1``, and so on). Each pair of agents in blocks ``a`` and ``b`` is
linked independently with probability ``P[a][b]``. Sampling, per block pair ``a <= b`` in
row-major order: the edge count is drawn from Binomial(N_ab, P[a][b]) (``N_aa = s_a (s_a - 1)
/ 2``, ``N_ab = s_a s_b``), then that many distinct pairs uniformly, exactly as
:func:`~steppe.networks.random_graphs.erdos_renyi` does, so it scales to millions of agents.

``P`` is given either directly (``probabilities``, symmetric, entries in [0, 1]) or through a
mean degree ``d`` and a row-stochastic ``mixing`` matrix, ``mixing[a][b]`` being the expected
fraction of a block-``a`` member's edges that go to block ``b``. Then

    P[a][b] = d · mixing[a][b] / s_b   (a ≠ b),     P[a][a] = d · mixing[a][a] / (s_a − 1),

which makes the expected degree of every agent ``d`` (with ``n ≥ 2`` in every block that
mixes with itself). The expected number of a–b edges counted from either side must agree:
``s_a · mixing[a][b] = s_b · mixing[b][a]``. It is checked with a relative tolerance of
1e-6 (of the larger side) and *not* symmetrised: a mismatch raises
:class:`~steppe.errors.ParameterError` listing the entries that disagree.

Examples
--------
>>> g = stochastic_block_model([50, 50], probabilities=[[0.2, 0.01], [0.01, 0.2]], seed=0)
>>> g.n, g.groups[:3].tolist(), g.groups[-1].item()
(100, [0, 0, 0], 1)
>>> g = stochastic_block_model([100, 300], mean_degree=6,
...                            mixing=[[0.7, 0.3], [0.1, 0.9]], seed=1)
>>> round(g.mean_degree())
6
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ParameterError, check_int, check_real
from ..rng import SeedLike, as_generator
from . import _pairs
from .base import Network

__all__ = ["stochastic_block_model"]

_MAX_N = 2**31 - 1
MIXING_RTOL = 1e-6


def _matrix(name: str, value, b: int) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError("must be a square matrix of numbers", field=name,
                             allowed=f"{b} x {b} numbers", given=value) from None
    if a.shape != (b, b):
        raise ParameterError(f"must be {b} x {b} (one row and column per block)", field=name,
                             allowed=f"shape ({b}, {b})", given=a.shape)
    if not np.all(np.isfinite(a)):
        raise ParameterError("entries must be finite", field=name, allowed="finite numbers",
                             given=value)
    return a


def _probabilities_from_mixing(sizes: np.ndarray, d: float, mix: np.ndarray) -> np.ndarray:
    b = len(sizes)
    if np.any(mix < 0):
        raise ParameterError("entries must be >= 0", field="mixing", allowed=">= 0",
                             given=mix.tolist())
    rows = mix.sum(axis=1)
    bad = [a for a in range(b) if abs(rows[a] - 1.0) > MIXING_RTOL]
    if bad:
        raise ParameterError("each row must sum to 1 (fractions of a member's edges)",
                             field="mixing", allowed="row sums 1",
                             given={f"row {a}": float(rows[a]) for a in bad})
    problems = []
    for a in range(b):
        for c in range(a + 1, b):
            x = sizes[a] * mix[a, c]
            y = sizes[c] * mix[c, a]
            if abs(x - y) > MIXING_RTOL * max(abs(x), abs(y)):
                problems.append(f"sizes[{a}]*mixing[{a}][{c}] = {x:g} but "
                                f"sizes[{c}]*mixing[{c}][{a}] = {y:g}")
    if problems:
        raise ParameterError(
            "mixing is inconsistent with sizes: expected edges between two blocks must agree "
            "from both sides (" + "; ".join(problems) + ")",
            field="mixing", allowed="sizes[a]*mixing[a][b] == sizes[b]*mixing[b][a]")
    p = np.zeros((b, b))
    for a in range(b):
        for c in range(b):
            if mix[a, c] == 0:
                continue
            denom = sizes[c] - 1 if a == c else sizes[c]
            if denom <= 0:
                raise ParameterError(f"block {a} has one member but mixing[{a}][{a}] > 0",
                                     field="mixing", allowed="0 on the diagonal of size-1 "
                                     "blocks", given=float(mix[a, c]))
            p[a, c] = d * mix[a, c] / denom
    # symmetric up to rounding (checked above); use the upper triangle
    p = np.triu(p) + np.triu(p, 1).T
    if np.any(p > 1 + 1e-12):
        a, c = np.argwhere(p > 1 + 1e-12)[0]
        raise ParameterError(f"implies an edge probability above 1 between blocks {a} and {c}"
                             f" ({p[a, c]:g}); lower mean_degree", field="mean_degree",
                             allowed="mean_degree * mixing[a][b] <= sizes[b]", given=d)
    return np.minimum(p, 1.0)


def stochastic_block_model(
    sizes: Sequence[int],
    *,
    probabilities: Sequence[Sequence[float]] | np.ndarray | None = None,
    mean_degree: float | None = None,
    mixing: Sequence[Sequence[float]] | np.ndarray | None = None,
    seed: SeedLike,
) -> Network:
    """Stochastic block model with contiguous blocks, from probabilities or mean degree and
    mixing.

    Parameters
    ----------
    sizes : sequence of int
        Block sizes (each >= 1); block ``a`` holds ids ``sum(sizes[:a]) …``.
    probabilities : matrix, optional
        Symmetric ``B x B`` edge probabilities in [0, 1]. Give either this or
        ``mean_degree`` and ``mixing``.
    mean_degree : float, optional
        Expected degree of every agent (with ``mixing``).
    mixing : matrix, optional
        Row-stochastic ``B x B``; ``mixing[a][b]`` is the expected fraction of a block-``a``
        member's edges going to block ``b``. Must satisfy
        ``sizes[a]*mixing[a][b] == sizes[b]*mixing[b][a]`` (relative tolerance 1e-6).
    seed : int, SeedSequence or Generator
        Source of randomness.

    Returns
    -------
    Network
        Undirected, ``name="sbm"``, ``groups`` = int32 block of each agent.

    Raises
    ------
    ParameterError
        For bad sizes, a non-symmetric or out-of-range probability matrix, an inconsistent
        mixing matrix, or both / neither ways of giving the probabilities.

    Examples
    --------
    >>> g = stochastic_block_model([3, 2], probabilities=[[1, 0], [0, 1]], seed=0)
    >>> g.n_edges, g.groups.tolist()
    (4, [0, 0, 0, 1, 1])
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or len(sizes) == 0:
        raise ParameterError("must be a non-empty list of positive block sizes", field="sizes",
                             allowed="list of integers >= 1", given=sizes)
    sz = np.array([check_int(f"sizes[{a}]", s, 1, _MAX_N) for a, s in enumerate(sizes)],
                  dtype=np.int64)
    n = int(sz.sum())
    if n > _MAX_N:
        raise ParameterError("too many agents for int32 ids", field="sizes",
                             allowed="sum < 2**31", given=n)
    b = len(sz)
    if probabilities is not None:
        if mean_degree is not None or mixing is not None:
            raise ParameterError("give either probabilities, or mean_degree and mixing, not "
                                 "both", field="probabilities")
        p = _matrix("probabilities", probabilities, b)
        if np.any(p < 0) or np.any(p > 1):
            raise ParameterError("entries must be probabilities", field="probabilities",
                                 allowed="[0, 1]", given=p.tolist())
        if not np.array_equal(p, p.T):
            a, c = np.argwhere(p != p.T)[0]
            raise ParameterError(f"must be symmetric (entry [{a}][{c}] = {p[a, c]:g} but "
                                 f"[{c}][{a}] = {p[c, a]:g})", field="probabilities",
                                 allowed="symmetric matrix", given=p.tolist())
        params = {"sizes": sz.tolist(), "probabilities": p.tolist()}
    else:
        if mean_degree is None or mixing is None:
            raise ParameterError("give probabilities, or both mean_degree and mixing",
                                 field="mean_degree" if mean_degree is None else "mixing",
                                 allowed="a number" if mean_degree is None else "a matrix",
                                 given=None)
        d = check_real("mean_degree", mean_degree, 0.0, float(max(n - 1, 0)))
        mix = _matrix("mixing", mixing, b)
        p = _probabilities_from_mixing(sz, d, mix)
        params = {"sizes": sz.tolist(), "mean_degree": d, "mixing": mix.tolist(),
                  "probabilities": p.tolist()}
    rng = as_generator(seed)
    off = np.concatenate([[0], np.cumsum(sz)[:-1]]).astype(np.int64)
    specs = []
    for a in range(b):
        for c in range(a, b):
            spec = (int(off[a]), int(sz[a]), int(off[c]), int(sz[c]))
            total = _pairs.n_pairs(spec)
            m = int(rng.binomial(total, p[a, c])) if total > 0 and p[a, c] > 0 else 0
            specs.append((*spec, m))
    ptr, idx = _pairs.sample_pairs_csr(n, specs, rng)
    groups = np.repeat(np.arange(b, dtype=np.int32), sz)
    return Network.from_csr(ptr, idx, name="sbm", groups=groups, params=params)
