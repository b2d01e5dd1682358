"""Modules of the clustering autoencoder."""

import numpy as np
import pytest
import torch

from skdsc.nn import ClusteringAutoencoderModule, PrototypePatchAutoencoder, PrototypeHead


@pytest.mark.parametrize("shape", [(8, 8, 12), (1, 1, 5), (5, 7, 3), (1, 6, 2), (16, 16, 1)])
def test_autoencoder_shapes(shape):
    ae = PrototypePatchAutoencoder(shape, conv_channels=(4, 8, 8), latent_dim=6)
    z, x_hat = ae(torch.randn(3, *shape))
    assert z.shape == (3, 6)
    assert x_hat.shape == (3, *shape)


def test_autoencoder_samples_are_independent():
    # no batch statistics: a sample's code does not depend on its batch
    ae = PrototypePatchAutoencoder((8, 8, 2), conv_channels=(4, 8), latent_dim=5).eval()
    x = torch.randn(6, 8, 8, 2)
    z_all, _ = ae(x)
    z_one, _ = ae(x[2:3])
    torch.testing.assert_close(z_all[2:3], z_one)


def test_autoencoder_rejects_even_kernel():
    with pytest.raises(ValueError, match="odd"):
        PrototypePatchAutoencoder((8, 8, 2), kernel_size=4)


def test_prototype_head_cosine_scores():
    torch.manual_seed(0)
    head = PrototypeHead(5, 4, 3, normalize=True)
    z = torch.randn(7, 5)
    p = torch.relu(head.projection[0](z))
    expected = (p / p.norm(dim=1, keepdim=True)) @ (
        head.prototypes / head.prototypes.norm(dim=1, keepdim=True)).t()
    torch.testing.assert_close(head(z), expected)
    assert head(z).abs().max() <= 1 + 1e-6
    np.testing.assert_allclose(head.prototypes.norm(dim=1).detach(), 1.0, rtol=1e-6)


def test_prototype_head_plain_scalar_product():
    torch.manual_seed(0)
    head = PrototypeHead(5, 4, 3, normalize=False)
    z = torch.randn(7, 5)
    expected = torch.relu(head.projection[0](z)) @ head.prototypes.t()
    torch.testing.assert_close(head(z), expected)


def test_reset_prototypes_normalises():
    head = PrototypeHead(3, 2, 2)
    head.reset_prototypes(np.array([[3.0, 4.0], [0.0, 2.0]]))
    torch.testing.assert_close(head.prototypes.detach(), torch.tensor([[0.6, 0.8], [0.0, 1.0]]))


def test_module_outputs():
    torch.manual_seed(0)
    ae = PrototypePatchAutoencoder((4, 4, 2), conv_channels=(4, 8), latent_dim=6)
    head = PrototypeHead(6, 5, 3)
    m = ClusteringAutoencoderModule(ae, head, temperature=0.1)
    x = torch.randn(9, 4, 4, 2)
    z, x_hat, scores, proba, feats = m(x)
    torch.testing.assert_close(proba, torch.softmax(scores / 0.1, dim=1))
    torch.testing.assert_close(scores, head.scores_of(feats))
    assert x_hat.shape == x.shape and z.shape == (9, 6) and feats.shape == (9, 5)
