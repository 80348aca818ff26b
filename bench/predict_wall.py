"""Predicted wall time of the reproduction on N workers, from the job times the PAPER runs recorded in
figures/*.json: each figure alone, then the figures of run_all.sh (the paper's; with --all every figure)
all at once, as `run_all.sh --scheduler` sends them to a cluster.

    python bench/predict_wall.py [--workers 1 2 8 32] [--all] [--folder figures]

Each figure's jobs are placed on N workers as experiments/harness/runner.py starts them: in the order the
figure submits them, a job that takes other jobs' results (Figure 5's hand-tuned grids and its
unrolled run) as soon as they are done and before the others. A job takes the CPU seconds of its
thread where the run recorded them (its time on a core of its own), else its recorded wall seconds;
what a figure computes outside its jobs is added as it is. All at once, a figure that reads another's
results starts when that one is done (run_all.AFTER). The column "any N" is the longest chain of jobs:
what no number of workers can go below. The last lines say which times may include other work on the
machine, then `predicted wall: <seconds> s on N workers` for the chosen scope, one per N.
"""
import argparse
from pathlib import Path

from experiments.harness import cli
from experiments.harness.run_all import AFTER, FIGURES, PAPER_SCOPE
from experiments.harness.wall_time import (UNDER_LOAD, hm, jobs_of, makespan, predict,  # noqa: F401 (the bench's API)
                                           predict_together, records, under_load)

ROOT = Path(__file__).resolve().parents[1]


def load_notes(recs):
    """The lines that say which recorded times may include other work on the machine."""
    wall_only, loaded = [], []
    for name, record in recs.items():
        jobs, all_cpu = under_load(record)
        if not all_cpu:
            wall_only.append(name)
        loaded += [f"{name}/{label} ({wall:.0f} s wall, {cpu:.0f} s CPU)" for label, wall, cpu in jobs]
    notes = []
    if wall_only:
        notes.append("wall seconds (no CPU seconds recorded; they include any other work on the machine then): "
                     + ", ".join(wall_only))
    notes.append(f"measured under load (wall > {UNDER_LOAD:g} x CPU seconds; predicted "
                 "from the CPU seconds): " + (", ".join(loaded) if loaded else "none"))
    return notes


def main(argv=None):
    p = cli.Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", type=cli.int_type(1), nargs="+", default=[1, 2, 8, 32],
                   help="numbers of workers to predict for (default 1 2 8 32)")
    p.add_argument("--all", action="store_true", help="the last lines for every figure (run_all.sh --all), "
                   "not only the paper's")
    p.add_argument("--folder", default=str(ROOT / "figures"),
                   help="a folder of PAPER results <figure>.json (default figures/)")
    args = p.parse_args(argv)
    if not Path(args.folder).is_dir():
        p.error(f"--folder {args.folder}: not a folder; give a folder of results, e.g. figures")
    try:
        recs = records(args.folder)
    except (OSError, ValueError) as e:  # the file named
        p.error(f"--folder {args.folder}: {e}; give a folder of PAPER results, e.g. figures")
    try:
        names = {k: r.get("config_name") for k, r in recs.items()}
        if any(n != "PAPER" for n in names.values()):
            p.error(f"--folder {args.folder}: the prediction needs the job times of PAPER runs; "
                    + ", ".join(f"{k} is {n or 'of no named config'}" for k, n in names.items() if n != "PAPER"))
        table = predict(args.folder, args.workers, recs)
        scopes = {"paper scope": predict_together(recs, PAPER_SCOPE, args.workers, AFTER),
                  "--all": predict_together(recs, FIGURES, args.workers, AFTER)}
        notes = load_notes(recs)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        p.error(f"--folder {args.folder}: a results file there cannot be read as a figure's record ({e!r}); "
                "give a folder of PAPER results, e.g. figures")
    if not table:
        p.error(f"--folder {args.folder}: holds no figure's results (fig*_*.json); give a folder of results, "
                "e.g. figures")
    cols = [f"N = {n}" for n in args.workers] + ["any N"]
    print(f"{'figure, alone':22s}" + "".join(f"{c:>14s}" for c in cols))
    for figure, row in table.items():
        print(f"{figure:22s}" + "".join(f"{hm(s):>14s}" for s in row))
    print("all at once (run_all.sh --scheduler):")
    for scope, row in scopes.items():
        print(f"{scope:22s}" + "".join(f"{hm(s):>14s}" for s in row))
    missing = [n for n in (FIGURES if args.all else PAPER_SCOPE) if n not in recs]
    print(*notes, sep="\n")
    if missing:
        print("no recorded times, left out: " + ", ".join(missing))
    row = scopes["--all" if args.all else "paper scope"]
    for n, s in zip(args.workers, row):
        print(f"predicted wall: {s:.0f} s on {n} workers")


if __name__ == "__main__":
    cli.interruptible("bench/predict_wall.py", main, "nothing was written")
