"""The installed package: the API that hypernet/__init__.py declares imports, and a folder outside
the repository sees it (pip install -r requirements.txt installs this checkout; no PYTHONPATH)."""
import inspect
import os
import subprocess
import sys
from pathlib import Path

import hypernet

ROOT = Path(__file__).resolve().parents[2]


def test_every_name_of_the_api_imports_and_is_documented():
    assert len(hypernet.__all__) == len(set(hypernet.__all__)) >= 25
    for name in hypernet.__all__:
        obj = getattr(hypernet, name)
        assert inspect.isclass(obj) or callable(obj), name
        assert (obj.__doc__ or "").strip(), f"{name} has no docstring"
    namespace = {}
    exec("from hypernet import *", namespace)
    assert set(hypernet.__all__) <= set(namespace)


def test_the_docstring_maps_the_papers_algorithms_to_their_functions_in_order():
    doc = hypernet.__doc__
    lines = [doc.index(f"Algorithm {k}") for k in (1, 2, 3, 4)]
    assert lines == sorted(lines)
    for k, fn in ((1, "cross_validation"), (2, "hypertrain_global"), (3, "hypertrain_local"),
                  (4, "hypertrain_simplified")):
        line = doc[doc.index(f"Algorithm {k}"):].splitlines()[0]
        assert fn in line and fn in hypernet.__all__, line
    assert "hypertrain_unrolled" in doc and "fit_gp" in doc


def outside(tmp_path, *argv, timeout=120):
    """Run python from a folder outside the repository, without PYTHONPATH: hypernet comes from
    where pip installed it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, *argv], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_help_lists_the_api_from_outside_the_repository(tmp_path):
    p = outside(tmp_path, "-c", "import hypernet; help(hypernet)")
    assert p.returncode == 0, ("hypernet is not installed: `pip install -r requirements.txt` installs it "
                               f"(pip install -e .); {p.stderr.strip()[-300:]}")
    for name in hypernet.__all__:
        assert name in p.stdout, name
    assert "Algorithm 3  joint optimisation" in p.stdout


def test_logistic_example_runs_from_outside_the_repository(tmp_path):
    p = outside(tmp_path, str(ROOT / "experiments" / "own_logistic.py"), "--quick", timeout=900)
    assert p.returncode == 0, p.stderr[-500:]
    assert "scikit-learn lam*" in p.stdout and "Algorithm 3 (linear" in p.stdout
