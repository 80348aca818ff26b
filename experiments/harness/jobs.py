"""What every runner shares (experiments/harness/runner.py chooses which runs a figure's jobs):
a job, its result as it comes back with where it ran, the bookkeeping of a runner (the job
cache, the order of as_completed), and the log of the jobs that finished, for the results JSON.
A runner of its own kind (local_pool's processes, dask_cluster's workers) subclasses Runner with
_start, _pending, _wait, _cancel and close."""
import contextvars
import io
import itertools
import os
import platform
import socket
import time

from .provenance import code_id

WAIT_S = 60.0  # default of --wait-workers: seconds to wait for the first worker of a cluster
# The jobs that finished since the last take_log() ({"label", "reused", "host", "cpu", "pid",
# "wall_s", "cpu_s": the CPU seconds of the thread that ran it, "code": the code id that computed it, and
# on a Dask worker "worker": its address}): per thread, as the seeds of a sweep on a Dask worker run their
# figures in threads of one process.
_LOG = contextvars.ContextVar("log", default=None)


def error_line(e, kind=True):
    """An exception as one line (its type first if kind), for the one-line errors of the harness."""
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text}" if kind else text


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
    """Run one job in a worker: one BLAS thread, the results of jobs it depends on unwrapped. It comes
    back with its wall seconds and the CPU seconds of its thread: on a free core the two agree, and
    when other work shared the core the CPU seconds still say how long it takes on a core of its own."""
    from threadpoolctl import threadpool_limits
    args = [a.result if isinstance(a, Done) else a for a in args]
    with threadpool_limits(1):
        t0, c0 = time.perf_counter(), time.thread_time()
        out = fn(*args)
    return Done(out, {"host": socket.gethostname(), "cpu": cpu_model(), "pid": os.getpid(),
                      "wall_s": time.perf_counter() - t0, "cpu_s": time.thread_time() - c0, "code": code_id()})


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
            job_log().append({"label": job.label, "reused": job.reused, **(job.where or {})})
            (self.reused if job.reused else self.computed).append(job.label)
            yield job

    def progress(self, job):
        """'<wall> s wall on <host> (<finished>/<submitted>)': where a finished job ran and how far
        this runner is, for a figure's line about the job."""
        return (f"{job.where['wall_s']:.0f} s wall on {job.where['host']} "
                f"({len(self.reused) + len(self.computed)}/{len(self.jobs)})")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        if self.reused:
            print(f"[jobs] {len(self.reused)} job(s) reused from {self.cache.dir} (finished before an interruption), "
                  f"{len(self.computed)} computed", flush=True)


def take_log():
    """Where each job since the last call ran and how long it took (for the results JSON); clears it."""
    log = list(job_log())
    job_log().clear()
    return log


def job_log():
    if _LOG.get() is None:
        _LOG.set([])
    return _LOG.get()
