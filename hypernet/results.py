"""Saving and loading an experiment's results, and the command line every figure script shares.

run() writes <out>/<figure>.npz (arrays) then <out>/<figure>.json (config, metrics, timings,
versions), each to a temporary file renamed into place, so an interrupted run leaves nothing
half-written. plot() reads only these files.
"""
import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "figures"


class ResultsMissing(FileNotFoundError):
    """plot() was asked for results that no run has saved."""


def versions():
    import matplotlib, scipy, sklearn  # noqa: E401
    from importlib.metadata import version
    return {"python": platform.python_version(), "numpy": np.__version__, "autograd": version("autograd"),
            "scipy": scipy.__version__, "matplotlib": matplotlib.__version__, "scikit-learn": sklearn.__version__,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}"}


def jsonable(x):
    """numpy scalars/arrays, tuples and dataclasses -> plain JSON types."""
    if dataclasses.is_dataclass(x):
        return jsonable(dataclasses.asdict(x))
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    return x


def config_name(config, paper, quick):
    """"PAPER" or "QUICK" when config is that config with any seed, else "custom"."""
    same = lambda ref: dataclasses.replace(config, seed=ref.seed) == ref  # noqa: E731
    return "PAPER" if same(paper) else "QUICK" if same(quick) else "custom"


def seed_of(config, *keys):
    """An integer seed for one random stream, derived from the run's seed and a stage key."""
    return int(np.random.SeedSequence([config.seed, *keys]).generate_state(1)[0])


def atomic_write(path, write):
    """Call write(tmp_path) on a temporary file beside `path`, then rename it to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes files private; results are for everyone
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


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


def save_results(out, figure, config_name, config, metrics, timings, arrays):
    """Write <out>/<figure>.npz and <out>/<figure>.json atomically; returns the JSON dict."""
    metrics = jsonable(metrics)
    check_finite_metrics(figure, metrics)
    record = {"figure": figure, "config_name": config_name, "config": jsonable(config), "metrics": metrics,
              "timings_s": jsonable(timings), "versions": versions()}
    text = json.dumps(record, indent=1, allow_nan=False) + "\n"  # fails here, before any file is written
    out = Path(out)
    atomic_write(out / f"{figure}.npz", lambda tmp: _savez(tmp, arrays))
    atomic_write(out / f"{figure}.json", lambda tmp: Path(tmp).write_text(text))
    return record


def _savez(path, arrays):
    with open(path, "wb") as f:  # closed before the rename
        np.savez_compressed(f, **arrays)


def load_results(out, figure):
    """(record dict, arrays dict) saved by a run, or ResultsMissing saying how to make them."""
    out = Path(out)
    js, npz = out / f"{figure}.json", out / f"{figure}.npz"
    if not js.exists() or not npz.exists():
        raise ResultsMissing(f"no saved results for {figure} in {out} (need {js.name} and {npz.name}). "
                             f"Run `python experiments/{figure}.py --out {out}` (add --quick for a fast run) "
                             "before --plot-only.")
    with np.load(npz) as f:
        arrays = {k: f[k] for k in f.files}
    return json.loads(js.read_text()), arrays


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


def main(figure, run, plot, paper, quick, argv=None, description=None):
    """The command line of every figure script: --quick, --seed, --out DIR, --plot-only."""
    p = argparse.ArgumentParser(prog=f"experiments/{figure}.py", description=description)
    p.add_argument("--quick", action="store_true", help="the small QUICK config (seconds, for CI)")
    p.add_argument("--seed", type=int, default=None, help=f"random seed (default {paper.seed})")
    p.add_argument("--out", default=str(FIGURES), help="folder for results and figures (default figures/)")
    p.add_argument("--plot-only", action="store_true", help="redraw the figure from saved results")
    args = p.parse_args(argv)
    try:
        if not args.plot_only:
            config = quick if args.quick else paper
            if args.seed is not None:
                config = dataclasses.replace(config, seed=args.seed)
            run(config, args.out)
        for path in plot(args.out):
            print(f"wrote {path}")
    except (ResultsMissing, FloatingPointError, ValueError, RuntimeError) as e:
        sys.exit(f"{figure}: error: {e}")
