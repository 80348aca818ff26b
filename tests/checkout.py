"""The environment of a subprocess that runs this checkout's code. PYTHONPATH names the checkout,
so that a test runs the code beside it even where another copy of hypernet is installed (e.g. a
shared virtual environment with another checkout installed in it)."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def checkout_env(**extra):
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}
