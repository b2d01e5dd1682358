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
