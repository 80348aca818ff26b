"""The IFT hypergradient (hypernet/beyond/ift.py) against the closed form of ridge regression and
against finite differences through re-trained weights of a small MLP; the identity approximation
(terms=0); its refusals; memory that does not grow with the inner steps; hyper-training."""
import re
import tracemalloc

import autograd.numpy as anp
import numpy as np
import pytest
import scipy.optimize
from autograd import grad, hessian, jacobian
from threadpoolctl import threadpool_limits

from hypernet import models, optim
from hypernet.beyond import ift
from hypernet.models import Problem


# ---- ridge regression, whose hypergradient has a closed form -----------------------------------
def _ridge(D, per_weight):
    """L_V = mean (X w - t)^2, L_T = L_V + sum_j exp(lam_j) w_j^2 with H = D (per_weight) or one
    shared lam, H = 1."""
    def valid_loss(W, batch):
        X, t = batch
        return anp.mean((anp.dot(W, X.T) - t) ** 2, axis=1)

    def train_loss(W, lams, batch):
        return valid_loss(W, batch) + anp.sum(anp.exp(lams) * W ** 2, axis=1)
    return Problem(train_loss, valid_loss, D, D if per_weight else 1)


def _ridge_data(rng, n, D, noise=0.5):
    X = rng.standard_normal((n, D))
    return X, X @ np.linspace(-1, 1, D) + noise * rng.standard_normal(n)


def _ridge_closed_form(train, valid, lam, D):
    """w*(lam) from (X'X/N + diag(e)) w = X't/N, e = exp(lam), and by the IFT
    dL_V/dlam_j = -e_j w*_j [A^-1 grad L_V(w*)]_j with A = X'X/N + diag(e) (half the Hessian)."""
    (X, t), (Xv, tv) = train, valid
    e = np.broadcast_to(np.exp(lam), (D,))
    A = X.T @ X / len(X) + np.diag(e)
    w = np.linalg.solve(A, X.T @ t / len(X))
    v = 2 * Xv.T @ (Xv @ w - tv) / len(Xv)
    per_weight = -e * w * np.linalg.solve(A, v)
    return w, (per_weight if len(lam) == D else np.array([per_weight.sum()])), 2 * A


def _valid_at(train, valid, lam, D):
    (Xv, tv), w = valid, _ridge_closed_form(train, valid, lam, D)[0]
    return np.mean((Xv @ w - tv) ** 2)


def _ridge_case(seed, per_weight, D=6):
    """(D, problem, train, valid, lam): a ridge problem, its data and a lam in [-2, 0]."""
    rng = np.random.default_rng(seed)
    problem, train, valid = _ridge(D, per_weight), _ridge_data(rng, 40, D), _ridge_data(rng, 25, D)
    return D, problem, train, valid, rng.uniform(-2, 0, problem.n_hyper)


@pytest.mark.parametrize("per_weight", [False, True])
def test_cg_at_the_optimum_matches_the_closed_form(per_weight):
    D, problem, train, valid, lam = _ridge_case(0, per_weight)
    w, exact, _ = _ridge_closed_form(train, valid, lam, D)
    res = ift.ift_hypergradient(problem, W=w, lam=lam, train_data=train, valid_data=valid, solver="cg")
    assert np.linalg.norm(res.grad - exact) <= 1e-8 * np.linalg.norm(exact)
    assert res.valid_loss == pytest.approx(_valid_at(train, valid, lam, D), rel=1e-12)


@pytest.mark.parametrize("per_weight", [False, True])
def test_neumann_converges_to_the_closed_form_as_terms_grow(per_weight):
    D, problem, train, valid, lam = _ridge_case(1, per_weight)
    w, exact, hess = _ridge_closed_form(train, valid, lam, D)
    alpha = 1 / np.linalg.eigvalsh(hess).max()  # 0 < alpha < 2 / lambda_max: the series converges
    errors = [np.linalg.norm(ift.ift_hypergradient(problem, W=w, lam=lam, train_data=train, valid_data=valid,
                                                   terms=terms, alpha=alpha).grad - exact) / np.linalg.norm(exact)
              for terms in (0, 1, 2, 4, 8, 16, 200)]
    assert all(a > b for a, b in zip(errors[:-1], errors[1:-1])), errors  # (200 terms: to rounding)
    assert errors[0] > 0.05 and errors[-1] < 1e-12, errors


def test_zero_terms_is_the_identity_approximation():
    D, rng = 5, np.random.default_rng(2)
    problem, train, valid = _ridge(D, True), _ridge_data(rng, 30, D), _ridge_data(rng, 20, D)
    lam, W, alpha = rng.uniform(-2, 0, D), rng.standard_normal(D), 0.3  # W anywhere: no optimum needed
    res = ift.ift_hypergradient(problem, W=W, lam=lam, train_data=train, valid_data=valid, terms=0, alpha=alpha)
    v = grad(lambda W: anp.sum(problem.valid_loss(W[None, :], valid)))(W)
    np.testing.assert_array_equal(res.p, alpha * v)  # p = alpha v exactly: no Hessian-vector product
    Xv, tv = valid
    np.testing.assert_allclose(v, 2 * Xv.T @ (Xv @ W - tv) / len(Xv), rtol=1e-12)
    # -p^T d2L_T/dw dlam, with d2L_T/dw_j dlam_j = 2 exp(lam_j) w_j the only non-zero entries
    np.testing.assert_allclose(res.grad, -alpha * v * 2 * np.exp(lam) * W, rtol=1e-12)


# ---- small MLPs: finite differences through re-training, dense linear algebra -----------------
def _tanh_mlp(sizes):
    """An MLP with tanh hidden units, mse + exp(lam) ||w||^2: smooth, so the minimum at each lam is
    a stationary point that moves smoothly with lam. (The ReLU MLPs of make_problem settle with
    hidden units' kinks on training points, where the gradient does not vanish and the IFT does not
    apply: finite differences through re-training fail there for any method.)"""
    def valid_loss(W, batch):
        X, T = batch
        (M1, b1), (M2, b2) = models.unflatten(W, sizes)
        return models.mse(anp.matmul(anp.tanh(anp.matmul(X, M1) + b1[:, None, :]), M2) + b2[:, None, :], T)

    def train_loss(W, lams, batch):
        return valid_loss(W, batch) + models.sq_l2_penalty(W, lams)
    return Problem(train_loss, valid_loss, models.n_weights(sizes), 1, tuple(sizes))


def _fit(f, W):
    """The minimum of f near W: BFGS, then Newton steps to machine precision."""
    W = scipy.optimize.minimize(f, W, jac=grad(f), method="BFGS", options=dict(maxiter=20000, gtol=1e-10)).x
    for _ in range(4):
        W = W - np.linalg.solve(hessian(f)(W), grad(f)(W))
    return W


def test_cg_matches_finite_differences_through_retraining():
    problem, rng = _tanh_mlp((3, 4, 2)), np.random.default_rng(3)
    X, Xv = rng.standard_normal((40, 3)), rng.standard_normal((20, 3))
    target = lambda X: np.stack([np.sin(X[:, 0]) + X[:, 1], X[:, 2] * X[:, 0]], 1)  # noqa: E731
    train, valid = (X, target(X) + 0.1 * rng.standard_normal((40, 2))), (Xv, target(Xv))
    L_T = lambda W, lam: anp.sum(problem.train_loss(W[None, :], anp.array([[lam]]), train))  # noqa: E731
    L_V = lambda W: problem.valid_loss(W[None, :], valid)[0]  # noqa: E731
    lam, h = -3.0, 1e-4
    W = _fit(lambda W: L_T(W, lam), 0.5 * rng.standard_normal(problem.n_weights))
    assert np.linalg.norm(grad(L_T)(W, lam)) < 1e-12  # converged: the IFT's premise
    res = ift.ift_hypergradient(problem, W=W, lam=lam, train_data=train, valid_data=valid, solver="cg")
    # re-trained to convergence at lam +- h from the same weights
    fd = (L_V(_fit(lambda w: L_T(w, lam + h), W)) - L_V(_fit(lambda w: L_T(w, lam - h), W))) / (2 * h)
    assert abs(res.grad[0] - fd) <= 1e-4 * abs(fd), (res.grad[0], fd)


def _plain_relu_loss(W, lam, batch):
    """make_problem((3, 4, 2), "mse", "per_weight")'s training loss of one W (26,), written with
    plain autograd.numpy (the flat layout: each layer's (n_in, n_out) weights row by row, then its
    biases), so that the dense reference does not go through hypernet/primitives.py."""
    X, T = batch
    M1, b1, M2, b2 = W[:12].reshape(3, 4), W[12:16], W[16:24].reshape(4, 2), W[24:]
    P = anp.dot(anp.maximum(anp.dot(X, M1) + b1, 0.0), M2) + b2
    return anp.mean((P - T) ** 2) + anp.sum(anp.exp(lam) * W ** 2)


def test_cg_and_neumann_match_dense_linear_algebra_on_a_relu_mlp():
    """At any weights with a positive definite Hessian, both solvers give -v^T H^-1 d2L_T/dw dlam,
    here formed densely from the plain formulas: the second derivatives through the primitives of
    make_problem's MLP are right."""
    problem, rng = models.make_problem((3, 4, 2), loss="mse", penalty="per_weight"), np.random.default_rng(1)
    train, valid = (rng.standard_normal((30, 3)), rng.standard_normal((30, 2))), (rng.standard_normal((10, 3)),
                                                                                  rng.standard_normal((10, 2)))
    W, lam = 0.7 * rng.standard_normal(problem.n_weights), rng.uniform(0, 1, problem.n_hyper)
    assert _plain_relu_loss(W, lam, train) == pytest.approx(problem.train_loss(W[None], lam[None], train)[0], 1e-12)
    train_grad = grad(_plain_relu_loss)
    hess = jacobian(lambda W: train_grad(W, lam, train))(W)
    mixed = jacobian(lambda lam: train_grad(W, lam, train))(lam)
    v = grad(lambda W: _plain_relu_loss(W, -np.inf, valid))(W)  # exp(-inf) = 0: the validation loss
    eigs = np.linalg.eigvalsh(hess)
    assert eigs[0] > 0  # the premise of both solvers
    dense = -np.linalg.solve(hess, v) @ mixed
    kw = dict(W=W, lam=lam, train_data=train, valid_data=valid)
    cg = ift.ift_hypergradient(problem, **kw, solver="cg")
    neumann = ift.ift_hypergradient(problem, **kw, terms=200, alpha=1 / eigs[-1])
    assert np.linalg.norm(cg.grad - dense) < 1e-8 * np.linalg.norm(dense)
    assert np.linalg.norm(neumann.grad - dense) < 1e-10 * np.linalg.norm(dense)
    np.testing.assert_allclose(cg.p, np.linalg.solve(hess, v), rtol=1e-7, atol=1e-12)


# ---- refusals before any work -----------------------------------------------------------------
def _no_work(step):
    raise AssertionError("a batch was drawn: the bad argument was not refused first")


BAD = [("inner_steps", 0), ("inner_steps", -3), ("inner_steps", 2.5), ("inner_steps", True),
       ("terms", -1), ("terms", 1.5), ("terms", None),
       ("alpha", 0), ("alpha", -0.1), ("alpha", float("nan")), ("alpha", float("inf")), ("alpha", "0.1"),
       ("solver", "lu"), ("solver", None),
       ("opt", None), ("opt", "sgd"), ("opt_lam", None), ("opt_lam", optim.adam)]


@pytest.mark.parametrize("given, says", [
    (dict(solver="cg", terms=5), "terms and alpha are the Neumann series' (solver='neumann'); leave them out"),
    (dict(solver="cg", alpha=0.1), "terms and alpha are the Neumann series'"),
    (dict(terms=5, alpha=0.1, cg_iters=5), "cg_iters applies to solver='cg' only"),
    (dict(), "solver='neumann' needs terms and alpha"),
    (dict(terms=5), "solver='neumann' needs terms and alpha")])
def test_each_solver_refuses_the_others_arguments(given, says):
    """An argument of the other solver would be ignored: it is refused, naming whose it is (cg with
    terms=5 said "alpha must be a positive finite number, got None")."""
    problem = _ridge(4, True)
    data = _ridge_data(np.random.default_rng(0), 5, 4)
    with pytest.raises(ValueError, match=re.escape(says)):
        ift.ift_hypergradient(problem, W=np.zeros(4), lam=np.zeros(4), train_data=data, valid_data=data, **given)
    with pytest.raises(ValueError, match=re.escape(says)):
        ift.hypertrain_ift(problem, W0=np.zeros(4), lam_hat=np.zeros(4), train_batch=_no_work, valid_batch=_no_work,
                           inner_steps=5, opt=optim.sgd_momentum(0.1, 0.9), iters=3, **given)


@pytest.mark.parametrize("name, value", BAD)
def test_bad_arguments_are_refused_before_any_work(name, value):
    problem = _ridge(4, True)
    kw = dict(W0=np.zeros(4), lam_hat=np.zeros(4), train_batch=_no_work, valid_batch=_no_work, inner_steps=5,
              terms=5, alpha=0.1, opt=optim.sgd_momentum(0.1, 0.9), opt_lam=optim.adam(0.1), iters=3)
    with pytest.raises(ValueError, match=name):
        ift.hypertrain_ift(problem, **{**kw, name: value})
    if name not in ("inner_steps", "opt", "opt_lam"):  # the single hypergradient refuses them as well
        kw = dict(W=np.zeros(4), lam=np.zeros(4), train_data=_ridge_data(np.random.default_rng(0), 5, 4),
                  valid_data="not a batch", terms=5, alpha=0.1)
        with pytest.raises(ValueError, match=name):
            ift.ift_hypergradient(problem, **{**kw, name: value})


# ---- memory and hyper-training ---------------------------------------------------------------
def test_memory_does_not_grow_with_inner_steps_or_terms():
    # Big enough (D = 10050) that the arrays, not the interpreter's own ~0.1 MB, make the peak.
    problem = models.make_problem((200, 50), loss="mse", penalty="per_weight")
    rng = np.random.default_rng(4)
    X = rng.standard_normal((200, 200))
    batch = lambda k: (X, X[:, :50])  # noqa: E731
    W0 = 0.01 * rng.standard_normal(problem.n_weights)

    def peak(inner_steps, terms):
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            ift.hypertrain_ift(problem, W0=W0, lam_hat=np.full(problem.n_hyper, -4.0), train_batch=batch,
                               valid_batch=batch, inner_steps=inner_steps, terms=terms, alpha=0.01,
                               opt=optim.sgd_momentum(0.01, 0.9), opt_lam=optim.adam(0.01), iters=1)
            return tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
    with threadpool_limits(1):  # (matrices this small: BLAS's threads only wait on each other on a busy machine)
        peak(2, 2)  # a first call allocates what later calls reuse
        small, many_steps, many_terms = peak(5, 5), peak(200, 5), peak(5, 200)
    # Unrolling 200 steps would keep 200 x (weights, velocity, activations): 40 x the 5 steps' peak.
    assert many_steps < 1.5 * small and many_terms < 1.5 * small, (small, many_steps, many_terms)


def test_hypertrain_ift_lowers_validation_loss_and_stops_on_callback():
    D, rng = 10, np.random.default_rng(5)
    problem = _ridge(D, True)
    train, valid = _ridge_data(rng, 15, D, noise=1.0), _ridge_data(rng, 200, D, noise=1.0)
    lam0 = np.full(D, -5.0)  # almost no decay: 15 noisy points for 10 weights overfit
    W0 = _ridge_closed_form(train, valid, lam0, D)[0]  # trained: what follows is the hyperparameters' doing
    drawn, seen = [], []

    def train_batch(k):
        drawn.append(k)
        return train
    stop = lambda step, state: seen.append(state) or step == 29  # noqa: E731
    res = ift.hypertrain_ift(problem, W0=W0, lam_hat=lam0, train_batch=train_batch, valid_batch=lambda step: valid,
                             inner_steps=20, terms=20, alpha=0.1, opt=optim.sgd_momentum(0.05, 0.9),
                             opt_lam=optim.adam(0.2), iters=None, callback=stop)
    assert len(seen) == len(res.valid_losses) == 30 and {s.phase for s in seen} == {"ift"}
    assert drawn == list(range(30 * 21))  # one running count: 20 inner steps, then the hypergradient's batch
    np.testing.assert_array_equal(seen[-1].lam, res.lam)
    assert res.valid_losses[-1] < 0.9 * res.valid_losses[0]
    assert _valid_at(train, valid, res.lam, D) < 0.9 * _valid_at(train, valid, lam0, D)
