"""Finished jobs of a figure kept on disk, so that a run started again after an interruption
computes only the jobs it is missing.

A job's key is what it computes: the settings the figure names it by (its config and arguments,
as JSON) and the code that computes it, `code_id()`: the git commit of the checkout, plus a hash of
hypernet/ and experiments/ when they have uncommitted changes. Any change of the code, committed or
not, therefore makes every job new; nothing is bumped by hand. The code id is read once, when a
run starts (the checkout may move on while a long run goes on). Each finished job is one file
<dir>/<sha256 of the key>.pkl written atomically, holding the key, the result and where it ran.
The folder of a figure's run is <out>/.<figure>.jobs/ (hypernet/cli.py): the figure's lock
(store.FigureLock) keeps two runs out of it, and the command line removes it only once the
figure's results are saved.
"""
import functools
import hashlib
import json
import pickle
import shutil
import subprocess
from pathlib import Path

from . import store
from .paths import ROOT

CODE = ("hypernet", "experiments")  # the folders whose code computes the jobs


def _git(*args):
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, timeout=30, check=True).stdout


def _source_hash():
    """sha256 of every .py file under CODE, names and contents."""
    h = hashlib.sha256()
    for path in sorted(p for folder in CODE for p in (ROOT / folder).rglob("*.py")):
        h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


@functools.lru_cache(maxsize=None)
def code_id():
    """The git commit of the code, "<commit>+<hash>" when hypernet/ or experiments/ differ from it,
    or "source-<hash>" outside a git checkout. Read once per process."""
    try:
        commit = _git("rev-parse", "HEAD").decode().strip()
        dirty = _git("status", "--porcelain", "--", *CODE).strip()
    except (OSError, subprocess.SubprocessError):
        return f"source-{_source_hash()[:16]}"
    return f"{commit}+{_source_hash()[:16]}" if dirty else commit


def canonical(key):
    """The JSON text of a key (a figure's config and job arguments; dataclasses, tuples and NumPy
    values are turned into JSON's types first)."""
    from .results import jsonable
    return json.dumps(jsonable(key), sort_keys=True, allow_nan=False)


def key(figure, config, *parts, drop=("workers",)):
    """A job's key: the figure, its config without the fields that do not change any job's result
    (`drop`: how many run at once), and the job's own arguments."""
    from .results import jsonable
    return [figure, {k: v for k, v in jsonable(config).items() if k not in drop}, *parts]


class JobCache:
    """get(key) -> (result, where) or None; put(key, result, where); clear()."""

    def __init__(self, folder, code=None):
        self.dir, self.code = Path(folder), code or code_id()

    def _path(self, text):
        return self.dir / (hashlib.sha256(text.encode()).hexdigest()[:32] + ".pkl")

    def _text(self, key):
        return canonical([self.code, key])

    def get(self, key):
        text = self._text(key)
        try:
            entry = pickle.loads(self._path(text).read_bytes())
        except FileNotFoundError:
            return None
        except Exception:  # damaged (e.g. a disk that filled up): a job to run again
            return None
        return (entry["result"], entry["where"]) if entry.get("key") == text else None

    def put(self, key, result, where):
        text = self._text(key)
        data = pickle.dumps({"key": text, "result": result, "where": where})
        store.atomic_write(self._path(text), lambda tmp: Path(tmp).write_bytes(data))

    def __len__(self):
        return len(list(self.dir.glob("*.pkl"))) if self.dir.is_dir() else 0

    def clear(self):
        shutil.rmtree(self.dir, ignore_errors=True)
