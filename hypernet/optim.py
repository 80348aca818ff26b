"""Adam (Kingma & Ba 2014) as pure functions with explicit state, so that alternating updates of
a hypernetwork and of hyperparameters each keep their own state, and the update can be
differentiated through (x_new = x - step, never in place)."""
from typing import NamedTuple

import autograd.numpy as np
import numpy as onp
from autograd.tracer import isbox

from . import fastpath
from .checks import check_positive


class AdamState(NamedTuple):
    m: object  # first-moment estimate, same shape as the parameters
    v: object  # second-moment estimate
    t: int     # number of updates taken


def adam_init(x):
    return AdamState(np.zeros_like(x), np.zeros_like(x), 0)


def adam_update(g, state, lr, b1=0.9, b2=0.999, eps=1e-8):
    """Algorithm 1 of Kingma & Ba: returns (step, new_state); apply as x = x - step. The inputs
    are never modified."""
    check_positive(**{"Adam step size lr": lr})
    if isinstance(g, (list, tuple)):
        g = onp.asarray(g, float)
    t = state.t + 1
    if fastpath.ENABLED and _plain(g, state):
        return _adam_arrays(g, state, lr, b1, b2, eps, t)
    m = b1 * state.m + (1 - b1) * g          # first moment
    v = b2 * state.v + (1 - b2) * g ** 2     # second moment
    mhat, vhat = m / (1 - b1 ** t), v / (1 - b2 ** t)  # bias corrections
    return lr * mhat / (np.sqrt(vhat) + eps), AdamState(m, v, t)


def _plain(g, state):
    """Whether the fused update applies: it writes into fresh float arrays, so it takes neither
    scalars nor autograd boxes (an update being differentiated keeps the formulas)."""
    return (isinstance(g, onp.ndarray) and g.ndim > 0 and g.dtype.kind == "f"
            and not isbox(state.m) and not isbox(state.v))


def _adam_arrays(g, state, lr, b1, b2, eps, t):
    """The fast path: the same update on plain arrays in 11 passes over fresh arrays instead of
    14 with 9 temporaries: a hypernetwork has 20 x more parameters than the model, so this is a large part
    of a hyper-training step. Uses lr * mhat / (sqrt(vhat) + eps)
    = lr * c / (1 - b1^t) * m / (sqrt(v) + eps * c) with c = sqrt(1 - b2^t)."""
    m = g - state.m
    m *= 1 - b1
    m += state.m                  # b1 m + (1 - b1) g
    v = g * g
    v -= state.v
    v *= 1 - b2
    v += state.v                  # b2 v + (1 - b2) g^2
    c = (1 - b2 ** t) ** 0.5
    step = onp.sqrt(v)
    step += eps * c
    onp.divide(m, step, out=step)
    step *= lr * c / (1 - b1 ** t)
    return step, AdamState(m, v, t)
