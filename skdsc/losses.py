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


def center_ranking_loss(centers, input_centers, kappa=3.0, mask=None, scale_by_dim=False):
    """GCML's inter-manifold ranking loss ``L_rank`` on the learnable centres.

    ``|| D(mu) - kappa * D(v^X) ||_F / K``: ``D(.)`` is the matrix of Euclidean
    distances between centres, ``mu`` the learnable latent centres and ``v^X`` the
    input-space means of the pseudo-clusters (constants). Only ``mu`` receives a
    gradient. ``K`` is the number of centres taking part. With
    ``scale_by_dim=True`` the latent distances are divided by ``sqrt(m)`` and the
    input distances by ``sqrt(D)``, the units of :func:`local_isometry_loss`:
    ``|| D(mu) / sqrt(m) - kappa * D(v^X) / sqrt(D) ||_F / K``.

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
    scale_by_dim : bool, default=False
        Compare distances divided by the square roots of their dimensions.

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
    if scale_by_dim:
        dz = dz / float(centers.shape[1]) ** 0.5
        dx = dx / float(input_centers.shape[1]) ** 0.5
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
# --------------------------------------------------------------------------- SCDSC
def basis_dissimilarity(basis, n_basis, squared=False):
    """SCDSC's basis dissimilarity ``phi(D)`` (seed 002, eq. 4).

    With ``G = D^T D``: ``||G * I - I||_F + ||G * O||_F``, where ``O`` is 0 on the
    ``n_basis x n_basis`` diagonal blocks and 1 elsewhere; the first term keeps
    every basis vector at unit norm, the second makes the bases of different
    subspaces orthogonal. The authors' code uses the norms (``squared=False``);
    the seed's eq. (4) writes their squares (``squared=True``).

    Parameters
    ----------
    basis : Tensor of shape ``(m, k * n_basis)``
    n_basis : int
    squared : bool, default=False

    Returns
    -------
    Tensor (scalar)

    Examples
    --------
    >>> import torch
    >>> float(basis_dissimilarity(torch.eye(4), 2))
    0.0
    """
    gram = basis.t() @ basis
    n = gram.shape[0]
    eye = torch.eye(n, dtype=gram.dtype, device=gram.device)
    block = torch.arange(n, device=gram.device) // n_basis
    off_block = (block[:, None] != block[None, :]).to(gram.dtype)
    unit, cross = (gram * eye - eye).flatten(), (gram * off_block).flatten()
    if squared:
        return unit.pow(2).sum() + cross.pow(2).sum()
    # vector_norm has a zero (sub)gradient at 0, where sqrt(sum of squares) gives NaN
    return torch.linalg.vector_norm(unit) + torch.linalg.vector_norm(cross)


def minicluster_assignment(s, labels, n_miniclusters=None):
    """Mean soft assignment of each mini-cluster, ``m_p = mean_{q in C_p} s_q`` (eq. 7).

    Parameters
    ----------
    s : Tensor of shape (n, k)
    labels : LongTensor of shape (n,)
        Mini-cluster of each row, in ``0 .. n_miniclusters - 1``.
    n_miniclusters : int, optional
        Defaults to ``labels.max() + 1``.

    Returns
    -------
    Tensor of shape (n_miniclusters, k); gradient flows into ``s``.
    """
    n_mc = int(labels.max()) + 1 if n_miniclusters is None else int(n_miniclusters)
    sums = s.new_zeros((n_mc, s.shape[1])).index_add(0, labels, s)
    counts = torch.bincount(labels, minlength=n_mc).clamp_min(1).to(s.dtype)
    return sums / counts[:, None]


def refined_minicluster_target(m, column_sum=None):
    """Refined mini-cluster assignment ``m~`` of SCDSC (seed 002, eq. 8), no gradient.

    ``m~_pj = (m_pj^2 / f_j) / sum_j' (m_pj'^2 / f_j')`` with ``f_j = sum_p m_pj``. It
    is DEC's target applied to mini-clusters; ``column_sum`` lets ``f`` come from
    *all* mini-clusters while only some rows are given, which mini-batch training
    needs (with ``column_sum=None`` it equals
    :func:`dec_target_distribution` of ``m``).

    Parameters
    ----------
    m : Tensor of shape (l, k)
    column_sum : Tensor of shape (k,), optional

    Returns
    -------
    Tensor of shape (l, k), rows summing to 1.
    """
    if column_sum is None:
        return dec_target_distribution(m)
    with torch.no_grad():
        weight = m.pow(2) / column_sum.clamp_min(_EPS)
        return weight / weight.sum(dim=1, keepdim=True).clamp_min(_EPS)


def nonlocal_structure_loss(s, labels, n_miniclusters=None):
    """SCDSC's non-local (mini-cluster) loss ``KL(M~ || M)`` (eq. 9), full-batch form.

    ``M`` are the mini-cluster mean assignments of ``s``; ``M~`` their refined
    target (a constant). Averaged over mini-clusters.

    Examples
    --------
    >>> import torch
    >>> s = torch.tensor([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8]])
    >>> round(float(nonlocal_structure_loss(s, torch.tensor([0, 0, 1]))), 4)
    0.081
    """
    m = minicluster_assignment(s, labels, n_miniclusters)
    return kl_divergence(refined_minicluster_target(m), m)


def masked_box_filter(s_map, mask, window):
    """Mean of the soft assignments over a ``window x window`` box, masked pixels only.

    ``F_xy = sum_{(u,v) in W_xy} t_uv S_uv / sum_{(u,v) in W_xy} t_uv`` (seed 002,
    eq. 11); the box is cut at the image border (zero padding of ``S * T`` and
    ``T``). Pixels whose window holds no masked pixel get 0.

    Parameters
    ----------
    s_map : Tensor of shape (H, W, k)
    mask : Tensor of shape (H, W)
        1 (or True) for the pixels that are clustered, 0 elsewhere.
    window : int
        Odd side of the box.

    Returns
    -------
    Tensor of shape (H, W, k)
    """
    t = mask.to(s_map.dtype)
    r = int(window) // 2
    k = s_map.shape[2]
    both = torch.cat([(s_map * t[..., None]).permute(2, 0, 1), t[None]], dim=0)[None]
    ones = torch.ones((k + 1, 1, 2 * r + 1, 2 * r + 1), dtype=s_map.dtype, device=s_map.device)
    summed = torch.nn.functional.conv2d(both, ones, padding=r, groups=k + 1)[0]
    num, den = summed[:k], summed[k]
    out = torch.where(den > 0, num / den.clamp_min(_EPS), torch.zeros_like(num))
    return out.permute(1, 2, 0)


def local_structure_loss(s, smoothed):
    """SCDSC's local loss ``KL(F || S)`` (eq. 12), averaged over pixels.

    ``smoothed`` (``F``) is used as a constant target, like DEC's ``P``.
    """
    return kl_divergence(smoothed.detach(), s)


__all__ += [
    "basis_dissimilarity",
    "local_structure_loss",
    "masked_box_filter",
    "minicluster_assignment",
    "nonlocal_structure_loss",
    "refined_minicluster_target",
]
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


def multimodal_self_expression_loss(codes, se_codes, coef, lambda1=1.0, lambda2=1.0, weights=None):
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
    >>> loss, (reg, res) = multimodal_self_expression_loss(z, [c @ z[0]], c, lambda1=1.0, lambda2=2.0)
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


__all__ += ["multimodal_reconstruction_loss", "multimodal_self_expression_loss"]
