"""Loss functions and targets: pure torch, no scikit-learn inside."""

import torch

__all__ = ["dec_target_distribution", "kl_divergence", "reconstruction_mse"]

_EPS = 1e-12


def dec_target_distribution(q):
    """DEC's auxiliary target distribution: sharpened and frequency-normalised.

    ``p_ij = (q_ij² / f_j) / Σ_j' (q_ij'² / f_j')``, where ``f_j = Σ_i q_ij`` is the soft cluster frequency; squaring sharpens confident
    assignments and dividing by ``f_j`` keeps large clusters from absorbing the rest.
    Computed without gradient.

    Parameters
    ----------
    q : Tensor of shape (n, k)
        Soft assignments, rows summing to 1.

    Returns
    -------
    Tensor of shape (n, k), rows summing to 1.

    Examples
    --------
    >>> import torch
    >>> p = dec_target_distribution(torch.tensor([[0.6, 0.4], [0.5, 0.5]]))
    >>> [round(v, 4) for v in p[0].tolist()]
    [0.648, 0.352]
    """
    with torch.no_grad():
        weight = q.pow(2) / q.sum(dim=0).clamp_min(_EPS)
        return weight / weight.sum(dim=1, keepdim=True).clamp_min(_EPS)


def kl_divergence(p, q, reduction="batchmean"):
    """Kullback-Leibler divergence of ``q`` from the target ``p``, averaged over rows.

    ``KL(P || Q) = Σ_ij p_ij log(p_ij / q_ij)``. Entries with ``p_ij = 0`` contribute 0. Gradient flows into ``q`` only when
    ``p`` is a constant target.

    Parameters
    ----------
    p, q : Tensor of shape (n, k)
    reduction : {"batchmean", "sum", "none"}
        ``"none"`` returns the per-row divergence.
    """
    terms = torch.where(p > 0, p * (torch.log(p.clamp_min(_EPS)) - torch.log(q.clamp_min(_EPS))), 0.0)
    per_row = terms.sum(dim=1)
    if reduction == "batchmean":
        return per_row.mean() if per_row.numel() else per_row.sum()
    if reduction == "sum":
        return per_row.sum()
    if reduction == "none":
        return per_row
    raise ValueError(f"unknown reduction {reduction!r}")


def reconstruction_mse(x_hat, x):
    """Mean squared reconstruction error over all entries."""
    return torch.mean((x_hat - x) ** 2)


# --------------------------------------------------------------------------- GCML
def _pairwise_distances(a):
    """Euclidean distances between the rows of ``a`` (subgradient 0 at distance 0)."""
    return torch.linalg.vector_norm(a.unsqueeze(1) - a.unsqueeze(0), dim=-1)


def local_isometry_loss(z_i, z_j, dist_x, input_dim, reduction="mean"):
    """GCML's intra-manifold local isometry loss ``L_LIS`` over given point pairs.

    For each pair ``(i, j)`` (``j`` one of the ``k`` latent nearest neighbours of
    ``i`` inside its pseudo-cluster) the term is
    ``| d_X(x_i, x_j) / sqrt(D) - d_Z(z_i, z_j) / sqrt(m) |`` with ``D`` the input
    and ``m`` the latent dimension (distances scaled by the square roots of their
    dimensions, as the authors do).

    Parameters
    ----------
    z_i, z_j : Tensor of shape (n_pairs, m)
        Embeddings of the two ends of each pair.
    dist_x : Tensor of shape (n_pairs,)
        Input-space distances ``d_X(x_i, x_j)`` (constants).
    input_dim : int
        Input dimension ``D``.
    reduction : {"mean", "sum", "none"}
        ``"sum"`` is Eq. (5) of the paper; ``"mean"`` divides it by the number of
        pairs, so that its scale does not grow with ``n_samples``.

    Examples
    --------
    >>> import torch
    >>> z_i, z_j = torch.zeros(1, 4), torch.tensor([[2.0, 0.0, 0.0, 0.0]])
    >>> float(local_isometry_loss(z_i, z_j, torch.tensor([3.0]), input_dim=9))
    0.0
    """
    if z_i.shape[0] == 0:
        return z_i.sum() * 0.0
    dz = torch.linalg.vector_norm(z_i - z_j, dim=1)
    m = z_i.shape[1]
    terms = torch.abs(dist_x.to(dz) / float(input_dim) ** 0.5 - dz / float(m) ** 0.5)
    if reduction == "mean":
        return terms.mean()
    if reduction == "sum":
        return terms.sum()
    if reduction == "none":
        return terms
    raise ValueError(f"unknown reduction {reduction!r}")


def center_ranking_loss(centers, input_centers, kappa=3.0, mask=None):
    """GCML's inter-manifold ranking loss ``L_rank`` on the learnable centres.

    ``|| D(mu) - kappa * D(v^X) ||_F / K``: ``D(.)`` is the matrix of Euclidean
    distances between centres, ``mu`` the learnable latent centres and ``v^X`` the
    input-space means of the pseudo-clusters (constants). Only ``mu`` receives a
    gradient. ``K`` is the number of centres taking part.

    Parameters
    ----------
    centers : Tensor of shape (K, m)
        Learnable latent centres ``mu``.
    input_centers : Tensor of shape (K, D)
        Input-space pseudo-cluster means ``v^X``.
    kappa : float
        How far apart the manifolds are pushed, relative to the input space.
    mask : bool Tensor of shape (K,), optional
        Centres to use (e.g. the non-empty pseudo-clusters).

    Examples
    --------
    >>> import torch
    >>> mu = torch.tensor([[0.0, 0.0], [6.0, 0.0]])
    >>> vx = torch.tensor([[0.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    >>> float(center_ranking_loss(mu, vx, kappa=3.0))
    0.0
    """
    if mask is not None:
        centers, input_centers = centers[mask], input_centers[mask]
    n = centers.shape[0]
    if n < 2:
        return centers.sum() * 0.0
    dz = _pairwise_distances(centers)
    with torch.no_grad():
        dx = _pairwise_distances(input_centers.to(centers))
    return torch.linalg.norm(dz - kappa * dx) / n


def center_alignment_loss(centers, latent_centers, mask=None):
    """GCML's alignment loss ``L_align = sum_k || mu_k - v^Z_k || / K``.

    ``v^Z_k`` is the mean embedding of pseudo-cluster ``k``; both arguments may
    carry a gradient (the centres and, through ``v^Z``, the encoder).

    Parameters
    ----------
    centers : Tensor of shape (K, m)
    latent_centers : Tensor of shape (K, m)
    mask : bool Tensor of shape (K,), optional
        Centres to use (e.g. the non-empty pseudo-clusters).

    Examples
    --------
    >>> import torch
    >>> float(center_alignment_loss(torch.zeros(2, 2), torch.tensor([[3.0, 4.0], [0.0, 0.0]])))
    2.5
    """
    if mask is not None:
        centers, latent_centers = centers[mask], latent_centers[mask]
    if centers.shape[0] == 0:
        return centers.sum() * 0.0
    return torch.linalg.vector_norm(centers - latent_centers, dim=1).sum() / centers.shape[0]


__all__ += ["local_isometry_loss", "center_ranking_loss", "center_alignment_loss"]
