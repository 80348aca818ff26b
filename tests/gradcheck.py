"""Finite-difference check shared by the test files."""
import numpy as np
from autograd import grad


def fd_check(f, x, n_dirs=3, h=1e-5, rtol=1e-6, seed=0):
    """grad(f)(x) . v against the central difference (f(x + h v) - f(x - h v)) / 2h, for random v."""
    g = grad(f)(x)
    rng = np.random.default_rng(seed)
    for _ in range(n_dirs):
        v = rng.standard_normal(np.shape(x))
        fd = (f(x + h * v) - f(x - h * v)) / (2 * h)
        assert abs(np.sum(g * v) - fd) <= rtol * (abs(fd) + 1e-8), (np.sum(g * v), fd)
