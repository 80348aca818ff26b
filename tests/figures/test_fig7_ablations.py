"""The ablations of the appendix comparison's hyper-training (experiments/fig7_ablations.py): the
QUICK run records every metric for every run, the tangent run starts where the faithful one does,
bad settings and a missing reference are refused in one line before any work, and the figure is
redrawn from the saved results."""
import dataclasses
import json

import numpy as np
import pytest

from experiments import fig7_ablations as fa
from experiments import fig7_hpo
from experiments.harness import results


@pytest.fixture(scope="module")
def quick(quick_results):
    return quick_results("fig7_ablations")[1]


def test_the_quick_run_has_every_metric(quick):
    record, a = results.load_results(quick, fa.FIGURE)
    m, cfg = record["metrics"], fa.QUICK
    ref = json.loads((fa.FIGURES / "fig7_hpo.json").read_text())
    assert m["reference"]["run_id"] == ref["run_id"] and m["reference"]["file"] == "figures/fig7_hpo.json"
    assert m["reference"]["h10"]["tpe_best_valid"] == ref["metrics"]["h10"]["paper"]["tpe"]["final_valid"]
    assert list(m["h10"]) == ["faithful", "tangent", "sigma=0.3", "tangent, sigma=0.3"] and list(m["h7850"]) == ["tangent"]
    for name in ("h10", "h7850"):
        for key, r in m[name].items():
            assert {"final_valid", "best_valid", "lam_sd_final", "slope_cosine_mean"} <= set(r), (name, key)
            assert r["best_valid"] <= r["final_valid"] + 1e-12 and r["steps"] > 0
            assert len(a[f"{name}_run{r['index']}_lam_sd"]) == len(a[f"{name}_run{r['index']}_t"]) > 2
            assert [d["fraction"] for d in r["diagnostic"]] == list(cfg.diag_at)
            for d in r["diagnostic"]:
                assert len(d["slope_cosine"]) == len(d["dvalid_true"]) == cfg.diag_directions
                assert all(-1 <= c <= 1 for c in d["slope_cosine"]) and d["valid_retrained"] > 0
                assert d["eps"] == pytest.approx(cfg.diag_step * np.sqrt(int(name[1:])))
                assert d["eps_check_cosine"] > 0.99  # the best response is close to linear over +- eps
            assert r["diagnostic"][-1]["t"] == pytest.approx(a[f"{name}_run{r['index']}_t"][-1])
            assert r["robust"]["final_valid"]["n"] == len(cfg.hpo.robust_seeds)
    # the tangent hypernetwork starts as the faithful one: equal after the first step, apart from rounding
    h10 = {k: a[f"h10_run{r['index']}_valid"] for k, r in m["h10"].items()}
    assert h10["tangent"][0] == pytest.approx(h10["faithful"][0], rel=1e-9)
    assert abs(h10["sigma=0.3"][0] - h10["faithful"][0]) > 1e-6 * h10["faithful"][0]  # another p(lam | lam_hat)


def test_the_plot_is_redrawn_from_the_saved_results(quick):
    for ext in ("png", "pdf"):
        (quick / f"{fa.FIGURE}.{ext}").unlink(missing_ok=True)  # (drawn by another test, or not yet)
    fa.main(["--quick", "--out", str(quick), "--plot-only"])
    assert all((quick / f"{fa.FIGURE}.{ext}").stat().st_size > 10000 for ext in ("png", "pdf"))


@pytest.mark.parametrize("change, says", [
    (dict(ablations={"h10": ({"tangent": False},)}), "tangent must be True"),
    (dict(ablations={"h10": ({"sigma": 0.0},)}), "h10 ablation 1: sigma must be a positive finite number"),
    (dict(ablations={"h10": ({"lr_phi": 1e-5},)}), r"must be a non-empty dict of settings among \('tangent', 'sigma'\)"),
    (dict(ablations={"h10": ({},)}), "must be a non-empty dict"),
    (dict(ablations={"h10": {"tangent": True}}), "must be a non-empty dict"),
    (dict(ablations={"h10": ({"sigma": fig7_hpo.PAPER.sigma},)}), "changes nothing"),
    (dict(ablations={"h10": ({"sigma": 0.3}, {"sigma": 0.3})}), "repeats an earlier one"),
    (dict(ablations={"h99": ({"sigma": 0.3},)}), "problems among"),
    (dict(ablations={}, rerun_faithful=()), "some run must be asked for"),
    (dict(rerun_faithful=("h3",)), "rerun_faithful must be among"),
    (dict(diag_at=(0.5, 0.2)), "diag_at must be increasing fractions"),
    (dict(diag_at=(0.0, 1.0)), "diag_at must be increasing fractions"),
    (dict(diag_at=()), "diag_at must be increasing fractions"),
    (dict(diag_directions=0), "diag_directions must be a positive integer"),
    (dict(diag_step=-0.05), "diag_step must be a positive finite number"),
    (dict(diag_protocol="fast"), "diag_protocol must be one of"),
])
def test_bad_settings_are_refused_in_one_line_before_any_work(tmp_path, change, says):
    with pytest.raises(ValueError, match=says) as e:
        fa.run(dataclasses.replace(fa.QUICK, **change), tmp_path)
    assert "\n" not in str(e.value) and list(tmp_path.iterdir()) == []


def test_a_missing_or_unfit_reference_is_refused_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setattr(fa, "FIGURES", tmp_path / "empty")
    with pytest.raises(ValueError, match="no fig7_hpo results in .* run `python experiments/fig7_hpo.py` first"):
        fa.run(fa.QUICK, tmp_path)
    for ext in ("json", "npz"):  # a QUICK comparison next to the out folder: the PAPER ablations refuse it
        (tmp_path / f"fig7_hpo.{ext}").write_bytes((fig7_hpo.FIGURES / f"fig7_hpo.{ext}").read_bytes())
    d = json.loads((tmp_path / "fig7_hpo.json").read_text())
    (tmp_path / "fig7_hpo.json").write_text(json.dumps(d | {"config_name": "QUICK"}))
    monkeypatch.setattr(fa, "run_jobs", lambda config: pytest.fail("no job may start"))
    with pytest.raises(ValueError, match="holds a QUICK run; the PAPER ablations compare with the PAPER run"):
        fa.run(fa.PAPER, tmp_path / ".fig7_ablations.stage-x")
    del d["metrics"]["h7850"]
    (tmp_path / "fig7_hpo.json").write_text(json.dumps(d))
    with pytest.raises(ValueError, match="has no 'h7850'"):
        fa.run(fa.QUICK, tmp_path)


def test_the_paper_jobs():
    """Every ablation at the main seed and paper budget, and on fig7_hpo's robustness seeds at its
    robustness budget; the faithful h10 run too (its diagnostic); each job its own cache key."""
    jobs = fa.jobs_of(fa.PAPER)
    main = [j for s, j in jobs if s == 7]
    assert main == [("hyper", "h10", label, 1000.0) for label in (None, "tangent", "sigma=0.1", "sigma=0.3", "sigma=1.0",
                                                                  "tangent, sigma=0.3")] + [("hyper", "h7850", "tangent", 850.0)]
    assert sorted({s for s, _ in jobs}) == [7, 8, 9, 10] and len(jobs) == 4 * 7
    assert all(j[3] == 100.0 for s, j in jobs if s != 7)
    keys = {json.dumps(fa.job_cache.run_key(fa.FIGURE, fa.PAPER, s, j)) for s, j in jobs}
    assert len(keys) == len(jobs)
