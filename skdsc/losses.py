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


# ---------------------------------------------------------------- A-DATSC (seed 000)
def marginal_balance_kl(q):
    """``KL(q̄ || u)``: the batch-average assignment against the uniform distribution.

    ``q̄_k = mean_i q_ik``; the divergence is ``Σ_k q̄_k log(K q̄_k)``, zero exactly
    when every cluster receives the same share of the batch (A-DATSC's
    cluster-utilisation term).

    Parameters
    ----------
    q : Tensor of shape (n, K)
    """
    q_bar = q.reshape(-1, q.shape[-1]).mean(dim=0)
    k = q_bar.shape[0]
    return torch.sum(q_bar * (torch.log(q_bar.clamp_min(_EPS)) + torch.log(torch.tensor(float(k)))))


def assignment_redundancy(q):
    """Redundancy penalty across clusters (A-DATSC's ``L_MI``, covariance de-correlation).

    The Pearson correlation between every pair of assignment columns over the
    batch; positive correlations (two clusters claiming the same points, the
    degenerate, redundant case) are penalised:
    ``Σ_{j≠l} max(0, corr(q_·j, q_·l))² / (K (K - 1))``. Clean, disjoint
    assignments are negatively correlated and cost nothing.

    Parameters
    ----------
    q : Tensor of shape (n, K)
    """
    q = q.reshape(-1, q.shape[-1])
    k = q.shape[1]
    if k < 2 or q.shape[0] < 2:
        return q.sum() * 0.0
    qc = q - q.mean(dim=0, keepdim=True)
    cov = qc.T @ qc
    std = torch.sqrt(torch.diagonal(cov).clamp_min(_EPS))
    corr = cov / (std[:, None] * std[None, :])
    off = corr.masked_select(~torch.eye(k, dtype=torch.bool, device=q.device))
    return torch.sum(torch.relu(off) ** 2) / (k * (k - 1))


def self_expression_loss(z, coef, lam):
    """``||Z - C Z||_F² + λ ||C||_1`` per sequence, averaged over the batch.

    Normalised by the number of entries (``T·D`` for the residual, ``T`` for
    ``||C||_1``, i.e. the mean absolute row sum), so that the weight does not
    depend on the window length or the embedding size.

    Parameters
    ----------
    z : Tensor of shape (B, T, D)
    coef : Tensor of shape (B, T, T)
    lam : float
    """
    residual = z - coef @ z
    t = z.shape[1]
    return (residual.pow(2).sum(dim=(1, 2)) / residual[0].numel()).mean() + lam * (
        coef.abs().sum(dim=(1, 2)) / t).mean()


def basis_orthogonality(bases):
    """``Σ_k ||U_kᵀ U_k - I||_F²`` for bases of shape (K, D, r)."""
    gram = bases.transpose(1, 2) @ bases
    eye = torch.eye(bases.shape[2], device=bases.device, dtype=bases.dtype)
    return ((gram - eye) ** 2).sum()


def cross_subspace_penalty(bases):
    """``Σ_{i≠j} ||U_iᵀ U_j||_F²`` for bases of shape (K, D, r) (each ordered pair)."""
    k, d, r = bases.shape
    flat = bases.permute(1, 0, 2).reshape(d, k * r)
    gram = flat.T @ flat  # (K r, K r) blocks U_iᵀ U_j
    block = torch.block_diag(*[torch.ones(r, r, device=bases.device, dtype=torch.bool)] * k)
    return (gram.masked_fill(block, 0.0) ** 2).sum()


def subspace_hinge_loss(energy_real, energy_fake, margin):
    """``E[max(0, E_real - E_fake + m)]`` over paired real/fake energies."""
    return torch.relu(energy_real - energy_fake + margin).mean()


def subspace_discriminator_loss(energy_real, energy_fake, bases, margin=1.0, beta_orth=1.0, beta_cross=0.1):
    """A-DATSC's discriminator objective ``L_D``.

    ``E[max(0, E(z_real; U) - E(z_fake; U) + m)] + β⊥ Σ_k ||U_kᵀU_k - I||_F²
    + β× Σ_{i≠j} ||U_iᵀU_j||_F²``.

    Parameters
    ----------
    energy_real, energy_fake : Tensor
        Paired energies of real and fake latents on their cluster's subspace.
    bases : Tensor of shape (K, D, r)
    margin, beta_orth, beta_cross : float
    """
    return (subspace_hinge_loss(energy_real, energy_fake, margin)
            + beta_orth * basis_orthogonality(bases) + beta_cross * cross_subspace_penalty(bases))


def adversarial_energy_loss(energy_fake):
    """The generator's adversarial term ``L_adv = E_fake[E(z_fake; U)]``."""
    return energy_fake.mean()


__all__ += [
    "marginal_balance_kl", "assignment_redundancy", "self_expression_loss", "basis_orthogonality",
    "cross_subspace_penalty", "subspace_hinge_loss", "subspace_discriminator_loss", "adversarial_energy_loss",
]
