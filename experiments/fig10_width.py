"""Beyond the paper: how wide should p(lam | lam_hat) be? A labelled ablation of the appendix
comparison's hyper-training (experiments/fig7_hpo.py) in which the width is learned, beside the
faithful run (the paper's fixed N(lam_hat, 1e-5 I)) and the fixed-sigma ablations of
experiments/fig7_ablations.py; it never replaces the faithful run.

    python experiments/fig10_width.py [--quick] [--seed 7] [--out DIR] [--plot-only]

Every run is Algorithm 3 of the comparison's hyper_run (experiments/common/appendix.py: the same
data, hypernetwork, start, seeds, budgets, steps and clock) with one change: one shared log sigma
is a variable of the lam step, after the H hyperparameters, started at the paper's sigma
(sqrt(1e-5)) and stepped by the same Adam as lam_hat (1e-4), on

    E_eps[L_Valid(w_phi(lam_hat + sigma eps))] - tau * entropy(N(lam_hat, sigma^2 I)) / H

(2 draws of eps, the paper's samples per step; the entropy per hyperparameter, log sigma +
log(2 pi e) / 2, so that one tau means the same for h10 and h7850), and the hypernetwork trains at
lam ~ N(lam_hat, sigma^2 I) of the current sigma (hypernet/beyond/learned_width.py; Self-Tuning
Networks, MacKay et al., ICLR 2019). One shared sigma, not one per hyperparameter: the fixed-sigma
ablations it is compared with share one too. tau from `taus`: the lam step's Adam moves log sigma
by about its step size per step whenever tau is larger than the validation loss's own slope in log
sigma, so tau sets where the width stops growing: 1e-3 and 1e-2 span validation losses of 0.5-0.7
changing by 0.1-1% per unit of log sigma.

Both problems at the comparison's budgets (h10 1,000, h7850 850 CPU s) at seed 7 and at its
robustness budget (100 s) at seeds 8-10. The faithful and fixed-sigma runs are read from
<out>/fig7_ablations.json, or the committed figures/fig7_ablations.json, and its run id recorded.

Reported per run: final validation and test NLL (mean of the last 10% of the evaluations), the
learned sigma over time and at the end, and lam_hat's spread; the questions: does the learned
width land in the range of the fixed widths tried by hand, does it end within their noise of
the best of them, and does it end below the faithful run beyond the noise?
"""
import dataclasses
import time
from pathlib import Path

import numpy as np

from hypernet import checks
from experiments.common import appendix, verdicts
from experiments.harness import cli, cpu_clock, job_cache, plotting, results, runner, staging
from experiments.harness.folders import ROOT

FIGURE = "fig10_width"
FIGURES = results.FIGURES
REFERENCE = "fig7_ablations"


@dataclasses.dataclass(frozen=True)
class Config:
    MAY_BE_ZERO = ("taus",)  # --set: tau 0 is the width trained on the validation loss alone
    seed: int = 7
    hpo: appendix.Config = appendix.PAPER  # the faithful settings (budgets, robustness seeds, sigma, steps)
    problems: tuple = ("h10", "h7850")
    taus: tuple = (1e-3, 1e-2)              # entropy weights (per hyperparameter)
    workers: int = 2


PAPER = Config()
QUICK = dataclasses.replace(PAPER, hpo=appendix.QUICK, taus=(1e-2,))


def check_config(config):
    if not isinstance(config.hpo, appendix.Config):
        raise ValueError(f"hpo must be an appendix Config (the faithful settings); got {config.hpo!r}")
    appendix.check_config(config.hpo)
    if not config.problems or set(config.problems) - set(appendix.PROBLEMS) or \
            len(set(config.problems)) != len(config.problems):
        raise ValueError(f"problems must list distinct problems among {list(appendix.PROBLEMS)}, got {config.problems!r}")
    if not config.taus or len(set(config.taus)) != len(config.taus):
        raise ValueError(f"taus must list distinct entropy weights, got {config.taus!r}")
    for t in config.taus:
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not np.isfinite(t) or t < 0:
            raise ValueError(f"each of taus must be a finite number >= 0, got {t!r}")
    checks.check_count(workers=config.workers)


# ---- the reference: the faithful and fixed-sigma runs ----------------------------------------------
def reference(config, out):
    """Per problem, the faithful run's and each fixed-sigma ablation's final validation NLL (seed 7
    and the robustness seeds) and the standard error of their final windows, from
    <out>/fig7_ablations.json, else the committed one."""
    folder = next((f for f in (staging.final_folder(out), FIGURES) if (Path(f) / f"{REFERENCE}.json").exists()), None)
    if folder is None:
        raise ValueError(f"no {REFERENCE} results in {staging.final_folder(out)} nor in {FIGURES}: run "
                         f"`python experiments/{REFERENCE}.py` first (the fixed widths this ablation sits beside)")
    record, a = results.load_results(folder, REFERENCE)
    if results.config_name(config, PAPER, QUICK) == "PAPER" and record["config_name"] != "PAPER":
        raise ValueError(f"{folder}/{REFERENCE}.json holds a {record['config_name']} run; the PAPER run compares with "
                         f"the PAPER run of {REFERENCE}: run `python experiments/{REFERENCE}.py` first")
    m, f = record["metrics"], record["config"]["hpo"]["final_fraction"]
    ref = {"file": str(Path(staging.final_folder(folder)) / f"{REFERENCE}.json"), "run_id": record["run_id"],
           "config_name": record["config_name"]}
    try:
        for p in config.problems:
            r, committed = m.get(p, {}), m["reference"][p]
            runs = {}
            if "faithful" in r:
                runs["faithful"] = r["faithful"]
            for key, run in r.items():
                if key.startswith("sigma=") and "diverged" not in run:
                    runs[key] = run
            cell = {k: {"sigma": float(k.split("=")[1]) if k != "faithful" else record["config"]["hpo"]["sigma"],
                        "final_valid": v["final_valid"], "robust_final_valid": v["robust"]["final_valid"]["values"],
                        "se": cpu_clock.final_se({"t": a[f"{p}_run{v['index']}_t"],
                                                  "valid": a[f"{p}_run{v['index']}_valid"]}, f)}
                    for k, v in runs.items()}
            if "faithful" not in cell:  # not run again there: the comparison's own faithful run
                cell["faithful"] = {"sigma": record["config"]["hpo"]["sigma"],
                                    "final_valid": committed["hyper_final_valid"],
                                    "robust_final_valid": committed["robust_final_valid"]["hyper"]["values"], "se": 0.0}
            ref[p] = cell
    except (KeyError, TypeError) as e:
        raise ValueError(f"{folder}/{REFERENCE}.json has no {e}: it was made by another version of {REFERENCE}.py; "
                         "run it again") from None
    if str(ROOT) in ref["file"]:
        ref["file"] = str(Path(ref["file"]).relative_to(ROOT))
    return ref


# ---- the runs (jobs) -----------------------------------------------------------------------------
def width_job(config, seed, name, tau, budget_s):
    hpo = dataclasses.replace(config.hpo, seed=seed)
    t0 = time.perf_counter()
    out, lams = appendix.hyper_run(hpo, name, budget_s, tau=tau)
    return seed, name, tau, dict(out, wall_s=time.perf_counter() - t0)


def jobs_of(config):
    hpo, todo = config.hpo, []
    for seed, robust in [(config.seed, False)] + [(s, True) for s in hpo.robust_seeds]:
        for name in config.problems:
            for tau in config.taus:
                todo.append((seed, name, tau, hpo.robust_budget_s if robust else hpo.budget_s[name]))
    return sorted(todo, key=lambda j: -j[3])  # longest first


def tau_key(tau):
    return f"tau={tau:g}"


def summary(r, fraction):
    c = {k: r[k] for k in ("t", "valid", "test")}
    return {"final_valid": cpu_clock.final(c, fraction), "final_test": cpu_clock.final(c, fraction, "test"),
            "final_se": cpu_clock.final_se(c, fraction), "best_valid": float(np.min(r["valid"])),
            "steps": int(r["steps"]), "sigma_final": float(r["sigma"][-1]),
            "sigma_max": float(np.max(r["sigma"])), "sigma_min": float(np.min(r["sigma"])),
            "lam_sd_final": float(r["lam_sd"][-1]), "lam_mean_final": float(r["lam_mean"][-1])}


def run(config=PAPER, out=FIGURES):
    check_config(config)
    ref = reference(config, out)  # before any work: the comparison needs it
    print(f"[{FIGURE}] the faithful and fixed-sigma runs it is compared with: {ref['file']} (a {ref['config_name']} "
          f"run, {ref['run_id']})", flush=True)
    t0 = time.perf_counter()
    done = {}
    with runner.open(config.workers) as r:
        for job in jobs_of(config):
            r.submit(width_job, config, *job, key=job_cache.run_key(FIGURE, config, *job),
                     label=f"{job[0]}_{job[1]}_{tau_key(job[2])}")
        for j in r.as_completed():
            seed, name, tau, res = j.result
            done[(seed, name, tau)] = res
            print(f"[{FIGURE}] seed {seed} {name} {tau_key(tau)}: valid {res['valid'][-1]:.4f}, sigma "
                  f"{res['sigma'][-1]:.3g}, {res['steps']} steps, {r.progress(j)}", flush=True)
    fraction, hpo = config.hpo.final_fraction, config.hpo
    metrics = {"reference": ref, "budget_s": {p: hpo.budget_s[p] for p in config.problems},
               "robust": {"seeds": list(hpo.robust_seeds), "budget_s": hpo.robust_budget_s}}
    arrays = {}
    for p in config.problems:
        metrics[p] = {}
        for tau in config.taus:
            s = summary(done[(config.seed, p, tau)], fraction)
            rob = [summary(done[(seed, p, tau)], fraction) for seed in hpo.robust_seeds]
            s["robust"] = {k: results.stats([x[k] for x in rob]) for k in ("final_valid", "sigma_final")}
            metrics[p][tau_key(tau)] = s
            arrays |= {f"{p}_{tau_key(tau)}_{k}": done[(config.seed, p, tau)][k]
                       for k in ("t", "valid", "test", "sigma", "lam_sd")}
    timings = {"total": time.perf_counter() - t0}
    return results.save_results(out, FIGURE, config_name=results.config_name(config, PAPER, QUICK), config=config,
                                metrics=metrics, timings=timings, arrays=arrays)


# ---- the figure -------------------------------------------------------------------------------
def plot(out=FIGURES):
    import matplotlib.ticker
    record, a = results.load_results(out, FIGURE)
    m, config = record["metrics"], record["config"]
    problems, taus = config["problems"], config["taus"]
    fig, axes = plotting.figure(2, len(problems), figsize=(5.2 * len(problems), 7.5), layout="constrained",
                                squeeze=False)
    colors = {t: f"C{2 + i}" for i, t in enumerate(taus)}
    kind = m["reference"]["config_name"]  # the reference runs' config, named where it is not this run's
    tag = "" if kind == record["config_name"] else f" ({kind} runs)"
    for col, p in enumerate(problems):
        ref = m["reference"][p]
        top, bottom = axes[0, col], axes[1, col]
        for tau in taus:
            k = f"{p}_{tau_key(tau)}"
            top.plot(a[f"{k}_t"], a[f"{k}_sigma"], color=colors[tau], label=f"learned, τ = {tau:g}")
            bottom.plot(a[f"{k}_t"], a[f"{k}_valid"], color=colors[tau], label=f"learned, τ = {tau:g}")
        for key, cell in ref.items():
            if key == "faithful":
                name = f"faithful: the paper's fixed σ = {cell['sigma']:.2g} (bottom: its final){tag}"
                top.axhline(cell["sigma"], color="k", lw=1, ls="--", label=name)
                bottom.axhline(cell["final_valid"], color="k", lw=1, ls="--", label=name)
            else:
                top.axhline(cell["sigma"], color="0.6", lw=0.8, ls=":")
                top.annotate(f"σ = {cell['sigma']:g}", (1.0, cell["sigma"]), xycoords=("axes fraction", "data"),
                             ha="right", va="bottom", fontsize=8, color="0.4")
                bottom.axhline(cell["final_valid"], color="0.6", lw=0.8, ls=":")
        if len(ref) > 1:  # one legend entry for every fixed-sigma ablation
            top.plot([], [], color="0.6", lw=0.8, ls=":", label=f"fixed-σ ablations of fig7_ablations (bottom: finals){tag}")
        top.set_yscale("log")
        top.set_ylabel("σ of p(λ | λ̂)")
        top.set_title(f"{results.unless_paper(record)}{p}, {m['budget_s'][p]:g} CPU s")
        bottom.set_ylabel("Validation NLL of w_φ(λ̂)")
        bottom.set_xlabel("Compute time (s)")
        bottom.set_yscale("log")  # every curve whole: from the start far above to the plateau
        for ax in (top, bottom):
            ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
            lo, hi = ax.get_ylim()  # minor labels only where a decade holds few of them
            ax.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%g") if hi / lo < 10
                                         else matplotlib.ticker.NullFormatter())
            if 10 <= hi / lo < 1000:  # one to three decades: 1, 2, 5 of each, at least three labels
                ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    handles = {}
    for ax in axes.ravel():
        handles |= dict(zip(*reversed(ax.get_legend_handles_labels())))
    fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    return plotting.save(fig, out, FIGURE)


# ---- the questions, as claims ---------------------------------------------------------------------
def noise(run, cell):
    """Twice the larger standard error of the two runs' final windows."""
    return 2 * max(run["final_se"], cell["se"])


def decide(m, p, key):
    """The three answers for one learned-width run (key 'tau=...') of problem p."""
    r, ref = m[p][key], m["reference"][p]
    fixed = {k: c for k, c in ref.items() if k != "faithful"}
    faithful = ref["faithful"]
    out = {}
    if fixed:
        sig = [c["sigma"] for c in fixed.values()]
        best = min(fixed.values(), key=lambda c: c["final_valid"])
        out["in_hand_range"] = min(sig) <= r["sigma_final"] <= max(sig)
        out["within_noise_of_best_fixed"] = r["final_valid"] <= best["final_valid"] + noise(r, best)
    base = faithful["robust_final_valid"]
    k = sum(a < b for a, b in zip(r["robust"]["final_valid"]["values"], base))
    out["below_faithful"] = r["final_valid"] < faithful["final_valid"] - noise(r, faithful) and 2 * k > len(base)
    return out


QUESTIONS = {
    "in_hand_range": ("the learned width lands in the range of the fixed widths tried by hand",
                      "the learned sigma at the end (seed 7) lies between the smallest and the largest sigma of "
                      "fig7_ablations' fixed-sigma ablations of that problem"),
    "within_noise_of_best_fixed": ("… and ends within noise of the best fixed width, without being chosen",
                                   "the final validation NLL (mean of the last 10% of the evaluations, seed 7) is at "
                                   "most the best fixed-sigma ablation's plus twice the larger standard error of the "
                                   "two final windows"),
    "below_faithful": ("the learned width ends below the faithful run (the paper's fixed sigma)",
                       "the final validation NLL is below the faithful run's by more than twice the larger standard "
                       "error of the two final windows, and below it on most robustness seeds"),
}


def claims(record, seeds_record=None):
    """The three questions on `record` (<out>/fig10_width.json), one unit per (problem, tau); a
    problem without fixed-sigma ablations answers only the last. Plain data, see
    experiments/common/verdicts.py."""
    m, c = record["metrics"], record["config"]
    out = []
    for q, (statement, rule) in QUESTIONS.items():
        units, holds, numbers = [], [], {}
        for p in c["problems"]:
            for tau in c["taus"]:
                d = decide(m, p, tau_key(tau))
                if q in d:
                    units.append(f"{p} {tau_key(tau)}")
                    holds.append(d[q])
                    numbers[f"{p} {tau_key(tau)}"] = {"final_valid": m[p][tau_key(tau)]["final_valid"],
                                                      "sigma_final": m[p][tau_key(tau)]["sigma_final"]}
        if units:
            cl = verdicts.claim("beyond (learned width)", statement, holds, units, rule, unit="run",
                                seeds=[c["seed"]], runs=numbers)
            cl["key"] = q
            out.append(cl)
    return out


def main(argv=None):
    cli.main(FIGURE, run, plot, paper=PAPER, quick=QUICK, argv=argv, description=__doc__, check=check_config)


if __name__ == "__main__":
    main()
