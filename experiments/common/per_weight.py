"""Figure 5's per-weight-decay problem, shared by Figure 5 (experiments/fig5_many.py), the
warm-start comparison (experiments/fig8_warmstart.py) and bench/cv_grid.py: MLPs on MNIST with a
separate L2 decay on each weight, penalty sum_j exp(lam_j) w_j^2 with plain MSE; Figure 5's
settings (Config, PAPER), its random streams, and one run of each method as a job: Algorithm 3
(hyper_job), the unrolled reverse-mode baseline (unrolled_job) and the hand-tuned grid of global
decays (cv_job). The settings are explained in experiments/fig5_many.py's docstring.
"""
import dataclasses

import numpy as np

from hypernet import algorithms, data, hypernets, models, optim
from hypernet.baselines import unrolled
from experiments.harness import results
from experiments.harness.cpu_clock import Clock

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
    lam_hat0: float = -9.0         # initial lam of every weight, every method
    init_scale: float = 0.01         # randn * scale for elementary weights and phi
    archs: tuple = ((784, 10), (784, 100, 10), (784, 100, 100, 10))
    bottleneck: int = 10             # hidden units of the factorised hypernetwork
    centre: bool = True              # feed the hypernetwork lam - lam_hat0 (see hyper_job)
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

# Every random stream of the figure has its own name (and so its own seeds).
STREAMS = {"train_batches": 1, "valid_batches": 2, "lam_noise": 3, "hypernet_init": 4, "weights_init": 5}


def config_for(run):
    """Figure 5's settings (PAPER) with another experiment's seed, data sizes, evaluation interval and
    unrolled setting: `run` has seed, n_train, n_valid, n_test, eval_every_s and unrolled (one setting)."""
    return dataclasses.replace(PAPER, seed=run.seed, n_train=run.n_train, n_valid=run.n_valid, n_test=run.n_test,
                               eval_every_s=run.eval_every_s, unrolled=(run.unrolled,))


def stream(config, name):
    return results.seed_of(config, STREAMS[name])


def arch_name(sizes):
    return "-".join(map(str, sizes))


# ---- one run of each method (each a job for a worker process) ---------------------------------
def setup(config, sizes, penalty="per_weight"):
    """(splits, problem, full, evaluate): the data, the MLP `sizes` with its penalty, the whole of a
    split as one batch, and evaluate(w) -> (validation loss, test loss) of weights w."""
    splits = data.mnist_splits(config.n_train, config.n_valid, config.n_test)
    problem = models.make_problem(sizes, loss="mse", penalty=penalty)
    full = lambda split: (split.X, split.T)  # noqa: E731

    def evaluate(w):
        W = np.asarray(w).reshape(1, -1)
        return float(problem.valid_loss(W, full(splits.valid))[0]), float(problem.valid_loss(W, full(splits.test))[0])
    return splits, problem, full, evaluate


def hyper_job(config, sizes, budget):
    """Algorithm 3 on one architecture for `budget` compute seconds."""
    splits, problem, full, evaluate = setup(config, sizes)
    D = problem.n_weights
    hn = hypernets.factorised(D, config.bottleneck, D)
    if config.centre:
        hn = hypernets.centred(hn, config.lam_hat0)
    phi = hn.init(np.random.default_rng(stream(config, "hypernet_init")), config.init_scale)
    clock = Clock(budget, config.eval_every_s, weights=lambda s: hn.apply(s.phi, s.lam[None, :]),
                  evaluate=evaluate)
    res = algorithms.hypertrain_local(
        problem, hn, phi=phi, lam_hat=np.full(D, config.lam_hat0),
        train_batch=data.minibatcher(splits.train, config.batch, stream(config, "train_batches")),
        valid_batch=data.minibatcher(splits.valid, config.valid_batch, stream(config, "valid_batches")),
        n_samples=config.n_samples, sigma=config.sigma, seed=stream(config, "lam_noise"),
        opt_phi=optim.adam(config.lr_phi), opt_lam=optim.adam(config.lr_lam), iters=None, callback=clock)
    return dict(clock.curves(), n_params=hn.n_params, n_hyper=problem.n_hyper,
                lam_mean=float(res.lam.mean()), lam_sd=float(res.lam.std()))


def unrolled_job(config, candidate, budget):
    """The unrolled reverse-mode baseline on 784-10 with one (T, inner step, outer step)."""
    T, lr, lr_lam = candidate
    splits, problem, full, evaluate = setup(config, TOP)
    W0 = models.init_weights(np.random.default_rng(stream(config, "weights_init")), problem.n_weights,
                             config.init_scale)
    lam0 = np.full(problem.n_hyper, config.lam_hat0)
    batch = data.minibatcher(splits.train, config.batch, stream(config, "train_batches"))
    clock = Clock(budget, config.eval_every_s, weights=lambda s: s.W, evaluate=evaluate)
    common = dict(W0=W0, train_batch=batch, valid_data=full(splits.valid), T=T,
                  opt=optim.sgd_momentum(lr, config.momentum))
    res = unrolled.hypertrain_unrolled(problem, lam_hat=lam0, opt_lam=optim.adam(lr_lam), iters=None, callback=clock,
                                       **common)
    memory = unrolled.peak_memory(problem, lam=lam0, **common)
    return dict(clock.curves(), T=T, lr=lr, lr_lam=lr_lam, peak_memory_mb=memory / 2 ** 20,
                lam_mean=float(res.lam.mean()), lam_sd=float(res.lam.std()))


def cv_job(config, sizes, iters):
    """Algorithm 1 over global decays, `iters` Adam steps (the hypernetwork's count), with every
    step size in cv_lrs: with the paper's 1e-4 alone the deeper models are still far from trained
    after the hypernetwork's steps, so the hand-tuner also picks the step size. The grid's
    len(cv_lrs) x len(cv_log_decays) models train as one array (row k: step size k // decays,
    decay k % decays), each with its own Adam step size."""
    splits, problem, full, evaluate = setup(config, sizes, penalty="sq_l2")
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


# ---- the figures ----------------------------------------------------------------------------------
def ylim(ax, curves, skip=0.1):
    """Fit the y-axis to the curves after their first `skip` of the time budget (the hypernetwork
    starts far above the plateau, which would flatten everything else); after it no curve leaves."""
    vals = np.concatenate([v[t >= skip * t[-1]] for t, v in curves])
    lo, hi = vals.min(), vals.max()
    ax.set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
