"""The workers of this machine: the processes of experiments/harness/runner.py's local runner, which
end with their parent, and the threads of map_chunks.

A figure's runs (Algorithms 3 and 4 of Figure 4; the curves of Figure 5) do not talk to each other,
so each is a job for a worker process with one BLAS thread. Workers are forked, and each asks the
Linux kernel to send it SIGKILL when its parent dies: a killed run (SIGKILL, SIGTERM, a closed
terminal) leaves no orphaned workers computing on. Workers ignore Ctrl-C; the parent decides: when
it stops (Ctrl-C, an error), the pool kills the running jobs at once instead of waiting for them.
"""
import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from threadpoolctl import threadpool_limits

PR_SET_PDEATHSIG = 1  # prctl option: the signal a process gets when its parent dies


def die_with_parent(parent_pid):
    """Make this process (a child of `parent_pid`) receive SIGKILL when its parent dies; exit at
    once if the parent has already died. The processes it starts in turn can do the same, so a
    whole tree of workers ends with its root."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _worker_start(parent_pid):
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C reaches the whole group: the parent acts


class Pool(ProcessPoolExecutor):
    """A ProcessPoolExecutor of forked workers that die with this process; leaving its `with`
    block by an exception (Ctrl-C included) kills the workers and their running jobs."""

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.kill()
        return super().__exit__(exc_type, exc, tb)

    def kill(self):
        """Cancel the queued jobs and SIGKILL every worker (the running jobs die with them)."""
        for process in list((self._processes or {}).values()):
            if process.is_alive():
                process.kill()
        self.shutdown(wait=False, cancel_futures=True)


def pool(workers):
    """A Pool of `workers` forked workers."""
    return Pool(workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_start,
                initargs=(os.getpid(),))


def map_chunks(fn, n, chunk, workers):
    """[fn(slice) for slices of range(n) of size `chunk`], run on `workers` threads with one BLAS
    thread each (NumPy releases the GIL in its array operations, so threads share the cores)."""
    slices = [slice(i, min(i + chunk, n)) for i in range(0, n, chunk)]
    with threadpool_limits(1), ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, slices))
