"""Reverse-mode hypergradients through an unrolled training run (Maclaurin et al. 2015;
Franceschi et al. 2017's reverse-HG), the baseline of Figure 5, top.

One hyper-iteration: train the elementary weights for T steps of SGD with momentum from a fixed
initialisation W0 on a fixed sequence of training minibatches, with the hyperparameters lam in the
training loss; evaluate the validation loss of the final weights W_T; differentiate it with respect
to every hyperparameter by running autograd backwards through all T steps. An outer Adam then
updates lam, and the next hyper-iteration trains again from W0 (as Maclaurin and Franceschi do).

Why SGD with momentum for the inner optimiser: it is Maclaurin et al.'s choice, and its update
is linear in the gradient, so the reverse pass only needs Hessian-vector products and is as well
conditioned as the forward run. Adam's step m / (sqrt(v) + eps) is nearly blind to the scale of
the gradient, which is how a decay acts on a weight, and its derivative grows without bound as v
shrinks: MNIST has pixels that are blank in every image, whose weights see only the tiny penalty
gradient.

Memory: autograd keeps every intermediate of the T steps (weights, velocities, activations of each
minibatch and of the inner gradient) until the backward pass, so memory grows as T x D.
`peak_memory` measures it.
"""
import time
import tracemalloc
from typing import NamedTuple

import autograd.numpy as np
from autograd import grad, make_vjp

from .checks import Watch, batch_at, check_batch, check_count, check_positive, check_steps, count_up, start_array
from .optim import adam_init, adam_update


class UnrolledResult(NamedTuple):
    lam: np.ndarray           # (H,) hyperparameters after the last outer step
    W: np.ndarray             # (D,) final inner weights of the last hyper-iteration
    valid_losses: np.ndarray  # per hyper-iteration: validation loss of that iteration's W_T
    seconds: float


def sgd_momentum(problem, *, W0, lam, train_batch, T, lr, momentum):
    """W_T after T steps of SGD with momentum (v = m v - lr g; w = w + v) from W0 (D,) on
    train_batch(0), ..., train_batch(T - 1) with hyperparameters lam (H,). Purely functional
    (no in-place updates), so autograd can differentiate W_T with respect to lam."""
    train_grad = grad(lambda W, batch: np.sum(problem.train_loss(W, lam[None, :], batch)))
    W, V = W0[None, :], np.zeros((1, len(W0)))
    for t in range(T):
        V = momentum * V - lr * train_grad(W, train_batch(t))
        W = W + V
    return W[0]


def hypergradient(problem, *, W0, train_batch, valid_batch, T, lr, momentum):
    """f(lam) -> (L_Valid(W_T(lam)), dL_Valid/dlam (H,), W_T): the exact gradient of the validation
    loss after T unrolled steps, by one forward run and one reverse pass through it."""
    valid_batch = check_batch(valid_batch, "valid_batch", sizes=problem.layer_sizes)
    valid_grad = grad(lambda W: problem.valid_loss(W[None, :], valid_batch)[0])
    # The same T minibatches every time: drawn once, and the tape then holds references to them
    # rather than T fresh copies.
    batches = [batch_at(train_batch, t, "train_batch", sizes=problem.layer_sizes) for t in range(T)]

    def f(lam):
        vjp, W_T = make_vjp(lambda l: sgd_momentum(problem, W0=W0, lam=l, train_batch=batches.__getitem__, T=T, lr=lr,
                                                      momentum=momentum))(lam)
        loss = problem.valid_loss(W_T[None, :], valid_batch)[0]
        return loss, vjp(valid_grad(W_T)), W_T
    return f


def hypertrain_unrolled(problem, *, W0, lam0, train_batch, valid_batch, T, lr, momentum, lr_lam,
                        iters=None, callback=None):
    """Gradient-based hyperparameter optimisation by unrolling: `iters` outer Adam steps on lam,
    each with the hypergradient of `hypergradient` (T inner SGD-with-momentum steps from W0 on
    the same T training batches every time; the full validation batch `valid_batch`).
    callback(step, {"lam", "W", "valid_loss"}) may record progress; returning True stops."""
    lam = start_array(lam0, "lam0", (problem.n_hyper,))
    W0 = start_array(W0, "W0", (problem.n_weights,))
    check_positive(lr=lr, lr_lam=lr_lam)
    check_count(T=T)
    check_steps(iters, callback)
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    t0 = time.perf_counter()
    f = hypergradient(problem, W0=W0, train_batch=train_batch, valid_batch=valid_batch, T=T, lr=lr,
                      momentum=momentum)
    state, losses, W = adam_init(lam), [], W0
    watch = Watch("Unrolled reverse-mode", "the initial weights W0 and lam0")
    for step in count_up(iters):
        loss, g, W = f(lam)
        watch(step, loss, g, what="the validation loss")
        delta, state = adam_update(g, state, lr_lam)
        lam = lam - delta
        losses.append(loss)
        if callback and callback(step, {"lam": lam, "W": W, "valid_loss": loss}):
            break
    return UnrolledResult(lam, W, np.array(losses), time.perf_counter() - t0)


def peak_memory(problem, *, W0, lam, train_batch, valid_batch, T, lr, momentum):
    """Peak bytes allocated during one hypergradient with T unrolled steps (peak_bytes)."""
    f = hypergradient(problem, W0=W0, train_batch=train_batch, valid_batch=valid_batch, T=T, lr=lr,
                      momentum=momentum)
    return peak_bytes(f, lam)


def peak_bytes(fn, *args):
    """Peak bytes allocated (tracemalloc, which sees NumPy's buffers) while fn(*args) runs, above
    what was allocated before it."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn(*args)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
