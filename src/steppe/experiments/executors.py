"""Where a sweep's runs execute: this process, local worker processes, or a Dask cluster.

Every executor takes a picklable function and a list of tasks, and yields
``(task, result)`` pairs in the order tasks finish, ``result`` being the function's return
value or the exception that stopped it. Results never depend on the executor: a task's
result is a function of the task alone (its seeds travel with it).

- :class:`InlineExecutor`: one task after the other in this process (``--workers 1``).
- :class:`ProcessExecutor`: local worker processes (``spawn``), a bounded number of tasks in
  flight. A worker process that dies (killed, out of memory) breaks the pool; the pool is
  rebuilt and the tasks it held are run again, up to :data:`MAX_POOL_RESTARTS` times.
- :class:`DaskExecutor`: a ``distributed.Client`` connected to a scheduler address
  (``--scheduler tcp://HOST:PORT``) or to a cluster started from a description file
  (``--cluster cluster.toml``: SLURM or PBS through dask-jobqueue, or a local Dask
  cluster). Dask reschedules the tasks of a worker that dies.

Cluster description files (TOML)
--------------------------------
::

    kind = "slurm"            # slurm | pbs | local
    jobs = 4                  # batch jobs to start (slurm, pbs), or
    # [adapt]                 # let the cluster grow and shrink with the queue:
    # minimum_jobs = 0
    # maximum_jobs = 20

    [job]                     # passed as is to dask_jobqueue.SLURMCluster / PBSCluster
    queue = "compute"
    account = "my-project"
    cores = 32
    processes = 32            # one single-threaded worker per core
    memory = "120GB"
    walltime = "04:00:00"
    job_script_prologue = ["source ~/steppe/.venv/bin/activate"]

``kind = "local"`` starts a ``distributed.LocalCluster`` on this machine (``workers``
processes of one thread; ``[job]`` is passed to ``LocalCluster``), useful to try the Dask
path without a cluster.

Examples
--------
>>> ex = InlineExecutor()
>>> [r for _, r in ex.map(abs, [-1, -2])]
[1, 2]
"""

from __future__ import annotations

import abc
import math
import multiprocessing as mp
import os
import tomllib
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ScenarioError, SteppeError
from ..inputs import read_bytes

__all__ = [
    "MAX_POOL_RESTARTS",
    "ClusterDescription",
    "DaskExecutor",
    "Executor",
    "InlineExecutor",
    "ProcessExecutor",
    "WorkerLost",
    "load_cluster_description",
    "make_executor",
    "start_cluster",
]

#: how many times a broken local pool is rebuilt before its tasks are given up as failed
MAX_POOL_RESTARTS = 3


class WorkerLost(RuntimeError):
    """The process running a task died (killed, out of memory) too many times."""


class Executor(abc.ABC):
    """Base class: ``map(fn, tasks)`` yields ``(task, result or exception)`` as tasks end."""

    #: human-readable description, e.g. "4 local processes"
    description: str = ""
    #: number of tasks that run at once (for chunking; 0 when unknown)
    slots: int = 1
    #: Numba threads each task may use (None: all, as in this process)
    threads: int | None = None

    @abc.abstractmethod
    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]
            ) -> Iterator[tuple[Any, Any]]:  # pragma: no cover - interface
        """Run ``fn`` on every task; yield ``(task, result or the exception it raised)``."""

    def worker_memory(self) -> int | None:
        """Memory available to one task on a worker, in bytes (None: this machine's)."""
        return None

    def close(self) -> None:  # noqa: B027 - nothing to release unless a subclass says so
        """Release workers and connections (nothing, by default)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InlineExecutor(Executor):
    """Run the tasks one after the other in this process.

    Examples
    --------
    >>> [type(r).__name__ for _, r in InlineExecutor().map(lambda x: 1 / x, [1, 0])]
    ['float', 'ZeroDivisionError']
    """

    description = "this process"
    slots = 1

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]
            ) -> Iterator[tuple[Any, Any]]:
        for t in tasks:
            try:
                res = fn(t)
            except Exception as exc:
                res = exc
            yield t, res


def die_with_parent(parent: int | None = None) -> None:
    """In a worker process: end when the process that started it ends, even killed with
    ``kill -9`` (Linux: ``PR_SET_PDEATHSIG``; elsewhere a thread that watches the parent).
    Without it, workers of a killed ``steppe run`` or ``steppe sweep`` would go on."""
    parent = os.getppid() if parent is None else parent
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) != 0:  # PR_SET_PDEATHSIG
            raise OSError(ctypes.get_errno(), "prctl")
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)
        return
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    import threading
    import time

    def watch() -> None:  # pragma: no cover - not Linux
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="steppe-parent-watch").start()


def threads_per_worker(workers: int) -> int:
    """Numba threads each of ``workers`` processes on this machine may use: the cores
    shared out, at least one.

    Examples
    --------
    >>> threads_per_worker(1) >= 1, threads_per_worker(10_000)
    (True, 1)
    """
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def use_threads(threads: int | None) -> None:
    """Let Numba's parallel kernels in this thread use ``threads`` threads (None: leave
    it), so that worker processes and their threads together do not ask for more cores
    than there are: oversubscribed, OpenMP threads spin while they wait and every kernel
    slows down several times (measured: the flagship's sensitivity analysis took 158 s
    with two workers, 41 s with one thread each). Results do not depend on it: the
    kernels' results are independent of the number of threads."""
    if threads is None:
        return
    import numba

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))


class ProcessExecutor(Executor):
    """Local worker processes started with ``spawn`` (safe with Numba and threads). Each
    worker's Numba kernels get their share of the cores (:func:`threads_per_worker`).

    At most ``2 × workers`` tasks are handed out at a time, so a pool that breaks loses
    little; its tasks are run again in a new pool.
    """

    def __init__(self, workers: int) -> None:
        self.workers = max(1, int(workers))
        self.slots = self.workers
        self.threads = threads_per_worker(self.workers)
        self.description = f"{self.workers} local process{'es' if self.workers > 1 else ''}"
        self.restarts = 0

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]
            ) -> Iterator[tuple[Any, Any]]:
        ctx = mp.get_context("spawn")
        pending: deque[Any] = deque(tasks)
        tries: dict[int, int] = {}
        while pending:
            inflight: dict[Future[Any], Any] = {}
            pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                       initializer=die_with_parent, initargs=(os.getpid(),))
            broken = False
            try:
                while pending or inflight:
                    while pending and len(inflight) < 2 * self.workers:
                        t = pending.popleft()
                        inflight[pool.submit(fn, t)] = t
                    done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
                    for fut in done:
                        t = inflight.pop(fut)
                        try:
                            res = fut.result()
                        except BrokenProcessPool:
                            inflight[fut] = t  # lost with the others
                            broken = True
                            break
                        except Exception as exc:
                            res = exc
                        yield t, res
                    if broken:
                        break
            finally:
                pool.shutdown(wait=not broken, cancel_futures=True)
            if broken:
                self.restarts += 1
                lost = list(inflight.values())
                for t in reversed(lost):
                    n = tries.get(id(t), 0) + 1
                    tries[id(t)] = n
                    if n > MAX_POOL_RESTARTS:
                        yield t, WorkerLost(
                            f"the worker process died {n} times while this task ran "
                            "(killed, or out of memory?)")
                    else:
                        pending.appendleft(t)


@dataclass
class ClusterDescription:
    """A cluster to start for a sweep, read from a TOML file (see the module docstring)."""

    kind: str
    jobs: int | None = None
    workers: int | None = None
    adapt: dict[str, Any] | None = None
    job: dict[str, Any] = field(default_factory=dict)
    source: str = "<cluster>"


_CLUSTER_KINDS = ("slurm", "pbs", "local")


def load_cluster_description(path: str | Path) -> ClusterDescription:
    """Read and check a cluster description file.

    Raises
    ------
    SteppeError
        The file is missing, not TOML, or has an unknown kind or field (the message names
        the file and the field).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.toml"
    >>> _ = p.write_text('kind = "slurm"\\njobs = 2\\n[job]\\ncores = 8\\nmemory = "16GB"\\n')
    >>> d = load_cluster_description(p)
    >>> d.kind, d.jobs, d.job["cores"]
    ('slurm', 2, 8)
    """
    p = Path(path)
    src = str(p)
    try:
        raw = read_bytes(p, what="cluster description")
    except ScenarioError as exc:
        message = "cluster description not found" if exc.message == "file not found" \
            else f"cluster description: {exc.message}"
        raise SteppeError(f"{exc.file}: {message}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise SteppeError(f"{src}: not valid TOML: {exc}") from None
    allowed = {"kind", "jobs", "workers", "adapt", "job"}
    for k in data:
        if k not in allowed:
            raise SteppeError(f"{src}: {k}: unknown field (allowed: "
                              f"{', '.join(sorted(allowed))}; given: {k!r})")
    kind = data.get("kind")
    if kind not in _CLUSTER_KINDS:
        raise SteppeError(f"{src}: kind: unknown cluster kind (allowed: "
                          f"{', '.join(_CLUSTER_KINDS)}; given: {kind!r})")
    for k in ("jobs", "workers"):
        v = data.get(k)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise SteppeError(f"{src}: {k}: must be a whole number >= 1 (given: {v!r})")
    for k in ("adapt", "job"):
        if k in data and not isinstance(data[k], dict):
            raise SteppeError(f"{src}: {k}: must be a table (given: {data[k]!r})")
    if kind == "local":
        if data.get("jobs") is not None or data.get("adapt") is not None:
            raise SteppeError(f"{src}: a local cluster takes workers, not jobs or adapt")
    elif data.get("workers") is not None:
        raise SteppeError(f"{src}: workers: a {kind} cluster takes jobs (or [adapt]); the "
                          "workers per job are [job] processes")
    elif data.get("jobs") is None and data.get("adapt") is None:
        raise SteppeError(f"{src}: jobs: say how many batch jobs to start (jobs = N), or "
                          "give an [adapt] table")
    return ClusterDescription(kind=kind, jobs=data.get("jobs"), workers=data.get("workers"),
                              adapt=data.get("adapt"), job=dict(data.get("job", {})),
                              source=src)


def _distributed() -> Any:
    """The ``distributed`` package, or a clear error saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise SteppeError("running on Dask needs the dask and distributed packages: "
                          "pip install 'steppe[cluster]'") from None
    return distributed


def start_cluster(desc: ClusterDescription, *, scale: bool = True) -> Any:
    """Start the cluster a description asks for.

    For SLURM and PBS the batch jobs are submitted by ``scale`` (or ``adapt``); with
    ``scale=False`` none is, and ``cluster.job_script()`` shows the script they would run.
    """
    if desc.kind == "local":
        LocalCluster = _distributed().LocalCluster

        opts = {"n_workers": desc.workers or os.cpu_count() or 1, "threads_per_worker": 1,
                # the scheduler's web server on this machine only, on a free port (None
                # means port 8787, which another cluster may hold)
                "processes": True, "dashboard_address": "127.0.0.1:0", **desc.job}
        try:
            return LocalCluster(**opts)
        except TypeError as exc:
            raise SteppeError(f"{desc.source}: job: {exc}") from None
    try:
        import dask_jobqueue
    except ImportError:
        raise SteppeError(f"{desc.source}: a {desc.kind} cluster needs dask-jobqueue: "
                          "pip install 'steppe[cluster]'") from None
    cls = dask_jobqueue.SLURMCluster if desc.kind == "slurm" else dask_jobqueue.PBSCluster
    opts = {"processes": desc.job.get("cores", 1), **desc.job}
    try:
        cluster = cls(**opts)
    except (TypeError, ValueError) as exc:
        raise SteppeError(f"{desc.source}: job: {exc}") from None
    if not scale:
        return cluster
    try:
        if desc.adapt is not None:
            cluster.adapt(**desc.adapt)
        else:
            cluster.scale(jobs=desc.jobs)
    except (TypeError, ValueError) as exc:
        cluster.close()
        raise SteppeError(f"{desc.source}: adapt: {exc}") from None
    return cluster


class DaskExecutor(Executor):
    """Run tasks on a Dask cluster through a ``distributed.Client``.

    Parameters
    ----------
    address
        A scheduler address (``tcp://host:port``) or a ``distributed`` cluster object.
    cluster
        A cluster this executor started and must close (from a description file).
    """

    def __init__(self, address: Any, *, cluster: Any = None, timeout: float = 30) -> None:
        Client = _distributed().Client

        self._cluster = cluster
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            if cluster is not None:
                cluster.close()
            raise SteppeError(f"--scheduler: cannot reach the Dask scheduler at {address} "
                              f"({type(exc).__name__}: {exc})") from None
        where = self.client.scheduler.address
        self.description = f"Dask cluster at {where}"
        self.threads = 1  # a worker per core is the rule on clusters (dask-jobqueue)
        self.slots = self._threads() or 0

    def _workers(self) -> dict[str, Any]:
        return dict(self.client.scheduler_info().get("workers", {}))

    def _threads(self) -> int:
        return sum(int(w.get("nthreads", 1)) for w in self._workers().values())

    def worker_memory(self) -> int | None:
        """The smallest memory limit per thread over the workers connected now."""
        per = [int(w["memory_limit"]) // max(1, int(w.get("nthreads", 1)))
               for w in self._workers().values() if w.get("memory_limit")]
        return min(per) if per else None

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]
            ) -> Iterator[tuple[Any, Any]]:
        as_completed = _distributed().as_completed
        token = uuid.uuid4().hex[:12]
        futures = {}
        for i, t in enumerate(tasks):
            f = self.client.submit(fn, t, key=f"steppe-sweep-{token}-{i}", pure=False)
            futures[f] = t
        for fut in as_completed(list(futures), loop=self.client.loop):
            t = futures.pop(fut)
            if fut.status == "finished":
                try:
                    res = fut.result()
                except Exception as exc:  # pragma: no cover - lost between checks
                    res = exc
            else:
                res = fut.exception()
                if not isinstance(res, BaseException):  # cancelled
                    res = WorkerLost(f"task {fut.status}")
            fut.release()
            yield t, res

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self._cluster is not None:
                self._cluster.close()
                self._cluster = None


def make_executor(workers: int | None = None, scheduler: str | None = None,
                  cluster: str | Path | None = None, tasks: int | None = None,
                  timeout: float = 30) -> Executor:
    """The executor for the command-line options.

    ``workers``: local processes (0 or None: one per core; 1: this process); ``scheduler``:
    a Dask scheduler address; ``cluster``: a cluster description file. At most one of
    ``scheduler`` and ``cluster``; ``tasks`` caps the local processes started; ``timeout``:
    seconds to wait for the scheduler.

    Raises
    ------
    SteppeError
        Conflicting options, an unreachable scheduler, a bad description file.

    Examples
    --------
    >>> make_executor(workers=1).description
    'this process'
    """
    if scheduler is not None and cluster is not None:
        raise SteppeError("give either --scheduler or --cluster, not both")
    if (scheduler is not None or cluster is not None) and workers is not None:
        raise SteppeError("--workers sets local processes; with --scheduler or --cluster the "
                          "cluster's workers run the sweep (drop --workers)")
    if scheduler is not None:
        if "://" not in scheduler and ":" not in scheduler:
            raise SteppeError(f"--scheduler: expected an address such as tcp://HOST:PORT "
                              f"(given: {scheduler!r})")
        return DaskExecutor(scheduler, timeout=timeout)
    if cluster is not None:
        desc = load_cluster_description(cluster)
        c = start_cluster(desc)
        return DaskExecutor(c, cluster=c)
    if workers is not None and workers < 0:
        raise SteppeError(f"--workers: must be >= 0 (allowed: 0 for one per core, or more; "
                          f"given: {workers})")
    n = (os.cpu_count() or 1) if not workers else workers
    if tasks is not None:
        n = max(1, min(n, tasks))
    return InlineExecutor() if n == 1 else ProcessExecutor(n)


def chunk_size(tasks: int, slots: int, most: int = 16) -> int:
    """Runs per task: enough tasks to keep every slot busy four times over, at most
    ``most`` runs each.

    Examples
    --------
    >>> chunk_size(1000, 4), chunk_size(10, 4), chunk_size(100, 0)
    (16, 1, 4)
    """
    slots = slots if slots > 0 else 8
    return max(1, min(most, math.ceil(tasks / (4 * slots))))
