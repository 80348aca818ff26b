"""The primitives of hypernet/primitives.py: each hand-written gradient against autograd's own
derivative of the same formula (to 1e-12 relative in float64) and against finite differences, at
first and second order; the models and hypernetworks built on them against the plain textbook
formulas written here; and Adam's formula against its in-place passes, bit for bit."""
import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from gradcheck import fd_check
from hypernet import hypernets, layout, models, optim, primitives

RNG = np.random.default_rng(0)


def assert_close(got, ref, rtol=1e-12):
    """|got - ref| <= rtol |ref| in the 2-norm over all entries."""
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.shape == ref.shape
    assert np.linalg.norm(got - ref) <= rtol * np.linalg.norm(ref), np.linalg.norm(got - ref) / np.linalg.norm(ref)


def assert_vjps_agree(prim, formula, args, argnums):
    """prim(*args) equals formula(*args), and the gradients of sum(prim(*args) * C) (the
    hand-written VJP) equal autograd's gradients of sum(formula(*args) * C), for each of argnums;
    both also at second order (the gradient of a random projection of the first gradient)."""
    C = RNG.standard_normal(np.shape(formula(*args)))
    assert_close(prim(*args), formula(*args), rtol=0)
    for i in argnums:
        first = {f: grad(lambda *a, f=f: anp.sum(f(*a) * C), i) for f in (prim, formula)}
        assert_close(first[prim](*args), first[formula](*args))
        V = RNG.standard_normal(np.shape(args[i]))
        for j in argnums:
            second = [grad(lambda *a, g=g: anp.sum(g(*a) * V), j)(*args) for g in (first[prim], first[formula])]
            assert_close(*second, rtol=1e-11)


def assert_fd(prim, args, i, rtol=1e-6):
    """The hand-written VJP against central differences in random directions."""
    C = RNG.standard_normal(np.shape(prim(*args)))

    def f(x):
        return anp.sum(prim(*(args[:i] + (x,) + args[i + 1:])) * C)
    fd_check(f, args[i], rtol=rtol)


# ---- each primitive ---------------------------------------------------------------------------
@pytest.mark.parametrize("S", [None, 1, 3])
@pytest.mark.parametrize("Z_per_model", [False, True])
def test_affine(S, Z_per_model):
    """One layer (P (n,)), S layers on a shared input (Z (N, n_in)) and on their own (Z (S, N, n_in))."""
    if S is None and Z_per_model:
        pytest.skip("one layer has one input")
    layer = layout.layers((5, 3, 4))[1]  # a layer that does not start at 0
    n = layout.size((5, 3, 4))
    P = RNG.standard_normal(n if S is None else (S, n))
    Z = RNG.standard_normal((S, 7, 3) if Z_per_model else (7, 3))
    f = lambda prim: lambda Z, P: prim(Z, P, layer)  # noqa: E731
    assert_vjps_agree(f(primitives.affine), f(primitives.affine_formula), (Z, P), argnums=(0, 1))
    for i in (0, 1):
        assert_fd(f(primitives.affine), (Z, P), i)


@pytest.mark.parametrize("relu", [False, True])
def test_two_layer(relu):
    P, Z = RNG.standard_normal(layout.size((3, 4, 6))), RNG.standard_normal((5, 3))
    f = lambda prim: lambda Z, P: prim(Z, P, 4, 6, relu)  # noqa: E731
    assert_vjps_agree(f(primitives.two_layer), f(primitives.two_layer_formula), (Z, P), argnums=(0, 1))
    for i in (0, 1):
        assert_fd(f(primitives.two_layer), (Z, P), i)


def test_cols_and_pad_cols():
    A = RNG.standard_normal((3, 10))
    f = lambda prim: lambda A: prim(A, 2, 7)  # noqa: E731
    assert_vjps_agree(f(primitives.cols), f(primitives.cols_formula), (A,), argnums=(0,))
    g = RNG.standard_normal((3, 4))
    p = lambda prim: lambda g: prim(g, 10, 5)  # noqa: E731
    assert_vjps_agree(p(primitives.pad_cols), p(primitives.pad_cols_formula), (g,), argnums=(0,))
    np.testing.assert_array_equal(primitives.pad_cols(g, 10, 5)[:, 5:9], g)


def test_weighted_sq_sum_and_mean_sq_err():
    W, E = RNG.standard_normal((3, 9)), np.exp(RNG.standard_normal((3, 9)))
    assert_vjps_agree(primitives.weighted_sq_sum, primitives.weighted_sq_sum_formula, (W, E), argnums=(0, 1))
    P, T = RNG.standard_normal((3, 8, 4)), RNG.standard_normal((8, 4))
    assert_vjps_agree(primitives.mean_sq_err, primitives.mean_sq_err_formula, (P, T), argnums=(0, 1))
    for i in (0, 1):
        assert_fd(primitives.weighted_sq_sum, (W, E), i)
        assert_fd(primitives.mean_sq_err, (P, T), i)


# ---- what is built on them, against textbook formulas written here ----------------------------
def textbook_predict(W, X, sizes, relu=True):
    H = X
    start = 0
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        M = W[:, start:start + a * b].reshape(len(W), a, b)
        bias = W[:, start + a * b:start + (a + 1) * b]
        start += (a + 1) * b
        if i > 0 and relu:
            H = anp.maximum(H, 0.0)
        H = H @ M + bias[:, None, :]
    return H


@pytest.mark.parametrize("sizes", [(784, 10), (5, 4, 3), (3, 6, 5, 2)], ids=["1 layer", "2 layers", "3 layers"])
def test_predict_is_the_textbook_network(sizes):
    W, X = RNG.standard_normal((3, models.n_weights(sizes))), RNG.standard_normal((7, sizes[0]))
    C = RNG.standard_normal((3, 7, sizes[-1]))
    assert_close(models.predict(W, X, sizes), textbook_predict(W, X, sizes))
    for i in (0, 1):
        assert_close(grad(lambda W, X: anp.sum(models.predict(W, X, sizes) * C), i)(W, X),
                     grad(lambda W, X: anp.sum(textbook_predict(W, X, sizes) * C), i)(W, X))


@pytest.mark.parametrize("penalty, H, textbook", [
    ("per_weight", 7850, lambda W, lam: anp.sum(anp.exp(lam) * W ** 2, axis=1)),
    ("sq_l2", 1, lambda W, lam: anp.exp(lam[:, 0]) * anp.sum(W ** 2, axis=1))])
def test_penalties_are_their_formulas(penalty, H, textbook):
    W, lam = RNG.standard_normal((3, 7850)), RNG.standard_normal((3, H))
    for i in (0, 1):
        assert_close(grad(lambda W, lam: anp.sum(models.PENALTIES[penalty](W, lam)), i)(W, lam),
                     grad(lambda W, lam: anp.sum(textbook(W, lam)), i)(W, lam))


@pytest.mark.parametrize("name", ["linear", "factorised", "mlp"])
def test_hypernetworks_are_their_networks(name):
    """apply (one primitive) equals the network's formula, models.predict on the same flat phi."""
    H, K, D, S = 3, 4, 11, 5
    hn = hypernets.linear(H, D) if name == "linear" else getattr(hypernets, name)(H, K, D)
    sizes = (H, D) if name == "linear" else (H, K, D)
    phi, lams = RNG.standard_normal(hn.n_params), RNG.standard_normal((S, H))
    ref = textbook_predict(phi[None], lams, sizes, relu=name == "mlp")[0]
    assert_close(hn.apply(phi, lams), ref)
    C = RNG.standard_normal((S, D))
    assert_close(grad(lambda p: anp.sum(hn.apply(p, lams) * C))(phi),
                 grad(lambda p: anp.sum(textbook_predict(p[None], lams, sizes, relu=name == "mlp")[0] * C))(phi))


def test_mixed_second_derivative_through_a_problem():
    """d/dlam of (dL_train/dW . v), what the unrolled baseline and the IFT differentiate, against
    finite differences."""
    prob = models.make_problem((6, 5, 10), "mse", "per_weight")
    W = RNG.standard_normal((1, prob.n_weights))
    batch, v = (RNG.standard_normal((9, 6)), RNG.standard_normal((9, 10))), RNG.standard_normal(W.shape)
    dW = grad(lambda W, lam: anp.sum(prob.train_loss(W, lam, batch)))
    fd_check(lambda lam: anp.sum(dW(W, lam) * v), RNG.standard_normal((1, prob.n_hyper)), rtol=1e-5)


# ---- Adam: one formula ------------------------------------------------------------------------
def test_adam_formula_and_its_in_place_passes_are_bit_identical():
    """adam_step (the formula: scalars and autograd boxes take it), the in-place passes of
    adam.update on plain arrays and optim.adam_in_place give the same bits, 30 steps over gradients
    of 8 decades, and match the textbook form of Kingma & Ba to 1e-12."""
    x, adam = RNG.standard_normal(200), optim.adam(1e-3)
    fast = adam.init(x)
    m, v = np.zeros_like(x), np.zeros_like(x)
    in_place, scratch = optim.AdamState(np.zeros_like(x), np.zeros_like(x), 0), np.empty_like(x)
    x_fast, x_formula, x_in_place, x_textbook = x.copy(), x.copy(), x.copy(), x.copy()
    mt, vt = np.zeros_like(x), np.zeros_like(x)
    for t in range(1, 31):
        g = RNG.standard_normal(200) * 10.0 ** RNG.integers(-6, 2, 200)
        g_copy = g.copy()
        step_fast, fast = adam.update(g, fast)
        step_formula, m, v = optim.adam_step(g, m, v, t, 1e-3)
        np.testing.assert_array_equal(g, g_copy)  # neither writes into its input
        np.testing.assert_array_equal(step_fast, step_formula)
        x_fast, x_formula = x_fast - step_fast, x_formula - step_formula
        in_place = optim.adam_in_place(x_in_place, g, in_place, 1e-3, scratch=scratch)
        np.testing.assert_array_equal(x_in_place, x_fast)
        mt, vt = 0.9 * mt + 0.1 * g, 0.999 * vt + 0.001 * g ** 2
        x_textbook = x_textbook - 1e-3 * (mt / (1 - 0.9 ** t)) / (np.sqrt(vt / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_array_equal(x_fast, x_formula)
    np.testing.assert_allclose(x_fast, x_textbook, rtol=1e-12, atol=1e-15)


def test_adam_is_differentiable_through_its_formula():
    """An Adam update inside a function autograd differentiates takes the formula (no in-place
    writes into boxes): d step / d g against finite differences."""
    adam = optim.adam(1e-2)
    state = adam.update(RNG.standard_normal(5), adam.init(np.zeros(5)))[1]
    fd_check(lambda g: anp.sum(adam.update(g, state)[0] * np.arange(1.0, 6.0)), RNG.standard_normal(5), rtol=1e-6)


def test_no_module_reads_a_switch():
    """The library has no fast-path flag: no module named fastpath, no HYPERNET_REFERENCE."""
    from pathlib import Path
    import hypernet
    root = Path(hypernet.__file__).parent
    assert not (root / "fastpath.py").exists()
    assert not any("HYPERNET_REFERENCE" in p.read_text() or "fastpath" in p.read_text() for p in root.rglob("*.py"))
