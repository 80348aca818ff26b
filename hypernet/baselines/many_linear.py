"""Many linear models 784 -> 10 trained at once: the (lam, validation loss) tuples of Figure 6 and
the black-box trials of the appendix comparison (experiments/fig7_hpo.py).

Each model is trained under the Gaussian NLL of hypernet.models with the per-class penalty of
Fig 6, (1/10) sum_i exp(lam_i) ||W[:, i]||_2, or with Fig 5's penalty of one decay per weight,
sum_j exp(lam_j) w_j^2. Trained one at a time, 10,240 such models take hours; here a chunk of S
models is one array. The weights of a chunk are kept as one (784, S*10) matrix, so that every
step the outputs of all S models on the shared minibatch are one matmul X (N, 784) @ (784, S*10)
and the weight gradients another, X^T (N, 784)^T @ (N, S*10). The gradient is written out by hand
and Adam (optim.adam_in_place) updates the chunk in place: with autograd the temporaries of a step
cost more than the two matmuls. The tests check the result against Algorithm 1 of
hypernet.algorithms (autograd and optim.adam), model by model.
"""
import numpy as np

from .. import layout, optim
from ..models import nll_of_mse

PENALTIES = ("per_class", "per_weight")


def to_columns(W, n_in=784, n_out=10):
    """Flat weights (S, D) in the layout of hypernet/layout.py -> (weights (n_in, S*n_out), biases
    (S*n_out,)): column s*n_out + k holds the weights into output k of model s."""
    S, (layer,) = len(W), layout.layers((n_in, n_out))
    M = layout.weights(W, layer).transpose(1, 0, 2).reshape(n_in, S * n_out)
    return np.ascontiguousarray(M), layout.biases(W, layer).reshape(S * n_out).copy()


def from_columns(M, b, n_out=10):
    """Inverse of to_columns: -> flat weights (S, D)."""
    n_in, S = M.shape[0], M.shape[1] // n_out
    (layer,), W = layout.layers((n_in, n_out)), np.empty((S, layout.size((n_in, n_out))), M.dtype)
    layout.weights(W, layer)[...] = M.reshape(n_in, S, n_out).transpose(1, 0, 2)
    layout.biases(W, layer)[...] = b.reshape(S, n_out)
    return W


def train_linear(lams, W0, batch, iters, lr, *, penalty="per_class", noise_sd=0.1, dtype=np.float64):
    """Adam on S linear models 784 -> 10 at once under the Gaussian NLL with sd noise_sd (sd
    sqrt(1/2) gives the gradient of plain MSE), each with its own hyperparameters lams[s]:
    penalty="per_class": lams (S, 10), penalty (1/10) sum_k exp(lam_k) ||M[:, k]||_2 (Fig 6);
    penalty="per_weight": lams (S, 7850) in the flat layout of W0, penalty sum_j exp(lam_j) w_j^2
    over weights and biases (Fig 5).
    W0 (S, 7850) initial flat weights; batch(step) -> (X (N, 784), T (N, 10)), one minibatch
    shared by all S models at each step. Returns the trained flat weights (S, 7850), float64."""
    if penalty not in PENALTIES:
        raise ValueError(f"penalty must be one of {PENALTIES}, got {penalty!r}")
    S, K = len(lams), 10
    M, b = (a.astype(dtype) for a in to_columns(np.asarray(W0, float), n_out=K))
    if penalty == "per_class":
        decay = (np.exp(lams) / K).reshape(S * K).astype(dtype)
    else:  # d/dw of exp(lam) w^2 is 2 exp(lam) w, for the weights and the biases alike
        decay_M, decay_b = (2 * np.exp(a).astype(dtype) for a in to_columns(np.asarray(lams, float), n_out=K))
    adam = optim.adam(lr)
    gM, pen, state_M, state_b = np.empty_like(M), np.empty_like(M), adam.init(M), adam.init(b)
    scratch_b = np.empty_like(b)
    for step in range(iters):
        X, T = batch(step)
        X, N = X.astype(dtype), len(X)
        # d/dP of 1/(2 sd^2) mean over the N*K outputs of (P - T)^2 is (P - T) / (sd^2 N K).
        R = np.dot(X, M)
        R += b
        R.reshape(N, S, K)[...] -= T.astype(dtype)[:, None, :]
        R *= 1 / (noise_sd ** 2 * N * K)
        # Every operation writes into a preallocated array (out=): allocating arrays of the chunk's
        # size every step costs as much as the matmuls. (NumPy releases the GIL in all of them.)
        np.dot(X.T, R, out=gM)
        gb = R.sum(0)
        if penalty == "per_class":
            # d/dM[:, k] of (1/K) exp(lam_k) ||M[:, k]||_2 is (1/K) exp(lam_k) M[:, k] / ||M[:, k]||.
            np.multiply(M, decay / np.sqrt(np.einsum("ij,ij->j", M, M)), out=pen)
        else:
            np.multiply(M, decay_M, out=pen)
            gb += decay_b * b
        gM += pen
        state_M = optim.adam_in_place(M, gM, state_M, lr, scratch=pen)  # (pen is free again: scratch)
        state_b = optim.adam_in_place(b, gb, state_b, lr, scratch=scratch_b)
    return from_columns(M.astype(float), b.astype(float), n_out=K)


def train_per_class(lams, W0, batch, iters, lr, noise_sd=0.1, dtype=np.float64):
    """train_linear with Fig 6's per-class penalty: lams (S, 10)."""
    return train_linear(lams, W0, batch, iters, lr, penalty="per_class", noise_sd=noise_sd, dtype=dtype)


def valid_losses(W, X, T, noise_sd=0.1, chunk=256, dtype=np.float64):
    """Gaussian NLL (models.nll_of_mse) of S linear models W (S, D) on all of (X, T), in chunks of
    `chunk` models: (S,) float64."""
    K = T.shape[1]
    X, out = X.astype(dtype, copy=False), []
    for i in range(0, len(W), chunk):
        M, b = (a.astype(dtype) for a in to_columns(W[i:i + chunk], X.shape[1], K))
        P = (np.dot(X, M) + b).reshape(len(X), -1, K) - T.astype(dtype)[:, None, :]
        mse = np.einsum("nsk,nsk->s", P, P, dtype=np.float64) / (len(X) * K)
        out.append(nll_of_mse(mse, noise_sd))
    return np.concatenate(out)
