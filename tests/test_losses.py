import numpy as np
import pytest
import torch

from skdsc.losses import dec_target_distribution, kl_divergence, reconstruction_mse


def test_dec_target_by_hand():
    q = torch.tensor([[0.6, 0.4], [0.5, 0.5], [0.2, 0.8]])
    f = q.sum(0)  # [1.3, 1.7]
    w = q**2 / f
    expected = w / w.sum(1, keepdim=True)
    np.testing.assert_allclose(dec_target_distribution(q), expected, rtol=1e-6)
    # first row written out: (.36/1.3) / (.36/1.3 + .16/1.7)
    a, b = 0.36 / 1.3, 0.16 / 1.7
    assert dec_target_distribution(q)[0, 0].item() == pytest.approx(a / (a + b), rel=1e-6)


def test_dec_target_has_no_gradient():
    q = torch.full((2, 2), 0.5, requires_grad=True)
    assert not dec_target_distribution(q).requires_grad


def test_kl_by_hand_and_zero_entries():
    p = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    q = torch.tensor([[0.5, 0.5], [0.25, 0.75]])
    row0 = np.log(2.0)
    row1 = 0.5 * np.log(0.5 / 0.25) + 0.5 * np.log(0.5 / 0.75)
    assert kl_divergence(p, q).item() == pytest.approx((row0 + row1) / 2, rel=1e-6)
    assert kl_divergence(p, q, "sum").item() == pytest.approx(row0 + row1, rel=1e-6)
    assert kl_divergence(q, q).item() == pytest.approx(0.0, abs=1e-7)
    with pytest.raises(ValueError):
        kl_divergence(p, q, "mean")


def test_kl_matches_torch():
    g = torch.Generator().manual_seed(0)
    p = torch.softmax(torch.randn(6, 4, generator=g), 1)
    q = torch.softmax(torch.randn(6, 4, generator=g), 1)
    ref = torch.nn.functional.kl_div(q.log(), p, reduction="batchmean")
    assert kl_divergence(p, q).item() == pytest.approx(ref.item(), rel=1e-5)


def test_reconstruction_mse():
    assert reconstruction_mse(torch.ones(2, 3), torch.zeros(2, 3)).item() == 1.0
