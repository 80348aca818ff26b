"""Page of Figure 5: thousands of hyperparameters, from figures/fig5_many.json and .npz (and, for the
cost of a plain step, figures/bench_step_cost.json; over seeds at a fraction of the budgets,
figures/seeds_fig5_many.json)."""
import numpy as np

from docs.fmt import Claim, Verdict, claims_of, count, mean_sd, num, pct, sci, secs, seed_list, table, verdict_of
from experiments import fig5_many as script  # the claims' rules (script.claims, script.rules)

NAME = "fig5_many"
ARCHS = ("784-10", "784-100-10", "784-100-100-10")


def gap(valid, test):
    return valid - test


# ---- over seeds, at a fraction of the budgets (figures/seeds_fig5_many.json) ---------------------------
def sweep(R):
    return R(f"seeds_{NAME}") if R.has(f"seeds_{NAME}") else None


def seed_runs(S):
    """[(seed, metrics)] of the sweep's completed seeds (experiments/fig5_many.py's seed_runs)."""
    return script.seed_runs(S.data)


def seed_verdicts(S):
    """{verdict: Verdict over the sweep's seeds}, by the rules of experiments/fig5_many.py; "hand" is one
    Verdict per model of ARCHS."""
    o = script.over_seeds(S.data)
    out = {k: Verdict(o[k][0], o["seeds"]) for k in ("faster", "overfit", "deeper")}
    out["hand"] = [Verdict(h, o["seeds"]) for h in o["hand"]]
    return out


def scaled(S):
    """'budgets × 0.1' of a sweep at a fraction of the budgets ('the full budgets' at 1)."""
    f = S.get("budget_fraction", 1)
    return "the full budgets" if f == 1 else f"budgets × {f:g}"


def claims(R):
    cs, S = claims_of(script, R, NAME), sweep(R)

    def seed(c):
        key, first, k = c["key"], c["seeds"][0], verdict_of(c).k
        if c["over_seeds"] is None:
            return f"{first} (the only seed run)" if k else f"none ({first} is the only seed run)"
        base = str(first) if k else "none"
        o = c["over_seeds"]
        over = [Verdict(h, o["seeds"]) for h in o["holds"]]
        if key == "hand":
            return (f"{base}; at {scaled(S)}: " + " / ".join(str(x.k) for x in over) + f" of {len(o['seeds'])} "
                    "seeds; " + spread(key))
        x = over[0]
        return (f"{base}; at {scaled(S)}: {x.k} of {len(x.holds)}" + (f" ({seed_list(x.which())})" if x.k else "")
                + f"; {spread(key)}")

    def spread(key):
        """The sweep's mean ± sd of the numbers each verdict compares."""
        M = S["metrics"]
        ms = lambda k, d=4: mean_sd(M[k], d)  # noqa: E731
        if key == "faster":
            return f"{ms('hyper_time_to_plateau_s', 1)} s vs {ms('unrolled_time_to_hyper_final_s', 0)} s"
        if key == "overfit":
            g = {w: np.subtract(M[f"{w}_valid_final"]["values"], M[f"{w}_test_final"]["values"]) for w in ("hyper", "unrolled")}
            g = {w: {"mean": float(np.mean(x)), "sd": float(np.std(x, ddof=1))} for w, x in g.items()}
            return f"{mean_sd(g['hyper'], 5, True)} vs {mean_sd(g['unrolled'], 5, True)}"
        if key == "deeper":
            return " → ".join(ms(f"{a}.valid_final", 5) for a in ARCHS)
        return "; ".join(f"{ms(f'{a}.valid_final', 5)} vs {ms(f'{a}.handtuned_valid', 5)}" for a in ARCHS)

    def numbers(c):
        n = c["numbers"]
        if c["key"] == "faster":
            return (f"plateau at {num(n['hyper_time_to_plateau_s'], 0)} s, unrolled there at "
                    f"{num(n['unrolled_time_to_hyper_final_s'], 0)} s; {num(n['hyper_valid_final'], 4)} against "
                    f"{num(n['unrolled_valid_final'], 4)}")
        if c["key"] == "overfit":
            return (f"validation − test {num(gap(n['hyper_valid_final'], n['hyper_test_final']), 4, True)} against "
                    f"{num(gap(n['unrolled_valid_final'], n['unrolled_test_final']), 5, True)}")
        if c["key"] == "deeper":
            return " → ".join(num(x, 4) for x in n["valid_final"].values()) + " (validation)"
        return "; ".join(f"{a}: {num(x, 4)} vs {num(n['handtuned_valid'][a], 4)}" for a, x in n["valid_final"].items())

    return [Claim(c["claim"], c["statement"], numbers(c), verdict_of(c), seed(c)) for c in cs]


def page(R):
    d, z, S = R(NAME), R.npz(NAME), sweep(R)
    parts = [intro(d), main_table(d, z), holds(d, z)] + ([seeds_section(S)] if S is not None else [])
    parts += [search(d), settings(d)]
    parts.append(cost(d, R("bench_step_cost") if R.has("bench_step_cost") else None))
    return "\n\n".join(parts)


def intro(d):
    m, c = d["metrics"], d["config"]
    budgets = " / ".join(count(s) for s in c["bottom_s"])
    hypers = " / ".join(count(m[a]["n_hyper"]) for a in ARCHS)
    return (f"Every weight has its own L2 decay, penalty Σⱼ exp(λⱼ) wⱼ², and the loss is plain MSE, so each model "
            f"has as many hyperparameters as weights. **Top:** the linear 784-10 model ({m['784-10']['n_hyper']:,} "
            f"hyperparameters): Algorithm 3 with the factorised linear hypernetwork 7850 → {c['bottleneck']} → 7850 "
            f"({count(m['hypernet_params'])} parameters) against reverse-mode differentiation through unrolled "
            "training (`hypernet/baselines/unrolled.py`; Maclaurin et al. 2015, Franceschi et al. 2017), each for "
            f"**{count(c['top_budget_s'])} s** of its own compute, as on the paper's x-axis. **Bottom:** Algorithm 3 "
            f"on {', '.join(ARCHS)} ({hypers} hyperparameters) for **{budgets} s**, where the paper's curves end (the "
            "784-10 curve is the first part of the top panel's run): validation (solid), test (dashed) and the "
            f"\"hand-tuned\" validation loss (dotted). All numbers are in "
            f"`figures/{NAME}.json`; \"final\" = the mean of the evaluations in the last {pct(c['final_fraction'], 0)} "
            f"of a curve (every {num(c['eval_every_s'], 0)} s on the full validation and test sets), because the "
            "hypernetwork's curve is noisy.")


def main_table(d, z):
    m, c = d["metrics"], d["config"]
    f = lambda x: num(x, 4)  # noqa: E731
    low = lambda a: min(m[a]["valid_final"], m[a]["handtuned_valid"])  # noqa: E731
    best = lambda a, key: f"**{f(m[a][key])}**" if m[a][key] <= low(a) else f(m[a][key])  # noqa: E731
    paper = {"784-10": "~0.039 / ~0.037", "784-100-10": "~0.013 / ~0.0137", "784-100-100-10": "~0.0105 / ~0.0128"}
    rows = [(f"hyper-training 784-10, valid. / test (final, {count(c['top_budget_s'])} s)",
             "~0.0391 / ~0.0403, plateau within ~100 s",
             f"{f(m['hyper_valid_final'])} / {f(m['hyper_test_final'])}, plateau (within 1% of final) at "
             f"{num(m['hyper_time_to_plateau_s'], 0)} s"),
            (f"unrolled 784-10, valid. / test, start → {count(c['top_budget_s'])} s",
             "~0.0401 / ~0.0415 → ~0.0383 / ~0.0401",
             f"{f(z['top_unrolled_valid'][0])} / {f(z['top_unrolled_test'][0])} → {f(m['unrolled_valid_final'])} / "
             f"{f(m['unrolled_test_final'])}"),
            ("unrolled reaches hyper-training's final valid. loss", "later than hyper-training plateaus",
             f"at {num(m['unrolled_time_to_hyper_final_s'], 0)} s"),
            ("validation − test: hand-tuned 784-10 / hyper-training / unrolled",
             "hyper-training over-fits validation less",
             f"{num(gap(m['784-10']['handtuned_valid'], m['784-10']['handtuned_test']), 4, True)} / "
             f"{num(gap(m['hyper_valid_final'], m['hyper_test_final']), 4, True)} / "
             f"{num(gap(m['unrolled_valid_final'], m['unrolled_test_final']), 5, True)}")]
    rows += [(f"{a} hyper-training / hand-tuned valid. ({count(m[a]['end_s'])} s)", paper[a],
              f"{best(a, 'valid_final')} / {best(a, 'handtuned_valid')}") for a in ARCHS]
    rows += [("test, " + " / ".join(ARCHS), "(dashed lines)", " / ".join(f(m[a]["test_final"]) for a in ARCHS)),
             ("hypernetwork steps (784-10 top / " + " / ".join(ARCHS) + " bottom)", "-",
              " / ".join([count(m["hyper_steps"])] + [count(m[a]["steps"]) for a in ARCHS]))]
    return table(("", "paper (read off the figure)", f"this repository (PAPER, seed {c['seed']})"), rows)


def holds(d, z):
    m = d["metrics"]
    top, hand = m["784-10"], m["784-10"]
    v, t = [m[a]["valid_final"] for a in ARCHS], [m[a]["test_final"] for a in ARCHS]
    f = lambda x: num(x, 4)  # noqa: E731
    i = int(np.argmin(z["top_hyper_valid"]))
    won = [a for a in ARCHS if m[a]["valid_final"] < m[a]["handtuned_valid"]]
    lost = [a for a in ARCHS if a not in won]
    versus = lambda a: (f"{a}: {f(m[a]['valid_final'])} against {f(m[a]['handtuned_valid'])}, "  # noqa: E731
                        f"{pct(m[a]['valid_final'] / m[a]['handtuned_valid'] - 1, 1, True)}")
    by_lr = [m[a]["handtuned_valid_by_lr"][f"{m['784-10']['handtuned_lr']:g}"] for a in ARCHS[1:]] \
        if all(f"{m['784-10']['handtuned_lr']:g}" in m[a]["handtuned_valid_by_lr"] for a in ARCHS[1:]) else []
    return (f"**What holds.** Hyper-training converges faster, to a worse solution: it is on its plateau at "
            f"{num(m['hyper_time_to_plateau_s'], 0)} s, the unrolled baseline needs "
            f"{num(m['unrolled_time_to_hyper_final_s'], 0)} s to reach that validation loss and then keeps going, to "
            f"{f(m['unrolled_valid_final'])} against {f(m['hyper_valid_final'])}. Hyper-training over-fits the "
            f"validation set less: its validation − test difference "
            f"({num(gap(m['hyper_valid_final'], m['hyper_test_final']), 4, True)}) is that of the model with the best "
            f"single decay ({num(gap(hand['handtuned_valid'], hand['handtuned_test']), 4, True)}), while the unrolled "
            f"run closes it ({num(gap(m['unrolled_valid_final'], m['unrolled_test_final']), 5, True)}). Against that "
            f"hand-tuned model, the unrolled run gains {f(hand['handtuned_valid'] - m['unrolled_valid_final'])} on the "
            f"validation set it optimises and {num(hand['handtuned_test'] - m['unrolled_test_final'], 5)} on test. "
            f"Deeper models reach lower validation and test losses ({' → '.join(f(x) for x in v)} valid., "
            f"{' → '.join(f(x) for x in t)} test), and the validation − test difference shrinks with depth "
            f"({', '.join(f(a - b) for a, b in zip(v, t))}), as the paper says.\n\n"
            f"**What does not.** Hyper-training beats hand-tuning for {len(won)} model(s) of {len(ARCHS)}"
            + (" (" + "; ".join(versus(a) for a in won) + ")" if won else "")
            + ("; for " + ", ".join(lost) + " the single global decay is better ("
               + "; ".join(versus(a) for a in lost) + ")" if lost else "") + ". "
            "The paper's hand-tuned line is not defined; ours is the best of Algorithm 1 over "
            f"{len(d['config.cv_log_decays'])} global decays and {len(d['config.cv_lrs'])} Adam steps "
            f"({', '.join(sci(x) for x in d['config.cv_lrs'])}), trained for as many minibatch steps as the "
            "hypernetwork took by the end of its curve."
            + (f" With the hypernetwork's step {sci(m['784-10']['handtuned_lr'])} alone the deeper grids end at "
               f"{' and '.join(f(x) for x in by_lr)}." if by_lr else "")
            + " The hyperparameters move little in these budgets (spread of the final λ̂: sd "
            f"{' / '.join(num(m[a]['lam_sd'], 2) for a in ARCHS)} around the initial {num(d['config.lam_hat0'], 0)}), "
            f"and the 784-10 hypernetwork's validation loss is lowest early ({f(z['top_hyper_valid'][i])} at "
            f"{num(z['top_hyper_t'][i], 0)} s) and then drifts up to {f(m['hyper_valid_final'])} while its test loss "
            f"stays at {f(m['hyper_test_final'])}. Our absolute losses differ from the paper's: on our split "
            f"(validation = training images {count(d['config.n_train'])}-"
            f"{count(d['config.n_train'] + d['config.n_valid'] - 1)}) "
            "the validation loss of the linear model sits above its test loss, whereas the paper's validation "
            "curves sit below its test curves.")


def search(d):
    m = d["metrics"]
    best = (m["unrolled_T"], m["unrolled_lr"], m["unrolled_lr_lam"])
    rows = []
    for s in m["unrolled_search"]:
        b = (s["T"], s["lr"], s["lr_lam"]) == best
        bold = (lambda x: f"**{x}**") if b else (lambda x: x)
        rows.append((bold(count(s["T"])), bold(f"{s['lr']:g}"), bold(f"{s['lr_lam']:g}"),
                     count(s["steps"]) + (f" ({count(m['unrolled_steps'])} in {count(d['config.top_budget_s'])} s)"
                                          if b else ""),
                     num(s["peak_memory_mb"], 0), bold(num(s["valid_final"], 5)) + (
                         f" ({num(m['unrolled_valid_final'], 5)} at {count(d['config.top_budget_s'])} s)" if b else ""),
                     num(s["test_final"], 5) + (f" ({num(m['unrolled_test_final'], 5)})" if b else "")))
    per_step = m["unrolled_peak_memory_mb"] / m["unrolled_T"]
    vectors = per_step * 2 ** 20 / (8 * m["784-10"]["n_hyper"])
    return (f"**The unrolled baseline's search** ({count(d['config.search_budget_s'])} s each, drawn in grey; the best "
            f"then runs {count(d['config.top_budget_s'])} s). Peak memory = bytes allocated during one hypergradient "
            f"(tracemalloc): {num(per_step, 2)} MiB ({num(vectors, 1)} weight vectors of {count(m['784-10']['n_hyper'])}) "
            "per unrolled step.\n\n"
            + table(("T", "inner SGD step", "outer Adam step", f"hyper-iterations in {count(d['config.search_budget_s'])} s",
                     "peak memory (MiB)", "valid. (final)", "test (final)"), rows))


def settings(d):
    c, m = d["config"], d["metrics"]
    kick = abs(c["lam_hat0"]) * m["784-10"]["n_hyper"] * c["lr_phi"]
    return "\n".join([
        "**Settings we chose** (the paper gives the hypernetwork, the data sizes and \"as Figure 4\"; every choice "
        "is also in the [settings table](settings.md)):",
        f"- Algorithm 3 as Figure 4: p(λ | λ̂) = N(λ̂, {sci(c['sigma'] ** 2)} I), {c['n_samples']} samples per step, "
        f"Adam {sci(c['lr_phi'])} for the hypernetwork and {sci(c['lr_lam'])} for λ̂, init randn·{c['init_scale']:g}; "
        f"one validation minibatch of {count(c['valid_batch'])} points per λ step, training minibatches of "
        f"{c['batch']} for every method.",
        f"- The hypernetwork is fed λ − ({num(c['lam_hat0'], 0)}), the offset from the initial decay: the same "
        f"function class (the offset folds into the first bias), but with λ ≈ {num(c['lam_hat0'], 0)} fed raw into "
        f"{count(m['784-10']['n_hyper'])} inputs one Adam step of {sci(c['lr_phi'])} on the first layer moves every "
        f"bottleneck unit by up to {num(abs(c['lam_hat0']), 0)} × {m['784-10']['n_hyper']} × {sci(c['lr_phi'])} "
        f"≈ {num(kick, 0)}.",
        f"- Every decay starts at exp({num(c['lam_hat0'], 0)}) for every method; the hand-tuned grids found "
        + ", ".join(f"exp({num(m[a]['handtuned_log_decay'], 0)}) best for {a}" for a in ARCHS) + ".",
        "- Random streams: the training minibatches, the validation minibatches, Algorithm 3's λ noise and the "
        "initialisations each have their own seed; every method sees the same training minibatches.",
        f"- Unrolled: SGD with momentum {c['momentum']} as the inner optimiser (Maclaurin et al.'s choice; its update "
        "is linear in the gradient, so the reverse pass is as well conditioned as the forward one), restarted from "
        "the same init on the same T minibatches every hyper-iteration; the full validation set for the "
        "hypergradient. At the initial decay, inner SGD steps of 0.05 train best in 200 steps and 0.02 in 800 "
        "(measured once while choosing the candidates).",
        f"- Time: each run is one process with one BLAS thread, {c['workers']} at a time; its clock counts its CPU "
        "seconds minus the time spent evaluating, so on a free core it is its wall-clock time and it stays so when "
        "the machine is shared."])


def cost(d, b):
    m, c = d["metrics"], d["config"]
    case = [x for x in b["cases"] if x["case"] == "b" and x["batch"] == c["batch"]] if b is not None else []
    plain = f" against {num(case[0]['plain_ms'], 1)} ms for a plain gradient step of the same model on the same batch " \
            f"([benchmark](bench.md))" if case else ""
    deeper = " / ".join(num(1e3 * m[a]["end_s"] / m[a]["steps"], 0) for a in ARCHS[1:])
    t = d["timings_s"].data
    jobs = {k: v for k, v in t.items() if k != "total"}
    part = lambda prefix: sum(v for k, v in jobs.items() if k.startswith(prefix))  # noqa: E731
    time = (f"\n\n**Time.** The run's jobs take {count(sum(jobs.values()))} s of wall time in all "
            f"({c['workers']} at a time, "
            f"{count(t['total'])} s from start to end): hyper-training {count(part('hyper_'))} s, the unrolled search "
            f"and run {count(part('unrolled'))} s, and the hand-tuned grids, which train "
            f"{len(c['cv_log_decays']) * len(c['cv_lrs'])} models per architecture for as many steps as its "
            f"hypernetwork took, {count(part('cv_'))} s.")
    return (f"**Cost of a step** (single thread): a hyper-training step of Algorithm 3 costs about "
            f"{num(1e3 * c['top_budget_s'] / m['hyper_steps'], 1)} ms for 784-10 ({count(m['hyper_steps'])} steps in "
            f"{count(c['top_budget_s'])} s){plain}, and {deeper} ms for the deeper models; the paper says \"2 · 10 "
            f"times\". One unrolled hyper-iteration with T = {m['unrolled_T']} costs "
            f"{num(c['top_budget_s'] / m['unrolled_steps'], 1)} s." + time)


def _over(values, d):
    """mean ± sd, min … max and the per-seed values of one quantity over the seeds (None: never); a
    pair of quantities (a tuple per seed) gives 'a / b' in every cell."""
    if isinstance(values[0], tuple):
        return tuple(" / ".join(c) for c in zip(*(_over([v[i] for v in values], d) for i in range(len(values[0])))))
    x = np.array([v for v in values if v is not None], dtype=float)
    each = ", ".join("never" if v is None else num(v, d) for v in values)
    if not len(x):
        return "never", "", each
    sd = float(np.std(x, ddof=1)) if len(x) > 1 else 0.0
    n = f" ({len(x)} seeds)" if len(x) < len(values) else ""
    return f"{num(x.mean(), d)} ± {num(sd, d)}{n}", f"{num(x.min(), d)} … {num(x.max(), d)}", each


SEED_ROWS = (  # (label, per-seed value from a seed's metrics, decimals)
    ("top: hyper-training, final valid. / test", lambda m: (m["hyper_valid_final"], m["hyper_test_final"]), 5),
    ("top: unrolled, final valid. / test", lambda m: (m["unrolled_valid_final"], m["unrolled_test_final"]), 5),
    ("top: hyper-training on its plateau at (s)", lambda m: m["hyper_time_to_plateau_s"], 1),
    ("top: unrolled reaches hyper-training's final valid. at (s)", lambda m: m["unrolled_time_to_hyper_final_s"], 1),
    ("top: validation − test, hyper-training / unrolled", lambda m: (
        gap(m["hyper_valid_final"], m["hyper_test_final"]), gap(m["unrolled_valid_final"], m["unrolled_test_final"])), 5),
    *((f"{a}: hyper-training / hand-tuned, valid.", lambda m, a=a: (m[a]["valid_final"], m[a]["handtuned_valid"]), 5)
      for a in ARCHS),
    *((f"{a}: hyper-training, test", lambda m, a=a: m[a]["test_final"], 5) for a in ARCHS))


def seed_verdict_rows(S):
    """[(claim, for how many seeds its rule holds)] of the sweep: the rows of the verdicts over seeds."""
    v, n = seed_verdicts(S), len(S["completed"])
    said = lambda x: f"{x.k} of {n}" + (f" ({seed_list(x.which())})" if 0 < x.k < n else "")  # noqa: E731
    rows = [("hyper-training converges faster than unrolled, to a worse solution", said(v["faster"])),
            ("hyper-training over-fits the validation set less", said(v["overfit"])),
            ("deeper models reach lower losses", said(v["deeper"]))]
    return rows + [(f"hyper-training beats hand-tuning, {a}", said(x)) for a, x in zip(ARCHS, v["hand"])]


def budgets_text(S):
    b = S["budgets"]
    return (f"top {b['top_budget_s']:g} s, bottom {' / '.join(f'{x:g}' for x in b['bottom_s'])} s, unrolled search "
            f"{b['search_budget_s']:g} s a setting, evaluations every {b['eval_every_s']:g} s")


def seeds_section(S):
    runs, seeds = seed_runs(S), S["completed"]
    rows = [(label, *_over([get(m) for _, m in runs], d)) for label, get, d in SEED_ROWS]
    frac = S.get("budget_fraction", 1)
    what = ("the PAPER config" if frac == 1 else f"the PAPER config with every time budget × {frac:g} — "
            f"{budgets_text(S)} — a labelled robustness budget, not the paper's")
    return (f"**Over seeds {seed_list(seeds)} at {scaled(S)}.** `figures/seeds_{NAME}.json` holds {what} "
            f"({secs(S['timings_s.wall'])} of wall time, {S['backend']}). The verdicts above are the PAPER run's; "
            "here each rule is applied to every seed of the sweep:\n\n"
            + table(("verdict", "holds on seeds"), seed_verdict_rows(S)) + "\n\n"
            + table(("", "mean ± sd", "min … max", "per seed " + ", ".join(map(str, seeds))), rows))
