"""A real Dask cluster on this machine for the tests that run figures through --scheduler: a
scheduler on 127.0.0.1 and 2 worker processes of one thread each, started once per test session;
and `folders`, a repository's figures/ and runs/ in a temporary folder."""
import pytest


@pytest.fixture(scope="session")
def cluster():
    """The scheduler's address, tcp://127.0.0.1:PORT."""
    import os
    from distributed import LocalCluster
    before = dict(os.environ)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
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
