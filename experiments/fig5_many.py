"""Figure 5 of Lorraine & Duvenaud (2018): optimising thousands of hyperparameters.

Every model has a separate L2 decay on each weight, penalty sum_j exp(lam_j) w_j^2 with plain MSE
(so there are as many hyperparameters as weights). Top: the linear 784-10 model (7,850
hyperparameters), Algorithm 3 with a factorised linear hypernetwork 7850 -> 10 -> 7850 (164,860
parameters) against unrolled reverse-mode differentiation through training (hypernet/baselines/unrolled.py).
Bottom: Algorithm 3 on 784-10, 784-100-10 and 784-100-100-10 (7,850 / 79,510 / 89,610
hyperparameters), each beside a "hand-tuned" line: the best single global decay of Algorithm 1.

    python experiments/fig5_many.py [--quick] [--seed 7] [--out DIR] [--plot-only]

Settings (the paper gives the hypernetwork, the data sizes and "as Figure 4"; the rest is ours and
listed in the README's table):
- Budgets, read off the paper's x-axes: top, hyper-training and the unrolled baseline get 1,000
  compute seconds each; bottom, the curves end at about 320 s (784-10), 960 s (784-100-10) and
  1,150 s (784-100-100-10). The bottom 784-10 curve is the first 320 s of the top panel's run.
- x-axis: each method's own compute seconds, its CPU seconds (hypernet/budget.cpu_seconds; one
  process and one BLAS thread per run: `workers` runs at a time here, or one per worker of a Dask
  cluster): on a free core that is its wall-clock time, and it stays so when other work shares
  the machine. The current weights (the hypernetwork's
  w_phi(lam_hat); the unrolled run's latest final inner weights) are evaluated on the full
  validation and test sets every `eval_every_s` seconds, off the clock.
- Initial hyperparameters: every decay starts at exp(-9) for every method, between the best
  global decays of the linear model and of the deeper ones.
- Algorithm 3 as Figure 4: p(lam | lam_hat) = N(lam_hat, 1e-5 I), 2 samples per step, Adam 1e-4
  for phi and for lam_hat; one validation minibatch of 1,000 points per lam step (the paper's "up
  to 1,000"); hypernetwork init randn * 0.01, fed lam - lam_hat0 (`centred`).
- Random streams: training minibatches, validation minibatches, the lam noise of Algorithm 3 and
  the initialisations each have their own seed (`STREAMS`, experiments/common/per_weight.py); every method sees the same training
  minibatch sequence.
- Unrolled: T steps of SGD with momentum 0.9 from one fixed init (randn * 0.01), restarted every
  hyper-iteration on the same T training minibatches (Maclaurin et al.; Franceschi et al.), the
  full validation set for the hypergradient, outer Adam on lam. The candidates in `unrolled`
  (T, inner step, outer step) are searched at `search_budget_s` each; the one with the lowest
  final validation loss then runs the full budget (the search is drawn faintly).
- Hand-tuned (the paper does not define it): Algorithm 1 on a grid of 6 global log decays
  (penalty exp(lam) ||w||^2, i.e. all per-weight decays equal), all grid models at once, Adam on
  minibatches of 100 for as many steps as the hypernetwork took up to the end of its bottom-panel
  curve, once with the paper's step 1e-4 and once with 1e-3 (the 12 models as one array, each row
  with its own step size); the line is the best of these 12.
- "Final" losses are means over the evaluations in the last 10% of a curve: the hypernetwork's
  curve is noisy, and one evaluation can sit on a spike.
"""
import dataclasses
import time

import numpy as np

from hypernet import checks
from experiments.common.per_weight import (  # noqa: F401  (Config, PAPER: the figure's settings, re-exported)
    PAPER, TOP, Config, arch_name, cv_job, hyper_job, unrolled_job, ylim)
from experiments.harness import bounds, cli, job_cache, plotting, results, runner
from experiments.harness.cpu_clock import final, first_time, truncate
from experiments.common import verdicts

FIGURE = "fig5_many"
FIGURES = results.FIGURES

# The settings (Config, PAPER), the problem and one run of each method (hyper_job, unrolled_job,
# cv_job) are in experiments/common/per_weight.py: the warm-start comparison and bench/cv_grid.py
# share them.
QUICK = dataclasses.replace(PAPER, n_train=2000, n_valid=2000, n_test=2000, top_budget_s=3.0,
                            bottom_s=(2.0, 3.0), search_budget_s=1.0, eval_every_s=0.3,
                            archs=((784, 10), (784, 20, 10)), unrolled=((10, 0.05, 0.03), (30, 0.05, 0.03)),
                            cv_log_decays=(-9.0, -7.0, -5.0))

# The time budgets of a run (compute seconds) and the evaluation interval: what scaled() scales.
BUDGETS = ("top_budget_s", "bottom_s", "search_budget_s", "eval_every_s")  # the evaluation interval last
MIN_BUDGET_S = 0.1  # a scaled time budget shorter than this holds no evaluation of a curve


def scaled(config, fraction):
    """`config` with every time budget and the evaluation interval (BUDGETS) times `fraction`, 0 <
    fraction <= 1, and nothing else changed: a labelled robustness budget for sweeps over seeds
    (experiments/harness/seeds.py --budget-fraction); the evaluations per curve stay as many."""
    if not 0 < fraction <= 1:
        raise ValueError(f"budget fraction {fraction!r}: give a number above 0 and at most 1")
    times = lambda x: float(f"{x * fraction:.12g}")  # noqa: E731  (1150 * 0.1 is 115, not 115.00000000000001)
    shortest = min(min(v) if isinstance(v, tuple) else v for v in (getattr(config, k) for k in BUDGETS[:-1]))
    if shortest * fraction < MIN_BUDGET_S:
        raise ValueError(f"budget fraction {fraction!r} leaves the shortest time budget {shortest * fraction:.3g} CPU s; "
                         f"each must stay at least {MIN_BUDGET_S:g} s: give a fraction of at least "
                         f"{MIN_BUDGET_S / shortest:.3g}")
    return dataclasses.replace(config, **{k: tuple(map(times, v)) if isinstance(v, tuple) else times(v)
                                          for k, v in ((k, getattr(config, k)) for k in BUDGETS)})


# ---- the jobs that take other jobs' results ------------------------------------------------------
def cv_after(config, sizes, end, hyper):
    """The hand-tuned grid of `sizes` with as many steps as its hypernetwork took by the end of its
    bottom-panel curve (a job that takes hyper_job's result)."""
    return cv_job(config, sizes, truncate(hyper, end)["steps"])


def best_unrolled(config, *search):
    """The unrolled setting whose search run ended lowest, for the full budget (a job that takes
    every search run's result)."""
    best = config.unrolled[int(np.argmin([final(r, config.final_fraction) for r in search]))]
    return unrolled_job(config, best, config.top_budget_s)


def _run_jobs(config):
    """All runs as jobs (experiments/harness/runner.py), `workers` at a time here. The deeper hypernetworks go
    first; each hand-tuned grid jumps the queue once its hypernetwork is done (it trains as many
    steps as that one took by the end of its curve); the best unrolled setting of the search runs
    the full budget once the search is done. Returns ({arch: job}, [search jobs], {arch: cv job},
    the unrolled job), each job's result and where it ran."""
    ends = dict(zip(map(tuple, config.archs), config.bottom_s))
    budgets = {a: max(e, config.top_budget_s) if a == TOP else e for a, e in ends.items()}
    key = lambda *parts: job_cache.key(FIGURE, config, *parts)  # noqa: E731
    with runner.open(config.workers) as r:
        hyper = {a: r.submit(hyper_job, config, a, budgets[a], key=key("hyper", a), label=f"hyper_{arch_name(a)}")
                 for a in map(tuple, config.archs[::-1]) if a != TOP}
        search = [r.submit(unrolled_job, config, c, config.search_budget_s, key=key("unrolled", c),
                           label=f"unrolled_search_{i}") for i, c in enumerate(config.unrolled)]
        hyper[TOP] = r.submit(hyper_job, config, TOP, budgets[TOP], key=key("hyper", TOP), label=f"hyper_{arch_name(TOP)}")
        cv = {a: r.submit(cv_after, config, a, ends[a], hyper[a], key=key("cv", a), priority=1,
                          label=f"cv_{arch_name(a)}") for a in map(tuple, config.archs)}
        unrolled_run = r.submit(best_unrolled, config, *search, key=key("best_unrolled"), priority=1, label="unrolled")
        for job in r.as_completed():
            out = job.result
            print(f"[{FIGURE}] {job.label}: {job.where['wall_s']:.0f} s wall on {job.where['host']}, " + (
                f"best global log decay {out['log_decay']} (Adam {out['lr']}), valid {out['valid']:.5f}"
                if job.label.startswith("cv") else f"valid {out['valid'][-1]:.5f} test {out['test'][-1]:.5f}")
                + f", {out['steps']} steps" + (" (reused)" if job.reused else ""), flush=True)
    return {arch_name(a): j for a, j in hyper.items()}, search, {arch_name(a): j for a, j in cv.items()}, unrolled_run


def check_config(config):
    """What depends on several settings, refused before any work: every architecture an MLP from
    784 inputs to 10 outputs, 784-10 (the top panel) among them, a bottom budget for each (784-10's
    within the top one), and each unrolled setting's steps positive."""
    bounds.check_mnist_sizes(config)
    if TOP not in config.archs:
        raise ValueError(f"archs must include {TOP} (the top panel's model), got {config.archs}")
    for arch in config.archs:
        if len(arch) < 2 or arch[0] != TOP[0] or arch[-1] != TOP[-1]:
            raise ValueError(f"each of archs must go from {TOP[0]} inputs to {TOP[-1]} outputs, got {arch}")
    if len(config.bottom_s) != len(config.archs):
        raise ValueError(f"bottom_s needs one budget per architecture ({len(config.archs)}), got {config.bottom_s}")
    if config.bottom_s[config.archs.index(TOP)] > config.top_budget_s:
        raise ValueError(f"the bottom budget of {arch_name(TOP)} is the first part of the top panel's run: at most "
                         f"top_budget_s = {config.top_budget_s:g}, got {config.bottom_s}")
    if not config.unrolled or not config.cv_log_decays or not config.cv_lrs:
        raise ValueError("unrolled, cv_log_decays and cv_lrs each need at least one setting")
    for T, inner, outer in config.unrolled:
        checks.check_positive(**{f"unrolled inner step (T = {T})": inner, f"unrolled outer step (T = {T})": outer})
    checks.check_fraction(final_fraction=config.final_fraction)


def run(config=PAPER, out=FIGURES):
    t0 = time.perf_counter()
    check_config(config)
    jobs = _run_jobs(config)
    timings = {j.label: j.where["wall_s"] for j in [*jobs[0].values(), *jobs[1], *jobs[2].values(), jobs[3]]}
    hyper, cv = ({k: j.result for k, j in d.items()} for d in (jobs[0], jobs[2]))
    search, unr = [j.result for j in jobs[1]], jobs[3].result
    fin = lambda r, c="valid": final(r, config.final_fraction, c)  # noqa: E731
    top = hyper[arch_name(TOP)]
    top = truncate(top, config.top_budget_s) | {k: top[k] for k in ("n_params", "n_hyper")}
    metrics = {
        "hypernet_params": top["n_params"], "top_budget_s": config.top_budget_s, "bottom_s": config.bottom_s,
        "hyper_valid_final": fin(top), "hyper_test_final": fin(top, "test"),
        "unrolled_valid_final": fin(unr), "unrolled_test_final": fin(unr, "test"),
        "hyper_time_to_plateau_s": first_time(top["t"], top["valid"], 1.01 * fin(top)),
        "unrolled_time_to_hyper_final_s": first_time(unr["t"], unr["valid"], fin(top)),
        "unrolled_T": unr["T"], "unrolled_lr": unr["lr"], "unrolled_lr_lam": unr["lr_lam"],
        "unrolled_steps": unr["steps"], "unrolled_peak_memory_mb": unr["peak_memory_mb"], "hyper_steps": top["steps"],
        "unrolled_search": [{k: s[k] for k in ("T", "lr", "lr_lam", "steps", "peak_memory_mb")}
                            | {"valid_final": fin(s), "test_final": fin(s, "test")} for s in search]}
    bottom = {}
    for sizes, end in zip(map(tuple, config.archs), config.bottom_s):
        name, h, c = arch_name(sizes), hyper[arch_name(sizes)], cv[arch_name(sizes)]
        bottom[name] = b = truncate(h, end)
        metrics[name] = {"n_hyper": h["n_hyper"], "end_s": end, "valid_final": fin(b), "test_final": fin(b, "test"),
                         "steps": b["steps"], "lam_mean": h["lam_mean"], "lam_sd": h["lam_sd"],
                         "handtuned_valid": c["valid"], "handtuned_test": c["test"],
                         "handtuned_decay": float(np.exp(c["log_decay"])), "handtuned_log_decay": c["log_decay"],
                         "handtuned_lr": c["lr"], "handtuned_steps": c["steps"],
                         "handtuned_valid_by_lr": {str(lr): float(v.min())
                                                   for lr, v in zip(config.cv_lrs, c["valid_losses"])}}
    arrays = {f"hyper_{k}_{c}": v[c] for k, v in bottom.items() for c in ("t", "valid", "test")}
    arrays |= {f"top_hyper_{c}": top[c] for c in ("t", "valid", "test")}
    arrays |= {f"top_unrolled_{c}": unr[c] for c in ("t", "valid", "test")}
    arrays |= {f"unrolled_{i}_{c}": v[c] for i, v in enumerate(search) for c in ("t", "valid", "test")}
    arrays |= {f"cv_{k}_valid_losses": v["valid_losses"] for k, v in cv.items()}
    timings["total"] = time.perf_counter() - t0
    return results.save_results(out, FIGURE, config_name=results.config_name(config, PAPER, QUICK), config=config,
                                metrics=metrics, timings=timings, arrays=arrays)


# ---- the figure -------------------------------------------------------------------------------
def plot(out=FIGURES):
    import matplotlib.ticker
    record, a = results.load_results(out, FIGURE)
    m, archs = record["metrics"], [arch_name(s) for s in record["config"]["archs"]]
    fig, (top, bottom) = plotting.figure(2, 1, figsize=(6.5, 8.5), layout="constrained")
    for i in range(len(m["unrolled_search"])):  # the search, at its shorter budget
        top.plot(a[f"unrolled_{i}_t"], a[f"unrolled_{i}_valid"], color="0.8", lw=0.8)
    runs = (("top_hyper", "C0", "Hyper-training"), ("top_unrolled", "C3", f"Unrolled, T = {m['unrolled_T']}"))
    for prefix, color, label in runs:
        top.plot(a[f"{prefix}_t"], a[f"{prefix}_valid"], color=color, label=f"{label}, valid.")
        top.plot(a[f"{prefix}_t"], a[f"{prefix}_test"], color=color, ls="--", label=f"{label}, test")
    ylim(top, [(a[f"{p}_t"], a[f"{p}_{c}"]) for p, _, _ in runs for c in ("valid", "test")])
    top.set_title(f"{results.unless_paper(record)}{archs[0]}, {m[archs[0]]['n_hyper']:,} hyperparameters "
                  "(grey: the unrolled settings search)")
    for i, name in enumerate(archs):
        t, c = a[f"hyper_{name}_t"], f"C{i}"
        bottom.plot(t, a[f"hyper_{name}_valid"], color=c, label=f"{name}, {m[name]['n_hyper']:,} hyperparameters")
        bottom.plot(t, a[f"hyper_{name}_test"], color=c, ls="--")
        bottom.hlines(m[name]["handtuned_valid"], 0, t[-1], color=c, ls=":")
    # Log scale: the linear model's loss is 3-4 times the deeper ones'; their gaps stay visible.
    bottom.set_yscale("log")
    for axis in (bottom.yaxis.set_major_formatter, bottom.yaxis.set_minor_formatter):
        axis(matplotlib.ticker.FuncFormatter(lambda y, _: f"{y:.3g}"))
    lows = [min(a[f"hyper_{n}_valid"].min(), a[f"hyper_{n}_test"].min(), m[n]["handtuned_valid"]) for n in archs]
    # The top: above every curve after its first quarter (each starts far above its plateau)
    highs = [a[f"hyper_{n}_{c}"][int(np.ceil(len(a[f"hyper_{n}_t"]) / 4)):].max() for n in archs for c in ("valid", "test")]
    bottom.set_ylim(0.9 * min(lows), max(1.5 * max(m[n]["handtuned_valid"] for n in archs), 1.05 * max(highs)))
    styles = [bottom.plot([], [], color="k", ls=ls, label=lab)[0]
              for ls, lab in (("-", "valid."), ("--", "test"), (":", "hand-tuned valid."))]
    bottom.set_title("Hyper-training, deeper models")
    for ax in (top, bottom):
        ax.set_xlabel("Compute time (s)")
        ax.set_ylabel("Loss (MSE)")
    plotting.legend_below(top, ncol=2)  # below the panels: no curve hidden; the models beside the line styles
    plotting.legend_below(bottom, handles=bottom.get_lines()[:2 * len(archs):2] + styles, ncol=2)
    return plotting.save(fig, out, FIGURE)


# ---- the paper's claims and the rules that decide them ---------------------------------------------
def archs_of(record):
    """The bottom panel's models by name ("784-100-10"), as the metrics are keyed, from a record's or a
    seed sweep summary's config."""
    return ["-".join(str(n) for n in sizes) for sizes in record["config"]["archs"]]


def rules(m, archs):
    """Whether each claim's rule holds on one run's metrics m (the PAPER run's, or one seed's of a sweep):
    {"faster", "overfit", "deeper": bool, "hand": [bool per model of archs]}."""
    gap = lambda run: m[f"{run}_valid_final"] - m[f"{run}_test_final"]  # noqa: E731
    faster = m["hyper_time_to_plateau_s"] < (m["unrolled_time_to_hyper_final_s"] or np.inf)
    worse = m["unrolled_valid_final"] < m["hyper_valid_final"]
    v, t = [m[a]["valid_final"] for a in archs], [m[a]["test_final"] for a in archs]
    return {"faster": bool(faster and worse), "overfit": bool(gap("hyper") >= gap("unrolled")),
            "deeper": bool(all(np.diff(v) < 0) and all(np.diff(t) < 0)),
            "hand": [bool(m[a]["valid_final"] < m[a]["handtuned_valid"]) for a in archs]}


def seed_runs(seeds_record):
    """[(seed, metrics)] of a sweep's completed seeds (figures/seeds_fig5_many.json): each seed's metrics
    rebuilt from the summary's dotted names ("784-10.valid_final" -> m["784-10"]["valid_final"]), as
    rules() reads them."""
    runs = []
    for i, seed in enumerate(seeds_record["completed"]):
        m = {}
        for key, st in seeds_record["metrics"].items():
            head, _, rest = key.partition(".")
            if rest:
                m.setdefault(head, {})[rest] = st["values"][i]
            else:
                m[head] = st["values"][i]
        runs.append((seed, m))
    return runs


def over_seeds(seeds_record):
    """Each rule applied to every seed of a sweep: {"seeds": [...], "faster" / "overfit" / "deeper":
    [[bool per seed]], "hand": [[bool per seed] per model]}."""
    runs, archs = seed_runs(seeds_record), archs_of(seeds_record)
    r = [rules(m, archs) for _, m in runs]
    out = {k: [[x[k] for x in r]] for k in ("faster", "overfit", "deeper")}
    out["hand"] = [[x["hand"][i] for x in r] for i in range(len(archs))]
    return {"seeds": [s for s, _ in runs], **out}


CLAIMS = {  # key: (panel, the paper's claim, the rule)
    "faster": ("5 top", "with 7,850 hyperparameters, hyper-training converges faster than unrolled reverse-mode, "
               "to a worse solution",
               "hyper-training reaches its plateau (within 1% of its final validation loss) before the unrolled "
               "baseline reaches hyper-training's final loss, and the unrolled baseline ends lower"),
    "overfit": ("5 top", "hyper-training over-fits the validation set less",
                "hyper-training's final validation − test difference is at least the unrolled baseline's (a method "
                "that over-fits the validation set lowers its validation loss against its test loss)"),
    "deeper": ("5 bottom", "deeper models reach lower losses",
               "the final validation and test losses fall with every layer added"),
    "hand": ("5 bottom", "hyper-training beats hand-tuning",
             "per model, hyper-training's final validation loss is below the hand-tuned line's (the best single "
             "global decay)"),
}


def claims(record, seeds_record=None):
    """The paper's four claims of Figure 5, decided on the PAPER run of `record` (<out>/fig5_many.json;
    "hand" per model) and, with `seeds_record` (figures/seeds_fig5_many.json, possibly at a fraction of
    the budgets), on every seed of the sweep ("over_seeds": the seeds and, per unit, a bool per seed):
    plain data, see experiments/common/verdicts.py."""
    m, archs, seed = record["metrics"], archs_of(record), record["config"]["seed"]
    r = rules(m, archs)
    sweep = over_seeds(seeds_record) if seeds_record is not None else None
    numbers = {"faster": {k: m[k] for k in ("hyper_time_to_plateau_s", "unrolled_time_to_hyper_final_s",
                                            "hyper_valid_final", "unrolled_valid_final")},
               "overfit": {k: m[k] for k in ("hyper_valid_final", "hyper_test_final", "unrolled_valid_final",
                                             "unrolled_test_final")},
               "deeper": {"valid_final": {a: m[a]["valid_final"] for a in archs},
                          "test_final": {a: m[a]["test_final"] for a in archs}},
               "hand": {"valid_final": {a: m[a]["valid_final"] for a in archs},
                        "handtuned_valid": {a: m[a]["handtuned_valid"] for a in archs}}}
    out = []
    for key, (panel, statement, rule) in CLAIMS.items():
        holds, units, unit = (r["hand"], archs, "model") if key == "hand" else ([r[key]], [f"seed {seed}"], "seed")
        c = verdicts.claim(panel, statement, holds, units, rule, unit=unit, seeds=[seed], **numbers[key])
        c["key"] = key
        c["over_seeds"] = None if sweep is None else {
            "seeds": sweep["seeds"], "holds": sweep[key], "budget_fraction": seeds_record.get("budget_fraction", 1)}
        out.append(c)
    return out


def main(argv=None):
    cli.main(FIGURE, run, plot, paper=PAPER, quick=QUICK, argv=argv, description=__doc__, check=check_config)


if __name__ == "__main__":
    main()
