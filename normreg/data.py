"""Image data sets for the course, loaded without any network access.

The default is scikit-learn's bundled handwritten digits (1,797 images of 8x8
pixels with values 0..16). If you have a local copy of MNIST as IDX files
(optionally gzipped), point ``NORMREG_MNIST_DIR`` (or the ``mnist_dir``
argument) at the folder and ``load_images("mnist")`` reads it.
"""
from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from normreg.i18n import translator

_ = translator("normreg")

MNIST_ENV_VAR = "NORMREG_MNIST_DIR"

# IDX type codes (http://yann.lecun.com/exdb/mnist/ describes the format).
_IDX_DTYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# Each MNIST file under the names it is commonly distributed with.
_MNIST_FILES = {
    ("train", "images"): ["train-images-idx3-ubyte", "train-images.idx3-ubyte"],
    ("train", "labels"): ["train-labels-idx1-ubyte", "train-labels.idx1-ubyte"],
    ("test", "images"): ["t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"],
    ("test", "labels"): ["t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"],
}


@dataclass(frozen=True)
class ImageDataset:
    """Grey-scale images with integer labels.

    Attributes
    ----------
    images : (N, H, W) array of raw pixel values (not rescaled)
    labels : (N,) int64 array of classes
    pixel_max : the largest value a pixel can take (16 for digits, 255 for MNIST);
        dividing by it maps pixels to [0, 1]
    name : short name, e.g. ``"digits"``
    source : where the data came from, in words
    """

    images: np.ndarray
    labels: np.ndarray
    pixel_max: float
    name: str
    source: str

    @property
    def features(self) -> np.ndarray:
        """Images flattened to a float64 design matrix of shape (N, H*W)."""
        return self.images.reshape(len(self.images), -1).astype(np.float64)

    @property
    def image_shape(self) -> tuple[int, int]:
        return tuple(self.images.shape[1:])

    def describe(self) -> str:
        """One line saying what was loaded and from where."""
        n, h, w = self.images.shape
        return _("{name}: {n} images of {h}x{w} pixels, values 0..{top:g}, {classes} classes; from {source}").format(
            name=self.name, n=n, h=h, w=w, top=self.pixel_max, classes=len(np.unique(self.labels)),
            source=_(self.source))  # in the edition's language (normreg.i18n): chapter 8 glues this line


def load_digits_dataset() -> ImageDataset:
    """scikit-learn's bundled 8x8 digits: 1,797 images, pixel values 0..16."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return ImageDataset(
        images=bunch.images.astype(np.float64),
        labels=bunch.target.astype(np.int64),
        pixel_max=16.0,
        name="digits",
        source="scikit-learn's bundled copy (no download)",
    )


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (plain or ``.gz``) into an array of the shape it declares."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path} is not an IDX file (bad magic number {raw[:4]!r})")
    type_code, ndim = raw[2], raw[3]
    if type_code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX element type 0x{type_code:02x}")
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    dtype = np.dtype(_IDX_DTYPES[type_code])
    expected = int(np.prod(shape)) * dtype.itemsize
    body = raw[4 + 4 * ndim :]
    if len(body) != expected:
        raise ValueError(
            f"{path}: header declares shape {shape} ({expected} bytes) but the file holds {len(body)} bytes"
        )
    return np.frombuffer(body, dtype=dtype).reshape(shape)


def _find_mnist_file(directory: Path, split: str, kind: str) -> Path | None:
    for stem in _MNIST_FILES[(split, kind)]:
        for candidate in (directory / stem, directory / f"{stem}.gz"):
            if candidate.is_file():
                return candidate
    return None


def load_mnist(directory: str | os.PathLike | None = None, split: str = "train") -> ImageDataset:
    """MNIST from local IDX files; ``split`` is ``"train"`` or ``"test"``.

    ``directory`` defaults to the ``NORMREG_MNIST_DIR`` environment variable.
    Raises FileNotFoundError naming the files it looked for and the ones it found.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    if directory is None:
        directory = os.environ.get(MNIST_ENV_VAR)
        if not directory:
            raise FileNotFoundError(
                f"no MNIST folder given: pass mnist_dir=... or set {MNIST_ENV_VAR}"
            )
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"MNIST folder {directory} does not exist")
    found = {kind: _find_mnist_file(directory, split, kind) for kind in ("images", "labels")}
    missing = [kind for kind, path in found.items() if path is None]
    if missing:
        wanted = ", ".join(
            f"{_MNIST_FILES[(split, kind)][0]}[.gz]" for kind in missing
        )
        present = sorted(p.name for p in directory.iterdir())[:20]
        raise FileNotFoundError(
            f"MNIST {split} split incomplete in {directory}: missing {wanted}; "
            f"the folder holds {present or 'nothing'}"
        )
    images = read_idx(found["images"])
    labels = read_idx(found["labels"])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(
            f"MNIST files disagree: images {images.shape} from {found['images'].name}, "
            f"labels {labels.shape} from {found['labels'].name}"
        )
    return ImageDataset(
        images=images.astype(np.float64),
        labels=labels.astype(np.int64),
        pixel_max=255.0,
        name=f"mnist-{split}",
        source=f"{found['images']} and {found['labels'].name}",
    )


def load_images(source: str = "auto", mnist_dir: str | os.PathLike | None = None, verbose: bool = False) -> ImageDataset:
    """The course's image data: ``"digits"``, ``"mnist"`` or ``"auto"``.

    ``"auto"`` uses MNIST (training split) when ``mnist_dir`` or ``NORMREG_MNIST_DIR``
    names a folder holding it, else the bundled digits. With ``verbose`` it
    prints what it loaded and, when it fell back to digits, why.
    """
    if source == "digits":
        dataset = load_digits_dataset()
    elif source == "mnist":
        dataset = load_mnist(mnist_dir)
    elif source == "auto":
        if mnist_dir is None and not os.environ.get(MNIST_ENV_VAR):
            dataset = load_digits_dataset()
        else:
            try:
                dataset = load_mnist(mnist_dir)
            except (FileNotFoundError, ValueError) as error:
                if verbose:
                    print(f"MNIST not used ({error}); falling back to the bundled digits")
                dataset = load_digits_dataset()
    else:
        raise ValueError(f"source must be 'auto', 'digits' or 'mnist', not {source!r}")
    if verbose:
        print(dataset.describe())
    return dataset


def split_indices(n: int, fractions: tuple[float, ...], seed: int = 0) -> list[np.ndarray]:
    """Shuffle ``range(n)`` and cut it into consecutive parts of the given fractions.

    The last part takes whatever is left, so the parts always cover ``range(n)``.
    Returns a list of 1-D int arrays, one per fraction.
    """
    if any(f < 0 for f in fractions) or sum(fractions) > 1 + 1e-12:
        raise ValueError(f"fractions must be non-negative and sum to at most 1, got {fractions}")
    order = np.random.default_rng(seed).permutation(n)
    sizes = [int(round(f * n)) for f in fractions[:-1]]
    cuts = np.cumsum(sizes)
    return np.split(order, cuts)
