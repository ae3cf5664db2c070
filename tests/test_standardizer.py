"""data.Standardizer and data.load_tabular (chapter 03)."""
import pytest
import torch

from nnpractice import data


def test_train_statistics_give_zero_mean_unit_std():
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(500, 4, generator=gen) * torch.tensor([1.0, 10.0, 1000.0, 0.01]) + 7.0
    Z = data.Standardizer().fit_transform(X)
    assert Z.mean(dim=0).abs().max() < 1e-4
    assert (Z.std(dim=0, correction=0) - 1).abs().max() < 1e-4


def test_other_sets_use_the_training_statistics():
    train = torch.tensor([[0.0], [2.0]])           # mean 1, std 1
    other = torch.tensor([[5.0], [7.0]])
    s = data.Standardizer().fit(train)
    assert torch.allclose(s.transform(other), torch.tensor([[4.0], [6.0]]))
    assert torch.allclose(s.inverse_transform(s.transform(other)), other)


def test_constant_column_becomes_zero_not_nan():
    X = torch.tensor([[1.0, 3.0], [2.0, 3.0], [3.0, 3.0]])
    Z = data.Standardizer().fit_transform(X)
    assert torch.isfinite(Z).all()
    assert torch.equal(Z[:, 1], torch.zeros(3))


def test_scalar_statistics_for_images():
    X = torch.rand(20, 1, 4, 4)
    s = data.Standardizer(per_feature=False).fit(X)
    assert s.mean.ndim == 0 and s.std.ndim == 0
    Z = s.transform(X)
    assert abs(Z.mean().item()) < 1e-5 and abs(Z.std(correction=0).item() - 1) < 1e-4


def test_inputs_are_not_modified():
    X = torch.randn(10, 3)
    before = X.clone()
    data.Standardizer().fit_transform(X)
    assert torch.equal(X, before)


@pytest.mark.parametrize("kwargs, word", [({"per_feature": 1}, "per_feature"), ({"eps": -1.0}, "eps"),
                                          ({"eps": float("nan")}, "eps")])
def test_bad_settings(kwargs, word):
    with pytest.raises(ValueError, match=word):
        data.Standardizer(**kwargs)


def test_bad_inputs():
    s = data.Standardizer()
    with pytest.raises(ValueError, match="not fitted"):
        s.transform(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="empty"):
        s.fit(torch.zeros(0, 3))
    with pytest.raises(ValueError, match="floating-point"):
        s.fit(torch.zeros(2, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="torch.Tensor"):
        s.fit([[1.0, 2.0]])
    with pytest.raises(ValueError, match="X holds NaN or infinite values"):
        s.fit(torch.tensor([[1.0, float("nan")], [2.0, 3.0]]))
    s.fit(torch.randn(5, 3))
    with pytest.raises(ValueError, match=r"shape \(3,\), the shape seen by fit.*shape \(4,\)"):
        s.transform(torch.randn(2, 4))


@pytest.mark.parametrize("name, n, d, dtype, classes", [("breast_cancer", 569, 30, torch.int64, 2),
                                                        ("wine", 178, 13, torch.int64, 3),
                                                        ("diabetes", 442, 10, torch.float32, None)])
def test_load_tabular(name, n, d, dtype, classes):
    X, y = data.load_tabular(name)
    assert X.shape == (n, d) and X.dtype == torch.float32
    assert y.shape == (n,) and y.dtype == dtype
    if classes:
        assert sorted(y.unique().tolist()) == list(range(classes))
    else:
        assert 20 < y.min() and y.max() < 400


def test_load_tabular_bad_name():
    with pytest.raises(ValueError, match="name='iris'.*breast_cancer"):
        data.load_tabular("iris")
