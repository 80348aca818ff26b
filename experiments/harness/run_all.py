"""run_all.sh's driver: the figures of the paper, or with --all every figure, one after another, each
in a child process that cannot outlive this one.

    bash run_all.sh [--all] [--list] [--quick] [--out DIR] [--only NAME[,NAME]] [--seed N] [--plot-only]
                    [--force] [--scheduler ADDRESS] [--wait-workers SECONDS]

Every figure's flags, folder and what it would replace are checked first (the script's --check); then
the figures run in the order of FIGURES, stopping at the first that fails, with its exit code. With
--scheduler they run at once instead, each a client of the cluster, so that the jobs of all of them
share its workers and each figure saves when its own jobs are done (run_together). At each
figure's start and end a line gives the time spent and the time left, predicted from the job times
recorded in the results files (experiments/harness/wall_time.py).

Nothing outlives the driver: run_all.sh `exec`s it, so run_all.sh's pid is this process. A figure runs
as a child that the Linux kernel sends SIGKILL when this process dies, however it dies (SIGKILL
included); its worker processes die with it (experiments/harness/local_pool.py), the kernel drops its
lock, and the jobs it finished stay in its job cache for the same command to reuse. SIGTERM and SIGHUP
end the figure as Ctrl-C does (its own message, its finished jobs kept), then at the latest after
KILL_AFTER_S seconds by SIGKILL.
"""
import argparse
import ctypes
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The figures in the order they run. The paper's: Figures 2-6 and the appendix comparison (fig7_hpo).
PAPER_SCOPE = ("fig2_global", "fig3_manifold", "fig4_local", "fig5_many", "fig6_gp", "fig7_hpo")
# --all adds the labelled ablations of the appendix's hyper-training and the experiments beyond the paper
# (a name whose script does not exist yet is skipped).
BEYOND = ("fig7_ablations", "fig8_warmstart", "fig9_ift", "fig10_width")
FIGURES = PAPER_SCOPE + BEYOND
KILL_AFTER_S = 3.0
PR_SET_PDEATHSIG = 1
NEEDS = ("autograd", "numpy", "matplotlib", "hypernet")  # what the figure scripts import first


class Refused(Exception):
    """A bad command line: one line, exit code 2, nothing run."""


def parser():
    p = argparse.ArgumentParser(prog="run_all.sh", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=(
                                    "Results go where each script puts them: figures/ for a PAPER run with the "
                                    "default seed, runs/quick/, runs/..._seed<N>/ otherwise, or --out DIR."))
    p.add_argument("--all", action="store_true", help="every figure: the paper's (Figures 2-6 and the appendix "
                   "comparison) and the ablations and experiments beyond the paper")
    p.add_argument("--list", action="store_true", help="print the figures this command would run, one per line, "
                   "and stop (nothing is checked or changed)")
    p.add_argument("--only", metavar="NAME[,NAME]", help="only these figures (commas or spaces), in the usual order")
    p.add_argument("--quick", action="store_true", help="the small QUICK configs, into runs/quick/ unless --out")
    p.add_argument("--out", metavar="DIR", help="one folder for every figure's results (relative to where you are)")
    p.add_argument("--seed", metavar="N", help="every figure with seed N (into runs/..._seed<N>/ unless --out)")
    p.add_argument("--plot-only", action="store_true", help="redraw every figure from its saved results")
    p.add_argument("--force", action="store_true", help="replace a PAPER result in --out")
    p.add_argument("--scheduler", metavar="ADDRESS", help="every figure's jobs on that Dask cluster, e.g. "
                   "tcp://HOST:8786 (README: \"Seeds and clusters\")")
    p.add_argument("--wait-workers", metavar="SECONDS", help="with --scheduler: how long to wait for the first worker")
    p.error = lambda message: (_ for _ in ()).throw(Refused(f"{' '.join(message.split())} (see --help)"))
    return p


def chosen(args, root=ROOT):
    """The figures to run, in the order of FIGURES: --only's names, else the paper's (with --all every
    figure) whose scripts exist."""
    exists = lambda name: (root / "experiments" / f"{name}.py").is_file()  # noqa: E731
    if args.only is None:
        return [n for n in (FIGURES if args.all else PAPER_SCOPE) if exists(n)]
    names = [n for n in args.only.replace(",", " ").split()]
    if not names:
        raise Refused("--only names no figure; give names, e.g. --only fig2_global,fig4_local")
    unknown = [n for n in dict.fromkeys(names) if n not in FIGURES]
    if unknown:
        raise Refused(f"--only: unknown figure(s) {' '.join(unknown)} (known: {' '.join(FIGURES)})")
    missing = [n for n in FIGURES if n in names and not exists(n)]
    if missing:
        raise Refused(f"--only {missing[0]}: experiments/{missing[0]}.py does not exist")
    return [n for n in FIGURES if n in names]  # a name given twice runs once


def script_args(args):
    """The flags every figure script gets; --out made absolute from the caller's folder."""
    out = []
    for flag in ("quick", "force", "plot_only"):
        if getattr(args, flag):
            out.append("--" + flag.replace("_", "-"))
    for flag, label in (("seed", "8"), ("out", "DIR"), ("scheduler", "tcp://host:8786"), ("wait_workers", "60")):
        value = getattr(args, flag)
        if value is None:
            continue
        name = "--" + flag.replace("_", "-")
        if not value.strip():
            raise Refused(f"{name} is empty; give a {'folder' if flag == 'out' else 'value'}, e.g. {name} {label}")
        out += [name, str(Path.cwd() / value) if flag == "out" else value]
    return out


def check_environment():
    """One line instead of a ModuleNotFoundError traceback when this Python lacks the dependencies."""
    missing = [m for m in NEEDS if importlib.util.find_spec(m) is None]
    if missing:
        raise Refused(f"{sys.executable} cannot import {', '.join(missing)}: activate the virtual environment "
                      "(`. .venv/bin/activate`, after `pip install -r requirements.txt`) or set PYTHON to its "
                      "python, e.g. PYTHON=.venv/bin/python bash run_all.sh")


# ---- the figure's process: dies with this one ---------------------------------------------------
def _die_with(parent):
    """In the child, before it runs the script: SIGKILL when `parent` dies (Linux), exit at once if it has."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


class Stopped(Exception):
    """SIGTERM or SIGHUP reached the driver."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def spawn(cmd, **kwargs):
    """A figure's process, in the repository's folder, that dies with this one."""
    return subprocess.Popen(cmd, cwd=ROOT, preexec_fn=lambda parent=os.getpid(): _die_with(parent), **kwargs)


def stop(children):
    """Interrupt the children as Ctrl-C does (each keeps its finished jobs), SIGKILL those still there after
    KILL_AFTER_S. (A terminal's Ctrl-C has reached them already: a second one is harmless.)"""
    children = [c for c in children if c.poll() is None]
    for child in children:
        child.send_signal(signal.SIGINT)
    deadline = time.monotonic() + KILL_AFTER_S
    for child in children:
        try:
            child.wait(max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def run_figure(cmd):
    """Run the figure's command to its end; on SIGTERM/SIGHUP (Stopped) or Ctrl-C, stop it and re-raise."""
    child = spawn(cmd)
    try:
        return child.wait()
    except (Stopped, KeyboardInterrupt):
        stop([child])
        raise


# ---- how long is left -----------------------------------------------------------------------------
def predicted_s(names, args, any_workers=False):
    """{figure: predicted seconds} from the job times recorded by an earlier run of the same config:
    <out>/<figure>.json, or for a PAPER run the committed figures/<figure>.json; a figure without one is
    left out (and for --plot-only, none). On this machine's cores, or with `any_workers` on as many workers
    as the jobs can use (a cluster: its longest chain of jobs)."""
    if args.plot_only:
        return {}
    try:
        sys.path.insert(0, str(ROOT))
        from experiments.harness import wall_time
    except ImportError:
        return {}
    config = "QUICK" if args.quick else "PAPER"
    out = {}
    for name in names:
        for folder in ([Path.cwd() / args.out] if args.out else []) + ([] if args.quick else [ROOT / "figures"]):
            try:
                record = json.loads((folder / f"{name}.json").read_text())
                if record.get("config_name") != config:
                    continue
                jobs, outside = wall_time.jobs_of(name, record)
                workers = min(record.get("config", {}).get("workers") or os.cpu_count() or 1, os.cpu_count() or 1)
                out[name] = outside + (wall_time.makespan(jobs, None if any_workers else workers) if jobs else 0.0)
                break
            except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
                continue
    return out


def clock(s):
    s = round(s)
    return f"{s // 3600} h {s % 3600 // 60:02d} min" if s >= 3600 else f"{s // 60} min {s % 60:02d} s" if s >= 60 \
        else f"{s} s"


def left(names, i, pred, in_figure_s=0.0):
    """'about T left' for the figures from names[i] on, the current one already `in_figure_s` in."""
    rest = names[i:]
    known = [pred[n] for n in rest if n in pred]
    if not rest:
        return "nothing left"
    if not known:
        return "time left unknown (no recorded job times for this config)"
    t = sum(known) - min(in_figure_s, pred.get(rest[0], 0.0))
    unknown = [n for n in rest if n not in pred]
    return f"about {clock(max(t, 0))} left" + (f" (+ {', '.join(unknown)}: no recorded times)" if unknown else "")


# ---- with --scheduler: every figure at once --------------------------------------------------------
# A figure that reads another's results in --out starts when that one has saved them.
AFTER = {"fig7_ablations": "fig7_hpo", "fig10_width": "fig7_ablations"}


def _prefixed(stream, name):
    """Copy a figure's output to ours, each line prefixed with its name (several figures print at once)."""
    for line in stream:
        print(f"[{name}] {line}", end="", flush=True)


def run_together(names, flags, pred, start):
    """Every figure a client of the cluster at once, so that their jobs share its workers: the wall time is
    that of the longest chain of jobs, not the sum of the figures. Each figure saves when its own jobs are
    done; the first that fails stops the others (their finished jobs are kept). Returns the exit code."""
    waiting, running, done = list(names), {}, set()
    python, code = sys.executable, 0
    try:
        while waiting or running:
            for name in [n for n in waiting if AFTER.get(n) not in names or AFTER[n] in done]:
                if code:
                    break
                waiting.remove(name)
                child = spawn([python, f"experiments/{name}.py", *flags], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
                copier = threading.Thread(target=_prefixed, args=(child.stdout, name), daemon=True)
                copier.start()
                running[name] = (child, time.monotonic(), copier)
                print(f"=== experiments/{name}.py {' '.join(flags)} started ({len(done)} of {len(names)} done); "
                      f"{clock(time.monotonic() - start)} spent; {left_together(names, running, done, pred)} ===",
                      flush=True)
            for name, (child, t0, copier) in list(running.items()):
                if child.poll() is None:
                    continue
                copier.join()  # its last lines before the line that says it ended
                del running[name]
                if child.returncode:
                    print(f"run_all.sh: experiments/{name}.py failed (exit code {child.returncode}); stopping the "
                          "others", file=sys.stderr, flush=True)
                    code = code or child.returncode
                    stop(child for child, _, _ in running.values())
                    waiting.clear()
                    continue
                done.add(name)
                print(f"=== {name} done in {clock(time.monotonic() - t0)}; {clock(time.monotonic() - start)} "
                      f"spent; {left_together(names, running, done, pred)} ===", flush=True)
            time.sleep(0.2)
    except (Stopped, KeyboardInterrupt):
        stop(child for child, _, _ in running.values())
        raise
    return code


def left_together(names, running, done, pred):
    """'about T left': the longest of the figures still to finish, a figure that waits for another after it."""
    now, ends = time.monotonic(), {}
    for name in names:  # FIGURES' order: a figure's AFTER comes before it
        if name in done:
            ends[name] = 0.0
        elif name not in pred:
            return "time left unknown (no recorded job times for this config)"
        else:
            begun = running[name][1] if name in running else None
            ends[name] = (ends.get(AFTER.get(name), 0.0) if begun is None else 0.0) + max(
                pred[name] - (now - begun if begun is not None else 0.0), 0.0)
    return f"about {clock(max(ends.values(), default=0.0))} left" if len(done) < len(names) else "nothing left"


# ---- the run -------------------------------------------------------------------------------------
def main(argv=None):
    args = parser().parse_args(argv)
    names = chosen(args)
    if args.list:
        print("\n".join(names))
        return 0
    flags = script_args(args)
    check_environment()
    python = sys.executable
    for name in names:  # every figure's flags, folder and what it would replace, before any computing
        code = run_figure([python, f"experiments/{name}.py", *flags, "--check"])
        if code:
            return code
    together = args.scheduler is not None and not args.plot_only and len(names) > 1
    pred, start = predicted_s(names, args, any_workers=together), time.monotonic()
    if together:
        code = run_together(names, flags, pred, start)
        if not code:
            print(f"run_all.sh: all done in {clock(time.monotonic() - start)}", flush=True)
        return code
    for i, name in enumerate(names):
        spent = time.monotonic() - start
        print(f"=== [{i + 1}/{len(names)}] experiments/{name}.py {' '.join(flags)} ===", flush=True)
        if not args.plot_only:
            print(f"run_all.sh: {clock(spent)} spent; {left(names, i, pred)}", flush=True)
        t0 = time.monotonic()
        code = run_figure([python, f"experiments/{name}.py", *flags])
        if code:
            print(f"run_all.sh: experiments/{name}.py failed (exit code {code}); stopped there", file=sys.stderr)
            return code
        took = time.monotonic() - t0
        tail = "" if args.plot_only else f"; {clock(time.monotonic() - start)} spent; {left(names, i + 1, pred)}"
        print(f"=== {name} done in {clock(took)}{tail} ===", flush=True)
    print(f"run_all.sh: all done in {clock(time.monotonic() - start)}", flush=True)
    return 0


def _stop(signum, frame):
    raise Stopped(signum)


if __name__ == "__main__":
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop)
    try:
        sys.exit(main())
    except Refused as e:
        print(f"run_all.sh: {e}", file=sys.stderr)
        sys.exit(2)
    except Stopped as e:
        print(f"run_all.sh: stopped by {e}; the figure's finished jobs are kept for the same command to reuse",
              file=sys.stderr)
        sys.exit(128 + e.signum)
    except KeyboardInterrupt:
        print("run_all.sh: interrupted; the figure's finished jobs are kept for the same command to reuse",
              file=sys.stderr)
        sys.exit(130)
