"""k-medoids with FasterPAM on KS, correlation or any scikit-learn distance.

The swap phase is FasterPAM (Schubert & Rousseeuw, "Fast and eager k-medoids
clustering: O(k) runtime improvement of the PAM, CLARA, and CLARANS algorithms",
Information Systems 101, 2021): for every non-medoid candidate the change of total
deviation of swapping it with *each* medoid is obtained in one pass over the points
from the removal loss of the medoids, and the best swap of a candidate is applied
eagerly as soon as it improves the loss. Here the candidates are evaluated in
blocks with array operations; the first improving candidate of a block is the one a
sequential scan would have taken (every earlier candidate of the block was
evaluated in the same state and did not improve), so the result is the sequential
algorithm's, with the block size adapted to how often swaps happen.
"""

import numbers
import os
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.metrics import pairwise_distances
from sklearn.metrics.pairwise import _VALID_METRICS
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from .. import _registry
from ..metrics import correlation_distances, ks_distances

__all__ = ["KMedoidsKS", "fasterpam", "kmedoids_init"]

_SERIES_METRICS = ("ks", "correlation")


# --------------------------------------------------------------------------- init
def _check_distance_matrix(D):
    D = np.asarray(D)
    if D.ndim != 2 or D.shape[0] != D.shape[1]:
        raise ValueError(f"a precomputed distance matrix must be square; got shape {D.shape}.")
    if not np.issubdtype(D.dtype, np.floating):
        D = D.astype(np.float64)
    if not np.isfinite(D).all():
        bad = np.unique(np.nonzero(~np.isfinite(D))[0])
        raise ValueError(
            f"the distance matrix contains NaN or infinite values (rows {bad[:10].tolist()}"
            f"{'...' if bad.size > 10 else ''}); with metric='correlation' this happens for "
            "constant series, with 'ks' for all-NaN series."
        )
    if (D < 0).any():
        raise ValueError("the distance matrix contains negative values.")
    return D


def _build(D, k, chunk=256):
    """PAM's greedy BUILD: the medoid that minimises the loss, then the best additions."""
    n = D.shape[0]
    sums = np.concatenate([D[s:s + chunk].sum(axis=1) for s in range(0, n, chunk)])
    medoids = [int(np.argmin(sums))]
    d_near = D[medoids[0]].astype(np.float64)
    for _ in range(1, k):
        gain = np.empty(n)
        for s in range(0, n, chunk):
            gain[s:s + chunk] = np.maximum(d_near[None, :] - D[s:s + chunk], 0).sum(axis=1)
        gain[medoids] = -np.inf
        c = int(np.argmax(gain))
        medoids.append(c)
        np.minimum(d_near, D[c], out=d_near)
    return np.asarray(medoids, dtype=np.intp)


def _kmedoids_pp(D, k, rng, n_local_trials=None):
    """Greedy k-means++ seeding on a dissimilarity: sample proportional to the distance."""
    n = D.shape[0]
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(k))
    medoids = [int(rng.randint(n))]
    d_near = D[medoids[0]].astype(np.float64)
    for _ in range(1, k):
        total = d_near.sum()
        if total <= 0:  # every point coincides with a medoid: any other point will do
            rest = np.setdiff1d(np.arange(n), medoids)
            c = int(rng.choice(rest))
        else:
            cands = np.searchsorted(np.cumsum(d_near), rng.uniform(size=n_local_trials) * total)
            cands = np.clip(cands, 0, n - 1)
            costs = np.minimum(d_near[None, :], D[cands]).sum(axis=1)
            c = int(cands[np.argmin(costs)])
        medoids.append(c)
        np.minimum(d_near, D[c], out=d_near)
    return np.asarray(medoids, dtype=np.intp)


def kmedoids_init(D, n_clusters, init="k-medoids++", random_state=None):
    """Initial medoids for :func:`fasterpam`.

    Parameters
    ----------
    D : ndarray of shape (n_samples, n_samples)
        Dissimilarities.
    n_clusters : int
        Number of medoids.
    init : {"k-medoids++", "build", "random"} or array-like of int
        ``"k-medoids++"``: greedy k-means++ seeding (first medoid uniform, then
        ``2 + log(k)`` candidates sampled proportionally to the distance to the nearest
        medoid, the one lowering the loss most kept); ``"build"``: PAM's deterministic
        BUILD; ``"random"``: ``n_clusters`` distinct points; or the indices themselves.
    random_state : int, RandomState instance or None

    Returns
    -------
    medoids : ndarray of shape (n_clusters,)
    """
    n = D.shape[0]
    rng = check_random_state(random_state)
    if isinstance(init, str):
        if init == "build":
            return _build(D, n_clusters)
        if init == "k-medoids++":
            return _kmedoids_pp(D, n_clusters, rng)
        if init == "random":
            return rng.choice(n, n_clusters, replace=False).astype(np.intp)
        raise ValueError(f"unknown init {init!r}")
    medoids = np.asarray(init, dtype=np.intp).ravel()
    if medoids.shape[0] != n_clusters or np.unique(medoids).size != n_clusters:
        raise ValueError(
            f"init must hold {n_clusters} distinct indices; got {medoids.tolist()}."
        )
    if medoids.min() < 0 or medoids.max() >= n:
        raise ValueError(f"init indices must lie in [0, {n}); got {medoids.tolist()}.")
    return medoids


# --------------------------------------------------------------------------- FasterPAM
def _assign(D, medoids):
    """Nearest and second-nearest medoid of every point."""
    Dm = D[medoids]  # (k, n)
    k, n = Dm.shape
    cols = np.arange(n)
    nearest = np.argmin(Dm, axis=0)
    d_near = Dm[nearest, cols].astype(np.float64)
    if k > 1:
        Dm2 = Dm.astype(np.float64)
        Dm2[nearest, cols] = np.inf
        d_sec = Dm2.min(axis=0)
    else:
        d_sec = np.full(n, np.inf)
    return nearest, d_near, d_sec


def fasterpam(D, medoids, max_iter=100, block_size=32, tol=None):
    """FasterPAM swap phase (eager swaps, removal-loss trick), vectorised over candidates.

    Parameters
    ----------
    D : ndarray of shape (n_samples, n_samples)
        Non-negative dissimilarities (zero diagonal).
    medoids : array-like of shape (n_clusters,)
        Initial medoid indices.
    max_iter : int, default=100
        Maximum number of passes over the candidates.
    block_size : int, default=32
        Initial number of candidates evaluated at once (doubled after every block
        without a swap, reset after a swap); it changes speed only, not the result.
    tol : float, default=None
        A swap is made when it lowers the loss by more than ``tol``; ``None`` means
        ``1e-12`` times the current loss (guards against round-off swaps).

    Returns
    -------
    medoids : ndarray of shape (n_clusters,)
    labels : ndarray of shape (n_samples,)
        Index (into ``medoids``) of each point's nearest medoid.
    loss : float
        Sum of the distances of the points to their nearest medoid.
    n_iter : int
        Number of passes made.
    n_swaps : int
        Number of swaps made.
    """
    # the products below are (block, n) x (n, k) with a tiny k: multi-threaded BLAS only
    # adds synchronisation to them (measured 10x slower on a busy 2-core machine)
    with threadpool_limits(limits=1, user_api="blas"):
        return _fasterpam(D, medoids, max_iter, block_size, tol)


def _fasterpam(D, medoids, max_iter, block_size, tol):
    n = D.shape[0]
    D = np.asarray(D, dtype=np.float64)
    medoids = np.array(medoids, dtype=np.intp)
    k = medoids.shape[0]
    rowsum = D.sum(axis=1)
    nearest, d_near, d_sec = _assign(D, medoids)
    loss = float(d_near.sum())
    if k >= n:
        return medoids, nearest, loss, 0, 0
    onehot = np.zeros((n, k))
    onehot[np.arange(n), nearest] = 1.0
    if k > 1:
        removal = np.bincount(nearest, weights=d_sec - d_near, minlength=k)
        dsec_cl = np.bincount(nearest, weights=d_sec, minlength=k)
    n_swaps = 0
    lastswap = n
    n_iter = 0
    max_block = max(block_size, 2**22 // n)  # (b, n) temporaries stay ~32 MiB
    for n_iter in range(1, max_iter + 1):
        swaps_before, loss_before = n_swaps, loss
        bs = block_size
        j = 0
        while j < n and j != lastswap:
            stop = min(n, j + bs)
            if j < lastswap < stop:
                stop = lastswap
            cand = np.arange(j, stop)
            cand = cand[d_near[cand] > 0]  # medoids and their duplicates are skipped
            found = -1
            if cand.size:
                # With A = max(D_c, d_near) and B = min(A, d_sec), per point o:
                #   closer (D_co < dn):       ΔTD* += D_co - dn,  ΔTD[n(o)] += dn - ds
                #   second (dn <= D_co < ds): ΔTD[n(o)] += D_co - ds
                # i.e. ΔTD* = sum(D_c) - sum(A) and ΔTD[m] += sum_{n(o)=m} (B - ds):
                # two element-wise passes and two small products per block.
                A = np.maximum(D[cand], d_near)  # (b, n)
                if k == 1:  # the only medoid is replaced: every point moves to c
                    delta = (rowsum[cand] - d_near.sum())[:, None]
                else:
                    SA = A @ onehot
                    shared = rowsum[cand] - SA.sum(axis=1)  # ΔTD*
                    np.minimum(A, d_sec, out=A)
                    delta = (A @ onehot) + (removal - dsec_cl)[None, :] + shared[:, None]
                best_m = np.argmin(delta, axis=1)
                best = delta[np.arange(cand.size), best_m]
                thr = -(1e-12 * max(loss, 1e-300) if tol is None else tol)
                hits = np.flatnonzero(best < thr)
                if hits.size:
                    found = int(hits[0])
            if found < 0:
                j = stop
                bs = min(2 * bs, max_block)
                continue
            c, m = int(cand[found]), int(best_m[found])
            medoids[m] = c
            nearest, d_near, d_sec = _assign(D, medoids)
            onehot[:] = 0.0
            onehot[np.arange(n), nearest] = 1.0
            if k > 1:
                removal = np.bincount(nearest, weights=d_sec - d_near, minlength=k)
                dsec_cl = np.bincount(nearest, weights=d_sec, minlength=k)
            loss = float(d_near.sum())
            n_swaps += 1
            lastswap = c
            j = c + 1
            bs = block_size
        if n_swaps == swaps_before or loss >= loss_before:
            break
    return medoids, nearest, loss, n_iter, n_swaps


def _available_memory():
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not Linux-like: do not guess
        return None


def _check_fits_in_memory(n):
    need = 2.5 * 8 * float(n) * n
    avail = _available_memory()
    if avail is not None and need > avail:
        raise ValueError(
            f"k-medoids needs the {n} x {n} distance matrix (about {need / 2**30:.1f} GiB with "
            f"temporaries) but only {avail / 2**30:.1f} GiB of memory is available; cluster a "
            "subsample or coarser grid."
        )


def _relabel_by_medoid(medoids, labels):
    """Order the clusters by medoid index so that results do not depend on swap order."""
    order = np.argsort(medoids, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return medoids[order], rank[labels]


# --------------------------------------------------------------------------- estimator
def _field_to_series(X, time_dim):
    """(time, *space) field -> (n_cells, n_times) series, spatial info, valid-cell mask."""
    import xarray as xr

    if isinstance(X, xr.DataArray):
        if isinstance(time_dim, str):
            if time_dim not in X.dims:
                raise ValueError(
                    f"time_dim={time_dim!r} is not a dimension of the DataArray {X.dims}."
                )
            dim = time_dim
        else:
            dim = X.dims[time_dim]
        X = X.transpose(dim, ...)
        space_dims = X.dims[1:]
        coords = {
            name: c for name, c in X.coords.items() if c.dims and set(c.dims) <= set(space_dims)
        }
        values = np.asarray(X.data, dtype=np.float64)
        info = (space_dims, coords, X.name)
    else:
        values = np.asarray(X, dtype=np.float64)
        if not isinstance(time_dim, numbers.Integral):
            raise ValueError(
                f"time_dim={time_dim!r} names a dimension, but X is a plain array; pass the "
                "axis index of the time dimension (e.g. 0) or a DataArray."
            )
        if not -values.ndim <= time_dim < values.ndim:
            raise ValueError(f"time_dim={time_dim} is out of range for an array of shape "
                             f"{values.shape}.")
        values = np.moveaxis(values, time_dim, 0)
        info = None
    if values.ndim < 2:
        raise ValueError(
            f"with time_dim set, X must be a field with a time dimension and at least one "
            f"spatial dimension; got shape {values.shape}."
        )
    if values.size == 0:
        raise ValueError(f"X is empty: shape {values.shape}.")
    if np.isinf(values).any():
        raise ValueError("X contains infinite values.")
    space_shape = values.shape[1:]
    series = values.reshape(values.shape[0], -1).T
    valid = ~np.isnan(series).all(axis=1)
    return series, valid, space_shape, info


class KMedoidsKS(ClusterMixin, BaseEstimator):
    """k-medoids (FasterPAM) on series with the Kolmogorov-Smirnov or correlation distance.

    Each sample is a series (a row of ``X``, or a grid cell of a field, see
    ``time_dim``). With ``metric="ks"`` two series are close when the empirical
    distributions of their values are (the order in time is ignored); with
    ``metric="correlation"`` when they co-vary (``d = 1 - Pearson r``). Any
    scikit-learn pairwise metric or a precomputed matrix works as well. The medoids
    are found with FasterPAM, implemented here and vectorised (see
    :func:`fasterpam`).

    Parameters
    ----------
    n_clusters : int, default=4
        Number of clusters (medoids).
    metric : str or callable, default="ks"
        ``"ks"`` (:func:`skdsc.metrics.ks_distances`), ``"correlation"``
        (:func:`skdsc.metrics.correlation_distances`, NaN-aware), ``"precomputed"``
        (``X`` is a square distance matrix) or any metric accepted by
        :func:`sklearn.metrics.pairwise_distances`.
    init : {"k-medoids++", "build", "random"} or array-like of shape (n_clusters,), \
            default="k-medoids++"
        Initial medoids, see :func:`kmedoids_init`.
    max_iter : int, default=100
        Maximum number of FasterPAM passes over the candidates.
    time_dim : str, int or None, default=None
        ``None``: ``X`` is 2D, one series per row (the scikit-learn convention).
        Set it to cluster the **grid cells of a field**: ``X`` is then an array or
        :class:`xarray.DataArray` such as ``(time, lat, lon)`` and ``time_dim`` is the
        name (DataArray) or axis index (array) of its time dimension; every
        combination of the other dimensions is one sample, grid cells whose series is
        all-NaN (land, outside the domain) are skipped, ``labels_map_`` holds the
        labels as a map (``-1`` on skipped cells, a DataArray with the input's
        coordinates when the input was one) and ``fit_predict``/``predict`` return
        that map.
    n_jobs : int, default=None
        Threads for the distance computation (``-1``: all cores).
    device : str, default=None
        Where the KS/correlation distances are computed: ``None``/``"cpu"`` numpy,
        ``"cuda"`` torch on the GPU, ``"auto"`` CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seeds ``"k-medoids++"`` and ``"random"`` initialisation.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of every sample (every valid grid cell in grid mode), numbered by
        increasing medoid index.
    medoid_indices_ : ndarray of shape (n_clusters,)
        Indices of the medoids among the samples.
    cluster_centers_ : ndarray of shape (n_clusters, n_features) or None
        The medoid series (``None`` with ``metric="precomputed"``).
    inertia_ : float
        Sum of the distances of the samples to their medoid.
    n_iter_ : int
        FasterPAM passes made.
    n_swaps_ : int
        Swaps made.
    labels_map_ : ndarray or DataArray
        Grid mode only: the labels on the grid, ``-1`` on skipped cells.
    cell_mask_ : ndarray of bool
        Grid mode only: the cells that were clustered.
    n_features_in_ : int
        Length of the series (number of columns, or of time steps).
    feature_names_in_ : ndarray of shape ``(n_features_in_,)``
        Defined when ``X`` has string feature names.

    See Also
    --------
    skdsc.model_selection.scree_curve : inertia over a range of ``n_clusters``.

    Notes
    -----
    k-medoids works on the full ``n_samples x n_samples`` distance matrix (float64:
    161 MB for the seed's 4488 grid cells, 3.2 GB for 20 000); ``fit`` refuses, with
    an error, a size whose matrix and temporaries (about 2.5 times the matrix) would
    not fit in the available memory. The distances are computed once
    (``O(n^2 T)``, exact, see :func:`skdsc.metrics.ks_distances`); a FasterPAM pass
    costs ``O(n^2)`` and usually a few passes are made.

    Examples
    --------
    >>> import numpy as np
    >>> from skdsc.cluster import KMedoidsKS
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(0, 1, (5, 50)), rng.exponential(3, (5, 50))])
    >>> km = KMedoidsKS(n_clusters=2, random_state=0).fit(X)
    >>> km.labels_
    array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    >>> km.predict(rng.exponential(3, (2, 50)))
    array([1, 1])
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(numbers.Integral, 1, None, closed="left")],
        "metric": [
            StrOptions({"ks", "correlation", "precomputed"} | set(_VALID_METRICS)),
            callable,
        ],
        "init": [StrOptions({"k-medoids++", "build", "random"}), "array-like"],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "time_dim": [str, Interval(numbers.Integral, None, None, closed="neither"), None],
        "n_jobs": [numbers.Integral, None],
        "device": [str, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_clusters=4,
        *,
        metric="ks",
        init="k-medoids++",
        max_iter=100,
        time_dim=None,
        n_jobs=None,
        device=None,
        random_state=None,
    ):
        self.n_clusters = n_clusters
        self.metric = metric
        self.init = init
        self.max_iter = max_iter
        self.time_dim = time_dim
        self.n_jobs = n_jobs
        self.device = device
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.metric in _SERIES_METRICS
        tags.input_tags.pairwise = self.metric == "precomputed"
        return tags

    # ------------------------------------------------------------------ helpers
    def _distances(self, A, B=None):
        if self.metric == "ks":
            return ks_distances(A, B, n_jobs=self.n_jobs, device=self.device)
        if self.metric == "correlation":
            return correlation_distances(A, B, n_jobs=self.n_jobs, device=self.device)
        return pairwise_distances(A, B, metric=self.metric, n_jobs=self.n_jobs)

    def _validate_series(self, X, reset):
        allow_nan = self.metric in _SERIES_METRICS
        X = validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan" if allow_nan else True,
            ensure_min_samples=1,
        )
        if allow_nan:
            empty = np.isnan(X).all(axis=1)
            if empty.any():
                raise ValueError(
                    f"rows {np.flatnonzero(empty)[:10].tolist()} of X are all-NaN; a series "
                    "needs at least one value (in grid mode such cells are skipped)."
                )
        return X

    # ------------------------------------------------------------------ API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Cluster the series of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or a field
            Series as rows; a square distance matrix when ``metric="precomputed"``;
            a ``(time, ...)`` field (array or DataArray) when ``time_dim`` is set.
        y : Ignored

        Returns
        -------
        self : KMedoidsKS
        """
        if self.time_dim is not None:
            if self.metric == "precomputed":
                raise ValueError("time_dim cannot be combined with metric='precomputed'.")
            series, valid, space_shape, info = _field_to_series(X, self.time_dim)
            if not valid.any():
                raise ValueError("every grid cell of X is all-NaN; nothing to cluster.")
            self.cell_mask_ = valid.reshape(space_shape)
            Xs = self._validate_series(series[valid], reset=True)
        else:
            Xs = self._validate_series(X, reset=True)

        n = Xs.shape[0]
        if self.n_clusters > n:
            raise ValueError(
                f"n_clusters={self.n_clusters} is larger than the number of samples n_samples={n}."
            )
        _check_fits_in_memory(n)
        if self.metric == "precomputed":
            if Xs.shape[0] != Xs.shape[1]:
                raise ValueError(
                    f"metric='precomputed' needs a square distance matrix; got shape {Xs.shape}."
                )
            D = Xs
        else:
            D = self._distances(Xs)
        D = _check_distance_matrix(D)
        medoids = kmedoids_init(D, self.n_clusters, self.init, self.random_state)
        medoids, labels, loss, n_iter, n_swaps = fasterpam(D, medoids, max_iter=self.max_iter)
        if n_iter >= self.max_iter and n_swaps > 0:
            from sklearn.exceptions import ConvergenceWarning

            warnings.warn(
                f"FasterPAM stopped after max_iter={self.max_iter} passes while still swapping.",
                ConvergenceWarning,
            )
        self.medoid_indices_, self.labels_ = _relabel_by_medoid(medoids, labels)
        self.labels_ = self.labels_.astype(np.intp)
        self.inertia_ = loss
        self.n_iter_ = n_iter
        self.n_swaps_ = n_swaps
        self.cluster_centers_ = None if self.metric == "precomputed" else Xs[self.medoid_indices_]
        if self.time_dim is not None:
            self.labels_map_ = self._to_map(self.labels_, valid, space_shape, info)
        return self

    @staticmethod
    def _to_map(labels, valid, space_shape, info):
        full = np.full(valid.shape[0], -1, dtype=np.intp)
        full[valid] = labels
        full = full.reshape(space_shape)
        if info is None:
            return full
        import xarray as xr

        dims, coords, _ = info
        return xr.DataArray(full, dims=dims, coords=coords, name="cluster")

    def fit_predict(self, X, y=None):
        """Fit and return the labels (the label map in grid mode)."""
        self.fit(X)
        return self.labels_map_ if self.time_dim is not None else self.labels_

    def predict(self, X):
        """Assign new series to the nearest medoid under the same metric.

        Parameters
        ----------
        X : array-like of shape (n_samples_new, n_features), or a field
            New series; with ``metric="precomputed"`` the distances of the new samples
            to the training samples, shape ``(n_samples_new, n_samples_fit)``; in grid
            mode a field with the time dimension ``time_dim``.

        Returns
        -------
        labels : ndarray of shape (n_samples_new,), or the label map in grid mode
        """
        check_is_fitted(self)
        if self.time_dim is not None:
            series, valid, space_shape, info = _field_to_series(X, self.time_dim)
            Xs = self._validate_series(series[valid], reset=False)
        else:
            Xs = self._validate_series(X, reset=False)
        if self.metric == "precomputed":
            Dm = Xs[:, self.medoid_indices_]
        else:
            Dm = self._distances(Xs, self.cluster_centers_)
        if np.isnan(Dm).any():
            raise ValueError("distances to the medoids are undefined (NaN) for some samples.")
        labels = np.argmin(Dm, axis=1).astype(np.intp)
        if self.time_dim is not None:
            return self._to_map(labels, valid, space_shape, info)
        return labels


# --------------------------------------------------------------------------- CLI
def _cli_factory(n_clusters=4, random_state=None, **params):
    return KMedoidsKS(n_clusters=n_clusters, random_state=random_state, **params)


def _cli_run(estimator, data, options):
    """Cluster the grid cells of a ``(time, lat, lon)`` DataArray; return the label map.

    The first dimension of ``data`` is the time axis of the series (``--param
    metric=correlation`` switches the distance).
    """
    estimator.set_params(time_dim=data.dims[0])
    return estimator.fit_predict(data)


_registry.register_method(
    "kmedoids-ks",
    _cli_factory,
    input="grid-cells",
    run=_cli_run,
    description="k-medoids (FasterPAM) of grid-cell series; KS distance "
    "(--param metric=correlation for 1 - Pearson r)",
)
