"""hypernet/optim.py: each optimiser against its textbook update, written out here step by step on
a tiny problem, and the checks of its arguments."""
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from hypernet import optim

RNG = np.random.default_rng(0)
GRADS = [RNG.standard_normal(3) * 10.0 ** RNG.integers(-3, 2, 3) for _ in range(12)]


def run(opt, x):
    """x after one update per gradient of GRADS (x = x - step), and every step."""
    state, steps = opt.init(x), []
    for g in GRADS:
        step, state = opt.update(g, state)
        x = x - step
        steps.append(step)
    return x, steps


def test_adam_is_kingma_and_ba():
    """Algorithm 1 of Kingma & Ba (2014) with their defaults, one element at a time."""
    x0 = np.array([0.5, -1.0, 2.0])
    x, steps = run(optim.adam(1e-2), x0)
    theta, m, v = x0.tolist(), [0.0] * 3, [0.0] * 3
    for t, g in enumerate(GRADS, start=1):
        for i in range(3):
            m[i] = 0.9 * m[i] + 0.1 * g[i]
            v[i] = 0.999 * v[i] + 0.001 * g[i] ** 2
            theta[i] -= 1e-2 * (m[i] / (1 - 0.9 ** t)) / ((v[i] / (1 - 0.999 ** t)) ** 0.5 + 1e-8)
    np.testing.assert_allclose(x, theta, rtol=1e-13)
    np.testing.assert_allclose(np.abs(steps[0]), 1e-2, rtol=1e-4)  # lr * g / (|g| + eps): lr * sign(g) up to eps / |g|


def test_sgd_is_x_minus_lr_g():
    x0 = np.array([0.5, -1.0, 2.0])
    x, steps = run(optim.sgd(0.1), x0)
    expect = x0.copy()
    for g in GRADS:
        expect = expect - 0.1 * g
    np.testing.assert_array_equal(x, expect)
    np.testing.assert_array_equal(steps[3], 0.1 * GRADS[3])


def test_sgd_momentum_is_heavy_ball():
    """v = m v - lr g, x = x + v (Maclaurin et al. 2015's form); momentum 0 is plain SGD."""
    x0 = np.array([0.5, -1.0, 2.0])
    x, _ = run(optim.sgd_momentum(0.1, 0.9), x0)
    w, vel = x0.copy(), np.zeros(3)
    for g in GRADS:
        vel = 0.9 * vel - 0.1 * g
        w = w + vel
    np.testing.assert_array_equal(x, w)
    np.testing.assert_array_equal(run(optim.sgd_momentum(0.1, 0.0), x0)[0], run(optim.sgd(0.1), x0)[0])


def test_every_optimiser_minimises_a_quadratic():
    """On f(x) = |x - c|^2 / 2 every optimiser ends near c."""
    c = np.array([1.0, -2.0, 0.5])
    for opt in (optim.adam(0.05), optim.sgd(0.1), optim.sgd_momentum(0.05, 0.9)):
        x, state = np.zeros(3), opt.init(np.zeros(3))
        for _ in range(2000):
            step, state = opt.update(x - c, state)
            x = x - step
        np.testing.assert_allclose(x, c, atol=1e-3, err_msg=opt.name)


def test_adam_with_a_step_size_per_row_is_adam_on_each_row():
    """lr of shape (G, 1) on a (G, D) array: row k moves exactly as adam(lr[k]) moves it alone."""
    x0 = np.array([[0.5, -1.0, 2.0], [0.5, -1.0, 2.0], [3.0, 0.0, -0.5]])
    lrs = [1e-4, 1e-2, 3e-3]
    grads = [np.stack([g, -2 * g, g[::-1]]) for g in GRADS]
    if True:  # (one block: the checks below read opt)
        opt = optim.adam(np.array(lrs)[:, None])
        x, state = x0, opt.init(x0)
        for g in grads:
            step, state = opt.update(g, state)
            x = x - step
        for k, lr in enumerate(lrs):
            one, s1 = optim.adam(lr), None
            xk, s1 = x0[k], one.init(x0[k])
            for g in grads:
                step, s1 = one.update(g[k], s1)
                xk = xk - step
            np.testing.assert_array_equal(x[k], xk)
    assert opt.name == "adam(lr=array[0.0001, 0.01, 0.003])"


@pytest.mark.parametrize("make, message", [
    (lambda: optim.adam([[1e-3], [0.0]]), r"lr must be positive finite numbers, got \[0.001, 0.0\]"),
    (lambda: optim.adam([1e-3, 1e-4]), r"lr as an array must be a column of shape \(G, 1\), one step size per model "
                                       r"row, e.g. np.array\(\[1e-4, 1e-3\]\)\[:, None\]; got shape \(2,\)"),
    (lambda: optim.adam(np.full((1, 10), 1e-3)), r"got shape \(1, 10\)"),
    (lambda: optim.adam(np.zeros((0, 1))), r"got shape \(0, 1\)"),
    (lambda: optim.adam(np.full((4, 1), 1e-3)).init(np.zeros((8, 10))),
     r"adam has one step size per model row \(4 rows\) but the parameters have shape \(8, 10\): give lr as a "
     r"column of shape \(G, 1\) for G stacked models \(G, D\)"),
    (lambda: optim.adam(np.full((10, 1), 1e-3)).init(np.zeros(10)), r"parameters have shape \(10,\)"),
    (lambda: optim.adam(0.0), "lr must be a positive finite number, got 0.0"),
    (lambda: optim.adam(float("nan")), "lr must be a positive finite number, got nan"),
    (lambda: optim.sgd(-1e-3), "lr must be a positive finite number, got -0.001"),
    (lambda: optim.sgd_momentum(1e-3, 1.0), r"momentum must be a number in \[0, 1\), e.g. 0.9; got 1.0"),
    (lambda: optim.sgd_momentum(1e-3, -0.1), r"momentum must be a number in \[0, 1\), e.g. 0.9; got -0.1"),
    (lambda: optim.sgd_momentum(1e-3, "0.9"), r"momentum must be a number in \[0, 1\), e.g. 0.9; got '0.9'"),
    (lambda: optim.sgd_momentum(1e-3, None), r"momentum must be a number in \[0, 1\), e.g. 0.9; got None"),
    (lambda: optim.sgd_momentum(1e-3, True), r"momentum must be a number in \[0, 1\), e.g. 0.9; got True"),
    (lambda: optim.sgd_momentum(1e-3, float("nan")), r"momentum must be a number in \[0, 1\), e.g. 0.9; got nan"),
    (lambda: optim.adam(10 ** 400), "lr must be a positive finite number, got 1000"),
    (lambda: optim.adam(Decimal("1e-3")), r"lr must be a positive finite number, got Decimal\('0.001'\)"),
    (lambda: optim.adam([[1e-3], ["fast"]]), r"lr as an array must be a column \(G, 1\) of positive finite numbers"),
    (lambda: optim.adam([[10 ** 400]]), r"lr as an array must be a column \(G, 1\) of positive finite numbers"),
    (lambda: optim.check_optimizer(opt_phi=1e-4), r"opt_phi must be an optimiser of hypernet.optim, e.g. "
                                                   r"opt_phi=optim.adam\(1e-4\); got 0.0001"),
])
def test_bad_arguments_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_fraction_or_other_real_is_a_float_step_size():
    """Any numbers.Real step size (or momentum) runs as its float: the same numbers bit for bit
    (NumPy would keep a Fraction as an object, and autograd's isfinite would fail deep inside)."""
    x0 = np.array([0.5, -1.0, 2.0])
    for make in (optim.adam, optim.sgd, lambda lr: optim.sgd_momentum(lr, Fraction(9, 10))):
        np.testing.assert_array_equal(run(make(Fraction(1, 10000)), x0)[0], run(make(1e-4), x0)[0])
    assert optim.adam(Fraction(1, 10000)).name == "adam(lr=0.0001)"
    assert optim.check_step_size(Fraction(1, 4)) == 0.25 and type(optim.check_step_size(Fraction(1, 4))) is float
    for lr in (1e-4, np.float32(1e-4), 3):  # a Python or NumPy number is kept as it is
        assert optim.check_step_size(lr) is lr
