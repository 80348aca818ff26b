"""Finished jobs of a figure kept on disk, so that a run started again after an interruption
computes only the jobs it is missing.

A job's key is what it computes: the settings the figure names it by (its config and arguments,
as JSON) and the code that computes it, `provenance.code_id()`: the git commit of the checkout, plus a hash of
hypernet/ and experiments/ when they have uncommitted changes. Any change of the code, committed or
not, therefore makes every job new; nothing is bumped by hand. The code id is read once, when a
run starts (the checkout may move on while a long run goes on). The versions of Python and of the
libraries that compute (DEPENDENCIES) are in the key too: another NumPy, another job. Each finished job is one file
<dir>/<sha256 of the key>.pkl written atomically, holding the key, the result and where it ran.
The folder of a figure's run is <out>/.<figure>.jobs/ (experiments/harness/cli.py): the figure's lock
(staging.FigureLock) keeps two runs out of it, and the command line removes it only once the
figure's results are saved. A cache folder that is a file, a dangling symlink or not writable is
refused when the cache is opened, before the first job; a job file that does not unpickle to an
entry of this cache is a job to run again.
"""
import functools
import hashlib
import os
import pickle
import platform
import shutil
from importlib import metadata
from pathlib import Path

from . import staging
from .provenance import code_id
from .records import canonical, jsonable

def key(figure, config, *parts, drop=("workers",)):
    """A job's key: the figure, its config without the fields that do not change any job's result
    (`drop`: how many run at once), and the job's own arguments."""
    return [figure, {k: v for k, v in jsonable(config).items() if k not in drop}, *parts]


# Config fields that list runs beside each other (a figure's ablations): no run depends on the list,
# and a run's own settings are among its key's parts.
LISTS = ("ablations",)


def run_key(figure, config, *parts):
    """key() of one run of a config that lists runs beside each other (LISTS), without the list
    too: adding a run to the list keeps every other run's key."""
    return key(figure, config, *parts, drop=("workers", *LISTS))


def code_metrics():
    """{"job_commits": [code id]}: the code every job of a run (reused ones too) is keyed by, for
    the run's metrics."""
    return {"job_commits": [code_id()]}


DEPENDENCIES = ("numpy", "autograd", "scipy", "scikit-learn", "optuna")  # what computes a job beside our code


@functools.lru_cache(maxsize=None)
def dependency_versions():
    """{"python": version, library: version or None} of DEPENDENCIES, for the key."""
    def version(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None
    return {"python": platform.python_version(), **{name: version(name) for name in DEPENDENCIES}}


class JobCache:
    """get(key) -> (result, where) or None; put(key, result, where); clear(). Opening one checks
    its folder (staging.OutputError, one line)."""

    def __init__(self, folder, code=None, check=True):
        self.dir, self.code = Path(folder), code or code_id()
        if check:
            self.check()

    def check(self):
        """The folder is a writable folder, or nothing yet (its parent then must be writable)."""
        d = self.dir
        if os.path.lexists(d) and not d.is_dir():
            what = "a dangling symlink" if d.is_symlink() and not d.exists() else "a file"
            raise staging.OutputError(f"{d} is {what}, where the finished jobs of the run are kept in a folder; "
                                      "remove it and run again")
        if d.is_dir() and not os.access(d, os.W_OK | os.X_OK):
            raise staging.OutputError(f"{d} (the finished jobs of the run) cannot be written; make it writable "
                                      "or remove it, and run again")

    def _path(self, text):
        return self.dir / (hashlib.sha256(text.encode()).hexdigest()[:32] + ".pkl")

    def _text(self, key):
        return canonical([self.code, dependency_versions(), key])

    def get(self, key):
        text = self._text(key)
        try:
            entry = pickle.loads(self._path(text).read_bytes())
        except FileNotFoundError:
            return None
        except Exception:  # damaged (e.g. a disk that filled up): a job to run again
            return None
        if not isinstance(entry, dict) or entry.get("key") != text or not {"result", "where"} <= set(entry):
            return None  # not an entry of this cache (a list, an int, another key): a job to run again
        return entry["result"], entry["where"]

    def put(self, key, result, where):
        text = self._text(key)
        data = pickle.dumps({"key": text, "result": result, "where": where})
        staging.atomic_write(self._path(text), lambda tmp: Path(tmp).write_bytes(data))

    def __len__(self):
        return len(list(self.dir.glob("*.pkl"))) if self.dir.is_dir() else 0

    def clear(self):
        shutil.rmtree(self.dir, ignore_errors=True)
