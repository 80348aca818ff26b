"""The appendix comparison of Lorraine & Duvenaud (2018, extended version, "Random Search and
Bayesian Optimization Baselines"), extended: Algorithm 3 against random search, Bayesian
optimisation (GP + expected improvement) and Optuna's TPE sampler, at equal compute time, on 10 and
on 7,850 hyperparameters of the linear MNIST model.

    python experiments/fig7_hpo.py [--quick] [--seed 7] [--out DIR] [--plot-only]

Problems (the same model, data and splits as the figures they come from):
- h10: one decay per digit class, penalty (1/10) sum_i exp(lam_i) ||W[:, i]||_2, Gaussian NLL
  (sd 0.1), train = MNIST [0, 50000) as 100-point windows, valid = [50000, 60000) (Fig 6);
  search box lam in [-3, 3]^10 (Fig 6's), Algorithm 3 starts at lam_hat = 0 (its centre) with
  Fig 6's linear hypernetwork 10 -> 7850 (init randn * 1e-5).
- h7850: one decay per weight, penalty sum_j exp(lam_j) w_j^2, MSE training loss, train / valid
  = MNIST [0, 10000) / [10000, 20000) (Fig 5 top); Algorithm 3 exactly as Fig 5 (factorised
  hypernetwork 7850 -> 10 -> 7850, init randn * 0.01, fed lam + 9, lam_hat = -9 everywhere).
  The paper gives no box for this problem: random search and TPE sample [-12, -6]^7850, Fig 5's
  starting decay +- 3 (the width of h10's box).
- Test = the first 10,000 MNIST test images for both. Every loss reported is the Gaussian NLL with
  sd 0.1, the appendix figure's scale; for h7850 that is 50 * MSE - 1.384 (the same ranking).
Algorithm 3 (as Figs 4 and 5): p(lam | lam_hat) = N(lam_hat, 1e-5 I), 2 samples per step, Adam
1e-4 for phi and for lam_hat, 100 training points and 1,000 validation points per step. What it
delivers at time t: the weights w_phi(lam_hat_t) ("hyper"), and a model retrained from scratch at
lam_hat_t by a black-box trial ("hyper_retrained", drawn at t + the CPU time of one trial).

Black-box methods: a trial trains the linear model at lam and returns its validation loss on the
full validation set; its training is part of the method's time. Two trial protocols:
- paper: Fig 6's, 1,000 Adam steps of 1e-4 from randn * 1e-5 on 100-point windows;
- converged: the same at `converged` steps / step size per problem, where doubling the steps no
  longer improves the validation loss by more than 1% (measured; see the README).
Random search and the global decay (one decay for all hyperparameters, random in the box; the
"hand-tuned" line, converged protocol only) train `random_batch` trials as one array (they are
independent); a batch's trials count as done when the batch is. GP-EI (h10 only, as the paper)
and TPE propose one trial at a time (hypernet/baselines/blackbox.py).

Compute: every method runs in its own process with one BLAS thread, `workers` at a time, and its
time is its CPU time (hypernet/budget.cpu_seconds; evaluations of the current best on the test set and of the
hypernetwork's weights every budget / evals seconds are off the clock). Budgets, read off the
appendix figure's x-axes: 1,000 s (h10) and 850 s (h7850). A robustness run repeats every method
for `robust_seeds` at `robust_budget_s` (they may include --seed: a robustness run is a shorter run).
Ablations (labelled, beside the faithful run, never instead of it): hyper-training of h10 again at
the same budget with other settings (`ablations`; main seed only; see Config). With Figure 6's
linear hypernetwork fed raw lam, one Adam step on phi moves w_phi(lam_hat) by up to
lr_phi * (1 + sum_i |lam_hat_i|), so the weights it delivers train with a larger effective step than
a trial's as lam_hat spreads; smaller steps test that.
Every method run is a job (experiments/harness/runner.py: `workers` processes here, or a Dask cluster with
--scheduler). A finished one is kept in <out>/.fig7_hpo.jobs/ (experiments/harness/job_cache.py: keyed by its
settings and the git commit of the code, which metrics.job_commits records) until the figure is
saved, so an interrupted run started again resumes where it stopped. Adding an ablation keeps the
other runs' keys. Delete the folder to start over.
"""
import dataclasses
import itertools
import time

import numpy as np

from hypernet import checks, data, models
from hypernet.baselines import blackbox, many_linear
from experiments.common.appendix import (  # noqa: F401  (Config, PAPER, QUICK: the figure's settings, re-exported)
    BLACKBOX, PAPER, PROBLEMS, QUICK, Config, check_config, hyper_run, nll, setup, trial_noise_sd)
from experiments.harness.jobs import error_line
from experiments.harness import cli, cpu_clock, job_cache, results, runner, plotting
from experiments.common import verdicts

FIGURE = "fig7_hpo"
FIGURES = results.FIGURES

# The problems, the settings (Config, PAPER, QUICK, check_config) and Algorithm 3's run (hyper_run)
# are in experiments/common/appendix.py: the ablations (experiments/fig7_ablations.py) share them.
METHODS = ("hyper", "hyper_retrained", "random", "gp_bo", "tpe", "global_decay")
LABELS = {"hyper": r"Hyper-training (Alg. 3), $w_\phi(\hat\lambda)$", "hyper_retrained": r"Retrained at $\hat\lambda$",
          "random": "Random search", "gp_bo": "Bayesian opt. (GP-EI)", "tpe": "Optuna TPE",
          "global_decay": "One shared decay, random search (hand-tuned)"}
ABLATION_STYLES = (dict(color="0.3", ls=":"), dict(color="C8", ls="-."), dict(color="C9", ls=":"),
                   dict(color="C7", ls="-."))


def not_run(method, name, protocol):
    """Why a method has no result for this problem and protocol."""
    if method == "gp_bo" and name != "h10":
        return "as in the paper, Bayesian optimisation runs on the 10-hyperparameter problem only"
    if method == "global_decay":
        return "the hand-tuned baseline runs under the converged protocol only"
    return f"not among the config's methods for the {protocol} protocol (compute; see the README)"


def ablations_of(config, name):
    """{label: settings} of a problem's ablations; the label names every setting at full precision
    (it also names the cached run)."""
    return {", ".join(f"{k}={x!r}" for k, x in sorted(v.items())): v for v in config.ablations.get(name, ())}


# ---- the black-box methods' trials ------------------------------------------------------------
def make_trial(config, name, protocol, splits, key):
    """trial(lams (n, H)) -> (validation NLL (n,), weights (n, D)): n models trained at once by the
    protocol's Adam steps; every call has its own initial weights and minibatch sequence."""
    P, (iters, lr), calls = PROBLEMS[name], config.protocols[protocol][name], itertools.count()
    noise_sd = trial_noise_sd(P)

    def trial(lams):
        k = next(calls)
        W0 = models.init_weights(np.random.default_rng([config.seed, key, k]), 7850, config.trial_init, len(lams))
        batch = data.minibatcher(splits.train, config.trial_batch, results.seed_of(config, key, k), contiguous=True)
        W = many_linear.train_linear(np.asarray(lams, float), W0, batch, iters, lr, penalty=P.penalty, noise_sd=noise_sd,
                            dtype=np.dtype(config.dtype))
        return nll(W, splits.valid, config), W
    return trial


# ---- the jobs, each in a worker process -----------------------------------------------------
def hyper_job(config, name, budget_s, variant=None):
    """Algorithm 3 for budget_s CPU seconds (hyper_run), then, off the clock, a model retrained from
    scratch at each evaluated lam_hat under every trial protocol. variant: the label of an ablation
    (None: the paper's settings)."""
    P, splits, problem = setup(config, name)
    if variant is not None:
        config = dataclasses.replace(config, **ablations_of(config, name)[variant])
    try:
        out, lams = hyper_run(config, name, budget_s)
    except checks.DivergedError as e:
        if variant is None:
            raise
        return {"diverged": error_line(e, kind=False)}  # an ablation that diverges is a result, not a failed run
    for i, protocol in enumerate(config.protocols):
        trial = make_trial(config, name, protocol, splits, 100 + i)
        t0 = cpu_clock.cpu_seconds()
        trial(lams[-1:])  # what one retraining costs, alone as a sequential trial is
        cost = cpu_clock.cpu_seconds() - t0
        valid, W = zip(*(trial(lams[j:j + 32]) for j in range(0, len(lams), 32)))
        out[f"retrained_{protocol}"] = {"t": out["t"] + cost, "valid": np.concatenate(valid),
                                        "test": np.concatenate([nll(w, splits.test, config) for w in W]),
                                        "cost_s": cost}
    return out


def blackbox_job(config, name, protocol, method, budget_s):
    """One black-box method for budget_s CPU seconds (cpu_clock.cpu_seconds), trials included."""
    P, splits, problem = setup(config, name)
    key = 200 + 10 * list(config.protocols).index(protocol) + BLACKBOX.index(method)
    make = {"random": blackbox.RandomSearch, "global_decay": blackbox.GlobalDecay, "tpe": blackbox.TPE,
            "gp_bo": lambda lo, hi, H, seed: blackbox.GPEI(lo, hi, H, seed, n_init=config.gp_init,
                                                           n_candidates=config.gp_candidates)}[method]
    proposer = make(*P.box, problem.n_hyper, results.seed_of(config, key))
    batch = config.random_batch if method in ("random", "global_decay") else 1
    res = blackbox.search(proposer, make_trial(config, name, protocol, splits, key), budget=budget_s, batch=batch,
                          test_of=lambda w: nll(w, splits.test, config)[0])
    lam = res.pop("best_lam")
    return dict(res, best_lam_mean=None if lam is None else float(lam.mean()),
                best_lam_sd=None if lam is None else float(lam.std()))


def _job(config, job):
    """One method run (a job, one BLAS thread, its own process): (seed, job, result)."""
    kind, name, protocol, budget_s = job
    t0 = time.perf_counter()
    try:  # a hyper job's third slot names its ablation (None: the faithful run)
        out = hyper_job(config, name, budget_s, protocol) if kind == "hyper" else blackbox_job(
            config, name, protocol, kind, budget_s)
    except (FloatingPointError, ValueError, RuntimeError) as e:  # say which of the runs failed
        raise type(e)(f"{FIGURE}: seed {config.seed} {job}: {e}") from e
    return config.seed, job, dict(out, wall_s=time.perf_counter() - t0)


def jobs_of(config):
    """[(config with the run's seed, (method, problem, protocol, budget))] of the main run and the
    robustness run, longest first (so the two workers finish close together)."""
    todo = []
    for seed, robust in [(config.seed, False)] + [(s, True) for s in config.robust_seeds]:
        c = dataclasses.replace(config, seed=seed)
        for name in config.problems:
            b = config.robust_budget_s if robust else config.budget_s[name]
            todo.append((c, ("hyper", name, None, b)))
            todo += [(c, (m, name, p, b)) for p, ms in config.methods.items() for m in ms
                     if not (m == "gp_bo" and name != "h10")]
            todo += [(c, ("hyper", name, label, b)) for label in ablations_of(config, name) if not robust]
    return sorted(todo, key=lambda cj: -cj[1][3])


def job_key(config, seed, job):
    """A method run's cache key: the config without the list of ablations (a run does not depend
    on the others; an ablation run is named by its settings in `job`), its seed and job."""
    return job_cache.run_key(FIGURE, config, seed, job)


def run_jobs(config):
    """{(seed, method, problem, protocol, budget): result} of every job, `workers` at a time (for
    hyper-training, "protocol" is None, or the label of an ablation)."""
    done = {}
    with runner.open(config.workers) as r:
        for c, job in jobs_of(config):
            r.submit(_job, c, job, key=job_key(config, c.seed, job), label="_".join(map(str, (c.seed, *job))))
        for j in r.as_completed():
            seed, job, out = j.result
            done[(seed, *job)] = out
            if j.reused:
                continue
            kind, name, protocol, b = job
            what = (f"{out['trials']} trial(s), best valid {out['best_valid'][-1]:.4f}" if kind != "hyper" and out["trials"]
                    else "no trial finished within the budget" if kind != "hyper" else
                    out["diverged"] if "diverged" in out else f"valid {out['valid'][-1]:.4f}")
            which = f"{name} hyper (ablation {protocol})" if kind == "hyper" and protocol else \
                " ".join(filter(None, (name, protocol, kind)))
            print(f"[{FIGURE}] seed {seed} {which}: {what}, {r.progress(j)}", flush=True)
    return done


# ---- the numbers -----------------------------------------------------------------------------
def trailing_mean(t, values, window):
    """At each evaluation, the mean of the evaluations in the last `window` seconds up to it: the
    hypernetwork's curve is noisy, and its time to a loss should not be set by one low spike (its
    final loss is a mean over the last 10% of the curve for the same reason)."""
    t, v = np.asarray(t, float), np.asarray(values, float)
    start = np.searchsorted(t, t - window, side="left")
    sums = np.concatenate([[0.0], np.cumsum(v)])
    return (sums[1:] - sums[start]) / (np.arange(1, len(t) + 1) - start)


def curves_of(runs, seed, name, protocol, config, b, variant=None):
    """{method: {"t", "valid", "test"}} for one problem and protocol: the hypernetwork's current
    weights and their retrained models as evaluated (of the ablation `variant`, if given); the
    black-box methods' best so far (a step function, one point per improvement)."""
    h = runs[(seed, "hyper", name, variant, b)]
    out = {"hyper": {k: h[k] for k in ("t", "valid", "test")},
           "hyper_retrained": {k: h[f"retrained_{protocol}"][k] for k in ("t", "valid", "test")}}
    for m in config.methods[protocol]:
        r = runs.get((seed, m, name, protocol, b))
        if r is not None:
            out[m] = {"t": r["best_t"], "valid": r["best_valid"], "test": r["best_test"], "trials": r["trials"],
                      "time_s": r["t"][-1] if r["trials"] else r["time_s"]}  # a round cut by the budget is not counted
    return out


def summarise(curves, fraction):
    """Per method final_valid / final_test / trials / time_to_target_s, and speedup_vs_best_peer."""
    m = {}
    for k, c in curves.items():
        if k.startswith("hyper"):
            i = int(np.nanargmin(c["valid"]))  # the evaluation a researcher keeping the best checkpoint would keep
            m[k] = {"final_valid": cpu_clock.final(c, fraction), "final_test": cpu_clock.final(c, fraction, "test"),
                    "best_eval": {"t": float(c["t"][i]), "valid": float(c["valid"][i]), "test": float(c["test"][i])}}
        else:
            has = len(c["valid"]) > 0
            m[k] = {"final_valid": float(c["valid"][-1]) if has else None,
                    "final_test": float(c["test"][-1]) if has else None, "trials": c["trials"],
                    "trials_per_s": c["trials"] / c["time_s"]}
    peers = {k: v["final_valid"] for k, v in m.items() if not k.startswith("hyper") and v["final_valid"] is not None}
    best = min(peers, key=peers.get) if peers else None
    target = peers[best] if best else None
    for k, c in curves.items():
        v = trailing_mean(c["t"], c["valid"], fraction * c["t"][-1]) if k.startswith("hyper") else c["valid"]
        m[k]["time_to_target_s"] = None if target is None or not len(v) else cpu_clock.first_time(c["t"], v, target)
    hyper_t = m["hyper"]["time_to_target_s"]
    summary = {"best_peer": best, "target_valid": target,
               "speedup_vs_best_peer": (m[best]["time_to_target_s"] / hyper_t) if best and hyper_t else None}
    return m, summary


def run(config=PAPER, out=FIGURES):
    check_config(config)
    t0 = time.perf_counter()
    for name in config.problems:
        setup(config, name)  # the data, loaded before the worker processes fork (they share it)
    runs = run_jobs(config)
    metrics, arrays, robust = {"budget_s": dict(config.budget_s)}, {}, {}
    for name in config.problems:
        metrics[name], robust[name] = {}, {}
        for protocol in config.protocols:
            curves = curves_of(runs, config.seed, name, protocol, config, config.budget_s[name])
            per_method, summary = summarise(curves, config.final_fraction)
            for k in METHODS:  # every method has its entry; one that did not run says why
                if k not in per_method:
                    per_method[k] = {"final_valid": None, "final_test": None, "trials": None, "time_to_target_s": None,
                                     "not_run": not_run(k, name, protocol)}
            metrics[name][protocol] = {**per_method, **summary}
            for k, c in curves.items():
                arrays |= {f"{name}_{protocol}_{k}_{col}": np.asarray(c[col], float) for col in ("t", "valid", "test")}
            seeds = [summarise(curves_of(runs, s, name, protocol, config, config.robust_budget_s),
                               config.final_fraction) for s in config.robust_seeds]
            robust[name][protocol] = {
                k: {col: results.stats([r[0][k][col] for r in seeds]) for col in ("final_valid", "final_test")}
                for k in seeds[0][0]} | {
                "best_by_seed": [min(((k, v["final_valid"]) for k, v in r[0].items() if v["final_valid"] is not None),
                                     key=lambda kv: kv[1])[0] for r in seeds],
                "speedup_vs_best_peer": results.stats([r[1]["speedup_vs_best_peer"] for r in seeds])}
        metrics[name]["ablations"] = {}
        for i, (label, settings) in enumerate(ablations_of(config, name).items()):  # summarised as the faithful run
            r = runs[(config.seed, "hyper", name, label, config.budget_s[name])]
            if "diverged" in r:
                metrics[name]["ablations"][label] = {"settings": settings, **r}
                continue
            ab = {"settings": settings, "hyper_steps": r["steps"],
                  "lam_mean_final": float(r["lam_mean"][-1]), "lam_sd_final": float(r["lam_sd"][-1]),
                  "retrain_cost_s": {p: r[f"retrained_{p}"]["cost_s"] for p in config.protocols}}
            for protocol in config.protocols:
                per_method, summary = summarise(curves_of(runs, config.seed, name, protocol, config,
                                                          config.budget_s[name], label), config.final_fraction)
                ab[protocol] = {k: per_method[k] for k in ("hyper", "hyper_retrained")} | {
                    "speedup_vs_best_peer": summary["speedup_vs_best_peer"]}
            metrics[name]["ablations"][label] = ab
            arrays |= {f"{name}_ablation{i}_{col}": np.asarray(r[col], float) for col in ("t", "valid", "test")}
        h = runs[(config.seed, "hyper", name, None, config.budget_s[name])]
        metrics[name]["hyper_steps"] = h["steps"]
        metrics[name]["hyper_lam_mean_final"] = float(h["lam_mean"][-1])
        metrics[name]["hyper_lam_sd_final"] = float(h["lam_sd"][-1])
        metrics[name]["retrain_cost_s"] = {p: h[f"retrained_{p}"]["cost_s"] for p in config.protocols}
        arrays[f"{name}_hyper_lam_mean"] = h["lam_mean"]
    metrics["robust"] = {"seeds": list(config.robust_seeds), "budget_s": config.robust_budget_s, **robust}
    metrics |= job_cache.code_metrics()  # job_commits: the code every job (reused ones too) is keyed by
    timings = {"_".join(map(str, k)): v["wall_s"] for k, v in runs.items()} | {"total": time.perf_counter() - t0}
    return results.save_results(out, FIGURE, config_name=results.config_name(config, PAPER, QUICK), config=config,
                                metrics=metrics, timings=timings, arrays=arrays)


# ---- the figure ------------------------------------------------------------------------------
def plot(out=FIGURES):
    record, a = results.load_results(out, FIGURE)
    cfg, m = record["config"], record["metrics"]
    problems, protocols = cfg["problems"], list(cfg["protocols"])
    fig, axes = plotting.figure(len(problems), len(protocols) + 1, figsize=(5 * (len(protocols) + 1), 4.4 * len(problems)),
                                squeeze=False, layout="constrained")
    for i, name in enumerate(problems):
        for j, protocol in enumerate(protocols):
            ax = axes[i, j]
            shown = []
            for k, method in enumerate(METHODS):
                key = f"{name}_{protocol}_{method}"
                if f"{key}_t" not in a or not len(a[f"{key}_t"]):
                    continue
                t, style = a[f"{key}_t"], dict(color=f"C{k}", where="post") if method in BLACKBOX else dict(color=f"C{k}")
                draw = ax.step if method in BLACKBOX else ax.plot
                draw(np.append(t, m["budget_s"][name]) if method in BLACKBOX else t,
                     np.append(a[f"{key}_valid"], a[f"{key}_valid"][-1]) if method in BLACKBOX else a[f"{key}_valid"],
                     label=LABELS[method], lw=1.2, **style)
                draw(np.append(t, m["budget_s"][name]) if method in BLACKBOX else t,
                     np.append(a[f"{key}_test"], a[f"{key}_test"][-1]) if method in BLACKBOX else a[f"{key}_test"],
                     ls="--", lw=0.9, **style)
                skip = max(1, len(t) // 10)  # the untrained start, far above: the curves from their first tenth on
                shown.append(np.concatenate([a[f"{key}_valid"][skip:], a[f"{key}_test"][skip:]]))
            ablated = []
            for k, label in enumerate(m[name].get("ablations", {})):  # w_phi(lam_hat) of each ablation, valid.
                if f"{name}_ablation{k}_t" in a:  # (a diverged ablation has no curve)
                    ax.plot(a[f"{name}_ablation{k}_t"], a[f"{name}_ablation{k}_valid"], lw=1.0, **ABLATION_STYLES[k % 4])
                    ablated.append(a[f"{name}_ablation{k}_valid"][1:])  # (its first evaluation is the untrained start)
            vals = np.concatenate(shown) if shown else np.array([])
            vals = vals[np.isfinite(vals)]
            if len(vals):
                lo, hi = vals.min(), vals.max()  # after their start no curve leaves the panel
                if ablated:  # the ablations' curves are in view too
                    hi = max(hi, np.nanmax(np.concatenate(ablated)))
                ax.set_ylim(lo - 0.05 * (hi - lo + 1e-3), hi + 0.1 * (hi - lo + 1e-3))
            else:
                ax.text(0.5, 0.5, "no finite losses", transform=ax.transAxes, ha="center")
            steps = cfg["protocols"][protocol][name]
            ax.set(title=f"{name}: {protocol} protocol ({steps[0]:,} Adam steps of {steps[1]:g})",
                   xlabel="Compute time (s), trials' training included", ylabel="Loss (NLL)")
        ax = axes[i, -1]  # the robustness run: final validation loss, mean +- sd over its seeds
        rob = m["robust"][name]
        for j, protocol in enumerate(protocols):
            for k, method in enumerate(METHODS):
                s = rob[protocol].get(method)
                if s and s["final_valid"]["mean"] is not None and np.isfinite(s["final_valid"]["mean"]):
                    ax.errorbar(j + 0.1 * (k - 2.5), s["final_valid"]["mean"], yerr=s["final_valid"]["sd"], fmt="o",
                                color=f"C{k}", ms=4)
        ax.set_xticks(range(len(protocols)), protocols)
        ax.set(xlim=(-0.6, len(protocols) - 0.4), ylabel="Final valid. loss (NLL)",
               title=f"{name}: {len(m['robust']['seeds'])} seed(s) at {m['robust']['budget_s']:g} s, mean +- sd")
    handles = [axes[0, 0].plot([], [], color=f"C{k}", label=LABELS[method])[0] for k, method in enumerate(METHODS)]
    handles += [axes[0, 0].plot([], [], **ABLATION_STYLES[k % 4], label=f"{name}: Alg. 3, {label} (ablation, valid.)")[0]
                for name in problems for k, label in enumerate(m[name].get("ablations", {}))]
    handles += [axes[0, 0].plot([], [], color="k", ls=ls, label=lab)[0] for ls, lab in (("-", "valid."), ("--", "test"))]
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=9, frameon=False)
    fig.suptitle(f"{record['config_name']}: hyper-training against black-box tuning at equal compute time "
                 "(black-box: best so far; hyper-training: its current lam_hat)", fontsize=11)
    return plotting.save(fig, out, FIGURE)


# ---- the appendix's claims and the rules that decide them ------------------------------------------
NOISE = 0.005  # sd of a model's validation loss over minibatch sequences at a fixed λ of h10 (= fig6_gp.NOISE)
EXCESS = 2 * NOISE  # over-fitting: a test − validation gap above the one shared decay's by more than two such sd


def cells_of(record):
    """[(problem, protocol)] of a record, in the order of its tables."""
    c = record["config"]
    return [(p, q) for p in c["problems"] for q in c["protocols"]]


def overfit_excess(m, p):
    """How much larger hyper-training's test − validation gap on problem p (converged protocol) is than
    that of one shared decay."""
    gap = lambda k: (verdicts.lookup(m, f"{p}.converged.{k}.final_test")  # noqa: E731
                     - verdicts.lookup(m, f"{p}.converged.{k}.final_valid"))
    return gap("hyper") - gap("global_decay")


def robust_same(record):
    """Is hyper-training best on every robustness seed exactly where it is best on the main seed?"""
    m, same = record["metrics"], []
    get = lambda key: verdicts.lookup(m, key)  # noqa: E731
    for p, q in cells_of(record):
        best_main = get(f"{p}.{q}.hyper.final_valid") < get(f"{p}.{q}.target_valid")
        same.append(all((b == "hyper") == best_main for b in get(f"robust.{p}.{q}.best_by_seed")))
    return all(same)


def claims(record, seeds_record=None):
    """The appendix's three claims, decided on the main seed of `record` (<out>/fig7_hpo.json) per
    problem and trial protocol ("setting") or per problem; "robust_same" says whether the robustness
    seeds rank the methods the same (there is no seeds file: `seeds_record` is unused). Plain data, see
    experiments/common/verdicts.py."""
    m, c = record["metrics"], record["config"]
    get = lambda key: verdicts.lookup(m, key)  # noqa: E731
    cells, probs, seeds = cells_of(record), list(c["problems"]), [c["seed"]]
    units = [f"{p} {q}" for p, q in cells]
    robust = dict(robust_same=robust_same(record), robust_seeds=list(c["robust_seeds"]),
                  robust_budget_s=c["robust_budget_s"])
    faster = [(get(f"{p}.{q}.speedup_vs_best_peer") or 0) > 1 for p, q in cells]
    better = [get(f"{p}.{q}.hyper.final_valid") < get(f"{p}.{q}.target_valid") for p, q in cells]
    excess = {p: overfit_excess(m, p) for p in probs}
    return [
        verdicts.claim("appendix", "hyper-training converges faster than random search and Bayesian optimisation",
                       faster, units, "per problem and trial protocol, hyper-training's smoothed curve (the trailing "
                       f"mean over the last {100 * c['final_fraction']:.0f}% of the budget) reaches the best black-box "
                       "method's final validation loss sooner than that method does", unit="setting", seeds=seeds,
                       best_checkpoint_below=[f"{p} {q}" for p, q in cells if get(f"{p}.{q}.hyper.best_eval.valid")
                                              < get(f"{p}.{q}.target_valid")], **robust),
        verdicts.claim("appendix", "… and to a better optimum", better, units,
                       "per problem and trial protocol, hyper-training's final validation loss is below the best "
                       "black-box method's", unit="setting", seeds=seeds, cells=[[p, q] for p, q in cells],
                       final_valid=[get(f"{p}.{q}.hyper.final_valid") for p, q in cells],
                       target_valid=[get(f"{p}.{q}.target_valid") for p, q in cells], **robust),
        verdicts.claim("appendix", "\"significant over-fitting of the hyperparameters to the validation set\"",
                       [excess[p] > EXCESS for p in probs], probs,
                       "per problem (converged protocol), hyper-training's test − validation difference exceeds that "
                       f"of one shared decay (a single hyperparameter) by more than {EXCESS:.2f}, twice the noise of "
                       "one model's validation loss", unit="problem", seeds=seeds, tolerance=EXCESS, excess=excess,
                       **robust)]


def main(argv=None):
    cli.main(FIGURE, run, plot, paper=PAPER, quick=QUICK, argv=argv, description=__doc__, check=check_config)


if __name__ == "__main__":
    main()
