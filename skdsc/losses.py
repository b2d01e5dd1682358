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


def multimodal_reconstruction_loss(parts, recons, weights=None, reduction="sum"):
    """``Σ_m w_m ||X_m - X̂_m||²``: weighted reconstruction error over modalities.

    Parameters
    ----------
    parts, recons : list of Tensor
        Per-modality inputs and reconstructions, same shapes.
    weights : sequence of float, optional
        ``w_m`` (ones by default).
    reduction : {"sum", "mean"}
        ``"sum"``: squared Frobenius norms (the seed's loss); ``"mean"``: mean
        squared error per modality (scale-free, used for mini-batch pretraining).

    Examples
    --------
    >>> import torch
    >>> x = [torch.zeros(2, 2), torch.zeros(2, 1)]
    >>> r = [torch.ones(2, 2), 2 * torch.ones(2, 1)]
    >>> float(multimodal_reconstruction_loss(x, r)), float(multimodal_reconstruction_loss(x, r, reduction="mean"))
    (12.0, 5.0)
    """
    if weights is None:
        weights = [1.0] * len(parts)
    total = 0.0
    for w, x, x_hat in zip(weights, parts, recons):
        err = (x_hat - x) ** 2
        total = total + w * (err.sum() if reduction == "sum" else err.mean())
    return total


def self_expression_loss(codes, se_codes, coef, lambda1=1.0, lambda2=1.0, weights=None):
    """``λ1 ||C||² + λ2 Σ_m w'_m ||Z_m - C Z_m||²`` and its two terms.

    Parameters
    ----------
    codes, se_codes : list of Tensor of shape (n, d_m)
        Latent codes ``Z_m`` and self-expressed codes ``C Z_m``.
    coef : Tensor of shape (n, n)
        The self-expressive coefficients ``C`` (zero diagonal).
    lambda1, lambda2 : float
    weights : sequence of float, optional
        ``w'_m`` (ones by default).

    Returns
    -------
    loss : Tensor (scalar)
    terms : tuple of Tensor
        ``(||C||², Σ_m w'_m ||Z_m - C Z_m||²)``, unweighted by the λs.

    Examples
    --------
    >>> import torch
    >>> z = [torch.tensor([[1.0], [1.0]])]
    >>> c = torch.tensor([[0.0, 1.0], [0.5, 0.0]])
    >>> loss, (reg, res) = self_expression_loss(z, [c @ z[0]], c, lambda1=1.0, lambda2=2.0)
    >>> float(reg), float(res), float(loss)
    (1.25, 0.25, 1.75)
    """
    if weights is None:
        weights = [1.0] * len(codes)
    reg = (coef**2).sum()
    res = 0.0
    for w, z, cz in zip(weights, codes, se_codes):
        res = res + w * ((z - cz) ** 2).sum()
    return lambda1 * reg + lambda2 * res, (reg, res)


__all__ += ["multimodal_reconstruction_loss", "self_expression_loss"]
