"""How long `python -m pytest` takes on this machine, and its 10 slowest tests: the whole suite run once
as the README says (pytest.ini's options: its worker processes included), timed, with `--durations=10`.

    python bench/test_time.py                                   (prints the timings)
    python bench/test_time.py --json figures/bench_tests.json   (writes the committed record, which
                                                                 docs/tests.md and README.md show)

The record: {"wall_s", "passed", "exit_code", "slowest": [{"test", "phase", "s"}], "workers", "machine",
"load_before" (1-minute load average: other work on the machine makes every test slower), "commit"}.
"""
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

from experiments.harness import cli, job_cache
from experiments.harness.jobs import cpu_model

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^\s*([\d.]+)s (call|setup|teardown)\s+(\S+)\s*$")


def slowest(output):
    """[{"test", "phase", "s"}] of pytest's "slowest N durations" lines, slowest first."""
    return [{"test": m[3], "phase": m[2], "s": float(m[1])} for m in map(LINE.match, output.splitlines()) if m]


def workers():
    """The -n of pytest.ini's addopts (pytest-xdist's worker processes), 1 without it."""
    found = re.search(r"-n\s+(\w+)", (ROOT / "pytest.ini").read_text())
    return (os.cpu_count() if found[1] == "auto" else int(found[1])) if found else 1


def main(argv=None):
    p = cli.Parser(description=__doc__.splitlines()[0])
    p.add_argument("--json", metavar="PATH", help="also write the record as JSON to PATH (the committed one: "
                                                   "figures/bench_tests.json)")
    a = p.parse_args(argv)
    if a.json is not None:
        cli.check_json_out(p, a.json, True, "the whole suite", "bench_tests.json")
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "pytest", "--durations=10", "-p", "no:cacheprovider"], cwd=ROOT,
                         capture_output=True, text=True)
    wall = time.perf_counter() - t0
    sys.stdout.write(run.stdout + run.stderr)  # the whole output first: what failed, if anything did
    passed = re.search(r"(\d+) passed", run.stdout)
    record = {"wall_s": wall, "passed": int(passed[1]) if passed else 0, "exit_code": run.returncode,
              "slowest": slowest(run.stdout), "workers": workers(),
              "machine": {"host": platform.node(), "cpu": cpu_model(), "cores": os.cpu_count()},
              "load_before": load, "commit": job_cache.code_id()}
    print(f"python -m pytest: {wall:.0f} s wall, {record['passed']} passed, exit code {run.returncode}, "
          f"load before {load:.1f} on {os.cpu_count()} cores")
    for s in record["slowest"]:
        print(f"{s['s']:8.2f} s  {s['phase']:8s} {s['test']}")
    if a.json:
        cli.write_json(a.json, record)
    return run.returncode


if __name__ == "__main__":
    sys.exit(cli.interruptible("bench/test_time.py", main, "nothing was written"))
