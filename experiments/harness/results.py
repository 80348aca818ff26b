"""Saving and loading an experiment's results.

run() writes <out>/<figure>.npz (arrays) then <out>/<figure>.json (config, metrics, timings,
versions), each to a temporary file renamed into place, both marked with one run id. plot() reads
only these files, through load_results, which refuses damaged files, another figure's results and
a json and npz of different runs. The command line (experiments/harness/cli.py) makes the four files of a
figure one unit (experiments/harness/staging.py).
"""
import contextlib
import contextvars
import dataclasses
import json
import math
import os
import platform
import time
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from . import staging
from .jobs import error_line, take_log
from .provenance import start_state
from .records import jsonable  # noqa: F401  (the figure scripts use it from here)
from .folders import ROOT
from .staging import atomic_write  # noqa: F401  (plotting and tests use it from here)

FIGURES = ROOT / "figures"  # a PAPER run with the default seed; committed
RUNS = ROOT / "runs"  # every other run by default; git-ignored
RUN_ID = "__run_id__"  # the npz entry holding the run id that the JSON holds too
DEFAULT_SEED = 7  # the seed of every figure's PAPER config
DEFAULT_SEEDS = (7, 8, 9, 10, 11)  # the seeds of the committed sweeps figures/seeds_<figure>.json


class ResultsMissing(FileNotFoundError):
    """plot() was asked for results that no run has saved."""


class ResultsInvalid(ValueError):
    """The saved files are damaged, of another figure, or halves of two different runs."""


class CommittedError(ValueError):
    """A run other than the PAPER config with its default seed(s) was to write the committed figures/."""


def versions():
    """The versions of Python and of the packages installed (read from their metadata: importing scipy and
    scikit-learn to ask them would take two seconds in every process that saves)."""
    from importlib.metadata import version
    return {"python": platform.python_version(), "numpy": np.__version__, "autograd": version("autograd"),
            "scipy": version("scipy"), "matplotlib": version("matplotlib"), "scikit-learn": version("scikit-learn"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}", **start_state()}


def config_name(config, paper, quick):
    """"PAPER" or "QUICK" when config is that config with any seed and any number of worker
    processes (`workers`: how many jobs run at once changes no result; jobcache.key leaves it out
    too), else "custom"."""
    def same(ref):
        keep = {"seed": ref.seed, **({"workers": ref.workers} if hasattr(ref, "workers") else {})}
        return dataclasses.replace(config, **keep) == ref
    return "PAPER" if same(paper) else "QUICK" if same(quick) else "custom"


def unless_paper(record):
    """"QUICK: ", "custom: ", ... for a title of a figure whose PAPER version names no config; "" for PAPER."""
    return "" if record["config_name"] == "PAPER" else f"{record['config_name']}: "


SCALED = ", budgets x "  # in the config name of a run at a fraction of the budgets: "PAPER, budgets x 0.1"


def budget_name(name, fraction):
    """The config name of a run at a fraction of a time-budgeted figure's budgets: "PAPER, budgets x
    0.1" (the name itself at fraction 1)."""
    return name if fraction == 1 else f"{name}{SCALED}{fraction:g}"


def seed_of(config, *keys):
    """An integer seed for one random stream, derived from the run's seed and a stage key."""
    return int(np.random.SeedSequence([config.seed, *keys]).generate_state(1)[0])


def stats(values):
    """The summary of one metric over runs (seeds): mean, sd (n - 1; 0 when n = 1), min, max and n
    over the values present (None: a run without one, e.g. a seed that never reached a target), and
    all values as given; mean, sd, min and max are None when no value is present."""
    present = [float(v) for v in values if v is not None]
    n = len(present)
    if not n:
        return {"mean": None, "sd": None, "min": None, "max": None, "n": 0, "values": list(values)}
    mean = math.fsum(present) / n
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in present) / (n - 1)) if n >= 2 else 0.0
    return {"mean": mean, "sd": sd, "min": min(present), "max": max(present), "n": n, "values": list(values)}


def check_finite_metrics(figure, metrics):
    """A NaN in the metrics means the run diverged: refuse to save it."""
    bad = [k for k, v in _leaves(metrics) if isinstance(v, float) and not np.isfinite(v)]
    if bad:
        raise FloatingPointError(f"{figure}: metrics {bad} are NaN or Inf; nothing was saved. "
                                 "The run diverged: lower the step sizes and run again.")


def _leaves(x, prefix=""):
    """(path, value) of every scalar in nested dicts and lists."""
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _leaves(v, f"{prefix}[{i}]")
    else:
        yield prefix, x


def is_committed(folder):
    """Do files written in `folder` end up in the committed figures/? `folder` may be a staging
    folder in it, a symlink to it, or spelt with `..`: what counts is where the files land."""
    return staging.final_folder(folder) == staging.final_folder(FIGURES)


def is_committed_run(config_name, seed):
    """Is this the result the committed figures/ holds: the PAPER config with its default seed, or a
    PAPER sweep (seed = its list of seeds) over DEFAULT_SEEDS, at the paper's budgets or at a fraction
    of them (config_name budget_name("PAPER", fraction))?"""
    if not isinstance(config_name, str):
        return False
    if isinstance(seed, (list, tuple)):
        return (config_name == "PAPER" or config_name.startswith("PAPER" + SCALED)) and list(seed) == list(DEFAULT_SEEDS)
    return config_name == "PAPER" and seed == DEFAULT_SEED


_FIGURE_COMMAND = contextvars.ContextVar("figure_command", default=False)


@contextlib.contextmanager
def figure_command():
    """Inside: the figure's command line (cli.main) draws its figure, after it checked what it draws
    (a PAPER run with the default seed, or --plot-only of such results). plotting.save writes the
    committed figures/ only here; a plot() or plotting.save called from Python elsewhere is refused."""
    token = _FIGURE_COMMAND.set(True)
    try:
        yield
    finally:
        _FIGURE_COMMAND.reset(token)


def check_drawing(folder, name):
    """plotting.save's rule for the committed figures/: its PNG and PDF are drawn by the figure's
    command line only (figure_command()); CommittedError in one line otherwise."""
    if is_committed(folder) and not _FIGURE_COMMAND.get():
        raise CommittedError(f"{folder}: {name}.png and .pdf in the committed {FIGURES} are drawn only by the "
                             f"figure's command line (`python experiments/{name}.py`, the PAPER run, or "
                             f"`python experiments/{name}.py --plot-only` to redraw the committed results), not by "
                             "plotting.save or plot() from Python; save into another folder")


def check_committed(folder, name, *, config_name, seed):
    """The one rule for the committed figures/: only the PAPER config with its default seed writes
    there (a seed sweep's summary, seed = the list of seeds: only the PAPER sweep over DEFAULT_SEEDS,
    at the paper's budgets or at a fraction of them, config_name budget_name("PAPER", fraction)); no
    run writes into a folder inside figures/. Raises CommittedError, before any work when called first; --force does not change this."""
    if staging.final_folder(FIGURES) in staging.final_folder(folder).parents:
        raise CommittedError(f"{folder} is inside the committed {FIGURES}, which holds only the PAPER run's files; "
                             "choose a folder outside it (or leave out --out: its default under runs/ is git-ignored)")
    if not is_committed(folder) or is_committed_run(config_name, seed):
        return
    sweep = isinstance(seed, (list, tuple))
    want = list(DEFAULT_SEEDS) if sweep else DEFAULT_SEED
    what = f"sweep {name} (seeds {' '.join(map(str, seed))})" if sweep else f"run of {name} (seed {seed})"
    allowed = f"the seeds {' '.join(map(str, want))}" if sweep else f"the default seed {want}"
    raise CommittedError(f"only a PAPER run writes the committed results in {FIGURES}, with {allowed}; this "
                         f"{config_name} {what} may not, even with --force: leave out --out (its default folder "
                         "under runs/ is git-ignored) or choose another folder")


def save_results(out, figure, *, config_name, config, metrics, timings, arrays):
    """Write <out>/<figure>.npz and <out>/<figure>.json atomically, both marked with one new run id;
    returns the JSON dict. Refuses (check_committed) a run that may not write the committed figures/."""
    check_committed(out, figure, config_name=config_name, seed=getattr(config, "seed", None))
    metrics = jsonable(metrics)
    check_finite_metrics(figure, metrics)
    run_id = staging.new_run_id()
    record = {"figure": figure, "run_id": run_id, "config_name": config_name, "config": jsonable(config),
              "metrics": metrics, "timings_s": jsonable(timings), "versions": versions()}
    jobs = take_log()
    if jobs:  # where each job of the run ran (host, CPU model), how long it took, whether it was reused
        record["jobs"] = jobs
    if _WARNINGS:
        record["warnings"] = list(dict.fromkeys(_WARNINGS))  # in order, each once
    text = json.dumps(record, indent=1, allow_nan=False) + "\n"  # fails here, before any file is written
    out = Path(out)
    atomic_write(out / f"{figure}.npz", lambda tmp: _savez(tmp, {**arrays, RUN_ID: np.array(run_id)}))
    atomic_write(out / f"{figure}.json", lambda tmp: Path(tmp).write_text(text))
    return record


_WARNINGS = []  # warnings raised in this process while collect_warnings() is active


@contextlib.contextmanager
def collect_warnings():
    """Warnings raised inside (e.g. hypernet.algorithms.BlowUpWarning: a loss that blew up but stayed
    finite) are shown as usual and also saved in the "warnings" list of the results JSON."""
    show = warnings.showwarning

    def keep(message, category, *args, **kwargs):
        _WARNINGS.append(f"{category.__name__}: {message}")
        show(message, category, *args, **kwargs)
    warnings.showwarning = keep
    try:
        yield _WARNINGS
    finally:
        warnings.showwarning = show
        _WARNINGS.clear()


def _savez(path, arrays):
    with open(path, "wb") as f:  # closed before the rename
        np.savez_compressed(f, **arrays)


def load_results(out, figure, command=None):
    """(record dict, arrays dict) saved by one run, or ResultsMissing / ResultsInvalid naming the
    file and what to do: run `command` (the command line that makes these results), by default
    the figure's script with --quick --out `out`."""
    out = Path(out)
    js, npz = out / f"{figure}.json", out / f"{figure}.npz"
    if is_committed(out):  # the committed PAPER results: restore them, do not replace them
        rerun = (f"these are the committed PAPER results: restore them with `git checkout -- {js} {npz}` "
                 f"(or remake them with the paper-scale run `python experiments/{figure}.py --force`)")
        missing = rerun
    elif command is not None:
        rerun, missing = f"run `{command}` again", f"run `{command}` before --plot-only"
    else:
        rerun = (f"run `python experiments/{figure}.py --quick --out {out}` again (the small config; without "
                 "--quick, the paper-scale run)")
        missing = (f"run `python experiments/{figure}.py --quick --out {out}` (the small config; without --quick, "
                   "the paper-scale run) before --plot-only")
    if not js.exists() or not npz.exists():
        raise ResultsMissing(f"no saved results for {figure} in {out} (need {js.name} and {npz.name}); {missing}")
    try:
        record = json.loads(js.read_text())
    except (ValueError, OSError) as e:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ResultsInvalid(f"{js} is not a readable results file ({error_line(e, kind=False)}); {rerun}") from None
    if not isinstance(record, dict) or not {"figure", "config_name", "config", "metrics"} <= set(record):
        raise ResultsInvalid(f"{js} is not a results file of this project (fields missing); {rerun}")
    if record["figure"] != figure:
        raise ResultsInvalid(f"{js} holds results of {record['figure']}, not {figure}; {rerun}")
    try:
        with np.load(npz, allow_pickle=False) as f:  # every array is read here, so damage shows here
            arrays = {k: f[k] for k in f.files}
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError, KeyError) as e:
        raise ResultsInvalid(f"{npz} is damaged or not an .npz of results ({type(e).__name__}); {rerun}") from None
    ids = record.get("run_id"), (str(arrays.pop(RUN_ID)) if RUN_ID in arrays else None)
    if ids[0] != ids[1]:  # (both None: saved before run ids existed)
        if any(out.glob(f".{figure}.stage-*/{staging.MARK}")):
            rerun = f"a save was interrupted: `python experiments/{figure}.py --out {out} --plot-only` finishes it"
        raise ResultsInvalid(f"{js.name} (run {ids[0]}) and {npz.name} (run {ids[1]}) in {out} come from "
                             f"different runs; {rerun}")
    return record, arrays


def stored_record(out, figure):
    """The record in <out>/<figure>.json as saved, unchecked, or {} when there is none readable."""
    try:
        record = json.loads((Path(out) / f"{figure}.json").read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) and isinstance(record.get("config", {}), dict) else {}


class Progress:
    """Prints `label step/total k=v ...` at most every `every_s` seconds, and at the last step."""

    def __init__(self, label, total, every_s=5.0):
        self.label, self.total, self.every_s = label, total, every_s
        self.t0 = self.last = time.perf_counter()

    def __call__(self, step, **values):
        now = time.perf_counter()
        if now - self.last >= self.every_s or step + 1 == self.total:
            self.last = now
            vals = " ".join(f"{k}={_fmt(v)}" for k, v in values.items())
            print(f"[{self.label}] {step + 1}/{self.total} {now - self.t0:6.1f}s {vals}", flush=True)


def _fmt(v):
    v = np.asarray(v)
    return f"{v.item():.4g}" if v.size == 1 else f"mean {v.mean():.4g}"
