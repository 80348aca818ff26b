"""Figure 5's hand-tuned grid trained as one array against one array per step size.

    python bench/cv_grid.py [--steps 1000] [--repeats 2]          (prints; about 5 min at the defaults)
    python bench/cv_grid.py --json figures/bench_cv_grid.json      (also writes the committed numbers)

For every architecture of Figure 5 (PAPER settings: 6 global log decays, Adam step sizes 1e-4 and
1e-3, minibatches of 100), Algorithm 1 (hypernet.algorithms.cross_validation) trains the grid for
`--steps` steps two ways: as before, one array of 6 models per step size, one after the other; and
as Figure 5's cv_job (experiments/common/per_weight.py) does now, the 12 models as one array with
a step size per row. The two alternate (the order flips each round); each is timed in CPU seconds
of this process (BLAS on one thread, as in the figure's worker processes) and the cost is the
median over rounds. Also reported: the largest difference between the two ways' 12 validation
losses, and the grid time a PAPER Figure 5 run would take, its recorded cv timings times the
measured ratio.
"""
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from hypernet import algorithms, data, models, optim
from experiments.common import per_weight
from experiments.harness import cli, job_cache, runner

ROOT = Path(__file__).resolve().parents[1]


def per_step_size(config, sizes, iters):
    """The grid as it was trained before: one array of the decays per step size."""
    splits, problem, full, _ = per_weight.setup(config, sizes, penalty="sq_l2")
    W0 = models.init_weights(np.random.default_rng(per_weight.stream(config, "weights_init")), problem.n_weights,
                             config.init_scale)
    lams = np.array(config.cv_log_decays, float)[:, None]
    batch = data.minibatcher(splits.train, config.batch, per_weight.stream(config, "train_batches"))
    return np.array([algorithms.cross_validation(problem, lams, W0=W0, train_batch=batch,
                                                 valid_data=full(splits.valid), opt=optim.adam(lr),
                                                 iters=iters).valid_losses for lr in config.cv_lrs])


def one_array(config, sizes, iters):
    return per_weight.cv_job(config, sizes, iters)["valid_losses"]


def timed(fn, *args):
    t0 = time.process_time()
    out = fn(*args)
    return time.process_time() - t0, out


def main(argv=None):
    p = cli.Parser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=cli.int_type(1), default=1000, help="training steps of each grid (default 1000)")
    p.add_argument("--repeats", type=cli.int_type(1), default=2, help="rounds of each way (default 2)")
    p.add_argument("--json", metavar="PATH", help="also write the record as JSON to PATH (the committed one: "
                                                   "figures/bench_cv_grid.json)")
    a = p.parse_args(argv)
    if a.json is not None:
        cli.check_json_out(p, a.json, (a.steps, a.repeats) == (p.get_default("steps"), p.get_default("repeats")),
                           "the default --steps and --repeats", "bench_cv_grid.json")
    config, load = per_weight.PAPER, os.getloadavg()[0]
    record = {"steps": a.steps, "repeats": a.repeats, "archs": {}}
    with threadpool_limits(1):
        for sizes in map(tuple, config.archs):
            per_weight.setup(config, sizes, penalty="sq_l2")  # the data, loaded before any timing
            times, losses = {"per_step_size": [], "one_array": []}, {}
            for r in range(a.repeats):
                for way in (("per_step_size", "one_array"), ("one_array", "per_step_size"))[r % 2]:
                    s, losses[way] = timed(per_step_size if way == "per_step_size" else one_array, config, sizes,
                                           a.steps)
                    times[way].append(s)
            before, after = (statistics.median(times[k]) for k in ("per_step_size", "one_array"))
            name = per_weight.arch_name(sizes)
            record["archs"][name] = {"per_step_size_s": times["per_step_size"], "one_array_s": times["one_array"],
                                     "ratio": after / before,
                                     "max_abs_diff": float(np.max(np.abs(losses["one_array"] - losses["per_step_size"]))),
                                     "valid_losses": np.asarray(losses["one_array"]).tolist()}
            print(f"{name}: per step size {before:.2f} s, one array {after:.2f} s (ratio {after / before:.3f}), "
                  f"largest loss difference {record['archs'][name]['max_abs_diff']:.1e}", flush=True)
    recorded = json.loads((ROOT / "figures" / "fig5_many.json").read_text())["timings_s"]
    cv = {n: recorded[f"cv_{n}"] for n in record["archs"]}
    record["fig5_cv_recorded_s"] = cv
    record["fig5_cv_predicted_s"] = {n: cv[n] * record["archs"][n]["ratio"] for n in cv}
    record |= {"machine": {"host": platform.node(), "cpu": runner.cpu_model(), "cores": os.cpu_count()},
               "load_before": load, "commit": job_cache.code_id()}
    print(f"Figure 5's grids: {sum(cv.values()):.0f} s recorded, {sum(record['fig5_cv_predicted_s'].values()):.0f} s "
          "predicted one array each")
    if a.json:
        cli.write_json(a.json, record)


if __name__ == "__main__":
    cli.interruptible("bench/cv_grid.py", main, "nothing was written")
