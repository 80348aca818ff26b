"""The one layout of a flat parameter vector: a stack of dense layers, each stored as its
(n_in, n_out) weight matrix row by row, then its n_out biases, the layers one after another.

Elementary models (models.py: layer sizes [n0, ..., nL]), hypernetworks (hypernets.py: phi of a
linear map [H, D] or of a two-layer one [H, K, D]), the fast path's primitives (ops.py) and the
trainer of many linear models (linear_models.py) all find their blocks through it.
"""
from typing import NamedTuple


class Layer(NamedTuple):
    """Where one dense layer sits in a flat vector: weights in [start, mid), biases in [mid, stop)."""
    start: int
    n_in: int
    n_out: int

    @property
    def mid(self):
        return self.start + self.n_in * self.n_out

    @property
    def stop(self):
        return self.mid + self.n_out


def layers(sizes):
    """The layers of a network with layer sizes [n0, n1, ..., nL], one after another from offset 0."""
    out, start = [], 0
    for a, b in zip(sizes[:-1], sizes[1:]):
        out.append(Layer(start, a, b))
        start += (a + 1) * b
    return tuple(out)


def size(sizes):
    """The length of the flat vector: sum of (n_in + 1) * n_out over the layers."""
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def _slice(P, start, stop):
    return P[..., start:stop]


def weights(P, layer, cols=_slice):
    """The layer's weight matrix, (..., n_in, n_out), of P (..., D); cols(P, start, stop) slices
    columns (ops.cols: the fast path's slice)."""
    return cols(P, layer.start, layer.mid).reshape(P.shape[:-1] + (layer.n_in, layer.n_out))


def biases(P, layer, cols=_slice):
    """The layer's biases, (..., n_out), of P (..., D)."""
    return cols(P, layer.mid, layer.stop)
