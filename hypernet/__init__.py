"""hypernet: stochastic hyperparameter optimisation through hypernetworks (Lorraine & Duvenaud,
2018), in autograd + NumPy.

The paper's algorithms, in its order:

    Algorithm 1  standard cross-validation ............ cross_validation(problem, lams, ...)
    Algorithm 2  hypernetwork, then hyperparameters ... hypertrain_global(problem, hypernet, ...)
                 (its two loops alone: train_hypernet, descend_lam)
    Algorithm 3  joint optimisation .................... hypertrain_local(problem, hypernet, ...)
    Algorithm 4  simplified joint optimisation ......... hypertrain_simplified(problem, hypernet, ...)
    baseline     unrolled reverse-mode (Fig 5) ......... hypertrain_unrolled(problem, ...)
    baseline     Gaussian-process surrogate (Fig 6) .... fit_gp(lams, losses, seed)

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
    State, CVResult, HyperResult, UnrolledResult, DivergedError, BlowUpWarning
                            what a callback sees, what the algorithms return, how a run fails

Batches are functions `batch(step) -> (X, T)` (`lambda step: (X, T)` for a fixed one); Algorithm 1
and the unrolled baseline evaluate on one fixed batch, `valid_data=(X, T)`. The hyperparameter
starts at `lam_hat` everywhere. A short example of a model of one's own: experiments/own_model.py
(ridge regression) and experiments/own_logistic.py (L2 logistic regression).

Modules behind the API: models, hypernets, samplers, optim, algorithms, unrolled, gp, layout (the
one layout of flat parameter vectors). Internal (the machinery of the figure scripts in
experiments/; no promise of stability): ops and fastpath (the fast path's primitives and its
switch), checks, data, ten_images, linear_models, blackbox, budget, parallel, results, store, cli,
plotting, paths.
"""
from .algorithms import (BlowUpWarning, CVResult, DivergedError, HyperResult, State, cross_validation, descend_lam,
                         hypertrain_global, hypertrain_local, hypertrain_simplified, train_hypernet)
from .gp import fit_gp
from .hypernets import Hypernet, centred, factorised, linear, mlp, tangent
from .models import Problem, make_problem
from .optim import Optimizer, adam, sgd, sgd_momentum
from .samplers import at_lam_hat, gaussian_sampler, local_sampler, uniform_sampler
from .unrolled import UnrolledResult, hypertrain_unrolled

__all__ = [
    # the elementary problem and the hypernetworks
    "Problem", "make_problem", "Hypernet", "linear", "factorised", "mlp", "centred", "tangent",
    # samplers and optimisers
    "gaussian_sampler", "uniform_sampler", "local_sampler", "at_lam_hat", "Optimizer", "adam", "sgd", "sgd_momentum",
    # Algorithms 1-4 and the baselines
    "cross_validation", "train_hypernet", "descend_lam", "hypertrain_global", "hypertrain_local",
    "hypertrain_simplified", "hypertrain_unrolled", "fit_gp",
    # what they return and raise
    "State", "CVResult", "HyperResult", "UnrolledResult", "DivergedError", "BlowUpWarning",
]
