"""Clustering autoencoder (seed 001): a convolutional autoencoder over patches with a
projection + prototype head. Pure torch, no scikit-learn inside.

Layout: patches come in channels-last, ``(n, h, w, channels)``, the layout of
:class:`skdsc.preprocessing.PatchExtractor`; the modules move the channels to the
front internally and give reconstructions back channels-last.
"""

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["ClusteringAutoencoderModule", "PrototypePatchAutoencoder", "PrototypeHead"]


def _conv_out(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) // stride + 1


class PrototypePatchAutoencoder(nn.Module):
    """Convolutional autoencoder for ``(h, w, channels)`` patches.

    The encoder follows the structure of Kurihana et al. (2024): a stem convolution
    keeping the patch size, then one block per entry of ``conv_channels`` made of a
    stride-2 ("same"-padded) down-sampling convolution, a stride-1 convolution and a
    LeakyReLU after each; the feature map is flattened and mapped linearly to a
    ``latent_dim`` vector ``z``. The decoder mirrors it with transposed
    convolutions back to the exact patch size and a final linear convolution to the
    input channels. A spatial axis of length 1 is never down-sampled, so 1 x 1
    "patches" (tabular data, one feature per channel) work too; the 3 x 3 kernels
    then act as 1 x 1 convolutions. There is no batch normalisation, so that the
    output of a sample does not depend on the other samples of its batch.

    Parameters
    ----------
    patch_shape : tuple of int (h, w, channels)
        Shape of one patch.
    conv_channels : sequence of int, default=(16, 32, 64)
        Width of the stem and of each down-sampling block; the stem uses
        ``conv_channels[0]``.
    latent_dim : int, default=512
        Size of the flattened latent vector ``z``.
    kernel_size : int, default=3
        Odd kernel size of every convolution.

    Examples
    --------
    >>> import torch
    >>> ae = PrototypePatchAutoencoder((8, 8, 12), conv_channels=(8, 16), latent_dim=32)
    >>> z, x_hat = ae(torch.zeros(5, 8, 8, 12))
    >>> tuple(z.shape), tuple(x_hat.shape)
    ((5, 32), (5, 8, 8, 12))
    """

    def __init__(self, patch_shape, conv_channels=(16, 32, 64), latent_dim=512, kernel_size=3):
        super().__init__()
        h, w, c = (int(s) for s in patch_shape)
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}.")
        chans = [int(v) for v in conv_channels]
        if not chans:
            raise ValueError("conv_channels must name at least one width.")
        self.patch_shape = (h, w, c)
        self.latent_dim = int(latent_dim)
        pad = kernel_size // 2
        act = nn.LeakyReLU
        enc = [nn.Conv2d(c, chans[0], kernel_size, padding=pad), act()]
        sizes = [(h, w)]
        strides = []
        prev = chans[0]
        for width in chans[1:]:
            sh = 2 if sizes[-1][0] > 1 else 1
            sw = 2 if sizes[-1][1] > 1 else 1
            enc += [
                nn.Conv2d(prev, width, kernel_size, stride=(sh, sw), padding=pad), act(),
                nn.Conv2d(width, width, kernel_size, padding=pad), act(),
            ]
            sizes.append((_conv_out(sizes[-1][0], kernel_size, sh, pad),
                          _conv_out(sizes[-1][1], kernel_size, sw, pad)))
            strides.append((sh, sw))
            prev = width
        self.encoder_conv = nn.Sequential(*enc)
        self._sizes = sizes
        self._flat = (prev, sizes[-1][0], sizes[-1][1])
        n_flat = prev * sizes[-1][0] * sizes[-1][1]
        self.to_latent = nn.Linear(n_flat, self.latent_dim)
        self.from_latent = nn.Linear(self.latent_dim, n_flat)
        ups = []
        rev = chans[::-1]
        for i, (sh, sw) in enumerate(reversed(strides)):
            ups.append(nn.ModuleDict({
                "up": nn.ConvTranspose2d(rev[i], rev[i + 1], kernel_size, stride=(sh, sw), padding=pad),
                "conv": nn.Conv2d(rev[i + 1], rev[i + 1], kernel_size, padding=pad),
            }))
        self.decoder_blocks = nn.ModuleList(ups)
        self.out = nn.Conv2d(chans[0], c, kernel_size, padding=pad)
        self.act = nn.LeakyReLU()

    def encode(self, x):
        """``(n, h, w, c)`` patches to ``(n, latent_dim)`` codes."""
        h = self.encoder_conv(x.permute(0, 3, 1, 2))
        return self.to_latent(h.flatten(1))

    def decode(self, z):
        """``(n, latent_dim)`` codes to ``(n, h, w, c)`` reconstructions."""
        h = self.act(self.from_latent(z)).view(z.shape[0], *self._flat)
        targets = self._sizes[-2::-1]
        for block, size in zip(self.decoder_blocks, targets):
            h = self.act(block["up"](h, output_size=size))
            h = self.act(block["conv"](h))
        return self.out(h).permute(0, 2, 3, 1)

    def forward(self, x):
        z = self.encode(x)
        return z, self.decode(z)


class PrototypeHead(nn.Module):
    """Single-layer ReLU projection ``F_p`` and ``k`` trainable cluster prototypes.

    ``scores = F_p(z) · c_j``. With ``normalize=True`` both the projected features
    and the prototypes are L2-normalised, so that the scores are cosine
    similarities in ``[-1, 1]`` (as in SwAV); the temperature ``tau`` and the
    Sinkhorn ``epsilon`` then act on a fixed scale whatever the size of ``z``.
    ``normalize=False`` is the plain scalar product of the seed.

    Parameters
    ----------
    latent_dim : int
        Size of ``z``.
    proj_dim : int
        Dimension ``n`` of the projection and of the prototypes.
    n_clusters : int
        Number ``k`` of prototypes.
    normalize : bool, default=True

    Examples
    --------
    >>> import torch
    >>> head = PrototypeHead(6, 4, 3)
    >>> tuple(head(torch.randn(5, 6)).shape)
    (5, 3)
    """

    def __init__(self, latent_dim, proj_dim, n_clusters, normalize=True):
        super().__init__()
        self.normalize = bool(normalize)
        self.projection = nn.Sequential(nn.Linear(latent_dim, proj_dim), nn.ReLU())
        self.prototypes = nn.Parameter(torch.empty(n_clusters, proj_dim))
        nn.init.normal_(self.prototypes, std=proj_dim ** -0.5)
        if self.normalize:
            self.normalize_prototypes_()

    def project(self, z):
        """``F_p(z)`` (L2-normalised when ``normalize``)."""
        p = self.projection(z)
        return F.normalize(p, dim=1) if self.normalize else p

    def prototype_matrix(self):
        """The prototypes as used in the scores, shape ``(k, proj_dim)``."""
        return F.normalize(self.prototypes, dim=1) if self.normalize else self.prototypes

    def scores_of(self, features):
        """Scores of already projected features against the prototypes."""
        return features @ self.prototype_matrix().t()

    @torch.no_grad()
    def standardize_projection_(self, z, low=0.1, high=0.9):
        """Data-dependent initialisation of ``F_p`` from codes ``z``.

        Each unit is rescaled to unit variance over ``z`` and its ReLU threshold is
        put at a random quantile (uniform in ``[low, high]``) of its
        pre-activations. With a random linear layer the pre-activations of all
        samples share a large common offset, so that after the ReLU and the L2
        normalisation the codes of different samples point in almost the same
        direction; with every threshold at the mean instead, samples on either
        side of it along a direction of ``z`` would share one direction. Spread
        thresholds make the direction of ``F_p(z)`` turn progressively as ``z``
        moves, so that cosine scores keep the geometry of the latent space
        (random ReLU features).
        """
        lin = self.projection[0]
        pre = z @ lin.weight.t()
        std = pre.std(dim=0).clamp_min(1e-6)
        q = torch.rand(pre.shape[1], dtype=pre.dtype) * (high - low) + low
        sorted_pre, _ = torch.sort(pre, dim=0)
        idx = (q * (pre.shape[0] - 1)).round().long()
        thresh = sorted_pre[idx, torch.arange(pre.shape[1])]
        lin.weight.div_(std[:, None])
        lin.bias.copy_(-thresh / std)

    @torch.no_grad()
    def normalize_prototypes_(self):
        """Project the prototypes back onto the unit sphere (after an optimiser step)."""
        self.prototypes.copy_(F.normalize(self.prototypes, dim=1))

    @torch.no_grad()
    def reset_prototypes(self, prototypes):
        """Overwrite the prototypes (e.g. with k-means centres of the projected codes)."""
        self.prototypes.copy_(torch.as_tensor(prototypes, dtype=self.prototypes.dtype))
        if self.normalize:
            self.normalize_prototypes_()

    def forward(self, z):
        return self.scores_of(self.project(z))


class ClusteringAutoencoderModule(nn.Module):
    """Autoencoder + prototype head; returns ``(z, x_hat, scores, proba, features)``.

    ``proba = softmax(scores / temperature)`` is the predicted cluster distribution
    and ``features`` the projected codes (kept by the trainer's feature queue).

    Parameters
    ----------
    autoencoder : PrototypePatchAutoencoder
    head : PrototypeHead
    temperature : float, default=0.05
        Softmax temperature τ.
    """

    def __init__(self, autoencoder, head, temperature=0.05):
        super().__init__()
        self.autoencoder = autoencoder
        self.head = head
        self.temperature = float(temperature)

    def forward(self, x):
        z, x_hat = self.autoencoder(x)
        features = self.head.project(z)
        scores = self.head.scores_of(features)
        proba = torch.softmax(scores / self.temperature, dim=1)
        return z, x_hat, scores, proba, features
