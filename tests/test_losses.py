"""losses: label smoothing and the soft cross-entropy, checked against PyTorch's own."""
import pytest
import torch

from nnpractice.losses import as_probabilities, smooth_targets, soft_cross_entropy


def test_smooth_targets_matches_pytorch_label_smoothing():
    g = torch.Generator().manual_seed(0)
    logits, targets = torch.randn(12, 5, generator=g), torch.randint(0, 5, (12,), generator=g)
    soft = smooth_targets(targets, 5, 0.2)
    assert torch.allclose(soft.sum(1), torch.ones(12))
    assert soft[0, targets[0]].item() == pytest.approx(0.8 + 0.04)
    assert soft[0].sort().values[0].item() == pytest.approx(0.04)
    ref = torch.nn.functional.cross_entropy(logits, targets, label_smoothing=0.2)
    assert torch.allclose(soft_cross_entropy(logits, soft), ref, atol=1e-6)


def test_no_smoothing_is_the_hard_cross_entropy():
    logits, y = torch.randn(3, 3, generator=torch.Generator().manual_seed(1)), torch.tensor([0, 2, 1])
    hard = torch.nn.functional.cross_entropy(logits, y)
    assert torch.allclose(soft_cross_entropy(logits, y), hard)
    assert torch.allclose(soft_cross_entropy(logits, smooth_targets(y, 3, 0.0)), hard)


def test_probabilities_are_smoothed_too():
    mixed = torch.tensor([[0.5, 0.5, 0.0]])
    assert torch.allclose(smooth_targets(mixed, 3, 0.3), torch.tensor([[0.45, 0.45, 0.1]]))


@pytest.mark.parametrize("call, message", [
    (lambda: smooth_targets(torch.tensor([0]), 3, 1.5), r"smoothing=1.5 is not allowed"),
    (lambda: smooth_targets(torch.tensor([0]), 0, 0.1), r"num_classes=0 is not allowed"),
    (lambda: smooth_targets(torch.tensor([3]), 3, 0.1), r"(?s)targets=.*class indices in \[0, 2\].*from 3 to 3"),
    (lambda: smooth_targets(torch.tensor([-1]), 3, 0.1), r"(?s)targets=.*from -1 to -1"),
    (lambda: smooth_targets(torch.tensor([0.5]), 3, 0.1), r"(?s)targets=.*probabilities \[N, 3\]"),
    (lambda: smooth_targets(torch.zeros(2, 4), 3, 0.1), r"(?s)targets=.*shape \(2, 4\)"),
    (lambda: smooth_targets(torch.tensor([True]), 3, 0.1), r"(?s)targets=.*torch.bool"),
    (lambda: as_probabilities(torch.tensor([0, 1]), 2, torch.long), r"dtype=torch.int64 is not allowed: expected a floating"),
    (lambda: soft_cross_entropy(torch.zeros(2, 3), torch.zeros(2, 4)), r"(?s)target=.*logits' shape \(2, 3\)"),
    (lambda: soft_cross_entropy(torch.zeros(3), torch.zeros(3)), r"logits=.* is not allowed: expected logits \[N, K\]"),
])
def test_bad_targets_are_refused_by_name(call, message):
    with pytest.raises(ValueError, match=message):
        call()
