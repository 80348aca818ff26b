"""The elementary model: an MLP whose weights are one flat vector, evaluated for S weight vectors
at once; its prediction losses and the weight penalties used in the paper.

A flat weight vector for layer sizes [n0, n1, ..., nL] is laid out as hypernet/layout.py says (for
each layer its (n_in, n_out) weight matrix row by row, then its n_out biases). Hidden units are
ReLU, the output is identity. Every function here takes a batch of S weight vectors, W of shape
(S, D), and returns S values.

The layers, the squared error and the per-weight penalty go through the primitives of
primitives.py: each is the formula with a hand-written gradient (fewer autograd operations).
"""
from typing import Callable, NamedTuple

import autograd.numpy as np

from . import layout
from .checks import check_layer_sizes, check_positive
from .primitives import affine, cols, mean_sq_err, weighted_sq_sum

LOG_2PI = 1.8378770664093453


def n_weights(layer_sizes):
    return layout.size(layer_sizes)


def unflatten(W, layer_sizes):
    """(S, D) flat weights -> list of (weights (S, n_in, n_out), biases (S, n_out)) per layer; a
    single vector (D,) gives (n_in, n_out) and (n_out,)."""
    return [(layout.weights(W, layer, cols), layout.biases(W, layer, cols)) for layer in layout.layers(layer_sizes)]


def flatten(layers):
    """Inverse of unflatten: list of (S, n_in, n_out), (S, n_out) -> (S, D)."""
    return np.concatenate([np.concatenate([M.reshape(len(M), -1), b], axis=1) for M, b in layers], axis=1)


def predict(W, X, layer_sizes, relu=True):
    """Outputs of S networks on one shared input batch: W (S, D), X (N, n0) -> (S, N, nL).
    Layer by layer, H <- act(H) M + b (no activation on the input; act = ReLU if relu, else the
    identity), with H (N, n0) shared by the S networks at first and (S, N, n) after; M (S, n_in,
    n_out) and b (S, n_out) from unflatten. A single network W (D,) maps X (N, n0) to (N, nL):
    the hypernetworks of hypernets.py are such networks."""
    H = X
    for i, layer in enumerate(layout.layers(layer_sizes)):
        if i > 0 and relu:
            H = np.maximum(H, 0.0)  # ReLU hidden units
        H = affine(H, W, layer)     # H M + b, M and b read from W in place: (N or S x N, n_in) -> (S, N, n_out)
    return H


# Prediction losses: P (S, N, K) predictions, T (N, K) targets -> (S,) losses.
def mse(P, T):
    """Plain mean squared error over all N x K outputs (Fig 5's y-axis)."""
    return mean_sq_err(P, T)


def gaussian_nll(P, T, noise_sd=0.1):
    """-mean log N(T | P, noise_sd^2) over all N x K outputs; with sd 0.1 it is
    50 * mse - 1.38365, the loss of the published plots of Figs 2, 4 and 6 (it can be negative)."""
    return nll_of_mse(mse(P, T), noise_sd)


def nll_of_mse(mean_sq, noise_sd):
    """The Gaussian NLL (sd noise_sd) of predictions whose mean squared error is mean_sq."""
    return 0.5 * mean_sq / noise_sd ** 2 + np.log(noise_sd) + 0.5 * LOG_2PI


# Penalties: W (S, D) weights, log_decay (S, H) hyperparameters -> (S,) penalties.
# The hyperparameter is a log decay: the optimiser works on an unconstrained lam while the
# decay it stands for, exp(lam), stays positive.
def l2_norm_penalty(W, log_decay):
    """exp(lam) * ||w||_2 over all weights and biases, unsquared (the original code's, Figs 2, 4)."""
    return np.exp(log_decay[:, 0]) * np.sqrt(np.sum(np.square(W), axis=1))


def sq_l2_penalty(W, log_decay):
    """exp(lam) * ||w||_2^2 (ridge regression's penalty)."""
    return np.exp(log_decay[:, 0]) * np.sum(np.square(W), axis=1)


def per_weight_penalty(W, log_decay):
    """sum_j exp(lam_j) * w_j^2: one decay per weight, H = D (Fig 5)."""
    return weighted_sq_sum(W, np.exp(log_decay))


def per_class_penalty(W, log_decay, n_in=784, n_classes=10):
    """(1/10) * sum_i exp(lam_i) * ||W[:, i]||_2 over the n_in x 10 weight matrix of a linear
    model, biases excluded, unsquared: one decay per digit class (Fig 6)."""
    M = layout.weights(W, layout.layers((n_in, n_classes))[0], cols)
    return np.mean(np.exp(log_decay) * np.sqrt(np.sum(np.square(M), axis=1)), axis=1)


LOSSES = {"nll": gaussian_nll, "mse": mse}
PENALTIES = {"l2_norm": l2_norm_penalty, "sq_l2": sq_l2_penalty,
             "per_weight": per_weight_penalty, "per_class": per_class_penalty}


class Problem(NamedTuple):
    """The shared contract of every method here. Batched over S models:
    train_loss(W (S, D), lams (S, H), (X, T)) -> (S,) elementary loss + penalty;
    valid_loss(W (S, D), (X, T)) -> (S,) elementary loss.
    layer_sizes (optional): (n0, ..., nL) of an MLP; when given, the algorithms check at step 0
    that batches have X (N, n0) and T (N, nL)."""
    train_loss: Callable
    valid_loss: Callable
    n_weights: int
    n_hyper: int
    layer_sizes: tuple = None


def make_problem(layer_sizes=(784, 10), loss="nll", penalty="l2_norm", noise_sd=0.1):
    """The MNIST regression problem of the paper: an MLP with the named loss and penalty."""
    check_layer_sizes(layer_sizes)
    if loss not in LOSSES or penalty not in PENALTIES:
        raise ValueError(f"loss must be one of {list(LOSSES)} and penalty one of {list(PENALTIES)}; "
                         f"got loss={loss!r}, penalty={penalty!r}")
    noise_sd = check_positive(noise_sd=noise_sd)  # (not a bool)
    sizes, D = tuple(layer_sizes), n_weights(layer_sizes)
    H = {"l2_norm": 1, "sq_l2": 1, "per_weight": D, "per_class": sizes[-1]}[penalty]
    if penalty == "per_class" and len(sizes) != 2:
        raise ValueError("the per-class penalty is defined for a linear model, layer_sizes=(n_in, n_classes)")
    pred_loss = (lambda P, T: gaussian_nll(P, T, noise_sd)) if loss == "nll" else mse
    pen = PENALTIES[penalty]
    if penalty == "per_class":
        pen = lambda W, lam: per_class_penalty(W, lam, sizes[0], sizes[1])  # noqa: E731

    def valid_loss(W, batch):
        return pred_loss(predict(W, batch[0], sizes), batch[1])

    def train_loss(W, lams, batch):
        return valid_loss(W, batch) + pen(W, lams)
    return Problem(train_loss, valid_loss, D, H, sizes)


def init_weights(rng, n, scale, S=None):
    """randn * scale: (n,) or (S, n)."""
    return scale * rng.standard_normal(n if S is None else (S, n))
