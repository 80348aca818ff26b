"""The elementary model (hypernet/models.py) and its primitives (hypernet/primitives.py) against direct
NumPy formulas, scipy, and finite differences (first and second derivatives)."""
import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from scipy import stats

from hypernet import layout, models, primitives
from gradcheck import fd_check

RNG = np.random.default_rng(0)


def reference_predict(w, X, sizes):
    """One network, written directly: w (D,), X (N, n0) -> (N, nL)."""
    H, start = X, 0
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        M, bias = w[start:start + a * b].reshape(a, b), w[start + a * b:start + (a + 1) * b]
        H = (np.maximum(H, 0) if i else H) @ M + bias
        start += (a + 1) * b
    return H


# ---- sizes and layout -----------------------------------------------------------------------
@pytest.mark.parametrize("sizes, D", [((784, 10), 7850), ((784, 100, 10), 79510), ((784, 100, 100, 10), 89610)])
def test_n_weights(sizes, D):
    assert models.n_weights(sizes) == D
    assert models.make_problem(sizes, "mse", "per_weight").n_weights == D
    assert models.make_problem(sizes, "mse", "per_weight").n_hyper == D


def test_n_hyper_of_each_penalty():
    assert [models.make_problem((784, 10), "nll", p).n_hyper for p in ("l2_norm", "sq_l2", "per_weight", "per_class")] \
        == [1, 1, 7850, 10]


@pytest.mark.parametrize("sizes", [(784, 10), (5, 4, 3), (3, 6, 6, 2)])
def test_flatten_unflatten_round_trip_and_layout(sizes):
    W = RNG.standard_normal((4, models.n_weights(sizes)))
    layers = models.unflatten(W, sizes)
    assert [(M.shape, b.shape) for M, b in layers] == [((4, a, b), (4, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    np.testing.assert_array_equal(models.flatten(layers), W)
    a, b = sizes[:2]  # first layer: the (a, b) matrix row-major, then its b biases
    np.testing.assert_array_equal(layers[0][0][2, 1, :], W[2, b:2 * b])
    np.testing.assert_array_equal(layers[0][1][3], W[3, a * b:(a + 1) * b])


@pytest.mark.parametrize("sizes", [(784, 10), (5, 4, 3), (3, 6, 6, 2)])
def test_batched_predict_equals_a_loop_over_samples(sizes):
    S, N = 3, 7
    W, X = RNG.standard_normal((S, models.n_weights(sizes))), RNG.standard_normal((N, sizes[0]))
    P = models.predict(W, X, sizes)
    assert P.shape == (S, N, sizes[-1])
    for s in range(S):
        np.testing.assert_allclose(P[s], reference_predict(W[s], X, sizes), rtol=1e-12, atol=1e-12)


# ---- losses ---------------------------------------------------------------------------------
def test_gaussian_nll_is_50_mse_minus_constant():
    P, T = RNG.standard_normal((3, 20, 10)), RNG.standard_normal((20, 10))
    mse = models.mse(P, T)
    np.testing.assert_allclose(mse, [np.mean((P[s] - T) ** 2) for s in range(3)], rtol=1e-14)
    np.testing.assert_allclose(models.gaussian_nll(P, T, 0.1), 50 * mse - 1.38365, atol=5e-6)


def test_mse_derivatives():
    P, T = RNG.standard_normal((3, 4, 2)), RNG.standard_normal((4, 2))
    c = np.array([1.0, -2.0, 0.5])
    for f, x in ((lambda P: anp.sum(models.mse(P, T) * c), P), (lambda T: anp.sum(models.mse(P, T) * c), T),
                 (lambda P: anp.sum(anp.sin(models.mse(P, T))), P)):
        fd_check(f, x)
        hvp_check(f, x)


@pytest.mark.parametrize("sd", [0.1, 0.7])
def test_gaussian_nll_equals_scipy(sd):
    P, T = RNG.standard_normal((2, 15, 10)), RNG.standard_normal((15, 10))
    ref = [-np.mean(stats.norm.logpdf(T, loc=P[s], scale=sd)) for s in range(2)]
    np.testing.assert_allclose(models.gaussian_nll(P, T, sd), ref, rtol=1e-12)
    prob = models.make_problem((4, 10), "nll", "sq_l2", noise_sd=sd)
    W, X = RNG.standard_normal((2, 50)), RNG.standard_normal((15, 4))
    ref = [-np.mean(stats.norm.logpdf(T, loc=reference_predict(W[s], X, (4, 10)), scale=sd)) for s in range(2)]
    np.testing.assert_allclose(prob.valid_loss(W, (X, T)), ref, rtol=1e-12)


# ---- penalties ------------------------------------------------------------------------------
def test_penalties_against_direct_formulas():
    S, D = 3, 7850
    W = RNG.standard_normal((S, D))
    lam1, lamD, lam10 = RNG.standard_normal((S, 1)), RNG.standard_normal((S, D)), RNG.standard_normal((S, 10))
    for s in range(S):
        w = W[s]
        M = w[:7840].reshape(784, 10)  # the weight matrix of the 784-10 model; w[7840:] are its biases
        direct = {
            "l2_norm": np.exp(lam1[s, 0]) * np.linalg.norm(w),
            "sq_l2": np.exp(lam1[s, 0]) * w @ w,
            "per_weight": sum(np.exp(lamD[s, j]) * w[j] ** 2 for j in range(D)),
            "per_class": np.mean([np.exp(lam10[s, i]) * np.linalg.norm(M[:, i]) for i in range(10)]),
        }
        got = {"l2_norm": models.l2_norm_penalty(W, lam1)[s], "sq_l2": models.sq_l2_penalty(W, lam1)[s],
               "per_weight": models.per_weight_penalty(W, lamD)[s], "per_class": models.per_class_penalty(W, lam10)[s]}
        for k in direct:
            assert got[k] == pytest.approx(direct[k], rel=1e-12), k


def test_per_class_penalty_ignores_biases():
    W = RNG.standard_normal((1, 7850))
    W2 = W.copy()
    W2[0, 7840:] += 5.0
    lam = np.zeros((1, 10))
    assert models.per_class_penalty(W, lam)[0] == models.per_class_penalty(W2, lam)[0]


@pytest.mark.parametrize("loss, penalty", [("nll", "l2_norm"), ("mse", "sq_l2"), ("mse", "per_weight"), ("nll", "per_class")])
def test_train_loss_is_valid_loss_plus_penalty(loss, penalty):
    sizes = (6, 10)
    prob = models.make_problem(sizes, loss, penalty)
    W = RNG.standard_normal((2, prob.n_weights))
    lams = RNG.standard_normal((2, prob.n_hyper))
    X, T = RNG.standard_normal((9, 6)), RNG.standard_normal((9, 10))
    pen = {"l2_norm": models.l2_norm_penalty, "sq_l2": models.sq_l2_penalty, "per_weight": models.per_weight_penalty,
           "per_class": lambda W, lam: models.per_class_penalty(W, lam, 6, 10)}[penalty](W, lams)
    np.testing.assert_allclose(prob.train_loss(W, lams, (X, T)), prob.valid_loss(W, (X, T)) + pen, rtol=1e-13)
    mse = [np.mean((reference_predict(W[s], X, sizes) - T) ** 2) for s in range(2)]
    ref = mse if loss == "mse" else 50 * np.array(mse) + np.log(0.1) + 0.5 * np.log(2 * np.pi)
    np.testing.assert_allclose(prob.valid_loss(W, (X, T)), ref, rtol=1e-12)


# ---- invalid settings -----------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(layer_sizes=(784,)), "layer_sizes must be >= 2 positive integers"),
    (dict(layer_sizes=(784, 0)), "layer_sizes must be >= 2 positive integers"),
    (dict(layer_sizes=(784, 2.5)), "layer_sizes must be >= 2 positive integers"),
    (dict(loss="xent"), "loss must be one of"),
    (dict(penalty="l1"), "penalty one of"),
    (dict(noise_sd=0.0), "noise_sd must be a positive finite number"),
    (dict(noise_sd=float("nan")), "noise_sd must be a positive finite number, got nan"),
    (dict(noise_sd=float("inf")), "noise_sd must be a positive finite number, got inf"),
    (dict(noise_sd=True), "^noise_sd must be a positive finite number, got True$"),
    (dict(noise_sd=False), "^noise_sd must be a positive finite number, got False$"),
    (dict(noise_sd=-0.1), "^noise_sd must be a positive finite number, got -0.1$"),
    (dict(noise_sd=float("-inf")), "^noise_sd must be a positive finite number, got -inf$"),
    (dict(noise_sd="0.1"), "^noise_sd must be a positive finite number, got '0.1'$"),
    (dict(noise_sd=None), "^noise_sd must be a positive finite number, got None$"),
    (dict(noise_sd=10 ** 400), "^noise_sd must be a positive finite number, got 1000"),
    (dict(layer_sizes=(784, 10.0)), r"layer_sizes must be >= 2 positive integers \(not floats\)"),
    (dict(layer_sizes=(784, 100, 10), penalty="per_class"), "per-class penalty is defined for a linear model"),
])
def test_make_problem_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.make_problem(**kwargs)


def test_noise_sd_of_any_real_type():
    """A bool is refused above (True once ran as sd 1); a Fraction runs as its float, a NumPy number
    as itself."""
    from fractions import Fraction
    rng = np.random.default_rng(3)
    W, X, T = rng.standard_normal((2, 18)), rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    loss = lambda sd: models.make_problem((5, 3), noise_sd=sd).valid_loss(W, (X, T))  # noqa: E731
    np.testing.assert_array_equal(loss(Fraction(1, 5)), loss(0.2))
    np.testing.assert_array_equal(loss(np.float64(0.2)), loss(0.2))


def test_init_weights():
    rng = np.random.default_rng(1)
    w = models.init_weights(rng, 7850, 0.01)
    assert w.shape == (7850,) and abs(w.std() - 0.01) < 5e-4
    assert models.init_weights(rng, 10, 1.0, S=3).shape == (3, 10)


# ---- gradients ------------------------------------------------------------------------------
@pytest.mark.parametrize("sizes", [(5, 3), (5, 4, 3)])
@pytest.mark.parametrize("loss, penalty", [("nll", "l2_norm"), ("mse", "per_weight")])
def test_loss_gradients_by_finite_differences(sizes, loss, penalty):
    prob = models.make_problem(sizes, loss, penalty)
    W = RNG.standard_normal((2, prob.n_weights))
    lams = RNG.standard_normal((2, prob.n_hyper))
    batch = (RNG.standard_normal((6, 5)), RNG.standard_normal((6, 3)))
    fd_check(lambda W: anp.sum(prob.train_loss(W, lams, batch) * anp.array([1.0, 2.0])), W)
    fd_check(lambda lams: anp.sum(prob.train_loss(W, lams, batch) * anp.array([1.0, 2.0])), lams)


def hvp_check(f, x, rtol=1e-6, h=1e-5, seed=1):
    """Second derivatives: grad of (grad f . v) against a central difference of grad f along u."""
    rng = np.random.default_rng(seed)
    u, v = rng.standard_normal(np.shape(x)), rng.standard_normal(np.shape(x))
    hv = grad(lambda x: anp.sum(grad(f)(x) * v))(x)
    fd = (np.sum(grad(f)(x + h * u) * v) - np.sum(grad(f)(x - h * u) * v)) / (2 * h)
    assert abs(np.sum(hv * u) - fd) <= rtol * (abs(fd) + 1e-8), (np.sum(hv * u), fd)


def test_cols_value_and_first_and_second_derivatives():
    A = RNG.standard_normal((3, 8))
    np.testing.assert_array_equal(primitives.cols(A, 2, 5), A[:, 2:5])
    # two overlapping slices of one array, as in a flat weight vector
    f = lambda A: anp.sum(anp.sin(primitives.cols(A, 2, 5)) ** 2) + anp.sum(primitives.cols(A, 0, 4) ** 3)  # noqa: E731
    g = grad(f)(A)
    expect = np.zeros_like(A)
    expect[:, 2:5] += 2 * np.sin(A[:, 2:5]) * np.cos(A[:, 2:5])
    expect[:, 0:4] += 3 * A[:, 0:4] ** 2
    np.testing.assert_allclose(g, expect, rtol=1e-13)
    fd_check(f, A)
    hvp_check(f, A)
    hvp_check(lambda a: anp.sum(primitives.cols(a, 1, 4) ** 3), RNG.standard_normal(6))


@pytest.mark.parametrize("shape_Z, shape_P", [((4, 3), (3 * 2 + 2,)), ((5, 3), (2, 1 + 3 * 2 + 2)), ((2, 5, 3), (2, 3 * 2 + 2 + 1))],
                         ids=["one layer", "S layers, shared input", "S layers, own inputs"])
def test_affine_against_numpy_and_its_derivatives(shape_Z, shape_P):
    Z, P = RNG.standard_normal(shape_Z), RNG.standard_normal(shape_P)
    start = 0 if len(shape_P) == 1 else 1 if len(shape_Z) == 2 else 0
    out = primitives.affine(Z, P, layout.Layer(start, 3, 2))
    M = P[..., start:start + 6].reshape(P.shape[:-1] + (3, 2))
    b = P[..., start + 6:start + 8]
    ref = Z @ M + b if len(shape_P) == 1 else np.stack([(Z if Z.ndim == 2 else Z[s]) @ M[s] + b[s] for s in range(2)])
    np.testing.assert_allclose(out, ref, rtol=1e-13)
    C = RNG.standard_normal(ref.shape)

    def f(Z, P):
        return anp.sum(anp.tanh(primitives.affine(Z, P, layout.Layer(start, 3, 2))) * C)
    fd_check(lambda Z: f(Z, P), Z)
    fd_check(lambda P: f(Z, P), P)
    hvp_check(lambda Z: f(Z, P), Z)
    hvp_check(lambda P: f(Z, P), P)
    # mixed second derivative: d/dZ of (df/dP . v)
    v = RNG.standard_normal(P.shape)
    fd_check(lambda Z: anp.sum(grad(f, 1)(Z, P) * v), Z)


@pytest.mark.parametrize("relu", [False, True])
def test_two_layer_against_numpy_and_its_derivatives(relu):
    n_in, K, D = 3, 4, 5
    Z, P = RNG.standard_normal((2, n_in)), RNG.standard_normal(n_in * K + K + K * D + D)
    A, a = P[:n_in * K].reshape(n_in, K), P[n_in * K:n_in * K + K]
    B, c = P[n_in * K + K:-D].reshape(K, D), P[-D:]
    pre = Z @ A + a
    np.testing.assert_allclose(primitives.two_layer(Z, P, K, D, relu), (np.maximum(pre, 0) if relu else pre) @ B + c, rtol=1e-13)
    C = RNG.standard_normal((2, D))

    def f(Z, P):
        return anp.sum(anp.tanh(primitives.two_layer(Z, P, K, D, relu)) * C)
    for check in (fd_check, hvp_check):
        check(lambda Z: f(Z, P), Z)
        check(lambda P: f(Z, P), P)
    v = RNG.standard_normal(P.shape)
    fd_check(lambda Z: anp.sum(grad(f, 1)(Z, P) * v), Z)
