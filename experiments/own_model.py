"""Hyper-training your own model, ridge regression on scikit-learn's diabetes data: write train_loss and
valid_loss for S weight vectors, wrap them in a hypernet.Problem, run Algorithms 2 (MLP hypernetwork over a
prior range, then lam descended) and 3 (linear hypernetwork around lam_hat, from a poor lam_hat), and
compare with the exact lam* from w*(lam) = (X'X/N + e^lam I)^-1 X'y/N. How close each lands, over seeds,
is in tests/test_own_model.py (and on docs/tests.md). Options: --seed, --quick"""
import argparse
import dataclasses

import autograd.numpy as np
from sklearn.datasets import load_diabetes

import hypernet
from experiments.common.own_models import both_algorithms  # Algorithms 2 and 3 (own_logistic.py's too)
from experiments.harness import cli


@dataclasses.dataclass(frozen=True)
class Config:
    n_train: int = 40           # the first 40 of 442 patients (few: the penalty matters); the rest validate
    prior: tuple = (-4.0, 2.0)  # Algorithm 2: lam ~ U[-4, 2]; phase 2 starts at its middle
    hidden: int = 32            # Algorithm 2: MLP hypernetwork 1 -> 32 ReLU -> 10
    iters: int = 2000           # Algorithm 2 phase 1, and Algorithm 3
    lam_iters: int = 500        # Algorithm 2 phase 2
    lam_hat0: float = 2.0       # Algorithm 3: lam_hat starts here; lam ~ N(lam_hat, sigma^2)
    # Wide enough that the hypernetwork sees lam's neighbourhood and learns the slope dw/dlam (the
    # paper's sigma^2 = 1e-5 suits MNIST's tens of thousands of steps, not 2,000)
    sigma: float = 0.5
    n_samples: int = 8          # lam samples per hypernetwork step
    # Adam's step for alpha and beta alike: the paper's 1e-4 would move lam by at most 2000 x 1e-4 = 0.2
    # in this run's 2,000 steps (Adam's step is about lr per step), less than the way to lam* here
    lr_phi: float = 1e-2
    lr_lam: float = 1e-2


FULL, TOL = Config(), 0.15      # TOL: the largest |lam - lam*| the script calls close
QUICK = dataclasses.replace(FULL, iters=1000, lam_iters=300)


def load_data(n_train):
    """Train and valid (X, y), standardised with the training mean and sd: no bias is needed."""
    X, y = load_diabetes(return_X_y=True)
    X, y = (X - X[:n_train].mean(0)) / X[:n_train].std(0), (y - y[:n_train].mean()) / y[:n_train].std()
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])


# ---- the two functions you write: S weight vectors at once ----------------------------------
def valid_loss(W, batch):
    """Mean squared error of the S linear models W (S, D) on batch (X (N, D), y (N,)) -> (S,)."""
    X, y = batch
    return np.mean((np.einsum("nd,sd->sn", X, W) - y) ** 2, axis=1)


def train_loss(W, lams, batch):
    """Mean squared error + exp(lam) ||w||^2 -> (S,): lam (S, 1) moves freely, the decay stays > 0."""
    return valid_loss(W, batch) + np.exp(lams[:, 0]) * np.sum(W ** 2, axis=1)


# ---- the reference: the exact best response, where train_loss has zero gradient -------------
def best_response(lam, X, y):
    return np.linalg.solve(X.T @ X / len(X) + np.exp(lam) * np.eye(X.shape[1]), X.T @ y / len(X))


def run(config=FULL, seed=0):
    """lam*, its valid loss, {algorithm: (lam, hypernetwork's last valid loss, exact valid loss at lam, s)}."""
    train, valid = load_data(config.n_train)
    D = train[0].shape[1]
    problem = hypernet.Problem(train_loss, valid_loss, n_weights=D, n_hyper=1)
    exact_valid = lambda lam: valid_loss(best_response(lam, *train)[None], valid)[0]  # noqa: E731
    grid = np.linspace(-6, 4, 2001)                            # steps of 0.005
    curve = np.array([exact_valid(lam) for lam in grid])
    runs = both_algorithms(problem, config, seed, train, valid, exact_valid)
    return grid[np.argmin(curve)], curve.min(), runs


def main(argv=None):
    parser = cli.Parser(description="Hyper-training your own model (ridge regression)")
    parser.add_argument("--seed", type=cli.seed_type, default=0, help="initialisation and lam samples (default 0)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK.iters} + {QUICK.lam_iters} steps")
    args = parser.parse_args(argv)
    lam_star, best, runs = run(QUICK if args.quick else FULL, args.seed)
    print(f"{'':32s}{'lam':>7s}{'lam - lam*':>11s}{'valid (hypernet)':>17s}{'valid (exact)':>14s}{'seconds':>8s}")
    print(f"{'exact lam* (grid step 0.005)':32s}{lam_star:7.3f}{'':28s}{best:14.4f}")
    for name, (lam, hyper, exact, secs) in runs.items():
        close = "" if abs(lam - lam_star) <= TOL else f"  not within {TOL} of lam*" + (
            " yet (--quick runs fewer steps; the full run is tested to arrive)" if args.quick else "")
        print(f"{name:32s}{lam:7.3f}{lam - lam_star:+11.3f}{hyper:17.4f}{exact:14.4f}{secs:8.1f}{close}")
    return lam_star, best, runs


if __name__ == "__main__":
    cli.interruptible("experiments/own_model.py", main, "nothing was written")
