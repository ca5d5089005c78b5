"""Networks from files and from other libraries: edge lists (CSV, Parquet), networkx graphs,
scipy sparse matrices.

Rules, exactly as implemented:

- Agents are ``0 … n-1``. An edge ``source → target`` puts ``target`` in the row of
  ``source`` (``source`` listens to ``target``); undirected edges are stored both ways.
- Self-loops are dropped and repeated edges collapse to one.
- Weights (optional; ``Network.weights``, one per stored entry): the ``weight`` column of
  an edge list, the ``"weight"`` edge attribute in networkx (edges without it weigh 1), or
  the values of a scipy matrix that is not 0/1. Repeated edges add their weights (for an
  undirected network ``u–v`` and ``v–u`` are the same edge, stored both ways with the same
  weight). Without weights ``Network.weights`` is None. Weights are stored as given (models
  that use them check their sign).
- :func:`read_edgelist` reads ``.csv`` (also ``.csv.gz``, ``.txt``, ``.tsv`` with tabs) with
  ``pyarrow.csv`` and ``.parquet`` / ``.pq`` with ``pyarrow.parquet``. Ids must be
  non-negative integers; ``n`` defaults to the largest id plus one.
- :func:`from_networkx` numbers nodes in ``g``'s node order; directed graphs stay directed.
- :func:`from_scipy` takes any scipy sparse matrix/array or dense array: entry ``[i, j]``
  nonzero means an edge ``i → j``. A structurally symmetric matrix (same nonzero pattern as
  its transpose, diagonal ignored) gives an undirected network, any other a directed one.

Examples
--------
>>> import networkx as nx
>>> g = from_networkx(nx.path_graph(["a", "b", "c"]))
>>> g.neighbors(1).tolist()
[0, 2]
>>> import numpy as np
>>> from_scipy(np.array([[0, 1], [0, 0]])).directed
True
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import ParameterError, ScenarioError, check_int
from ..inputs import MAX_DATA_BYTES, check_file
from ._csr import csr_from_edges, directed_csr_from_edges
from .base import Network

__all__ = ["from_networkx", "from_scipy", "read_edgelist"]

_MAX_N = 2**31 - 1


def _build(n: int, src: np.ndarray, dst: np.ndarray, directed: bool, name: str,
           params: dict) -> Network:
    src = src.astype(np.int32, copy=False)
    dst = dst.astype(np.int32, copy=False)
    if directed:
        ptr, idx = directed_csr_from_edges(n, src, dst)
    else:
        ptr, idx = csr_from_edges(n, src, dst)
    return Network.from_csr(ptr, idx, name=name, directed=directed, params=params)


def _build_weighted(n: int, src: np.ndarray, dst: np.ndarray, w: np.ndarray,
                    symmetrize: bool, directed: bool, name: str, params: dict) -> Network:
    """CSR with weights: self-loops dropped, rows sorted, repeated entries summed."""
    import scipy.sparse as sp

    keep = src != dst
    src, dst, w = src[keep], dst[keep], np.asarray(w, dtype=np.float64)[keep]
    if symmetrize:
        src, dst, w = np.concatenate([src, dst]), np.concatenate([dst, src]), np.concatenate(
            [w, w])
    m = sp.coo_array((w, (src, dst)), shape=(n, n)).tocsr()
    m.sum_duplicates()
    m.sort_indices()
    return Network.from_csr(m.indptr, m.indices, name=name, directed=directed, params=params,
                            weights=m.data)


def _read_table(path: Path):
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return pq.read_table(path)
    if suffixes and (suffixes[-1] in (".csv", ".txt", ".tsv")
                     or suffixes[-2:] in ([".csv", ".gz"], [".tsv", ".gz"])):
        import pyarrow.csv as pcsv

        delim = "\t" if ".tsv" in suffixes else ","
        return pcsv.read_csv(path, parse_options=pcsv.ParseOptions(delimiter=delim))
    raise ParameterError(f"{path}: unknown edge-list format", field="path",
                         allowed=".csv, .csv.gz, .tsv, .txt, .parquet, .pq",
                         given="".join(path.suffixes) or str(path))


def _id_column(table, col: str, path: Path, role: str) -> np.ndarray:
    if col not in table.column_names:
        raise ParameterError(f"{path}: no {role} column {col!r} (columns: "
                             f"{', '.join(table.column_names)})", field=role,
                             allowed=table.column_names, given=col)
    arr = table.column(col)
    if arr.null_count:
        raise ParameterError(f"{path}: column {col!r} has {arr.null_count} empty value(s)",
                             field=role, allowed="non-negative integer ids")
    x = arr.to_numpy()
    if not np.issubdtype(x.dtype, np.integer):
        if np.issubdtype(x.dtype, np.floating) and np.all(np.isfinite(x)) \
                and np.all(x == np.round(x)):
            x = x.astype(np.int64)
        else:
            bad = next(iter(x[: 1].tolist()), None) if x.dtype == object else x.dtype
            raise ParameterError(f"{path}: column {col!r} must hold integer agent ids",
                                 field=role, allowed="non-negative integer ids", given=bad)
    if len(x) and x.min() < 0:
        row = int(np.argmax(x < 0))
        raise ParameterError(f"{path}: column {col!r} has a negative id on data row {row + 1}",
                             field=role, allowed="ids >= 0", given=int(x[row]))
    return x.astype(np.int64, copy=False)


def read_edgelist(path: str | os.PathLike, *, source: str = "source", target: str = "target",
                  directed: bool = False, n: int | None = None,
                  weight: str | None = None) -> Network:
    """Read an edge list from a CSV or Parquet file (format chosen by the suffix).

    Parameters
    ----------
    path : str or PathLike
        ``.csv`` / ``.csv.gz`` / ``.txt`` (comma-separated), ``.tsv`` (tab-separated) with a
        header row, or ``.parquet`` / ``.pq``.
    source, target : str
        Column names of the two endpoints (integer ids ``0 … n-1``).
    directed : bool
        If true, row ``source`` lists ``target`` only.
    n : int, optional
        Number of agents; default largest id + 1. Ids must be below it.
    weight : str, optional
        Column of finite non-negative edge weights, kept in ``Network.weights``; None (the
        default) reads no weights.

    Returns
    -------
    Network
        ``name="edgelist"``, ``params={"path", "directed"}``.

    Raises
    ------
    ParameterError
        For a path that is not a readable regular file (missing, a folder, a device, too
        large: the message names it), an unknown suffix, a file that is not what its suffix
        says, a missing column, non-integer / negative ids, ids >= n, or
        weights that are missing, negative or not numbers.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "e.csv").write_text("source,target\\n0,1\\n1,2\\n")
    >>> read_edgelist(d / "e.csv").neighbors(1).tolist()
    [0, 2]
    >>> _ = (d / "w.csv").write_text("source,target,w\\n0,1,2.5\\n1,2,1\\n")
    >>> read_edgelist(d / "w.csv", weight="w").weights.tolist()
    [2.5, 2.5, 1.0, 1.0]
    """
    try:
        p = check_file(path, what="edge list", limit=MAX_DATA_BYTES)
    except ScenarioError as exc:
        raise ParameterError(f"edge list {exc.file}: {exc.message}", field="path",
                             allowed=exc.allowed or "a regular file: .csv, .csv.gz, .tsv, "
                             ".txt, .parquet", given=None) from None
    try:
        table = _read_table(p)
    except ParameterError:
        raise
    except Exception as exc:  # pyarrow parse errors: name the file
        raise ParameterError(f"{p}: cannot read as an edge list ({exc})", field="path",
                             given=str(p)) from exc
    src = _id_column(table, source, p, "source")
    dst = _id_column(table, target, p, "target")
    top = int(max(src.max(initial=-1), dst.max(initial=-1)))
    if n is None:
        if top < 0:
            raise ParameterError(f"{p}: the edge list is empty; pass n to build an edgeless "
                                 "network", field="n", allowed="integer >= 1", given=None)
        n = top + 1
    n = check_int("n", n, 1, _MAX_N)
    if top >= n:
        col, arr = (source, src) if src.max(initial=-1) >= n else (target, dst)
        row = int(np.argmax(arr >= n))
        raise ParameterError(f"{p}: column {col!r} has id {int(arr[row])} on data row "
                             f"{row + 1}, not below n={n}", field="n",
                             allowed=f"ids < {n}", given=int(arr[row]))
    params = {"path": str(p), "directed": bool(directed), "n": n}
    if weight is not None:
        w = _weight_column(table, weight, p)
        return _build_weighted(n, src, dst, w, not directed, bool(directed), "edgelist",
                               params)
    return _build(n, src, dst, bool(directed), "edgelist", params)


def _weight_column(table, col: str, path: Path) -> np.ndarray:
    if col not in table.column_names:
        raise ParameterError(f"{path}: no weight column {col!r} (columns: "
                             f"{', '.join(table.column_names)})", field="weight",
                             allowed=table.column_names, given=col)
    arr = table.column(col)
    if arr.null_count:
        raise ParameterError(f"{path}: column {col!r} has {arr.null_count} empty value(s)",
                             field="weight", allowed="non-negative numbers")
    x = arr.to_numpy()
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise ParameterError(f"{path}: column {col!r} must hold numbers", field="weight",
                             allowed="non-negative numbers", given=str(x.dtype))
    x = x.astype(np.float64)
    if len(x) and (not np.all(np.isfinite(x)) or x.min() < 0):
        row = int(np.argmax(~np.isfinite(x) | (x < 0)))
        raise ParameterError(f"{path}: column {col!r} has a bad weight on data row {row + 1}",
                             field="weight", allowed="finite numbers >= 0",
                             given=float(x[row]))
    return x


def from_networkx(g, *, direction: str | None = None, weight: str | None = None) -> Network:
    """Convert a networkx graph, numbering nodes ``0 … n-1`` in ``g``'s node order.

    Parameters
    ----------
    g : networkx.Graph, DiGraph, MultiGraph or MultiDiGraph
        Non-empty graph. Parallel edges collapse, self-loops are dropped.
    direction : {"listens", "influences"}, required for directed graphs
        What an edge ``u → v`` means. ``"listens"``: u listens to v (v is among the agents
        that influence u: steppe's own reading, row u lists v). ``"influences"``: u
        influences v (NDlib's reading: v's neighbours include u). The two give opposite
        dynamics on the same graph, so a directed graph must say which it means.
        Ignored for undirected graphs.
    weight : str or None
        The edge attribute to use as influence weights (Friedkin–Johnsen and EPO read
        them; 1 where missing; parallel edges add up). Default None: unweighted, whatever
        attributes the edges carry (networkx's example graphs often carry a ``"weight"``:
        pass ``weight="weight"`` to use it).

    Returns
    -------
    Network
        ``name="networkx"``, ``params={"nodes": [original labels]}`` when they are not
        already ``0 … n-1``.

    Raises
    ------
    ParameterError
        If ``g`` has no nodes, or is directed without ``direction``.

    Examples
    --------
    >>> import networkx as nx
    >>> from_networkx(nx.cycle_graph(4)).neighbors(0).tolist()
    [1, 3]
    >>> d = nx.DiGraph([(0, 1)])
    >>> from_networkx(d, direction="listens").neighbors(0).tolist()
    [1]
    >>> from_networkx(d, direction="influences").neighbors(1).tolist()
    [0]
    """
    nodes = list(g.nodes())
    n = len(nodes)
    if n == 0:
        raise ParameterError("graph has no nodes", field="g", allowed="at least one node",
                             given=repr(g))
    if n > _MAX_N:
        raise ParameterError("too many nodes for int32 ids", field="g", given=n)
    directed = bool(g.is_directed())
    if directed and direction not in ("listens", "influences"):
        raise ParameterError("a directed graph needs to say what an edge u -> v means",
                             field="direction",
                             allowed="'listens' (u listens to v: steppe's reading) or "
                                     "'influences' (u influences v: NDlib's reading)",
                             given=direction)
    pos = {v: i for i, v in enumerate(nodes)}
    m = g.number_of_edges()
    src = np.empty(m, np.int64)
    dst = np.empty(m, np.int64)
    w = np.ones(m, np.float64)
    weighted = False
    for e, (u, v, d) in enumerate(g.edges(data=True)):
        src[e] = pos[u]
        dst[e] = pos[v]
        if weight is not None and weight in d:
            w[e] = float(d[weight])
            weighted = True
    if directed and direction == "influences":
        src, dst = dst, src
    params = {} if nodes == list(range(n)) else {"nodes": nodes}
    if directed:
        params["direction"] = direction
    if weighted:
        return _build_weighted(n, src, dst, w, not directed, directed, "networkx", params)
    return _build(n, src, dst, directed, "networkx", params)


def from_scipy(matrix) -> Network:
    """Convert an adjacency matrix (scipy sparse or dense); nonzero ``[i, j]`` is ``i → j``.

    Parameters
    ----------
    matrix : scipy.sparse matrix/array or array-like
        Square. Structurally symmetric (diagonal ignored) gives an undirected network,
        otherwise directed. If any nonzero value differs from 1 the values are kept as
        ``Network.weights`` (entry ``[i, j]`` is the weight of ``i → j``).

    Returns
    -------
    Network
        ``name="scipy"``.

    Raises
    ------
    ParameterError
        If the matrix is not square or is empty.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> g = from_scipy(sp.csr_array([[0, 2, 0], [2, 0, 1], [0, 1, 0]]))
    >>> g.directed, g.neighbors(1).tolist()
    (False, [0, 2])
    """
    import scipy.sparse as sp

    a = sp.coo_array(matrix) if sp.issparse(matrix) else sp.coo_array(np.asarray(matrix))
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ParameterError("must be a non-empty square matrix", field="matrix",
                             allowed="shape (n, n), n >= 1", given=a.shape)
    n = int(a.shape[0])
    if n > _MAX_N:
        raise ParameterError("too many rows for int32 ids", field="matrix", given=a.shape)
    keep = (a.data != 0) & (a.row != a.col)
    r = a.row[keep].astype(np.int64)
    c = a.col[keep].astype(np.int64)
    fwd = np.unique(r * n + c)
    bwd = np.unique(c * n + r)
    directed = not np.array_equal(fwd, bwd)
    vals = a.data[keep]
    if len(vals) and np.any(vals != 1):
        return _build_weighted(n, r, c, vals.astype(np.float64), False, directed, "scipy", {})
    return _build(n, r, c, directed, "scipy", {})
