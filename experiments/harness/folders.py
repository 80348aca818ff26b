"""Where the repository's folders are: data/ (MNIST), figures/ (the committed results) and runs/.

ROOT is the checkout this package belongs to: its parent folder when it runs from a checkout
(`pip install -e .`, as requirements.txt does). A copy installed with `pip install .` lives in
site-packages, away from data/ and figures/: it then takes the checkout that the command runs in
(the working folder or one above it). The algorithms need none of these folders; the figure
scripts do.
"""
from pathlib import Path


def _is_checkout(folder):
    return (folder / "hypernet").is_dir() and (folder / "experiments").is_dir() and (folder / "data").is_dir()


def find_root():
    here = Path(__file__).resolve().parents[2]
    if _is_checkout(here):
        return here
    cwd = Path.cwd().resolve()
    return next((d for d in (cwd, *cwd.parents) if _is_checkout(d)), here)


ROOT = find_root()
