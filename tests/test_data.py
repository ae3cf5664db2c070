import gzip
import struct

import numpy as np
import pytest
import torch

from nnpractice import data

# ----------------------------------------------------------------- Fashion-MNIST

def _write_idx(path, array):
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


@pytest.fixture
def fake_fashion(tmp_path, monkeypatch):
    """A tiny Fashion-MNIST in a user cache, and no system copy."""
    cache = tmp_path / "cache"
    folder = cache / "fashion-mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 12), ("t10k", 4)):
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)
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


def test_fashion_mnist_download_uses_published_checksums(tmp_path, monkeypatch):
    import pooch

    seen = []
    monkeypatch.setenv("NNPRACTICE_CACHE", str(tmp_path / "c"))
    monkeypatch.setattr(data, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "nowhere")
    monkeypatch.setattr(data, "_FASHION_CACHE", {})
    monkeypatch.setattr(pooch, "retrieve", lambda url, known_hash, **kw: seen.append((url, known_hash)) or 1 / 0)
    with pytest.raises(FileNotFoundError):
        data.load_fashion_mnist()
    url, known_hash = seen[0]
    assert url.endswith("train-images-idx3-ubyte.gz") and known_hash == "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d"


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
    with pytest.raises(ValueError, match="sum below 1"):
        data.train_val_test_split(X, y, val_fraction=0.5, test_fraction=0.5)


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
        list(data.kfold_indices(10, 1))


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


def test_the_suite_has_no_network(tmp_path, monkeypatch):
    """The loader's download path meets the conftest guard and explains itself, offline."""
    monkeypatch.setenv("NNPRACTICE_CACHE", str(tmp_path / "empty"))
    monkeypatch.setattr(data, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "nowhere")
    monkeypatch.setattr(data, "_FASHION_CACHE", {})
    with pytest.raises(FileNotFoundError, match="download failed"):
        data.load_fashion_mnist()
