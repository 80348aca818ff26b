"""Page of the ablations of the appendix comparison's hyper-training (experiments/fig7_ablations.py),
from figures/fig7_ablations.json. The runs are read from metrics.<problem>, so another ablation
gets its row without an edit here."""
from docs.fmt import count, mean_sd, num, table

NAME = "fig7_ablations"
PEERS = {"random": "random search", "gp_bo": "GP-EI", "tpe": "TPE"}

INTRO = (
    "Hyper-training (Algorithm 3) of the appendix's 10-hyperparameter problem delivers weights whose validation loss "
    "ends above random search, GP-EI and TPE ([the comparison](fig7_hpo.md)). The hypothesis tested here: Figure 6's "
    "linear hypernetwork w = λA + b is fed raw λ, drawn with sd 0.003 around λ̂, so the gradient of A is λ̂·g plus a "
    "small (λ − λ̂)·g that carries the slope; once λ̂ leaves 0 the hypernetwork cannot tell its bias from its slope, "
    "and the hypergradient stops pointing downhill. Each ablation is the faithful run with one thing changed: the "
    "input centred at the current λ̂ and re-centred after every λ̂ step, the bias absorbing the move "
    "(`hypernets.tangent`, the tangent hyperplane of the paper's Section 2.4); a wider p(λ | λ̂); both. They are "
    "labelled ablations, beside the faithful run, which stays as the paper describes it.")

DIAG = (
    "**Slope diagnostic** (off the clock): for random unit directions u of λ, the secant of the hypernetwork over "
    "λ̂ ± εu against that of the best response, models trained from scratch at λ̂ ± εu under the converged trial "
    "protocol from one initial point and one minibatch sequence; ε moves each hyperparameter by 0.05 rms (Figure 4's "
    "step). *cos* is the mean cosine of the two slopes over the directions at each point of the run; *downhill* "
    "counts the directions in which the hypernetwork's validation-loss secant has the sign of the true one at the "
    "end; *retrained* is the validation loss of the model trained from scratch at the final λ̂.")


def describe(key):
    return "faithful (run again here)" if key == "faithful" else f"ablation: {key}"


def run_rows(runs):
    rows = []
    for key, r in runs.items():
        if "diverged" in r:
            rows.append((describe(key), "diverged", "", "", "", "", "", ""))
            continue
        end = r["diagnostic"][-1]
        agree = sum((a > 0) == (b > 0) for a, b in zip(end["dvalid_hyper"], end["dvalid_true"]))
        rows.append((describe(key), num(r["final_valid"], 4), num(r["best_valid"], 4), num(r["lam_sd_final"], 2),
                     " / ".join(num(c, 2) for c in r["slope_cosine_mean"]), f"{agree} of {len(end['dvalid_true'])}",
                     num(end["valid_retrained"], 4), mean_sd(r["robust"]["final_valid"], 4)))
    return rows


def page(R):
    d = R(NAME)
    m, ref = d["metrics"].data, d["metrics.reference"].data
    at = " / ".join(f"{f:g}" for f in d["config.diag_at"])
    rb = m["robust"]
    lines = [INTRO, "", DIAG, "",
             f"The committed comparison read: `{ref['file']}`, run {ref['run_id']} ({ref['config_name']}, seed "
             f"{ref['seed']}).", ""]
    for p, budget in m["budget_s"].items():
        r = ref[p]
        peers = ", ".join(f"{PEERS[k]} {num(r[f'{k}_best_valid'], 4)}" for k in PEERS if f"{k}_best_valid" in r)
        lines += [f"## {p}: {num(budget, 0)} CPU s, seed {d['config.seed']}; robustness: seeds "
                  f"{', '.join(map(str, rb['seeds']))} at {num(rb['budget_s'], 0)} s", "",
                  f"Committed faithful run: final {num(r['hyper_final_valid'], 4)}, best {num(r['hyper_best_valid'], 4)}, "
                  f"λ̂ sd {num(r['hyper_lam_sd_final'], 2)}; black-box best: {peers}.", "",
                  table(("run", "final valid.", "best valid.", "λ̂ sd (end)", f"cos at {at} of the budget", "downhill",
                         "retrained", "robustness: final valid."), run_rows(m[p])),
                  "", "Hyper-training steps: " + ", ".join(f"{describe(k)} {count(v['steps'])}" for k, v in m[p].items()
                                                            if "steps" in v) + ".", ""]
    return "\n".join(lines)
