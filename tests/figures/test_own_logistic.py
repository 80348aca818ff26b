"""experiments/own_logistic.py: the user-written losses against a loop, lam <-> scikit-learn's C
(scikit-learn's solution zeroes the gradient of train_loss at lam = -log(2 C N)), and Algorithms 2
and 3 against scikit-learn's lam* over a grid of C (the full run, seed 0)."""
import contextlib
import io

import numpy as np
import pytest
from autograd import grad

from experiments import own_logistic as ol

TRAIN, VALID = ol.load_data(ol.FULL.n_train)


@pytest.fixture(scope="module")
def full_run():
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        lam_star, best, runs = ol.main([])
    return lam_star, best, runs, printed.getvalue()


def test_losses_are_batched_over_weight_vectors():
    rng = np.random.default_rng(0)
    W, lams = rng.standard_normal((3, 31)), rng.standard_normal((3, 1))
    X, y = TRAIN
    loop = [np.mean(np.log1p(np.exp(-y * (X @ w[:-1] + w[-1])))) + np.exp(lam[0]) * w[:-1] @ w[:-1]
            for w, lam in zip(W, lams)]
    np.testing.assert_allclose(ol.train_loss(W, lams, TRAIN), loop, rtol=1e-12)


@pytest.mark.parametrize("lam", [-6.0, -4.0, -1.5])
def test_lam_is_scikit_learns_C(lam):
    """At C = 1 / (2 N e^lam), scikit-learn's minimiser is where our train_loss has zero gradient."""
    w = ol.sklearn_fit(lam, *TRAIN)
    g = grad(lambda W: ol.train_loss(W, np.array([[lam]]), TRAIN)[0])(w[None])
    assert np.max(np.abs(g)) < 1e-6


def test_both_algorithms_land_near_scikit_learns_lam_star(full_run):
    lam_star, best, runs, printed = full_run
    assert -6.0 < lam_star < -2.0  # interior: the grid spans [-8, 1]
    for name, (lam, hypernet_valid, sklearn_valid, _) in runs.items():
        assert abs(lam - lam_star) <= ol.TOL, name
        assert sklearn_valid < 1.02 * best, name   # scikit-learn's model at the lam found is nearly the best
    assert "NOT within" not in printed and f"{lam_star:7.3f}" in printed
