"""The grader's data protocol: what a kernel records is plain data, read safely, judged against the reference only."""
import json
import math

import numpy as np
import pytest
import torch

import nnpractice
from nnpractice import answers


def _record(tmp_path, monkeypatch, grade_id, values, **tolerance):
    monkeypatch.setenv(answers.ANSWERS_DIR_VARIABLE, str(tmp_path))
    answer = answers.record(grade_id)
    for name, value in values.items():
        answer(name, value, **tolerance)
    return answers.load(tmp_path / f"{grade_id}.json")


VALUES = {"tensor": torch.arange(6.0, dtype=torch.float64).reshape(2, 3), "ints": torch.tensor([3, 1, 2]),
          "flag": True, "count": 7, "mean": 0.25, "nan": math.nan, "name": "relu", "none": None,
          "nested": {"folds": [[0, 1], (2, 3)], "rate": 1e-3}, "array": np.array([[1.5, -2.0]], dtype=np.float32)}


def test_a_record_round_trips_through_the_file(tmp_path, monkeypatch):
    record = _record(tmp_path, monkeypatch, "ch99-ex1-tests", VALUES)
    assert answers.judge(record, record) == []
    decoded = {name: answers.decode(entry["value"]) for name, entry in record.items()}
    assert decoded["tensor"].dtype == np.float64 and decoded["tensor"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert decoded["ints"].dtype == np.int64 and decoded["flag"] is True and decoded["count"] == 7
    assert math.isnan(decoded["nan"]) and decoded["nested"] == {"folds": [[0, 1], [2, 3]], "rate": 1e-3}
    assert answers.recorded("ch99-ex1-tests") == record


@pytest.mark.parametrize("name, wrong", [
    ("tensor", torch.arange(6.0, dtype=torch.float64).reshape(3, 2)),      # shape
    ("tensor", torch.arange(6.0, dtype=torch.float32).reshape(2, 3)),      # dtype
    ("tensor", torch.arange(6.0, dtype=torch.float64).reshape(2, 3) + 1e-4),
    ("ints", torch.tensor([3, 2, 1])), ("flag", False), ("flag", 1), ("count", 8), ("mean", 0.2501),
    ("nan", 0.0), ("name", "ReLU"), ("none", 0), ("nested", {"folds": [[0, 1], [3, 2]], "rate": 1e-3}),
    ("nested", {"folds": [[0, 1], [2, 3]]}), ("array", np.array([1.5, -2.0], dtype=np.float32)),
])
def test_every_kind_of_wrong_value_is_rejected_by_name(tmp_path, monkeypatch, name, wrong):
    reference = _record(tmp_path, monkeypatch, "ch99-ex1-tests", VALUES)
    submitted = _record(tmp_path, monkeypatch, "ch99-ex1-tests", {**VALUES, name: wrong})
    problems = answers.judge(reference, submitted)
    assert len(problems) == 1 and problems[0].startswith(repr(name)), problems


def test_tolerances_come_from_the_reference_never_from_the_submission(tmp_path, monkeypatch):
    reference = _record(tmp_path, monkeypatch, "t", {"mean": 0.5}, rtol=1e-6, atol=0.0)
    loose = _record(tmp_path, monkeypatch, "t", {"mean": 0.6}, rtol=1e9, atol=1e9)
    assert answers.judge(reference, loose) == ["'mean' is not the expected value"]
    close = _record(tmp_path, monkeypatch, "t", {"mean": 0.5 * (1 + 1e-7)})
    assert answers.judge(reference, close) == []


def test_missing_answers_and_missing_records_fail(tmp_path, monkeypatch):
    reference = _record(tmp_path, monkeypatch, "t", {"a": 1, "b": 2})
    partial = _record(tmp_path, monkeypatch, "t", {"a": 1})
    assert answers.judge(reference, partial) == ["'b' was not recorded (the test stopped before it, or the answer raised)"]
    assert answers.judge(reference, None) and answers.judge(reference, {})
    assert answers.judge({}, reference), "a reference without answers cannot pass anything"


def test_the_verdict_never_shows_the_expected_value(tmp_path, monkeypatch):
    reference = _record(tmp_path, monkeypatch, "t", {"secret": 0.123456, "vector": torch.tensor([9.87654])})
    wrong = _record(tmp_path, monkeypatch, "t", {"secret": 1.0, "vector": torch.tensor([1.0])})
    text = " ".join(answers.judge(reference, wrong))
    assert "0.123" not in text and "9.87" not in text and "secret" in text


def test_objects_that_are_not_plain_data_are_refused():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    with pytest.raises(answers.AnswerFormatError, match="AlwaysEqual is not allowed"):
        answers.encode(AlwaysEqual())
    with pytest.raises(answers.AnswerFormatError, match="str keys"):
        answers.encode({1: 2})
    deep = []
    for _ in range(30):
        deep = [deep]
    with pytest.raises(answers.AnswerFormatError, match="nested"):
        answers.encode(deep)

    class Lying(torch.Tensor):          # a tensor subclass whose comparisons always agree
        def __eq__(self, other):
            return True

    assert answers.encode(torch.zeros(2).as_subclass(Lying)) == answers.encode(torch.zeros(2)), "its data is recorded"


@pytest.mark.parametrize("content", [
    "not json", "[1, 2]", '{"a": 1}', '{"a": {"value": {"int": 1}, "rtol": 0}}',
    '{"a": {"value": {"eval": "1"}, "rtol": 0, "atol": 0}}',
    '{"a": {"value": {"array": "AAAA", "dtype": "object", "shape": [1]}, "rtol": 0, "atol": 0}}',
    '{"a": {"value": {"array": "AAAA", "dtype": "float64", "shape": [5]}, "rtol": 0, "atol": 0}}',
    '{"a": {"value": {"int": true}, "rtol": 0, "atol": 0}}',
])
def test_hostile_record_files_give_no_pass(tmp_path, content):
    reference = {"a": {"value": answers.encode(1), "rtol": 0.0, "atol": 0.0}}
    path = tmp_path / "t.json"
    path.write_text(content)
    try:
        submitted = answers.load(path)
    except answers.AnswerFormatError:
        return
    assert answers.judge(reference, submitted), "a malformed value must not pass"


def test_oversized_and_symlinked_record_files_are_refused_unread(tmp_path):
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"a": {"value": {"str": "x" * 100}, "rtol": 0, "atol": 0}}))
    with pytest.raises(answers.AnswerFormatError, match="larger than 50 bytes"):
        answers.load(big, max_bytes=50)
    link = tmp_path / "link.json"
    link.symlink_to(big)
    with pytest.raises(answers.AnswerFormatError, match="not a plain file"):
        answers.load(link)


@pytest.mark.parametrize("call, match", [
    (lambda: answers.record("../escape"), "grade_id='../escape' is not allowed"),
    (lambda: answers.record("t")("", 1), "name='' is not allowed"),
    (lambda: answers.record("t")("x", 1, rtol=math.inf), "rtol=inf is not allowed"),
    (lambda: answers.record("t")("x", 1, atol=-1), "atol=-1 is not allowed"),
])
def test_bad_recorder_arguments_name_the_parameter(call, match):
    with pytest.raises(nnpractice.InvalidParameterError, match=match.replace("(", r"\(").replace("[", r"\[")):
        call()


def test_variants_differ_by_student_and_leave_the_book_unchanged(monkeypatch):
    book = nnpractice.setup_notebook(0, report=False)
    assert book.variant == "" and book.variant_seed(5) == book.derive_seed(5) == 5
    monkeypatch.setenv(nnpractice.VARIANT_VARIABLE, "ada")
    ada = nnpractice.setup_notebook(0, report=False)
    bob = nnpractice.setup_notebook(0, report=False, variant="bob")   # the argument wins over the variable
    assert (ada.variant, bob.variant) == ("ada", "bob")
    seeds = {ada.variant_seed(5), bob.variant_seed(5), ada.variant_seed(6), nnpractice.setup_notebook(
        1, report=False).variant_seed(5)}
    assert len(seeds) == 4, "student, offset and notebook seed each change the variant's seed"
    assert ada.variant_seed(5) == nnpractice.setup_notebook(0, report=False, variant="ada").variant_seed(5)
    assert "variant ada" in str(ada)
    monkeypatch.setenv(nnpractice.VARIANT_VARIABLE, "../etc")
    with pytest.raises(nnpractice.InvalidParameterError, match="NNPRACTICE_VARIANT='../etc' is not allowed"):
        nnpractice.setup_notebook(0, report=False)
