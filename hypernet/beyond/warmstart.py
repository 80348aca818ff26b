"""Hyper-training with an unrolled warm start: the combination the paper proposes as future work
(Section 4.2: "use a hypernetwork to output initial parameters and then unroll several steps of
optimization to differentiate through").

For hyperparameters lam the hypernetwork proposes weights W_0 = w_phi(lam); K steps of the inner
optimiser of the unrolled baseline (SGD with momentum, hypernet.optim.sgd_momentum) start from
them on the training loss with hyperparameters lam, on K training minibatches drawn once, giving
W_K(lam). The hyperparameter step descends L_Valid(W_K(lam)); its gradient runs backwards through
the K steps and on through the hypernetwork (reverse mode, as the unrolled baseline):

    dL_Valid/dlam = dL_Valid/dW_K (dW_K/dW_0 dw_phi/dlam + the direct dW_K/dlam of the K steps).

The hypernetwork is trained exactly as in Algorithm 3 (the same loop, algorithms.hypertrain_joint,
with this objective for the lam step), and the weights the method delivers for lam_hat are
W_K(lam_hat). Two limits, both tested: K = 0 is Algorithm 3; a hypernetwork whose output does not
depend on lam and is not trained is the unrolled baseline started from that output with T = K.
Memory grows as K x D, as the unrolled baseline's (peak_memory).
"""
import os
import warnings

import autograd.numpy as np

from ..algorithms import PAPER_ADAM, hypertrain_joint
from ..checks import caller_level, check_batch, check_compatible, check_count, check_steps, lam_vector
from ..optim import check_optimizer, sgd_momentum
from ..baselines.unrolled import peak_bytes, train_unrolled


def warm_started(problem, hypernet, *, K, inner_batch, lr, momentum):
    """weights(phi, lam (H,)) -> W_K (D,): K steps of SGD with momentum (step lr) from w_phi(lam)
    on inner_batch(0), ..., inner_batch(K - 1), drawn once here; differentiable in phi and lam."""
    check_count(K=K, allow_zero=True)
    opt = sgd_momentum(lr, momentum) if K else None
    batches = [inner_batch(0)] if K else []  # the first alone, to size the run before drawing the others
    if K:
        check_memory(problem, K, check_batch(batches[0], "inner_batch(0)", sizes=problem.layer_sizes))
    batches += [inner_batch(k) for k in range(1, K)]

    def weights(phi, lam):
        W0 = hypernet.apply(phi, np.reshape(lam, (1, -1)))[0]
        return train_unrolled(problem, W0=W0, lam=lam, train_batch=batches.__getitem__, T=K, opt=opt) if K else W0
    return weights


# Memory and time grow as K: the tape of one hypergradient keeps every inner step's intermediates
# until the backward pass, and each lam step runs K training steps forward and back. Measured per
# inner step (peak_memory, tracemalloc): about four float vectors of the D weights (the weights,
# the velocity, the gradient and its temporaries), the step's activations, and some 20 KB of
# autograd's own records: 280 KB for Figure 5's 784-10 model (D = 7850: 54 MB at K = 200), 22 KB for
# a 5-3 model. The K minibatches, drawn once and kept, add their size when they are copies (as
# hypernet.data.minibatcher's are: 627 KB each for 100 MNIST images), not when they are views of one
# array. From these, a lower estimate: a K whose estimate exceeds the machine's memory could only
# swap or be killed, and is refused before any work (K = 40,000 on MNIST: ~36 GB, of which 25 GB
# are the minibatches it would first spend minutes drawing); one above
# WARN_BYTES runs, with a warning that names the estimate (K = 100,000 on a toy model: ~1.7 GB,
# and some 10 minutes per lam step).
STEP_BYTES, WARN_BYTES = 16 * 2 ** 10, 2 ** 30


def check_memory(problem, K, batch):
    """Refuse (ValueError), or warn about, K inner steps on batches like `batch` (see above)."""
    widths = sum(problem.layer_sizes[1:]) if problem.layer_sizes else 0
    kept = sum(a.nbytes for a in map(np.asarray, batch) if a.base is None)  # a copy, kept K times; not a view
    need = K * (STEP_BYTES + 8 * (4 * problem.n_weights + len(batch[0]) * widths) + kept)
    try:
        have = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # (no sysconf, e.g. Windows: a bound of 16 GiB)
        have = 2 ** 34
    what = (f"Warm-started unrolling: K = {K} inner steps keep at least {need / 2 ** 30:,.1f} GiB for each hypergradient "
            f"({need / K / 2 ** 10:.0f} KiB a step for D = {problem.n_weights} weights)")
    if need > have:
        raise ValueError(f"{what}, more than this machine's {have / 2 ** 30:,.1f} GiB of memory: lower K")
    if need > WARN_BYTES:
        warnings.warn(f"{what}, and each lam step runs K training steps forward and back: lower K unless that is "
                      "intended", RuntimeWarning, stacklevel=caller_level())


def warm_start_valid_loss(problem, weights):
    """g(phi, lam (H,), batch) = L_Valid(W_K(lam), batch): what the lam step descends."""
    return lambda phi, lam, batch: np.sum(problem.valid_loss(np.reshape(weights(phi, lam), (1, -1)), batch))


def hypertrain_warm_start(problem, hypernet, *, phi, lam_hat, sample_lams, train_batch, valid_batch, K,
                          inner_batch, inner_lr, momentum, opt_phi=PAPER_ADAM, opt_lam=PAPER_ADAM, iters=None,
                          callback=None):
    """Algorithm 3's loop with the lam step on L_Valid(W_K(lam_hat)) (see the module docstring).
    The callback's State also holds `weights`: the function lam -> W_K(lam) of the current phi."""
    # what hypertrain_joint checks, checked before the K minibatches are drawn (they may take gigabytes)
    check_compatible(problem, hypernet, phi)
    lam_vector(lam_hat, problem)
    check_optimizer(opt_phi=opt_phi, opt_lam=opt_lam)
    check_steps(iters, callback)
    weights = warm_started(problem, hypernet, K=K, inner_batch=inner_batch, lr=inner_lr, momentum=momentum)
    outer = callback and (lambda step, state: callback(step, state._replace(weights=lambda lam: weights(state.phi, lam))))
    return hypertrain_joint(problem, hypernet, phi=phi, lam_hat=lam_hat, sample_lams=sample_lams,
                            train_batch=train_batch, valid_batch=valid_batch,
                            lam_objective=warm_start_valid_loss(problem, weights), opt_phi=opt_phi, opt_lam=opt_lam,
                            iters=iters, callback=outer, name=f"Warm-started unrolling (K = {K})")


def peak_memory(problem, hypernet, *, phi, lam, valid_batch, K, inner_batch, lr, momentum):
    """Peak bytes allocated during one hypergradient of L_Valid(W_K(lam)) (tracemalloc)."""
    from autograd import grad
    weights = warm_started(problem, hypernet, K=K, inner_batch=inner_batch, lr=lr, momentum=momentum)
    return peak_bytes(grad(warm_start_valid_loss(problem, weights), 1), phi, np.asarray(lam, float), valid_batch)
