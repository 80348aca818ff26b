"""What the own-model examples share (experiments/own_model.py: ridge regression,
experiments/own_logistic.py: L2 logistic regression): Algorithms 2 and 3 run on the user's problem."""
import autograd.numpy as np

import hypernet


def both_algorithms(problem, config, seed, train, valid, exact_valid):
    """Algorithms 2 and 3 on your problem, full-batch: {algorithm: (lam, the hypernetwork's last valid
    loss, exact_valid(lam), seconds)}. config needs lr_phi, lr_lam, hidden, prior, n_samples, iters, lam_iters,
    lam_hat0, sigma."""
    D = problem.n_weights
    common = dict(train_batch=lambda step: train, valid_batch=lambda step: valid, opt_phi=hypernet.adam(config.lr_phi),
                  opt_lam=hypernet.adam(config.lr_lam))
    done = lambda res: (res.lam[0], res.valid_losses[-1], exact_valid(res.lam[0]), res.seconds)  # noqa: E731
    mlp, linear = hypernet.mlp(1, config.hidden, D), hypernet.linear(1, D)
    # (1) Algorithm 2: a global MLP hypernetwork over U[prior], then lam descended through it
    res2 = hypernet.hypertrain_global(
        problem, mlp, phi=mlp.init(np.random.default_rng([seed, 0]), 0.1), lam_hat=np.mean(config.prior),
        sample_lams=hypernet.uniform_sampler(*config.prior, n_samples=config.n_samples, seed=seed),
        iters=config.iters, lam_iters=config.lam_iters, **common)
    runs = {f"Algorithm 2 (MLP, U{list(config.prior)})": done(res2)}
    # (2) Algorithm 3: a linear hypernetwork and lam_hat trained jointly, lam_hat from a poor start
    res3 = hypernet.hypertrain_local(
        problem, linear, phi=linear.init(np.random.default_rng([seed, 1]), 0.1), lam_hat=config.lam_hat0,
        sigma=config.sigma, n_samples=config.n_samples, seed=(seed + 1) % 2 ** 32, iters=config.iters, **common)
    runs[f"Algorithm 3 (linear, from {config.lam_hat0})"] = done(res3)
    return runs
