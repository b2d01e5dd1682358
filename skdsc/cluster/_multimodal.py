"""Deep multimodal subspace clustering with spatial and affinity fusion.

Abavisani & Patel, "Deep multimodal subspace clustering networks" (IEEE JSTSP
2018), seed 004. The networks are in :mod:`skdsc.nn.multimodal`, the loss in
:mod:`skdsc.losses`, the training stages in :mod:`skdsc._training_multimodal` and
the affinity post-processing in :mod:`skdsc.cluster._affinity`.
"""

import math
from numbers import Integral, Real

import numpy as np
import scipy.linalg
import torch
from sklearn.base import _fit_context
from sklearn.cluster import SpectralClustering
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._registry import register_method
from .._training_multimodal import MultimodalAutoencoderNet, SelfExpressiveNet
from ..base import BaseDeepClusterer
from ..nn.multimodal import MultimodalAutoencoder, MultimodalDSCModule
from ..utils import is_dataarray, unwrap_samples
from ._affinity import default_rho, subspace_affinity, threshold_coefficients

__all__ = ["MultimodalDSC", "estimate_fit_memory"]


def _parse_modalities(modalities):
    """Normalise a ``modalities`` specification to a list of ``int`` / ``(h, w, c)``."""
    shapes = []
    for spec in modalities:
        if isinstance(spec, Integral) and not isinstance(spec, bool) and spec >= 1:
            shapes.append(int(spec))
            continue
        if isinstance(spec, (tuple, list)) and all(
            isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in spec
        ):
            if len(spec) == 1:
                shapes.append(int(spec[0]))
                continue
            if len(spec) in (2, 3):
                shapes.append(tuple(int(v) for v in spec) + ((1,) if len(spec) == 2 else ()))
                continue
        raise ValueError(
            "each entry of `modalities` must be a positive int (the feature count of a vector "
            f"modality) or a tuple (h, w) / (h, w, c) of positive ints (an image modality), got {spec!r}."
        )
    if not shapes:
        raise ValueError("`modalities` must name at least one modality.")
    return shapes


def _n_columns(shape):
    return math.prod(shape) if isinstance(shape, tuple) else shape


def _is_modality_list(X):
    return (
        isinstance(X, (list, tuple)) and len(X) > 0
        and all(is_dataarray(a) or (isinstance(a, np.ndarray) and a.ndim >= 2) for a in X)
    )


def estimate_fit_memory(n_samples, activations_per_sample, n_parameters):
    """Rough upper estimate (bytes) of the peak memory of a :class:`MultimodalDSC` fit.

    Training keeps, in float32, ``C`` with its gradient, Adam's two moments and
    two ``n x n`` temporaries (``6 n^2`` values), the full-batch activations with
    their gradients (``3 n a``) and the network with its Adam state. The
    post-processing works in float64 on about five ``n x n`` matrices (``C``,
    its thresholded and symmetrised copies, the eigenvectors' product and the
    affinity), next to the stored ``C``. The estimate is the larger of the two
    phases.

    Parameters
    ----------
    n_samples : int
    activations_per_sample : int
        Values one sample creates in a forward pass of the autoencoder.
    n_parameters : int
        Parameters of the autoencoder.

    Returns
    -------
    int

    Examples
    --------
    >>> round(estimate_fit_memory(70_000, 1000, 10**6) / 2**30, 1)
    200.8
    """
    n = int(n_samples)
    train = 4 * (6 * n * n + 3 * n * activations_per_sample + 4 * n_parameters)
    post = 8 * 5 * n * n + 4 * n * n
    return int(max(train, post))


class MultimodalDSC(BaseDeepClusterer):
    """Deep multimodal subspace clustering (affinity and spatial fusion).

    Every modality gets its own encoder and decoder: a convolutional stack for an
    image modality (seed 004: ``5x5`` stride 2 to 10 channels, ``3x3`` stride 1
    to 20, ``3x3`` stride 2 to 30, ReLU; mirrored transposed convolutions), a fully
    connected stack for a vector modality. Between encoder and decoder sits the
    self-expressive layer ``Z -> C Z`` with ``C`` an ``n x n`` matrix with zero
    diagonal (initialised to 1e-4). The modalities meet according to ``fusion``:

    * ``"affinity"``: each modality keeps its own code ``Z_m``; one ``C`` is
      shared by all modalities, so that all of them must agree on which samples
      express which (no spatial correspondence needed);
    * ``"early"``, ``"intermediate"``, ``"late"``: the encoder features are fused
      with ``fusion_function`` (``"sum"``, ``"max"`` or ``"concat"``) at the input,
      after the first ``L // 2`` encoder layers or at the latent layer; the layers
      after the fusion point are shared, and one decoder per modality reconstructs
      that modality from the fused code. Spatial fusion needs modalities of one
      kind whose features agree at the fusion point (same spatial size;
      ``"sum"``/``"max"`` also the same channel or feature count).

    Training has two stages: the autoencoder is pretrained on reconstruction
    (mini-batches, ``pretrain_epochs``), then autoencoder and ``C`` are trained
    together on the whole training set as one batch (``max_epochs``) with the
    seed's loss

    ``Σ_m w_m ||X_m - X̂_m||² + λ1 ||C||² + λ2 Σ_m w'_m ||Z_m - C Z_m||²``

    where ``X̂_m`` is decoded from ``C Z_m``. The affinity is then post-processed
    as in DSC-Net (per-column thresholding at ``rho``, symmetrisation, truncated
    SVD of rank ``subspace_dim * n_clusters + 1``, ``A = (U U^T)_+ ** power``,
    see :func:`skdsc.cluster._affinity.subspace_affinity`) and spectral clustering
    on ``A`` gives ``labels_``.

    **Memory.** ``C`` has ``n^2`` entries, so memory grows quadratically with the
    number of samples (70 000 samples: about 20 GB for ``C`` alone in float32,
    and training holds several copies). Before allocating anything, ``fit``
    estimates the peak memory (:func:`estimate_fit_memory`) and raises a
    ``MemoryError`` naming the estimate when it exceeds ``max_memory_gb``.
    5 000 samples need about 1 GB, 20 000 about 16 GB.

    **New samples.** The original method only clusters its training set.
    ``predict`` extends it in three steps. (1) A new sample's codes ``z_m`` are
    expressed over the training codes with the regularised least squares the loss
    implies, ``c = argmin λ1 ||c||² + λ2 Σ_m w'_m ||z_m - Z_m^T c||²`` (closed
    form; ``Z`` the training codes after fine-tuning), and ``c`` is thresholded at
    ``rho`` like a column of ``C``. (2) ``c`` is taken as a new row of the
    symmetrised ``C`` and mapped into the spectral embedding of the
    post-processing by a Nyström extension, ``u = c V sign(w) / sqrt|w|`` with
    ``(w, V)`` the eigenpairs kept by the truncated SVD, then normalised.
    (3) Its affinity to training sample ``j`` is ``max(u . U_j, 0) ** power``, as in
    ``A``; the sample goes to the cluster with the largest total affinity, and the
    shares of the total are ``predict_proba``. Voting directly with ``|c|`` (no
    post-processing) was tried and is much worse (0.77 against 0.82 held-out
    accuracy on the UCI digits, with unit reconstruction weights), as is voting with
    the learned ``C`` on its own training set. ``labels_`` are the spectral
    clustering of the training set; ``predict`` on the training samples agrees with
    them for 97-98 % of the synthetic image modalities of ``benchmarks/`` but only
    87-93 % of the UCI digits (80 % training splits, 20 + 20 epochs), where the
    learned ``C`` is still far from the minimiser of its self-expression objective
    (seed 0, all 2000 samples: 723 against 114 for the closed form on the same
    codes) and the ridge coefficients of a code do not resemble its rows. Regressing
    the rows of the learned ``C`` on the training codes instead (``c = z (Z^T Z)^+
    Z^T C``, the same rule when ``C`` is that minimiser, zero diagonal aside) agrees
    with ``labels_`` on 99 % and is better on the UCI digits, but generalises worse
    from the image codes (code dimension above ``n``: 0.035-0.05 below training
    accuracy on the synthetic set, 0.17 on the 60-sample test set), so it was not
    adopted. ``predict_rule="neighbors"`` (the default) replaces the rule by a
    vote of the nearest training codes; both are measured on held-out samples in
    ``benchmarks/results/multimodal_predict.md`` (80/20 splits, 3 seeds): on the
    UCI digits the coefficient rule reaches 0.875 held-out against 0.938
    training accuracy, the neighbour vote 0.971. That the neighbour vote beats
    the training labels themselves says that some spectral labels disagree
    with their whole latent neighbourhood; ``refine="neighbors"`` relabels
    those training samples by the same vote (training accuracy 0.938 -> 0.961
    on the UCI digits, 0.946 -> 0.960 on the synthetic modalities; held-out
    within 0.02 of it on every seed). It is off by default because it is not
    part of the seed's method and can absorb a genuine cluster smaller than
    about ``n_neighbors / 2`` samples.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters ``K``.
    modalities : list or None, default=None
        How the columns of ``X`` split into modalities, in order: an int ``d`` for
        a vector modality of ``d`` columns, a tuple ``(h, w, c)`` (or ``(h, w)``)
        for an image modality of ``h * w * c`` columns in channels-last order.
        None: one vector modality with every column. When ``X`` is given as a list
        of arrays (``(n, d)``, ``(n, h, w)`` or ``(n, h, w, c)``), the modalities are
        read from their shapes and this parameter, if set, must agree.
    fusion : {"affinity", "early", "intermediate", "late"}, default="affinity"
    fusion_function : {"sum", "max", "concat"}, default="concat"
        Fusion function of spatial fusion (ignored by affinity fusion).
    conv_channels : tuple of int, default=(10, 20, 30)
    conv_kernels : tuple of int, default=(5, 3, 3)
    conv_strides : tuple of int, default=(2, 1, 2)
        Convolutional encoder of image modalities (seed 004's values).
    hidden_dims : tuple of int, default=(128,)
        Hidden widths of the fully connected encoder of vector modalities (the
        paper has image modalities only; this is not a paper value).
    latent_dim : int, default=32
        Code size of a vector modality.
    lambda1 : float, default=1.0
        Weight of ``||C||²`` (the paper's value).
    lambda2 : float or "auto", default="auto"
        Weight of the self-expression residual; ``"auto"`` is the paper's
        ``10 ** (K / 10 - 3)``.
    recon_weights : "auto", array-like of shape (n_modalities,) or None, default="auto"
        ``w_m``. ``"auto"``: ``w_m = n / ||X_m - mean(X_m)||²``, so that each
        modality's term is its reconstruction error relative to its total variance
        (``n`` times ``1 - R²``). The loss then does not change when a modality is
        rescaled (other units) or has more features, and the balance between
        reconstruction and ``λ2`` self-expression no longer depends on the data's
        scale (with unit weights, the reconstruction sum over ``n`` times all
        features swamped the self-expression term on 649 standardised features:
        the learned ``C`` clustered the UCI digits at 0.81 against 0.94 with these
        weights, same schedule). Pretraining (per-modality mean squared errors)
        then weights modality ``m`` by ``1 / v_m``, ``v_m`` its mean feature
        variance, the same balance. Given weights are used as they are in both
        stages; None: ones (the raw sums of the seed's formula).
    selfexp_weights : array-like of shape (n_modalities,) or None, default=None
        ``w'_m`` (ones when None).
    rho : float, "auto" or None, default="auto"
        Per-column threshold of the post-processing; ``"auto"`` is DSC-Net's
        ``max(0.4 - 0.1 (K - 1) / 10, 0.1)``; None keeps every coefficient.
    subspace_dim : int, default=10
        Assumed dimension ``d`` of each subspace (SVD rank ``d K + 1``).
    power : float, default=3.5
        Exponent of the affinity (DSC-Net uses 3.5 on Yale-B, 8 on COIL20).
    max_memory_gb : float or None, default=8.0
        Refuse to fit when :func:`estimate_fit_memory` exceeds it; None disables
        the check.
    predict_rule : {"neighbors", "affinity"}, default="neighbors"
        How ``predict`` assigns new samples: ``"affinity"`` the coefficient rule
        described above (ridge coefficients, Nyström extension of the affinity,
        vote by affinity mass); ``"neighbors"`` the labels of the ``n_neighbors``
        nearest training codes (Euclidean, each code block scaled by
        ``sqrt(w'_m)``), the share of each cluster among them being
        ``predict_proba``. Only used after ``fit``; can be changed on a fitted
        estimator.
    refine : {"neighbors"} or None, default=None
        Optional step after the seed's spectral clustering (not part of the
        seed): each training sample takes the majority label of its
        ``n_neighbors`` nearest other training codes (its own label counts half
        a vote, so ties keep it). The spectral labels are kept in
        ``spectral_labels_``. It smooths labels that disagree with their whole
        latent neighbourhood, and makes ``labels_`` consistent with
        ``predict_rule="neighbors"`` (see Notes for the measured effects and
        the risk to very small clusters).
    n_neighbors : int, default=10
        Neighbours of the ``"neighbors"`` rule and of ``refine="neighbors"``.
    max_epochs : int, default=100
        Full-batch epochs of the self-expressive stage (a CPU-friendly default;
        DSC-Net trains longer on small sets).
    pretrain_epochs : int, default=100
        Epochs of autoencoder pretraining.
    batch_size : int, default=128
        Mini-batch size of pretraining (fine-tuning always uses the full set).
    lr : float, default=1e-3
        Adam learning rate of both stages (the paper's value).
    device : str, default="auto"
    sample_dim : str, default=None
        Sample dimension of ``DataArray`` inputs.
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Spectral clustering of the learned affinity (after the neighbour vote
        with ``refine="neighbors"``).
    spectral_labels_ : ndarray of shape (n_samples,)
        The spectral clustering before the vote (only with ``refine="neighbors"``).
    coef_ : ndarray of shape (n_samples, n_samples)
        The learned self-expressive coefficients ``C`` (zero diagonal), float32.
    affinity_ : ndarray of shape (n_samples, n_samples)
        The post-processed affinity ``A`` (float32).
    modalities_ : list
        The modalities, each ``d`` or ``(h, w, c)``.
    lambda2_ : float
        The ``λ2`` used.
    rho_ : float or None
        The threshold used.
    recon_weights_ : ndarray of shape (n_modalities,)
        The reconstruction weights ``w_m`` of the fine-tuning loss (and of
        ``score``).
    train_codes_ : ndarray of shape (n_samples, code_dim)
        Latent codes of the training samples (per-modality codes side by side for
        affinity fusion), the dictionary of ``predict``.
    net_ : skorch.NeuralNet
        The fitted self-expressive stage (``net_.module_.autoencoder`` is the
        multimodal autoencoder).
    history_ : dict
        skorch histories of the ``"pretrain"`` and ``"self-expressive"`` stages.
    n_iter_ : int
        Epochs of the self-expressive stage.
    memory_estimate_ : int
        Peak-memory estimate of the fit in bytes.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string feature names.

    Notes
    -----
    ``score(X)`` is minus the seed's loss per sample on ``X``, with each sample's
    coefficients over the training codes from the ``predict`` rule and the
    reconstruction from the autoencoder:
    ``-mean_i [Σ_m w_m ||x_im - x̂_im||² + λ1 ||c_i||² + λ2 Σ_m w'_m ||z_im - Z_m^T c_i||²]``;
    higher is better.

    Examples
    --------
    >>> import numpy as np
    >>> from skdsc.cluster import MultimodalDSC
    >>> rng = np.random.RandomState(0)
    >>> y = np.repeat([0, 1], 20)
    >>> image = rng.normal(size=(40, 8, 8, 1)) + 2 * y[:, None, None, None]
    >>> vector = rng.normal(size=(40, 5)) - 2 * y[:, None]
    >>> X = np.hstack([image.reshape(40, -1), vector])
    >>> est = MultimodalDSC(n_clusters=2, modalities=[(8, 8, 1), 5], conv_channels=(4, 4),
    ...                     conv_kernels=(3, 3), conv_strides=(2, 2), hidden_dims=(8,), latent_dim=4,
    ...                     pretrain_epochs=2, max_epochs=2, random_state=0).fit(X)
    >>> est.labels_.shape, est.coef_.shape, est.predict(X[:5]).shape
    ((40,), (40, 40), (5,))
    """

    _parameter_constraints: dict = {
        **BaseDeepClusterer._parameter_constraints,
        "modalities": [list, tuple, None],
        "fusion": [StrOptions({"affinity", "early", "intermediate", "late"})],
        "fusion_function": [StrOptions({"sum", "max", "concat"})],
        "conv_channels": ["array-like"],
        "conv_kernels": ["array-like"],
        "conv_strides": ["array-like"],
        "hidden_dims": ["array-like"],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "lambda1": [Interval(Real, 0, None, closed="neither")],
        "lambda2": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "recon_weights": ["array-like", StrOptions({"auto"}), None],
        "selfexp_weights": ["array-like", None],
        "rho": [Interval(Real, 0, 1, closed="right"), StrOptions({"auto"}), None],
        "subspace_dim": [Interval(Integral, 1, None, closed="left")],
        "power": [Interval(Real, 0, None, closed="neither")],
        "max_memory_gb": [Interval(Real, 0, None, closed="neither"), None],
        "predict_rule": [StrOptions({"affinity", "neighbors"})],
        "refine": [StrOptions({"neighbors"}), None],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        modalities=None,
        fusion="affinity",
        fusion_function="concat",
        conv_channels=(10, 20, 30),
        conv_kernels=(5, 3, 3),
        conv_strides=(2, 1, 2),
        hidden_dims=(128,),
        latent_dim=32,
        lambda1=1.0,
        lambda2="auto",
        recon_weights="auto",
        selfexp_weights=None,
        rho="auto",
        subspace_dim=10,
        power=3.5,
        max_memory_gb=8.0,
        predict_rule="neighbors",
        refine=None,
        n_neighbors=10,
        max_epochs=100,
        pretrain_epochs=100,
        batch_size=128,
        lr=1e-3,
        device="auto",
        sample_dim=None,
        random_state=None,
        verbose=0,
    ):
        self.n_clusters = n_clusters
        self.modalities = modalities
        self.fusion = fusion
        self.fusion_function = fusion_function
        self.conv_channels = conv_channels
        self.conv_kernels = conv_kernels
        self.conv_strides = conv_strides
        self.hidden_dims = hidden_dims
        self.latent_dim = latent_dim
        self.lambda1 = lambda1
        self.lambda2 = lambda2
        self.recon_weights = recon_weights
        self.selfexp_weights = selfexp_weights
        self.rho = rho
        self.subspace_dim = subspace_dim
        self.power = power
        self.max_memory_gb = max_memory_gb
        self.predict_rule = predict_rule
        self.refine = refine
        self.n_neighbors = n_neighbors
        self.max_epochs = max_epochs
        self.pretrain_epochs = pretrain_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.sample_dim = sample_dim
        self.random_state = random_state
        self.verbose = verbose

    # ----------------------------------------------------------------- input
    def _stack_modalities(self, Xs):
        """A list of per-modality arrays -> one flat array, their shapes, the first one's xarray info."""
        arrays, info = [], None
        for k, a in enumerate(Xs):
            values, a_info = unwrap_samples(a, self.sample_dim)
            if k == 0:
                info = a_info
            values = np.asarray(values)
            if values.ndim > 4:
                raise ValueError(
                    f"modality {k} has {values.ndim} dimensions; give (n, d), (n, h, w) or (n, h, w, c) arrays."
                )
            arrays.append(values)
        n = {a.shape[0] for a in arrays}
        if len(n) > 1:
            raise ValueError(f"the modalities must have the same number of samples, got {[a.shape[0] for a in arrays]}")
        shapes = [a.shape[1] if a.ndim == 2 else tuple(a.shape[1:]) + ((1,) if a.ndim == 3 else ()) for a in arrays]
        flat = np.hstack([a.reshape(a.shape[0], -1) for a in arrays])
        return flat, shapes, info

    def _prepare(self, X, reset):
        """Validated flat float32 array, the modalities and xarray info of the samples."""
        if not reset:
            check_is_fitted(self)
        listed = _is_modality_list(X)
        shapes = None
        if listed:
            X, shapes, info = self._stack_modalities(X)
            if not reset and shapes != self.modalities_:
                raise ValueError(
                    f"the arrays have shapes {shapes} but the estimator was fitted on {self.modalities_}."
                )
        X, da_info = self._validate_input(X, reset=reset)
        info = info if listed else da_info
        if reset:
            if listed:
                if self.modalities is not None and _parse_modalities(self.modalities) != shapes:
                    raise ValueError(
                        f"modalities={self.modalities!r} does not match the shapes of the arrays given, {shapes}."
                    )
                modalities = shapes
            else:
                modalities = [X.shape[1]] if self.modalities is None else _parse_modalities(self.modalities)
            total = sum(_n_columns(s) for s in modalities)
            if total != X.shape[1]:
                raise ValueError(
                    f"modalities={modalities} take {total} columns but X has {X.shape[1]} features."
                )
            self.modalities_ = modalities
        return X, info

    def _recon_weights(self, X):
        """``(fine-tuning, pretraining)`` reconstruction weights; ``"auto"`` from the variances of ``X``."""
        if not (isinstance(self.recon_weights, str) and self.recon_weights == "auto"):
            w = self._weights("recon_weights")
            return w, w
        fine, pre = [], []
        start = 0
        for shape in self.modalities_:
            stop = start + _n_columns(shape)
            part = X[:, start:stop].astype(np.float64)
            start = stop
            mean_var = float(part.var(axis=0).mean())
            if not np.isfinite(mean_var) or mean_var <= 0:  # a constant modality: raw sum
                fine.append(1.0)
                pre.append(1.0)
                continue
            fine.append(1.0 / (part.shape[1] * mean_var))  # n / ||X_m - mean||^2
            pre.append(1.0 / mean_var)  # the same balance on per-modality means
        return fine, pre

    def _weights(self, name):
        value = getattr(self, name)
        m = len(self.modalities_)
        if value is None:
            return [1.0] * m
        w = np.asarray(value, dtype=float).ravel()
        if w.shape != (m,) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"{name} must hold {m} non-negative finite weights (one per modality), got {value!r}.")
        return w.tolist()

    # ------------------------------------------------------------------- fit
    def _build_autoencoder(self):
        return MultimodalAutoencoder(
            self.modalities_,
            fusion=self.fusion,
            fusion_function=self.fusion_function,
            conv_channels=tuple(int(v) for v in self.conv_channels),
            conv_kernels=tuple(int(v) for v in self.conv_kernels),
            conv_strides=tuple(int(v) for v in self.conv_strides),
            hidden_dims=tuple(int(v) for v in self.hidden_dims),
            latent_dim=self.latent_dim,
        )

    def _check_memory(self, n, ae):
        n_params = sum(p.numel() for p in ae.parameters())
        need = estimate_fit_memory(n, ae.per_sample_activations(), n_params)
        self.memory_estimate_ = need
        if self.max_memory_gb is not None and need > self.max_memory_gb * 2**30:
            raise MemoryError(
                f"MultimodalDSC: fitting {n} samples needs about {need / 2**30:.1f} GB (the n x n "
                f"self-expressive layer grows as n^2), above max_memory_gb={self.max_memory_gb}. Fit on a "
                "subsample and use predict for the rest, or raise max_memory_gb if the memory is there."
            )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Pretrain the autoencoder, train the self-expressive stage and cluster the affinity.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), DataArray, or list of arrays
            The modalities side by side (split by ``modalities``), or one array per
            modality.
        y : ignored

        Returns
        -------
        self
        """
        X, _ = self._prepare(X, reset=True)
        n = X.shape[0]
        recon_w, pre_w = self._recon_weights(X)
        se_w = self._weights("selfexp_weights")
        K = self.n_clusters
        self.lambda2_ = 10.0 ** (K / 10.0 - 3.0) if self.lambda2 == "auto" else float(self.lambda2)
        self.rho_ = default_rho(K) if self.rho == "auto" else self.rho
        with self._seeded() as rng:
            ae = self._build_autoencoder()
            self._check_memory(n, ae)
            pre = MultimodalAutoencoderNet(
                module=ae, criterion=torch.nn.MSELoss, recon_weights=pre_w,
                **self._net_kwargs("pretrain", self.pretrain_epochs),
            )
            self._run_stage(pre, X)
            kwargs = self._net_kwargs("self-expressive", self.max_epochs)
            kwargs.update(batch_size=n, iterator_train__shuffle=False)
            net = SelfExpressiveNet(
                module=MultimodalDSCModule(pre.module_, n), criterion=torch.nn.MSELoss,
                lambda1=self.lambda1, lambda2=self.lambda2_, recon_weights=recon_w, selfexp_weights=se_w,
                **kwargs,
            )
            self._run_stage(net, X)
            coef = net.module_.self_expressive.coefficients().detach().cpu().numpy()
            affinity, basis = subspace_affinity(
                coef, K, self.subspace_dim, self.power, self.rho_, random_state=rng, return_basis=True
            )
            spectral = SpectralClustering(
                n_clusters=K, affinity="precomputed", assign_labels="discretize", random_state=rng
            )
            self.labels_ = spectral.fit_predict(affinity).astype(np.int64)
        self.net_ = net
        self.history_ = {"pretrain": pre.history, "self-expressive": net.history}
        self.n_iter_ = len(net.history)
        self.recon_weights_ = np.asarray(recon_w, dtype=float)
        self.coef_ = coef.astype(np.float32)
        self.affinity_ = affinity.astype(np.float32)
        self.train_codes_ = np.hstack(self._codes_and_recons(X)[0])
        self._set_predict_projection(se_w, basis)
        if self.refine == "neighbors":
            self.spectral_labels_ = self.labels_
            self.labels_ = self._refine_by_neighbors(self.labels_)
        return self

    def _refine_by_neighbors(self, labels):
        """One majority vote of each training code's ``n_neighbors`` nearest other codes.

        The sample's own label counts half a vote, so it is kept on ties.
        """
        n = self.train_codes_.shape[0]
        k = min(self.n_neighbors, n - 1)
        if k < 1:
            return labels
        Z = self._scaled_codes()
        idx = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z, return_distance=False)
        # drop each sample itself (normally the first neighbour; duplicates may reorder)
        others = np.array([row[row != i][:k] for i, row in enumerate(idx)])
        votes = self._label_votes(others, labels)
        votes[np.arange(n), labels] += 0.5
        return votes.argmax(axis=1).astype(np.int64)

    # -------------------------------------------------------------- outputs
    def _autoencoder(self):
        return self.net_.module_.autoencoder

    def _codes_and_recons(self, X, recons=False):
        """Per-code latent arrays (and flat reconstructions) of ``X``, evaluation mode, in chunks."""
        ae = self._autoencoder()
        device = next(ae.parameters()).device
        was_training = ae.training
        ae.eval()
        codes, outs = [], []
        try:
            with torch.no_grad():
                for start in range(0, X.shape[0], max(self.batch_size, 1024)):
                    xb = torch.from_numpy(X[start:start + max(self.batch_size, 1024)]).to(device)
                    z = ae.encode(xb)
                    codes.append([c.cpu().numpy() for c in z])
                    if recons:
                        outs.append([r.cpu().numpy() for r in ae.decode(z)])
        finally:
            ae.train(was_training)
        codes = [np.concatenate(parts) for parts in zip(*codes)]
        if recons:
            return codes, [np.concatenate(parts) for parts in zip(*outs)]
        return codes, None

    def _code_scaling(self, se_w):
        dims = self._autoencoder().code_dims
        return np.concatenate([np.full(d, math.sqrt(w)) for d, w in zip(dims, se_w if len(dims) > 1 else se_w[:1])])

    def _scaled_codes(self, codes=None):
        """Codes in the self-expression metric: each code block times ``sqrt(w'_m)``.

        ``codes``: the per-code arrays of some samples (a list) or one stacked
        array; None: the training codes.
        """
        Z = self.train_codes_ if codes is None else codes
        if isinstance(Z, (list, tuple)):
            Z = np.hstack(Z)
        return Z.astype(np.float64) * self._code_scaling(self._selfexp_w)

    def _label_votes(self, neighbours, labels):
        """``(n, K)`` counts of the ``labels`` of each row's ``neighbours`` (indices ``(n, k)``)."""
        n, k = neighbours.shape
        votes = np.zeros((n, self.n_clusters))
        np.add.at(votes, (np.repeat(np.arange(n), k), labels[neighbours].ravel()), 1.0)
        return votes

    def _set_predict_projection(self, se_w, basis):
        """What ``predict`` needs: the ridge map ``c = P z`` and the spectral basis of ``C``."""
        self._selfexp_w = se_w
        Z = self._scaled_codes()
        mu = self.lambda1 / self.lambda2_
        n, d = Z.shape
        if d <= n:  # c = Z (Z^T Z + mu I_d)^-1 z
            P = scipy.linalg.solve(Z.T @ Z + mu * np.eye(d), Z.T, assume_a="pos").T
        else:  # c = (Z Z^T + mu I_n)^-1 Z z
            P = scipy.linalg.solve(Z @ Z.T + mu * np.eye(n), Z, assume_a="pos")
        vecs, vals, U = basis
        keep = np.abs(vals) > np.abs(vals).max(initial=0.0) * 1e-10
        # Nystrom: c ~ u diag(vals) vecs^T  =>  u sqrt|vals| = c vecs sign(vals) / sqrt|vals|
        scale = np.zeros_like(vals)
        scale[keep] = np.sign(vals[keep]) / np.sqrt(np.abs(vals[keep]))
        self._predict_projection = P.astype(np.float32)
        self._nystrom_map = (vecs * scale).astype(np.float32)
        self._embedding = U.astype(np.float32)

    def _coefficients(self, codes):
        Zq = self._scaled_codes(codes)
        return Zq @ self._predict_projection.T.astype(np.float64), Zq

    def _forward_arrays(self, X):
        codes, _ = self._codes_and_recons(X)
        if self.predict_rule == "neighbors":
            return np.hstack(codes).astype(np.float32), self._neighbor_vote(codes)
        coef, _ = self._coefficients(codes)
        if self.rho_ is not None:
            coef = threshold_coefficients(coef.T, self.rho_).T
        u = coef @ self._nystrom_map
        norms = np.linalg.norm(u, axis=1, keepdims=True)
        u = np.divide(u, norms, out=np.zeros_like(u), where=norms > 0)
        affinity = np.maximum(u @ self._embedding.T.astype(np.float64), 0.0) ** self.power
        mass = affinity @ np.eye(self.n_clusters)[self.labels_]
        total = mass.sum(axis=1, keepdims=True)
        proba = np.divide(mass, total, out=np.full_like(mass, 1.0 / self.n_clusters), where=total > 0)
        return np.hstack(codes).astype(np.float32), proba

    def _neighbor_vote(self, codes):
        k = min(self.n_neighbors, self.train_codes_.shape[0])
        nn = NearestNeighbors(n_neighbors=k).fit(self._scaled_codes())
        idx = nn.kneighbors(self._scaled_codes(codes), return_distance=False)
        return self._label_votes(idx, self.labels_) / k

    def _outputs(self, X):
        X, info = self._prepare(X, reset=False)
        z, proba = self._forward_arrays(X)
        return z, proba, info

    def _sample_info(self, X):
        # with a list of modalities, the sample coordinates are those of the first
        return super()._sample_info(X[0] if _is_modality_list(X) else X)

    def predict(self, X):
        """Cluster of each new sample by ``predict_rule`` (see the class docstring).

        Parameters
        ----------
        X : array-like, DataArray or list of arrays
            New samples, with the modalities seen in ``fit``.

        Returns
        -------
        labels : ndarray of shape (n_samples,) or DataArray on the sample dim
        """
        return super().predict(X)

    def score(self, X, y=None):
        """Minus the seed's loss per sample on ``X`` (higher is better; see Notes).

        Parameters
        ----------
        X : array-like, DataArray or list of arrays
        y : ignored

        Returns
        -------
        float
        """
        X, _ = self._prepare(X, reset=False)
        codes, recons = self._codes_and_recons(X, recons=True)
        coef, Zq = self._coefficients(codes)
        coef = coef.astype(np.float64)
        ae = self._autoencoder()
        parts = [p.numpy() for p in ae.split(torch.from_numpy(X))]
        recon = sum(
            w * ((r - p) ** 2).sum(axis=1) for w, r, p in zip(self.recon_weights_, recons, parts)
        )
        Z = self._scaled_codes()
        residual = ((Zq - coef @ Z) ** 2).sum(axis=1)
        loss = recon + self.lambda1 * (coef**2).sum(axis=1) + self.lambda2_ * residual
        return -float(np.mean(loss))


def _run_cli(estimator, data, options):
    """``skdsc cluster --method multimodal a.npy b.npy`` (one array per modality).

    With one netCDF input and ``--variables a,b,...`` each named variable is a
    modality. Labels come back on the first modality's sample dimension.
    """
    import xarray as xr

    names = getattr(options, "variables", None)
    if names:
        if len(options.input) != 1:
            raise ValueError("--variables takes one netCDF input holding every modality")
        ds = xr.open_dataset(options.input[0])
        data = [ds[name].load() for name in names.split(",")]
    if not isinstance(data, (list, tuple)):
        data = [data]
    if getattr(options, "sample_dim", None):
        estimator.set_params(sample_dim=options.sample_dim)
    labels = estimator.fit_predict(list(data))
    if not is_dataarray(labels):
        labels = xr.DataArray(labels, dims=(data[0].dims[0] if is_dataarray(data[0]) else "sample",),
                              name="cluster")
    return labels


register_method(
    "multimodal",
    MultimodalDSC,
    input="multimodal",
    run=_run_cli,
    description="Deep multimodal subspace clustering, affinity/spatial fusion (Abavisani & Patel 2018)",
    cli_options=[
        ("--variables", dict(default=None, help="multimodal: comma-separated netCDF variables, one per modality")),
    ],
)
