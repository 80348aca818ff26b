"""Algorithms 1-4 of Lorraine & Duvenaud (2018), one function each.

All consume the shared contract of hypernet.models.Problem, batched over S models:
    train_loss(W (S, D), lams (S, H), batch) -> (S,)     valid_loss(W (S, D), batch) -> (S,)
Data comes from batch functions `batch(step) -> (X, T)` (hypernet.data.minibatcher), and the
hyperparameters a hypernetwork is trained on from one sampler convention,
    sample_lams(lam_hat (H,), step) -> (S, H),
which is the paper's p(lam) (Algorithm 2: lam_hat is ignored), p(lam | lam_hat) (Algorithm 3) or
lam_hat itself (Algorithm 4). Step sizes are named as in the paper: alpha (`lr_phi`) for the
hypernetwork, beta (`lr_lam`) for the hyperparameters. A callback(step, state) may record
progress; returning True stops the loop. iters=None runs until the callback stops it.
"""
import time
from typing import NamedTuple

import autograd.numpy as np
from autograd import value_and_grad

from .checks import (BlowUpWarning, DivergedError, Watch, batch_at, check_batch, check_compatible,  # noqa: F401
                     check_count, check_positive, check_seed, check_steps, count_up, lam_grid, lam_vector,
                     start_array)
from .optim import adam_init, adam_update


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


# ---- samplers: sample_lams(lam_hat, step) -> (S, H) ------------------------------------------
def gaussian_sampler(mean, sd, *, n_samples, seed):
    """Algorithm 2's p(lam) = N(mean, sd^2 I), drawn from default_rng([seed, step]); ignores lam_hat."""
    check_positive(sd=sd)
    check_count(n_samples=n_samples)
    check_seed(seed=seed)
    mean = start_array(np.ravel(mean), "mean", (np.size(mean),))  # a scalar or (H,)
    return lambda lam_hat, step: mean + sd * np.random.default_rng([seed, step]).standard_normal((n_samples, len(mean)))


def uniform_sampler(low, high, *, n_hyper, n_samples, seed):
    """Algorithm 2's p(lam) = U[low, high]^n_hyper; ignores lam_hat."""
    check_positive(width=high - low)
    check_count(n_samples=n_samples, n_hyper=n_hyper)
    check_seed(seed=seed)
    return lambda lam_hat, step: np.random.default_rng([seed, step]).uniform(low, high, (n_samples, n_hyper))


def local_sampler(sigma, *, n_samples, seed):
    """Algorithm 3's p(lam | lam_hat) = N(lam_hat, sigma^2 I)."""
    check_positive(sigma=sigma)
    check_count(n_samples=n_samples)
    check_seed(seed=seed)

    def sample(lam_hat, step):
        if lam_hat is None:
            raise ValueError("local_sampler draws around lam_hat: use it with Algorithm 3 (hypertrain_local / "
                             "hypertrain_joint); Algorithm 2 wants gaussian_sampler or uniform_sampler")
        return lam_hat + sigma * np.random.default_rng([seed, step]).standard_normal((n_samples, len(lam_hat)))
    return sample


def at_lam_hat(lam_hat, step):
    """Algorithm 4's "sampler": lam_hat itself, one sample; the moving lam_hat is the only noise."""
    return np.reshape(lam_hat, (1, -1))


# ---- the two objectives, both f(phi, lam(s), batch) -------------------------------------------
def hypernet_train_loss(problem, hypernet):
    """f(phi, lams (S, H), batch) = mean_s L_Train(w_phi(lam_s), lam_s, batch); its gradient in
    phi updates the hypernetwork."""
    return lambda phi, lams, batch: np.mean(problem.train_loss(hypernet.apply(phi, lams), lams, batch))


def hypernet_valid_loss(problem, hypernet):
    """g(phi, lam (H,), batch) = L_Valid(w_phi(lam), batch); its gradient in lam is the hypergradient."""
    # np.sum of the single value: the gradient of [0] goes through np.add.at, which is slow
    return lambda phi, lam, batch: np.sum(problem.valid_loss(hypernet.apply(phi, np.reshape(lam, (1, -1))), batch))


# ---- Algorithm 1 ----------------------------------------------------------------------------
def cross_validation(problem, lams, *, W0, train_batch, valid_batch, lr, iters, callback=None):
    """Algorithm 1 (standard cross-validation): for every lam of a grid (G, H), train weights from
    W0 ((D,) shared or (G, D)) with Adam (step alpha = lr) for `iters` steps on train_batch(step),
    then evaluate valid_loss on the fixed valid_batch. All G models train at once, as one array."""
    lams = lam_grid(lams, problem)
    check_positive(lr=lr)
    check_count(iters=iters, allow_zero=True)
    W0 = start_array(W0, "W0", (problem.n_weights,), (len(lams), problem.n_weights))
    if callable(valid_batch):
        raise ValueError("valid_batch of Algorithm 1 is one fixed batch (X, T), not a function")
    valid_batch = check_batch(valid_batch, "valid_batch", sizes=problem.layer_sizes)
    W = np.broadcast_to(W0, (len(lams), problem.n_weights)).astype(float)
    grad = value_and_grad(lambda W, batch: np.sum(problem.train_loss(W, lams, batch)))
    state, watch = adam_init(W), Watch("Algorithm 1 (cross-validation)", "the weights W0")
    for step in range(iters):
        batch = batch_at(train_batch, step, "train_batch", sizes=problem.layer_sizes)
        total, g = grad(W, batch)                       # g = grad_w L_Train(w, lam, x) for every lam
        watch(step, total, g)
        delta, state = adam_update(g, state, lr)
        W = W - delta                                    # w -= alpha grad_w L_Train
        if callback and callback(step, W):
            break
    train_losses = problem.train_loss(W, lams, batch_at(train_batch, iters, "train_batch"))
    return CVResult(lams, W, problem.valid_loss(W, valid_batch), train_losses)


# ---- Algorithm 2 ----------------------------------------------------------------------------
def train_hypernet(problem, hypernet, *, phi, sample_lams, train_batch, lr_phi, iters=None, callback=None):
    """Algorithm 2, phase 1 (the first loop): Adam steps (alpha = lr_phi) on phi of
    mean_s L_Train(w_phi(lam_s), lam_s, x), lam_s ~ sample_lams(None, step). Returns (phi, losses)."""
    phi = check_compatible(problem, hypernet, phi)
    check_positive(lr_phi=lr_phi)
    check_steps(iters, callback)
    train_grad = value_and_grad(hypernet_train_loss(problem, hypernet))
    state, losses = adam_init(phi), []
    watch = Watch("Algorithm 2 (phase 1, hypernetwork)", "the hypernetwork's initial parameters phi")
    for step in count_up(iters):
        x = batch_at(train_batch, step, "train_batch", sizes=problem.layer_sizes)  # x ~ Training data,
        lams = _sample(sample_lams, None, step=step, n_hyper=problem.n_hyper)  # lam ~ p(lam)
        loss, g = train_grad(phi, lams, x)
        watch(step, loss, g)
        delta, state = adam_update(g, state, lr_phi)
        phi = phi - delta                                   # phi -= alpha grad_phi L_Train(w_phi(lam), lam, x)
        losses.append(loss)
        if callback and callback(step, {"phase": 1, "phi": phi, "loss": loss}):
            break
    return phi, np.array(losses)


def descend_lam(problem, hypernet, *, phi, lam, valid_batch, lr_lam, iters=None, callback=None):
    """Algorithm 2, phase 2 (the second loop): Adam steps (beta = lr_lam) on lam of
    L_Valid(w_phi(lam), x'), phi fixed. Returns (lam, losses, path)."""
    lam = lam_vector(lam, problem)
    phi = check_compatible(problem, hypernet, phi)
    check_positive(lr_lam=lr_lam)
    check_steps(iters, callback)
    hypergrad = value_and_grad(hypernet_valid_loss(problem, hypernet), 1)
    state, losses, path = adam_init(lam), [], [lam]
    watch = Watch("Algorithm 2 (phase 2, lam)", "the starting lam")
    for step in count_up(iters):
        x = batch_at(valid_batch, step, "valid_batch", sizes=problem.layer_sizes)  # x ~ Validation data
        loss, lam, state = _lam_step(hypergrad, phi, lam, state=state, batch=x, lr=lr_lam, watch=watch, step=step)
        losses.append(loss)
        path.append(lam)
        if callback and callback(step, {"phase": 2, "lam": lam, "loss": loss}):
            break
    return lam, np.array(losses), np.array(path)


def hypertrain_global(problem, hypernet, *, phi, sample_lams, train_batch, valid_batch, lam0, lr_phi, lr_lam,
                      iters, lam_iters, callback=None):
    """Algorithm 2 (optimisation of hypernetwork, then hyperparameters): `iters` steps of phase 1
    (train_hypernet), then `lam_iters` steps of phase 2 (descend_lam) from lam0."""
    lam0 = lam_vector(lam0, problem)
    check_count(iters=iters, lam_iters=lam_iters, allow_zero=True)
    t0 = time.perf_counter()
    phi, train_losses = train_hypernet(problem, hypernet, phi=phi, sample_lams=sample_lams, train_batch=train_batch,
                                       lr_phi=lr_phi, iters=iters, callback=callback)
    lam, valid_losses, path = descend_lam(problem, hypernet, phi=phi, lam=lam0, valid_batch=valid_batch,
                                          lr_lam=lr_lam, iters=lam_iters, callback=callback)
    return HyperResult(phi, lam, train_losses, valid_losses, path, time.perf_counter() - t0)


# ---- Algorithms 3 and 4 ---------------------------------------------------------------------
def hypertrain_local(problem, hypernet, *, phi, lam_hat, sigma, n_samples, seed, train_batch, valid_batch,
                     lr_phi, lr_lam, iters=None, callback=None):
    """Algorithm 3 (joint optimisation of hypernetwork and hyperparameters) with
    p(lam | lam_hat) = N(lam_hat, sigma^2 I), n_samples draws per step."""
    return hypertrain_joint(problem, hypernet, phi=phi, lam_hat=lam_hat,
                            sample_lams=local_sampler(sigma, n_samples=n_samples, seed=seed), train_batch=train_batch,
                            valid_batch=valid_batch, lr_phi=lr_phi, lr_lam=lr_lam, iters=iters, callback=callback,
                            algorithm="Algorithm 3")


def hypertrain_simplified(problem, hypernet, *, phi, lam_hat, train_batch, valid_batch, lr_phi, lr_lam,
                          iters=None, callback=None):
    """Algorithm 4 (simplified joint optimisation): Algorithm 3 with the hypernetwork trained at
    lam_hat itself."""
    return hypertrain_joint(problem, hypernet, phi=phi, lam_hat=lam_hat, sample_lams=at_lam_hat,
                            train_batch=train_batch, valid_batch=valid_batch, lr_phi=lr_phi, lr_lam=lr_lam,
                            iters=iters, callback=callback, algorithm="Algorithm 4")


def hypertrain_joint(problem, hypernet, *, phi, lam_hat, sample_lams, train_batch, valid_batch, lr_phi, lr_lam,
                     iters=None, callback=None, algorithm="Algorithm 3", valid_objective=None):
    """The loop of Algorithms 3 and 4: each step, one Adam step (alpha) on phi at
    lam ~ sample_lams(lam_hat, step) on a training batch, then one Adam step (beta) on lam_hat.
    valid_objective(phi, lam (H,), batch) -> scalar is what the lam step descends; by default the
    paper's L_Valid(w_phi(lam)) (hypernet.warmstart passes L_Valid after K unrolled steps)."""
    lam_hat = lam_vector(lam_hat, problem)
    phi = check_compatible(problem, hypernet, phi)
    check_positive(lr_phi=lr_phi, lr_lam=lr_lam)
    check_steps(iters, callback)
    t0 = time.perf_counter()
    train_grad = value_and_grad(hypernet_train_loss(problem, hypernet))
    hypergrad = value_and_grad(valid_objective or hypernet_valid_loss(problem, hypernet), 1)
    phi_state, lam_state = adam_init(phi), adam_init(lam_hat)
    keep_path = len(lam_hat) <= 100
    train_losses, valid_losses, path = [], [], [lam_hat] if keep_path else []
    watch = Watch(algorithm, "the initial phi and lam_hat")
    for step in count_up(iters):
        x = batch_at(train_batch, step, "train_batch", sizes=problem.layer_sizes)  # x ~ Training data,
        lams = _sample(sample_lams, lam_hat, step=step, n_hyper=problem.n_hyper)  # lam ~ p(lam | lam_hat)
        loss, g = train_grad(phi, lams, x)
        watch(step, loss, g)
        delta, phi_state = adam_update(g, phi_state, lr_phi)
        phi = phi - delta                                   # phi -= alpha grad_phi L_Train(w_phi(lam), lam, x)
        x = batch_at(valid_batch, step, "valid_batch", sizes=problem.layer_sizes)  # x ~ Validation data
        vloss, lam_hat, lam_state = _lam_step(hypergrad, phi, lam_hat, state=lam_state, batch=x, lr=lr_lam,
                                              watch=watch, step=step)  # lam_hat -= beta grad_lam L_Valid(w_phi(lam_hat), x)
        train_losses.append(loss)
        valid_losses.append(vloss)
        if keep_path:
            path.append(lam_hat)
        if callback and callback(step, {"phi": phi, "lam": lam_hat, "loss": loss, "valid_loss": vloss}):
            break
    return HyperResult(phi, lam_hat, np.array(train_losses), np.array(valid_losses), np.array(path),
                       time.perf_counter() - t0)


# ---- the shared steps -------------------------------------------------------------------------
def _lam_step(hypergrad, phi, lam, *, state, batch, lr, watch, step):
    """The hyperparameter step, written once for Algorithms 2, 3 and 4:
    lam -= beta * Adam(grad_lam L_Valid(w_phi(lam), x)). Returns (loss, lam, state)."""
    loss, g = hypergrad(phi, lam, batch)
    watch(step, loss, g, what="the validation loss")
    delta, state = adam_update(g, state, lr)
    return loss, lam - delta, state


def _sample(sample_lams, lam_hat, *, step, n_hyper):
    lams = sample_lams(lam_hat, step)
    if step == 0:
        if np.ndim(lams) != 2 or np.shape(lams)[0] < 1 or np.shape(lams)[1] != n_hyper:
            raise ValueError(f"sample_lams returned shape {np.shape(lams)}; expected (S, {n_hyper}) "
                             "with S >= 1 samples")
        if not np.all(np.isfinite(lams)):
            raise ValueError("sample_lams returned NaN or Inf at step 0: check the sampler's mean and width")
    return lams
