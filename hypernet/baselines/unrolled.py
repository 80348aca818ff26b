"""Reverse-mode hypergradients through an unrolled training run (Maclaurin et al. 2015;
Franceschi et al. 2017's reverse-HG), the baseline of Figure 5, top.

One hyper-iteration: train the elementary weights for T steps of SGD with momentum
(hypernet.optim.sgd_momentum) from a fixed initialisation W0 on a fixed sequence of training
minibatches, with the hyperparameters lam in the training loss; evaluate the validation loss of the final weights W_T; differentiate it with respect
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

from ..algorithms import State
from ..checks import (Watch, batch_at, check_batch, check_count, check_problem, check_steps, checked_losses, count_up,
                     lam_vector, start_array)
from ..optim import check_optimizer


class UnrolledResult(NamedTuple):
    lam: np.ndarray           # (H,) hyperparameters after the last outer step
    W: np.ndarray             # (D,) final inner weights of the last hyper-iteration
    valid_losses: np.ndarray  # per hyper-iteration: validation loss of that iteration's W_T
    seconds: float


def train_unrolled(problem, *, W0, lam, train_batch, T, opt):
    """W_T after T steps of the inner optimiser `opt` (e.g. optim.sgd_momentum(lr, momentum):
    v = m v - lr g; w = w + v) from W0 (D,) on train_batch(0), ..., train_batch(T - 1) with
    hyperparameters lam (H,). Purely functional (no in-place updates), so autograd can
    differentiate W_T with respect to lam."""
    loss = lambda W, batch: np.sum(checked_losses(problem.train_loss, "train_loss", 1, W, lam[None, :], batch))  # noqa: E731
    train_grad = grad(loss)
    W = W0[None, :]
    state = opt.init(W)
    for t in range(T):
        step, state = opt.update(train_grad(W, train_batch(t)), state)
        W = W - step
    return W[0]


def hypergradient(problem, *, W0, train_batch, valid_data, T, opt):
    """f(lam) -> (L_Valid(W_T(lam)), dL_Valid/dlam (H,), W_T): the exact gradient of the validation
    loss on the fixed batch valid_data = (X, T) after T unrolled steps of `opt`, by one forward run
    and one reverse pass through it."""
    valid_data = check_batch(valid_data, "valid_data", sizes=problem.layer_sizes)

    def valid_loss(W):
        return checked_losses(problem.valid_loss, "valid_loss", 1, W[None, :], valid_data)[0]
    valid_grad = grad(valid_loss)
    # The same T minibatches every time: drawn once, and the tape then holds references to them
    # rather than T fresh copies.
    batches = [batch_at(train_batch, t, "train_batch", sizes=problem.layer_sizes) for t in range(T)]

    def f(lam):
        vjp, W_T = make_vjp(lambda l: train_unrolled(problem, W0=W0, lam=l, train_batch=batches.__getitem__, T=T,
                                                     opt=opt))(lam)
        return valid_loss(W_T), vjp(valid_grad(W_T)), W_T
    return f


def hypertrain_unrolled(problem, *, W0, lam_hat, train_batch, valid_data, T, opt, opt_lam, iters=None, callback=None):
    """Gradient-based hyperparameter optimisation by unrolling: `iters` outer steps of opt_lam on
    lam_hat, each with the hypergradient of `hypergradient` (T inner steps of `opt` from W0 on the
    same T training batches every time; the fixed validation batch valid_data). The paper gives no
    settings of this baseline, so both optimisers are required (Figure 5: optim.sgd_momentum inside,
    optim.adam outside). callback(step, State("unrolled", valid_loss, lam, W)) may record
    progress; returning True stops."""
    check_problem(problem)
    lam = lam_vector(lam_hat, problem)
    W0 = start_array(W0, "W0", (problem.n_weights,))
    check_optimizer(opt=opt, opt_lam=opt_lam)
    check_count(T=T)
    check_steps(iters, callback)
    t0 = time.perf_counter()
    f = hypergradient(problem, W0=W0, train_batch=train_batch, valid_data=valid_data, T=T, opt=opt)
    state, losses, W = opt_lam.init(lam), [], W0
    watch = Watch("Unrolled reverse-mode", "the initial weights W0 and lam_hat")
    for step in count_up(iters):
        loss, g, W = f(lam)
        watch(step, loss, g, what="the validation loss")
        delta, state = opt_lam.update(g, state)
        lam = lam - delta
        losses.append(loss)
        if callback and callback(step, State("unrolled", valid_loss=loss, lam=lam, W=W)):
            break
    return UnrolledResult(lam, W, np.array(losses), time.perf_counter() - t0)


def peak_memory(problem, *, W0, lam, train_batch, valid_data, T, opt):
    """Peak bytes allocated during one hypergradient with T unrolled steps (peak_bytes)."""
    f = hypergradient(problem, W0=W0, train_batch=train_batch, valid_data=valid_data, T=T, opt=opt)
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
