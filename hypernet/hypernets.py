"""Hypernetworks w_phi(lam): flat parameters phi -> a function from S hyperparameter samples
(S, H) to S flat weight vectors (S, D), evaluated as one or two matrix products (no loop over S).

    linear      w = lam A + c                       H*D + D parameters
    factorised  w = (lam A + a) B + c               H*K + K + K*D + D   (linear bottleneck of K)
    mlp         w = relu(lam A + a) B + c           H*K + K + K*D + D   (K ReLU hidden units)

Each is a small dense network with layer sizes [H, D] or [H, K, D], phi laid out as every flat
vector here (hypernet/layout.py: A row by row, a, B, c); `apply` is one primitive of
primitives.py (affine for [H, D], two_layer for [H, K, D]), the formula of models.predict.
Two wrappers change what the network is fed: `centred` a fixed lam - offset; `tangent` lam - c
with c re-centred at lam_hat by Algorithms 3 and 4 after every lam_hat step.
"""
from typing import Callable, NamedTuple

import numpy as onp
from autograd.tracer import getval

from . import layout
from .checks import check_count
from .primitives import affine, cols, two_layer


class Hypernet(NamedTuple):
    """A hypernetwork w_phi(lam). Make one with linear, factorised or mlp (optionally wrapped by
    centred or tangent); its starting parameters are phi = hn.init(np.random.default_rng(seed),
    0.01), and hn.apply(phi, lams (S, H)) gives the S weight vectors (S, D)."""
    init: Callable     # init(rng, scale) -> phi, randn * scale, shape (n_params,)
    apply: Callable    # apply(phi, lams (S, H)) -> weights (S, D)
    n_params: int
    n_hyper: int
    n_weights: int
    name: str
    # shift(phi, d (H,)) -> phi' with w_phi'(lam) = w_phi(lam + d): the first layer's bias absorbs d
    # (a += d A). None: the hypernetwork has no affine first layer, so `tangent` cannot follow lam_hat.
    shift: Callable = None
    # recentre(phi, lam_hat (H,)) -> phi' computing the same w(lam), fed lam - lam_hat (`tangent` only).
    recentre: Callable = None

    def follow(self, phi, lam_hat):
        """phi for the hypernetwork after lam_hat moved: the same function w_phi(lam). Algorithms 3
        and 4 call it after every lam_hat step; only a `tangent` hypernetwork changes phi."""
        return phi if self.recentre is None else self.recentre(phi, lam_hat)



def _generator(rng):
    """init's random source: a numpy Generator, or a seed (an int) for np.random.default_rng."""
    if hasattr(rng, "standard_normal"):
        return rng
    if isinstance(rng, bool) or not isinstance(rng, (int, onp.integer)) or rng < 0:
        raise ValueError(f"init takes np.random.default_rng(seed) or a seed (a non-negative int), got {rng!r}")
    return onp.random.default_rng(rng)

def _network(sizes, relu, kind):
    """The hypernetwork that is a dense network of layer sizes [H, D] or [H, K, D]; ReLU hidden
    units if relu, else linear ones."""
    n = layout.size(sizes)
    first = layout.layers(sizes)[0]

    def apply(phi, lams):
        if len(sizes) == 2:
            return affine(lams, phi, first)
        return two_layer(lams, phi, sizes[1], sizes[2], relu=relu)

    def shift(phi, d):
        out = onp.array(phi, float)
        layout.biases(out, first)[...] += onp.asarray(d, float) @ layout.weights(out, first)  # a += d A
        return out
    return Hypernet(lambda rng, scale: scale * _generator(rng).standard_normal(n), apply, n, sizes[0], sizes[-1],
                    f"{kind} {'->'.join(map(str, sizes))}", shift)


def linear(n_hyper, n_weights):
    """w_phi(lam) = lam A + c; 1 -> 7850 has 15,700 parameters (Fig 4), 10 -> 7850 has 86,350 (Fig 6)."""
    check_count(n_hyper=n_hyper, n_weights=n_weights)
    return _network((n_hyper, n_weights), False, "linear")


def factorised(n_hyper, n_bottleneck, n_weights):
    """w_phi(lam) = (lam A + a) B + c: a linear map factorised through a linear bottleneck of K
    units; 7850 -> 10 -> 7850 has 164,860 parameters (Fig 5)."""
    check_count(n_hyper=n_hyper, n_bottleneck=n_bottleneck, n_weights=n_weights)
    return _network((n_hyper, n_bottleneck, n_weights), False, "factorised")


def mlp(n_hyper, n_hidden, n_weights):
    """w_phi(lam) = relu(lam A + a) B + c: one hidden layer of K ReLU units; 1 -> 50 -> 7850 has
    400,450 parameters (Fig 2)."""
    check_count(n_hyper=n_hyper, n_hidden=n_hidden, n_weights=n_weights)
    return _network((n_hyper, n_hidden, n_weights), True, "mlp")


def centred(hn, offset):
    """The hypernetwork of lam - offset: the same function class (the offset folds into the first
    layer's bias), but Adam's steps on the first layer no longer move every bottleneck unit by
    |offset| * H * lr at once (9 * 7850 * 1e-4 ~ 7 for 784-10 if lam ~ -9 went in raw; Fig 5)."""
    if hn.recentre is not None:
        raise ValueError(f"{hn.name} already feeds its network lam - lam_hat; centre the network inside "
                         "tangent(), e.g. tangent(factorised(H, K, D), lam_hat), not outside it")
    return hn._replace(apply=lambda phi, lams: hn.apply(phi, lams - offset))


def tangent(hn, lam_hat):
    """hn fed lam - c, where c follows lam_hat: Algorithms 3 and 4 re-centre c at lam_hat after
    every lam_hat step, and the first layer's bias absorbs the move (a += (c' - c) A), so the
    function w(lam) does not change; only what the optimiser of phi sees does. For a linear hn,
    w = (lam - lam_hat) A + b is the tangent hyperplane at lam_hat of the paper's Section 2.4: A is
    the slope and b the weights at lam_hat, whatever lam_hat is (fed raw lam, the gradient of A
    is lam_hat g plus the small (lam - lam_hat) g that carries the slope). phi = [hn's phi, c]:
    n_params = hn.n_params + H; init starts c at lam_hat (scalar or (H,)). c is not trained: no
    gradient flows into it."""
    if not isinstance(hn, Hypernet) or hn.recentre is not None or hn.shift is None:
        raise ValueError(f"tangent() needs a hypernetwork with an affine first layer (linear, factorised, mlp or "
                         f"centred of one) that does not follow lam_hat yet; got {getattr(hn, 'name', hn)!r}")
    n, H = hn.n_params, hn.n_hyper
    c0 = onp.asarray(lam_hat, float)
    if c0.ndim > 1 or c0.size not in (1, H) or not onp.all(onp.isfinite(c0)):
        raise ValueError(f"tangent(): lam_hat must be a finite scalar or {H} values, one per hyperparameter; "
                         f"got {lam_hat!r}")
    c0 = onp.broadcast_to(c0.ravel(), (H,)).copy()
    def apply(phi, lams):
        return hn.apply(cols(phi, 0, n), lams - getval(phi)[n:])   # getval: c is a constant of the function

    def shift(phi, d):
        return onp.concatenate([hn.shift(phi[:n], d), phi[n:]])

    def recentre(phi, lam_hat):
        phi = onp.asarray(phi, float)
        return onp.concatenate([hn.shift(phi[:n], lam_hat - phi[n:]), lam_hat])
    return Hypernet(lambda rng, scale: onp.concatenate([hn.init(rng, scale), c0]), apply, n + H, H, hn.n_weights,
                    f"{hn.name}, tangent at lam_hat", shift, recentre)
