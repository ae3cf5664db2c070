import hashlib

import pytest
import torch
from torch import nn

from nnpractice import checkpoints


def test_save_writes_file_and_matching_sha256(tmp_path):
    net = nn.Linear(3, 2)
    path = checkpoints.save(net, tmp_path / "sub" / "net.pt")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (tmp_path / "sub" / "net.pt.sha256").read_text().strip() == digest
    assert checkpoints.sha256(path) == digest
    assert checkpoints.sha256(path, chunk_size=7) == digest
    assert checkpoints.verify(path)
    assert not list((tmp_path / "sub").glob("*.tmp"))


def test_load_round_trip(tmp_path):
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    net[1].running_mean.fill_(2.5)
    path = checkpoints.save(net, tmp_path / "net.pt")
    twin = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    checkpoints.load(twin, path)
    for a, b in zip(net.state_dict().values(), twin.state_dict().values()):
        assert torch.equal(a, b)


def test_corrupted_file_is_refused(tmp_path):
    path = checkpoints.save(nn.Linear(3, 2), tmp_path / "net.pt")
    raw = bytearray(path.read_bytes())
    raw[-10] ^= 0x01
    path.write_bytes(bytes(raw))
    assert not checkpoints.verify(path)
    with pytest.raises(checkpoints.ChecksumError, match="SHA-256"):
        checkpoints.load(nn.Linear(3, 2), path)


def test_missing_checksum_or_file(tmp_path):
    path = checkpoints.save(nn.Linear(3, 2), tmp_path / "net.pt")
    (tmp_path / "net.pt.sha256").unlink()
    assert not checkpoints.verify(path)
    with pytest.raises(FileNotFoundError):
        checkpoints.load(nn.Linear(3, 2), path)
    with pytest.raises(FileNotFoundError):
        checkpoints.load(nn.Linear(3, 2), tmp_path / "absent.pt")


def test_cached_trains_once_then_loads_and_rebuilds_corrupted(tmp_path):
    calls = []

    def train(model):
        calls.append(1)
        with torch.no_grad():
            model.weight.fill_(0.5)

    model, status = checkpoints.cached("lin", lambda: nn.Linear(2, 2), train, folder=tmp_path, verbose=False)
    assert status == "trained" and len(calls) == 1
    model2, status2 = checkpoints.cached("lin", lambda: nn.Linear(2, 2), train, folder=tmp_path, verbose=False)
    assert status2 == "loaded" and len(calls) == 1
    assert torch.equal(model2.weight, torch.full((2, 2), 0.5))
    [path] = tmp_path.glob("lin-*.pt")
    path.write_bytes(path.read_bytes()[:-5])            # truncated
    model3, status3 = checkpoints.cached("lin", lambda: nn.Linear(2, 2), train, folder=tmp_path, verbose=False)
    assert status3 == "rebuilt" and len(calls) == 2
    assert checkpoints.verify(path)
    assert torch.equal(model3.weight, torch.full((2, 2), 0.5))


def test_cached_config_changes_the_file(tmp_path):
    train = lambda m: None  # noqa: E731
    checkpoints.cached("m", lambda: nn.Linear(2, 2), train, config={"lr": 1}, folder=tmp_path, verbose=False)
    _, status = checkpoints.cached("m", lambda: nn.Linear(2, 2), train, config={"lr": 2}, folder=tmp_path, verbose=False)
    assert status == "trained"
    assert len(list(tmp_path.glob("m-*.pt"))) == 2
    assert checkpoints.config_tag({"a": 1, "b": 2}) == checkpoints.config_tag({"b": 2, "a": 1})


def test_cached_uses_nnpractice_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NNPRACTICE_CACHE", str(tmp_path))
    checkpoints.cached("env", lambda: nn.Linear(2, 2), lambda m: None, verbose=False)
    assert list((tmp_path / "models").glob("env-*.pt"))


@pytest.mark.parametrize("call, match", [
    (lambda p: checkpoints.save("not a model", p / "x.pt"), "model is a str"),
    (lambda p: checkpoints.load([1], p / "x.pt"), "model is a list"),
    (lambda p: checkpoints.sha256(p / "absent"), "path=.*expected an existing file"),
    (lambda p: checkpoints.sha256(p, chunk_size=0), "chunk_size=0"),
    (lambda p: checkpoints.cached("", lambda: nn.Linear(1, 1), lambda m: None, folder=p), "name=''"),
    (lambda p: checkpoints.cached("a/b", lambda: nn.Linear(1, 1), lambda m: None, folder=p), "without slashes"),
    (lambda p: checkpoints.cached("a", None, lambda m: None, folder=p), "build is a NoneType"),
    (lambda p: checkpoints.cached("a", lambda: 3, lambda m: None, folder=p), "model is a int"),
    (lambda p: checkpoints.config_tag([1]), "config is a list"),
])
def test_bad_inputs(tmp_path, call, match):
    with pytest.raises(ValueError, match=match):
        call(tmp_path)
