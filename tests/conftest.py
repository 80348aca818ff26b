"""A real Dask cluster on this machine for the tests that run figures through --scheduler: a
scheduler on 127.0.0.1 and 2 worker processes of one thread each, started once per test session."""
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
