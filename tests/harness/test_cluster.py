"""Figures on a real Dask cluster (a LocalCluster on 127.0.0.1, tests/conftest.py): the appendix
comparison through --scheduler, killed mid-way and started again, against a local run; and the one
line a command gives when the cluster cannot run its jobs."""
import argparse
import dataclasses
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from experiments import fig7_hpo
from experiments.harness import dask_cluster as dask_cluster
from experiments.harness import job_cache, results

ROOT = Path(__file__).resolve().parents[2]
FIG7 = [sys.executable, str(ROOT / "experiments" / "fig7_hpo.py"), "--quick"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
DONE = "[fig7_hpo] seed "  # the line fig7_hpo prints for each job it computed
# Figure 2's QUICK run made smaller (a few seconds; every stage runs) where what is tested is the cluster
SMALL_FIG2 = ("iters=30", "cv_iters=20", "lam_iters=10", "n_valid=200", "n_test=200", "valid_batch=50",
              "cv_grid=(-1.0, 3.0, 5)", "optimum_grid=(-1.0, 3.0, 9)")


def metric_keys(x, prefix=""):
    """The dotted names of every entry of nested metric dicts."""
    if not isinstance(x, dict):
        return {prefix}
    return set().union(*(metric_keys(v, f"{prefix}.{k}") for k, v in x.items())) if x else {prefix}


def test_appendix_comparison_on_a_cluster_killed_and_started_again(cluster, tmp_path):
    """Killed after 4 of its jobs, the cluster run started again computes only the jobs it was
    missing; its results have the local run's jobs, keys and arrays; each black-box method's curve
    is the local one's, cut at another trial (the trials are the same, only their count in the time
    budget differs); hyper-training's curves end within the span of their own second half."""
    # 10 of QUICK's 27 jobs: every method once per seed, at half QUICK's budgets
    methods = {"paper": ("random", "gp_bo", "tpe"), "converged": ("global_decay",)}
    config = dataclasses.replace(fig7_hpo.QUICK, problems=("h10",), budget_s={"h10": 1.0}, robust_budget_s=0.5,
                                 methods=methods, ablations={})
    remote, local, total = tmp_path / "cluster", tmp_path / "local", len(fig7_hpo.jobs_of(config))
    one = ["--set", "problems=('h10',)", "--set", "budget_s={'h10': 1.0}", "--set", "robust_budget_s=0.5",
           "--set", f"methods={methods!r}", "--set", "ablations={}"]
    assert total == 10
    cmd = FIG7 + one + ["--out", str(remote), "--scheduler", cluster]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)
    done = 0
    for line in first.stdout:
        done += line.startswith(DONE)
        if done == 4:
            break
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=60)
    kept = len(job_cache.JobCache(remote / ".fig7_hpo.jobs"))  # counted once nothing can add to it
    assert 4 <= kept < total and not (remote / "fig7_hpo.json").exists()
    second = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=900)
    assert second.returncode == 0, second.stderr[-2000:]
    assert f"[jobs] {kept} job(s) reused" in second.stdout
    assert sum(line.startswith(DONE) for line in second.stdout.splitlines()) == total - kept
    rec_c, c = results.load_results(remote, "fig7_hpo")
    assert sum(j["reused"] for j in rec_c["jobs"]) == kept and len(rec_c["jobs"]) == total
    assert not (remote / ".fig7_hpo.jobs").exists()  # emptied once the results were saved

    assert subprocess.run(FIG7 + one + ["--out", str(local)], capture_output=True, env=ENV, timeout=900).returncode == 0
    rec_l, a = results.load_results(local, "fig7_hpo")
    assert set(rec_l["timings_s"]) == set(rec_c["timings_s"]) and sorted(a) == sorted(c)
    assert metric_keys(rec_l["metrics"]) == metric_keys(rec_c["metrics"])
    for name in config.problems:  # both clocks stop hyper-training at its CPU budget
        budget_s = config.budget_s[name]
        for arrays, rec in ((a, rec_l), (c, rec_c)):
            assert rec["metrics"][name]["hyper_steps"] > 0
            assert budget_s <= arrays[f"{name}_paper_hyper_t"][-1] < budget_s + 0.5, name
        # (steps per CPU second are not compared: on a loaded machine they differed by 2x)
    for k in (k for k in a if k.endswith(("_valid", "_test"))):
        if "_hyper" in k or "_ablation" in k:
            t, x = a[k.rsplit("_", 1)[0] + "_t"], a[k]
            half = x[t >= t[-1] / 2]
            assert abs(c[k][-1] - x[-1]) <= 1.5 * (half.max() - half.min()) + 1e-3, k
        else:
            n = min(len(a[k]), len(c[k]))
            np.testing.assert_array_equal(a[k][:n], c[k][:n], err_msg=k)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fig4(tmp_path, *args):
    p = subprocess.run([sys.executable, str(ROOT / "experiments" / "fig4_local.py"), "--quick", "--out",
                        str(tmp_path / "out"), *args], capture_output=True, text=True, env=ENV, timeout=120)
    return p.returncode, p.stderr


def test_no_scheduler_or_no_worker_is_one_line_before_any_work(tmp_path):
    """Nothing at the address; a scheduler no worker joins within --wait-workers; an empty address;
    a negative wait: each one line, and no result written."""
    from distributed import LocalCluster
    code, err = fig4(tmp_path, "--scheduler", f"tcp://127.0.0.1:{free_port()}")
    assert code == 1 and err.count("\n") == 1 and "cannot reach a Dask scheduler at 'tcp://127.0.0.1:" in err
    with LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as empty:
        code, err = fig4(tmp_path, "--scheduler", empty.scheduler_address, "--wait-workers", "1")
    assert code == 1 and err.count("\n") == 1
    assert f"no Dask worker joined the scheduler at {empty.scheduler_address} within 1 s" in err
    assert "--wait-workers SECONDS" in err and "--nthreads 1" in err
    assert not (tmp_path / "out").exists()  # the folder the run made is not left behind empty
    code, err = fig4(tmp_path, "--scheduler", " ")
    assert code == 1 and "--scheduler is empty" in err
    code, err = fig4(tmp_path, "--scheduler", "127.0.0.1:0")
    assert code == 1 and err.count("\n") == 1 and "port 0 is not a TCP port" in err
    code, err = fig4(tmp_path, "--scheduler", "bogus", "--check")  # --check catches it, without connecting
    assert code == 1 and err.count("\n") == 1 and "--scheduler bogus: not a scheduler's address" in err, err
    from experiments.harness import cli
    for bad in ("tcp://bogus", "http://host:8786", "host:port", "tcp://host:8786/x", "[::1:8786"):
        with pytest.raises(ValueError, match=f"^--scheduler {re.escape(bad)}: not a scheduler's address"):
            cli.scheduler_of(argparse.Namespace(scheduler=bad, wait_workers=None))
    for good in ("tcp://127.0.0.1:8786", "host:8786", "tls://host.example.org:8786/", "tcp://[::1]:8786"):
        assert cli.scheduler_of(argparse.Namespace(scheduler=good, wait_workers=None))[0] == good
    code, err = fig4(tmp_path, "--wait-workers", "5")  # it would do nothing
    assert code == 1 and err.count("\n") == 1 and "--wait-workers applies only with --scheduler" in err
    code, err = fig4(tmp_path, "--scheduler", "tcp://x", "--wait-workers", "-1")
    assert code == 2 and "-1 is not a positive number of seconds" in err
    code, err = fig4(tmp_path, "--scheduler", "tcp://x", "--wait-workers", "0")  # Dask would wait for ever
    assert code == 2 and "0 is not a positive number of seconds" in err


def test_workers_of_other_code_or_with_more_threads_are_refused(cluster, monkeypatch):
    """Workers whose code id (commit and uncommitted changes) is not this checkout's, or a worker
    of two threads, are refused before any job is sent."""
    from distributed import LocalCluster
    monkeypatch.setattr(dask_cluster.provenance, "code_id", lambda: "0123456789abcdef")
    with pytest.raises(dask_cluster.ClusterError, match="runs code .* this checkout is 0123456789ab.*same commit"):
        dask_cluster.connect(cluster, 5)
    mine = dask_cluster.provenance.code_id()  # the same commit, other uncommitted changes: the line says so
    monkeypatch.setattr(dask_cluster.provenance, "code_id", lambda: mine.partition("+")[0] + "+feedbeef00000000")
    with pytest.raises(dask_cluster.ClusterError, match=f"this checkout is {mine[:12]} with uncommitted changes feedbeef"):
        dask_cluster.connect(cluster, 5)
    monkeypatch.undo()
    with LocalCluster(n_workers=1, threads_per_worker=2, host="127.0.0.1", dashboard_address=None) as two:
        with pytest.raises(dask_cluster.ClusterError, match="has 2 threads; start workers with --nthreads 1"):
            dask_cluster.connect(two.scheduler_address, 5)


@pytest.fixture
def scheduler():
    """A scheduler on 127.0.0.1 without workers, and a way to start and stop worker processes."""
    from distributed import LocalCluster
    started = []

    def worker(cwd, pythonpath, nthreads=1):
        env = {**os.environ, "PYTHONPATH": str(pythonpath)}
        p = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", c.scheduler_address, "--nthreads",
                              str(nthreads), "--host", "127.0.0.1", "--no-dashboard"], cwd=cwd, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(p)
        return p

    with LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as c:
        yield c.scheduler_address, worker
        for p in started:
            if p.poll() is None:
                p.terminate()
                p.wait(30)


def only_worker(client, before):
    """Wait until exactly one worker, not among `before`, is connected; its address."""
    import time
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = set(client.scheduler_info(n_workers=-1)["workers"])
        if len(workers) == 1 and not workers & before:
            return workers.pop()
        time.sleep(0.2)
    raise AssertionError(f"no new worker alone: {workers}")


def test_a_worker_that_joins_after_the_start_is_checked_by_every_job(scheduler, tmp_path, monkeypatch):
    """A worker of this checkout passes the check at connect; then it leaves and a worker of an
    older clone with an uncommitted change joins: the next job does not run there, and the run
    ends in one line naming that worker. A worker of 2 threads joining later is refused the same
    way. Each job that ran records the worker and the code id that computed it."""
    address, worker = scheduler
    good = worker(ROOT, ROOT)
    client = dask_cluster.connect(address, 60)
    try:
        mine = dask_cluster.provenance.code_id()
        with dask_cluster.Cluster(client) as r:
            r.submit(len, "abc")
            (job,) = list(r.as_completed())
        first = only_worker(client, set())
        assert job.result == 3 and job.where["worker"] == first and job.where["code"] == mine

        clone = tmp_path / "old"  # an older clone (this commit) with an edit nobody committed
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
        optim = clone / "hypernet" / "optim.py"
        optim.write_text(optim.read_text() + "\nEPS_EDITED = 1e-7\n")
        good.terminate()
        good.wait(30)
        old = worker(clone, clone)
        late = only_worker(client, {first})
        with pytest.raises(dask_cluster.WrongWorker) as e, dask_cluster.Cluster(client) as r:
            r.submit(len, "abc")
            list(r.as_completed())
        msg = str(e.value)
        assert msg.startswith(f"worker {late} (host {socket.gethostname()}) of {address}, which joined after the start, "
                              "runs code ") and f"this checkout is {mine[:12]}" in msg and "no job ran there" in msg
        assert "\n" not in msg

        # the command line: the run ends in that one line (the check at connect passed before it joined)
        from experiments import fig4_local
        monkeypatch.setattr(dask_cluster, "check", lambda *a: None)
        with pytest.raises(SystemExit) as e:
            fig4_local.main(["--quick", "--scheduler", address, "--out", str(tmp_path / "out")])
        assert str(e.value).startswith(f"fig4_local: error: worker {late} (host ") and "\n" not in str(e.value)
        assert not (tmp_path / "out" / "fig4_local.json").exists()
        monkeypatch.undo()

        old.terminate()  # then a worker of this code, but of 2 threads
        old.wait(30)
        worker(ROOT, ROOT, nthreads=2)
        two = only_worker(client, {first, late})
        with pytest.raises(dask_cluster.WrongWorker, match=f"worker {two} .* has 2 threads; .*--nthreads 1"), \
                dask_cluster.Cluster(client) as r:
            r.submit(len, "abc")
            list(r.as_completed())
    finally:
        client.close()


def self_signed(folder):
    """A key and a self-signed certificate for 127.0.0.1 (openssl), in PEM files; None without openssl."""
    import shutil
    if shutil.which("openssl") is None:
        return None
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return key, cert


def test_a_quick_figure_runs_over_tls_with_dasks_own_configuration(tmp_path):
    """A scheduler and a worker on 127.0.0.1 that speak TLS only (a self-signed certificate): the
    figure's --scheduler tls://... takes its certificates from Dask's configuration (here its
    environment variables) and runs; without them, one line saying which to set."""
    from distributed import LocalCluster
    from distributed.security import Security
    pems = self_signed(tmp_path)
    if pems is None:
        pytest.skip("no openssl to make a certificate")
    key, cert = map(str, pems)
    tls = Security(tls_ca_file=cert, tls_scheduler_cert=cert, tls_scheduler_key=key, tls_worker_cert=cert,
                   tls_worker_key=key, tls_client_cert=cert, tls_client_key=key, require_encryption=True)
    with LocalCluster(n_workers=1, threads_per_worker=1, protocol="tls://", host="127.0.0.1", security=tls,
                      dashboard_address=None) as c:
        address = c.scheduler_address
        assert address.startswith("tls://127.0.0.1:")
        fig = [sys.executable, str(ROOT / "experiments" / "fig2_global.py"), "--quick", "--scheduler", address,
               *(x for kv in SMALL_FIG2 for x in ("--set", kv))]
        p = subprocess.run([*fig, "--out", str(tmp_path / "plain")], capture_output=True, text=True, env=ENV,
                           timeout=120)
        assert p.returncode == 1 and p.stderr.count("\n") == 1 and "is a TLS address, but Dask's configuration has no " \
            "distributed.comm.tls.ca-file (DASK_DISTRIBUTED__COMM__TLS__CA_FILE)" in p.stderr, p.stderr
        env = {**ENV, "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": cert, "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": cert,
               "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": key}
        p = subprocess.run([*fig, "--out", str(tmp_path / "tls")], capture_output=True, text=True, env=env, timeout=600)
        assert p.returncode == 0, p.stderr[-2000:]
    record, _ = results.load_results(tmp_path / "tls", "fig2_global")
    assert record["config_name"] == "custom" and record["jobs"]
    assert all(j["worker"].startswith("tls://127.0.0.1:") and j["code"] for j in record["jobs"])


def test_a_scheduler_that_dies_mid_run_ends_the_run_in_one_line(tmp_path):
    """The scheduler SIGKILLed after the first job: one line (no traceback of distributed's reconnection
    before it) saying the cluster lost a job and that the finished jobs are kept."""
    import time
    port = free_port()
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
                               str(port), "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=ENV)]
    try:
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", f"tcp://127.0.0.1:{port}",
                                       "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"], cwd=ROOT, env=ENV,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        fig = subprocess.Popen([*FIG7, "--out", str(tmp_path / "out"), "--scheduler", f"tcp://127.0.0.1:{port}"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
        procs.append(fig)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and DONE not in fig.stdout.readline():
            pass
        procs[0].kill()
        _, err = fig.communicate(timeout=120)
        assert fig.returncode == 1 and err.count("\n") == 1, err
        assert "fig7_hpo: error: the cluster lost job" in err and "the jobs that finished are kept" in err
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(30)


def test_the_client_log_of_a_lost_scheduler_is_dropped_and_other_records_pass():
    """Both records distributed's client logs when the scheduler is gone (the timing decides which
    appear): the traceback of the reconnection and 'Failed to reconnect'; another record passes."""
    import logging
    make = lambda msg, exc=None: logging.LogRecord("distributed.client", logging.ERROR, "x", 1, msg, (), exc)  # noqa: E731
    try:
        raise OSError("Connection refused")
    except OSError:
        exc = sys.exc_info()
    assert not dask_cluster.quiet_tracebacks(make("", exc))
    assert not dask_cluster.quiet_tracebacks(make("Failed to reconnect to scheduler after 10.00 seconds, closing client"))
    assert dask_cluster.quiet_tracebacks(make("Restarting worker"))
