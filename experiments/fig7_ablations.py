"""Ablations of the appendix comparison's hyper-training (experiments/fig7_hpo.py), labelled and
beside the faithful run: why do the weights Algorithm 3 delivers on 10 hyperparameters (h10) end
above random search, GP-EI and TPE?

    python experiments/fig7_ablations.py [--quick] [--seed 7] [--out DIR] [--plot-only]

The hypothesis under test: Figure 6's linear hypernetwork w = lam A + b is fed raw lam, and lam is
drawn with sd 0.003 around lam_hat, so the gradient of A is lam_hat g plus a small (lam - lam_hat) g
that carries the slope; once lam_hat leaves 0 the hypernetwork cannot tell its bias from its slope,
and the hypergradient stops pointing downhill. Every run is Algorithm 3 of fig7_hpo's
hyper_run (experiments/common/appendix.py: the same data, start, seeds, budgets and clock) with one
thing changed:
- tangent: the hypernetwork fed lam - lam_hat, re-centred after every lam_hat step with the first
  layer's bias absorbing the move (hypernets.tangent; the tangent hyperplane of the paper's
  Section 2.4); on h7850 it replaces the fixed offset lam0 = -9 of Figure 5's input;
- sigma: a wider p(lam | lam_hat) = N(lam_hat, sigma^2 I), around Figure 4's diagnostic sd 0.3;
- both together.
Each runs at the paper's budget on the main seed and at fig7_hpo's robustness budget on its
robustness seeds. The faithful h10 run is run again here, on the same seeds (`rerun_faithful`,
labelled "run again here"): the committed fig7_hpo results keep no hypernetwork, and the
diagnostic needs one. The committed numbers of fig7_hpo (hyper-training's final and best
validation loss, random search / GP-EI / TPE) are read from <out>/fig7_hpo.json, or
figures/fig7_hpo.json if there is none, and its run id recorded.

Per run: final validation NLL (mean of the last 10% of the evaluations, fig7_hpo's summary), best
validation NLL, the spread of lam_hat (sd across the hyperparameters) over time, and, off the clock
at the fractions `diag_at` of the budget, a slope diagnostic: for K random unit directions u of
lam, the secant (w(lam_hat + eps u) - w(lam_hat - eps u)) / 2 eps of the hypernetwork against that
of the best response w*, models trained from scratch under the trial protocol `diag_protocol`
(fig7_hpo's "converged" one: 8,000 Adam steps), all from one initial point and one minibatch
sequence, so that the difference is the hyperparameters' alone. Reported: their cosine and norm
ratio, the secants of the validation NLL along u of both (the hypergradient along u: does the
hypernetwork's point the way the true one does?), and the validation NLL of w*(lam_hat).
eps = diag_step * sqrt(H): every hyperparameter moves by diag_step rms, 0.05 as Figure 4's slope
check (5% of the decay exp(lam)): far enough that the weights differ by much more than the
rounding of float64 training, near enough that the best response is close to linear over it;
`eps_check_cosine` (the secant along the first u at eps against eps / 2) measures the second.
"""
import dataclasses
import time
from pathlib import Path

import numpy as np

from hypernet import checks, data, models
from hypernet.baselines import many_linear
from experiments.common import appendix
from experiments.harness.jobs import error_line
from experiments.harness import cli, cpu_clock, job_cache, results, runner, staging, plotting
from experiments.harness.folders import ROOT
from experiments.common import verdicts

FIGURE = "fig7_ablations"
FIGURES = results.FIGURES
REFERENCE = "fig7_hpo"
CHANGES = ("tangent", "sigma")          # what an ablation may change
REFERENCE_PEERS = ("random", "gp_bo", "tpe")


@dataclasses.dataclass(frozen=True)
class Config:
    seed: int = 7
    hpo: appendix.Config = appendix.PAPER  # the faithful settings (budgets, robustness seeds, sigma, steps)
    ablations: dict = dataclasses.field(default_factory=lambda: {
        "h10": ({"tangent": True}, {"sigma": 0.1}, {"sigma": 0.3}, {"sigma": 1.0}, {"tangent": True, "sigma": 0.3}),
        "h7850": ({"tangent": True},)})
    rerun_faithful: tuple = ("h10",)  # problems whose faithful run runs here too, for its diagnostic
    diag_at: tuple = (0.05, 0.5, 1.0)  # fractions of the budget at which the diagnostic looks
    diag_directions: int = 4
    diag_step: float = 0.05            # rms move of each hyperparameter along u (Figure 4's h)
    diag_protocol: str = "converged"
    workers: int = 2


PAPER = Config()
QUICK = dataclasses.replace(PAPER, hpo=dataclasses.replace(appendix.QUICK, budget_s={"h10": 1.0, "h7850": 1.0},
                                                           robust_budget_s=0.5), ablations={
    "h10": ({"tangent": True}, {"sigma": 0.3}, {"tangent": True, "sigma": 0.3}), "h7850": ({"tangent": True},)},
    diag_at=(0.5, 1.0), diag_directions=2)


def label_of(settings):
    """'tangent', 'sigma=0.3', 'tangent, sigma=0.3': the run's name in the results and the cache."""
    return ", ".join("tangent" if k == "tangent" else f"{k}={settings[k]!r}" for k in CHANGES if k in settings)


def ablations_of(config, name):
    return {label_of(v): v for v in config.ablations.get(name, ())}


def problems_of(config):
    return [p for p in appendix.PROBLEMS if p in config.ablations or p in config.rerun_faithful]


def check_config(config):
    """Refuse, before any work, settings that do not fit together, in one line."""
    if not isinstance(config.hpo, appendix.Config):
        raise ValueError(f"hpo must be a fig7_hpo.Config (the faithful settings), e.g. fig7_hpo.PAPER; got {config.hpo!r}")
    appendix.check_config(config.hpo)
    if not isinstance(config.ablations, dict) or not set(config.ablations) <= set(appendix.PROBLEMS):
        raise ValueError(f"ablations must be a dict {{problem: (settings, ...)}} with problems among "
                         f"{list(appendix.PROBLEMS)}, got {config.ablations!r}")
    for p, variants in config.ablations.items():
        seen = set()
        for i, v in enumerate(variants if isinstance(variants, (tuple, list)) else [None]):
            what = f"{p} ablation {i + 1}"
            if not isinstance(v, dict) or not v or set(v) - set(CHANGES):
                raise ValueError(f"{what} must be a non-empty dict of settings among {CHANGES}, e.g. "
                                 f"{{'tangent': True, 'sigma': 0.3}}; got {v!r}")
            if "tangent" in v and v["tangent"] is not True:
                raise ValueError(f"{what}: tangent must be True (leave it out for the faithful input), got {v['tangent']!r}")
            if "sigma" in v:
                checks.check_positive(**{f"{what}: sigma": v["sigma"]})
            if "tangent" not in v and v["sigma"] == config.hpo.sigma:
                raise ValueError(f"{what} {v} changes nothing: that is the faithful run's sigma")
            if label_of(v) in seen:
                raise ValueError(f"{what} {v} repeats an earlier one")
            seen.add(label_of(v))
    if set(config.rerun_faithful) - set(appendix.PROBLEMS) or not problems_of(config):
        raise ValueError(f"rerun_faithful must be among {list(appendix.PROBLEMS)}, and some run must be asked for; "
                         f"got rerun_faithful={config.rerun_faithful!r}, ablations={config.ablations!r}")
    at = config.diag_at
    if not at or any(not isinstance(f, (int, float)) or not 0 < f <= 1 for f in at) or list(at) != sorted(set(at)):
        raise ValueError(f"diag_at must be increasing fractions of the budget in (0, 1], e.g. (0.05, 0.5, 1.0); got {at!r}")
    checks.check_count(diag_directions=config.diag_directions, workers=config.workers)
    checks.check_positive(diag_step=config.diag_step)
    if config.diag_protocol not in config.hpo.protocols:
        raise ValueError(f"diag_protocol must be one of fig7_hpo's trial protocols {list(config.hpo.protocols)}, "
                         f"got {config.diag_protocol!r}")


# ---- the reference: the committed faithful comparison ------------------------------------------
def reference(config, out):
    """{"file", "run_id", "config_name", "seed", "budget_s", problem: {...}} of fig7_hpo's results
    (hyper-training's final and best validation NLL, the black-box methods' best, the robustness
    means) and their curves as arrays; from <out>/fig7_hpo.json, else the committed one."""
    folder = next((f for f in (staging.final_folder(out), FIGURES) if (Path(f) / f"{REFERENCE}.json").exists()), None)
    if folder is None:
        raise ValueError(f"no {REFERENCE} results in {staging.final_folder(out)} nor in {FIGURES}: run "
                         f"`python experiments/{REFERENCE}.py` first (the faithful comparison these ablations sit beside)")
    record, a = results.load_results(folder, REFERENCE)
    if results.config_name(config, PAPER, QUICK) == "PAPER" and record["config_name"] != "PAPER":
        raise ValueError(f"{folder}/{REFERENCE}.json holds a {record['config_name']} run; the PAPER ablations compare "
                         f"with the PAPER run of {REFERENCE}: run `python experiments/{REFERENCE}.py` first")
    m, ref, arrays = record["metrics"], {}, {}
    try:
        for p in problems_of(config):
            cell, rob = m[p]["paper"], m["robust"][p]["paper"]
            ref[p] = {"hyper_final_valid": cell["hyper"]["final_valid"],
                      "hyper_best_valid": cell["hyper"]["best_eval"]["valid"],
                      "hyper_lam_sd_final": m[p]["hyper_lam_sd_final"],
                      **{f"{k}_best_valid": cell[k]["final_valid"] for k in REFERENCE_PEERS
                         if cell[k]["final_valid"] is not None},  # black-box: the best so far, at the end
                      "robust_final_valid": {k: rob[k]["final_valid"] for k in ("hyper",) + REFERENCE_PEERS if k in rob}}
            for k in ("hyper",) + REFERENCE_PEERS:
                if f"{p}_paper_{k}_t" in a:
                    arrays |= {f"ref_{p}_{k}_{c}": a[f"{p}_paper_{k}_{c}"] for c in ("t", "valid")}
    except (KeyError, TypeError) as e:
        raise ValueError(f"{folder}/{REFERENCE}.json has no {e} for the problems {problems_of(config)}: it was made by "
                         f"another version of {REFERENCE}.py; run it again") from None
    path = Path(staging.final_folder(folder)) / f"{REFERENCE}.json"
    head = {"file": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path), "run_id": record["run_id"],
            "config_name": record["config_name"], "seed": record["config"]["seed"], "budget_s": m["budget_s"],
            "robust_seeds": m["robust"]["seeds"], "robust_budget_s": m["robust"]["budget_s"]}
    return head | ref, arrays


# ---- one run and its diagnostic (a job, in a worker process) -------------------------------------
def ablation_job(config, seed, name, label, budget_s):
    """Algorithm 3 (appendix.hyper_run) with the ablation `label` (None: the faithful settings) for
    budget_s CPU seconds, then the slope diagnostic at the states kept at the fractions diag_at."""
    settings = ablations_of(config, name)[label] if label else {}
    hpo = dataclasses.replace(config.hpo, seed=seed, **{k: v for k, v in settings.items() if k != "tangent"})
    tangent = settings.get("tangent", False)
    wanted = {max(1, round(f * hpo.evals)) for f in config.diag_at if f < 1}  # evaluation i is at ~i * budget / evals
    kept = {}

    def keep(i, phi, lam):
        if i in wanted:
            kept[i] = (phi, lam)
        kept["last"] = (i, phi, lam)
    print(f"[{FIGURE}] seed {seed} {name} {label or 'faithful'}: started, {budget_s:g} CPU s", flush=True)
    try:
        out, lams = appendix.hyper_run(hpo, name, budget_s, tangent=tangent, keep=keep)
    except checks.DivergedError as e:
        if label is None:
            raise
        return {"diverged": error_line(e, kind=False)}  # an ablation that diverges is a result, not a failed run
    P, splits, problem = appendix.setup(hpo, name)
    hn = appendix.hypernet_of(P, problem.n_hyper, tangent)
    U = np.random.default_rng([seed, 500]).standard_normal((config.diag_directions, problem.n_hyper))
    U /= np.linalg.norm(U, axis=1, keepdims=True)  # the same directions for every run of a seed
    diag, last = [], kept.pop("last")
    for f in config.diag_at:
        i = max(1, round(f * hpo.evals)) if f < 1 else None
        i, phi, lam = (i, *kept[i]) if i in kept else last  # (a run cut short: its last state)
        d = slope_diagnostic(config, hpo, name, splits, hn, phi, lam, U)
        diag.append({"fraction": f, "t": float(out["t"][i]), "step": int(out["steps_at"][i]),
                     "lam_sd": float(np.std(lam)), **d})
    return dict(out, lam_final=lams[-1] if problem.n_hyper <= 100 else None, diagnostic=diag)


def slope_diagnostic(config, hpo, name, splits, hn, phi, lam, U):
    """The hypernetwork's slope against the best response's along the unit rows u of U (K, H), at
    lam_hat = lam: central differences over lam +- eps u of w_phi and of weights trained from
    scratch (one shared start and minibatch sequence), eps = diag_step sqrt(H)."""
    P, K, H = appendix.PROBLEMS[name], len(U), len(lam)
    eps = config.diag_step * np.sqrt(H)
    lams = np.concatenate([lam[None], lam + eps * U, lam - eps * U, lam + eps / 2 * U[:1], lam - eps / 2 * U[:1]])
    iters, lr = hpo.protocols[config.diag_protocol][name]
    W0 = models.init_weights(np.random.default_rng([hpo.seed, 501]), 7850, hpo.trial_init)
    batch = data.minibatcher(splits.train, hpo.trial_batch, results.seed_of(hpo, 502), contiguous=True)
    W_star = many_linear.train_linear(lams, np.tile(W0, (len(lams), 1)), batch, iters, lr, penalty=P.penalty,
                                        noise_sd=appendix.trial_noise_sd(P), dtype=np.float64)
    W_hyper = np.asarray(hn.apply(phi, lams), float)
    f64 = dataclasses.replace(hpo, dtype="float64")
    secant = lambda x: (x[1:K + 1] - x[K + 1:2 * K + 1]) / (2 * eps)  # noqa: E731  (K, ...) along each u
    (v_hyper, v_star) = (appendix.nll(W, splits.valid, f64) for W in (W_hyper, W_star))
    s_hyper, s_star = secant(W_hyper), secant(W_star)
    norm = lambda x: np.linalg.norm(x, axis=-1)  # noqa: E731
    half = (W_star[-2] - W_star[-1]) / eps
    return {"eps": float(eps), "valid_hyper": float(v_hyper[0]), "valid_retrained": float(v_star[0]),
            "weights_rel_error": float(norm(W_hyper[0] - W_star[0]) / norm(W_star[0])),
            "slope_cosine": np.sum(s_hyper * s_star, 1) / (norm(s_hyper) * norm(s_star)),
            "slope_norm_ratio": norm(s_hyper) / norm(s_star),
            "dvalid_hyper": secant(v_hyper), "dvalid_true": secant(v_star),
            "eps_check_cosine": float(half @ s_star[0] / (norm(half) * norm(s_star[0]))),
            "eps_check_norm_ratio": float(norm(half) / norm(s_star[0]))}


def _job(config, seed, job):
    kind, name, label, budget_s = job
    t0 = time.perf_counter()
    try:
        out = ablation_job(config, seed, name, label, budget_s)
    except (FloatingPointError, ValueError, RuntimeError) as e:  # say which of the runs failed
        raise type(e)(f"{FIGURE}: seed {seed} {job}: {e}") from e
    return seed, job, dict(out, wall_s=time.perf_counter() - t0)


def jobs_of(config):
    """[(seed, ("hyper", problem, label or None, budget))]: the main seed at fig7_hpo's budgets, the
    robustness seeds at its robustness budget; longest first."""
    todo, hpo = [], config.hpo
    for seed, robust in [(config.seed, False)] + [(s, True) for s in hpo.robust_seeds]:
        for name in problems_of(config):
            b = hpo.robust_budget_s if robust else hpo.budget_s[name]
            labels = ([None] if name in config.rerun_faithful else []) + list(ablations_of(config, name))
            todo += [(seed, ("hyper", name, label, b)) for label in labels]
    return sorted(todo, key=lambda sj: -sj[1][3])


def run_jobs(config):
    done = {}
    with runner.open(config.workers) as r:
        for seed, job in jobs_of(config):
            r.submit(_job, config, seed, job, key=job_cache.run_key(FIGURE, config, seed, job),
                     label="_".join(map(str, (seed, *job))))
        for j in r.as_completed():
            seed, job, out = j.result
            done[(seed, *job[1:])] = out
            if not j.reused:
                what = out["diverged"] if "diverged" in out else (
                    f"valid {out['valid'][-1]:.4f}, lam_hat sd {out['lam_sd'][-1]:.2f}, slope cosine at the end "
                    f"{np.mean(out['diagnostic'][-1]['slope_cosine']):.3f}")
                print(f"[{FIGURE}] seed {seed} {job[1]} {job[2] or 'faithful'}: {what}, {r.progress(j)}", flush=True)
    return done


# ---- the numbers ---------------------------------------------------------------------------------
def summary(r, fraction):
    """One run's numbers: final (mean of the last `fraction` of the evaluations) and best validation
    NLL of w_phi(lam_hat), lam_hat's spread, and the diagnostic with its mean cosine per point."""
    if "diverged" in r:
        return {"diverged": r["diverged"]}
    c, i = {k: r[k] for k in ("t", "valid", "test")}, int(np.nanargmin(r["valid"]))
    return {"final_valid": cpu_clock.final(c, fraction), "final_test": cpu_clock.final(c, fraction, "test"),
            "best_valid": float(r["valid"][i]), "best_test": float(r["test"][i]), "best_t": float(r["t"][i]),
            "steps": int(r["steps"]), "lam_mean_final": float(r["lam_mean"][-1]), "lam_sd_final": float(r["lam_sd"][-1]),
            "lam_final": r["lam_final"], "slope_cosine_mean": [float(np.mean(d["slope_cosine"])) for d in r["diagnostic"]],
            "diagnostic": r["diagnostic"]}


ROBUST = ("final_valid", "best_valid", "lam_sd_final")


def robust_summary(runs, fraction):
    """Mean +- sd over the robustness seeds of a run's numbers, and the cosine at the last point."""
    s = [summary(r, fraction) for r in runs]
    ok = [x for x in s if "diverged" not in x]
    return {k: results.stats([x[k] for x in ok]) for k in ROBUST} | {
        "slope_cosine_end": results.stats([x["slope_cosine_mean"][-1] for x in ok]),
        "valid_retrained_end": results.stats([x["diagnostic"][-1]["valid_retrained"] for x in ok]),
        "diverged": len(s) - len(ok)}


def run(config=PAPER, out=FIGURES):
    check_config(config)
    ref, arrays = reference(config, out)  # before any work: the comparison needs it
    if ref["config_name"] != results.config_name(config, PAPER, QUICK):
        print(f"[{FIGURE}] comparing with {ref['file']}, a {ref['config_name']} run (its budgets, not this run's); "
              f"`python experiments/{REFERENCE}.py` with this run's config and --out first compares like with like",
              flush=True)
    t0 = time.perf_counter()
    for name in problems_of(config):
        appendix.setup(config.hpo, name)  # the data, loaded before the worker processes fork
    runs, hpo, fraction = run_jobs(config), config.hpo, config.hpo.final_fraction
    metrics = {"reference": ref, "budget_s": {p: hpo.budget_s[p] for p in problems_of(config)},
               "robust": {"seeds": list(hpo.robust_seeds), "budget_s": hpo.robust_budget_s}}
    for name in problems_of(config):
        labels = ([None] if name in config.rerun_faithful else []) + list(ablations_of(config, name))
        metrics[name] = {}
        for i, label in enumerate(labels):
            r = runs[(config.seed, name, label, hpo.budget_s[name])]
            metrics[name][label or "faithful"] = {
                "settings": ablations_of(config, name)[label] if label else {}, "index": i, **summary(r, fraction),
                "robust": robust_summary([runs[(s, name, label, hpo.robust_budget_s)] for s in hpo.robust_seeds], fraction)}
            if "diverged" not in r:
                arrays |= {f"{name}_run{i}_{col}": np.asarray(r[col], float) for col in ("t", "valid", "test", "lam_sd")}
    metrics |= job_cache.code_metrics()  # job_commits
    timings = {"_".join(map(str, k)): v["wall_s"] for k, v in runs.items()} | {"total": time.perf_counter() - t0}
    return results.save_results(out, FIGURE, config_name=results.config_name(config, PAPER, QUICK), config=config,
                                metrics=metrics, timings=timings, arrays=arrays)


# ---- the figure ------------------------------------------------------------------------------------
PEER_STYLE = {"hyper": dict(color="0.6", lw=1.0), "random": dict(color="C2"), "gp_bo": dict(color="C3"),
              "tpe": dict(color="C4")}
REF_LABEL = {"hyper": "Alg. 3 faithful, as committed", "random": "Random search (best)", "gp_bo": "GP-EI (best)",
             "tpe": "TPE (best)"}


def describe(key):
    """The legend's words for a run: 'ablation: input lam - lam_hat (tangent), sigma = 0.3'."""
    if key == "faithful":
        return "Alg. 3 faithful (run again here)"
    words = {"tangent": r"input $\lambda - \hat\lambda$ (tangent)", "sigma": r"$\sigma$ = "}
    return "ablation: " + ", ".join(words["tangent"] if part == "tangent" else words["sigma"] + part.split("=")[1]
                                    for part in key.split(", "))


def run_style(key, k):
    if key == "faithful":
        return dict(color="k", ls="-", lw=1.4), describe(key)
    return dict(color=f"C{[0, 1, 5, 6, 7, 8, 9][k % 7]}", ls=("--", "-.", ":")[k % 3], lw=1.2), describe(key)


def plot(out=FIGURES):
    record, a = results.load_results(out, FIGURE)
    m = record["metrics"]
    problems, ref = list(m["budget_s"]), m["reference"]
    fig, axes = plotting.figure(4, len(problems), figsize=(6.5 * len(problems), 15), squeeze=False, layout="constrained")
    for j, name in enumerate(problems):
        runs = m[name]
        ax = axes[0, j]  # validation NLL of w_phi(lam_hat) against compute time, beside the committed levels
        for k in ("hyper",) + REFERENCE_PEERS:
            if f"ref_{name}_{k}_t" in a:
                draw = ax.plot if k == "hyper" else ax.step
                draw(a[f"ref_{name}_{k}_t"], a[f"ref_{name}_{k}_valid"],
                     label=f"{REF_LABEL[k]} [{ref['config_name']}, {ref['budget_s'][name]:g} s]",
                     **PEER_STYLE[k], **({} if k == "hyper" else {"where": "post"}))
        shown = [a[f"ref_{name}_hyper_valid"][1:]] if f"ref_{name}_hyper_t" in a else []
        for k, (key, r) in enumerate(runs.items()):
            style, label = run_style(key, k)
            if "diverged" in r:
                ax.plot([], [], label=f"{label} (diverged)", **style)
                continue
            i = r["index"]
            v = a[f"{name}_run{i}_valid"]
            ax.plot(a[f"{name}_run{i}_t"], v, label=label, **style)
            axes[1, j].plot(a[f"{name}_run{i}_t"], a[f"{name}_run{i}_lam_sd"], label=label, **style)
            d = r["diagnostic"]
            cos = np.array([x["slope_cosine"] for x in d])
            t = np.array([x["t"] for x in d]) * (1 + 0.01 * k)  # (side by side)
            axes[2, j].errorbar(t, cos.mean(1), yerr=[cos.mean(1) - cos.min(1), cos.max(1) - cos.mean(1)], fmt="o",
                                ms=4, capsize=2, color=style["color"], label=label)
            rb = r["robust"]["final_valid"]
            if rb["mean"] is not None:
                axes[3, j].errorbar(k, rb["mean"], yerr=rb["sd"], fmt="o", color=style["color"], capsize=3)
            shown.append(v[1:])
        vals = np.concatenate(shown + [[ref[name]["hyper_final_valid"]]])
        lo, hi = np.nanmin(vals), np.nanmax(vals)  # every curve after its first point: none leaves the panel
        ax.set_ylim(lo - 0.05 * (hi - lo + 1e-3), hi + 0.1 * (hi - lo + 1e-3))
        ax.set(title=rf"{name}: validation NLL of $w_\phi(\hat\lambda)$ ({m['budget_s'][name]:g} CPU s)",
               xlabel="Compute time (s)", ylabel="Validation NLL", xlim=(0, 1.02 * m["budget_s"][name]))
        axes[1, j].set(title=rf"{name}: spread of $\hat\lambda$ (sd across its {name[1:]} hyperparameters)",
                       xlabel="Compute time (s)", ylabel=r"sd of $\hat\lambda$")
        axes[2, j].axhline(0, color="0.8", lw=0.8)
        axes[2, j].set(title=f"{name}: cos(hypernetwork slope, best-response slope) along random u",
                       xlabel="Compute time (s)", ylabel="cosine (mean, min-max over u)", ylim=(-1.05, 1.05))
        rax, keys = axes[3, j], list(runs)
        for k in ("hyper",) + REFERENCE_PEERS:
            s = ref[name]["robust_final_valid"].get(k)
            if s and s["mean"] is not None:
                rax.axhline(s["mean"], label=f"{REF_LABEL[k]} [{ref['config_name']}, mean at {ref['robust_budget_s']:g} s]",
                            **PEER_STYLE[k], ls=":")
        rax.set_xticks(range(len(keys)), [describe(k).replace("ablation: ", "abl.: ").replace(" (run again here)", "")
                                          for k in keys], rotation=15, fontsize=8)
        rax.set(title=f"{name}: final validation NLL, {len(m['robust']['seeds'])} seed(s) at "
                      f"{m['robust']['budget_s']:g} s, mean ± sd", ylabel="Final validation NLL")
    plotting.legend_below(*axes[0], *axes[2], *axes[3], ncol=2, fontsize=8)  # below the panels (after their labels
    # are set): no curve hidden
    fig.suptitle(f"{record['config_name']}: ablations of Algorithm 3 (labelled) beside the faithful run; committed "
                 f"comparison: {REFERENCE} run {ref['run_id']} ({ref['config_name']})", fontsize=11)
    return plotting.save(fig, out, FIGURE)


# ---- the claims about h10's gap and the rules that decide them ------------------------------------
def short(key):
    """An ablation's short name in the verdicts: 'centred', 'σ 0.3', 'centred + σ 0.3'."""
    return key.replace("sigma=", "σ ").replace("tangent", "centred").replace(", ", " + ")


def noises(record, arrays):
    """{problem: noise of its final validation loss}: the larger of the faithful run's two runs'
    difference (the one here against the committed one: same settings and seed, a CPU-time budget
    makes the step counts differ) and twice the standard error of either's final window. `arrays`: the
    arrays saved beside the record (<out>/fig7_ablations.npz)."""
    m, f = record["metrics"], record["config"]["hpo"]["final_fraction"]
    out = {}
    for p in m["budget_s"]:
        curves = [(f"ref_{p}_hyper_t", f"ref_{p}_hyper_valid")] if f"ref_{p}_hyper_t" in arrays else []
        terms = []
        if "faithful" in m[p] and "diverged" not in m[p]["faithful"]:
            i = m[p]["faithful"]["index"]
            curves.append((f"{p}_run{i}_t", f"{p}_run{i}_valid"))
            terms.append(abs(m[p]["faithful"]["final_valid"] - m["reference"][p]["hyper_final_valid"]))
        out[p] = max(terms + [2 * cpu_clock.final_se({"t": arrays[t], "valid": arrays[v]}, f) for t, v in curves])
    return out


def faithful_of(m, p):
    """(seed-7 final, robustness finals) of the faithful run of problem p: run again here if it was,
    else the committed comparison's."""
    if "faithful" in m[p]:
        return m[p]["faithful"]["final_valid"], m[p]["faithful"]["robust"]["final_valid"]["values"]
    ref = m["reference"][p]
    return ref["hyper_final_valid"], ref["robust_final_valid"]["hyper"]["values"]


def best_peer(m, p):
    """(final validation loss, method) of the committed comparison's best black-box method on problem p."""
    ref = m["reference"][p]
    return min((ref[f"{k}_best_valid"], k) for k in REFERENCE_PEERS if f"{k}_best_valid" in ref)


def ablation_runs(m):
    """[(problem, key, run)] of every ablation (not the faithful runs) that did not diverge."""
    return [(p, k, r) for p in m["budget_s"] for k, r in m[p].items() if k != "faithful" and "diverged" not in r]


def robust_lower(m, p, r):
    """On how many robustness seeds the ablation ends below the faithful run, of how many."""
    base = faithful_of(m, p)[1]
    pairs = [(a, b) for a, b in zip(r["robust"]["final_valid"]["values"], base) if a is not None and b is not None]
    return sum(a < b for a, b in pairs), len(pairs)


def lowers(m, p, r, noise):
    """The rule of "an ablation lowers the final validation loss": below the faithful run's by more than
    the noise, and below it on most of the robustness seeds."""
    k, n = robust_lower(m, p, r)
    return r["final_valid"] < faithful_of(m, p)[0] - noise and 2 * k > n


def claims(record, seeds_record=None, arrays=None):
    """The two claims about h10's gap on `record` (<out>/fig7_ablations.json) and the `arrays` saved
    beside it (.npz, for the noise; required), per ablation; the robustness seeds are in the record
    (`seeds_record` is unused). Plain data, see experiments/common/verdicts.py."""
    if arrays is None:
        raise ValueError("the claims of fig7_ablations need the arrays of <out>/fig7_ablations.npz (the noise)")
    m, c = record["metrics"], record["config"]
    nz, runs, seed = noises(record, arrays), ablation_runs(m), c["seed"]
    h10 = [(p, k, r) for p, k, r in runs if p == "h10"]
    peer = best_peer(m, "h10")
    numbers = dict(noise=nz, problems=list(m["budget_s"]), best_peer={"method": peer[1], "final_valid": peer[0]},
                   faithful_final_valid={p: faithful_of(m, p)[0] for p in m["budget_s"]},
                   committed_final_valid={p: m["reference"][p]["hyper_final_valid"] for p in m["budget_s"]},
                   ablations=[{"problem": p, "key": k, "name": short(k), "final_valid": r["final_valid"],
                               "robust_lower": list(robust_lower(m, p, r))} for p, k, r in runs],
                   robust_seeds=list(m["robust"]["seeds"]), robust_budget_s=m["robust"]["budget_s"])
    last = f"{100 * c['hpo']['final_fraction']:.0f}%"
    return [verdicts.claim(
                "appendix, ablations", "h10's gap: an ablation lowers the final validation loss beyond noise",
                [lowers(m, p, r, nz[p]) for p, k, r in runs], [f"{p} {short(k)}" for p, k, r in runs],
                f"an ablation's final validation loss (mean of the last {last} of the evaluations, seed {seed}) is "
                "below the faithful run's by more than the noise, and it ends below the faithful run on most of the "
                "robustness seeds; the noise is the larger of the difference between the faithful run made here and "
                "the committed one (same settings and seed) and twice the standard error of either's final window "
                "(h7850: the committed run's, its faithful run)", unit="ablation", seeds=[seed] + numbers["robust_seeds"],
                **numbers),
            verdicts.claim(
                "appendix, ablations", "… and reaches the black-box methods",
                [r["final_valid"] <= peer[0] + nz["h10"] for _, _, r in h10], [f"h10 {short(k)}" for _, k, _ in h10],
                f"an h10 ablation's final validation loss (seed {seed}) is at most the best black-box method's final "
                "plus the noise", unit="ablation", seeds=[seed], **numbers)]


def main(argv=None):
    cli.main(FIGURE, run, plot, paper=PAPER, quick=QUICK, argv=argv, description=__doc__, check=check_config)


if __name__ == "__main__":
    main()
