"""The appendix comparison of Lorraine & Duvenaud (2018, extended version, "Random Search and
Bayesian Optimization Baselines"), extended: Algorithm 3 against random search, Bayesian
optimisation (GP + expected improvement) and Optuna's TPE sampler, at equal compute time, on 10 and
on 7,850 hyperparameters of the linear MNIST model.

    python experiments/fig7_hpo.py [--quick] [--seed 7] [--out DIR] [--plot-only]

Problems (the same model, data and splits as the figures they come from):
- h10: one decay per digit class, penalty (1/10) sum_i exp(lam_i) ||W[:, i]||_2, Gaussian NLL
  (sd 0.1), train = MNIST [0, 50000) as 100-point windows, valid = [50000, 60000) (Fig 6);
  search box lam in [-3, 3]^10 (Fig 6's), Algorithm 3 starts at lam_hat = 0 (its centre) with
  Fig 6's linear hypernetwork 10 -> 7850 (init randn * 1e-5).
- h7850: one decay per weight, penalty sum_j exp(lam_j) w_j^2, MSE training loss, train / valid
  = MNIST [0, 10000) / [10000, 20000) (Fig 5 top); Algorithm 3 exactly as Fig 5 (factorised
  hypernetwork 7850 -> 10 -> 7850, init randn * 0.01, fed lam + 9, lam_hat = -9 everywhere).
  The paper gives no box for this problem: random search and TPE sample [-12, -6]^7850, Fig 5's
  starting decay +- 3 (the width of h10's box).
- Test = the first 10,000 MNIST test images for both. Every loss reported is the Gaussian NLL with
  sd 0.1, the appendix figure's scale; for h7850 that is 50 * MSE - 1.384 (the same ranking).
Algorithm 3 (as Figs 4 and 5): p(lam | lam_hat) = N(lam_hat, 1e-5 I), 2 samples per step, Adam
1e-4 for phi and for lam_hat, 100 training points and 1,000 validation points per step. What it
delivers at time t: the weights w_phi(lam_hat_t) ("hyper"), and a model retrained from scratch at
lam_hat_t by a black-box trial ("hyper_retrained", drawn at t + the CPU time of one trial).

Black-box methods: a trial trains the linear model at lam and returns its validation loss on the
full validation set; its training is part of the method's time. Two trial protocols:
- paper: Fig 6's, 1,000 Adam steps of 1e-4 from randn * 1e-5 on 100-point windows;
- converged: the same at `converged` steps / step size per problem, where doubling the steps no
  longer improves the validation loss by more than 1% (measured; see the README).
Random search and the global decay (one decay for all hyperparameters, random in the box; the
"hand-tuned" line, converged protocol only) train `random_batch` trials as one array (they are
independent); a batch's trials count as done when the batch is. GP-EI (h10 only, as the paper)
and TPE propose one trial at a time (hypernet/blackbox.py).

Compute: every method runs in its own process with one BLAS thread, `workers` at a time, and its
time is its CPU time (hypernet/budget.cpu_seconds; evaluations of the current best on the test set and of the
hypernetwork's weights every budget / evals seconds are off the clock). Budgets, read off the
appendix figure's x-axes: 1,000 s (h10) and 850 s (h7850). A robustness run repeats every method
for `robust_seeds` at `robust_budget_s` (they may include --seed: a robustness run is a shorter run).
Ablations (labelled, beside the faithful run, never instead of it): hyper-training of h10 again at
the same budget with other settings (`ablations`; main seed only; see Config). With Figure 6's
linear hypernetwork fed raw lam, one Adam step on phi moves w_phi(lam_hat) by up to
lr_phi * (1 + sum_i |lam_hat_i|), so the weights it delivers train with a larger effective step than
a trial's as lam_hat spreads; smaller steps test that.
Every method run is a job (hypernet/runner.py: `workers` processes here, or a Dask cluster with
--scheduler). A finished one is kept in <out>/.fig7_hpo.jobs/ (hypernet/jobcache.py: keyed by its
settings and the git commit of the code, which metrics.job_commits records) until the figure is
saved, so an interrupted run started again resumes where it stopped. Adding an ablation keeps the
other runs' keys. Delete the folder to start over.
"""
import dataclasses
import itertools
import time

import numpy as np

from hypernet import (algorithms, blackbox, budget, checks, cli, data, hypernets, jobcache, linear_models, models, optim,
                      plotting, results, runner)

FIGURE = "fig7_hpo"
FIGURES = results.FIGURES


@dataclasses.dataclass(frozen=True)
class Problem:
    n_train: int
    n_valid: int
    penalty: str            # of models.make_problem and linear_models.train_linear
    loss: str               # the training loss ("nll" sd 0.1, or "mse")
    box: tuple              # black-box search box [low, high]^H
    lam0: float             # Algorithm 3's initial lam_hat (every hyperparameter)
    hypernet: str           # "linear" or "factorised" (bottleneck 10, fed lam - lam0)
    hypernet_init: float    # randn * scale for phi
    windows: bool           # Algorithm 3's training batches: contiguous windows (Fig 6) or random draws (Fig 5)


PROBLEMS = {"h10": Problem(50000, 10000, "per_class", "nll", (-3.0, 3.0), 0.0, "linear", 1e-5, True),
            "h7850": Problem(10000, 10000, "per_weight", "mse", (-12.0, -6.0), -9.0, "factorised", 0.01, False)}
METHODS = ("hyper", "hyper_retrained", "random", "gp_bo", "tpe", "global_decay")
LABELS = {"hyper": r"Hyper-training (Alg. 3), $w_\phi(\hat\lambda)$", "hyper_retrained": r"Retrained at $\hat\lambda$",
          "random": "Random search", "gp_bo": "Bayesian opt. (GP-EI)", "tpe": "Optuna TPE",
          "global_decay": "One shared decay, random search (hand-tuned)"}
BLACKBOX = ("random", "gp_bo", "tpe", "global_decay")
NLL_SD = 0.1
ABLATION_STYLES = (dict(color="0.3", ls=":"), dict(color="C8", ls="-."), dict(color="C9", ls=":"),
                   dict(color="C7", ls="-."))


def not_run(method, name, protocol):
    """Why a method has no result for this problem and protocol."""
    if method == "gp_bo" and name != "h10":
        return "as in the paper, Bayesian optimisation runs on the 10-hyperparameter problem only"
    if method == "global_decay":
        return "the hand-tuned baseline runs under the converged protocol only"
    return f"not among the config's methods for the {protocol} protocol (compute; see the README)"


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


def ablations_of(config, name):
    """{label: settings} of a problem's ablations; the label names every setting at full precision
    (it also names the cached run)."""
    return {", ".join(f"{k}={x!r}" for k, x in sorted(v.items())): v for v in config.ablations.get(name, ())}


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
    return linear_models.valid_losses(np.atleast_2d(W), split.X, split.T, noise_sd=NLL_SD, dtype=np.dtype(config.dtype))


def make_trial(config, name, protocol, splits, key):
    """trial(lams (n, H)) -> (validation NLL (n,), weights (n, D)): n models trained at once by the
    protocol's Adam steps; every call has its own initial weights and minibatch sequence."""
    P, (iters, lr), calls = PROBLEMS[name], config.protocols[protocol][name], itertools.count()
    noise_sd = trial_noise_sd(P)

    def trial(lams):
        k = next(calls)
        W0 = models.init_weights(np.random.default_rng([config.seed, key, k]), 7850, config.trial_init, len(lams))
        batch = data.minibatcher(splits.train, config.trial_batch, results.seed_of(config, key, k), contiguous=True)
        W = linear_models.train_linear(np.asarray(lams, float), W0, batch, iters, lr, penalty=P.penalty, noise_sd=noise_sd,
                            dtype=np.dtype(config.dtype))
        return nll(W, splits.valid, config), W
    return trial


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


# ---- the jobs, each in a worker process -----------------------------------------------------
def hyper_run(config, name, budget_s, tangent=False, keep=None):
    """Algorithm 3 for budget_s CPU seconds from the problem's start: the clock's curves of
    w_phi(lam_hat) (budget.Clock.curves, with lam_mean and lam_sd across the hyperparameters at
    each evaluation) and lam_hat at every evaluation (n_evals, H). keep(i, phi, lam_hat), if given,
    sees the state at evaluation i (off the clock)."""
    P, splits, problem = setup(config, name)
    hn, lam_hats = hypernet_of(P, problem.n_hyper, tangent), []

    def evaluate(state):
        phi, lam = state
        if keep is not None:
            keep(len(lam_hats), phi, lam)
        lam_hats.append(lam)
        W = hn.apply(phi, lam[None, :])
        return float(nll(W, splits.valid, config)[0]), float(nll(W, splits.test, config)[0])
    clock = budget.Clock(budget_s, budget_s / config.evals, weights=lambda s: (s.phi, np.array(s.lam)),
                         evaluate=evaluate)
    phi = hn.init(np.random.default_rng([config.seed, 1]), P.hypernet_init)
    algorithms.hypertrain_local(
        problem, hn, phi=phi, lam_hat=np.full(problem.n_hyper, P.lam0),
        train_batch=data.minibatcher(splits.train, config.trial_batch, results.seed_of(config, 2),
                                     contiguous=P.windows),
        valid_batch=data.minibatcher(splits.valid, config.valid_batch, results.seed_of(config, 3)),
        n_samples=config.n_samples, sigma=config.sigma, seed=results.seed_of(config, 4),
        opt_phi=optim.adam(config.lr_phi), opt_lam=optim.adam(config.lr_lam), iters=None, callback=clock)
    out, lams = clock.curves(), np.array(lam_hats)
    out["lam_mean"], out["lam_sd"] = lams.mean(1), lams.std(1)
    return out, lams


def hyper_job(config, name, budget_s, variant=None):
    """Algorithm 3 for budget_s CPU seconds (hyper_run), then, off the clock, a model retrained from
    scratch at each evaluated lam_hat under every trial protocol. variant: the label of an ablation
    (None: the paper's settings)."""
    P, splits, problem = setup(config, name)
    if variant is not None:
        config = dataclasses.replace(config, **ablations_of(config, name)[variant])
    try:
        out, lams = hyper_run(config, name, budget_s)
    except checks.DivergedError as e:
        if variant is None:
            raise
        return {"diverged": " ".join(str(e).split())}  # an ablation that diverges is a result, not a failed run
    for i, protocol in enumerate(config.protocols):
        trial = make_trial(config, name, protocol, splits, 100 + i)
        t0 = budget.cpu_seconds()
        trial(lams[-1:])  # what one retraining costs, alone as a sequential trial is
        cost = budget.cpu_seconds() - t0
        valid, W = zip(*(trial(lams[j:j + 32]) for j in range(0, len(lams), 32)))
        out[f"retrained_{protocol}"] = {"t": out["t"] + cost, "valid": np.concatenate(valid),
                                        "test": np.concatenate([nll(w, splits.test, config) for w in W]),
                                        "cost_s": cost}
    return out


def blackbox_job(config, name, protocol, method, budget_s):
    """One black-box method for budget_s CPU seconds (budget.cpu_seconds), trials included."""
    P, splits, problem = setup(config, name)
    key = 200 + 10 * list(config.protocols).index(protocol) + BLACKBOX.index(method)
    make = {"random": blackbox.RandomSearch, "global_decay": blackbox.GlobalDecay, "tpe": blackbox.TPE,
            "gp_bo": lambda lo, hi, H, seed: blackbox.GPEI(lo, hi, H, seed, n_init=config.gp_init,
                                                           n_candidates=config.gp_candidates)}[method]
    proposer = make(*P.box, problem.n_hyper, results.seed_of(config, key))
    batch = config.random_batch if method in ("random", "global_decay") else 1
    res = blackbox.search(proposer, make_trial(config, name, protocol, splits, key), budget=budget_s, batch=batch,
                          test_of=lambda w: nll(w, splits.test, config)[0])
    lam = res.pop("best_lam")
    return dict(res, best_lam_mean=None if lam is None else float(lam.mean()),
                best_lam_sd=None if lam is None else float(lam.std()))


def _job(config, job):
    """One method run (a job, one BLAS thread, its own process): (seed, job, result)."""
    kind, name, protocol, budget_s = job
    t0 = time.perf_counter()
    try:  # a hyper job's third slot names its ablation (None: the faithful run)
        out = hyper_job(config, name, budget_s, protocol) if kind == "hyper" else blackbox_job(
            config, name, protocol, kind, budget_s)
    except (FloatingPointError, ValueError, RuntimeError) as e:  # say which of the runs failed
        raise type(e)(f"{FIGURE}: seed {config.seed} {job}: {e}") from e
    return config.seed, job, dict(out, wall_s=time.perf_counter() - t0)


def jobs_of(config):
    """[(config with the run's seed, (method, problem, protocol, budget))] of the main run and the
    robustness run, longest first (so the two workers finish close together)."""
    todo = []
    for seed, robust in [(config.seed, False)] + [(s, True) for s in config.robust_seeds]:
        c = dataclasses.replace(config, seed=seed)
        for name in config.problems:
            b = config.robust_budget_s if robust else config.budget_s[name]
            todo.append((c, ("hyper", name, None, b)))
            todo += [(c, (m, name, p, b)) for p, ms in config.methods.items() for m in ms
                     if not (m == "gp_bo" and name != "h10")]
            todo += [(c, ("hyper", name, label, b)) for label in ablations_of(config, name) if not robust]
    return sorted(todo, key=lambda cj: -cj[1][3])


def job_key(config, seed, job):
    """A method run's cache key: the config without the list of ablations (a run does not depend
    on the others; an ablation run is named by its settings in `job`), its seed and job."""
    return jobcache.key(FIGURE, config, seed, job, drop=("workers", "ablations"))


def run_jobs(config):
    """{(seed, method, problem, protocol, budget): result} of every job, `workers` at a time (for
    hyper-training, "protocol" is None, or the label of an ablation)."""
    done = {}
    with runner.open(config.workers) as r:
        for c, job in jobs_of(config):
            r.submit(_job, c, job, key=job_key(config, c.seed, job), label="_".join(map(str, (c.seed, *job))))
        for j in r.as_completed():
            seed, job, out = j.result
            done[(seed, *job)] = out
            if j.reused:
                continue
            kind, name, protocol, b = job
            what = (f"{out['trials']} trial(s), best valid {out['best_valid'][-1]:.4f}" if kind != "hyper" and out["trials"]
                    else "no trial finished within the budget" if kind != "hyper" else
                    out["diverged"] if "diverged" in out else f"valid {out['valid'][-1]:.4f}")
            which = f"{name} hyper (ablation {protocol})" if kind == "hyper" and protocol else \
                " ".join(filter(None, (name, protocol, kind)))
            print(f"[{FIGURE}] seed {seed} {which}: {what}, {out['wall_s']:.0f} s wall on {j.where['host']} "
                  f"({len(done)}/{len(r.jobs)})", flush=True)
    return done


# ---- the numbers -----------------------------------------------------------------------------
def trailing_mean(t, values, window):
    """At each evaluation, the mean of the evaluations in the last `window` seconds up to it: the
    hypernetwork's curve is noisy, and its time to a loss should not be set by one low spike (its
    final loss is a mean over the last 10% of the curve for the same reason)."""
    t, v = np.asarray(t, float), np.asarray(values, float)
    start = np.searchsorted(t, t - window, side="left")
    sums = np.concatenate([[0.0], np.cumsum(v)])
    return (sums[1:] - sums[start]) / (np.arange(1, len(t) + 1) - start)


def curves_of(runs, seed, name, protocol, config, b, variant=None):
    """{method: {"t", "valid", "test"}} for one problem and protocol: the hypernetwork's current
    weights and their retrained models as evaluated (of the ablation `variant`, if given); the
    black-box methods' best so far (a step function, one point per improvement)."""
    h = runs[(seed, "hyper", name, variant, b)]
    out = {"hyper": {k: h[k] for k in ("t", "valid", "test")},
           "hyper_retrained": {k: h[f"retrained_{protocol}"][k] for k in ("t", "valid", "test")}}
    for m in config.methods[protocol]:
        r = runs.get((seed, m, name, protocol, b))
        if r is not None:
            out[m] = {"t": r["best_t"], "valid": r["best_valid"], "test": r["best_test"], "trials": r["trials"],
                      "time_s": r["t"][-1] if r["trials"] else r["time_s"]}  # a round cut by the budget is not counted
    return out


def summarise(curves, fraction):
    """Per method final_valid / final_test / trials / time_to_target_s, and speedup_vs_best_peer."""
    m = {}
    for k, c in curves.items():
        if k.startswith("hyper"):
            i = int(np.nanargmin(c["valid"]))  # the evaluation a researcher keeping the best checkpoint would keep
            m[k] = {"final_valid": budget.final(c, fraction), "final_test": budget.final(c, fraction, "test"),
                    "best_eval": {"t": float(c["t"][i]), "valid": float(c["valid"][i]), "test": float(c["test"][i])}}
        else:
            has = len(c["valid"]) > 0
            m[k] = {"final_valid": float(c["valid"][-1]) if has else None,
                    "final_test": float(c["test"][-1]) if has else None, "trials": c["trials"],
                    "trials_per_s": c["trials"] / c["time_s"]}
    peers = {k: v["final_valid"] for k, v in m.items() if not k.startswith("hyper") and v["final_valid"] is not None}
    best = min(peers, key=peers.get) if peers else None
    target = peers[best] if best else None
    for k, c in curves.items():
        v = trailing_mean(c["t"], c["valid"], fraction * c["t"][-1]) if k.startswith("hyper") else c["valid"]
        m[k]["time_to_target_s"] = None if target is None or not len(v) else budget.first_time(c["t"], v, target)
    hyper_t = m["hyper"]["time_to_target_s"]
    summary = {"best_peer": best, "target_valid": target,
               "speedup_vs_best_peer": (m[best]["time_to_target_s"] / hyper_t) if best and hyper_t else None}
    return m, summary


def run(config=PAPER, out=FIGURES):
    check_config(config)
    t0 = time.perf_counter()
    for name in config.problems:
        setup(config, name)  # the data, loaded before the worker processes fork (they share it)
    runs = run_jobs(config)
    metrics, arrays, robust = {"budget_s": dict(config.budget_s)}, {}, {}
    for name in config.problems:
        metrics[name], robust[name] = {}, {}
        for protocol in config.protocols:
            curves = curves_of(runs, config.seed, name, protocol, config, config.budget_s[name])
            per_method, summary = summarise(curves, config.final_fraction)
            for k in METHODS:  # every method has its entry; one that did not run says why
                if k not in per_method:
                    per_method[k] = {"final_valid": None, "final_test": None, "trials": None, "time_to_target_s": None,
                                     "not_run": not_run(k, name, protocol)}
            metrics[name][protocol] = {**per_method, **summary}
            for k, c in curves.items():
                arrays |= {f"{name}_{protocol}_{k}_{col}": np.asarray(c[col], float) for col in ("t", "valid", "test")}
            seeds = [summarise(curves_of(runs, s, name, protocol, config, config.robust_budget_s),
                               config.final_fraction) for s in config.robust_seeds]
            robust[name][protocol] = {
                k: {col: results.stats([r[0][k][col] for r in seeds]) for col in ("final_valid", "final_test")}
                for k in seeds[0][0]} | {
                "best_by_seed": [min(((k, v["final_valid"]) for k, v in r[0].items() if v["final_valid"] is not None),
                                     key=lambda kv: kv[1])[0] for r in seeds],
                "speedup_vs_best_peer": results.stats([r[1]["speedup_vs_best_peer"] for r in seeds])}
        metrics[name]["ablations"] = {}
        for i, (label, settings) in enumerate(ablations_of(config, name).items()):  # summarised as the faithful run
            r = runs[(config.seed, "hyper", name, label, config.budget_s[name])]
            if "diverged" in r:
                metrics[name]["ablations"][label] = {"settings": settings, **r}
                continue
            ab = {"settings": settings, "hyper_steps": r["steps"],
                  "lam_mean_final": float(r["lam_mean"][-1]), "lam_sd_final": float(r["lam_sd"][-1]),
                  "retrain_cost_s": {p: r[f"retrained_{p}"]["cost_s"] for p in config.protocols}}
            for protocol in config.protocols:
                per_method, summary = summarise(curves_of(runs, config.seed, name, protocol, config,
                                                          config.budget_s[name], label), config.final_fraction)
                ab[protocol] = {k: per_method[k] for k in ("hyper", "hyper_retrained")} | {
                    "speedup_vs_best_peer": summary["speedup_vs_best_peer"]}
            metrics[name]["ablations"][label] = ab
            arrays |= {f"{name}_ablation{i}_{col}": np.asarray(r[col], float) for col in ("t", "valid", "test")}
        h = runs[(config.seed, "hyper", name, None, config.budget_s[name])]
        metrics[name]["hyper_steps"] = h["steps"]
        metrics[name]["hyper_lam_mean_final"] = float(h["lam_mean"][-1])
        metrics[name]["hyper_lam_sd_final"] = float(h["lam_sd"][-1])
        metrics[name]["retrain_cost_s"] = {p: h[f"retrained_{p}"]["cost_s"] for p in config.protocols}
        arrays[f"{name}_hyper_lam_mean"] = h["lam_mean"]
    metrics["robust"] = {"seeds": list(config.robust_seeds), "budget_s": config.robust_budget_s, **robust}
    metrics["job_commits"] = [jobcache.code_id()]  # the code every job (reused ones too) is keyed by
    timings = {"_".join(map(str, k)): v["wall_s"] for k, v in runs.items()} | {"total": time.perf_counter() - t0}
    return results.save_results(out, FIGURE, config_name=results.config_name(config, PAPER, QUICK), config=config,
                                metrics=metrics, timings=timings, arrays=arrays)


# ---- the figure ------------------------------------------------------------------------------
def plot(out=FIGURES):
    record, a = results.load_results(out, FIGURE)
    cfg, m = record["config"], record["metrics"]
    problems, protocols = cfg["problems"], list(cfg["protocols"])
    fig, axes = plotting.figure(len(problems), len(protocols) + 1, figsize=(5 * (len(protocols) + 1), 4.4 * len(problems)),
                                squeeze=False, layout="constrained")
    for i, name in enumerate(problems):
        for j, protocol in enumerate(protocols):
            ax = axes[i, j]
            shown = []
            for k, method in enumerate(METHODS):
                key = f"{name}_{protocol}_{method}"
                if f"{key}_t" not in a or not len(a[f"{key}_t"]):
                    continue
                t, style = a[f"{key}_t"], dict(color=f"C{k}", where="post") if method in BLACKBOX else dict(color=f"C{k}")
                draw = ax.step if method in BLACKBOX else ax.plot
                draw(np.append(t, m["budget_s"][name]) if method in BLACKBOX else t,
                     np.append(a[f"{key}_valid"], a[f"{key}_valid"][-1]) if method in BLACKBOX else a[f"{key}_valid"],
                     label=LABELS[method], lw=1.2, **style)
                draw(np.append(t, m["budget_s"][name]) if method in BLACKBOX else t,
                     np.append(a[f"{key}_test"], a[f"{key}_test"][-1]) if method in BLACKBOX else a[f"{key}_test"],
                     ls="--", lw=0.9, **style)
                shown.append(np.concatenate([a[f"{key}_valid"], a[f"{key}_test"]]))
            ablated = []
            for k, label in enumerate(m[name].get("ablations", {})):  # w_phi(lam_hat) of each ablation, valid.
                if f"{name}_ablation{k}_t" in a:  # (a diverged ablation has no curve)
                    ax.plot(a[f"{name}_ablation{k}_t"], a[f"{name}_ablation{k}_valid"], lw=1.0, **ABLATION_STYLES[k % 4])
                    ablated.append(a[f"{name}_ablation{k}_valid"][1:])  # (its first evaluation is the untrained start)
            vals = np.concatenate(shown) if shown else np.array([])
            vals = vals[np.isfinite(vals)]
            if len(vals):
                lo, hi = vals.min(), np.quantile(vals, 0.9)
                if ablated:  # the ablations' curves are in view too
                    hi = max(hi, np.nanmax(np.concatenate(ablated)))
                ax.set_ylim(lo - 0.05 * (hi - lo + 1e-3), hi + 0.1 * (hi - lo + 1e-3))
            else:
                ax.text(0.5, 0.5, "no finite losses", transform=ax.transAxes, ha="center")
            steps = cfg["protocols"][protocol][name]
            ax.set(title=f"{name}: {protocol} protocol ({steps[0]:,} Adam steps of {steps[1]:g})",
                   xlabel="Compute time (s), trials' training included", ylabel="Loss (NLL)")
        ax = axes[i, -1]  # the robustness run: final validation loss, mean +- sd over its seeds
        rob = m["robust"][name]
        for j, protocol in enumerate(protocols):
            for k, method in enumerate(METHODS):
                s = rob[protocol].get(method)
                if s and s["final_valid"]["mean"] is not None and np.isfinite(s["final_valid"]["mean"]):
                    ax.errorbar(j + 0.1 * (k - 2.5), s["final_valid"]["mean"], yerr=s["final_valid"]["sd"], fmt="o",
                                color=f"C{k}", ms=4)
        ax.set_xticks(range(len(protocols)), protocols)
        ax.set(xlim=(-0.6, len(protocols) - 0.4), ylabel="Final valid. loss (NLL)",
               title=f"{name}: {len(m['robust']['seeds'])} seed(s) at {m['robust']['budget_s']:g} s, mean +- sd")
    handles = [axes[0, 0].plot([], [], color=f"C{k}", label=LABELS[method])[0] for k, method in enumerate(METHODS)]
    handles += [axes[0, 0].plot([], [], **ABLATION_STYLES[k % 4], label=f"{name}: Alg. 3, {label} (ablation, valid.)")[0]
                for name in problems for k, label in enumerate(m[name].get("ablations", {}))]
    handles += [axes[0, 0].plot([], [], color="k", ls=ls, label=lab)[0] for ls, lab in (("-", "valid."), ("--", "test"))]
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(f"{record['config_name']}: hyper-training against black-box tuning at equal compute time "
                 "(black-box: best so far; hyper-training: its current lam_hat)", fontsize=11)
    return plotting.save(fig, out, FIGURE)


def main(argv=None):
    cli.main(FIGURE, run, plot, paper=PAPER, quick=QUICK, argv=argv, description=__doc__, check=check_config)


if __name__ == "__main__":
    main()
