import gzip
import hashlib
import shutil
import struct

import numpy as np
import pytest
import torch

from nnpractice import data

# ----------------------------------------------------------------- Fashion-MNIST

def _write_idx(path, array):
    """Write an IDX file; return the MD5 of its decompressed bytes."""
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())
    return hashlib.md5(header + array.tobytes()).hexdigest()


@pytest.fixture
def fake_fashion(tmp_path, monkeypatch):
    """A tiny Fashion-MNIST in a user cache, its own checksums registered, and no system copy."""
    cache = tmp_path / "cache"
    folder = cache / "fashion-mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    checksums = {}
    for prefix, n in (("train", 12), ("t10k", 4)):
        for kind, array in (("images-idx3", rng.integers(0, 256, (n, 28, 28))), ("labels-idx1", np.arange(n) % 10)):
            name = f"{prefix}-{kind}-ubyte.gz"
            checksums[name] = _write_idx(folder / name, array)
    monkeypatch.setattr(data, "FASHION_MNIST_DATA_MD5", checksums)
    monkeypatch.setenv("NNPRACTICE_CACHE", str(cache))
    monkeypatch.setattr(data, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "nowhere")
    monkeypatch.setattr(data, "_FASHION_CACHE", {})
    return folder


def test_fashion_mnist_reads_user_cache_first(fake_fashion):
    X, y = data.load_fashion_mnist("train", download=False)
    assert X.shape == (12, 1, 28, 28) and X.dtype == torch.float32
    assert 0.0 <= X.min() and X.max() <= 1.0
    assert y.tolist() == [i % 10 for i in range(12)] and y.dtype == torch.int64
    assert data.load_fashion_mnist("test", download=False)[0].shape == (4, 1, 28, 28)


def test_fashion_mnist_returns_copies(fake_fashion):
    X, _ = data.load_fashion_mnist("train", download=False)
    X.zero_()
    assert data.load_fashion_mnist("train", download=False)[0].sum() > 0


def test_fashion_mnist_missing_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("NNPRACTICE_CACHE", str(tmp_path / "empty"))
    monkeypatch.setattr(data, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "nowhere")
    monkeypatch.setattr(data, "_FASHION_CACHE", {})
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        data.load_fashion_mnist(download=False)


def test_fashion_mnist_failed_download_explains(tmp_path, monkeypatch):
    import pooch

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setenv("NNPRACTICE_CACHE", str(tmp_path / "empty"))
    monkeypatch.setattr(data, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "nowhere")
    monkeypatch.setattr(data, "_FASHION_CACHE", {})
    monkeypatch.setattr(pooch, "retrieve", offline)
    with pytest.raises(FileNotFoundError, match="download failed: no network"):
        data.load_fashion_mnist()


def test_a_corrupted_or_swapped_file_is_refused(fake_fashion):
    # one flipped pixel in the training images
    path = fake_fashion / "train-images-idx3-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[-1] ^= 0xFF
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz does not hold the published data"):
        data.load_fashion_mnist("train", download=False)
    # the test labels put where the training labels belong (a valid IDX file, the wrong one)
    shutil.copy(fake_fashion / "t10k-labels-idx1-ubyte.gz", fake_fashion / "train-labels-idx1-ubyte.gz")
    shutil.copy(fake_fashion / "t10k-images-idx3-ubyte.gz", path)
    with pytest.raises(ValueError, match="does not hold the published data"):
        data.load_fashion_mnist("train", download=False)
    data.load_fashion_mnist("test", download=False)  # the untouched split still loads


def test_a_download_is_checked_by_its_data_too(fake_fashion, tmp_path, monkeypatch):
    """pooch checks the published .gz sums; the loader then checks what it decompresses."""
    import pooch

    good = tmp_path / "good"
    shutil.copytree(fake_fashion, good)
    shutil.rmtree(fake_fashion)
    asked = []

    def fake_retrieve(url, known_hash, fname, path, **kwargs):
        asked.append((url, known_hash))
        path.mkdir(parents=True, exist_ok=True)
        shutil.copy(good / fname, path / fname)

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    X, y = data.load_fashion_mnist("train")
    assert X.shape == (12, 1, 28, 28)
    assert [url.rsplit("/", 1)[1] for url, _ in asked] == list(data.FASHION_MNIST_FILES)
    assert all(h.startswith("md5:") and len(h) == 36 for _, h in asked)
    # a download that delivers other bytes (a mirror's mistake, a tampered copy) fails when read
    monkeypatch.setattr(data, "_FASHION_CACHE", {})
    shutil.copy(good / "t10k-labels-idx1-ubyte.gz", fake_fashion / "train-labels-idx1-ubyte.gz")
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz does not hold the published data"):
        data.load_fashion_mnist("train")


@pytest.mark.skipif(not data.FASHION_MNIST_SYSTEM_DIR.exists(), reason="Debian's dataset-fashion-mnist not installed")
def test_debian_copy_decompresses_to_the_published_data():
    """Debian recompressed the files (its .gz sums differ from Zalando's); the data inside must not differ."""
    for name, md5 in data.FASHION_MNIST_DATA_MD5.items():
        path = data.FASHION_MNIST_SYSTEM_DIR / name
        assert hashlib.md5(gzip.decompress(path.read_bytes())).hexdigest() == md5, name


def test_fashion_mnist_bad_split():
    with pytest.raises(ValueError, match="split='validation'"):
        data.load_fashion_mnist("validation")


def test_read_idx_rejects_truncated_file(tmp_path):
    path = tmp_path / "x.gz"
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">HBB", 0, 8, 1) + struct.pack(">I", 10) + b"\x00" * 3)
    with pytest.raises(ValueError, match="truncated"):
        data._read_idx(path)


@pytest.mark.skipif(not data.FASHION_MNIST_SYSTEM_DIR.exists(), reason="Debian's dataset-fashion-mnist not installed")
def test_real_fashion_mnist_from_debian_package(monkeypatch, tmp_path):
    monkeypatch.setenv("NNPRACTICE_CACHE", str(tmp_path))
    X, y = data.load_fashion_mnist("test", download=False)
    assert X.shape == (10_000, 1, 28, 28)
    assert torch.bincount(y).tolist() == [1000] * 10
    assert 0.25 < X.mean() < 0.35  # Fashion-MNIST's mean pixel is about 0.286


# ----------------------------------------------------------------- other sets

def test_mnist1d_shapes_and_determinism():
    a = data.load_mnist1d(200, seed=1)
    b = data.load_mnist1d(200, seed=1)
    X_train, y_train, X_test, y_test = a
    assert X_train.shape == (160, 40) and X_test.shape == (40, 40)
    assert y_train.dtype == torch.int64 and set(y_train.tolist()) <= set(range(10))
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert not torch.equal(X_train, data.load_mnist1d(200, seed=2)[0])


def test_mnist1d_does_not_disturb_numpy_global_seed():
    np.random.seed(5)
    expected = np.random.rand()
    np.random.seed(5)
    data.load_mnist1d(50)
    assert np.random.rand() == expected


def test_digits():
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.max() == 1.0 and set(y.tolist()) == set(range(10))


@pytest.mark.parametrize("name", data.TOY_PROBLEMS)
def test_toy_problems_are_binary_balanced_and_seeded(name):
    X, y = data.make_toy(name, 300, noise=0.1, seed=3)
    assert X.shape == (300, 2) and X.dtype == torch.float32
    assert set(y.tolist()) == {0, 1} and abs(y.float().mean().item() - 0.5) < 0.1
    assert torch.equal(X, data.make_toy(name, 300, noise=0.1, seed=3)[0])


def test_toy_bad_input():
    with pytest.raises(ValueError, match="name='donut'.*'moons'"):
        data.make_toy("donut")
    with pytest.raises(ValueError, match="num_samples=0"):
        data.make_toy("xor", 0)
    with pytest.raises(ValueError, match="noise=-0.1"):
        data.make_toy("xor", noise=-0.1)


# ----------------------------------------------------------------- splits

def test_split_partitions_every_sample_once():
    X = torch.arange(100).float().unsqueeze(1)
    y = torch.arange(100)
    splits = data.train_val_test_split(X, y, val_fraction=0.2, test_fraction=0.1, seed=0)
    sizes = [len(part[1]) for part in splits]
    assert sizes == [70, 20, 10]
    seen = torch.cat([part[1] for part in splits]).sort().values
    assert torch.equal(seen, y)
    for part in splits:
        assert torch.equal(part[0][:, 0].long(), part[1])  # rows stay paired


def test_split_bad_input():
    X, y = torch.zeros(10, 2), torch.zeros(10)
    with pytest.raises(ValueError, match="X is empty"):
        data.train_val_test_split(X[:0], y[:0])
    with pytest.raises(ValueError, match="X has 10 samples but y has 9"):
        data.train_val_test_split(X, y[:9])
    with pytest.raises(ValueError, match="val_fraction=1.2"):
        data.train_val_test_split(X, y, val_fraction=1.2)
    with pytest.raises(ValueError, match=r"val_fraction \+ test_fraction=1.0 is not allowed: expected a sum that leaves"):
        data.train_val_test_split(X, y, val_fraction=0.5, test_fraction=0.5)


@pytest.mark.parametrize("n, val_fraction, test_fraction, named", [
    (3, 0.1, 0.4, "val_fraction=0.1"),     # round(0.3) = 0 validation samples
    (10, 0.2, 0.04, "test_fraction=0.04"),  # round(0.4) = 0 test samples
    (2, 0.3, 0.3, r"val_fraction \+ test_fraction=0.6"),  # 1 + 1 of 2: no training sample
    (1, 0.0, 0.5, r"test_fraction=0.5|val_fraction \+ test_fraction"),
])
def test_a_split_that_would_come_out_empty_is_refused(n, val_fraction, test_fraction, named):
    X, y = torch.zeros(n, 2), torch.zeros(n, dtype=torch.long)
    with pytest.raises(ValueError, match=named):
        data.train_val_test_split(X, y, val_fraction=val_fraction, test_fraction=test_fraction)


def test_a_zero_fraction_asks_for_an_empty_set():
    X, y = torch.zeros(10, 2), torch.arange(10)
    train, val, test = data.train_val_test_split(X, y, val_fraction=0.3, test_fraction=0.0)
    assert (len(train[1]), len(val[1]), len(test[1])) == (7, 3, 0)


def test_stratified_split_keeps_class_proportions_and_partitions():
    y = torch.tensor([0] * 80 + [1] * 20)
    X = torch.arange(100).float().unsqueeze(1)
    splits = data.train_val_test_split(X, y, val_fraction=0.2, test_fraction=0.1, seed=0, stratify=y)
    assert [len(part[1]) for part in splits] == [70, 20, 10]
    assert [int(part[1].sum()) for part in splits] == [14, 4, 2]  # exactly 20% ones in every set
    assert torch.equal(torch.cat([part[0][:, 0] for part in splits]).sort().values, X[:, 0])
    for part in splits:
        assert torch.equal(y[part[0][:, 0].long()], part[1])  # rows stay paired
    again = data.train_val_test_split(X, y, val_fraction=0.2, test_fraction=0.1, seed=0, stratify=y)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(splits, again))
    other = data.train_val_test_split(X, y, val_fraction=0.2, test_fraction=0.1, seed=1, stratify=y)
    assert not torch.equal(splits.test[0], other.test[0])
    # an unstratified split of the same data is not exact: seed 0 gives 3 ones in the test set, not 2
    plain = data.train_val_test_split(X, y, val_fraction=0.2, test_fraction=0.1, seed=0)
    assert [int(part[1].sum()) for part in plain] != [14, 4, 2]


def test_stratified_split_agrees_with_scikit_learn():
    from sklearn.model_selection import train_test_split

    y = torch.arange(60) % 3
    X = torch.arange(60).float().unsqueeze(1)
    splits = data.train_val_test_split(X, y, val_fraction=0.25, test_fraction=0.25, seed=4, stratify=y)
    rest, test_idx = train_test_split(np.arange(60), test_size=15, random_state=4, stratify=y.numpy())
    assert splits.test[0][:, 0].long().tolist() == test_idx.tolist()


def test_stratified_split_bad_labels():
    X, y = torch.zeros(10, 2), torch.tensor([0] * 9 + [1])
    with pytest.raises(ValueError, match=r"stratify=.*is not allowed: expected labels with enough samples"):
        data.train_val_test_split(X, y, val_fraction=0.2, test_fraction=0.2, stratify=y)
    with pytest.raises(ValueError, match=r"stratify=.*integer class labels \[10\]"):
        data.train_val_test_split(X, y, stratify=y[:5])
    with pytest.raises(ValueError, match=r"stratify=.*integer class labels"):
        data.train_val_test_split(X, y, stratify=y.float())


def test_kfold_each_sample_validated_exactly_once():
    folds = list(data.kfold_indices(23, 5, seed=0))
    assert len(folds) == 5
    val = torch.cat([v for _, v in folds]).sort().values
    assert torch.equal(val, torch.arange(23))
    for train_idx, val_idx in folds:
        assert len(set(train_idx.tolist()) & set(val_idx.tolist())) == 0
        assert len(train_idx) + len(val_idx) == 23
    assert {len(v) for _, v in folds} == {4, 5}
    with pytest.raises(ValueError, match="num_folds=1"):
        data.kfold_indices(10, 1)  # refused at the call, not at the first fold
    with pytest.raises(ValueError, match="num_folds=11 is not allowed: expected an integer from 2 to num_samples=10"):
        data.kfold_indices(10, 11)


def test_stratified_kfold_keeps_class_proportions_in_every_fold():
    y = torch.tensor([0] * 40 + [1] * 10)
    folds = list(data.kfold_indices(50, 5, seed=0, stratify=y))
    assert len(folds) == 5
    assert torch.equal(torch.cat([v for _, v in folds]).sort().values, torch.arange(50))
    for train_idx, val_idx in folds:
        assert len(val_idx) == 10 and int(y[val_idx].sum()) == 2  # 20% ones in every fold
        assert set(train_idx.tolist()) == set(range(50)) - set(val_idx.tolist())
    plain = [int(y[v].sum()) for _, v in data.kfold_indices(50, 5, seed=0)]
    assert plain != [2] * 5  # without stratification the folds differ


def test_stratified_kfold_bad_labels():
    with pytest.raises(ValueError, match=r"stratify=.*at least num_folds=5 samples of every class; here class 1 has 3"):
        data.kfold_indices(20, 5, stratify=torch.tensor([0] * 17 + [1] * 3))
    with pytest.raises(ValueError, match=r"stratify=.*integer class labels \[20\]"):
        data.kfold_indices(20, 5, stratify=torch.zeros(19, dtype=torch.long))


# ----------------------------------------------------------------- batches

def test_batch_iterator_covers_every_sample_once_per_epoch_and_reshuffles():
    X = torch.arange(10).float().unsqueeze(1)
    y = torch.arange(10)
    it = data.BatchIterator(X, y, batch_size=4, seed=0)
    assert len(it) == 3
    epoch1 = [yb for _, yb in it]
    epoch2 = [yb for _, yb in it]
    assert [len(b) for b in epoch1] == [4, 4, 2]
    for epoch in (epoch1, epoch2):
        assert torch.equal(torch.cat(epoch).sort().values, y)
    assert not torch.equal(torch.cat(epoch1), torch.cat(epoch2))
    for xb, yb in it:
        assert torch.equal(xb[:, 0].long(), yb)


def test_batch_iterator_is_seeded_and_can_keep_order_or_drop_last():
    X = torch.arange(10)
    first = [b[0] for b in data.BatchIterator(X, batch_size=3, seed=5)]
    again = [b[0] for b in data.BatchIterator(X, batch_size=3, seed=5)]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    ordered = data.BatchIterator(X, batch_size=3, shuffle=False, drop_last=True)
    assert len(ordered) == 3
    assert torch.equal(torch.cat([b[0] for b in ordered]), torch.arange(9))


def test_batch_iterator_bad_input():
    with pytest.raises(ValueError, match="tensors is empty"):
        data.BatchIterator()
    with pytest.raises(ValueError, match=r"tensors\[0\] is empty"):
        data.BatchIterator(torch.zeros(0, 3), torch.zeros(0))
    with pytest.raises(ValueError, match=r"tensors\[0\] has 5 samples but tensors\[1\] has 4"):
        data.BatchIterator(torch.zeros(5, 3), torch.zeros(4))
    with pytest.raises(ValueError, match="batch_size=0"):
        data.BatchIterator(torch.zeros(5, 3), batch_size=0)
    with pytest.raises(ValueError, match=r"tensors\[1\] is a list"):
        data.BatchIterator(torch.zeros(5, 3), [0] * 5)
    with pytest.raises(ValueError, match=r"tensors\[0\] is a Tensor of 0 dimensions"):
        data.BatchIterator(torch.tensor(3.0))


def test_drop_last_with_a_batch_larger_than_the_data_is_refused():
    # it would yield no batch at all: an epoch without a step
    with pytest.raises(ValueError, match=r"batch_size=8 is not allowed: expected at most the 5 samples when drop_last=True"):
        data.BatchIterator(torch.zeros(5, 3), batch_size=8, drop_last=True)
    assert [len(b[0]) for b in data.BatchIterator(torch.zeros(5, 3), batch_size=5, drop_last=True)] == [5]
    assert [len(b[0]) for b in data.BatchIterator(torch.zeros(5, 3), batch_size=8)] == [5]


def test_the_suite_has_no_network(tmp_path, monkeypatch):
    """The loader's download path meets the conftest guard and explains itself, offline."""
    monkeypatch.setenv("NNPRACTICE_CACHE", str(tmp_path / "empty"))
    monkeypatch.setattr(data, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "nowhere")
    monkeypatch.setattr(data, "_FASHION_CACHE", {})
    with pytest.raises(FileNotFoundError, match="download failed"):
        data.load_fashion_mnist()
