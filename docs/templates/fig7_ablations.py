"""Page of the ablations of the appendix comparison's hyper-training (experiments/fig7_ablations.py),
from figures/fig7_ablations.json. The runs are read from metrics.<problem>, so another ablation
gets its row without an edit here."""
from docs.fmt import Claim, claims_of, count, mean_sd, num, seed_list, table, verdict_of
from docs.templates.fig7_hpo import PAPER as PUBLISHED  # the appendix figure's levels, read off it
from experiments import fig7_ablations as script  # the claims' rules and their noise (script.claims, script.noises)

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

FAITHFUL = (
    "**Why the faithful run stays as it is.** The paper's Section 2.4 makes the hypernetwork \"a linear function of "
    "the hyperparameters\" with p(λ | λ̂) = N(λ̂, σI) for \"some small σ\", which \"learns a tangent hyperplane to a "
    "best-response function\". Centring the input at λ̂ changes neither the functions the hypernetwork can represent "
    "nor the λ it is trained on, only the coordinates in which Adam updates its parameters, and the text says nothing "
    "about them; the tangent hyperplane describes what is learned, not how λ is fed. So the centred input is a change "
    "of the optimisation, not a reading of the text, and runs as an ablation. The width is not silent either: Figure "
    "4's text gives p(λ | λ̂) = N(λ̂, 0.00001), Figure 5's and the appendix's say the conditional distribution is "
    "\"the same as the prior experiments\", so the faithful run keeps the variance 1e-5 (sd 0.003) and every wider σ "
    "is an ablation, whatever it does to the loss.")

DIAG = (
    "**Slope diagnostic** (off the clock): for random unit directions u of λ, the secant of the hypernetwork over "
    "λ̂ ± εu against that of the best response, models trained from scratch at λ̂ ± εu under the converged trial "
    "protocol from one initial point and one minibatch sequence; ε moves each hyperparameter by 0.05 rms (Figure 4's "
    "step). *cos* is the mean cosine of the two slopes over the directions at each point of the run; *downhill* "
    "counts the directions in which the hypernetwork's validation-loss secant has the sign of the true one at the "
    "end; *retrained* is the validation loss of the model trained from scratch at the final λ̂.")


def describe(key):
    return "faithful (run again here)" if key == "faithful" else f"ablation: {key}"


def short(key):
    return script.short(key)


# ---- the verdicts (their rules: experiments/fig7_ablations.py) -----------------------------------
def noises(R):
    """{problem: noise of its final validation loss}, as experiments/fig7_ablations.py's rules take it."""
    return script.noises(R(NAME).data, R.npz(NAME))


def _claims(R):
    return claims_of(script, R, NAME, seeds=False, arrays=R.npz(NAME))


def verdicts(R):
    """The page's two verdicts: {"lowers", "closes": Verdict}."""
    lowers, closes = _claims(R)
    return {"lowers": verdict_of(lowers), "closes": verdict_of(closes)}


def claims(R):
    lowers, closes = _claims(R)
    V = {"lowers": verdict_of(lowers), "closes": verdict_of(closes)}
    n = lowers["numbers"]
    nz, peer, faithful = n["noise"], n["best_peer"], n["faithful_final_valid"]
    by = lambda p: ", ".join(f"{a['name']} {num(a['final_valid'], 3)}"  # noqa: E731
                             for a in n["ablations"] if a["problem"] == p)
    numbers = (f"h10: faithful {num(faithful['h10'], 3)} (committed {num(n['committed_final_valid']['h10'], 3)}, ± "
               f"{num(nz['h10'], 3)}), {by('h10')}, {PEERS[peer['method']]} {num(peer['final_valid'], 3)}"
               + (f"; h7850: {by('h7850')} vs {num(faithful['h7850'], 3)}" if "h7850" in n["problems"] else ""))
    seeds = (f"{lowers['seeds'][0]}; {seed_list(n['robust_seeds'])} at {num(n['robust_budget_s'], 0)} s, lower: "
             + ", ".join(f"{a['name']} {'{}/{}'.format(*a['robust_lower'])}" for a in n["ablations"]
                         if a["problem"] == "h10"))
    return [Claim(lowers["claim"], lowers["statement"], numbers, V["lowers"], seeds),
            Claim(closes["claim"], closes["statement"], "explained by " + explained(R, V, brief=True), V["closes"],
                  str(closes["seeds"][0]))]


EXPLANATIONS = {"centring": "the input's centring at λ̂", "width": "the width of p(λ | λ̂)"}


def explanation_of(settings):
    """Which explanation an h10 ablation tests alone ('centring', 'width'), or None (both at once)."""
    kinds = {"centring" if k == "tangent" else "width" for k in settings}
    return kinds.pop() if len(kinds) == 1 else None


def explanations(R, V):
    """(supported, not supported, {explanation: (k, n)} of those not supported whose ablation alone is
    lower on most robustness seeds): an explanation is supported when an ablation that changes it
    alone lowers h10's loss by the rule of verdicts()["lowers"]."""
    low, m = V["lowers"].which(), R(NAME)["metrics"].data
    alone = {e: [(k, r) for k, r in m["h10"].items() if k != "faithful" and explanation_of(r["settings"]) == e
                 and "diverged" not in r] for e in EXPLANATIONS}
    yes = [e for e, runs in alone.items() if any(f"h10 {short(k)}" in low for k, _ in runs)]
    no = [e for e, runs in alone.items() if runs and e not in yes]
    robust_only = {e: max((script.robust_lower(m, "h10", r) for _, r in alone[e]), key=lambda kn: kn[0]) for e in no}
    return yes, no, {e: kn for e, kn in robust_only.items() if 2 * kn[0] > kn[1]}


def explained(R, V, brief=False):
    """'the width of p(λ | λ̂), not the input's centring at λ̂ (alone: lower only on 3 of 3 seeds at 100 s)'."""
    yes, no, robust_only = explanations(R, V)
    b = R(NAME)["metrics.robust.budget_s"]
    text = " and ".join(EXPLANATIONS[e] for e in yes) or "neither explanation alone"
    if no:
        text += ", not " + " nor ".join(EXPLANATIONS[e] for e in no)
        text += "".join(f" ({'alone' if brief else EXPLANATIONS[e] + ' alone'}: lower only on the robustness seeds, "
                        f"{k} of {n} at {num(b, 0)} s)" for e, (k, n) in robust_only.items())
    return text


def supported(R):
    """The sentences that say which explanation the numbers support, with the diagnostic behind it."""
    nz = noises(R)
    V = verdicts(R)
    m = R(NAME)["metrics"].data
    runs = {k: r for k, r in m["h10"].items() if "diverged" not in r}
    low, close, nz = V["lowers"].which(), V["closes"].which(), nz["h10"]
    head = (f"None of the ablations lowers the final validation loss by more than the noise ({num(nz, 3)} on h10), "
            "so the numbers support neither explanation" if not low else
            f"Lower by more than the noise ({num(nz, 3)} on h10): {', '.join(low)}; "
            + (f"reaching the black-box methods: {', '.join(close)}" if close else "none reaches the black-box methods")
            + ". So the numbers support " + explained(R, V))
    low_k = min(runs, key=lambda k: runs[k]["final_valid"])
    head += (f". Lowest on h10: {short(low_k)}, {num(runs[low_k]['final_valid'], 3)} (best black-box method "
             f"{num(script.best_peer(m, 'h10')[0], 3)}; the paper's figure shows {PUBLISHED['h10']['hyper']} for hyper-training)")
    singles = [r["final_valid"] for k, r in runs.items() if k != "faithful" and explanation_of(r["settings"])]
    if explanation_of(runs[low_k]["settings"]) is None and low_k != "faithful" and all(
            x - runs[low_k]["final_valid"] > nz for x in singles):
        head += ", lower than either change alone by more than the noise"
    end = {k: r["diagnostic"][-1] for k, r in runs.items()}
    return (head + ". The hypernetwork's slope against the best response's at the end of the run (cosine, mean over "
            "the directions; 1 is the best response's own direction): "
            + ", ".join(f"{short(k)} {num(r['slope_cosine_mean'][-1], 2)}" for k, r in runs.items())
            + ". At the end, the validation loss of the hypernetwork's weights at λ̂ against a model retrained at that λ̂ "
            "(converged protocol): " + ", ".join(f"{short(k)} {num(end[k]['valid_hyper'], 3)} vs "
                                                 f"{num(end[k]['valid_retrained'], 3)}" for k in ("faithful", low_k)) + ".")


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
    lines = [INTRO, "", "**What the numbers support.** " + supported(R), "", FAITHFUL, "", DIAG, "",
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
