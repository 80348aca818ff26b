"""Adam (Kingma & Ba 2014) as pure functions with explicit state, so that alternating updates of
a hypernetwork and of hyperparameters each keep their own state, and the update can be
differentiated through (x_new = x - step, never in place)."""
from typing import NamedTuple

import autograd.numpy as np


class AdamState(NamedTuple):
    m: object  # first-moment estimate, same shape as the parameters
    v: object  # second-moment estimate
    t: int     # number of updates taken


def adam_init(x):
    return AdamState(np.zeros_like(x), np.zeros_like(x), 0)


def adam_update(g, state, lr, b1=0.9, b2=0.999, eps=1e-8):
    """Returns (step, new_state); apply as x = x - step."""
    if lr <= 0:
        raise ValueError(f"Adam step size lr must be positive, got {lr}")
    t = state.t + 1
    m = b1 * state.m + (1 - b1) * g
    v = b2 * state.v + (1 - b2) * g ** 2
    mhat, vhat = m / (1 - b1 ** t), v / (1 - b2 ** t)
    return lr * mhat / (np.sqrt(vhat) + eps), AdamState(m, v, t)
