"""A-DATSC: attention-guided deep adversarial temporal subspace clustering.

Seed 000 ("Attention-guided deep adversarial temporal subspace clustering for
multivariate spatiotemporal data"). The torch modules are in
:mod:`skdsc.nn.adatsc` (generator, sampling layer), :mod:`skdsc.nn.convlstm`,
:mod:`skdsc.nn.attention`, :mod:`skdsc.nn.self_expressive` and
:mod:`skdsc.nn.discriminator`; the losses in :mod:`skdsc.losses`; the two-optimiser
training stage and the schedules in :mod:`skdsc._training_adatsc`.
"""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.cluster import KMeans, SpectralClustering
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._registry import register_method
from .._training_adatsc import (
    ADATSCNet,
    ADATSCPretrainNet,
    BalanceRamp,
    SelfExpressionWarmup,
    SlidingWindowDataset,
    TemperatureAnnealing,
    refresh_batchnorm,
    window_outputs,
)
from ..base import BaseDeepClusterer
from ..losses import dec_target_distribution, kl_divergence
from ..nn.adatsc import BOTTLENECKS, ENCODERS, ADATSCGenerator
from ..nn.discriminator import SubspaceDiscriminator
from ..utils import unwrap_samples

__all__ = ["ADATSCClustering", "DEMO_PARAMS"]

#: A light configuration for ``skdsc demo`` on 2 CPU cores (small filter widths and
#: few epochs instead of the seed's 64/128/256/512 widths). Measured
#: figures (the A-DATSC row, seed 0) are in ``benchmarks/results/adatsc_regimes.md``.
DEMO_PARAMS = dict(
    filters=(8, 16, 16, 32),
    latent_dim=16,
    subspace_dim=2,
    n_heads=4,
    sequence_length=4,
    stride=2,
    pretrain_epochs=30,
    max_epochs=10,
    batch_size=8,
    lr=3e-3,
    device="cpu",
)


def _orthonormal_bases(z, labels, n_clusters, subspace_dim, rng):
    """Per cluster the top right singular vectors of its embeddings, completed at random."""
    d = z.shape[1]
    bases = np.empty((n_clusters, d, subspace_dim), dtype=np.float32)
    for k in range(n_clusters):
        rows = z[labels == k]
        vt = np.linalg.svd(rows, full_matrices=False)[2] if rows.shape[0] else np.zeros((0, d))
        cols = vt[:subspace_dim].T
        if cols.shape[1] < subspace_dim:  # too few points: complete with random directions
            extra = rng.standard_normal((d, subspace_dim - cols.shape[1]))
            cols = np.linalg.qr(np.hstack([cols, extra]))[0][:, :subspace_dim]
        bases[k] = cols
    return bases


class ADATSCClustering(BaseDeepClusterer):
    """Attention-guided deep adversarial temporal subspace clustering (A-DATSC).

    Clusters the *time steps* of a multivariate spatiotemporal field
    ``(time, lat, lon, variable)`` into regimes. Sequences of ``sequence_length``
    consecutive frames (sliding windows, cut on the fly) pass through the
    generator: a ConvLSTM2D stem and residual temporal blocks with
    ``MaxPool3D(1, 2, 2)`` (widths ``filters``), patchification of the top level
    into graph nodes, the bidirectional temporal graph attention bottleneck
    (multi-head, frames ``t ± 1``), per-timestep embeddings ``z_t`` and a pooled
    sequence summary, a DEC Student-t head with an annealed temperature τ, a
    self-expressive temporal layer (soft-threshold shrinkage, optional temporal
    and assignment weighting) and a decoder with skip connections. A sampling
    layer draws real latents (top responsibilities per cluster) and fakes (convex
    combinations), which an energy-based subspace discriminator (one basis per
    cluster, projection-residual energy, hinge with margin, orthogonality and
    cross-subspace terms) scores.

    Training (seed section 5.4): reconstruction pretraining; KMeans on the
    embeddings initialises the centres and per-cluster SVD the discriminator's
    bases; then per batch one generator step on
    ``L_rec + KL(P || Q̃) + λ_bal r(e) (KL(q̄ || u) + L_MI) + λ_SE L_SE + λ_adv L_adv``
    and one discriminator step on ``L_D`` (two Adam optimisers), with τ annealed
    linearly from ``tau_start`` to ``tau_end``, the balance weight ramped over
    ``balance_ramp_epochs`` and self-expression enabled after
    ``se_warmup_epochs``. Labels are ``argmax_k q̃_{t,k}``; with
    ``refine="spectral"``, ``labels_`` come instead from spectral clustering of
    ``|C| + |Cᵀ|``, the self-expressive coefficients of the whole series.

    Parameters
    ----------
    n_clusters : int, default=7
        Number of regimes (the seed uses 7 on ERA5).
    sequence_length : int, default=8
        Frames per window (shortened to the number of time steps when fewer).
        Not given by the seed.
    stride : int, default=1
        Step between the starts of the training windows; a last window ending at
        the final step is always added, so every step is covered. At inference
        the windows start at every step (stride 1), and each step's embedding and
        soft assignment is the mean over all the windows that cover it (so each
        step is seen at every position of the window).
    filters : tuple of int, default=(64, 128, 256, 512)
        Encoder widths (the seed's). They make a CPU fit slow (see Notes);
        tests, benchmarks and the demo use much smaller widths.
    kernel_size : int, default=3
        ConvLSTM kernel size.
    patch_size : int, default=2
        Patch side at the top level (each patch one graph node).
    latent_dim : int, default=32
        Size ``D`` of ``z_t``.
    n_heads : int, default=4
        Bi-TGAT heads; must divide ``filters[-1]``.
    alpha : float, default=1.0
        Student-t degrees of freedom.
    tau_start, tau_end : float, default=2.0, 0.5
        Temperature annealed linearly over the clustering epochs (``q̃ ∝ q^{1/τ}``).
    lambda_bal : float, default=0.1
        Weight of the balance terms (marginal KL to uniform + redundancy penalty).
    balance_ramp_epochs : int or None, default=None
        Epochs over which the balance weight ramps up linearly (None: half of
        ``max_epochs``).
    lambda_se : float, default=0.1
        Weight of the self-expression loss.
    se_l1 : float, default=0.1
        ``λ_SE`` inside the self-expression loss (weight of ``||C||_1``).
    se_shrink : float, default=0.05
        Soft threshold of the coefficients.
    se_sigma_t : float or None, default=None
        Temporal-proximity weighting ``exp(-|t-s|/σ_t)`` of ``C``; None: off.
    se_assignment_weighting : bool, default=False
        Weight ``C`` by the assignment similarity ``q̃_tᵀ q̃_s``.
    se_warmup_epochs : int, default=2
        Clustering epochs before self-expression is enabled.
    lambda_adv : float, default=0.1
        Weight of the generator's adversarial term.
    subspace_dim : int, default=4
        Dimension ``r`` of each cluster subspace of the discriminator.
    margin : float, default=1.0
        Hinge margin of the discriminator.
    beta_orth, beta_cross : float, default=1.0, 0.1
        Orthogonality and cross-subspace weights of the discriminator.
    n_real : int, default=16
        Real latents sampled per cluster and batch (top responsibilities).
    lr_discriminator : float or None, default=None
        Learning rate of the discriminator's optimiser (None: ``lr``).
    encoder : {"convlstm", "cnn-lstm"}, default="convlstm"
        ``"cnn-lstm"``: ablation A-DATSC_cnn-lstm (per-frame CNN blocks and an
        LSTM over time).
    bottleneck : {"bitgat", "se-only", "dense-gat"}, default="bitgat"
        ``"se-only"``: ablation A-DATSC_sel (self-expressive network only);
        ``"dense-gat"``: ablation A-DATSC_gat (Bi-TGAT at the dense layer).
    adversarial : bool, default=True
        False switches the discriminator (and ``L_adv``) off.
    skip_connections : bool, default=False
        Decoder skip connections from the encoder stages (the seed's decoder has
        them). Off by default: they carry each stage's window mean, and since
        regimes persist over many steps that mean already holds the regime
        pattern, so the decoder reconstructs it without ``z_t`` and the
        embedding keeps only the fast weather noise (see Notes).
    recurrent_decoder : bool, default=False
        ConvLSTM up-paths in the decoder, as the seed's (True), or per-frame
        convolutions (False, default): a recurrent decoder carries what persists
        over the window from earlier steps, so ``z_t`` after the first step
        need not hold it (see Notes). Ignored by the ``"cnn-lstm"`` encoder,
        whose decoder is per-frame anyway.
    norm : {"position", "layer", "batch"}, default="position"
        Normalisation inside the encoder and decoder blocks and of ``z_t``:
        BatchNorm with separate statistics per window position (default; ``z_t``
        is centred per position and rescaled isotropically), the
        seed's per-frame LayerNorm, or BatchNorm with statistics shared by all
        positions. See Notes.
    refine : {"spectral"} or None, default=None
        Spectral refinement of ``labels_`` from the self-expressive affinity
        (``n x n`` over the training series). The seed's option, measured and not
        recommended: the self-expressive layer is trained inside windows of
        consecutive steps, which mostly share one regime, so its coefficients
        need not tell regimes apart. On ``make_spatiotemporal_regimes`` the
        affinity of the whole series puts no more of its mass within the true
        regimes than an even one would (0.28 against 0.28) and the refined
        labels score ARI 0.04 against 0.69 for the argmax
        (``benchmarks/results/adatsc_regimes.md``).
    scaling : {"minmax"} or None, default="minmax"
        Per-column (grid cell x variable) min-max scaling fitted on the training
        data, as the seed preprocesses.
    grid_shape : tuple (lat, lon, variable) or None, default=None
        Grid of a 2D input whose columns are a flattened (C-order) field; None
        treats a 2D input as a 1 x 1 grid with one variable per column.
    n_init : int, default=20
        KMeans restarts for the centre initialisation.
    max_epochs : int, default=50
        Epochs of the adversarial clustering stage (not given by the seed).
    pretrain_epochs : int, default=20
        Epochs of reconstruction pretraining (not given by the seed).
    batch_size : int, default=16
        Windows per batch.
    lr : float, default=1e-3
        Adam learning rate of the generator.
    device : str, default="auto"
    sample_dim : str, default=None
        Time dimension of a ``DataArray`` input (default: its first).
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Regime of each time step.
    cluster_centers_ : ndarray of shape (n_clusters, latent_dim)
    subspace_bases_ : ndarray of shape (n_clusters, latent_dim, subspace_dim)
        The discriminator's bases.
    affinity_ : ndarray of shape (n_samples, n_samples)
        ``|C| + |Cᵀ|`` of the training series (only with ``refine="spectral"``).
    grid_shape_ : tuple (lat, lon, variable)
    sequence_length_ : int
        Window length used (``min(sequence_length, n_samples)``).
    fill_value_ : float
        Global mean used to fill NaN cells.
    data_min_, data_range_ : ndarray of shape ``grid_shape_``
        The min-max scaling.
    input_mean_ : ndarray of shape ``grid_shape_``
        Training mean of the scaled field, subtracted from the network input.
    temperature_ : float
        Final temperature (used by ``predict``).
    net_ : skorch.NeuralNet
        The adversarial stage's net (``module_`` generator, ``module2_`` discriminator).
    history_ : dict
        skorch histories of the ``"pretrain"`` and ``"cluster"`` stages.
    n_iter_ : int
        Optimiser steps of the clustering stage.
    n_features_in_ : int
        ``lat * lon * variable``.
    feature_names_in_ : ndarray of str
        Only for a 2D input with string column names.

    Notes
    -----
    **Input.** ``X`` is ``(time, lat, lon, variable)``, ``(time, lat, lon)`` (one
    variable), or 2D ``(time, features)`` (a 1 x 1 grid, or a flattened field with
    ``grid_shape``), a numpy array or a ``DataArray``. The time steps are the
    samples; their order matters (windows of consecutive steps), so
    ``predict`` expects a contiguous period on the same grid.

    **NaN cells** (land in an ocean variable, ...) are handled as the seed does:
    replaced by the overall mean of the training data (``fill_value_``) before the
    per-column min-max scaling; a cell that is NaN at every step thus becomes a
    constant column, scaled to 0. Infinite values are rejected.

    **Centering.** After scaling, the network input is the field minus its
    training mean per cell and variable (``input_mean_``); a min-max-scaled
    field keeps a large common offset (about 0.5 everywhere) that otherwise
    dominates the encoder's features and leaves ``z_t`` nearly constant.

    **Padding.** Height and width are zero-padded (after scaling and centering) to multiples of
    ``2 ** (len(filters) - 1)``; the reconstruction loss ignores the padding.

    **Cost.** With the seed's widths a window of 8 daily 48 x 48 x 7 frames costs
    tens of GFLOP forward; see ``benchmarks/results/adatsc_cost.md`` for measured
    CPU time per epoch and peak memory. Defaults not given by the seed
    (epochs, λ weights, τ schedule, window length, subspace dimension, margin)
    are documented choices, not tuned on a benchmark.

    **Readings of the seed** (where it leaves a choice open): the DEC target
    ``P`` is computed from each batch's ``Q̃``; the Bi-TGAT output keeps a
    residual connection before its LayerNorm; the graph nodes are pooled by
    concatenation and a linear projection (a mean would lose where each pattern
    sits); the decoder's skips carry the window mean of each encoder stage
    (``temporal_skips``), so that what varies from step to step passes through
    ``z_t``; the self-expressive coefficients come from a query/key map of the
    embeddings (SENet) and so apply to windows of any length and to the whole
    series; the redundancy term penalises positive correlations between
    assignment columns.

    **Departures from the seed, with the evidence** (``make_spatiotemporal_regimes``
    defaults, seed 0, ``DEMO_PARAMS``-sized model, 30 pretraining epochs; the
    figures are KMeans ARI on ``z_t`` against the planted regimes):

    * *Normalisation per window position* (``norm="position"``). Every window
      starts the ConvLSTM states at zero and the cell state builds up over the
      first steps, so a recurrent layer's output carries an offset that depends
      on the step's position in the window. With the seed's LayerNorm ``z_t``
      was nearly constant across steps; with BatchNorm shared over positions
      99.9 % of the variance of ``z_t`` was the window position (ARI 0.04).
      Statistics per position (after the stem, in every block, in the decoder
      and for ``z_t``) bring that share to 0.05 %. The model then only takes
      windows of exactly ``sequence_length_`` steps (a shorter period in
      ``predict`` is refused with a clear error). Statistics are recomputed on
      all windows after each training stage.
    * *No decoder skips by default* (``skip_connections=False``): with them
      the same run gave ARI 0.17, without them 0.50.
    * *Per-frame decoder by default* (``recurrent_decoder=False``). With the
      seed's ConvLSTM decoder, the decoder's state carries what persists over a
      window from its first step, so only the first step's ``z_t`` had to hold
      the regime: KMeans on ``z_t`` after pretraining (seed 1) gave ARI 0.62 at
      window position 0 but 0.42, 0.37 and 0.36 at positions 1-3. With a
      per-frame decoder the positions agree (0.50-0.56) and the full fit
      (30 + 10 epochs) reached 0.72 / 0.57 / 0.78 on seeds 0-2 against
      0.70 / 0.47 / 0.45, in about half the time.
    * *The embedding is centred, not standardised* (with ``norm="position"``):
      ``z_t`` is centred per window position and all its features share one
      scale per position (:class:`~skdsc.nn.PositionCentering`). A BatchNorm
      without affine parameters gave every feature unit variance, so the few
      directions that separate regimes weighed no more than the many that
      carry weather noise: KMeans on ``z_t`` after pretraining gave ARI 0.35,
      0.68 with the isotropic scale.

    ``L_rec`` in the clustering stage is the seed's ``||X̂ - X||²`` per time step:
    squared errors summed over the grid cells and variables of a frame (of the
    min-max-scaled field by default), averaged over the steps of the batch. It
    therefore outweighs the per-step KL terms more on larger grids, as in the
    seed. (A scale-free variant, the MSE over the mean squared input, let the
    KL terms dominate and wrecked the pretrained embedding: ARI 0.27 after 10
    clustering epochs against 0.71 with the seed's sum, same run otherwise.)

    ``score(X)`` is minus (mean reconstruction error + ``KL(P || Q̃)``) on ``X``;
    higher is better.

    Examples
    --------
    >>> import numpy as np
    >>> from skdsc.cluster import ADATSCClustering
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(m, 0.1, (20, 8, 8, 2)) for m in (0.0, 1.0)])
    >>> model = ADATSCClustering(n_clusters=2, filters=(4, 8), latent_dim=4, n_heads=2,
    ...                          subspace_dim=1, sequence_length=4, pretrain_epochs=2,
    ...                          max_epochs=2, n_init=2, random_state=0)
    >>> model.fit_predict(X).shape
    (40,)
    >>> model.predict_proba(X).shape, model.transform(X).shape
    ((40, 2), (40, 4))
    """

    _parameter_constraints: dict = {
        **BaseDeepClusterer._parameter_constraints,
        "sequence_length": [Interval(Integral, 1, None, closed="left")],
        "stride": [Interval(Integral, 1, None, closed="left")],
        "filters": ["array-like"],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "patch_size": [Interval(Integral, 1, None, closed="left")],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "tau_start": [Interval(Real, 0, None, closed="neither")],
        "tau_end": [Interval(Real, 0, None, closed="neither")],
        "lambda_bal": [Interval(Real, 0, None, closed="left")],
        "balance_ramp_epochs": [Interval(Integral, 0, None, closed="left"), None],
        "lambda_se": [Interval(Real, 0, None, closed="left")],
        "se_l1": [Interval(Real, 0, None, closed="left")],
        "se_shrink": [Interval(Real, 0, None, closed="left")],
        "se_sigma_t": [Interval(Real, 0, None, closed="neither"), None],
        "se_assignment_weighting": ["boolean"],
        "se_warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "lambda_adv": [Interval(Real, 0, None, closed="left")],
        "subspace_dim": [Interval(Integral, 1, None, closed="left")],
        "margin": [Interval(Real, 0, None, closed="left")],
        "beta_orth": [Interval(Real, 0, None, closed="left")],
        "beta_cross": [Interval(Real, 0, None, closed="left")],
        "n_real": [Interval(Integral, 1, None, closed="left")],
        "lr_discriminator": [Interval(Real, 0, None, closed="neither"), None],
        "encoder": [StrOptions(set(ENCODERS))],
        "bottleneck": [StrOptions(set(BOTTLENECKS))],
        "adversarial": ["boolean"],
        "skip_connections": ["boolean"],
        "recurrent_decoder": ["boolean"],
        "norm": [StrOptions({"layer", "batch", "position"})],
        "refine": [StrOptions({"spectral"}), None],
        "scaling": [StrOptions({"minmax"}), None],
        "grid_shape": ["array-like", None],
        "n_init": [Interval(Integral, 1, None, closed="left")],
    }

    _allow_nd = True

    def __init__(
        self,
        n_clusters=7,
        *,
        sequence_length=8,
        stride=1,
        filters=(64, 128, 256, 512),
        kernel_size=3,
        patch_size=2,
        latent_dim=32,
        n_heads=4,
        alpha=1.0,
        tau_start=2.0,
        tau_end=0.5,
        lambda_bal=0.1,
        balance_ramp_epochs=None,
        lambda_se=0.1,
        se_l1=0.1,
        se_shrink=0.05,
        se_sigma_t=None,
        se_assignment_weighting=False,
        se_warmup_epochs=2,
        lambda_adv=0.1,
        subspace_dim=4,
        margin=1.0,
        beta_orth=1.0,
        beta_cross=0.1,
        n_real=16,
        lr_discriminator=None,
        encoder="convlstm",
        bottleneck="bitgat",
        adversarial=True,
        skip_connections=False,
        recurrent_decoder=False,
        norm="position",
        refine=None,
        scaling="minmax",
        grid_shape=None,
        n_init=20,
        max_epochs=50,
        pretrain_epochs=20,
        batch_size=16,
        lr=1e-3,
        device="auto",
        sample_dim=None,
        random_state=None,
        verbose=0,
    ):
        self.n_clusters = n_clusters
        self.sequence_length = sequence_length
        self.stride = stride
        self.filters = filters
        self.kernel_size = kernel_size
        self.patch_size = patch_size
        self.latent_dim = latent_dim
        self.n_heads = n_heads
        self.alpha = alpha
        self.tau_start = tau_start
        self.tau_end = tau_end
        self.lambda_bal = lambda_bal
        self.balance_ramp_epochs = balance_ramp_epochs
        self.lambda_se = lambda_se
        self.se_l1 = se_l1
        self.se_shrink = se_shrink
        self.se_sigma_t = se_sigma_t
        self.se_assignment_weighting = se_assignment_weighting
        self.se_warmup_epochs = se_warmup_epochs
        self.lambda_adv = lambda_adv
        self.subspace_dim = subspace_dim
        self.margin = margin
        self.beta_orth = beta_orth
        self.beta_cross = beta_cross
        self.n_real = n_real
        self.lr_discriminator = lr_discriminator
        self.encoder = encoder
        self.bottleneck = bottleneck
        self.adversarial = adversarial
        self.skip_connections = skip_connections
        self.recurrent_decoder = recurrent_decoder
        self.norm = norm
        self.refine = refine
        self.scaling = scaling
        self.grid_shape = grid_shape
        self.n_init = n_init
        self.max_epochs = max_epochs
        self.pretrain_epochs = pretrain_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.sample_dim = sample_dim
        self.random_state = random_state
        self.verbose = verbose

    # ----------------------------------------------------------------- input
    def _validate_input(self, X, reset):
        """Validate ``X``; return a float32 ``(time, lat, lon, variable)`` array (NaN kept)."""
        if reset is False:
            check_is_fitted(self)
        X, info = unwrap_samples(X, self.sample_dim, flatten=False)
        ndim = getattr(X, "ndim", None)
        grid = None
        if ndim is not None and ndim > 4:
            raise ValueError(
                f"ADATSCClustering expects (time, lat, lon, variable), (time, lat, lon) or 2D "
                f"(time, features) input; got a {ndim}-D array of shape {X.shape}."
            )
        if ndim in (3, 4):
            X = np.asarray(X)
            grid = tuple(X.shape[1:]) + ((1,) if ndim == 3 else ())
            X = X.reshape(X.shape[0], int(np.prod(grid)))
        X = validate_data(
            self, X, reset=reset, dtype=[np.float32, np.float64], ensure_all_finite="allow-nan",
            ensure_min_samples=2 if reset else 1,
        )
        if np.isinf(X).any():
            raise ValueError("Input X contains infinity; only NaN cells (filled with the mean) are accepted.")
        if reset:
            if np.isnan(X).all():
                raise ValueError("Input X contains only NaN values.")
            if grid is None:
                if self.grid_shape is not None:
                    grid = tuple(int(s) for s in self.grid_shape)
                    if len(grid) != 3 or int(np.prod(grid)) != X.shape[1]:
                        raise ValueError(
                            f"grid_shape={tuple(self.grid_shape)} must be (lat, lon, variable) with "
                            f"lat*lon*variable = n_features = {X.shape[1]}."
                        )
                else:
                    grid = (1, 1, X.shape[1])
            self.grid_shape_ = grid
            if self.n_clusters > X.shape[0]:
                raise ValueError(
                    f"n_clusters={self.n_clusters} must be <= n_samples={X.shape[0]}: "
                    "there cannot be more clusters than time steps."
                )
        elif grid is not None and grid != self.grid_shape_:
            raise ValueError(
                f"X has grid (lat, lon, variable) = {grid}, but ADATSCClustering was fitted on "
                f"{self.grid_shape_}."
            )
        X = np.require(X, dtype=np.float32).reshape((X.shape[0],) + self.grid_shape_)
        return X, info

    def _pad_factor(self):
        return 2 ** (len(self.filters) - 1)

    def _frames(self, X):
        """Fill NaN, scale, pad and return ``(n, C, H_pad, W_pad)`` float32 frames."""
        X = np.where(np.isnan(X), np.float32(self.fill_value_), X)
        if self.scaling == "minmax":
            X = (X - self.data_min_) / self.data_range_
        X = X - self.input_mean_
        factor = self._pad_factor()
        n, h, w, c = X.shape
        hp, wp = -(-h // factor) * factor, -(-w // factor) * factor
        frames = np.zeros((n, c, hp, wp), dtype=np.float32)
        frames[:, :, :h, :w] = np.moveaxis(X, -1, 1)
        return torch.from_numpy(frames)

    def _fit_preprocessing(self, X):
        self.fill_value_ = float(np.nanmean(X, dtype=np.float64))
        X = np.where(np.isnan(X), np.float32(self.fill_value_), X)
        if self.scaling == "minmax":
            lo, hi = X.min(axis=0), X.max(axis=0)
            rng = hi - lo
            self.data_min_ = lo.astype(np.float32)
            self.data_range_ = np.where(rng > 0, rng, 1.0).astype(np.float32)
        else:
            self.data_min_ = self.data_range_ = None
        # the network sees the scaled field minus its training mean: without the
        # common offset, the step-to-step differences dominate the first features
        scaled = (X - self.data_min_) / self.data_range_ if self.scaling == "minmax" else X
        self.input_mean_ = scaled.mean(axis=0).astype(np.float32)

    def _check_architecture(self):
        filters = tuple(int(f) for f in self.filters)
        if len(filters) < 1 or min(filters) < 1:
            raise ValueError(f"filters must be a non-empty sequence of positive widths, got {self.filters!r}")
        if filters[-1] % self.n_heads:
            raise ValueError(f"n_heads={self.n_heads} must divide the top width filters[-1]={filters[-1]}")
        if self.kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd, got {self.kernel_size}")
        if self.tau_end > self.tau_start:
            raise ValueError(f"tau_end={self.tau_end} must not exceed tau_start={self.tau_start} (τ is annealed down)")
        return filters

    def _inference_length(self, n_steps):
        """Window length for ``n_steps`` new steps (the fitted length, or all of a shorter period)."""
        if n_steps < self.sequence_length_ and self.norm == "position":
            raise ValueError(
                f"X has {n_steps} time steps, but with norm='position' the model only takes windows of "
                f"sequence_length_={self.sequence_length_} steps: pass a period at least that long."
            )
        return min(self.sequence_length_, n_steps)

    def _window_outputs(self, frames, length):
        h, w = self.grid_shape_[:2]
        # stride 1 at inference: every step is seen at every position of the window,
        # so that the position (the recurrent state's warm-up) averages out
        return window_outputs(self.net_.module_, frames, length, 1, self.batch_size,
                              self._device(), crop=(h, w))

    # ------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Pretrain the generator, initialise centres and subspaces, train adversarially.

        Parameters
        ----------
        X : array-like of shape (time, lat, lon, variable), (time, lat, lon) or (time, features), or DataArray
        y : ignored

        Returns
        -------
        self
        """
        filters = self._check_architecture()
        X, _ = self._validate_input(X, reset=True)
        self._fit_preprocessing(X)
        frames = self._frames(X)
        n = frames.shape[0]
        length = min(self.sequence_length, n)
        self.sequence_length_ = length
        dataset = SlidingWindowDataset(frames, length, self.stride)
        crop = self.grid_shape_[:2]
        device = self._device()
        with self._seeded() as rng:
            gen = ADATSCGenerator(
                self.grid_shape_[2], tuple(frames.shape[2:]), self.n_clusters, filters, self.kernel_size,
                self.patch_size, self.latent_dim, self.n_heads, self.alpha, self.encoder, self.bottleneck,
                self.skip_connections, self.se_shrink, True, self.se_sigma_t, self.se_assignment_weighting,
                self.norm, length, self.recurrent_decoder and self.encoder == "convlstm",
            )
            gen.use_se = False  # self-expression only after the warm-up
            gen.temperature = float(self.tau_start)
            pre = ADATSCPretrainNet(module=gen, criterion=torch.nn.MSELoss, crop=crop,
                                    **self._net_kwargs("pretrain", self.pretrain_epochs))
            self._run_stage(pre, dataset)

            refresh_batchnorm(pre.module_, frames, length, self.batch_size, device)
            z, _, _ = window_outputs(pre.module_, frames, length, 1, self.batch_size, device, crop)
            km = KMeans(self.n_clusters, n_init=self.n_init, random_state=rng).fit(z)
            gen.head.reset_centers(km.cluster_centers_)
            disc = SubspaceDiscriminator(self.n_clusters, self.latent_dim, self.subspace_dim)
            disc.reset_bases(_orthonormal_bases(z, km.labels_, self.n_clusters, self.subspace_dim, rng))

            # the seed's L_rec = ||X_hat - X||^2 per time step: the MSE times the cells of a frame
            h0, w0 = crop
            rec_scale = 1.0 / (frames.shape[1] * h0 * w0)
            ramp = self.max_epochs // 2 if self.balance_ramp_epochs is None else self.balance_ramp_epochs
            callbacks = [
                ("temperature", TemperatureAnnealing(self.tau_start, self.tau_end, self.max_epochs)),
                ("balance_ramp", BalanceRamp(self.lambda_bal, ramp)),
                ("se_warmup", SelfExpressionWarmup(self.lambda_se, self.se_warmup_epochs)),
            ]
            net = ADATSCNet(
                module=pre.module_, module2=disc, criterion=torch.nn.MSELoss,
                lr2=self.lr_discriminator, lambda_bal=self.lambda_bal, lambda_se=self.lambda_se,
                se_l1=self.se_l1, lambda_adv=self.lambda_adv, margin=self.margin,
                beta_orth=self.beta_orth, beta_cross=self.beta_cross, n_real=self.n_real,
                adversarial=self.adversarial, crop=crop, rec_scale=rec_scale,
                **self._net_kwargs("cluster", self.max_epochs, callbacks=callbacks),
            )
            self._run_stage(net, dataset)
            gen = net.module_
            refresh_batchnorm(gen, frames, length, self.batch_size, device)
            if self.max_epochs == 0:
                gen.temperature = float(self.tau_end)
                gen.use_se = self.se_warmup_epochs == 0
            self.net_ = net
            self.history_ = {"pretrain": pre.history, "cluster": net.history}
            self.n_iter_ = int(net.iter_)
            self.temperature_ = float(gen.temperature)
            self.cluster_centers_ = gen.head.centers.detach().cpu().numpy().copy()
            self.subspace_bases_ = net.module2_.bases.detach().cpu().numpy().copy()

            z, proba, _ = self._window_outputs(frames, length)
            self.labels_ = proba.argmax(axis=1).astype(np.int64)
            if self.refine == "spectral":
                self.affinity_ = self._affinity(z, proba)
                self.labels_ = SpectralClustering(
                    self.n_clusters, affinity="precomputed", random_state=rng,
                ).fit_predict(self.affinity_).astype(np.int64)
        return self

    @torch.no_grad()
    def _affinity(self, z, proba):
        """``|C| + |Cᵀ|`` of the self-expressive layer applied to the whole series."""
        se = self.net_.module_.self_expressive
        device = next(se.parameters()).device
        zt = torch.from_numpy(z)[None].to(device)
        qt = torch.from_numpy(proba)[None].to(device)
        c = se.coefficients(zt, qt)[0].abs().cpu().numpy()
        a = c + c.T
        a += 1e-6 * (1.0 - np.eye(a.shape[0]))  # keep the graph connected
        return a

    # ---------------------------------------------------------------- outputs
    def _forward_arrays(self, X):
        frames = self._frames(X)
        z, proba, _ = self._window_outputs(frames, self._inference_length(frames.shape[0]))
        return z, proba

    def score(self, X, y=None):
        """Minus (mean reconstruction error + ``KL(P || Q̃)``) on ``X``; higher is better.

        Parameters
        ----------
        X : array-like or DataArray
        y : ignored

        Returns
        -------
        float
        """
        X, _ = self._validate_input(X, reset=False)
        frames = self._frames(X)
        _, proba, rec = self._window_outputs(frames, self._inference_length(frames.shape[0]))
        q = torch.from_numpy(proba)
        return -float(rec.mean() + kl_divergence(dec_target_distribution(q), q))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


_spec = register_method(
    "adatsc", ADATSCClustering, input="samples",
    description="A-DATSC: ConvLSTM + Bi-TGAT + self-expression + subspace discriminator (seed 000)",
)
_spec.demo_params = DEMO_PARAMS
