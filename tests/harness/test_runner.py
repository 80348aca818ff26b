"""experiments/harness/runner.py and experiments/harness/job_cache.py on this machine (real worker processes): every job's
result, jobs that take other jobs' results, priorities, a failing job, the cache (reuse, keys,
what is recomputed) and the command line that empties it only once the results are saved."""
import os
import time

import pytest

from experiments.harness import provenance, cli, job_cache, results, runner
from tests import tiny_figure as tiny


def square(x):
    return x * x


def add(*xs):
    return sum(xs)


def pid(_):
    return os.getpid()


def fail_first(i):
    if i == 0:
        raise ValueError("job 0 failed")
    time.sleep(1.0)
    return i


@pytest.mark.parametrize("workers", [1, 2])
def test_every_job_and_the_jobs_that_take_their_results(workers):
    with runner.open(workers) as r:
        squares = [r.submit(square, i) for i in range(4)]
        total = r.submit(add, *squares, 100)
        done = list(r.as_completed())
    assert sorted(j.result for j in done if j is not total) == [0, 1, 4, 9] and total.result == 114
    assert done[-1] is total and all(j.where["wall_s"] >= 0 and j.where["host"] for j in done)
    pids = {j.where["pid"] for j in done}
    assert (pids == {os.getpid()}) if workers == 1 else (os.getpid() not in pids)


def test_higher_priority_starts_first_once_its_inputs_are_done():
    with runner.open(1) as r:
        a = r.submit(square, 2, label="a")
        r.submit(square, 3, label="b")
        r.submit(add, a, 1, label="after_a", priority=1)
        r.submit(square, 4, label="c")
        assert [j.label for j in r.as_completed()] == ["a", "after_a", "b", "c"]


def test_a_failed_job_stops_the_queue_at_once():
    """The error of one job arrives without running the jobs still queued (2 workers, 9 jobs of 1 s:
    waiting for them all would take 4 s)."""
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="job 0 failed"), runner.open(2) as r:
        for i in range(10):
            r.submit(fail_first, i)
        list(r.as_completed())
    assert time.perf_counter() - t0 < 2.5


def test_jobs_in_the_cache_are_reused_and_their_dependents_only_when_all_inputs_were(tmp_path):
    cache = job_cache.JobCache(tmp_path / "jobs")
    with runner.session(cache=cache):
        with runner.open(2) as r:
            a, b = r.submit(pid, "a", key="a"), r.submit(pid, "b", key="b")
            both = r.submit(add, a, b, key="a+b")
            first = {j.key[0]: j.result for j in r.as_completed()}
        assert len(cache) == 3
        cache._path(cache._text(["b", []])).unlink()  # as if killed before b was saved
        with runner.open(2) as r:
            a, b = r.submit(pid, "a", key="a"), r.submit(pid, "b", key="b")
            both = r.submit(add, a, b, key="a+b")
            list(r.as_completed())
    assert a.reused and a.result == first["a"] and not b.reused and b.result != first["b"]
    assert not both.reused and both.result == a.result + b.result  # its input b was computed again
    assert r.reused == ["pid"] and sorted(r.computed) == ["add", "pid"]
    assert results.jsonable(job_cache.key("fig", tiny.QUICK, "x")) == ["fig", {"seed": 7, "n": 5}, "x"]


def test_the_code_id_is_the_commit_and_names_uncommitted_changes():
    code = provenance.code_id()
    commit = provenance.git("rev-parse", "HEAD").decode().strip()
    dirty = bool(provenance.git("status", "--porcelain", "--", *provenance.CODE).strip())
    assert code == (f"{commit}+{provenance.source_hash()[:16]}" if dirty else commit)
    assert job_cache.JobCache("x", code="c1")._text("k") != job_cache.JobCache("x", code="c2")._text("k")


def run_with_a_job(config, out):
    with runner.open(1) as r:
        r.submit(square, 3, key=["tiny", config.seed])
        list(r.as_completed())
    return tiny.run(config, out)


def test_the_command_line_empties_the_cache_only_once_the_results_are_saved(tmp_path, monkeypatch):
    folder = tmp_path / ".tiny.jobs"

    def broken_plot(out):
        raise KeyError("curve")
    with pytest.raises(SystemExit):
        cli.main("tiny", run_with_a_job, broken_plot, paper=tiny.PAPER, quick=tiny.QUICK,
                     argv=["--out", str(tmp_path)])
    assert len(job_cache.JobCache(folder)) == 1 and not (tmp_path / "tiny.json").exists()
    cli.main("tiny", run_with_a_job, tiny.plot, paper=tiny.PAPER, quick=tiny.QUICK, argv=["--out", str(tmp_path)])
    assert not folder.exists() and results.load_results(tmp_path, "tiny")[0]["jobs"][0]["reused"] is True


def test_predicted_wall_time_places_jobs_as_the_runner_starts_them(tmp_path):
    """bench/predict_wall.py on hand-made records: Figure 5's grids wait for their hypernetwork,
    the unrolled run for the whole search; other figures' jobs are independent."""
    import json
    from bench import predict_wall
    fig5 = {"config": {"unrolled": [1, 2]}, "timings_s": {
        "hyper_784-100-10": 10.0, "hyper_784-10": 4.0, "cv_784-100-10": 5.0, "cv_784-10": 1.0,
        "unrolled_search_0": 2.0, "unrolled_search_1": 3.0, "unrolled": 6.0, "total": 99.0}}
    fig7 = {"config": {}, "timings_s": {"7_a_1000.0": 8.0, "7_b_100.0": 1.0, "7_c_1000.0": 8.0, "total": 1.0}}
    for name, record in (("fig5_many", fig5), ("fig7_hpo", fig7)):
        (tmp_path / f"{name}.json").write_text(json.dumps(record))
    table = predict_wall.predict(tmp_path, [1, 2])
    assert table["fig5_many"] == [31.0, 16.0, 15.0]  # any N: hyper 10 s then its grid 5 s
    assert table["fig7_hpo"] == [17.0, 9.0, 8.0]


def test_a_job_file_that_is_no_entry_of_the_cache_is_run_again(tmp_path, monkeypatch):
    """A job file that unpickles to a list, an int, a dict without the result, or that holds another
    key, is a job to compute again (no AttributeError); another NumPy (any dependency's version)
    keys other jobs."""
    import pickle
    cache = job_cache.JobCache(tmp_path / "jobs")
    cache.put("k", 42, {"host": "h"})
    assert cache.get("k") == (42, {"host": "h"})
    path = cache._path(cache._text("k"))
    for junk in ([1, 2], 5, None, {"key": cache._text("k")}, {"key": "other", "result": 1, "where": {}}):
        path.write_bytes(pickle.dumps(junk))
        assert cache.get("k") is None, junk
    cache.put("k", 42, {"host": "h"})
    real = job_cache.dependency_versions()
    monkeypatch.setattr(job_cache, "dependency_versions", lambda: {**real, "numpy": "0.1"})
    assert cache.get("k") is None
    monkeypatch.undo()
    assert cache.get("k") == (42, {"host": "h"}) and job_cache.dependency_versions()["numpy"] == np_version()


def np_version():
    import numpy
    return numpy.__version__


@pytest.mark.parametrize("kind", ["file", "dangling symlink", "read-only"])
def test_a_jobs_folder_that_cannot_hold_jobs_is_refused_before_the_first(tmp_path, kind, monkeypatch):
    folder, ran = tmp_path / ".tiny.jobs", []
    if kind == "file":
        folder.write_text("not a folder")
    elif kind == "dangling symlink":
        folder.symlink_to(tmp_path / "gone")
    else:
        folder.mkdir()
        folder.chmod(0o500)
        if os.access(folder, os.W_OK):
            pytest.skip("this user writes into read-only folders (root)")

    def run(config, out):
        ran.append(1)
        return run_with_a_job(config, out)
    for flags in (["--check"], []):
        with pytest.raises(SystemExit) as e:
            cli.main("tiny", run, tiny.plot, paper=tiny.PAPER, quick=tiny.QUICK, argv=["--out", str(tmp_path), *flags])
        assert str(e.value).startswith(f"tiny: error: {folder} ") and "\n" not in str(e.value), str(e.value)
    assert not ran and not (tmp_path / "tiny.json").exists()
    assert ("a dangling symlink" if kind == "dangling symlink" else "a file" if kind == "file" else
            "cannot be written") in str(e.value)
