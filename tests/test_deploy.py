import math

import numpy as np
import pytest
import torch

from conftest import trained_digits_mlp
from nnpractice import deploy, models


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small digits MLP, trained briefly, exported once for the whole module."""
    model, X, y = trained_digits_mlp()
    folder = tmp_path_factory.mktemp("onnx")
    path = deploy.export_onnx(model, X[:8], folder / "digits.onnx")
    return model, path, X, y


def test_export_is_equivalent_to_eager_on_real_inputs_at_any_batch_size(trained):
    model, path, X, _ = trained
    session = deploy.onnx_session(path)
    assert deploy.input_shape(session)[1:] == [64] and isinstance(deploy.input_shape(session)[0], str)
    for batch in (1, 3, 64, len(X)):
        assert deploy.max_abs_difference(model, session, X[:batch]) < 1e-4
    with torch.no_grad():
        assert (deploy.run_onnx(session, X).argmax(1) == model(X).argmax(1).numpy()).all()


def test_equivalence_check_notices_a_different_model(trained):
    model, path, X, _ = trained
    session = deploy.onnx_session(path)
    other = models.mlp(64, [32], 10)
    other.load_state_dict(model.state_dict())
    with torch.no_grad():
        other[-1].bias += 0.5
    assert deploy.max_abs_difference(other, session, X[:10]) == pytest.approx(0.5, abs=1e-4)


def test_quantized_model_is_smaller_and_mostly_agrees(trained, tmp_path):
    model, path, X, _ = trained
    qpath = deploy.quantize_dynamic(path, tmp_path / "q.onnx")
    assert qpath.stat().st_size < 0.6 * path.stat().st_size
    full, quant = deploy.onnx_session(path), deploy.onnx_session(qpath)
    agree = (deploy.run_onnx(full, X).argmax(1) == deploy.run_onnx(quant, X).argmax(1)).mean()
    assert agree > 0.95


def test_latency_table_has_every_runner_and_batch(trained):
    model, path, X, _ = trained
    session = deploy.onnx_session(path)
    table = deploy.latency_table({"eager": deploy.eager_runner(model), "onnx": deploy.onnx_runner(session)},
                                 X.numpy(), batch_sizes=(1, 64), repeats=5)
    assert set(table) == {"eager", "onnx"} and all(set(row) == {1, 64} for row in table.values())
    assert all(0 < ms < 1000 for row in table.values() for ms in row.values())
    calls = []
    # warmup, then per timed call torch's own warm-up (two calls) and the call
    assert deploy.latency(lambda: calls.append(1), repeats=4, warmup=2) >= 0 and len(calls) == 2 + 4 * 3


@pytest.mark.parametrize("call, words", [
    (lambda m, p, X: deploy.export_onnx(m, X[:1], "/tmp/never.onnx"), "at least 2"),
    (lambda m, p, X: deploy.export_onnx(m, X[:4], "/tmp/never.onnx", dynamic_batch=1), "dynamic_batch=1"),
    (lambda m, p, X: deploy.export_onnx("model", X[:4], "/tmp/never.onnx"), "model='model' is not allowed"),
    (lambda m, p, X: deploy.export_onnx(m, X[:4].numpy(), "/tmp/never.onnx"), "example_input=<ndarray"),
    (lambda m, p, X: deploy.onnx_session(p.parent / "missing.onnx"), "expected an existing .onnx file"),
    (lambda m, p, X: deploy.onnx_session(p, num_threads=0), "num_threads=0"),
    (lambda m, p, X: deploy.latency(lambda: None, repeats=0), "repeats=0"),
    (lambda m, p, X: deploy.latency(lambda: None, warmup=-1), "warmup=-1"),
    (lambda m, p, X: deploy.latency_table({}, X.numpy()), "runners={} is not allowed"),
    (lambda m, p, X: deploy.latency_table({"e": deploy.eager_runner(m)}, X[:10].numpy(), batch_sizes=(64,)),
     r"batch_sizes=\(64,\) is not allowed: expected batch sizes up to the 10 rows"),
    (lambda m, p, X: deploy.quantize_dynamic(p.parent / "missing.onnx", p.parent / "q.onnx"), "existing .onnx"),
    (lambda m, p, X: deploy.PredictionServer(p, host="0.0.0.0"), "host='0.0.0.0'"),
    (lambda m, p, X: deploy.PredictionServer(p, port=70000), "port=70000"),
    (lambda m, p, X: deploy.PredictionServer(p, max_batch=0), "max_batch=0"),
    (lambda m, p, X: deploy.PredictionServer(p, port=True), "port=True"),
    (lambda m, p, X: deploy.PredictionServer(p, workers=0), "workers=0"),
    (lambda m, p, X: deploy.PredictionServer(p, timeout=0), "timeout=0"),
    (lambda m, p, X: deploy.PredictionServer(p), r"onnx_path=.* expected an ONNX file with a preprocessing contract"),
    (lambda m, p, X: deploy.load_test("http://127.0.0.1:9/x", [b"{}"], concurrency=0), "concurrency=0"),
    (lambda m, p, X: deploy.load_test("http://127.0.0.1:9/x", ["{}"]), r"bodies=\['\{\}'\] is not allowed"),
    (lambda m, p, X: deploy.fuzz_service("http://127.0.0.1:9", max_examples=0), "max_examples=0"),
    (lambda m, p, X: deploy.max_abs_difference(m, p, X), "session=.* is not allowed: expected an onnxruntime"),
    (lambda m, p, X: deploy.max_abs_difference(m, deploy.onnx_session(p), X[:0]), "x=.* expected a batch of at least"),
    (lambda m, p, X: deploy.max_abs_difference(m, deploy.onnx_session(p), X[:3] * float("nan")), "NaN or infinity"),
    (lambda m, p, X: deploy.max_abs_difference(m, deploy.onnx_session(p), X.tolist()), "x=.* is not allowed"),
    (lambda m, p, X: deploy.max_abs_difference(models.mlp(64, [8], 3), deploy.onnx_session(p), X[:4]),
     r"session=.* expected a model whose output has the eager model's shape \(4, 3\)"),
    (lambda m, p, X: deploy.post_json("http://127.0.0.1:9/x", {}, timeout=0), "timeout=0"),
])
def test_bad_arguments_raise_value_errors_that_say_what_is_allowed(trained, call, words):
    model, path, X, _ = trained
    with pytest.raises(ValueError, match=words):
        call(model, path, X)


def test_an_int64_example_for_a_float_model_is_refused_not_exported(tmp_path):
    # the exporter traces integer inputs into a float Gemm and writes a file no runtime loads
    model = models.mlp(4, [8], 3)
    with pytest.raises(ValueError, match=r"example_input=.* expected an input the model runs on in PyTorch; "
                                         r"here model\(example_input\) raised RuntimeError"):
        deploy.export_onnx(model, torch.randint(0, 5, (8, 4)), tmp_path / "int.onnx")
    assert not (tmp_path / "int.onnx").exists()


def test_a_model_that_takes_integers_is_exported_and_run_with_integers(tmp_path):
    class Lookup(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.table = torch.nn.Embedding(10, 3)

        def forward(self, index):
            return self.table(index).sum(dim=1)

    torch.manual_seed(0)
    model = Lookup().eval()
    index = torch.randint(0, 10, (8, 4))
    session = deploy.onnx_session(deploy.export_onnx(model, index, tmp_path / "lookup.onnx"))
    assert session.get_inputs()[0].type == "tensor(int64)"
    assert deploy.max_abs_difference(model, session, index) < 1e-6  # fed as int64, not cast to float32
    assert np.allclose(deploy.run_onnx(session, index[:2].numpy()), model(index[:2]).detach().numpy(), atol=1e-6)


def test_a_file_the_onnx_checker_refuses_is_an_export_error_and_is_removed(tmp_path):
    import warnings

    model = models.mlp(4, [8], 3).eval()
    path = tmp_path / "broken.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # what export_onnx does not do: export without running the model first
        torch.onnx.export(model, (torch.randint(0, 5, (8, 4)),), verbose=False).save(str(path))
    with pytest.raises(deploy.ExportError, match="broken.onnx fails ONNX's checker, so no runtime could load it"):
        deploy._check_exported(path)
    assert not path.exists()


# ----------------------------------------------------------------- the service

def test_validate_inputs_accepts_nested_lists_of_numbers():
    batch = deploy.validate_inputs({"inputs": [[[1, 2]], [[3.5, 4]]]}, [1, 2])
    assert batch.dtype == np.float32 and batch.shape == (2, 1, 2)


@pytest.mark.parametrize("payload, words", [
    ([1, 2], "JSON object"),
    ({"x": []}, "JSON object"),
    ({"inputs": []}, "non-empty list"),
    ({"inputs": "abc"}, "non-empty list"),
    ({"inputs": [[1, 2, 3]]}, "shape"),
    ({"inputs": [[1, "2"]]}, "must be a number"),
    ({"inputs": [[1, True]]}, "must be a number"),
    ({"inputs": [[1, None]]}, "must be a number"),
    ({"inputs": [[1, math.nan]]}, "finite"),
    ({"inputs": [[1, 2]] * 5}, "at most 4"),
])
def test_validate_inputs_refuses_bad_payloads(payload, words):
    with pytest.raises(deploy.BadRequest, match=words):
        deploy.validate_inputs(payload, [2], max_batch=4)


def test_the_contract_travels_in_the_file(trained, tmp_path):
    model, path, X, _ = trained
    plain = deploy.onnx_session(path)
    assert deploy.read_contract(plain) is None  # exported without one
    with_contract = tmp_path / "digits-contract.onnx"
    with_contract.write_bytes(path.read_bytes())
    deploy.write_contract(with_contract, (0.0, 1.0), normalization="pixels / 16", classes=[str(d) for d in range(10)])
    deploy.write_contract(with_contract, (0.0, 1.0), normalization="pixels / 16 (final)")  # replaces, not adds
    contract = deploy.read_contract(deploy.onnx_session(with_contract))
    assert contract == {"value_range": [0.0, 1.0], "normalization": "pixels / 16 (final)"}
    # the contract changes no weight: the file still answers as before
    assert np.array_equal(deploy.run_onnx(deploy.onnx_session(with_contract), X[:16]), deploy.run_onnx(plain, X[:16]))


def test_validate_inputs_checks_the_value_range_only_when_given():
    assert deploy.validate_inputs({"inputs": [[0.0, 1.0]]}, [2], value_range=(0, 1)).shape == (1, 2)
    with pytest.raises(deploy.BadRequest, match=r"\[0, 1\].*1 values lie outside \(from 0 to 255\)"):
        deploy.validate_inputs({"inputs": [[0.0, 255.0]]}, [2], value_range=(0, 1))
    assert deploy.validate_inputs({"inputs": [[0.0, 255.0]]}, [2]).max() == 255.0
    with pytest.raises(ValueError, match="value_range"):
        deploy.validate_inputs({"inputs": [[0.0, 1.0]]}, [2], value_range=(1, 0))


def test_static_quantization_is_smaller_and_agrees_on_real_inputs(trained, tmp_path):
    _, path, X, _ = trained
    out = deploy.quantize_static(path, tmp_path / "static.onnx", X[:256].numpy())
    assert out.stat().st_size < path.stat().st_size
    float_pred = deploy.run_onnx(deploy.onnx_session(path), X).argmax(1)
    int8_pred = deploy.run_onnx(deploy.onnx_session(out), X).argmax(1)
    assert (float_pred == int8_pred).mean() > 0.95
    bad = X[:8].numpy().copy()
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match="calibration"):
        deploy.quantize_static(path, tmp_path / "bad.onnx", bad)
