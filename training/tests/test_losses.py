import numpy as np
import torch

from wavfusion.losses import margin_loss
from wavfusion.metrics import classification_metrics


def _onehot(labels, dim=8):
    return torch.nn.functional.one_hot(torch.tensor(labels), dim).float()


def test_margin_loss_zero_when_separated():
    labels = torch.tensor([0, 1, 2, 0, 3])
    a = _onehot(labels.tolist())  # same class: cos 1, different classes: cos 0
    t = _onehot(labels.tolist()) * 3.0  # scale does not matter (cosine)
    assert margin_loss([a, t], labels, margin=0.5).item() == 0.0
    assert margin_loss([a, t], labels, margin=0.99).item() == 0.0


def test_margin_loss_positive_when_not_separated():
    labels = torch.tensor([0, 1, 2, 0, 3])
    a = _onehot(labels.tolist())
    t = _onehot(labels.tolist())
    # margin larger than the achievable gap (1 - 0)
    assert margin_loss([a, t], labels, margin=1.2).item() > 0
    # identical features for different classes violate any margin
    same = torch.ones(5, 8)
    assert margin_loss([same, same], labels, margin=0.1).item() > 0
    # random features
    torch.manual_seed(0)
    assert margin_loss([torch.randn(5, 8), torch.randn(5, 8)], labels, margin=0.3).item() > 0


def test_margin_loss_respects_presence_and_gradients():
    labels = torch.tensor([0, 1, 0, 1])
    a = torch.randn(4, 6, requires_grad=True)
    t = torch.randn(4, 6, requires_grad=True)
    loss = margin_loss([a, t], labels, present=[None, torch.tensor([True, True, False, False])], margin=0.3)
    loss.backward()
    assert t.grad is not None and a.grad is not None
    assert t.grad[2:].abs().sum() == 0 and a.grad.abs().sum() > 0
    assert margin_loss([a], labels).item() == 0.0


def test_metrics():
    m = classification_metrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 1, 0], 4)
    assert abs(m["WA"] - 4 / 6) < 1e-9
    assert abs(m["UA"] - np.mean([2 / 3, 1.0, 0.0])) < 1e-9
    f1_0, f1_1, f1_2 = 2 * (2 / 3 * 2 / 3) / (4 / 3), 2 * (2 / 3 * 1) / (5 / 3), 0.0
    assert abs(m["macro_F1"] - np.mean([f1_0, f1_1, f1_2])) < 1e-9
    assert abs(m["weighted_F1"] - (3 * f1_0 + 2 * f1_1) / 6) < 1e-9
