"""Clustering autoencoder (CAE) with Sinkhorn-Knopp prototypes, and its patch-to-map workflow.

Kurihana et al. (2024), "Identifying climate patterns using clustering autoencoder
techniques", as reproduced on monthly precipitation patches in seed 001: a
convolutional autoencoder over ``(h, w, channels)`` patches, a single-layer ReLU
projection of the latent code, ``k`` trainable prototypes scored by a scalar
product, ``softmax(scores / tau)`` predictions trained by cross-entropy against
balanced Sinkhorn-Knopp targets, plus the reconstruction RMSE. The torch modules
are in :mod:`skdsc.nn.cae`, the losses in :mod:`skdsc.losses`, the training stage
in :mod:`skdsc._training_cae`.

:func:`cluster_patches_to_map` runs the seed's whole study: monthly field ->
yearly 12-channel stacks -> per-month min-max scaling -> patches -> fit on the
training years -> predict the test years -> grid-cell majority map and fuzzy
membership maps; or, with more patch clusters than map clusters, the *pattern
map*: grid cells clustered by the histogram of the patch patterns that cover them
over the years (see its notes for why and by how much).
"""

import inspect
import re
from numbers import Integral, Real

import numpy as np
import torch
import xarray as xr
from skorch.callbacks import EarlyStopping
from skorch.dataset import Dataset
from skorch.helper import predefined_split
from sklearn.base import _fit_context, clone
from sklearn.cluster import KMeans
from sklearn.utils import Bunch, get_tags
from sklearn.utils._param_validation import Interval, StrOptions

from .._registry import register_method
from .._training import AutoencoderNet
from .._training_cae import CAENet
from ..base import BaseDeepClusterer, forward_numpy
from ..losses import reconstruction_rmse, sinkhorn_knopp, soft_cross_entropy
from ..nn import ClusteringAutoencoderModule, PrototypePatchAutoencoder, PrototypeHead

__all__ = ["ClusteringAutoencoder", "cluster_patches_to_map"]


def _silent(*args, **kwargs):
    pass


class ClusteringAutoencoder(BaseDeepClusterer):
    """Clustering autoencoder with Sinkhorn-Knopp prototype targets (CAE).

    Samples are patches ``(h, w, channels)`` of gridded data, e.g. the
    ``8 x 8 x 12`` patches of yearly stacks of monthly maps of seed 001 (see
    :func:`cluster_patches_to_map` for the whole workflow). A 2D input
    ``(n_samples, n_features)`` is treated as ``1 x 1`` patches with
    ``n_features`` channels, a 3D input ``(n, h, w)`` as one-channel patches.

    Model: a convolutional encoder gives a latent code ``z``
    (:class:`~skdsc.nn.PrototypePatchAutoencoder`), a decoder reconstructs the patch;
    a single-layer ReLU perceptron ``F_p`` maps ``z`` to ``R^proj_dim`` where
    ``k`` trainable prototypes ``c_j`` live; the predicted cluster distribution is
    ``softmax(F_p(z) · c_j / temperature)``. The target of each batch is the
    balanced Sinkhorn-Knopp assignment of its scores (``epsilon``,
    ``sinkhorn_iterations``, without gradient); the loss is
    ``alpha * RMSE(x, x_hat) + (1 - alpha) * CE(target, prediction)``. Defaults
    are the seed's working configuration (``alpha=0.5``, batch 512, latent and
    prototype dimension 512) except ``temperature`` and ``epsilon``, which are
    SwAV's (0.1 and 0.05 instead of the seed's 0.05 and 0.09, see below).

    The seed reports that this training depends on its initialisation, sometimes
    does not converge and over-fits. The estimator adds, each switchable so that
    its effect can be measured (``benchmarks/cae_planted_regions.py``):

    * ``pretrain_epochs`` of reconstruction-only pretraining, then
      ``prototype_init="kmeans"``: the projection is initialised from the
      pretrained codes (unit-variance pre-activations, ReLU thresholds at random
      quantiles, see :meth:`~skdsc.nn.PrototypeHead.standardize_projection_`)
      and the prototypes are the k-means centres of the projected codes of the
      training patches (instead of the random prototypes the seed starts from);
    * ``epsilon < temperature`` by default (see ``epsilon``), and a smaller
      learning rate ``cluster_lr`` for the clustering stage;
    * ``normalize=True``: projected codes and prototypes are L2-normalised
      (cosine scores in ``[-1, 1]``, SwAV's choice), which keeps ``exp(score /
      epsilon)`` and the softmax on a fixed scale; Sinkhorn-Knopp runs in the log
      domain;
    * ``queue_length`` (off by default, see there): Sinkhorn-Knopp balances the
      batch together with the projected codes of the last ``queue_length``
      training samples, so that the equipartition constraint does not force
      each small batch to be balanced;
    * ``validation_fraction`` / ``patience``: both stages monitor the loss on a
      random held-out share of the patches and stop (restoring the best
      weights) when it has not improved for ``patience`` epochs;
    * ``n_restarts``: the whole fit is repeated with different seeds and the
      run with the lowest training objective is kept;
    * ``groups`` in :meth:`fit` (the patch location, passed by
      :func:`cluster_patches_to_map`): the patches of one place in different
      years are trained towards a common target, see :meth:`fit`.

    Parameters
    ----------
    n_clusters : int, default=4
        Number of clusters (prototypes); 4 in the seed's study.
    conv_channels : tuple of int, default=(16, 32, 64)
        Widths of the stem and of the stride-2 encoder blocks (the decoder
        mirrors them); Kurihana et al. double the width at every block starting
        from 16.
    latent_dim : int, default=512
        Size of the latent code ``z``.
    proj_dim : int, default=512
        Dimension of the projection and of the prototypes.
    alpha : float in [0, 1], default=0.5
        Weight of the reconstruction RMSE; the cross-entropy gets ``1 - alpha``.
    temperature : float, default=0.1
        Softmax temperature τ of the predictions (SwAV's value; the seed used
        0.05, see the notes on ``epsilon``).
    epsilon : float, default=0.05
        Sinkhorn-Knopp entropic smoothing ε (SwAV's value). The seed's working
        configuration ``temperature=0.05, epsilon=0.09`` makes the targets
        *softer* than the predictions; with a single view (no swapped
        augmentations as in SwAV) the cross-entropy is then lowest when the
        scores of a sample against all prototypes become equal, and training
        drifts to uniform predictions (cross-entropy -> log k) and arbitrary,
        collapsing labels, which is the seed's "sometimes fails to converge".
        With ``epsilon < temperature`` the balanced targets are sharper than the
        predictions and training sharpens the clusters (measured in
        ``benchmarks/cae_planted_regions.py``, configuration ``seed_config``).
    sinkhorn_iterations : int, default=3
        Sinkhorn-Knopp iterations.
    normalize : bool, default=True
        L2-normalise projected codes and prototypes (cosine scores).
    prototype_init : {"kmeans", "random"}, default="kmeans"
        Initial prototypes: k-means (10 restarts) on the projected codes of the
        pretrained encoder, or random.
    queue_length : int, default=0
        Length of the feature queue used with each batch in Sinkhorn-Knopp
        (0: the batch alone, as in the seed). Meant for small batches on large
        data sets: the queued codes are scored against the current prototypes
        but were computed by an older encoder, and a queue as long as an epoch
        or more makes the targets inconsistent (measured: with 2048 queued codes
        on 1369 training patches the clustering collapsed to one cluster, with
        none it did not), hence off by default with the seed's batch of 512.
    cluster_marginal : {"uniform", "adaptive"}, default="uniform"
        Cluster marginal of Sinkhorn-Knopp: equipartition (the seed, SwAV), or
        half uniform and half the current mean predicted distribution (lets
        clusters of unequal size keep their size; the uniform half still
        forbids an empty cluster).
    validation_fraction : float in [0, 1), default=0.1
        Share of the samples held out for early stopping (0 disables it; it is
        also skipped when too few samples would remain).
    patience : int, default=10
        Epochs without improvement of the held-out loss before a stage stops.
    n_restarts : int, default=1
        Independent fits; the one with the lowest training objective is kept.
    max_epochs : int, default=100
        Upper bound on the epochs of the clustering stage.
    pretrain_epochs : int, default=30
        Upper bound on the epochs of autoencoder pretraining (0: none).
    batch_size : int, default=512
    lr : float, default=1e-3
        Adam learning rate of the pretraining stage.
    cluster_lr : float or None, default=1e-4
        Adam learning rate of the clustering stage (None: ``lr``). The first
        steps from the k-means prototypes are unstable at 1e-3: the
        cross-entropy jumps above ``log k`` and the predictions end uniform, all
        patches in one cluster (measured on planted-region fields); 1e-4 trains
        smoothly.
    device : str, default="auto"
    sample_dim : str, default=None
        Sample dimension of a ``DataArray`` input (default its first); the other
        dimensions are the patch axes ``(h, w[, channels])``.
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
    cluster_centers_ : ndarray of shape (n_clusters, proj_dim)
        The prototypes (unit norm when ``normalize``).
    patch_shape_ : tuple of int
        ``(h, w, channels)`` of the training patches.
    net_ : skorch.NeuralNet
        The fitted clustering-stage net of the kept run.
    history_ : dict
        skorch histories of the ``"pretrain"`` and ``"cluster"`` stages of the kept run.
    n_iter_ : int
        Optimiser steps of the clustering stage of the kept run.
    restart_losses_ : ndarray of shape (n_restarts,)
        Training objective reached by each restart.
    best_restart_ : int
        Index of the kept restart.
    n_features_in_ : int
        Size of the input's second axis (scikit-learn's convention; the patch
        height for patch input).

    See Also
    --------
    cluster_patches_to_map : the monthly-field to grid-cell-map workflow; for a
        ``k``-cluster map, a CAE with about ``4 k`` prototypes (patch patterns)
        and ``cluster_patches_to_map(..., n_clusters=k)`` maps the planted
        regions of ``benchmarks/cae_planted_regions.py`` far better than ``k``
        prototypes and a majority vote.

    Notes
    -----
    ``score(X)`` is minus the training objective on ``X``, with the Sinkhorn-Knopp
    targets computed on ``X`` as one batch; higher is better.

    The defaults train at most 30 + 100 epochs with early stopping; on the CPU a
    seed-sized problem (15810 patches of 8 x 8 x 12) takes a few minutes per fit.

    Examples
    --------
    >>> import numpy as np
    >>> from skdsc.cluster import ClusteringAutoencoder
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(m, 0.1, size=(40, 4, 4, 2)) for m in (0, 1)])
    >>> cae = ClusteringAutoencoder(n_clusters=2, conv_channels=(4, 8), latent_dim=8,
    ...                             proj_dim=8, pretrain_epochs=3, max_epochs=3,
    ...                             batch_size=16, random_state=0).fit(X)
    >>> cae.predict_proba(X).shape
    (80, 2)
    """

    _parameter_constraints: dict = {
        **BaseDeepClusterer._parameter_constraints,
        "conv_channels": ["array-like"],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "proj_dim": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "sinkhorn_iterations": [Interval(Integral, 1, None, closed="left")],
        "normalize": ["boolean"],
        "prototype_init": [StrOptions({"kmeans", "random"})],
        "queue_length": [Interval(Integral, 0, None, closed="left")],
        "cluster_marginal": [StrOptions({"uniform", "adaptive"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "n_restarts": [Interval(Integral, 1, None, closed="left")],
        "cluster_lr": [Interval(Real, 0, None, closed="neither"), None],
    }

    _allow_nd = True
    _flatten_dataarray = False

    def __init__(
        self,
        n_clusters=4,
        *,
        conv_channels=(16, 32, 64),
        latent_dim=512,
        proj_dim=512,
        alpha=0.5,
        temperature=0.1,
        epsilon=0.05,
        sinkhorn_iterations=3,
        normalize=True,
        prototype_init="kmeans",
        queue_length=0,
        cluster_marginal="uniform",
        validation_fraction=0.1,
        patience=10,
        n_restarts=1,
        max_epochs=100,
        pretrain_epochs=30,
        batch_size=512,
        lr=1e-3,
        cluster_lr=1e-4,
        device="auto",
        sample_dim=None,
        random_state=None,
        verbose=0,
    ):
        self.n_clusters = n_clusters
        self.conv_channels = conv_channels
        self.latent_dim = latent_dim
        self.proj_dim = proj_dim
        self.alpha = alpha
        self.temperature = temperature
        self.epsilon = epsilon
        self.sinkhorn_iterations = sinkhorn_iterations
        self.normalize = normalize
        self.prototype_init = prototype_init
        self.queue_length = queue_length
        self.cluster_marginal = cluster_marginal
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.n_restarts = n_restarts
        self.max_epochs = max_epochs
        self.pretrain_epochs = pretrain_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.cluster_lr = cluster_lr
        self.device = device
        self.sample_dim = sample_dim
        self.random_state = random_state
        self.verbose = verbose

    # ----------------------------------------------------------------- input
    def _validate_input(self, X, reset):
        X, info = super()._validate_input(X, reset)
        if X.ndim == 2:
            X = X[:, None, None, :]
        elif X.ndim == 3:
            X = X[..., None]
        elif X.ndim != 4:
            raise ValueError(
                "ClusteringAutoencoder expects patches of shape (n_samples, h, w, channels), "
                f"(n_samples, h, w) or a 2D (n_samples, n_features) array; got {X.ndim} dimensions."
            )
        X = np.ascontiguousarray(X)
        if not reset and tuple(X.shape[1:]) != self.patch_shape_:
            raise ValueError(
                f"X has patches of shape {tuple(X.shape[1:])}; ClusteringAutoencoder was fitted on "
                f"{self.patch_shape_}."
            )
        return X, info

    # ------------------------------------------------------------------ fit
    def _split(self, n, rng):
        n_val = int(round(self.validation_fraction * n))
        if n_val < 1 or n - n_val < max(self.n_clusters, 2):
            return np.arange(n), None
        perm = rng.permutation(n)
        return np.sort(perm[n_val:]), np.sort(perm[:n_val])

    def _stage_kwargs(self, stage, epochs, X_val):
        callbacks = []
        if X_val is not None:
            sink = print if self.verbose else _silent
            callbacks.append(("early_stopping", EarlyStopping(
                monitor="valid_loss", patience=self.patience, load_best=True, sink=sink)))
        lr = self.cluster_lr if stage == "cluster" and self.cluster_lr is not None else None
        kwargs = self._net_kwargs(stage, epochs, lr=lr, callbacks=callbacks)
        if X_val is not None:
            kwargs["train_split"] = predefined_split(Dataset(X_val, None))
        return kwargs

    def _fit_once(self, X, rng, groups=None):
        train_idx, val_idx = self._split(X.shape[0], rng)
        X_tr = X[train_idx]
        g_tr = None if groups is None else groups[train_idx]
        X_val = None if val_idx is None else X[val_idx]
        ae = PrototypePatchAutoencoder(self.patch_shape_, tuple(self.conv_channels), self.latent_dim)
        pre = AutoencoderNet(module=ae, criterion=torch.nn.MSELoss,
                             **self._stage_kwargs("pretrain", self.pretrain_epochs, X_val))
        if self.pretrain_epochs > 0:
            self._run_stage(pre, X_tr)
        else:
            pre.initialize()
        head = PrototypeHead(self.latent_dim, self.proj_dim, self.n_clusters, self.normalize)
        if self.prototype_init == "kmeans":
            z, _ = forward_numpy(pre, X_tr, 2)
            z = torch.from_numpy(z)
            head.standardize_projection_(z)
            with torch.no_grad():
                feats = head.project(z).numpy().astype(np.float64)
            km = KMeans(self.n_clusters, n_init=10, random_state=rng).fit(feats)
            head.reset_prototypes(km.cluster_centers_)
        module = ClusteringAutoencoderModule(pre.module_, head, self.temperature)
        net = CAENet(
            module=module, criterion=torch.nn.MSELoss, alpha=self.alpha, epsilon=self.epsilon,
            sinkhorn_iterations=self.sinkhorn_iterations, queue_length=self.queue_length,
            marginal=self.cluster_marginal,
            n_groups=0 if groups is None else int(groups.max()) + 1,
            **self._stage_kwargs("cluster", self.max_epochs, X_val),
        )
        if self.max_epochs > 0:
            self._run_stage(net, X_tr, g_tr)
        else:
            net.initialize()
        net.queue_ = None
        return pre, net, self._objective(net, X_tr)

    def _objective(self, net, X):
        _, x_hat, scores, _ = (torch.from_numpy(a) for a in forward_numpy(net, X, 4))
        q = sinkhorn_knopp(scores, self.epsilon, self.sinkhorn_iterations)
        ce = soft_cross_entropy(q, scores / self.temperature)
        rmse = reconstruction_rmse(x_hat, torch.from_numpy(X))
        return float(self.alpha * rmse + (1 - self.alpha) * ce)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, groups=None):
        """Pretrain the autoencoder, initialise the prototypes and train the CAE.

        Parameters
        ----------
        X : array-like of shape (n_samples, h, w, channels), (n_samples, h, w) or
            (n_samples, n_features), or DataArray
            Patches (see the class description).
        y : ignored
        groups : array-like of shape (n_samples,), default=None
            Samples that should share a cluster, e.g. the patches of one place in
            different years (:func:`cluster_patches_to_map` passes the patch
            location). In the clustering stage the target of a patch is then the
            mean Sinkhorn-Knopp assignment of its group in the previous epoch:
            SwAV's swapped prediction with the years of a place as its views, so
            that the prototypes separate what the years of a place share rather
            than one year's weather. On 68 x 66 planted-region fields (3 data
            seeds, 16 prototypes, pattern map, default epochs) the map ARI is
            0.90 +- 0.02 with groups and 0.92 +- 0.03 without; the k-means
            prototypes of the pretrained codes, before any clustering training,
            give 0.93 +- 0.03 (``benchmarks/results/cae_planted_regions.md``).
            With 15 + 30 epochs groups helped (0.88 against 0.76); at the
            default epochs they do not.

        Returns
        -------
        self
        """
        X, _ = self._validate_input(X, reset=True)
        self.patch_shape_ = tuple(int(s) for s in X.shape[1:])
        if groups is not None:
            groups = np.asarray(groups)
            if groups.shape != (X.shape[0],):
                raise ValueError(
                    f"groups must have shape ({X.shape[0]},) (one group per sample), got "
                    f"{groups.shape}."
                )
            groups = np.unique(groups, return_inverse=True)[1].astype(np.int64)
        best, losses = None, []
        with self._seeded() as rng:
            for _ in range(self.n_restarts):
                torch.manual_seed(int(rng.randint(np.iinfo(np.int32).max)))
                pre, net, loss = self._fit_once(X, rng, groups)
                losses.append(loss)
                if best is None or loss < best[2]:
                    best = (pre, net, loss)
        pre, net, _ = best
        self.restart_losses_ = np.asarray(losses)
        self.best_restart_ = int(np.argmin(self.restart_losses_))
        self.net_ = net
        self.history_ = {"pretrain": pre.history, "cluster": net.history}
        self.n_iter_ = int(net.iter_)
        self.cluster_centers_ = net.module_.head.prototype_matrix().detach().cpu().numpy().copy()
        self._finish_fit(X)
        return self

    # -------------------------------------------------------------- outputs
    def _forward_arrays(self, X):
        z, _, _, proba = forward_numpy(self.net_, X, 4)
        return z, proba

    def score(self, X, y=None):
        """Minus the training objective on ``X`` (higher is better).

        ``-(alpha * RMSE(x, x_hat) + (1 - alpha) * CE(Q, softmax(scores / tau)))``
        with the Sinkhorn-Knopp targets ``Q`` of ``X`` taken as one batch.

        Parameters
        ----------
        X : array-like or DataArray
        y : ignored

        Returns
        -------
        float
        """
        X, _ = self._validate_input(X, reset=False)
        return -self._objective(self.net_, X)


# --------------------------------------------------------------------------- #
# The seed-001 workflow: monthly field -> patches -> clusters -> grid-cell maps
# --------------------------------------------------------------------------- #
def _parse_years(spec):
    """Turn a CLI-style year specification into a list, a slice or None.

    ``"2001-2017"`` and ``"2001:2017"`` are inclusive ranges, ``"2001,2005"`` a list;
    anything that is not a string is returned unchanged.
    """
    if spec is None or not isinstance(spec, str):
        return spec
    text = spec.strip()
    m = re.fullmatch(r"(-?\d+)\s*[-:]\s*(-?\d+)", text)
    if m:
        return slice(int(m.group(1)), int(m.group(2)))
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(
            f"Cannot read the years {spec!r}: use 'FIRST-LAST', 'FIRST:LAST' or 'Y1,Y2,...'."
        ) from None


def _year_mask(spec, years, name):
    """Boolean mask over ``years`` selected by ``spec`` (list, range, slice; inclusive)."""
    spec = _parse_years(spec)
    years = np.asarray(years)
    if isinstance(spec, slice):
        lo = years.min() if spec.start is None else spec.start
        hi = years.max() if spec.stop is None else spec.stop
        mask = (years >= lo) & (years <= hi)
    else:
        wanted = np.atleast_1d(np.asarray(list(spec) if not np.isscalar(spec) else [spec]))
        missing = np.setdiff1d(wanted, years)
        if missing.size:
            raise ValueError(
                f"{name} names years that are not in the data: {missing.tolist()} "
                f"(available: {years.min()}..{years.max()})."
            )
        mask = np.isin(years, wanted)
    if not mask.any():
        raise ValueError(f"{name}={spec!r} selects no year of the data ({years.min()}..{years.max()}).")
    return mask


def cluster_patches_to_map(
    field,
    estimator=None,
    *,
    patch_size=8,
    stride=2,
    period=12,
    train_years=None,
    test_years=None,
    time_dim=None,
    scale=True,
    nan_policy="fill",
    n_clusters=None,
    vote_weighting="gaussian",
    vote_sigma=None,
    random_state=None,
    share_years=True,
):
    """Cluster the patches of a monthly field and map the clusters back to grid cells.

    The workflow of seed 001, in one call:

    1. the ``(time, lat, lon)`` monthly field is cut into years and each year's
       12 monthly maps are stacked as channels,
       ``(year, lat, lon, 12)`` (:func:`skdsc.preprocessing.stack_time_as_channels`);
    2. each calendar month is min-max scaled with the minimum and maximum over the
       training years and all grid cells
       (:class:`skdsc.preprocessing.ChannelScaler` around ``MinMaxScaler``);
    3. ``patch_size`` patches are cut with ``stride`` from every year
       (:class:`skdsc.preprocessing.PatchExtractor`), e.g. ``8 x 8 x 12``;
    4. ``estimator`` is fitted on the patches of the training years and predicts
       the patches of the test years;
    5. every grid cell takes the most frequent cluster among the patches (of all
       years of the split) that cover it, and its fuzzy membership in each
       cluster is the share of those patches in that cluster
       (:func:`skdsc.preprocessing.patches_to_grid`); by default each patch's
       vote is weighted by the closeness of the cell to the patch centre
       (``vote_weighting``);
    6. only with ``n_clusters`` (the *pattern map*): the estimator's clusters
       are a finer vocabulary of patch patterns (e.g. 16 for a 4-cluster map),
       step 5 gives every cell its histogram over these patterns (the patterns
       of all the patches and years that cover it), and the cells are grouped
       into ``n_clusters`` by k-means of the square roots of their histograms
       (Euclidean distance between them is the Hellinger distance).

    Why step 6. A patch of one year mixes what is permanent about a place (its
    climate) with what belongs to that year (the year's weather and large-scale
    regimes) and, near a region boundary, with its neighbour's climate.
    Clustering such patches straight into the ``k`` clusters of the map spends
    clusters on year-specific and boundary patterns, and the vote cannot repair
    that: on ``make_spatiotemporal_regimes(n_regions=4)`` fields (68 x 66 grid,
    9 training years, 3 data seeds) k-means on the flattened patches with the
    seed's vote gives a map ARI of 0.58 +- 0.19 against the planted regions,
    although patches labelled by their majority region would give 0.94.
    Over-clustering the patches and clustering the *cells* by the mixture of
    patterns that covers them over the years separates what is permanent from
    what is not: 0.89 +- 0.05 with the same k-means and patches, and 0.88 +-
    0.06 instead of 0.58 +- 0.13 for the CAE (16 prototypes with the group
    targets of :meth:`ClusteringAutoencoder.fit`; 0.76 +- 0.17 without them;
    ``benchmarks/results/cae_planted_regions.md``). SwAV, whose Sinkhorn-Knopp
    prototypes the CAE borrows, likewise uses many more prototypes than classes.

    Parameters
    ----------
    field : array-like or DataArray of shape (time, lat, lon)
        Monthly field; ``time`` must be a multiple of ``period``. For a
        ``DataArray`` with a datetime time coordinate, years are calendar years.
    estimator : estimator, default=None
        Any clusterer with ``fit``/``predict`` (cloned); ``None`` means
        ``ClusteringAutoencoder()``. Estimators whose tags do not accept 3D
        arrays (e.g. :class:`~sklearn.cluster.KMeans`) get the patches flattened
        to ``(n_patches, h * w * channels)``.
    patch_size : int or tuple of int, default=8
    stride : int or tuple of int, default=2
    period : int, default=12
        Time steps stacked as the channels of one sample (12 months).
    train_years, test_years : list, slice or str, default=None
        Years of each split: values of the ``year`` coordinate (calendar years for
        a datetime time coordinate, else the 0-based year index), as a list, a
        ``slice(first, last)`` (inclusive) or a string ``"2001-2017"``. With
        ``train_years=None`` every year not in ``test_years`` is used for
        training; with ``test_years=None`` there is no test map.
    time_dim : str, default=None
        Name of the time dimension of a ``DataArray`` (default its first).
    scale : bool, default=True
        Apply the per-month min-max scaling (fitted on the training years).
    nan_policy : {"fill", "drop"}, default="fill"
        Treatment of patches containing NaN (land), see
        :class:`skdsc.preprocessing.PatchExtractor`.
    n_clusters : int, default=None
        Number of clusters of the map. ``None``: the map's clusters are the
        estimator's (the seed's majority vote, steps 1-5). An int: the pattern
        map of step 6; the estimator must have at least ``n_clusters`` clusters
        (about four times as many works well: 16 patterns for a 4-cluster map).
    vote_weighting : {"gaussian", "uniform"} or array-like of shape (ph, pw), default="gaussian"
        Weight of a patch's vote at each cell it covers
        (:func:`skdsc.preprocessing.patches_to_grid`): ``"uniform"`` is the
        seed's plain count; ``"gaussian"`` weights cells near the patch centre
        more (patches labelled by their majority planted region: map ARI 0.85
        -> 0.91 on a 32 x 32 grid, 0.94 -> 0.96 on 68 x 66).
    vote_sigma : float or pair of float, default=None
        Width in cells of the Gaussian vote weights (default a quarter of the
        patch size).
    random_state : int, RandomState instance or None, default=None
        Seed of the k-means of step 6 (ignored without ``n_clusters``).
    share_years : bool, default=True
        Pass each training patch's location as ``groups`` to an estimator whose
        ``fit`` accepts it (:meth:`ClusteringAutoencoder.fit`: the patches of
        one place in different years get a common clustering target).

    Returns
    -------
    result : sklearn.utils.Bunch
        ``maps`` (an :class:`xarray.Dataset` with ``label_train (lat, lon)``,
        ``membership_train (lat, lon, cluster)`` and, with test years,
        ``label_test`` and ``membership_test``; label -1 and NaN memberships on
        land or uncovered cells), ``estimator`` (fitted), ``extractor``,
        ``scaler`` (or None), ``train_years``, ``test_years``, ``patch_labels_train``,
        ``patch_labels_test`` (or None; patch labels are the estimator's
        clusters, i.e. the patterns with ``n_clusters``). With ``n_clusters``
        also ``pattern_membership_train`` (and ``_test``): the cells' pattern
        histograms ``(lat, lon, pattern)``; ``cell_clusterer``: the fitted
        :class:`~sklearn.cluster.KMeans` of step 6; ``pattern_to_cluster``: an
        ``(n_patterns, n_clusters)`` array, the share of each pattern's votes
        that falls on cells of each map cluster. The memberships of the map are
        then ``histogram @ pattern_to_cluster``: the share of the patches covering a
        cell whose pattern belongs to each map cluster (rows sum to 1); the label
        is the k-means assignment of the cell, usually but not always the
        largest membership.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.cluster import KMeans
    >>> from skdsc.cluster import cluster_patches_to_map
    >>> rng = np.random.default_rng(0)
    >>> field = rng.gamma(2.0, size=(48, 12, 10))
    >>> field[:, :, 5:] *= 3.0                        # a wetter eastern half
    >>> res = cluster_patches_to_map(field, KMeans(2, n_init=3, random_state=0),
    ...                              patch_size=4, stride=2, test_years=[3])
    >>> res.maps["label_train"].shape, res.train_years.tolist()
    ((12, 10), [0, 1, 2])
    """
    from sklearn.preprocessing import MinMaxScaler

    from ..preprocessing import ChannelScaler, PatchExtractor, stack_time_as_channels

    if n_clusters is not None and (
        not isinstance(n_clusters, Integral) or isinstance(n_clusters, bool) or n_clusters < 1
    ):
        raise ValueError(f"n_clusters must be None or a positive int, got {n_clusters!r}.")
    if isinstance(vote_weighting, str) and vote_weighting not in ("gaussian", "uniform"):
        raise ValueError(
            f"vote_weighting must be 'gaussian', 'uniform' or an array, got {vote_weighting!r}."
        )

    if not isinstance(field, xr.DataArray):
        field = np.asarray(field)
        if field.ndim != 3:
            raise ValueError(
                f"field must be a (time, lat, lon) array, got {field.ndim} dimensions."
            )
        field = xr.DataArray(field, dims=("time", "lat", "lon"),
                             coords={"lat": np.arange(field.shape[1]),
                                     "lon": np.arange(field.shape[2])})
    elif field.ndim != 3:
        raise ValueError(
            f"field must be a (time, lat, lon) DataArray, got dims {field.dims}."
        )
    stacked = stack_time_as_channels(field, period=period, time_dim=time_dim)
    years = np.asarray(stacked["year"].values)
    test_mask = (np.zeros(years.size, bool) if test_years is None
                 else _year_mask(test_years, years, "test_years"))
    if train_years is None:
        train_mask = ~test_mask
        if not train_mask.any():
            raise ValueError("test_years leaves no year for training.")
    else:
        train_mask = _year_mask(train_years, years, "train_years")
    train = stacked.isel(year=np.flatnonzero(train_mask))
    test = stacked.isel(year=np.flatnonzero(test_mask)) if test_mask.any() else None

    scaler = None
    if scale:
        scaler = ChannelScaler(MinMaxScaler()).fit(train)
        train = scaler.transform(train)
        test = None if test is None else scaler.transform(test)

    extractor = PatchExtractor(patch_size=patch_size, stride=stride, nan_policy=nan_policy,
                               sample_dim="year")
    patches_train = extractor.fit_transform(train)
    est = ClusteringAutoencoder() if estimator is None else clone(estimator)
    # estimators that take 2D input only (KMeans, ...) get flattened patches
    flat = not get_tags(est).input_tags.three_d_array
    shape = (lambda P: P.reshape(P.shape[0], -1)) if flat else (lambda P: P)
    fit_params = {}
    if share_years and "groups" in inspect.signature(est.fit).parameters:
        # one group per patch location: the same place in different years
        fit_params["groups"] = np.unique(extractor.origins_[:, 1:], axis=0,
                                         return_inverse=True)[1].ravel()
    est.fit(shape(patches_train), **fit_params)
    labels_train = np.asarray(
        est.labels_ if hasattr(est, "labels_") else est.predict(shape(patches_train)))
    k = getattr(est, "n_clusters", None)
    k = int(labels_train.max()) + 1 if k is None else int(k)
    if n_clusters is not None and k < n_clusters:
        raise ValueError(
            f"n_clusters={n_clusters} map clusters need an estimator with at least as many "
            f"patch clusters; it has {k} (about 4 * n_clusters is a good choice)."
        )
    vote = dict(n_clusters=k, weighting=vote_weighting, sigma=vote_sigma)
    label_map, member = extractor.labels_to_grid(labels_train, **vote)
    extra = {}
    if n_clusters is None:
        data = {"label_train": label_map, "membership_train": member}
    else:
        cells = _PatternMap(n_clusters, random_state).fit(member)
        label_map, map_member = cells.transform(member)
        data = {"label_train": label_map, "membership_train": map_member,
                "pattern_membership_train": _as_patterns(member)}
        extra = dict(cell_clusterer=cells.kmeans_, pattern_to_cluster=cells.pattern_to_cluster_)
    labels_test = None
    if test is not None:
        patches_test = extractor.transform(test)
        labels_test = np.asarray(est.predict(shape(patches_test)))
        label_map, member = extractor.labels_to_grid(
            labels_test, origins=extractor.patch_origins(test), **vote)
        if n_clusters is None:
            data.update(label_test=label_map, membership_test=member)
        else:
            label_map, map_member = cells.transform(member)
            data.update(label_test=label_map, membership_test=map_member,
                        pattern_membership_test=_as_patterns(member))
    maps = xr.Dataset({name: (da if isinstance(da, xr.DataArray) else xr.DataArray(da))
                       for name, da in data.items()})
    maps.attrs.update(
        patch_size=str(extractor.patch_size_), stride=str(stride),
        train_years=",".join(map(str, years[train_mask])),
        test_years=",".join(map(str, years[test_mask])),
        vote_weighting=vote_weighting if isinstance(vote_weighting, str) else "array",
        map="majority vote" if n_clusters is None else f"{k} patterns -> {n_clusters} clusters",
    )
    return Bunch(
        maps=maps, estimator=est, extractor=extractor, scaler=scaler,
        train_years=years[train_mask], test_years=years[test_mask],
        patch_labels_train=labels_train, patch_labels_test=labels_test, **extra,
    )


def _as_patterns(member):
    """Name the last dimension of pattern vote shares ``pattern`` (not ``cluster``)."""
    if isinstance(member, xr.DataArray):
        return member.rename({"cluster": "pattern"}).rename("pattern_membership")
    return member


class _PatternMap:
    """Step 6 of :func:`cluster_patches_to_map`: group cells by their pattern histograms.

    ``fit`` takes the ``(lat, lon, n_patterns)`` vote shares of the training years
    (NaN rows: land or uncovered), runs k-means on the square roots of the valid
    rows (Hellinger geometry) and records ``pattern_to_cluster_``, the share of
    each pattern's votes that lies on cells of each cluster. ``transform`` gives
    the label map (k-means assignment, -1 on invalid cells) and the memberships
    ``shares @ pattern_to_cluster_`` of any vote shares on the same grid.
    """

    def __init__(self, n_clusters, random_state):
        self.n_clusters = n_clusters
        self.random_state = random_state

    @staticmethod
    def _rows(share):
        values = np.asarray(share, dtype=np.float64)
        flat = values.reshape(-1, values.shape[-1])
        return values, flat, np.isfinite(flat).all(axis=1)

    def fit(self, share):
        _, flat, valid = self._rows(share)
        if valid.sum() < self.n_clusters:
            raise ValueError(
                f"Only {int(valid.sum())} grid cells are covered by patches; cannot form "
                f"n_clusters={self.n_clusters} map clusters."
            )
        self.kmeans_ = KMeans(self.n_clusters, n_init=10, random_state=self.random_state)
        labels = self.kmeans_.fit_predict(np.sqrt(flat[valid]))
        onehot = np.eye(self.n_clusters)[labels]  # (cells, n_clusters)
        mass = flat[valid].T @ onehot  # (patterns, n_clusters): votes of pattern j on cluster c
        total = mass.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            ptc = mass / total
        # a pattern that no training cell received: spread evenly
        ptc[total[:, 0] <= 0] = 1.0 / self.n_clusters
        self.pattern_to_cluster_ = ptc
        return self

    def transform(self, share):
        values, flat, valid = self._rows(share)
        labels = np.full(flat.shape[0], -1, dtype=np.int64)
        member = np.full((flat.shape[0], self.n_clusters), np.nan)
        if valid.any():
            labels[valid] = self.kmeans_.predict(np.sqrt(flat[valid]))
            member[valid] = flat[valid] @ self.pattern_to_cluster_
        grid = values.shape[:-1]
        labels, member = labels.reshape(grid), member.reshape(*grid, self.n_clusters)
        if isinstance(share, xr.DataArray):
            spatial = share.dims[:-1]
            coords = {d: share[d].values for d in spatial if d in share.coords}
            labels = xr.DataArray(labels, dims=spatial, coords=coords, name="label")
            member = xr.DataArray(member, dims=(*spatial, "cluster"),
                                  coords={**coords, "cluster": np.arange(self.n_clusters)},
                                  name="membership")
        return labels, member


def _run_cli(estimator, data, options):
    """``skdsc cluster --method cae``: the grid-cell maps of :func:`cluster_patches_to_map`.

    Returns the maps Dataset plus ``cluster``/``membership``: the test-year maps
    when test years are given, else the training-year maps (what the command
    plots). The memberships' cluster dimension is named ``cluster_index`` here,
    so that the map itself can be the variable ``cluster``. With ``--patterns P``
    the estimator is refitted with ``P`` clusters (the patch patterns) and the
    map has the ``--n-clusters`` clusters of the pattern map (step 6 of
    :func:`cluster_patches_to_map`).
    """
    n_patterns = getattr(options, "patterns", None) or 0
    n_clusters = None
    if n_patterns:
        n_clusters = int(estimator.get_params()["n_clusters"])
        estimator = clone(estimator).set_params(n_clusters=n_patterns)
    res = cluster_patches_to_map(
        data, estimator,
        patch_size=getattr(options, "patch_size", 8),
        stride=getattr(options, "stride", 2),
        train_years=getattr(options, "train_years", None),
        test_years=getattr(options, "test_years", None),
        n_clusters=n_clusters,
        random_state=getattr(options, "seed", None),
    )
    drop = [v for v in res.maps.data_vars if v.startswith("pattern_membership")]
    res.maps = res.maps.drop_vars(drop).drop_dims("pattern", errors="ignore")
    maps = res.maps.rename({"cluster": "cluster_index"})
    split = "test" if "label_test" in maps else "train"
    return maps.assign(cluster=maps[f"label_{split}"], membership=maps[f"membership_{split}"])


register_method(
    "cae",
    ClusteringAutoencoder,
    input="patches",
    run=_run_cli,
    description="Clustering autoencoder on 8x8 yearly patches, grid-cell majority map + fuzzy maps",
    cli_options=[
        ("--patch-size", dict(type=int, default=8, help="patch height and width (default 8)")),
        ("--stride", dict(type=int, default=2, help="step between patches (default 2)")),
        ("--train-years", dict(default=None,
                               help="training years, e.g. 2001-2017 (default: all but the test years)")),
        ("--test-years", dict(default=None, help="test years, e.g. 2018-2023 (default: none)")),
        ("--patterns", dict(type=int, default=0,
                            help="cluster the patches into this many patterns and the grid cells "
                                 "by their pattern histograms into --n-clusters (default 0: "
                                 "majority vote of --n-clusters patch clusters)")),
    ],
)
