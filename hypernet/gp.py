"""Fig 6's Gaussian-process baseline and the (lam, validation loss) tuples it is fit on; the same
trainer runs the black-box trials of the appendix comparison (experiments/fig7_hpo.py).

The tuples come from linear models 784 -> 10 (with biases) trained with the per-class penalty of
Fig 6, (1/10) sum_i exp(lam_i) ||W[:, i]||_2, under the Gaussian NLL of hypernet.models (or, for
fig7_hpo, with Fig 5's penalty of one decay per weight, sum_j exp(lam_j) w_j^2). Trained
one at a time, 10,240 such models take hours; here a chunk of S models is one array. The weights
of a chunk are kept as one (784, S*10) matrix, so that every step the outputs of all S models on
the shared minibatch are one matmul X (N, 784) @ (784, S*10) and the weight gradients another,
X^T (N, 784)^T @ (N, S*10). The gradient is written out by hand and Adam updates the chunk in
place: with autograd the temporaries of a step cost more than the two matmuls. The tests check
the result against Algorithm 1 of hypernet.algorithms (autograd and optim.adam_update), model by
model.
"""
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel
from threadpoolctl import threadpool_limits

from .checks import check_seed


# ---- many linear models with one decay per class, trained at once -------------------------
def to_columns(W, n_in=784, n_out=10):
    """Flat weights (S, D) in the layout of hypernet.models -> (weights (n_in, S*n_out), biases (S*n_out,)):
    column s*n_out + k holds the weights into output k of model s."""
    S = len(W)
    M = W[:, :n_in * n_out].reshape(S, n_in, n_out).transpose(1, 0, 2).reshape(n_in, S * n_out)
    return np.ascontiguousarray(M), W[:, n_in * n_out:].reshape(S * n_out).copy()


def from_columns(M, b, n_out=10):
    """Inverse of to_columns: -> flat weights (S, D)."""
    n_in, S = M.shape[0], M.shape[1] // n_out
    return np.concatenate([M.reshape(n_in, S, n_out).transpose(1, 0, 2).reshape(S, n_in * n_out),
                           b.reshape(S, n_out)], axis=1)


def adam_sums(x, g, m, v, t, lr, b1=0.9, b2=0.999, eps=1e-8):
    """One Adam step, the update of optim.adam_update, in place on x, m, v; g is used as scratch.
    m and v are kept as plain decayed sums, m = b1 m + g and v = b2 v + g^2, without the factors
    (1 - b1) and (1 - b2): those move into two scalars, which saves three passes over the chunk.
    t counts from 1."""
    m *= b1
    m += g
    np.square(g, out=g)
    v *= b2
    v += g
    # lr mhat / (sqrt(vhat) + eps) with mhat = (1-b1) m / (1-b1^t), vhat = (1-b2) v / (1-b2^t).
    k = np.sqrt((1 - b2) / (1 - b2 ** t))
    np.sqrt(v, out=g)
    g += eps / k
    np.divide(m, g, out=g)
    g *= lr * (1 - b1) / ((1 - b1 ** t) * k)
    x -= g


PENALTIES = ("per_class", "per_weight")


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
    gM, pen, mM, vM = np.empty_like(M), np.empty_like(M), np.zeros_like(M), np.zeros_like(M)
    mb, vb = np.zeros_like(b), np.zeros_like(b)
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
        adam_sums(M, gM, mM, vM, step + 1, lr)
        adam_sums(b, gb, mb, vb, step + 1, lr)
    return from_columns(M.astype(float), b.astype(float), n_out=K)


def train_per_class(lams, W0, batch, iters, lr, noise_sd=0.1, dtype=np.float64):
    """train_linear with Fig 6's per-class penalty: lams (S, 10)."""
    return train_linear(lams, W0, batch, iters, lr, penalty="per_class", noise_sd=noise_sd, dtype=dtype)


def valid_losses(W, X, T, noise_sd=0.1, chunk=256, dtype=np.float64):
    """Gaussian NLL (as models.gaussian_nll) of S linear models W (S, D) on all of (X, T), in chunks
    of `chunk` models: (S,) float64."""
    K = T.shape[1]
    X, out = X.astype(dtype, copy=False), []
    for i in range(0, len(W), chunk):
        M, b = (a.astype(dtype) for a in to_columns(W[i:i + chunk], X.shape[1], K))
        P = (np.dot(X, M) + b).reshape(len(X), -1, K) - T.astype(dtype)[:, None, :]
        mse = np.einsum("nsk,nsk->s", P, P, dtype=np.float64) / (len(X) * K)
        out.append(0.5 * mse / noise_sd ** 2 + np.log(noise_sd) + 0.5 * np.log(2 * np.pi))
    return np.concatenate(out)


def map_chunks(fn, n, chunk, workers):
    """[fn(slice) for slices of range(n) of size `chunk`], run on `workers` threads with one BLAS
    thread each (NumPy releases the GIL in its array operations, so threads share the cores).
    For work inside one job, not for independent jobs (those go to hypernet/runner.py, as the
    models of Fig 6's evaluation set do): Fig 6 evaluates a fitted surrogate's weights for 10,215
    lam with it, slices of milliseconds that read arrays already in this process (the weights a
    hypernetwork outputs, the validation set); sent to other processes they would cost more to
    move than to compute."""
    slices = [slice(i, min(i + chunk, n)) for i in range(0, n, chunk)]
    with threadpool_limits(1), ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, slices))


# ---- the Gaussian-process surrogate ---------------------------------------------------------
GP_KINDS = ("paper", "tuned", "ard")


def fit_gp(lams, losses, seed, kind="paper", restarts=10):
    """GP regression of validation loss on lam, its hyperparameters maximising the log marginal
    likelihood. kind="paper": the original code's GaussianProcessRegressor(RBF(),
    n_restarts_optimizer=1) with scikit-learn's defaults otherwise (prior mean 0, no normalisation
    of the losses, alpha 1e-10). kind="tuned": C * RBF with one shared length scale,
    normalize_y=True and `restarts` restarts (the prior mean is the losses' mean, so far from the
    data the GP falls back to it instead of to 0). kind="ard": as tuned with one length scale per
    dimension. Restarts are drawn with random_state=seed. Returns the fitted regressor."""
    check_seed(seed=seed)  # before the fit, not in scikit-learn after it
    H = np.shape(lams)[1]
    if kind == "paper":
        gp = GaussianProcessRegressor(RBF(), n_restarts_optimizer=1, random_state=seed)
    elif kind in ("tuned", "ard"):
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.ones(H) if kind == "ard" else 1.0, (1e-2, 1e3))
        gp = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=restarts, random_state=seed)
    else:
        raise ValueError(f"kind must be one of {GP_KINDS}, got {kind!r}")
    with warnings.catch_warnings():
        # A length scale at its bound says the loss does not depend on that lam: a finding, not a failure.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return gp.fit(np.asarray(lams, float), np.asarray(losses, float))
