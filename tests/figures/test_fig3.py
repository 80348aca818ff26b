"""Figure 3: the QUICK run's metrics against closed forms, the saved results, the figure and
--plot-only without results."""
import dataclasses
import json

import numpy as np
import pytest

from experiments import fig3_manifold as fig3

KEYS = {"lam_hat", "best_response_max_abs_error", "w_grid_step", "best_response_max_abs_dLdw", "tangent_intercept",
        "tangent_slope", "implicit_slope", "hypergrad_best_response", "hypergrad_linear", "hypergrad_finite_difference",
        "hypergrad_closed_form", "lam_star", "valid_at_lam_star", "w_at_lam_star", "lam_star_linear",
        "valid_at_lam_star_linear", "w_at_lam_star_linear", "lam_grid_step"}


@pytest.fixture(scope="module")
def quick_run(quick_results):
    return quick_results("fig3_manifold")


def test_quick_run_has_every_metric_and_saves_results(quick_run):
    record, out = quick_run
    assert set(record["metrics"]) == KEYS
    assert record["config_name"] == "QUICK" and record["timings_s"]["total"] > 0
    assert json.loads((out / "fig3_manifold.json").read_text())["metrics"] == record["metrics"]
    _, a = fig3.results.load_results(out, "fig3_manifold")
    n = fig3.QUICK.surface[2]
    assert a["surface_train"].shape == a["surface_valid"].shape == (n, n)
    assert len(a["lams"]) == len(a["w_best"]) == len(a["valid_linear"]) == fig3.QUICK.dense_lams[2]


def test_best_response_minimises_the_training_loss(quick_run):
    """The grid argmin lies within half a grid step of sin(lam + pi), where dL_T/dw vanishes."""
    m = quick_run[0]["metrics"]
    assert m["w_grid_step"] == pytest.approx(6 / (fig3.QUICK.dense_ws[2] - 1))
    assert m["best_response_max_abs_error"] <= m["w_grid_step"] / 2 + 1e-12
    assert m["best_response_max_abs_dLdw"] < 1e-12


def test_tangent_and_hypergradients_match_closed_forms(quick_run):
    """At lam_hat = 0 the tangent of w* is w = -lam, and d/dlam sin(w(lam)) = cos(0) * (-1) = -1
    through the best response and through the line alike."""
    m = quick_run[0]["metrics"]
    assert m["lam_hat"] == 0.0
    assert abs(m["tangent_intercept"]) < 1e-15
    assert m["tangent_slope"] == pytest.approx(-1.0, abs=1e-10)
    assert m["implicit_slope"] == pytest.approx(-1.0, abs=1e-10)
    assert m["hypergrad_closed_form"] == pytest.approx(-1.0, abs=1e-15)
    for key in ("hypergrad_best_response", "hypergrad_linear"):
        assert m[key] == pytest.approx(m["hypergrad_closed_form"], abs=1e-10)
    assert m["hypergrad_finite_difference"] == pytest.approx(m["hypergrad_closed_form"], abs=1e-8)


def test_validation_minimisers_match_closed_forms(quick_run):
    """L_V(w*(lam)) = -sin(sin lam) and L_V(-lam) = -sin(lam): both smallest at lam = pi/2, with
    weights -1 and -pi/2 and losses -sin(1) and -1."""
    m = quick_run[0]["metrics"]
    step = m["lam_grid_step"]
    for key in ("lam_star", "lam_star_linear"):
        assert abs(m[key] - np.pi / 2) <= step / 2 + 1e-12
    assert m["w_at_lam_star"] == pytest.approx(-1.0, abs=step ** 2)
    assert m["w_at_lam_star_linear"] == pytest.approx(-m["lam_star_linear"], abs=1e-15)
    assert m["valid_at_lam_star"] == pytest.approx(-np.sin(1.0), abs=step ** 2)
    assert m["valid_at_lam_star_linear"] == pytest.approx(-1.0, abs=step ** 2)


def test_another_lam_hat_gives_the_tangent_there(tmp_path):
    """Fitted elsewhere, the line is still the tangent: slope cos(lam_hat + pi), and both
    hypergradients equal the closed form."""
    config = dataclasses.replace(fig3.QUICK, lam_hat=0.7, dense_lams=(-2.0, 2.0, 41), dense_ws=(-3.0, 3.0, 61))
    m = fig3.run(config, tmp_path)["metrics"]
    assert m["tangent_slope"] == pytest.approx(np.cos(0.7 + np.pi), abs=1e-12)
    assert m["implicit_slope"] == pytest.approx(m["tangent_slope"], abs=1e-10)
    for key in ("hypergrad_best_response", "hypergrad_linear"):
        assert m[key] == pytest.approx(m["hypergrad_closed_form"], abs=1e-12)


def test_plot_writes_png_and_pdf(quick_run):
    paths = fig3.plot(quick_run[1])
    assert [p.suffix for p in paths] == [".png", ".pdf"] and all(p.stat().st_size > 10000 for p in paths)


def test_plot_only_without_results_fails_clearly(tmp_path):
    with pytest.raises(SystemExit) as e:
        fig3.main(["--plot-only", "--out", str(tmp_path)])
    assert "no saved results" in str(e.value) and "before --plot-only" in str(e.value)
    assert list(tmp_path.iterdir()) == []
