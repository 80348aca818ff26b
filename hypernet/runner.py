"""The one way every figure runs its independent jobs (Figure 4's algorithms and ablations, Figure
5's curves and hand-tuned grids, the appendix comparison's method runs, Figure 6's evaluation
models, the seeds of a sweep): on this machine's cores, or on a Dask cluster.

    with runner.open(config.workers) as r:            # inside a figure's run()
        a = r.submit(fn, config, "alg3", key=(config, "alg3"))
        b = r.submit(after, config, a, key=(config, "b"), priority=1)  # b takes a's result
        for job in r.as_completed():                  # every job, as it finishes (b too)
            job.result, job.where, job.reused

Where the jobs run is chosen once per command by `session` (hypernet/cli.py, --scheduler):
- local (the default): `workers` forked processes that die with this one (hypernet/parallel.py),
  or this process itself when workers == 1; a job whose inputs are not ready waits in this process;
- Dask: the cluster at the scheduler's address, through distributed's public API only
  (Client.submit, as_completed). A job that takes another's result is submitted at once with that
  job's future, so the cluster starts it as soon as its input exists (hypernet/cluster.py).
Every job runs with one BLAS thread and comes back with where it ran (host, CPU model, pid) and its
wall time. Jobs with a key are looked up in the session's JobCache (hypernet/jobcache.py) first;
a job is saved there as it finishes. A job that takes the result of a job computed in this run is
computed too (its cached result may have come from another input). Higher priority starts first;
equal priorities start in the order they were submitted.
"""
import contextlib
import contextvars
import heapq
import io
import itertools
import os
import platform
import socket
import sys
import time
from concurrent.futures import FIRST_COMPLETED, wait

from . import parallel

WAIT_S = 60.0  # default of --wait-workers: seconds to wait for the first worker of a cluster
# What `session` chose ({"client": of a checked Dask cluster or None, "cache"}) and the jobs that
# finished since the last take_log() ({"label", "reused", "host", "cpu", "pid", "wall_s"}): per thread,
# as the seeds of a sweep on a Dask worker run their figures in threads of one process.
_SESSION = contextvars.ContextVar("session", default={})
_LOG = contextvars.ContextVar("log", default=None)


class Job:
    """One call fn(*args); args may hold other Jobs, replaced by their results."""
    _seq = itertools.count()

    def __init__(self, fn, args, key, priority, label):
        self.fn, self.args, self.key, self.priority = fn, args, key, priority
        self.label, self.seq = label, next(Job._seq)
        self.deps = [a for a in args if isinstance(a, Job)]
        self.done, self.reused, self.result, self.where = False, False, None, None

    def inputs(self):
        return [a.result if isinstance(a, Job) else a for a in self.args]

    def finish(self, result, where, reused=False):
        self.done, self.result, self.where, self.reused = True, result, where, reused


class Done:
    """A job's result as it travels back from a worker, with where it ran."""

    def __init__(self, result, where):
        self.result, self.where = result, where


def cpu_model():
    try:
        with io.open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def call(fn, *args):
    """Run one job in a worker: one BLAS thread, the results of jobs it depends on unwrapped."""
    from threadpoolctl import threadpool_limits
    args = [a.result if isinstance(a, Done) else a for a in args]
    with threadpool_limits(1):
        t0 = time.perf_counter()
        out = fn(*args)
    return Done(out, {"host": socket.gethostname(), "cpu": cpu_model(), "pid": os.getpid(),
                      "wall_s": time.perf_counter() - t0})


class Runner:
    """What both kinds share: the cache, the jobs that finished, the order of as_completed."""

    def __init__(self, cache=None):
        self.cache, self._finished, self.reused, self.computed, self.jobs = cache, [], [], [], []

    def submit(self, fn, *args, key=None, priority=0, label=None):
        job = Job(fn, args, key, priority, label or getattr(fn, "__name__", "job"))
        self.jobs.append(job)
        if key is not None:  # the key names the inputs it was given by key too
            job.key = [key, [d.key for d in job.deps]]
        if self.cache is not None and job.key is not None and all(d.reused for d in job.deps):
            hit = self.cache.get(job.key)
            if hit is not None:
                job.finish(*hit, reused=True)
                self._finished.append(job)
                return job
        self._start(job)
        return job

    def as_completed(self):
        """Yield every job submitted to this runner as it finishes, including jobs submitted while
        this runs; the first failing job raises here (and no queued job starts)."""
        while self._finished or self._pending():
            if not self._finished:
                try:
                    new = self._wait()
                except BaseException:
                    self._cancel()
                    raise
                for job in new:
                    if self.cache is not None and job.key is not None:
                        self.cache.put(job.key, job.result, job.where)
                self._finished.extend(new)
            job = self._finished.pop(0)
            _log().append({"label": job.label, "reused": job.reused, **(job.where or {})})
            (self.reused if job.reused else self.computed).append(job.label)
            yield job

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        if self.reused:
            print(f"[jobs] {len(self.reused)} job(s) reused from {self.cache.dir} (finished before an interruption), "
                  f"{len(self.computed)} computed", flush=True)


class Local(Runner):
    """Jobs on `workers` forked processes of this machine (in this process when workers == 1)."""

    def __init__(self, workers, cache=None):
        super().__init__(cache)
        self.workers, self._queue, self._running, self._pool = workers, [], {}, None

    def _start(self, job):
        heapq.heappush(self._queue, (-job.priority, job.seq, job))

    def _pending(self):
        return bool(self._queue or self._running)

    def _ready(self):
        """The first queued job (by priority, then submission) whose inputs are all done."""
        for item in sorted(self._queue):
            if all(d.done for d in item[2].deps):
                self._queue.remove(item)
                heapq.heapify(self._queue)
                return item[2]
        return None

    def _wait(self):
        if self.workers == 1:
            job = self._ready()
            done = call(job.fn, *job.inputs())
            job.finish(done.result, done.where)
            return [job]
        if self._pool is None:
            self._pool = parallel.pool(self.workers)
        while len(self._running) < self.workers and (job := self._ready()) is not None:
            self._running[self._pool.submit(call, job.fn, *job.inputs())] = job
        finished = []
        for fut in wait(self._running, return_when=FIRST_COMPLETED).done:
            job, done = self._running.pop(fut), fut.result()
            job.finish(done.result, done.where)
            finished.append(job)
        return finished

    def _cancel(self):
        """A job failed, or Ctrl-C: kill the workers and their running jobs, start no queued job."""
        if self._pool is not None:
            self._pool.kill()
            self._pool = None
        self._queue.clear()
        self._running.clear()

    def close(self):
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


@contextlib.contextmanager
def session(scheduler=None, wait_s=WAIT_S, cache=None):
    """Where the jobs of the runners opened inside go: the Dask cluster of `scheduler` (connected
    and checked here, before any work) or this machine; and the JobCache they use (None: none)."""
    client = None
    if scheduler is not None:
        from . import cluster
        client = cluster.connect(scheduler, wait_s)
    token = _SESSION.set({"client": client, "cache": cache})
    try:
        yield
    finally:
        _SESSION.reset(token)
        if client is not None:
            client.close()


def open(workers):  # noqa: A001  (runner.open, as a file is opened)
    """A runner for one figure's jobs: the session's cluster; inside a job on a Dask worker (a seed
    of experiments/seeds.py), that worker's cluster; else `workers` local processes."""
    _log().clear()
    client, inside, cache = _SESSION.get().get("client"), False, _SESSION.get().get("cache")
    if client is None:
        client = _worker_client()
        inside = client is not None
    if client is not None:
        from . import cluster
        return cluster.Cluster(client, cache, inside=inside)
    return Local(workers, cache)


def _worker_client():
    """The Client of the Dask worker this code runs on as a job, or None."""
    if "distributed" not in sys.modules:  # not a Dask worker (and no second of importing it)
        return None
    try:
        from distributed import get_client, get_worker
        get_worker()
    except (ImportError, ValueError):
        return None
    return get_client()


def take_log():
    """Where each job since the last call ran and how long it took (for the results JSON); clears it."""
    log = list(_log())
    _log().clear()
    return log


def _log():
    if _LOG.get() is None:
        _LOG.set([])
    return _LOG.get()
