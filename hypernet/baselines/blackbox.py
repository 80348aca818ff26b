"""Black-box hyperparameter optimisers, the peers of hyper-training in the appendix comparison
(experiments/fig7_hpo.py): random search, Bayesian optimisation (a Gaussian process with expected
improvement) and Optuna's TPE sampler, run against a compute-time budget.

Every optimiser is a proposer with two methods: ask(n) -> lams (n, H), n new points to try, and
tell(lams, losses), their validation losses. `search` alternates them with a trial function,
trial(lams) -> (losses (n,), weights (n, D)), which trains a model at each lam (the inner
optimisation) and returns its validation loss; a trial's time is part of the method's time, as in
the paper ("the runtime includes the inner optimization for gradient-free approaches").
"""
import time
import warnings

import numpy as np

from ..checks import check_count, check_seed, finite_real

# scipy.stats and scikit-learn are imported where they are used: they take about a second to import,
# which every process that only lists or checks the appendix comparison would pay.


def check_box(low, high, n_hyper, seed):
    """Every proposer's search box [low, high]^n_hyper and seed, refused in one line."""
    check_count(n_hyper=n_hyper)
    check_seed(seed=seed)
    if finite_real(low) is None or finite_real(high) is None or not low < high:
        raise ValueError(f"the search box needs finite numbers low < high, got low={low!r}, high={high!r}")


# ---- the proposers ---------------------------------------------------------------------------
class RandomSearch:
    """lam ~ U[low, high]^H, independent of what came before (so any number at once)."""

    def __init__(self, low, high, n_hyper, seed):
        check_box(low, high, n_hyper, seed)
        self.low, self.high, self.H = low, high, n_hyper
        self.rng = np.random.default_rng(seed)

    def ask(self, n):
        return self.rng.uniform(self.low, self.high, (n, self.H))

    def tell(self, lams, losses):
        pass


class GlobalDecay(RandomSearch):
    """Random search over one decay shared by all H hyperparameters (the "hand-tuned" baseline):
    lam = g * ones(H), g ~ U[low, high]."""

    def ask(self, n):
        return np.repeat(self.rng.uniform(self.low, self.high, (n, 1)), self.H, axis=1)


def expected_improvement(mu, sd, best, xi=0.0):
    """E[max(best - xi - f, 0)] for f ~ N(mu, sd^2): how much a point is expected to improve on the
    lowest loss so far, `best` (minimisation). Where sd = 0 it is max(best - xi - mu, 0)."""
    from scipy.stats import norm
    mu, sd = np.asarray(mu, float), np.asarray(sd, float)
    gain = best - xi - mu
    with np.errstate(divide="ignore", invalid="ignore"):
        z = gain / sd
        ei = gain * norm.cdf(z) + sd * norm.pdf(z)
    return np.where(sd > 0, ei, np.maximum(gain, 0.0))


class GPEI:
    """Bayesian optimisation, one point at a time: the first n_init points at random in the box,
    then the maximiser of expected improvement under a GP fit to every (lam, loss) so far.

    GP: scikit-learn's GaussianProcessRegressor on lam scaled to [0, 1]^H, kernel C * Matern(5/2)
    with one length scale per hyperparameter plus a white-noise term (a trial's loss is noisy: its
    training sees random minibatches), normalize_y=True. The kernel's hyperparameters are refit
    by maximum marginal likelihood before every proposal, from the previous fit and `restarts`
    random starts. EI is maximised over n_candidates points: half uniform in the box, half
    Gaussian perturbations (sd 0.05 of the box) of the best points so far."""

    def __init__(self, low, high, n_hyper, seed, n_init=10, n_candidates=2000, restarts=1):
        check_box(low, high, n_hyper, seed)
        check_count(n_init=n_init, n_candidates=n_candidates)
        check_count(allow_zero=True, restarts=restarts)
        self.low, self.high, self.H = low, high, n_hyper
        self.n_init, self.n_candidates, self.restarts = n_init, n_candidates, restarts
        self.rng, self.seed = np.random.default_rng(seed), seed
        self.X, self.y = np.empty((0, n_hyper)), np.empty(0)
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
        self.kernel = (ConstantKernel(1.0, (1e-3, 1e3)) * Matern(np.full(n_hyper, 0.5), (1e-2, 1e2), nu=2.5)
                       + WhiteKernel(1e-3, (1e-8, 1e0)))

    def fit(self):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        gp = GaussianProcessRegressor(self.kernel, normalize_y=True, n_restarts_optimizer=self.restarts,
                                      random_state=(self.seed + len(self.y)) % 2 ** 32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp.fit(self.X, self.y)
        self.kernel = gp.kernel_  # the next fit starts from this one
        return gp

    def candidates(self):
        n = self.n_candidates
        best = self.X[np.argsort(self.y)[:5]]
        near = best[self.rng.integers(len(best), size=n - n // 2)] + 0.05 * self.rng.standard_normal((n - n // 2, self.H))
        return np.clip(np.vstack([self.rng.uniform(0, 1, (n // 2, self.H)), near]), 0, 1)

    def ask(self, n):
        if n != 1:
            raise ValueError("GPEI proposes one point at a time")
        if len(self.y) < self.n_init:
            u = self.rng.uniform(0, 1, (1, self.H))
        else:
            gp, C = self.fit(), self.candidates()
            mu, sd = gp.predict(C, return_std=True)
            u = C[[int(np.argmax(expected_improvement(mu, sd, self.y.min())))]]
        return self.low + (self.high - self.low) * u

    def tell(self, lams, losses):
        self.X = np.vstack([self.X, (np.asarray(lams) - self.low) / (self.high - self.low)])
        self.y = np.concatenate([self.y, losses])


class TPE:
    """Optuna's TPE sampler through its ask/tell interface, one trial at a time: H float
    parameters lam_0 ... lam_{H-1} in [low, high], TPESampler(seed=seed) with Optuna's defaults.
    In Optuna 5 these are: 10 random start-up trials, then multivariate TPE (for a single
    objective: one Parzen estimator over all H parameters jointly, for the good and for the bad
    trials), constant_liar=True (no effect here: no trial is pending when the next is asked)."""

    def __init__(self, low, high, n_hyper, seed):
        check_box(low, high, n_hyper, seed)
        import optuna
        from optuna.distributions import FloatDistribution
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.H, self.pending = n_hyper, []
        self.names = [f"lam_{i}" for i in range(n_hyper)]
        self.space = {k: FloatDistribution(low, high) for k in self.names}
        self.study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))

    def ask(self, n):
        self.pending = [self.study.ask(self.space) for _ in range(n)]
        params = [t.params for t in self.pending]  # (a copy of all H values on each access)
        return np.array([[p[k] for k in self.names] for p in params])

    def tell(self, lams, losses):
        for t, loss in zip(self.pending, losses):
            self.study.tell(t, float(loss))
        self.pending = []


# ---- the budgeted search -----------------------------------------------------------------------
def search(proposer, trial, *, budget, batch=1, test_of=None, timer=time.thread_time):
    """Ask, train, tell until `budget` seconds of `timer` (by default the CPU seconds of this thread, time.thread_time: a method that runs with one BLAS thread does all of its compute on it) are
    used. Each round asks `batch` points and trains them with trial(lams) -> (valid losses,
    weights); the round's points count as done when the whole round is (a round that ends past
    the budget does not count). test_of(weights) -> test loss is called, off the clock, on each new
    best. Returns {"t": completion time of every trial, "valid": its loss, "best_t", "best_valid",
    "best_test": the best so far at each improvement, "best_lam", "trials", "time_s"}."""
    start, excluded = timer(), 0.0
    out = {"t": [], "valid": [], "best_t": [], "best_valid": [], "best_test": [], "best_lam": None}
    best = np.inf
    while timer() - start - excluded < budget:
        lams = proposer.ask(batch)
        losses, W = trial(lams)
        done = timer() - start - excluded
        if done > budget:
            break
        losses = np.asarray(losses, float)
        proposer.tell(lams, losses)
        out["t"] += [done] * len(losses)
        out["valid"] += losses.tolist()
        i = int(np.argmin(losses))
        if losses[i] < best:
            best, t0 = losses[i], timer()
            out["best_t"].append(done)
            out["best_valid"].append(best)
            out["best_lam"] = lams[i].copy()
            out["best_test"].append(np.nan if test_of is None else float(test_of(W[i])))
            excluded += timer() - t0
    out = {k: (np.array(v, float) if isinstance(v, list) else v) for k, v in out.items()}
    return dict(out, trials=len(out["t"]), time_s=timer() - start - excluded)


def best_so_far(result, t):
    """The best validation loss and its test loss found by time t (nan before the first)."""
    i = np.searchsorted(result["best_t"], t, side="right") - 1
    if i < 0:
        return np.nan, np.nan
    return float(result["best_valid"][i]), float(result["best_test"][i])
