"""Page of the experiment beyond the paper: which method for thousands of hyperparameters (hyper-training,
unrolled, the IFT hypergradient with i Neumann terms), from figures/fig9_ift.json. The IFT runs are read
from config.terms, so another i gets its row without an edit here."""
from docs.fmt import Claim, Verdict, claims_of, count, mean_sd, num, seed_list, sig, table
from experiments import fig9_ift as script  # the questions' rules (script.claims, script.QUESTIONS)

NAME = "fig9_ift"
README_CLAIMS = 1  # the README shows the first claim; this page has them all


def label(d, n):
    if n == "hyper":
        return "hyper-training (Algorithm 3)"
    if n == "unrolled":
        return f"unrolled, T = {count(d['config.unrolled.0'])}"
    return f"IFT, i = {n[len('ift_i'):]}"


def loss(x, sign=False):
    """A loss with 4 decimals; a blown-up one (1e24, say) with 2 significant digits."""
    return num(x, 4, sign) if abs(x) < 1e3 else ("+" if sign and x > 0 else "") + sig(x, 2)


def short(n):
    return {"hyper": "hyper-training", "unrolled": "unrolled"}.get(n) or f"IFT i = {n[len('ift_i'):]}"


def claims(R):
    d = R(NAME)
    rows = []
    for c in claims_of(script, R, NAME, seeds=False):
        n, rb = c["numbers"], c["robust"]
        v = Verdict(c["holds"], c["units"], c["unit"], c["rule"])
        each = "; ".join(f"{short(x)} {loss(n['valid_final'][x])}" for x in n["valid_final"])
        if c["key"] == "ift_at_or_below_hyper":  # with which method is lowest when (the README's row)
            low, m = d["metrics.lowest_valid_at"], d["metrics"]
            ift = [x for x in n["valid_final"] if x.startswith("ift_") and not script.blown(m.data, x)]
            best = min(ift, key=n["valid_final"].get) if ift else None
            each = ("lowest at " + ", ".join(f"{s} s: {short(x)}" for s, x in low.data.items())
                    + f"; on test: {short(d['metrics.lowest_test_final'])}; final: hyper-training "
                    + loss(n["valid_final"]["hyper"])
                    + (f", best IFT ({short(best)}) {loss(n['valid_final'][best])}" if best else ", every IFT blew up"))
        if c["key"] == "hyper_gap_smallest":
            each = "valid. − test: " + "; ".join(f"{short(x)} {loss(g, True)}"
                                                   for x, g in n["gap_valid_minus_test"].items())
        seeds = (f"{c['seeds'][0]}; {seed_list(rb['seeds'])} at {num(rb['budget_s'], 0)} s: "
                 f"{sum(rb['holds'])} of {len(rb['holds'])}")
        rows.append(Claim(c["claim"], c["statement"], each, v, seeds))
    return rows


def page(R):
    d = R(NAME)
    m, c = d["metrics"], d["config"]
    names = script.method_names(c.data)
    at = [f"{t:g}" for t in c["at_s"]]

    a, level = R.npz(NAME), script.BLOW_UP * m["hyper_plateau_level"]

    def row(n):
        r = m[n]
        t = r["time_to_hyper_plateau_s"]
        gone = script.until_blow_up(a[f"{n}_t"], a[f"{n}_valid"], level)[2]
        stopped = r.get("diverged") and a[f"{n}_t"][-1]  # NaN or Inf stopped it: its last evaluation
        name = label(d, n) + (f" (blew up at {num(gone, 0)} s)" if gone is not None else
                              f" (stopped by NaN after {num(stopped, 0)} s)" if stopped else "")
        return ((name, f"{loss(r['valid_final'])} / {loss(r['test_final'])}", loss(r["gap_valid_minus_test"], True))
                + tuple("-" if r[f"valid_at.{s}"] is None else loss(r[f"valid_at.{s}"]) for s in at)
                + (count(r["steps"]), "never" if t is None else f"{num(t, 0)} s",
                   num(r["peak_memory_mb"], 2), num(r["lam_sd"], 3) if "lam_sd" in r else "-"))
    lowest = m["lowest_valid_at"]
    said = "; ".join(f"at {s} s {label(d, lowest[s])}" for s in at) + (
        f"; at the end (final validation) {label(d, m['lowest_valid_final'])}; "
        f"on test (final) {label(d, m['lowest_test_final'])}")
    search = [(count(s["N"]), num(s["alpha"], 2), num(s["lr_lam"], 2),
               "diverged" if s["diverged"] else num(s["valid_final"], 4), count(s["steps"]))
              for s in m["search"]]
    rb = m["robust"]
    rrows = [(label(d, n), mean_sd(rb[f"{n}.valid_final"], 4), mean_sd(rb[f"{n}.test_final"], 4),
              mean_sd(rb[f"{n}.gap_valid_minus_test"], 4, True)) for n in names]
    setting = m["ift_setting"]
    return "\n\n".join([
        "Figure 5's top panel compares hyper-training only with unrolled reverse-mode differentiation. Two years "
        "after the paper, its first author's implicit-function-theorem hypergradient with a Neumann-series inverse "
        "Hessian (Lorraine, Vicol & Duvenaud, AISTATS 2020) became the usual pick for thousands of hyperparameters. "
        "`experiments/fig9_ift.py` runs it (`hypernet/beyond/ift.py`) on Figure 5's top-panel problem (784-10, "
        f"7,850 per-weight decays) for {count(c['budget_s'])} compute seconds, beside hyper-training and the "
        "unrolled baseline exactly as in Figure 5. The IFT's N inner steps, Neumann step α and outer Adam step come "
        "from the unrolled baseline's search rule and budget: "
        f"{len(c['search'])} settings at {num(c['search_budget_s'], 0)} s each, with i = {c['search_terms']}, the lowest "
        f"final validation loss wins (N = {setting[0]}, α = {num(setting[1], 2)}, outer step {num(setting[2], 2)}); the "
        "script's docstring has the settings.",
        f"**Lowest validation loss**: {said}.",
        f"**Seed {c['seed']}, {count(c['budget_s'])} s each** (final = mean of the evaluations in the last "
        f"{num(100 * c['final_fraction'], 0)}%; hyper-training's plateau = 1.01 × its final validation loss, "
        f"{num(m['hyper_plateau_level'], 4)}; memory = peak bytes allocated during one hypergradient; a run blew "
        f"up where its validation loss first exceeds {num(script.BLOW_UP, 0)} × that plateau; a run stopped by NaN "
        "keeps the evaluations before it, and its final window is that of a shorter run; valid. at t s = the "
        f"evaluation made as the clock passed t, evaluations being every {num(c['eval_every_s'], 0)} s of compute, "
        "none after a NaN):",
        table(("method", "valid. / test (final)", "valid. − test") + tuple(f"valid. at {s} s" for s in at)
              + ("steps", "time to hyper-training's plateau", "memory (MiB)", "λ̂ sd at the end"),
              [row(n) for n in names]),
        f"**The IFT settings search** (i = {c['search_terms']}, {num(c['search_budget_s'], 0)} s each):",
        table(("N", "α", "outer step", "valid. (final)", "outer steps"), search),
        f"**Robustness** (seeds {seed_list(rb['seeds'])} at {num(rb['budget_s'], 0)} s each, the settings of seed "
        f"{c['seed']}; lowest final validation loss per seed: "
        + "; ".join(f"seed {s}: {label(d, x)}" for s, x in zip(rb["seeds"], rb["lowest_valid_final"])) + "):",
        table(("method", "valid. (final), mean ± sd", "test (final), mean ± sd", "valid. − test, mean ± sd"), rrows)])
