"""Offline datasets, splits and a fast batch iterator over tensors on the device.

Every loader returns float32 features and int64 labels as ``torch.Tensor``s, so a
chapter can move them to the device once and never touch a ``DataLoader``.

>>> from nnpractice import data
>>> X, y = data.make_toy("moons", num_samples=200, seed=0)
>>> X.shape, y.shape
(torch.Size([200, 2]), torch.Size([200]))
>>> splits = data.train_val_test_split(X, y, val_fraction=0.2, test_fraction=0.2, seed=0)
>>> [len(part[0]) for part in splits]
[120, 40, 40]
>>> batches = data.BatchIterator(*splits.train, batch_size=32, seed=0)
>>> len(batches)
4
"""
from __future__ import annotations

import gzip
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ._validation import (
    check_choice,
    check_nonempty,
    check_positive,
    check_range,
    check_same_length,
)

# --------------------------------------------------------------------------- #
# Fashion-MNIST
# --------------------------------------------------------------------------- #

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
FASHION_MNIST_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
# MD5 sums of the files as Zalando Research publishes them (Xiao et al., 2017).
FASHION_MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "md5:25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "md5:bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "md5:bb300cfdad3c16e7a12a480ee83cd310",
}
FASHION_MNIST_HELP = (
    "Fashion-MNIST was not found. Get it in one of these ways:\n"
    "  * on Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist\n"
    "    (installs it under /usr/share/datasets/fashion-mnist), or\n"
    "  * connect to the internet once: the loader downloads and checks it, or\n"
    "  * copy the four *-ubyte.gz files into {cache}."
)


def cache_dir() -> Path:
    """The user's cache folder for this book (``NNPRACTICE_CACHE`` overrides it)."""
    root = os.environ.get("NNPRACTICE_CACHE")
    if root:
        return Path(root).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "nnpractice"


def _read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (the MNIST family's format), gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes.")
    shape = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != math.prod(shape):
        raise ValueError(f"{path} is truncated: expected {math.prod(shape)} bytes of data.")
    return data.reshape(shape)


def _fashion_mnist_folder(download: bool) -> Path:
    """Find the folder holding the four files: user cache, system path, download."""
    names = list(FASHION_MNIST_FILES)
    user = cache_dir() / "fashion-mnist"
    for folder in (user, FASHION_MNIST_SYSTEM_DIR):
        if all((folder / name).exists() for name in names):
            return folder
    if download:
        try:
            import pooch

            for name, known_hash in FASHION_MNIST_FILES.items():
                pooch.retrieve(FASHION_MNIST_URL + name, known_hash=known_hash,
                               fname=name, path=user, progressbar=False)
            return user
        except Exception as error:  # offline, blocked, or a checksum mismatch
            raise FileNotFoundError(
                FASHION_MNIST_HELP.format(cache=user) + f"\n(The download failed: {error})"
            ) from error
    raise FileNotFoundError(FASHION_MNIST_HELP.format(cache=user))


_FASHION_CACHE: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}


def load_fashion_mnist(split: str = "train", *, download: bool = True):
    """Fashion-MNIST images as ``(X, y)``: X is float32 ``[N, 1, 28, 28]`` in [0, 1].

    Looks in the user cache, then Debian's ``/usr/share/datasets/fashion-mnist``,
    then downloads (checksummed with ``pooch``) when ``download`` and online, and
    otherwise raises an error that says how to get the data. ``split`` is
    ``"train"`` (60,000 images) or ``"test"`` (10,000). Class names are in
    ``FASHION_MNIST_CLASSES``.
    """
    check_choice("split", split, ("train", "test"))
    if split not in _FASHION_CACHE:
        folder = _fashion_mnist_folder(download)
        prefix = "train" if split == "train" else "t10k"
        images = _read_idx(folder / f"{prefix}-images-idx3-ubyte.gz")
        labels = _read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz")
        X = torch.from_numpy(images.copy()).float().div_(255.0).unsqueeze(1)
        y = torch.from_numpy(labels.astype(np.int64))
        _FASHION_CACHE[split] = (X, y)
    X, y = _FASHION_CACHE[split]
    return X.clone(), y.clone()


# --------------------------------------------------------------------------- #
# MNIST-1D and scikit-learn's digits
# --------------------------------------------------------------------------- #

def load_mnist1d(num_samples: int = 5000, *, seed: int = 42):
    """MNIST-1D (Greydanus, 2020), generated locally: ``(X_train, y_train, X_test, y_test)``.

    Each example is a 40-point float32 curve; the 10 classes come from 10 templates
    that are padded, sheared, shifted and noised. 80% of ``num_samples`` is the
    training set. Generating 5,000 examples takes about a second.
    """
    check_positive("num_samples", num_samples, integer=True)
    if num_samples < 10:
        raise ValueError(f"num_samples={num_samples!r} is not allowed: expected at least 10 (one per class).")
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = num_samples
    args.seed = seed
    state = np.random.get_state()  # mnist1d reseeds NumPy's global generator
    try:
        ds = make_dataset(args)
    finally:
        np.random.set_state(state)

    def as_tensors(x, y):
        return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.int64)

    return (*as_tensors(ds["x"], ds["y"]), *as_tensors(ds["x_test"], ds["y_test"]))


def load_digits():
    """scikit-learn's 8×8 digits (1,797 images) as ``(X, y)``, X float32 ``[N, 64]`` in [0, 1]."""
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    X = torch.tensor(bunch.data / 16.0, dtype=torch.float32)
    y = torch.tensor(bunch.target, dtype=torch.int64)
    return X, y


# --------------------------------------------------------------------------- #
# 2D toy problems
# --------------------------------------------------------------------------- #

TOY_PROBLEMS = ("moons", "circles", "xor", "spiral", "gaussian")


def make_toy(name: str, num_samples: int = 400, *, noise: float = 0.1, seed: int = 0):
    """A 2D binary classification problem as ``(X, y)``: X float32 ``[N, 2]``.

    ``name`` is one of ``"moons"``, ``"circles"``, ``"xor"``, ``"spiral"``,
    ``"gaussian"`` (two overlapping blobs). ``noise`` is the standard deviation of
    Gaussian noise added to the points.
    """
    check_choice("name", name, TOY_PROBLEMS)
    check_positive("num_samples", num_samples, integer=True)
    check_range("noise", noise, 0.0, math.inf, high_inclusive=False)
    rng = np.random.default_rng(seed)
    n = num_samples
    if name == "moons":
        from sklearn.datasets import make_moons

        X, y = make_moons(n, noise=noise, random_state=seed)
    elif name == "circles":
        from sklearn.datasets import make_circles

        X, y = make_circles(n, noise=noise, factor=0.5, random_state=seed)
    elif name == "xor":
        X = rng.uniform(-1, 1, size=(n, 2))
        y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
        X = X + rng.normal(0, noise, size=X.shape)
    elif name == "spiral":
        y = np.arange(n) % 2
        t = rng.uniform(0.25, 1.0, size=n) * 3 * np.pi
        X = np.stack([t * np.cos(t + np.pi * y), t * np.sin(t + np.pi * y)], axis=1) / (3 * np.pi)
        X = X + rng.normal(0, noise, size=X.shape)
    else:  # gaussian
        y = np.arange(n) % 2
        centers = np.array([[-0.6, -0.6], [0.6, 0.6]])
        X = centers[y] + rng.normal(0, 0.5 + noise, size=(n, 2))
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.int64)


# --------------------------------------------------------------------------- #
# Splits and folds
# --------------------------------------------------------------------------- #

@dataclass
class Splits:
    """Three ``(X, y)`` pairs: ``train``, ``val`` and ``test``."""

    train: tuple
    val: tuple
    test: tuple

    def __iter__(self):
        return iter((self.train, self.val, self.test))


def train_val_test_split(X, y, *, val_fraction: float = 0.15, test_fraction: float = 0.15,
                         seed: int = 0) -> Splits:
    """Shuffle once with ``seed`` and cut ``(X, y)`` into train, validation and test sets."""
    check_nonempty("X", X)
    check_same_length("X", X, "y", y)
    check_range("val_fraction", val_fraction, 0.0, 1.0, high_inclusive=False)
    check_range("test_fraction", test_fraction, 0.0, 1.0, high_inclusive=False)
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(
            f"val_fraction + test_fraction = {val_fraction + test_fraction!r} is not allowed: "
            "expected a sum below 1 so that some training data is left."
        )
    n = len(X)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_test, n_val = round(n * test_fraction), round(n * val_fraction)
    test_idx, val_idx, train_idx = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    return Splits((X[train_idx], y[train_idx]), (X[val_idx], y[val_idx]), (X[test_idx], y[test_idx]))


def kfold_indices(num_samples: int, num_folds: int = 5, *, seed: int = 0):
    """Yield ``(train_idx, val_idx)`` for K-fold cross-validation of ``num_samples`` items.

    Every item is in exactly one validation fold; folds differ in size by at most one.
    """
    check_positive("num_samples", num_samples, integer=True)
    check_positive("num_folds", num_folds, integer=True)
    if not 2 <= num_folds <= num_samples:
        raise ValueError(
            f"num_folds={num_folds!r} is not allowed: expected an integer from 2 to num_samples={num_samples}."
        )
    order = torch.randperm(num_samples, generator=torch.Generator().manual_seed(seed))
    folds = torch.tensor_split(order, num_folds)
    for k, val_idx in enumerate(folds):
        train_idx = torch.cat([f for j, f in enumerate(folds) if j != k])
        yield train_idx, val_idx


# --------------------------------------------------------------------------- #
# Batches
# --------------------------------------------------------------------------- #

class BatchIterator:
    """Shuffled mini-batches sliced from tensors that already live on the device.

    A ``DataLoader(TensorDataset(...))`` fetches one sample at a time and collates
    them in Python; for data that fits in memory, indexing the whole tensor with a
    random permutation once per epoch and slicing it is much cheaper.

    Each pass (``for xb, yb in batches``) draws a new permutation from the
    iterator's own seeded generator, so runs repeat exactly.
    """

    def __init__(self, *tensors, batch_size: int = 64, shuffle: bool = True,
                 drop_last: bool = False, seed: int | None = 0):
        if not tensors:
            raise ValueError("tensors is empty: expected at least one tensor, e.g. BatchIterator(X, y).")
        for i, t in enumerate(tensors):
            if not isinstance(t, torch.Tensor):
                raise ValueError(f"tensors[{i}] is a {type(t).__name__}: expected a torch.Tensor.")
        check_nonempty("tensors[0]", tensors[0])
        for i, t in enumerate(tensors[1:], start=1):
            check_same_length("tensors[0]", tensors[0], f"tensors[{i}]", t)
        devices = {t.device for t in tensors}
        if len(devices) > 1:
            raise ValueError(f"tensors are on several devices {sorted(map(str, devices))}: expected one.")
        check_positive("batch_size", batch_size, integer=True)
        self.tensors = tensors
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.device = tensors[0].device
        self._generator = torch.Generator(device="cpu")
        if seed is not None:
            self._generator.manual_seed(seed)
        else:
            self._generator.seed()

    @property
    def num_samples(self) -> int:
        return len(self.tensors[0])

    def __len__(self) -> int:
        full, rest = divmod(self.num_samples, self.batch_size)
        return full if (self.drop_last or rest == 0) else full + 1

    def to(self, dev) -> "BatchIterator":
        """Move the tensors to ``dev`` (once), keeping the generator's state."""
        self.tensors = tuple(t.to(dev) for t in self.tensors)
        self.device = self.tensors[0].device
        return self

    def __iter__(self):
        n = self.num_samples
        if self.shuffle:
            order = torch.randperm(n, generator=self._generator).to(self.device)
            tensors = [t[order] for t in self.tensors]
        else:
            tensors = self.tensors
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield tuple(t[start:start + self.batch_size] for t in tensors)


# --------------------------------------------------------------------------- #
# Tabular data sets and standardization (chapter 03)
# --------------------------------------------------------------------------- #

TABULAR_DATASETS = ("breast_cancer", "diabetes", "wine")


def load_tabular(name: str):
    """One of scikit-learn's bundled tabular data sets as ``(X, y)`` tensors, unscaled.

    ``"breast_cancer"``: 569 tumours, 30 features, binary labels (1 = benign), int64.
    ``"wine"``: 178 wines, 13 features, 3 classes, int64.
    ``"diabetes"``: 442 patients, 10 features, a float32 regression target (disease
    progression after one year, about 25 to 346). Features are float32 in their
    original units, so their scales differ widely: standardize them before training
    (:class:`Standardizer`).
    """
    check_choice("name", name, TABULAR_DATASETS)
    from sklearn import datasets as sk_datasets

    if name == "breast_cancer":
        bunch = sk_datasets.load_breast_cancer()
    elif name == "wine":
        bunch = sk_datasets.load_wine()
    else:
        bunch = sk_datasets.load_diabetes(scaled=False)
    X = torch.tensor(bunch.data, dtype=torch.float32)
    target_dtype = torch.float32 if name == "diabetes" else torch.int64
    return X, torch.tensor(bunch.target, dtype=target_dtype)


class Standardizer:
    """Subtract the training mean and divide by the training standard deviation.

    ``fit`` learns the statistics from the training set only; ``transform`` applies
    the same numbers to any set (validation, test, new data), so no information
    leaks from them into training. With ``per_feature=True`` every column (every
    pixel of an image) gets its own mean and standard deviation; with ``False``
    one scalar each, over all values. A constant feature gets standard deviation 1
    (it becomes 0), never a division by zero.

    >>> import torch
    >>> s = Standardizer().fit(torch.tensor([[1.0, 10.0], [3.0, 30.0]]))
    >>> s.transform(torch.tensor([[2.0, 20.0]]))
    tensor([[0., 0.]])
    """

    def __init__(self, *, per_feature: bool = True, eps: float = 1e-8):
        if not isinstance(per_feature, bool):
            raise ValueError(f"per_feature={per_feature!r} is not allowed: expected True or False.")
        check_range("eps", eps, 0.0, math.inf, high_inclusive=False)
        self.per_feature = per_feature
        self.eps = eps
        self.mean = None
        self.std = None

    def _check(self, name: str, X) -> None:
        if not isinstance(X, torch.Tensor):
            raise ValueError(f"{name} is a {type(X).__name__}: expected a torch.Tensor.")
        if not X.is_floating_point():
            raise ValueError(f"{name} has dtype {X.dtype}: expected a floating-point tensor.")
        if X.ndim < 1:
            raise ValueError(f"{name} is a 0-d tensor: expected one row per sample.")
        check_nonempty(name, X)

    def fit(self, X: torch.Tensor) -> "Standardizer":
        """Learn the mean and standard deviation of ``X`` (rows are samples)."""
        self._check("X", X)
        if self.per_feature:
            mean, std = X.mean(dim=0), X.std(dim=0, correction=0)
        else:
            mean, std = X.mean(), X.std(correction=0)
        self.mean = mean.detach().clone()
        self.std = torch.where(std > self.eps, std, torch.ones_like(std)).detach().clone()
        return self

    def _ready(self, name: str, X) -> None:
        if self.mean is None:
            raise ValueError("This Standardizer is not fitted: call fit(X_train) before transform.")
        self._check(name, X)
        if self.per_feature and X.shape[1:] != self.mean.shape:
            raise ValueError(
                f"{name} has samples of shape {tuple(X.shape[1:])}: expected {tuple(self.mean.shape)}, "
                "the shape seen by fit."
            )

    def transform(self, X: torch.Tensor) -> torch.Tensor:
        """``(X - mean) / std`` with the statistics learned by :meth:`fit`."""
        self._ready("X", X)
        return (X - self.mean.to(X.device, X.dtype)) / self.std.to(X.device, X.dtype)

    def fit_transform(self, X: torch.Tensor) -> torch.Tensor:
        return self.fit(X).transform(X)

    def inverse_transform(self, Z: torch.Tensor) -> torch.Tensor:
        """Undo :meth:`transform` (e.g. turn a standardized prediction back into original units)."""
        self._ready("Z", Z)
        return Z * self.std.to(Z.device, Z.dtype) + self.mean.to(Z.device, Z.dtype)


# --------------------------------------------------------------------------- #
# Sample photos (scikit-image's bundled images)
# --------------------------------------------------------------------------- #

SAMPLE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry")


def load_sample_photos(names=("astronaut", "chelsea", "coffee", "rocket"), *, size: int = 128) -> torch.Tensor:
    """Colour photos bundled with scikit-image as float32 ``[N, 3, size, size]`` in [0, 1].

    Each photo is cropped to its central square and resized (with antialiasing).
    ``names`` are taken from ``SAMPLE_PHOTOS``; no download is needed.
    """
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise ValueError("names is empty: expected at least one of " + ", ".join(SAMPLE_PHOTOS) + ".")
    for name in names:
        check_choice("names", name, SAMPLE_PHOTOS)
    check_positive("size", size, integer=True)
    import skimage.data

    photos = []
    for name in names:
        image = torch.from_numpy(np.ascontiguousarray(getattr(skimage.data, name)())).float().div_(255.0)
        h, w = image.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        image = image[top:top + side, left:left + side].permute(2, 0, 1)[None]
        image = torch.nn.functional.interpolate(image, size=(size, size), mode="bilinear",
                                                antialias=True, align_corners=False)
        photos.append(image.clamp_(0.0, 1.0)[0])
    return torch.stack(photos)
