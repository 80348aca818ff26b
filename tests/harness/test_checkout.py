"""One checkout, one code: a script of a second clone run by a Python that imports this checkout's
code (another clone's virtual environment, PYTHONPATH) refuses in one line, naming both checkouts
and the fix, before any work; run from its own folder it runs its own code."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clone(tmp_path):
    """A real second clone, with this checkout's code (committed or not) copied over its own."""
    b = tmp_path / "B"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(b)], check=True, timeout=120)
    for folder in ("hypernet", "experiments", "docs"):
        shutil.copytree(ROOT / folder, b / folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    return b


def run(args, cwd, pythonpath):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join(map(str, pythonpath))
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_script_of_another_checkout_refuses_in_one_line(clone, tmp_path):
    """B's figure script with A's code installed (here: on PYTHONPATH, ahead of anything else)."""
    script = clone / "experiments" / "fig3_manifold.py"
    p = run([script, "--quick", "--out", tmp_path / "o"], tmp_path, [ROOT])
    assert p.returncode == 1 and p.stderr.count("\n") == 1, p.stderr
    assert p.stderr == (f"{script}: error: this script is in the checkout {clone}, but the Python running it imports "
                        f"experiments from the checkout {ROOT}; run `pip install -e {clone}` to install this "
                        f"checkout's code, or run {ROOT / 'experiments' / 'fig3_manifold.py'} from there\n")
    assert not (tmp_path / "o").exists() and not (ROOT / "runs" / "quick" / "fig3_manifold.json.lock").exists()
    # seeds.py as a file of B, and docs/render.py of B with A's code: the same line or B's own code
    p = run([clone / "experiments" / "harness" / "seeds.py", "fig3_manifold", "--seeds", "1", "--quick",
             "--out", tmp_path / "s"], tmp_path, [ROOT])
    assert p.returncode == 1 and "this script is in the checkout" in p.stderr and p.stderr.count("\n") == 1, p.stderr
    assert not (tmp_path / "s").exists()


def test_a_library_of_another_checkout_refuses(clone, tmp_path):
    """A's script and harness, but hypernet (the method, and the data beside it) from B."""
    (tmp_path / "only_b").mkdir()
    (tmp_path / "only_b" / "hypernet").symlink_to(clone / "hypernet")
    p = run([ROOT / "experiments" / "fig3_manifold.py", "--quick", "--check", "--out", tmp_path / "o"], tmp_path,
            [tmp_path / "only_b", ROOT])
    assert p.returncode == 1 and p.stderr.count("\n") == 1, p.stderr
    assert f"imports hypernet from the checkout {clone}; run `pip install -e {ROOT}`" in p.stderr


def test_each_checkout_runs_its_own_code(clone, tmp_path):
    """From B's folder (`python -m`, the working folder first on sys.path) B's script runs B's code,
    whatever else is installed; and A's script with A's code runs."""
    p = run(["-m", "experiments.fig3_manifold", "--quick", "--out", tmp_path / "b"], clone, [ROOT])
    assert p.returncode == 0, p.stderr
    p = run([ROOT / "experiments" / "fig3_manifold.py", "--quick", "--check", "--out", tmp_path / "a"], tmp_path,
            [ROOT])
    assert p.returncode == 0, p.stderr
    from experiments.harness import folders
    assert folders.script_checkout(clone / "docs" / "render.py") == clone
    assert folders.script_checkout(clone / "tests" / "conftest.py") is None  # pytest, not a script of the checkout
    assert folders.script_checkout(tmp_path / "x.py") is None


def test_the_harness_without_the_experiments_packages_is_one_line():
    """hypernet alone (pip install .) does not bring matplotlib, Dask or Optuna: a figure script then
    ends in one line saying what to install, not in a ModuleNotFoundError from the plotting module."""
    code = "import sys; sys.modules['optuna'] = None; import experiments.fig3_manifold"
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and p.stderr.count("\n") == 1, p.stderr
    assert p.stderr.startswith("optuna not installed: the figure scripts need the experiments' packages")


def test_an_edit_hidden_from_git_status_still_changes_the_code_id(tmp_path):
    """A file marked assume-unchanged (or skip-worktree) and edited: git status shows nothing, but the
    code id is '<commit>+<hash>' and the results record git_dirty, so no cached job of the commit is
    taken for the edited code."""
    b = tmp_path / "B"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(b)], check=True, timeout=120)
    for folder in ("hypernet", "experiments"):  # this checkout's code, committed or not, committed there
        shutil.copytree(ROOT / folder, b / folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(["git", "-C", str(b), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "code",
                    "--allow-empty"], check=True)
    probe = ("from experiments.harness import provenance as p; s = p.git_state(); "
             "print(s['git_dirty'], '+' in p.code_id())")
    assert run(["-c", probe], b, [b]).stdout.split() == ["False", "False"]
    for flag in ("--assume-unchanged", "--skip-worktree"):
        subprocess.run(["git", "-C", str(b), "update-index", flag, "hypernet/optim.py"], check=True)
        with open(b / "hypernet" / "optim.py", "a") as f:
            f.write("# an edit\n")
        assert subprocess.run(["git", "-C", str(b), "status", "--porcelain"], capture_output=True,
                              text=True).stdout == ""
        assert run(["-c", probe], b, [b]).stdout.split() == ["True", "True"], flag
        subprocess.run(["git", "-C", str(b), "update-index", flag.replace("--", "--no-"), "hypernet/optim.py"],
                       check=True)
        subprocess.run(["git", "-C", str(b), "checkout", "-q", "--", "hypernet/optim.py"], check=True)
