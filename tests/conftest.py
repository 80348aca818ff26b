"""A real Dask cluster on this machine for the tests that run figures through --scheduler: a
scheduler on 127.0.0.1 and 2 worker processes of one thread each, started once per test session;
`folders`, a repository's figures/ and runs/ in a temporary folder; and `quick_results`, each
figure's QUICK run made once per test session and shared by the tests that read it."""
import fcntl
import importlib
import os
import shutil

import pytest

# pytest.ini runs the tests in 2 worker processes, one per core of the machine they were timed on: one BLAS
# thread each, and in the processes they start (a second thread would spin against the other worker's:
# about 25% more CPU for the same numbers; the figures' jobs run on one thread anyway). Set before numpy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


QUIET = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s",
         "distributed.admin.system-monitor.interval": "5s"}


@pytest.fixture(scope="session")
def cluster():
    """The scheduler's address, tcp://127.0.0.1:PORT."""
    import os
    import dask
    from distributed import LocalCluster
    before = dict(os.environ)
    # Idle, a worker's profiler and 20 ms ticks cost about 14% of a core for the cluster (1 s per 30 s of the
    # tests without them): off and slower here, where nothing reads them (the nannies pass this config on).
    with dask.config.set(QUIET), LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                              dashboard_address=None) as c:
        os.environ.clear()  # the nannies set their workers' variables (BLAS threads, heap) here too:
        os.environ.update(before)  # not for the other tests' processes
        yield c.scheduler_address


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """figures/ and runs/ of a repository in tmp_path, so that default folders can be tried."""
    from experiments.harness import results
    monkeypatch.setattr(results, "FIGURES", tmp_path / "figures")
    monkeypatch.setattr(results, "RUNS", tmp_path / "runs")
    return tmp_path


@pytest.fixture(scope="session")
def quick_results(tmp_path_factory):
    """quick_results(name) -> (record, folder): the figure's run(QUICK, folder), made once per test session
    (with pytest-xdist, once for all its workers: the first to ask makes it, the others wait). Tests read
    the folder and may draw into it; a test that changes the results makes its own run."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # the workers' folders sit in one folder of this session
        shared = shared.parent
    root = shared / "quick_results"
    root.mkdir(exist_ok=True)

    def get(name):
        from experiments.harness import results
        folder = root / name
        with open(root / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (folder / f"{name}.json").exists():
                module = importlib.import_module(f"experiments.{name}")
                making = root / f".{name}.making"
                shutil.rmtree(making, ignore_errors=True)
                making.mkdir()
                module.run(module.QUICK, making)
                making.rename(folder)
        return results.load_results(folder, name)[0], folder
    return get
