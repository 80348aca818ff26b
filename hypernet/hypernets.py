"""Hypernetworks w_phi(lam): flat parameters phi -> a function from S hyperparameter samples
(S, H) to S flat weight vectors (S, D), evaluated as one or two matrix products (no loop over S).

    linear      w = lam A + c                       H*D + D parameters
    factorised  w = (lam A + a) B + c               H*K + K + K*D + D   (linear bottleneck of K)
    mlp         w = relu(lam A + a) B + c           H*K + K + K*D + D   (K ReLU hidden units)

Each is a small dense network with layer sizes [H, D] or [H, K, D], phi laid out as every flat
vector here (hypernet/layout.py: A row by row, a, B, c), and its formula is models.predict's.
When fastpath.ENABLED, `apply` computes the same as one primitive of ops.py instead.
"""
import numbers
from typing import Callable, NamedTuple

from . import fastpath, layout, models
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


def _network(sizes, relu, kind):
    """The hypernetwork that is a dense network of layer sizes [H, D] or [H, K, D]; ReLU hidden
    units if relu, else linear ones."""
    n = layout.size(sizes)
    first = layout.layers(sizes)[0]

    def apply(phi, lams):
        if fastpath.ENABLED:
            if len(sizes) == 2:
                return affine(lams, phi, first)
            return two_layer(lams, phi, sizes[1], sizes[2], relu=relu)
        return models.predict(phi, lams, sizes, relu=relu)
    return Hypernet(lambda rng, scale: scale * rng.standard_normal(n), apply, n, sizes[0], sizes[-1],
                    f"{kind} {'->'.join(map(str, sizes))}")


def linear(n_hyper, n_weights):
    """w_phi(lam) = lam A + c; 1 -> 7850 has 15,700 parameters (Fig 4), 10 -> 7850 has 86,350 (Fig 6)."""
    _check(n_hyper=n_hyper, n_weights=n_weights)
    return _network((n_hyper, n_weights), False, "linear")


def factorised(n_hyper, n_bottleneck, n_weights):
    """w_phi(lam) = (lam A + a) B + c: a linear map factorised through a linear bottleneck of K
    units; 7850 -> 10 -> 7850 has 164,860 parameters (Fig 5)."""
    _check(n_hyper=n_hyper, n_bottleneck=n_bottleneck, n_weights=n_weights)
    return _network((n_hyper, n_bottleneck, n_weights), False, "factorised")


def mlp(n_hyper, n_hidden, n_weights):
    """w_phi(lam) = relu(lam A + a) B + c: one hidden layer of K ReLU units; 1 -> 50 -> 7850 has
    400,450 parameters (Fig 2)."""
    _check(n_hyper=n_hyper, n_hidden=n_hidden, n_weights=n_weights)
    return _network((n_hyper, n_hidden, n_weights), True, "mlp")


def centred(hn, offset):
    """The hypernetwork of lam - offset: the same function class (the offset folds into the first
    layer's bias), but Adam's steps on the first layer no longer move every bottleneck unit by
    |offset| * H * lr at once (9 * 7850 * 1e-4 ~ 7 for 784-10 if lam ~ -9 went in raw; Fig 5)."""
    return hn._replace(apply=lambda phi, lams: hn.apply(phi, lams - offset))
