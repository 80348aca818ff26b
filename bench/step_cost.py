"""Cost of one hyper-training step relative to one plain gradient step of the same model.

    python bench/step_cost.py            (under a minute; add --reps 5 for a quick look)
    python bench/step_cost.py --reference   (also times the hyper step with the reference forms)
    python bench/step_cost.py --reference --json figures/bench_step_cost.json   (the committed numbers)

The paper (Experiments, "Hyper-training and unrolled optimization") says an iteration of
hyper-training the 7,850-hyperparameter model of Figure 5 with a factorised hypernetwork
(bottleneck 10) is 2 x 10 times as expensive as an iteration on the model alone. This script
measures the ratio on MNIST for three cases:

  (a) 1 hyperparameter (exp(lam) * ||w||_2, Gaussian NLL loss, Figs 2 and 4), linear hypernetwork
      1 -> 7850, S = 2 lam samples per step, batch 1,000;
  (b) 7,850 per-weight hyperparameters (sum_j exp(lam_j) w_j^2, MSE loss, Fig 5), factorised
      hypernetwork 7850 -> 10 -> 7850, S = 2, batch 100 and batch 1,000.

A hyper-training step is one full iteration of Algorithm 3 as hypernet.algorithms.hypertrain_local
runs it: draw S samples lam ~ N(lam_hat, sigma^2), one Adam step on phi on a training batch, then
one Adam step on lam_hat of the validation loss on a validation batch of the same size.
A plain step is what one would write without hypernetworks: autograd's gradient of
loss(X @ W + b, T) + penalty(W, b) with W (784, 10) and b (10,) as arrays and a fixed lam, then the
same Adam update (hypernet.optim) on W and b, on the same training batch.

Both are timed in blocks of `--steps` steps; plain and hyper blocks alternate (the order flips each
round) for `--reps` rounds, and each cost is the median over rounds, which resists the noise of
other processes on the machine. Each block is timed twice: wall-clock time, and the CPU time of
this process, which leaves out the time other processes hold the CPU (on a busy machine the two
differ; on an idle one they agree). BLAS runs single-threaded (OPENBLAS_NUM_THREADS etc. default
to 1 here) so that both kinds of step are timed on one core. The ratios use wall-clock time; the
last line is `max ratio: X.XX` (target: at most 3.0).

With --reference, each case also times the same hyper step with the primitives' formulas
differentiated by autograd itself (the `*_formula` functions of hypernet/primitives.py put in place
of the primitives, and Adam's formula instead of its in-place passes: what the step would cost
without the hand-written gradients), in the same alternating rounds, and prints its ratio to the
plain step and to the fast hyper step. The plain step is always the same code.
"""
import argparse
import contextlib
import os
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before NumPy starts its BLAS threads

import numpy as onp  # noqa: E402 (after the thread settings)
import autograd.numpy as np  # noqa: E402
from autograd import value_and_grad  # noqa: E402

from experiments.harness.jobs import cpu_model  # noqa: E402
from hypernet import algorithms, data, hypernets, layout, models, optim, primitives  # noqa: E402
from experiments.harness import cli, results

SIGMA = 1e-5 ** 0.5  # p(lam | lam_hat) of Fig 4: variance 1e-5
LR, LR_LAM = 1e-4, 1e-3


def plain_step_runner(X, T, loss, penalty, lr=LR, seed=0):
    """steps(n): n plain Adam steps of the 784-10 model written directly with W, b arrays."""
    def objective(params):
        W, b = params
        return loss(np.dot(X, W) + b, T) + penalty(W, b)
    grad = value_and_grad(objective)
    rng = onp.random.default_rng(seed)
    W0, b0 = 0.01 * rng.standard_normal((784, 10)), 0.01 * rng.standard_normal(10)

    adam = optim.adam(lr)

    def steps(n):
        W, b, sW, sb = W0, b0, adam.init(W0), adam.init(b0)
        for _ in range(n):
            _, (gW, gb) = grad((W, b))
            dW, sW = adam.update(gW, sW)
            db, sb = adam.update(gb, sb)
            W, b = W - dW, b - db
        return W
    return steps


def hyper_step_runner(problem, hypernet, lam0, train, valid, seed=0):
    """steps(n): n iterations of Algorithm 3 (S = 2), always on the same two batches."""
    phi = hypernet.init(onp.random.default_rng(seed), 0.01)

    def steps(n):
        return algorithms.hypertrain_local(problem, hypernet, phi=phi, lam_hat=lam0, train_batch=lambda step: train,
                                           valid_batch=lambda step: valid, iters=n, n_samples=2, sigma=SIGMA,
                                           opt_phi=optim.adam(LR), opt_lam=optim.adam(LR_LAM), seed=seed).lam
    return steps


def cases(batches):
    """(description, label, plain runner, hyper runner) for the three cases, each on its batch size."""
    out = []
    nll_const = onp.log(0.1) + 0.5 * models.LOG_2PI
    lam_a = -3.5  # lam_hat's start in Fig 4
    for B in batches["a"]:
        (X, T), valid = batches["train"](B), batches["valid"](B)
        plain = plain_step_runner(
            X, T, lambda P, T: 50.0 * np.mean((P - T) ** 2) + nll_const,
            lambda W, b: np.exp(lam_a) * np.sqrt(np.sum(W ** 2) + np.sum(b ** 2)))
        hyper = hyper_step_runner(models.make_problem((784, 10), "nll", "l2_norm"), hypernets.linear(1, 7850),
                                  onp.array([lam_a]), (X, T), valid)
        out.append((dict(case="a", n_hyper=1, hypernet="linear 1->7850", samples=2, batch=B),
                    f"(a) 1 hyperparameter, linear 1->7850, S=2, batch {B}", plain, hyper))
    lam_b = onp.full(7850, -3.0)
    (layer,) = layout.layers((784, 10))
    lam_W, lam_bias = layout.weights(lam_b, layer), layout.biases(lam_b, layer)
    for B in batches["b"]:
        (X, T), valid = batches["train"](B), batches["valid"](B)
        plain = plain_step_runner(
            X, T, lambda P, T: np.mean((P - T) ** 2),
            lambda W, b: np.sum(np.exp(lam_W) * W ** 2) + np.sum(np.exp(lam_bias) * b ** 2))
        hyper = hyper_step_runner(models.make_problem((784, 10), "mse", "per_weight"),
                                  hypernets.factorised(7850, 10, 7850), lam_b, (X, T), valid)
        out.append((dict(case="b", n_hyper=7850, hypernet="factorised 7850->10->7850", samples=2, batch=B),
                    f"(b) 7850 hyperparameters, factorised 7850->10->7850, S=2, batch {B}", plain, hyper))
    return out


def per_step(run, n):
    """(wall-clock seconds, CPU seconds) per step of run(n)."""
    t0, c0 = time.perf_counter(), time.process_time()
    run(n)
    return (time.perf_counter() - t0) / n, (time.process_time() - c0) / n


FORMULAS = {"affine": primitives.affine_formula, "two_layer": primitives.two_layer_formula,
            "cols": primitives.cols_formula, "mean_sq_err": primitives.mean_sq_err_formula,
            "weighted_sq_sum": primitives.weighted_sq_sum_formula}


@contextlib.contextmanager
def formulas():
    """Inside: models and hypernets call the primitives' formulas (autograd differentiates them) and
    Adam runs its formula, not its in-place passes. For this benchmark only: the library has no switch."""
    saved = [(m, k, getattr(m, k)) for m in (models, hypernets) for k in FORMULAS if hasattr(m, k)]
    saved.append((optim, "_plain", optim._plain))
    try:
        for m, k, _ in saved[:-1]:
            setattr(m, k, FORMULAS[k])
        optim._plain = lambda g, state: False
        yield
    finally:
        for m, k, v in saved:
            setattr(m, k, v)


def with_reference(run):
    """run, with the formulas instead of the primitives (formulas())."""
    def steps(n):
        with formulas():
            return run(n)
    return steps


def measure(runners, steps, reps):
    """Per-step times of each runner over `reps` rounds, the order of the runners rotating from
    round to round: one array (reps, 2) of (wall, cpu) seconds per runner."""
    for run in runners:
        run(2)  # warm up caches and allocator
    times = [[] for _ in runners]
    for r in range(reps):
        for i in ((r + j) % len(runners) for j in range(len(runners))):
            times[i].append(per_step(runners[i], steps))
    return [onp.array(t) for t in times]


def time_case(runners, args):
    """Median per-step times (ms) of the plain, fast hyper and (with --reference) reference hyper steps."""
    tp, th, *tr = measure(runners, args.steps, args.reps)
    (wp, cp), (wh, ch) = onp.median(tp, axis=0), onp.median(th, axis=0)
    q1, q3 = onp.percentile(th[:, 0] / tp[:, 0], [25, 75])
    row = {"plain_ms": wp * 1e3, "hyper_ms": wh * 1e3, "ratio": wh / wp, "ratio_quartiles": [q1, q3],
           "plain_cpu_ms": cp * 1e3, "hyper_cpu_ms": ch * 1e3, "cpu_ratio": ch / cp}
    if tr:
        (wr, cr), (r1, r3) = onp.median(tr[0], axis=0), onp.percentile(tr[0][:, 0] / tp[:, 0], [25, 75])
        row.update(reference_ms=wr * 1e3, reference_ratio=wr / wp, reference_ratio_quartiles=[r1, r3],
                   reference_vs_fast=wr / wh, reference_cpu_ratio=cr / cp)
    return {k: results.jsonable(v) for k, v in row.items()}


def print_case(label, r):
    q1, q3 = r["ratio_quartiles"]
    print(f"{label}:\n    wall: plain {r['plain_ms']:.3f} ms, hyper {r['hyper_ms']:.3f} ms, ratio {r['ratio']:.2f} "
          f"(per-round quartiles {q1:.2f}-{q3:.2f}); CPU: plain {r['plain_cpu_ms']:.3f} ms, hyper "
          f"{r['hyper_cpu_ms']:.3f} ms, ratio {r['cpu_ratio']:.2f}", flush=True)
    if "reference_ms" in r:
        q1, q3 = r["reference_ratio_quartiles"]
        print(f"    reference forms: hyper {r['reference_ms']:.3f} ms, ratio {r['reference_ratio']:.2f} (per-round "
              f"quartiles {q1:.2f}-{q3:.2f}), {r['reference_vs_fast']:.2f} x the fast hyper step; CPU ratio "
              f"{r['reference_cpu_ratio']:.2f}", flush=True)


def parse(argv):
    p = cli.Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reps", type=cli.int_type(1), default=21, help="alternating rounds per case (default 21)")
    p.add_argument("--steps", type=cli.int_type(1), default=20, help="steps per timed block (default 20)")
    p.add_argument("--reference", action="store_true",
                   help="also time the hyper step with the primitives' formulas, differentiated by autograd")
    p.add_argument("--json", type=Path, metavar="PATH", help="also save the numbers as a results file")
    args = p.parse_args(argv)
    if args.json is not None:
        cli.check_json_out(p, args.json, (args.reps, args.steps, args.reference) == (
            p.get_default("reps"), p.get_default("steps"), True), "the default --reps and --steps with --reference",
            "bench_step_cost.json")
    return args


def main(argv=None):
    args = parse(argv)
    t0 = time.perf_counter()
    splits = data.mnist_splits(1000, 1000, 1)
    batches = {"a": [1000], "b": [100, 1000],
               "train": lambda B: (splits.train.X[:B], splits.train.T[:B]),
               "valid": lambda B: (splits.valid.X[:B], splits.valid.T[:B])}
    threads = {k: os.environ.get(k, "unset") for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"hyper step = one iteration of Algorithm 3 (phi step on a training batch + lam step on a validation "
          f"batch of the same size); {args.reps} alternating rounds of {args.steps} steps; threads {threads}; "
          f"load average {load[0]:.2f} on {os.cpu_count()} cores")
    rows = []
    for case, label, plain, hyper in cases(batches):
        runners = [plain, hyper] + ([with_reference(hyper)] if args.reference else [])
        rows.append(dict(case, label=label, **time_case(runners, args)))
        print_case(label, rows[-1])
    max_ratio = max(r["ratio"] for r in rows)
    print(f"max ratio: {max_ratio:.2f}")
    if args.json is not None:
        cli.write_json(args.json, {"benchmark": "step_cost", "config": {"reps": args.reps, "steps": args.steps,
                                                              "reference": args.reference, "threads": threads},
                         "cases": rows, "max_ratio": max_ratio,
                         "machine": {"cpu": cpu_model(), "cores": os.cpu_count(),
                                     "load_average_start": load[0],
                                     "load_average_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else None},
                         "timings_s": {"total": time.perf_counter() - t0}, "versions": results.versions()})


if __name__ == "__main__":
    cli.interruptible("bench/step_cost.py", main, "nothing was written")
