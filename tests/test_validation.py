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


def test_a_missing_extra_is_an_error_that_says_how_to_install_it(monkeypatch):
    import nnpractice
    from notebook_tools import repository_url

    monkeypatch.setitem(nnpractice.EXTRAS, "search", ("a_module_that_is_not_installed",))
    with pytest.raises(ModuleNotFoundError, match=r"needs the 'search' extra \(a_module_that_is_not_installed missing\)") as error:
        nnpractice.setup_notebook(0, report=False, extras=["search"])
    assert f'%pip install "nnpractice[search] @ git+{repository_url()}"' in str(error.value)
    with pytest.raises(ValueError, match="extras=\\['serch'\\] is not allowed"):
        nnpractice.setup_notebook(0, report=False, extras=["serch"])


def test_every_extra_of_the_library_is_an_extra_of_the_package():
    import tomllib

    import nnpractice
    from notebook_tools import ROOT

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(nnpractice.EXTRAS) <= set(extras)
