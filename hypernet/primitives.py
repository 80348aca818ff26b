"""The fast operations of hyper-training, each written once: its forward is the formula (a plain
function of autograd.numpy, the `*_formula` below, which autograd can differentiate itself), the
primitive wraps it, and its hand-written gradient sits right below it. autograd's cost per
operation is a large part of a small training step, so each primitive replaces several of
autograd's operations and their gradients (bench/step_cost.py measures the step). The tests
(tests/method/test_primitives.py) check every hand-written gradient against autograd's derivative
of the same formula and against finite differences; the gradients stay differentiable to any
order (the unrolled baseline and the warm start differentiate through training steps).

cols: a column slice. autograd's own gradient of indexing scatters with np.add.at, which costs
more than the rest of a training step; a slice of contiguous columns only needs its gradient
written into a block of zeros. cols and pad_cols are each other's gradient.
affine: a dense layer whose weights and biases are a block of a flat parameter vector (a layer of
S elementary models at once, or of a hypernetwork). At first order its gradient with respect to
the flat vector is a sparse block that autograd adds in place, so the blocks of one vector cost
one pass over it, not one each.
two_layer: a two-layer hypernetwork on all of its flat parameter vector, whose gradient is written
straight into one new array.
weighted_sq_sum: sum_j e_j w_j^2, the per-weight penalty.
mean_sq_err: the mean squared error of S predictions."""
import autograd.numpy as np
import numpy as onp
from autograd.extend import SparseObject, defvjp, primitive, vspace
from autograd.tracer import isbox

from .layout import biases, layers, weights


def cols_formula(A, start, stop):
    """A[..., start:stop]."""
    return A[..., start:stop]


def pad_cols_formula(g, n, start):
    """Zeros of last dimension n with g in columns [start, start + g.shape[-1])."""
    zeros = lambda k: np.zeros(np.shape(g)[:-1] + (k,), dtype=onp.result_type(g))  # noqa: E731
    return np.concatenate([zeros(start), g, zeros(n - start - np.shape(g)[-1])], axis=-1)


cols, pad_cols = primitive(cols_formula), primitive(pad_cols_formula)


def _cols_vjp(ans, A, start, stop):
    vs = vspace(A)

    def vjp(g):
        if isbox(g):  # a higher-order derivative is being traced: stay differentiable
            return pad_cols(g, vs.shape[-1], start)

        # First order: autograd adds such sparse gradients in place into one array of zeros, so
        # the slices of a flat parameter vector cost one pass over it instead of one per slice.
        def mut_add(out):
            out[..., start:stop] += g
            return out
        return SparseObject(vs, mut_add)
    return vjp


defvjp(cols, _cols_vjp)
defvjp(pad_cols, lambda ans, g, n, start: lambda h: cols(h, start, start + onp.shape(g)[-1]))


# ---- an affine layer stored in a flat parameter vector --------------------------------------
def _blocks(P, layer):
    """The weight matrix (..., n_in, n_out) and biases (..., n_out) of a layer of P (hypernet/layout.py)."""
    return weights(P, layer, cols), biases(P, layer, cols)


def affine_formula(Z, P, layer):
    """Z @ M + b, with the weights M and biases b of `layer` (a layout.Layer) read from P.
    P (n,): one layer, Z (..., n_in) -> (..., n_out) (a hypernetwork's layer).
    P (S, n): S layers, Z (N, n_in) shared or (S, N, n_in) -> (S, N, n_out) (S elementary models)."""
    M, b = weights(P, layer), biases(P, layer)
    n_in, n_out = layer.n_in, layer.n_out
    if np.ndim(P) == 1:
        return np.dot(Z, M) + b
    if np.ndim(Z) == 2:  # all S layers in one matmul, as (S n_out, n_in) @ (n_in, N): BLAS's faster shape here
        S, N = np.shape(P)[0], np.shape(Z)[0]
        MZ = np.dot(np.reshape(np.transpose(M, (0, 2, 1)), (S * n_out, n_in)), np.transpose(Z))
        return np.transpose(np.reshape(MZ, (S, n_out, N)), (0, 2, 1)) + b[:, None, :]
    return np.matmul(Z, M) + b[:, None, :]


affine = primitive(affine_formula)


def _affine_vjp_Z(ans, Z, P, layer):
    shape_Z, n_in, n_out = np.shape(Z), layer.n_in, layer.n_out

    def vjp(g):
        M = weights(P, layer, cols)
        if np.ndim(P) == 1:
            return np.dot(g, np.transpose(M))
        Mt = np.transpose(M, (0, 2, 1))
        if len(shape_Z) == 2:  # Z shared by the S layers: sum their contributions
            S, n = np.shape(P)[0], shape_Z[0]
            return np.dot(np.reshape(np.transpose(g, (1, 0, 2)), (n, S * n_out)), np.reshape(Mt, (S * n_out, n_in)))
        return np.matmul(g, Mt)
    return vjp


def _affine_vjp_P(ans, Z, P, layer):
    vs, shape_Z, n_in, n_out = vspace(P), np.shape(Z), layer.n_in, layer.n_out

    def vjp(g):
        if len(vs.shape) == 1:
            Z2, g2 = np.reshape(Z, (-1, n_in)), np.reshape(g, (-1, n_out))
            gM, gb = np.dot(np.transpose(Z2), g2), np.sum(g2, axis=0)
        elif len(shape_Z) == 2:
            S, n = vs.shape[0], shape_Z[0]
            gT = np.reshape(np.transpose(g, (0, 2, 1)), (S * n_out, n))
            gM = np.transpose(np.reshape(np.dot(gT, Z), (S, n_out, n_in)), (0, 2, 1))
            gb = np.sum(g, axis=1)
        else:
            gM, gb = np.matmul(np.transpose(Z, (0, 2, 1)), g), np.sum(g, axis=1)
        gM = np.reshape(gM, vs.shape[:-1] + (n_in * n_out,))
        if isbox(gM) or isbox(gb):  # a higher-order derivative is being traced
            return pad_cols(np.concatenate([gM, gb], axis=-1), vs.shape[-1], layer.start)

        def mut_add(out):
            out[..., layer.start:layer.mid] += gM
            out[..., layer.mid:layer.stop] += gb
            return out
        return SparseObject(vs, mut_add)
    return vjp


defvjp(affine, _affine_vjp_Z, _affine_vjp_P)


# ---- a two-layer network stored in all of a flat parameter vector ---------------------------
def _two_layer_blocks(P, n_in, n_hidden, n_out):
    """A, a, B, c: the two layers (n_in -> n_hidden -> n_out) of P in the layout of hypernet/layout.py."""
    first, second = layers((n_in, n_hidden, n_out))
    return (*_blocks(P, first), *_blocks(P, second))


def two_layer_formula(Z, P, n_hidden, n_out, relu):
    """act(Z @ A + a) @ B + c for Z (S, n_in), with P = [A (n_in, n_hidden), a, B (n_hidden, n_out), c]
    (each row-major) and act = ReLU if relu else the identity. As a primitive its gradient with
    respect to P is written straight into one new array: no zeros, no sums of blocks."""
    n_in = np.shape(Z)[1]
    if np.shape(P) != (layers((n_in, n_hidden, n_out))[-1].stop,):
        raise ValueError(f"two_layer: parameters of shape {np.shape(P)} for sizes {n_in}->{n_hidden}->{n_out}")
    first, second = layers((n_in, n_hidden, n_out))
    A, a, B, c = weights(P, first), biases(P, first), weights(P, second), biases(P, second)
    pre = np.dot(Z, A) + a
    return np.dot(np.maximum(pre, 0.0) if relu else pre, B) + c


two_layer = primitive(two_layer_formula)


def _two_layer_backward(Z, P, n_hidden, n_out, relu, g, blocks=True):
    """The gradients of the four blocks of P (if blocks) and the gradient with respect to Z, from
    differentiable operations."""
    A, a, B, _ = _two_layer_blocks(P, np.shape(Z)[1], n_hidden, n_out)
    pre = np.dot(Z, A) + a if relu or blocks else None  # the hidden units' input
    gh = np.dot(g, np.transpose(B))
    if relu:
        gh = gh * (pre > 0)
        pre = np.maximum(pre, 0.0)
    gZ = np.dot(gh, np.transpose(A))
    if not blocks:
        return None, gZ
    return (np.dot(np.transpose(Z), gh), np.sum(gh, axis=0), np.dot(np.transpose(pre), g), np.sum(g, axis=0)), gZ


def _two_layer_vjp_P(ans, Z, P, n_hidden, n_out, relu):
    def vjp(g):
        # a higher-order derivative is being traced (or unusual dtypes): differentiable operations
        if isbox(g) or isbox(Z) or isbox(P) or onp.result_type(Z, P, g) != onp.float64:
            blocks, _ = _two_layer_backward(Z, P, n_hidden, n_out, relu, g)
            return np.concatenate([np.ravel(b) for b in blocks])
        n_in = Z.shape[1]
        first, second = layers((n_in, n_hidden, n_out))
        A, a, B, _ = _two_layer_blocks(P, n_in, n_hidden, n_out)
        out = onp.empty_like(P)
        pre = onp.dot(Z, A) + a
        gh = onp.dot(g, B.T)
        if relu:
            gh *= pre > 0
            onp.maximum(pre, 0.0, out=pre)
        onp.dot(pre.T, g, out=weights(out, second))  # (a view: the product is written into out)
        onp.sum(g, axis=0, out=biases(out, second))
        onp.dot(Z.T, gh, out=weights(out, first))
        onp.sum(gh, axis=0, out=biases(out, first))
        return out
    return vjp


defvjp(two_layer, lambda ans, Z, P, n_hidden, n_out, relu:
       lambda g: _two_layer_backward(Z, P, n_hidden, n_out, relu, g, blocks=False)[1], _two_layer_vjp_P)


# ---- a weighted sum of squares --------------------------------------------------------------
def weighted_sq_sum_formula(W, E):
    """sum_j E_j W_j^2 over the last axis, for W and E of one shape (a per-weight penalty)."""
    return np.einsum("...j,...j->...", E * W, W)


weighted_sq_sum = primitive(weighted_sq_sum_formula)


defvjp(weighted_sq_sum,
       lambda ans, W, E: lambda g: (2.0 * np.expand_dims(g, -1)) * (E * W),
       lambda ans, W, E: lambda g: np.expand_dims(g, -1) * (W * W))


# ---- a mean squared error -------------------------------------------------------------------
def mean_sq_err_formula(P, T):
    """mean((P[s] - T)^2) over all N x K outputs: P (S, N, K), T (N, K) -> (S,)."""
    D = P - T
    return np.einsum("snk,snk->s", D, D) / (np.shape(D)[1] * np.shape(D)[2])


mean_sq_err = primitive(mean_sq_err_formula)


def _mean_sq_err_vjp_P(ans, P, T):
    return lambda g: (2.0 / (np.shape(P)[1] * np.shape(P)[2])) * np.reshape(g, (-1, 1, 1)) * (P - T)


defvjp(mean_sq_err, _mean_sq_err_vjp_P,
       lambda ans, P, T: lambda g: -np.sum(_mean_sq_err_vjp_P(ans, P, T)(g), axis=0))
