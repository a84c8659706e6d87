"""normreg.data: the bundled digits, IDX/MNIST reading, and splits."""
from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from normreg import data


def write_idx(path, array: np.ndarray, compress: bool = False) -> None:
    """Write ``array`` (uint8) as an IDX file, the format MNIST ships in."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(path, "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)


def fake_mnist(folder, n=20, split="train", compress=False, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    prefix = "train" if split == "train" else "t10k"
    suffix = ".gz" if compress else ""
    write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images, compress)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels, compress)
    return images, labels


def test_digits_are_the_bundled_set():
    digits = data.load_digits_dataset()
    assert digits.images.shape == (1797, 8, 8)
    assert digits.features.shape == (1797, 64) and digits.features.dtype == np.float64
    assert digits.images.min() == 0 and digits.images.max() == digits.pixel_max == 16
    assert set(np.unique(digits.labels)) == set(range(10))
    assert "1797 images of 8x8" in digits.describe()


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=4), compress=st.booleans())
def test_idx_round_trip(tmp_path_factory, shape, compress):
    path = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if compress else "a.idx")
    array = np.arange(np.prod(shape), dtype=np.uint8).reshape(shape)
    write_idx(path, array, compress)
    np.testing.assert_array_equal(data.read_idx(path), array)


def test_idx_rejects_truncated_and_foreign_files(tmp_path):
    path = tmp_path / "bad"
    write_idx(path, np.zeros((3, 4), np.uint8))
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match="declares shape"):
        data.read_idx(path)
    path.write_bytes(b"\x89PNG....")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("split", ["train", "test"])
def test_local_mnist_is_read(tmp_path, compress, split):
    images, labels = fake_mnist(tmp_path, split=split, compress=compress)
    mnist = data.load_mnist(tmp_path, split=split)
    np.testing.assert_array_equal(mnist.images, images)
    np.testing.assert_array_equal(mnist.labels, labels)
    assert mnist.pixel_max == 255 and mnist.features.shape == (20, 784)
    assert str(tmp_path) in mnist.source


def test_mnist_folder_from_environment(tmp_path, monkeypatch, capsys):
    fake_mnist(tmp_path)
    monkeypatch.setenv(data.MNIST_ENV_VAR, str(tmp_path))
    loaded = data.load_images(verbose=True)
    assert loaded.name == "mnist-train"
    assert "mnist-train: 20 images of 28x28" in capsys.readouterr().out


def test_missing_mnist_files_are_named(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=r"missing train-labels-idx1-ubyte\[.gz\].*train-images-idx3-ubyte"):
        data.load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.load_mnist(tmp_path / "nowhere")


def test_auto_falls_back_to_digits_and_says_why(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(data.MNIST_ENV_VAR, str(tmp_path))  # an empty folder
    loaded = data.load_images("auto", verbose=True)
    out = capsys.readouterr().out
    assert loaded.name == "digits"
    assert "MNIST not used" in out and "falling back to the bundled digits" in out


def test_auto_without_mnist_uses_digits(monkeypatch):
    monkeypatch.delenv(data.MNIST_ENV_VAR, raising=False)
    assert data.load_images().name == "digits"


def test_unknown_source_is_an_error():
    with pytest.raises(ValueError, match="source must be"):
        data.load_images("cifar")


@settings(max_examples=50, deadline=None)
@given(n=st.integers(0, 500), fractions=st.lists(st.floats(0, 1), min_size=1, max_size=4), seed=st.integers(0, 10))
def test_split_indices_cover_disjointly(n, fractions, seed):
    total = sum(fractions)
    if total > 1:
        fractions = [f / total for f in fractions]
    parts = data.split_indices(n, tuple(fractions), seed=seed)
    assert len(parts) == len(fractions)
    joined = np.concatenate(parts) if parts else np.array([], int)
    assert sorted(joined.tolist()) == list(range(n))  # disjoint and covering
    for part, fraction in zip(parts[:-1], fractions[:-1]):
        assert abs(len(part) - fraction * n) <= 1 + 1e-9 * n


def test_split_indices_rejects_bad_fractions():
    with pytest.raises(ValueError):
        data.split_indices(10, (0.8, 0.5))
