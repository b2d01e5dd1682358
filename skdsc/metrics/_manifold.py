"""Multi-manifold learning quality: how well an embedding keeps the input's geometry.

The six metrics of GCML (Wu et al., WACV 2022, Appendix A.3), as its authors
evaluate them: relative rank error (RRE), trustworthiness, continuity, distance
RMSE (d-RMSE), locally geometric distortion (LGD) and cluster rank accuracy (CRA).
The neighbourhood metrics are averaged over ``k = 3..7`` neighbours.

Ranks follow :func:`sklearn.manifold.trustworthiness`: for a point ``i`` the rank
``r(i, j)`` of another point ``j`` is its position (1 = nearest) when all other
points are sorted by distance to ``i``. Everything is computed block by block of
rows (memory ``O(block * n)``, never ``n x n`` at once); ``sample_size`` restricts
the computation to a random subsample for large ``n`` (time ``O(s^2 log s)``).
numpy/scipy/scikit-learn only.
"""

from numbers import Integral

import numpy as np
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils import check_array, check_random_state

__all__ = [
    "manifold_metrics",
    "relative_rank_error",
    "trustworthiness",
    "continuity",
    "distance_rmse",
    "local_geometric_distortion",
    "cluster_rank_accuracy",
]

_DEFAULT_K = (3, 4, 5, 6, 7)
# entries of one (rows x n) block of distances/ranks
_BLOCK_ENTRIES = 2**21


def cdist(A, B):
    """Euclidean distances (float64, BLAS-based; exact zeros are not guaranteed)."""
    return euclidean_distances(A, B)


def _check_pair(X, Z):
    X = check_array(X, dtype=np.float64, ensure_min_samples=2)
    Z = check_array(Z, dtype=np.float64, ensure_min_samples=2)
    if X.shape[0] != Z.shape[0]:
        raise ValueError(
            f"X and Z must have the same number of samples, got {X.shape[0]} and {Z.shape[0]}."
        )
    return X, Z


def _check_ks(n_neighbors, n_samples):
    ks = (n_neighbors,) if isinstance(n_neighbors, Integral) else tuple(int(k) for k in n_neighbors)
    if not ks:
        raise ValueError("n_neighbors must name at least one neighbourhood size.")
    for k in ks:
        if k < 1 or k >= n_samples / 2:
            raise ValueError(
                f"n_neighbors={k} must be >= 1 and < n_samples / 2 = {n_samples / 2} "
                "(lower it or raise sample_size)."
            )
    return ks


def _subsample(X, Z, sample_size, random_state):
    n = X.shape[0]
    if sample_size is None or sample_size >= n:
        return X, Z
    if sample_size < 2:
        raise ValueError(f"sample_size={sample_size} must be at least 2.")
    idx = np.sort(check_random_state(random_state).choice(n, sample_size, replace=False))
    return X[idx], Z[idx]


def _ranks(D):
    """Neighbour order and ranks of each row of a block of distances (self set to inf)."""
    order = np.argsort(D, axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(D.shape[0])[:, None]
    ranks[rows, order] = np.arange(1, D.shape[1] + 1)
    return order, ranks


def _neighbourhood_sums(X, Z, ks):
    """One blocked pass over all rows; per ``k`` the sums behind every metric."""
    n, dx, dz = X.shape[0], X.shape[1], Z.shape[1]
    kmax = max(ks)
    sums = {name: np.zeros(len(ks)) for name in ("trust", "cont", "mrre_zx", "mrre_xz", "lgd")}
    sq_dist_diff = 0.0
    block = max(1, _BLOCK_ENTRIES // n)
    for s in range(0, n, block):
        rows = np.arange(s, min(s + block, n))
        DX = cdist(X[rows], X)
        DZ = cdist(Z[rows], Z)
        sq_dist_diff += float(np.sum((DX - DZ) ** 2))
        local = np.arange(rows.size)
        DX[local, rows] = np.inf
        DZ[local, rows] = np.inf
        order_x, rank_x = _ranks(DX)
        order_z, rank_z = _ranks(DZ)
        nx, nz = order_x[:, :kmax], order_z[:, :kmax]
        li = local[:, None]
        rx_of_nz, rz_of_nz = rank_x[li, nz], rank_z[li, nz]  # ranks of the Z-neighbours
        rx_of_nx, rz_of_nx = rank_x[li, nx], rank_z[li, nx]  # ranks of the X-neighbours
        lgd_terms = (DX[li, nx] / np.sqrt(dx) - DZ[li, nx] / np.sqrt(dz)) ** 2
        for a, k in enumerate(ks):
            sums["trust"][a] += np.sum(np.maximum(rx_of_nz[:, :k] - k, 0))
            sums["cont"][a] += np.sum(np.maximum(rz_of_nx[:, :k] - k, 0))
            sums["mrre_zx"][a] += np.sum(np.abs(rx_of_nz[:, :k] - rz_of_nz[:, :k]) / rz_of_nz[:, :k])
            sums["mrre_xz"][a] += np.sum(np.abs(rx_of_nx[:, :k] - rz_of_nx[:, :k]) / rx_of_nx[:, :k])
            sums["lgd"][a] += np.sum(lgd_terms[:, :k])
    return sums, sq_dist_diff


def _from_sums(sums, sq_dist_diff, n, ks):
    ks_arr = np.asarray(ks, dtype=float)
    norm_t = 2.0 / (n * ks_arr * (2.0 * n - 3.0 * ks_arr - 1.0))
    mrre_norm = np.array([n * sum(abs(2 * j - n) / j for j in range(1, k + 1)) for k in ks])
    return {
        "rre": float(np.mean((sums["mrre_zx"] + sums["mrre_xz"]) / mrre_norm) / 2.0),
        "trust": float(np.mean(1.0 - norm_t * sums["trust"])),
        "cont": float(np.mean(1.0 - norm_t * sums["cont"])),
        "d_rmse": float(np.sqrt(sq_dist_diff / n**2)),
        "lgd": float(np.mean(np.sqrt(sums["lgd"] / (ks_arr * n)))),
    }


def _compute(X, Z, n_neighbors, sample_size, random_state):
    X, Z = _check_pair(X, Z)
    X, Z = _subsample(X, Z, sample_size, random_state)
    ks = _check_ks(n_neighbors, X.shape[0])
    sums, sq = _neighbourhood_sums(X, Z, ks)
    return _from_sums(sums, sq, X.shape[0], ks)


def manifold_metrics(X, Z, labels=None, *, n_neighbors=_DEFAULT_K, sample_size=None, random_state=None):
    """All six multi-manifold metrics of GCML in one pass.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Input space.
    Z : array-like of shape (n_samples, n_components)
        Embedding.
    labels : array-like of shape (n_samples,), optional
        Cluster labels for :func:`cluster_rank_accuracy` (computed on all samples);
        without them ``"cra"`` is absent.
    n_neighbors : int or sequence of int, default=(3, 4, 5, 6, 7)
        Neighbourhood sizes ``k``; the neighbourhood metrics are averaged over them.
    sample_size : int or None, default=None
        Evaluate the pairwise metrics on a random subsample of this size.
    random_state : int, RandomState instance or None, default=None
        Draws the subsample.

    Returns
    -------
    dict
        ``{"rre", "trust", "cont", "d_rmse", "lgd"}`` and ``"cra"`` with ``labels``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.RandomState(0).rand(40, 3)
    >>> m = manifold_metrics(X, X, labels=np.arange(40) % 4)
    >>> m["trust"], m["cont"], m["rre"], m["d_rmse"], m["lgd"], m["cra"]
    (1.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    """
    out = _compute(X, Z, n_neighbors, sample_size, random_state)
    if labels is not None:
        out["cra"] = cluster_rank_accuracy(X, Z, labels)
    return out


def relative_rank_error(X, Z, *, n_neighbors=_DEFAULT_K, sample_size=None, random_state=None):
    """Relative rank error (RRE), lower is better.

    The mean of the two mean relative rank errors of Lee and Verleysen,
    ``MRRE_ZX = sum_i sum_{j in N_Z^k(i)} |r_X - r_Z| / r_Z`` and
    ``MRRE_XZ = sum_i sum_{j in N_X^k(i)} |r_X - r_Z| / r_X``, each divided by
    ``n * sum_{j=1..k} |2j - n| / j``; averaged over ``n_neighbors``.
    Parameters as in :func:`manifold_metrics`.
    """
    return _compute(X, Z, n_neighbors, sample_size, random_state)["rre"]


def trustworthiness(X, Z, *, n_neighbors=_DEFAULT_K, sample_size=None, random_state=None):
    """Trustworthiness averaged over ``n_neighbors`` (higher is better).

    For one ``k`` it equals :func:`sklearn.manifold.trustworthiness`:
    ``1 - 2 / (n k (2n - 3k - 1)) * sum_i sum_{j in N_Z^k(i)} max(0, r_X(i, j) - k)``.
    Parameters as in :func:`manifold_metrics`.
    """
    return _compute(X, Z, n_neighbors, sample_size, random_state)["trust"]


def continuity(X, Z, *, n_neighbors=_DEFAULT_K, sample_size=None, random_state=None):
    """Continuity: trustworthiness with the two spaces swapped (higher is better).

    Parameters as in :func:`manifold_metrics`.
    """
    return _compute(X, Z, n_neighbors, sample_size, random_state)["cont"]


def distance_rmse(X, Z, *, sample_size=None, random_state=None):
    """d-RMSE: ``sqrt(sum_ij (d_X(i, j) - d_Z(i, j))^2 / n^2)`` (lower is better).

    Raw Euclidean distances of both spaces (no rescaling).
    """
    X, Z = _check_pair(X, Z)
    X, Z = _subsample(X, Z, sample_size, random_state)
    n = X.shape[0]
    block = max(1, _BLOCK_ENTRIES // n)
    total = sum(float(np.sum((cdist(X[s:s + block], X) - cdist(Z[s:s + block], Z)) ** 2))
                for s in range(0, n, block))
    return float(np.sqrt(total / n**2))


def local_geometric_distortion(X, Z, *, n_neighbors=_DEFAULT_K, sample_size=None, random_state=None):
    """Locally geometric distortion (LGD), lower is better.

    ``sqrt(sum_i sum_{j in N_X^k(i)} (d_X / sqrt(D) - d_Z / sqrt(m))^2 / (k n))``
    with ``D``, ``m`` the input and embedding dimensions; averaged over
    ``n_neighbors``. Parameters as in :func:`manifold_metrics`.
    """
    return _compute(X, Z, n_neighbors, sample_size, random_state)["lgd"]


def cluster_rank_accuracy(X, Z, labels):
    """Cluster rank accuracy (CRA), higher is better.

    The centres of the clusters (means per label) are computed in both spaces;
    each row of the ``K x K`` centre-distance matrices is argsorted, and CRA is
    the fraction of the ``K^2`` positions where the two orders agree (1.0: every
    cluster sees the others in the same order of distance in both spaces).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    Z : array-like of shape (n_samples, n_components)
    labels : array-like of shape (n_samples,)

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0], [30.0], [31.0]])
    >>> cluster_rank_accuracy(X, X * 2, [0, 0, 1, 1, 2, 2])
    1.0
    """
    X, Z = _check_pair(X, Z)
    labels = np.asarray(labels)
    if labels.shape != (X.shape[0],):
        raise ValueError(f"labels must have shape ({X.shape[0]},), got {labels.shape}.")
    uniq, inverse = np.unique(labels, return_inverse=True)
    counts = np.bincount(inverse).astype(float)[:, None]
    cx = np.zeros((uniq.size, X.shape[1]))
    cz = np.zeros((uniq.size, Z.shape[1]))
    np.add.at(cx, inverse, X)
    np.add.at(cz, inverse, Z)
    cx /= counts
    cz /= counts
    order_x = np.argsort(cdist(cx, cx), axis=1, kind="stable")
    order_z = np.argsort(cdist(cz, cz), axis=1, kind="stable")
    return float(np.mean(order_x == order_z))
