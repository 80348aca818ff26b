"""Hypergradients by the implicit function theorem (IFT) with a Neumann-series inverse Hessian
(Lorraine, Vicol & Duvenaud, AISTATS 2020, "Optimizing Millions of Hyperparameters by Implicit
Differentiation"), and an exact conjugate-gradient variant, on the Problem contract.

Where the training loss is stationary, grad_w L_T(w*(lam), lam) = 0, the IFT gives the best-response
Jacobian dw*/dlam = -[d2L_T/dw dw]^-1 d2L_T/dw dlam, and so, with v = dL_V/dw (D,),
    dL_V/dlam = dL_V/dlam|direct - v^T [d2L_T/dw dw]^-1 d2L_T/dw dlam,
computed right to left: p = [d2L_T/dw dw]^-1 v by Hessian-vector products (never the Hessian), then
    dL_V/dlam = dL_V/dlam|direct - p^T d2L_T/dw dlam     (one reverse pass in lam).
Two ways to p:
    "neumann": p = alpha sum_{j=0}^{terms} (I - alpha d2L_T/dw dw)^j v: `terms` Hessian-vector
               products, terms + 1 summands, scaled by alpha (Algorithm 3 of the 2020 paper, as
               its authors' code computes it). It tends to the inverse as terms grows when the Hessian
               is positive definite and 0 < alpha < 2 / its largest eigenvalue; terms=0 is p =
               alpha v, the "identity inverse" (one step of unrolled differentiation).
    "cg":      conjugate gradient on (d2L_T/dw dw) p = v, exact in D steps for a positive definite
               Hessian.

hypertrain_ift is the paper's Algorithm 1: training continues from the previous weights for N
steps of the inner optimiser, then one hypergradient at the current weights, one step on lam.
Unlike Lorraine & Duvenaud (2018) there is no hypernetwork: the best response is modelled only
locally, by its IFT derivative at the current weights, which stand in for w*(lam) (so the
hypergradient is as good as training is converged).

Memory: the inner steps are not on autograd's tape, and a hypergradient holds the tape of one
gradient evaluation on one training batch plus a few (D,) vectors: O(D) for a fixed batch,
independent of N and of the number of Neumann terms (the unrolled baseline's grows as T x D).
"""
import time
from typing import NamedTuple

import autograd.numpy as np
from autograd import grad, make_vjp, value_and_grad

from ..algorithms import PAPER_ADAM, State
from ..checks import (Watch, batch_at, check_batch, check_choice, check_count, check_positive, check_problem,
                      check_steps, checked_losses, count_up, lam_vector, start_array)
from ..optim import check_optimizer

SOLVERS = ("neumann", "cg")


class IFTGradient(NamedTuple):
    valid_loss: float  # L_V(W) on the validation batch
    grad: np.ndarray   # (H,) the hypergradient dL_V/dlam
    p: np.ndarray      # (D,) the approximate inverse-Hessian-vector product [d2L_T/dw dw]^-1 dL_V/dw


class IFTResult(NamedTuple):
    lam: np.ndarray           # (H,) hyperparameters after the last outer step
    W: np.ndarray             # (D,) inner weights after the last outer step
    valid_losses: np.ndarray  # per outer step, on that step's validation batch
    seconds: float


def _losses(problem):
    """L_T(W (D,), lam (H,), batch) and L_V(W (D,), batch) as scalars (np.sum of the single value:
    the gradient of [0] goes through np.add.at, which is slow)."""
    def train(W, lam, batch):
        return np.sum(checked_losses(problem.train_loss, "train_loss", 1, W[None, :], lam[None, :], batch))

    def valid(W, batch):
        return np.sum(checked_losses(problem.valid_loss, "valid_loss", 1, W[None, :], batch))
    return train, valid


def _check_solver(terms, alpha, solver, cg_iters, cg_tol):
    """terms and alpha are the Neumann series', cg_iters the conjugate gradient's: each solver refuses the
    other's (it would ignore them). Returns (alpha, cg_tol)."""
    check_choice(SOLVERS, solver=solver)
    if solver == "neumann":
        if terms is None or alpha is None:
            raise ValueError("solver='neumann' needs terms and alpha (the series' length and step, e.g. terms=20, "
                             "alpha=0.1), or use solver='cg'")
        if cg_iters is not None:
            raise ValueError("cg_iters applies to solver='cg' only; leave it out with solver='neumann'")
        check_count(terms=terms, allow_zero=True)
        alpha = check_positive(alpha=alpha)
    else:
        if terms is not None or alpha is not None:
            raise ValueError("terms and alpha are the Neumann series' (solver='neumann'); leave them out with "
                             "solver='cg'")
        if cg_iters is not None:
            check_count(cg_iters=cg_iters)
    return alpha, check_positive(cg_tol=cg_tol)


def ift_hypergradient(problem, *, W, lam, train_data, valid_data, terms=None, alpha=None, solver="neumann",
                      cg_iters=None, cg_tol=1e-10):
    """The IFT hypergradient at weights W (D,) and hyperparameters lam (H,): the Hessian and the mixed
    term on the fixed batch train_data = (X, T), v = dL_V/dw on valid_data = (X, T). solver
    "neumann": p = alpha sum_{j=0}^{terms} (I - alpha d2L_T/dw dw)^j v (`terms` Hessian-vector
    products; terms=0: p = alpha v; it tends to the inverse only for 0 < alpha < 2 / the Hessian's
    largest eigenvalue, and a larger alpha gives a wrong hypergradient without any error); "cg":
    conjugate gradient for at most cg_iters (default D) steps, until ||residual|| <= cg_tol ||v||
    (leave out terms and alpha). Returns IFTGradient."""
    check_problem(problem)
    lam = lam_vector(lam, problem, "lam")
    W = start_array(W, "W", (problem.n_weights,))
    alpha, cg_tol = _check_solver(terms, alpha, solver, cg_iters, cg_tol)
    train_data = check_batch(train_data, "train_data", sizes=problem.layer_sizes)
    valid_data = check_batch(valid_data, "valid_data", sizes=problem.layer_sizes)
    return _hypergradient(*_losses(problem), W, lam, train_data, valid_data, terms=terms, alpha=alpha, solver=solver,
                          cg_iters=cg_iters or problem.n_weights, cg_tol=cg_tol)


def _hypergradient(train, valid, W, lam, train_data, valid_data, *, terms, alpha, solver, cg_iters, cg_tol):
    valid_loss, v = value_and_grad(valid)(W, valid_data)              # v = dL_V/dw
    train_grad = grad(train)                                          # grad_w L_T(w, lam)
    # One tape of grad_w L_T at W, run backwards for each Hessian-vector product: the Hessian is
    # symmetric, so the vector-Jacobian product of the gradient is H u.
    hvp, _ = make_vjp(lambda W: train_grad(W, lam, train_data))(W)
    p = _neumann(hvp, v, terms, alpha) if solver == "neumann" else _cg(hvp, v, cg_iters, cg_tol)
    direct = np.zeros_like(lam)  # dL_V/dlam|direct: valid_loss takes no lam in this contract
    mixed = grad(lambda l: np.dot(train_grad(W, l, train_data), p))(lam)  # p^T d2L_T/dw dlam
    return IFTGradient(valid_loss, direct - mixed, p)


def _neumann(hvp, v, terms, alpha):
    """alpha sum_{j=0}^{terms} (I - alpha H)^j v."""
    term = p = v
    for _ in range(terms):
        term = term - alpha * hvp(term)  # (I - alpha H)^j v from (I - alpha H)^(j-1) v
        p = p + term
    return alpha * p


def _cg(hvp, v, iters, tol):
    """Conjugate gradient from p = 0 on H p = v. Stops early at ||r|| <= tol ||v||, or where the
    curvature along the search direction is not positive (H is not positive definite there, e.g.
    weights far from a minimum): the iterate so far is returned, as truncated Newton methods do."""
    p, r = np.zeros_like(v), v
    d, rr, stop = r, np.dot(r, r), (tol * np.linalg.norm(v)) ** 2
    for _ in range(iters):
        if rr <= stop:
            break
        Hd = hvp(d)
        curvature = np.dot(d, Hd)
        if not curvature > 0:
            break
        step = rr / curvature
        p, r = p + step * d, r - step * Hd    # p += a d; r -= a H d, a = r'r / d'Hd
        rr, rr_old = np.dot(r, r), rr
        d = r + (rr / rr_old) * d             # d = r + (r'r / r_old'r_old) d
    return p


def hypertrain_ift(problem, *, W0, lam_hat, train_batch, valid_batch, inner_steps, opt, terms=None, alpha=None,
                   solver="neumann", cg_iters=None, cg_tol=1e-10, opt_lam=PAPER_ADAM, iters=None, callback=None):
    """Gradient-based hyperparameter optimisation by the IFT (Algorithm 1 of Lorraine, Vicol &
    Duvenaud, 2020; not this package's Algorithm 1, cross-validation). Each outer step:
    `inner_steps` steps (that paper's N) of the inner optimiser `opt` on the weights, which
    continue from the previous outer step with opt's state kept, on train_batch(k) for a running
    count k; then the IFT hypergradient (ift_hypergradient's solver, terms, alpha) at the current
    weights on the next training batch and on valid_batch(step); then one step of opt_lam on lam.
    The paper gives no settings of the inner optimiser, so opt is required (e.g.
    optim.sgd_momentum(lr, 0.9), as Figure 5's unrolled baseline). callback(step, State("ift",
    valid_loss=..., lam=..., W=...)) may record progress; returning True stops; iters=None runs
    until it does. Neumann's alpha must be below 2 / the training Hessian's largest eigenvalue (see
    ift_hypergradient). Returns IFTResult(lam (H,), W (D,), valid_losses per outer step, seconds)."""
    check_problem(problem)
    lam = lam_vector(lam_hat, problem)
    W = start_array(W0, "W0", (problem.n_weights,))
    check_count(inner_steps=inner_steps)
    alpha, cg_tol = _check_solver(terms, alpha, solver, cg_iters, cg_tol)
    check_optimizer(opt=opt, opt_lam=opt_lam)
    check_steps(iters, callback)
    t0 = time.perf_counter()
    train, valid = _losses(problem)
    train_step = value_and_grad(train)  # plain gradients: the inner steps leave no tape behind
    state, lam_state, losses, k = opt.init(W), opt_lam.init(lam), [], 0
    watch = Watch("IFT hyper-training", "the initial weights W0 and lam_hat")
    sizes = problem.layer_sizes
    for step in count_up(iters):
        for _ in range(inner_steps):
            loss, g = train_step(W, lam, batch_at(train_batch, k, "train_batch", sizes=sizes))  # x ~ Training data
            watch(step, loss, g)
            delta, state = opt.update(g, state)
            W = W - delta                                         # w -= alpha dL_T/dw
            k += 1
        x = batch_at(train_batch, k, "train_batch", sizes=sizes)
        x_valid = batch_at(valid_batch, step, "valid_batch", sizes=sizes)  # x' ~ Validation data
        k += 1
        res = _hypergradient(train, valid, W, lam, x, x_valid, terms=terms, alpha=alpha, solver=solver,
                             cg_iters=cg_iters or problem.n_weights, cg_tol=cg_tol)
        watch(step, res.valid_loss, res.grad, what="the validation loss")
        delta, lam_state = opt_lam.update(res.grad, lam_state)
        lam = lam - delta                                         # lam -= beta hypergradient(L_V, L_T, lam, w)
        losses.append(res.valid_loss)
        if callback and callback(step, State("ift", valid_loss=res.valid_loss, lam=lam, W=W)):
            break
    return IFTResult(lam, W, np.array(losses), time.perf_counter() - t0)
