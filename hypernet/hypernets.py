"""Hypernetworks w_phi(lam): flat parameters phi -> a function from S hyperparameter samples
(S, H) to S flat weight vectors (S, D), evaluated as one or two matrix products (no loop over S).

    linear      w = lam A + c                       H*D + D parameters
    factorised  w = (lam A + a) B + c               H*K + K + K*D + D   (linear bottleneck of K)
    mlp         w = relu(lam A + a) B + c           H*K + K + K*D + D   (K ReLU hidden units)
"""
from typing import Callable, NamedTuple

from .ops import affine, two_layer


class Hypernet(NamedTuple):
    init: Callable     # init(rng, scale) -> phi, randn * scale, shape (n_params,)
    apply: Callable    # apply(phi, lams (S, H)) -> weights (S, D)
    n_params: int
    n_hyper: int
    n_weights: int
    name: str


def _check(**sizes):
    for k, v in sizes.items():
        if int(v) != v or v < 1:
            raise ValueError(f"hypernetwork size {k} must be a positive integer, got {v}")


def _init(n_params):
    return lambda rng, scale: scale * rng.standard_normal(n_params)


def linear(n_hyper, n_weights):
    """w_phi(lam) = lam A + c; 1 -> 7850 has 15,700 parameters (Fig 4), 10 -> 7850 has 86,350 (Fig 6)."""
    _check(n_hyper=n_hyper, n_weights=n_weights)
    H, D = n_hyper, n_weights

    def apply(phi, lams):
        return affine(lams, phi, 0, H, D)  # A = phi[:H D] as (H, D), c = phi[H D:]
    return Hypernet(_init(H * D + D), apply, H * D + D, H, D, f"linear {H}->{D}")


def _two_layer(n_hyper, n_hidden, n_weights, relu, name):
    _check(n_hyper=n_hyper, n_hidden=n_hidden, n_weights=n_weights)
    H, K, D = n_hyper, n_hidden, n_weights

    def apply(phi, lams):  # phi = [A (H, K), a (K), B (K, D), c (D)], each row-major
        return two_layer(lams, phi, K, D, relu)
    n = H * K + K + K * D + D
    return Hypernet(_init(n), apply, n, H, D, f"{name} {H}->{K}->{D}")


def factorised(n_hyper, n_bottleneck, n_weights):
    """Linear map factorised through a linear bottleneck of K units; 7850 -> 10 -> 7850 has
    164,860 parameters (Fig 5)."""
    return _two_layer(n_hyper, n_bottleneck, n_weights, False, "factorised")


def mlp(n_hyper, n_hidden, n_weights):
    """One hidden layer of ReLU units; 1 -> 50 -> 7850 has 400,450 parameters (Fig 2)."""
    return _two_layer(n_hyper, n_hidden, n_weights, True, "mlp")
