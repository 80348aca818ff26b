"""Page of the experiment beyond the paper: a learned width of p(λ | λ̂) beside the faithful run and the
fixed-sigma ablations, from figures/fig10_width.json (which holds the reference numbers it read from
figures/fig7_ablations.json). The τ values are read from config.taus."""
import numpy as np

from docs.fmt import Claim, Verdict, claims_of, count, mean_sd, num, sig, table
from experiments import fig10_width as script

NAME = "fig10_width"
README_CLAIMS = 1  # the README shows the first claim; this page has them all


def claims(R):
    rows = []
    for c in claims_of(script, R, NAME, seeds=False):
        v = Verdict(c["holds"], c["units"], c["unit"], c["rule"])
        each = "; ".join(f"{u}: σ {sig(r['sigma_final'], 2)}, valid. {num(r['final_valid'], 4)}"
                         for u, r in c["numbers"]["runs"].items())
        rows.append(Claim(c["claim"], c["statement"], each, v, str(c["seeds"][0])))
    return rows


def page(R):
    d = R(NAME)
    m, c = d["metrics"], d["config"]
    rows = []
    for p in c["problems"]:
        ref = m[f"reference.{p}"]
        for key in ref.keys():
            r = ref[key]
            v = np.array(r["robust_final_valid"], float)
            rows.append((p, "faithful (the paper's σ)" if key == "faithful" else f"fixed {key.replace('sigma=', 'σ = ')}",
                         sig(r["sigma"], 2), num(r["final_valid"], 4),
                         f"{num(v.mean(), 4)} ± {num(v.std(ddof=1), 4)}" if len(v) > 1 else num(v.mean(), 4), "-"))
        for tau in c["taus"]:
            r = m[f"{p}.{script.tau_key(tau)}"]
            rows.append((p, f"**learned, τ = {tau:g}**", f"{sig(r['sigma_final'], 2)} (from {sig(ref['faithful.sigma'], 2)})",
                         f"{num(r['final_valid'], 4)} (test {num(r['final_test'], 4)})",
                         mean_sd(r["robust.final_valid"], 4),
                         f"{sig(r['robust.sigma_final.mean'], 2)} ± {sig(r['robust.sigma_final.sd'], 2)}"))
    verdicts, decided = [], claims_of(script, R, NAME, seeds=False)
    for cl in decided:
        held = [u for u, h in zip(cl["units"], cl["holds"]) if h]
        not_held = [u for u, h in zip(cl["units"], cl["holds"]) if not h]
        shown = lambda units: ", ".join(u.replace("tau=", "τ = ") for u in units) or "none"  # noqa: E731
        verdicts.append((cl["statement"], shown(held), shown(not_held)))
    judged = {u.split(" ")[0] for u in decided[0]["units"]}
    unjudged = [p for p in c["problems"] if p not in judged]
    rb = m["robust"]
    budgets = ", ".join(f"{p} {count(m['budget_s.' + p])} CPU s" for p in c["problems"])
    return "\n\n".join([
        "The paper fixes the width of p(λ | λ̂) and says \"it is not obvious how to choose the training "
        "distribution of hyperparameters\"; on the appendix's 10-hyperparameter problem that width decides the "
        "result ([its ablations](fig7_ablations.md)). `experiments/fig10_width.py` learns it instead, as Self-Tuning "
        "Networks do (`hypernet/beyond/learned_width.py`): one shared log σ, started at the paper's σ and stepped by "
        "the λ step's Adam on the expected validation loss minus τ times the entropy of p(λ | λ̂) per "
        f"hyperparameter, τ in {{{', '.join(f'{t:g}' for t in c['taus'])}}}. Both appendix problems, at their budgets "
        f"({budgets}), seed {c['seed']}; "
        f"seeds {', '.join(map(str, rb['seeds']))} at {num(rb['budget_s'], 0)} s. A labelled ablation: the faithful "
        f"run stays the result of [the appendix comparison](fig7_hpo.md). The reference rows are read from "
        f"`{m['reference.file']}` (run {m['reference.run_id']}).",
        table(("problem", "run", "σ at the end", f"valid. NLL (final, seed {c['seed']})",
               f"robustness: valid., mean ± sd", "robustness: σ, mean ± sd"), rows),
        f"The robustness runs have {num(rb['budget_s'], 0)} s where seed {c['seed']} has the full budget: σ moves "
        "with the λ steps, so it ends far nearer its start in them.",
        "**Which runs each claim holds on** (its rule is in the verdicts above"
        + (f"; the first two are judged on {', '.join(sorted(judged))} only: fig7_ablations tried fixed widths on no "
           f"other problem, so {', '.join(unjudged)} has no range to land in" if unjudged else "") + "):",
        table(("claim", "holds on", "does not hold on"), verdicts)])
