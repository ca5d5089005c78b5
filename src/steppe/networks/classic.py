"""Deterministic builders: lattices (ring, chain, square grid) and the star.

Rules, exactly as implemented:

- :func:`lattice` with ``shape=(L,)`` links ``i`` to ``i - 1`` and ``i + 1`` (a chain; with
  ``periodic=True`` indices wrap modulo ``L``, giving a ring). With ``shape=(L1, L2)`` the
  agent at row ``r``, column ``c`` has id ``r * L2 + c`` and is linked to its von Neumann
  neighbours ``(r ± 1, c)`` and ``(r, c ± 1)``, wrapping on both axes when periodic (a
  torus, 4 neighbours each). Wrapping along a side of length 2 would join the same two agents
  twice and along a side of length 1 an agent to itself: such repeats and self-loops are
  dropped, so degrees are then smaller than 2 (ring) or 4 (torus).
- :func:`star` links hub ``0`` to every other agent.

Examples
--------
>>> lattice((5,)).neighbors(0).tolist()
[1, 4]
>>> lattice((3, 4)).neighbors(0).tolist()
[1, 3, 4, 8]
>>> star(4).degree().tolist()
[3, 1, 1, 1]
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from ..errors import ParameterError, check_int
from ._csr import csr_from_edges
from .base import Network

__all__ = ["lattice", "star"]

_MAX_N = 2**31 - 1


def _check_shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    allowed = "(L,) or (L1, L2) with positive integer sides"
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (int(shape),)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ParameterError("must be a tuple of 1 or 2 positive integers", field="shape",
                             allowed=allowed, given=shape) from None
    if len(dims) not in (1, 2) or any(
        isinstance(d, bool) or not isinstance(d, numbers.Integral) or int(d) < 1 for d in dims
    ):
        raise ParameterError("must be a tuple of 1 or 2 positive integers", field="shape",
                             allowed=allowed, given=shape)
    dims = tuple(int(d) for d in dims)
    if int(np.prod(dims, dtype=object)) > _MAX_N:
        raise ParameterError("too many agents for int32 ids", field="shape",
                             allowed="product < 2**31", given=shape)
    return dims


def _axis_edges(length: int, periodic: bool) -> tuple[np.ndarray, np.ndarray]:
    """(a, a+1) pairs along one axis of the given length."""
    a = np.arange(length if periodic else length - 1, dtype=np.int64)
    return a, (a + 1) % length


def lattice(shape: int | Sequence[int], periodic: bool = True) -> Network:
    """Ring/chain (``shape=(L,)``) or square lattice (``shape=(L1, L2)``), von Neumann
    neighbourhood, id ``row * L2 + col``.

    Parameters
    ----------
    shape : tuple of int
        ``(L,)`` or ``(L1, L2)`` (an int ``L`` is read as ``(L,)``).
    periodic : bool
        Wrap around the edges (ring / torus).

    Returns
    -------
    Network
        Undirected, ``name="lattice"``, ``shape`` set.

    Raises
    ------
    ParameterError
        If ``shape`` is not one or two positive integers.

    Examples
    --------
    >>> g = lattice((4, 4))
    >>> g.n, g.n_edges, g.shape
    (16, 32, (4, 4))
    >>> lattice((4,), periodic=False).degree().tolist()
    [1, 2, 2, 1]
    """
    dims = _check_shape(shape)
    periodic = bool(periodic)
    if len(dims) == 1:
        (n,) = dims
        u, v = _axis_edges(n, periodic)
    else:
        l1, l2 = dims
        n = l1 * l2
        ca, cb = _axis_edges(l2, periodic)  # horizontal: within each row
        rows = np.arange(l1, dtype=np.int64)[:, None] * l2
        hu = (rows + ca[None, :]).ravel()
        hv = (rows + cb[None, :]).ravel()
        ra, rb = _axis_edges(l1, periodic)  # vertical: within each column
        cols = np.arange(l2, dtype=np.int64)[None, :]
        vu = (ra[:, None] * l2 + cols).ravel()
        vv = (rb[:, None] * l2 + cols).ravel()
        u = np.concatenate([hu, vu])
        v = np.concatenate([hv, vv])
    ptr, idx = csr_from_edges(n, u.astype(np.int32), v.astype(np.int32))
    return Network.from_csr(ptr, idx, name="lattice", shape=dims,
                            params={"shape": list(dims), "periodic": periodic})


def star(n: int) -> Network:
    """Star: hub ``0`` linked to agents ``1 … n-1``.

    Parameters
    ----------
    n : int
        Number of agents, ``n >= 1``.

    Returns
    -------
    Network
        Undirected with ``n - 1`` edges, ``name="star"``.

    Raises
    ------
    ParameterError
        If ``n < 1``.

    Examples
    --------
    >>> star(5).neighbors(0).tolist()
    [1, 2, 3, 4]
    """
    n = check_int("n", n, 1, _MAX_N)
    leaves = np.arange(1, n, dtype=np.int32)
    ptr, idx = csr_from_edges(n, np.zeros(n - 1, np.int32), leaves)
    return Network.from_csr(ptr, idx, name="star", params={"n": n})
