"""Figure 6: the vectorised trainer against Algorithm 1 (autograd), the GP, and run(QUICK)."""
import json

import numpy as np
import pytest

from hypernet import algorithms, data, models, optim
from hypernet.baselines import gp, many_linear
from experiments.harness import local_pool
from experiments.harness.results import ROOT


@pytest.fixture(scope="module")
def splits():
    return data.mnist_splits(2000, 500)


@pytest.fixture(scope="module")
def problem():
    return models.make_problem((784, 10), loss="nll", penalty="per_class")


def _models(S, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-3, 3, (S, 10)), models.init_weights(rng, 7850, 1e-5, S)


def test_vectorised_trainer_matches_one_model_alone(splits, problem):
    """Four models trained as one array (hand-written gradient, in-place Adam) end where each
    model trained alone by Algorithm 1 (autograd, optim.adam) ends, to 1e-10."""
    lams, W0 = _models(4)
    batch = data.minibatcher(splits.train, 100, 3, contiguous=True)
    W = many_linear.train_per_class(lams, W0, batch, 60, 1e-4)
    for s in range(len(lams)):
        alone = algorithms.cross_validation(problem, lams[s:s + 1], W0=W0[s], train_batch=batch, valid_data=batch(0),
                                            opt=optim.adam(1e-4), iters=60).W[0]
        assert np.max(np.abs(W[s] - alone)) < 1e-10
        assert np.max(np.abs(alone - W0[s])) > 1e-3  # the weights did move


def test_chunks_on_threads_match_one_array(splits):
    lams, W0 = _models(5, seed=1)
    batch = data.minibatcher(splits.train, 100, 4, contiguous=True)
    whole = many_linear.train_per_class(lams, W0, batch, 20, 1e-4)
    parts = local_pool.map_chunks(lambda sl: many_linear.train_per_class(lams[sl], W0[sl], batch, 20, 1e-4), 5, 2, 2)
    assert [len(p) for p in parts] == [2, 2, 1]
    np.testing.assert_allclose(np.concatenate(parts), whole, rtol=0, atol=1e-12)


def test_float32_training_and_losses_agree_with_float64(splits):
    lams, W0 = _models(3, seed=2)
    batch = data.minibatcher(splits.train, 100, 5, contiguous=True)
    W64 = many_linear.train_per_class(lams, W0, batch, 100, 1e-4)
    W32 = many_linear.train_per_class(lams, W0, batch, 100, 1e-4, dtype=np.float32)
    X, T = splits.valid.X, splits.valid.T
    l64 = many_linear.valid_losses(W64, X, T)
    np.testing.assert_allclose(many_linear.valid_losses(W32, X, T, dtype=np.float32), l64, atol=1e-5)


def test_valid_losses_match_the_problem(splits, problem):
    _, W = _models(7, seed=3)
    W = W * 1e3  # weights of a trained size, so the loss depends on them
    batch = (splits.valid.X, splits.valid.T)
    np.testing.assert_allclose(many_linear.valid_losses(W, *batch, chunk=3), problem.valid_loss(W, batch), rtol=1e-12)


def test_column_layout_round_trip():
    W = np.random.default_rng(4).standard_normal((3, 7850))
    M, b = many_linear.to_columns(W)
    assert M.shape == (784, 30) and b.shape == (30,)
    assert M[5, 1 * 10 + 7] == W[1, 5 * 10 + 7] and b[2 * 10 + 3] == W[2, 7840 + 3]
    np.testing.assert_array_equal(many_linear.from_columns(M, b), W)


def test_gp_interpolates_its_training_points_and_is_reproducible():
    rng = np.random.default_rng(6)
    lams = rng.uniform(-3, 3, (25, 10))
    y = 0.8 + 0.05 * np.sum(np.exp(0.3 * lams), axis=1)  # smooth, noiseless
    for kind in gp.GP_KINDS:
        fit = gp.fit_gp(lams, y, seed=0, kind=kind)
        np.testing.assert_allclose(fit.predict(lams), y, atol=1e-3 * np.ptp(y))
        np.testing.assert_array_equal(gp.fit_gp(lams, y, seed=0, kind=kind).predict(lams[:5] + 0.1),
                                      fit.predict(lams[:5] + 0.1))
    # The original code's GP has prior mean 0 and no normalisation: far from its data it predicts 0,
    # the tuned GP the mean of its losses.
    far = np.full((1, 10), 1e4)
    assert abs(gp.fit_gp(lams, y, seed=0, kind="paper").predict(far)[0]) < 1e-6 * y.mean()
    assert gp.fit_gp(lams, y, seed=0, kind="tuned").predict(far)[0] == pytest.approx(y.mean(), rel=1e-6)
    with pytest.raises(ValueError, match="kind must be one of"):
        gp.fit_gp(lams, y, seed=0, kind="rbf")


def _fig6():
    from experiments import fig6_gp
    return fig6_gp


def test_run_quick_has_every_metric_and_plots(quick_results):
    fig6 = _fig6()
    record, tmp_path = quick_results("fig6_gp")
    m = record["metrics"]
    assert record["config_name"] == "QUICK"
    assert m["n_train_tuples"] == 25 and m["n_eval_tuples"] == fig6.QUICK.n_eval_tuples
    assert m["hypernet_params"] == 86350
    for key in ("gp", "gp_tuned", "gp_ard", "hyper_fixed", "hyper", "hyper_fixed_s10", "hyper_s10"):
        s = m[key]
        assert set(s) == {"mean_error", "median_error", "std_error", "mean_abs_error", "predicted_best_true_loss"}
        assert s["mean_abs_error"] >= abs(s["mean_error"]) and s["std_error"] > 0
        assert s["predicted_best_true_loss"] >= m["best_true_loss"]
    for key in ("build_train_s", "build_eval_s", "gp_s", "hyper_fixed_s", "hyper_s", "build_train_cpu_s"):
        assert m[key] > 0
    # Both hypernetworks ran for the CPU time building the training tuples took (plus one step).
    assert m["hyper_cpu_s"] >= m["build_train_cpu_s"] and m["hyper_fixed_cpu_s"] >= m["build_train_cpu_s"]
    assert m["hyper_iterations"] > 1 and m["hyper_fixed_iterations"] > 1
    assert record["timings_s"]["total"] > m["build_train_s"] + m["build_eval_s"]
    saved = json.loads((tmp_path / "fig6_gp.json").read_text())
    assert saved["metrics"] == m
    paths = fig6.plot(tmp_path)
    assert [p.suffix for p in paths] == [".png", ".pdf"] and all(p.stat().st_size > 10000 for p in paths)
