"""Random graph builders: Erdős–Rényi, random regular, Barabási–Albert, Watts–Strogatz.

Rules, exactly as implemented (every builder takes ``seed``: an int, a
:class:`numpy.random.SeedSequence` or a :class:`numpy.random.Generator`; the same seed gives
identical arrays, whatever the number of threads):

- :func:`erdos_renyi` — G(n, p) with ``p = mean_degree / (n - 1)`` (Erdős & Rényi 1959;
  Gilbert 1959): the edge count is drawn from Binomial(n(n-1)/2, p), then that many distinct
  pairs are drawn uniformly (see :mod:`steppe.networks._pairs`: exact choice without
  replacement for at most 2**22 possible pairs, otherwise i.i.d. pairs, repeats dropped and
  topped up). This is exactly G(n, p) and runs in O(n + edges) time and memory
  (Batagelj & Brandes 2005 discuss the alternatives).
- :func:`random_regular` — a uniformly random simple k-regular graph, approximately, by the
  edge-switching Markov chain (Taylor 1981; Milo et al. 2003): start from the circulant graph
  linking ``i`` to ``i ± 1, …, i ± k//2`` (plus ``i + n/2`` when ``k`` is odd); repeat: pick two
  edges ``(a, b)``, ``(c, d)`` uniformly at random (with a random orientation of the second)
  and replace them by ``(a, d)``, ``(c, b)`` unless that creates a self-loop or a repeated edge
  (a rejected attempt leaves the graph as it is). Burn-in: attempts until ``5 × edges``
  switches are accepted (at most ``1000 × edges`` attempts); then exactly as many further
  attempts as the burn-in took (about ``10 × edges`` accepted switches in all). The chain is
  symmetric, so its stationary law is uniform on simple k-regular graphs; the final run of a
  pre-set number of attempts avoids the bias of stopping on an accepted count (which samples
  the jump chain, favouring graphs with many valid switches).
- :func:`barabasi_albert` — preferential attachment (Barabási & Albert 1999) as in
  ``networkx.barabasi_albert_graph``: start from the star on ``m + 1`` nodes (hub 0 linked to
  ``1 … m``); each new node ``t = m+1, …, n-1`` links to ``m`` distinct earlier nodes drawn
  with probability proportional to degree (uniform draws from the list of edge endpoints,
  repeats redrawn). It has exactly ``m (n - m)`` edges.
- :func:`watts_strogatz` — small world (Watts & Strogatz 1998) as in
  ``networkx.watts_strogatz_graph``: ring lattice joining each node to its ``k/2`` nearest
  neighbours on each side; for ``j = 1 … k/2`` and each node ``u`` in order, with probability
  ``p`` the edge ``(u, u + j)`` becomes ``(u, w)`` with ``w`` uniform among nodes that are
  neither ``u`` nor already linked to ``u`` (skipped if ``u`` is linked to everyone). The edge
  count ``n k / 2`` is preserved.

Examples
--------
>>> g = erdos_renyi(1000, 8, seed=1)
>>> g.name, g.n, 3500 < g.n_edges < 4500
('erdos_renyi', 1000, True)
>>> set(random_regular(100, 4, seed=1).degree().tolist())
{4}
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..errors import ParameterError, check_int, check_real
from ..rng import SeedLike, as_generator, bernoulli, make_state, randint
from . import _pairs
from ._csr import csr_from_edges
from .base import Network

__all__ = ["barabasi_albert", "erdos_renyi", "random_regular", "watts_strogatz"]

_MAX_N = 2**31 - 1


def erdos_renyi(n: int, mean_degree: float, seed: SeedLike) -> Network:
    """Erdős–Rényi graph G(n, p) with ``p = mean_degree / (n - 1)``.

    Parameters
    ----------
    n : int
        Number of agents, ``1 <= n < 2**31``.
    mean_degree : float
        Expected mean degree, in ``[0, n - 1]``.
    seed : int, SeedSequence or Generator
        Source of randomness.

    Returns
    -------
    Network
        Undirected, ``name="erdos_renyi"``, ``params={"n", "mean_degree", "p"}``.

    Raises
    ------
    ParameterError
        If ``n`` or ``mean_degree`` is out of range.

    Examples
    --------
    >>> g = erdos_renyi(10_000, 10, seed=0)
    >>> round(g.mean_degree())
    10
    """
    n = check_int("n", n, 1, _MAX_N)
    mean_degree = check_real("mean_degree", mean_degree, 0.0, float(n - 1))
    rng = as_generator(seed)
    p = mean_degree / (n - 1) if n > 1 else 0.0
    total = n * (n - 1) // 2
    m = int(rng.binomial(total, p)) if total > 0 else 0
    ptr, idx = _pairs.sample_pairs_csr(n, [(0, n, 0, n, m)], rng)
    return Network.from_csr(ptr, idx, name="erdos_renyi",
                            params={"n": n, "mean_degree": mean_degree, "p": p})


@njit(cache=True)
def _has(adj, x, y, k):
    for t in range(k):
        if adj[x, t] == y:
            return True
    return False


@njit(cache=True)
def _replace(adj, x, old, new, k):
    for t in range(k):
        if adj[x, t] == old:
            adj[x, t] = new
            return


@njit(cache=True)
def _switch(adj, eu, ev, n_e, k, s, max_accept, max_attempts):
    """Attempt double-edge switches until ``max_accept`` are accepted or ``max_attempts``
    are made; returns the number of attempts."""
    accepted = 0
    attempts = 0
    while accepted < max_accept and attempts < max_attempts:
        attempts += 1
        e1 = randint(s, n_e)
        e2 = randint(s, n_e)
        if e1 == e2:
            continue
        a = eu[e1]
        b = ev[e1]
        c = eu[e2]
        d = ev[e2]
        if bernoulli(s, 0.5):
            c, d = d, c
        if a == d or c == b or a == c or b == d:
            continue
        if _has(adj, a, d, k) or _has(adj, c, b, k):
            continue
        _replace(adj, a, b, d, k)
        _replace(adj, b, a, c, k)
        _replace(adj, c, d, b, k)
        _replace(adj, d, c, a, k)
        eu[e1] = a
        ev[e1] = d
        eu[e2] = c
        ev[e2] = b
        accepted += 1
    return attempts


@njit(cache=True)
def _regular_kernel(n, k, s, target, max_attempts):
    adj = np.empty((n, k), np.int32)
    half = k // 2
    n_e = n * k // 2
    eu = np.empty(n_e, np.int64)
    ev = np.empty(n_e, np.int64)
    e = 0
    for i in range(n):
        c = 0
        for j in range(1, half + 1):
            adj[i, c] = (i + j) % n
            adj[i, c + 1] = (i - j) % n
            c += 2
            eu[e] = i
            ev[e] = (i + j) % n
            e += 1
        if k % 2 == 1:
            adj[i, c] = (i + n // 2) % n
            if i < n // 2:
                eu[e] = i
                ev[e] = i + n // 2
                e += 1
    if n_e < 2:
        return adj
    # phase 1: run until `target` switches are accepted (burn-in), counting the attempts;
    # phase 2: run exactly that many further attempts. Stopping on an accepted count would
    # sample the jump chain, whose law is biased towards graphs with many valid switches;
    # a number of attempts fixed before phase 2 keeps the (uniform) stationary law.
    attempts = _switch(adj, eu, ev, n_e, k, s, target, max_attempts)
    _switch(adj, eu, ev, n_e, k, s, max_attempts, attempts)
    for i in range(n):
        adj[i] = np.sort(adj[i])
    return adj


def random_regular(n: int, k: int, seed: SeedLike) -> Network:
    """Random simple k-regular graph by edge switching from a circulant start.

    Parameters
    ----------
    n : int
        Number of agents, ``n >= 1``.
    k : int
        Degree of every agent, ``0 <= k < n``; ``n * k`` must be even.
    seed : int, SeedSequence or Generator
        Source of randomness.

    Returns
    -------
    Network
        Undirected, every degree exactly ``k``, ``name="random_regular"``.

    Raises
    ------
    ParameterError
        If ``k >= n``, ``k < 0`` or ``n * k`` is odd.

    Examples
    --------
    >>> g = random_regular(20, 3, seed=2)
    >>> g.n_edges, int(g.degree().min()), int(g.degree().max())
    (30, 3, 3)
    """
    n = check_int("n", n, 1, _MAX_N)
    k = check_int("k", k, 0, n - 1)
    if (n * k) % 2:
        raise ParameterError("n * k must be even (k odd needs n even)", field="k",
                             allowed=f"even k for odd n={n}", given=k)
    if n * k > 2**31 - 1:
        raise ParameterError("too many edges for int32 ids (n * k must be < 2**31)",
                             field="k", allowed=f"k < {(2**31 - 1) // n}", given=k)
    s = make_state(as_generator(seed))
    n_e = n * k // 2
    adj = _regular_kernel(n, k, s, 5 * n_e, 1000 * n_e)
    indptr = np.arange(n + 1, dtype=np.int64) * k
    return Network.from_csr(indptr, adj.reshape(-1), name="random_regular",
                            params={"n": n, "k": k})


@njit(cache=True)
def _ba_kernel(n, m, s):
    n_e = m * (n - m)
    eu = np.empty(n_e, np.int32)
    ev = np.empty(n_e, np.int32)
    rep = np.empty(2 * n_e, np.int32)
    r = 0
    e = 0
    for i in range(1, m + 1):  # star: hub 0 linked to 1..m
        eu[e] = 0
        ev[e] = i
        e += 1
        rep[r] = 0
        rep[r + 1] = i
        r += 2
    targets = np.empty(m, np.int32)
    for t in range(m + 1, n):
        got = 0
        while got < m:
            x = rep[randint(s, r)]
            dup = False
            for q in range(got):
                if targets[q] == x:
                    dup = True
                    break
            if not dup:
                targets[got] = x
                got += 1
        for q in range(m):
            eu[e] = t
            ev[e] = targets[q]
            e += 1
        for q in range(m):
            rep[r] = targets[q]
            rep[r + 1] = t
            r += 2
    return eu, ev


def barabasi_albert(n: int, m: int, seed: SeedLike) -> Network:
    """Barabási–Albert preferential attachment graph, starting from a star on ``m + 1`` nodes.

    Parameters
    ----------
    n : int
        Number of agents, ``n > m``.
    m : int
        Edges added with each new agent, ``m >= 1``.
    seed : int, SeedSequence or Generator
        Source of randomness.

    Returns
    -------
    Network
        Undirected with exactly ``m * (n - m)`` edges, ``name="barabasi_albert"``.

    Raises
    ------
    ParameterError
        If ``m < 1`` or ``n <= m``.

    Examples
    --------
    >>> barabasi_albert(100, 3, seed=0).n_edges
    291
    """
    m = check_int("m", m, 1, _MAX_N - 1)
    n = check_int("n", n, m + 1, _MAX_N)
    if 2 * m * (n - m) > 2**31 - 1:
        raise ParameterError("too many edges for int32 ids", field="n",
                             allowed="2 m (n - m) < 2**31", given=n)
    s = make_state(as_generator(seed))
    eu, ev = _ba_kernel(n, m, s)
    ptr, idx = csr_from_edges(n, eu, ev)
    return Network.from_csr(ptr, idx, name="barabasi_albert", params={"n": n, "m": m})


@njit(cache=True)
def _ws_kernel(n, k, p, s):
    half = k // 2
    n_e = n * half
    eu = np.empty(n_e, np.int64)
    ev = np.empty(n_e, np.int64)
    deg = np.full(n, k, np.int64)
    edges = {np.int64(0)}
    edges.clear()
    for j in range(1, half + 1):
        for u in range(n):
            v = (u + j) % n
            e = (j - 1) * n + u
            eu[e] = u
            ev[e] = v
            edges.add(min(u, v) * n + max(u, v))
    if p == 0.0:
        return eu, ev
    for j in range(1, half + 1):
        for u in range(n):
            e = (j - 1) * n + u
            if not bernoulli(s, p):
                continue
            if deg[u] >= n - 1:
                continue  # u is linked to everyone: no rewiring possible
            w = randint(s, n)
            while w == u or (min(u, w) * n + max(u, w)) in edges:
                w = randint(s, n)
            v = ev[e]
            edges.discard(min(u, v) * n + max(u, v))
            edges.add(min(u, w) * n + max(u, w))
            deg[v] -= 1
            deg[w] += 1
            ev[e] = w
    return eu, ev


def watts_strogatz(n: int, k: int, p: float, seed: SeedLike) -> Network:
    """Watts–Strogatz small-world graph (rewired ring lattice), as networkx does it.

    Parameters
    ----------
    n : int
        Number of agents, ``n >= 1``.
    k : int
        Each agent is first linked to its ``k`` nearest ring neighbours; even, ``0 <= k < n``.
    p : float
        Rewiring probability of each edge, in ``[0, 1]``.
    seed : int, SeedSequence or Generator
        Source of randomness.

    Returns
    -------
    Network
        Undirected with ``n * k / 2`` edges, ``name="watts_strogatz"``.

    Raises
    ------
    ParameterError
        If ``k`` is odd or ``>= n``, or ``p`` is outside ``[0, 1]``.

    Examples
    --------
    >>> g = watts_strogatz(10, 4, 0.0, seed=0)
    >>> g.neighbors(0).tolist()
    [1, 2, 8, 9]
    """
    n = check_int("n", n, 1, _MAX_N)
    k = check_int("k", k, 0, n - 1)
    if k % 2:
        raise ParameterError("must be even", field="k", allowed="even integer in "
                             f"[0, {n - 1}]", given=k)
    p = check_real("p", p, 0.0, 1.0)
    if n * k > 2**31 - 1:
        raise ParameterError("too many edges for int32 ids", field="k",
                             allowed="n * k < 2**31", given=k)
    s = make_state(as_generator(seed))
    eu, ev = _ws_kernel(n, k, p, s)
    ptr, idx = csr_from_edges(n, eu, ev)
    return Network.from_csr(ptr, idx, name="watts_strogatz", params={"n": n, "k": k, "p": p})
