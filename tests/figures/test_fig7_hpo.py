"""The appendix comparison: every black-box method finds a known optimum, expected improvement on
hand-computed cases, trial time counted, Optuna reproducible by seed, the per-weight trainer
against Algorithm 1, the figure's summary numbers on hand-made curves, and resuming a run."""
import dataclasses
import re
import time

import numpy as np
import pytest
from scipy.stats import norm

from checkout import checkout_env
from experiments import fig7_hpo
from hypernet import algorithms, data, models, optim
from hypernet.baselines import blackbox, many_linear
from experiments.harness import cpu_clock, job_cache, runner

OPT = np.array([0.3, -0.2, 0.1])


def quadratic(lams):
    """A 3-D bowl with its minimum 1.0 at OPT; the 'weights' are the lams themselves."""
    lams = np.asarray(lams, float)
    return 1.0 + np.sum((lams - OPT[:lams.shape[1]]) ** 2, axis=1), lams


class TrialCount:
    """A timer that counts finished trials: budget=n means n trials."""

    def __init__(self, trial):
        self.n, self.trial = 0, trial

    def __call__(self, lams):
        self.n += len(lams)
        return self.trial(lams)

    def timer(self):
        return float(self.n)


def run(proposer, n, batch=1, H=3):
    counted = TrialCount(lambda lams: quadratic(np.asarray(lams)[:, :H]))
    return blackbox.search(proposer, counted, budget=n, batch=batch, test_of=lambda w: -1.0, timer=counted.timer)


@pytest.mark.parametrize("make, n, batch, tol", [
    (lambda: blackbox.RandomSearch(-1, 1, 2, seed=0), 2000, 50, 0.05),
    (lambda: blackbox.GPEI(-1, 1, 2, seed=0, n_init=5, n_candidates=2000), 30, 1, 0.03),
    (lambda: blackbox.TPE(-1, 1, 2, seed=0), 300, 1, 0.08),
], ids=["random", "gp_ei", "tpe"])
def test_each_method_finds_the_minimum_of_a_quadratic(make, n, batch, tol):
    res = run(make(), n, batch, H=2)
    best = res["best_valid"][-1]
    assert best - 1.0 < tol ** 2 * 2  # within tol of OPT in each of the 2 coordinates
    assert res["trials"] == n and np.all(np.diff(res["best_valid"]) < 0)
    assert np.all(res["best_test"] == -1.0)  # the test loss of each new best was asked for


@pytest.mark.parametrize("make", [blackbox.RandomSearch, blackbox.GlobalDecay, blackbox.GPEI, blackbox.TPE])
@pytest.mark.parametrize("box, says", [((-1, 1, 0, 0), "n_hyper must be a positive integer, got 0"),
                                       ((-1, 1, "two", 0), "n_hyper must be a positive integer, got 'two'"),
                                       ((-1, 1, 2.5, 0), "n_hyper must be a positive integer, got 2.5"),
                                       ((1, -1, 2, 0), "needs finite numbers low < high"),
                                       ((-1, float("nan"), 2, 0), "needs finite numbers low < high"),
                                       ((-1, 1, 2, "a"), "seed must be a non-negative integer")])
def test_a_proposer_refuses_a_bad_box_in_one_line(make, box, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        make(*box)


def test_gp_ei_refuses_bad_settings():
    for kw, says in (({"n_init": 0}, "n_init must be a positive integer"),
                     ({"n_candidates": 1.5}, "n_candidates must be a positive integer"),
                     ({"restarts": -1}, "restarts must be a non-negative integer")):
        with pytest.raises(ValueError, match=says):
            blackbox.GPEI(-1, 1, 2, 0, **kw)


def test_gp_ei_beats_random_search_at_the_same_number_of_trials():
    """30 trials: GP-EI uses what it has seen; random search does not."""
    gp_best = run(blackbox.GPEI(-1, 1, 3, seed=1, n_init=5), 30, H=3)["best_valid"][-1]
    rs_best = run(blackbox.RandomSearch(-1, 1, 3, seed=1), 30, H=3)["best_valid"][-1]
    assert gp_best < 1.01 and rs_best > gp_best


def test_global_decay_searches_one_shared_value():
    prop = blackbox.GlobalDecay(-1, 1, 3, seed=0)
    lams = prop.ask(40)
    assert lams.shape == (40, 3) and np.all(lams == lams[:, :1])
    res = run(blackbox.GlobalDecay(-1, 1, 3, seed=0), 400, batch=40)
    # the best point on the diagonal g * (1, 1, 1) is g = mean(OPT) = 0.0667, loss 1 + sum((OPT - g)^2)
    assert res["best_valid"][-1] == pytest.approx(1 + np.sum((OPT - OPT.mean()) ** 2), abs=1e-3)


def test_expected_improvement_by_hand():
    # mu = best, sd = 1: E[max(-z, 0)] = pdf(0) = 1 / sqrt(2 pi)
    assert blackbox.expected_improvement(0.5, 1.0, 0.5) == pytest.approx(1 / np.sqrt(2 * np.pi))
    # best - mu = 1, sd = 1: 1 * Phi(1) + phi(1) = 0.841345 + 0.241971
    assert blackbox.expected_improvement(0.0, 1.0, 1.0) == pytest.approx(1.0833155, abs=1e-6)
    # sd = 0: the sure gain, or nothing
    assert list(blackbox.expected_improvement([0.2, 0.9], [0.0, 0.0], 0.5)) == pytest.approx([0.3, 0.0])
    # against the integral, by quadrature
    mu, sd, best = 0.3, 0.2, 0.25
    f = np.linspace(mu - 10 * sd, mu + 10 * sd, 200001)
    integral = np.trapezoid(np.maximum(best - f, 0) * norm.pdf(f, mu, sd), f)
    assert blackbox.expected_improvement(mu, sd, best) == pytest.approx(integral, rel=1e-6)


def test_trial_time_is_counted():
    """A trial that burns 0.05 s of CPU: within a 0.3 s budget at most 6 finish, and each finishes
    no earlier than the CPU time its trials and those before it took."""
    def burn(lams):
        t0 = cpu_clock.cpu_seconds()
        while cpu_clock.cpu_seconds() - t0 < 0.05:
            pass
        return quadratic(lams)
    res = blackbox.search(blackbox.RandomSearch(-1, 1, 3, seed=0), burn, budget=0.3)
    assert 1 <= res["trials"] <= 6
    assert np.all(res["t"] >= 0.05 * np.arange(1, res["trials"] + 1) - 1e-9)
    assert res["time_s"] >= 0.05 * res["trials"]


def test_optuna_study_is_reproducible_with_a_seed():
    a, b, c = (run(blackbox.TPE(-1, 1, 3, seed=s), 25)["best_valid"] for s in (5, 5, 6))
    lams = [blackbox.TPE(-1, 1, 3, seed=s) for s in (5, 5, 6)]
    asked = [p.ask(1) for p in lams]
    assert np.array_equal(a, b) and np.array_equal(asked[0], asked[1])
    assert not np.array_equal(asked[0], asked[2])
    assert len(c)


def test_per_weight_trainer_matches_algorithm_1():
    """train_linear with one decay per weight and sd sqrt(1/2) (plain MSE) ends where Algorithm 1
    (autograd, Fig 5's problem) ends, model by model."""
    splits = data.mnist_splits(1000, 200)
    problem = models.make_problem((784, 10), loss="mse", penalty="per_weight")
    rng = np.random.default_rng(0)
    lams, W0 = rng.uniform(-4, 2, (3, 7850)), models.init_weights(rng, 7850, 1e-2, 3)
    batch = data.minibatcher(splits.train, 100, 3, contiguous=True)
    W = many_linear.train_linear(lams, W0, batch, 40, 1e-3, penalty="per_weight", noise_sd=0.5 ** 0.5)
    for s in range(3):
        alone = algorithms.cross_validation(problem, lams[s:s + 1], W0=W0[s], train_batch=batch, valid_data=batch(0),
                                            opt=optim.adam(1e-3), iters=40).W[0]
        assert np.max(np.abs(W[s] - alone)) < 1e-10
    with pytest.raises(ValueError, match="penalty"):
        many_linear.train_linear(lams, W0, batch, 1, 1e-3, penalty="per_layer")


def test_summary_numbers_on_hand_made_curves():
    t = np.arange(1.0, 11.0)
    curves = {"hyper": {"t": t, "valid": np.linspace(1.0, 0.5, 10), "test": np.linspace(1.1, 0.6, 10)},
              "hyper_retrained": {"t": t + 0.5, "valid": np.full(10, 0.9), "test": np.full(10, 1.0)},
              "random": {"t": np.array([2.0, 6.0]), "valid": np.array([0.8, 0.7]), "test": np.array([0.9, 0.8]),
                         "trials": 40, "time_s": 10.0},
              "tpe": {"t": np.array([3.0]), "valid": np.array([0.75]), "test": np.array([0.85]), "trials": 20,
                      "time_s": 10.0}}
    m, s = fig7_hpo.summarise(curves, 0.1)
    assert s["best_peer"] == "random" and s["target_valid"] == 0.7
    assert m["random"]["time_to_target_s"] == 6.0 and m["tpe"]["time_to_target_s"] is None
    # the hypernetwork's curve 1 - 0.5 (k - 1) / 9 at t = k, averaged over its last 1 s (10% of the
    # curve: the evaluations at k - 1 and k), reaches 0.7 at k = 7: (0.722 + 0.667) / 2 = 0.694
    assert m["hyper"]["time_to_target_s"] == 7.0
    assert s["speedup_vs_best_peer"] == pytest.approx(6.0 / 7.0)
    # its final loss: the mean over t >= 0.9 * 10, the evaluations at 9 and 10
    assert m["hyper"]["final_valid"] == pytest.approx((0.5 + 0.5 / 9 + 0.5) / 2) and m["hyper_retrained"]["time_to_target_s"] is None
    assert m["random"]["trials_per_s"] == 4.0
    assert m["hyper"]["best_eval"] == pytest.approx({"t": 10.0, "valid": 0.5, "test": 0.6})  # its lowest evaluation


def test_bad_configs_are_refused_before_any_work():
    for bad, says in ((dict(problems=("h11",)), "problems must be"),
                      (dict(budget_s={"h10": 0.0, "h7850": 1.0}), "budget_s"),
                      (dict(methods={"paper": ("grid",)}), "methods"), (dict(robust_seeds=()), "robust_seeds"),
                      (dict(ablations={"h10": ({"lr": 1e-5},)}), r"unknown setting\(s\) \['lr'\]"),
                      (dict(ablations={"h10": ({},)}), "non-empty dict"),
                      (dict(ablations={"h10": {"lr_phi": 1e-5}}), "tuple of"),
                      (dict(ablations=None), "must be a dict"),
                      (dict(problems=("h7850",)), "not among problems.*ablations={}"),  # QUICK's ablations are of h10
                      (dict(ablations={"h10": ({"lr_phi": -1e-5},)}), "lr_phi must be a positive finite"),
                      (dict(ablations={"h10": ({"lr_phi": float("nan")},)}), "lr_phi must be a positive finite"),
                      (dict(ablations={"h10": ({"lr_phi": "fast"},)}), "lr_phi must be a positive finite"),
                      (dict(ablations={"h10": ({"lr_phi": True},)}), "lr_phi must be a positive finite"),
                      (dict(ablations={"h10": ({"n_samples": 2.5},)}), "n_samples must be a positive integer"),
                      (dict(ablations={"h10": ({"lr_phi": 1e-4},)}), "changes nothing"),
                      (dict(ablations={"h10": ({"lr_phi": 1e-5, "lr_lam": 1e-5}, {"lr_lam": 1e-5, "lr_phi": 1e-5})}),
                       "repeats"),
                      (dict(robust_budget_s=0.0), "robust_budget_s must be a positive"),
                      (dict(evals=0), "evals must be a positive integer"),
                      (dict(robust_seeds=(-1,)), "robust seed -1 must be a non-negative"),
                      (dict(protocols={"paper": {"h10": (0, 1e-4), "h7850": (100, 1e-4)},
                                       "converged": {"h10": (300, 1e-4), "h7850": (300, 1e-4)}}), "'paper' steps for h10"),
                      (dict(budget_s={"h10": "2", "h7850": 2.0}), "budget_s needs a positive budget for h10")):
        with pytest.raises(ValueError, match=says):
            fig7_hpo.check_config(dataclasses.replace(fig7_hpo.QUICK, **bad))
    # labels keep full precision: settings that differ in the 7th digit are two runs, not one
    two = dataclasses.replace(fig7_hpo.QUICK, ablations={"h10": ({"lr_phi": 1.2e-5}, {"lr_phi": 1.2000004e-5})})
    fig7_hpo.check_config(two)
    assert len(fig7_hpo.ablations_of(two, "h10")) == 2


def test_a_diverging_ablation_is_recorded_and_the_faithful_run_still_fails_loudly(monkeypatch):
    def diverge(*args, **kwargs):
        raise fig7_hpo.checks.DivergedError("Algorithm 3 diverged at step 3: the loss is NaN or Inf")
    monkeypatch.setattr(algorithms, "hypertrain_local", diverge)
    assert fig7_hpo.hyper_job(fig7_hpo.QUICK, "h10", 1.0, "lr_phi=1e-05") == {
        "diverged": "Algorithm 3 diverged at step 3: the loss is NaN or Inf"}
    with pytest.raises(fig7_hpo.checks.DivergedError, match=r"seed 7 \('hyper', 'h10', None, 1.0\): Algorithm 3"):
        fig7_hpo._job(fig7_hpo.QUICK, ("hyper", "h10", None, 1.0))


def test_a_run_resumes_from_its_finished_jobs(tmp_path, monkeypatch):
    """Jobs the cache holds are not run again; the others are, and land in the cache."""
    config = dataclasses.replace(fig7_hpo.QUICK, problems=("h10",), methods={"paper": ("random",), "converged": ()},
                                 workers=1)
    cache = job_cache.JobCache(tmp_path / "jobs")
    jobs = fig7_hpo.jobs_of(config)
    assert len(jobs) == 5  # hyper and random, main seed and one robustness seed; QUICK's 1 ablation (main seed)
    c, job = jobs[0]
    cache.put([fig7_hpo.job_key(config, c.seed, job), []], (c.seed, job, {"marker": 1}), {"host": "elsewhere"})
    ran = []
    monkeypatch.setattr(fig7_hpo, "_job", lambda cfg, j: (ran.append(j), (cfg.seed, j, {"trials": 0, "wall_s": 0.0,
                                                                                         "valid": [0.0]}))[1])
    with runner.session(cache=cache):
        done = fig7_hpo.run_jobs(config)
        assert len(ran) == 4 and job not in ran and done[(c.seed, *job)] == {"marker": 1}
        assert len(cache) == 5
        assert fig7_hpo.run_jobs(config) == done and len(ran) == 4  # everything reused the second time
    # another commit of the code, or other settings, are other jobs
    assert job_cache.JobCache(cache.dir, code="another commit").get([fig7_hpo.job_key(config, c.seed, job), []]) is None
    other = dataclasses.replace(config, lr_phi=3e-4)
    assert cache.get([fig7_hpo.job_key(other, c.seed, job), []]) is None


def test_one_low_spike_does_not_set_the_hypernetworks_time_to_target():
    t = np.arange(1.0, 21.0)
    valid = np.full(20, 0.8)
    valid[4] = 0.6                                   # one spike at t = 5
    valid[15:] = 0.6                                 # reached for good from t = 16
    curves = {"hyper": {"t": t, "valid": valid, "test": valid},
              "hyper_retrained": {"t": t, "valid": valid, "test": valid},
              "random": {"t": np.array([3.0]), "valid": np.array([0.7]), "test": np.array([0.7]), "trials": 9,
                         "time_s": 3.0}}
    m, s = fig7_hpo.summarise(curves, 0.1)
    # the mean over the last 2 s (3 evaluations) is 0.733 at the spike and at t = 16, 0.667 at t = 17
    assert m["hyper"]["time_to_target_s"] == 17.0 and s["speedup_vs_best_peer"] == pytest.approx(3.0 / 17.0)
    assert m["hyper"]["best_eval"]["t"] == 5.0  # the best checkpoint, though, is the spike (the first 0.6)
    assert fig7_hpo.trailing_mean([1.0, 2.0, 3.0], [3.0, 1.0, 2.0], 1.0) == pytest.approx([3.0, 2.0, 1.5])


def test_ablations_run_beside_the_faithful_run_and_share_its_cache(monkeypatch):
    """An ablation is one more hyper-training run (main seed only) with its settings changed; adding
    one keeps the cache of every other run (so a finished PAPER run is not redone)."""
    config = fig7_hpo.PAPER
    jobs = [job for c, job in fig7_hpo.jobs_of(config) if job[0] == "hyper" and job[2] is not None]
    assert jobs == [("hyper", "h10", "lr_phi=3e-05", 1000.0), ("hyper", "h10", "lr_phi=1e-05", 1000.0),
                    ("hyper", "h10", "lr_lam=1e-05, lr_phi=1e-05", 1000.0)]
    plain, job = dataclasses.replace(config, ablations={}), ("random", "h10", "paper", 1000.0)
    assert fig7_hpo.job_key(plain, 7, job) == fig7_hpo.job_key(config, 7, job)
    assert fig7_hpo.job_key(dataclasses.replace(config, lr_phi=1e-5), 7, job) != fig7_hpo.job_key(config, 7, job)
    seen = []

    def stop(*args, **kwargs):
        seen.append((kwargs["opt_phi"].name, kwargs["opt_lam"].name))
        raise StopIteration
    monkeypatch.setattr(algorithms, "hypertrain_local", stop)
    for variant in (None, "lr_phi=1e-05"):
        with pytest.raises(StopIteration):
            fig7_hpo.hyper_job(fig7_hpo.QUICK, "h10", 1.0, variant)
    assert seen == [("adam(lr=0.0001)", "adam(lr=0.0001)"), ("adam(lr=1e-05)", "adam(lr=0.0001)")]


def test_a_run_that_is_not_paper_never_writes_the_committed_results(tmp_path):
    with pytest.raises(ValueError, match="only a PAPER run writes the committed"):
        fig7_hpo.results.save_results(fig7_hpo.FIGURES, "fig7_test_never_written", config_name="QUICK",
                                      config=fig7_hpo.QUICK, metrics={}, timings={}, arrays={})
    assert not (fig7_hpo.FIGURES / "fig7_test_never_written.json").exists()


def test_ctrl_c_ends_the_quick_comparison_within_5_seconds(tmp_path):
    """SIGINT while the worker processes run the methods: the script ends at once, with one line, and
    takes its workers with it (it used to wait some 30 s for the running and queued jobs)."""
    import os
    import signal
    import subprocess
    import sys
    from tests.processes import alive, descendants
    ROOT = fig7_hpo.results.ROOT
    proc = subprocess.Popen([sys.executable, str(ROOT / "experiments" / "fig7_hpo.py"), "--quick", "--out", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=checkout_env(),
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while len([p for p in descendants(proc.pid) if alive(p)]) < 2 and time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    time.sleep(1.0)  # the workers are inside their first jobs
    workers = descendants(proc.pid)
    t0 = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    took = time.perf_counter() - t0
    assert took < 5, took
    assert proc.returncode == 1 and stderr == (f"fig7_hpo: interrupted; nothing was saved, and the results in {tmp_path} "
                                               "are as they were\n"), stderr
    assert not any(alive(p) for p in workers) and not list(tmp_path.glob("fig7_hpo.*"))
    assert os.listdir(tmp_path) == []
