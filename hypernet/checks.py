"""Checks of the arguments of hypernet.algorithms and hypernet.unrolled, and the watch on a run's
losses: each bad input stops with its own message before any work, and a run that produces NaN or
Inf stops with one that names the algorithm, the step and the likely cause."""
import itertools
import math
import numbers
import os
import sys
import warnings

import autograd.numpy as np


class DivergedError(FloatingPointError):
    """A run produced NaN or Inf."""


class BlowUpWarning(RuntimeWarning):
    """A loss grew by orders of magnitude but stayed finite."""


class Watch:
    """Stops a run that produced NaN/Inf with a message that names the likely cause, and warns
    (once) when a loss grows a thousandfold but stays finite."""

    def __init__(self, algorithm, start):
        self.algorithm, self.start, self.first, self.warned, self.calls = algorithm, start, {}, False, 0

    def __call__(self, step, loss, grad, what="the training loss"):
        loss, first_call = np.asarray(loss), self.calls == 0  # the first call comes before any update
        self.calls += 1
        if first_call and np.all(np.isfinite(loss)) and not np.all(np.isfinite(grad)):
            raise DivergedError(f"{self.algorithm}: the gradient is NaN or Inf at the first step, before any update: "
                                f"{self.start} sit where the loss has no gradient (e.g. all-zero weights under the "
                                "unsquared norm penalty exp(lam) ||w||_2). Initialise away from that point.")
        if not np.all(np.isfinite(loss)):
            cause = ("the starting point already gives a NaN or Inf loss: check the data and the initial values"
                     if first_call else "lower the step sizes or the hyperparameter range and run again")
            raise DivergedError(f"{self.algorithm} diverged at step {step}: {what} is NaN or Inf; {cause}.")
        value = float(np.max(np.abs(loss)))
        first = self.first.setdefault(what, value)
        if not self.warned and value > 1e3 * max(first, 1.0):
            self.warned = True
            warnings.warn(f"{self.algorithm}: {what} grew from {first:.3g} to {value:.3g} by step {step} "
                          "(finite, but blowing up: lower the step sizes)", BlowUpWarning, stacklevel=caller_level())


def caller_level():
    """warnings.warn's stacklevel of the first frame outside this package: the caller's line that
    started the run, not a line of the library."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame, level = frame.f_back, level + 1
    return level


MAX_SEED = 2 ** 32 - 1  # scikit-learn's random_state must be below 2**32


def check_seed(**kw):
    """Seeds are integers in [0, MAX_SEED]."""
    for k, v in kw.items():
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 0 <= v <= MAX_SEED:
            raise ValueError(f"{k} must be a non-negative integer below 2**32, got {v!r}")


def finite_real(v):
    """v if it is a finite real number (not a bool): a Python or NumPy number as it is, another
    numbers.Real (e.g. fractions.Fraction, which NumPy would keep as an object) as a float; else None."""
    try:
        x = None if isinstance(v, bool) or not isinstance(v, numbers.Real) else float(v)
    except (OverflowError, TypeError, ValueError):  # e.g. an int beyond float's range
        return None
    return None if x is None or not math.isfinite(x) else v if isinstance(v, (int, float, np.number)) else x


def check_positive(**kw):
    """Positive finite numbers; returns them as finite_real gives them (one argument: the value)."""
    out = tuple(finite_real(v) for v in kw.values())
    for (k, v), x in zip(kw.items(), out):
        if x is None or not x > 0:
            raise ValueError(f"{k} must be a positive finite number, got {v!r}")
    return out[0] if len(out) == 1 else out


def check_fraction(**kw):
    """Fractions in (0, 1]."""
    for k, v in kw.items():
        if finite_real(v) is None or not 0 < v <= 1:
            raise ValueError(f"{k} must be a number above 0 and at most 1, got {v!r}")


def check_choice(choices, **kw):
    """Each value one of `choices`."""
    for k, v in kw.items():
        if v not in choices:
            raise ValueError(f"{k} must be one of {', '.join(map(repr, choices))}, got {v!r}")


def is_count(v, allow_zero=False):
    """Whether v is an integer >= 1 (>= 0 if allow_zero), not a bool or a float."""
    return not isinstance(v, bool) and isinstance(v, numbers.Integral) and v >= (0 if allow_zero else 1)


def check_count(allow_zero=False, **kw):
    for k, v in kw.items():
        if not is_count(v, allow_zero):
            raise ValueError(f"{k} must be a {'non-negative' if allow_zero else 'positive'} integer, got {v!r}")


def check_layer_sizes(sizes, name="layer_sizes"):
    """(n0, ..., nL): at least two positive integers (not floats)."""
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or len(sizes) < 2 \
            or not all(is_count(n) for n in sizes):
        raise ValueError(f"{name} must be >= 2 positive integers (not floats), (n0, ..., nL); got {sizes!r}")


def check_steps(iters, callback):
    if iters is None:
        if callback is None:
            raise ValueError("iters=None runs until the callback stops it, but no callback was given")
    else:
        check_count(iters=iters, allow_zero=True)


def count_up(iters):
    return itertools.count() if iters is None else range(iters)


def lam_vector(lam, problem, name="lam_hat", extra=False):
    """A scalar or (H,) hyperparameter as a finite float vector (H,); extra: (H + K,), K >= 0
    variables of a lam objective of one's own after the H hyperparameters."""
    check_count(**{"problem.n_hyper": problem.n_hyper})
    given = type(lam).__name__
    try:
        kind = np.asarray(lam).dtype.kind  # (a string such as "1.0" would pass as a float)
        lam = np.atleast_1d(np.asarray(lam, float))
    except (TypeError, ValueError):
        kind = "?"
    if kind not in "iuf":
        raise ValueError(f"{name} must be a number or an array of numbers, got {given}") from None
    if lam.ndim != 1 or (len(lam) < problem.n_hyper if extra else lam.shape != (problem.n_hyper,)):
        raise ValueError(f"{name} has shape {lam.shape}, expected ({problem.n_hyper}{' + K' if extra else ''},)"
                         + (" (a scalar is fine when H = 1)" if not extra else ""))
    if not np.all(np.isfinite(lam)):
        raise ValueError(f"{name} has NaN or Inf values")
    return lam


def checked_losses(fn, name, S, *args):
    """fn(*args), which must be S losses, one per weight vector: a loss function that returns
    another shape (e.g. a scalar mean) is refused at its first call, naming it and both shapes."""
    losses = fn(*args)
    if np.shape(losses) != (S,):
        what = getattr(fn, "__qualname__", None) or repr(fn)
        raise ValueError(f"{name} ({getattr(fn, '__module__', None) or '?'}.{what}) returned shape {np.shape(losses)} "
                         f"for {S} weight vector(s); it must return ({S},), one loss per row of W (S, D)")
    return losses


def batch_at(batch_fn, step, name, *, sizes=None):
    """batch_fn(step) as (X, T) arrays: fully checked at the first step (against the model's layer
    sizes, when given), only for its rows at the others (cheap: a batch may come every step)."""
    if not callable(batch_fn):
        raise ValueError(f"{name} must be a function step -> (X, T); for one fixed batch pass "
                         f"`lambda step: (X, T)`")
    return check_batch(batch_fn(step), f"{name}({step})", sizes=sizes, full=step == 0)


def check_batch(batch, name, *, sizes=None, full=True):
    """(X, T) as arrays (lists are converted) with the same number N >= 1 of rows; full: also
    their columns against the model's layer sizes (when given) and finite values."""
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise ValueError(f"{name} must be (X, T), a pair of arrays; got {type(batch).__name__}")
    try:
        X, T = (b if isinstance(b, np.ndarray) else np.asarray(b, float) for b in batch)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be (X, T) of numbers") from None
    if X.ndim == 0 or T.ndim == 0 or len(X) < 1 or len(X) != len(T):
        raise ValueError(f"{name} must {'return' if name.endswith(')') else 'be'} (X, T) with the same number N >= 1 "
                         f"of rows; got shapes {[np.shape(b) for b in (X, T)]}")
    if full and sizes is not None:  # (a problem of your own may use a 1-D target: not checked)
        x_cols, t_cols = (np.shape(b)[1] if np.ndim(b) == 2 else None for b in (X, T))
        if x_cols not in (None, sizes[0]) or t_cols not in (None, sizes[-1]):
            raise ValueError(f"{name} returned X {np.shape(X)} and T {np.shape(T)}; the model "
                             f"{'-'.join(map(str, sizes))} needs X (N, {sizes[0]}) and T (N, {sizes[-1]})")
    if full and not all(b.dtype.kind not in "fc" or np.all(np.isfinite(b)) for b in (X, T)):
        raise ValueError(f"{name} has NaN or Inf values: check the data")
    return X, T


def start_array(x, name, *shapes):
    """x as a float array of one of `shapes`, with finite values: a starting point (weights, phi)."""
    try:
        x = np.asarray(x, float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers") from None
    if x.shape not in shapes:
        raise ValueError(f"{name} has shape {x.shape}, expected {' or '.join(map(str, shapes))}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} has NaN or Inf values; start from finite values")
    return x


def lam_grid(lams, problem):
    """A grid of hyperparameters as a finite float array (G, H), G >= 1; a 1-D grid (G,) when H = 1."""
    lams = np.asarray(lams, float)
    if lams.ndim == 1 and problem.n_hyper == 1:
        lams = lams[:, None]
    if lams.ndim != 2 or lams.shape[0] < 1 or lams.shape[1] != problem.n_hyper or not np.all(np.isfinite(lams)):
        raise ValueError(f"lams has shape {lams.shape}, expected (G, {problem.n_hyper}) finite values with G >= 1"
                         + (" (or a 1-D grid (G,))" if problem.n_hyper == 1 else ""))
    return lams


def check_problem(problem):
    """A Problem's two functions, counts and (when given) layer sizes, before any work."""
    if not callable(problem.train_loss) or not callable(problem.valid_loss):
        raise ValueError("problem.train_loss and problem.valid_loss must be functions of (W, lams, batch) and (W, batch)")
    check_count(n_weights=problem.n_weights, n_hyper=problem.n_hyper)
    sizes = problem.layer_sizes
    if sizes is not None:
        check_layer_sizes(sizes, "problem.layer_sizes (or None)")
        from .layout import size  # the flat layout's count of weights and biases
        if size(tuple(sizes)) != problem.n_weights:
            raise ValueError(f"problem.layer_sizes {tuple(sizes)} make an MLP of {size(tuple(sizes))} weights and biases, "
                             f"but n_weights is {problem.n_weights}; fix one of them (or leave layer_sizes out)")


def check_compatible(problem, hypernet, phi):
    """phi as a finite float array (n_params,) of a hypernetwork that fits the problem."""
    check_problem(problem)
    if hypernet.n_weights != problem.n_weights or hypernet.n_hyper != problem.n_hyper:
        raise ValueError(f"hypernetwork {hypernet.name} maps {hypernet.n_hyper} hyperparameters to "
                         f"{hypernet.n_weights} weights, but the problem has {problem.n_hyper} and "
                         f"{problem.n_weights}")
    return start_array(phi, "phi", (hypernet.n_params,))
