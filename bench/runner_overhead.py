"""Overhead of running the reproduction on a Dask cluster instead of local worker processes:
`run_all.sh --quick` timed locally and with --scheduler pointing at a LocalCluster of 2 worker
processes (one thread each) on 127.0.0.1, back to back, the order alternating. The wall time of the
--scheduler runs is also predicted, as bench/predict_wall.py predicts it, from the job times the first
local run recorded: the check of the prediction.

    python bench/runner_overhead.py [--repeats 2]                          (prints the timings)
    python bench/runner_overhead.py --json figures/bench_runner_overhead.json  (writes the committed record)

The record: {"local_s": [...], "scheduler_s": [...], "order": [...], "ratio": median scheduler /
median local, "predicted_scheduler_s", "measured_over_predicted": median scheduler / predicted,
"machine": ..., "commit": ...}. Each run writes into a temporary folder; nothing
of figures/ is touched but the output file.
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


def timed_run(extra, out):
    t0 = time.perf_counter()
    subprocess.run(["bash", str(ROOT / "run_all.sh"), "--quick", "--out", str(out), *extra], check=True,
                   cwd=ROOT, stdout=subprocess.DEVNULL, env=os.environ | {"PYTHON": sys.executable})
    return time.perf_counter() - t0


def predicted_s(folder, workers):
    """run_all.sh --quick --scheduler on `workers` workers, predicted from the records in folder."""
    recs = wall_time.records(folder)
    return wall_time.predict_together(recs, run_all.PAPER_SCOPE, [workers], run_all.AFTER)[0]


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
    times, order, load, predicted = {"local": [], "scheduler": []}, [], os.getloadavg()[0], None
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, tempfile.TemporaryDirectory() as tmp:
        for i, kind in enumerate(k for r in range(a.repeats) for k in (("local", "scheduler"), ("scheduler", "local"))[r % 2]):
            extra = ["--scheduler", cluster.scheduler_address] if kind == "scheduler" else []
            times[kind].append(timed_run(extra, Path(tmp) / str(i)))
            order.append(kind)
            if kind == "local" and predicted is None:
                predicted = predicted_s(Path(tmp) / str(i), 2)
            print(f"{kind}: {times[kind][-1]:.1f} s", flush=True)
    ratio = statistics.median(times["scheduler"]) / statistics.median(times["local"])
    record = {"local_s": times["local"], "scheduler_s": times["scheduler"], "order": order, "ratio": ratio,
              "predicted_scheduler_s": predicted,
              "measured_over_predicted": statistics.median(times["scheduler"]) / predicted,
              "workers": 2, "machine": {"host": platform.node(), "cpu": cpu_model(), "cores": os.cpu_count()},
              "load_before": load, "commit": job_cache.code_id()}
    print(f"scheduler / local = {ratio:.3f} (medians); scheduler measured / predicted = "
          f"{record['measured_over_predicted']:.3f} (predicted {predicted:.1f} s from the first local run's job times)")
    if a.json:
        cli.write_json(a.json, record)


if __name__ == "__main__":
    cli.interruptible("bench/runner_overhead.py", main, "nothing was written")
