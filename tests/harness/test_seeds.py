"""experiments/harness/seeds.py: a figure over seeds on local worker processes and on a real Dask cluster, a failing seed,
resuming, and the checks of the command line."""
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from checkout import checkout_env
from experiments.harness import seeds
from experiments.harness import results
from tests.processes import alive, children, descendants

ROOT = Path(__file__).resolve().parents[2]
FIG3 = "fig3_manifold"
# Figure 2 cut down to about two seconds a seed: small enough for a test, random enough that
# every seed gives other numbers.
TINY_FIG2 = {"n_valid": 100, "n_test": 100, "cv_grid": (-1.0, 3.0, 2), "optimum_grid": (-1.0, 3.0, 3),
             "cv_iters": 5, "iters": 20, "lam_iters": 5, "valid_batch": 50, "dense": (-2.0, 4.0, 5)}


def cli(*args):
    return subprocess.run([sys.executable, "-m", "experiments.harness.seeds", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, env=checkout_env(), timeout=120)


def saved(out, figure, seed):
    return json.loads((seeds.seed_folder(out, figure, seed) / f"{figure}.json").read_text())


def test_dask_cluster_gives_the_numbers_of_local_processes(tmp_path, cluster):
    lines = []
    local = seeds.sweep("fig2_global", [7, 8], quick=True, out=tmp_path / "local", jobs=2, overrides=TINY_FIG2,
                        log=lines.append)
    remote = seeds.sweep("fig2_global", [7, 8], quick=True, out=tmp_path / "dask", scheduler=cluster,
                         overrides=TINY_FIG2, log=lines.append)
    assert remote["backend"] == f"dask {cluster}" and local["backend"] == "local"
    # the seeds ran in the cluster's worker processes, and so did the jobs of each seed's figure
    assert all(not w.endswith(f" pid {os.getpid()}") for w in remote["ran_on"].values()) and len(remote["ran_on"]) == 2
    assert all(j["pid"] != os.getpid() for s in (7, 8) for j in saved(tmp_path / "dask", "fig2_global", s)["jobs"])
    assert not (tmp_path / "dask" / ".seeds_fig2_global.jobs").exists()  # emptied once the summary was saved
    assert local["completed"] == remote["completed"] == [7, 8] and local["failed"] == remote["failed"] == {}
    assert local["metrics"] == remote["metrics"]
    assert local["config_name"] == "custom" and local["config"]["cv_iters"] == 5 and "seed" not in local["config"]
    # the seeds differ, and each value is that seed's own saved result
    loss = local["metrics"]["final_hyper_train_loss"]
    assert loss["values"][0] != loss["values"][1] and loss["sd"] > 0 and loss["n"] == 2
    for i, seed in enumerate([7, 8]):
        assert saved(tmp_path / "dask", "fig2_global", seed)["metrics"]["final_hyper_train_loss"] == loss["values"][i]
        assert saved(tmp_path / "dask", "fig2_global", seed)["config"]["seed"] == seed
    # lists (the cross-validation curve) are not metrics; ints are
    assert "cv_lams" not in local["metrics"] and local["metrics"]["iterations"]["mean"] == 20
    assert sum(line.startswith("seed ") and " done in " in line for line in lines) == 4
    assert json.loads((tmp_path / "dask" / "seeds_fig2_global.json").read_text()) == remote


def test_a_failing_seed_keeps_the_others_and_a_rerun_resumes(tmp_path):
    blocked = seeds.seed_folder(tmp_path, FIG3, 8)
    blocked.parent.mkdir(parents=True)
    blocked.write_text("a file where seed 8's folder should be")
    first = cli(FIG3, "--seeds", 7, 8, "--quick", "--jobs", 2, "--out", tmp_path)
    assert first.returncode == 1
    assert "seed 8 failed: OutputError" in first.stderr and "seed 7: done in" in first.stdout
    summary = json.loads((tmp_path / f"seeds_{FIG3}.json").read_text())
    assert summary["completed"] == [7] and list(summary["failed"]) == ["8"]
    assert summary["failed"]["8"].startswith("OutputError: ") and "is a file" in summary["failed"]["8"]
    assert summary["metrics"]["lam_star"]["n"] == 1 and summary["metrics"]["lam_star"]["sd"] == 0.0

    seven = seeds.seed_folder(tmp_path, FIG3, 7) / f"{FIG3}.json"
    before = seven.read_bytes(), seven.stat().st_mtime_ns
    blocked.unlink()
    second = cli(FIG3, "--seeds", 7, 8, "--quick", "--jobs", 1, "--out", tmp_path)
    assert second.returncode == 0, second.stderr
    assert f"seed 7: skipped, complete results in {seven.parent}" in second.stdout
    assert "seed 8: done in" in second.stdout
    assert (seven.read_bytes(), seven.stat().st_mtime_ns) == before
    summary = json.loads((tmp_path / f"seeds_{FIG3}.json").read_text())
    assert summary["completed"] == [7, 8] and summary["failed"] == {} and summary["reused"] == [7]
    assert summary["run_ids"]["7"] == json.loads(before[0])["run_id"]
    assert set(summary["timings_s"]["per_seed"]) == {"7", "8"} and summary["timings_s"]["wall"] > 0


def test_saved_results_of_another_config_are_run_again(tmp_path):
    seeds.sweep(FIG3, [3], quick=True, out=tmp_path, jobs=1, log=lambda line: None)
    lines = []
    summary = seeds.sweep(FIG3, [3], quick=True, out=tmp_path, jobs=10 ** 400, overrides={"fd_step": 1e-4},
                          log=lines.append)
    assert summary["reused"] == [] and not any("skipped" in line for line in lines)
    assert summary["jobs"] == 1  # at most one run per seed at once: what is recorded is what ran
    assert saved(tmp_path, FIG3, 3)["config"]["fd_step"] == 1e-4


def test_summary_of_nested_metrics():
    records = {1: {"metrics": {"a": 1.0, "flag": True, "curve": [1.0, 2.0], "gp": {"err": 2.0, "n": 3}},
                   "timings_s": {"total": 1.5}, "run_id": "r1"},
               2: {"metrics": {"a": 4.0, "flag": False, "curve": [3.0], "gp": {"err": 2.0, "n": 5}},
                   "timings_s": {"total": 2.5}, "run_id": "r2"}}
    s = seeds.summarise("fig3_manifold", "QUICK", seeds.make_config(seeds.figure_module(FIG3), True, 1),
                        [1, 2, 9], records, {9: "ValueError: no"}, wall_s=3.0, folders={1: "a", 2: "b", 9: "c"},
                        reused=set(), backend="loky", jobs=2)
    assert set(s["metrics"]) == {"a", "gp.err", "gp.n"}
    assert s["metrics"]["a"] == {"mean": 2.5, "sd": 2.1213203435596424, "min": 1.0, "max": 4.0, "n": 2,
                                 "values": [1.0, 4.0]}
    assert s["metrics"]["gp.err"]["sd"] == 0.0 and s["metrics"]["gp.n"]["values"] == [3, 5]
    assert s["failed"] == {"9": "ValueError: no"} and s["completed"] == [1, 2]
    assert s["timings_s"] == {"wall": 3.0, "per_seed": {"1": 1.5, "2": 2.5}, "sum": 4.0}


@pytest.mark.parametrize("args, says", [
    (["fig9_nothing", "--seeds", "1"], "unknown figure 'fig9_nothing'; choose one of fig2_global"),
    ([FIG3, "--seeds", "1", "-3"], "seed -3 is negative"),
    ([FIG3, "--seeds", "1", "x"], "seed 'x' is not an integer"),
    ([FIG3, "--seeds", "4", "5", "4"], "seed 4 is given more than once"),
    ([FIG3], "the following arguments are required: --seeds"),
    ([FIG3, "--seeds", "1", "--jobs", "0"], "0 is not a positive integer"),
    ([FIG3, "--seeds", "1", "--out", ""], "--out is empty"),
    ([FIG3, "--seeds", "1", "--scheduler", " "], "--scheduler is empty"),
    ([FIG3, "--seeds", "1", "--wait-workers", "5"], "--wait-workers applies only with --scheduler"),
    ([FIG3, "--seeds", "1", "--scheduler", "tcp://127.0.0.1:99999"], "port 99999 is not a TCP port (1 to 65535)"),
])
def test_bad_arguments_give_one_line(args, says, capsys):
    with pytest.raises(SystemExit) as e:
        seeds.main(args)
    err = capsys.readouterr().err
    assert e.value.code == 2 and says in err and err.count("\n") == 1


@pytest.mark.parametrize("args, says", [
    (["fig5_many", "--budget-fraction", "0"], "budget fraction 0 is not above 0 and at most 1"),
    (["fig5_many", "--budget-fraction", "1.5"], "budget fraction 1.5 is not above 0 and at most 1"),
    (["fig5_many", "--budget-fraction", "nan"], "budget fraction nan is not above 0 and at most 1"),
    (["fig5_many", "--budget-fraction", "a tenth"], "budget fraction 'a tenth' is not a number"),
    (["fig2_global", "--budget-fraction", "0.5"], "--budget-fraction scales the time budgets of fig5_many only "
                                                  "(a figure with scaled(config, fraction)); fig2_global has none"),
    (["fig6_gp", "--budget-fraction", "0.5"], "--budget-fraction scales the time budgets of fig5_many only"),
])
def test_a_bad_budget_fraction_gives_one_line(args, says, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        seeds.main([*args, "--seeds", "1", "--quick", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and says in err and err.count("\n") == 1, err
    assert not (tmp_path / "x").exists()
    with pytest.raises(ValueError, match="give a number above 0 and at most 1"):  # from Python too
        seeds.sweep("fig5_many", [1], quick=True, out=tmp_path / "x", fraction=0)


def test_a_quick_sweep_at_a_budget_fraction(tmp_path):
    """Every seed runs the config with its time budgets scaled, and the summary says so."""
    s = seeds.sweep("fig5_many", [3], quick=True, out=tmp_path, jobs=1, fraction=0.5, log=lambda line: None)
    assert s["config_name"] == "QUICK, budgets x 0.5" and s["budget_fraction"] == 0.5 and s["completed"] == [3]
    assert s["budgets"] == {"top_budget_s": 1.5, "bottom_s": [1.0, 1.5], "search_budget_s": 0.5, "eval_every_s": 0.15}
    assert {k: s["config"][k] for k in s["budgets"]} == s["budgets"]
    run = saved(tmp_path, "fig5_many", 3)
    assert run["config"]["top_budget_s"] == 1.5 and run["config"]["cv_log_decays"] == [-9.0, -7.0, -5.0]
    assert s["metrics"]["top_budget_s"]["mean"] == 1.5 and s["metrics"]["784-20-10.end_s"]["mean"] == 1.5
    # the methods ran the scaled budgets and were evaluated every 0.15 s of them
    _, arrays = results.load_results(seeds.seed_folder(tmp_path, "fig5_many", 3), "fig5_many")
    for prefix in ("top_hyper", "top_unrolled"):
        t = arrays[f"{prefix}_t"]
        # stopped at the first evaluation past 1.5 s (a step under load may overrun by half a
        # second, so the end is bounded by QUICK's own 3 s, not by 1.5 s plus a typical step)
        assert t[-2] < 1.5 and 1.35 <= t[-1] < 3.0 and np.all(np.diff(np.floor(t[:-1] / 0.15)) >= 1), (prefix, t)
    # the search ran its scaled 0.5 s, not QUICK's own 1.0 s (its last hyper-iteration may overrun)
    assert arrays["unrolled_0_t"][-1] < 1.0 and s["metrics"]["784-10.end_s"]["mean"] == 1.0


def test_time_budget_figure_refuses_to_share_cores(tmp_path, capsys):
    jobs = os.cpu_count()  # fig5_many runs 2 processes a job: this many jobs need twice the cores
    with pytest.raises(SystemExit) as e:
        seeds.main(["fig5_many", "--seeds", "1", "2", "--quick", "--jobs", str(jobs), "--out", str(tmp_path / "x")])
    assert "trains against a time budget" in str(e.value.code) and "\n" not in str(e.value.code)
    assert not (tmp_path / "x").exists()


def test_run_as_a_file_from_another_folder_it_runs(tmp_path):
    """The jobs import the figures as experiments.<figure> (the installed checkout provides it): run as
    a file from another folder, the sweep runs."""
    p = subprocess.run([sys.executable, str(ROOT / "experiments" / "harness" / "seeds.py"), FIG3, "--seeds", "1", "--quick",
                        "--out", str(tmp_path / "out")], cwd=tmp_path, capture_output=True, text=True,
                       env=checkout_env(), timeout=300)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "out" / f"seeds_{FIG3}.json").exists()


# ---- the committed folder ------------------------------------------------------------------------
def test_only_the_paper_sweep_over_the_default_seeds_writes_figures(tmp_path, monkeypatch, capsys):
    """A QUICK sweep, or a PAPER sweep over other seeds than 7-11, into figures/ (a symlink to it,
    figures/../figures) is refused in one line before any seed runs; nothing there changes."""
    from experiments.harness import results
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "seeds_fig2_global.json").write_bytes((ROOT / "figures" / "seeds_fig2_global.json").read_bytes())
    monkeypatch.setattr(results, "FIGURES", figures)
    (tmp_path / "link").symlink_to(figures)
    before = {p.name: p.read_bytes() for p in figures.iterdir()}
    for out in (figures, tmp_path / "link", figures / ".." / "figures"):
        for argv in (["--quick", "--seeds", "7"], ["--seeds", "7", "8"], ["--quick", "--seeds", "7", "8", "9", "10", "11"]):
            t0 = time.perf_counter()
            with pytest.raises(SystemExit) as e:
                seeds.main(["fig2_global", *argv, "--jobs", "1", "--out", str(out)])
            assert time.perf_counter() - t0 < 5 and "\n" not in str(e.value)
            assert str(e.value).startswith(f"experiments.harness.seeds: error: only a PAPER run writes the committed "
                                           f"results in {figures}, with the seeds 7 8 9 10 11; this ")
    assert {p.name: p.read_bytes() for p in figures.iterdir()} == before and not (tmp_path / "runs").exists()
    results.check_committed(figures, "seeds_fig2_global", config_name="PAPER", seed=[7, 8, 9, 10, 11])  # allowed


def test_a_paper_sweep_at_a_budget_fraction_may_write_figures(tmp_path, monkeypatch, capsys):
    """The PAPER sweep over 7-11 at a fraction of the budgets writes figures/ (by default); QUICK or
    other seeds at a fraction, or a single run so named, may not; nor may it replace a committed sweep
    at the full budgets."""
    figures = tmp_path / "figures"
    figures.mkdir()
    monkeypatch.setattr(results, "FIGURES", figures)
    paper = results.budget_name("PAPER", 0.1)
    assert paper == "PAPER, budgets x 0.1" and results.budget_name("PAPER", 1) == "PAPER"
    results.check_committed(figures, "seeds_fig5_many", config_name=paper, seed=[7, 8, 9, 10, 11])  # allowed
    for name, seed in [(results.budget_name("QUICK", 0.1), [7, 8, 9, 10, 11]), (paper, [7, 8, 9, 10]),
                       (paper, 7), ("custom", [7, 8, 9, 10, 11])]:
        with pytest.raises(results.CommittedError, match=f"this {name} "):
            results.check_committed(figures / ".." / "figures", "seeds_fig5_many", config_name=name, seed=seed)
    for argv in (["--quick", "--seeds", "7", "8", "9", "10", "11"], ["--seeds", "7", "8"]):
        with pytest.raises(SystemExit) as e:
            seeds.main(["fig5_many", *argv, "--budget-fraction", "0.1", "--out", str(figures)])
        assert "only a PAPER run writes the committed results" in str(e.value) and "\n" not in str(e.value)
    # the default folder of the PAPER sweep at a fraction is figures/: there, a full-budget sweep is kept
    full = figures / "seeds_fig5_many.json"
    full.write_text(json.dumps({"figure": "fig5_many", "config_name": "PAPER", "config": {}}))
    with pytest.raises(SystemExit) as e:
        seeds.main(["fig5_many", "--seeds", "7", "8", "9", "10", "11", "--budget-fraction", "0.1"])
    assert str(e.value) == (f"experiments.harness.seeds: error: {full} holds the sweep at the paper's full budgets; a sweep "
                            "at budgets x 0.1 does not replace it: give --out")
    assert json.loads(full.read_text())["config_name"] == "PAPER" and sorted(os.listdir(figures)) == [full.name]


# ---- --scheduler at something that is not a Dask scheduler ---------------------------------------
def _server(kind):
    """A server on 127.0.0.1 that is not a Dask scheduler: a web server, or one that accepts and is silent."""
    import http.server
    import socketserver
    import threading

    class Silent(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.recv(1 << 16)
            time.sleep(30)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    server = (http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet) if kind == "http" else
              socketserver.ThreadingTCPServer(("127.0.0.1", 0), Silent))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize("kind", ["http", "silent", "dashboard"])
def test_a_scheduler_address_that_is_not_dask_fails_in_seconds(tmp_path, kind):
    """--scheduler at a web server, a silent server or a real Dask cluster's dashboard port, all on
    127.0.0.1: one line naming the address within seconds (it used to wait for minutes, or end in a
    MemoryError traceback)."""
    with contextlib.ExitStack() as stack:
        if kind == "dashboard":
            from dask.distributed import LocalCluster
            cluster = stack.enter_context(LocalCluster(n_workers=0, processes=False, dashboard_address="127.0.0.1:0"))
            address = f"tcp://127.0.0.1:{cluster.dashboard_link.split(':')[2].split('/')[0]}"
        else:
            server = _server(kind)
            stack.callback(server.shutdown)
            address = f"tcp://127.0.0.1:{server.server_address[1]}"
        t0 = time.perf_counter()
        with pytest.raises(SystemExit) as e:
            seeds.main([FIG3, "--seeds", "1", "--quick", "--scheduler", address, "--out", str(tmp_path / "out")])
        took = time.perf_counter() - t0
    assert not (tmp_path / "out").exists()  # the folder the sweep made is not left behind empty
    assert took < seeds.PROBE_S + 3, took
    assert str(e.value) == (f"experiments.harness.seeds: error: cannot reach a Dask scheduler at '{address}' (something "
                            f"answers there, but not as a Dask scheduler within {seeds.PROBE_S:g} s: is it the "
                            "dashboard or another server?)")


# ---- a killed sweep: no process left, and a rerun resumes ----------------------------------------
SWEEP = """
from experiments.harness import seeds
seeds.sweep("fig4_local", [1, 2], quick=True, out={out!r}, jobs=2, log=lambda line: print(line, flush=True),
            overrides=dict(n_valid=200, n_test=200, cv_grid=(-1.0, 3.0, 2), optimum_grid=(-1.0, 3.0, 3), cv_iters=20,
                           iters={iters}, valid_batch=50, dense=(-2.0, 4.0, 5), slope_iters=50, ablations=()))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_sweep_leaves_no_process_and_a_rerun_resumes(tmp_path, sig):
    """--jobs 2 of Figure 4, which runs 2 worker processes of its own per seed: killed while those
    compute, the sweep leaves none of its processes after 5 s, and the same sweep run at once finishes."""
    script = SWEEP.format(out=str(tmp_path), iters=300)
    sweep = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env=checkout_env())
    deadline = time.time() + 240
    while time.time() < deadline and sweep.poll() is None:  # each seed's job has started its 2 workers
        kids = children()
        if len([w for job in kids.get(sweep.pid, []) for w in kids.get(job, []) if alive(w)]) >= 4:
            break
        time.sleep(0.05)
    assert sweep.poll() is None, sweep.communicate()
    tree = descendants(sweep.pid)
    sweep.send_signal(sig)
    sweep.communicate(timeout=30)
    time.sleep(5)
    assert [p for p in tree if alive(p)] == [], "processes of the sweep outlived it"
    assert not (tmp_path / "seeds_fig4_local.json").exists()
    rerun = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                           env=checkout_env())
    assert rerun.returncode == 0 and "another process" not in rerun.stdout + rerun.stderr, rerun.stdout + rerun.stderr
    summary = json.loads((tmp_path / "seeds_fig4_local.json").read_text())
    assert summary["completed"] == [1, 2] and summary["failed"] == {}


# ---- PAPER results kept ---------------------------------------------------------------------------
def test_a_quick_sweep_does_not_replace_a_paper_sweep(tmp_path, monkeypatch):
    """The figure scripts' rule: a PAPER seed result or summary is replaced only by a PAPER sweep of
    the same seeds, or with --force (never in runs/seeds/, the committed summaries' folders)."""
    out = tmp_path / "d"
    seeds.sweep(FIG3, [7], out=out, jobs=1, log=lambda line: None)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    before = {p: p.read_bytes() for p in files}
    summary = out / f"seeds_{FIG3}.json"
    for argv, says in [(["--quick", "--seeds", "7"], f"{summary} holds a PAPER sweep (seeds 7); refusing to replace "
                        "it with a QUICK sweep (seeds 7); choose another --out, or add --force"),
                       (["--seeds", "7", "8"], "holds a PAPER sweep (seeds 7); refusing to replace it with a PAPER "
                        "sweep (seeds 7 8)"),
                       (["--seeds", "7", "--set", "fd_step=1e-4"], "refusing to replace it with a custom sweep"),
                       # without the summary, each seed's folder is checked the same way
                       (["--quick", "--seeds", "7"], f"{out}/seeds/{FIG3}/seed7/{FIG3}.json holds a PAPER result "
                        "(seed 7); refusing to replace it with a QUICK run (seed 7)")]:
        if "/seed7/" in says:
            summary.unlink()
            del before[summary]
            files.remove(summary)
        t0 = time.perf_counter()
        with pytest.raises(SystemExit) as e:
            seeds.main([FIG3, *argv, "--jobs", "1", "--out", str(out)])
        assert str(e.value).startswith("experiments.harness.seeds: error: ") and says in str(e.value), str(e.value)
        assert "\n" not in str(e.value) and time.perf_counter() - t0 < 10
    assert sorted(p for p in out.rglob("*") if p.is_file()) == files
    assert all(p.read_bytes() == b for p, b in before.items())
    assert seeds.sweep(FIG3, [7], out=out, jobs=1, log=lambda line: None)["config_name"] == "PAPER"  # the same: fine
    seeds.main([FIG3, "--quick", "--seeds", "7", "--jobs", "1", "--out", str(out), "--force"])
    assert saved(out, FIG3, 7)["config_name"] == "QUICK"
    assert json.loads((out / f"seeds_{FIG3}.json").read_text())["config_name"] == "QUICK"
    # in the folders the committed summaries point to, --force does not replace a PAPER seed
    monkeypatch.setattr(seeds, "FIGURES_SEEDS", tmp_path / "runs" / "seeds")
    monkeypatch.setattr(seeds, "seed_folders", lambda out: tmp_path / "runs" / "seeds")
    seeds.sweep(FIG3, [7], out=tmp_path / "runs", jobs=1, log=lambda line: None)
    with pytest.raises(SystemExit) as e:
        seeds.main([FIG3, "--quick", "--seeds", "7", "--jobs", "1", "--out", str(tmp_path / "runs"), "--force"])
    assert "holds a PAPER result (seed 7)" in str(e.value) and "--force does not apply in" in str(e.value)
    assert saved(tmp_path / "runs", FIG3, 7)["config_name"] == "PAPER"
