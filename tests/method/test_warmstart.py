"""The warm-started unrolling of hypernet/beyond/warmstart.py (the paper's Section 4.2 suggestion): its
hypergradient against finite differences, K = 0 against Algorithm 3, a constant untrained
hypernetwork against the unrolled baseline, determinism, memory, and its argument checks."""
import numpy as np
import pytest

from hypernet import algorithms as alg
from hypernet import hypernets, models, optim, samplers
from hypernet.baselines import unrolled
from hypernet.beyond import warmstart
from gradcheck import fd_check


def _setup(seed=0, n_in=4, n_out=2):
    rng = np.random.default_rng(seed)
    problem = models.make_problem((n_in, n_out), loss="mse", penalty="per_weight")
    X, Xv = rng.standard_normal((40, n_in)), rng.standard_normal((20, n_in))
    A = rng.standard_normal((n_in, n_out))
    train, valid = (X, X @ A + 0.5 * rng.standard_normal((40, n_out))), (Xv, Xv @ A + 0.5 * rng.standard_normal((20, n_out)))
    batch = lambda k: (train[0][10 * (k % 4):10 * (k % 4) + 10], train[1][10 * (k % 4):10 * (k % 4) + 10])  # noqa: E731
    hn = hypernets.factorised(problem.n_hyper, 3, problem.n_weights)
    return problem, hn, hn.init(rng, 0.3), rng.uniform(-3, -1, problem.n_hyper), batch, train, valid


def test_hypergradient_matches_finite_differences_in_lam_and_phi():
    problem, hn, phi, lam, batch, train, valid = _setup()
    weights = warmstart.warm_started(problem, hn, K=6, inner_batch=batch, lr=0.1, momentum=0.9)
    g = warmstart.warm_start_valid_loss(problem, weights)
    fd_check(lambda l: g(phi, l, valid), lam, h=1e-6)      # the hypergradient, through K steps and w_phi
    fd_check(lambda p: g(p, lam, valid), phi, h=1e-6)      # and in phi (the path through the hypernetwork)
    # the objective is what its docstring says: K explicit momentum steps from w_phi(lam)
    W, V = hn.apply(phi, lam[None, :]), 0.0
    for k in range(6):
        V = 0.9 * V - 0.1 * _grad(problem, W, lam, batch(k))
        W = W + V
    assert g(phi, lam, valid) == pytest.approx(problem.valid_loss(W, valid)[0], rel=1e-12)


def _grad(problem, W, lam, batch):
    from autograd import grad
    return grad(lambda W: np.sum(problem.train_loss(W, lam[None, :], batch)))(W)


def _run(problem, hn, phi, lam, batch, valid, K, **kw):
    common = dict(phi=phi, lam_hat=lam, sample_lams=samplers.local_sampler(0.01, n_samples=2, seed=3),
                  train_batch=batch, valid_batch=lambda step: valid, opt_phi=optim.adam(1e-2), opt_lam=optim.adam(1e-2), iters=25)
    if K is None:
        return alg.hypertrain_local(problem, hn, **common, **kw)
    return warmstart.hypertrain_warm_start(problem, hn, K=K, inner_batch=batch, inner_lr=0.1, momentum=0.9,
                                           **common, **kw)


def test_K0_is_algorithm_3_exactly():
    problem, hn, phi, lam, batch, train, valid = _setup()
    a, b = _run(problem, hn, phi, lam, batch, valid, K=None), _run(problem, hn, phi, lam, batch, valid, K=0)
    np.testing.assert_array_equal(a.lam_path, b.lam_path)
    np.testing.assert_array_equal(a.phi, b.phi)
    np.testing.assert_array_equal(a.valid_losses, b.valid_losses)
    assert not np.array_equal(a.lam_path[-1], a.lam_path[0])  # lam moved: the comparison is not vacuous


@pytest.mark.filterwarnings("ignore:Output seems independent of input")
def test_constant_untrained_hypernetwork_is_the_unrolled_baseline():
    """w(lam) = W0 for every lam and no hypernetwork parameters to train: the lam step is the
    unrolled baseline's from W0 with T = K (same batches, validation set, outer Adam)."""
    problem, hn, phi, lam, batch, train, valid = _setup()
    W0 = 0.1 * np.random.default_rng(5).standard_normal(problem.n_weights)
    const = hypernets.Hypernet(lambda rng, scale: np.zeros(0), lambda phi, lams: W0 + 0.0 * lams[:, :1],
                               0, problem.n_hyper, problem.n_weights, "constant W0")
    res = warmstart.hypertrain_warm_start(problem, const, phi=np.zeros(0), lam_hat=lam, sample_lams=samplers.at_lam_hat,
                                          train_batch=batch, valid_batch=lambda step: valid, K=7, inner_batch=batch,
                                          inner_lr=0.1, momentum=0.9, opt_phi=optim.adam(1e-2),
                                          opt_lam=optim.adam(0.05), iters=12)
    ref = []
    unrolled.hypertrain_unrolled(problem, W0=W0, lam_hat=lam, train_batch=batch, valid_data=valid, T=7,
                                 opt=optim.sgd_momentum(0.1, 0.9), opt_lam=optim.adam(0.05), iters=12,
                                 callback=lambda s, st: ref.append(st.lam))
    np.testing.assert_allclose(res.lam_path[1:], np.array(ref), rtol=1e-12, atol=1e-14)
    assert np.abs(res.lam_path[-1] - lam).max() > 0.1


def test_deterministic_and_lowers_validation_loss():
    problem, hn, phi, lam, batch, train, valid = _setup()
    a, b = (_run(problem, hn, phi, lam, batch, valid, K=5) for _ in range(2))
    np.testing.assert_array_equal(a.lam_path, b.lam_path)
    np.testing.assert_array_equal(a.phi, b.phi)
    assert a.valid_losses[-1] < a.valid_losses[0]


def test_callback_gets_the_delivered_weights():
    problem, hn, phi, lam, batch, train, valid = _setup()
    seen = []
    _run(problem, hn, phi, lam, batch, valid, K=4, callback=lambda step, s: seen.append(s.weights(s.lam)) or step == 2)
    assert len(seen) == 3 and seen[-1].shape == (problem.n_weights,)


def test_memory_grows_linearly_with_K():
    problem, hn, phi, lam, batch, train, valid = _setup(n_in=50, n_out=10)
    peak = lambda K: warmstart.peak_memory(problem, hn, phi=phi, lam=lam, valid_batch=valid, K=K,  # noqa: E731
                                           inner_batch=batch, lr=0.05, momentum=0.9)
    peak(5)  # a first call allocates what later calls reuse
    m20, m40, m60 = peak(20), peak(40), peak(60)
    # grows with every 20 more steps (tracemalloc's peak varies between processes by about +-30%)
    assert m20 < m40 < m60 and m60 - m20 < 4 * (m40 - m20)  # grows with K, and not faster than linearly by much


@pytest.mark.parametrize("bad, message", [(dict(K=-1), "K must be"), (dict(K=2.5), "K must be"),
                                          (dict(K=1e5), "^K must be a non-negative integer, got 100000.0$"),
                                          (dict(K=True), "^K must be a non-negative integer, got True$"),
                                          (dict(momentum="0.9"), r"momentum must be a number in \[0, 1\)"),
                                          (dict(inner_lr=0.0), "lr must be"), (dict(momentum=1.0), "momentum")])
def test_bad_arguments_refused_before_work(bad, message):
    problem, hn, phi, lam, batch, train, valid = _setup()
    kw = dict(K=3, inner_lr=0.1, momentum=0.9) | bad
    with pytest.raises(ValueError, match=message):
        warmstart.hypertrain_warm_start(problem, hn, phi=phi, lam_hat=lam, sample_lams=samplers.at_lam_hat, train_batch=batch,
                                        valid_batch=lambda s: valid, inner_batch=batch,
                                        iters=1, **kw)


def _warm(K, problem, hn, phi, lam, batch, valid, iters=1):
    return warmstart.hypertrain_warm_start(problem, hn, phi=phi, lam_hat=lam, sample_lams=samplers.at_lam_hat,
                                           train_batch=batch, valid_batch=lambda s: valid, K=K, inner_batch=batch,
                                           inner_lr=0.1, momentum=0.9, iters=iters)


def test_a_K_beyond_memory_is_refused_with_its_estimate_before_any_work():
    """Memory grows as K (test_memory_grows_linearly_with_K): a K whose lower estimate exceeds the
    machine's memory is refused after drawing one inner batch (it once drew all K first, then ran)."""
    problem, hn, phi, lam, batch, train, valid = _setup()
    drawn = []
    counted = lambda k: drawn.append(k) or batch(k)  # noqa: E731
    with pytest.raises(ValueError, match=r"^Warm-started unrolling: K = 1000000000000 inner steps keep at least "
                                         r"[\d,]+\.\d GiB for each hypergradient \(16 KiB a step for D = 10 weights\), "
                                         r"more than this machine's [\d,]+\.\d GiB of memory: lower K$"):
        _warm(10 ** 12, problem, hn, phi, lam, counted, valid)
    assert drawn == [0]
    with pytest.raises(ValueError, match="K = 10000000000000 inner steps"):  # peak_memory sizes its K alike
        warmstart.peak_memory(problem, hn, phi=phi, lam=lam, valid_batch=valid, K=10 ** 13, inner_batch=batch, lr=0.1,
                              momentum=0.9)


def test_the_estimate_counts_minibatches_that_are_copies():
    """The K minibatches are kept for the backward pass: copies (hypernet.data.minibatcher's, 627 KB for 100
    MNIST images) count K times, views of one array do not. Without them, K = 40,000 on MNIST's 784-10 model
    was estimated at 10 GiB and passed with a warning, then drew 23 GiB of minibatches."""
    from hypernet import data
    problem = models.make_problem((784, 10), loss="nll", penalty="per_weight")
    split = data.Split(np.zeros((1000, 784)), np.zeros((1000, 10)), np.zeros(1000, int))
    views = lambda k: (split.X[:100], split.T[:100])  # noqa: E731
    copies = data.minibatcher(split, 100, seed=0)

    def per_step(batch):
        with pytest.raises(ValueError, match="more than this machine's") as e:
            warmstart.check_memory(problem, 10 ** 12, batch(0))
        return float(str(e.value).split("(")[1].split(" KiB a step")[0])
    assert per_step(views) == pytest.approx((16 * 2 ** 10 + 8 * (4 * 7850 + 100 * 10)) / 2 ** 10, abs=0.5)
    assert per_step(copies) - per_step(views) == pytest.approx(8 * 100 * (784 + 10) / 2 ** 10, abs=1)
    need = 40_000 * per_step(copies) * 2 ** 10
    assert need > 33 * 2 ** 30   # above this machine's 24 GB: refused before drawing the other batches


def test_a_wrong_hypernetwork_or_lam_is_refused_before_any_minibatch_is_drawn():
    """The K minibatches may take gigabytes: the hypernetwork, phi, lam_hat, optimisers and iters are
    checked first (a hypernetwork of the wrong H was refused only after drawing all K)."""
    problem, hn, phi, lam, batch, train, valid = _setup()
    drawn = []
    counted = lambda k: drawn.append(k) or batch(k)  # noqa: E731
    wrong = hypernets.linear(problem.n_hyper + 1, problem.n_weights)
    for change, says in ((dict(hn=wrong, phi=wrong.init(0, 0.1)), "hyperparameters"),
                         (dict(lam=lam[:-1]), "lam_hat"), (dict(iters=-1), "iters")):
        args = dict(hn=hn, phi=phi, lam=lam, iters=1) | change
        with pytest.raises(ValueError, match=says):
            warmstart.hypertrain_warm_start(problem, args["hn"], phi=args["phi"], lam_hat=args["lam"],
                                            sample_lams=samplers.at_lam_hat, train_batch=batch,
                                            valid_batch=lambda s: valid, K=50, inner_batch=counted, inner_lr=0.1, momentum=0.9, iters=args["iters"])
        assert drawn == []


def test_a_large_K_warns_with_its_estimate(monkeypatch):
    """Above WARN_BYTES (1 GiB; here lowered) the run goes on after a warning that names the estimate
    and the time; K = 100,000 on this toy model (about 1.6 GiB) would otherwise run for minutes a step."""
    problem, hn, phi, lam, batch, train, valid = _setup()
    monkeypatch.setattr(warmstart, "WARN_BYTES", 2 ** 10)
    with pytest.warns(RuntimeWarning, match=r"^Warm-started unrolling: K = 3 inner steps keep at least 0\.0 GiB .*and each "
                                            "lam step runs K training steps forward and back: lower K unless") as w:
        res = _warm(3, problem, hn, phi, lam, batch, valid)
    assert w[0].filename == __file__   # the caller's line, not the library's
    monkeypatch.undo()
    np.testing.assert_array_equal(res.phi, _warm(3, problem, hn, phi, lam, batch, valid).phi)
    assert warmstart.WARN_BYTES == 2 ** 30
