"""Algorithms 1-4 (hypernet/algorithms.py) against references: finite differences of the
hyper-training gradient and of the hypergradient for every hypernetwork family, the closed-form
best response of ridge regression, determinism, and the errors of invalid or diverging runs."""
import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from scipy.optimize import minimize_scalar

from hypernet import algorithms as alg
from hypernet import data, hypernets, models, optim, samplers
from hypernet.baselines import unrolled
from gradcheck import fd_check

RNG = np.random.default_rng(0)


def make_hypernet(family, H, D, K=4):
    return hypernets.linear(H, D) if family == "linear" else getattr(hypernets, family)(H, K, D)


# ---- finite differences ---------------------------------------------------------------------
PROBLEMS = {"(5,3) nll + exp(lam)||w||": ((5, 3), "nll", "l2_norm"),
            "(5,4,3) mse + per-weight decay": ((5, 4, 3), "mse", "per_weight")}


@pytest.mark.parametrize("family", ["linear", "factorised", "mlp"])
@pytest.mark.parametrize("setting", PROBLEMS, ids=list(PROBLEMS))
def test_gradients_by_finite_differences(family, setting):
    """d/dphi of mean_s L_Train(w_phi(lam_s), lam_s) and d/dlam of L_Valid(w_phi(lam))."""
    prob = models.make_problem(*PROBLEMS[setting])
    hn = make_hypernet(family, prob.n_hyper, prob.n_weights)
    rng = np.random.default_rng(1)
    phi = hn.init(rng, 0.5)
    lams = rng.standard_normal((3, prob.n_hyper))
    batch = (rng.standard_normal((6, 5)), rng.standard_normal((6, 3)))
    f = alg.hypernet_train_loss(prob, hn)
    # the objective is what its docstring says
    direct = np.mean([prob.train_loss(hn.apply(phi, lams[s:s + 1]), lams[s:s + 1], batch)[0] for s in range(3)])
    assert f(phi, lams, batch) == pytest.approx(direct, rel=1e-12)
    fd_check(lambda p: f(p, lams, batch), phi, h=1e-6)
    g = alg.hypernet_valid_loss(prob, hn)
    assert g(phi, lams[0], batch) == pytest.approx(prob.valid_loss(hn.apply(phi, lams[:1]), batch)[0], rel=1e-12)
    fd_check(lambda lam: g(phi, lam, batch), lams[0], h=1e-6)


# ---- ridge regression: the closed-form best response ----------------------------------------
# make_problem((5, 1), "mse", "sq_l2"): L_Train = mean_n (x_n w + b - y_n)^2 + e^lam (|w|^2 + b^2),
# the bias part of the flat weight vector and penalised. With X1 = [X, 1] and theta = (w, b),
# the best response solves (X1'X1 / N + e^lam I) theta = X1'y / N.
def ridge_data(seed=0, n=30, features=5):
    """30 training and 30 validation points of y = x w + 0.5 + noise of sd 2: few and noisy, so
    that the penalty helps."""
    rng = np.random.default_rng(seed)
    w_true = rng.standard_normal(features)
    X, Xv = rng.standard_normal((n, features)), rng.standard_normal((n, features))
    y, yv = (Z @ w_true + 0.5 + 2.0 * rng.standard_normal(n) for Z in (X, Xv))
    return (X, y[:, None]), (Xv, yv[:, None])


def best_response(lam, X, y):
    X1 = np.hstack([X, np.ones((len(X), 1))])
    return np.linalg.solve(X1.T @ X1 / len(X) + np.exp(lam) * np.eye(X1.shape[1]), X1.T @ y[:, 0] / len(X))


def ridge_valid_loss(lam, train, valid):
    X1 = np.hstack([valid[0], np.ones((len(valid[0]), 1))])
    return np.mean((X1 @ best_response(lam, *train) - valid[1][:, 0]) ** 2)


@pytest.fixture(scope="module")
def ridge():
    train, valid = ridge_data()
    res = minimize_scalar(lambda l: ridge_valid_loss(l, train, valid), bounds=(-6, 6), method="bounded",
                          options={"xatol": 1e-10})
    lam_opt = res.x
    assert -1.0 < lam_opt < -0.85  # an interior optimum (-0.927): the tests below have something to find
    return dict(train=train, valid=valid, lam_opt=lam_opt, problem=models.make_problem((5, 1), "mse", "sq_l2"),
                train_batch=lambda step: train, valid_batch=lambda step: valid)


def test_ridge_problem_matches_the_closed_form(ridge):
    """The closed form is the minimiser of make_problem's training loss: its gradient there is 0."""
    prob, train = ridge["problem"], ridge["train"]
    for lam in (-2.0, 0.5):
        theta = best_response(lam, *train)
        g = grad(lambda W: prob.train_loss(W, np.array([[lam]]), train)[0])(theta[None, :])
        assert np.max(np.abs(g)) < 1e-12


def test_algorithm1_agrees_with_the_closed_form(ridge):
    lams = np.linspace(-3, 1, 5)[:, None]
    res = alg.cross_validation(ridge["problem"], lams, W0=np.zeros(6), train_batch=ridge["train_batch"],
                               valid_data=ridge["valid"], opt=optim.adam(0.02), iters=2000)
    for i, lam in enumerate(lams[:, 0]):
        theta = best_response(lam, *ridge["train"])
        assert np.linalg.norm(res.W[i] - theta) <= 1e-6 * np.linalg.norm(theta)
        assert res.valid_losses[i] == pytest.approx(ridge_valid_loss(lam, ridge["train"], ridge["valid"]), rel=1e-8)


def test_algorithm2_mlp_matches_the_best_response_over_the_support(ridge):
    """Global best response: an MLP hypernetwork 1 -> 64 -> 6 trained on lam ~ U[-3, 1] matches
    w*(lam) within 3% everywhere on the support (about 0.5% on average). Phase 1 runs 1000 steps
    at step size 1e-2 and then 1000 at 1e-3 (a second call continuing from phi)."""
    prob, hn = ridge["problem"], hypernets.mlp(1, 64, 6)
    phi = hn.init(np.random.default_rng(0), 0.2)
    phi, _ = alg.train_hypernet(prob, hn, phi=phi, sample_lams=samplers.uniform_sampler(-3, 1, n_hyper=1, n_samples=16, seed=0),
                                train_batch=ridge["train_batch"], opt_phi=optim.adam(1e-2), iters=1000)
    res = alg.hypertrain_global(prob, hn, phi=phi, sample_lams=samplers.uniform_sampler(-3, 1, n_hyper=1, n_samples=16, seed=1),
                                train_batch=ridge["train_batch"], valid_batch=ridge["valid_batch"], lam_hat=0.5,
                                iters=1000, lam_iters=400, opt_phi=optim.adam(1e-3), opt_lam=optim.adam(2e-2))
    grid = np.linspace(-3, 1, 81)
    W = hn.apply(res.phi, grid[:, None])
    exact = np.array([best_response(lam, *ridge["train"]) for lam in grid])
    rel = np.linalg.norm(W - exact, axis=1) / np.linalg.norm(exact, axis=1)
    assert rel.max() < 0.03 and rel.mean() < 0.01, (rel.max(), rel.mean())
    # Phase 2 descends the hypernetwork's validation curve to its minimum; that curve is the exact
    # one to within the 3% above, so its minimum is near the exact optimum (whose curve is flat there).
    curve = [prob.valid_loss(hn.apply(res.phi, np.array([[lam]])), ridge["valid"])[0] for lam in grid]
    assert abs(res.lam[0] - grid[np.argmin(curve)]) <= 0.05 + 1e-9
    assert abs(res.lam[0] - ridge["lam_opt"]) < 0.15
    assert ridge_valid_loss(res.lam[0], ridge["train"], ridge["valid"]) < 1.002 * ridge_valid_loss(
        ridge["lam_opt"], ridge["train"], ridge["valid"])


@pytest.mark.parametrize("lam0", [1.0, -3.0])
def test_algorithm3_linear_hypernet_finds_the_optimum(ridge, lam0):
    """Local best response: lam_hat ends within 0.05 of the exact optimum (about 0.005 in fact)
    from either side, with p(lam | lam_hat) = N(lam_hat, 0.2^2) and 4 samples per step."""
    hn = hypernets.linear(1, 6)
    res = alg.hypertrain_local(ridge["problem"], hn, phi=hn.init(np.random.default_rng(0), 0.1), lam_hat=lam0,
                               train_batch=ridge["train_batch"], valid_batch=ridge["valid_batch"], iters=1500,
                               n_samples=4, sigma=0.2, opt_phi=optim.adam(0.03), opt_lam=optim.adam(0.01), seed=0)
    assert abs(res.lam[0] - ridge["lam_opt"]) < 0.05
    assert res.lam_path.shape == (1501, 1) and res.lam_path[-1, 0] == res.lam[0]
    # near lam_hat the linear hypernetwork is the best response
    theta = best_response(res.lam[0], *ridge["train"])
    assert np.linalg.norm(hn.apply(res.phi, res.lam[None, :])[0] - theta) < 0.01 * np.linalg.norm(theta)


@pytest.fixture(scope="module")
def algorithm4(ridge):
    hn = hypernets.linear(1, 6)
    res = alg.hypertrain_simplified(ridge["problem"], hn, phi=hn.init(np.random.default_rng(0), 0.1), lam_hat=-3.0,
                                    train_batch=ridge["train_batch"], valid_batch=ridge["valid_batch"], iters=1500,
                                    opt_phi=optim.adam(0.03), opt_lam=optim.adam(0.01))
    return hn, res


def test_algorithm4_converges_to_a_best_response_at_its_own_lam(ridge, algorithm4):
    """Algorithm 4 (same settings as Algorithm 3 above, from lam0 = -3) converges: lam_hat stops,
    the hypernetwork is exactly w*(lam_hat) there and the validation loss is lower than at the start."""
    hn, res = algorithm4
    assert np.max(np.abs(np.diff(res.lam_path[-100:, 0]))) < 1e-9
    theta = best_response(res.lam[0], *ridge["train"])
    assert np.linalg.norm(hn.apply(res.phi, res.lam[None, :])[0] - theta) < 1e-8 * np.linalg.norm(theta)
    assert ridge_valid_loss(res.lam[0], ridge["train"], ridge["valid"]) < ridge_valid_loss(-3.0, ridge["train"], ridge["valid"])


@pytest.mark.xfail(strict=True, reason=(
    "Algorithm 4 trains the hypernetwork only at lam_hat, so a linear hypernetwork's slope A is learnt "
    "from lam_hat's own path, not from the local shape of w*(lam). It stops where A is orthogonal to the "
    "validation gradient: lam = -0.576 here, 0.35 from the optimum -0.927 (A is at cosine 0.956 to "
    "dw*/dlam); from lam0 = 1 it drifts away. Algorithm 3 finds the optimum to 0.005."))
def test_algorithm4_linear_hypernet_finds_the_optimum(ridge, algorithm4):
    _, res = algorithm4
    assert abs(res.lam[0] - ridge["lam_opt"]) < 0.05


# ---- determinism ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(3)
    X, labels = rng.random((40, 5)), rng.integers(0, 3, 40)
    split = data.Split(X, np.eye(3)[labels], labels)
    prob = models.make_problem((5, 3), "nll", "l2_norm")
    return dict(problem=prob, split=split, hn=hypernets.mlp(1, 4, prob.n_weights))


def run_all(small, seed):
    """Algorithms 1-4 on random minibatches; everything random comes from `seed`."""
    prob, hn, split = small["problem"], small["hn"], small["split"]
    tb, vb = data.minibatcher(split, 10, seed), data.minibatcher(split, 10, seed + 1000)
    phi = hn.init(np.random.default_rng(seed), 0.1)
    W0 = models.init_weights(np.random.default_rng(seed), prob.n_weights, 0.1)
    cv = alg.cross_validation(prob, [[-1.0], [0.0]], W0=W0, train_batch=tb, valid_data=vb(0), opt=optim.adam(1e-2), iters=20)
    common = dict(phi=phi, train_batch=tb, valid_batch=vb, opt_phi=optim.adam(1e-2), opt_lam=optim.adam(1e-2), iters=20)
    a2 = alg.hypertrain_global(prob, hn, sample_lams=samplers.gaussian_sampler(0.0, 1.0, n_samples=2, seed=seed), lam_hat=0.5,
                               lam_iters=10, **common)
    a3 = alg.hypertrain_local(prob, hn, lam_hat=0.5, n_samples=2, sigma=0.5, seed=seed, **common)
    a4 = alg.hypertrain_simplified(prob, hn, lam_hat=0.5, **common)
    return [cv.W, cv.valid_losses, cv.train_losses] + [a for r in (a2, a3, a4) for a in
                                                        (r.phi, r.lam, r.train_losses, r.valid_losses, r.lam_path)]


def test_same_seed_same_numbers(small):
    first, second, other = run_all(small, 7), run_all(small, 7), run_all(small, 8)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert all(not np.array_equal(a, c) for a, c in zip(first, other))


def test_samplers_are_seeded_by_step():
    s = samplers.gaussian_sampler([1.0, -1.0], 0.5, n_samples=4, seed=2)
    lam_hat = np.array([5.0, 5.0])  # Algorithm 2's p(lam) ignores lam_hat
    assert s(lam_hat, 3).shape == (4, 2)
    np.testing.assert_array_equal(s(lam_hat, 3), s(None, 3))
    assert not np.array_equal(s(lam_hat, 3), s(lam_hat, 4))
    draws = np.concatenate([s(lam_hat, i) for i in range(500)])
    np.testing.assert_allclose(draws.mean(0), [1.0, -1.0], atol=0.05)
    np.testing.assert_allclose(draws.std(0), [0.5, 0.5], atol=0.03)
    u = np.concatenate([samplers.uniform_sampler(-3, 3, n_hyper=10, n_samples=25, seed=0)(None, i) for i in range(40)])
    assert u.shape == (1000, 10) and u.min() >= -3 and u.max() <= 3 and abs(u.mean()) < 0.1
    # Algorithm 3: N(lam_hat, sigma^2 I) around the current lam_hat; Algorithm 4: lam_hat itself
    local = np.concatenate([samplers.local_sampler(0.1, n_samples=5, seed=1)(lam_hat, i) for i in range(200)])
    np.testing.assert_allclose(local.mean(0), lam_hat, atol=0.01)
    np.testing.assert_allclose(local.std(0), [0.1, 0.1], atol=0.01)
    np.testing.assert_array_equal(samplers.at_lam_hat(lam_hat, 9), lam_hat[None, :])


def test_callback_stops_the_loop(small):
    prob, hn, split = small["problem"], small["hn"], small["split"]
    b = data.minibatcher(split, 10, 0)
    phi = hn.init(np.random.default_rng(0), 0.1)
    seen = []
    res = alg.hypertrain_local(prob, hn, phi=phi, lam_hat=0.0, train_batch=b, valid_batch=b, n_samples=2, sigma=0.5,
                               opt_phi=optim.adam(1e-2), opt_lam=optim.adam(1e-2), seed=0, iters=None,
                               callback=lambda step, s: seen.append(step) or step == 4)
    assert seen == [0, 1, 2, 3, 4] and len(res.train_losses) == 5 and res.lam_path.shape == (6, 1)
    W0 = np.full(prob.n_weights, 0.1)
    kw = dict(W0=W0, train_batch=b, valid_data=b(0), opt=optim.adam(1e-2))
    cv = alg.cross_validation(prob, [[0.0]], iters=50, callback=lambda s, state: s == 2, **kw)
    # stopped after 3 steps: the same weights as a run of 3 steps
    np.testing.assert_array_equal(cv.W, alg.cross_validation(prob, [[0.0]], iters=3, **kw).W)


# ---- invalid settings and diverging runs ----------------------------------------------------
@pytest.fixture(scope="module")
def tiny():
    prob = models.make_problem((5, 3), "nll", "l2_norm")
    hn = hypernets.linear(1, prob.n_weights)
    batch = (RNG.random((6, 5)), np.eye(3)[RNG.integers(0, 3, 6)])
    return prob, hn, hn.init(np.random.default_rng(0), 0.1), (lambda step: batch)


@pytest.mark.parametrize("change, message", [
    (dict(opt_phi=1e-3), r"opt_phi must be an optimiser of hypernet.optim, e.g. opt_phi=optim.adam\(1e-4\); got 0.001"),
    (dict(opt_lam=None), "opt_lam must be an optimiser of hypernet.optim"),
    (dict(sigma=None), "give Algorithm 3 either sample_lams"),
    (dict(sample_lams=samplers.at_lam_hat), "not both"),
    (dict(seed=None), "sigma needs a seed"),
    (dict(n_samples=0), "n_samples must be a positive integer, got 0"),
    (dict(n_samples=2.0), "n_samples must be a positive integer, got 2.0"),
    (dict(sigma=0.0), "sigma must be a positive finite number, got 0.0"),
    (dict(sigma=-1.0), "sigma must be a positive finite number"),
    (dict(sigma=float("nan")), "sigma must be a positive finite number, got nan"),
    (dict(sigma=float("inf")), "sigma must be a positive finite number, got inf"),
    (dict(iters=-1), "iters must be a non-negative integer, got -1"),
    (dict(iters=2.5), "iters must be a non-negative integer"),
    (dict(iters=10.0), "iters must be a non-negative integer, got 10.0"),
    (dict(iters=None), "iters=None runs until the callback stops it, but no callback was given"),
    (dict(lam_hat=np.zeros(2)), r"lam_hat has shape \(2,\), expected \(1,\)"),
    (dict(lam_hat=np.array([np.nan])), "lam_hat has NaN or Inf values"),
    (dict(phi=np.zeros(5)), r"phi has shape \(5,\), expected \(36,\)"),
    (dict(phi=np.zeros(37)), r"phi has shape \(37,\), expected \(36,\)"),
])
def test_algorithm3_invalid_settings(tiny, change, message):
    prob, hn, phi, b = tiny
    kw = dict(phi=phi, lam_hat=np.zeros(1), train_batch=b, valid_batch=b, iters=3, n_samples=2, sigma=0.1,
              opt_phi=optim.adam(1e-3), opt_lam=optim.adam(1e-3), seed=0)
    kw.update(change)
    with pytest.raises(ValueError, match=message):
        alg.hypertrain_local(prob, hn, **kw)


def test_a_1d_grid_is_accepted_when_there_is_one_hyperparameter(tiny):
    prob, _, _, b = tiny
    kw = dict(W0=np.full(18, 0.1), train_batch=b, valid_data=b(0), opt=optim.adam(1e-3), iters=2)
    np.testing.assert_array_equal(alg.cross_validation(prob, np.array([0.0, 1.0]), **kw).W,
                                  alg.cross_validation(prob, np.array([[0.0], [1.0]]), **kw).W)


def test_scalar_lam_is_accepted_by_every_algorithm(tiny):
    """A scalar lam (H = 1) works as the starting lam_hat of Algorithms 2, 3 and 4 alike."""
    prob, hn, phi, b = tiny
    kw = dict(phi=phi, train_batch=b, valid_batch=b, iters=2, opt_phi=optim.adam(1e-3), opt_lam=optim.adam(1e-3))
    runs = [alg.hypertrain_global(prob, hn, sample_lams=samplers.gaussian_sampler(0, 1, n_samples=2, seed=0), lam_hat=0.5, lam_iters=2, **kw),
            alg.hypertrain_local(prob, hn, lam_hat=0.5, n_samples=2, sigma=0.1, seed=0, **kw),
            alg.hypertrain_simplified(prob, hn, lam_hat=0.5, **kw)]
    assert all(r.lam.shape == (1,) for r in runs)


def test_other_invalid_settings(tiny):
    prob, hn, phi, b = tiny
    g2 = dict(phi=phi, sample_lams=samplers.gaussian_sampler(0, 1, n_samples=2, seed=0), train_batch=b, valid_batch=b, lam_hat=0.0, iters=3,
              lam_iters=3, opt_phi=optim.adam(1e-3), opt_lam=optim.adam(1e-3))
    a4 = dict(phi=phi, lam_hat=0.0, train_batch=b, valid_batch=b, iters=3, opt_phi=optim.adam(1e-3), opt_lam=optim.adam(1e-3))
    cv = dict(W0=np.full(18, 0.1), train_batch=b, valid_data=b(0), opt=optim.adam(1e-3), iters=3)
    empty = lambda step: (np.zeros((0, 5)), np.zeros((0, 3)))  # noqa: E731
    cases = [
        (lambda: optim.adam(0.0), "lr must be a positive finite number, got 0.0"),
        (lambda: optim.sgd(-1.0), "lr must be a positive finite number, got -1.0"),
        (lambda: optim.sgd_momentum(0.1, 1.0), r"momentum must be a number in \[0, 1\), e.g. 0.9; got 1.0"),
        (lambda: alg.hypertrain_global(prob, hn, **{**g2, "lam_iters": -2}), "lam_iters must be a non-negative integer"),
        (lambda: alg.hypertrain_global(prob, hn, **{**g2, "lam_hat": np.zeros(3)}), r"lam_hat has shape \(3,\)"),
        (lambda: alg.hypertrain_global(prob, hn, **{**g2, "sample_lams": lambda lam_hat, step: np.zeros((0, 1))}),
         r"sample_lams returned shape \(0, 1\); expected \(S, 1\) with S >= 1 samples"),
        (lambda: alg.hypertrain_global(prob, hn, **{**g2, "train_batch": empty}),
         r"train_batch\(0\) must return \(X, T\) with the same number N >= 1 of rows"),
        (lambda: alg.hypertrain_global(prob, hn, **{**g2, "train_batch": lambda step: (b(0)[0][:, :4], b(0)[1])}),
         r"train_batch\(0\) returned X \(\d+, 4\) and T \(\d+, 3\); the model 5-3 needs X \(N, 5\) and T \(N, 3\)"),
        (lambda: alg.hypertrain_simplified(prob, hn, **{**a4, "valid_batch": lambda step: (b(0)[0], b(0)[1][:, :2])}),
         r"valid_batch\(0\) returned X .* the model 5-3 needs"),
        (lambda: alg.hypertrain_simplified(prob, hn, **{**a4, "opt_lam": 1e-3}), "opt_lam must be an optimiser"),
        (lambda: alg.hypertrain_simplified(prob, hn, **{**a4, "valid_batch": empty}),
         r"valid_batch\(0\) must return \(X, T\)"),
        (lambda: alg.hypertrain_simplified(prob, hypernets.linear(2, prob.n_weights), **{**a4, "phi": np.zeros(54)}),
         "hypernetwork linear 2->18 maps 2 hyperparameters to 18 weights, but the problem has 1 and 18"),
        (lambda: alg.cross_validation(prob, [[0.0]], **{**cv, "opt": "adam"}), "opt must be an optimiser of hypernet.optim"),
        (lambda: alg.cross_validation(prob, [[0.0, 1.0]], **cv), r"lams has shape \(1, 2\)"),
        (lambda: alg.cross_validation(prob, [[0.0]], **{**cv, "iters": -1}), "iters must be a non-negative"),
        (lambda: alg.cross_validation(prob, [[0.0]], **{**cv, "train_batch": empty}), r"train_batch\(0\) must return"),
        (lambda: alg.cross_validation(prob, [[0.0]], **{**cv, "train_batch": b(0)}),
         r"train_batch must be a function step -> \(X, T\)"),
        (lambda: alg.cross_validation(prob, [[0.0]], **{**cv, "valid_data": b}), "valid_data of Algorithm 1 is one"),
        (lambda: alg.cross_validation(prob, [[0.0]], **{**cv, "W0": np.zeros(5)}), r"W0 has shape \(5,\)"),
        (lambda: alg.hypertrain_simplified(prob, hn, **{**a4, "valid_batch": b(0)}),
         "valid_batch must be a function"),
        (lambda: samplers.gaussian_sampler(0.0, 0.0, n_samples=2, seed=0), "sd must be a positive finite number"),
        (lambda: samplers.gaussian_sampler(0.0, 1.0, n_samples=0, seed=0), "n_samples must be a positive integer"),
        (lambda: samplers.uniform_sampler(1.0, 1.0, n_hyper=1, n_samples=2, seed=0), "width must be a positive finite number"),
        (lambda: samplers.uniform_sampler(-1.0, 1.0, n_hyper=1, n_samples=0, seed=0), "n_samples must be a positive integer"),
        (lambda: samplers.local_sampler(float("nan"), n_samples=2, seed=0), "sigma must be a positive finite number, got nan"),
        (lambda: samplers.local_sampler(0.1, n_samples=2, seed=-1), r"seed must be a non-negative integer below 2\*\*32, got -1"),
        (lambda: samplers.gaussian_sampler(0.0, 1.0, n_samples=2, seed=1.5), r"seed must be a non-negative integer below 2\*\*32, got 1.5"),
        (lambda: alg.hypertrain_global(prob, hn, **{**g2, "sample_lams": samplers.local_sampler(0.1, n_samples=2, seed=0)}),
         "local_sampler draws around lam_hat: use it with Algorithm 3"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()


def test_a_sampler_of_lam_hat_is_refused_by_algorithm_2(tiny):
    """at_lam_hat (and local_sampler) need the lam_hat that only Algorithms 3 and 4 pass: as
    Algorithm 2's p(lam) each says so, instead of autograd's ufunc TypeError on lam_hat=None."""
    prob, hn, phi, b = tiny
    g2 = dict(phi=phi, train_batch=b, valid_batch=b, lam_hat=0.0, iters=3, lam_iters=3)
    message = (r"^at_lam_hat returns lam_hat itself \(Algorithm 4's sampler, in hypertrain_simplified\): use it with "
               r"the local/joint algorithms, hypertrain_local or hypertrain_joint \(they pass lam_hat\); Algorithm 2 "
               r"\(hypertrain_global, train_hypernet\) has no lam_hat: give it a p\(lam\), gaussian_sampler\(mean, sd, "
               r"\.\.\.\) or uniform_sampler\(low, high, \.\.\.\)$")
    with pytest.raises(ValueError, match=message):
        alg.hypertrain_global(prob, hn, sample_lams=samplers.at_lam_hat, **g2)
    with pytest.raises(ValueError, match=message):
        alg.train_hypernet(prob, hn, phi=phi, sample_lams=samplers.at_lam_hat, train_batch=b, iters=2)
    with pytest.raises(ValueError, match="local_sampler draws around lam_hat: use it with Algorithm 3, hypertrain_local "
                                         r"\(they pass lam_hat\); Algorithm 2"):
        alg.train_hypernet(prob, hn, phi=phi, sample_lams=samplers.local_sampler(0.1, n_samples=2, seed=0),
                           train_batch=b, iters=2)
    # where it belongs it runs: Algorithm 3 with at_lam_hat is Algorithm 4
    kw = dict(phi=phi, lam_hat=0.0, train_batch=b, valid_batch=b, iters=3)
    np.testing.assert_array_equal(alg.hypertrain_local(prob, hn, sample_lams=samplers.at_lam_hat, **kw).phi,
                                  alg.hypertrain_simplified(prob, hn, **kw).phi)


def _sampler(at_step0, later):
    return lambda lam_hat, step: at_step0 if step == 0 else later


@pytest.mark.parametrize("sampler, message", [
    (_sampler(np.zeros((2, 1)), np.zeros((3, 1))), r"^sample_lams returned shape \(3, 1\) at step 1 but \(2, 1\) at "
     r"step 0: it must return the same number S of samples of the H hyperparameters every step$"),
    (_sampler(np.zeros((2, 1)), np.zeros((2, 2))), r"returned shape \(2, 2\) at step 1 but \(2, 1\) at step 0"),
    (_sampler(np.zeros((2, 1)), np.zeros(2)), r"returned shape \(2,\) at step 1 but \(2, 1\) at step 0"),
    (_sampler([[0.0], [0.1]], None), r"^sample_lams returned a list at step 0; it must return a NumPy array \(S, 1\), "
     r"e.g. np.array\(...\)$"),
    (_sampler(np.zeros((2, 1)), [[0.0], [0.1]]), r"^sample_lams returned a list at step 1; it must return a NumPy array"),
    (_sampler(np.zeros((2, 1)), 0.5), "sample_lams returned a float at step 1"),
])
def test_a_sampler_that_changes_its_output_is_refused_at_that_step(tiny, sampler, message):
    """Its output is checked fully at step 0 and for its type and shape at every later step."""
    prob, hn, phi, b = tiny
    kw = dict(phi=phi, lam_hat=0.0, train_batch=b, valid_batch=b, iters=4)
    for run in (lambda: alg.hypertrain_global(prob, hn, sample_lams=sampler, lam_iters=1, **kw),
                lambda: alg.hypertrain_joint(prob, hn, sample_lams=sampler, **kw)):
        with pytest.raises(ValueError, match=message):
            run()


def test_edge_inputs_are_refused_with_their_own_message(tiny):
    """Grids of the wrong shape or empty, NaN or empty validation batches, NaN starting points (also
    with iters=0, where nothing would show them), batches that become empty later, NaN/Inf step sizes:
    each a ValueError that names it, never a NaN result or a raw TypeError/ZeroDivisionError."""
    from hypernet.baselines import unrolled
    prob, hn, phi, b = tiny
    X, T = b(0)
    cv = dict(W0=np.full(18, 0.1), train_batch=b, valid_data=(X, T), opt=optim.adam(1e-3), iters=3)
    a4 = dict(phi=phi, lam_hat=0.0, train_batch=b, valid_batch=b, iters=3, opt_phi=optim.adam(1e-3), opt_lam=optim.adam(1e-3))
    later_empty = lambda step: (X, T) if step == 0 else (X[:0], T[:0])  # noqa: E731
    un = dict(W0=np.full(18, 0.1), lam_hat=[0.0], train_batch=b, valid_data=(X, T), T=2,
              opt=optim.sgd_momentum(0.1, 0.5), opt_lam=optim.adam(0.1), iters=1)
    cases = [
        (lambda: alg.cross_validation(prob, np.zeros((2, 1, 1)), **cv), r"lams has shape \(2, 1, 1\), expected \(G, 1\)"),
        (lambda: alg.cross_validation(prob, np.zeros((0, 1)), **cv), r"lams has shape \(0, 1\).* G >= 1"),
        (lambda: alg.cross_validation(prob, [], **cv), r"lams has shape \(0, 1\)"),
        (lambda: alg.cross_validation(prob, 0.5, **cv), r"lams has shape \(\)"),
        (lambda: alg.cross_validation(models.make_problem((5, 3), "mse", "per_weight"), np.zeros(18), **cv),
         r"lams has shape \(18,\), expected \(G, 18\)"),
        (lambda: alg.cross_validation(prob, [[0.0]], **{**cv, "valid_data": (X * np.nan, T)}),
         "valid_data has NaN or Inf values"),
        (lambda: alg.cross_validation(prob, [[0.0]], **{**cv, "valid_data": (X[:0], T[:0])}),
         r"valid_data must be \(X, T\) with the same number N >= 1 of rows"),
        (lambda: alg.cross_validation(prob, [[0.0]], **{**cv, "valid_data": 0.5}), r"valid_data must be \(X, T\)"),
        (lambda: alg.cross_validation(prob, [[0.0]], **{**cv, "W0": np.full(18, np.nan), "iters": 0}),
         "W0 has NaN or Inf values"),
        (lambda: alg.cross_validation(prob, [[0.0]], **{**cv, "train_batch": later_empty}),
         r"train_batch\(1\) must return \(X, T\) with the same number N >= 1 of rows"),
        (lambda: alg.cross_validation(prob, [[0.0]], **{**cv, "train_batch": lambda step: 0.5}),
         r"train_batch\(0\) must be \(X, T\)"),
        (lambda: alg.hypertrain_simplified(prob, hn, **{**a4, "phi": phi * np.nan, "iters": 0}),
         "phi has NaN or Inf values"),
        (lambda: alg.descend_lam(prob, hn, phi=phi * np.nan, lam_hat=0.0, valid_batch=b, opt_lam=optim.adam(1e-3),
                                 iters=0),
         "phi has NaN or Inf values"),
        (lambda: alg.hypertrain_simplified(prob, hn, **{**a4, "valid_batch": later_empty}),
         r"valid_batch\(1\) must return \(X, T\) with the same number N >= 1"),
        (lambda: samplers.gaussian_sampler(np.nan, 1.0, n_samples=2, seed=0), "mean has NaN or Inf values"),
        (lambda: samplers.local_sampler(0.1, n_samples=2, seed=2 ** 32), "seed must be a non-negative integer below 2"),
        (lambda: unrolled.hypertrain_unrolled(prob, **{**un, "W0": np.full(18, np.nan), "iters": 0}),
         "W0 has NaN or Inf values"),
        (lambda: unrolled.hypertrain_unrolled(prob, **{**un, "valid_data": (X[:0], T[:0])}),
         r"valid_data must be \(X, T\) with the same number N >= 1"),
    ] + [(lambda lr=lr: optim.adam(lr), "lr must be a positive finite number")
         for lr in (np.nan, np.inf, -np.inf)] + [
        (lambda: optim.adam([0.1]), r"lr as an array must be a column of shape \(G, 1\)"),
        (lambda: optim.adam([[0.1], [np.inf]]), "lr must be positive finite numbers")]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()


def test_lists_work_as_arrays(tiny):
    """Lists for W0, phi, lam and the batches give what the arrays give."""
    from hypernet.baselines import unrolled
    prob, hn, phi, b = tiny
    X, T = b(0)
    listed = lambda step: (X.tolist(), T.tolist())  # noqa: E731
    cv = dict(opt=optim.adam(1e-3), iters=3)
    np.testing.assert_array_equal(
        alg.cross_validation(prob, [0.0, 1.0], W0=[0.1] * 18, train_batch=listed, valid_data=listed(0), **cv).W,
        alg.cross_validation(prob, np.array([[0.0], [1.0]]), W0=np.full(18, 0.1), train_batch=b, valid_data=b(0), **cv).W)
    kw = dict(lam_hat=[0.5], iters=3, opt_phi=optim.adam(1e-3), opt_lam=optim.adam(1e-3))
    np.testing.assert_array_equal(
        alg.hypertrain_simplified(prob, hn, phi=list(phi), train_batch=listed, valid_batch=listed, **kw).phi,
        alg.hypertrain_simplified(prob, hn, phi=phi, train_batch=b, valid_batch=b, **kw).phi)
    un = dict(lam_hat=[0.0], T=2, opt=optim.sgd_momentum(0.1, 0.5), opt_lam=optim.adam(0.1), iters=1)
    assert unrolled.hypertrain_unrolled(prob, W0=[0.1] * 18, train_batch=listed, valid_data=listed(0), **un).lam == \
        unrolled.hypertrain_unrolled(prob, W0=np.full(18, 0.1), train_batch=b, valid_data=b(0), **un).lam
    adam = optim.adam(0.1)
    step, _ = adam.update([1.0, 2.0], adam.init(np.ones(2)))
    np.testing.assert_array_equal(step, adam.update(np.array([1.0, 2.0]), adam.init(np.ones(2)))[0])


def test_keyword_only_after_problem_and_hypernet():
    """Every parameter after (problem, hypernet) (or (problem, lams) for Algorithm 1) is keyword-only."""
    import inspect
    from hypernet.baselines import unrolled
    for fn, n_positional in [(alg.cross_validation, 2), (alg.train_hypernet, 2), (alg.descend_lam, 2),
                             (alg.hypertrain_global, 2), (alg.hypertrain_local, 2), (alg.hypertrain_simplified, 2),
                             (unrolled.hypertrain_unrolled, 1)]:
        params = list(inspect.signature(fn).parameters.values())
        assert all(p.kind == p.POSITIONAL_OR_KEYWORD for p in params[:n_positional]), fn.__name__
        assert all(p.kind == p.KEYWORD_ONLY for p in params[n_positional:]), fn.__name__


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_diverging_runs_name_the_algorithm_and_step(tiny):
    """A huge step size makes the weights overflow: each algorithm stops with DivergedError."""
    prob, hn, phi, b = tiny
    huge = 1e200
    g2 = dict(phi=phi, sample_lams=samplers.gaussian_sampler(0, 1, n_samples=2, seed=0), train_batch=b, valid_batch=b, iters=10,
              lam_iters=10)
    j = dict(phi=phi, lam_hat=0.0, train_batch=b, valid_batch=b, iters=10)
    runs = {
        "Algorithm 1 (cross-validation) diverged at step 1: the training loss":
            lambda: alg.cross_validation(prob, [[0.0]], W0=np.full(18, 0.1), train_batch=b, valid_data=b(0), opt=optim.adam(huge),
                                         iters=10),
        "Algorithm 2 (phase 1, hypernetwork) diverged at step 1: the training loss":
            lambda: alg.hypertrain_global(prob, hn, lam_hat=0.0, opt_phi=optim.adam(huge), opt_lam=optim.adam(1e-3), **g2),
        "Algorithm 2 (phase 2, lam) diverged at step 1: the validation loss":
            lambda: alg.hypertrain_global(prob, hn, lam_hat=1.0, opt_phi=optim.adam(1e-3), opt_lam=optim.adam(huge), **g2),
        "Algorithm 3 diverged at step 0: the validation loss":
            lambda: alg.hypertrain_local(prob, hn, n_samples=2, sigma=0.1, opt_phi=optim.adam(huge), opt_lam=optim.adam(1e-3), seed=0, **j),
        "Algorithm 4 diverged at step 1: the training loss":
            lambda: alg.hypertrain_simplified(prob, hn, opt_phi=optim.adam(1e-3), opt_lam=optim.adam(huge), **j),
    }
    for message, run in runs.items():
        with pytest.raises(alg.DivergedError) as e:
            run()
        assert str(e.value).startswith(message), str(e.value)
        assert "lower the step sizes" in str(e.value)


def test_nan_gradient_at_the_start_names_the_cause(tiny):
    """All-zero weights under the unsquared norm penalty: the loss is finite but its gradient is not.
    The message says so, instead of blaming the step sizes."""
    prob, hn, phi, b = tiny
    with pytest.raises(alg.DivergedError, match="gradient is NaN or Inf at the first step.*all-zero weights"):
        alg.cross_validation(prob, [[0.0]], W0=np.zeros(18), train_batch=b, valid_data=b(0), opt=optim.adam(1e-3), iters=3)
    with pytest.raises(alg.DivergedError, match="Algorithm 4: the gradient is NaN or Inf at the first step"):
        alg.hypertrain_simplified(prob, hn, phi=np.zeros(hn.n_params), lam_hat=0.0, train_batch=b, valid_batch=b,
                                  iters=3, opt_phi=optim.adam(1e-3), opt_lam=optim.adam(1e-3))


def test_finite_blow_up_warns(tiny):
    """A loss that grows a thousandfold but stays finite is not silent."""
    prob, hn, phi, b = tiny
    with pytest.warns(alg.BlowUpWarning, match="grew from"):
        alg.cross_validation(prob, [[-8.0]], W0=np.full(18, 0.1), train_batch=b, valid_data=b(0), opt=optim.adam(30.0), iters=20)


def test_a_loss_of_the_wrong_shape_is_refused_at_step_0(tiny):
    """A train_loss that returns the mean (a scalar) instead of one loss per weight vector is refused
    at its first call by every algorithm, with a message naming the function and both shapes; so is
    a valid_loss that returns (S, 1)."""
    prob, hn, phi, b = tiny

    def mean_train_loss(W, lams, batch):
        return np.mean(prob.train_loss(W, lams, batch))

    def column_valid_loss(W, batch):
        return prob.valid_loss(W, batch)[:, None]
    scalar, column = prob._replace(train_loss=mean_train_loss), prob._replace(valid_loss=column_valid_loss)
    j = dict(phi=phi, lam_hat=0.0, train_batch=b, valid_batch=b, iters=3)
    calls = [
        (lambda p: alg.cross_validation(p, [[0.0], [1.0]], W0=np.full(18, 0.1), train_batch=b, valid_data=b(0),
                                        iters=3), r"\(2,\)"),
        (lambda p: alg.hypertrain_global(p, hn, sample_lams=samplers.gaussian_sampler(0, 1, n_samples=2, seed=0),
                                         lam_iters=3, **j), r"\(2,\)"),
        (lambda p: alg.hypertrain_local(p, hn, sigma=0.1, seed=0, **j), r"\(2,\)"),
        (lambda p: alg.hypertrain_simplified(p, hn, **j), r"\(1,\)"),
        (lambda p: unrolled.hypertrain_unrolled(p, W0=np.full(18, 0.1), lam_hat=0.0, train_batch=b, valid_data=b(0),
                                                T=2, opt=optim.sgd_momentum(0.1, 0.9), opt_lam=optim.adam(0.1),
                                                iters=1), r"\(1,\)"),
    ]
    for call, expected in calls:
        with pytest.raises(ValueError, match=r"train_loss \(.*mean_train_loss\) returned shape \(\) for .* it must "
                                             r"return " + expected):
            call(scalar)
    for call, _ in calls:
        with pytest.raises(ValueError, match=r"valid_loss \(.*column_valid_loss\) returned shape \(\d, 1\)"):
            call(column)


# ---- a hypernetwork that follows lam_hat (hypernets.tangent) ------------------------------------
NO_LAM_STEPS = optim.Optimizer(lambda x: 0, lambda g, t: (0 * g, t + 1), "no lam steps")


@pytest.mark.parametrize("family", ["linear", "factorised"])
def test_algorithm3_with_a_tangent_hypernetwork_recentres_and_has_correct_gradients(small, family):
    """After every step the centre is lam_hat; at the end the hypergradient (d/dlam L_Valid) and the
    hypernetwork's gradient (d/dphi of the training objective) agree with finite differences, and
    no gradient flows into the centre."""
    prob, split = small["problem"], small["split"]
    hn = make_hypernet(family, prob.n_hyper, prob.n_weights)
    t, n = hypernets.tangent(hn, 0.0), hn.n_params
    b = data.minibatcher(split, 10, 0)
    centres = []
    res = alg.hypertrain_local(prob, t, phi=t.init(np.random.default_rng(0), 0.3), lam_hat=0.5, train_batch=b,
                               valid_batch=b, sigma=0.3, seed=0, opt_phi=optim.adam(1e-2), opt_lam=optim.adam(5e-2),
                               iters=15, callback=lambda step, s: centres.append((s.phi[n:], s.lam)) and False)
    assert abs(res.lam[0] - 0.5) > 0.3  # lam_hat moved: there was something to re-centre
    for c, lam in centres:
        np.testing.assert_array_equal(c, lam)
    lams, batch = np.array([[0.2], [1.1], [-0.4]]), b(99)
    f = alg.hypernet_train_loss(prob, t)
    fd_check(lambda inner: f(anp.concatenate([inner, res.phi[n:]]), lams, batch), res.phi[:n], h=1e-6)
    assert np.all(grad(f)(res.phi, lams, batch)[n:] == 0)
    g = alg.hypernet_valid_loss(prob, t)
    fd_check(lambda lam: g(res.phi, lam, batch), res.lam, h=1e-6)
    fd_check(lambda lam: g(res.phi, lam, batch), res.lam + 2.0, h=1e-6)


@pytest.mark.parametrize("family, lam0", [("linear", 0.0), ("linear", 0.7), ("factorised", -2.0)])
def test_a_tangent_run_without_lam_steps_is_bit_identical_to_the_fixed_centre_run(small, family, lam0):
    """With lam_hat never moving, re-centring changes nothing: the same numbers, to the bit, as the
    hypernetwork fed lam - lam0 (raw lam for lam0 = 0), under Algorithms 3 and 4."""
    prob, split = small["problem"], small["split"]
    hn = make_hypernet(family, prob.n_hyper, prob.n_weights)
    fixed = hn if lam0 == 0.0 else hypernets.centred(hn, lam0)
    t = hypernets.tangent(hn, lam0)
    b = data.minibatcher(split, 10, 0)
    common = dict(lam_hat=lam0, train_batch=b, valid_batch=b, opt_phi=optim.adam(1e-2), opt_lam=NO_LAM_STEPS, iters=12)
    for run in (lambda h, phi: alg.hypertrain_local(prob, h, phi=phi, sigma=0.3, seed=0, **common),
                lambda h, phi: alg.hypertrain_simplified(prob, h, phi=phi, **common)):
        a, c = run(fixed, hn.init(np.random.default_rng(0), 0.3)), run(t, t.init(np.random.default_rng(0), 0.3))
        np.testing.assert_array_equal(c.phi[:hn.n_params], a.phi)
        for x, y in ((a.lam, c.lam), (a.train_losses, c.train_losses), (a.valid_losses, c.valid_losses),
                     (a.lam_path, c.lam_path)):
            np.testing.assert_array_equal(x, y)


def test_layer_sizes_that_do_not_make_n_weights_are_refused(tiny):
    """layer_sizes is optional; given, it must describe n_weights (a 6-3 MLP has 21, not 18)."""
    prob, hn, phi, b = tiny
    bad = prob._replace(layer_sizes=(6, 3))
    with pytest.raises(ValueError, match=r"layer_sizes \(6, 3\) make an MLP of 21 weights and biases, but n_weights is 18"):
        alg.hypertrain_local(bad, hn, phi=phi, lam_hat=np.zeros(1), train_batch=b, valid_batch=b, iters=3, sigma=0.1,
                             seed=0)
    alg.hypertrain_local(prob._replace(layer_sizes=None), hn, phi=phi, lam_hat=np.zeros(1), train_batch=b,
                         valid_batch=b, iters=3, sigma=0.1, seed=0)  # left out: not checked


def test_what_a_new_user_passes_wrongly_is_one_line(tiny):
    """A sampler that is no function, lam_hat given as a string, a Problem with no hyperparameter: each
    one line naming it; init takes a seed as well as a Generator; an optimiser shows as its name."""
    prob, hn, phi, b = tiny
    kw = dict(phi=phi, train_batch=b, valid_batch=b, iters=2)
    with pytest.raises(ValueError, match=r"^sample_lams must be a function \(lam_hat, step\) -> \(S, 1\) array"):
        alg.hypertrain_global(prob, hn, sample_lams=0.5, lam_hat=0.0, lam_iters=2, **kw)
    with pytest.raises(ValueError, match="^lam_hat must be a number or an array of numbers, got str$"):
        alg.hypertrain_local(prob, hn, lam_hat="1.0", sigma=0.1, n_samples=2, seed=0, **kw)
    with pytest.raises(ValueError, match=r"^problem.n_hyper must be a positive integer, got 0$"):
        alg.hypertrain_simplified(prob._replace(n_hyper=0), hn, lam_hat=0.0, **kw)
    np.testing.assert_array_equal(hn.init(3, 0.1), hn.init(np.random.default_rng(3), 0.1))
    with pytest.raises(ValueError, match="init takes np.random.default_rng"):
        hn.init(-1, 0.1)
    assert repr(optim.adam(1e-2)) == "adam(lr=0.01)"


def test_an_installed_copy_without_the_checkouts_data_says_where_mnist_is(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "MNIST_PATH", tmp_path / "site-packages" / "data" / "mnist.npz")
    with pytest.raises(data.DataError, match=r"ships in the repository's checkout, not in an installed copy of "
                                             r"hypernet: pass path=<checkout>/data/mnist.npz"):
        data.load_mnist(data.MNIST_PATH)
