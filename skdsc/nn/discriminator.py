"""Energy-based subspace discriminator (A-DATSC, seed 000 section 5.2).

One basis ``U_k`` of shape ``(D, r)`` per cluster; the energy of a latent point
``z`` on subspace ``k`` is its projection residual
``E(z; U_k) = ||z - U_k U_kᵀ z||²``. The discriminator's objective (hinge with
margin, orthogonality and cross-subspace terms) is in
:func:`skdsc.losses.subspace_discriminator_loss`. Pure torch.
"""

import torch
from torch import nn

__all__ = ["projection_residual_energy", "SubspaceDiscriminator"]


def projection_residual_energy(z, bases):
    """``E(z; U_k) = ||z - U_k U_kᵀ z||²`` for every point and subspace.

    Parameters
    ----------
    z : Tensor of shape (..., D)
    bases : Tensor of shape (K, D, r)

    Returns
    -------
    Tensor of shape (..., K)
    """
    coords = torch.einsum("...d,kdr->...kr", z, bases)  # U_kᵀ z
    proj = torch.einsum("...kr,kdr->...kd", coords, bases)  # U_k U_kᵀ z
    return ((z.unsqueeze(-2) - proj) ** 2).sum(dim=-1)


class SubspaceDiscriminator(nn.Module):
    """Learnable cluster subspaces ``{U_k}`` scoring latent points by residual energy.

    Parameters
    ----------
    n_clusters : int
    features : int
        Latent size ``D``.
    subspace_dim : int
        Dimension ``r`` of each subspace.

    Forward
    -------
    z : Tensor (..., D)
    cluster : LongTensor (...), optional
        When given, the energy of each point on its own cluster's subspace
        (shape ``(...)``); otherwise the energies on all subspaces ``(..., K)``.
    """

    def __init__(self, n_clusters, features, subspace_dim):
        super().__init__()
        bases = torch.linalg.qr(torch.randn(n_clusters, features, subspace_dim))[0]
        self.bases = nn.Parameter(bases)

    @torch.no_grad()
    def reset_bases(self, bases):
        """Overwrite the bases (e.g. with per-cluster singular vectors)."""
        self.bases.copy_(torch.as_tensor(bases, dtype=self.bases.dtype))

    def forward(self, z, cluster=None):
        energy = projection_residual_energy(z, self.bases)
        if cluster is None:
            return energy
        return energy.gather(-1, cluster.unsqueeze(-1)).squeeze(-1)
