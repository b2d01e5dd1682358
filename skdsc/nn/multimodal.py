"""Deep multimodal subspace clustering networks: pure torch, no scikit-learn inside.

Abavisani & Patel, "Deep multimodal subspace clustering networks" (IEEE JSTSP 2018).
Every modality has its own encoder and decoder: a convolutional stack for an image
modality (``(h, w, c)``) and a fully connected stack for a vector modality (``d``).
How the modalities meet is the *fusion*:

* ``"affinity"``: no feature fusion; each modality keeps its own latent code and the
  self-expressive layer ``C`` (one ``n x n`` matrix) is shared by all of them;
* ``"early"``, ``"intermediate"``, ``"late"``: spatial fusion of the encoder
  features at the input, after the first layers or at the latent layer, with a
  fusion function ``"sum"``, ``"max"`` (element-wise maximum) or ``"concat"``
  (along channels/features); the layers after the fusion point are shared, and one
  decoder per modality reconstructs that modality from the fused code.

Inputs and reconstructions are flat ``(n, sum_m F_m)`` tensors whose columns are
the modalities one after the other, an image modality flattened in ``(h, w, c)``
order (channels last), so that an estimator can take one samples-first array.
"""

import math

import torch
from torch import nn

__all__ = ["MultimodalAutoencoder", "SelfExpressiveLayer", "MultimodalDSCModule", "fuse"]

FUSIONS = ("affinity", "early", "intermediate", "late")
FUSION_FUNCTIONS = ("sum", "max", "concat")


def _is_image(shape):
    return isinstance(shape, tuple)


def _n_columns(shape):
    return math.prod(shape) if _is_image(shape) else int(shape)


def _conv_out(size, kernel, stride):
    pad = kernel // 2
    return (size + 2 * pad - kernel) // stride + 1


def fuse(tensors, function):
    """Fuse same-shaped feature tensors: element-wise ``"sum"``/``"max"``, or ``"concat"`` on dim 1.

    Examples
    --------
    >>> import torch
    >>> a, b = torch.ones(2, 3), 2 * torch.ones(2, 3)
    >>> fuse([a, b], "sum")[0].tolist(), fuse([a, b], "max")[0].tolist()
    ([3.0, 3.0, 3.0], [2.0, 2.0, 2.0])
    >>> tuple(fuse([a, b], "concat").shape)
    (2, 6)
    """
    if len(tensors) == 1:
        return tensors[0]
    if function == "sum":
        return torch.stack(tensors).sum(dim=0)
    if function == "max":
        return torch.stack(tensors).amax(dim=0)
    if function == "concat":
        return torch.cat(tensors, dim=1)
    raise ValueError(f"unknown fusion function {function!r}; use one of {FUSION_FUNCTIONS}")


class _Deconv(nn.ConvTranspose2d):
    """Transposed convolution that always restores a given spatial size."""

    def __init__(self, in_channels, out_channels, kernel, stride, out_size):
        super().__init__(in_channels, out_channels, kernel, stride, padding=kernel // 2)
        self.out_size = tuple(out_size)

    def forward(self, x):
        return super().forward(x, output_size=self.out_size)


class MultimodalAutoencoder(nn.Module):
    """Per-modality encoders and decoders with affinity or spatial fusion.

    Parameters
    ----------
    shapes : list of (int or tuple of 3 ints)
        One entry per modality: ``d`` for a vector modality, ``(h, w, c)`` for an
        image modality (channels last).
    fusion : {"affinity", "early", "intermediate", "late"}
        Where the modalities are fused (see the module docstring). Spatial fusion
        needs modalities of one kind (all images or all vectors) whose features
        agree at the fusion point: the same spatial size for images, and for
        ``"sum"``/``"max"`` also the same number of channels/features.
    fusion_function : {"sum", "max", "concat"}
        How features are fused (ignored by affinity fusion).
    conv_channels, conv_kernels, conv_strides : sequence of int
        The convolutional encoder of an image modality (ReLU after every layer,
        padding ``kernel // 2``); the decoder mirrors it with transposed
        convolutions (ReLU after every layer but the last, which is linear).
        Seed 004: ``(10, 20, 30)``, ``(5, 3, 3)``, ``(2, 1, 2)``.
    hidden_dims : sequence of int
        Hidden widths of the fully connected encoder of a vector modality (ReLU),
        followed by a linear layer to ``latent_dim``; the decoder mirrors it.
    latent_dim : int
        Latent width of a vector modality.

    Attributes
    ----------
    depths : list of int
        Encoder depth ``L_m`` of each modality (all equal under spatial fusion).
    fusion_point : int
        Number of modality-specific encoder layers before a spatial fusion (``0``
        early, ``L // 2`` intermediate, ``L`` late).
    n_codes : int
        Number of latent codes ``forward`` returns: one per modality for affinity
        fusion, one (the fused code) otherwise.

    Examples
    --------
    >>> import torch
    >>> ae = MultimodalAutoencoder([(8, 8, 1), 5], fusion="affinity", hidden_dims=(16,), latent_dim=4)
    >>> codes, recons = ae(torch.zeros(3, 64 + 5))
    >>> [tuple(z.shape) for z in codes], [tuple(r.shape) for r in recons]
    ([(3, 120), (3, 4)], [(3, 64), (3, 5)])
    """

    def __init__(
        self,
        shapes,
        fusion="affinity",
        fusion_function="concat",
        conv_channels=(10, 20, 30),
        conv_kernels=(5, 3, 3),
        conv_strides=(2, 1, 2),
        hidden_dims=(128,),
        latent_dim=32,
    ):
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion={fusion!r}; use one of {FUSIONS}")
        if fusion_function not in FUSION_FUNCTIONS:
            raise ValueError(f"fusion_function={fusion_function!r}; use one of {FUSION_FUNCTIONS}")
        if not (len(conv_channels) == len(conv_kernels) == len(conv_strides) >= 1):
            raise ValueError("conv_channels, conv_kernels and conv_strides must have the same length (>= 1).")
        self.shapes = [tuple(int(v) for v in s) if _is_image(s) else int(s) for s in shapes]
        self.fusion = fusion
        self.fusion_function = fusion_function
        self.columns = [_n_columns(s) for s in self.shapes]
        self.convs = list(zip(conv_channels, conv_kernels, conv_strides))
        kinds = {_is_image(s) for s in self.shapes}
        spatial = fusion != "affinity"
        if spatial and len(kinds) > 1:
            raise ValueError(
                f"{fusion} fusion needs modalities of one kind (all images or all vectors), got "
                f"{self.shapes}; use fusion='affinity' for mixed modalities."
            )
        # widths[m][i]: channels/features entering layer i of modality m (i = L: the code)
        self.widths, self.sizes = [], []
        for s in self.shapes:
            if _is_image(s):
                h, w, c = s
                widths, sizes = [c], [(h, w)]
                for ch, k, st in self.convs:
                    h, w = _conv_out(h, k, st), _conv_out(w, k, st)
                    if h < 1 or w < 1:
                        raise ValueError(f"image modality {s} is too small for the convolutional encoder")
                    widths.append(int(ch))
                    sizes.append((h, w))
            else:
                widths, sizes = [s, *map(int, hidden_dims), int(latent_dim)], None
            self.widths.append(widths)
            self.sizes.append(sizes)
        self.depths = [len(w) - 1 for w in self.widths]
        self.n_layers = n_layers = self.depths[0]  # the same for every modality under spatial fusion
        self.fusion_point = {"affinity": n_layers, "early": 0, "late": n_layers}.get(fusion, n_layers // 2)
        f = self.fusion_point
        if fusion == "intermediate" and not 0 < f < n_layers:
            raise ValueError(
                f"intermediate fusion needs an encoder of at least 2 layers, got {n_layers}; "
                "add hidden_dims or convolutional layers."
            )
        if spatial:
            self._check_fusable(f)
        fused_width = self._fused_width(f) if spatial else None
        self.branches = nn.ModuleList(
            self._encoder_layers(m, 0, self.depths[m] if fusion == "affinity" else f) for m in range(len(self.shapes))
        )
        self.trunk = self._encoder_layers(0, f, n_layers, first_in=fused_width) if spatial else nn.Sequential()
        if spatial:
            code_width = fused_width if f == n_layers else self.widths[0][n_layers]
            code_size = self.sizes[0][n_layers] if self.sizes[0] is not None else None
            self.code_shapes = [(code_width, *code_size) if code_size else (code_width,)]
        else:
            self.code_shapes = [
                (w[-1], *self.sizes[m][-1]) if self.sizes[m] else (w[-1],) for m, w in enumerate(self.widths)
            ]
        self.n_codes = len(self.code_shapes)
        self.code_dims = [math.prod(cs) for cs in self.code_shapes]
        self.decoders = nn.ModuleList(
            self._decoder(m, self.code_shapes[0 if spatial else m][0]) for m in range(len(self.shapes))
        )

    # --------------------------------------------------------------- building
    def _check_fusable(self, f):
        if self.sizes[0] is not None:
            sizes = {self.sizes[m][f] for m in range(len(self.shapes))}
            if len(sizes) > 1:
                raise ValueError(
                    f"{self.fusion} fusion needs the image modalities to have the same spatial size at the "
                    f"fusion point, got {sorted(sizes)} from {self.shapes}; use fusion='affinity'."
                )
        if self.fusion_function in ("sum", "max"):
            widths = {self.widths[m][f] for m in range(len(self.shapes))}
            if len(widths) > 1:
                raise ValueError(
                    f"{self.fusion} fusion with fusion_function={self.fusion_function!r} needs the same number "
                    f"of channels/features in every modality at the fusion point, got {sorted(widths)}; "
                    "use fusion_function='concat' or fusion='affinity'."
                )

    def _fused_width(self, f):
        widths = [self.widths[m][f] for m in range(len(self.shapes))]
        return sum(widths) if self.fusion_function == "concat" else widths[0]

    def _encoder_layers(self, m, start, stop, first_in=None):
        layers = []
        for i in range(start, stop):
            w_in = first_in if (i == start and first_in is not None) else self.widths[m][i]
            w_out = self.widths[m][i + 1]
            if self.sizes[m] is not None:
                _, k, s = self.convs[i]
                layers += [nn.Conv2d(w_in, w_out, k, s, padding=k // 2), nn.ReLU()]
            else:
                layers.append(nn.Linear(w_in, w_out))
                if i < self.depths[m] - 1:  # linear latent layer
                    layers.append(nn.ReLU())
        return nn.Sequential(*layers)

    def _decoder(self, m, code_width):
        layers = []
        for i in reversed(range(self.depths[m])):
            w_in = code_width if i == self.depths[m] - 1 else self.widths[m][i + 1]
            w_out = self.widths[m][i]
            if self.sizes[m] is not None:
                _, k, s = self.convs[i]
                layers.append(_Deconv(w_in, w_out, k, s, self.sizes[m][i]))
            else:
                layers.append(nn.Linear(w_in, w_out))
            if i > 0:
                layers.append(nn.ReLU())
        return nn.Sequential(*layers)

    # ---------------------------------------------------------------- passes
    def split(self, x):
        """Split a flat ``(n, sum F_m)`` batch into per-modality flat ``(n, F_m)`` views."""
        return list(torch.split(x, self.columns, dim=1))

    def _to_layout(self, part, m):
        if self.sizes[m] is None:
            return part
        h, w, c = self.shapes[m]
        return part.reshape(-1, h, w, c).permute(0, 3, 1, 2)

    def _from_layout(self, out, m):
        if self.sizes[m] is None:
            return out
        return out.permute(0, 2, 3, 1).reshape(out.shape[0], -1)

    def encode(self, x):
        """Latent codes, each flattened to ``(n, code_dim)``: one per modality or one fused."""
        feats = [branch(self._to_layout(p, m)) for m, (branch, p) in enumerate(zip(self.branches, self.split(x)))]
        if self.fusion == "affinity":
            return [z.reshape(z.shape[0], -1) for z in feats]
        z = self.trunk(fuse(feats, self.fusion_function))
        return [z.reshape(z.shape[0], -1)]

    def decode(self, codes):
        """Flat per-modality reconstructions ``(n, F_m)`` from flat codes."""
        out = []
        for m, dec in enumerate(self.decoders):
            k = m if self.fusion == "affinity" else 0
            z = codes[k].reshape(-1, *self.code_shapes[k])
            out.append(self._from_layout(dec(z), m))
        return out

    def forward(self, x):
        codes = self.encode(x)
        return codes, self.decode(codes)

    def per_sample_activations(self):
        """Number of activation values one sample creates in ``forward`` (for memory estimates)."""
        count = 0

        def hook(module, inputs, output):
            nonlocal count
            count += output.numel()

        handles = [mod.register_forward_hook(hook) for mod in self.modules() if not list(mod.children())]
        try:
            p = next(self.parameters())
            with torch.no_grad():
                self.forward(torch.zeros(1, sum(self.columns), dtype=p.dtype, device=p.device))
        finally:
            for h in handles:
                h.remove()
        return count


class SelfExpressiveLayer(nn.Module):
    """The ``n x n`` self-expressive layer ``Z -> C Z`` with ``diag(C) = 0``.

    ``C`` is a free parameter initialised to ``init`` (1e-4 in DSC-Net and seed
    004) off the diagonal; the diagonal is masked out in every pass, so a sample is
    never expressed by itself. Memory is quadratic in ``n``: the parameter, its
    gradient and Adam's two moments take ``16 n^2`` bytes in float32 (70 000 samples
    need about 80 GB), which is why estimators refuse sizes that do not fit.

    Parameters
    ----------
    n_samples : int
    init : float, default=1e-4

    Examples
    --------
    >>> import torch
    >>> layer = SelfExpressiveLayer(3, init=0.5)
    >>> layer.coefficients().tolist()
    [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]]
    >>> layer(torch.eye(3)).tolist()[0]
    [0.0, 0.5, 0.5]
    """

    def __init__(self, n_samples, init=1e-4):
        super().__init__()
        self.n_samples = int(n_samples)
        weight = torch.full((self.n_samples, self.n_samples), float(init))
        weight.fill_diagonal_(0.0)
        self.weight = nn.Parameter(weight)

    def coefficients(self):
        """``C`` with its diagonal forced to zero."""
        w = self.weight
        return w - torch.diag_embed(torch.diagonal(w))

    def forward(self, z, coef=None):
        """``C z``; pass ``coef`` (from :meth:`coefficients`) to reuse it across several codes."""
        if z.shape[0] != self.n_samples:
            raise ValueError(
                f"the self-expressive layer was built for {self.n_samples} samples and needs them all in one "
                f"batch, got {z.shape[0]}"
            )
        return (self.coefficients() if coef is None else coef) @ z


class MultimodalDSCModule(nn.Module):
    """Autoencoder + shared self-expressive layer; decodes from the self-expressed codes.

    ``forward(x)`` (``x`` the whole training set, in a fixed order) returns
    ``(codes, se_codes, recons, coef)``: the latent codes ``Z_m``, the self-expressed
    codes ``C Z_m`` (one ``C`` for every code), the reconstructions decoded from
    ``C Z_m`` and ``C`` itself (zero diagonal).

    Parameters
    ----------
    autoencoder : MultimodalAutoencoder
    n_samples : int
    init : float, default=1e-4
    """

    def __init__(self, autoencoder, n_samples, init=1e-4):
        super().__init__()
        self.autoencoder = autoencoder
        self.self_expressive = SelfExpressiveLayer(n_samples, init)

    def forward(self, x):
        codes = self.autoencoder.encode(x)
        coef = self.self_expressive.coefficients()
        se_codes = [self.self_expressive(z, coef) for z in codes]
        return codes, se_codes, self.autoencoder.decode(se_codes), coef
