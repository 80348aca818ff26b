"""Figure 6's Gaussian-process baseline: a GP regression of the validation loss on lam, fit on a
few (lam, validation loss) tuples (made by hypernet/baselines/many_linear.py or Algorithm 1), whose mean
predicts the validation loss at other lam."""
import warnings

import numpy as np

from ..checks import check_seed

GP_KINDS = ("paper", "tuned", "ard")


def fit_gp(lams, losses, seed, kind="paper", restarts=10):
    """GP regression of validation loss on lam, its hyperparameters maximising the log marginal
    likelihood. kind="paper": the original code's GaussianProcessRegressor(RBF(),
    n_restarts_optimizer=1) with scikit-learn's defaults otherwise (prior mean 0, no normalisation
    of the losses, alpha 1e-10). kind="tuned": C * RBF with one shared length scale,
    normalize_y=True and `restarts` restarts (the prior mean is the losses' mean, so far from the
    data the GP falls back to it instead of to 0). kind="ard": as tuned with one length scale per
    dimension. Restarts are drawn with random_state=seed. Returns the fitted regressor."""
    check_seed(seed=seed)  # before the fit, not in scikit-learn after it
    from sklearn.exceptions import ConvergenceWarning  # (here: importing hypernet need not load scikit-learn)
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel
    H = np.shape(lams)[1]
    if kind == "paper":
        gp = GaussianProcessRegressor(RBF(), n_restarts_optimizer=1, random_state=seed)
    elif kind in ("tuned", "ard"):
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.ones(H) if kind == "ard" else 1.0, (1e-2, 1e3))
        gp = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=restarts, random_state=seed)
    else:
        raise ValueError(f"kind must be one of {GP_KINDS}, got {kind!r}")
    with warnings.catch_warnings():
        # A length scale at its bound says the loss does not depend on that lam: a finding, not a failure.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return gp.fit(np.asarray(lams, float), np.asarray(losses, float))
