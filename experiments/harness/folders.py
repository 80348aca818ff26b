"""Where the repository's folders are: data/ (MNIST), figures/ (the committed results) and runs/.

ROOT is the checkout this package belongs to: its parent folder when it runs from a checkout
(`pip install -e .`, as requirements.txt does). A copy installed with `pip install .` lives in
site-packages, away from data/ and figures/: it then takes the checkout that the command runs in
(the working folder or one above it). The algorithms need none of these folders; the figure
scripts do.

check_checkout(): a script of one checkout (a figure script, seeds.py, docs/render.py) runs the
library, harness and data of that checkout, never those another checkout installed in the Python
that runs it (a virtual environment of another clone): it refuses in one line, before any work.
"""
import sys
from pathlib import Path

ENTRY_FOLDERS = ("experiments", "docs", "bench")  # where a checkout's scripts are


def _is_checkout(folder):
    return (folder / "hypernet").is_dir() and (folder / "experiments").is_dir() and (folder / "data").is_dir()


def find_root():
    here = Path(__file__).resolve().parents[2]
    if _is_checkout(here):
        return here
    cwd = Path.cwd().resolve()
    return next((d for d in (cwd, *cwd.parents) if _is_checkout(d)), here)


ROOT = find_root()


def script_checkout(path):
    """The checkout whose experiments/, docs/ or bench/ holds the script `path`, or None (pytest, a
    Dask worker, python -c: no script of a checkout)."""
    path = Path(path).resolve()
    for d in path.parents:
        if _is_checkout(d):
            return d if path.relative_to(d).parts[0] in ENTRY_FOLDERS else None
    return None


class WrongCheckout(SystemExit):
    """The running script belongs to one checkout, the imported code to another."""


def check_checkout(main=None):
    """Refuse (WrongCheckout, one line) when the script that runs (`main`: default the __main__
    module's file) is in a checkout other than the one hypernet and experiments are imported from."""
    main = main or getattr(sys.modules.get("__main__"), "__file__", None)
    here = main and script_checkout(main)
    if not here:
        return
    import hypernet
    import experiments
    for module in (experiments, hypernet):
        file = Path(module.__file__).resolve()
        if file.parents[1] != here:
            theirs = file.parents[1] if _is_checkout(file.parents[1]) else None
            where = f"the checkout {theirs}" if theirs else f"{file.parent} (not a checkout)"
            there = f", or run {theirs / Path(main).resolve().relative_to(here)} from there" if theirs else ""
            raise WrongCheckout(f"{main}: error: this script is in the checkout {here}, but the Python running it "
                                f"imports {module.__name__} from {where}; run `pip install -e {here}` to install "
                                f"this checkout's code{there}")
