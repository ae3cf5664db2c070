import math

import pytest

from nnpractice._validation import check_choice, check_positive, check_range


@pytest.mark.parametrize("value", [0, -1, -1e-3, math.inf, math.nan, "1", None, True])
def test_check_positive_rejects_and_names_parameter_value_and_rule(value):
    with pytest.raises(ValueError) as info:
        check_positive("lr", value)
    message = str(info.value)
    assert "lr=" in message and repr(value) in message and "positive" in message


def test_check_positive_accepts_and_returns_value():
    assert check_positive("lr", 0.1) == 0.1
    assert check_positive("n", 3, integer=True) == 3
    with pytest.raises(ValueError, match="positive integer"):
        check_positive("n", 2.5, integer=True)


def test_check_range_edges():
    assert check_range("p", 0.0, 0.0, 1.0, high_inclusive=False) == 0.0
    with pytest.raises(ValueError, match=r"p=1\.0 .*\[0\.0, 1\.0\)"):
        check_range("p", 1.0, 0.0, 1.0, high_inclusive=False)
    with pytest.raises(ValueError, match=r"\(0\.0"):
        check_range("p", 0.0, 0.0, 1.0, low_inclusive=False)
    with pytest.raises(ValueError):
        check_range("p", math.nan, 0.0, 1.0)


def test_check_choice_lists_allowed_values():
    with pytest.raises(ValueError, match=r"device='tpu'.*'cpu'.*'cuda'"):
        check_choice("device", "tpu", ["cpu", "cuda"])
    assert check_choice("device", "cpu", ["cpu", "cuda"]) == "cpu"
