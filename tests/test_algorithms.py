"""Algorithms 1-4 (hypernet/algorithms.py) against references: finite differences of the
hyper-training gradient and of the hypergradient for every hypernetwork family, the closed-form
best response of ridge regression, determinism, and the errors of invalid or diverging runs."""
import numpy as np
import pytest
from autograd import grad
from scipy.optimize import minimize_scalar

from hypernet import algorithms as alg
from hypernet import data, hypernets, models, optim
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
    f = alg.hyper_objective(prob, hn)
    # the objective is what its docstring says
    direct = np.mean([prob.train_loss(hn.apply(phi, lams[s:s + 1]), lams[s:s + 1], batch)[0] for s in range(3)])
    assert f(phi, lams, batch) == pytest.approx(direct, rel=1e-12)
    fd_check(lambda p: f(p, lams, batch), phi, h=1e-6)
    g = alg.valid_objective(prob, hn)
    assert g(lams[0], phi, batch) == pytest.approx(prob.valid_loss(hn.apply(phi, lams[:1]), batch)[0], rel=1e-12)
    fd_check(lambda lam: g(lam, phi, batch), lams[0], h=1e-6)


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
    res = alg.cross_validation(ridge["problem"], lams, np.zeros(6), ridge["train_batch"], ridge["valid"],
                               lr=0.02, iters=2000)
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
    args = (ridge["train_batch"], ridge["valid_batch"], np.array([0.5]))
    phi = alg.hypertrain_global(prob, hn, phi, alg.uniform_sampler(-3, 1, 1, 16, seed=0), *args,
                                iters=1000, lam_iters=0, lr_phi=1e-2, lr_lam=1e-2).phi
    res = alg.hypertrain_global(prob, hn, phi, alg.uniform_sampler(-3, 1, 1, 16, seed=1), *args,
                                iters=1000, lam_iters=400, lr_phi=1e-3, lr_lam=2e-2)
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
    res = alg.hypertrain_local(ridge["problem"], hn, hn.init(np.random.default_rng(0), 0.1), np.array([lam0]),
                               ridge["train_batch"], ridge["valid_batch"], iters=1500, n_samples=4, sigma=0.2,
                               lr_phi=0.03, lr_lam=0.01, seed=0)
    assert abs(res.lam[0] - ridge["lam_opt"]) < 0.05
    assert res.lam_path.shape == (1501, 1) and res.lam_path[-1, 0] == res.lam[0]
    # near lam_hat the linear hypernetwork is the best response
    theta = best_response(res.lam[0], *ridge["train"])
    assert np.linalg.norm(hn.apply(res.phi, res.lam[None, :])[0] - theta) < 0.01 * np.linalg.norm(theta)


@pytest.fixture(scope="module")
def algorithm4(ridge):
    hn = hypernets.linear(1, 6)
    res = alg.hypertrain_simplified(ridge["problem"], hn, hn.init(np.random.default_rng(0), 0.1), np.array([-3.0]),
                                    ridge["train_batch"], ridge["valid_batch"], iters=1500, lr_phi=0.03, lr_lam=0.01)
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
    cv = alg.cross_validation(prob, [[-1.0], [0.0]], W0, tb, vb(0), lr=1e-2, iters=20)
    a2 = alg.hypertrain_global(prob, hn, phi, alg.gaussian_sampler(0.0, 1.0, 2, seed), tb, vb, np.array([0.5]),
                               iters=20, lam_iters=10, lr_phi=1e-2, lr_lam=1e-2)
    a3 = alg.hypertrain_local(prob, hn, phi, np.array([0.5]), tb, vb, 20, 2, 0.5, 1e-2, 1e-2, seed)
    a4 = alg.hypertrain_simplified(prob, hn, phi, np.array([0.5]), tb, vb, 20, 1e-2, 1e-2)
    return [cv.W, cv.valid_losses, cv.train_losses] + [a for r in (a2, a3, a4) for a in
                                                        (r.phi, r.lam, r.train_losses, r.valid_losses, r.lam_path)]


def test_same_seed_same_numbers(small):
    first, second, other = run_all(small, 7), run_all(small, 7), run_all(small, 8)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert all(not np.array_equal(a, c) for a, c in zip(first, other))


def test_samplers_are_seeded_by_step():
    s = alg.gaussian_sampler([1.0, -1.0], 0.5, 4, seed=2)
    assert s(3).shape == (4, 2)
    np.testing.assert_array_equal(s(3), s(3))
    assert not np.array_equal(s(3), s(4))
    draws = np.concatenate([s(i) for i in range(500)])
    np.testing.assert_allclose(draws.mean(0), [1.0, -1.0], atol=0.05)
    np.testing.assert_allclose(draws.std(0), [0.5, 0.5], atol=0.03)
    u = np.concatenate([alg.uniform_sampler(-3, 3, 10, 25, seed=0)(i) for i in range(40)])
    assert u.shape == (1000, 10) and u.min() >= -3 and u.max() <= 3 and abs(u.mean()) < 0.1


def test_callback_stops_the_loop(small):
    prob, hn, split = small["problem"], small["hn"], small["split"]
    b = data.minibatcher(split, 10, 0)
    phi = hn.init(np.random.default_rng(0), 0.1)
    seen = []
    res = alg.hypertrain_local(prob, hn, phi, np.array([0.0]), b, b, 50, 2, 0.5, 1e-2, 1e-2, 0,
                               callback=lambda step, s: seen.append(step) or step == 4)
    assert seen == [0, 1, 2, 3, 4] and len(res.train_losses) == 5 and res.lam_path.shape == (6, 1)
    W0 = np.full(prob.n_weights, 0.1)
    cv = alg.cross_validation(prob, [[0.0]], W0, b, b(0), 1e-2, 50, callback=lambda s, W: s == 2)
    # stopped after 3 steps: the same weights as a run of 3 steps
    np.testing.assert_array_equal(cv.W, alg.cross_validation(prob, [[0.0]], W0, b, b(0), 1e-2, 3).W)


# ---- invalid settings and diverging runs ----------------------------------------------------
@pytest.fixture(scope="module")
def tiny():
    prob = models.make_problem((5, 3), "nll", "l2_norm")
    hn = hypernets.linear(1, prob.n_weights)
    batch = (RNG.random((6, 5)), np.eye(3)[RNG.integers(0, 3, 6)])
    return prob, hn, hn.init(np.random.default_rng(0), 0.1), (lambda step: batch)


@pytest.mark.parametrize("change, message", [
    (dict(lr_phi=0.0), "lr_phi must be positive, got 0.0"),
    (dict(lr_lam=-1e-3), "lr_lam must be positive, got -0.001"),
    (dict(n_samples=0), "n_samples must be positive, got 0"),
    (dict(sigma=0.0), "sigma must be positive, got 0.0"),
    (dict(sigma=-1.0), "sigma must be positive"),
    (dict(iters=-1), "iters must be a non-negative integer, got -1"),
    (dict(iters=2.5), "iters must be a non-negative integer"),
    (dict(lam_hat=np.zeros(2)), r"initial lam has shape \(2,\), expected \(1,\)"),
    (dict(phi=np.zeros(5)), r"phi has shape \(5,\), expected \(36,\)"),
])
def test_algorithm3_invalid_settings(tiny, change, message):
    prob, hn, phi, b = tiny
    kw = dict(phi=phi, lam_hat=np.zeros(1), train_batch=b, valid_batch=b, iters=3, n_samples=2, sigma=0.1,
              lr_phi=1e-3, lr_lam=1e-3, seed=0)
    kw.update(change)
    with pytest.raises(ValueError, match=message):
        alg.hypertrain_local(prob, hn, **kw)


def test_other_invalid_settings(tiny):
    prob, hn, phi, b = tiny
    cases = [
        (lambda: alg.hypertrain_global(prob, hn, phi, alg.gaussian_sampler(0, 1, 2, 0), b, b, np.zeros(1), 3, 3, 0.0, 1e-3),
         "lr_phi must be positive"),
        (lambda: alg.hypertrain_global(prob, hn, phi, alg.gaussian_sampler(0, 1, 2, 0), b, b, np.zeros(1), 3, -2, 1e-3, 1e-3),
         "lam_iters must be a non-negative integer"),
        (lambda: alg.hypertrain_global(prob, hn, phi, alg.gaussian_sampler(0, 1, 2, 0), b, b, np.zeros(3), 3, 3, 1e-3, 1e-3),
         r"initial lam has shape \(3,\)"),
        (lambda: alg.hypertrain_simplified(prob, hn, phi, np.zeros(1), b, b, 3, 1e-3, 0.0), "lr_lam must be positive"),
        (lambda: alg.hypertrain_simplified(prob, hypernets.linear(2, prob.n_weights), np.zeros(54), np.zeros(1), b, b, 3,
                                           1e-3, 1e-3),
         "hypernetwork linear 2->18 maps 2 hyperparameters to 18 weights, but the problem has 1 and 18"),
        (lambda: alg.cross_validation(prob, [[0.0]], np.zeros(18), b, b(0), 0.0, 3), "lr must be positive"),
        (lambda: alg.cross_validation(prob, [[0.0, 1.0]], np.zeros(18), b, b(0), 1e-3, 3), r"lams has shape \(1, 2\)"),
        (lambda: alg.cross_validation(prob, [[0.0]], np.zeros(18), b, b(0), 1e-3, -1), "iters must be a non-negative"),
        (lambda: alg.gaussian_sampler(0.0, 0.0, 2, 0), "sd must be positive"),
        (lambda: alg.gaussian_sampler(0.0, 1.0, 0, 0), "n_samples must be positive"),
        (lambda: alg.uniform_sampler(1.0, 1.0, 1, 2, 0), "width must be positive"),
        (lambda: alg.uniform_sampler(-1.0, 1.0, 1, 0, 0), "n_samples must be positive"),
        (lambda: optim.adam_update(np.ones(2), optim.adam_init(np.ones(2)), 0.0), "Adam step size lr must be positive"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_diverging_runs_name_the_algorithm_and_step(tiny):
    """A huge step size makes the weights overflow: each algorithm stops with DivergedError."""
    prob, hn, phi, b = tiny
    huge = 1e200
    runs = {
        "Algorithm 1 (cross-validation) diverged at step 1: the training loss":
            lambda: alg.cross_validation(prob, [[0.0]], np.zeros(18), b, b(0), huge, 10),
        "Algorithm 2 (phase 1, hypernetwork) diverged at step 1: the hyper-training loss":
            lambda: alg.hypertrain_global(prob, hn, phi, alg.gaussian_sampler(0, 1, 2, 0), b, b, np.zeros(1), 10, 10,
                                          huge, 1e-3),
        "Algorithm 2 (phase 2, lam) diverged at step 1: the validation loss":
            lambda: alg.hypertrain_global(prob, hn, phi, alg.gaussian_sampler(0, 1, 2, 0), b, b, np.ones(1), 10, 10,
                                          1e-3, huge),
        "Algorithm 3 diverged at step 0: the validation loss":
            lambda: alg.hypertrain_local(prob, hn, phi, np.zeros(1), b, b, 10, 2, 0.1, huge, 1e-3, 0),
        "Algorithm 4 diverged at step 1: the hyper-training loss":
            lambda: alg.hypertrain_simplified(prob, hn, phi, np.zeros(1), b, b, 10, 1e-3, huge),
    }
    for message, run in runs.items():
        with pytest.raises(alg.DivergedError) as e:
            run()
        assert str(e.value).startswith(message), str(e.value)
        assert "Lower the step sizes" in str(e.value)
