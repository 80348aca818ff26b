"""Hypernetwork families (hypernet/hypernets.py): the paper's parameter counts, the parameter
layout, and S samples at once equal to a loop over the samples."""
import numpy as np
import pytest
from autograd import grad

from hypernet import hypernets

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("make, args, n_params", [
    (hypernets.mlp, (1, 50, 7850), 400450),         # Fig 2
    (hypernets.linear, (1, 7850), 15700),           # Fig 4
    (hypernets.factorised, (7850, 10, 7850), 164860),  # Fig 5
    (hypernets.linear, (10, 7850), 86350),          # Fig 6
])
def test_parameter_counts_of_the_paper(make, args, n_params):
    hn = make(*args)
    assert hn.n_params == n_params
    assert (hn.n_hyper, hn.n_weights) == (args[0], args[-1])
    phi = hn.init(np.random.default_rng(0), 0.01)
    assert phi.shape == (n_params,) and abs(phi.std() - 0.01) < 1e-3


def reference(name, phi, lam, H, K, D):
    """w_phi(lam) for one lam (H,), written directly from the layout in the module docstring."""
    if name == "linear":
        return lam @ phi[:H * D].reshape(H, D) + phi[H * D:]
    A, a = phi[:H * K].reshape(H, K), phi[H * K:H * K + K]
    B, c = phi[H * K + K:H * K + K + K * D].reshape(K, D), phi[H * K + K + K * D:]
    hidden = lam @ A + a
    return (np.maximum(hidden, 0) if name == "mlp" else hidden) @ B + c


@pytest.mark.parametrize("name", ["linear", "factorised", "mlp"])
@pytest.mark.parametrize("H", [1, 3])
def test_apply_on_S_samples_equals_a_loop(name, H):
    K, D, S = 4, 11, 5
    hn = hypernets.linear(H, D) if name == "linear" else getattr(hypernets, name)(H, K, D)
    assert hn.n_params == (H * D + D if name == "linear" else H * K + K + K * D + D)
    phi = RNG.standard_normal(hn.n_params)
    lams = RNG.standard_normal((S, H))
    W = hn.apply(phi, lams)
    assert W.shape == (S, D)
    for s in range(S):
        np.testing.assert_allclose(W[s], reference(name, phi, lams[s], H, K, D), rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(hn.apply(phi, lams[s:s + 1])[0], W[s], rtol=1e-12, atol=1e-13)


def test_mlp_hidden_units_are_relu():
    """With all first-layer biases very negative every hidden unit is off: w = c for any lam."""
    hn = hypernets.mlp(1, 3, 4)
    phi = RNG.standard_normal(hn.n_params)
    phi[3:6] = -100.0
    np.testing.assert_array_equal(hn.apply(phi, np.array([[0.5], [-2.0]])), np.tile(phi[-4:], (2, 1)))


@pytest.mark.parametrize("make, args", [(hypernets.linear, (0, 5)), (hypernets.factorised, (1, 0, 5)),
                                        (hypernets.mlp, (1, 2.5, 5)), (hypernets.mlp, (-1, 2, 5)),
                                        (hypernets.linear, (1, 5.0)), (hypernets.factorised, (1, True, 5))])
def test_bad_sizes(make, args):
    with pytest.raises(ValueError, match="must be a positive integer"):
        make(*args)


# ---- tangent: the hypernetwork that follows lam_hat -------------------------------------------
@pytest.mark.parametrize("name", ["linear", "factorised", "mlp"])
def test_recentring_leaves_the_function_unchanged(name):
    """w_phi(lam) before and after moving the centre from c to c' (the first layer's bias absorbs
    (c' - c) A), at lams near and far from either centre; shift(phi, d) is w_phi(lam + d)."""
    H, K, D = 3, 4, 11
    hn = hypernets.linear(H, D) if name == "linear" else getattr(hypernets, name)(H, K, D)
    rng = np.random.default_rng(5)
    t = hypernets.tangent(hn, [0.5, -2.0, 3.0])
    assert t.n_params == hn.n_params + H and t.recentre is not None and "tangent" in t.name
    phi = t.init(rng, 0.5)
    np.testing.assert_array_equal(phi[hn.n_params:], [0.5, -2.0, 3.0])
    lams = np.concatenate([rng.standard_normal((4, H)), 8 * rng.standard_normal((4, H))])
    before = t.apply(phi, lams)
    np.testing.assert_array_equal(before, hn.apply(phi[:hn.n_params], lams - phi[hn.n_params:]))
    for c_new in (np.array([-7.0, 0.3, 9.0]), rng.standard_normal(H), np.zeros(H)):
        moved = t.recentre(phi, c_new)
        np.testing.assert_array_equal(moved[hn.n_params:], c_new)
        np.testing.assert_allclose(t.apply(moved, lams), before, rtol=1e-12, atol=1e-12)
        phi = moved
    d = rng.standard_normal(H)
    inner = phi[:hn.n_params]
    np.testing.assert_allclose(hn.apply(hn.shift(inner, d), lams), hn.apply(inner, lams + d), rtol=1e-12, atol=1e-12)
    off = hypernets.centred(hn, 2.5)
    np.testing.assert_allclose(off.apply(off.shift(inner, d), lams), off.apply(inner, lams + d), rtol=1e-12,
                               atol=1e-12)


def test_a_tangent_hypernetwork_starts_as_the_network_it_wraps():
    """The same random numbers for the wrapped network's parameters, and the centre at lam_hat: a run
    of tangent(hn, lam0) starts where a run of centred(hn, lam0) (or raw hn when lam0 = 0) does."""
    hn = hypernets.factorised(4, 2, 9)
    t = hypernets.tangent(hn, -9.0)
    phi = t.init(np.random.default_rng(1), 0.01)
    np.testing.assert_array_equal(phi[:hn.n_params], hn.init(np.random.default_rng(1), 0.01))
    lams = np.random.default_rng(2).standard_normal((3, 4)) - 9
    np.testing.assert_array_equal(t.apply(phi, lams), hypernets.centred(hn, -9.0).apply(phi[:hn.n_params], lams))


def test_no_gradient_flows_into_the_centre():
    t = hypernets.tangent(hypernets.linear(2, 5), [1.0, -1.0])
    phi = t.init(np.random.default_rng(0), 1.0)
    lams = np.random.default_rng(1).standard_normal((3, 2))
    g = grad(lambda p: np.sum(t.apply(p, lams) ** 2))(phi)
    assert np.all(g[-2:] == 0) and np.all(g[:-2] != 0)


@pytest.mark.parametrize("make, message", [
    (lambda: hypernets.tangent(hypernets.Hypernet(None, None, 3, 1, 2, "own"), 0.0),
     "needs a hypernetwork with an affine first layer .* got 'own'"),
    (lambda: hypernets.tangent(hypernets.tangent(hypernets.linear(1, 2), 0.0), 0.0), "does not follow lam_hat yet"),
    (lambda: hypernets.tangent("linear", 0.0), "needs a hypernetwork"),
    (lambda: hypernets.centred(hypernets.tangent(hypernets.linear(1, 2), 0.0), 1.0), "centre the network inside tangent"),
    (lambda: hypernets.tangent(hypernets.linear(3, 2), [0.0, 1.0]), "lam_hat must be a finite scalar or 3 values"),
    (lambda: hypernets.tangent(hypernets.linear(1, 2), float("nan")), "lam_hat must be a finite scalar"),
    (lambda: hypernets.tangent(hypernets.linear(2, 2), [[0.0, 1.0]]), "lam_hat must be a finite scalar or 2 values"),
])
def test_tangent_refuses_bad_input_in_one_line(make, message):
    with pytest.raises(ValueError, match=message) as e:
        make()
    assert "\n" not in str(e.value)
