"""Convolutional recurrent building blocks: ConvLSTM2d and residual temporal blocks.

Sequences of frames are ``(batch, time, channels, height, width)`` tensors
throughout. Pure torch, no scikit-learn inside.

The encoder/decoder pair follows A-DATSC (seed 000, eq. 1 and section 5.1.5): a
ConvLSTM2D stem, then residual temporal blocks each after a
``MaxPool3D((1, 2, 2))`` (spatial pooling that keeps every time step), and a
decoder that mirrors it with ConvLSTM up-paths and skip connections. With
``recurrent=False`` every ConvLSTM becomes a per-frame ("TimeDistributed")
``Conv2d`` + ReLU: the ``cnn-lstm`` ablation, whose time dependence is then
carried by a :class:`NodeLSTM` at the bottleneck.
"""

import torch
from torch import nn
from torch.nn import functional as F

NORMS = ("layer", "batch", "position")

__all__ = [
    "NORMS",
    "ConvLSTMCell",
    "ConvLSTM2d",
    "FrameConv2d",
    "FrameLayerNorm",
    "ResidualTemporalBlock",
    "SpatiotemporalEncoder",
    "SpatiotemporalDecoder",
    "NodeLSTM",
]


def _frames(x):
    """(B, T, C, H, W) -> (B*T, C, H, W)."""
    b, t = x.shape[:2]
    return x.reshape(b * t, *x.shape[2:]), b, t


def _sequences(x, b, t):
    return x.reshape(b, t, *x.shape[1:])


class ConvLSTMCell(nn.Module):
    """One step of a convolutional LSTM (Shi et al. 2015, without peepholes).

    The four gates come from one convolution over ``[x_t, h_{t-1}]``:
    ``i, f, o = σ(·)``, ``g = tanh(·)``, ``c_t = f ⊙ c_{t-1} + i ⊙ g``,
    ``h_t = o ⊙ tanh(c_t)``.

    Parameters
    ----------
    in_channels, hidden_channels : int
    kernel_size : int, default=3
        Odd size of the square kernel ("same" padding).
    """

    def __init__(self, in_channels, hidden_channels, kernel_size=3):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.hidden_channels = hidden_channels
        self.conv = nn.Conv2d(in_channels + hidden_channels, 4 * hidden_channels, kernel_size,
                              padding=kernel_size // 2)
        with torch.no_grad():  # forget-gate bias 1: remember by default at the start
            self.conv.bias.zero_()
            self.conv.bias[hidden_channels:2 * hidden_channels].fill_(1.0)

    def forward(self, x, state):
        h, c = state
        gates = self.conv(torch.cat([x, h], dim=1))
        i, f, o, g = torch.split(gates, self.hidden_channels, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class ConvLSTM2d(nn.Module):
    """A ConvLSTM layer run over a sequence, returning every hidden state.

    Input ``(B, T, C_in, H, W)``, output ``(B, T, hidden_channels, H, W)``; the
    state starts at zero for each sequence.
    """

    def __init__(self, in_channels, hidden_channels, kernel_size=3):
        super().__init__()
        self.cell = ConvLSTMCell(in_channels, hidden_channels, kernel_size)
        self.hidden_channels = hidden_channels

    def forward(self, x):
        b, t, _, h, w = x.shape
        hc = x.new_zeros(b, self.hidden_channels, h, w)
        state = (hc, hc)
        out = []
        for step in range(t):
            state = self.cell(x[:, step], state)
            out.append(state[0])
        return torch.stack(out, dim=1)


class FrameConv2d(nn.Module):
    """A per-frame ("TimeDistributed") ``Conv2d`` + ReLU: the non-recurrent stand-in."""

    def __init__(self, in_channels, hidden_channels, kernel_size=3):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, hidden_channels, kernel_size, padding=kernel_size // 2)

    def forward(self, x):
        f, b, t = _frames(x)
        return _sequences(F.relu(self.conv(f)), b, t)


class FrameLayerNorm(nn.Module):
    """Normalisation of every frame of a sequence.

    ``norm="layer"`` (A-DATSC's LayerNorm): each frame over its channels and
    positions (``GroupNorm(1, C)``). ``norm="batch"``: ``BatchNorm2d`` over the
    frames of the batch, which centres every channel across samples; with a
    per-frame LayerNorm the channel offsets set by the biases, identical for all
    samples, dominate the normalised features, and the embedding starts (and on
    a CPU budget stays) nearly constant across time steps.

    ``norm="position"``: batch normalisation with separate statistics (and
    affine parameters) for each position ``0 .. length - 1`` of the window
    (``BatchNorm2d(length * C)`` over the batch). A recurrent layer's state
    starts at zero for every window, so its output at window position ``j``
    carries an offset that depends on ``j`` (the cell state builds up over the
    first steps); shared statistics leave that offset in, and it can dominate
    what changes from one time step to another (in our runs 99.9 % of the
    embedding's variance was the window position). Per-position statistics
    remove it at every layer. Windows must then have exactly ``length`` frames.

    Parameters
    ----------
    channels : int
    norm : {"layer", "batch", "position"}, default="layer"
    length : int, optional
        Window length; required with ``norm="position"``.
    """

    def __init__(self, channels, norm="layer", length=None):
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        self.kind = norm
        self.length = _check_length(norm, length)
        if norm == "layer":
            self.norm = nn.GroupNorm(1, channels)
        elif norm == "batch":
            self.norm = nn.BatchNorm2d(channels)
        else:
            self.norm = nn.BatchNorm2d(self.length * channels)

    def forward(self, x):
        if self.kind == "position":
            b, t = x.shape[:2]
            if t != self.length:
                raise ValueError(f"norm='position' was built for windows of {self.length} frames, got {t}")
            return self.norm(x.reshape(b, t * x.shape[2], *x.shape[3:])).reshape(x.shape)
        f, b, t = _frames(x)
        return _sequences(self.norm(f), b, t)


def _check_length(norm, length):
    if norm != "position":
        return None if length is None else int(length)
    if length is None or int(length) < 1:
        raise ValueError(f"norm='position' needs the window length (a positive int), got {length!r}")
    return int(length)


def _layer(recurrent, in_channels, out_channels, kernel_size):
    cls = ConvLSTM2d if recurrent else FrameConv2d
    return cls(in_channels, out_channels, kernel_size)


class ResidualTemporalBlock(nn.Module):
    """Two ConvLSTM2d layers, each followed by LayerNorm, plus a residual path.

    The residual path is a 1x1x1 projection when the channel count changes (the
    identity otherwise), as in A-DATSC's ``ResTempBlock``.
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, recurrent=True, norm="layer", length=None):
        super().__init__()
        self.layer1 = _layer(recurrent, in_channels, out_channels, kernel_size)
        self.norm1 = FrameLayerNorm(out_channels, norm, length)
        self.layer2 = _layer(recurrent, out_channels, out_channels, kernel_size)
        self.norm2 = FrameLayerNorm(out_channels, norm, length)
        self.project = (nn.Conv3d(in_channels, out_channels, 1) if in_channels != out_channels else None)

    def forward(self, x):
        y = self.norm2(self.layer2(self.norm1(self.layer1(x))))
        if self.project is not None:
            # Conv3d wants (B, C, T, H, W)
            x = self.project(x.transpose(1, 2)).transpose(1, 2)
        return x + y


def pool_frames(x):
    """``MaxPool3D((1, 2, 2))``: halve height and width, keep every time step."""
    f, b, t = _frames(x)
    return _sequences(F.max_pool2d(f, 2), b, t)


def upsample_frames(x):
    """Nearest-neighbour ×2 spatial upsampling of every frame."""
    f, b, t = _frames(x)
    return _sequences(F.interpolate(f, scale_factor=2, mode="nearest"), b, t)


class SpatiotemporalEncoder(nn.Module):
    """ConvLSTM2D stem then residual temporal blocks after ``MaxPool3D(1, 2, 2)``.

    ``H1 = ConvLSTM2D_{F1}(X)``, ``Hl = ResTempBlock_{Fl}(MaxPool3D(H_{l-1}))``.

    Parameters
    ----------
    in_channels : int
    filters : sequence of int
        Widths ``(F1, F2, ...)``; A-DATSC uses ``(64, 128, 256, 512)``. The top
        level has spatial size ``H / 2**(len(filters) - 1)``.
    kernel_size : int, default=3
    recurrent : bool, default=True
        False replaces every ConvLSTM2d by a per-frame Conv2d (``cnn-lstm`` ablation).
    norm : {"layer", "batch", "position"}, default="layer"
        See :class:`FrameLayerNorm`.
    length : int, optional
        Window length (required with ``norm="position"``).

    Returns (forward)
    -----------------
    list of the stage outputs ``[H1, ..., HL]``.
    """

    def __init__(self, in_channels, filters=(64, 128, 256, 512), kernel_size=3, recurrent=True, norm="layer",
                 length=None):
        super().__init__()
        filters = tuple(int(f) for f in filters)
        self.filters = filters
        self.stem = _layer(recurrent, in_channels, filters[0], kernel_size)
        # the seed has no normalisation after the stem; with per-position statistics one is
        # needed, or the stem's position offset reaches the top through the residual paths
        self.stem_norm = FrameLayerNorm(filters[0], norm, length) if norm == "position" else None
        self.blocks = nn.ModuleList(
            ResidualTemporalBlock(filters[i - 1], filters[i], kernel_size, recurrent, norm, length)
            for i in range(1, len(filters))
        )

    def forward(self, x):
        h = self.stem(x)
        if self.stem_norm is not None:
            h = self.stem_norm(h)
        stages = [h]
        for block in self.blocks:
            h = block(pool_frames(h))
            stages.append(h)
        return stages


class SpatiotemporalDecoder(nn.Module):
    """Mirror of :class:`SpatiotemporalEncoder`: ConvLSTM up-paths with skip connections.

    Starting from a top-level sequence of width ``filters[-1]``, each level
    upsamples ×2, concatenates the encoder stage of the same resolution (when
    ``skip_connections``; the time axis is preserved by the encoder, so the skip
    timings align one to one) and applies a ConvLSTM2d + LayerNorm of that
    level's width; a final 1x1 convolution gives ``out_channels`` (linear output).

    With ``temporal_skips`` (default) each skip carries its encoder stage averaged
    over the window and broadcast back to every step (a temporal down- then
    up-sampling of the skip, our reading of the seed's "temporal up-sampling
    aligns skip timings"): the skips supply the window's spatial detail, while
    what changes from step to step must pass through the bottleneck embedding
    ``z_t``. Per-step skips (``temporal_skips=False``) let the decoder copy each
    frame around the bottleneck, which leaves ``z_t`` nearly uninformative.
    """

    def __init__(self, out_channels, filters=(64, 128, 256, 512), kernel_size=3, recurrent=True,
                 skip_connections=True, temporal_skips=True, norm="layer", length=None):
        super().__init__()
        filters = tuple(int(f) for f in filters)
        self.skip_connections = skip_connections
        self.temporal_skips = temporal_skips
        self.ups = nn.ModuleList()
        self.norms = nn.ModuleList()
        for level in range(len(filters) - 2, -1, -1):
            in_ch = filters[level + 1] + (filters[level] if skip_connections else 0)
            self.ups.append(_layer(recurrent, in_ch, filters[level], kernel_size))
            self.norms.append(FrameLayerNorm(filters[level], norm, length))
        self.head = nn.Conv2d(filters[0], out_channels, 1)

    def forward(self, top, skips=None):
        h = top
        n = len(self.ups)
        for i, (up, norm) in enumerate(zip(self.ups, self.norms)):
            h = upsample_frames(h)
            if self.skip_connections:
                skip = skips[n - 1 - i]
                if self.temporal_skips:
                    skip = skip.mean(dim=1, keepdim=True).expand_as(skip)
                h = torch.cat([h, skip], dim=2)
            h = norm(up(h))
        f, b, t = _frames(h)
        return _sequences(self.head(f), b, t)


class NodeLSTM(nn.Module):
    """An LSTM over time applied to every graph node, ``(B, T, N, F) -> (B, T, N, F)``.

    The recurrent unit of the ``cnn-lstm`` ablation ("traditional CNN blocks
    followed by an LSTM unit").
    """

    def __init__(self, features):
        super().__init__()
        self.lstm = nn.LSTM(features, features, batch_first=True)

    def forward(self, x):
        b, t, n, f = x.shape
        seq = x.permute(0, 2, 1, 3).reshape(b * n, t, f)
        out, _ = self.lstm(seq)
        return out.reshape(b, n, t, f).permute(0, 2, 1, 3)
