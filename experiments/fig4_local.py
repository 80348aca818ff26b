"""Figure 4 of Lorraine & Duvenaud (2018): learning a local best-response with Algorithm 3.

The setting of Section 4.1 (experiments/common/section41.py, shared with Figure 2). A linear hypernetwork
1 -> 7850 (15,700 parameters) is trained jointly with lam_hat, from lam_hat = -3.5, by Algorithm 3
(lam ~ p(lam | lam_hat) = N(lam_hat, 1e-5)) and, beside it, by Algorithm 4 (the hypernetwork
trained at lam_hat itself). The figure shows the training objective (blue) and the validation loss
(red) of Algorithm 3's final hypernetwork against lam, cross-validation as crosses, p(lam | lam_hat)
in green, and lam_hat over the iterations of every run.

    python experiments/fig4_local.py [--quick] [--seed 7] [--out DIR] [--plot-only]

Settings (paper's text first, the original code where it is silent, ours where both are):
- Adam 1e-4 on the hypernetwork and on lam_hat ("the same optimizer as the global best-response"),
  N(lam_hat, 1e-5) read as a variance (sd 0.0032), 2 lam samples per step (paper), all 10 training
  points per step (original code), 1,000-point validation batches per lam_hat step (paper's "up to
  1,000"). lam_hat moves at most about 1e-4 per step, so it needs tens of thousands of steps to
  travel from -3.5; `iters` is set from a measured path (README) to well past where it settles.
- Cross-validation and every run are jobs (experiments/harness/runner.py): `workers` processes of this machine,
  one BLAS thread each, or a Dask cluster with --scheduler.
- Ablations (labelled, beside the faithful runs, never instead of them), 5,000 steps each: the
  original code's lam optimiser, Adam 1e-2 (Algorithms 3 and 4); the original code's optimisers
  of both, SGD 1e-4 on the hypernetwork and Adam 1e-2 on lam, with Algorithm 4 (what the original
  code effectively ran); and Algorithm 3 with a wide p(lam | lam_hat), sd 0.3, with Adam 1e-2 on
  lam (a diagnostic of the slope, not a setting of the paper or the code).
  `paper_runs=()` runs the ablations alone (e.g. an ablation over seeds without the two long runs;
  each run depends only on the config and its name, so its numbers are those of the full run).
- Slope check (extra metrics): at each run's final lam_hat, Algorithm 1 trains models at lam_hat and
  lam_hat +- 0.05 for 4,000 steps; their central difference is the best response's slope
  dw*/dlam, compared with the hypernetwork's slope and hypergradient.
- The green p(lam | lam_hat) is drawn to scale in lam, its height scaled to be visible.
"""
import dataclasses
import time

import numpy as np
from autograd import grad

from hypernet import algorithms, checks, data, hypernets, optim
from experiments.harness import bounds, cli, job_cache, plotting, results, runner
from experiments.common.section41 import (cross_validate, cv_arrays, cv_metrics, full, hypernet_curves,
                                 plot_crosses, setup)
from experiments.common import verdicts

FIGURE = "fig4_local"
FIGURES = results.FIGURES
# Runs: name -> (label, algorithm, overrides of the config). The first two are the paper's.
RUNS = {"alg3": ("Algorithm 3", "alg3", {}),
        "alg4": ("Algorithm 4", "alg4", {}),
        "alg3_code_lr": ("Algorithm 3, λ step Adam 1e-2 (original code; ablation)", "alg3", "code_lr"),
        "alg4_code_lr": ("Algorithm 4, λ step Adam 1e-2 (original code; ablation)", "alg4", "code_lr"),
        "alg3_wide": ("Algorithm 3, σ = 0.3, λ step 1e-2 (diagnostic; ablation)", "alg3", "wide"),
        "alg4_code_sgd": ("Algorithm 4, SGD 1e-4 on φ, Adam 1e-2 on λ (original code; ablation)", "alg4", "code_sgd")}
PAPER_RUNS = ("alg3", "alg4")


@dataclasses.dataclass(frozen=True)
class Config:
    seed: int = 7
    n_train: int = 10
    n_valid: int = 10000
    n_test: int = 10000
    init_scale: float = 0.01         # randn * scale: elementary weights and hypernetwork
    cv_grid: tuple = (-1.0, 3.0, 10)  # Algorithm 1's crosses, as Figure 2
    optimum_grid: tuple = (-1.0, 3.0, 41)  # lam*, as Figure 2
    cv_iters: int = 1000
    lr_phi: float = 1e-4                 # Adam: cross-validation models and the hypernetwork (alpha)
    lam_hat0: float = -3.5
    sigma: float = float(np.sqrt(1e-5))  # sd of p(lam | lam_hat) = N(lam_hat, 1e-5)
    n_samples: int = 2                 # lam samples per hypernetwork step (Algorithm 3)
    iters: int = 120000              # joint steps of each algorithm
    lr_lam: float = 1e-4             # Adam on lam_hat (beta)
    valid_batch: int = 1000          # validation points per lam_hat step
    dense: tuple = (-2.0, 4.0, 241)  # lam of the hypernetwork's curves
    slope_h: float = 0.05            # slope check: best response from Algorithm 1 at lam_hat +- h
    slope_iters: int = 4000
    paper_runs: tuple = PAPER_RUNS   # () runs the ablations alone
    ablations: tuple = ("alg3_code_lr", "alg4_code_lr", "alg3_wide", "alg4_code_sgd")
    ablation_iters: int = 5000
    ablation_lr_lam: float = 1e-2    # the original code's Adam step on lam
    ablation_sgd_lr: float = 1e-4    # the original code's SGD step on the hypernetwork
    ablation_sigma: float = 0.3
    # The ablations of seed_ablations (those among `ablations`) also run at ablation_seeds but `seed`
    # (they are short), so that their lam_hat is seen over 5 seeds beside the faithful runs'
    # (figures/seeds_fig4_local.json).
    seed_ablations: tuple = ("alg4_code_sgd",)
    ablation_seeds: tuple = (8, 9, 10, 11)
    path_points: int = 4000          # lam_hat path saved at about this many iterations
    workers: int = 2


PAPER = Config()
QUICK = dataclasses.replace(PAPER, n_valid=1000, n_test=1000, optimum_grid=(-1.0, 3.0, 21), cv_iters=300,
                            iters=1000, lr_lam=1e-2, valid_batch=200, dense=(-2.0, 4.0, 121), slope_iters=500,
                            ablations=("alg3_wide", "alg4_code_sgd"), ablation_iters=500, ablation_seeds=(8,))


def run_config(config, name):
    """The config of one run: the paper's, or an ablation's overrides."""
    kind = RUNS[name][2]
    if kind in ("code_lr", "code_sgd"):
        return dataclasses.replace(config, iters=config.ablation_iters, lr_lam=config.ablation_lr_lam)
    if kind == "wide":
        return dataclasses.replace(config, iters=config.ablation_iters, lr_lam=config.ablation_lr_lam,
                                   sigma=config.ablation_sigma)
    return config


def optimisers(config, name):
    """(opt_phi, opt_lam) of a run: Adam on both, or the original code's SGD on phi."""
    sgd = RUNS[name][2] == "code_sgd"
    return optim.sgd(config.ablation_sgd_lr) if sgd else optim.adam(config.lr_phi), optim.adam(config.lr_lam)


def joint(name, config, *, problem, hypernet, phi0, splits):
    """Run Algorithm 3 or 4 from phi0 and lam_hat0, with periodic progress lines."""
    progress = results.Progress(f"{RUNS[name][0]}, seed {config.seed}", config.iters, every_s=30)
    report = lambda step, s: progress(step, loss=s.loss, valid_loss=s.valid_loss, lam=s.lam)  # noqa: E731
    opt_phi, opt_lam = optimisers(config, name)
    common = dict(phi=phi0, lam_hat=config.lam_hat0, train_batch=lambda step: full(splits.train),
                  valid_batch=data.minibatcher(splits.valid, config.valid_batch, results.seed_of(config, 2)),
                  opt_phi=opt_phi, opt_lam=opt_lam, iters=config.iters, callback=report)
    if RUNS[name][1] == "alg3":
        return algorithms.hypertrain_local(problem, hypernet, n_samples=config.n_samples, sigma=config.sigma,
                                           seed=results.seed_of(config, 1), **common)
    return algorithms.hypertrain_simplified(problem, hypernet, **common)


def slope_check(config, problem, *, splits, W0, hypernet, phi, lam_hat):
    """Where lam_hat stops, compare the linear hypernetwork with the best response w*(lam), taken
    from Algorithm 1 at lam_hat and lam_hat +- h: the weights, the slope dw/dlam, and the
    hypergradient dL_Valid/dlam that each slope gives (lam_hat stops where the hypernetwork's is 0)."""
    h, valid = config.slope_h, full(splits.valid)
    cv = algorithms.cross_validation(problem, lam_hat + np.array([[-h], [h], [0.0]]), W0=W0,
                                     train_batch=lambda step: full(splits.train), valid_data=valid,
                                     opt=optim.adam(config.lr_phi), iters=config.slope_iters)
    best_slope, w_star = (cv.W[1] - cv.W[0]) / (2 * h), cv.W[2]
    w_hat = hypernet.apply(phi, lam_hat[None])[0]
    slope = hypernet.apply(phi, np.ones((1, 1)))[0] - hypernet.apply(phi, np.zeros((1, 1)))[0]  # exact: linear
    dvalid = grad(lambda w: problem.valid_loss(w[None], valid)[0])
    norm = np.linalg.norm
    return {"slope_cosine": slope @ best_slope / norm(slope) / norm(best_slope),
            "slope_norm_ratio": norm(slope) / norm(best_slope),
            "weights_rel_error": norm(w_hat - w_star) / norm(w_star),
            "hypergrad_hypernet": dvalid(w_hat) @ slope, "hypergrad_best_response": dvalid(w_star) @ best_slope}


def cv_job(config):
    """Algorithm 1's crosses and lam* (a job): (metrics, arrays, number of weights)."""
    splits, problem, W0, _ = setup(config)
    cv = cross_validate(config, problem, splits=splits, W0=W0)
    return cv_metrics(cv), cv_arrays(cv), problem.n_weights


def one_run(config, name):
    """One run of RUNS (a job): the algorithm, its curves and the slope check."""
    cfg = run_config(config, name)
    splits, problem, W0, rng = setup(cfg)
    hypernet = hypernets.linear(1, problem.n_weights)
    phi0 = hypernet.init(rng, cfg.init_scale)  # every run starts from the same phi
    res = joint(name, cfg, problem=problem, hypernet=hypernet, phi0=phi0, splits=splits)
    dense = np.linspace(*cfg.dense)
    d_train, d_valid, _ = hypernet_curves(problem, hypernet, phi=res.phi, lams=dense, splits=splits)
    (_,), (f_valid,), (f_test,) = hypernet_curves(problem, hypernet, phi=res.phi, lams=res.lam, splits=splits)
    path = res.lam_path[:, 0]
    tail = path[-(len(path) // 10):]
    stride = max(1, len(path) // cfg.path_points)
    metrics = {"final_lam": res.lam[0], "final_valid_loss": f_valid, "final_test_loss": f_test,
               "iterations": cfg.iters, "lr_lam": cfg.lr_lam, "sigma": cfg.sigma,
               "optimisers": " / ".join(opt.name for opt in optimisers(cfg, name)),
               "lam_last_tenth_mean": tail.mean(), "lam_last_tenth_sd": tail.std(),
               "hypernet_argmin_lam": dense[np.argmin(d_valid)], "seconds": res.seconds,
               **slope_check(cfg, problem, splits=splits, W0=W0, hypernet=hypernet, phi=res.phi,
                             lam_hat=res.lam)}
    arrays = {"train": d_train, "valid": d_valid, "lam_path": path[::stride],
              "lam_path_iters": np.arange(len(path))[::stride]}
    return name, metrics, arrays


def check_config(config):
    """The runs named and the seeds of the ablations, refused before any work when they do not fit."""
    bounds.check_mnist_sizes(config)
    names = tuple(config.paper_runs) + tuple(config.ablations)
    unknown = [n for n in names if n not in RUNS or (n in PAPER_RUNS) != (n in config.paper_runs)]
    if unknown or len(set(names)) < len(names):
        raise ValueError(f"paper_runs must be among {PAPER_RUNS} and ablations among {list(RUNS)[2:]}, each once; "
                         f"got {config.paper_runs} and {config.ablations}")
    unknown = [n for n in config.seed_ablations if n not in RUNS or n in PAPER_RUNS]
    if unknown:
        raise ValueError(f"seed_ablations must be among {list(RUNS)[2:]}, got {config.seed_ablations}")
    for s in config.ablation_seeds:
        checks.check_seed(ablation_seeds=s)
    if len(set(config.ablation_seeds)) < len(config.ablation_seeds):
        raise ValueError(f"ablation_seeds must be distinct, got {config.ablation_seeds}")


def run(config=PAPER, out=FIGURES):
    t0 = time.perf_counter()
    check_config(config)
    names = tuple(config.paper_runs) + tuple(config.ablations)
    at_seeds = [n for n in config.seed_ablations if n in config.ablations]  # ablations=() runs none of them
    extra_seeds = [s for s in config.ablation_seeds if s != config.seed]  # the run's own seed is run anyway
    others = {(s, n): dataclasses.replace(config, seed=s) for s in extra_seeds for n in at_seeds}
    by_seed = {}
    timings, metrics = {}, {"iterations": config.iters}
    arrays = {"dense_lams": np.linspace(*config.dense)}
    with runner.open(config.workers) as r:
        cv = r.submit(cv_job, config, key=job_cache.key(FIGURE, config, "cv"), label="cross_validation")
        for name in names:
            r.submit(one_run, config, name, key=job_cache.key(FIGURE, config, name), label=name)
        for (s, name), c in others.items():
            r.submit(one_run, c, name, key=job_cache.key(FIGURE, c, name), label=f"{name}_seed{s}")
        for job in r.as_completed():
            if job is cv:
                cv_m, cv_a, n_weights = job.result
                metrics |= {**cv_m, "hypernet_params": 2 * n_weights}
                arrays |= cv_a
                timings["cross_validation"] = job.where["wall_s"]
                continue
            name, m, a = job.result
            if job.label != name:  # an ablation at another seed: its lam_hat and loss
                by_seed[job.args[0].seed, name] = m
                timings[job.label] = m["seconds"]
                continue
            timings[name] = m.pop("seconds")
            metrics.update({f"{name}_{k}": v for k, v in m.items()})
            arrays.update({f"{name}_{k}": v for k, v in a.items()})
            print(f"[{FIGURE}] {RUNS[name][0]}: final lam_hat {m['final_lam']:.3f} ({timings[name]:.0f} s)",
                  flush=True)
    metrics["ablations"] = list(config.ablations)
    for name in at_seeds:  # over the main seed and ablation_seeds
        runs = [{k: metrics[f"{name}_{k}"] for k in ("final_lam", "final_valid_loss")}] + [
            by_seed[s, name] for s in extra_seeds]
        metrics[f"{name}_over_seeds"] = {"seeds": [config.seed, *extra_seeds],
                                         **{k: results.stats([r[k] for r in runs])
                                            for k in ("final_lam", "final_valid_loss")}}
    timings["total"] = time.perf_counter() - t0
    record = results.save_results(out, FIGURE, config_name=results.config_name(config, PAPER, QUICK), config=config,
                                  metrics=metrics, timings=timings, arrays=arrays)
    m = record["metrics"]
    print(f"lam*: cross-validation {m['cv_argmin_lam']:.3f}, "
          + ", ".join(f"{RUNS[n][0]} {m[f'{n}_final_lam']:.3f}" for n in names) + f"; {timings['total']:.1f} s")
    return record


def plot_losses(ax, record, a):
    """Training (blue) and validation (red) loss against lam: crosses and Algorithm 3's lines."""
    m, lams = record["metrics"], a["dense_lams"]
    plot_crosses(ax, record, a, train=True)
    train_line, = ax.plot(lams, a["alg3_train"], "-", color="tab:blue", lw=2, label="Hypernetwork, training loss")
    ax.plot(lams, a["alg3_valid"], "-", color="tab:red", lw=2, label="Hypernetwork, validation loss")
    lam_hat, sd, y0 = m["alg3_final_lam"], record["config"]["sigma"], -1.5
    grid = lam_hat + sd * np.linspace(-4, 4, 81)
    ax.fill_between(grid, y0, y0 + 0.8 * np.exp(-0.5 * ((grid - lam_hat) / sd) ** 2), color="tab:green",
                    lw=1.5, edgecolor="tab:green", label=f"p(λ | λ̂), height scaled; λ̂ = {lam_hat:.2f}")
    top = max(3.8, 1.05 * max(np.max(a["alg3_valid"]), np.max(a["cv_valid"]), np.max(a["cv_train"])))
    ax.set(xlim=(lams[0], lams[-1]), ylim=(y0, top), xlabel=plotting.LAM, ylabel="Loss")
    above = np.flatnonzero(a["alg3_train"] > top)  # the linear hypernetwork's training loss away from λ̂: steep
    if len(above):  # said where it goes rather than flattening the validation curve the panel is about
        train_line.set_gid(plotting.LEAVES_TOP)
        i = int(np.argmax(a["alg3_train"]))
        ax.annotate(f"training loss:\n{a['alg3_train'][i]:.0f} at λ = {lams[i]:g}", xy=(lams[above[0]], top),
                    xytext=(8, -2), textcoords="offset points", ha="left", va="top", fontsize=9, color="tab:blue")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1, frameon=False)  # below: no data hidden


def plot_paths(ax, record, a):
    """lam_hat over the iterations of every run (log scale: the ablations settle 20 times sooner)."""
    names = PAPER_RUNS + tuple(record["metrics"].get("ablations", ()))
    styles = {"alg3": "-", "alg4": "--", "alg3_code_lr": ":", "alg4_code_lr": "-.", "alg3_wide": ":",
              "alg4_code_sgd": (0, (5, 1, 1, 1, 1, 1))}
    for i, name in enumerate(names):  # Algorithms 3 and 4 share a path for a while: solid under dashed
        paper = name in PAPER_RUNS
        ax.plot(a[f"{name}_lam_path_iters"] + 1, a[f"{name}_lam_path"], ls=styles.get(name, ":"),
                lw=2 if paper else 1.5, color=f"C{i}",
                label=f"{RUNS[name][0]}: λ̂ = {record['metrics'][f'{name}_final_lam']:.2f}")
    ax.axhline(record["metrics"]["cv_argmin_lam"], color="k", ls="--", lw=1, label="Cross-validation λ*")
    ax.set(xscale="log", xlabel="Iteration", ylabel="Hyperparameter λ̂")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1, frameon=False, fontsize=8)


def plot(out=FIGURES):
    record, a = results.load_results(out, FIGURE)
    fig, (left, right) = plotting.figure(1, 2, figsize=(11.0, 4.6), gridspec_kw={"width_ratios": [1.35, 1]})
    plot_losses(left, record, a)
    plot_paths(right, record, a)
    fig.suptitle(f"{record['config_name']}: local best-response, linear hypernetwork "
                 f"({record['metrics']['hypernet_params']:,} parameters)", fontsize=11)
    return plotting.save(fig, out, FIGURE)


# ---- the paper's claims and the rules that decide them ---------------------------------------------
TOL = 0.25  # "ends at the validation minimum": this close to the cross-validation optimum (seeds scatter λ̂ ~0.2)


def claims(record, seeds_record=None):
    """The paper's two claims of Figure 4, decided on each seed of `seeds_record`
    (figures/seeds_fig4_local.json) if given, else on the one run of `record` (<out>/fig4_local.json):
    plain data, see experiments/common/verdicts.py. Algorithm 4's tolerance is Algorithm 3's
    seed-to-seed spread (numbers["spread"]): the sd of its final validation loss over the seeds, or
    with one run its distance from the cross-validation minimum."""
    seeds, v = verdicts.seed_values(record, seeds_record, (
        "cv_argmin_lam", "alg3_final_lam", "alg3_final_valid_loss", "alg4_final_valid_loss", "cv_min_valid_loss"))
    alg3 = [abs(a - c) <= TOL for a, c in zip(v["alg3_final_lam"], v["cv_argmin_lam"])]
    spread = (float(np.std(v["alg3_final_valid_loss"], ddof=1)) if len(seeds) > 1
              else abs(v["alg3_final_valid_loss"][0] - v["cv_min_valid_loss"][0]))
    alg4 = [abs(b - a) <= spread for a, b in zip(v["alg3_final_valid_loss"], v["alg4_final_valid_loss"])]
    m = record["metrics"]
    return [verdicts.claim("4", "Algorithm 3 with a linear hypernetwork ends at the validation minimum", alg3, seeds,
                           f"on a seed, Algorithm 3's final λ̂ lies within {TOL} of that seed's cross-validation "
                           "optimum", tolerance=TOL, alg3_final_lam=m["alg3_final_lam"],
                           cv_argmin_lam=m["cv_argmin_lam"]),
            verdicts.claim("4", "Algorithm 4 \"performs similarly\"", alg4, seeds,
                           "on a seed, Algorithm 4's final validation loss lies within Algorithm 3's seed-to-seed "
                           "spread (the sd of its final validation loss over the seeds, "
                           f"{spread:.4f}) of Algorithm 3's on the same seed", spread=spread,
                           alg4_final_lam=m["alg4_final_lam"], alg4_final_valid_loss=m["alg4_final_valid_loss"],
                           alg3_final_valid_loss=m["alg3_final_valid_loss"],
                           alg4_code_sgd_over_seeds=m.get("alg4_code_sgd_over_seeds"))]


def main(argv=None):
    cli.main(FIGURE, run, plot, paper=PAPER, quick=QUICK, argv=argv, description=__doc__, check=check_config)


if __name__ == "__main__":
    main()
