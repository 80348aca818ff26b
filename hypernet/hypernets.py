"""Hypernetworks w_phi(lam): flat parameters phi -> a function from S hyperparameter samples
(S, H) to S flat weight vectors (S, D), evaluated as one or two matrix products (no loop over S).

    linear      w = lam A + c                       H*D + D parameters
    factorised  w = (lam A + a) B + c               H*K + K + K*D + D   (linear bottleneck of K)
    mlp         w = relu(lam A + a) B + c           H*K + K + K*D + D   (K ReLU hidden units)

phi holds A, (a,) B, c in that order, each row-major. Each `apply` is written as its formula; when
fastpath.ENABLED it computes the same as one primitive of ops.py instead.
"""
import numbers
from math import prod
from typing import Callable, NamedTuple

import autograd.numpy as np

from . import fastpath
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
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"hypernetwork size {k} must be a positive integer, got {v!r}")


def _init(n_params):
    return lambda rng, scale: scale * rng.standard_normal(n_params)


def _unpack(phi, *shapes):
    """The arrays of the given shapes stored one after another in phi, each row-major."""
    arrays, start = [], 0
    for shape in shapes:
        arrays.append(np.reshape(phi[start:start + prod(shape)], shape))
        start += prod(shape)
    return arrays


def linear(n_hyper, n_weights):
    """w_phi(lam) = lam A + c; 1 -> 7850 has 15,700 parameters (Fig 4), 10 -> 7850 has 86,350 (Fig 6)."""
    _check(n_hyper=n_hyper, n_weights=n_weights)
    H, D = n_hyper, n_weights

    def apply(phi, lams):
        if fastpath.ENABLED:
            return affine(lams, phi, 0, H, D)
        A, c = _unpack(phi, (H, D), (D,))
        return lams @ A + c
    return Hypernet(_init(H * D + D), apply, H * D + D, H, D, f"linear {H}->{D}")


def factorised(n_hyper, n_bottleneck, n_weights):
    """w_phi(lam) = (lam A + a) B + c: a linear map factorised through a linear bottleneck of K
    units; 7850 -> 10 -> 7850 has 164,860 parameters (Fig 5)."""
    _check(n_hyper=n_hyper, n_bottleneck=n_bottleneck, n_weights=n_weights)
    H, K, D = n_hyper, n_bottleneck, n_weights

    def apply(phi, lams):
        if fastpath.ENABLED:
            return two_layer(lams, phi, K, D, relu=False)
        A, a, B, c = _unpack(phi, (H, K), (K,), (K, D), (D,))
        return (lams @ A + a) @ B + c
    n = H * K + K + K * D + D
    return Hypernet(_init(n), apply, n, H, D, f"factorised {H}->{K}->{D}")


def mlp(n_hyper, n_hidden, n_weights):
    """w_phi(lam) = relu(lam A + a) B + c: one hidden layer of K ReLU units; 1 -> 50 -> 7850 has
    400,450 parameters (Fig 2)."""
    _check(n_hyper=n_hyper, n_hidden=n_hidden, n_weights=n_weights)
    H, K, D = n_hyper, n_hidden, n_weights

    def apply(phi, lams):
        if fastpath.ENABLED:
            return two_layer(lams, phi, K, D, relu=True)
        A, a, B, c = _unpack(phi, (H, K), (K,), (K, D), (D,))
        return np.maximum(lams @ A + a, 0.0) @ B + c
    n = H * K + K + K * D + D
    return Hypernet(_init(n), apply, n, H, D, f"mlp {H}->{K}->{D}")


def centred(hn, offset):
    """The hypernetwork of lam - offset: the same function class (the offset folds into the first
    layer's bias), but Adam's steps on the first layer no longer move every bottleneck unit by
    |offset| * H * lr at once (9 * 7850 * 1e-4 ~ 7 for 784-10 if lam ~ -9 went in raw; Fig 5)."""
    return hn._replace(apply=lambda phi, lams: hn.apply(phi, lams - offset))
