"""Beyond the paper: a hypernetwork that initialises an unrolled optimisation (the paper's Section
4.2: "It may be useful to combine these methods by using a hypernetwork to output initial
parameters and then unrolling several steps of optimization to differentiate through").

On Figure 5's top-panel problem (the linear 784-10 model with a separate L2 decay on each of its
7,850 weights, MSE, 10,000 training / validation / test points) every method gets the paper's
1,000 compute seconds:
- hyper-training (Algorithm 3) and the unrolled reverse-mode baseline exactly as in Figure 5: the
  same jobs (hyper_job / unrolled_job of experiments/common/per_weight.py), settings and random streams; the
  unrolled baseline runs the setting Figure 5's search picked (`unrolled`, checked against
  figures/fig5_many.json by the tests) without repeating the search;
- warm-started unrolling (hypernet/beyond/warmstart.py) with K unrolled steps: Algorithm 3's loop, its
  hypernetwork and its settings (Figure 5's factorised 7850 -> 10 -> 7850, lam - lam_hat0 fed in,
  p(lam | lam_hat) = N(lam_hat, 1e-5 I), 2 samples, Adam 1e-4 on phi, a validation minibatch of
  1,000 per lam step), with the lam step through K steps of the unrolled baseline's inner
  optimiser (SGD with momentum 0.9 and its inner step, on the first K training minibatches of
  the shared stream, the same every step, as the unrolled baseline's T minibatches). The
  weights it delivers for lam_hat are W_K(lam_hat), evaluated like the others every
  `eval_every_s` compute seconds (off the clock) on the full validation and test sets.
  Its runs (`warm`) are (K, lam step) pairs. The lam step is Algorithm 3's Adam 1e-4 for every K
  (the method as "Algorithm 3 with a hypergradient through K training steps"); for the largest K
  also the unrolled baseline's outer Adam step, as a labelled variant (for large K its
  hypergradient approaches the unrolled baseline's, and with 1e-4 lam_hat cannot move far in
  the steps it has).
A robustness run repeats every method for `robust_seeds` at `robust_budget_s` (10% of the paper's
budget), all in one queue of jobs (experiments/harness/runner.py: `workers` processes here, or a Dask cluster
with --scheduler), longest first.

    python experiments/fig8_warmstart.py [--quick] [--seed 7] [--out DIR] [--plot-only]

The two questions of the comparison: does warm-started unrolling reach hyper-training's plateau
(1.01 x its final validation loss) within twice hyper-training's own time to it, and does it end
(mean of the last 10% of its evaluations) at or below the unrolled baseline's final validation loss?
"""
import dataclasses
import time

import numpy as np

from hypernet import checks, data, hypernets, optim, samplers
from hypernet.beyond import warmstart
from experiments.common import per_weight
from experiments.harness import bounds, cli, job_cache, plotting, results, runner
from experiments.harness.cpu_clock import Clock, final, first_time
from experiments.common import verdicts

FIGURE = "fig8_warmstart"
FIGURES = results.FIGURES


@dataclasses.dataclass(frozen=True)
class Config:
    seed: int = 7
    budget_s: float = 1000.0          # compute seconds of every method (Figure 5's top panel)
    warm: tuple = ((10, 1e-4), (50, 1e-4), (200, 1e-4), (200, 0.1))  # (K, lam step) of each warm start
    unrolled: tuple = (800, 0.02, 0.1)  # (T, inner step, outer step) that Figure 5's search picked
    n_train: int = 10000
    n_valid: int = 10000
    n_test: int = 10000
    eval_every_s: float = 10.0
    final_fraction: float = 0.1       # "final" = mean of the evaluations in the last 10% of a curve
    robust_seeds: tuple = (8, 9, 10)
    robust_budget_s: float = 100.0
    workers: int = 2


PAPER = Config()
QUICK = dataclasses.replace(PAPER, budget_s=2.0, warm=((2, 1e-4), (5, 1e-4), (5, 0.03)), unrolled=(10, 0.05, 0.03),
                            n_train=2000, n_valid=2000, n_test=2000, eval_every_s=0.3, robust_seeds=(8,),
                            robust_budget_s=1.0)


fig5_config = per_weight.config_for  # Figure 5's settings with this run's seed, sizes, interval


def warm_job(config, K, lr_lam):
    """Warm-started unrolling with K inner steps on Figure 5's top-panel problem, Algorithm 3 as in
    per_weight.hyper_job but for the lam step (lr_lam), for budget_s compute seconds."""
    c5 = fig5_config(config)
    splits, problem, full, evaluate = per_weight.setup(c5, per_weight.TOP)
    D = problem.n_weights
    hn = hypernets.centred(hypernets.factorised(D, c5.bottleneck, D), c5.lam_hat0)
    phi = hn.init(np.random.default_rng(per_weight.stream(c5, "hypernet_init")), c5.init_scale)
    train_batch = data.minibatcher(splits.train, c5.batch, per_weight.stream(c5, "train_batches"))
    clock = Clock(config.budget_s, c5.eval_every_s, weights=lambda s: s.weights(s.lam), evaluate=evaluate)
    valid = data.minibatcher(splits.valid, c5.valid_batch, per_weight.stream(c5, "valid_batches"))
    common = dict(K=K, inner_batch=train_batch, momentum=c5.momentum)
    res = warmstart.hypertrain_warm_start(
        problem, hn, phi=phi, lam_hat=np.full(D, c5.lam_hat0), train_batch=train_batch,
        sample_lams=samplers.local_sampler(c5.sigma, n_samples=c5.n_samples, seed=per_weight.stream(c5, "lam_noise")),
        valid_batch=valid, inner_lr=config.unrolled[1], opt_phi=optim.adam(c5.lr_phi), opt_lam=optim.adam(lr_lam),
        iters=None, callback=clock, **common)
    memory = warmstart.peak_memory(problem, hn, phi=res.phi, lam=res.lam, valid_batch=valid(0), lr=config.unrolled[1],
                                   **common)
    return dict(clock.curves(), lam_mean=float(res.lam.mean()), lam_sd=float(res.lam.std()),
                peak_memory_mb=memory / 2 ** 20)


def _job(kind, config, *args):
    """One run (a job): (kind, seed, args, curves and facts)."""
    t0 = time.perf_counter()
    if kind == "hyper":
        out = per_weight.hyper_job(fig5_config(config), per_weight.TOP, config.budget_s)
    elif kind == "unrolled":
        out = per_weight.unrolled_job(fig5_config(config), config.unrolled, config.budget_s)
    else:
        out = warm_job(config, *args)
    return kind, config.seed, args, dict(out, wall_s=time.perf_counter() - t0)


def label(kind, args=()):
    return kind if kind != "warm" else f"warm_K{args[0]}_lr{args[1]:g}"


def check_config(config):
    """Every setting that would fail a job, refused before any work."""
    bounds.check_mnist_sizes(config)
    checks.check_positive(budget_s=config.budget_s, robust_budget_s=config.robust_budget_s,
                          eval_every_s=config.eval_every_s)
    if not config.warm or len(set(config.warm)) != len(config.warm):
        raise ValueError(f"warm must list distinct (K, lam step) pairs, got {config.warm}")
    for K, lr in config.warm:
        checks.check_count(K=K)
        checks.check_positive(**{f"lam step of K = {K}": lr})
    checks.check_count(allow_zero=True, **{f"robust seed {s}": s for s in config.robust_seeds})
    checks.check_count(T=config.unrolled[0], workers=config.workers)
    checks.check_positive(unrolled_inner_step=config.unrolled[1], unrolled_outer_step=config.unrolled[2])
    checks.check_fraction(final_fraction=config.final_fraction)
    steps = max([K for K, _ in config.warm] + [config.unrolled[0]])  # reverse mode keeps every step
    bounds.check_memory(f"{steps} unrolled steps (warm, unrolled)", steps * STEP_BYTES, "lower K or T (--set)")


STEP_BYTES = 8 * (4 * 7850 + 100 * 785)  # what reverse mode keeps per step: weights, velocity, gradients, a minibatch


def run(config=PAPER, out=FIGURES):
    check_config(config)
    t0 = time.perf_counter()
    configs = [config] + [dataclasses.replace(config, seed=s, budget_s=config.robust_budget_s)
                          for s in config.robust_seeds]
    methods = [("warm", K, lr) for K, lr in sorted(config.warm, key=lambda w: -w[0])] + [("hyper",), ("unrolled",)]
    jobs = [(m[0], c, *m[1:]) for c in configs for m in methods]  # the long main runs first
    runs = {c.seed: {} for c in configs}
    with runner.open(config.workers) as r:
        for job in jobs:
            r.submit(_job, *job, key=job_cache.key(FIGURE, job[1], label(job[0], job[2:])),
                     label=f"{job[1].seed}_{label(job[0], job[2:])}")
        for j in r.as_completed():
            kind, seed, args, res = j.result
            runs[seed][label(kind, args)] = res
            print(f"[{FIGURE}] seed {seed} {label(kind, args)}: {res['wall_s']:.0f} s wall on {j.where['host']}, "
                  f"{res['steps']} steps, valid {res['valid'][-1]:.5f} test {res['test'][-1]:.5f}", flush=True)
    metrics = summarise(config, runs[config.seed])
    robust = {s: summarise(dataclasses.replace(config, budget_s=config.robust_budget_s), runs[s])
              for s in config.robust_seeds}
    metrics["robust"] = robust_summary(config, robust)
    arrays = {f"{name}_{c}": r[c] for name, r in runs[config.seed].items() for c in ("t", "valid", "test")}
    timings = {name: r["wall_s"] for name, r in runs[config.seed].items()}
    timings |= {"robust_sum": sum(r["wall_s"] for s in config.robust_seeds for r in runs[s].values()),
                "total": time.perf_counter() - t0}
    return results.save_results(out, FIGURE, config_name=results.config_name(config, PAPER, QUICK), config=config,
                                metrics=metrics, timings=timings, arrays=arrays)


def summarise(config, runs):
    """Final losses, the valid - test gap, and the two questions' answers for every warm start."""
    fin = lambda r, c="valid": final(r, config.final_fraction, c)  # noqa: E731
    hyper, unr = runs["hyper"], runs["unrolled"]
    plateau = 1.01 * fin(hyper)
    hyper_t = first_time(hyper["t"], hyper["valid"], plateau)
    metrics = {"hyper_plateau_level": plateau, "hyper_time_to_plateau_s": hyper_t,
               "unrolled_valid_final": fin(unr), "budget_s": config.budget_s}
    for name, r in runs.items():
        t = first_time(r["t"], r["valid"], plateau)
        m = {"valid_final": fin(r), "test_final": fin(r, "test"), "gap_valid_minus_test": fin(r) - fin(r, "test"),
             "steps": r["steps"], "time_to_hyper_plateau_s": t, "valid_best": float(np.min(r["valid"]))}
        m |= {k: r[k] for k in ("lam_mean", "lam_sd", "peak_memory_mb", "T") if k in r}
        if name.startswith("warm"):
            m["reaches_plateau_within_2x"] = t is not None and hyper_t is not None and t <= 2 * hyper_t
            m["ends_at_or_below_unrolled"] = fin(r) <= fin(unr)
        metrics[name] = m
    return metrics


def robust_summary(config, robust):
    """Per method over the robustness seeds: final validation loss and gap (mean, sd), and for each
    warm start on how many seeds each question's answer is yes."""
    out = {"seeds": list(config.robust_seeds), "budget_s": config.robust_budget_s}
    for name in next(iter(robust.values())):
        if not isinstance(next(iter(robust.values()))[name], dict):
            continue
        per = [robust[s][name] for s in config.robust_seeds]
        out[name] = {k: stats([p[k] for p in per]) for k in ("valid_final", "test_final", "gap_valid_minus_test")}
        for q in ("reaches_plateau_within_2x", "ends_at_or_below_unrolled"):
            if q in per[0]:
                out[name][q] = {"yes": sum(bool(p[q]) for p in per), "of": len(per)}
    return out


def stats(values):
    v = np.array(values, float)
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0, "values": list(values)}


# ---- the figure -------------------------------------------------------------------------------
def plot(out=FIGURES):
    import matplotlib
    record, a = results.load_results(out, FIGURE)
    m, config = record["metrics"], record["config"]
    warm = [label("warm", w) for w in config["warm"]]
    names = ["hyper", "unrolled"] + warm
    ks = sorted({K for K, _ in config["warm"]})
    colors = {"hyper": "C0", "unrolled": "C3"} | {
        label("warm", (K, lr)): matplotlib.colormaps["viridis"](0.15 + 0.7 * ks.index(K) / max(len(ks) - 1, 1))
        for K, lr in config["warm"]}
    styles = {name: "-" if name in ("hyper", "unrolled") or name.endswith("lr0.0001") else "-." for name in names}
    nice = {"hyper": "Hyper-training (Alg. 3)", "unrolled": f"Unrolled, T = {config['unrolled'][0]}"} | {
        label("warm", (K, lr)): f"Warm start, K = {K}, lam step {lr:g}" for K, lr in config["warm"]}
    fig, axes = plotting.figure(1, 3, figsize=(14, 4.6), layout="constrained", width_ratios=(2, 2, 1.2))
    for ax, column in zip(axes[:2], ("valid", "test")):
        for name in names:
            ax.plot(a[f"{name}_t"], a[f"{name}_{column}"], color=colors[name], ls=styles[name], label=nice[name])
        per_weight.ylim(ax, [(a[f"{n}_t"], a[f"{n}_{column}"]) for n in names])
        ax.set_xscale("log")
        ax.set_xlim(left=config["eval_every_s"] / 2)  # from the first evaluation after the start
        ax.set_xlabel("Compute time (s)")
        ax.set_ylabel(f"{'Validation' if column == 'valid' else 'Test'} loss (MSE)")
    axes[0].axhline(m["hyper_plateau_level"], color="0.5", lw=0.8, ls=":", label="hyper-training's plateau")
    axes[0].set_title(f"{results.unless_paper(record)}784-10, 7,850 hyperparameters, {config['budget_s']:g} s each")
    axes[1].set_title("Test loss of the same weights")
    for ax in axes[:2]:
        plotting.log_ticks(ax.xaxis)  # at least three labels, also on a short run's axis
    gap = axes[2]
    gap.bar(range(len(names)), [m[n]["gap_valid_minus_test"] for n in names], color=[colors[n] for n in names],
            hatch=[None if styles[n] == "-" else "//" for n in names], edgecolor="white")
    gap.set_xticks(range(len(names)), ["hyper-training", "unrolled"] + [
        f"K = {K}, λ step {lr:g}" for K, lr in config["warm"]], rotation=60, ha="right", fontsize=8)
    gap.axhline(0, color="k", lw=0.6)
    gap.set_title("Final validation - test loss")
    plotting.legend_below(axes[0], handles=axes[0].get_lines(), ncol=2, fontsize=8)  # below: no curve hidden
    return plotting.save(fig, out, FIGURE)


# ---- the two questions as claims, and the rules that decide them -----------------------------------
# summarise() answers both per warm start at run time (plateau = 1.01 x hyper-training's final
# validation loss, "within twice" its time to it; "final" = the mean of the last final_fraction).
QUESTIONS = {  # metric of each warm start: (the claim, its rule)
    "reaches_plateau_within_2x": ("warm-started unrolling reaches hyper-training's plateau within twice its time",
                                  "a warm start reaches 1.01 × hyper-training's final validation loss within twice the "
                                  "time hyper-training took to get there"),
    "ends_at_or_below_unrolled": ("… and ends at or below the unrolled baseline",
                                  "a warm start's final validation loss (mean of its last 10% of evaluations) is at or "
                                  "below the unrolled baseline's"),
}


def warm_names(record):
    """The warm starts' names in a record, in the order of its config ("warm_K10_lr0.0001")."""
    return [f"warm_K{K}_lr{lr:g}" for K, lr in record["config"]["warm"]]


def claims(record, seeds_record=None):
    """The comparison's two questions as claims on `record` (<out>/fig8_warmstart.json), one unit per warm
    start (its name); "robust" gives, per warm start, on how many robustness seeds the answer is yes
    (the robustness run is in the record: `seeds_record` is unused). Plain data, see
    experiments/common/verdicts.py."""
    m, c = record["metrics"], record["config"]
    names, hyper_t = warm_names(record), m["hyper_time_to_plateau_s"]
    out = []
    for q, (statement, rule) in QUESTIONS.items():
        holds = [m[n][q] for n in names]
        if q.startswith("reaches"):
            numbers = {"time_to_hyper_plateau_s": {n: m[n]["time_to_hyper_plateau_s"] for n in names},
                       "hyper_time_to_plateau_s": hyper_t, "eval_every_s": c["eval_every_s"],
                       # a yes less than one evaluation interval inside the bound: a tie at that resolution
                       "ties": [n for n, h in zip(names, holds)
                                if h and 2 * hyper_t - m[n]["time_to_hyper_plateau_s"] < c["eval_every_s"]]}
        else:
            numbers = {"valid_final": {n: m[n]["valid_final"] for n in names},
                       "unrolled_valid_final": m["unrolled_valid_final"]}
        robust = {n: m["robust"].get(n, {}).get(q) for n in names}
        cl = verdicts.claim("beyond (Sec. 4.2)", statement, holds, names,
                            f"per warm start, {rule} (the script's two questions)", unit="warm start",
                            seeds=[c["seed"]], robust=robust, robust_seeds=list(m["robust"]["seeds"]),
                            robust_budget_s=m["robust"]["budget_s"], first_lr=c["warm"][0][1], **numbers)
        cl["key"] = q
        out.append(cl)
    return out


def main(argv=None):
    cli.main(FIGURE, run, plot, paper=PAPER, quick=QUICK, argv=argv, description=__doc__, check=check_config)


if __name__ == "__main__":
    main()
