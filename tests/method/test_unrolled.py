"""The unrolled reverse-mode baseline against finite differences and against the closed-form
implicit hypergradient of ridge regression."""
import numpy as np
import pytest

from hypernet import models, optim
from hypernet.baselines import unrolled


def _data(rng, n, n_in, n_out):
    X = rng.standard_normal((n, n_in))
    return X, X @ rng.standard_normal((n_in, n_out)) + 0.5 * rng.standard_normal((n, n_out))


def _setup(penalty, n_in=4, n_out=2, seed=0):
    rng = np.random.default_rng(seed)
    problem = models.make_problem((n_in, n_out), loss="mse", penalty=penalty)
    train, valid = _data(rng, 30, n_in, n_out), _data(rng, 20, n_in, n_out)
    W0 = 0.1 * rng.standard_normal(problem.n_weights)
    return problem, train, valid, W0, rng


def test_hypergradient_matches_finite_differences():
    problem, train, valid, W0, rng = _setup("per_weight")
    # Minibatches of 10 of the 30 training points, a different one each step.
    batches = [(train[0][i:i + 10], train[1][i:i + 10]) for i in (0, 10, 20, 5, 15)]
    f = unrolled.hypergradient(problem, W0=W0, train_batch=batches.__getitem__, valid_data=valid, T=5,
                               opt=optim.sgd_momentum(0.1, 0.9))
    lam = rng.uniform(-3, 0, problem.n_hyper)
    loss, g, W_T = f(lam)
    h, fd = 1e-5, np.zeros_like(lam)
    for j in range(len(lam)):
        e = np.zeros_like(lam)
        e[j] = h
        fd[j] = (f(lam + e)[0] - f(lam - e)[0]) / (2 * h)
    assert np.linalg.norm(g - fd) / np.linalg.norm(fd) < 1e-5
    assert loss == pytest.approx(problem.valid_loss(W_T[None, :], valid)[0])


def _ridge_implicit(problem, train, valid, lam):
    """Closed form: for L = mean((X~ W - T)^2) + e^lam ||W||^2 (X~ = [X, 1], bias included, the mean
    over N x K outputs), W*(lam) = (X~'X~ + a I)^-1 X~'T with a = N K e^lam, and by implicit
    differentiation dW*/dlam = -a (X~'X~ + a I)^-1 W*."""
    X, T = train
    Xa = np.hstack([X, np.ones((len(X), 1))])
    a = T.size * np.exp(lam)
    A = Xa.T @ Xa + a * np.eye(Xa.shape[1])
    Wstar = np.linalg.solve(A, Xa.T @ T)            # (n_in + 1, K): rows = weights of each input, last = biases
    dW = -a * np.linalg.solve(A, Wstar)
    flat = lambda M: models.flatten([(M[None, :-1], M[None, -1])])  # noqa: E731
    Xv, Tv = valid
    Xva = np.hstack([Xv, np.ones((len(Xv), 1))])
    dL_dW = 2 * Xva.T @ (Xva @ Wstar - Tv) / Tv.size
    return flat(Wstar)[0], float(np.sum(dL_dW * dW))


def test_gradient_descent_to_convergence_approaches_implicit_hypergradient():
    problem, train, valid, W0, rng = _setup("sq_l2")
    lam = np.array([-2.0])
    Wstar, implicit = _ridge_implicit(problem, train, valid, lam[0])
    errors = []
    for T in (10, 100, 1000):
        loss, g, W_T = unrolled.hypergradient(problem, W0=W0, train_batch=lambda t: train, valid_data=valid, T=T,
                                              opt=optim.sgd_momentum(0.1, 0.0))(lam)
        errors.append(abs(g[0] - implicit) / abs(implicit))
    # Plain full-batch gradient descent converges linearly to W*, and the unrolled hypergradient
    # with it to the implicit one.
    np.testing.assert_allclose(W_T, Wstar, rtol=1e-8, atol=1e-10)
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-6


def test_memory_grows_linearly_with_T():
    problem, train, valid, W0, rng = _setup("per_weight", n_in=50, n_out=10)
    lam = np.full(problem.n_hyper, -3.0)
    peak = lambda T: unrolled.peak_memory(problem, W0=W0, lam=lam, train_batch=lambda t: train,  # noqa: E731
                                          valid_data=valid, T=T, opt=optim.sgd_momentum(0.05, 0.9))
    peak(5)  # a first call allocates what later calls reuse
    m20, m40, m60 = peak(20), peak(40), peak(60)
    # grows with every 20 more steps (tracemalloc's peak varies between processes by about +-30%)
    assert m20 < m40 < m60 and m60 - m20 < 4 * (m40 - m20)


def test_hypertrain_unrolled_lowers_validation_loss_and_stops_on_callback():
    problem, train, valid, W0, rng = _setup("per_weight", n_in=20, n_out=2)
    seen = []
    stop = lambda step, state: seen.append(step) or step == 29  # noqa: E731
    res = unrolled.hypertrain_unrolled(problem, W0=W0, lam_hat=np.full(problem.n_hyper, -3.0), train_batch=lambda t: train,
                                       valid_data=valid, T=20, opt=optim.sgd_momentum(0.05, 0.9), opt_lam=optim.adam(0.1),
                                       iters=100,
                                       callback=stop)
    assert seen[-1] == 29 and len(res.valid_losses) == 30
    assert res.valid_losses[-1] < 0.9 * res.valid_losses[0]
    with pytest.raises(ValueError):
        unrolled.hypertrain_unrolled(problem, W0=W0, lam_hat=np.zeros(3), train_batch=lambda t: train, valid_data=valid,
                                     T=5, opt=optim.sgd_momentum(0.1, 0.9), opt_lam=optim.adam(0.1), iters=1)
