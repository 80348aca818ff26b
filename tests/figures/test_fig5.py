"""Figure 5's script: the time-budgeted clock, and a QUICK run that yields every metric."""
import time

import numpy as np
import pytest

from experiments import fig5_many
from experiments.common import per_weight
from experiments.harness import cpu_clock

TOP_KEYS = {"hypernet_params", "top_budget_s", "bottom_s", "hyper_steps", "unrolled_steps", "hyper_valid_final", "hyper_test_final", "unrolled_valid_final",
            "unrolled_test_final", "hyper_time_to_plateau_s", "unrolled_time_to_hyper_final_s", "unrolled_T"}
MODEL_KEYS = {"n_hyper", "end_s", "valid_final", "test_final", "steps", "handtuned_valid", "handtuned_decay",
              "handtuned_steps"}


def test_clock_excludes_evaluation_time_and_stops_at_budget():
    def evaluate(w):
        time.sleep(0.03)   # evaluation is slow; it must not count against the method
        return w, -w
    clock = cpu_clock.Clock(budget=0.2, every=0.05, weights=lambda s: s, evaluate=evaluate, timer=time.perf_counter)
    start, step = time.perf_counter(), 0
    while not clock(step, float(step)):
        time.sleep(0.005)
        step += 1
    wall = time.perf_counter() - start
    curves = clock.curves()
    assert 0.2 <= curves["t"][-1] < 0.25
    assert wall >= 0.2 + 0.03 * len(curves["t"])     # evaluations happened, off the clock
    # One evaluation in each 0.05 s cell of the grid (0, 0.05, 0.1, 0.15), then one at the budget.
    np.testing.assert_array_equal(np.floor(curves["t"][:4] / 0.05), [0, 1, 2, 3])
    assert len(curves["t"]) == 5
    np.testing.assert_array_equal(curves["test"], -curves["valid"])
    np.testing.assert_array_equal(curves["steps_at"], curves["valid"] + 1)  # the step each evaluation came after


def test_truncate_and_final():
    """A curve cut at time `end` is what a run with that budget would have made; "final" is the mean
    of the evaluations in the last 10% of the curve."""
    curve = {"t": np.arange(0.0, 101.0, 10.0), "valid": np.arange(11.0), "test": -np.arange(11.0),
             "steps_at": 100 * np.arange(1, 12), "steps": 1100}
    cut = cpu_clock.truncate(curve, 32.0)
    np.testing.assert_array_equal(cut["t"], [0, 10, 20, 30])
    assert cut["steps"] == 400 and list(cut["valid"]) == [0, 1, 2, 3]
    assert cpu_clock.final(curve, 0.1) == 9.5          # t >= 90: evaluations 9 and 10
    assert cpu_clock.final(cut, 0.1, "test") == -3.0   # t >= 27: the last one


def test_first_time():
    t = np.array([1.0, 2.0, 3.0, 4.0])
    assert cpu_clock.first_time(t, [5, 3, 2, 1], 2.5) == 3.0
    assert cpu_clock.first_time(t, [5, 3, 2, 1], 0.5) is None


def test_scaled_config_scales_every_time_budget_and_nothing_else():
    c = fig5_many.scaled(fig5_many.PAPER, 0.1)
    assert (c.top_budget_s, c.bottom_s, c.search_budget_s, c.eval_every_s) == (100.0, (32.0, 96.0, 115.0), 13.5, 1.0)
    same = {k: getattr(fig5_many.PAPER, k) for k in fig5_many.Config.__dataclass_fields__ if k not in fig5_many.BUDGETS}
    assert {k: getattr(c, k) for k in same} == same
    assert fig5_many.scaled(fig5_many.PAPER, 1) == fig5_many.PAPER
    assert fig5_many.scaled(fig5_many.QUICK, 0.5).bottom_s == (1.0, 1.5)
    for bad in (0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="give a number above 0 and at most 1"):
            fig5_many.scaled(fig5_many.PAPER, bad)
    # a fraction that leaves a budget too short to hold an evaluation: refused before any work, naming the least
    with pytest.raises(ValueError, match=r"budget fraction 1e-09 leaves the shortest time budget 1e-09 CPU s; each "
                                         r"must stay at least 0.1 s: give a fraction of at least 0.1$"):
        fig5_many.scaled(fig5_many.QUICK, 1e-9)
    assert fig5_many.scaled(fig5_many.PAPER, 0.1 / 135).search_budget_s == pytest.approx(0.1)


@pytest.fixture(scope="module")
def quick(quick_results):
    return quick_results("fig5_many")


def test_hand_tuned_grid_as_one_array_is_the_grid_per_step_size():
    """cv_job trains all step sizes x decays as one array with a step size per row; the validation
    losses are those of one array of the decays per step size (the way it was trained before), to
    rounding (measured at 600 PAPER steps: identical; bench/cv_grid.py)."""
    from hypernet import algorithms, data, models, optim
    config, sizes, iters = fig5_many.QUICK, tuple(fig5_many.QUICK.archs[-1]), 40
    splits, problem, full, _ = per_weight.setup(config, sizes, penalty="sq_l2")
    W0 = models.init_weights(np.random.default_rng(per_weight.stream(config, "weights_init")), problem.n_weights,
                             config.init_scale)
    batch = data.minibatcher(splits.train, config.batch, per_weight.stream(config, "train_batches"))
    per_lr = np.array([algorithms.cross_validation(problem, np.array(config.cv_log_decays)[:, None], W0=W0,
                                                   train_batch=batch, valid_data=full(splits.valid),
                                                   opt=optim.adam(lr), iters=iters).valid_losses
                       for lr in config.cv_lrs])
    out = per_weight.cv_job(config, sizes, iters)
    assert out["valid_losses"].shape == (len(config.cv_lrs), len(config.cv_log_decays))
    np.testing.assert_allclose(out["valid_losses"], per_lr, rtol=1e-12, atol=0)
    i, j = np.unravel_index(np.argmin(per_lr), per_lr.shape)
    assert (out["lr"], out["log_decay"]) == (config.cv_lrs[i], config.cv_log_decays[j])
    assert out["valid"] == pytest.approx(per_lr[i, j], rel=1e-12)


def test_quick_run_yields_every_metric(quick):
    record, out = quick
    m = record["metrics"]
    assert record["config_name"] == "QUICK" and record["timings_s"]["total"] > 0
    assert TOP_KEYS <= set(m)
    assert m["hypernet_params"] == 164860          # 7850 -> 10 -> 7850 with biases
    assert m["top_budget_s"] == fig5_many.QUICK.top_budget_s
    for sizes, end in zip(fig5_many.QUICK.archs, fig5_many.QUICK.bottom_s):
        name = per_weight.arch_name(sizes)
        # the hand-tuned grid trains for as many steps as the hypernetwork took up to the curve's end
        assert m[name]["end_s"] == end and m[name]["handtuned_steps"] == m[name]["steps"]
    assert m["unrolled_T"] in [c[0] for c in fig5_many.QUICK.unrolled]
    for sizes in fig5_many.QUICK.archs:
        name = per_weight.arch_name(sizes)
        assert MODEL_KEYS <= set(m[name])
        assert m[name]["n_hyper"] == sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
        assert 0 < m[name]["valid_final"] < 1 and 0 < m[name]["handtuned_valid"] < 1
        assert np.log(m[name]["handtuned_decay"]) == pytest.approx(m[name]["handtuned_log_decay"])
    assert m["784-10"]["n_hyper"] == 7850
    # The unrolled run's validation loss is that of weights trained on the training set: below the
    # 0.1 of predicting all zeros for one-hot targets.
    assert m["unrolled_valid_final"] < 0.1


def test_plot_reads_saved_results(quick):
    record, out = quick
    paths = fig5_many.plot(out)
    assert {p.suffix for p in paths} == {".png", ".pdf"} and all(p.stat().st_size > 10000 for p in paths)
