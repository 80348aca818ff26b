"""Algorithm 3 with a learned width of p(lam | lam_hat), as Self-Tuning Networks (MacKay et al.,
ICLR 2019) do; the paper fixes the width ("it is not obvious how to choose the training
distribution of hyperparameters").

p(lam | lam_hat) = N(lam_hat, sigma^2 I) with one shared sigma = e^s. The log width s is one more
variable of the lam step, after the H hyperparameters (algorithms.hypertrain_joint's lam_hat is
(H + 1,)), and that step descends

    E_eps[ L_Valid(w_phi(lam_hat + e^s eps), x) ]  -  tau * entropy(N(lam_hat, e^{2s} I)) / H,

the expectation estimated with n_samples draws eps ~ N(0, I) (reparameterised: the gradient reaches
s through the samples), the entropy per hyperparameter, s + log(2 pi e) / 2, so that one tau
means the same for any H; its gradient in s is -tau. Without the entropy term (tau = 0) nothing
keeps the width from shrinking: a narrower p(lam | lam_hat) only lowers the first term. The phi
step trains the hypernetwork at lam ~ N(lam_hat, e^{2s} I), the current width.
"""
import itertools

import autograd.numpy as np

from ..algorithms import PAPER_ADAM, hypertrain_joint
from ..checks import check_count, check_positive, check_seed, checked_losses, finite_real, lam_vector

HALF_LOG_2PIE = 0.5 * np.log(2 * np.pi * np.e)


def width_sampler(*, n_samples, seed):
    """p(lam | lam_hat) = N(lam_hat, e^{2s} I) for lam_ext = (lam_hat (H,), s): (n_samples, H)."""
    check_count(n_samples=n_samples)
    check_seed(seed=seed)

    def sample(lam_ext, step):
        lam_hat, s = lam_ext[:-1], lam_ext[-1]
        return lam_hat + np.exp(s) * np.random.default_rng([seed, step]).standard_normal((n_samples, len(lam_hat)))
    return sample


def width_objective(problem, hypernet, *, tau, n_samples, seed):
    """The lam step's objective f(phi, lam_ext (H + 1,), batch) above. Each call draws its own
    eps (call k from default_rng([seed, k, 1])), so the k-th call of two objectives made alike
    sees the same draws."""
    tau = _check_tau(tau)
    check_count(n_samples=n_samples)
    check_seed(seed=seed)
    H, calls = problem.n_hyper, itertools.count()

    def objective(phi, lam_ext, batch):
        eps = np.random.default_rng([seed, next(calls), 1]).standard_normal((n_samples, H))
        lams = lam_ext[:H] + np.exp(lam_ext[H]) * eps
        losses = checked_losses(problem.valid_loss, "valid_loss", n_samples, hypernet.apply(phi, lams), batch)
        return np.mean(losses) - tau * (lam_ext[H] + HALF_LOG_2PIE)
    return objective


def hypertrain_learned_width(problem, hypernet, *, phi, lam_hat, sigma0, tau, n_samples=2, seed, train_batch,
                             valid_batch, opt_phi=PAPER_ADAM, opt_lam=PAPER_ADAM, iters=None, callback=None):
    """Algorithm 3 with the width sigma of p(lam | lam_hat) learned from sigma0 (the entropy weight
    tau >= 0, n_samples draws for both steps). opt_lam steps lam_hat and log sigma alike. Returns
    algorithms.HyperResult whose lam is (H + 1,): lam_hat, then log sigma; callback states alike."""
    lam = lam_vector(lam_hat, problem)
    check_positive(sigma0=sigma0)
    lam_ext = np.append(lam, np.log(float(sigma0)))
    return hypertrain_joint(problem, hypernet, phi=phi, lam_hat=lam_ext,
                            sample_lams=width_sampler(n_samples=n_samples, seed=seed),
                            lam_objective=width_objective(problem, hypernet, tau=tau, n_samples=n_samples, seed=seed),
                            train_batch=train_batch, valid_batch=valid_batch, opt_phi=opt_phi, opt_lam=opt_lam,
                            iters=iters, callback=callback, name="Algorithm 3 with a learned width")


def _check_tau(tau):
    x = finite_real(tau)
    if x is None or x < 0:
        raise ValueError(f"tau (the entropy weight) must be a finite number >= 0, got {tau!r}")
    return x
