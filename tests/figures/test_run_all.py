"""run_all.sh's arguments: --out relative to the caller's folder, empty --out refused, the order of
the figures, --only. The scripts are stand-ins that log how they were called, so that no figure runs."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo(tmp_path):
    """A copy of run_all.sh beside experiments/ with fig2, fig4, fig5 and fig6, and a PYTHON that
    logs `<its folder> <script> <args>` instead of running the script."""
    repo = tmp_path / "repo"
    (repo / "experiments").mkdir(parents=True)
    shutil.copy(ROOT / "run_all.sh", repo)
    for name in ("fig2_global", "fig4_local", "fig5_many", "fig6_gp"):
        (repo / "experiments" / f"{name}.py").write_text("")
    fake = tmp_path / "python"
    fake.write_text(f'#!/bin/sh\necho "$PWD $*" >> {tmp_path}/log\n')
    fake.chmod(0o755)
    return repo


def run_all(repo, *args, cwd):
    """(exit code, stderr, the scripts' runs); each run was checked (--check) before the first began."""
    p = subprocess.run(["bash", str(repo / "run_all.sh"), *args], cwd=cwd, capture_output=True, text=True,
                       env={**os.environ, "PYTHON": str(repo.parent / "python")}, timeout=60)
    log = repo.parent / "log"
    calls = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    checks = [c for c in calls if c.endswith(" --check")]
    runs = calls[len(checks):]
    assert calls[:len(checks)] == checks and (not runs or checks == [c + " --check" for c in runs]), calls
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


@pytest.mark.parametrize("args, says", [(["--out", ""], "--out is empty"), (["--out"], "--out needs a folder"),
                                        (["--only", "fig9,fig2_global"], "unknown figure(s) fig9"),
                                        (["--only", "fig3_manifold"], "experiments/fig3_manifold.py does not exist"),
                                        (["--fast"], "unknown argument '--fast'"),
                                        (["--only", ","], "--only names no figure"),
                                        (["--only", " , "], "--only names no figure")])
def test_bad_arguments_run_nothing(repo, tmp_path, args, says):
    code, stderr, calls = run_all(repo, *args, cwd=tmp_path)
    assert code == 2 and says in stderr and calls == []


def test_fig3_runs_after_fig2_and_only_picks_in_paper_order(repo, tmp_path):
    (repo / "experiments" / "fig3_manifold.py").write_text("")
    _, _, calls = run_all(repo, cwd=tmp_path)
    assert [c.split()[1] for c in calls] == [f"experiments/{n}.py" for n in
                                             ("fig2_global", "fig3_manifold", "fig4_local", "fig5_many", "fig6_gp")]
    (repo / "experiments" / "fig7_hpo.py").write_text("")
    _, _, calls = run_all(repo, "--quick", cwd=tmp_path)
    assert calls[-1] == f"{repo} experiments/fig7_hpo.py --quick"  # the appendix comparison comes last
    _, _, calls = run_all(repo, "--only", "fig4_local,fig3_manifold", "--force", cwd=tmp_path)
    assert calls == [f"{repo} experiments/fig3_manifold.py --force", f"{repo} experiments/fig4_local.py --force"]


def test_only_takes_commas_or_spaces_and_a_name_twice_runs_once(repo, tmp_path):
    for names in ("fig6_gp,fig2_global,fig6_gp", "fig6_gp fig2_global"):
        code, stderr, calls = run_all(repo, "--out", "/abs/x", "--only", names, cwd=tmp_path)
        assert code == 0, stderr
        assert calls == [f"{repo} experiments/{n}.py --out /abs/x" for n in ("fig2_global", "fig6_gp")]


def test_scheduler_and_wait_workers_go_to_every_script(repo, tmp_path):
    code, _, calls = run_all(repo, "--quick", "--scheduler", "tcp://127.0.0.1:8786", "--wait-workers", "5",
                             "--only", "fig2_global,fig5_many", cwd=tmp_path)
    assert code == 0 and calls == [f"{repo} experiments/{n}.py --quick --scheduler tcp://127.0.0.1:8786 "
                                   "--wait-workers 5" for n in ("fig2_global", "fig5_many")]
    code, stderr, calls = run_all(repo, "--scheduler", cwd=tmp_path)
    assert code == 2 and "--scheduler needs a value" in stderr and calls == []


def test_every_figure_is_checked_before_the_first_runs(repo, tmp_path):
    """A later figure that would fail (its folder holds what it may not replace, say) stops run_all.sh
    before the first figure computes anything."""
    fake = repo.parent / "python"
    fake.write_text(f'#!/bin/sh\necho "$PWD $*" >> {tmp_path}/log\n'
                    'case "$*" in *fig5_many.py*--check*) echo "fig5_many: error: no" >&2; exit 1 ;; esac\n')
    code, stderr, runs = run_all(repo, "--quick", cwd=tmp_path)
    assert code == 1 and "fig5_many: error: no" in stderr and runs == []


def test_seed_and_plot_only_go_to_every_script(repo, tmp_path):
    code, _, runs = run_all(repo, "--seed", "8", "--plot-only", "--only", "fig2_global,fig4_local", cwd=tmp_path)
    assert code == 0 and runs == [f"{repo} experiments/{n}.py --seed 8 --plot-only" for n in ("fig2_global", "fig4_local")]
    code, stderr, runs = run_all(repo, "--seed", cwd=tmp_path)
    assert code == 2 and "--seed needs a value" in stderr and runs == []


def test_help_prints_the_flags_and_runs_nothing(repo, tmp_path):
    p = subprocess.run(["bash", str(repo / "run_all.sh"), "--help"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and all(f in p.stdout for f in ("--quick", "--only", "--seed N", "--plot-only",
                                                             "--scheduler", "--wait-workers"))
    assert not (repo.parent / "log").exists() and not p.stdout.startswith("#")
