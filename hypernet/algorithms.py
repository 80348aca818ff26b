"""Algorithms 1-4 of Lorraine & Duvenaud (2018), one function each.

All consume the shared contract of hypernet.models.Problem, batched over S models:
    train_loss(W (S, D), lams (S, H), batch) -> (S,)     valid_loss(W (S, D), batch) -> (S,)
and draw data through batch functions `batch(step) -> (X, T)` (hypernet.data.minibatcher).
A callback(step, state) may record progress; returning True from it stops the loop early.
"""
import time
from typing import NamedTuple

import autograd.numpy as np
from autograd import value_and_grad

from .optim import adam_init, adam_update


class DivergedError(FloatingPointError):
    """A run produced NaN or Inf."""


class CVResult(NamedTuple):
    lams: np.ndarray          # (G, H)
    W: np.ndarray             # (G, D) trained weights
    valid_losses: np.ndarray  # (G,)
    train_losses: np.ndarray  # (G,) at the last step


class HyperResult(NamedTuple):
    phi: np.ndarray           # hypernetwork parameters
    lam: np.ndarray           # (H,) the final hyperparameter (lam_hat)
    train_losses: np.ndarray  # per hypernetwork step, mean over the lam samples
    valid_losses: np.ndarray  # per hyperparameter step, on that step's validation batch
    lam_path: np.ndarray      # (steps + 1, H) lam after each step, kept only when H <= 100
    seconds: float


# ---- checks ---------------------------------------------------------------------------------
def _positive(**kw):
    for k, v in kw.items():
        if not v > 0:
            raise ValueError(f"{k} must be positive, got {v}")


def _nonneg_int(**kw):
    for k, v in kw.items():
        if int(v) != v or v < 0:
            raise ValueError(f"{k} must be a non-negative integer, got {v}")


def _compatible(problem, hypernet, phi, lam=None):
    if hypernet.n_weights != problem.n_weights or hypernet.n_hyper != problem.n_hyper:
        raise ValueError(f"hypernetwork {hypernet.name} maps {hypernet.n_hyper} hyperparameters to "
                         f"{hypernet.n_weights} weights, but the problem has {problem.n_hyper} and "
                         f"{problem.n_weights}")
    if np.shape(phi) != (hypernet.n_params,):
        raise ValueError(f"phi has shape {np.shape(phi)}, expected ({hypernet.n_params},) for {hypernet.name}")
    if lam is not None and np.shape(lam) != (problem.n_hyper,):
        raise ValueError(f"initial lam has shape {np.shape(lam)}, expected ({problem.n_hyper},)")


def _finite(value, algorithm, step, what):
    if not np.all(np.isfinite(value)):
        raise DivergedError(f"{algorithm} diverged at step {step}: {what} is NaN or Inf. "
                            "Lower the step sizes or the hyperparameter range and run again.")


# ---- samplers of p(lam) ---------------------------------------------------------------------
def gaussian_sampler(mean, sd, n_samples, seed):
    """sample(step) -> (n_samples, H) draws of N(mean, sd^2 I), from default_rng([seed, step])."""
    _positive(sd=sd, n_samples=n_samples)
    mean = np.atleast_1d(np.asarray(mean, float))
    return lambda step: mean + sd * np.random.default_rng([seed, step]).standard_normal((n_samples, len(mean)))


def uniform_sampler(low, high, n_hyper, n_samples, seed):
    """sample(step) -> (n_samples, n_hyper) draws of U[low, high]^n_hyper."""
    _positive(n_samples=n_samples, width=high - low)
    return lambda step: np.random.default_rng([seed, step]).uniform(low, high, (n_samples, n_hyper))


# ---- the objectives -------------------------------------------------------------------------
def hyper_objective(problem, hypernet):
    """f(phi, lams (S, H), batch) = mean_s L_Train(w_phi(lam_s), lam_s, batch): the objective of
    hyper-training, whose gradient in phi is the hypernetwork's update."""
    return lambda phi, lams, batch: np.mean(problem.train_loss(hypernet.apply(phi, lams), lams, batch))


def valid_objective(problem, hypernet):
    """g(lam (H,), phi, batch) = L_Valid(w_phi(lam), batch): its gradient in lam is the hypergradient."""
    # np.sum of the single value: the gradient of [0] goes through np.add.at, which is slow
    return lambda lam, phi, batch: np.sum(problem.valid_loss(hypernet.apply(phi, np.reshape(lam, (1, -1))), batch))


# ---- Algorithm 1 ----------------------------------------------------------------------------
def cross_validation(problem, lams, W0, train_batch, valid_batch, lr, iters, callback=None):
    """Algorithm 1 (standard cross-validation): for every lam of a grid (G, H), train weights from
    W0 ((D,) shared or (G, D)) with Adam for `iters` steps on train_batch(step), then evaluate
    valid_loss on the fixed valid_batch. All G models are trained at once, as one array."""
    lams = np.atleast_2d(np.asarray(lams, float))
    _positive(lr=lr)
    _nonneg_int(iters=iters)
    if lams.shape[1] != problem.n_hyper:
        raise ValueError(f"lams has shape {lams.shape}, expected (G, {problem.n_hyper})")
    W = np.broadcast_to(W0, (len(lams), problem.n_weights)).astype(float)
    grad = value_and_grad(lambda W, batch: np.sum(problem.train_loss(W, lams, batch)))
    state = adam_init(W)
    for step in range(iters):
        total, g = grad(W, train_batch(step))
        _finite(total, "Algorithm 1 (cross-validation)", step, "the training loss")
        delta, state = adam_update(g, state, lr)
        W = W - delta
        if callback and callback(step, W):
            break
    train_losses = problem.train_loss(W, lams, train_batch(iters))
    return CVResult(lams, W, problem.valid_loss(W, valid_batch), train_losses)


# ---- Algorithm 2 ----------------------------------------------------------------------------
def hypertrain_global(problem, hypernet, phi, sample_lams, train_batch, valid_batch, lam0,
                      iters, lam_iters, lr_phi, lr_lam, callback=None):
    """Algorithm 2 (optimisation of hypernetwork, then hyperparameters). Phase 1: `iters` Adam
    steps on phi of mean_s L_Train(w_phi(lam_s), lam_s, x) with lam_s ~ p(lam) = sample_lams(step).
    Phase 2: `lam_iters` Adam steps on lam of L_Valid(w_phi(lam), x') from lam0, phi fixed."""
    _compatible(problem, hypernet, phi, np.atleast_1d(lam0))
    _positive(lr_phi=lr_phi, lr_lam=lr_lam)
    _nonneg_int(iters=iters, lam_iters=lam_iters)
    t0 = time.perf_counter()
    train_grad = value_and_grad(hyper_objective(problem, hypernet))
    state, train_losses = adam_init(phi), []
    for step in range(iters):
        loss, g = train_grad(phi, sample_lams(step), train_batch(step))
        _finite(loss, "Algorithm 2 (phase 1, hypernetwork)", step, "the hyper-training loss")
        delta, state = adam_update(g, state, lr_phi)
        phi = phi - delta
        train_losses.append(loss)
        if callback and callback(step, {"phase": 1, "phi": phi, "loss": loss}):
            break
    lam, valid_losses, path = _descend_lam(problem, hypernet, phi, np.atleast_1d(lam0), valid_batch,
                                           lam_iters, lr_lam, "Algorithm 2 (phase 2, lam)", callback)
    return HyperResult(phi, lam, np.array(train_losses), valid_losses, path, time.perf_counter() - t0)


def _descend_lam(problem, hypernet, phi, lam, valid_batch, iters, lr, algorithm, callback):
    hypergrad = value_and_grad(valid_objective(problem, hypernet))
    state, losses, path = adam_init(lam), [], [lam]
    for step in range(iters):
        loss, g = hypergrad(lam, phi, valid_batch(step))
        _finite(loss, algorithm, step, "the validation loss")
        delta, state = adam_update(g, state, lr)
        lam = lam - delta
        losses.append(loss)
        path.append(lam)
        if callback and callback(step, {"phase": 2, "lam": lam, "loss": loss}):
            break
    return lam, np.array(losses), np.array(path)


# ---- Algorithms 3 and 4 ---------------------------------------------------------------------
def hypertrain_local(problem, hypernet, phi, lam_hat, train_batch, valid_batch, iters, n_samples,
                     sigma, lr_phi, lr_lam, seed, callback=None):
    """Algorithm 3 (joint optimisation of hypernetwork and hyperparameters). Each step: one Adam
    step on phi with n_samples lam ~ p(lam | lam_hat) = N(lam_hat, sigma^2 I) on a training batch,
    then one Adam step on lam_hat of L_Valid(w_phi(lam_hat)) on a validation batch."""
    _positive(sigma=sigma, n_samples=n_samples)
    noise = lambda step: sigma * np.random.default_rng([seed, step]).standard_normal((n_samples, len(lam_hat)))  # noqa: E731
    return _joint(problem, hypernet, phi, lam_hat, train_batch, valid_batch, iters, lr_phi, lr_lam,
                  noise, "Algorithm 3", callback)


def hypertrain_simplified(problem, hypernet, phi, lam_hat, train_batch, valid_batch, iters,
                          lr_phi, lr_lam, callback=None):
    """Algorithm 4 (simplified joint optimisation): as Algorithm 3 but the hypernetwork is trained at
    lam_hat itself; the movement of lam_hat is the only source of variety in lam."""
    return _joint(problem, hypernet, phi, lam_hat, train_batch, valid_batch, iters, lr_phi, lr_lam,
                  lambda step: np.zeros((1, len(lam_hat))), "Algorithm 4", callback)


def _joint(problem, hypernet, phi, lam_hat, train_batch, valid_batch, iters, lr_phi, lr_lam,
           noise, algorithm, callback):
    lam_hat = np.atleast_1d(np.asarray(lam_hat, float))
    _compatible(problem, hypernet, phi, lam_hat)
    _positive(lr_phi=lr_phi, lr_lam=lr_lam)
    _nonneg_int(iters=iters)
    t0 = time.perf_counter()
    train_grad = value_and_grad(hyper_objective(problem, hypernet))
    hypergrad = value_and_grad(valid_objective(problem, hypernet))
    phi_state, lam_state = adam_init(phi), adam_init(lam_hat)
    keep_path = len(lam_hat) <= 100
    train_losses, valid_losses, path = [], [], [lam_hat] if keep_path else []
    for step in range(iters):
        loss, g = train_grad(phi, lam_hat + noise(step), train_batch(step))
        _finite(loss, algorithm, step, "the hyper-training loss")
        delta, phi_state = adam_update(g, phi_state, lr_phi)
        phi = phi - delta
        vloss, g = hypergrad(lam_hat, phi, valid_batch(step))
        _finite(vloss, algorithm, step, "the validation loss")
        delta, lam_state = adam_update(g, lam_state, lr_lam)
        lam_hat = lam_hat - delta
        train_losses.append(loss)
        valid_losses.append(vloss)
        if keep_path:
            path.append(lam_hat)
        if callback and callback(step, {"phi": phi, "lam": lam_hat, "loss": loss, "valid_loss": vloss}):
            break
    return HyperResult(phi, lam_hat, np.array(train_losses), np.array(valid_losses), np.array(path),
                       time.perf_counter() - t0)
