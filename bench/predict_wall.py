"""Predicted wall time of the full reproduction (run_all.sh: one figure after another) on N workers,
from the job times the PAPER runs recorded in figures/*.json.

    python bench/predict_wall.py [--workers 1 2 4 8 16 64] [--folder figures]

Each figure's jobs are placed on N workers as experiments/harness/runner.py starts them: in the order the
figure submits them, a job that takes other jobs' results (Figure 5's hand-tuned grids and its
unrolled run) as soon as they are done and before the others. A job takes the time it took in
the recorded run, where each job had a core of its own; what a figure computes outside its jobs
(its total minus them, when it ran one job at a time) is added as it is. The last column, "any
N", is the longest chain of jobs: what no number of workers can go below.
"""
import argparse
from pathlib import Path

from experiments.harness import cli
from experiments.harness.wall_time import hm, jobs_of, makespan, predict, records  # noqa: F401 (the bench's API)

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    p = cli.Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", type=cli.int_type(1), nargs="+", default=[1, 2, 4, 8, 16, 64],
                   help="numbers of workers to predict for (default 1 2 4 8 16 64)")
    p.add_argument("--folder", default=str(ROOT / "figures"),
                   help="a folder of PAPER results <figure>.json (default figures/)")
    args = p.parse_args(argv)
    if not Path(args.folder).is_dir():
        p.error(f"--folder {args.folder}: not a folder; give a folder of results, e.g. figures")
    try:
        recs = records(args.folder)
        names = {k: r.get("config_name") for k, r in recs.items()}
        if any(n != "PAPER" for n in names.values()):
            p.error(f"--folder {args.folder}: the prediction needs the job times of PAPER runs; "
                    + ", ".join(f"{k} is {n}" for k, n in names.items() if n != "PAPER"))
        table = predict(args.folder, args.workers, recs)
    except (OSError, ValueError, KeyError, TypeError) as e:
        p.error(f"--folder {args.folder}: a results file there cannot be read as a figure's record ({e!r}); "
                "give a folder of PAPER results, e.g. figures")
    if not table:
        p.error(f"--folder {args.folder}: holds no figure's results (fig*_*.json); give a folder of results, "
                "e.g. figures")
    cols = [f"N = {n}" for n in args.workers] + ["any N"]
    print(f"{'figure':16s}" + "".join(f"{c:>14s}" for c in cols))
    for figure, row in table.items():
        print(f"{figure:16s}" + "".join(f"{hm(s):>14s}" for s in row))
    print(f"{'all (run_all)':16s}" + "".join(f"{hm(sum(col)):>14s}" for col in zip(*table.values())))


if __name__ == "__main__":
    cli.interruptible("bench/predict_wall.py", main, "nothing was written")
