"""Page of the experiment beyond the paper: a hypernetwork that initialises an unrolled optimisation
(Section 4.2's suggestion), from figures/fig8_warmstart.json. The warm starts are read from
config.warm, so another (K, λ step) pair gets its row without an edit here."""
from docs.fmt import Claim, Verdict, claims_of, count, num, sci, seed_list, seeds_phrase, table
from experiments import fig8_warmstart as script  # the two questions' rules (script.claims, script.QUESTIONS)

NAME = "fig8_warmstart"


def warm_names(d):
    return script.warm_names(d.data)


def warm_of(d, name):
    """(K, λ step) of the warm start named `name`."""
    return next((K, lr) for K, lr in d["config.warm"] if f"warm_K{K}_lr{lr:g}" == name)


def describe(d, name):
    K, lr = warm_of(d, name)
    return f"warm start, K = {K}, λ step {sci(lr)}"


def robust_counts(d, name, q):
    r = d.get(f"metrics.robust.{name}.{q}")
    return f"{r['yes']} of {r['of']}" if r is not None else "-"


def short(d, name):
    """'K 10', or 'K 200 (λ step 0.1)' where the λ step is not the first warm start's."""
    K, lr = warm_of(d, name)
    return f"K {K}" + ("" if lr == d["config.warm"][0][1] else f" (λ step {sci(lr)})")


def claims(R):
    d = R(NAME)
    rows = []
    for c in claims_of(script, R, NAME, seeds=False):
        n, names = c["numbers"], c["units"]
        v = Verdict(c["holds"], [short(d, x) for x in names], c["unit"], c["rule"])
        rb = f"{seeds_phrase(n['robust_seeds'])} at {num(n['robust_budget_s'], 0)} s"
        if c["key"].startswith("reaches"):
            t = n["time_to_hyper_plateau_s"]
            each = [f"{short(d, x)}: {'never' if t[x] is None else num(t[x], 0) + ' s'}" for x in names]
            ref = f"λ step {sci(n['first_lr'])} unless named; hyper-training {num(n['hyper_time_to_plateau_s'], 0)} s"
            ref += "".join(f"; {short(d, x)}: a tie at the {num(n['eval_every_s'], 0)} s evaluation step"
                           for x in n["ties"])
        else:
            each = [f"{short(d, x)}: {num(n['valid_final'][x], 4)}" for x in names]
            ref = f"unrolled {num(n['unrolled_valid_final'], 4)}"
        yes = [n["robust"][x] for x in names]
        seeds = f"{c['seeds'][0]}" + (f"; {rb}: " + " / ".join(str(y["yes"]) for y in yes) + f" of {yes[0]['of']}"
                                      if all(yes) else "")
        rows.append(Claim(c["claim"], c["statement"], "; ".join(each) + f" ({ref})", v, seeds if v.k else "none"))
    return rows


def page(R):
    d = R(NAME)
    m, c = d["metrics"], d["config"]
    names = ["hyper", "unrolled"] + warm_names(d)
    label = {"hyper": "hyper-training (Algorithm 3)", "unrolled": f"unrolled, T = {count(c['unrolled'][0])}"}

    def row(n):
        r = m[n]
        t = r["time_to_hyper_plateau_s"]
        return (label.get(n) or describe(d, n), f"{num(r['valid_final'], 4)} / {num(r['test_final'], 4)}",
                num(r["gap_valid_minus_test"], 4, True), count(r["steps"]), "never" if t is None else f"{num(t, 0)} s",
                num(r["peak_memory_mb"], 1) if "peak_memory_mb" in r else "-",
                f"{num(r['lam_sd'], 3)}" if "lam_sd" in r else "-")
    rows = [row(n) for n in names]
    rb = m["robust"]
    rrows = [(label.get(n) or describe(d, n),
              f"{num(rb[f'{n}.valid_final.mean'], 4)} ± {num(rb[f'{n}.valid_final.sd'], 4)}",
              f"{num(rb[f'{n}.gap_valid_minus_test.mean'], 4, True)}",
              robust_counts(d, n, "reaches_plateau_within_2x"), robust_counts(d, n, "ends_at_or_below_unrolled"))
             for n in names if n in rb]
    return "\n\n".join([
        "The paper's Section 4.2 suggests combining the two methods of [Figure 5](fig5_many.md): \"using a "
        "hypernetwork to output initial parameters and then unrolling several steps of optimization to differentiate "
        "through\". `experiments/fig8_warmstart.py` (`hypernet/beyond/warmstart.py`) runs it on Figure 5's top-panel problem "
        f"(784-10, 7,850 decays) for {count(c['budget_s'])} compute seconds per method, beside hyper-training and the "
        "unrolled baseline exactly as in Figure 5: Algorithm 3's loop and hypernetwork, with the λ step taken "
        "through K steps of the unrolled baseline's inner optimiser from the hypernetwork's weights. The script's "
        "docstring has the settings and the two questions.",
        f"**Seed {c['seed']}, {count(c['budget_s'])} s each** (final = mean of the evaluations in the last "
        f"{num(100 * c['final_fraction'], 0)}%; hyper-training's plateau = 1.01 × its final validation loss, "
        f"{num(m['hyper_plateau_level'], 4)}, reached at {num(m['hyper_time_to_plateau_s'], 0)} s):",
        table(("method", "valid. / test (final)", "valid. − test", "steps", "time to hyper-training's plateau",
               "peak memory (MiB)", "λ̂ sd at the end"), rows),
        f"**Robustness** (seeds {seed_list(rb['seeds'])} at {num(rb['budget_s'], 0)} s; `metrics.robust`):",
        table(("method", "valid. (final), mean ± sd", "valid. − test, mean", "reaches the plateau within 2×",
               "ends at or below unrolled"), rrows),
        reading(R, d, names)])


def reading(R, d, names):
    """What the numbers say, each read from the results: how far λ̂ moved, and the machine's load."""
    m, f5 = d["metrics"], R("fig5_many")["metrics"]
    small = [n for n in names if n.startswith("warm") and n.endswith("lr0.0001")]
    big = [n for n in names if n.startswith("warm") and not n.endswith("lr0.0001")]
    lines = [
        "**What the numbers say.** With Algorithm 3's λ step (Adam 1e-4) a warm start can move each λ by at most "
        "about 1e-4 per step, and the K unrolled steps make each step dearer: "
        + "; ".join(f"{short(d, n)}: {count(m[f'{n}.steps'])} steps, λ̂ sd {num(m[f'{n}.lam_sd'], 3)} at the end"
                    for n in small)
        + f" (hyper-training: {count(m['hyper.steps'])} steps, sd {num(m['hyper.lam_sd'], 3)}). These end within "
        f"{num(max(abs(m[f'{n}.valid_final'] - m['hyper.valid_final']) for n in small), 4)} of hyper-training's final "
        "validation loss, and a larger K reaches it later. The unrolled baseline moves λ with an outer "
        f"step of {num(d['config.unrolled.2'], 2)} on the full validation set."]
    if big:
        lines.append(
            "With that outer step instead, λ̂ spreads ("
            + "; ".join(f"{short(d, n)}: sd {num(m[f'{n}.lam_sd'], 3)}, final validation {num(m[f'{n}.valid_final'], 4)}"
                        for n in big)
            + f"), and the loss ends {'higher' if all(m[f'{n}.valid_final'] > m['hyper.valid_final'] for n in big) else 'lower'}"
            f" than hyper-training's ({num(m['hyper.valid_final'], 4)}). Each λ step still sees one validation minibatch and two sampled λ, and the "
            "hypernetwork (Adam 1e-4 on φ) has to follow λ̂ for the K steps to start near trained weights. "
            "Untested here: a full-validation-set hypergradient, or a faster φ step, for the warm start.")
    dt, hyper_t = d["config.eval_every_s"], m["hyper_time_to_plateau_s"]
    close = [n for n in names if n.startswith("warm") and m[f"{n}.reaches_plateau_within_2x"]
             and 2 * hyper_t - m[f"{n}.time_to_hyper_plateau_s"] < dt]
    lines.append(
        f"**Resolution of the times.** Every time here is that of an evaluation (one every {num(dt, 0)} compute "
        f"seconds), an upper bound at that resolution: hyper-training's {num(hyper_t, 3)} s is its first evaluation "
        "after the start."
        + "".join(f" {short(d, n)} answers yes with {num(m[f'{n}.time_to_hyper_plateau_s'], 3)} s against a bound of "
                  f"{num(2 * hyper_t, 3)} s, inside one evaluation interval: a tie at this resolution, not a margin."
                  for n in close)
        + f" The unrolled baseline's {num(m['unrolled.time_to_hyper_plateau_s'], 0)} s is its time to this plateau "
        f"(1.01 × hyper-training's final loss); Figure 5 reports its time to hyper-training's final loss itself "
        f"({num(R('fig5_many')['metrics.unrolled_time_to_hyper_final_s'], 0)} s there).")
    lines.append(
        "The machine was shared with other work during this run: hyper-training took "
        f"{count(m['hyper.steps'])} steps and the unrolled baseline {count(m['unrolled.steps'])} hyper-iterations in "
        f"{count(d['config.budget_s'])} CPU seconds, against {count(f5['hyper_steps'])} and "
        f"{count(f5['unrolled_steps'])} in Figure 5's run. Every method here ran under the same load, and their final "
        f"losses are Figure 5's to within {num(max(abs(m['hyper.valid_final'] - f5['hyper_valid_final']), abs(m['unrolled.valid_final'] - f5['unrolled_valid_final'])), 4)}.")
    return "\n\n".join(lines)
