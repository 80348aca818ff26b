"""run_all.sh and its driver (experiments/harness/run_all.py): the paper's figures by default and every
figure with --all, --list, --out relative to the caller's folder, --only, the flags passed to every
script, one line when no virtual environment is active; and, with a real QUICK figure and real
signals, that nothing outlives run_all.sh's pid and the same command resumes from the finished jobs.
Most tests run stand-in figure scripts that log how they were called, so that no figure computes."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from processes import alive, descendants

ROOT = Path(__file__).resolve().parents[2]
PAPER = ["fig2_global", "fig3_manifold", "fig4_local", "fig5_many", "fig6_gp", "fig7_hpo"]
STUB = "import os, sys\nopen(os.environ['RUN_ALL_LOG'], 'a').write(' '.join([os.getcwd(), *sys.argv]) + '\\n')\n"


@pytest.fixture
def repo(tmp_path):
    """A copy of run_all.sh and its driver beside stand-in scripts of fig2, fig4, fig5 and fig6 that log
    `<their folder> <script> <args>`."""
    repo = tmp_path / "repo"
    (repo / "experiments" / "harness").mkdir(parents=True)
    shutil.copy(ROOT / "run_all.sh", repo)
    for f in ("__init__.py", "harness/__init__.py", "harness/folders.py", "harness/run_all.py", "harness/wall_time.py"):
        shutil.copy(ROOT / "experiments" / f, repo / "experiments" / f)
    for name in ("fig2_global", "fig4_local", "fig5_many", "fig6_gp"):
        stub(repo, name)
    return repo


def stub(repo, name, text=STUB):
    (repo / "experiments" / f"{name}.py").write_text(text)


def run_all(repo, *args, cwd, env=None, at_once=False):
    """(exit code, stderr, the scripts' runs); each run was checked (--check) before the first began, in
    the order they run (at_once: the runs start together, so their order in the log is any)."""
    log = repo.parent / "log"
    p = subprocess.run(["bash", str(repo / "run_all.sh"), *args], cwd=cwd, capture_output=True, text=True,
                       env=env or {**os.environ, "PYTHON": sys.executable, "RUN_ALL_LOG": str(log)}, timeout=60)
    calls = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    checks = [c for c in calls if c.endswith(" --check")]
    runs = calls[len(checks):]
    same = sorted if at_once else list
    assert calls[:len(checks)] == checks and same(checks[:len(runs)]) == same(c + " --check" for c in runs), calls
    return p.returncode, p.stderr, runs


def test_relative_out_is_the_callers_folder(repo, tmp_path):
    caller = tmp_path / "u"
    caller.mkdir()
    code, _, calls = run_all(repo, "--quick", "--out", "myresults", cwd=caller)
    assert code == 0 and calls == [f"{repo} experiments/{n}.py --quick --out {caller}/myresults"
                                   for n in ("fig2_global", "fig4_local", "fig5_many", "fig6_gp")]
    code, _, calls = run_all(repo, "--out", "/abs/x", "--only", "fig6_gp", cwd=caller)
    assert calls == [f"{repo} experiments/fig6_gp.py --out /abs/x"]


def test_without_out_the_scripts_choose_their_folder(repo, tmp_path):
    """So `run_all.sh --quick` writes runs/quick/, never figures/ (experiments/harness/cli.py)."""
    code, _, calls = run_all(repo, "--quick", cwd=tmp_path)
    assert code == 0 and all(c.endswith(".py --quick") for c in calls) and len(calls) == 4


@pytest.mark.parametrize("args, says", [(["--out", ""], "--out is empty"), (["--out"], "--out: expected one argument"),
                                        (["--only", "fig9,fig2_global"], "unknown figure(s) fig9"),
                                        (["--only", "fig3_manifold"], "experiments/fig3_manifold.py does not exist"),
                                        (["--fast"], "unrecognized arguments: --fast"),
                                        (["--only", ","], "--only names no figure"),
                                        (["--only", " , "], "--only names no figure")])
def test_bad_arguments_run_nothing(repo, tmp_path, args, says):
    code, stderr, calls = run_all(repo, *args, cwd=tmp_path)
    assert code == 2 and says in stderr and calls == [] and len(stderr.splitlines()) == 1, stderr


def test_the_paper_by_default_every_figure_with_all(repo, tmp_path):
    """Figures 2-6 and the appendix comparison by default; --all adds the ablations and what is beyond the
    paper, each after the figure it builds on; --list prints them and runs nothing."""
    for name in PAPER + ["fig7_ablations", "fig8_warmstart"]:
        stub(repo, name)
    _, _, calls = run_all(repo, cwd=tmp_path)
    assert [c.split()[1] for c in calls] == [f"experiments/{n}.py" for n in PAPER]
    _, _, calls = run_all(repo, "--all", "--quick", cwd=tmp_path)
    assert [c.split()[1] for c in calls] == [f"experiments/{n}.py" for n in PAPER + ["fig7_ablations", "fig8_warmstart"]]
    for args, names in ((["--list"], PAPER), (["--all", "--list"], PAPER + ["fig7_ablations", "fig8_warmstart"]),
                        (["--list", "--only", "fig8_warmstart,fig2_global"], ["fig2_global", "fig8_warmstart"])):
        p = subprocess.run(["bash", str(repo / "run_all.sh"), *args], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "PYTHON": sys.executable, "RUN_ALL_LOG": str(tmp_path / "log")})
        assert p.returncode == 0 and p.stdout.splitlines() == names and not (tmp_path / "log").exists()
    stub(repo, "fig9_ift")  # a later experiment beyond the paper: in --all's list once its script exists
    _, _, calls = run_all(repo, "--all", cwd=tmp_path)
    assert calls[-1].split()[1] == "experiments/fig9_ift.py"


def test_the_real_lists(tmp_path):
    """This repository's own run_all.sh --list and --all --list."""
    env = {**os.environ, "PYTHON": sys.executable}
    listed = [subprocess.run(["bash", str(ROOT / "run_all.sh"), *a], capture_output=True, text=True, env=env,
                             timeout=60).stdout.split() for a in (["--list"], ["--all", "--list"])]
    assert listed[0] == PAPER
    assert listed[1][:6] == PAPER and {"fig7_ablations", "fig8_warmstart"} <= set(listed[1][6:])


def test_only_takes_commas_or_spaces_and_a_name_twice_runs_once(repo, tmp_path):
    for names in ("fig6_gp,fig2_global,fig6_gp", "fig6_gp fig2_global"):
        code, stderr, calls = run_all(repo, "--out", "/abs/x", "--only", names, cwd=tmp_path)
        assert code == 0, stderr
        assert calls == [f"{repo} experiments/{n}.py --out /abs/x" for n in ("fig2_global", "fig6_gp")]


def test_scheduler_and_wait_workers_go_to_every_script(repo, tmp_path):
    code, _, calls = run_all(repo, "--quick", "--scheduler", "tcp://127.0.0.1:8786", "--wait-workers", "5",
                             "--only", "fig2_global,fig5_many", cwd=tmp_path, at_once=True)
    assert code == 0 and sorted(calls) == [f"{repo} experiments/{n}.py --quick --scheduler tcp://127.0.0.1:8786 "
                                           "--wait-workers 5" for n in ("fig2_global", "fig5_many")]  # (at once)
    code, stderr, calls = run_all(repo, "--scheduler", cwd=tmp_path)
    assert code == 2 and "--scheduler: expected one argument" in stderr and calls == []


def test_every_figure_is_checked_before_the_first_runs(repo, tmp_path):
    """A later figure that would fail (its folder holds what it may not replace, say) stops run_all.sh
    before the first figure computes anything."""
    stub(repo, "fig5_many", STUB + "if '--check' in sys.argv:\n    sys.exit('fig5_many: error: no')\n")
    code, stderr, runs = run_all(repo, "--quick", cwd=tmp_path)
    assert code == 1 and "fig5_many: error: no" in stderr and runs == []


def test_a_failing_figure_stops_the_run_with_its_code(repo, tmp_path):
    stub(repo, "fig4_local", STUB + "if '--check' not in sys.argv:\n    sys.exit(3)\n")
    code, stderr, runs = run_all(repo, "--quick", cwd=tmp_path)
    assert code == 3 and [r.split()[1] for r in runs] == ["experiments/fig2_global.py", "experiments/fig4_local.py"]
    assert "experiments/fig4_local.py failed (exit code 3)" in stderr


def test_seed_and_plot_only_go_to_every_script(repo, tmp_path):
    code, _, runs = run_all(repo, "--seed", "8", "--plot-only", "--only", "fig2_global,fig4_local", cwd=tmp_path)
    assert code == 0 and runs == [f"{repo} experiments/{n}.py --plot-only --seed 8" for n in ("fig2_global", "fig4_local")]
    code, stderr, runs = run_all(repo, "--seed", cwd=tmp_path)
    assert code == 2 and "--seed: expected one argument" in stderr and runs == []


def test_help_prints_the_flags_and_runs_nothing(repo, tmp_path):
    p = subprocess.run(["bash", str(repo / "run_all.sh"), "--help"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and all(f in p.stdout for f in ("--quick", "--only", "--seed N", "--plot-only", "--all",
                                                             "--list", "--scheduler", "--wait-workers"))
    assert not (repo.parent / "log").exists() and not p.stdout.startswith("#")


def test_without_a_virtual_environment_one_line_says_what_to_do(repo, tmp_path):
    """No venv active and no PYTHON: no ModuleNotFoundError traceback, one line naming the fix."""
    envs = [{"PATH": "/usr/bin:/bin"}, {"PATH": str(tmp_path / "nowhere")}]
    bare = shutil.which("python3", path="/usr/bin:/bin")  # a Python without the dependencies
    if bare and subprocess.run([bare, "-c", "import autograd"], capture_output=True).returncode:
        envs.append({"PATH": "/usr/bin:/bin", "PYTHON": bare})
    for env in envs:
        p = subprocess.run(["/bin/bash", str(repo / "run_all.sh"), "--quick"], capture_output=True, text=True,
                           env=env, timeout=60)
        assert p.returncode == 2 and len(p.stderr.splitlines()) == 1, p.stderr
        assert "activate the virtual environment" in p.stderr and "PYTHON" in p.stderr and "Traceback" not in p.stderr


def test_time_spent_and_left_at_each_figure(repo, tmp_path):
    """At each figure's start and end: the time spent and the time left predicted from the job times of an
    earlier run of the same config in --out."""
    out = tmp_path / "out"
    out.mkdir()
    for name, s in (("fig2_global", 120.0), ("fig4_local", 30.0)):  # one recorded job each
        (out / f"{name}.json").write_text(json.dumps({"config_name": "QUICK", "config": {}, "timings_s": {"total": s},
                                                      "jobs": [{"label": "a", "wall_s": s}]}))
    p = subprocess.run(["bash", str(repo / "run_all.sh"), "--quick", "--out", str(out), "--only", "fig2_global,fig4_local"],
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PYTHON": sys.executable, "RUN_ALL_LOG": str(tmp_path / "log")})
    lines = p.stdout.splitlines()
    assert p.returncode == 0 and "0 s spent; about 2 min 30 s left" in lines[1], lines
    assert any(line.startswith("=== fig2_global done in 0 s; 0 s spent; about 30 s left") for line in lines), lines
    assert "nothing left" in lines[-2] and lines[-1].startswith("run_all.sh: all done in")


# ---- real processes, real signals -------------------------------------------------------------------
def _start(out):
    return subprocess.Popen(["bash", str(ROOT / "run_all.sh"), "--quick", "--only", "fig5_many", "--out", str(out)],
                            env={**os.environ, "PYTHON": sys.executable}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _kill_while_computing(out, sig):
    """Start the QUICK Figure 5 through run_all.sh, send `sig` to run_all.sh's pid once the figure computes
    with its worker processes and has finished a job; return the processes it had and the seconds
    until the last of them ended."""
    p = _start(out)
    deadline = time.monotonic() + 300  # (a loaded machine takes minutes to import and start them)
    while time.monotonic() < deadline:
        tree = descendants(p.pid)
        jobs = out / ".fig5_many.jobs"
        if len(tree) >= 3 and jobs.is_dir() and any(jobs.iterdir()):  # the figure and >= 2 pool workers
            break
        time.sleep(0.2)
    else:
        p.kill()
        pytest.fail("the figure did not start its workers within 300 s")
    tree = descendants(p.pid)
    t0 = time.monotonic()
    os.kill(p.pid, sig)  # run_all.sh's pid: bash exec'd the driver, so it is the driver's
    p.communicate(timeout=30)
    while any(alive(pid) for pid in tree) and time.monotonic() - t0 < 10:
        time.sleep(0.1)
    return tree, time.monotonic() - t0


def test_nothing_outlives_run_all_and_the_rerun_resumes(tmp_path):
    """SIGTERM, then in the rerun SIGKILL, to run_all.sh's pid during a QUICK figure: each time within 5 s
    none of the figure's processes computes on, and the same command at once takes the lock and reuses
    the finished jobs."""
    out = tmp_path / "out"
    for sig in (signal.SIGTERM, signal.SIGKILL):
        tree, took = _kill_while_computing(out, sig)
        assert not [pid for pid in tree if alive(pid)] and took < 5, (sig, tree, took)
    p = _start(out)
    stdout, stderr = p.communicate(timeout=900)  # (minutes on a loaded machine)
    assert p.returncode == 0, stderr
    jobs = json.loads((out / "fig5_many.json").read_text())["jobs"]
    assert any(j["reused"] for j in jobs) and "=== fig5_many done in" in stdout
