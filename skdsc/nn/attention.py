"""Patchification and bidirectional temporal graph attention (Bi-TGAT).

A-DATSC (seed 000, section 5.1.2): the top encoder level is tiled into
non-overlapping patches that become the graph nodes of each frame; every node at
time ``t`` attends to all nodes of frame ``t+1`` (forward direction) and of frame
``t-1`` (backward direction) with multi-head scaled dot-product attention, and
the two messages are merged: ``h'_{t,i} = LN(h_{t,i} + W_o[m→ || m←])``. Pure
torch.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["PatchEmbedding", "BiTemporalGraphAttention"]


class PatchEmbedding(nn.Module):
    """Tile frames into ``patch_size x patch_size`` patches, one graph node each.

    ``(B, T, C, h, w) -> (B, T, N, out_features)`` with ``N = ceil(h/p) * ceil(w/p)``;
    the frames are zero-padded on the bottom/right to a multiple of ``p`` and each
    flattened patch is projected linearly to ``out_features``.
    """

    def __init__(self, in_channels, out_features, patch_size=2):
        super().__init__()
        self.patch_size = int(patch_size)
        self.proj = nn.Linear(in_channels * self.patch_size**2, out_features)

    def forward(self, x):
        b, t, c, h, w = x.shape
        p = self.patch_size
        frames = x.reshape(b * t, c, h, w)
        pad_h, pad_w = (-h) % p, (-w) % p
        if pad_h or pad_w:
            frames = F.pad(frames, (0, pad_w, 0, pad_h))
        patches = F.unfold(frames, kernel_size=p, stride=p)  # (B*T, c*p*p, N)
        nodes = self.proj(patches.transpose(1, 2))
        return nodes.reshape(b, t, nodes.shape[1], nodes.shape[2])


class BiTemporalGraphAttention(nn.Module):
    """Bidirectional temporal graph attention between frames ``t`` and ``t ± 1``.

    For each direction ``d`` (``→``: ``δ = +1``, ``←``: ``δ = -1``) and head,
    ``α_{t,i→j} = softmax_j(<W_q h_{t,i}, W_k h_{t+δ,j}> / sqrt(d_head))`` and
    ``m_{t,i} = Σ_j α_{t,i→j} W_v h_{t+δ,j}``. At the sequence ends, where frame
    ``t+δ`` does not exist, the message is zero. The heads are concatenated,
    the two directions merged by ``W_o`` and added to the input before the
    LayerNorm (a residual connection, so that frame ``t``'s own features reach
    ``h'_t``; the seed's formula writes ``LN(W_o[m→ || m←])``).

    Parameters
    ----------
    features : int
        Node feature size ``F``.
    n_heads : int, default=4
        Must divide ``features``.

    Forward
    -------
    x : Tensor (B, T, N, F)
    return_attention : bool
        Also return the attention weights ``{"forward", "backward"}``, each
        ``(B, heads, T-1, N, N)``.
    """

    def __init__(self, features, n_heads=4):
        super().__init__()
        if features % n_heads:
            raise ValueError(f"n_heads={n_heads} must divide the node feature size {features}")
        self.n_heads = n_heads
        self.head_dim = features // n_heads
        self.qkv = nn.ModuleDict({
            d: nn.ModuleList(nn.Linear(features, features) for _ in range(3))
            for d in ("fwd", "bwd")
        })
        self.out = nn.Linear(2 * features, features)
        self.norm = nn.LayerNorm(features)

    def _heads(self, x):
        b, t, n, _ = x.shape
        return x.reshape(b, t, n, self.n_heads, self.head_dim).permute(0, 3, 1, 2, 4)  # B,H,T,N,d

    def _direction(self, x, name):
        wq, wk, wv = self.qkv[name]
        b, t, n, f = x.shape
        msg = x.new_zeros(b, self.n_heads, t, n, self.head_dim)
        if t < 2:
            return msg, None
        if name == "fwd":
            src, dst = slice(0, t - 1), slice(1, t)
        else:
            src, dst = slice(1, t), slice(0, t - 1)
        q = self._heads(wq(x[:, src]))
        k = self._heads(wk(x[:, dst]))
        v = self._heads(wv(x[:, dst]))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.head_dim), dim=-1)
        msg = msg.clone()
        msg[:, :, src] = att @ v
        return msg, att

    def forward(self, x, return_attention=False):
        b, t, n, f = x.shape
        m_fwd, a_fwd = self._direction(x, "fwd")
        m_bwd, a_bwd = self._direction(x, "bwd")
        merge = lambda m: m.permute(0, 2, 3, 1, 4).reshape(b, t, n, f)  # noqa: E731
        out = self.norm(x + self.out(torch.cat([merge(m_fwd), merge(m_bwd)], dim=-1)))
        if return_attention:
            return out, {"forward": a_fwd, "backward": a_bwd}
        return out
