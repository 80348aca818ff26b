"""Hyper-training a model of your own, part 2: L2-regularised logistic regression on scikit-learn's
breast-cancer data (569 tumours, 30 features, benign or malignant), checked against scikit-learn.

The two functions you write take S weight vectors at once. Weights w (30) and a bias b (not
penalised), labels y in {-1, +1}, z = X w + b:
    valid_loss = mean_n log(1 + exp(-y_n z_n))          (the log-loss)
    train_loss = valid_loss + exp(lam) ||w||^2
scikit-learn's LogisticRegression(C) minimises C sum_n log(1 + exp(-y_n z_n)) + ||w||^2 / 2, the
same objective divided by C N when exp(lam) = 1 / (2 C N): lam = -log(2 C N). Its validation
log-loss over a grid of C gives the lam* to compare with; Algorithm 2 (an MLP hypernetwork over a
prior range, then lam descended) and Algorithm 3 (a linear hypernetwork around lam_hat, from a
poor start) should land near it. Runs anywhere `pip install` put hypernet (no repository needed).

    python own_logistic.py [--seed 0] [--quick]
"""
import argparse
import dataclasses

import autograd.numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

import hypernet
from experiments.common.own_models import both_algorithms  # the same two runs as the ridge example
from experiments.harness import cli


@dataclasses.dataclass(frozen=True)
class Config:
    n_train: int = 40           # the first 40 tumours train (few: the penalty matters); the other 529 validate
    prior: tuple = (-8.0, 0.0)  # Algorithm 2: lam ~ U[-8, 0]; phase 2 starts at its middle
    hidden: int = 32            # Algorithm 2: MLP hypernetwork 1 -> 32 ReLU -> 31
    iters: int = 3000           # Algorithm 2 phase 1, and Algorithm 3
    lam_iters: int = 500        # Algorithm 2 phase 2
    lam_hat0: float = -1.0      # Algorithm 3: lam_hat starts here; lam ~ N(lam_hat, sigma^2)
    sigma: float = 0.5
    n_samples: int = 8          # lam samples per hypernetwork step
    lr_phi: float = 1e-2
    lr_lam: float = 1e-2
    grid: tuple = (-8.0, 1.0, 181)  # lam of scikit-learn's grid (steps of 0.05), as C = 1 / (2 N e^lam)


FULL, TOL = Config(), 0.3       # TOL: the largest |lam - lam*| the script calls close
QUICK = dataclasses.replace(FULL, iters=1500, lam_iters=300, grid=(-8.0, 1.0, 91))


def load_data(n_train):
    """Train and valid (X (N, 30), y (N,) in {-1, +1}), standardised with the training mean and sd."""
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X[:n_train].mean(0)) / X[:n_train].std(0)
    return (X[:n_train], 2.0 * y[:n_train] - 1), (X[n_train:], 2.0 * y[n_train:] - 1)


# ---- the two functions you write: S weight vectors at once, W (S, 31) = [w (30), b] ----------
def valid_loss(W, batch):
    """Mean log-loss of the S models on batch (X (N, 30), y (N,)) -> (S,)."""
    X, y = batch
    z = np.einsum("nd,sd->sn", X, W[:, :-1]) + W[:, -1:]
    return np.mean(np.logaddexp(0.0, -y * z), axis=1)


def train_loss(W, lams, batch):
    """Log-loss + exp(lam) ||w||^2 (bias not penalised, as scikit-learn's) -> (S,)."""
    return valid_loss(W, batch) + np.exp(lams[:, 0]) * np.sum(W[:, :-1] ** 2, axis=1)


# ---- the reference: scikit-learn at C = 1 / (2 N e^lam) -------------------------------------
def sklearn_fit(lam, X, y):
    """The weights [w, b] (31,) of LogisticRegression at the C that lam stands for."""
    C = 1.0 / (2 * len(X) * np.exp(lam))
    fit = LogisticRegression(C=C, tol=1e-10, max_iter=10000).fit(X, y)
    return np.concatenate([fit.coef_[0], fit.intercept_])


def run(config=FULL, seed=0):
    """scikit-learn's lam* and its valid loss, and {algorithm: (lam, hypernetwork's last valid loss,
    scikit-learn's valid loss at lam, seconds)}."""
    train, valid = load_data(config.n_train)
    D = train[0].shape[1] + 1
    problem = hypernet.Problem(train_loss, valid_loss, n_weights=D, n_hyper=1)
    exact_valid = lambda lam: valid_loss(sklearn_fit(lam, *train)[None], valid)[0]  # noqa: E731
    grid = np.linspace(*config.grid)
    curve = np.array([exact_valid(lam) for lam in grid])
    runs = both_algorithms(problem, config, seed, train, valid, exact_valid)
    return grid[np.argmin(curve)], curve.min(), runs


def main(argv=None):
    parser = cli.Parser(description="Hyper-training your own model (L2 logistic regression)")
    parser.add_argument("--seed", type=cli.seed_type, default=0, help="initialisation and lam samples (default 0)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK.iters} + {QUICK.lam_iters} steps")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    lam_star, best, runs = run(config, args.seed)
    step = (config.grid[1] - config.grid[0]) / (config.grid[2] - 1)
    print(f"{'':34s}{'lam':>7s}{'C':>9s}{'lam - lam*':>11s}{'valid (hypernet)':>17s}{'valid (sklearn)':>16s}"
          f"{'seconds':>8s}")
    C = lambda lam: 1.0 / (2 * config.n_train * np.exp(lam))  # noqa: E731
    print(f"{f'scikit-learn lam* (grid step {step:g})':34s}{lam_star:7.3f}{C(lam_star):9.3g}{'':28s}{best:16.4f}")
    for name, (lam, hyper, exact, secs) in runs.items():
        close = "" if abs(lam - lam_star) <= TOL else f"  not within {TOL} of lam*" + (
            " yet (--quick runs fewer steps; the full run is tested to arrive)" if args.quick else "")
        print(f"{name:34s}{lam:7.3f}{C(lam):9.3g}{lam - lam_star:+11.3f}{hyper:17.4f}{exact:16.4f}{secs:8.1f}{close}")
    return lam_star, best, runs


if __name__ == "__main__":
    cli.interruptible("experiments/own_logistic.py", main, "nothing was written")
