"""Figure 6 of Lorraine & Duvenaud (2018): learning weights vs learning the loss.

Ten hyperparameters, one decay per digit class: penalty (1/10) sum_i exp(lam_i) ||W[:, i]||_2 on a
linear 784 -> 10 model, lam ~ U[-3, 3]^10, Gaussian NLL (sd 0.1). Train = MNIST training images
[0, 50000) as 100-point contiguous windows at random offsets, valid = [50000, 60000). 25 + 10,215
models, each trained from randn * 1e-5 with Adam 1e-4 for 1,000 steps, give (lam, validation loss)
tuples; three surrogates fit on the first 25 predict the validation loss of the other 10,215:
a GP on the 25 losses, a linear hypernetwork 10 -> 7850 trained at the 25 fixed lam
("hyper-training fixed"), and the same hypernetwork trained by Algorithm 2 on fresh lam
("hyper-training"). A hypernetwork's inferred loss is the validation loss of the weights it outputs.

    python experiments/fig6_gp.py [--quick] [--seed 7] [--out DIR] [--plot-only]

Settings (the paper's text first, the original code where it is silent, ours where both are):
- GP: "a GP with an RBF kernel from sklearn" (paper); as the original code,
  GaussianProcessRegressor(RBF(), n_restarts_optimizer=1), scikit-learn's defaults otherwise (prior
  mean 0, losses not normalised), random_state=seed. Ablations beside it: C * RBF with
  normalize_y=True and 10 restarts ("gp_tuned"), and the same with one length scale per lam
  ("gp_ard").
- Both hypernetworks: linear 10 -> 7850, init randn * 1e-5, Adam 1e-4, 25 lam per step (the
  original code's; the paper points to the 7,850-hyperparameter experiment, which does not say),
  no phase 2; hyper-training fixed draws its lam from the 25 fixed ones, hyper-training from
  U[-3, 3]^10. Each trains for as long as building the 25 training tuples took (paper): the
  tuples are built by Algorithm 1 (hypernet.algorithms.cross_validation, the 25 models as one
  array, autograd, float64) on one thread, and each hypernetwork stops when its own thread has used
  as much CPU time (unaffected by other load; on an idle core it equals wall time). Ablation: the
  same with `ablation_n_samples` lam per step ("hyper_fixed_s10", "hyper_s10").
- The 10,215 evaluation tuples (the ground truth, part of no method's budget) come from
  hypernet.linear_models.train_per_class: chunks of `chunk` models trained as one array with a hand-written
  gradient, in float32, each chunk a job (`workers` processes here, or a Dask cluster). Within a chunk all models see the same minibatch at
  each step; every chunk has its own minibatch sequence and initial weights.
"""
import dataclasses
import time

import numpy as np
from threadpoolctl import threadpool_limits

from hypernet import algorithms, checks, data, hypernets, models, optim, samplers
from hypernet.baselines import gp, many_linear
from experiments.harness import bounds, cli, job_cache, local_pool, plotting, results, runner
from experiments.common import verdicts

FIGURE = "fig6_gp"
FIGURES = results.FIGURES
SURROGATES = (("gp", "GP mean"), ("hyper_fixed", "Hyper-training fixed"), ("hyper", "Hyper-training"))  # as the paper


@dataclasses.dataclass(frozen=True)
class Config:
    seed: int = 7
    n_train: int = 50000             # MNIST training images [0, n_train)
    n_valid: int = 10000             # the next n_valid images
    batch: int = 100                 # contiguous window of training points per step
    n_train_tuples: int = 25
    n_eval_tuples: int = 10215
    lam_range: tuple = (-3.0, 3.0)   # lam ~ U[low, high]^10
    iters: int = 1000                # Adam steps of every elementary model
    lr_phi: float = 1e-4                 # Adam step of the models and of both hypernetworks
    init_scale: float = 1e-5         # randn * scale for model weights and hypernetwork parameters
    n_samples: int = 25                # lam samples per hypernetwork step (original code)
    ablation_n_samples: tuple = (10,)  # the same hypernetworks with these samples per step (ablation)
    max_hyper_iters: int = 10 ** 6   # the time budget, not this, ends hyper-training
    chunk: int = 64                  # models per array in the evaluation set
    workers: int = 2                 # processes training evaluation chunks (threads evaluating surrogates)
    dtype: str = "float32"           # of the evaluation set's training and all loss evaluations
    gp_restarts: int = 10


PAPER = Config()
QUICK = dataclasses.replace(PAPER, n_valid=2000, n_eval_tuples=256, iters=100, gp_restarts=2)


def _losses_of(W_fn, n, splits, config):
    """Validation losses (n,) of the weights W_fn(slice) -> (s, D), chunk by chunk on the threads."""
    dtype = np.dtype(config.dtype)
    fn = lambda sl: many_linear.valid_losses(W_fn(sl), splits.valid.X, splits.valid.T, dtype=dtype)  # noqa: E731
    return np.concatenate(local_pool.map_chunks(fn, n, 4 * config.chunk, config.workers))


_SPLITS = {}  # loaded once per process (before the local worker processes fork: they share it)


def splits_of(config):
    if (config.n_train, config.n_valid) not in _SPLITS:
        _SPLITS[config.n_train, config.n_valid] = data.mnist_splits(config.n_train, config.n_valid)
    return _SPLITS[config.n_train, config.n_valid]


def eval_chunk(config, c, lams):
    """True validation losses (len(lams),) of chunk c of the evaluation set (a job): the models
    trained as one array by the fast vectorised trainer, with the chunk's own initial weights and
    minibatch sequence."""
    splits, D, dtype = splits_of(config), models.n_weights((784, 10)), np.dtype(config.dtype)
    W0 = models.init_weights(np.random.default_rng([config.seed, 2, c]), D, config.init_scale, len(lams))
    batch = data.minibatcher(splits.train, config.batch, results.seed_of(config, 3, c), contiguous=True)
    W = many_linear.train_per_class(lams, W0, batch, config.iters, config.lr_phi, dtype=dtype)
    return many_linear.valid_losses(W, splits.valid.X, splits.valid.T, dtype=dtype)


def build_eval_set(lams, config):
    """True validation losses of len(lams) models, chunks of config.chunk models as jobs
    (experiments/harness/runner.py: `workers` processes here, or a Dask cluster with --scheduler)."""
    n = -(-len(lams) // config.chunk)
    progress, losses = results.Progress("eval tuples", n, every_s=20), {}
    with runner.open(config.workers) as r:
        for c in range(n):
            r.submit(eval_chunk, config, c, lams[c * config.chunk:(c + 1) * config.chunk],
                     key=job_cache.key(FIGURE, config, "eval", c), label=f"eval_{c}")
        for i, job in enumerate(r.as_completed()):
            losses[job.args[1]] = job.result
            progress(i)
    return np.concatenate([losses[c] for c in range(n)])


def hypertrain(problem, hypernet, *, sample_lams, splits, config, budget_cpu_s, key):
    """Algorithm 2 phase 1 from phi ~ randn * init_scale until this thread has used budget_cpu_s
    CPU seconds. Returns (phi, losses per step, wall seconds, CPU seconds)."""
    phi = hypernet.init(np.random.default_rng([config.seed, 4, key]), config.init_scale)
    batch = data.minibatcher(splits.train, config.batch, results.seed_of(config, 5, key), contiguous=True)
    wall, cpu = time.perf_counter(), time.thread_time()
    stop = lambda step, state: time.thread_time() - cpu >= budget_cpu_s  # noqa: E731
    with threadpool_limits(1):
        phi, losses = algorithms.train_hypernet(problem, hypernet, phi=phi, sample_lams=sample_lams, train_batch=batch,
                                                opt_phi=optim.adam(config.lr_phi), iters=None, callback=stop)
    return phi, losses, time.perf_counter() - wall, time.thread_time() - cpu


def error_stats(pred, true):
    err = pred - true
    return {"mean_error": err.mean(), "median_error": np.median(err), "std_error": err.std(),
            "mean_abs_error": np.abs(err).mean(), "predicted_best_true_loss": true[np.argmin(pred)]}


def build_train_set(problem, lam_tr, *, splits, config):
    """The GP's training set: Algorithm 1 at the 25 lam, on one thread. Returns (CVResult, wall s, CPU s)."""
    W0 = models.init_weights(np.random.default_rng([config.seed, 1]), problem.n_weights, config.init_scale,
                             len(lam_tr))
    batch = data.minibatcher(splits.train, config.batch, results.seed_of(config, 8), contiguous=True)
    wall, cpu = time.perf_counter(), time.thread_time()
    with threadpool_limits(1):
        cv = algorithms.cross_validation(problem, lam_tr, W0=W0, train_batch=batch,
                                         valid_data=(splits.valid.X, splits.valid.T), opt=optim.adam(config.lr_phi),
                                         iters=config.iters)
    return cv, time.perf_counter() - wall, time.thread_time() - cpu


def fit_gps(lam_tr, loss_tr, *, lam_ev, config):
    """Predictions of the GP of the figure and, to show what one length scale per lam changes, of
    an ARD GP; and the fitted kernels."""
    kinds = {"gp": "paper", "gp_tuned": "tuned", "gp_ard": "ard"}
    fits = {k: gp.fit_gp(lam_tr, loss_tr, config.seed, kind=kind, restarts=config.gp_restarts)
            for k, kind in kinds.items()}
    info = {**{f"{k}_kernel": str(f.kernel_) for k, f in fits.items()},
            **{f"{k}_log_marginal_likelihood": f.log_marginal_likelihood_value_ for k, f in fits.items()}}
    return {k: f.predict(lam_ev) for k, f in fits.items()}, info


def check_config(config):
    """The evaluation's float type and the range of lam, refused before any work when unusable."""
    bounds.check_mnist_sizes(config)
    checks.check_choice(("float32", "float64"), dtype=config.dtype)
    low, high = config.lam_range
    if not low < high:
        raise ValueError(f"lam_range must be (low, high) with low < high, got {config.lam_range}")


def run(config, out=FIGURES):
    check_config(config)
    t_start, timings, iterations, curves = time.perf_counter(), {}, {}, {}
    splits = splits_of(config)
    problem = models.make_problem((784, 10), loss="nll", penalty="per_class")
    hypernet = hypernets.linear(problem.n_hyper, problem.n_weights)
    H, n_tr, S = problem.n_hyper, config.n_train_tuples, config.n_samples
    lams = np.random.default_rng([config.seed, 0]).uniform(*config.lam_range, (n_tr + config.n_eval_tuples, H))
    lam_tr, lam_ev = lams[:n_tr], lams[n_tr:]

    # 25 tuples by Algorithm 1; the CPU time this takes is the budget of each hypernetwork.
    cv, timings["build_train"], budget = build_train_set(problem, lam_tr, splits=splits, config=config)
    timings["build_train_cpu"] = budget
    print(f"[train tuples] {n_tr} models by Algorithm 1 in {timings['build_train']:.1f}s ({budget:.1f}s CPU)",
          flush=True)

    t = time.perf_counter()
    pred, gp_info = fit_gps(lam_tr, cv.valid_losses, lam_ev=lam_ev, config=config)
    timings["gp"] = time.perf_counter() - t
    print(f"[gp] {gp_info['gp_kernel']}; tuned {gp_info['gp_tuned_kernel']}; ARD {gp_info['gp_ard_kernel']}",
          flush=True)

    for samples in (S, *config.ablation_n_samples):
        suffix = "" if samples == S else f"_s{samples}"
        def fixed(lam_hat, step, n=samples):  # n of the 25 fixed lam, without replacement
            return lam_tr[np.random.default_rng([config.seed, 6, step]).permutation(n_tr)[:n]]
        by_kind = {"hyper_fixed": fixed,
                   "hyper": samplers.uniform_sampler(*config.lam_range, n_hyper=H, n_samples=samples,
                                                     seed=results.seed_of(config, 7))}
        for kind, sampler in by_kind.items():
            key = kind + suffix
            phi, curves[key], timings[key], timings[f"{key}_cpu"] = hypertrain(
                problem, hypernet, sample_lams=sampler, splits=splits, config=config, budget_cpu_s=budget,
                key=int(kind == "hyper"))
            iterations[key] = len(curves[key])
            print(f"[{key}] {iterations[key]} steps of {samples} lam in {timings[key]:.1f}s "
                  f"({timings[f'{key}_cpu']:.1f}s CPU)", flush=True)
            pred[key] = _losses_of(lambda sl: hypernet.apply(phi, lam_ev[sl]), len(lam_ev), splits, config)

    t = time.perf_counter()
    true = build_eval_set(lam_ev, config)
    timings["build_eval"] = time.perf_counter() - t

    metrics = {"n_train_tuples": n_tr, "n_eval_tuples": len(lam_ev), "hypernet_params": hypernet.n_params,
               **{k: error_stats(p, true) for k, p in pred.items()}, "best_true_loss": true.min(),
               "samples_per_step": S, **{f"{k}_iterations": v for k, v in iterations.items()}, **gp_info,
               **{f"{k}_s": v for k, v in timings.items()}}
    timings["total"] = time.perf_counter() - t_start
    arrays = {"lam_train": lam_tr, "loss_train": cv.valid_losses, "lam_eval": lam_ev, "true": true,
              **{f"pred_{k}": v for k, v in pred.items()}, **{f"curve_{k}": v for k, v in curves.items()}}
    return results.save_results(out, FIGURE, config_name=results.config_name(config, PAPER, QUICK), config=config,
                                metrics=metrics, timings=timings, arrays=arrays)


def plot(out=FIGURES):
    record, a = results.load_results(out, FIGURE)
    true = a["true"]
    preds = [a[f"pred_{k}"] for k, _ in SURROGATES]
    lo, hi = np.percentile(np.concatenate([true, *preds]), [0.5, 99.5])
    lo, hi = lo - 0.02 * (hi - lo), hi + 0.02 * (hi - lo)
    errs = [p - true for p in preds]
    e_lo, e_hi = np.percentile(np.concatenate(errs), [0.5, 99.5])
    bins = np.linspace(min(e_lo, -0.01), max(e_hi, 0.01), 60)
    fig, axes = plotting.figure(2, 3, figsize=(12, 7.2), sharey="row")
    for j, ((key, title), pred, err) in enumerate(zip(SURROGATES, preds, errs)):
        ax = axes[0, j]
        ax.hexbin(true, pred, gridsize=40, extent=(lo, hi, lo, hi), bins="log", mincnt=1, cmap="viridis")
        ax.plot([lo, hi], [lo, hi], "k-", lw=1)
        ax.set(xlim=(lo, hi), ylim=(lo, hi), title=title, xlabel="True loss")
        ax.set_aspect("equal")
        ax = axes[1, j]
        ax.hist(err, bins=bins, color="C0")
        ax.axvline(0, color="k", lw=1)
        m = record["metrics"][key]
        ax.set(xlabel="Inferred - true loss", title=f"mean {m['mean_error']:+.3f}, sd {m['std_error']:.3f}")
    axes[0, 0].set_ylabel("Inferred loss")
    axes[1, 0].set_ylabel("Count")
    fig.suptitle(f"{record['config_name']}: inferred against true validation loss of "
                 f"{record['metrics']['n_eval_tuples']:,} hyperparameter settings (axes clipped to 0.5-99.5%)", fontsize=11)
    fig.tight_layout()
    return plotting.save(fig, out, FIGURE)


# ---- the paper's claims and the rules that decide them ---------------------------------------------
NOISE = 0.005  # sd of a model's validation loss over minibatch sequences at a fixed λ (measured once; docs/fig6_gp.md)
CENTRED = 2 * NOISE  # "centred on 0": Algorithm 2's |mean error| within two such sd


def claims(record, seeds_record=None):
    """The paper's four claims of Figure 6, decided on each seed of `seeds_record`
    (figures/seeds_fig6_gp.json) if given, else on the one run of `record` (<out>/fig6_gp.json): plain
    data, see experiments/common/verdicts.py; "numbers" holds the per-seed values each rule reads."""
    keys = [f"{s}.{k}" for s, _ in SURROGATES for k in ("mean_error", "std_error")]
    seeds, v = verdicts.seed_values(record, seeds_record, keys)
    spread = [h < min(g, f) for g, f, h in zip(v["gp.std_error"], v["hyper_fixed.std_error"], v["hyper.std_error"])]
    out = [verdicts.claim("6", "the GP under-predicts the loss", [x < 0 for x in v["gp.mean_error"]], seeds,
                          "on a seed, the GP's mean error (inferred − true loss) is negative",
                          mean_error=v["gp.mean_error"]),
           verdicts.claim("6", "the fixed hypernetwork over-predicts", [x > 0 for x in v["hyper_fixed.mean_error"]],
                          seeds, "on a seed, the fixed hypernetwork's mean error is positive",
                          mean_error=v["hyper_fixed.mean_error"]),
           verdicts.claim("6", "Algorithm 2's errors have the smallest spread", spread, seeds,
                          "on a seed, Algorithm 2's errors have the smallest sd of the three",
                          std_error=v["hyper.std_error"], gp_std_error=v["gp.std_error"],
                          hyper_fixed_std_error=v["hyper_fixed.std_error"]),
           verdicts.claim("6", "Algorithm 2's errors are centred on 0",
                          [abs(x) <= CENTRED for x in v["hyper.mean_error"]], seeds,
                          f"on a seed, Algorithm 2's mean error lies within ±{CENTRED:.2f}, twice the noise of one "
                          f"model's validation loss over minibatch sequences (sd {NOISE})", tolerance=CENTRED,
                          mean_error=v["hyper.mean_error"])]
    for c, key in zip(out, ("gp", "fixed", "spread", "centred")):
        c["key"] = key
    return out


def main(argv=None):
    cli.main(FIGURE, run, plot, paper=PAPER, quick=QUICK, argv=argv, description=__doc__, check=check_config)


if __name__ == "__main__":
    main()
