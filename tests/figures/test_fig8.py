"""The warm-start comparison (experiments/fig8_warmstart.py): a QUICK run yields every metric and
the figure, it runs Figure 5's own settings, and bad settings are refused before any work."""
import dataclasses
import json

import numpy as np
import pytest

from experiments import fig8_warmstart as f8
from experiments.common import per_weight
from experiments.harness import results

KEYS = {"valid_final", "test_final", "gap_valid_minus_test", "steps", "time_to_hyper_plateau_s", "valid_best"}


def test_quick_run_has_every_metric_and_draws(quick_results):
    record, tmp_path = quick_results("fig8_warmstart")
    m = record["metrics"]
    names = ["hyper", "unrolled"] + [f8.label("warm", w) for w in f8.QUICK.warm]
    for name in names:
        assert KEYS <= set(m[name]), name
    for w in f8.QUICK.warm:
        r = m[f8.label("warm", w)]
        assert r["ends_at_or_below_unrolled"] == (r["valid_final"] <= m["unrolled_valid_final"])
        assert r["peak_memory_mb"] > 0 and isinstance(r["reaches_plateau_within_2x"], bool)
    assert m["robust"]["seeds"] == list(f8.QUICK.robust_seeds)
    assert m["robust"]["warm_K5_lr0.0001"]["ends_at_or_below_unrolled"]["of"] == len(f8.QUICK.robust_seeds)
    # the hyper-training and unrolled curves are Figure 5's jobs with Figure 5's settings
    c5 = f8.fig5_config(f8.QUICK)
    assert (c5.lr_phi, c5.lr_lam, c5.sigma, c5.bottleneck) == (per_weight.PAPER.lr_phi, per_weight.PAPER.lr_lam,
                                                              per_weight.PAPER.sigma, per_weight.PAPER.bottleneck)
    assert [p.suffix for p in map(type(tmp_path), f8.plot(tmp_path))] == [".png", ".pdf"]
    _, arrays = results.load_results(tmp_path, f8.FIGURE)
    assert np.all(np.diff(arrays["hyper_t"]) > 0)


def test_paper_unrolled_setting_is_the_one_figure_5_picked():
    """The PAPER run does not repeat Figure 5's search: it runs the setting the search chose."""
    m = json.loads((results.FIGURES / "fig5_many.json").read_text())["metrics"]
    assert f8.PAPER.unrolled == (m["unrolled_T"], m["unrolled_lr"], m["unrolled_lr_lam"])
    assert f8.PAPER.budget_s == per_weight.PAPER.top_budget_s


@pytest.mark.parametrize("bad, says", [(dict(warm=()), "warm must list"), (dict(warm=((0, 1e-4),)), "K must be"),
                                       (dict(warm=((5, 0.0),)), "lam step of K = 5"),
                                       (dict(warm=((5, 1e-4), (5, 1e-4))), "distinct"),
                                       (dict(robust_budget_s=-1.0), "robust_budget_s"),
                                       (dict(robust_seeds=(-1,)), "robust seed -1")])
def test_bad_settings_refused_before_work(tmp_path, bad, says):
    with pytest.raises(ValueError, match=says):
        f8.run(dataclasses.replace(f8.QUICK, **bad), tmp_path)
    assert not list(tmp_path.iterdir())
