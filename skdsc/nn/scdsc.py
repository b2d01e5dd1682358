"""Building blocks of SCDSC (seed 002): pure torch, no scikit-learn inside.

* :class:`ConvPatchAutoencoder`: the convolutional autoencoder on ``a x a x b``
  hyperspectral patches (no pooling, the latent keeps the patch grid).
* :func:`subspace_basis_assignment` / :class:`SubspaceBasisHead`: soft assignment
  of embeddings to ``k`` subspaces, each spanned by ``d`` learned basis vectors.
* :class:`ImagePatchDataset`: patches cut on the fly from one padded image through
  a strided view (``Tensor.unfold``); nothing is materialised per pixel.
"""

import numpy as np
import torch
from torch import nn

__all__ = [
    "ConvPatchAutoencoder",
    "ImagePatchDataset",
    "SubspaceBasisHead",
    "passthrough_collate",
    "subspace_basis_assignment",
]


def _conv_bn_relu(conv, channels):
    return [conv, nn.BatchNorm2d(channels), nn.ReLU()]


class ConvPatchAutoencoder(nn.Module):
    """Convolutional autoencoder of SCDSC on ``(C, a, a)`` patches.

    Encoder ``Conv1x1(C->h)-BN-ReLU, Conv3x3(h->h)-BN-ReLU, Conv3x3(h->h)-BN-ReLU``;
    decoder ``ConvT3x3(h->h)-BN-ReLU, ConvT1x1(h->C)``. The 3x3 layers are padded so
    the spatial size is kept (no pooling): the embedding is the flattened
    ``h x a x a`` feature map (32 x 7 x 7 = 1568 in the paper).

    Parameters
    ----------
    in_channels : int
        Number of bands ``C`` of the patches.
    hidden_channels : int, default=32

    Examples
    --------
    >>> import torch
    >>> ae = ConvPatchAutoencoder(8)
    >>> z, x_hat = ae(torch.zeros(4, 8, 7, 7))
    >>> tuple(z.shape), tuple(x_hat.shape)
    ((4, 1568), (4, 8, 7, 7))
    """

    def __init__(self, in_channels, hidden_channels=32):
        super().__init__()
        c, h = int(in_channels), int(hidden_channels)
        self.encoder = nn.Sequential(
            *_conv_bn_relu(nn.Conv2d(c, h, 1), h),
            *_conv_bn_relu(nn.Conv2d(h, h, 3, padding=1), h),
            *_conv_bn_relu(nn.Conv2d(h, h, 3, padding=1), h),
        )
        self.decoder = nn.Sequential(
            *_conv_bn_relu(nn.ConvTranspose2d(h, h, 3, padding=1), h),
            nn.ConvTranspose2d(h, c, 1),
        )

    def forward(self, x):
        """Return ``(z, x_hat)``: flattened embedding and reconstruction."""
        fmap = self.encoder(x)
        return fmap.flatten(1), self.decoder(fmap)


def subspace_basis_assignment(z, basis, n_basis, eta=5.0):
    """Soft assignment of embeddings to subspaces from their projections on the bases.

    With ``D_j`` the ``n_basis`` columns of ``basis`` belonging to subspace ``j``,
    ``s_ij = ||z_i^T D_j||^2``, smoothed ``s_ij <- (s_ij + eta d) / ((eta + 1) d)``
    (``d = n_basis``) and normalised so each row sums to 1. This is the form of the
    authors' implementation (EDESC's affinity); the seed's eq. (3) writes the same
    idea as ``(||h_i D_j|| + theta r) / sum_j (...)``.

    Parameters
    ----------
    z : Tensor of shape (n, m)
    basis : Tensor of shape ``(m, k * n_basis)``
        Columns ``j * n_basis .. (j + 1) * n_basis - 1`` span subspace ``j``.
    n_basis : int
    eta : float

    Returns
    -------
    Tensor of shape (n, k), rows summing to 1.

    Examples
    --------
    >>> import torch
    >>> D = torch.eye(4)  # two 2-d subspaces: span(e0, e1) and span(e2, e3)
    >>> s = subspace_basis_assignment(torch.tensor([[3.0, 0.0, 0.0, 0.0]]), D, 2, eta=1.0)
    >>> [round(v, 4) for v in s[0].tolist()]
    [0.8462, 0.1538]
    """
    proj = (z @ basis).pow(2)
    s = proj.reshape(z.shape[0], -1, n_basis).sum(dim=2)
    s = (s + eta * n_basis) / ((eta + 1.0) * n_basis)
    return s / s.sum(dim=1, keepdim=True)


class SubspaceBasisHead(nn.Module):
    """Trainable subspace bases ``D = [D_1, ..., D_k]`` and their soft assignment.

    Parameters
    ----------
    n_clusters : int
    latent_dim : int
    n_basis : int, default=5
        Basis vectors per subspace (``d``).
    eta : float, default=5.0
        Smoothing constant of the assignment.

    Attributes
    ----------
    basis : Parameter of shape ``(latent_dim, n_clusters * n_basis)``
    """

    def __init__(self, n_clusters, latent_dim, n_basis=5, eta=5.0):
        super().__init__()
        self.n_clusters = int(n_clusters)
        self.n_basis = int(n_basis)
        self.eta = float(eta)
        self.basis = nn.Parameter(torch.zeros(latent_dim, self.n_clusters * self.n_basis))
        nn.init.xavier_uniform_(self.basis)

    @torch.no_grad()
    def reset_basis(self, basis):
        """Overwrite the bases (e.g. with the per-cluster SVD initialisation)."""
        self.basis.copy_(torch.as_tensor(basis, dtype=self.basis.dtype))

    def forward(self, z):
        return subspace_basis_assignment(z, self.basis, self.n_basis, self.eta)


def passthrough_collate(batch):
    """DataLoader ``collate_fn`` for datasets whose ``__getitems__`` returns whole batches."""
    return batch


class ImagePatchDataset(torch.utils.data.Dataset):
    """Square patches around chosen pixels of one image, cut on the fly.

    The image is padded once (numpy ``mode`` padding, ``reflect`` by default) and kept
    as a ``(C, H + 2r, W + 2r)`` tensor; :meth:`Tensor.unfold` gives a strided view of
    all its ``p x p`` windows, and a batch is gathered from that view, so memory stays
    linear in the number of pixels whatever the patch size.

    Item ``i`` is ``(patch, i)``: the ``(C, p, p)`` patch centred on pixel
    ``pixels[i]`` and its index (used as skorch's ``y`` to find the pixel's row in the
    training memories). ``__getitems__`` returns a whole batch at once (use
    :func:`passthrough_collate` as the loader's ``collate_fn``).

    Parameters
    ----------
    image : ndarray of shape (H, W, C)
    patch_size : int
        Odd side ``p`` of the patches.
    pixels : array-like of int, optional
        Flat (row-major) indices of the centre pixels; all pixels by default.
    mode : str, default="reflect"
        Padding mode of :func:`numpy.pad`.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.arange(5 * 6 * 2, dtype=np.float32).reshape(5, 6, 2)
    >>> ds = ImagePatchDataset(img, 3)
    >>> patch, idx = ds[7]  # pixel (1, 1)
    >>> bool((patch.numpy() == img[0:3, 0:3].transpose(2, 0, 1)).all()), idx
    (True, 7)
    """

    def __init__(self, image, patch_size, pixels=None, mode="reflect"):
        image = np.asarray(image, dtype=np.float32)
        if image.ndim != 3:
            raise ValueError(f"image must have shape (H, W, C), got {image.shape}.")
        patch_size = int(patch_size)
        if patch_size < 1 or patch_size % 2 == 0:
            raise ValueError(f"patch_size must be a positive odd integer, got {patch_size}.")
        H, W, _ = image.shape
        r = patch_size // 2
        self.image_shape = (H, W)
        self.patch_size = patch_size
        padded = np.pad(image, ((r, r), (r, r), (0, 0)), mode=mode) if r else image
        self.padded = torch.from_numpy(np.ascontiguousarray(padded.transpose(2, 0, 1)))
        # (C, H, W, p, p) strided view: no copy
        self.windows = self.padded.unfold(1, patch_size, 1).unfold(2, patch_size, 1)
        pixels = np.arange(H * W) if pixels is None else np.asarray(pixels, dtype=np.int64).ravel()
        self.pixels = torch.from_numpy(pixels.astype(np.int64))
        self.rows = torch.div(self.pixels, W, rounding_mode="floor")
        self.cols = self.pixels % W

    def __len__(self):
        return int(self.pixels.shape[0])

    def patches(self, index):
        """The ``(B, C, p, p)`` patches of items ``index`` (a new contiguous tensor)."""
        index = torch.as_tensor(index, dtype=torch.int64)
        return self.windows[:, self.rows[index], self.cols[index]].permute(1, 0, 2, 3).contiguous()

    def __getitem__(self, i):
        i = int(i)
        return self.windows[:, self.rows[i], self.cols[i]].clone(), i

    def __getitems__(self, indices):
        index = torch.as_tensor(indices, dtype=torch.int64)
        return self.patches(index), index
