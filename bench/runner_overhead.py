"""Overhead of running the reproduction on a Dask cluster instead of local worker processes:
`run_all.sh --quick` timed locally and with --scheduler pointing at a LocalCluster of 2 worker
processes (one thread each) on 127.0.0.1, back to back, the order alternating. The wall time of the
--scheduler runs is also predicted, as bench/predict_wall.py predicts it, from the job times the first
local run recorded: the check of the prediction. To the jobs and what each figure records outside
them, the prediction adds what no results file holds, measured here on the first local run's folder:
run_all.sh's check pass (each script's --check, one after another), each script's start-up (its
--check) and connection to the scheduler (a client importing distributed and connecting), and its
drawing (its --plot-only minus its --check). The same accounting predicts the local runs too.

    python bench/runner_overhead.py [--repeats 2]                          (prints the timings)
    python bench/runner_overhead.py --json figures/bench_runner_overhead.json  (writes the committed record)

The record: {"local_s": [...], "scheduler_s": [...], "order": [...], "ratio": median scheduler /
median local, "predicted_scheduler_s", "measured_over_predicted": median scheduler / predicted,
"predicted_local_s", "local_measured_over_predicted", "predicted_scheduler_jobs_only_s" (the jobs and
the records alone), "overhead": {"check_s": {figure: s}, "draw_s": {figure: s}, "connect_s"},
"machine": ..., "commit": ...}. Each run writes into a temporary folder; nothing of figures/ is
touched but the output file.
"""
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from experiments.harness import cli, job_cache, run_all, wall_time
from experiments.harness.jobs import cpu_model

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd):
    """Wall seconds of the command, run from the checkout with its code and Python, output discarded."""
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                   env=os.environ | {"PYTHON": sys.executable, "PYTHONPATH": str(ROOT)})
    return time.perf_counter() - t0


def timed_run(extra, out):
    return timed(["bash", str(ROOT / "run_all.sh"), "--quick", "--out", str(out), *extra])


def overhead(folder, address):
    """What no results record holds, measured on the results in folder: {"check_s": {figure: its script's
    --check}, "draw_s": {figure: its --plot-only minus its --check}, "connect_s": a new Python process
    importing distributed and connecting to the scheduler at `address`, minus an empty one's start}."""
    check, draw = {}, {}
    for name in run_all.PAPER_SCOPE:
        script = [sys.executable, str(ROOT / "experiments" / f"{name}.py"), "--quick", "--out", str(folder)]
        check[name] = timed([*script, "--check"])
        draw[name] = max(timed([*script, "--plot-only"]) - check[name], 0.0)
    connect = timed([sys.executable, "-c", f"from distributed import Client; Client({address!r}, timeout=60).close()"])
    return {"check_s": check, "draw_s": draw, "connect_s": max(connect - timed([sys.executable, "-c", "pass"]), 0.0)}


def predicted_s(folder, workers, over):
    """{"predicted_local_s", "predicted_scheduler_s", "predicted_scheduler_jobs_only_s"}: run_all.sh --quick
    locally, with --scheduler on `workers` workers, and the latter from the jobs and records alone, predicted
    from the records in folder and the measured overhead `over`: the check pass, then each figure's start-up,
    its part and jobs, and its drawing; one after another locally (each figure's jobs on its config's
    workers), all at once with --scheduler (a connection more each)."""
    recs, names, check, draw = wall_time.records(folder), run_all.PAPER_SCOPE, over["check_s"], over["draw_s"]
    checks = sum(check.values())
    alone = wall_time.predict(folder, [workers], recs)
    local = checks + sum(check[n] + alone[n][0] + draw[n] for n in names if n in recs)
    start = {n: check[n] + over["connect_s"] for n in names}
    together = checks + wall_time.predict_together(recs, names, [workers], run_all.AFTER, start, draw)[0]
    return {"predicted_local_s": local, "predicted_scheduler_s": together,
            "predicted_scheduler_jobs_only_s": wall_time.predict_together(recs, names, [workers], run_all.AFTER)[0]}


def main(argv=None):
    p = cli.Parser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=cli.int_type(1), default=2, help="runs of each kind (default 2)")
    p.add_argument("--json", metavar="PATH", help="also write the record as JSON to PATH (the committed one: "
                                                   "figures/bench_runner_overhead.json)")
    a = p.parse_args(argv)
    if a.json is not None:
        cli.check_json_out(p, a.json, a.repeats == p.get_default("repeats"), "the default --repeats",
                           "bench_runner_overhead.json")
    from distributed import LocalCluster
    times, order, load, predicted, over = {"local": [], "scheduler": []}, [], os.getloadavg()[0], None, None
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, tempfile.TemporaryDirectory() as tmp:
        for i, kind in enumerate(k for r in range(a.repeats) for k in (("local", "scheduler"), ("scheduler", "local"))[r % 2]):
            extra = ["--scheduler", cluster.scheduler_address] if kind == "scheduler" else []
            times[kind].append(timed_run(extra, Path(tmp) / str(i)))
            order.append(kind)
            print(f"{kind}: {times[kind][-1]:.1f} s", flush=True)
            if kind == "local" and predicted is None:
                over = overhead(Path(tmp) / str(i), cluster.scheduler_address)
                predicted = predicted_s(Path(tmp) / str(i), 2, over)
    ratio = statistics.median(times["scheduler"]) / statistics.median(times["local"])
    record = {"local_s": times["local"], "scheduler_s": times["scheduler"], "order": order, "ratio": ratio,
              **predicted,
              "measured_over_predicted": statistics.median(times["scheduler"]) / predicted["predicted_scheduler_s"],
              "local_measured_over_predicted": statistics.median(times["local"]) / predicted["predicted_local_s"],
              "overhead": over,
              "workers": 2, "machine": {"host": platform.node(), "cpu": cpu_model(), "cores": os.cpu_count()},
              "load_before": load, "commit": job_cache.code_id()}
    print(f"scheduler / local = {ratio:.3f} (medians); measured / predicted: scheduler "
          f"{record['measured_over_predicted']:.3f} (predicted {record['predicted_scheduler_s']:.1f} s), local "
          f"{record['local_measured_over_predicted']:.3f} (predicted {record['predicted_local_s']:.1f} s); from the "
          f"first local run's job times and the overhead measured on its results (jobs and records alone: "
          f"{record['predicted_scheduler_jobs_only_s']:.1f} s)")
    if a.json:
        cli.write_json(a.json, record)


if __name__ == "__main__":
    cli.interruptible("bench/runner_overhead.py", main, "nothing was written")
