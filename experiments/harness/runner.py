"""The one way every figure runs its independent jobs (Figure 4's algorithms and ablations, Figure
5's curves and hand-tuned grids, the appendix comparison's method runs, Figure 6's evaluation
models, the seeds of a sweep): on this machine's cores, or on a Dask cluster.

    with runner.open(config.workers) as r:            # inside a figure's run()
        a = r.submit(fn, config, "alg3", key=(config, "alg3"))
        b = r.submit(after, config, a, key=(config, "b"), priority=1)  # b takes a's result
        for job in r.as_completed():                  # every job, as it finishes (b too)
            job.result, job.where, job.reused

Where the jobs run is chosen once per command by `session` (experiments/harness/cli.py, --scheduler):
- local (the default): `workers` forked processes that die with this one (experiments/harness/local_pool.py),
  or this process itself when workers == 1; a job whose inputs are not ready waits in this process;
- Dask: the cluster at the scheduler's address, through distributed's public API only
  (Client.submit, as_completed). A job that takes another's result is submitted at once with that
  job's future, so the cluster starts it as soon as its input exists (experiments/harness/dask_cluster.py).
Every job runs with one BLAS thread and comes back with where it ran (host, CPU model, pid) and its
wall time. Jobs with a key are looked up in the session's JobCache (experiments/harness/job_cache.py) first;
a job is saved there as it finishes. A job that takes the result of a job computed in this run is
computed too (its cached result may have come from another input). Higher priority starts first;
equal priorities start in the order they were submitted.
"""
import contextlib
import os
import contextvars
import heapq
import sys
from concurrent.futures import FIRST_COMPLETED, wait

from . import bounds, local_pool
from .jobs import WAIT_S, Done, Job, Runner, job_log, call, take_log  # noqa: F401  (the runner's API)

# What `session` chose ({"client": of a checked Dask cluster or None, "cache"}): per thread, as the
# seeds of a sweep on a Dask worker run their figures in threads of one process.
_SESSION = contextvars.ContextVar("session", default={})


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
            self._pool = local_pool.pool(bounds.processes(self.workers, os.cpu_count() or 1))  # no more than cores
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
        from . import dask_cluster
        client = dask_cluster.connect(scheduler, wait_s)
    token = _SESSION.set({"client": client, "cache": cache})
    try:
        yield
    finally:
        _SESSION.reset(token)
        if client is not None:
            client.close()


def open(workers):  # noqa: A001  (runner.open, as a file is opened)
    """A runner for one figure's jobs: the session's cluster; inside a job on a Dask worker (a seed
    of experiments/harness/seeds.py), that worker's cluster; else `workers` local processes."""
    job_log().clear()
    client, inside, cache = _SESSION.get().get("client"), False, _SESSION.get().get("cache")
    if client is None:
        client = _worker_client()
        inside = client is not None
    if client is not None:
        from . import dask_cluster
        return dask_cluster.Cluster(client, cache, inside=inside)
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
