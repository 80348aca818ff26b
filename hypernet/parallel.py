"""Independent runs of a figure in parallel worker processes that end with their parent.

A figure's runs (Algorithms 3 and 4 of Figure 4; the curves of Figure 5) do not talk to each other,
so each is a job for a worker process with one BLAS thread. Workers are forked, and each asks the
Linux kernel to send it SIGKILL when its parent dies: a killed run (SIGKILL, SIGTERM, a closed
terminal) leaves no orphaned workers computing on.
"""
import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

PR_SET_PDEATHSIG = 1  # prctl option: the signal a process gets when its parent dies


def _die_with_parent(parent_pid):
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def pool(workers):
    """A ProcessPoolExecutor of forked workers that die with this process."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_die_with_parent, initargs=(os.getpid(),))


def map_processes(fn, args, workers):
    """Yield fn(*a) for every a in args, in the order they finish, `workers` at a time (in this
    process when workers == 1)."""
    if workers == 1:
        for a in args:
            yield fn(*a)
        return
    with pool(workers) as ex:
        pending = {ex.submit(fn, *a) for a in args}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
        except BaseException:  # a failed job (or the caller stopping): start no queued job
            ex.shutdown(wait=False, cancel_futures=True)
            raise
