"""Page of the benchmark bench/step_cost.py: the cost of one hyper-training step against one plain
gradient step, from figures/bench_step_cost.json (written by `bench/step_cost.py --reference --json ...`)."""
import numpy as np

from docs.fmt import count, num, pct, secs, sig, table

NAME = "bench_step_cost"
PAPER = {"a": "-", "b": "2 × 10 = 20"}  # the paper: "2 · 10 times" for the factorised hypernetwork (bottleneck 10)


def page(R):
    b = R(NAME)
    c, mach, v = b["config"], b["machine"], b["versions"]
    rows = []
    for x in b["cases"]:
        name = (f"{count(x['n_hyper'])} hyperparameter{'s' if x['n_hyper'] > 1 else ''}, {x['hypernet']}, "
                f"{x['samples']} samples, batch {count(x['batch'])}")
        ref = x.get("reference_ratio")
        rows.append((name, PAPER.get(x["case"], "-"), f"{num(x['plain_ms'], 2)} ms", f"{num(x['hyper_ms'], 2)} ms",
                     f"**{num(x['ratio'], 2)}** ({num(x['ratio_quartiles'][0], 2)}-{num(x['ratio_quartiles'][1], 2)})",
                     num(x["cpu_ratio"], 2), num(ref, 2) if ref is not None else "not timed"))
    slower = [x["reference_vs_fast"] for x in b["cases"] if "reference_vs_fast" in x]
    fig5 = R("fig5_many") if R.has("fig5_many") else None
    floor = ""
    small = [x for x in b["cases"] if x["case"] == "b"]
    if fig5 is not None and small:
        x = min(small, key=lambda x: x["batch"])
        p, n = fig5["metrics.hypernet_params"], fig5["metrics.784-10.n_hyper"]
        floor = (f" At batch {x['batch']} a plain step costs {num(x['plain_cpu_ms'], 2)} ms of CPU, and the floor of the "
                 f"hyper step is work that does not shrink with the batch: Adam on the hypernetwork's {count(p)} "
                 f"parameters ({num(p / n, 0)} times the model's {count(n)}), drawing 2 × {count(n)} normal samples "
                 "and the λ step.")
    return "\n\n".join([
        "**Command:** `python bench/step_cost.py --reference --json figures/bench_step_cost.json` "
        f"({secs(b['timings_s.total'])}; without `--json` it only prints)",
        "The script measures, in one run, the cost of one iteration of Algorithm 3 (a φ step on a training batch "
        "plus a λ step on a validation batch of the same size) divided by the cost of one plain autograd gradient "
        "step (`np.dot`, W and b as arrays, the same Adam update) of the same model on the same batch, "
        f"single-threaded BLAS, medians of {c['reps']} rounds of {c['steps']} steps in rotating order (per-round "
        "quartiles in brackets). With `--reference` it also times the hyper step with the readable formulas "
        "(the `*_formula` functions of `hypernet/primitives.py`, differentiated by autograd) instead of the primitives.",
        f"Measured on {mach['cpu']} ({mach['cores']} cores), Python {v['python']}, NumPy {v['numpy']}, load average "
        f"{num(mach['load_average_start'], 2)} at the start and {num(mach['load_average_end'], 2)} at the end (the "
        "machine is shared; the wall and CPU ratios agree when the load leaves a core free):",
        table(("case", "paper", "plain step", "hyper step", "ratio, wall (quartiles)", "ratio, CPU",
               "ratio, reference forms"), rows),
        (f"The readable formulas cost {num(min(slower), 1)}-{num(max(slower), 1)} times the fast path "
         f"(mean {num(float(np.mean(slower)), 1)})." if slower else "") + floor] + before_after(R) + grid(R))


def before_after(R):
    """A paragraph on figures/bench_before_after.json (bench/before_after.py), if it is there."""
    if not R.has("bench_before_after"):
        return []
    b = R("bench_before_after")
    spread = max(abs(x / float(np.median(c[k])) - 1) for c in b["cases"] for k in ("base_cpu_ms", "head_cpu_ms")
                 for x in c[k])
    cases = "; ".join(f"case {c['case']}, batch {count(c['batch'])}: hyper step {pct(c['ratio'] - 1, 1, sign=True)}, "
                      f"plain step {pct(c['plain_ratio'] - 1, 1, sign=True)}" for c in b["cases"])
    return [f"**Against an earlier commit.** `python bench/before_after.py --base {b['base'][:7]}` runs this script in "
            f"commit {b['head'][:7]} and in {b['base'][:7]} alternately ({b['rounds']} rounds, the order flipping each "
            f"round; load average {num(b['load_before'], 1)} at the start) and compares the medians of their CPU time "
            f"per step: {cases}. Single rounds lie up to {pct(spread, 0)} from their commit's median on this shared "
            "machine, so only differences larger than that are resolved."]


def grid(R):
    """Paragraphs on figures/bench_cv_grid.json (bench/cv_grid.py) and on what bounds the wall time of
    the paper's Figures 2-6 on 2 cores, if the files are there."""
    if not (R.has("bench_cv_grid") and all(R.has(f) for f in ("fig2_global", "fig4_local", "fig5_many", "fig6_gp"))):
        return []
    b, f5 = R("bench_cv_grid"), R("fig5_many")
    archs = b["archs"].data
    each = "; ".join(f"{a}: {num(float(np.median(x['per_step_size_s'])), 1)} s → {num(float(np.median(x['one_array_s'])), 1)} s "
                     f"(× {num(x['ratio'], 2)})" for a, x in archs.items())
    diff = max(x["max_abs_diff"] for x in archs.values())
    spread = max(abs(t / float(np.median(x[k])) - 1) for x in archs.values() for k in ("per_step_size_s", "one_array_s")
                 for t in x[k])
    rec, pred = sum(b["fig5_cv_recorded_s"].data.values()), sum(b["fig5_cv_predicted_s"].data.values())
    c = f5["config"].data
    top = tuple(c["archs"][0])
    bottom = [t for a, t in zip(c["archs"], c["bottom_s"]) if tuple(a) != top]
    clock = c["top_budget_s"] + sum(bottom) + len(c["unrolled"]) * c["search_budget_s"] + c["top_budget_s"]
    others = {f: R(f)["timings_s.total"] for f in ("fig2_global", "fig4_local", "fig6_gp")}
    cores = b["machine.cores"]
    bound = (clock + pred) / cores + sum(others.values())
    total = sum(others.values()) + f5["timings_s.total"]
    return [
        f"**Figure 5's hand-tuned grid as one array.** `python bench/cv_grid.py --json figures/bench_cv_grid.json` trains each architecture's grid of "
        f"{len(c['cv_log_decays'])} decays × {len(c['cv_lrs'])} step sizes for {count(b['steps'])} steps two ways, "
        "as one array per step size (as before) and as one array of all of them with a step size per row "
        f"(`optim.adam` with an array of step sizes, as Figure 5's `per_weight.cv_job` now does), alternating, {b['repeats']} "
        f"rounds, CPU seconds, medians: {each}. "
        + ("The two ways' validation losses are identical. " if diff == 0 else
           f"The two ways' validation losses differ by at most {sig(diff, 2)}. ")
        + f"Single rounds of one way lie up to {pct(spread, 0)} from their median on this shared machine, as much as "
        "the differences: the one array brings no measurable gain. "
        "The deeper models' grids are bound by their matrix products, which the one array does not shrink: the "
        f"committed run's grids took {secs(rec)}, predicted {secs(pred)} as one array.",
        f"**Figures 2-6 within an hour on {cores} cores?** Figure 5's hyper-training and unrolled runs stop at budgets "
        f"of CPU time that the paper's axes fix: top {num(c['top_budget_s'], 0)} s (the {'-'.join(map(str, top))} "
        f"model's bottom curve is its first {num(c['bottom_s'][0], 0)} s), bottom "
        + " + ".join(f"{num(t, 0)}" for t in bottom)
        + f" s, the unrolled search {len(c['unrolled'])} × {num(c['search_budget_s'], 0)} s and its full run "
        f"{num(c['top_budget_s'], 0)} s: {count(round(clock))} CPU seconds. With the grids as one array and every "
        f"job packed on {cores} cores with no evaluation time, Figure 5 alone takes at least "
        f"{secs((clock + pred) / cores)}; `run_all.sh` runs the figures one after another, so with Figures 2, 4 and 6 as "
        f"recorded ({', '.join(secs(t) for t in others.values())}; Figure 4's on a shared machine) at least "
        f"{secs(bound)}, against {secs(total)} recorded. "
        "An hour on this machine would need the paper's budgets cut, which a PAPER run does not do; "
        "`--scheduler` with more cores is the way (docs/cluster.md)."]
