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


def _net(value: float) -> nn.Linear:
    net = nn.Linear(3, 2)
    with torch.no_grad():
        net.weight.fill_(value)
        net.bias.fill_(value)
    return net


def test_load_returns_the_model_and_metadata_comes_back(tmp_path):
    path = checkpoints.save(_net(0.5), tmp_path / "net.pt", metadata={"epoch": 3, "value": 0.25})
    twin = nn.Linear(3, 2)
    assert checkpoints.load(twin, path) is twin and torch.equal(twin.weight, torch.full((2, 3), 0.5))
    assert checkpoints.read_metadata(path) == {"epoch": 3, "value": 0.25}
    assert checkpoints.read_metadata(checkpoints.save(_net(0.0), tmp_path / "bare.pt")) == {}


def test_a_truncated_file_is_refused_naming_its_path(tmp_path):
    path = checkpoints.save(_net(0.5), tmp_path / "net.pt")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(checkpoints.ChecksumError, match=f"{path}.*corrupted, truncated"):
        checkpoints.load(nn.Linear(3, 2), path)
    with pytest.raises(checkpoints.ChecksumError, match=str(path)):
        checkpoints.read_metadata(path)


def _only_checkpoint_files(folder):
    return sorted(p.name for p in folder.iterdir()) == ["net.pt", "net.pt.sha256"]


def test_a_crash_while_writing_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = checkpoints.save(_net(1.0), tmp_path / "net.pt", metadata={"epoch": 1})

    def crash_mid_write(obj, f):
        f.write(b"half a checkpoi")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash_mid_write)
    with pytest.raises(OSError, match="disk full"):
        checkpoints.save(_net(2.0), path, metadata={"epoch": 2})
    monkeypatch.undo()
    assert checkpoints.verify(path) and checkpoints.read_metadata(path) == {"epoch": 1}
    assert torch.equal(checkpoints.load(nn.Linear(3, 2), path).weight, torch.full((2, 3), 1.0))
    assert _only_checkpoint_files(tmp_path), "no temporary file may remain"


def test_a_crash_before_or_between_the_renames_leaves_a_checkpoint_that_verifies(tmp_path, monkeypatch):
    path = checkpoints.save(_net(1.0), tmp_path / "net.pt", metadata={"epoch": 1})
    real_replace = checkpoints.os.replace

    def crash_on_the_weights(src, dst):
        if str(dst) == str(path):  # the checksum file was renamed already, the weights never are
            raise OSError("killed")
        real_replace(src, dst)

    monkeypatch.setattr(checkpoints.os, "replace", crash_on_the_weights)
    with pytest.raises(OSError, match="killed"):
        checkpoints.save(_net(2.0), path, metadata={"epoch": 2})
    monkeypatch.undo()
    assert checkpoints.verify(path) and checkpoints.read_metadata(path) == {"epoch": 1}
    assert _only_checkpoint_files(tmp_path)

    renames = []

    def crash_after_the_weights(src, dst):  # the weights are renamed, the final checksum file is not
        renames.append(dst)
        if len(renames) == 3:
            raise OSError("killed")
        real_replace(src, dst)

    monkeypatch.setattr(checkpoints.os, "replace", crash_after_the_weights)
    with pytest.raises(OSError, match="killed"):
        checkpoints.save(_net(3.0), path, metadata={"epoch": 3})
    monkeypatch.undo()
    assert [str(r) for r in renames[1:]] == [str(path), f"{path}.sha256"]
    assert checkpoints.verify(path) and checkpoints.read_metadata(path) == {"epoch": 3}
    # the next save replaces both and the checksum file lists only the new digest again
    checkpoints.save(_net(4.0), path)
    assert (tmp_path / "net.pt.sha256").read_text().split() == [checkpoints.sha256(path)]


def test_a_checkpoint_saved_as_a_bare_state_dict_still_loads(tmp_path):
    # files cached before metadata was stored: the state_dict alone, with its checksum beside it
    path = tmp_path / "old.pt"
    torch.save(_net(0.75).state_dict(), path)
    (tmp_path / "old.pt.sha256").write_text(checkpoints.sha256(path) + "\n")
    assert torch.equal(checkpoints.load(nn.Linear(3, 2), path).bias, torch.full((2,), 0.75))
    assert checkpoints.read_metadata(path) == {}


@pytest.mark.parametrize("call, match", [
    (lambda p: checkpoints.save("not a model", p / "x.pt"), "model='not a model' is not allowed"),
    (lambda p: checkpoints.save(nn.Linear(1, 1), p / "x.pt", metadata=[1]), "metadata=\\[1\\] is not allowed"),
    (lambda p: checkpoints.load([1], p / "x.pt"), r"model=\[1\] is not allowed"),
    (lambda p: checkpoints.load(nn.Linear(1, 1), 3), "path=3 is not allowed"),
    (lambda p: checkpoints.sha256(p / "absent"), "path=.*expected an existing file"),
    (lambda p: checkpoints.sha256(p, chunk_size=0), "chunk_size=0"),
    (lambda p: checkpoints.sha256(p, chunk_size=True), "chunk_size=True"),
    (lambda p: checkpoints.cached("", lambda: nn.Linear(1, 1), lambda m: None, folder=p), "name=''"),
    (lambda p: checkpoints.cached("a/b", lambda: nn.Linear(1, 1), lambda m: None, folder=p), "without slashes"),
    (lambda p: checkpoints.cached("a", None, lambda m: None, folder=p), "build=None is not allowed"),
    (lambda p: checkpoints.cached("a", lambda: 3, lambda m: None, folder=p), "build=.*here build\\(\\) returned a int"),
    (lambda p: checkpoints.cached("a", lambda: nn.Linear(1, 1), lambda m: None, folder=p, verbose=1), "verbose=1"),
    (lambda p: checkpoints.config_tag([1]), r"config=\[1\] is not allowed"),
])
def test_bad_inputs(tmp_path, call, match):
    with pytest.raises(ValueError, match=match):
        call(tmp_path)
