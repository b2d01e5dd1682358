"""The A-DATSC generator and its sampling layer (seed 000, sections 5.1-5.2).

:class:`ADATSCGenerator` assembles the spatiotemporal encoder
(:mod:`skdsc.nn.convlstm`), the patchification and Bi-TGAT bottleneck
(:mod:`skdsc.nn.attention`), the per-timestep embedding and sequence summary,
the Student-t clustering head with temperature (:class:`skdsc.nn.StudentTHead`),
the self-expressive temporal layer (:mod:`skdsc.nn.self_expressive`) and the
decoder with skip connections. :class:`SubspaceSampler` is the sampling layer
producing real and fake latents for the discriminator. Pure torch.
"""

import torch
from torch import nn

from .attention import BiTemporalGraphAttention, PatchEmbedding
from .convlstm import NodeLSTM, SpatiotemporalDecoder, SpatiotemporalEncoder
from .heads import StudentTHead
from .self_expressive import TemporalSelfExpressive

__all__ = ["ADATSCGenerator", "SubspaceSampler", "PositionCentering", "ENCODERS", "BOTTLENECKS"]

ENCODERS = ("convlstm", "cnn-lstm")
BOTTLENECKS = ("bitgat", "se-only", "dense-gat")


class PositionCentering(nn.modules.batchnorm._BatchNorm):
    """Centre embeddings per window position and rescale them isotropically.

    Input ``(B, T, D)``. Every feature of every window position ``t`` is centred
    by its mean over the batch (removing the offset a recurrent encoder's
    zero-started state leaves at each position), and all ``D`` features of
    position ``t`` are divided by *one* scale, the square root of their average
    variance. Unlike a BatchNorm, which divides every feature by its own
    standard deviation, this keeps the relative spread of the directions: a
    direction that separates regimes stays larger than one that carries
    noise, whereas a per-feature standardisation gives both unit variance and
    leaves a distance-based head (the Student-t kernel, KMeans) unable to tell
    them apart. In our runs whitening ``z_t`` cut KMeans' ARI on it from
    0.7 to 0.4 though ``z_t`` still predicted the field's leading principal
    components (R² 0.83).

    Running statistics are kept as a BatchNorm's (the same momentum rules, so
    :func:`~skdsc._training_adatsc.refresh_batchnorm` recomputes them): the
    running mean per feature and position and the running variance per
    feature and position, from which the per-position scale is derived.

    Parameters
    ----------
    length : int
        Window length ``T``.
    num_features : int
        Embedding size ``D``.
    eps : float, default=1e-5
    momentum : float or None, default=0.1

    Examples
    --------
    >>> import torch
    >>> norm = PositionCentering(3, 4)
    >>> z = torch.randn(16, 3, 4) * torch.tensor([1.0, 2.0, 3.0, 4.0])
    >>> out = norm(z)
    >>> out.mean(dim=0).abs().max() < 1e-5
    tensor(True)
    >>> out.var(dim=0, unbiased=False).mean(dim=1)  # one unit scale per position
    tensor([1.0000, 1.0000, 1.0000])
    """

    def __init__(self, length, num_features, eps=1e-5, momentum=0.1):
        self.length = int(length)
        self.features = int(num_features)
        super().__init__(self.length * self.features, eps=eps, momentum=momentum, affine=False,
                         track_running_stats=True)

    def _check_input_dim(self, x):
        if x.dim() != 3 or x.shape[1:] != (self.length, self.features):
            raise ValueError(f"expected (batch, {self.length}, {self.features}), got {tuple(x.shape)}")

    def forward(self, x):
        self._check_input_dim(x)
        flat = x.reshape(x.shape[0], -1)
        if self.training and flat.shape[0] > 1:
            mean = flat.mean(dim=0)
            var = flat.var(dim=0, unbiased=False)
            with torch.no_grad():
                self.num_batches_tracked += 1
                factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                n = flat.shape[0]
                self.running_mean.mul_(1 - factor).add_(factor * mean.detach())
                self.running_var.mul_(1 - factor).add_(factor * var.detach() * n / (n - 1))
        else:
            mean, var = self.running_mean, self.running_var
        scale = var.reshape(self.length, self.features).mean(dim=1, keepdim=True).add(self.eps).rsqrt()
        out = (flat - mean).reshape(x.shape) * scale
        return out


class ADATSCGenerator(nn.Module):
    """A-DATSC's generator: encoder, Bi-TGAT bottleneck, head, SE layer, decoder.

    Parameters
    ----------
    in_channels : int
        Variables ``C`` of the field.
    grid_shape : tuple of int
        ``(H, W)`` of the (padded) input frames; both multiples of
        ``2 ** (len(filters) - 1)``.
    n_clusters : int
    filters : sequence of int, default=(64, 128, 256, 512)
        Encoder widths (the seed's); the decoder mirrors them.
    kernel_size : int, default=3
    patch_size : int, default=2
        Side of the patches of the top level that become graph nodes.
    latent_dim : int, default=32
        Size ``D`` of the per-timestep embedding ``z_t``.
    n_heads : int, default=4
        Attention heads of the Bi-TGAT (must divide ``filters[-1]``).
    alpha : float, default=1.0
        Degrees of freedom of the Student-t head.
    encoder : {"convlstm", "cnn-lstm"}
        ``"cnn-lstm"`` (ablation): per-frame CNN blocks and an LSTM over time at the
        bottleneck instead of ConvLSTM layers.
    bottleneck : {"bitgat", "se-only", "dense-gat"}
        ``"bitgat"``: Bi-TGAT over the patch nodes, then pooled (the full model);
        ``"se-only"`` (ablation): no Bi-TGAT, only the self-expressive layer;
        ``"dense-gat"`` (ablation): nodes pooled first, Bi-TGAT on the dense
        per-timestep vector.
    skip_connections : bool, default=True
        U-Net skip connections from the encoder stages below the top level.
    recurrent_decoder : bool or None, default=None
        ConvLSTM up-paths in the decoder (True) or per-frame convolutions
        (False); None mirrors the encoder (recurrent with ``"convlstm"``).
    se_shrink, se_exclude_self, se_sigma_t, se_assignment_weighting
        Passed to :class:`TemporalSelfExpressive`.
    norm : {"layer", "batch", "position"}, default="layer"
        Normalisation in the encoder and decoder blocks and of the embedding
        ``z_t``: the seed's LayerNorm, BatchNorm, or BatchNorm with statistics
        per window position (see :class:`~skdsc.nn.convlstm.FrameLayerNorm`;
        also after the stem, and needs ``sequence_length``; ``z_t`` itself is then
        centred per position with one scale per position,
        :class:`PositionCentering`, not standardised per feature). With LayerNorm, ``z_t`` has
        unit norm per step but may vary very little *across* steps (the
        sample-independent part of the features dominates); BatchNorm (without
        affine parameters) standardises every embedding dimension across the
        steps of the batch, so that the Student-t head sees spread-out points.
    sequence_length : int, optional
        Window length ``T``; required with ``norm="position"`` (the forward then
        accepts only windows of that length).

    Attributes
    ----------
    temperature : float
        Temperature τ of the head, annealed during training (a plain attribute
        set by the training callbacks; the last value is used at inference).
    use_se : bool
        Whether the self-expressive output enters the bottleneck (off during the
        warm-up).

    Forward
    -------
    x : Tensor (B, T, C, H, W)

    Returns ``(z, q, x_hat, coef, z_se, z_bar)``: per-timestep embeddings
    ``(B, T, D)``, soft assignments at the current temperature ``(B, T, K)``,
    reconstruction ``(B, T, C, H, W)``, self-expressive coefficients
    ``(B, T, T)``, ``C Z`` ``(B, T, D)`` and the sequence summary ``(B, D)``.
    """

    def __init__(self, in_channels, grid_shape, n_clusters, filters=(64, 128, 256, 512), kernel_size=3,
                 patch_size=2, latent_dim=32, n_heads=4, alpha=1.0, encoder="convlstm", bottleneck="bitgat",
                 skip_connections=True, se_shrink=0.05, se_exclude_self=True, se_sigma_t=None,
                 se_assignment_weighting=False, norm="layer", sequence_length=None, recurrent_decoder=None):
        super().__init__()
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
        if bottleneck not in BOTTLENECKS:
            raise ValueError(f"bottleneck must be one of {BOTTLENECKS}, got {bottleneck!r}")
        filters = tuple(int(f) for f in filters)
        factor = 2 ** (len(filters) - 1)
        h, w = (int(s) for s in grid_shape)
        if h % factor or w % factor:
            raise ValueError(f"grid_shape {grid_shape} must be multiples of {factor} (pad the input)")
        self.top_shape = (filters[-1], h // factor, w // factor)
        self.encoder_kind = encoder
        self.bottleneck = bottleneck
        recurrent = encoder == "convlstm"
        top = filters[-1]

        self.encoder = SpatiotemporalEncoder(in_channels, filters, kernel_size, recurrent, norm, sequence_length)
        self.patches = PatchEmbedding(top, top, patch_size)
        self.node_lstm = None if recurrent else NodeLSTM(top)
        self.attention = None if bottleneck == "se-only" else BiTemporalGraphAttention(top, n_heads)
        p = int(patch_size)
        self.n_nodes = -(-self.top_shape[1] // p) * -(-self.top_shape[2] // p)
        self.node_pool = nn.Linear(self.n_nodes * top, top)
        self.embed = nn.Linear(top, latent_dim)
        self.position_norm = norm == "position"
        if norm == "layer":
            self.embed_norm = nn.LayerNorm(latent_dim, elementwise_affine=False)
        elif norm == "batch":
            self.embed_norm = nn.BatchNorm1d(latent_dim, affine=False)
        else:  # centred per window position, one scale per position (not whitened)
            self.embed_norm = PositionCentering(int(sequence_length), latent_dim)
        self.summary = nn.Sequential(nn.Linear(latent_dim, latent_dim), nn.LayerNorm(latent_dim))
        self.head = StudentTHead(n_clusters, latent_dim, alpha)
        self.self_expressive = TemporalSelfExpressive(
            latent_dim, se_shrink, se_exclude_self, se_sigma_t, se_assignment_weighting)
        self.to_top = nn.Linear(3 * latent_dim, top * self.top_shape[1] * self.top_shape[2])
        recurrent_decoder = recurrent if recurrent_decoder is None else bool(recurrent_decoder)
        self.decoder = SpatiotemporalDecoder(in_channels, filters, kernel_size, recurrent_decoder, skip_connections,
                                             norm=norm, length=sequence_length)
        self.temperature = 1.0
        self.use_se = True

    def encode(self, x):
        """Encoder stages and per-timestep embeddings: ``(stages, z (B,T,D), z_bar (B,D))``."""
        stages = self.encoder(x)
        nodes = self.patches(stages[-1])  # (B, T, N, F)
        if self.node_lstm is not None:
            nodes = self.node_lstm(nodes)
        if self.bottleneck == "bitgat":
            pooled = self.pool_nodes(self.attention(nodes))
        elif self.bottleneck == "dense-gat":
            pooled = self.attention(self.pool_nodes(nodes)[:, :, None]).squeeze(2)
        else:
            pooled = self.pool_nodes(nodes)
        z = self.embed(pooled)
        if self.position_norm:
            z = self.embed_norm(z)
        else:
            z = self.embed_norm(z.reshape(-1, z.shape[-1])).reshape(z.shape)
        z_bar = self.summary(z.mean(dim=1))
        return stages, z, z_bar

    def pool_nodes(self, nodes):
        """Pool ``(B, T, N, F)`` node features across the nodes to ``(B, T, F)``.

        The nodes are concatenated in their grid order and projected linearly: a
        learned pooling that, unlike a mean, keeps where on the grid each pattern
        sits (which is what distinguishes one regime's map from another's).
        """
        return self.node_pool(nodes.reshape(*nodes.shape[:2], -1))

    def assign(self, z):
        """Soft assignments of embeddings ``(..., D)`` at the current temperature."""
        flat = z.reshape(-1, z.shape[-1])
        return self.head(flat, temperature=self.temperature).reshape(*z.shape[:-1], -1)

    def forward(self, x):
        stages, z, z_bar = self.encode(x)
        b, t = z.shape[:2]
        q = self.assign(z)
        coef, z_se = self.self_expressive(z, q.detach())
        se_summary = z_se.mean(dim=1) if self.use_se else torch.zeros_like(z_bar)
        code = torch.cat([z, se_summary[:, None].expand(b, t, -1), z_bar[:, None].expand(b, t, -1)], dim=-1)
        top = self.to_top(code).reshape(b, t, *self.top_shape)
        x_hat = self.decoder(top, stages[:-1])
        return z, q, x_hat, coef, z_se, z_bar


class SubspaceSampler(nn.Module):
    """The sampling layer: real latents per cluster and fakes as convex combinations.

    For each cluster ``k`` the ``n_real`` points with the highest responsibility
    ``q_{·k}`` are its real latents; each fake is
    ``z̄ = Σ_j a_j z_j / Σ_j a_j`` over those points with ``a_j = α_j q_{jk}``,
    ``α_j ~ U(0, 1]`` drawn afresh and treated as constants (the
    reparameterisation: gradients flow through the ``z_j``, not the weights).

    Forward
    -------
    z : Tensor (n, D)
    q : Tensor (n, K)

    Returns ``(real, fake, index)``: ``(K, m, D)``, ``(K, m, D)`` and the
    ``(m, K)`` row indices of the real points, ``m = min(n_real, n)``.
    """

    def __init__(self, n_real=16):
        super().__init__()
        self.n_real = int(n_real)

    def forward(self, z, q):
        m = min(self.n_real, z.shape[0])
        weights, index = torch.topk(q.detach(), m, dim=0)  # (m, K)
        real = z[index.T]  # (K, m, D)
        alpha = 1.0 - torch.rand(q.shape[1], m, m, device=z.device, dtype=z.dtype)  # (0, 1]
        mix = alpha * weights.T[:, None, :].clamp_min(1e-12)
        mix = mix / mix.sum(dim=-1, keepdim=True)
        fake = mix @ real
        return real, fake, index
