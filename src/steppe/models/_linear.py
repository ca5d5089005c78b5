"""Shared parts of the linear averaging models (Friedkin–Johnsen and EPO): influence weights,
the synchronous Numba kernels, per-agent parameters.

Influence weights, exactly as implemented. Row ``i`` of the row-stochastic matrix ``W`` is

- ``w_ii = self_weight`` (or ``1 / (k_i + 1)`` when ``self_weight`` is None, ``k_i`` the
  number of neighbours of ``i``): how much ``i`` weighs its own current private opinion;
- ``w_ij = (1 − w_ii) a_ij / Σ_l a_il`` for each neighbour ``j``, where ``a_ij`` is the
  network's weight of the entry ``i → j`` (``network.weights``, aligned with ``indices``)
  or 1 on an unweighted network. With ``self_weight`` None on an unweighted network every
  row is uniform over the agent and its neighbours.
- An agent without neighbours (or whose neighbour weights are all zero) has ``w_ii = 1``.
- On the implicit complete graph ``w_ij = (1 − w_ii) / (n − 1)`` for every ``j ≠ i``
  (``1/n`` for everyone, self included, by default); the neighbour sum is computed in O(1)
  per agent from the total, so a step costs O(N).

Examples
--------
>>> from steppe.networks import complete_graph
>>> selfw, nbw = influence_weights(complete_graph(4), None)
>>> selfw.tolist(), nbw.tolist()
([0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25])
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import numpy as np
from numba import njit, prange
from pydantic import Field, ValidationError

from ..distributions import Distribution, checked, sample
from ..errors import ParameterError
from ..networks._prefetch import AHEAD, prefetch
from ..networks.base import Network
from ..state import State
from .base import ContinuousModel, ModelParams, parameter_error_from

__all__ = ["LinearModel", "UnitDist", "influence_matrix", "influence_weights"]

#: a number in [0, 1] (everyone the same) or a distribution table (draws clipped to [0, 1])
UnitDist = Annotated[float, Field(ge=0, le=1)] | Distribution

_UNIT_ALLOWED = "number in [0, 1], or a distribution table (draws clipped to [0, 1])"


@njit(cache=True)
def _row_weights(indptr, a, self_weight, s, nbw):
    """Self weights and neighbour weights row by row (``a`` empty: unweighted); an agent
    without (weighted) neighbours keeps all the weight on itself."""
    n = indptr.shape[0] - 1
    weighted = a.shape[0] > 0
    for i in range(n):
        lo, hi = indptr[i], indptr[i + 1]
        rowsum = 0.0
        for e in range(lo, hi):
            rowsum += a[e] if weighted else 1.0
        if rowsum > 0:
            si = 1.0 / (hi - lo + 1.0) if self_weight < 0 else self_weight
            scale = (1.0 - si) / rowsum
        else:
            si = 1.0
            scale = 0.0
        s[i] = si
        for e in range(lo, hi):
            nbw[e] = (a[e] if weighted else 1.0) * scale


def influence_weights(network: Network, self_weight: float | None) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """The influence weights as kernel arrays: ``(selfw, nbw)``.

    ``selfw[i] = w_ii``. On a stored network ``nbw`` is aligned with ``network.indices``
    (``nbw[e] = w_{i, indices[e]}``); on the implicit complete graph ``nbw[i]`` is the weight
    ``(1 − w_ii)/(n − 1)`` that ``i`` gives to every other agent.

    Parameters
    ----------
    network : Network
        Weighted (``network.weights``) or not.
    self_weight : float or None
        ``w_ii`` for every agent with neighbours; None: ``1 / (k_i + 1)``.

    Returns
    -------
    tuple of numpy.ndarray
        float64 ``selfw`` (n,) and ``nbw`` (n,) on the complete graph, (edges,) otherwise.

    Raises
    ------
    ParameterError
        If the network carries negative or non-finite weights.

    Examples
    --------
    >>> import numpy as np
    >>> from steppe.networks import Network
    >>> g = Network.from_csr(np.array([0, 1, 3, 4]), np.array([1, 0, 2, 1]))
    >>> selfw, nbw = influence_weights(g, 0.5)
    >>> selfw.tolist(), nbw.tolist()
    ([0.5, 0.5, 0.5], [0.5, 0.25, 0.25, 0.5])
    """
    n = network.n
    if network.complete:
        s = np.full(n, 1.0 / n if self_weight is None else float(self_weight))
        return s, (1.0 - s) / (n - 1)
    weights = getattr(network, "weights", None)
    if weights is None:
        a = np.ones(0, dtype=np.float64)  # unweighted: every entry weighs 1
    else:
        a = np.asarray(weights, dtype=np.float64)
        if a.shape != network.indices.shape or not np.all(np.isfinite(a)) or np.any(a < 0):
            raise ParameterError("influence weights must be finite and non-negative, one per "
                                 "stored edge", field="network.weights", allowed=">= 0",
                                 given=None if a.shape != network.indices.shape
                                 else float(a.min()))
    s = np.empty(n)
    nbw = np.empty(len(network.indices), dtype=np.float64)
    _row_weights(network.indptr, a, -1.0 if self_weight is None else float(self_weight), s,
                 nbw)
    return s, nbw


def kernel_weights(network: Network, self_weight: float | None,
                   out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The weights as the kernels take them: :func:`influence_weights`, except that on an
    unweighted stored network ``nbw`` is empty (every neighbour of i weighs
    ``(1 − w_ii) / k_i``, computed in the kernel), saving 8 bytes per stored edge. The
    self weights of an unweighted stored network are written into ``out`` when it is a
    float64 array of one value per agent (after each border flow at full scale, a new
    160 MB array cost 0.2 s of fresh memory pages a day).

    Examples
    --------
    >>> from steppe.networks import lattice
    >>> selfw, nbw = kernel_weights(lattice((4,)), None)
    >>> selfw.round(3).tolist(), nbw.size
    ([0.333, 0.333, 0.333, 0.333], 0)
    """
    if network.complete or getattr(network, "weights", None) is not None:
        return influence_weights(network, self_weight)
    fits = out is not None and out.shape == (network.n,) and out.dtype == np.float64 \
        and out.flags.c_contiguous and out.flags.writeable
    s = out if fits else np.empty(network.n)
    _self_weights(network.indptr, -1.0 if self_weight is None else float(self_weight), s)
    return s, np.zeros(0, dtype=np.float64)


@njit(cache=True, parallel=True)
def _self_weights(indptr, self_weight, out):
    """``w_ii``: 1 without neighbours, else ``self_weight``, or ``1 / (k_i + 1)`` when it
    is negative (unset); one pass over the row starts (after every border flow)."""
    for i in prange(out.shape[0]):
        k = indptr[i + 1] - indptr[i]
        if k == 0:
            out[i] = 1.0
        elif self_weight < 0.0:
            out[i] = 1.0 / (k + 1.0)
        else:
            out[i] = self_weight


def influence_matrix(network: Network, selfw: np.ndarray, nbw: np.ndarray):
    """``W`` as a scipy CSR array (self weights on the diagonal), for direct solutions.

    Examples
    --------
    >>> from steppe.networks import complete_graph
    >>> g = complete_graph(3)
    >>> influence_matrix(g, *influence_weights(g, None)).toarray().sum(axis=1).tolist()
    [1.0, 1.0, 1.0]
    """
    import scipy.sparse as sp

    n = network.n
    if not network.complete and nbw.size == 0 and network.indices.size:
        deg = np.diff(network.indptr)
        share = np.where(deg > 0, (1.0 - selfw) / np.maximum(deg, 1), 0.0)
        nbw = np.repeat(share, deg)
    if network.complete:
        dense = np.repeat(nbw[:, None], n, axis=1)
        dense[np.arange(n), np.arange(n)] = selfw
        return sp.csr_array(dense)
    off = sp.csr_array((nbw, network.indices, network.indptr), shape=(n, n))
    return (off + sp.diags_array(selfw)).tocsr()


@njit(cache=True, inline="always")
def _neighbour_sum(i, seen, complete, indptr, indices, nbw, total, selfw):
    """Σ_j w_ij x̂_j. ``nbw`` empty: an unweighted network, whose neighbours share
    ``1 − w_ii`` equally (no per-edge array: 8 bytes per edge saved). Inlined into the
    kernels' loops: as a call per agent it made the Friedkin–Johnsen step a third slower
    (a walk over 200 million tie ends, 1.55 s against 1.02 s; benchmarks/README.md). The
    walk asks for the value :data:`~steppe.networks._prefetch.AHEAD` ties ahead."""
    if complete:
        return nbw[i] * (total - seen[i])
    acc = 0.0
    lo, hi = indptr[i], indptr[i + 1]
    last = indptr[indptr.shape[0] - 1]
    if nbw.shape[0] == 0:
        if hi == lo:
            return 0.0
        for e in range(lo, hi):
            if e + AHEAD < last:  # ask for the value a few ties on (no result changes)
                prefetch(seen, indices[e + AHEAD])
            acc += seen[indices[e]]
        return acc * (1.0 - selfw[i]) / (hi - lo)
    for e in range(lo, hi):
        if e + AHEAD < last:
            prefetch(seen, indices[e + AHEAD])
        acc += nbw[e] * seen[indices[e]]
    return acc


@njit(cache=True)
def _category(v, cutoffs):
    c = 0
    for k in range(cutoffs.shape[0]):
        if v >= cutoffs[k]:
            c = k + 1
    return c


@njit(cache=True, parallel=True)
def _fj_kernel(x, seen, committed, x0, lam, selfw, nbw, complete, indptr, indices, buf,
               steps, stop, tol, cutoffs, cmask, delta, inplace, h):
    """``steps`` synchronous Friedkin–Johnsen steps; returns the steps done (fewer when
    ``stop`` and the opinions converged or reached consensus). ``inplace``: the
    neighbours' values ``seen`` are not ``x`` (they are voiced opinions), so each new
    opinion is written at once, in the pass that computes it (one pass over the agents
    instead of two; the same values). ``h`` < 1: each opinion moves the share h of the way
    to the step's value, ``x + h (v − x)`` (``h = 1``: ``v`` itself, bit for bit)."""
    n = x.shape[0]
    for t in range(steps):
        total = 0.0
        if complete:
            for j in range(n):
                total += seen[j]
        maxd = 0.0
        lo = np.inf
        hi = -np.inf
        if inplace:
            for i in prange(n):  # max and min reductions: exact whatever the thread count
                v = x[i]
                if not committed[i]:
                    nb = _neighbour_sum(i, seen, complete, indptr, indices, nbw, total, selfw)
                    v = lam[i] * (selfw[i] * x[i] + nb) + (1.0 - lam[i]) * x0[i]
                    if h != 1.0:
                        v = x[i] + h * (v - x[i])
                maxd = max(maxd, abs(v - x[i]))
                x[i] = v
                lo = min(lo, v)
                hi = max(hi, v)
        else:
            for i in prange(n):  # every agent from the previous step's opinions: parallel
                if committed[i]:
                    buf[i] = x[i]
                else:
                    nb = _neighbour_sum(i, seen, complete, indptr, indices, nbw, total, selfw)
                    v = lam[i] * (selfw[i] * x[i] + nb) + (1.0 - lam[i]) * x0[i]
                    buf[i] = v if h == 1.0 else x[i] + h * (v - x[i])
            for i in prange(n):  # max and min reductions: exact whatever the thread count
                v = buf[i]
                maxd = max(maxd, abs(v - x[i]))
                x[i] = v
                lo = min(lo, v)
                hi = max(hi, v)
        delta[0] = maxd
        if stop:
            c = _category(lo, cutoffs)
            if maxd < tol or (c == _category(hi, cutoffs) and cmask[c]):
                return t + 1
    return steps


@njit(cache=True)
def _epo_kernel(x, xh, committed, x0, lam, phi, selfw, nbw, complete, indptr, indices, buf,
                bufh, steps, stop, tol, cutoffs, cmask, delta):
    """``steps`` synchronous EPO steps (``xh`` is the expressed opinion, read and written);
    returns the steps done."""
    n = x.shape[0]
    for t in range(steps):
        total = 0.0
        if complete:
            for j in range(n):
                total += xh[j]
        for i in range(n):
            if committed[i]:
                buf[i] = x[i]
                bufh[i] = x[i]
                continue
            nb = _neighbour_sum(i, xh, complete, indptr, indices, nbw, total, selfw)
            v = lam[i] * (selfw[i] * x[i] + nb) + (1.0 - lam[i]) * x0[i]
            buf[i] = v
            bufh[i] = phi[i] * v + (1.0 - phi[i]) * (selfw[i] * xh[i] + nb)
        maxd = 0.0
        lo = np.inf
        hi = -np.inf
        for i in range(n):
            d = max(abs(buf[i] - x[i]), abs(bufh[i] - xh[i]))
            if d > maxd:
                maxd = d
            x[i] = buf[i]
            xh[i] = bufh[i]
            lo = min(lo, buf[i])
            hi = max(hi, buf[i])
        delta[0] = maxd
        if stop:
            c = _category(lo, cutoffs)
            if maxd < tol or (c == _category(hi, cutoffs) and cmask[c]):
                return t + 1
    return steps


class LinearModel(ContinuousModel):
    """Common machinery of Friedkin–Johnsen and EPO (not registered itself)."""

    #: fields holding a per-agent value in [0, 1] or a distribution
    _unit_fields: ClassVar[tuple[str, ...]] = ("susceptibility",)

    @classmethod
    def _validate(cls, values: dict[str, Any]) -> ModelParams:
        try:
            params = cls.Params(**values)
        except ValidationError as exc:
            err = exc.errors()[0]
            name = str(err["loc"][0]) if err["loc"] else ""
            if name in cls._unit_fields and err["type"] != "extra_forbidden":
                raise ParameterError("invalid value", field=f"{cls.name}.{name}",
                                     allowed=_UNIT_ALLOWED, given=err.get("input")) from None
            raise parameter_error_from(exc, prefix=cls.name, params=cls.Params) from None
        for name in cls._unit_fields:  # a distribution must fit [0, 1], not be clipped to it
            checked(getattr(params, name), 0.0, 1.0, f"{cls.name}.{name}")
        return params

    def _init_common(self, state: State, network: Network,
                     gen: np.random.Generator | None) -> None:
        gen = gen if gen is not None else np.random.default_rng(0)
        n = state.n
        p = self.params
        state.aux["initial_opinion"] = state.opinion.copy()
        state.aux["susceptibility"] = sample(p.susceptibility, n, gen, low=0.0, high=1.0)
        selfw, nbw = kernel_weights(network, p.self_weight)
        state.aux["self_weight"] = selfw
        state.aux["neighbour_weight"] = nbw
        state.aux["buffer"] = np.empty(n, dtype=np.float64)
        state.aux["delta"] = np.full(1, np.inf)

    def on_network_change(self, state: State, network: Network) -> None:
        """Influence weights over the current ties (border flows)."""
        selfw, nbw = kernel_weights(network, self.params.self_weight,
                                    out=state.aux.get("self_weight"))
        state.aux["self_weight"] = selfw
        state.aux["neighbour_weight"] = nbw

    def on_arrival(self, state: State, agents: np.ndarray) -> None:
        """Arrivals are anchored to the opinion they arrive with."""
        state.aux["initial_opinion"][agents] = state.opinion[agents]

    def on_opinion_shift(self, state: State, agents: np.ndarray,
                         delta: np.ndarray | None) -> None:
        """A lasting shift moves each agent's anchor by as much as its opinion, so that the
        rest state moves with it instead of pulling the opinion back."""
        if delta is not None:
            state.aux["initial_opinion"][agents] += delta

    def _kernel_tail(self, state: State, stop: bool) -> tuple:
        return (stop, float(self.params.tolerance), np.asarray(self.cutoffs, dtype=np.float64),
                self.consensus_mask(), state.aux["delta"])

    def is_frozen(self, state: State, network: Network) -> bool:
        """True when no opinion moved by ``tolerance`` or more in the last step."""
        delta = state.aux.get("delta")
        return delta is not None and bool(delta[0] < self.params.tolerance)
