"""Finished jobs of a figure kept on disk, so that a run started again after an interruption
computes only the jobs it is missing.

A job's key is what it computes: the settings the figure names it by (its config and arguments,
as JSON) and the code that computes it, `provenance.code_id()`: the git commit of the checkout, plus a hash of
hypernet/ and experiments/ when they have uncommitted changes. Any change of the code, committed or
not, therefore makes every job new; nothing is bumped by hand. The code id is read once, when a
run starts (the checkout may move on while a long run goes on). Each finished job is one file
<dir>/<sha256 of the key>.pkl written atomically, holding the key, the result and where it ran.
The folder of a figure's run is <out>/.<figure>.jobs/ (experiments/harness/cli.py): the figure's lock
(staging.FigureLock) keeps two runs out of it, and the command line removes it only once the
figure's results are saved.
"""
import hashlib
import pickle
import shutil
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
        staging.atomic_write(self._path(text), lambda tmp: Path(tmp).write_bytes(data))

    def __len__(self):
        return len(list(self.dir.glob("*.pkl"))) if self.dir.is_dir() else 0

    def clear(self):
        shutil.rmtree(self.dir, ignore_errors=True)
