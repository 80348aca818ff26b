"""The setting of Section 4.1 (Figures 2 and 4): a linear 784 -> 10 model trained on the first 10
MNIST training images (few, to exaggerate over-fitting), Gaussian NLL (sd 0.1) plus
exp(lam) * ||w||_2 (unsquared, biases included, as the original code), validation = the next
10,000 training images, test = the first 10,000 test images; and the cross-validation crosses
(Algorithm 1) both figures draw.

A config passed here needs the fields seed, n_train, n_valid, n_test, init_scale, lr, cv_iters,
cv_grid (the crosses) and optimum_grid (where lam* is read off), each grid (low, high, n).
"""
import numpy as np

from experiments.harness import results
from hypernet import algorithms, data, models, optim


def setup(config):
    """(splits, problem, W0, rng): the data, the regression problem and the shared initial weights."""
    splits = data.mnist_splits(config.n_train, config.n_valid, config.n_test)
    problem = models.make_problem((784, 10), loss="nll", penalty="l2_norm", noise_sd=0.1)
    rng = np.random.default_rng(config.seed)
    return splits, problem, models.init_weights(rng, problem.n_weights, config.init_scale), rng


def full(split):
    """The whole split as one batch (X, T)."""
    return split.X, split.T


def curves(problem, W, *, lams, splits, chunk=40):
    """Training objective (on the training points), validation and test loss of weights W (G, D)
    at lams (G, 1); in chunks of G so that the (G, 10000, 10) predictions stay small."""
    parts = [(problem.train_loss(W[i:i + chunk], lams[i:i + chunk], full(splits.train)),
              problem.valid_loss(W[i:i + chunk], full(splits.valid)),
              problem.valid_loss(W[i:i + chunk], full(splits.test))) for i in range(0, len(W), chunk)]
    return [np.concatenate(p) for p in zip(*parts)]


def hypernet_curves(problem, hypernet, *, phi, lams, splits):
    """Training objective, validation and test loss of w_phi(lam) for lams (G,)."""
    lams = np.asarray(lams, float)[:, None]
    return curves(problem, hypernet.apply(phi, lams), lams=lams, splits=splits)


def cross_validate(config, problem, *, splits, W0):
    """Algorithm 1 (Adam, full batch, every model from W0) at the crosses' grid and at the finer
    grid lam* is read off, trained as one array. Returns the crosses' lams and train/valid/test
    losses, and lam* with its losses."""
    crosses, fine = np.linspace(*config.cv_grid), np.linspace(*config.optimum_grid)
    lams = np.concatenate([crosses, fine])[:, None]
    progress = results.Progress("Algorithm 1", config.cv_iters)
    cv = algorithms.cross_validation(problem, lams, W0=W0, train_batch=lambda step: full(splits.train),
                                     valid_data=full(splits.valid), opt=optim.adam(config.lr_phi), iters=config.cv_iters,
                                     callback=lambda step, state: progress(step))
    train, valid, test = curves(problem, cv.W, lams=lams, splits=splits)
    n, best = len(crosses), len(crosses) + int(np.argmin(valid[len(crosses):]))
    return {"lams": crosses, "train": train[:n], "valid": valid[:n], "test": test[:n],
            "argmin": lams[best, 0], "min_valid": valid[best], "test_at_argmin": test[best]}


def cv_metrics(cv):
    return {"cv_lams": cv["lams"], "cv_valid_losses": cv["valid"], "cv_argmin_lam": cv["argmin"],
            "cv_min_valid_loss": cv["min_valid"], "cv_test_loss_at_argmin": cv["test_at_argmin"],
            "cv_train_losses": cv["train"]}


def cv_arrays(cv):
    return {"cv_lams": cv["lams"], "cv_train": cv["train"], "cv_valid": cv["valid"]}


def plot_crosses(ax, record, arrays, train=False):
    """Algorithm 1's crosses, with the dashed line at its optimum lam*."""
    if train:
        ax.plot(arrays["cv_lams"], arrays["cv_train"], "x", color="tab:blue", ms=7, mew=1.5,
                label="Cross-validation, training loss")
    ax.plot(arrays["cv_lams"], arrays["cv_valid"], "x", color="k" if not train else "tab:red", ms=7, mew=1.5,
            label="Cross-validation" + (", validation loss" if train else ""))
    lam_star = record["metrics"]["cv_argmin_lam"]
    ax.axvline(lam_star, color="k", ls="--", lw=1, label=f"Optimal hyperparameter λ* = {lam_star:.2f}")
