"""Page of the settings: what the paper says, what the authors' original code did and what this
repository does, and why. Settings only (no results), so nothing here is read from a results file;
each figure's page has the settings its run used, read from its config."""

INTRO = """This table is the source of every setting here: the paper's text first; where the text is silent,
the authors' original code; a choice of ours only where both are silent. A setting that differs from those
runs only as a labelled ablation beside the faithful run, with its measured effect on the figure's page."""

ROWS = [
    ("prediction loss", "\"mean squared error\"", "Gaussian NLL, sd 0.1",
     "NLL (sd 0.1) for Figs 2, 4, 6, whose published axes are NLL (they go negative); plain MSE for Fig 5, whose "
     "published axis is MSE (no code exists for it)"),
    ("L2 penalty (Figs 2, 4)", "\"L2 weight decay weighted by exp(λ)\"", "exp(λ)·‖w‖₂, unsquared, biases included",
     "as the code (the text does not say squared or not)"),
    ("penalty (Fig 5)", "a separate L2 decay on each weight", "no code", "ours: Σⱼ exp(λⱼ) wⱼ², the usual reading"),
    ("penalty (Fig 6)", "one decay per digit class", "(1/10) Σᵢ exp(λᵢ)‖W[:, i]‖₂, no biases", "as the code"),
    ("Fig 2 p(λ)", "N(0, 1.5)", "N(1, sd 3), clipped at 4", "the paper, 1.5 read as a variance"),
    ("Fig 2 cross-validation crosses", "crosses", "10 λ over [−1, 3]",
     "as the code. λ* (the dashed line) is read off 41 λ over [−1, 3] (ours; the published 1.836 came from a "
     "1,000-point search)"),
    ("λ samples per step", "2 (Figs 2, 4, 5)", "10 (Figs 2, 4), 25 (Fig 6)",
     "the paper's 2 for Figs 2, 4, 5; the code's 25 for Fig 6, where the paper points to \"the optimizer of the "
     "7,850-dimensional experiment\", which does not say. Ablation: 10 ([Figure 6](fig6_gp.md))"),
    ("Fig 4 p(λ | λ̂)", "N(λ̂, 1e-5)", "a point mass (that is Algorithm 4)",
     "the paper (Algorithm 3, 1e-5 read as a variance); Algorithm 4 beside it"),
    ("Fig 4 optimisers", "Adam 1e-4 for hypernetwork and λ (\"the same optimizer as the global best-response\")",
     "SGD 1e-4 hypernetwork, Adam 0.01 λ",
     "the paper, for 120,000 steps, well past where λ̂ settles (its measured path: [Figure 4](fig4_local.md)). "
     "Ablation: Adam 1e-2 on λ for 5,000 steps"),
    ("data points per step", "\"up to 1,000\"", "all 10 (Figs 2, 4); 100-point windows (Fig 6)",
     "as the code for training batches; validation batches of 1,000 for λ steps (Figs 2, 4, 5); Fig 5 training "
     "minibatches of 100 (the paper's source)"),
    ("Algorithm 2, phase 2", "descend λ", "skipped; optimum hard-coded",
     "run: Adam 1e-4 (the paper's step), 25,000 steps from λ0 = 0, the mean of p(λ)"),
    ("Fig 5 budgets", "x-axes to 1,000 s (top); curves end at ~320 / 960 / 1,150 s (bottom)", "no code",
     "as read off the figure: 1,000 s for hyper-training and for the unrolled baseline; 320 / 960 / 1,150 s for "
     "the three models (784-10's is the first 320 s of the top run)"),
    ("Fig 5 unrolled baseline", "Maclaurin et al. as implemented by Franceschi et al.; no settings", "no code",
     "ours: T steps of SGD with momentum 0.9, restarted from one init on the same T minibatches each "
     "hyper-iteration, outer Adam; 4 settings searched at 135 s each, the best run for 1,000 s"),
    ("Fig 5 \"hand-tuned\"", "not defined", "no code",
     "ours: the best single global decay by Algorithm 1 (6 decays × Adam 1e-4 and 1e-3), as many minibatch steps "
     "as the hypernetwork took by the end of its curve"),
    ("Fig 5 initial λ, input", "not said", "no code",
     "ours: every decay starts at exp(−9); the hypernetwork is fed λ + 9 (the same function class; Adam's "
     "first-layer steps stay small)"),
    ("Fig 6 GP", "\"a GP with an RBF kernel from sklearn\"", "`GaussianProcessRegressor(RBF(), n_restarts_optimizer=1)`",
     "as the code (prior mean 0, losses not normalised). Ablations: C·RBF with `normalize_y=True` and 10 restarts, "
     "and the same with one length scale per λ ([Figure 6](fig6_gp.md))"),
    ("Fig 6 \"same time\"", "Algorithm 2 trained as long as building the GP's 25 points took",
     "fixed 500 / 600 iterations",
     "the paper: each hypernetwork gets the CPU time that building the 25 tuples took"),
    ("Fig 6 ground truth", "10,215 optimised tuples", "trained one by one",
     "10,215 models of 1,000 Adam steps each, trained as arrays of 64 in float32 (checked against Algorithm 1 to "
     "1e-10 in float64)"),
    ("appendix comparison", "Algorithm 3 vs random search (10 and 7,850 hyperparameters) and Bayesian optimisation "
     "(10), runtime including the trials' training; \"the same\" distribution and optimiser as the other experiments",
     "no code",
     "Figs 4/5's Algorithm 3 settings; budgets 1,000 s / 850 s read off the x-axes; ours: the trial protocols "
     "(Fig 6's 1,000 steps, and 8,000 measured as converged), the h7850 box [−12, −6], GP-EI's kernel and "
     "acquisition, TPE added, h10's hypernetwork (Figure 6's linear one, fed raw λ); three h10 ablations of the "
     "step sizes beside the faithful run ([appendix](fig7_hpo.md))"),
]


CHANGING = """## Changing a setting

Every figure script (and `experiments/harness/seeds.py`) takes `--set NAME=VALUE`, repeatable, for any field of
its config (experiments/harness/config_overrides.py): the value is a Python literal in the shape of the one it replaces, down
to every element (types; lengths of mixed tuples such as a grid (low, high, count); positive numbers stay
positive), then the figure's own `check_config` checks what depends on several settings (Figure 5's
`archs` and `bottom_s`, say), all before any work and with `--check` too. `workers`, how many jobs run at
once, changes no result: `--set workers=8` on a bigger machine is still the PAPER run. Such a run is named "custom", goes to
`runs/custom_<hash>/` unless `--out` says otherwise, and never writes the committed `figures/`. For example
`python experiments/fig4_local.py --set sigma=0.1 --set ablations="()"` runs Algorithm 3 with a wider
p(λ | λ̂). The settings, with their PAPER values (read from the code):"""


def short(value, n=70):
    text = repr(value)
    return text if len(text) <= n else text[:n - 1] + "…"


def settings_of_figures():
    """One row per figure script: its settings with their PAPER values."""
    import dataclasses
    from experiments.harness import seeds
    rows = []
    for figure in seeds.figure_names():
        paper = seeds.figure_module(figure).PAPER
        fields = [f.name for f in dataclasses.fields(paper) if f.name != "seed"]
        rows.append((f"`{figure}`", ", ".join(f"`{k}={short(getattr(paper, k))}`".replace("|", "\\|")
                                             for k in fields)))
    return rows


def page(R):
    from docs.fmt import table
    return (INTRO + "\n\n" + table(("topic", "paper says", "original code did",
                                     "this repository does (PAPER config), and why"), ROWS)
            + "\n\n" + CHANGING + "\n\n" + table(("figure", "settings (PAPER values)"), settings_of_figures()))
