"""Figure 5 of Lorraine & Duvenaud (2018): optimising thousands of hyperparameters.

Every model has a separate L2 decay on each weight, penalty sum_j exp(lam_j) w_j^2 with plain MSE
(so there are as many hyperparameters as weights). Top: the linear 784-10 model (7,850
hyperparameters), Algorithm 3 with a factorised linear hypernetwork 7850 -> 10 -> 7850 (164,860
parameters) against unrolled reverse-mode differentiation through training (hypernet/unrolled.py).
Bottom: Algorithm 3 on 784-10, 784-100-10 and 784-100-100-10 (7,850 / 79,510 / 89,610
hyperparameters), each beside a "hand-tuned" line: the best single global decay of Algorithm 1.

    python experiments/fig5_many.py [--quick] [--seed 7] [--out DIR] [--plot-only]

Settings (the paper gives the hypernetwork, the data sizes and "as Figure 4"; the rest is ours and
listed in the README's table):
- Budgets, read off the paper's x-axes: top, hyper-training and the unrolled baseline get 1,000
  compute seconds each; bottom, the curves end at about 320 s (784-10), 960 s (784-100-10) and
  1,150 s (784-100-100-10). The bottom 784-10 curve is the first 320 s of the top panel's run.
- x-axis: each method's own compute seconds, its CPU seconds (hypernet/budget.cpu_seconds; one
  process and one BLAS thread per run: `workers` runs at a time here, or one per worker of a Dask
  cluster): on a free core that is its wall-clock time, and it stays so when other work shares
  the machine. The current weights (the hypernetwork's
  w_phi(lam_hat); the unrolled run's latest final inner weights) are evaluated on the full
  validation and test sets every `eval_every_s` seconds, off the clock.
- Initial hyperparameters: every decay starts at exp(-9) for every method, between the best
  global decays of the linear model and of the deeper ones.
- Algorithm 3 as Figure 4: p(lam | lam_hat) = N(lam_hat, 1e-5 I), 2 samples per step, Adam 1e-4
  for phi and for lam_hat; one validation minibatch of 1,000 points per lam step (the paper's "up
  to 1,000"); hypernetwork init randn * 0.01, fed lam - log_decay0 (`centred`).
- Random streams: training minibatches, validation minibatches, the lam noise of Algorithm 3 and
  the initialisations each have their own seed (`STREAMS`); every method sees the same training
  minibatch sequence.
- Unrolled: T steps of SGD with momentum 0.9 from one fixed init (randn * 0.01), restarted every
  hyper-iteration on the same T training minibatches (Maclaurin et al.; Franceschi et al.), the
  full validation set for the hypergradient, outer Adam on lam. The candidates in `unrolled`
  (T, inner step, outer step) are searched at `search_budget_s` each; the one with the lowest
  final validation loss then runs the full budget (the search is drawn faintly).
- Hand-tuned (the paper does not define it): Algorithm 1 on a grid of 6 global log decays
  (penalty exp(lam) ||w||^2, i.e. all per-weight decays equal), all grid models at once, Adam on
  minibatches of 100 for as many steps as the hypernetwork took up to the end of its bottom-panel
  curve, once with the paper's step 1e-4 and once with 1e-3 (the 12 models as one array, each row
  with its own step size); the line is the best of these 12.
- "Final" losses are means over the evaluations in the last 10% of a curve: the hypernetwork's
  curve is noisy, and one evaluation can sit on a spike.
"""
import dataclasses
import time

import matplotlib.ticker
import numpy as np

from hypernet import algorithms, checks, cli, data, hypernets, jobcache, models, optim, plotting, results, runner, unrolled
from hypernet.budget import Clock, final, first_time, truncate

FIGURE = "fig5_many"
FIGURES = results.FIGURES
TOP = (784, 10)


@dataclasses.dataclass(frozen=True)
class Config:
    seed: int = 7
    n_train: int = 10000
    n_valid: int = 10000
    n_test: int = 10000
    batch: int = 100                 # training minibatch of every method
    # Compute seconds per run, evaluation excluded, read off the paper's x-axes. Top: hyper-training
    # (784-10) and the unrolled baseline get top_budget_s each. Bottom: each model's curve ends at
    # bottom_s (784-10 ~320 s, 784-100-10 ~960 s, 784-100-100-10 ~1,150 s); the 784-10 curve is the
    # first 320 s of the top panel's run (nothing in a run depends on its budget).
    top_budget_s: float = 1000.0
    bottom_s: tuple = (320.0, 960.0, 1150.0)
    search_budget_s: float = 135.0   # each unrolled setting of the search; the best then runs top_budget_s
    eval_every_s: float = 10.0       # evaluations on the full validation and test sets
    log_decay0: float = -9.0         # initial lam of every weight, every method
    init_scale: float = 0.01         # randn * scale for elementary weights and phi
    archs: tuple = ((784, 10), (784, 100, 10), (784, 100, 100, 10))
    bottleneck: int = 10             # hidden units of the factorised hypernetwork
    centre: bool = True              # feed the hypernetwork lam - log_decay0 (see hyper_job)
    n_samples: int = 2               # lam samples per hypernetwork step
    sigma: float = 1e-5 ** 0.5       # p(lam | lam_hat) = N(lam_hat, sigma^2 I)
    lr_phi: float = 1e-4
    lr_lam: float = 1e-4             # the paper's ("as Figure 4")
    valid_batch: int = 1000          # validation points per lam step of Algorithm 3
    momentum: float = 0.9            # inner SGD momentum of the unrolled baseline
    # Unrolled (T, inner SGD step, outer Adam step): two horizons, each with the inner step that
    # trains best in T steps at the initial decay, and two outer steps.
    unrolled: tuple = ((200, 0.05, 0.03), (200, 0.05, 0.1), (800, 0.02, 0.03), (800, 0.02, 0.1))
    cv_log_decays: tuple = (-12.0, -11.0, -10.0, -9.0, -8.0, -7.0)
    cv_lrs: tuple = (1e-4, 1e-3)     # hand-tuning picks the step size too (see cv_job)
    final_fraction: float = 0.1      # "final" loss = mean of the evaluations in the last 10% of a curve
    workers: int = 2


PAPER = Config()
QUICK = dataclasses.replace(PAPER, n_train=2000, n_valid=2000, n_test=2000, top_budget_s=3.0,
                            bottom_s=(2.0, 3.0), search_budget_s=1.0, eval_every_s=0.3,
                            archs=((784, 10), (784, 20, 10)), unrolled=((10, 0.05, 0.03), (30, 0.05, 0.03)),
                            cv_log_decays=(-9.0, -7.0, -5.0))

# The time budgets of a run (compute seconds) and the evaluation interval: what scaled() scales.
BUDGETS = ("top_budget_s", "bottom_s", "search_budget_s", "eval_every_s")  # the evaluation interval last
MIN_BUDGET_S = 0.1  # a scaled time budget shorter than this holds no evaluation of a curve


def scaled(config, fraction):
    """`config` with every time budget and the evaluation interval (BUDGETS) times `fraction`, 0 <
    fraction <= 1, and nothing else changed: a labelled robustness budget for sweeps over seeds
    (experiments/seeds.py --budget-fraction); the evaluations per curve stay as many."""
    if not 0 < fraction <= 1:
        raise ValueError(f"budget fraction {fraction!r}: give a number above 0 and at most 1")
    times = lambda x: float(f"{x * fraction:.12g}")  # noqa: E731  (1150 * 0.1 is 115, not 115.00000000000001)
    shortest = min(min(v) if isinstance(v, tuple) else v for v in (getattr(config, k) for k in BUDGETS[:-1]))
    if shortest * fraction < MIN_BUDGET_S:
        raise ValueError(f"budget fraction {fraction!r} leaves the shortest time budget {shortest * fraction:.3g} CPU s; "
                         f"each must stay at least {MIN_BUDGET_S:g} s: give a fraction of at least "
                         f"{MIN_BUDGET_S / shortest:.3g}")
    return dataclasses.replace(config, **{k: tuple(map(times, v)) if isinstance(v, tuple) else times(v)
                                          for k, v in ((k, getattr(config, k)) for k in BUDGETS)})


# Every random stream of the figure has its own name (and so its own seeds).
STREAMS = {"train_batches": 1, "valid_batches": 2, "lam_noise": 3, "hypernet_init": 4, "weights_init": 5}


def stream(config, name):
    return results.seed_of(config, STREAMS[name])


def arch_name(sizes):
    return "-".join(map(str, sizes))


# ---- one run of each method (each a job for a worker process) ---------------------------------
def _setup(config, sizes, penalty="per_weight"):
    splits = data.mnist_splits(config.n_train, config.n_valid, config.n_test)
    problem = models.make_problem(sizes, loss="mse", penalty=penalty)
    full = lambda split: (split.X, split.T)  # noqa: E731

    def evaluate(w):
        W = np.asarray(w).reshape(1, -1)
        return float(problem.valid_loss(W, full(splits.valid))[0]), float(problem.valid_loss(W, full(splits.test))[0])
    return splits, problem, full, evaluate


def hyper_job(config, sizes, budget):
    """Algorithm 3 on one architecture for `budget` compute seconds."""
    splits, problem, full, evaluate = _setup(config, sizes)
    D = problem.n_weights
    hn = hypernets.factorised(D, config.bottleneck, D)
    if config.centre:
        hn = hypernets.centred(hn, config.log_decay0)
    phi = hn.init(np.random.default_rng(stream(config, "hypernet_init")), config.init_scale)
    clock = Clock(budget, config.eval_every_s, weights=lambda s: hn.apply(s.phi, s.lam[None, :]),
                  evaluate=evaluate)
    res = algorithms.hypertrain_local(
        problem, hn, phi=phi, lam_hat=np.full(D, config.log_decay0),
        train_batch=data.minibatcher(splits.train, config.batch, stream(config, "train_batches")),
        valid_batch=data.minibatcher(splits.valid, config.valid_batch, stream(config, "valid_batches")),
        n_samples=config.n_samples, sigma=config.sigma, seed=stream(config, "lam_noise"),
        opt_phi=optim.adam(config.lr_phi), opt_lam=optim.adam(config.lr_lam), iters=None, callback=clock)
    return dict(clock.curves(), n_params=hn.n_params, n_hyper=problem.n_hyper,
                lam_mean=float(res.lam.mean()), lam_sd=float(res.lam.std()))


def unrolled_job(config, candidate, budget):
    """The unrolled reverse-mode baseline on 784-10 with one (T, inner step, outer step)."""
    T, lr, lr_lam = candidate
    splits, problem, full, evaluate = _setup(config, TOP)
    W0 = models.init_weights(np.random.default_rng(stream(config, "weights_init")), problem.n_weights,
                             config.init_scale)
    lam0 = np.full(problem.n_hyper, config.log_decay0)
    batch = data.minibatcher(splits.train, config.batch, stream(config, "train_batches"))
    clock = Clock(budget, config.eval_every_s, weights=lambda s: s.W, evaluate=evaluate)
    common = dict(W0=W0, train_batch=batch, valid_data=full(splits.valid), T=T,
                  opt=optim.sgd_momentum(lr, config.momentum))
    unrolled.hypertrain_unrolled(problem, lam_hat=lam0, opt_lam=optim.adam(lr_lam), iters=None, callback=clock,
                                 **common)
    memory = unrolled.peak_memory(problem, lam=lam0, **common)
    return dict(clock.curves(), T=T, lr=lr, lr_lam=lr_lam, peak_memory_mb=memory / 2 ** 20)


def cv_job(config, sizes, iters):
    """Algorithm 1 over global decays, `iters` Adam steps (the hypernetwork's count), with every
    step size in cv_lrs: with the paper's 1e-4 alone the deeper models are still far from trained
    after the hypernetwork's steps, so the hand-tuner also picks the step size. The grid's
    len(cv_lrs) x len(cv_log_decays) models train as one array (row k: step size k // decays,
    decay k % decays), each with its own Adam step size."""
    splits, problem, full, evaluate = _setup(config, sizes, penalty="sq_l2")
    W0 = models.init_weights(np.random.default_rng(stream(config, "weights_init")), problem.n_weights,
                             config.init_scale)
    n_lr, n_decay = len(config.cv_lrs), len(config.cv_log_decays)
    lams = np.tile(np.array(config.cv_log_decays, float), n_lr)[:, None]
    lrs = np.repeat(np.array(config.cv_lrs, float), n_decay)[:, None]
    batch = data.minibatcher(splits.train, config.batch, stream(config, "train_batches"))
    grid = algorithms.cross_validation(problem, lams, W0=W0, train_batch=batch, valid_data=full(splits.valid),
                                       opt=optim.adam(lrs), iters=iters)
    losses = np.asarray(grid.valid_losses).reshape(n_lr, n_decay)   # (step sizes, decays)
    i, j = np.unravel_index(np.argmin(losses), losses.shape)
    return {"valid_losses": losses, "valid": float(losses[i, j]), "test": evaluate(grid.W[i * n_decay + j])[1],
            "log_decay": config.cv_log_decays[j], "lr": config.cv_lrs[i], "steps": iters}


def cv_after(config, sizes, end, hyper):
    """The hand-tuned grid of `sizes` with as many steps as its hypernetwork took by the end of its
    bottom-panel curve (a job that takes hyper_job's result)."""
    return cv_job(config, sizes, truncate(hyper, end)["steps"])


def best_unrolled(config, *search):
    """The unrolled setting whose search run ended lowest, for the full budget (a job that takes
    every search run's result)."""
    best = config.unrolled[int(np.argmin([final(r, config.final_fraction) for r in search]))]
    return unrolled_job(config, best, config.top_budget_s)


def _run_jobs(config):
    """All runs as jobs (hypernet/runner.py), `workers` at a time here. The deeper hypernetworks go
    first; each hand-tuned grid jumps the queue once its hypernetwork is done (it trains as many
    steps as that one took by the end of its curve); the best unrolled setting of the search runs
    the full budget once the search is done. Returns ({arch: job}, [search jobs], {arch: cv job},
    the unrolled job), each job's result and where it ran."""
    ends = dict(zip(map(tuple, config.archs), config.bottom_s))
    budgets = {a: max(e, config.top_budget_s) if a == TOP else e for a, e in ends.items()}
    key = lambda *parts: jobcache.key(FIGURE, config, *parts)  # noqa: E731
    with runner.open(config.workers) as r:
        hyper = {a: r.submit(hyper_job, config, a, budgets[a], key=key("hyper", a), label=f"hyper_{arch_name(a)}")
                 for a in map(tuple, config.archs[::-1]) if a != TOP}
        search = [r.submit(unrolled_job, config, c, config.search_budget_s, key=key("unrolled", c),
                           label=f"unrolled_search_{i}") for i, c in enumerate(config.unrolled)]
        hyper[TOP] = r.submit(hyper_job, config, TOP, budgets[TOP], key=key("hyper", TOP), label=f"hyper_{arch_name(TOP)}")
        cv = {a: r.submit(cv_after, config, a, ends[a], hyper[a], key=key("cv", a), priority=1,
                          label=f"cv_{arch_name(a)}") for a in map(tuple, config.archs)}
        unrolled_run = r.submit(best_unrolled, config, *search, key=key("best_unrolled"), priority=1, label="unrolled")
        for job in r.as_completed():
            out = job.result
            print(f"[{FIGURE}] {job.label}: {job.where['wall_s']:.0f} s wall on {job.where['host']}, " + (
                f"best global log decay {out['log_decay']} (Adam {out['lr']}), valid {out['valid']:.5f}"
                if job.label.startswith("cv") else f"valid {out['valid'][-1]:.5f} test {out['test'][-1]:.5f}")
                + f", {out['steps']} steps" + (" (reused)" if job.reused else ""), flush=True)
    return {arch_name(a): j for a, j in hyper.items()}, search, {arch_name(a): j for a, j in cv.items()}, unrolled_run


def check_config(config):
    """What depends on several settings, refused before any work: every architecture an MLP from
    784 inputs to 10 outputs, 784-10 (the top panel) among them, a bottom budget for each (784-10's
    within the top one), and each unrolled setting's steps positive."""
    if TOP not in config.archs:
        raise ValueError(f"archs must include {TOP} (the top panel's model), got {config.archs}")
    for arch in config.archs:
        if len(arch) < 2 or arch[0] != TOP[0] or arch[-1] != TOP[-1]:
            raise ValueError(f"each of archs must go from {TOP[0]} inputs to {TOP[-1]} outputs, got {arch}")
    if len(config.bottom_s) != len(config.archs):
        raise ValueError(f"bottom_s needs one budget per architecture ({len(config.archs)}), got {config.bottom_s}")
    if config.bottom_s[config.archs.index(TOP)] > config.top_budget_s:
        raise ValueError(f"the bottom budget of {arch_name(TOP)} is the first part of the top panel's run: at most "
                         f"top_budget_s = {config.top_budget_s:g}, got {config.bottom_s}")
    if not config.unrolled or not config.cv_log_decays or not config.cv_lrs:
        raise ValueError("unrolled, cv_log_decays and cv_lrs each need at least one setting")
    for T, inner, outer in config.unrolled:
        checks.check_positive(**{f"unrolled inner step (T = {T})": inner, f"unrolled outer step (T = {T})": outer})
    checks.check_fraction(final_fraction=config.final_fraction)


def run(config=PAPER, out=FIGURES):
    t0 = time.perf_counter()
    check_config(config)
    jobs = _run_jobs(config)
    timings = {j.label: j.where["wall_s"] for j in [*jobs[0].values(), *jobs[1], *jobs[2].values(), jobs[3]]}
    hyper, cv = ({k: j.result for k, j in d.items()} for d in (jobs[0], jobs[2]))
    search, unr = [j.result for j in jobs[1]], jobs[3].result
    fin = lambda r, c="valid": final(r, config.final_fraction, c)  # noqa: E731
    top = hyper[arch_name(TOP)]
    top = truncate(top, config.top_budget_s) | {k: top[k] for k in ("n_params", "n_hyper")}
    metrics = {
        "hypernet_params": top["n_params"], "top_budget_s": config.top_budget_s, "bottom_s": config.bottom_s,
        "hyper_valid_final": fin(top), "hyper_test_final": fin(top, "test"),
        "unrolled_valid_final": fin(unr), "unrolled_test_final": fin(unr, "test"),
        "hyper_time_to_plateau_s": first_time(top["t"], top["valid"], 1.01 * fin(top)),
        "unrolled_time_to_hyper_final_s": first_time(unr["t"], unr["valid"], fin(top)),
        "unrolled_T": unr["T"], "unrolled_lr": unr["lr"], "unrolled_lr_lam": unr["lr_lam"],
        "unrolled_steps": unr["steps"], "unrolled_peak_memory_mb": unr["peak_memory_mb"], "hyper_steps": top["steps"],
        "unrolled_search": [{k: s[k] for k in ("T", "lr", "lr_lam", "steps", "peak_memory_mb")}
                            | {"valid_final": fin(s), "test_final": fin(s, "test")} for s in search]}
    bottom = {}
    for sizes, end in zip(map(tuple, config.archs), config.bottom_s):
        name, h, c = arch_name(sizes), hyper[arch_name(sizes)], cv[arch_name(sizes)]
        bottom[name] = b = truncate(h, end)
        metrics[name] = {"n_hyper": h["n_hyper"], "end_s": end, "valid_final": fin(b), "test_final": fin(b, "test"),
                         "steps": b["steps"], "lam_mean": h["lam_mean"], "lam_sd": h["lam_sd"],
                         "handtuned_valid": c["valid"], "handtuned_test": c["test"],
                         "handtuned_decay": float(np.exp(c["log_decay"])), "handtuned_log_decay": c["log_decay"],
                         "handtuned_lr": c["lr"], "handtuned_steps": c["steps"],
                         "handtuned_valid_by_lr": {str(lr): float(v.min())
                                                   for lr, v in zip(config.cv_lrs, c["valid_losses"])}}
    arrays = {f"hyper_{k}_{c}": v[c] for k, v in bottom.items() for c in ("t", "valid", "test")}
    arrays |= {f"top_hyper_{c}": top[c] for c in ("t", "valid", "test")}
    arrays |= {f"top_unrolled_{c}": unr[c] for c in ("t", "valid", "test")}
    arrays |= {f"unrolled_{i}_{c}": v[c] for i, v in enumerate(search) for c in ("t", "valid", "test")}
    arrays |= {f"cv_{k}_valid_losses": v["valid_losses"] for k, v in cv.items()}
    timings["total"] = time.perf_counter() - t0
    return results.save_results(out, FIGURE, config_name=results.config_name(config, PAPER, QUICK), config=config,
                                metrics=metrics, timings=timings, arrays=arrays)


# ---- the figure -------------------------------------------------------------------------------
def _ylim(ax, curves, skip=0.1):
    """Fit the y-axis to the curves after their first `skip` of the time budget (the hypernetwork
    starts far above the plateau, which would flatten everything else)."""
    vals = np.concatenate([v[t >= skip * t[-1]] for t, v in curves])
    lo, hi = vals.min(), np.quantile(vals, 0.98)
    ax.set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))


def plot(out=FIGURES):
    record, a = results.load_results(out, FIGURE)
    m, archs = record["metrics"], [arch_name(s) for s in record["config"]["archs"]]
    fig, (top, bottom) = plotting.figure(2, 1, figsize=(6.5, 8.5), layout="constrained")
    for i in range(len(m["unrolled_search"])):  # the search, at its shorter budget
        top.plot(a[f"unrolled_{i}_t"], a[f"unrolled_{i}_valid"], color="0.8", lw=0.8)
    runs = (("top_hyper", "C0", "Hyper-training"), ("top_unrolled", "C3", f"Unrolled, T = {m['unrolled_T']}"))
    for prefix, color, label in runs:
        top.plot(a[f"{prefix}_t"], a[f"{prefix}_valid"], color=color, label=f"{label}, valid.")
        top.plot(a[f"{prefix}_t"], a[f"{prefix}_test"], color=color, ls="--", label=f"{label}, test")
    _ylim(top, [(a[f"{p}_t"], a[f"{p}_{c}"]) for p, _, _ in runs for c in ("valid", "test")])
    top.set_title(f"{results.unless_paper(record)}{archs[0]}, {m[archs[0]]['n_hyper']:,} hyperparameters "
                  "(grey: the unrolled settings search)")
    top.legend(ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    for i, name in enumerate(archs):
        t, c = a[f"hyper_{name}_t"], f"C{i}"
        bottom.plot(t, a[f"hyper_{name}_valid"], color=c, label=f"{name}, {m[name]['n_hyper']:,} hyperparameters")
        bottom.plot(t, a[f"hyper_{name}_test"], color=c, ls="--")
        bottom.hlines(m[name]["handtuned_valid"], 0, t[-1], color=c, ls=":")
    # Log scale: the linear model's loss is 3-4 times the deeper ones'; their gaps stay visible.
    bottom.set_yscale("log")
    for axis in (bottom.yaxis.set_major_formatter, bottom.yaxis.set_minor_formatter):
        axis(matplotlib.ticker.FuncFormatter(lambda y, _: f"{y:.3g}"))
    lows = [min(a[f"hyper_{n}_test"].min(), m[n]["handtuned_valid"]) for n in archs]
    bottom.set_ylim(0.9 * min(lows), 1.5 * max(m[n]["handtuned_valid"] for n in archs))
    styles = [bottom.plot([], [], color="k", ls=ls, label=lab)[0]
              for ls, lab in (("-", "valid."), ("--", "test"), (":", "hand-tuned valid."))]
    bottom.add_artist(bottom.legend(handles=styles, loc="upper right", ncol=3))
    bottom.legend(handles=bottom.get_lines()[:2 * len(archs):2], loc="center right")
    bottom.set_title("Hyper-training, deeper models")
    for ax in (top, bottom):
        ax.set_xlabel("Compute time (s)")
        ax.set_ylabel("Loss (MSE)")
    return plotting.save(fig, out, FIGURE)


def main(argv=None):
    cli.main(FIGURE, run, plot, paper=PAPER, quick=QUICK, argv=argv, description=__doc__, check=check_config)


if __name__ == "__main__":
    main()
