"""Jobs on a Dask cluster: experiments/harness/runner.py's runner for `--scheduler ADDRESS`, through the
public API of dask.distributed only (Client, Client.submit, as_completed, Client.run).

Before any work, `connect` checks what a job needs from the cluster, each failure one line saying
what to do: a scheduler at the address; a worker within `wait_s` seconds (--wait-workers); the
scheduler and every worker running this checkout's code (the same git commit and uncommitted
changes, experiments/harness/provenance.code_id: a job is computed by the code it is keyed by); one thread per
worker process (a job sets process-wide state, its BLAS threads and heap, and a time-budgeted job
needs a core of its own to be comparable). Workers load data/ from their own checkout.

A worker may join after that check (or be restarted from another checkout), so every job checks
the worker it runs on again, just before it runs (CHECKED_CALL): its code id and its thread count
against this process's. A job on a worker of other code or threads comes back unrun, and the run
ends in one line naming the worker (WrongWorker); each job that ran records in its "where" the
worker's address and code id.
"""
import ctypes
import dataclasses
import importlib
import os
import sys
import uuid
from concurrent.futures import CancelledError
from pathlib import Path

from . import jobs, provenance
from .folders import ROOT

CONNECT_S = 10  # seconds for the Client to connect once the scheduler has answered
PROBE_S = 5.0  # how long a scheduler has to answer the first connection
# The code id where it runs, or None where this repository's code does not import. A builtin (eval)
# with a string, so that the check itself unpickles on any scheduler or worker.
CODE_ID = ("__import__('importlib.util').util.find_spec('experiments.harness') is not None and "
           "__import__('experiments.harness.provenance').harness.provenance.code_id() or None")
# A job as it runs on a worker, checked first: the worker's address, host, threads and code id, then
# fn(*args) only when (code id, threads) == expect; else {WRONG: the worker's identity}, unrun. Like
# CODE_ID an eval of a string, so that the check runs the same on a worker of any version of this code.
WRONG = "__wrong_worker__"
WORKER_ID = ("(__import__('distributed').get_worker().address, __import__('socket').gethostname(), "
             f"__import__('distributed').get_worker().state.nthreads, ({CODE_ID}))")
CHECKED_CALL = (f"(lambda me: (lambda done: (done.where.update(worker=me[0], code=me[3]), done)[1])(fn(*args)) "
                f"if (me[3], me[2]) == expect else {{{WRONG!r}: me}})({WORKER_ID})")


class ClusterError(RuntimeError):
    """The cluster cannot run this command's jobs (no scheduler, no worker, other code)."""


def quiet_tracebacks(record):
    """A logging filter for distributed's client: its records of a lost scheduler are dropped. When the
    scheduler goes away, the client logs its failed reconnection (with a traceback of some 35 lines,
    then "Failed to reconnect ..."); the run then ends in one line of its own (Cluster._wait), which
    says what happened and what to do. Other records pass."""
    return record.exc_info is None and "reconnect" not in record.getMessage()


def connect(address, wait_s=jobs.WAIT_S):
    """A checked distributed.Client of the scheduler at `address`, or ClusterError."""
    import logging
    from distributed import Client
    client_log = logging.getLogger("distributed.client")
    if quiet_tracebacks not in client_log.filters:
        client_log.addFilter(quiet_tracebacks)
    probe(address)
    try:
        client = Client(address, timeout=f"{CONNECT_S}s", security=security())
    except (OSError, TimeoutError, ValueError, TypeError) as e:
        raise ClusterError(f"cannot reach a Dask scheduler at {address!r} ({jobs.error_line(e)})") from None
    try:
        check(client, address, wait_s)
    except BaseException:
        client.close()
        raise
    return client


def probe(address, timeout=PROBE_S):
    """Open one connection to `address` with Dask's own protocol and close it, within `timeout`
    seconds, or ClusterError: the Client would wait for minutes on a server that accepts a
    connection but does not answer as a Dask scheduler (a web server, the dashboard's port), or read
    its reply as an absurd message size. Runs in a thread of its own, so any event loop of the
    caller is left alone."""
    import asyncio
    import threading
    from distributed.comm import connect as dask_connect

    check_tls(address)
    tls = security().get_connection_args("client")  # Dask's own TLS configuration, as the Client's

    async def handshake():
        comm = await asyncio.wait_for(dask_connect(address, timeout=timeout, **tls), timeout + 0.5)
        await comm.close()

    outcome = []

    def attempt():
        try:
            asyncio.run(handshake())
            outcome.append(None)
        except BaseException as e:  # MemoryError too: another protocol's reply read as a message size
            outcome.append(e)
    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(timeout + 1.5)
    if outcome and outcome[0] is None:
        return
    if not outcome or isinstance(outcome[0], (asyncio.TimeoutError, MemoryError)):  # (TimeoutError: the same)
        why = (f"something answers there, but not as a Dask scheduler within {timeout:g} s: is it the dashboard "
               "or another server?")
    else:
        why = jobs.error_line(outcome[0])
    raise ClusterError(f"cannot reach a Dask scheduler at {address!r} ({why})")


def security():
    """distributed's Security from Dask's configuration (distributed.comm.tls.*, or the variables
    DASK_DISTRIBUTED__COMM__TLS__CA_FILE, ..._CLIENT__CERT, ..._CLIENT__KEY): what the Client uses."""
    from distributed.security import Security
    return Security()


def check_tls(address):
    """A tls:// address needs the client's certificates in Dask's configuration: one line if not."""
    if not address.startswith("tls://"):
        return
    import dask
    need = {"distributed.comm.tls.ca-file": "CA_FILE", "distributed.comm.tls.client.cert": "CLIENT__CERT"}
    missing = [f"{key} (DASK_DISTRIBUTED__COMM__TLS__{var})" for key, var in need.items() if not dask.config.get(key, None)]
    if missing:
        raise ClusterError(f"--scheduler {address} is a TLS address, but Dask's configuration has no {' and no '.join(missing)}; "
                           "set them (and distributed.comm.tls.client.key if the key is a file of its own) to the "
                           "certificates the scheduler and workers trust")


def check(client, address, wait_s):
    try:
        client.wait_for_workers(1, timeout=wait_s)
    except TimeoutError:
        raise ClusterError(f"no Dask worker joined the scheduler at {address} within {wait_s:g} s; start workers "
                           f"in a checkout of this commit with `dask worker {address} --nthreads 1`, or wait longer "
                           "with --wait-workers SECONDS") from None
    mine = provenance.code_id()
    theirs = {"the scheduler": client.run_on_scheduler(eval, CODE_ID)}
    theirs |= {f"worker {w}": c for w, c in client.run(eval, CODE_ID).items()}
    wrong = {k: c for k, c in theirs.items() if c != mine}
    if wrong:
        who, code = next(iter(wrong.items()))
        what = "cannot import this repository's code" if code is None else f"runs code {short_id(code)}"
        raise ClusterError(f"{who} of {address} {what}, this checkout is {short_id(mine)}"
                           + (f" ({len(wrong) - 1} more like it)" if len(wrong) > 1 else "")
                           + "; (re)start the scheduler and workers in a checkout of the same commit and changes "
                             "(package installed or PYTHONPATH=.)")
    many = {w: n for w, n in client.nthreads().items() if n != 1}
    if many:
        w, n = next(iter(many.items()))
        raise ClusterError(f"worker {w} of {address} has {n} threads; start workers with --nthreads 1 (one job per "
                           "process and core)")


def short_id(code):
    """A code id as a line shows it: the commit's first 12 digits, and the uncommitted changes' hash when
    there are some (two ids of one commit differ only there)."""
    commit, _, changes = code.partition("+")
    return commit[:12] + (f" with uncommitted changes {changes[:8]}" if changes else "")


def importable(x):
    """x, or for a function or config (a dataclass instance) of the script run as __main__ the same
    from that script imported by its name (experiments.<script>): by reference it pickles in a few
    bytes; by value a function would carry the script's globals with it (its data included)."""
    main = sys.modules.get("__main__")
    if getattr(x, "__module__", None) != "__main__" or not getattr(main, "__file__", None):
        return x
    try:
        path = Path(main.__file__).resolve().relative_to(ROOT).with_suffix("")
    except ValueError:  # a script outside this repository: as it is
        return x
    module = importlib.import_module(".".join(path.parts))
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return getattr(module, type(x).__qualname__)(**{f.name: getattr(x, f.name) for f in dataclasses.fields(x)})
    return getattr(module, x.__qualname__)


def steady_heap():
    """Dask's nanny starts each worker with MALLOC_TRIM_THRESHOLD_ set, and a set threshold stops
    glibc from raising its mmap threshold as a process runs: every array above 128 KiB is then
    mapped and unmapped at every step, and a job makes about 40% fewer steps per CPU second than in
    a process of its own (measured on Figure 7's hyper-training). Set the thresholds where glibc
    itself settles (mmap above 32 MiB, trim above 64 MiB), so that a time-budgeted job does the same
    work per second wherever it runs."""
    if "MALLOC_TRIM_THRESHOLD_" in os.environ and sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None)
        libc.mallopt(-3, 32 * 2 ** 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 64 * 2 ** 20)  # M_TRIM_THRESHOLD


def run_on_worker(fn, *args):
    """jobs.call on a Dask worker, with the heap of steady_heap."""
    steady_heap()
    return jobs.call(fn, *args)


class WrongWorker(ClusterError):
    """A job met a worker of other code, or of more threads, than the run was checked for."""


def wrong_worker(me, code, scheduler):
    """The one line of a job that met the worker `me` = (address, host, threads, code id)."""
    address, host, threads, theirs = me
    if theirs != code:
        what = "cannot import this repository's code" if theirs is None else f"runs code {short_id(theirs)}"
        fix = ("stop it, and (re)start workers in a checkout of the same commit and changes (package installed or "
               "PYTHONPATH=.)")
    else:
        what, fix = f"has {threads} threads", "stop it, and start workers with --nthreads 1 (one job per process and core)"
    return WrongWorker(f"worker {address} (host {host}) of {scheduler}, which joined after the start, {what}; this "
                       f"checkout is {short_id(code)} with 1 thread per worker: no job ran there; {fix}; the jobs that "
                       "finished are kept: run the same command again to go on from them")


class Cluster(jobs.Runner):
    """Jobs as futures of `client`; a job that takes another's result gets that job's future.
    inside: this runs as a job on a worker of the cluster (a seed of a sweep); while it waits for
    its own jobs it leaves its worker's thread to them (distributed.secede, then rejoin)."""

    def __init__(self, client, cache=None, inside=False):
        from distributed import as_completed
        super().__init__(cache)
        self.client, self._futures, self._done, self.inside = client, {}, as_completed(), inside
        self.code = provenance.code_id()  # what every worker was checked for at connect

    def _start(self, job):
        args = [(a.result if a.done else a.future) if isinstance(a, jobs.Job) else importable(a) for a in job.args]
        job.future = self.client.submit(eval, CHECKED_CALL, {"expect": (self.code, 1), "fn": run_on_worker,
                                                             "args": [importable(job.fn), *args]},
                                        priority=job.priority, pure=False, key=f"{job.label}-{uuid.uuid4().hex[:8]}")
        self._futures[job.future] = job
        self._done.add(job.future)

    def _pending(self):
        return bool(self._futures)

    def _wait(self):
        if self.inside:
            from distributed import rejoin, secede
            secede()
            try:
                future = next(self._done)
            finally:
                rejoin()
        else:
            future = next(self._done)
        job = self._futures.pop(future)
        try:
            done = future.result()  # a failed job raises its error here
        except CancelledError as e:  # not the job's error: the cluster lost it (scheduler gone, ...)
            raise ClusterError(f"the cluster lost job {job.label} ({jobs.error_line(e)}); the jobs that finished are kept: "
                               "run the same command again to go on from them") from None
        if isinstance(done, dict) and WRONG in done:
            raise wrong_worker(done[WRONG], self.code, self.client.scheduler.address)
        job.finish(done.result, done.where)
        return [job]

    def _cancel(self):
        if self._futures:
            self.client.cancel(list(self._futures))
        self._futures.clear()

    def close(self):
        self._cancel()
