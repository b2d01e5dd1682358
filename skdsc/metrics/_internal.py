"""Internal clustering measures: quality judged from the data and the labels only.

Two families live here.

* Wrappers of the silhouette coefficient, the Davies-Bouldin index and the
  Calinski-Harabasz index with a ``metric`` option, a ``sample_size`` option for
  large ``n`` and a documented worst value (plus a
  :class:`~skdsc.metrics.DegenerateClusteringWarning`) instead of an exception when
  the clustering has a single cluster or only singletons.
* The measures of the A-DATSC paper (seed 000) as its reference evaluation code
  defines them: average RMSE, average variance and average inter-cluster distance.

Everything is vectorised; the only Python loops run over clusters, and the
single-link distances between clusters are computed block-wise with
:func:`sklearn.metrics.pairwise_distances_chunked` so memory stays bounded.
"""

import warnings

import numpy as np
from sklearn.metrics import (
    calinski_harabasz_score,
    pairwise_distances,
    pairwise_distances_chunked,
    silhouette_score,
)
from sklearn.preprocessing import normalize
from sklearn.utils import check_random_state

from ._base import DegenerateClusteringWarning, _check_data_labels

__all__ = [
    "average_inter_cluster_distance",
    "average_rmse",
    "average_variance",
    "calinski_harabasz",
    "davies_bouldin",
    "inter_cluster_distance_matrix",
    "silhouette",
]

SILHOUETTE_WORST = -1.0
DAVIES_BOULDIN_WORST = float("inf")
CALINSKI_HARABASZ_WORST = 0.0


def _subsample(X, codes, sample_size, random_state, precomputed=False):
    """Draw ``sample_size`` samples exactly as :func:`sklearn.metrics.silhouette_score`."""
    if sample_size is None:
        return X, codes
    if isinstance(sample_size, (bool, np.bool_)) or not isinstance(sample_size, (int, np.integer)):
        raise TypeError(f"sample_size must be an int or None; got {sample_size!r}.")
    if sample_size < 1:
        raise ValueError(f"sample_size must be at least 1; got {sample_size}.")
    rng = check_random_state(random_state)
    idx = rng.permutation(X.shape[0])[:sample_size]
    if precomputed:
        return X[idx][:, idx], codes[idx]
    return X[idx], codes[idx]


def _prepare(X, labels, metric, sample_size, random_state):
    """Validate, subsample and re-encode the labels as ``0..K-1``."""
    X, codes, _ = _check_data_labels(X, labels, metric=metric)
    X, codes = _subsample(X, codes, sample_size, random_state, precomputed=metric == "precomputed")
    _, codes = np.unique(codes, return_inverse=True)
    codes = codes.reshape(-1)
    return X, codes, int(codes.max()) + 1


def _is_degenerate(n_labels, n_samples, name, worst):
    """True (and warn) when the clustering has one cluster or only singletons."""
    if 2 <= n_labels <= n_samples - 1:
        return False
    what = "a single cluster" if n_labels < 2 else "only singleton clusters"
    warnings.warn(
        f"{name} is undefined for a clustering with {what} ({n_labels} clusters, "
        f"{n_samples} samples); returning its worst value {worst}.",
        DegenerateClusteringWarning,
        stacklevel=3,
    )
    return True


def silhouette(X, labels, *, metric="euclidean", sample_size=None, random_state=None, **kwds):
    """Mean silhouette coefficient, with a worst value for degenerate clusterings.

    ``s_i = (b_i - a_i) / max(a_i, b_i)`` with ``a_i`` the mean distance of sample
    ``i`` to the other members of its cluster and ``b_i`` the smallest mean
    distance to the members of another cluster; the score is the mean of ``s_i``
    (:func:`sklearn.metrics.silhouette_score`).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (n_samples, n_samples)
        Data, or a distance matrix when ``metric="precomputed"``.
    labels : array-like of shape (n_samples,)
        Cluster labels.
    metric : str or callable, default="euclidean"
        Any metric accepted by :func:`sklearn.metrics.pairwise_distances`, e.g.
        ``"cosine"`` (used by the A-DATSC evaluation code) or ``"precomputed"``.
    sample_size : int, default=None
        If given, the score is computed on a random subset of this many samples,
        drawn exactly as :func:`sklearn.metrics.silhouette_score` draws it (the same
        ``random_state`` gives the same subset).
    random_state : int, RandomState instance or None, default=None
        Seed of the subsampling; pass an int for a reproducible score.
    **kwds
        Passed to the distance function.

    Returns
    -------
    score : float
        In ``[-1, 1]``, higher is better. ``-1.0`` (the worst value) with a
        :class:`~skdsc.metrics.DegenerateClusteringWarning` when the (subsampled)
        clustering has a single cluster or only singleton clusters.

    Examples
    --------
    >>> import numpy as np
    >>> from skdsc.metrics import silhouette
    >>> X = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> round(silhouette(X, [0, 0, 1, 1]), 4)
    0.98
    """
    X, codes, n_labels = _prepare(X, labels, metric, sample_size, random_state)
    if _is_degenerate(n_labels, X.shape[0], "The silhouette", SILHOUETTE_WORST):
        return SILHOUETTE_WORST
    return float(silhouette_score(X, codes, metric=metric, **kwds))


def davies_bouldin(X, labels, *, metric="euclidean", sample_size=None, random_state=None):
    """Davies-Bouldin index with a choice of metric and subsampling.

    ``DB = (1/K) sum_k max_{l != k} (s_k + s_l) / d(c_k, c_l)`` where ``c_k`` is the
    mean of cluster ``k``, ``s_k`` the mean distance of its members to ``c_k`` and
    ``d`` the chosen metric. With ``metric="euclidean"`` this equals
    :func:`sklearn.metrics.davies_bouldin_score`, including its conventions (0.0
    when all ``s_k`` or all centroid distances are zero; a zero centroid distance
    is treated as infinite).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data (a feature space is needed for the centroids, so
        ``metric="precomputed"`` is refused).
    labels : array-like of shape (n_samples,)
        Cluster labels.
    metric : str or callable, default="euclidean"
        Distance between samples and centroids and between centroids, any metric
        of :func:`sklearn.metrics.pairwise_distances` but ``"precomputed"``.
    sample_size : int, default=None
        Compute on a random subset of this many samples (drawn as
        :func:`silhouette` draws it).
    random_state : int, RandomState instance or None, default=None
        Seed of the subsampling.

    Returns
    -------
    score : float
        Non-negative, lower is better. ``+inf`` (the worst value) with a
        :class:`~skdsc.metrics.DegenerateClusteringWarning` for a single cluster or
        only singleton clusters.

    Examples
    --------
    >>> import numpy as np
    >>> from skdsc.metrics import davies_bouldin
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> davies_bouldin(X, [0, 0, 1, 1])
    0.1
    """
    if metric == "precomputed":
        raise ValueError(
            "davies_bouldin needs cluster centroids in feature space; "
            "metric='precomputed' is not supported."
        )
    X, codes, n_labels = _prepare(X, labels, metric, sample_size, random_state)
    if _is_degenerate(n_labels, X.shape[0], "The Davies-Bouldin index", DAVIES_BOULDIN_WORST):
        return DAVIES_BOULDIN_WORST
    Xs, _, starts, counts = _sorted_blocks(X, codes, n_labels)
    centroids = np.add.reduceat(Xs, starts, axis=0) / counts[:, None]
    # mean distance of each cluster's members to its centroid (loop over clusters)
    intra = np.empty(n_labels)
    for k in range(n_labels):
        block = Xs[starts[k] : starts[k] + counts[k]]
        intra[k] = pairwise_distances(block, centroids[k : k + 1], metric=metric).mean()
    centroid_distances = pairwise_distances(centroids, metric=metric)
    if np.allclose(intra, 0) or np.allclose(centroid_distances, 0):
        return 0.0
    centroid_distances[centroid_distances == 0] = np.inf
    combined = intra[:, None] + intra[None, :]
    return float(np.mean(np.max(combined / centroid_distances, axis=1)))


def calinski_harabasz(X, labels, *, metric="euclidean", sample_size=None, random_state=None):
    """Calinski-Harabasz index (variance ratio) with subsampling and a cosine option.

    ``CH = [B / (K - 1)] / [W / (n - K)]`` with ``B`` the between-cluster and ``W``
    the within-cluster sum of squared distances to the means
    (:func:`sklearn.metrics.calinski_harabasz_score`).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data.
    labels : array-like of shape (n_samples,)
        Cluster labels.
    metric : {"euclidean", "cosine"}, default="euclidean"
        ``"cosine"`` computes the index on the L2-normalised rows. Between unit
        vectors the squared Euclidean distance is twice the cosine distance, and a
        sum of squares to a mean is a sum over pairs, so the dispersions become
        ``W = sum_k (1/n_k) sum_{i, j in k} d_cos(x_i, x_j)`` (ordered pairs) and
        ``B = (1/n) sum_{i, j} d_cos(x_i, x_j) - W``: a cosine-distance version of
        the index.
    sample_size : int, default=None
        Compute on a random subset of this many samples (drawn as
        :func:`silhouette` draws it).
    random_state : int, RandomState instance or None, default=None
        Seed of the subsampling.

    Returns
    -------
    score : float
        Non-negative, higher is better. ``0.0`` (the worst value) with a
        :class:`~skdsc.metrics.DegenerateClusteringWarning` for a single cluster or
        only singleton clusters.

    Examples
    --------
    >>> import numpy as np
    >>> from skdsc.metrics import calinski_harabasz
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> calinski_harabasz(X, [0, 0, 1, 1])
    200.0
    """
    if metric not in ("euclidean", "cosine"):
        raise ValueError(
            f"calinski_harabasz supports metric 'euclidean' or 'cosine'; got {metric!r}."
        )
    X, codes, n_labels = _prepare(X, labels, metric, sample_size, random_state)
    if _is_degenerate(n_labels, X.shape[0], "The Calinski-Harabasz index", CALINSKI_HARABASZ_WORST):
        return CALINSKI_HARABASZ_WORST
    if metric == "cosine":
        X = normalize(X)
    return float(calinski_harabasz_score(X, codes))


def _sorted_blocks(X, codes, n_labels):
    """Samples sorted by cluster, and where each cluster's block starts."""
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=n_labels)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    return X[order], codes[order], starts, counts


def average_rmse(X, labels):
    """Average root-mean-squared error of the samples to their cluster mean.

    As defined by the evaluation code accompanying A-DATSC (seed 000)::

        RMSE = sqrt( sum_i ||x_i - mu_{c(i)}||^2 / N )

    with ``mu_k`` the mean of cluster ``k`` and ``N`` the number of samples: the
    squared errors are summed over every sample *and every feature* and divided
    by the number of samples only (not by ``N * n_features``).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data (the tabular ``[time, (lon, lat, var)]`` matrix in the paper).
    labels : array-like of shape (n_samples,)
        Cluster labels.

    Returns
    -------
    rmse : float
        Non-negative, lower is better; 0 when every sample equals its cluster mean.

    Examples
    --------
    >>> import numpy as np
    >>> from skdsc.metrics import average_rmse
    >>> X = np.array([[0.0, 0.0], [2.0, 0.0], [5.0, 5.0], [5.0, 7.0]])
    >>> average_rmse(X, [0, 0, 1, 1])
    1.0
    """
    X, codes, n_labels = _check_data_labels(X, labels)
    Xs, _, starts, counts = _sorted_blocks(X, codes, n_labels)
    sse = 0.0
    for k in range(n_labels):
        block = Xs[starts[k] : starts[k] + counts[k]]
        sse += float(np.sum((block - block.mean(axis=0)) ** 2))
    return float(np.sqrt(sse / X.shape[0]))


def average_variance(X, labels):
    """Size-weighted average of the variance of all entries of each cluster.

    As defined by the evaluation code accompanying A-DATSC (seed 000)::

        Variance = sum_k n_k * var(X_k) / N

    where ``X_k`` is the ``n_k x n_features`` block of cluster ``k`` and ``var``
    is the population variance (``ddof=0``) of *all its entries pooled together*
    (``numpy.var`` of the block, not a per-feature variance): the spread across
    features counts as well as the spread across samples.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data.
    labels : array-like of shape (n_samples,)
        Cluster labels.

    Returns
    -------
    variance : float
        Non-negative, lower is better.

    Examples
    --------
    >>> import numpy as np
    >>> from skdsc.metrics import average_variance
    >>> X = np.array([[0.0, 2.0], [0.0, 2.0], [5.0, 5.0], [5.0, 5.0]])
    >>> average_variance(X, [0, 0, 1, 1])
    0.5
    """
    X, codes, n_labels = _check_data_labels(X, labels)
    Xs, _, starts, counts = _sorted_blocks(X, codes, n_labels)
    total = 0.0
    for k in range(n_labels):
        block = Xs[starts[k] : starts[k] + counts[k]]
        total += counts[k] * float(np.var(block))
    return float(total / X.shape[0])


def inter_cluster_distance_matrix(X, labels, *, metric="euclidean", working_memory=64):
    """K x K matrix of cluster diameters (diagonal) and single-link distances.

    As built by the evaluation code accompanying A-DATSC (seed 000)::

        M[k, k] = max_{i, j in k} d(x_i, x_j)            (diameter)
        M[k, l] = min_{i in k, j in l} d(x_i, x_j)       (single link, k != l)

    The pairwise distances are computed in row blocks
    (:func:`sklearn.metrics.pairwise_distances_chunked`), so memory is bounded by
    ``working_memory`` while time is ``O(n^2)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data.
    labels : array-like of shape (n_samples,)
        Cluster labels; row/column ``k`` is the ``k``-th smallest label.
    metric : str or callable, default="euclidean"
        Any metric of :func:`sklearn.metrics.pairwise_distances` but
        ``"precomputed"``.
    working_memory : float, default=64
        Memory budget in MiB of one block of pairwise distances (``None``: the
        scikit-learn global setting, 1024 MiB by default).

    Returns
    -------
    M : ndarray of shape (n_clusters, n_clusters)
        Symmetric; the diameter of a singleton cluster is 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skdsc.metrics import inter_cluster_distance_matrix
    >>> X = np.array([[0.0], [1.0], [4.0], [6.0]])
    >>> inter_cluster_distance_matrix(X, [0, 0, 1, 1]).tolist()
    [[1.0, 3.0], [3.0, 2.0]]
    """
    if metric == "precomputed":
        raise ValueError("metric='precomputed' is not supported here; pass the data.")
    X, codes, n_labels = _check_data_labels(X, labels)
    Xs, cs, starts, _ = _sorted_blocks(X, codes, n_labels)
    single = np.full((n_labels, n_labels), np.inf)
    diameter = np.zeros(n_labels)
    row0 = 0
    for D in pairwise_distances_chunked(Xs, metric=metric, working_memory=working_memory):
        # per row: min / max distance to each cluster (columns are cluster blocks)
        col_min = np.minimum.reduceat(D, starts, axis=1)
        col_max = np.maximum.reduceat(D, starts, axis=1)
        rows = cs[row0 : row0 + D.shape[0]]
        seg = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        seg_labels = rows[seg]
        seg_min = np.minimum.reduceat(col_min, seg, axis=0)
        seg_max = np.maximum.reduceat(col_max, seg, axis=0)
        single[seg_labels] = np.minimum(single[seg_labels], seg_min)
        diameter[seg_labels] = np.maximum(
            diameter[seg_labels], seg_max[np.arange(seg.shape[0]), seg_labels]
        )
        row0 += D.shape[0]
    M = np.minimum(single, single.T)
    M[np.diag_indices(n_labels)] = diameter
    return M


def average_inter_cluster_distance(X, labels, *, metric="euclidean", working_memory=64):
    """Average inter-cluster distance (I-CD) of the A-DATSC evaluation.

    As reduced by the evaluation code accompanying A-DATSC (seed 000): from the
    matrix ``M`` of :func:`inter_cluster_distance_matrix` (diameters on the
    diagonal, single-link distances off it), take for every cluster the smallest
    entry of its column -- the diagonal included -- and average over clusters::

        I-CD = (1/K) sum_k min( M[k, k], min_{l != k} M[l, k] )

    So each cluster contributes its distance to the nearest other cluster, capped
    by its own diameter (a singleton contributes 0). With a single cluster the
    value is that cluster's diameter.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data.
    labels : array-like of shape (n_samples,)
        Cluster labels.
    metric : str or callable, default="euclidean"
        Distance between samples (the reference uses Euclidean).
    working_memory : float, default=64
        Memory budget in MiB of one block of pairwise distances.

    Returns
    -------
    icd : float
        Non-negative, higher is better.

    Examples
    --------
    >>> import numpy as np
    >>> from skdsc.metrics import average_inter_cluster_distance
    >>> X = np.array([[0.0], [1.0], [4.0], [6.0]])
    >>> average_inter_cluster_distance(X, [0, 0, 1, 1])
    1.5
    """
    M = inter_cluster_distance_matrix(X, labels, metric=metric, working_memory=working_memory)
    return float(np.mean(np.min(M, axis=0)))
