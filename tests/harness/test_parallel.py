"""experiments/harness/local_pool.py: workers that end with their parent (real processes and real signals); the
runner on these workers is tested in tests/harness/test_runner.py."""
import os
import signal
import subprocess
import sys
import time

import pytest

from checkout import checkout_env
from experiments.harness import local_pool
from tests.processes import alive

CHILD = """
import os, time
from experiments.harness import local_pool
def work(i):
    os.write(1, f"{os.getpid()}\\n".encode())  # one write: the two workers' lines cannot interleave
    time.sleep(120)
with local_pool.pool(2) as ex:
    futures = [ex.submit(work, i) for i in range(2)]
    time.sleep(120)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_end_with_their_parent(sig):
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True,
                            env=checkout_env())
    workers = [int(proc.stdout.readline()) for _ in range(2)]
    assert all(alive(p) for p in workers)
    proc.send_signal(sig)
    proc.wait(10)
    deadline = time.time() + 10
    while any(alive(p) for p in workers) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(alive(p) for p in workers), "workers outlived their parent"


INTERRUPTED = """
import os, time
from experiments.harness import runner
def work(i):
    os.write(1, f"{os.getpid()}\\n".encode())
    time.sleep(60)
try:
    with runner.open(2) as r:
        for i in range(6):
            r.submit(work, i)
        for _ in r.as_completed():
            pass
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


@pytest.mark.parametrize("group", [False, True], ids=["the parent", "the process group (a terminal's Ctrl-C)"])
def test_ctrl_c_stops_the_running_jobs_at_once(group):
    """SIGINT while 2 workers run jobs of 60 s: the parent ends within 3 s, the workers with it, and no
    worker prints a traceback."""
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPTED], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, env=checkout_env(),
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    workers = [int(proc.stdout.readline()) for _ in range(2)]
    t0 = time.perf_counter()
    os.killpg(proc.pid, signal.SIGINT) if group else proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert time.perf_counter() - t0 < 3 and stdout == "interrupted\n" and stderr == "", stderr
    assert not any(alive(p) for p in workers)
