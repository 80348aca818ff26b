"""Hypernetwork families (hypernet/hypernets.py): the paper's parameter counts, the parameter
layout, and S samples at once equal to a loop over the samples."""
import numpy as np
import pytest

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
    with pytest.raises(ValueError, match="hypernetwork size .* must be a positive integer"):
        make(*args)
