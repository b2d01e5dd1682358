import numpy as np
import pytest
import torch

from skdsc.nn import AutoencoderWithHead, MLPAutoencoder, StudentTHead, student_t_assignment


def test_student_t_by_hand():
    z = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    mu = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    for alpha in (1.0, 2.0):
        d2 = np.array([[0.0, 4.0], [2.0, 2.0]])
        k = (1 + d2 / alpha) ** (-(alpha + 1) / 2)
        expected = k / k.sum(1, keepdims=True)
        np.testing.assert_allclose(student_t_assignment(z, mu, alpha), expected, rtol=1e-6)


def test_temperature_sharpens():
    z = torch.tensor([[0.5, 0.0]])
    mu = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    q1 = student_t_assignment(z, mu, 1.0, 1.0)
    q_half = student_t_assignment(z, mu, 1.0, 0.5)
    expected = q1**2 / (q1**2).sum()
    np.testing.assert_allclose(q_half, expected, rtol=1e-6)
    assert q_half.max() > q1.max()


def test_far_points_do_not_underflow():
    q = student_t_assignment(torch.tensor([[1e6, 0.0]]), torch.tensor([[0.0, 0.0], [1.0, 0.0]]))
    assert torch.isfinite(q).all() and q.sum().item() == pytest.approx(1.0)


def test_head_and_autoencoder_shapes():
    ae = MLPAutoencoder(7, (5,), 2)
    head = StudentTHead(4, 2)
    z, x_hat, q = AutoencoderWithHead(ae, head)(torch.randn(3, 7))
    assert z.shape == (3, 2) and x_hat.shape == (3, 7) and q.shape == (3, 4)
    # linear latent and output layers, ReLU between
    assert isinstance(ae.encoder[-1], torch.nn.Linear) and isinstance(ae.decoder[-1], torch.nn.Linear)
    assert isinstance(ae.encoder[1], torch.nn.ReLU)


def test_idec_architecture():
    ae = MLPAutoencoder(784)
    widths = [m.out_features for m in ae.encoder if isinstance(m, torch.nn.Linear)]
    assert widths == [500, 500, 2000, 10]
    widths = [m.out_features for m in ae.decoder if isinstance(m, torch.nn.Linear)]
    assert widths == [2000, 500, 500, 784]
