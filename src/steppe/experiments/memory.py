"""How much memory a run needs, how much this machine has, and a clear refusal when it will
not fit.

The estimate is built from the scenario alone, before anything is built: agents (state
arrays, the model's own per-agent arrays, population attributes, pressures), the network
(8 bytes per agent for the offsets, 8 per undirected edge stored, plus the builder's
temporaries, which depend on the kind of network), and the recorded series. It was
calibrated on the peak resident memory of single runs (``ru_maxrss``) and errs on the
generous side (:data:`MARGIN`). Each worker process also holds Python, NumPy, Numba,
pandas and the compiled kernels (:data:`PROCESS_BASE`, about 240 MB measured).

Measured peaks above that base, single runs, for calibration (estimate in brackets, MB):
complete graph, voter, 4 M agents: 72 [110]; Erdős–Rényi, 1 M agents, mean degree 10:
87 [138]; Barabási–Albert 1 M, m = 5: 98 [163]; random regular 1 M, k = 10: 122 [213];
Watts–Strogatz 1 M, k = 10: 378 [538]; Deffuant, complete graph, 2 M: 66 [90];
Hegselmann–Krause, complete graph, 2 M: 146 [190].

Examples
--------
>>> from steppe import load_scenario
>>> sc = load_scenario({"name": "m", "seed": 1, "network": {"kind": "erdos_renyi",
...                     "n": 1_000_000, "mean_degree": 10}, "model": {"name": "voter"},
...                     "stop": {"max_sweeps": 10}})
>>> est = estimate_memory(sc)
>>> est.agents, est.edges
(1000000, 5000000)
>>> 50e6 < est.per_run < 400e6
True
>>> check_memory(sc, workers=2, available=100 * 2**30).fits
True
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SteppeError
from ..inputs import MAX_DATA_BYTES, check_file
from ..models.base import get_model

__all__ = [
    "MARGIN",
    "PROCESS_BASE",
    "InsufficientMemoryError",
    "MemoryEstimate",
    "available_memory",
    "check_memory",
    "check_sweep_size",
    "estimate_memory",
    "format_bytes",
    "run_disk_bytes",
]

#: resident memory of one worker process before its first run (Python and libraries)
PROCESS_BASE = 260 * 2**20
#: factor applied to the per-run estimate
MARGIN = 1.25
#: bytes per agent every run needs (stances, committed flags, placement temporaries)
AGENT_BYTES = 20
#: extra bytes per agent by model (their own per-agent arrays and temporaries)
MODEL_AGENT_BYTES = {
    "hegselmann_krause": 56, "deffuant": 16, "friedkin_johnsen": 48, "epo": 64,
    "granovetter": 16, "centola": 24, "majority_vote": 2, "voter": 2,
}
#: extra bytes per undirected edge by model (edge weights held by the linear models)
MODEL_EDGE_BYTES = {"friedkin_johnsen": 16, "epo": 16}
#: bytes per undirected edge at the peak of building the network (stored CSR included)
NETWORK_EDGE_BYTES = {
    "complete": 0, "erdos_renyi": 16, "barabasi_albert": 20, "random_regular": 28,
    "watts_strogatz": 80, "lattice": 16, "ring": 16, "star": 16, "sbm": 24,
    "homophily": 16, "edgelist": 48,
}
#: bytes per recorded row of the tidy series (about 11 columns)
SERIES_ROW_BYTES = 120


class InsufficientMemoryError(SteppeError):
    """A run or sweep would not fit in memory; the message gives the estimate and what
    would fit."""

    def __init__(self, message: str, estimate: MemoryEstimate) -> None:
        super().__init__(message)
        self.estimate = estimate


@dataclass
class MemoryEstimate:
    """Estimated memory of a run, a set of workers, and whether it fits.

    Attributes
    ----------
    agents, edges : int
        Agents and undirected edges of the network.
    parts : dict[str, int]
        Bytes by part for one run (``agents``, ``network``, ``series``, ...), before the
        margin.
    per_run : int
        Peak bytes of one run above a process's base, margin included.
    per_agent : float
        Bytes per agent of ``per_run`` (for "what would fit").
    workers : int
        Runs held at once.
    total : int
        Everything: ``workers`` runs, their processes, and what the main process keeps.
    available : int or None
        Memory available (None when unknown or not checked).
    """

    agents: int
    edges: int
    parts: dict[str, int]
    per_run: int
    per_agent: float
    workers: int = 1
    total: int = 0
    available: int | None = None
    held: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def fits(self) -> bool:
        """True when the total fits in the available memory (or that is unknown)."""
        return self.available is None or self.total <= self.available

    def max_workers(self) -> int:
        """The most runs at once that would fit (0: not even one)."""
        if self.available is None:
            return self.workers
        room = self.available - PROCESS_BASE - self.held
        per = PROCESS_BASE + self.per_run
        return max(0, int(room // per)) if self.workers > 1 else int(
            self.available >= PROCESS_BASE + self.per_run + self.held)

    def max_agents(self, workers: int = 1) -> int:
        """The most agents a run could have with ``workers`` runs at once."""
        if self.available is None or self.per_agent <= 0:
            return self.agents
        base = PROCESS_BASE * (workers + (workers > 1)) + self.held
        fixed = self.per_run - self.per_agent * self.agents
        room = (self.available - base) / workers - fixed
        return max(0, int(room // self.per_agent))

    def describe(self) -> str:
        """One line: the per-run estimate by part.

        Examples
        --------
        >>> MemoryEstimate(10, 0, {"agents": 240}, 300, 30.0).describe()
        '300 B per run (agents 240 B, + 25% margin)'
        """
        parts = ", ".join(f"{k} {format_bytes(v)}" for k, v in self.parts.items() if v)
        return f"{format_bytes(self.per_run)} per run ({parts}, + " \
               f"{round((MARGIN - 1) * 100)}% margin)"


def format_bytes(n: float) -> str:
    """Bytes in binary units.

    Examples
    --------
    >>> format_bytes(3 * 2**30), format_bytes(512)
    ('3.0 GiB', '512 B')
    """
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def available_memory() -> int | None:
    """Bytes this process could still use: the smaller of the system's available memory
    (``MemAvailable`` in ``/proc/meminfo``, else ``sysconf``) and the room left under a
    cgroup (container) limit. None when it cannot be told.

    Examples
    --------
    >>> m = available_memory()
    >>> m is None or m > 0
    True
    """
    candidates = []
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    candidates.append(int(line.split()[1]) * 1024)
                    break
    except OSError:
        pass
    if not candidates:
        try:
            candidates.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    for limit_file, usage_file in (
            ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
            ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
             "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        limit, usage = _read_int(limit_file), _read_int(usage_file)
        if limit is not None and usage is not None and limit < 2**60:
            candidates.append(max(0, limit - usage))
    return min(candidates) if candidates else None


def _edge_list_rows(path: Path) -> int:
    check_file(path, what="edge list", limit=MAX_DATA_BYTES)  # never a device or a FIFO
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    rows = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 24):
            rows += chunk.count(b"\n")
    return rows


def _network_size(loaded: Any) -> tuple[int, int]:
    """(agents, undirected edges) of a scenario's network, from the spec alone."""
    net = loaded.spec.network
    kind = net.kind
    if kind == "complete":
        return net.n, 0
    if kind == "erdos_renyi":
        return net.n, round(net.n * net.mean_degree / 2)
    if kind in ("random_regular", "watts_strogatz"):
        return net.n, net.n * net.k // 2
    if kind == "barabasi_albert":
        return net.n, net.n * net.m
    if kind == "ring":
        return net.n, net.n
    if kind == "star":
        return net.n, net.n - 1
    if kind == "lattice":
        n = math.prod(net.shape)
        return n, n * len(net.shape)
    if kind == "sbm":
        n = sum(net.sizes)
        if net.probabilities is not None:
            e = 0.0
            for a, sa in enumerate(net.sizes):
                for b, sb in enumerate(net.sizes):
                    if b > a:
                        e += net.probabilities[a][b] * sa * sb
                    elif b == a:
                        e += net.probabilities[a][a] * sa * (sa - 1) / 2
            return n, round(e)
        return n, round(n * net.mean_degree / 2)
    if kind == "homophily":
        n = loaded.spec.population.agents()
        return n, round(n * net.mean_degree / 2)
    if kind == "edgelist":
        p = Path(net.path)
        p = p if p.is_absolute() else loaded.base_dir / p
        try:
            rows = _edge_list_rows(p)
        except (OSError, ValueError, SteppeError):  # unreadable: the real read says why
            rows = 0
        return (net.n or max(2, 2 * rows)), rows
    return getattr(net, "n", 0) or 0, 0  # pragma: no cover - a future kind


def _records(loaded: Any) -> int:
    ms = loaded.max_sweeps()
    every = loaded.spec.record.every
    if ms is None:
        return 1000 // every + 2
    return math.ceil(float(ms) / every) + 2


def estimate_memory(loaded: Any) -> MemoryEstimate:
    """Peak memory of one run of a loaded scenario (above a process's base).

    Examples
    --------
    >>> from steppe import load_scenario
    >>> sc = load_scenario({"name": "m", "seed": 1, "network": {"kind": "complete",
    ...                     "n": 10_000_000}, "model": {"name": "voter"},
    ...                     "stop": {"max_sweeps": 10}})
    >>> est = estimate_memory(sc)
    >>> est.edges, format_bytes(est.per_run)
    (0, '262.3 MiB')
    """
    spec = loaded.spec
    n, e = _network_size(loaded)
    model = spec.model.name
    kind = spec.network.kind
    per_agent = AGENT_BYTES + MODEL_AGENT_BYTES.get(model, 0)
    if model == "centola":
        per_agent += int(spec.model.params().get("memory", 10) or 10)
    layers = 0
    if spec.expression is not None:
        # conviction, visibility, voiced answers, the uniforms of a logit choice; a
        # refusal's utility and the heard stances when "don't know" is an answer; the
        # neighbours' answers counted (a byte per answer, up to 6, and two copies)
        layers += 32 + (9 if spec.expression.dont_know is not None else 0) + 8
    layers += 12 * len(spec.media)
    if spec.protest is not None:
        layers += 16
    if spec.population is not None:
        # group, region, age, language codes and their construction; their combination
        # per agent for the tallies (two bytes)
        layers += 26 + 2
    if getattr(spec, "flows", None):
        layers += 8
    edge_bytes = NETWORK_EDGE_BYTES.get(kind, 48) + MODEL_EDGE_BYTES.get(model, 0)
    levels = 1
    pop = spec.population
    if pop is not None:
        levels += (len(pop.groups) + len(pop.regions or {}) + len(pop.ages or {})
                   + len(pop.languages or {}))
    elif kind == "sbm":
        levels += len(spec.network.sizes)
    stances = 3 if spec.stances is None else len(spec.stances.labels)
    series = _records(loaded) * levels * stances * SERIES_ROW_BYTES
    stored = 0 if kind == "complete" else 8 * (n + 1)
    parts = {"agents": n * (per_agent + layers), "network": stored + e * edge_bytes,
             "series": series}
    raw = sum(parts.values())
    per_run = int(raw * MARGIN)
    slope = (per_agent + layers + (8 if stored else 0) + (e / n if n else 0) * edge_bytes) * MARGIN
    return MemoryEstimate(agents=n, edges=e, parts=parts, per_run=per_run,
                          per_agent=slope)


#: bytes of one per-run Parquet file before its rows (schema, footer, file system block)
FILE_BYTES = 8192
#: bytes per row of a per-run table on disk (compressed; measured: 8 to 30)
ROW_BYTES = 32
#: memory the sweeping process keeps per run (pending lists, tasks, progress) and per point
#: (its validated scenario)
RUN_BOOKKEEPING_BYTES = 400
POINT_BOOKKEEPING_BYTES = 64 * 2**10


def run_disk_bytes(loaded: Any) -> int:
    """Bytes one run of a sweep writes (its per-run Parquet files), about.

    Examples
    --------
    >>> from steppe import load_scenario
    >>> sc = load_scenario({"name": "d", "seed": 1, "network": {"kind": "complete",
    ...                     "n": 100}, "model": {"name": "voter"}, "stop": {"max_sweeps": 8}})
    >>> run_disk_bytes(sc) < 50_000
    True
    """
    spec = loaded.spec
    levels = 1
    pop = spec.population
    if pop is not None:
        levels += (len(pop.groups) + len(pop.regions or {}) + len(pop.ages or {})
                   + len(pop.languages or {}))
        levels += len([f for f in spec.flows if f.direction == "in"]) + 1 if spec.flows else 0
    elif spec.network.kind == "sbm":
        levels += len(spec.network.sizes)
    stances = 3 if spec.stances is None else len(spec.stances.labels)
    records = _records(loaded)
    files, rows = 2, records * levels * stances + 1  # runs, series
    if spec.polls:
        files, rows = files + 1, rows + 8 * len(spec.polls) * stances
    if spec.protest is not None:
        files, rows = files + 1, rows + records * levels
    for extra in ("flows", "news"):
        if getattr(spec, extra, None):
            files, rows = files + 1, rows + records
    return files * FILE_BYTES + rows * ROW_BYTES


def check_sweep_size(runs: int, points: int, per_run_disk: int, folder: Path, *,
                     available: int | None = None) -> None:
    """Refuse, before anything runs or is written, a sweep whose files will not fit on
    the disk of ``folder`` or whose bookkeeping will not fit in memory.

    Raises
    ------
    InsufficientMemoryError
        With the estimate and what is available.

    Examples
    --------
    >>> import tempfile
    >>> check_sweep_size(10, 1, 50_000, Path(tempfile.mkdtemp()))
    >>> check_sweep_size(10**13, 1, 50_000, Path(tempfile.mkdtemp()))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    steppe.experiments.memory.InsufficientMemoryError: this sweep writes about ...
    """
    import shutil

    need = runs * per_run_disk
    where = folder
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        free = shutil.disk_usage(where).free
    except OSError:  # pragma: no cover - an unusable folder is refused elsewhere
        free = None
    est = MemoryEstimate(agents=0, edges=0, parts={"disk": need}, per_run=per_run_disk,
                         per_agent=0.0)
    if free is not None and need > 0.9 * free:
        raise InsufficientMemoryError(
            f"this sweep writes about {format_bytes(need)} ({runs:,} runs of about "
            f"{format_bytes(per_run_disk)}) to {folder}, where {format_bytes(free)} is "
            "free; fewer runs or points, or a folder on a larger disk", est)
    keep = runs * RUN_BOOKKEEPING_BYTES + points * POINT_BOOKKEEPING_BYTES
    avail = available if available is not None else available_memory()
    if avail is not None and PROCESS_BASE + keep > 0.8 * avail:
        raise InsufficientMemoryError(
            f"this sweep has {runs:,} runs over {points:,} points: keeping track of them "
            f"needs about {format_bytes(PROCESS_BASE + keep)} of memory, and "
            f"{format_bytes(avail)} is available; fewer runs or points", est)


def check_memory(loaded: Any, workers: int = 1, *, runs_held: int = 0,
                 available: int | None = None, per_worker: int | None = None,
                 what: str = "this run") -> MemoryEstimate:
    """Estimate the memory of ``workers`` runs at once and refuse when it will not fit.

    Parameters
    ----------
    loaded
        A :class:`~steppe.scenario.loader.LoadedScenario`.
    workers
        Runs at once (worker processes; 1: in this process; 0: one per core).
    runs_held
        Runs whose results the main process keeps in memory until the end (``steppe
        run`` keeps every run's final states and series; a sweep writes each run as it
        ends: 0).
    available
        Bytes available (default: :func:`available_memory`).
    per_worker
        Memory limit of one worker on a cluster, instead of this machine's memory: each
        run is checked against it.
    what
        How the refusal names what was asked ("this run", "this sweep").

    Returns
    -------
    MemoryEstimate
        The estimate, with ``available`` and ``total`` filled in.

    Raises
    ------
    InsufficientMemoryError
        The estimate exceeds the memory available; the message gives both and what would
        fit (fewer workers, or fewer agents / a smaller ``population.scale``).

    Examples
    --------
    >>> from steppe import load_scenario
    >>> sc = load_scenario({"name": "big", "seed": 1, "network": {"kind": "erdos_renyi",
    ...                     "n": 2_000_000_000, "mean_degree": 10},
    ...                     "model": {"name": "voter"}, "stop": {"max_sweeps": 10}})
    >>> check_memory(sc, available=16 * 2**30)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    steppe.experiments.memory.InsufficientMemoryError: this run needs about ... GiB ...
    """
    est = estimate_memory(loaded)
    w = (os.cpu_count() or 1) if workers == 0 else max(1, workers)
    est.workers = w
    n = est.agents
    held_each = n + est.parts["series"]  # final stances (int8) and the series
    if runs_held and get_model(loaded.spec.model.name).continuous:
        held_each += 8 * n  # and final opinions
    est.held = runs_held * held_each
    if per_worker is not None:
        est.total = PROCESS_BASE + est.per_run
        est.available = per_worker
        if not est.fits:
            raise InsufficientMemoryError(
                f"{what} needs about {format_bytes(est.total)} per worker "
                f"({est.describe()}, + {format_bytes(PROCESS_BASE)} per process) but a "
                f"worker may use {format_bytes(per_worker)}; {_smaller(est, 1, loaded)}",
                est)
        return est
    est.total = w * (PROCESS_BASE + est.per_run) + (PROCESS_BASE if w > 1 else 0) + est.held
    est.available = available_memory() if available is None else available
    if est.fits:
        return est
    suggestion = []
    mw = est.max_workers()
    if w > 1 and mw >= 1:
        suggestion.append(f"it would fit with --workers {mw}")
    suggestion.append(_smaller(est, max(1, min(w, mw) if mw else 1), loaded))
    raise InsufficientMemoryError(
        f"{what} needs about {format_bytes(est.total)} ({w} run(s) at once: "
        f"{est.describe()}; + {format_bytes(PROCESS_BASE)} per process"
        + (f"; + {format_bytes(est.held)} of results kept" if est.held else "")
        + f") but {format_bytes(est.available)} is available; " + "; or ".join(suggestion),
        est)


def _smaller(est: MemoryEstimate, workers: int, loaded: Any) -> str:
    """'at most N agents' (and the population scale) that would fit."""
    m = est.max_agents(workers)
    if m < 2:
        return "not even a tiny network would fit: free some memory"
    what = f"a network of at most {m:,} agents would fit"
    pop = loaded.spec.population
    if pop is not None:
        what += f" (population.scale <= {m / pop.total:.3g}, --scale)"
    return what + (f" with {workers} worker(s)" if workers > 1 else "")
