"""The fast path (the primitives of hypernet/ops.py, the fused Adam) against the reference forms
(the formulas in models.py, hypernets.py, optim.py): values and gradients agree to 1e-12 relative
in float64, and the switch in hypernet/fastpath.py really chooses between them."""
import os
import subprocess
import sys
from pathlib import Path

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from checkout import checkout_env
from hypernet import fastpath, hypernets, models, optim

RNG = np.random.default_rng(0)
ROOT = Path(__file__).resolve().parents[1]


def assert_close(fast, ref, rtol=1e-12):
    """|fast - ref| <= rtol |ref| in the 2-norm over all entries."""
    fast, ref = np.asarray(fast), np.asarray(ref)
    assert fast.shape == ref.shape
    assert np.linalg.norm(fast - ref) <= rtol * np.linalg.norm(ref), np.linalg.norm(fast - ref) / np.linalg.norm(ref)


def assert_paths_agree(f, args, argnums):
    """f(*args) and the gradients of sum(f(*args) * C) for random C, with respect to each of
    argnums, on the fast path and with the reference forms."""
    with fastpath.fast():
        C = RNG.standard_normal(np.shape(f(*args)))

    def scalar(*a):
        return anp.sum(f(*a) * C)
    out = {}
    for name, mode in (("fast", fastpath.fast), ("reference", fastpath.reference)):
        with mode():
            out[name] = [f(*args)] + [grad(scalar, i)(*args) for i in argnums]
    for fast, ref in zip(out["fast"], out["reference"]):
        assert_close(fast, ref)


# ---- the elementary model -------------------------------------------------------------------
@pytest.mark.parametrize("S", [1, 3])
@pytest.mark.parametrize("sizes", [(784, 10), (5, 4, 3), (3, 6, 5, 2)], ids=["1 layer", "2 layers", "3 layers"])
def test_predict_fast_equals_reference(sizes, S):
    W, X = RNG.standard_normal((S, models.n_weights(sizes))), RNG.standard_normal((7, sizes[0]))
    assert_paths_agree(lambda W, X: models.predict(W, X, sizes), (W, X), argnums=(0, 1))


@pytest.mark.parametrize("loss", ["mse", "gaussian_nll"])
def test_loss_fast_equals_reference(loss):
    P, T = RNG.standard_normal((3, 20, 10)), RNG.standard_normal((20, 10))
    assert_paths_agree(getattr(models, loss), (P, T), argnums=(0, 1))


@pytest.mark.parametrize("penalty, H", [("l2_norm", 1), ("sq_l2", 1), ("per_weight", 7850), ("per_class", 10)])
def test_penalty_fast_equals_reference(penalty, H):
    W, lam = RNG.standard_normal((3, 7850)), RNG.standard_normal((3, H))
    assert_paths_agree(models.PENALTIES[penalty], (W, lam), argnums=(0, 1))


@pytest.mark.parametrize("sizes, penalty", [((6, 10), "per_weight"), ((6, 5, 10), "l2_norm")])
def test_mixed_second_derivative_fast_equals_reference(sizes, penalty):
    """d/dlam of (dL_train/dW . v): what the unrolled baseline differentiates."""
    prob = models.make_problem(sizes, "mse", penalty)
    W, lam = RNG.standard_normal((2, prob.n_weights)), RNG.standard_normal((2, prob.n_hyper))
    batch, v = (RNG.standard_normal((9, 6)), RNG.standard_normal((9, 10))), RNG.standard_normal(W.shape)
    dW = grad(lambda W, lam: anp.sum(prob.train_loss(W, lam, batch)))
    assert_paths_agree(lambda lam: anp.sum(dW(W, lam) * v), (lam,), argnums=(0,))


# ---- hypernetworks --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["linear", "factorised", "mlp"])
@pytest.mark.parametrize("H", [1, 3])
def test_hypernet_apply_fast_equals_reference(name, H):
    K, D, S = 4, 11, 5
    hn = hypernets.linear(H, D) if name == "linear" else getattr(hypernets, name)(H, K, D)
    phi, lams = RNG.standard_normal(hn.n_params), RNG.standard_normal((S, H))
    assert_paths_agree(hn.apply, (phi, lams), argnums=(0, 1))


# ---- Adam -----------------------------------------------------------------------------------
def test_fused_adam_equals_textbook_adam():
    """One Adam, three forms: the textbook formulas (reference), the fused passes of the fast path
    (to 1e-12) and the same passes in place (optim.adam_in_place, bit for bit the fast path)."""
    x, adam = RNG.standard_normal(200), optim.adam(1e-3)
    fused, textbook = adam.init(x), adam.init(x)
    in_place, scratch = optim.AdamState(np.zeros_like(x), np.zeros_like(x), 0), np.empty_like(x)
    x_fused, x_textbook, x_in_place = x.copy(), x.copy(), x.copy()
    for t in range(1, 31):
        g = RNG.standard_normal(200) * 10.0 ** RNG.integers(-6, 2, 200)  # gradients over 8 decades
        g_copy = g.copy()
        step_f, fused = adam.update(g, fused)
        with fastpath.reference():
            step_t, textbook = adam.update(g, textbook)
        np.testing.assert_array_equal(g, g_copy)  # neither path writes into its input
        x_fused, x_textbook = x_fused - step_f, x_textbook - step_t
        in_place = optim.adam_in_place(x_in_place, g, in_place, 1e-3, scratch=scratch)
        np.testing.assert_array_equal(g, g_copy)
        np.testing.assert_array_equal(x_in_place, x_fused)
        np.testing.assert_allclose(step_f, step_t, rtol=1e-12, atol=0)
        for a, b in ((fused.m, textbook.m), (fused.v, textbook.v)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
        assert fused.t == textbook.t == in_place.t == t
    np.testing.assert_allclose(x_fused, x_textbook, rtol=1e-12, atol=1e-15)


# ---- the switch -----------------------------------------------------------------------------
FAST = [(models, "affine"), (models, "cols"), (models, "weighted_sq_sum"), (models, "mean_sq_err"),
        (hypernets, "affine"), (hypernets, "two_layer"), (optim, "_adam_fused")]


def _exercise_everything():
    """A training loss and its gradient for every penalty and both losses, each hypernetwork's
    apply and its gradient, and an Adam step."""
    X, T = RNG.standard_normal((5, 6)), RNG.standard_normal((5, 10))
    for loss, penalty in (("mse", "per_weight"), ("nll", "l2_norm"), ("nll", "per_class"), ("mse", "sq_l2")):
        for sizes in ((6, 10), (6, 4, 10)) if penalty != "per_class" else ((6, 10),):
            prob = models.make_problem(sizes, loss, penalty)
            W, lam = RNG.standard_normal((2, prob.n_weights)), RNG.standard_normal((2, prob.n_hyper))
            grad(lambda W: anp.sum(prob.train_loss(W, lam, (X, T))))(W)
    for hn in (hypernets.linear(2, 7), hypernets.factorised(2, 3, 7), hypernets.mlp(2, 3, 7)):
        phi = RNG.standard_normal(hn.n_params)
        grad(lambda phi: anp.sum(hn.apply(phi, RNG.standard_normal((3, 2))) ** 2))(phi)
    adam = optim.adam(1e-3)
    adam.update(RNG.standard_normal(4), adam.init(np.zeros(4)))


def test_the_switch_chooses_the_path(monkeypatch):
    calls = {}
    for module, name in FAST:
        def counted(*args, _f=getattr(module, name), _key=f"{module.__name__}.{name}", **kwargs):
            calls[_key] = calls.get(_key, 0) + 1
            return _f(*args, **kwargs)
        monkeypatch.setattr(module, name, counted)
    with fastpath.reference():
        _exercise_everything()
    assert calls == {}  # the reference forms call none of the primitives nor the fused Adam
    with fastpath.fast():
        _exercise_everything()
    assert sorted(calls) == sorted(f"{m.__name__}.{n}" for m, n in FAST)


def test_reference_and_use_fast_restore_the_setting():
    before = fastpath.ENABLED
    with pytest.raises(RuntimeError):
        with fastpath.reference():
            assert fastpath.ENABLED is False
            raise RuntimeError
    assert fastpath.ENABLED is before
    assert fastpath.use_fast(False) is before and fastpath.ENABLED is False
    fastpath.use_fast(before)
    assert fastpath.ENABLED is before


@pytest.mark.parametrize("value, enabled", [(None, True), ("0", True), ("1", False)])
def test_environment_variable(value, enabled):
    env = {k: v for k, v in checkout_env().items() if k != "HYPERNET_REFERENCE"}
    if value is not None:
        env["HYPERNET_REFERENCE"] = value
    out = subprocess.run([sys.executable, "-c", "from hypernet import fastpath; print(fastpath.ENABLED)"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(enabled)
