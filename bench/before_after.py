"""The cost of a hyper-training step in this checkout against another commit of it, timed in one run:
bench/step_cost.py runs in each checkout in turn, the order flipping every round, and each case's
cost is the median over rounds of its CPU milliseconds per step (CPU time leaves out the time other
processes hold the core; both checkouts are timed under the same conditions).

    python bench/before_after.py --base COMMIT [--rounds 6] [--reps 5] [--json PATH]

The base commit is checked out into a temporary git worktree (removed at the end). Writes
{"base", "head", "rounds", "cases": [{"case", "batch", "base_cpu_ms": [...], "head_cpu_ms": [...],
"ratio": median head / median base, "plain_ratio": the same for the plain step}], "machine"} to
--json PATH (default: printed only; the committed figures/bench_before_after.json only at the default
--rounds and --reps).
"""
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from experiments.harness import cli
from experiments.harness.staging import signals_deferred

ROOT = Path(__file__).resolve().parents[1]


def git(*args, cwd=ROOT):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def one(checkout, reps, out):
    """bench/step_cost.py of `checkout`, its own code imported: {(case, batch): (hyper, plain) CPU ms}."""
    env = os.environ | {"PYTHONPATH": str(checkout)}
    p = subprocess.run([sys.executable, str(Path(checkout) / "bench" / "step_cost.py"), "--reps", str(reps),
                        "--json", str(out)], cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode:
        last = (p.stderr.strip().splitlines() or ["no message"])[-1]
        raise SystemExit(f"bench/before_after.py: bench/step_cost.py of {checkout} failed ({last}); nothing was "
                         "written, the base commit's worktree was removed")
    cases = json.loads(Path(out).read_text())["cases"]
    return {(c["case"], c["batch"]): (c["hyper_cpu_ms"], c["plain_cpu_ms"]) for c in cases}


def main(argv=None):
    p = cli.Parser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True, help="the commit to compare with (e.g. the one before a change)")
    p.add_argument("--rounds", type=cli.int_type(1), default=6, help="runs of each checkout (default 6)")
    p.add_argument("--reps", type=cli.int_type(1), default=5, help="step_cost.py --reps of each run (default 5)")
    p.add_argument("--json", metavar="PATH", help="also write the numbers as JSON to PATH")
    a = p.parse_args(argv)
    if a.json is not None:
        cli.check_json_out(p, a.json, (a.rounds, a.reps) == (p.get_default("rounds"), p.get_default("reps")),
                           "the default --rounds and --reps", "bench_before_after.json")
    try:
        base = git("rev-parse", "--verify", a.base + "^{commit}")
    except subprocess.CalledProcessError:
        p.error(f"--base {a.base!r} is not a commit of this repository")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench/before_after.py: terminated; nothing was written, "
                                                      "the base commit's worktree was removed"))
    head, load = git("rev-parse", "HEAD"), os.getloadavg()[0]
    times = {"base": [], "head": []}
    with tempfile.TemporaryDirectory() as tmp:
        wt = Path(tmp) / "base"
        try:
            with signals_deferred():  # a SIGTERM during the add acts once git has registered the worktree
                git("worktree", "add", "--detach", str(wt), base)
            for r in range(a.rounds):
                for kind in (("base", "head") if r % 2 == 0 else ("head", "base")):
                    times[kind].append(one(wt if kind == "base" else ROOT, a.reps, Path(tmp) / f"{kind}.json"))
                    print(f"round {r + 1}/{a.rounds}: {kind} done", flush=True)
        finally:
            if wt.exists():
                git("worktree", "remove", "--force", str(wt))
            git("worktree", "prune")
    cases = []
    for key in times["head"][0]:
        b, h = ([run[key] for run in times[k]] for k in ("base", "head"))
        med = lambda xs, i: statistics.median(x[i] for x in xs)  # noqa: E731
        cases.append({"case": key[0], "batch": key[1], "base_cpu_ms": [x[0] for x in b], "head_cpu_ms": [x[0] for x in h],
                      "ratio": med(h, 0) / med(b, 0), "plain_ratio": med(h, 1) / med(b, 1)})
        print(f"case {key[0]}, batch {key[1]}: hyper step {med(b, 0):.3f} -> {med(h, 0):.3f} ms CPU "
              f"({100 * (cases[-1]['ratio'] - 1):+.1f}%); plain step {100 * (cases[-1]['plain_ratio'] - 1):+.1f}%")
    record = {"base": base, "head": head, "rounds": a.rounds, "reps": a.reps, "cases": cases, "load_before": load,
              "machine": {"host": platform.node(), "cores": os.cpu_count()}}
    if a.json:
        cli.write_json(a.json, record)


if __name__ == "__main__":
    cli.interruptible("bench/before_after.py", main, "nothing was written; the base commit's worktree was removed")
