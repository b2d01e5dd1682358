"""Clustering heads: pure torch modules, no scikit-learn inside."""

import torch
from torch import nn

__all__ = ["AutoencoderWithHead", "StudentTHead", "student_t_assignment"]


def student_t_assignment(z, centers, alpha=1.0, temperature=1.0):
    """Soft assignment of embeddings to centres with a Student-t kernel (DEC).

    ``q_ij ∝ (1 + ||z_i - mu_j||² / alpha) ** (-(alpha + 1) / 2)``, rows normalised.
    With ``temperature`` τ the kernel is sharpened, ``q̃_ij ∝ q_ij ** (1 / τ)``
    (A-DATSC's annealed head); τ = 1 is plain DEC.

    Parameters
    ----------
    z : Tensor of shape (n, m)
    centers : Tensor of shape (k, m)
    alpha : float
        Degrees of freedom of the Student-t kernel.
    temperature : float
        Sharpening temperature τ > 0.

    Returns
    -------
    Tensor of shape (n, k), rows summing to 1.
    """
    d2 = torch.cdist(z, centers).pow(2) if z.shape[0] > 0 else z.new_zeros((0, centers.shape[0]))
    # work in log space: stable for large distances and for small temperatures
    logits = -(alpha + 1.0) / 2.0 * torch.log1p(d2 / alpha) / temperature
    return torch.softmax(logits, dim=1)


class StudentTHead(nn.Module):
    """Trainable cluster centres with the DEC Student-t soft assignment.

    Parameters
    ----------
    n_clusters : int
    latent_dim : int
    alpha : float, default=1.0
        Degrees of freedom of the kernel.

    Examples
    --------
    >>> import torch
    >>> head = StudentTHead(3, 2)
    >>> head.reset_centers(torch.tensor([[0., 0.], [5., 5.], [-5., 5.]]))
    >>> q = head(torch.tensor([[0.1, 0.], [5., 4.9]]))
    >>> q.argmax(1).tolist()
    [0, 1]
    """

    def __init__(self, n_clusters, latent_dim, alpha=1.0):
        super().__init__()
        self.alpha = alpha
        self.centers = nn.Parameter(torch.zeros(n_clusters, latent_dim))
        nn.init.xavier_uniform_(self.centers)

    @torch.no_grad()
    def reset_centers(self, centers):
        """Overwrite the centres (e.g. with KMeans centres of the embedding)."""
        self.centers.copy_(torch.as_tensor(centers, dtype=self.centers.dtype))

    def forward(self, z, temperature=1.0):
        return student_t_assignment(z, self.centers, self.alpha, temperature)


class AutoencoderWithHead(nn.Module):
    """An autoencoder whose embedding feeds a clustering head.

    ``forward(x)`` returns ``(z, x_hat, q)``: embedding, reconstruction and soft
    assignments. Used by DEC/IDEC and by the estimators that reuse their head.
    """

    def __init__(self, autoencoder, head):
        super().__init__()
        self.autoencoder = autoencoder
        self.head = head

    def forward(self, x):
        z, x_hat = self.autoencoder(x)
        return z, x_hat, self.head(z)
