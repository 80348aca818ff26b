"""Any figure over several seeds: one independent run per seed, then the mean, sd, min and max of
every scalar metric.

    python -m experiments.harness.seeds FIGURE --seeds 7 8 9 10 11 [--quick] [--jobs N] [--scheduler ADDRESS]
                               [--out DIR] [--budget-fraction F]

(from the repository's folder: `-m` makes the figure scripts importable as experiments.<figure>,
which is how the jobs find them in their worker processes.)

Each seed runs the figure's own run() (PAPER config, or QUICK with --quick, with that seed) as a job
of experiments/harness/runner.py: locally in worker processes of this machine, or with --scheduler on a Dask
cluster, where each seed's figure sends its own jobs to the same cluster (so a sweep of Figure 5
keeps as many workers busy as its seeds have runs). A line is printed as each seed finishes.

Where files go (nothing of a sweep lands in the committed figures/ but its summary):
    summary     <out>/seeds_<figure>.json
    each seed   <seeds>/<figure>/seed<N>/<figure>.json, .npz (results, as the figure script saves
                them) and <figure>.log (what the run printed)
    --out       default figures/ for the PAPER config over the seeds 7 8 9 10 11, the only sweep
                that may write there; else runs/paper_seeds/, or runs/quick_seeds/ (--quick)
    <seeds>     <out>/seeds/, except when <out> is figures/: then runs/seeds/ (git-ignored)
A seed's figure is drawn from its folder by `python experiments/FIGURE.py --plot-only --out FOLDER`.

A labelled robustness budget (--budget-fraction F, 0 < F <= 1; only for a figure in TIME_BUDGET whose
module has scaled(config, fraction), i.e. fig5_many): every seed runs the config with every time
budget times F (the module's scaled(); nothing else changes), named e.g. "PAPER, budgets x 0.1". The
PAPER sweep over the seeds 7 8 9 10 11 at a fraction still writes figures/ (it says so in its name,
"budget_fraction" and "budgets"), but never over a committed sweep at the full budgets.

Summary: {"figure", "config_name", "config" (without the seed), "seeds", "completed", "failed":
{seed: "ErrorType: message"}, "metrics": {name: {"mean", "sd", "min", "max", "n", "values"}},
"timings_s": {"wall", "per_seed": {seed: total}, "sum"}, "folders": {seed: path}, "run_ids",
"reused" (seeds skipped as already done), "backend", "jobs", "ran_on": {seed: "host pid N"}}, and with
--budget-fraction "budget_fraction": F and "budgets": {field: scaled value} (also in "config").
Every numeric scalar of a run's metrics is summarised; nested dicts give dotted names
("gp.mean_error"); lists (curves, grids) are not metrics and are left out. "values" follow
"completed" (null where a run lacks that metric); failed seeds count nowhere; sd is the sample sd
(n - 1) when n >= 2, else 0.

Resuming: each finished seed is kept in <out>/.seeds_<figure>.jobs/ (experiments/harness/job_cache.py: keyed by
its config and the git commit of the code) until the summary of a sweep with no failed seed is
saved, and each seed's own finished jobs in <seed folder>/.<figure>.jobs/ until its results are
saved: a rerun of an interrupted sweep computes only what it is missing (a kept seed whose folder
no longer holds the results it made is run again). One failing seed does not stop the others; the
summary lists it under "failed" and the command exits with status 1.

Killing the sweep (SIGKILL, SIGTERM) kills its local worker processes and theirs with it; Ctrl-C
stops them at once. Running the same command again resumes.

Jobs and cores: each job gets one BLAS thread. fig2_global and fig3_manifold need one core per job;
fig4_local, fig5_many, fig6_gp and fig7_hpo run `workers` (2) processes or threads inside each run, so a
job of them needs that many cores. The local default --jobs is cores // (cores per job). fig5_many,
fig6_gp and fig7_hpo train against a time budget: their results are only comparable with whole cores per job,
so a --jobs that oversubscribes this machine is refused for them (for the others it only warns:
their numbers do not depend on time).

On a Dask cluster (--scheduler tcp://host:8786, --wait-workers SECONDS as the figure scripts; see
experiments/harness/dask_cluster.py for what is checked before any job is sent): the scheduler and every worker
run this checkout's code (the same commit), workers have one thread each (`dask worker ADDRESS
--nthreads 1`), and every worker sees --out at the same path (a shared file system: each seed writes
its folder itself). Every seed and every job of every seed's figure is a job of the cluster: a seed
holds no worker while it waits for its figure's jobs. --jobs caps how many seeds are on the
cluster at once (default: all).
"""
import argparse
import contextlib
import dataclasses
import importlib.util
import json
import math
import os
import socket
import sys
import time
from pathlib import Path

from hypernet import checks
from experiments.harness.jobs import error_line
from experiments.harness import cli, dask_cluster, job_cache, local_pool, config_overrides, results, runner, staging

EXPERIMENTS = Path(__file__).resolve().parents[1]  # the figure scripts
FIGURES_SEEDS = results.RUNS / "seeds"  # per-seed folders of a sweep summarised into figures/
QUICK_OUT = results.RUNS / "quick_seeds"
PAPER_OUT = results.RUNS / "paper_seeds"  # a PAPER sweep over other seeds than results.DEFAULT_SEEDS
TIME_BUDGET = {"fig5_many", "fig6_gp", "fig7_hpo", "fig8_warmstart"}  # figures whose runs train against the clock
BLAS_THREADS = 1  # per job, unless the figure module sets BLAS_THREADS


class SweepError(RuntimeError):
    """The sweep cannot start: no cluster at --scheduler, or more jobs than a time-budget figure allows."""


def figure_names():
    """The figure scripts in experiments/: fig<k>_<name>.py, in the order of k (fig9 before fig10)."""
    stems = (p.stem for p in EXPERIMENTS.glob("fig*_*.py"))
    return sorted(stems, key=lambda s: (int(s[3:s.index("_")]) if s[3:s.index("_")].isdigit() else 0, s))


def figure_module(figure):
    return importlib.import_module(f"experiments.{figure}")


def make_config(module, quick, seed, overrides=None):
    return dataclasses.replace(module.QUICK if quick else module.PAPER, seed=seed, **(overrides or {}))


def cores_per_job(config):
    """The cores one run of the figure keeps busy: its `workers` processes or threads, else 1."""
    return max(1, int(getattr(config, "workers", 1)))


def seed_folders(out):
    """Where the per-seed folders of a sweep summarised into `out` go."""
    return FIGURES_SEEDS if results.is_committed(out) else Path(out).resolve() / "seeds"


def seed_folder(out, figure, seed):
    return seed_folders(out) / figure / f"seed{seed}"




# ---- one seed: the job ------------------------------------------------------------------------------
def run_seed(figure, quick, seed, folder, overrides=None, parent=None, force=False):
    """Run the figure with this seed into `folder` (under its lock, staged, as the figure's command
    line does); never raises. Returns {"seed", "ok", "record" or "error", "time_s", "where"}.
    Imports the figure by name here, in the worker, so that the job pickles as a reference.
    parent: the pid of the sweep, when this runs in a local worker process of it: the worker then
    dies with the sweep (and the figure's own workers with it, experiments/harness/local_pool.py).
    force: replace a PAPER result in `folder` with this run's (check_seed_replace)."""
    t0 = time.perf_counter()
    if parent is not None and parent != os.getpid():
        local_pool.die_with_parent(parent)
    try:
        from threadpoolctl import threadpool_limits

        module = figure_module(figure)
        config = make_config(module, quick, seed, overrides)
        threads = getattr(module, "BLAS_THREADS", BLAS_THREADS)
        folder = Path(folder)
        staging.check_folder(folder, figure)
        with staging.FigureLock(folder, figure), threadpool_limits(threads), thread_env(threads):
            staging.recover(folder, figure)
            check_seed_replace(folder, figure, results.config_name(config, module.PAPER, module.QUICK), seed, force)
            cache = job_cache.JobCache(cli.jobs_folder(folder, figure))  # the seed's own finished jobs
            with staging.Stage(folder, figure) as stage, open(folder / f"{figure}.log", "w") as log, \
                    contextlib.redirect_stdout(log), contextlib.redirect_stderr(log), \
                    results.collect_warnings(), runner.session(cache=cache):
                module.run(config, stage.dir)
                stage.commit()
            cache.clear()
            record, _ = results.load_results(folder, figure)  # what the summary reads is what was saved
        return {"seed": seed, "ok": True, "record": record, "time_s": time.perf_counter() - t0, "where": where()}
    except Exception as e:  # a failing seed is reported, and the other seeds go on
        return {"seed": seed, "ok": False, "error": error_line(e), "time_s": time.perf_counter() - t0,
                "where": where()}


def where():
    return f"{socket.gethostname()} pid {os.getpid()}"


@contextlib.contextmanager
def thread_env(threads):
    """The BLAS/OpenMP thread variables set for the processes a run starts, restored afterwards (a job
    of --jobs 1 runs in this very process)."""
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    old = {k: os.environ.get(k) for k in names}
    os.environ.update({k: str(threads) for k in names})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def check_seed_replace(folder, figure, name, seed, force):
    """The figure scripts' rule (cli.check_replace) for a seed's folder: a PAPER result there is replaced
    only by a PAPER run of the same seed, or with --force, except in the per-seed folders of the
    committed summaries (runs/seeds/), where --force does not apply."""
    committed = Path(os.path.realpath(folder)).parent.parent == Path(os.path.realpath(FIGURES_SEEDS))
    try:
        cli.check_replace(folder, figure, name, seed, force and not committed)
    except staging.OutputError as e:
        if committed and force:
            raise staging.OutputError(f"{e} (--force does not apply in {FIGURES_SEEDS}: the committed summaries in "
                                      "figures/ point to these folders)") from None
        raise


def seed_key(figure, config):
    """A seed's key in the sweep's cache (experiments/harness/job_cache.py)."""
    return job_cache.key(figure, config, "seed")


def kept(cache, figure, config, folder):
    """The record of this config's seed that the sweep's cache keeps, while `folder` still holds
    the results it made; else None."""
    hit = cache.get(seed_key(figure, config))
    if hit is None or not hit[0]["ok"]:
        return None
    record = hit[0]["record"]
    return record if results.stored_record(folder, figure).get("run_id") == record.get("run_id") else None


# ---- the summary ------------------------------------------------------------------------------------
def scalar_metrics(metrics, prefix=""):
    """{dotted name: value} of every numeric scalar in nested metric dicts; lists are skipped."""
    flat = {}
    for k, v in metrics.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            flat.update(scalar_metrics(v, f"{name}."))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            flat[name] = v
    return flat


def summarise(figure, config_name, base_config, seeds, records, failed, *, wall_s, folders, reused, backend, jobs,
              where=None, budget=None):
    """records: {seed: results record} of the completed seeds; failed: {seed: "ErrorType: message"};
    where: {seed: "host pid N"} of the seeds run in this sweep; budget: (fraction, {field: scaled
    value}) of a sweep at a fraction of the budgets."""
    completed = [s for s in seeds if s in records]
    flat = {s: scalar_metrics(records[s]["metrics"]) for s in completed}
    names = list(dict.fromkeys(k for s in completed for k in flat[s]))
    config = {k: v for k, v in results.jsonable(base_config).items() if k != "seed"}
    per_seed = {str(s): records[s]["timings_s"].get("total") for s in completed}
    return {"figure": figure, "config_name": config_name, "config": config, "seeds": list(seeds),
            "completed": completed, "failed": {str(s): failed[s] for s in seeds if s in failed},
            "metrics": {k: results.stats([flat[s].get(k) for s in completed]) for k in names},
            "timings_s": {"wall": wall_s, "per_seed": per_seed,
                          "sum": math.fsum(t for t in per_seed.values() if t is not None)},
            "folders": {str(s): str(folders[s]) for s in seeds},
            "run_ids": {str(s): records[s].get("run_id") for s in completed},
            "reused": [s for s in seeds if s in reused], "backend": backend, "jobs": jobs,
            "ran_on": {str(s): (where or {})[s] for s in seeds if s in (where or {})}} | (
                {} if budget is None else {"budget_fraction": budget[0], "budgets": results.jsonable(budget[1])})


# ---- the sweep --------------------------------------------------------------------------------------
def sweep(figure, seeds, *, quick=False, out=None, jobs=None, scheduler=None, overrides=None, log=print,
          wait_s=runner.WAIT_S, fraction=None, force=False):
    """Run `figure` once per seed (skipping those already done) and write <out>/seeds_<figure>.json.
    Returns the summary dict. overrides (--set): fields of the config to change for every seed (default
    folder runs/custom_<hash>_seeds/ unless the result is PAPER);
    fraction: every time budget times this (--budget-fraction); force: replace PAPER results (a seed's
    or the summary) with this sweep's (--force; never in figures/ nor runs/seeds/)."""
    if figure not in figure_names():
        raise ValueError(f"unknown figure {figure!r}; choose one of {', '.join(figure_names())}")
    if not seeds or any(not isinstance(s, int) or isinstance(s, bool) or not 0 <= s <= checks.MAX_SEED
                        for s in seeds):
        raise ValueError(f"seeds {list(seeds)}: give one or more integers from 0 to 2**32 - 1")
    if len(set(seeds)) < len(seeds):
        raise ValueError(f"seeds {list(seeds)}: give each seed once")
    seeds = list(seeds)
    module = figure_module(figure)
    base = make_config(module, quick, seeds[0], overrides)
    if hasattr(module, "check_config"):  # what depends on several settings, before any seed runs
        module.check_config(base)
    config_name = results.config_name(base, module.PAPER, module.QUICK)
    paper_sweep = config_name == "PAPER" and seeds == list(results.DEFAULT_SEEDS)  # at any budget fraction
    custom = config_name == "custom"  # changed by --set (before the budget fraction's own changes)
    budget = None
    if fraction is not None:
        check_fraction(figure, module, fraction)
        scaled = module.scaled(base, fraction)
        budget = (fraction, {k: getattr(scaled, k) for k in module.BUDGETS})
        overrides = {**(overrides or {}), **budget[1]}
        base, config_name = scaled, results.budget_name(config_name, fraction)
    if out is None and custom:  # other settings: a folder of their own
        out = results.RUNS / (config_overrides.folder_name("quick" if quick else "paper", overrides) + "_seeds")
    if out is None:
        out = results.FIGURES if paper_sweep else QUICK_OUT if quick else PAPER_OUT
    out = Path(out)
    results.check_committed(out, f"seeds_{figure}", config_name=config_name, seed=seeds)
    check_full_budget_kept(out, figure, budget)
    cores = cores_per_job(base)
    if jobs is None and scheduler is None:
        jobs = max(1, (os.cpu_count() or 1) // cores)
    if jobs is not None:  # more at once than there are seeds would only be recorded, not used
        jobs = min(jobs, len(seeds))
    if scheduler is None and jobs * cores > (os.cpu_count() or 1):
        msg = (f"--jobs {jobs} x {cores} core(s) per {figure} run needs {jobs * cores} cores; this machine has "
               f"{os.cpu_count()}")
        if figure in TIME_BUDGET:
            raise SweepError(f"{msg}, and {figure} trains against a time budget: use --jobs "
                                    f"{max(1, (os.cpu_count() or 1) // cores)}")
        log(f"{figure}: warning: {msg}; the runs will share cores (their results do not change, their times do)")

    made = staging.new_folder(out)
    staging.check_folder(out, f"seeds_{figure}")
    try:
        with contextlib.ExitStack() as stack:
            client = None if scheduler is None else stack.enter_context(connect(scheduler, wait_s))
            return _sweep(figure, seeds, module, base, config_name, quick, out, jobs, cores, client, overrides, log,
                          budget, force)
    finally:  # a folder this sweep made and left empty (no cluster, say) is not left behind
        staging.remove_if_left_empty(out, made)


def check_fraction(figure, module, fraction):
    """--budget-fraction only for a time-budgeted figure that can scale its budgets, 0 < F <= 1."""
    if figure not in TIME_BUDGET or not hasattr(module, "scaled"):
        able = sorted(f for f in TIME_BUDGET if hasattr(importlib.import_module(f"experiments.{f}"), "scaled"))
        raise ValueError(f"--budget-fraction scales the time budgets of {', '.join(able)} only (a figure with "
                         f"scaled(config, fraction)); {figure} has none to scale: leave it out")
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
        raise ValueError(f"budget fraction {fraction!r}: give a number above 0 and at most 1, e.g. 0.1")


def check_full_budget_kept(out, figure, budget):
    """A sweep at a fraction of the budgets does not replace a committed sweep at the full budgets."""
    if budget is None or budget[0] == 1 or not results.is_committed(out):
        return
    if results.stored_record(out, f"seeds_{figure}").get("config_name") == "PAPER":
        raise results.CommittedError(f"{Path(out) / f'seeds_{figure}.json'} holds the sweep at the paper's full "
                                     f"budgets; a sweep at budgets x {budget[0]:g} does not replace it: give --out")


@contextlib.contextmanager
def connect(scheduler, wait_s=runner.WAIT_S):
    """A checked Client of the Dask cluster at `scheduler` (experiments/harness/dask_cluster.py), closed at the end."""
    client = dask_cluster.connect(scheduler, wait_s)
    try:
        yield client
    finally:
        client.close()


PROBE_S = dask_cluster.PROBE_S


def check_replaces(figure, seeds, module, quick, overrides, config_name, out, folders, force):
    """Before any seed runs: neither the summary nor a seed's folder holds a PAPER result that this
    sweep may not replace (cli.check_replace, the figure scripts' rule)."""
    cli.check_replace(out, f"seeds_{figure}", config_name, list(seeds), force and not results.is_committed(out))
    for s in seeds:
        config = make_config(module, quick, s, overrides)
        check_seed_replace(folders[s], figure, results.config_name(config, module.PAPER, module.QUICK), s, force)


def _sweep(figure, seeds, module, base, config_name, quick, out, jobs, cores, client, overrides, log, budget, force):
    folders = {s: seed_folder(out, figure, s) for s in seeds}
    t0 = time.perf_counter()
    cache = job_cache.JobCache(cli.jobs_folder(out, f"seeds_{figure}"))
    with staging.FigureLock(out, f"seeds_{figure}"):
        check_replaces(figure, seeds, module, quick, overrides, config_name, out, folders, force)
        records, failed, reused, ran_on = {}, {}, set(), {}
        for s in seeds:
            record = kept(cache, figure, make_config(module, quick, s, overrides), folders[s])
            if record is not None:
                records[s] = record
                reused.add(s)
                log(f"seed {s}: skipped, complete results in {folders[s]}")
        todo = [s for s in seeds if s not in records]
        backend = "local" if client is None else f"dask {client.scheduler.address}"
        if todo:
            log(f"{figure} {config_name}: running seeds {' '.join(map(str, todo))} on {backend}"
                + (f", {jobs} at a time" if jobs else "") + f" ({cores} core(s) each)")
        done = 0
        try:
            for r in _map_jobs(figure, quick, todo, folders, overrides, jobs, client, force):
                done += 1
                s = r["seed"]
                ran_on[s] = r["where"]
                if r["ok"]:
                    records[s] = r["record"]
                    cache.put(seed_key(figure, make_config(module, quick, s, overrides)), r, r["where"])
                    log(f"seed {s}: done in {r['time_s']:.1f} s ({done}/{len(todo)})")
                else:
                    failed[s] = r["error"]
                    log(f"seed {s}: FAILED after {r['time_s']:.1f} s ({done}/{len(todo)}): {r['error']}")
        except Exception as e:  # a lost worker or cluster: keep what finished, name what did not
            why = error_line(e)
            for s in todo:
                if s not in records and s not in failed:
                    failed[s] = f"not finished: the sweep stopped ({why})"
        summary = summarise(figure, config_name, base, seeds, records, failed, wall_s=time.perf_counter() - t0,
                            folders=folders, reused=reused, backend=backend, jobs=jobs, where=ran_on, budget=budget)
        path = out / f"seeds_{figure}.json"
        text = json.dumps(summary, indent=1, allow_nan=False) + "\n"
        staging.atomic_write(path, lambda tmp: Path(tmp).write_text(text))
        if not failed:
            cache.clear()  # the summary is saved: the seeds are no longer needed here
    log(f"wrote {path}: {len(summary['completed'])}/{len(seeds)} seeds in {summary['timings_s']['wall']:.1f} s"
        + (f"; FAILED: {', '.join(summary['failed'])}" if failed else ""))
    return summary


def _map_jobs(figure, quick, seeds, folders, overrides, jobs, client, force=False):
    """Yield run_seed's result of every seed as it finishes, `jobs` seeds at once (None: all), as
    jobs of experiments/harness/runner.py: local worker processes, or the cluster of `client`."""
    if not seeds:
        return
    from experiments.harness import seeds as this  # by reference, not as __main__, so workers import it by name
    todo = list(seeds)
    with (runner.Local(jobs) if client is None else dask_cluster.Cluster(client)) as r:
        def submit():
            s = todo.pop(0)
            r.submit(this.run_seed, figure, quick, s, str(folders[s]), overrides, None, force, label=f"{figure}_seed{s}")
        for _ in range(min(jobs or len(todo), len(todo))):
            submit()
        for job in r.as_completed():
            if todo:
                submit()
            yield job.result


# ---- command line -----------------------------------------------------------------------------------
def figure_type(text):
    names = figure_names()
    if text not in names:
        raise argparse.ArgumentTypeError(f"unknown figure {text!r}; choose one of {', '.join(names)}")
    return text


def parser():
    p = cli.Parser(prog="python -m experiments.harness.seeds", description=__doc__,
                   formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("figure", metavar="FIGURE", type=figure_type, help=f"one of {', '.join(figure_names())}")
    p.add_argument("--seeds", type=cli.seed_type, nargs="+", required=True, metavar="N",
                   help="the seeds, non-negative integers, each once")
    p.add_argument("--quick", action="store_true", help="the small QUICK config of the figure")
    p.add_argument("--force", action="store_true", help="replace PAPER results (a seed's, the summary) with this "
                   "sweep's (never in figures/ nor in runs/seeds/, the folders of the committed summaries)")
    p.add_argument("--jobs", type=cli.int_type(1), default=None, metavar="N",
                   help="seeds run at once (default: locally cores // cores per job, where a job of fig4_local, fig7_hpo, "
                        "fig5_many or fig6_gp takes 2 cores and the others 1; on a cluster, all)")
    p.add_argument("--out", metavar="DIR", default=None,
                   help="folder of the summary (default figures/ for PAPER over seeds 7-11, else runs/paper_seeds/, "
                        "or runs/quick_seeds/ with --quick)")
    p.add_argument("--budget-fraction", type=fraction_type, default=None, metavar="F",
                   help="every time budget times F, 0 < F <= 1 (a labelled robustness budget; figures with scaled(): "
                        "fig5_many)")
    cli.add_settings(p)
    cli.add_scheduler(p)
    return p


def fraction_type(text):
    try:
        f = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"budget fraction {text!r} is not a number") from None
    if not 0 < f <= 1:  # NaN fails here too
        raise argparse.ArgumentTypeError(f"budget fraction {text} is not above 0 and at most 1")
    return f


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    twice = sorted({s for s in args.seeds if args.seeds.count(s) > 1})
    if twice:
        p.error(f"seed {twice[0]} is given more than once; give each seed once")
    if args.out == "":
        p.error("--out is empty; give a folder")
    try:
        scheduler, wait_s = cli.scheduler_of(args)
    except ValueError as e:
        p.error(str(e))
    if args.budget_fraction is not None:
        try:
            check_fraction(args.figure, figure_module(args.figure), args.budget_fraction)
        except ValueError as e:
            p.error(str(e))
    try:
        overrides = config_overrides.changes(make_config(figure_module(args.figure), args.quick, args.seeds[0]), args.settings)
    except ValueError as e:
        p.error(str(e))
    try:
        summary = sweep(args.figure, args.seeds, quick=args.quick, out=args.out, jobs=args.jobs,
                        scheduler=scheduler, overrides=overrides, log=lambda line: print(line, flush=True),
                        wait_s=wait_s, fraction=args.budget_fraction, force=args.force)
    except (staging.OutputError, SweepError, results.CommittedError, dask_cluster.ClusterError) as e:  # a bad or committed
        sys.exit(f"experiments.harness.seeds: error: {e}")     # --out, a busy sweep, no cluster, too many jobs
    except (OSError, ValueError) as e:
        sys.exit(f"experiments.harness.seeds: error: {error_line(e)}")
    except KeyboardInterrupt:
        sys.exit("experiments.harness.seeds: interrupted; the workers were stopped; seeds that finished keep their "
                 "results, and running the same command again resumes the sweep")
    print(table(summary))
    if summary["failed"]:
        for s, why in summary["failed"].items():
            print(f"seed {s} failed: {why}", file=sys.stderr)
        sys.exit(1)


def table(summary, rows=25):
    """The sweep's metrics over its seeds, one line each: name, mean +- sd (n); the first `rows` of them."""
    stats = [(k, v) for k, v in summary["metrics"].items() if v["n"]]
    lines = [f"{'metric':44s} mean +- sd over the seeds"]
    lines += [f"{k[:44]:44s} {v['mean']:.6g} +- {v['sd']:.2g} ({v['n']})" for k, v in stats[:rows]]
    if len(stats) > rows:
        lines.append(f"... and {len(stats) - rows} more metrics in the sweep's summary file")
    return "\n".join(lines)


if __name__ == "__main__":
    if not __package__ and importlib.util.find_spec("experiments") is None:  # the jobs import experiments.<figure>
        sys.exit("experiments/harness/seeds.py: run it from the repository's folder as `python -m experiments.harness.seeds "
                 + " ".join(sys.argv[1:] or ["FIGURE --seeds N ..."]) + "` (its jobs import experiments.<figure>)")
    main()
