"""hypernet/parallel.py: results of the worker processes, and workers that end with their parent
(real processes and real signals)."""
import os
import signal
import subprocess
import sys
import time

import pytest

from hypernet import parallel
from hypernet.results import ROOT

CHILD = """
import os, sys, time
sys.path.insert(0, {root!r})
from hypernet import parallel
def work(i):
    os.write(1, f"{{os.getpid()}}\\n".encode())  # one write: the two workers' lines cannot interleave
    time.sleep(120)
with parallel.pool(2) as ex:
    futures = [ex.submit(work, i) for i in range(2)]
    time.sleep(120)
"""


def _square(x):
    return x, x * x


def test_map_processes_returns_every_result():
    for workers in (1, 2):
        assert sorted(parallel.map_processes(_square, [(i,) for i in range(5)], workers)) == \
            [(i, i * i) for i in range(5)]


def _fail_first(i):
    if i == 0:
        raise ValueError("job 0 failed")
    time.sleep(1.0)
    return i


def test_a_failed_job_stops_the_queue_at_once():
    """The error of one job arrives without running the jobs still queued (2 workers, 9 jobs of 1 s:
    waiting for them all would take 4 s)."""
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="job 0 failed"):
        list(parallel.map_processes(_fail_first, [(i,) for i in range(10)], 2))
    assert time.perf_counter() - t0 < 2.5


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is dead too
        return f.read().split()[2] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_end_with_their_parent(sig):
    proc = subprocess.Popen([sys.executable, "-c", CHILD.format(root=str(ROOT))], stdout=subprocess.PIPE, text=True)
    workers = [int(proc.stdout.readline()) for _ in range(2)]
    assert all(_alive(p) for p in workers)
    proc.send_signal(sig)
    proc.wait(10)
    deadline = time.time() + 10
    while any(_alive(p) for p in workers) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in workers), "workers outlived their parent"
