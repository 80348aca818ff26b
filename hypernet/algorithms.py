"""Algorithms 1-4 of Lorraine & Duvenaud (2018), one function each.

All consume the shared contract of hypernet.models.Problem, batched over S models:
    train_loss(W (S, D), lams (S, H), batch) -> (S,)     valid_loss(W (S, D), batch) -> (S,)
(a loss that returns another shape is refused at step 0). Data comes from batch functions
`batch(step) -> (X, T)` (hypernet.data.minibatcher; `lambda step: (X, T)` for a fixed batch);
Algorithm 1 evaluates its trained models once, on one fixed batch `valid_data=(X, T)`. The
hyperparameters a hypernetwork is trained on come from one sampler convention,
    sample_lams(lam_hat (H,), step) -> (S, H),
which is the paper's p(lam) (Algorithm 2: lam_hat is ignored), p(lam | lam_hat) (Algorithm 3) or
lam_hat itself (Algorithm 4). The hyperparameter starts at `lam_hat` in every algorithm. The
optimisers are arguments (hypernet.optim): `opt_phi` steps the hypernetwork (the paper's alpha),
`opt_lam` the hyperparameters (beta); both default to the paper's Adam 1e-4. callback(step,
state) gets a State after every step and may stop the loop by returning True; iters=None runs
until it does.
"""
import time
from typing import NamedTuple

import autograd.numpy as np
from autograd import value_and_grad

from .checks import (BlowUpWarning, DivergedError, Watch, batch_at, check_batch, check_compatible,  # noqa: F401
                     check_count, check_problem, check_steps, checked_losses, count_up, lam_grid, lam_vector,
                     start_array)
from .optim import adam, check_optimizer
from .samplers import at_lam_hat, local_sampler

PAPER_ADAM = adam(1e-4)  # "We used Adam for training the hypernetwork and hyperparameters, with a step size of 0.0001."
PATH_MAX_H = 100         # the path of lam_hat is kept for at most this many hyperparameters


class State(NamedTuple):
    """What callback(step, state) sees after each step of every loop here (and of
    hypernet.unrolled); a field the loop does not have is None."""
    phase: str              # "weights" (Algorithm 1), "hypernet" and "lam" (Algorithm 2's two
                            # loops), "joint" (Algorithms 3 and 4), "unrolled", "ift"
    loss: object = None     # training loss of the step (mean over the lam samples; Algorithm 1: sum over its models)
    valid_loss: object = None  # validation loss of the step
    phi: object = None      # hypernetwork parameters after the step
    lam: object = None      # (H,) lam_hat after the step
    W: object = None        # weights after the step: Algorithm 1's (G, D), the unrolled run's (D,)
    weights: object = None  # lam -> the weights the method delivers at lam (warm-started unrolling: W_K(lam))


class CVResult(NamedTuple):
    lams: np.ndarray          # (G, H)
    W: np.ndarray             # (G, D) trained weights
    valid_losses: np.ndarray  # (G,)
    train_losses: np.ndarray  # (G,) at the last step


class HyperResult(NamedTuple):
    phi: np.ndarray           # hypernetwork parameters
    lam: np.ndarray           # (H,) the final hyperparameter (lam_hat)
    train_losses: np.ndarray  # per hypernetwork step: mean over the step's lam samples of L_Train on its training batch
    valid_losses: np.ndarray  # per hyperparameter step: the lam step's objective (L_Valid(w_phi(lam_hat)) by
                              # default) on that step's validation batch, before the step: noisy, one batch each
    lam_path: np.ndarray      # (steps + 1, H) lam_hat after each step; (0, H) when H > PATH_MAX_H
    seconds: float


# ---- the two objectives, both f(phi, lam(s), batch) -------------------------------------------
def hypernet_train_loss(problem, hypernet):
    """f(phi, lams (S, H), batch) = mean_s L_Train(w_phi(lam_s), lam_s, batch); its gradient in
    phi updates the hypernetwork."""
    return lambda phi, lams, batch: np.mean(checked_losses(problem.train_loss, "train_loss", len(lams),
                                                           hypernet.apply(phi, lams), lams, batch))


def hypernet_valid_loss(problem, hypernet):
    """g(phi, lam (H,), batch) = L_Valid(w_phi(lam), batch); its gradient in lam is the hypergradient."""
    # np.sum of the single value: the gradient of [0] goes through np.add.at, which is slow
    return lambda phi, lam, batch: np.sum(checked_losses(problem.valid_loss, "valid_loss", 1,
                                                         hypernet.apply(phi, np.reshape(lam, (1, -1))), batch))


# ---- Algorithm 1 ----------------------------------------------------------------------------
def cross_validation(problem, lams, *, W0, train_batch, valid_data, opt=PAPER_ADAM, iters, callback=None):
    """Algorithm 1 (standard cross-validation): for every lam of a grid (G, H), train weights from
    W0 ((D,) shared or (G, D)) with `opt` (the paper's Adam 1e-4) for `iters` steps on
    train_batch(step), then evaluate valid_loss on the one fixed batch valid_data = (X, T). All G
    models train at once, as one array."""
    check_problem(problem)
    lams = lam_grid(lams, problem)
    check_optimizer(opt=opt)
    check_count(iters=iters, allow_zero=True)
    W0 = start_array(W0, "W0", (problem.n_weights,), (len(lams), problem.n_weights))
    if callable(valid_data):
        raise ValueError("valid_data of Algorithm 1 is one fixed batch (X, T), not a function: each trained model "
                         "is evaluated once")
    valid_data = check_batch(valid_data, "valid_data", sizes=problem.layer_sizes)
    W = np.broadcast_to(W0, (len(lams), problem.n_weights)).astype(float)
    train_loss = lambda W, batch: checked_losses(problem.train_loss, "train_loss", len(lams), W, lams, batch)  # noqa: E731
    grad = value_and_grad(lambda W, batch: np.sum(train_loss(W, batch)))
    state, watch = opt.init(W), Watch("Algorithm 1 (cross-validation)", "the weights W0")
    for step in range(iters):
        batch = batch_at(train_batch, step, "train_batch", sizes=problem.layer_sizes)
        total, g = grad(W, batch)                       # g = grad_w L_Train(w, lam, x) for every lam
        watch(step, total, g)
        delta, state = opt.update(g, state)
        W = W - delta                                    # w -= alpha grad_w L_Train
        if callback and callback(step, State("weights", loss=total, W=W)):
            break
    train_losses = train_loss(W, batch_at(train_batch, iters, "train_batch"))
    return CVResult(lams, W, checked_losses(problem.valid_loss, "valid_loss", len(lams), W, valid_data), train_losses)


# ---- Algorithm 2 ----------------------------------------------------------------------------
def train_hypernet(problem, hypernet, *, phi, sample_lams, train_batch, opt_phi=PAPER_ADAM, iters=None,
                   callback=None):
    """Algorithm 2, phase 1 (the first loop): steps of opt_phi on phi of
    mean_s L_Train(w_phi(lam_s), lam_s, x), lam_s ~ sample_lams(None, step). Returns (phi, losses)."""
    phi = check_compatible(problem, hypernet, phi)
    check_optimizer(opt_phi=opt_phi)
    check_steps(iters, callback)
    train_grad = value_and_grad(hypernet_train_loss(problem, hypernet))
    state, losses, sample = opt_phi.init(phi), [], _checked_sampler(sample_lams, problem.n_hyper)
    watch = Watch("Algorithm 2 (phase 1, hypernetwork)", "the hypernetwork's initial parameters phi")
    for step in count_up(iters):
        x = batch_at(train_batch, step, "train_batch", sizes=problem.layer_sizes)  # x ~ Training data,
        lams = sample(None, step)                           # lam ~ p(lam)
        loss, g = train_grad(phi, lams, x)
        watch(step, loss, g)
        delta, state = opt_phi.update(g, state)
        phi = phi - delta                                   # phi -= alpha grad_phi L_Train(w_phi(lam), lam, x)
        losses.append(loss)
        if callback and callback(step, State("hypernet", loss=loss, phi=phi)):
            break
    return phi, np.array(losses)


def descend_lam(problem, hypernet, *, phi, lam_hat, valid_batch, opt_lam=PAPER_ADAM, iters=None, callback=None):
    """Algorithm 2, phase 2 (the second loop): steps of opt_lam on lam_hat of
    L_Valid(w_phi(lam_hat), x'), phi fixed. Returns (lam_hat, losses, path)."""
    phi = check_compatible(problem, hypernet, phi)
    lam = lam_vector(lam_hat, problem)
    check_optimizer(opt_lam=opt_lam)
    check_steps(iters, callback)
    hypergrad = value_and_grad(hypernet_valid_loss(problem, hypernet), 1)
    state, losses, path = opt_lam.init(lam), [], _Path(lam)
    watch = Watch("Algorithm 2 (phase 2, lam)", "the starting lam_hat")
    for step in count_up(iters):
        x = batch_at(valid_batch, step, "valid_batch", sizes=problem.layer_sizes)  # x ~ Validation data
        loss, lam, state = _lam_step(hypergrad, phi, lam, state=state, batch=x, opt=opt_lam, watch=watch, step=step)
        losses.append(loss)
        path.add(lam)
        if callback and callback(step, State("lam", valid_loss=loss, lam=lam)):
            break
    return lam, np.array(losses), path.array()


def hypertrain_global(problem, hypernet, *, phi, lam_hat, sample_lams, train_batch, valid_batch, opt_phi=PAPER_ADAM,
                      opt_lam=PAPER_ADAM, iters, lam_iters, callback=None):
    """Algorithm 2 (optimisation of hypernetwork, then hyperparameters): `iters` steps of phase 1
    (train_hypernet) on lam ~ sample_lams, then `lam_iters` steps of phase 2 (descend_lam) from lam_hat."""
    lam_hat = lam_vector(lam_hat, problem)
    check_count(iters=iters, lam_iters=lam_iters, allow_zero=True)
    check_optimizer(opt_phi=opt_phi, opt_lam=opt_lam)
    t0 = time.perf_counter()
    phi, train_losses = train_hypernet(problem, hypernet, phi=phi, sample_lams=sample_lams, train_batch=train_batch,
                                       opt_phi=opt_phi, iters=iters, callback=callback)
    lam, valid_losses, path = descend_lam(problem, hypernet, phi=phi, lam_hat=lam_hat, valid_batch=valid_batch,
                                          opt_lam=opt_lam, iters=lam_iters, callback=callback)
    return HyperResult(phi, lam, train_losses, valid_losses, path, time.perf_counter() - t0)


# ---- Algorithms 3 and 4 ---------------------------------------------------------------------
def hypertrain_local(problem, hypernet, *, phi, lam_hat, train_batch, valid_batch, sample_lams=None, sigma=None,
                     n_samples=2, seed=None, opt_phi=PAPER_ADAM, opt_lam=PAPER_ADAM, iters=None, callback=None):
    """Algorithm 3 (joint optimisation of hypernetwork and hyperparameters): each step, one step of
    opt_phi on phi at lam ~ sample_lams(lam_hat, step) on a training batch, then one step of opt_lam
    on lam_hat. sample_lams: any p(lam | lam_hat); or the shorthand sigma, n_samples (the paper's
    2), seed for local_sampler's N(lam_hat, sigma^2 I)."""
    if (sample_lams is None) == (sigma is None):
        raise ValueError("give Algorithm 3 either sample_lams (a sampler) or sigma (with seed) for "
                         "N(lam_hat, sigma^2 I), not " + ("both" if sigma is not None else "neither"))
    if sigma is not None:
        if seed is None:
            raise ValueError("sigma needs a seed for its draws: hypertrain_local(..., sigma=..., seed=0)")
        sample_lams = local_sampler(sigma, n_samples=n_samples, seed=seed)
    return hypertrain_joint(problem, hypernet, phi=phi, lam_hat=lam_hat, sample_lams=sample_lams,
                            train_batch=train_batch, valid_batch=valid_batch, opt_phi=opt_phi, opt_lam=opt_lam,
                            iters=iters, callback=callback, name="Algorithm 3")


def hypertrain_simplified(problem, hypernet, *, phi, lam_hat, train_batch, valid_batch, opt_phi=PAPER_ADAM,
                          opt_lam=PAPER_ADAM, iters=None, callback=None):
    """Algorithm 4 (simplified joint optimisation): Algorithm 3 with the hypernetwork trained at
    lam_hat itself (its sampler is at_lam_hat: the moving lam_hat is the only noise)."""
    return hypertrain_joint(problem, hypernet, phi=phi, lam_hat=lam_hat, sample_lams=at_lam_hat,
                            train_batch=train_batch, valid_batch=valid_batch, opt_phi=opt_phi, opt_lam=opt_lam,
                            iters=iters, callback=callback, name="Algorithm 4")


def hypertrain_joint(problem, hypernet, *, phi, lam_hat, sample_lams, train_batch, valid_batch, lam_objective=None,
                     opt_phi=PAPER_ADAM, opt_lam=PAPER_ADAM, iters=None, callback=None, name="Joint optimisation"):
    """The loop of Algorithms 3 and 4, open to other objectives of the lam step.

    lam_objective(phi, lam_hat, batch) -> scalar is what the lam step descends; by default the
    paper's L_Valid(w_phi(lam_hat), x) (hypernet_valid_loss). An objective of one's own may carry
    variables of its own after the H hyperparameters: lam_hat is then (H + K,), the hyperparameters
    first (e.g. a learned log width of p(lam | lam_hat), hypernet.beyond.learned_width), and
    sample_lams gets all of it. After every lam step the hypernetwork follows lam_hat
    (Hypernet.follow: the same w_phi(lam); only a tangent hypernetwork changes phi), and the
    optimiser state of phi is kept. `name` names the run in messages."""
    H = problem.n_hyper
    if lam_objective is None:
        lam_hat = lam_vector(lam_hat, problem)
        lam_objective = hypernet_valid_loss(problem, hypernet)
    else:
        lam_hat = lam_vector(lam_hat, problem, extra=True)
    phi = check_compatible(problem, hypernet, phi)
    phi = hypernet.follow(phi, lam_hat[:H])
    check_optimizer(opt_phi=opt_phi, opt_lam=opt_lam)
    check_steps(iters, callback)
    t0 = time.perf_counter()
    train_grad = value_and_grad(hypernet_train_loss(problem, hypernet))
    hypergrad = value_and_grad(lam_objective, 1)
    phi_state, lam_state = opt_phi.init(phi), opt_lam.init(lam_hat)
    train_losses, valid_losses, path, sample = [], [], _Path(lam_hat), _checked_sampler(sample_lams, H)
    watch = Watch(name, "the initial phi and lam_hat")
    for step in count_up(iters):
        x = batch_at(train_batch, step, "train_batch", sizes=problem.layer_sizes)  # x ~ Training data,
        lams = sample(lam_hat, step)                        # lam ~ p(lam | lam_hat)
        loss, g = train_grad(phi, lams, x)
        watch(step, loss, g)
        delta, phi_state = opt_phi.update(g, phi_state)
        phi = phi - delta                                   # phi -= alpha grad_phi L_Train(w_phi(lam), lam, x)
        x = batch_at(valid_batch, step, "valid_batch", sizes=problem.layer_sizes)  # x ~ Validation data
        vloss, lam_hat, lam_state = _lam_step(hypergrad, phi, lam_hat, state=lam_state, batch=x, opt=opt_lam,
                                              watch=watch, step=step)  # lam_hat -= beta grad_lam L_Valid(w_phi(lam_hat), x)
        phi = hypernet.follow(phi, lam_hat[:H])            # (a tangent hypernetwork: the same w_phi, fed lam - lam_hat)
        train_losses.append(loss)
        valid_losses.append(vloss)
        path.add(lam_hat)
        if callback and callback(step, State("joint", loss=loss, valid_loss=vloss, phi=phi, lam=lam_hat)):
            break
    return HyperResult(phi, lam_hat, np.array(train_losses), np.array(valid_losses), path.array(),
                       time.perf_counter() - t0)


# ---- the shared steps -------------------------------------------------------------------------
def _lam_step(hypergrad, phi, lam, *, state, batch, opt, watch, step):
    """The hyperparameter step, written once for Algorithms 2, 3 and 4:
    lam -= opt's step on grad_lam L_Valid(w_phi(lam), x). Returns (loss, lam, state)."""
    loss, g = hypergrad(phi, lam, batch)
    watch(step, loss, g, what="the validation loss")
    delta, state = opt.update(g, state)
    return loss, lam - delta, state


class _Path:
    """lam_hat after every step, kept when H <= PATH_MAX_H (else the path would outgrow the run)."""

    def __init__(self, lam):
        self.H, self.keep = len(lam), len(lam) <= PATH_MAX_H
        self.lams = [lam] if self.keep else []

    def add(self, lam):
        if self.keep:
            self.lams.append(lam)

    def array(self):
        return np.array(self.lams) if self.keep else np.zeros((0, self.H))


def _checked_sampler(sample_lams, n_hyper):
    """sample_lams(lam_hat, step), checked: an array at every step, of (S, H) finite values at the
    first (step 0), and of that shape at the others (cheap: a shape each step)."""
    if not callable(sample_lams):
        raise ValueError(f"sample_lams must be a function (lam_hat, step) -> (S, {n_hyper}) array, e.g. "
                         f"gaussian_sampler(...) or local_sampler(...); got {type(sample_lams).__name__}")
    first = []

    def sample(lam_hat, step):
        lams = sample_lams(lam_hat, step)
        if not isinstance(lams, np.ndarray):
            raise ValueError(f"sample_lams returned a {type(lams).__name__} at step {step}; it must return a NumPy "
                             f"array (S, {n_hyper}), e.g. np.array(...)")
        if first and lams.shape != first[0]:
            raise ValueError(f"sample_lams returned shape {lams.shape} at step {step} but {first[0]} at step 0: "
                             "it must return the same number S of samples of the H hyperparameters every step")
        if not first:
            if lams.ndim != 2 or lams.shape[0] < 1 or lams.shape[1] != n_hyper:
                raise ValueError(f"sample_lams returned shape {lams.shape}; expected (S, {n_hyper}) with S >= 1 "
                                 f"samples of the problem's {n_hyper} hyperparameter(s) (a sampler of Algorithm 2 "
                                 "takes n_hyper=H)")
            if not np.all(np.isfinite(lams)):
                raise ValueError("sample_lams returned NaN or Inf at step 0: check the sampler's mean and width")
            first.append(lams.shape)
        return lams
    return sample
