"""run_all.sh --scheduler on a real Dask cluster (a LocalCluster of 2 workers on 127.0.0.1): the figures
run at once, each a client of the cluster, and give the results they give one after another, every
number and array bit for bit; their jobs ran in the cluster's workers, and their job caches are gone."""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from experiments.harness import results

ROOT = Path(__file__).resolve().parents[2]


def test_figures_run_at_once_on_the_cluster_with_the_same_results(cluster, quick_results, tmp_path):
    out, names = tmp_path / "out", ("fig2_global", "fig4_local")
    t0 = time.monotonic()
    p = subprocess.run(["bash", str(ROOT / "run_all.sh"), "--quick", "--out", str(out), "--scheduler", cluster,
                        "--only", ",".join(names)], capture_output=True, text=True, timeout=600,
                       env={**os.environ, "PYTHON": sys.executable})
    wall = time.monotonic() - t0
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    started = [i for i, line in enumerate(lines) if re.match(r"=== experiments/fig\S+ .* started", line)]
    first_done = min(i for i, line in enumerate(lines) if re.match(r"=== fig\S+ done in", line))
    assert len(started) == 2 and max(started) < first_done, lines  # both running before either ended
    records = {n: json.loads((out / f"{n}.json").read_text()) for n in names}
    assert wall < sum(r["timings_s"]["total"] for r in records.values())  # the two overlapped
    assert all(j["host"] for r in records.values() for j in r["jobs"])
    from distributed import Client
    with Client(cluster) as client:
        workers = set(client.run(os.getpid).values())
    for name, record in records.items():  # the same numbers as the figure run alone, in this process
        (local, a), (_, b) = results.load_results(quick_results(name)[1], name), results.load_results(out, name)
        assert record["metrics"] == local["metrics"] and sorted(a) == sorted(b), name
        assert all(np.array_equal(a[k], b[k]) for k in a), name
        assert record["jobs"] and {j["pid"] for j in record["jobs"]} <= workers, name
        assert all(not j["reused"] and j["cpu"] for j in record["jobs"]), name
        assert not (out / f".{name}.jobs").exists(), name
    assert any(line.startswith("[fig4_local] ") for line in lines)  # each figure's output, named
