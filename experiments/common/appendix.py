"""The appendix comparison's problems, settings and hyper-training run, shared by the comparison
(experiments/fig7_hpo.py) and its ablations (experiments/fig7_ablations.py): the two problems
(h10: one decay per digit class, Figure 6's; h7850: one decay per weight, Figure 5's top panel),
the comparison's settings (Config, PAPER, QUICK, check_config), their data, model and loss (setup,
nll, trial_noise_sd), the hypernetwork of each (hypernet_of) and Algorithm 3 for a CPU budget
(hyper_run). The settings are explained in experiments/fig7_hpo.py's docstring.
"""
import dataclasses

import numpy as np

from hypernet import algorithms, checks, data, hypernets, models, optim
from hypernet.baselines import many_linear
from hypernet.beyond import learned_width
from experiments.harness import cpu_clock, results


@dataclasses.dataclass(frozen=True)
class Problem:
    n_train: int
    n_valid: int
    penalty: str            # of models.make_problem and many_linear.train_linear
    loss: str               # the training loss ("nll" sd 0.1, or "mse")
    box: tuple              # black-box search box [low, high]^H
    lam0: float             # Algorithm 3's initial lam_hat (every hyperparameter)
    hypernet: str           # "linear" or "factorised" (bottleneck 10, fed lam - lam0)
    hypernet_init: float    # randn * scale for phi
    windows: bool           # Algorithm 3's training batches: contiguous windows (Fig 6) or random draws (Fig 5)


PROBLEMS = {"h10": Problem(50000, 10000, "per_class", "nll", (-3.0, 3.0), 0.0, "linear", 1e-5, True),
            "h7850": Problem(10000, 10000, "per_weight", "mse", (-12.0, -6.0), -9.0, "factorised", 0.01, False)}
BLACKBOX = ("random", "gp_bo", "tpe", "global_decay")
NLL_SD = 0.1


@dataclasses.dataclass(frozen=True)
class Config:
    seed: int = 7
    problems: tuple = ("h10", "h7850")
    budget_s: dict = dataclasses.field(default_factory=lambda: {"h10": 1000.0, "h7850": 850.0})
    # Trial protocols: name -> {problem: (Adam steps, step size)}; init randn * 1e-5, 100-point windows.
    protocols: dict = dataclasses.field(default_factory=lambda: {
        "paper": {"h10": (1000, 1e-4), "h7850": (1000, 1e-4)},
        "converged": {"h10": (8000, 1e-4), "h7850": (8000, 1e-4)}})
    # Which black-box methods run under which protocol (GP-EI: h10 only, as the paper).
    methods: dict = dataclasses.field(default_factory=lambda: {
        "paper": ("random", "gp_bo", "tpe"), "converged": ("random", "tpe", "global_decay")})
    trial_init: float = 1e-5
    trial_batch: int = 100
    random_batch: int = 32           # random-search / global-decay trials trained as one array
    gp_init: int = 10                # random points before GP-EI proposes
    gp_candidates: int = 2000
    n_samples: int = 2               # Algorithm 3: lam samples per step
    sigma: float = 1e-5 ** 0.5       # p(lam | lam_hat) = N(lam_hat, sigma^2 I)
    lr_phi: float = 1e-4
    lr_lam: float = 1e-4
    valid_batch: int = 1000
    evals: int = 100                 # evaluations of the hypernetwork's weights per run
    final_fraction: float = 0.1      # hyper-training's "final" loss: mean over the last 10% of its curve
    robust_seeds: tuple = (8, 9, 10)
    robust_budget_s: float = 100.0
    dtype: str = "float32"           # of trials and loss evaluations
    workers: int = 2
    # Labelled ablations of Algorithm 3, beside the faithful run (never instead of it): per problem,
    # settings of hyper-training changed (main seed, same budget). lr_phi: with a linear hypernetwork
    # fed raw lam, one Adam step moves w_phi(lam_hat) by up to lr_phi * (1 + sum_i |lam_hat_i|).
    ablations: dict = dataclasses.field(default_factory=lambda: {
        "h10": ({"lr_phi": 3e-5}, {"lr_phi": 1e-5}, {"lr_phi": 1e-5, "lr_lam": 1e-5})})


ABLATABLE = ("lr_phi", "lr_lam", "sigma", "n_samples")  # the Config fields an ablation may change
PAPER = Config()
QUICK = dataclasses.replace(PAPER, budget_s={"h10": 2.0, "h7850": 2.0}, robust_seeds=(8,), robust_budget_s=1.0,
                            protocols={"paper": {"h10": (100, 1e-4), "h7850": (100, 1e-4)},
                                       "converged": {"h10": (300, 1e-4), "h7850": (300, 1e-4)}},
                            random_batch=8, gp_init=3, gp_candidates=200, evals=10,
                            ablations={"h10": ({"lr_phi": 1e-5},)})


def check_config(config):
    """Refuse, before any work, a config whose parts do not fit together."""
    unknown = [p for p in config.problems if p not in PROBLEMS]
    if unknown or not config.problems:
        raise ValueError(f"problems must be among {list(PROBLEMS)}, got {config.problems}")
    for p in config.problems:
        if not (isinstance(config.budget_s.get(p), (int, float)) and config.budget_s[p] > 0):
            raise ValueError(f"budget_s needs a positive budget for {p}, got {config.budget_s}")
        for name, steps in config.protocols.items():
            if p not in steps:
                raise ValueError(f"protocol {name!r} has no (steps, step size) for {p}")
    bad = {m for ms in config.methods.values() for m in ms} - set(BLACKBOX)
    if bad or set(config.methods) - set(config.protocols):
        raise ValueError(f"methods must map protocols {list(config.protocols)} to some of {BLACKBOX}")
    if not config.robust_seeds:
        raise ValueError("robust_seeds needs at least one seed")
    checks.check_positive(robust_budget_s=config.robust_budget_s)
    checks.check_count(evals=config.evals, random_batch=config.random_batch, workers=config.workers,
                       valid_batch=config.valid_batch, trial_batch=config.trial_batch)
    checks.check_seed(seed=config.seed, **{f"robust seed {s}": s for s in config.robust_seeds})
    checks.check_choice(("float32", "float64"), dtype=config.dtype)
    checks.check_fraction(final_fraction=config.final_fraction)
    for name, steps in config.protocols.items():
        for p, (iters, lr) in steps.items():
            checks.check_count(**{f"protocol {name!r} steps for {p}": iters})
            checks.check_positive(**{f"protocol {name!r} step size for {p}": lr})
    check_ablations(config)


def check_ablations(config):
    if not isinstance(config.ablations, dict):
        raise ValueError(f"ablations must be a dict {{problem: (settings, ...)}} (ablations={{}} runs none), "
                         f"got {config.ablations!r}")
    for p, variants in config.ablations.items():
        if p not in config.problems:
            raise ValueError(f"ablations are given for {p!r}, which is not among problems {config.problems}: "
                             "add it to problems, or pass ablations={}")
        seen = set()
        for i, v in enumerate(variants if isinstance(variants, (tuple, list)) else [None]):
            what = f"{p} ablation {i + 1}"
            if not isinstance(v, dict) or not v:
                raise ValueError(f"{what} must be one of a tuple of non-empty dicts of settings among {ABLATABLE}, "
                                 f"e.g. ({{'lr_phi': 1e-5}},); got {variants!r}")
            unknown = sorted(set(v) - set(ABLATABLE))
            if unknown:
                raise ValueError(f"{what}: unknown setting(s) {unknown}; an ablation may change {ABLATABLE}")
            for k, x in v.items():
                (checks.check_count if k == "n_samples" else checks.check_positive)(**{f"{what}: {k}": x})
            if all(getattr(config, k) == x for k, x in v.items()):
                raise ValueError(f"{what} {v} changes nothing: those are the faithful run's settings")
            key = tuple(sorted(v.items()))
            if key in seen:
                raise ValueError(f"{what} {v} repeats an earlier one")
            seen.add(key)


# ---- the pieces every job shares ------------------------------------------------------------
_SPLITS = {}  # loaded once, before the worker processes fork (they share it)


def setup(config, name):
    P = PROBLEMS[name]
    if name not in _SPLITS:
        _SPLITS[name] = data.mnist_splits(P.n_train, P.n_valid)
    splits = _SPLITS[name]
    problem = models.make_problem((784, 10), loss=P.loss, penalty=P.penalty)
    return P, splits, problem


def nll(W, split, config):
    """Gaussian NLL (sd 0.1) of weights W (S, D) on a whole split: (S,)."""
    return many_linear.valid_losses(np.atleast_2d(W), split.X, split.T, noise_sd=NLL_SD, dtype=np.dtype(config.dtype))


def trial_noise_sd(P):
    """The sd of the Gaussian NLL a problem's models train under: sd sqrt(1/2) turns the NLL's
    gradient into MSE's."""
    return NLL_SD if P.loss == "nll" else 0.5 ** 0.5


def hypernet_of(P, n_hyper, tangent=False):
    """The problem's hypernetwork: Fig 6's linear one fed raw lam, or Fig 5's factorised one fed
    lam - lam0. tangent (an ablation): the same network fed lam - lam_hat (hypernets.tangent),
    starting at lam_hat = lam0, so that it starts as the faithful one."""
    hn = hypernets.linear(n_hyper, 7850) if P.hypernet == "linear" else hypernets.factorised(n_hyper, 10, 7850)
    if tangent:
        return hypernets.tangent(hn, P.lam0)
    return hn if P.hypernet == "linear" else hypernets.centred(hn, P.lam0)


# ---- Algorithm 3 for a time budget (a job's work, in a worker process) -------------------------
def hyper_run(config, name, budget_s, tangent=False, keep=None, tau=None):
    """Algorithm 3 for budget_s CPU seconds from the problem's start: the clock's curves of
    w_phi(lam_hat) (cpu_clock.Clock.curves, with lam_mean and lam_sd across the hyperparameters at
    each evaluation) and lam_hat at every evaluation (n_evals, H). keep(i, phi, lam_hat), if given,
    sees the state at evaluation i (off the clock). tau (an ablation beyond the paper): the width
    of p(lam | lam_hat) is learned from config.sigma with entropy weight tau
    (hypernet.beyond.learned_width); the curves then hold "sigma", the width at each evaluation."""
    P, splits, problem = setup(config, name)
    H = problem.n_hyper
    hn, lam_hats = hypernet_of(P, H, tangent), []

    def evaluate(state):
        phi, lam = state
        if keep is not None:
            keep(len(lam_hats), phi, lam)
        lam_hats.append(lam)
        W = hn.apply(phi, lam[None, :H])
        return float(nll(W, splits.valid, config)[0]), float(nll(W, splits.test, config)[0])
    clock = cpu_clock.Clock(budget_s, budget_s / config.evals, weights=lambda s: (s.phi, np.array(s.lam)),
                         evaluate=evaluate)
    phi = hn.init(np.random.default_rng([config.seed, 1]), P.hypernet_init)
    common = dict(phi=phi, lam_hat=np.full(H, P.lam0),
                  train_batch=data.minibatcher(splits.train, config.trial_batch, results.seed_of(config, 2),
                                               contiguous=P.windows),
                  valid_batch=data.minibatcher(splits.valid, config.valid_batch, results.seed_of(config, 3)),
                  n_samples=config.n_samples, seed=results.seed_of(config, 4), opt_phi=optim.adam(config.lr_phi),
                  opt_lam=optim.adam(config.lr_lam), iters=None, callback=clock)
    if tau is None:
        algorithms.hypertrain_local(problem, hn, sigma=config.sigma, **common)
    else:
        learned_width.hypertrain_learned_width(problem, hn, sigma0=config.sigma, tau=tau, **common)
    out, lams = clock.curves(), np.array(lam_hats)
    out["lam_mean"], out["lam_sd"] = lams[:, :H].mean(1), lams[:, :H].std(1)
    if tau is not None:
        out["sigma"] = np.exp(lams[:, H])
    return out, lams[:, :H]
