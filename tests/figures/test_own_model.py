"""experiments/own_model.py: the user-written losses against loops and the closed form, the exact
lam* against a bounded scalar search, and Algorithms 2 and 3 against lam* (the full run, seed 0)."""
import contextlib
import io
import time

import numpy as np
import pytest
from autograd import grad
from scipy.optimize import minimize_scalar

from experiments import own_model

TRAIN, VALID = own_model.load_data(own_model.FULL.n_train)


@pytest.fixture(scope="module")
def full_run():
    t0, printed = time.perf_counter(), io.StringIO()
    with contextlib.redirect_stdout(printed):
        lam_star, best, runs = own_model.main([])
    return lam_star, best, runs, time.perf_counter() - t0, printed.getvalue()


def test_split_is_fixed_and_standardised():
    assert TRAIN[0].shape == (40, 10) and VALID[0].shape == (402, 10)
    np.testing.assert_allclose(TRAIN[0].mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(TRAIN[0].std(0), 1, atol=1e-12)


def test_losses_are_batched_over_weight_vectors():
    """Row s of the batched losses is the loss of W[s] at lams[s], written out one model at a time."""
    rng = np.random.default_rng(0)
    W, lams = rng.standard_normal((3, 10)), rng.standard_normal((3, 1))
    X, y = TRAIN
    loop = [np.mean((X @ w - y) ** 2) + np.exp(lam[0]) * w @ w for w, lam in zip(W, lams)]
    np.testing.assert_allclose(own_model.train_loss(W, lams, TRAIN), loop, rtol=1e-12)
    np.testing.assert_allclose(own_model.valid_loss(W, VALID), [np.mean((VALID[0] @ w - VALID[1]) ** 2) for w in W])


@pytest.mark.parametrize("lam", [-3.0, -0.7, 1.5])
def test_best_response_zeroes_the_training_gradient(lam):
    w = own_model.best_response(lam, *TRAIN)
    g = grad(lambda W: own_model.train_loss(W, np.array([[lam]]), TRAIN)[0])(w[None])
    assert np.max(np.abs(g)) < 1e-12


def test_exact_lam_star_is_the_minimiser(full_run):
    """The grid's lam* (step 0.005) agrees with a bounded scalar search, and is interior."""
    lam_star, best = full_run[:2]
    exact = lambda lam: own_model.valid_loss(own_model.best_response(lam, *TRAIN)[None], VALID)[0]  # noqa: E731
    res = minimize_scalar(exact, bounds=(-6, 4), method="bounded", options={"xatol": 1e-8})
    assert abs(lam_star - res.x) <= 0.0025 + 1e-9
    assert best == pytest.approx(exact(lam_star)) and best <= res.fun + 1e-6
    assert -1.0 < lam_star < -0.5 and exact(-6.0) > 1.2 * best and exact(4.0) > 1.5 * best


def test_both_algorithms_land_near_lam_star(full_run):
    """Seed 0 ends 0.116 (Algorithm 2) and 0.036 (Algorithm 3) from lam* = -0.715; over seeds 0-4
    the largest offset was 0.124, so the tolerance is 0.15. Both are within 0.2% of the best
    exact validation loss, and the whole run takes seconds."""
    lam_star, best, runs, seconds, printed = full_run
    assert seconds < 60
    assert len(runs) == 2
    for name, (lam, hypernet_valid, exact_valid, _) in runs.items():
        assert abs(lam - lam_star) < own_model.TOL, name
        assert exact_valid < 1.002 * best, name
        assert abs(hypernet_valid - exact_valid) < 0.01, name  # the hypernetwork's response is accurate at lam
    assert len(printed.splitlines()) == 4 and f"{lam_star:7.3f}" in printed and "NOT within" not in printed


def test_quick_run_is_deterministic():
    first, second = (own_model.run(own_model.QUICK, seed=3) for _ in range(2))
    assert first[:2] == second[:2]
    assert [r[:3] for r in first[2].values()] == [r[:3] for r in second[2].values()]
