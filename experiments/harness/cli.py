"""The command line every figure script shares, `cli.main(FIGURE, run, plot, paper=PAPER, quick=QUICK)`:

    python experiments/<figure>.py [--quick] [--seed N] [--set NAME=VALUE ...] [--out DIR] [--plot-only]
                                   [--force] [--check] [--scheduler ADDRESS] [--wait-workers SECONDS]

Where results go by default: figures/ (committed) for a PAPER run with the default seed only;
runs/quick/, runs/quick_seed<N>/, runs/paper_seed<N>/, runs/custom_<hash>[_seed<N>]/ for a config
changed by --set (experiments/harness/config_overrides.py) (git-ignored) otherwise. No other run ever
writes figures/, whatever --out says (a symlink, figures/../figures) and with --force too
(results.check_committed). --plot-only redraws from the folder the same flags would have run into,
and refuses results of another seed or config than its flags ask for. Before any computing: the
seed is checked (0 to 2**32 - 1), the folder checked writable (the figure's files and lock there
must be files), the figure's lock in it taken (a second run of the figure into the folder is
refused), the leftovers of a killed run cleaned up, and a PAPER result (or a results file that
cannot be read) is not replaced by another run without --force. run() and plot() then write into a
staging folder renamed into place at the end. Errors, file-system errors and Ctrl-C end in one line.
The figure's jobs run on this machine, or with --scheduler on a Dask cluster (experiments/harness/runner.py);
each finished job is kept in <out>/.<figure>.jobs/ (experiments/harness/job_cache.py) until the results are
saved, so that a run interrupted and started again computes only the jobs it is missing.
"""
import argparse
import dataclasses
import json
import os
import re
import shlex
import sys
import tempfile
from pathlib import Path

from hypernet import checks

from . import job_cache, config_overrides, provenance, results, runner, staging


def default_out(quick, seed, default_seed, changes=None):
    """figures/ for PAPER with the default seed; a git-ignored runs/<name>/ for anything else: quick,
    paper, or custom_<8 hex digits> for a config with --set changes (config_overrides.folder_name: other
    changes, another folder), then _seed<N> for another seed."""
    if not quick and seed == default_seed and not changes:
        return results.FIGURES
    name = "quick" if quick else "paper"
    name = config_overrides.folder_name(name, changes) if changes else name
    return results.RUNS / (name if seed == default_seed else f"{name}_seed{seed}")


def add_settings(p):
    """--set NAME=VALUE (experiments/harness/config_overrides.py), shared by the figure scripts and experiments/harness/seeds.py."""
    p.add_argument("--set", metavar="NAME=VALUE", action="append", default=[], dest="settings",
                   help="change one setting of the config (repeatable; a Python literal, e.g. --set iters=5000); "
                        "the run is 'custom' and goes to runs/custom_<hash>/ unless --out says otherwise")


def int_type(minimum, label="", maximum=None):
    """argparse type: an integer in [minimum, maximum], with a message that names the value (and `label`)."""
    def parse(text):
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{label}{text!r} is not an integer") from None
        if n < minimum:
            raise argparse.ArgumentTypeError(f"{label}{n} is negative; need a non-negative integer" if minimum == 0
                                             else f"{label}{n} is not a positive integer; need at least {minimum}")
        if maximum is not None and n > maximum:
            raise argparse.ArgumentTypeError(f"{label}{n} is too large; need at most {maximum}")
        return n
    return parse


# NumPy's SeedSequence refuses negative seeds, scikit-learn's random_state those of 2**32 and above
seed_type = int_type(0, "seed ", maximum=checks.MAX_SEED)


def seconds_type(text):
    """argparse type: a positive number of seconds (0 would mean "wait for ever" to Dask)."""
    try:
        s = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not s > 0 or s == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return s


def check_json_out(p, path, full_scale, defaults, committed):
    """A benchmark's --json PATH, refused in one line by the parser p before any work: in the
    committed figures/ only its own file `committed` (e.g. bench_cv_grid.json), and only at full
    scale (`defaults` names the settings that make it); never empty or a folder, and only into a
    folder that exists and can be written."""
    if not str(path).strip():
        p.error("--json is empty; give a file name")
    path = Path(path)
    if path.resolve().parent == results.FIGURES.resolve():
        if path.name != committed:
            p.error(f"--json {path}: in figures/ this benchmark writes only {committed} (the other files there are "
                    "the committed results); give another path")
        if not full_scale:
            p.error(f"--json {path}: only {defaults} write the committed figures/; give another path")
    if path.is_dir():
        p.error(f"--json {path}: is a folder; give a file name")
    if not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
        p.error(f"--json {path}: its folder does not exist or cannot be written; give a path in a writable folder")
    try:  # (os.access says yes to root in folders where no file can be made, e.g. /proc)
        tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".probe").close()
    except OSError as e:
        p.error(f"--json {path}: no file can be made in its folder ({e.strerror or e}); give a path in a writable folder")


def add_scheduler(p):
    """--scheduler and --wait-workers, shared by the figure scripts and experiments/harness/seeds.py."""
    p.add_argument("--scheduler", metavar="ADDRESS", default=None, help="run the jobs on the Dask cluster of this "
                   "scheduler, e.g. tcp://host:8786 (default: worker processes on this machine)")
    p.add_argument("--wait-workers", metavar="SECONDS", type=seconds_type, default=None,
                   help=f"with --scheduler: how long to wait for the first worker (default {runner.WAIT_S:g})")


def write_json(path, record):
    """A benchmark's record as JSON at `path` (--json), written atomically, and a line saying so."""
    text = json.dumps(record, indent=1, allow_nan=False) + "\n"
    staging.atomic_write(path, lambda tmp: Path(tmp).write_text(text))
    print(f"written to {path}")


def scheduler_of(args):
    """(scheduler address or None, seconds to wait for a worker) of add_scheduler's flags; ValueError
    (one line) for an empty address, one that is not [PROTOCOL://]HOST:PORT (checked before any
    connection, so --check catches it), or --wait-workers without --scheduler (it would do nothing)."""
    if args.scheduler is not None and not args.scheduler.strip():
        raise ValueError("--scheduler is empty; give the scheduler's address, e.g. tcp://host:8786")
    if args.scheduler is not None:
        address = re.fullmatch(r"(?:([a-z]+)://)?(\[[0-9a-fA-F:.]+\]|[^/:\s\[\]]+):(\d+)/?", args.scheduler)
        if not address or address.group(1) not in (None, "tcp", "tls", "ws", "wss", "ucx"):
            raise ValueError(f"--scheduler {args.scheduler}: not a scheduler's address [PROTOCOL://]HOST:PORT (a "
                             "Dask scheduler prints it as it starts); give e.g. tcp://host:8786")
        if not 0 < int(address.group(3)) < 65536:
            raise ValueError(f"--scheduler {args.scheduler}: port {address.group(3)} is not a TCP port (1 to 65535); "
                             "give the scheduler's address, e.g. tcp://host:8786")
    if args.scheduler is None and args.wait_workers is not None:
        raise ValueError("--wait-workers applies only with --scheduler ADDRESS (jobs on a Dask cluster); "
                         "add --scheduler or leave it out")
    return args.scheduler, runner.WAIT_S if args.wait_workers is None else args.wait_workers


def jobs_folder(out, figure):
    """Where a run of `figure` into `out` keeps its finished jobs until its results are saved."""
    return Path(out) / f".{figure}.jobs"


class Parser(argparse.ArgumentParser):
    """argparse's parser, with a bad argument in one line (argparse prints the usage first)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see --help)\n")


def interruptible(name, main, after="nothing was written"):
    """Run main(); Ctrl-C ends in one line (`name: interrupted; after`), not a traceback."""
    try:
        return main()
    except KeyboardInterrupt:
        sys.exit(f"{name}: interrupted; {after}")


def parser(figure, paper, description):
    p = Parser(prog=f"experiments/{figure}.py", description=description,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="the small QUICK config (seconds, for CI)")
    p.add_argument("--seed", type=seed_type, default=None, help=f"random seed (default {paper.seed})")
    p.add_argument("--out", default=None, help="folder for results and figures (default: figures/ for "
                   "PAPER with the default seed, else runs/quick/, runs/paper_seed<N>/, ...)")
    p.add_argument("--plot-only", action="store_true", help="redraw the figure from saved results")
    p.add_argument("--force", action="store_true", help="replace a PAPER result in --out with another run's")
    add_settings(p)
    p.add_argument("--check", action="store_true", help="check these flags, the folder and what the run would "
                   "replace, then stop without computing (run_all.sh checks every figure before the first runs)")
    add_scheduler(p)
    return p


def check_replace(out, figure, name, seed, force):
    """Refuse, before computing, to replace a saved PAPER result with a run of another config or
    seed, or a results file that cannot be read (it may have been one), unless --force. The one rule
    for a figure's results and a seed sweep's summary <out>/seeds_<figure>.json alike (seed: the
    list of seeds of a sweep; a PAPER sweep at a fraction of the budgets, "PAPER, budgets x F", is
    a PAPER result too, replaced by a sweep of the same seeds at that fraction or at full budgets)."""
    path = Path(out) / f"{figure}.json"
    if force or not path.exists():
        return
    sweep = isinstance(seed, (list, tuple))
    try:
        old = json.loads(path.read_text())
        old_name, old_seed = old["config_name"], (list(old["seeds"]) if sweep else old["config"]["seed"])
        old_name.startswith("PAPER")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise staging.OutputError(f"{path} is not a readable results file, so what it held (a PAPER result?) is unknown; "
                                  "restore or remove it, or add --force to replace it") from None
    seed = list(seed) if sweep else seed
    if old_name.startswith("PAPER") and not (seed == old_seed and name in ("PAPER", old_name)):
        what = "seeds " + " ".join(map(str, seed)) if sweep else f"seed {seed}"
        held = f"a {old_name} sweep (seeds {' '.join(map(str, old_seed))})" if sweep else f"a PAPER result (seed {old_seed})"
        raise staging.OutputError(f"{path} holds {held}; refusing to replace it with a {name} "
                                  f"{'sweep' if sweep else 'run'} ({what}); choose another --out, or add --force")


def command(figure, args):
    """The command line that makes the results these flags ask for (advice for --plot-only)."""
    flags = [" --quick" if args.quick else "", f" --seed {args.seed}" if args.seed is not None else "",
             *(f" --set {shlex.quote(t)}" for t in args.settings), f" --out {args.out}" if args.out is not None else ""]
    return f"python experiments/{figure}.py" + "".join(flags)


def check_matches(record, out, args, name, seed, remake, changes=None):
    """--plot-only draws the results its flags ask for: the seed of --seed, the config of --quick
    and the settings of --set (without --out, the default folder of the flags must hold exactly that
    config and seed)."""
    got_name, got_seed = record["config_name"], record["config"].get("seed")
    other = [k for k, v in (changes or {}).items() if record["config"].get(k) != results.jsonable(v)]
    if other:
        raise results.ResultsInvalid(f"{out} holds a result whose {', '.join(other)} differ from --set; run "
                                     f"`{remake}` to make the one asked for")
    if ((args.quick or args.settings or args.out is None) and got_name != name) or \
            ((args.seed is not None or args.out is None) and got_seed != seed):
        raise results.ResultsInvalid(f"{out} holds a {got_name} result with seed {got_seed}, not the {name} run with "
                                     f"seed {seed} asked for; run `{remake}` to make that one")


def differences(config, paper):
    """'settings that differ from PAPER: name=value (PAPER: value), ...' of a config."""
    changed = [f"{f.name}={getattr(config, f.name)!r} (PAPER: {getattr(paper, f.name)!r})"
               for f in dataclasses.fields(config) if getattr(config, f.name) != getattr(paper, f.name)]
    return "settings that differ from PAPER: " + (", ".join(changed) if changed else "none")


def main(figure, run, plot, *, paper, quick, argv=None, description=None, check=None):
    """The figure's command line. check(config): the figure's own check of a config (ValueError),
    called before any work, --check included (what depends on several settings, e.g. after --set)."""
    args = parser(figure, paper, description).parse_args(argv)
    config = quick if args.quick else paper
    seed = config.seed if args.seed is None else args.seed
    config = dataclasses.replace(config, seed=seed)
    if args.out == "":
        sys.exit(f"{figure}: error: --out is empty; give a folder")
    try:
        changes = config_overrides.changes(config, args.settings)
        scheduler, wait_s = scheduler_of(args)
    except ValueError as e:
        sys.exit(f"{figure}: error: {e}")
    config = dataclasses.replace(config, **changes)
    name = results.config_name(config, paper, quick)
    out = Path(args.out) if args.out is not None else default_out(args.quick, seed, paper.seed, changes if name == "custom" else None)
    remake, stage, made = command(figure, args), None, staging.new_folder(out)
    if name == "custom" and not args.check and not args.plot_only:
        print(f"{figure}: a custom run into {out}; {differences(config, paper)}", flush=True)
    try:
        if args.plot_only and not out.is_dir():  # nothing to redraw: do not create the folder
            sys.exit(f"{figure}: error: no saved results for {figure} in {out} (the folder does not exist). Run "
                     f"`{remake}` before --plot-only "
                     f"({'the small QUICK config' if args.quick else 'the paper-scale run; --quick: the small config'}).")
        if not args.plot_only:
            if check is not None:
                check(config)
            results.check_committed(out, figure, config_name=name, seed=seed)
        staging.check_folder(out, figure)
        with staging.FigureLock(out, figure):
            for line in staging.recover(out, figure):
                print(f"{figure}: {out}: {line}")
            if args.plot_only:  # errors name the files in `out`, not in the stage
                check_matches(results.load_results(out, figure, remake)[0], out, args, name, seed, remake, changes)
            else:
                check_replace(out, figure, name, seed, args.force)
                job_cache.JobCache(jobs_folder(out, figure))  # where its finished jobs go: refused before any job
            if args.check:
                print(f"{figure}: checked: " + (f"would redraw the figure from the results in {out}" if args.plot_only else
                                               f"would run the {name} config (seed {seed}) into {out}"))
                return
            provenance.start_state(), provenance.code_id()  # the code of this run, read before it starts
            with staging.Stage(out, figure) as stage:
                if args.plot_only:
                    stage.link("json", "npz")
                else:
                    cache = job_cache.JobCache(jobs_folder(out, figure))
                    with results.collect_warnings() as seen, runner.session(scheduler, wait_s, cache):
                        run(config, stage.dir)
                        seen = list(seen)
                    if seen:
                        print(f"{figure}: {len(seen)} warning(s) during the run, kept in {figure}.json: "
                              "check the results before using them", file=sys.stderr)
                try:
                    with results.figure_command():  # checked above: what may be drawn into `out`
                        paths = [out / Path(p).name for p in plot(stage.dir)]
                except KeyError as e:  # results of another version of the script, or hand-edited
                    raise results.ResultsInvalid(
                        f"the results of {figure} in {out} have no {e}: they were made by another version of "
                        f"experiments/{figure}.py; run it again to remake them") from None
                stage.commit()
            if not args.plot_only:
                cache.clear()  # the results are saved: their jobs are no longer needed
    except (results.ResultsMissing, FloatingPointError, ValueError, RuntimeError) as e:
        sys.exit(f"{figure}: error: {e}")
    except OSError as e:  # a full disk, a name too long, ...: where and what, in one line
        halfway = stage is not None and stage.state == "committing"
        sys.exit(f"{figure}: error: {e.filename or out}: {e.strerror or e}; " + (
            f"the save stopped halfway: `{remake} --plot-only` finishes it once that is fixed" if halfway else
            f"nothing was saved, and the results in {out} are as they were"))
    except KeyboardInterrupt:
        if stage is not None and stage.state == "committed":  # Ctrl-C came during the renames, which went on
            sys.exit(f"{figure}: interrupted after the save had begun; it was finished: the new results are in {out}")
        kept = len(job_cache.JobCache(jobs_folder(out, figure), check=False)) if not args.plot_only else 0
        sys.exit(f"{figure}: interrupted; nothing was saved, and the results in {out} are as they were" + (
            f"; {kept} finished job(s) are kept for the same command to reuse" if kept else ""))
    finally:  # a folder this run made and left empty (a refusal, --check, no cluster) is not left behind
        staging.remove_if_left_empty(out, made)
    if not args.plot_only:
        print(f"wrote {out / figure}.json and .npz (the results)")
    for path in paths:
        print(f"wrote {path}")
