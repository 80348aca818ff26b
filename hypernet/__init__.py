"""hypernet: stochastic hyperparameter optimisation through hypernetworks (Lorraine & Duvenaud,
2018), in autograd + NumPy.

The paper's algorithms, in its order:

    Algorithm 1  standard cross-validation ............ cross_validation(problem, lams, ...)
    Algorithm 2  hypernetwork, then hyperparameters ... hypertrain_global(problem, hypernet, ...)
                 (its two loops alone: train_hypernet, descend_lam)
    Algorithm 3  joint optimisation .................... hypertrain_local(problem, hypernet, ...)
    Algorithm 4  simplified joint optimisation ......... hypertrain_simplified(problem, hypernet, ...)
                 (their loop, open to another lam objective: hypertrain_joint)
    baseline     unrolled reverse-mode (Fig 5) ......... hypertrain_unrolled(problem, ...)
    baseline     Gaussian-process surrogate (Fig 6) .... fit_gp(lams, losses, seed)
    beyond       warm-started unrolling (Sec. 4.2) ..... hypertrain_warm_start(problem, hypernet, ...)
    beyond       implicit differentiation (2020) ....... hypertrain_ift(problem, ...), ift_hypergradient(...)
    beyond       a learned width of p(lam | lam_hat) ... hypertrain_learned_width(problem, hypernet, ...)

What they consume and return:

    Problem, make_problem   the contract every method shares, batched over S weight vectors:
                            train_loss(W (S, D), lams (S, H), (X, T)) -> (S,),
                            valid_loss(W (S, D), (X, T)) -> (S,); make_problem builds the paper's
                            MNIST MLPs, or write the two functions of your own model
    linear, factorised, mlp, centred, tangent, Hypernet
                            hypernetwork families: w_phi(lam) for S samples at once, (S, H) -> (S, D);
                            centred feeds lam - a fixed offset, tangent lam - lam_hat (re-centred
                            by Algorithms 3 and 4 after every lam_hat step: Section 2.4's tangent)
    gaussian_sampler, uniform_sampler, local_sampler, at_lam_hat
                            p(lam) of Algorithm 2, p(lam | lam_hat) of Algorithm 3, Algorithm 4's
                            lam_hat itself: sample_lams(lam_hat, step) -> (S, H)
    adam, sgd, sgd_momentum, Optimizer
                            optimisers as (init, update) pairs; opt_phi and opt_lam of every
                            algorithm (the paper's Adam 1e-4 by default)
    State, CVResult, HyperResult, UnrolledResult, IFTResult, DivergedError, BlowUpWarning
                            what a callback sees, what the algorithms return, how a run fails
                            (HyperResult.valid_losses: the lam step's objective on each step's
                            validation batch, before the step; train_losses: the mean over the
                            step's lam samples of the training loss on its batch)

Batches are functions `batch(step) -> (X, T)` (`lambda step: (X, T)` for a fixed one); Algorithm 1
and the unrolled baseline evaluate on one fixed batch, `valid_data=(X, T)`. The hyperparameter
starts at `lam_hat` everywhere. Every optimiser defaults to the paper's Adam 1e-4, a step that
suits MNIST's hypernetworks of thousands of weights: on a small model of one's own, lam barely
moves with it, so give opt_lam (and opt_phi) a larger step, e.g. adam(1e-2), and a wider sampler
(experiments/own_model.py: ridge regression, experiments/own_logistic.py: L2 logistic regression).

The layout (each module short, read next to the paper):
    algorithms   Algorithms 1-4 and the public joint loop
    hypernets    the hypernetworks; samplers: p(lam), p(lam | lam_hat); optim: the optimisers
    models       the Problem contract, the paper's MLPs, losses and penalties; layout: flat vectors
    primitives   the fast operations, each a formula with its hand-written gradient
    checks       argument checks, the divergence watch and its errors; data: MNIST and its splits
    baselines/   unrolled reverse-mode, the GP surrogate, the black-box optimisers, many linear models
    beyond/      after the paper: the warm start (Section 4.2), the IFT hypergradient (2020),
                 a learned width of p(lam | lam_hat) (Self-Tuning Networks, 2019)
What runs the figures (command line, results files, job runner, plots) is not in this package:
it lives in experiments/harness/ beside the figure scripts.
"""
from .algorithms import (BlowUpWarning, CVResult, DivergedError, HyperResult, State, cross_validation, descend_lam,
                         hypertrain_global, hypertrain_joint, hypertrain_local, hypertrain_simplified, train_hypernet)
from .baselines.gp import fit_gp
from .baselines.unrolled import UnrolledResult, hypertrain_unrolled
from .beyond.ift import IFTGradient, IFTResult, ift_hypergradient, hypertrain_ift
from .beyond.learned_width import hypertrain_learned_width
from .beyond.warmstart import hypertrain_warm_start
from .hypernets import Hypernet, centred, factorised, linear, mlp, tangent
from .models import Problem, make_problem
from .optim import Optimizer, adam, sgd, sgd_momentum
from .samplers import at_lam_hat, gaussian_sampler, local_sampler, uniform_sampler

__all__ = [
    # the elementary problem and the hypernetworks
    "Problem", "make_problem", "Hypernet", "linear", "factorised", "mlp", "centred", "tangent",
    # samplers and optimisers
    "gaussian_sampler", "uniform_sampler", "local_sampler", "at_lam_hat", "adam", "sgd", "sgd_momentum",
    # Algorithms 1-4, the joint loop they share, and the baselines
    "cross_validation", "train_hypernet", "descend_lam", "hypertrain_global", "hypertrain_local",
    "hypertrain_simplified", "hypertrain_joint", "hypertrain_unrolled", "fit_gp",
    # beyond the paper
    "hypertrain_warm_start", "hypertrain_ift", "ift_hypergradient", "hypertrain_learned_width",
    # what they raise
    "DivergedError", "BlowUpWarning",
]
# What the algorithms return and a callback sees (State, CVResult, HyperResult, UnrolledResult,
# IFTResult, IFTGradient) and Optimizer are importable from here too, e.g. `from hypernet import
# HyperResult`, but left out of __all__: each is a NamedTuple whose fields are listed in the
# docstring above, and help(hypernet) would otherwise print every method a tuple inherits.
