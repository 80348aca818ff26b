"""The learned width of p(lam | lam_hat) (hypernet/beyond/learned_width.py): its objective's gradient
by finite differences, the entropy term's exact gradient, the width's direction of travel with and
without the entropy term, the sampler, and refusals before any work."""
import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from hypernet import hypernets, optim
from hypernet.beyond import learned_width as lw
from hypernet.models import Problem

D, H = 4, 2


def _problem():
    """L_V(w) = mean_j (w_j - 1)^2 on no data; L_T the same plus sum_j exp(lam_{j mod H}) w_j^2."""
    def valid_loss(W, batch):
        return anp.mean((W - 1.0) ** 2, axis=1)

    def train_loss(W, lams, batch):
        decay = anp.concatenate([anp.exp(lams)] * (D // H), axis=1)
        return valid_loss(W, batch) + anp.sum(decay * W ** 2, axis=1)
    return Problem(train_loss, valid_loss, D, H)


def _hn_phi(seed=0):
    hn = hypernets.mlp(H, 8, D)
    return hn, hn.init(np.random.default_rng(seed), 0.3)


BATCH = (np.zeros((1, 1)), np.zeros((1, 1)))


def test_objective_gradient_matches_finite_differences():
    problem, (hn, phi) = _problem(), _hn_phi()
    x = np.array([0.3, -0.7, np.log(0.4)])

    def f(v):  # a fresh objective each time: the same draws (call 0)
        return lw.width_objective(problem, hn, tau=0.05, n_samples=3, seed=11)(phi, v, BATCH)
    g = grad(f)(x)
    eps = 1e-6
    fd = np.array([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)
    assert abs(g[2]) > 1e-3  # the width's gradient is not trivially zero


def test_entropy_term_gradient_is_minus_tau():
    """With a hypernetwork whose output ignores lam, only the entropy term depends on s:
    d/ds = -tau exactly, and the objective is L_V - tau (s + log(2 pi e) / 2)."""
    problem, hn = _problem(), hypernets.linear(H, D)
    phi = np.zeros(hn.n_params)  # w_phi(lam) = 0 for every lam
    tau, s = 0.37, np.log(0.2)
    obj = lw.width_objective(problem, hn, tau=tau, n_samples=2, seed=3)
    x = np.array([0.1, 0.2, s])
    g = grad(lambda v: lw.width_objective(problem, hn, tau=tau, n_samples=2, seed=3)(phi, v, BATCH))(x)
    np.testing.assert_allclose(g, [0.0, 0.0, -tau], atol=1e-12)
    w = hn.apply(phi, x[None, :H])
    expected = float(problem.valid_loss(w, BATCH)[0]) - tau * (s + 0.5 * np.log(2 * np.pi * np.e))
    assert obj(phi, x, BATCH) == pytest.approx(expected, rel=1e-12)


def _run(tau, iters=300):
    problem, (hn, phi) = _problem(), _hn_phi(1)
    res = lw.hypertrain_learned_width(problem, hn, phi=phi, lam_hat=np.zeros(H), sigma0=0.3, tau=tau, n_samples=4,
                                      seed=5, train_batch=lambda step: BATCH, valid_batch=lambda step: BATCH,
                                      opt_phi=optim.adam(1e-2), opt_lam=optim.adam(1e-2), iters=iters)
    return res


def test_width_shrinks_without_entropy_and_grows_with_a_large_tau():
    narrow, wide = _run(0.0), _run(1.0)
    assert narrow.lam.shape == (H + 1,) and wide.lam.shape == (H + 1,)
    assert narrow.lam[H] < np.log(0.3) - 0.5   # nothing holds the width: it shrinks
    assert wide.lam[H] > np.log(0.3) + 0.5     # tau above the width's cost: it grows
    assert np.all(np.isfinite(narrow.lam)) and np.all(np.isfinite(wide.lam))


def test_sampler_draws_at_the_current_width():
    sample = lw.width_sampler(n_samples=20000, seed=2)
    lam_ext = np.array([1.0, -2.0, np.log(0.5)])
    lams = sample(lam_ext, 0)
    assert lams.shape == (20000, H)
    np.testing.assert_allclose(lams.mean(0), [1.0, -2.0], atol=0.02)
    np.testing.assert_allclose(lams.std(0), [0.5, 0.5], rtol=0.02)
    np.testing.assert_array_equal(sample(lam_ext, 3), sample(lam_ext, 3))


@pytest.mark.parametrize("kw, message", [
    ({"tau": -0.1}, "tau"), ({"tau": float("nan")}, "tau"), ({"tau": True}, "tau"), ({"tau": "0.1"}, "tau"),
    ({"sigma0": 0.0}, "sigma0"), ({"sigma0": float("inf")}, "sigma0"), ({"n_samples": 0}, "n_samples"),
    ({"lam_hat": np.zeros(H + 1)}, "lam_hat"),
])
def test_bad_arguments_refused_before_work(kw, message):
    problem, (hn, phi) = _problem(), _hn_phi()
    calls = []
    args = dict(phi=phi, lam_hat=np.zeros(H), sigma0=0.3, tau=0.1, n_samples=2, seed=0,
                train_batch=lambda step: calls.append(step) or BATCH, valid_batch=lambda step: BATCH, iters=5)
    with pytest.raises(ValueError, match=message):
        lw.hypertrain_learned_width(problem, hn, **{**args, **kw})
    assert calls == []
