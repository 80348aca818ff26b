"""Optimisers as pure (init, update) pairs (the shape of optax's), so that the alternating updates
of a hypernetwork and of its hyperparameters each keep their own state, and an update can be
differentiated through (the unrolled baseline does):

    opt = adam(1e-4)
    state = opt.init(x)
    step, state = opt.update(g, state)     # g: the gradient at x
    x = x - step                           # never in place

Every algorithm of hypernet.algorithms and hypernet.unrolled takes its optimisers as arguments.
The inputs of `update` are never modified.
"""
from typing import Callable, NamedTuple

import autograd.numpy as np
import numpy as onp
from autograd.tracer import isbox

from .checks import check_positive, finite_real


class Optimizer(NamedTuple):
    """An optimiser as a pure pair: state = opt.init(x); step, state = opt.update(g, state);
    x = x - step. Make one with adam(lr), sgd(lr) or sgd_momentum(lr, momentum) and pass it to an
    algorithm as opt_phi= / opt_lam= (Algorithm 1 and the unrolled baseline: opt=)."""
    init: Callable    # init(x) -> state
    update: Callable  # update(g, state) -> (step, new state); apply as x = x - step
    name: str         # e.g. "adam(lr=0.0001)", for messages and records

    def __repr__(self):  # its name: help() and messages show adam(lr=0.0001), not two function objects
        return self.name


class AdamState(NamedTuple):
    m: object  # first-moment estimate, same shape as the parameters
    v: object  # second-moment estimate
    t: int     # number of updates taken


def adam(lr, b1=0.9, b2=0.999, eps=1e-8):
    """Adam (Algorithm 1 of Kingma & Ba 2014): step = lr * mhat / (sqrt(vhat) + eps).

    lr is a positive number, or a column of them, shape (G, 1), for parameters that are G models
    stacked as the rows of one (G, D) array: each model gets its own step size (Figure 5's
    hand-tuned grid trains its decays and both step sizes as one array). init refuses parameters
    that are not G rows.

    One formula, adam_step. On plain float arrays it runs as the same operations in the same order
    written into preallocated arrays (bit for bit the same numbers, tested; a hypernetwork has 20 x
    the model's parameters, and the formula's temporaries cost as much as its arithmetic); an update
    that autograd differentiates, or of scalars, runs the formula itself. The in-place trainer of
    many linear models (adam_in_place) steps with the same passes."""
    lr = check_step_size(lr)

    def init(x):
        if isinstance(lr, onp.ndarray) and (onp.ndim(x) != 2 or onp.shape(x)[0] != len(lr)):
            raise ValueError(f"adam has one step size per model row ({len(lr)} rows) but the parameters have shape "
                             f"{onp.shape(x)}: give lr as a column of shape (G, 1) for G stacked models (G, D)")
        return AdamState(np.zeros_like(x), np.zeros_like(x), 0)

    def update(g, state):
        if isinstance(g, (list, tuple)):
            g = onp.asarray(g, float)
        t = state.t + 1
        step, m, v = (_adam_step_in_place if _plain(g, state) else adam_step)(g, state.m, state.v, t, lr, b1, b2, eps)
        return step, AdamState(m, v, t)
    return Optimizer(init, update, f"adam(lr={_show(lr)})")


def sgd(lr):
    """Plain stochastic gradient descent: step = lr * g (the original code's optimiser of the
    hypernetwork in Figure 4). The state is the number of updates taken."""
    lr = check_positive(lr=lr)
    return Optimizer(lambda x: 0, lambda g, t: (lr * g, t + 1), f"sgd(lr={lr!r})")


def sgd_momentum(lr, momentum):
    """SGD with momentum, v = momentum * v - lr * g, x = x + v (step = -v): the inner optimiser of
    the unrolled baseline (Maclaurin et al. 2015). The state is the velocity v."""
    lr, m = check_positive(lr=lr), finite_real(momentum)
    if m is None or not 0 <= m < 1:
        raise ValueError(f"momentum must be a number in [0, 1), e.g. 0.9; got {momentum!r}")
    momentum = m

    def update(g, v):
        v = momentum * v - lr * g
        return -v, v
    return Optimizer(lambda x: np.zeros_like(x), update, f"sgd_momentum(lr={lr!r}, momentum={momentum!r})")


def check_step_size(lr):
    """A positive finite number, or a column (G, 1) of them (one step size per model row); the column
    is returned as a float copy, the number as finite_real gives it (a Fraction as a float)."""
    if isinstance(lr, (list, tuple, onp.ndarray)):
        try:
            a = onp.array(lr, dtype=float)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"lr as an array must be a column (G, 1) of positive finite numbers, got {lr!r}") from None
        if a.ndim != 2 or a.shape[1] != 1 or a.size == 0:
            raise ValueError(f"lr as an array must be a column of shape (G, 1), one step size per model row, e.g. "
                             f"np.array([1e-4, 1e-3])[:, None]; got shape {onp.shape(a)}")
        if not onp.all(onp.isfinite(a) & (a > 0)):
            raise ValueError(f"lr must be positive finite numbers, got {a.ravel().tolist()!r}")
        return a
    return check_positive(lr=lr)


def _show(lr):
    return repr(lr) if not isinstance(lr, onp.ndarray) else f"array{lr.ravel().tolist()!r}"


def check_optimizer(**named):
    """Each argument is an Optimizer, or one line says what to pass instead."""
    for k, opt in named.items():
        if not isinstance(opt, Optimizer):
            raise ValueError(f"{k} must be an optimiser of hypernet.optim, e.g. {k}=optim.adam(1e-4); got {opt!r}")


def adam_in_place(x, g, state, lr, *, scratch, b1=0.9, b2=0.999, eps=1e-8):
    """adam(lr)'s update of plain float arrays applied in place, for trainers that keep many models
    in preallocated arrays (hypernet/baselines/many_linear.py): the same numbers as
    x - update(g, state)[0], written into x, state.m and state.v; scratch (g's shape, not g) holds
    the step. Returns the state of the next step."""
    t = state.t + 1
    step, _, _ = _adam_step_in_place(g, state.m, state.v, t, lr, b1, b2, eps, scratch=scratch)
    x -= step
    return AdamState(state.m, state.v, t)


# ---- Adam's step, once ------------------------------------------------------------------------
def adam_step(g, m, v, t, lr, b1=0.9, b2=0.999, eps=1e-8):
    """Adam's t-th step from gradient g and moments m, v: returns (step, new m, new v).
    lr * mhat / (sqrt(vhat) + eps) with mhat = m / (1 - b1^t), vhat = v / (1 - b2^t), written as
    lr * c / (1 - b1^t) * m / (sqrt(v) + eps * c) with c = sqrt(1 - b2^t) (fewer passes)."""
    m = m + (g - m) * (1 - b1)                   # b1 m + (1 - b1) g
    v = v + (g * g - v) * (1 - b2)               # b2 v + (1 - b2) g^2
    c = (1 - b2 ** t) ** 0.5
    return m / (np.sqrt(v) + eps * c) * (lr * c / (1 - b1 ** t)), m, v


def _plain(g, state):
    """Whether adam_step may run in place: plain float arrays, neither scalars nor autograd boxes
    (an update being differentiated keeps the formula)."""
    return (isinstance(g, onp.ndarray) and g.ndim > 0 and g.dtype.kind == "f"
            and not isbox(state.m) and not isbox(state.v))


def _adam_step_in_place(g, m, v, t, lr, b1=0.9, b2=0.999, eps=1e-8, *, scratch=None):
    """adam_step's operations, in its order, written into preallocated arrays (each line is the
    formula's line of the same name). scratch=None: m and v are left as they are and the results
    are three fresh arrays. scratch an array of g's shape: m and v are updated in place, and the
    step is written into scratch (g must not be scratch)."""
    new_m = onp.subtract(g, m, out=scratch)
    new_m *= 1 - b1
    new_m = onp.add(m, new_m, out=m if scratch is not None else new_m)      # m + (g - m)(1 - b1)
    new_v = onp.multiply(g, g, out=scratch)
    new_v -= v
    new_v *= 1 - b2
    new_v = onp.add(v, new_v, out=v if scratch is not None else new_v)      # v + (g g - v)(1 - b2)
    c = (1 - b2 ** t) ** 0.5
    step = onp.sqrt(new_v, out=scratch)
    step += eps * c
    onp.divide(new_m, step, out=step)
    step *= lr * c / (1 - b1 ** t)                                          # m / (sqrt(v) + eps c) (lr c / (1 - b1^t))
    return step, new_m, new_v
