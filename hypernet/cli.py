"""The command line every figure script shares, `results.main(FIGURE, run, plot, paper=PAPER, quick=QUICK)`:

    python experiments/<figure>.py [--quick] [--seed N] [--out DIR] [--plot-only] [--force]

Where results go by default: figures/ (committed) for a PAPER run with the default seed only;
runs/quick/, runs/quick_seed<N>/, runs/paper_seed<N>/ (git-ignored) otherwise. --plot-only
redraws from the folder the same flags would have run into. Before any computing: the folder is
checked writable, the figure's lock in it taken (a second run of the figure into the folder is
refused), the leftovers of a killed run cleaned up, and a PAPER result is not replaced by another
run without --force. run() and plot() then write into a staging folder renamed into place at the end.
"""
import argparse
import dataclasses
import json
import sys
from pathlib import Path

from . import results, store


def default_out(quick, seed, default_seed):
    """figures/ for PAPER with the default seed; a git-ignored runs/<name>/ for anything else."""
    if not quick and seed == default_seed:
        return results.FIGURES
    name = "quick" if quick else "paper"
    return results.RUNS / (name if seed == default_seed else f"{name}_seed{seed}")


def int_type(minimum, label=""):
    """argparse type: an integer >= minimum, with a message that names the value (and `label`)."""
    def parse(text):
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{label}{text!r} is not an integer") from None
        if n < minimum:
            raise argparse.ArgumentTypeError(f"{label}{n} is negative; need a non-negative integer" if minimum == 0
                                             else f"{label}{n} is not a positive integer; need at least {minimum}")
        return n
    return parse


seed_type = int_type(0, "seed ")  # NumPy's SeedSequence refuses negative seeds


def parser(figure, paper, description):
    p = argparse.ArgumentParser(prog=f"experiments/{figure}.py", description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="the small QUICK config (seconds, for CI)")
    p.add_argument("--seed", type=seed_type, default=None, help=f"random seed (default {paper.seed})")
    p.add_argument("--out", default=None, help="folder for results and figures (default: figures/ for "
                   "PAPER with the default seed, else runs/quick/, runs/paper_seed<N>/, ...)")
    p.add_argument("--plot-only", action="store_true", help="redraw the figure from saved results")
    p.add_argument("--force", action="store_true", help="replace a PAPER result in --out with another run's")
    return p


def check_replace(out, figure, name, seed, force):
    """Refuse, before computing, to replace a saved PAPER result with a run of another config or seed."""
    try:
        old = json.loads((Path(out) / f"{figure}.json").read_text())
        old_name, old_seed = old["config_name"], old["config"]["seed"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # nothing there, or nothing readable: nothing to keep
    if old_name == "PAPER" and (name, seed) != ("PAPER", old_seed) and not force:
        raise store.OutputError(f"{Path(out) / f'{figure}.json'} holds a PAPER result (seed {old_seed}); refusing to "
                                f"replace it with a {name} run (seed {seed}); choose another --out, or add --force")


def main(figure, run, plot, *, paper, quick, argv=None, description=None):
    args = parser(figure, paper, description).parse_args(argv)
    config = quick if args.quick else paper
    seed = config.seed if args.seed is None else args.seed
    config = dataclasses.replace(config, seed=seed)
    if args.out == "":
        sys.exit(f"{figure}: error: --out is empty; give a folder")
    out = Path(args.out) if args.out is not None else default_out(args.quick, seed, paper.seed)
    if args.plot_only and not out.is_dir():  # nothing to redraw: do not create the folder
        sys.exit(f"{figure}: error: no saved results for {figure} in {out} (the folder does not exist). Run "
                 f"`python experiments/{figure}.py{' --quick' if args.quick else ''} --out {out}` before --plot-only "
                 f"({'the small QUICK config' if args.quick else 'the paper-scale run; --quick: the small config'}).")
    try:
        store.check_folder(out, figure)
        with store.FigureLock(out, figure):
            for line in store.recover(out, figure):
                print(f"{figure}: {out}: {line}")
            if args.plot_only:
                results.load_results(out, figure)  # errors name the files in `out`, not in the stage
            else:
                check_replace(out, figure, "QUICK" if args.quick else "PAPER", seed, args.force)
            with store.Stage(out, figure) as stage:
                if args.plot_only:
                    stage.link("json", "npz")
                else:
                    with results.collect_warnings() as seen:
                        run(config, stage.dir)
                        seen = list(seen)
                    if seen:
                        print(f"{figure}: {len(seen)} warning(s) during the run, kept in {figure}.json: "
                              "check the results before using them", file=sys.stderr)
                try:
                    paths = [out / Path(p).name for p in plot(stage.dir)]
                except KeyError as e:  # results of another version of the script, or hand-edited
                    raise results.ResultsInvalid(
                        f"the results of {figure} in {out} have no {e}: they were made by another version of "
                        f"experiments/{figure}.py; run it again to remake them") from None
                stage.commit()
    except (results.ResultsMissing, FloatingPointError, ValueError, RuntimeError) as e:
        sys.exit(f"{figure}: error: {e}")
    except KeyboardInterrupt:
        sys.exit(f"{figure}: interrupted; nothing was saved, and the results in {out} are as they were")
    for path in paths:
        print(f"wrote {path}")
