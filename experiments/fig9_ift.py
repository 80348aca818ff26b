"""Beyond the paper: which method for thousands of hyperparameters? Figure 5's top-panel problem
(the linear 784-10 model with a separate L2 decay on each of its 7,850 weights, MSE, 10,000
training / validation / test points), four methods at the paper's 1,000 compute seconds each:
- hyper-training (Algorithm 3) and the unrolled reverse-mode baseline exactly as in Figure 5: the
  same jobs (hyper_job / unrolled_job of experiments/common/per_weight.py), settings and random
  streams; the unrolled baseline runs the setting Figure 5's search picked (`unrolled`, checked
  against figures/fig5_many.json by the tests) without repeating the search;
- the implicit-function-theorem hypergradient with a Neumann-series inverse Hessian (Lorraine,
  Vicol & Duvenaud, AISTATS 2020; hypernet/beyond/ift.py) with i = `terms` in {0, 5, 20} Neumann
  terms: N steps of the unrolled baseline's inner optimiser (SGD, momentum 0.9, its inner step)
  continue from the previous weights, then one hypergradient at those weights on the next
  training minibatch and the full validation set (as the unrolled baseline's), then one Adam step
  on lam. Its N, the Neumann step alpha and the outer Adam step are picked by the unrolled
  baseline's rule and budget: as many settings as its search (4, `search`: the half of the 2 x 2 x
  2 grid N in {10, 100}, alpha in {0.02, 0.2}, outer step in {0.03, 0.1} in which each level of
  each factor appears twice), each run for `search_budget_s` (Figure 5's 135 s) at i =
  `search_terms` (5), and the one whose final validation loss is lowest runs the full budget for
  every i. alpha = 0.2 is below 2 / 7.6, the largest eigenvalue of the training loss's Hessian here
  (power iteration at the initial weights), as the Neumann series needs.
Every method's weights are evaluated every `eval_every_s` compute seconds (off the clock) on the
full validation and test sets. A robustness run repeats every method (the settings picked at seed
7, no new search) at seeds `robust_seeds` for `robust_budget_s` (10% of the budget), all in one
queue of jobs (experiments/harness/runner.py: `workers` processes, or a Dask cluster with
--scheduler).

    python experiments/fig9_ift.py [--quick] [--seed 7] [--out DIR] [--plot-only]

Reported per method: the final validation and test losses (mean of the last 10% of evaluations),
the validation loss at 10, 100 and 1,000 s (`at_s`), the time to reach hyper-training's plateau
(1.01 x its final validation loss), the validation - test gap, the peak memory of one hypergradient
(tracemalloc) and the spread of lam_hat over the 7,850 hyperparameters.
"""
import dataclasses
import time

import numpy as np
from autograd import grad

from hypernet import checks, data, hypernets, models, optim
from hypernet.baselines import unrolled
from hypernet.beyond import ift
from experiments.common import per_weight, verdicts
from experiments.harness import bounds, cli, job_cache, plotting, results, runner
from experiments.harness.cpu_clock import Clock, final, first_time

FIGURE = "fig9_ift"
FIGURES = results.FIGURES


@dataclasses.dataclass(frozen=True)
class Config:
    MAY_BE_ZERO = ("search_terms",)     # --set: 0 Neumann terms is the identity-inverse IFT
    seed: int = 7
    budget_s: float = 1000.0            # compute seconds of every method (Figure 5's top panel)
    unrolled: tuple = (800, 0.02, 0.1)  # (T, inner step, outer step) that Figure 5's search picked
    terms: tuple = (0, 5, 20)           # Neumann terms i of each IFT run
    # (N inner steps, Neumann alpha, outer Adam step) of the IFT settings search
    search: tuple = ((10, 0.02, 0.03), (10, 0.2, 0.1), (100, 0.02, 0.1), (100, 0.2, 0.03))
    search_terms: int = 5
    search_budget_s: float = 135.0      # as each setting of Figure 5's unrolled search
    at_s: tuple = (10.0, 100.0, 1000.0)  # the compute times at which the methods are ranked
    n_train: int = 10000
    n_valid: int = 10000
    n_test: int = 10000
    eval_every_s: float = 10.0
    final_fraction: float = 0.1         # "final" = mean of the evaluations in the last 10% of a curve
    robust_seeds: tuple = (8, 9, 10)
    robust_budget_s: float = 100.0
    workers: int = 2


PAPER = Config()
QUICK = dataclasses.replace(PAPER, budget_s=3.0, unrolled=(10, 0.05, 0.03), terms=(0, 5),
                            search=((2, 0.02, 0.03), (5, 0.2, 0.03)), search_budget_s=1.0, at_s=(0.5, 3.0),
                            n_train=2000, n_valid=2000, n_test=2000, eval_every_s=0.3, robust_seeds=(8,),
                            robust_budget_s=1.0)


fig5_config = per_weight.config_for  # Figure 5's settings with this run's seed, sizes, interval


# ---- one run of each method (each a job) ------------------------------------------------------------
def ift_job(config, terms, setting, budget):
    """IFT hyper-training with `terms` Neumann terms and setting (N, alpha, outer step) for `budget`
    compute seconds; Figure 5's data, initial weights and lam, and training minibatch stream."""
    N, alpha, lr_lam = setting
    c5 = fig5_config(config)
    splits, problem, full, evaluate = per_weight.setup(c5, per_weight.TOP)
    W0 = models.init_weights(np.random.default_rng(per_weight.stream(c5, "weights_init")), problem.n_weights,
                             c5.init_scale)
    lam0 = np.full(problem.n_hyper, c5.lam_hat0)
    batch = data.minibatcher(splits.train, c5.batch, per_weight.stream(c5, "train_batches"))
    valid = full(splits.valid)
    clock = Clock(budget, c5.eval_every_s, weights=lambda s: s.W, evaluate=evaluate)
    last = {}

    def keep(step, state):
        if np.all(np.isfinite(state.lam)):  # a run that diverges keeps its last finite lam_hat
            last["lam"] = state.lam
        return clock(step, state)
    try:
        ift.hypertrain_ift(problem, W0=W0, lam_hat=lam0, train_batch=batch, valid_batch=lambda step: valid,
                           inner_steps=N, terms=terms, alpha=alpha,
                           opt=optim.sgd_momentum(config.unrolled[1], c5.momentum), opt_lam=optim.adam(lr_lam),
                           iters=None, callback=keep)
        diverged = None
    except checks.DivergedError as e:  # a setting of the search (or a seed) may diverge: kept as a result
        diverged = str(e)
    memory = unrolled.peak_bytes(lambda lam: ift.ift_hypergradient(
        problem, W=W0, lam=lam, train_data=batch(0), valid_data=valid, terms=terms, alpha=alpha), lam0)
    lam = last.get("lam", lam0)
    return dict(clock.curves(), N=N, alpha=alpha, lr_lam=lr_lam, terms=terms, lam_mean=float(lam.mean()),
                lam_sd=float(lam.std()), peak_memory_mb=memory / 2 ** 20, diverged=diverged)


def hyper_memory(config):
    """Peak bytes of one of Algorithm 3's hypergradients (d L_V(w_phi(lam_hat)) / d lam_hat on its
    validation minibatch) with Figure 5's hypernetwork."""
    c5 = fig5_config(config)
    splits, problem, full, evaluate = per_weight.setup(c5, per_weight.TOP)
    D = problem.n_weights
    hn = hypernets.centred(hypernets.factorised(D, c5.bottleneck, D), c5.lam_hat0)
    phi = hn.init(np.random.default_rng(per_weight.stream(c5, "hypernet_init")), c5.init_scale)
    valid = data.minibatcher(splits.valid, c5.valid_batch, per_weight.stream(c5, "valid_batches"))(0)
    g = grad(lambda lam: np.sum(problem.valid_loss(hn.apply(phi, lam[None, :]), valid)))
    return unrolled.peak_bytes(g, np.full(D, c5.lam_hat0))


def _job(kind, config, *args):
    """One run: (kind, seed, args, curves and facts)."""
    t0 = time.perf_counter()
    if kind == "hyper":
        out = per_weight.hyper_job(fig5_config(config), per_weight.TOP, config.budget_s)
        out["peak_memory_mb"] = hyper_memory(config) / 2 ** 20
    elif kind == "unrolled":
        out = per_weight.unrolled_job(fig5_config(config), config.unrolled, config.budget_s)
    else:
        out = ift_job(config, *args)
    return kind, config.seed, args, dict(out, wall_s=time.perf_counter() - t0)


def _best_ift(config, terms, *search):
    """IFT with `terms` at the search's best setting (lowest final validation loss), for the full
    budget (a job that takes every search run's result)."""
    fin = [final(r[3], config.final_fraction) for r in search]
    return _job("ift", config, terms, config.search[int(np.argmin(fin))], config.budget_s)


def label(kind, args=()):
    return f"ift_i{args[0]}" if kind == "ift" else kind


def method_names(config):
    return ["hyper", "unrolled"] + [f"ift_i{i}" for i in config["terms"]]


def check_config(config):
    """Every setting that would fail a job, refused before any work."""
    bounds.check_mnist_sizes(config)
    checks.check_positive(budget_s=config.budget_s, robust_budget_s=config.robust_budget_s,
                          search_budget_s=config.search_budget_s, eval_every_s=config.eval_every_s)
    if not config.terms or len(set(config.terms)) != len(config.terms):
        raise ValueError(f"terms must list distinct Neumann term counts, got {config.terms}")
    checks.check_count(allow_zero=True, search_terms=config.search_terms,
                       **{f"terms {i}": i for i in config.terms})
    if not config.search or len(set(config.search)) != len(config.search):
        raise ValueError(f"search must list distinct (N, alpha, outer step) settings, got {config.search}")
    for N, alpha, lr in config.search:
        checks.check_count(**{f"N of search setting {(N, alpha, lr)}": N})
        checks.check_positive(**{f"alpha of {(N, alpha, lr)}": alpha, f"outer step of {(N, alpha, lr)}": lr})
    if not config.at_s or any(t > config.budget_s for t in config.at_s):
        raise ValueError(f"at_s must list compute times within budget_s = {config.budget_s:g}, got {config.at_s}")
    checks.check_positive(**{f"at_s {t}": t for t in config.at_s})
    checks.check_count(allow_zero=True, **{f"robust seed {s}": s for s in config.robust_seeds})
    checks.check_count(T=config.unrolled[0], workers=config.workers)
    checks.check_positive(unrolled_inner_step=config.unrolled[1], unrolled_outer_step=config.unrolled[2])
    checks.check_fraction(final_fraction=config.final_fraction)


def run(config=PAPER, out=FIGURES):
    check_config(config)
    t0 = time.perf_counter()
    robust = [dataclasses.replace(config, seed=s, budget_s=config.robust_budget_s) for s in config.robust_seeds]
    key = lambda c, *parts: job_cache.key(FIGURE, c, *parts)  # noqa: E731
    runs = {c.seed: {} for c in [config, *robust]}
    with runner.open(config.workers) as r:
        search = [r.submit(_job, "ift", config, config.search_terms, s, config.search_budget_s,
                           key=key(config, "search", s), label=f"search_{i}") for i, s in enumerate(config.search)]
        for c in [config, *robust]:  # the long main runs first
            for kind in ("hyper", "unrolled"):
                r.submit(_job, kind, c, key=key(c, kind), label=f"{c.seed}_{kind}")
        for c in [config, *robust]:
            for i in config.terms:
                r.submit(_best_ift, c, i, *search, key=key(c, "ift", i), priority=1, label=f"{c.seed}_ift_i{i}")
        for j in r.as_completed():
            kind, seed, args, res = j.result
            if j.label.startswith("search"):
                runs.setdefault("search", {})[j.label] = res
            else:
                runs[seed][label(kind, args)] = res
            print(f"[{FIGURE}] {j.label}: {res['wall_s']:.0f} s wall on {j.where['host']}, {res['steps']} steps, "
                  f"final valid {final(res, config.final_fraction):.5f} test "
                  f"{final(res, config.final_fraction, 'test'):.5f} (mean of the last "
                  f"{100 * config.final_fraction:g}%)" + (" (reused)" if j.reused else ""), flush=True)
    search_runs = [runs["search"][f"search_{i}"] for i in range(len(config.search))]
    metrics = summarise(config, runs[config.seed])
    metrics["search"] = [{"N": s["N"], "alpha": s["alpha"], "lr_lam": s["lr_lam"], "terms": s["terms"],
                          "diverged": s["diverged"],
                          "valid_final": final(s, config.final_fraction), "steps": s["steps"]} for s in search_runs]
    metrics["ift_setting"] = list(config.search[int(np.argmin([s["valid_final"] for s in metrics["search"]]))])
    print(f"[{FIGURE}] the IFT runs used (N, alpha, outer step) = {tuple(metrics['ift_setting'])}, the search's lowest "
          f"final validation loss; lowest final validation loss: {metrics['lowest_valid_final']}, test: "
          f"{metrics['lowest_test_final']}", flush=True)
    metrics["robust"] = robust_summary(config, {c.seed: summarise(c, runs[c.seed]) for c in robust})
    arrays = {f"{name}_{c}": r[c] for name, r in runs[config.seed].items() for c in ("t", "valid", "test")}
    arrays |= {f"search_{i}_{c}": s[c] for i, s in enumerate(search_runs) for c in ("t", "valid", "test")}
    timings = {name: r["wall_s"] for name, r in runs[config.seed].items()}
    timings |= {"search_sum": sum(s["wall_s"] for s in search_runs),
                "robust_sum": sum(r["wall_s"] for c in robust for r in runs[c.seed].values()),
                "total": time.perf_counter() - t0}
    return results.save_results(out, FIGURE, config_name=results.config_name(config, PAPER, QUICK), config=config,
                                metrics=metrics, timings=timings, arrays=arrays)


def value_at(curve, t):
    """The validation loss at compute time t: of the evaluation made as the clock passed t (the first at or
    after t, within one step of it: where first_time finds a level reached), or the run's last evaluation if
    it ended before t (None without evaluations). With evaluations every eval_every_s and t on that grid,
    "the last evaluation before t" would read one period late: at 10 s, the evaluation at the start."""
    times = np.asarray(curve["t"])
    if not len(times):
        return None
    i = min(np.searchsorted(times, t, side="left"), len(times) - 1)
    return float(curve["valid"][i])


def summarise(config, runs):
    """Per method: final losses, the gap, losses at at_s, time to hyper-training's plateau, memory and
    lam_hat's spread; which method is lowest at each at_s and at the end (validation and test; of the runs
    that did not blow up or stop by NaN)."""
    fin = lambda r, c="valid": final(r, config.final_fraction, c)  # noqa: E731
    plateau = 1.01 * fin(runs["hyper"])
    metrics = {"hyper_plateau_level": plateau, "budget_s": config.budget_s}
    for name, r in runs.items():
        metrics[name] = {"valid_final": fin(r), "test_final": fin(r, "test"),
                         "gap_valid_minus_test": fin(r) - fin(r, "test"), "steps": r["steps"],
                         "time_to_hyper_plateau_s": first_time(r["t"], r["valid"], plateau),
                         "valid_at": {f"{t:g}": None if r.get("diverged") and t > r["t"][-1] else value_at(r, t)
                                      for t in config.at_s if t <= config.budget_s},  # (none after a NaN stopped it)
                         **{k: r[k] for k in ("lam_mean", "lam_sd", "peak_memory_mb", "N", "alpha", "lr_lam",
                                              "diverged")
                            if k in r}}
    names = list(runs)
    lowest = {}
    for t in config.at_s:
        if t <= config.budget_s:
            vals = {n: metrics[n]["valid_at"][f"{t:g}"] for n in names if metrics[n]["valid_at"][f"{t:g}"] is not None}
            lowest[f"{t:g}"] = min(vals, key=vals.get) if vals else None
    metrics["lowest_valid_at"] = lowest
    ok = [n for n in names if not blown(metrics, n)] or names  # a run stopped by NaN ends a shorter run
    metrics["lowest_valid_final"] = min(ok, key=lambda n: metrics[n]["valid_final"])
    metrics["lowest_test_final"] = min(ok, key=lambda n: metrics[n]["test_final"])
    return metrics


def robust_summary(config, robust):
    """Per method over the robustness seeds: final validation and test loss and the gap (mean, sd,
    values), and which method was lowest on each seed."""
    seeds = list(config.robust_seeds)
    out = {"seeds": seeds, "budget_s": config.robust_budget_s}
    for name in method_names(dataclasses.asdict(config)):
        per = [robust[s][name] for s in seeds]
        out[name] = {k: results.stats([p[k] for p in per]) for k in ("valid_final", "test_final",
                                                                     "gap_valid_minus_test")}
        out[name]["diverged"] = [bool(p.get("diverged")) for p in per]
    out["lowest_valid_final"] = [robust[s]["lowest_valid_final"] for s in seeds]
    out["lowest_test_final"] = [robust[s]["lowest_test_final"] for s in seeds]
    return out


# ---- the figure -------------------------------------------------------------------------------
NICE = {"hyper": "Hyper-training (Alg. 3)", "unrolled": "Unrolled"}
COLORS = {"hyper": "C0", "unrolled": "C3"}


def nice(name, config):
    if name == "unrolled":
        return f"Unrolled, T = {config['unrolled'][0]}"
    return NICE.get(name) or f"IFT, i = {name[len('ift_i'):]} Neumann terms"


def color(name, config):
    import matplotlib
    if name in COLORS:
        return COLORS[name]
    terms = list(config["terms"])
    return matplotlib.colormaps["viridis"](0.2 + 0.6 * terms.index(int(name[len("ift_i"):]))
                                                    / max(len(terms) - 1, 1))


BLOW_UP = 10.0  # a run "blew up" once its validation loss is this many times hyper-training's plateau


def blown(metrics, name):
    """Did run `name` blow up: a final validation loss above BLOW_UP x hyper-training's plateau, or a
    run stopped by NaN or Inf before its budget (its final window is then that of a shorter run)?"""
    return bool(metrics[name].get("diverged")) or metrics[name]["valid_final"] > BLOW_UP * metrics["hyper_plateau_level"]


def until_blow_up(t, values, level):
    """(t, values) up to the last evaluation at or below `level`, and the time of the first above it
    after that (None if the curve never leaves): a blown-up curve is drawn until it leaves the panel."""
    above = np.nonzero(np.asarray(values) > level)[0]
    above = above[above > 0]
    if not len(above):
        return t, values, None
    k = above[0]
    return t[:k], values[:k], float(t[k])


def plot(out=FIGURES):
    import matplotlib.ticker
    record, a = results.load_results(out, FIGURE)
    m, config = record["metrics"], record["config"]
    names = method_names(config)
    level = BLOW_UP * m["hyper_plateau_level"]
    fig, axes = plotting.figure(1, 3, figsize=(14, 5.2), layout="constrained", width_ratios=(2, 2, 1.3))
    for ax, column in zip(axes[:2], ("valid", "test")):
        shown = []
        for i in range(len(m["search"])):
            t, v, _ = until_blow_up(a[f"search_{i}_t"], a[f"search_{i}_{column}"], level)
            ax.plot(t, v, color="0.82", lw=0.8,
                    label=f"IFT settings search ({config['search_budget_s']:g} s each)" if i == 0 else None)
        for name in names:
            t, v, gone = until_blow_up(a[f"{name}_t"], a[f"{name}_{column}"], level)
            diverged = bool(m[name].get("diverged"))
            ax.plot(t, v, color=color(name, config), label=nice(name, config) + (
                " (blew up)" if gone is not None else f" (NaN after {t[-1]:.0f} s)" if diverged else ""))
            if (gone is not None or diverged) and len(t):
                ax.plot(t[-1:], v[-1:], "x", color=color(name, config), ms=8, mew=2)
            shown.append((t, v))
        per_weight.ylim(ax, [(t, v) for t, v in shown if len(t)])
        ax.set_xscale("log")
        ax.set_xlim(left=config["eval_every_s"] / 2)
        ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 3.0)))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("Compute time (s)")
        ax.set_ylabel(f"{'Validation' if column == 'valid' else 'Test'} loss (MSE)")
    axes[0].set_title(f"{results.unless_paper(record)}784-10, 7,850 hyperparameters, {config['budget_s']:g} s each")
    axes[1].set_title("Test loss of the same weights (×: blew up or NaN)")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    gap = axes[2]
    ok = [n for n in names if not blown(m, n)]
    gap.bar([names.index(n) for n in ok], [m[n]["gap_valid_minus_test"] for n in ok],
            color=[color(n, config) for n in ok], edgecolor="white")
    for n in names:
        if blown(m, n):
            lo, hi = gap.get_ylim()  # inside the panel, from the zero line into its larger side
            gap.text(names.index(n), 0, " NaN " if m[n].get("diverged") else " blew up ", rotation=90, ha="center", va="bottom" if hi >= -lo else "top",
                     fontsize=9)
    gap.set_xticks(range(len(names)), ["hyper-training", "unrolled"] + [f"IFT, i = {i}" for i in config["terms"]],
                   rotation=45, ha="right", fontsize=9)
    gap.axhline(0, color="k", lw=0.6)
    gap.set_title("Final validation - test loss")
    return plotting.save(fig, out, FIGURE)


# ---- claims -------------------------------------------------------------------------------------
QUESTIONS = {  # key: (claim, rule)
    "ift_at_or_below_hyper": ("IFT (its best i) ends at or below hyper-training's final validation loss",
                              "the lowest final validation loss (mean of the last 10% of evaluations) over the IFT "
                              "runs that did not blow up is at or below hyper-training's"),
    "ift_at_or_below_unrolled": ("IFT (its best i) ends at or below the unrolled baseline's final validation loss",
                                 "the lowest final validation loss over the IFT runs that did not blow up is at or "
                                 "below the unrolled baseline's"),
    "hyper_gap_smallest": ("hyper-training over-fits the validation set least (Figure 5's over-fitting claim, "
                           "extended to IFT)",
                           "hyper-training's final validation - test gap is the largest (least negative) of all "
                           "methods that did not blow up (final validation loss above 10 x hyper-training's plateau, or "
                           "stopped by NaN)"),
    "neumann_helps": ("more Neumann terms end lower",
                      "the final validation loss does not rise with i: each larger i ends at or below the next smaller "
                      "one, within 1e-4 (a run that blew up ends above every other)"),
}


def decide(metrics, config):
    """The four questions' answers on one run's metrics (summarise's output)."""
    iftn = [f"ift_i{i}" for i in sorted(config["terms"])]
    end = {n: np.inf if blown(metrics, n) else metrics[n]["valid_final"] for n in method_names(config)}
    best_ift = min(end[n] for n in iftn)
    gaps = {n: metrics[n]["gap_valid_minus_test"] for n in method_names(config) if not blown(metrics, n)}
    return {"ift_at_or_below_hyper": best_ift <= end["hyper"],
            "ift_at_or_below_unrolled": best_ift <= end["unrolled"],
            "hyper_gap_smallest": max(gaps, key=gaps.get) == "hyper",
            "neumann_helps": all(end[b] <= end[a] + 1e-4 for a, b in zip(iftn, iftn[1:]))}


def robust_runs(metrics, config):
    """Per robustness seed, the numbers decide() reads, from the per-seed values in metrics["robust"]."""
    rb, names = metrics["robust"], method_names(config)
    out = []
    for j in range(len(rb["seeds"])):
        r = {n: {k: rb[n][k]["values"][j] for k in ("valid_final", "gap_valid_minus_test")}
             | {"diverged": rb[n].get("diverged", [False] * len(rb["seeds"]))[j]} for n in names}
        out.append(r | {"hyper_plateau_level": 1.01 * r["hyper"]["valid_final"]})
    return out


def claims(record, seeds_record=None):
    """The comparison's questions as claims on `record` (<out>/fig9_ift.json), judged at seed 7 with
    the full budget; "robust" repeats them on each robustness seed at its budget (the robustness
    run is in the record: `seeds_record` is unused). Plain data, see experiments/common/verdicts.py."""
    m, c = record["metrics"], record["config"]
    main = decide(m, c)
    names = method_names(c)
    numbers = {"valid_final": {n: m[n]["valid_final"] for n in names},
               "test_final": {n: m[n]["test_final"] for n in names},
               "gap_valid_minus_test": {n: m[n]["gap_valid_minus_test"] for n in names}}
    out = []
    for key, (statement, rule) in QUESTIONS.items():
        cl = verdicts.claim("beyond (IFT)", statement, [main[key]], [f"seed {c['seed']}"], rule, seeds=[c["seed"]],
                            **numbers)
        cl["key"] = key
        cl["robust"] = {"seeds": m["robust"]["seeds"], "holds": [bool(decide(r, c)[key]) for r in robust_runs(m, c)],
                        "budget_s": m["robust"]["budget_s"]}
        out.append(cl)
    return out


def main(argv=None):
    cli.main(FIGURE, run, plot, paper=PAPER, quick=QUICK, argv=argv, description=__doc__, check=check_config)


if __name__ == "__main__":
    main()
