"""Self-expressive temporal layer (A-DATSC's SE-T1, seed 000 section 5.1.4).

The embeddings of a sequence, ``Z`` of shape ``(T, D)``, are re-expressed by a
coefficient matrix ``C`` of shape ``(T, T)``: ``Z_SE = C Z``. ``C`` is not a
free ``T x T`` parameter but is computed from ``Z`` by a query/key network (the
self-expressive network of SENet, Zhang et al. 2021, which the seed builds on)
followed by a soft-threshold shrinkage that makes it sparse:

``C = shrink(W_q Z (W_k Z)ᵀ / sqrt(D), λ) ⊙ M ⊙ W``

with ``M`` masking the diagonal (``exclude_self``) and the optional weights
``W_ts = q̃_tᵀ q̃_s · exp(-|t - s| / σ_t)`` (temporal proximity and/or
assignment similarity). Because ``C`` is a function of ``Z``, the same layer
applies to windows of any length and, at inference, to the whole series (an
``n x n`` matrix: memory grows quadratically in the series length there).
Pure torch.
"""

import math

import torch
from torch import nn

__all__ = ["soft_threshold", "temporal_affinity_weights", "TemporalSelfExpressive"]


def soft_threshold(x, lam):
    """Shrinkage ``sign(x) * max(|x| - lam, 0)``."""
    return torch.sign(x) * torch.relu(torch.abs(x) - lam)


def temporal_affinity_weights(t, q=None, sigma_t=None, device=None, dtype=torch.float32):
    """Weights ``W_ts = (q̃_tᵀ q̃_s) · exp(-|t - s| / σ_t)``; either factor optional.

    Parameters
    ----------
    t : int
        Sequence length.
    q : Tensor of shape (B, T, K), optional
        Soft assignments; the assignment-similarity factor is used when given.
    sigma_t : float, optional
        Temporal scale; the proximity factor is used when given.

    Returns
    -------
    Tensor of shape (B or 1, T, T), or None when neither factor is requested.
    """
    w = None
    if sigma_t is not None:
        idx = torch.arange(t, device=device, dtype=dtype)
        w = torch.exp(-torch.abs(idx[:, None] - idx[None, :]) / float(sigma_t))[None]
    if q is not None:
        sim = q @ q.transpose(1, 2)
        w = sim if w is None else w * sim
    return w


class TemporalSelfExpressive(nn.Module):
    """Sparse self-expression of a sequence of embeddings, ``Z_SE = C Z``.

    Parameters
    ----------
    features : int
        Embedding size ``D``.
    shrink : float, default=0.05
        Soft-threshold ``λ`` applied to the raw coefficients.
    exclude_self : bool, default=True
        Mask the diagonal of ``C`` (a frame may not express itself).
    sigma_t : float or None, default=None
        Temporal-proximity weighting scale; None disables it.
    assignment_weighting : bool, default=False
        Multiply ``C`` by the assignment similarity ``q̃_tᵀ q̃_s`` (needs ``q``).

    Forward
    -------
    z : Tensor (B, T, D)
    q : Tensor (B, T, K), optional

    Returns ``(C, Z_SE)`` of shapes ``(B, T, T)`` and ``(B, T, D)``.
    """

    def __init__(self, features, shrink=0.05, exclude_self=True, sigma_t=None, assignment_weighting=False):
        super().__init__()
        self.query = nn.Linear(features, features)
        self.key = nn.Linear(features, features)
        self.shrink = float(shrink)
        self.exclude_self = exclude_self
        self.sigma_t = sigma_t
        self.assignment_weighting = assignment_weighting
        self.scale = 1.0 / math.sqrt(features)

    def coefficients(self, z, q=None):
        """The coefficient matrix ``C`` (B, T, T)."""
        t = z.shape[1]
        raw = (self.query(z) @ self.key(z).transpose(1, 2)) * self.scale
        c = soft_threshold(raw, self.shrink)
        if self.exclude_self:
            c = c * (1.0 - torch.eye(t, device=z.device, dtype=z.dtype))
        w = temporal_affinity_weights(
            t, q if (self.assignment_weighting and q is not None) else None,
            self.sigma_t, device=z.device, dtype=z.dtype,
        )
        if w is not None:
            c = c * w
        return c

    def forward(self, z, q=None):
        c = self.coefficients(z, q)
        return c, c @ z
