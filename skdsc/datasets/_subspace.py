"""Unions of low-dimensional linear or curved subspaces."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["make_subspace_clusters"]


def _split_sizes(n_samples, n_clusters):
    """Cluster sizes as equal as possible (the first ones one larger)."""
    sizes = np.full(n_clusters, n_samples // n_clusters)
    sizes[: n_samples % n_clusters] += 1
    return sizes


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "subspace_dim": [Interval(Integral, 1, None, closed="left")],
        "curvature": [Interval(Real, 0, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_subspace_clusters(
    n_samples=300,
    n_features=30,
    n_clusters=3,
    subspace_dim=3,
    curvature=0.0,
    noise=0.05,
    shuffle=True,
    random_state=None,
):
    """Generate points on a union of low-dimensional (curved) subspaces.

    Generative model, for cluster ``k`` with ``d = subspace_dim`` and
    ``D = n_features``:

    * a random orthonormal basis ``[U_k, W_k]`` (``D x d`` each, ``W_k``
      orthogonal to ``U_k``; QR of a Gaussian matrix, drawn independently per
      cluster, so the subspaces intersect only at the origin but are not
      orthogonal to one another);
    * coordinates ``t ~ N(0, I_d / d)`` (so ``E||U_k t||^2 = 1``);
    * ``x = U_k t + curvature * W_k phi(t) + noise * e`` with
      ``phi(t)_j = (d * t_j^2 - 1) / sqrt(2 d)`` (a paraboloid bending the flat
      subspace into the ``W_k`` directions; ``curvature = 0`` gives linear
      subspaces through the origin) and ``e ~ N(0, I_D)``.

    All subspaces pass through the origin, so the clusters overlap near it and
    centroid-based methods (KMeans) fail where subspace clustering succeeds.

    Parameters
    ----------
    n_samples : int, default=300
        Total number of points, split as evenly as possible over the clusters.
    n_features : int, default=30
        Ambient dimension ``D``; needs ``D >= d`` (``D >= 2 d`` when
        ``curvature > 0``).
    n_clusters : int, default=3
        Number of subspaces.
    subspace_dim : int, default=3
        Intrinsic dimension ``d`` of each subspace.
    curvature : float, default=0.0
        Strength of the quadratic bending.
    noise : float, default=0.05
        Standard deviation of the isotropic Gaussian noise per feature.
    shuffle : bool, default=True
        Shuffle the points; otherwise they come cluster by cluster.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator; the same value gives identical arrays.

    Returns
    -------
    X : ndarray of float32 of shape (n_samples, n_features)
    y : ndarray of int64 of shape (n_samples,)
        Subspace index of each point.

    Examples
    --------
    >>> from skdsc.datasets import make_subspace_clusters
    >>> X, y = make_subspace_clusters(n_samples=90, n_features=20, n_clusters=3,
    ...                               subspace_dim=2, random_state=0)
    >>> X.shape, X.dtype, sorted(set(y.tolist()))
    ((90, 20), dtype('float32'), [0, 1, 2])
    """
    d, D = subspace_dim, n_features
    need = 2 * d if curvature > 0 else d
    if D < need:
        raise ValueError(
            f"n_features={D} is too small for subspace_dim={d}"
            + (" with curvature > 0 (needs n_features >= 2 * subspace_dim)." if curvature > 0
               else " (needs n_features >= subspace_dim).")
        )
    if n_clusters > n_samples:
        raise ValueError(f"n_clusters={n_clusters} is larger than n_samples={n_samples}.")
    rng = check_random_state(random_state)
    sizes = _split_sizes(n_samples, n_clusters)
    X = np.empty((n_samples, D))
    y = np.repeat(np.arange(n_clusters), sizes)
    start = 0
    for k, size in enumerate(sizes):
        Q, _ = np.linalg.qr(rng.standard_normal((D, need)))
        U, W = Q[:, :d], Q[:, d:need]
        t = rng.standard_normal((size, d)) / np.sqrt(d)
        Xk = t @ U.T
        if curvature > 0:
            phi = (d * t**2 - 1.0) / np.sqrt(2.0 * d)
            Xk += curvature * phi @ W.T
        X[start:start + size] = Xk
        start += size
    X += noise * rng.standard_normal(X.shape)
    if shuffle:
        perm = rng.permutation(n_samples)
        X, y = X[perm], y[perm]
    return X.astype(np.float32), y.astype(np.int64)
