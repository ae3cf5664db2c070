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
import hashlib
import math
import os
import struct
from numbers import Integral, Real
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from ._validation import InstanceOf, Interval, Options, Sequences, invalid, validate_params

# Seeds go to torch, NumPy and scikit-learn; the last two take 0 <= seed < 2**32.
SEED = Interval(Integral, 0, 2**32 - 1)
FRACTION = Interval(Real, 0.0, 1.0, closed="left")
LABELS = InstanceOf(torch.Tensor, "a tensor of class labels [N]", example=lambda: torch.tensor([0, 1, 0, 1]))

# --------------------------------------------------------------------------- #
# Fashion-MNIST
# --------------------------------------------------------------------------- #

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
FASHION_MNIST_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
# MD5 sums of the files as Zalando Research publishes them (Xiao et al., 2017): pooch checks a download.
FASHION_MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "md5:25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "md5:bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "md5:bb300cfdad3c16e7a12a480ee83cd310",
}
# MD5 sums of the *decompressed* files: the same bytes whoever compressed them (Debian's .gz files
# differ from Zalando's but hold the same data), so every copy is checked when it is read.
FASHION_MNIST_DATA_MD5 = {
    "train-images-idx3-ubyte.gz": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte.gz": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte.gz": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte.gz": "15d484375f8d13e6eb1aabb0c3f46965",
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


def _read_idx(path: Path, md5: str | None = None) -> np.ndarray:
    """Read an IDX file (the MNIST family's format), gzipped or not; check its data's MD5 if given."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if md5 is not None and hashlib.md5(raw).hexdigest() != md5:
        raise ValueError(f"{path} does not hold the published data (MD5 of its decompressed bytes "
                         f"{hashlib.md5(raw).hexdigest()}, expected {md5}): the file is corrupted or another "
                         "file's; delete it so that the loader finds or downloads a good copy.")
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


@validate_params({"split": [Options("train", "test")], "download": ["boolean"]})
def load_fashion_mnist(split: str = "train", *, download: bool = True):
    """Fashion-MNIST images as ``(X, y)``: X is float32 ``[N, 1, 28, 28]`` in [0, 1].

    Looks in the user cache, then Debian's ``/usr/share/datasets/fashion-mnist``,
    then downloads (checksummed with ``pooch``) when ``download`` and online, and
    otherwise raises an error that says how to get the data. Every file is checked
    against the MD5 of the published data (``FASHION_MNIST_DATA_MD5``), wherever it
    came from. ``split`` is ``"train"`` (60,000 images) or ``"test"`` (10,000).
    Class names are in ``FASHION_MNIST_CLASSES``.
    """
    if split not in _FASHION_CACHE:
        folder = _fashion_mnist_folder(download)
        prefix = "train" if split == "train" else "t10k"
        images, labels = (_read_idx(folder / name, FASHION_MNIST_DATA_MD5[name])
                          for name in (f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"))
        X = torch.from_numpy(images.copy()).float().div_(255.0).unsqueeze(1)
        y = torch.from_numpy(labels.astype(np.int64))
        _FASHION_CACHE[split] = (X, y)
    X, y = _FASHION_CACHE[split]
    return X.clone(), y.clone()


# --------------------------------------------------------------------------- #
# MNIST-1D and scikit-learn's digits
# --------------------------------------------------------------------------- #

@validate_params({"num_samples": [Interval(Integral, 10, None)], "seed": [SEED]})
def load_mnist1d(num_samples: int = 5000, *, seed: int = 42):
    """MNIST-1D (Greydanus, 2020), generated locally: ``(X_train, y_train, X_test, y_test)``.

    Each example is a 40-point float32 curve; the 10 classes come from 10 templates
    that are padded, sheared, shifted and noised. 80% of ``num_samples`` is the
    training set (at least 10 examples: one per class). Generating 5,000 takes about a second.
    """
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


@validate_params({"name": [Options(*TOY_PROBLEMS)], "num_samples": [Interval(Integral, 1, None)],
                  "noise": [Interval(Real, 0.0, None)], "seed": [SEED]})
def make_toy(name: str, num_samples: int = 400, *, noise: float = 0.1, seed: int = 0):
    """A 2D binary classification problem as ``(X, y)``: X float32 ``[N, 2]``.

    ``name`` is one of ``"moons"``, ``"circles"``, ``"xor"``, ``"spiral"``,
    ``"gaussian"`` (two overlapping blobs). ``noise`` is the standard deviation of
    Gaussian noise added to the points.
    """
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

class Splits(NamedTuple):
    """Three ``(X, y)`` pairs: ``train``, ``val`` and ``test`` (unpack them, or read them by name)."""

    train: tuple
    val: tuple
    test: tuple


def _check_stratify(stratify, num_samples: int):
    """Class labels [N] for a stratified split, as a NumPy array for scikit-learn."""
    if stratify.ndim != 1 or stratify.is_floating_point() or len(stratify) != num_samples:
        raise invalid("stratify", stratify, f"integer class labels [{num_samples}], one per sample (usually y)",
                      f"a {stratify.dtype} tensor of shape {tuple(stratify.shape)}")
    return stratify.cpu().numpy()


@validate_params({"X": [torch.Tensor], "y": [torch.Tensor], "val_fraction": [FRACTION],
                  "test_fraction": [FRACTION], "seed": [SEED], "stratify": [LABELS, None]})
def train_val_test_split(X, y, *, val_fraction: float = 0.15, test_fraction: float = 0.15,
                         seed: int = 0, stratify: torch.Tensor | None = None) -> Splits:
    """Shuffle once with ``seed`` and cut ``(X, y)`` into train, validation and test sets.

    The test set gets ``round(N * test_fraction)`` samples and the validation set
    ``round(N * val_fraction)``; a fraction of 0 asks for an empty set, any other
    fraction must leave at least one sample in its set, and in the training set.
    With ``stratify=y`` each set keeps the class proportions of ``y``
    (scikit-learn's ``train_test_split(stratify=)``, twice); without it, one
    permutation cuts the data.
    """
    if X.ndim == 0 or len(X) == 0:
        raise invalid("X", X, "a tensor with at least one sample",
                      "X is a 0-d tensor" if X.ndim == 0 else "X is empty (0 samples)")
    if y.ndim == 0 or len(y) != len(X):
        raise invalid("y", y, "one label per sample of X", f"X has {len(X)} samples but y has {len(y) if y.ndim else 0}")
    n = len(X)
    n_test, n_val = round(n * test_fraction), round(n * val_fraction)
    for name, fraction, count in (("test_fraction", test_fraction, n_test), ("val_fraction", val_fraction, n_val)):
        if fraction > 0 and count == 0:
            raise invalid(name, fraction, f"0 or a fraction that keeps at least one of the {n} samples",
                          f"round({n} * {fraction}) = 0 samples")
    if n_test + n_val >= n:
        raise invalid("val_fraction + test_fraction", val_fraction + test_fraction,
                      f"a sum that leaves some of the {n} samples for training",
                      f"val_fraction={val_fraction} and test_fraction={test_fraction} take {n_val} + {n_test}")
    if stratify is None:
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
        test_idx, val_idx, train_idx = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    else:
        train_idx, val_idx, test_idx = _stratified_split(_check_stratify(stratify, n), n_val, n_test, seed)
    return Splits((X[train_idx], y[train_idx]), (X[val_idx], y[val_idx]), (X[test_idx], y[test_idx]))


def _stratified_split(labels: np.ndarray, n_val: int, n_test: int, seed: int):
    """Train, validation and test indices with the class proportions of ``labels`` (scikit-learn)."""
    from sklearn.model_selection import train_test_split

    def cut(index: np.ndarray, size: int):
        if size == 0:
            return index, index[:0]
        try:
            return train_test_split(index, test_size=size, random_state=seed, stratify=labels[index])
        except ValueError as error:  # a class too small to be in every set
            raise invalid("stratify", torch.as_tensor(labels), "labels with enough samples of every class "
                          "for each set to hold one", str(error).rstrip(".")) from error

    rest, test_idx = cut(np.arange(len(labels)), n_test)
    train_idx, val_idx = cut(rest, n_val)
    return tuple(torch.from_numpy(i).long() for i in (train_idx, val_idx, test_idx))


@validate_params({"num_samples": [Interval(Integral, 2, None)], "num_folds": [Interval(Integral, 2, None)],
                  "seed": [SEED], "stratify": [LABELS, None]})
def kfold_indices(num_samples: int, num_folds: int = 5, *, seed: int = 0, stratify: torch.Tensor | None = None):
    """Yield ``(train_idx, val_idx)`` for K-fold cross-validation of ``num_samples`` items.

    Every item is in exactly one validation fold; folds differ in size by at most one.
    With ``stratify=y`` every fold keeps the class proportions of ``y`` (scikit-learn's
    ``StratifiedKFold``); every class then needs at least ``num_folds`` samples.
    """
    if num_folds > num_samples:
        raise invalid("num_folds", num_folds, f"an integer from 2 to num_samples={num_samples}")
    if stratify is None:
        order = torch.randperm(num_samples, generator=torch.Generator().manual_seed(seed))
        folds = torch.tensor_split(order, num_folds)
        return ((torch.cat([f for j, f in enumerate(folds) if j != k]), val_idx) for k, val_idx in enumerate(folds))
    labels = _check_stratify(stratify, num_samples)
    classes, counts = np.unique(labels, return_counts=True)
    if counts.min() < num_folds:
        raise invalid("stratify", stratify, f"at least num_folds={num_folds} samples of every class",
                      f"class {classes[counts.argmin()]} has {counts.min()}")
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(num_folds, shuffle=True, random_state=seed).split(np.zeros(num_samples), labels)
    return ((torch.from_numpy(t).long(), torch.from_numpy(v).long()) for t, v in folds)


# --------------------------------------------------------------------------- #
# Batches
# --------------------------------------------------------------------------- #

class BatchIterator:
    """Shuffled mini-batches sliced from tensors that already live on the device.

    A ``DataLoader(TensorDataset(...))`` fetches one sample at a time and collates
    them in Python; for data that fits in memory, indexing the whole tensor with a
    random permutation once per epoch and slicing it is much cheaper.

    Each pass (``for xb, yb in batches``) draws a new permutation from the
    iterator's own seeded generator, so runs repeat exactly. ``drop_last`` drops
    the last, smaller batch; it is refused when no full batch would be left.
    """

    @validate_params({"batch_size": [Interval(Integral, 1, None)], "shuffle": ["boolean"],
                      "drop_last": ["boolean"], "seed": [Interval(Integral, 0, None), None]})
    def __init__(self, *tensors, batch_size: int = 64, shuffle: bool = True,
                 drop_last: bool = False, seed: int | None = 0):
        if not tensors:
            raise invalid("tensors", tensors, "at least one tensor, e.g. BatchIterator(X, y)", "tensors is empty")
        for i, t in enumerate(tensors):
            if not isinstance(t, torch.Tensor) or t.ndim == 0:
                raise invalid(f"tensors[{i}]", t, "a torch.Tensor with one row per sample",
                              f"tensors[{i}] is a {type(t).__name__}" + (" of 0 dimensions" if
                                                                        isinstance(t, torch.Tensor) else ""))
        n = len(tensors[0])
        if n == 0:
            raise invalid("tensors[0]", tensors[0], "at least one sample", "tensors[0] is empty (0 samples)")
        for i, t in enumerate(tensors[1:], start=1):
            if len(t) != n:
                raise invalid(f"tensors[{i}]", t, "as many rows as tensors[0]",
                              f"tensors[0] has {n} samples but tensors[{i}] has {len(t)}")
        devices = {t.device for t in tensors}
        if len(devices) > 1:
            raise invalid("tensors", tensors, "tensors on one device", f"they are on {sorted(map(str, devices))}")
        if drop_last and batch_size > n:
            # every batch would be dropped: an epoch with no step at all
            raise invalid("batch_size", batch_size, f"at most the {n} samples when drop_last=True")
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


@validate_params({"name": [Options(*TABULAR_DATASETS)]})
def load_tabular(name: str):
    """One of scikit-learn's bundled tabular data sets as ``(X, y)`` tensors, unscaled.

    ``"breast_cancer"``: 569 tumours, 30 features, binary labels (1 = benign), int64.
    ``"wine"``: 178 wines, 13 features, 3 classes, int64.
    ``"diabetes"``: 442 patients, 10 features, a float32 regression target (disease
    progression after one year, about 25 to 346). Features are float32 in their
    original units, so their scales differ widely: standardize them before training
    (:class:`Standardizer`).
    """
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

    @validate_params({"per_feature": ["boolean"], "eps": [Interval(Real, 0.0, None)]})
    def __init__(self, *, per_feature: bool = True, eps: float = 1e-8):
        self.per_feature = per_feature
        self.eps = eps
        self.mean = None
        self.std = None

    def _check(self, name: str, X) -> None:
        allowed = "a floating-point torch.Tensor with one row per sample"
        if not isinstance(X, torch.Tensor):
            raise invalid(name, X, allowed, f"{name} is a {type(X).__name__}")
        if not X.is_floating_point():
            raise invalid(name, X, allowed, f"{name} has dtype {X.dtype}")
        if X.ndim < 1 or len(X) == 0:
            raise invalid(name, X, allowed, f"{name} is empty (0 samples)" if X.ndim else f"{name} is a 0-d tensor")

    def fit(self, X: torch.Tensor) -> "Standardizer":
        """Learn the mean and standard deviation of ``X`` (rows are samples)."""
        self._check("X", X)
        if not bool(torch.isfinite(X).all()):  # one NaN would turn every transformed value into NaN
            raise invalid("X", X, "finite values", "X holds NaN or infinite values")
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
            raise invalid(name, X, f"samples of shape {tuple(self.mean.shape)}, the shape seen by fit",
                          f"{name} has samples of shape {tuple(X.shape[1:])}")

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


@validate_params({"names": [Options(*SAMPLE_PHOTOS), Sequences(Options(*SAMPLE_PHOTOS))],
                  "size": [Interval(Integral, 1, None)]})
def load_sample_photos(names=("astronaut", "chelsea", "coffee", "rocket"), *, size: int = 128) -> torch.Tensor:
    """Colour photos bundled with scikit-image as float32 ``[N, 3, size, size]`` in [0, 1].

    Each photo is cropped to its central square and resized (with antialiasing).
    ``names`` are taken from ``SAMPLE_PHOTOS``; no download is needed.
    """
    names = [names] if isinstance(names, str) else list(names)
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
