"""The two experiments beyond the paper: the IFT comparison (experiments/fig9_ift.py) and the learned
width (experiments/fig10_width.py). A QUICK run yields every metric, its claims and its figure; the IFT
comparison runs Figure 5's own hyper-training and unrolled jobs and picks its setting by the search's
rule; the learned width really moves sigma and sits beside fig7_ablations' fixed widths; both run on a
Dask cluster through the one runner; bad settings are refused before any work."""
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from experiments import fig9_ift as f9
from experiments import fig10_width as f10
from experiments.common import per_weight
from experiments.harness import results
from experiments.harness.cpu_clock import final

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quick9(tmp_path_factory):
    out = tmp_path_factory.mktemp("fig9")
    return out, f9.run(f9.QUICK, out)


def readable(monkeypatch, module, folder):
    """tests/legibility.py's problems with the figure module.plot() draws from `folder`."""
    import legibility
    from experiments.harness import plotting
    figs = []
    monkeypatch.setattr(plotting, "save", lambda fig, out, figure: figs.append(fig) or [])
    module.plot(folder)
    return legibility.problems(figs[0])


def test_ift_quick_figure_is_readable(monkeypatch, quick9):
    problems = readable(monkeypatch, f9, quick9[0])
    assert not problems, "\n".join(problems)


def test_ift_quick_run_has_every_metric_claim_and_draws(quick9):
    out, record = quick9
    m = record["metrics"]
    names = f9.method_names(record["config"])
    for n in names:
        assert {"valid_final", "test_final", "gap_valid_minus_test", "time_to_hyper_plateau_s", "valid_at",
                "peak_memory_mb"} <= set(m[n]), n
        assert m[n]["peak_memory_mb"] > 0
    assert m["lowest_valid_final"] == min(names, key=lambda n: m[n]["valid_final"])
    assert m["lowest_test_final"] == min(names, key=lambda n: m[n]["test_final"])
    # the setting the IFT runs used is the search's lowest final validation loss
    best = f9.QUICK.search[int(np.argmin([s["valid_final"] for s in m["search"]]))]
    assert tuple(m["ift_setting"]) == best
    for i in f9.QUICK.terms:
        assert (m[f"ift_i{i}"]["N"], m[f"ift_i{i}"]["alpha"], m[f"ift_i{i}"]["lr_lam"]) == best
    claims = f9.claims(record)
    assert {c["key"] for c in claims} == set(f9.QUESTIONS)
    for c in claims:
        assert len(c["robust"]["holds"]) == len(f9.QUICK.robust_seeds)
    by = {c["key"]: c["holds"][0] for c in claims}
    best_ift = min(m[f"ift_i{i}"]["valid_final"] for i in f9.QUICK.terms)
    assert by["ift_at_or_below_hyper"] == (best_ift <= m["hyper"]["valid_final"])
    assert [Path(p).suffix for p in f9.plot(out)] == [".png", ".pdf"]


def test_ift_hyper_and_unrolled_are_figure_5s_jobs():
    c5 = f9.fig5_config(f9.PAPER)
    for k in ("lr_phi", "lr_lam", "sigma", "bottleneck", "n_samples", "valid_batch", "lam_hat0", "momentum"):
        assert getattr(c5, k) == getattr(per_weight.PAPER, k), k
    assert f9.PAPER.budget_s == per_weight.PAPER.top_budget_s
    assert f9.PAPER.search_budget_s == per_weight.PAPER.search_budget_s
    assert len(f9.PAPER.search) == len(per_weight.PAPER.unrolled)  # as many settings as the unrolled search
    import json
    m5 = json.loads((results.FIGURES / "fig5_many.json").read_text())["metrics"]
    assert f9.PAPER.unrolled == (m5["unrolled_T"], m5["unrolled_lr"], m5["unrolled_lr_lam"])


def test_value_at_reads_the_evaluation_made_as_the_clock_passed_t():
    """As first_time reads a curve: at t, the first evaluation at or after t; after the run's end, its last.
    (The last evaluation before t read the PAPER run's values at 10 s from its evaluations at 0.02-2.3 s, while
    the time to hyper-training's plateau, from the evaluations at 10.0-10.4 s, was 10 s.)"""
    curve = {"t": np.array([0.1, 2.0, 4.0]), "valid": np.array([3.0, 2.0, 1.0])}
    assert [f9.value_at(curve, t) for t in (0.05, 1.0, 2.0, 3.9, 4.0, 9.0)] == [3.0, 2.0, 2.0, 1.0, 1.0, 1.0]
    assert f9.value_at({"t": np.array([]), "valid": np.array([])}, 1.0) is None
    assert f9.first_time(curve["t"], curve["valid"], 2.0) == 2.0 and f9.value_at(curve, 2.0) == 2.0


@pytest.mark.parametrize("bad, says", [
    (dict(terms=()), "terms must list"), (dict(terms=(5, 5)), "distinct"), (dict(terms=(-1,)), "terms -1"),
    (dict(search=()), "search must list"), (dict(search=((0, 0.1, 0.1),)), "N of search"),
    (dict(search=((5, -0.1, 0.1),)), "alpha"), (dict(at_s=(1e9,)), "at_s"),
    (dict(robust_seeds=(-1,)), "robust seed -1"), (dict(budget_s=0.0), "budget_s")])
def test_ift_bad_settings_refused_before_work(tmp_path, bad, says):
    with pytest.raises(ValueError, match=says):
        f9.run(dataclasses.replace(f9.QUICK, **bad), tmp_path)
    assert not list(tmp_path.iterdir())


def test_learned_width_quick_moves_sigma_and_sits_beside_the_fixed_widths(tmp_path, monkeypatch):
    config = dataclasses.replace(f10.QUICK, problems=("h10",))
    record = f10.run(config, tmp_path)  # the reference: the committed fig7_ablations (none in tmp_path)
    m = record["metrics"]
    r = m["h10"][f10.tau_key(config.taus[0])]
    start = config.hpo.sigma
    _, arrays = results.load_results(tmp_path, f10.FIGURE)
    sigma = arrays[f"h10_{f10.tau_key(config.taus[0])}_sigma"]
    assert sigma[-1] != pytest.approx(start, rel=1e-3)  # the width is learned: it moved
    assert r["sigma_final"] == pytest.approx(sigma[-1])
    c = {"t": arrays[f"h10_{f10.tau_key(config.taus[0])}_t"], "valid": arrays[f"h10_{f10.tau_key(config.taus[0])}_valid"]}
    assert r["final_valid"] == pytest.approx(final(c, config.hpo.final_fraction))
    ref = m["reference"]["h10"]
    assert "faithful" in ref and any(k.startswith("sigma=") for k in ref)  # beside the fixed widths
    claims = f10.claims(record)
    assert {c["key"] for c in claims} == set(f10.QUESTIONS)
    d = f10.decide(m, "h10", f10.tau_key(config.taus[0]))
    sig = [v["sigma"] for k, v in ref.items() if k != "faithful"]
    assert d["in_hand_range"] == (min(sig) <= r["sigma_final"] <= max(sig))
    assert [Path(p).suffix for p in f10.plot(tmp_path)] == [".png", ".pdf"]
    problems = readable(monkeypatch, f10, tmp_path)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("bad, says", [(dict(taus=()), "taus must list"), (dict(taus=(0.1, 0.1)), "distinct"),
                                       (dict(taus=(-1.0,)), "taus must be"), (dict(problems=("h3",)), "problems"),
                                       (dict(problems=("h10", "h10")), "problems")])
def test_learned_width_bad_settings_refused_before_work(tmp_path, bad, says):
    with pytest.raises(ValueError, match=says):
        f10.run(dataclasses.replace(f10.QUICK, **bad), tmp_path)
    assert not list(tmp_path.iterdir())


def test_both_run_on_a_dask_cluster(cluster, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    smaller = {"fig9_ift": ["--set", "terms=(5,)", "--set", "robust_seeds=(8,)", "--set", "budget_s=1.0",  # every kind
                            "--set", "at_s=(0.5, 1.0)"],  # of job, fewer and shorter
               "fig10_width": ["--set", "problems=('h10',)"]}
    for name in ("fig9_ift", "fig10_width"):
        p = subprocess.run([sys.executable, str(ROOT / "experiments" / f"{name}.py"), "--quick", *smaller[name],
                            "--out", str(tmp_path / name), "--scheduler", cluster], capture_output=True, text=True,
                           env=env, timeout=600)
        assert p.returncode == 0, p.stderr[-2000:]
        record, _ = results.load_results(tmp_path / name, name)
        assert record["config_name"] == "custom"
        assert {j["host"] for j in record["jobs"]}  # every job ran on the cluster and says where


def test_a_run_stopped_by_nan_counts_as_blown_up_in_every_claim():
    """An IFT run that diverged keeps the evaluations before the NaN: its low final window is that of a
    shorter run, so it is never the best IFT, has no gap, and ends above every other run."""
    config = {"terms": (0, 5, 20)}
    run = lambda v, g, diverged=None: {"valid_final": v, "gap_valid_minus_test": g, "diverged": diverged}  # noqa: E731
    m = {"hyper_plateau_level": 1.01 * 0.0417, "hyper": run(0.0417, 0.0015), "unrolled": run(0.0410, 0.0001),
         "ift_i0": run(0.0399, 0.0050, "IFT diverged at step 802"), "ift_i5": run(0.0415, 0.0004),
         "ift_i20": run(0.0412, 0.0002)}
    assert f9.blown(m, "ift_i0") and not f9.blown(m, "ift_i5")
    d = f9.decide(m, config)
    assert d == {"ift_at_or_below_hyper": True, "ift_at_or_below_unrolled": False, "hyper_gap_smallest": True,
                 "neumann_helps": True}
    m["ift_i0"]["diverged"] = None  # the same numbers from a run that finished: it would be the best IFT
    d = f9.decide(m, config)
    assert d["ift_at_or_below_unrolled"] and not d["hyper_gap_smallest"] and not d["neumann_helps"]
    # in the summary: no value after the NaN, never the lowest at a later time nor at the end
    t = np.arange(0.0, 101.0, 10.0)
    curve = lambda level, n=len(t), **extra: {"t": t[:n], "valid": np.full(n, level), "test": np.full(n, level),  # noqa: E731
                                              "steps": 10 * n, **extra}
    runs = {"hyper": curve(0.0417), "unrolled": curve(0.0410), "ift_i0": curve(0.0399, 3, diverged="NaN at step 30"),
            "ift_i5": curve(0.0415), "ift_i20": curve(0.0412)}
    s = f9.summarise(dataclasses.replace(f9.QUICK, at_s=(10.0, 100.0), budget_s=100.0), runs)
    assert s["ift_i0"]["valid_at"] == {"10": 0.0399, "100": None}
    assert s["lowest_valid_at"] == {"10": "ift_i0", "100": "unrolled"}
    assert s["lowest_valid_final"] == s["lowest_test_final"] == "unrolled"
