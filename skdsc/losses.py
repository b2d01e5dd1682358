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
    basis : Tensor of shape (m, k * n_basis)
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
