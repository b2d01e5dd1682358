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


# --------------------------------------------------------------------------- #
# Clustering autoencoder (seed 001): Sinkhorn-Knopp targets, swapped CE, RMSE
# --------------------------------------------------------------------------- #
def sinkhorn_knopp(scores, epsilon=0.09, n_iter=3, cluster_weights=None):
    """Balanced soft assignments by the Sinkhorn-Knopp algorithm (SwAV's targets).

    Solves ``max_Q Tr(Q^T C^T Z) + epsilon H(Q)`` over the transport polytope
    whose cluster marginal is ``1/K`` (or ``cluster_weights``) and whose sample
    marginal is ``1/B``, by alternating normalisations of
    ``Q = exp(scores / epsilon)``: each iteration first rescales the clusters
    (rows of the seed's ``K x B`` matrix) to their marginal, then the samples.
    The result is rescaled by ``B`` and transposed, so each returned row is one
    sample's target distribution over the clusters and sums to 1 exactly; the
    cluster totals ``B / K`` are reached as ``n_iter`` grows (3 iterations, the
    seed's value, are an approximation, as in SwAV). Computed without gradient
    and in the log domain, so that small ``epsilon`` cannot overflow.

    Parameters
    ----------
    scores : Tensor of shape (B, K)
        Similarities of ``B`` samples to ``K`` prototypes.
    epsilon : float, default=0.09
        Entropic smoothing; smaller is closer to a hard assignment.
    n_iter : int, default=3
        Number of (cluster, sample) normalisation rounds.
    cluster_weights : Tensor of shape (K,), optional
        Target cluster proportions (positive, normalised here); uniform ``1/K``
        when None.

    Returns
    -------
    Tensor of shape (B, K), rows summing to 1.

    Examples
    --------
    >>> import torch
    >>> q = sinkhorn_knopp(torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.8, 0.0]]), n_iter=200)
    >>> [round(v, 3) for v in q.sum(0).tolist()]
    [1.5, 1.5]
    """
    with torch.no_grad():
        scores = scores.detach().to(torch.float64)
        n, k = scores.shape
        if n == 0:
            return scores.new_zeros((0, k), dtype=torch.float32)
        if cluster_weights is None:
            log_r = torch.full((k,), -torch.log(torch.tensor(float(k), dtype=scores.dtype)).item(),
                               dtype=scores.dtype, device=scores.device)
        else:
            w = torch.as_tensor(cluster_weights, dtype=scores.dtype, device=scores.device)
            log_r = torch.log(w / w.sum())
        log_c = -torch.log(torch.tensor(float(n), dtype=scores.dtype))
        log_q = scores / epsilon
        log_q = log_q - torch.logsumexp(log_q.reshape(-1), dim=0)
        for _ in range(int(n_iter)):
            log_q = log_q - torch.logsumexp(log_q, dim=0, keepdim=True) + log_r[None, :]
            log_q = log_q - torch.logsumexp(log_q, dim=1, keepdim=True) + log_c
        return torch.exp(log_q - log_c).to(torch.float32)


def soft_cross_entropy(target, logits):
    """Cross-entropy ``-mean_i Σ_j target_ij log softmax(logits)_ij``.

    Parameters
    ----------
    target : Tensor of shape (n, k)
        Target distributions (e.g. Sinkhorn-Knopp assignments), no gradient.
    logits : Tensor of shape (n, k)
        Unnormalised predictions (scores divided by the temperature).
    """
    if logits.shape[0] == 0:
        return logits.sum() * 0.0
    return -(target * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


def reconstruction_rmse(x_hat, x):
    """Root mean squared reconstruction error over all entries."""
    return torch.sqrt(torch.mean((x_hat - x) ** 2) + 1e-12)


__all__ += ["reconstruction_rmse", "sinkhorn_knopp", "soft_cross_entropy"]
