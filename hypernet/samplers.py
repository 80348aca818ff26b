"""Samplers of hyperparameters, one convention for every algorithm of hypernet.algorithms:

    sample_lams(lam_hat (H,), step) -> lams (S, H)

the paper's p(lam) (Algorithm 2: lam_hat is ignored), p(lam | lam_hat) (Algorithm 3) or lam_hat
itself (Algorithm 4). Draws come from np.random.default_rng([seed, step]): the same seed and step
give the same samples, whatever ran before. A sampler of one's own may be any such function.
"""
import autograd.numpy as np

from .checks import check_count, check_positive, check_seed, start_array


def gaussian_sampler(mean, sd, *, n_samples, seed, n_hyper=None):
    """Algorithm 2's p(lam) = N(mean, sd^2 I) over H = n_hyper hyperparameters (default: the
    length of mean), drawn from default_rng([seed, step]); ignores lam_hat."""
    sd = check_positive(sd=sd)
    check_count(n_samples=n_samples)
    check_seed(seed=seed)
    mean = start_array(np.ravel(mean), "mean", (np.size(mean),))  # a scalar or (H,)
    if n_hyper is not None:
        check_count(n_hyper=n_hyper)
        mean = np.broadcast_to(mean, (n_hyper,))
    return lambda lam_hat, step: mean + sd * np.random.default_rng([seed, step]).standard_normal((n_samples, len(mean)))


def uniform_sampler(low, high, *, n_samples, seed, n_hyper=None):
    """Algorithm 2's p(lam) = U[low, high] for each of H = n_hyper hyperparameters (default: the
    length of low and high, 1 for scalars); ignores lam_hat."""
    low, high = (start_array(np.ravel(a), name, (np.size(a),)) for a, name in ((low, "low"), (high, "high")))
    check_positive(width=float(np.min(high - low)))
    check_count(n_samples=n_samples)
    check_seed(seed=seed)
    if n_hyper is None:
        n_hyper = np.broadcast_shapes(low.shape, high.shape)[0]
    check_count(n_hyper=n_hyper)
    low, high = (a.item() if a.size == 1 else a for a in (low, high))
    return lambda lam_hat, step: np.random.default_rng([seed, step]).uniform(low, high, (n_samples, n_hyper))


def local_sampler(sigma, *, n_samples, seed):
    """Algorithm 3's p(lam | lam_hat) = N(lam_hat, sigma^2 I)."""
    sigma = check_positive(sigma=sigma)
    check_count(n_samples=n_samples)
    check_seed(seed=seed)

    def sample(lam_hat, step):
        _needs_lam_hat(lam_hat, "local_sampler draws around lam_hat: use it with Algorithm 3, hypertrain_local")
        return lam_hat + sigma * np.random.default_rng([seed, step]).standard_normal((n_samples, len(lam_hat)))
    return sample


def at_lam_hat(lam_hat, step):
    """Algorithm 4's "sampler": lam_hat itself, one sample; the moving lam_hat is the only noise."""
    _needs_lam_hat(lam_hat, "at_lam_hat returns lam_hat itself (Algorithm 4's sampler, in hypertrain_simplified): "
                            "use it with the local/joint algorithms, hypertrain_local or hypertrain_joint")
    return np.reshape(lam_hat, (1, -1))


def _needs_lam_hat(lam_hat, what):
    """Algorithm 2 (train_hypernet) calls its sampler with lam_hat=None: a p(lam | lam_hat) refuses it."""
    if lam_hat is None:
        raise ValueError(f"{what} (they pass lam_hat); Algorithm 2 (hypertrain_global, train_hypernet) has no lam_hat: "
                         "give it a p(lam), gaussian_sampler(mean, sd, ...) or uniform_sampler(low, high, ...)")
