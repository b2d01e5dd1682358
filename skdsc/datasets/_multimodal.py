"""Several modalities (images and vectors) of the same clustered samples."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from ._fields import smooth_field
from ._subspace import _split_sizes

__all__ = ["make_multimodal_clusters"]


def _modality_groups(n_modalities, n_clusters):
    """Row m: the cluster -> prototype map of modality m (clusters m and m+1 merged)."""
    groups = np.tile(np.arange(n_clusters), (n_modalities, 1))
    if n_clusters < 3:  # merging would leave nothing to see in a modality
        return groups
    for m in range(n_modalities):
        a, b = m % n_clusters, (m + 1) % n_clusters
        row = np.arange(n_clusters)
        row[b] = a
        groups[m] = np.unique(row, return_inverse=True)[1]
    return groups


def _check_modalities(modalities):
    shapes = []
    for spec in modalities:
        if isinstance(spec, Integral) and not isinstance(spec, bool) and spec >= 1:
            shapes.append(int(spec))
        elif (
            isinstance(spec, (tuple, list)) and len(spec) == 3
            and all(isinstance(v, Integral) and v >= 1 for v in spec)
        ):
            shapes.append(tuple(int(v) for v in spec))
        else:
            raise ValueError(
                "Each modality must be an int (vector dimension) or a tuple (h, w, c) of "
                f"positive ints, got {spec!r}."
            )
    if not shapes:
        raise ValueError("modalities must name at least one modality.")
    return shapes


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "modalities": [list, tuple],
        "noise": [Interval(Real, 0, None, closed="left")],
        "nuisance": [Interval(Real, 0, None, closed="left")],
        "shuffle": ["boolean"],
        "return_groups": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_multimodal_clusters(
    n_samples=300,
    n_clusters=4,
    modalities=((16, 16, 1), (8, 8, 1), 20),
    noise=0.5,
    nuisance=1.0,
    shuffle=True,
    return_groups=False,
    random_state=None,
):
    """Generate several views of the same samples that share cluster labels.

    Each modality sees only part of the cluster structure: in modality ``m``
    (``m = 0, 1, ...``) clusters ``m mod K`` and ``(m + 1) mod K`` share the same
    prototype and are indistinguishable, while every other cluster has its own.
    With ``K >= 3`` clusters and at least two modalities, every pair of clusters
    is separable in some modality, so fusing the modalities helps (with three
    modalities and four clusters: modality 0 confuses 0/1, modality 1 confuses
    1/2, modality 2 confuses 2/3). With ``K < 3`` nothing is merged.

    Generative model, sample ``i`` of cluster ``y_i``, modality ``m`` with
    prototype group ``g = G[m, y_i]``:

    * image modality ``(h, w, c)``: prototypes ``T_g`` are smooth random fields
      (Gaussian bumps plus a plane wave, unit std) per channel;
      ``x_i = s_i roll(T_g, u_i) + nuisance * sum_j beta_ij N_j + noise * e_i``
      with amplitude ``s_i ~ U(0.7, 1.3)``, a random circular shift ``u_i`` of
      -1, 0 or 1 pixel along each axis, three cluster-independent smooth nuisance
      patterns ``N_j`` with ``beta_ij ~ N(0, 1 / 3)`` and white noise ``e_i``;
    * vector modality ``d``: prototypes ``mu_g ~ N(0, I_d / 2)`` (distances
      between prototypes about ``sqrt(d)``);
      ``x_i = mu_g + nuisance * sqrt(d / 3) B beta_i + noise * e_i`` with a
      cluster-independent nuisance basis ``B`` (``d x 3``, orthonormal columns)
      and ``beta_i ~ N(0, I_3 / 3)``.

    Parameters
    ----------
    n_samples : int, default=300
        Split as evenly as possible over the clusters.
    n_clusters : int, default=4
    modalities : sequence, default=((16, 16, 1), (8, 8, 1), 20)
        One entry per modality: a tuple ``(h, w, c)`` for an image modality or
        an int ``d`` for a vector modality.
    noise : float, default=0.5
        Standard deviation of the white noise of every modality.
    nuisance : float, default=1.0
        Strength of the cluster-independent structured variation.
    shuffle : bool, default=True
        Shuffle the samples (the same permutation for all modalities).
    return_groups : bool, default=False
        Also return ``G``, the ``(n_modalities, n_clusters)`` map from cluster to
        prototype in each modality (equal entries in a row = confusable clusters).
    random_state : int, RandomState instance or None, default=None
        Seed; the same value gives identical arrays.

    Returns
    -------
    Xs : list of ndarray of float32
        One array per modality, ``(n_samples, h, w, c)`` or ``(n_samples, d)``.
    y : ndarray of int64 of shape (n_samples,)
    groups : ndarray of int of shape (n_modalities, n_clusters)
        Only when ``return_groups=True``.

    Examples
    --------
    >>> from skdsc.datasets import make_multimodal_clusters
    >>> Xs, y = make_multimodal_clusters(n_samples=40, random_state=0)
    >>> [X.shape for X in Xs]
    [(40, 16, 16, 1), (40, 8, 8, 1), (40, 20)]
    >>> Xs, y, G = make_multimodal_clusters(n_samples=40, return_groups=True, random_state=0)
    >>> G
    array([[0, 0, 1, 2],
           [0, 1, 1, 2],
           [0, 1, 2, 2]])
    """
    shapes = _check_modalities(modalities)
    if n_clusters > n_samples:
        raise ValueError(f"n_clusters={n_clusters} is larger than n_samples={n_samples}.")
    rng = check_random_state(random_state)
    groups = _modality_groups(len(shapes), n_clusters)
    y = np.repeat(np.arange(n_clusters), _split_sizes(n_samples, n_clusters))
    perm = rng.permutation(n_samples) if shuffle else np.arange(n_samples)
    y = y[perm]

    Xs = []
    for m, shape in enumerate(shapes):
        g = groups[m, y]
        n_groups = groups[m].max() + 1
        if isinstance(shape, tuple):
            h, w, c = shape
            protos = np.stack([
                np.stack([smooth_field(rng, (h, w)) for _ in range(c)], axis=-1)
                for _ in range(n_groups)
            ])  # (G, h, w, c)
            X = protos[g] * rng.uniform(0.7, 1.3, size=(n_samples, 1, 1, 1))
            shifts = rng.randint(-1, 2, size=(n_samples, 2))
            for dy in (-1, 0, 1):  # roll by class of shift, not per sample
                for dx in (-1, 0, 1):
                    sel = (shifts[:, 0] == dy) & (shifts[:, 1] == dx)
                    X[sel] = np.roll(X[sel], (dy, dx), axis=(1, 2))
            nuis = np.stack([
                np.stack([smooth_field(rng, (h, w)) for _ in range(c)], axis=-1)
                for _ in range(3)
            ])  # (3, h, w, c)
            beta = rng.standard_normal((n_samples, 3)) / np.sqrt(3)
            X += nuisance * np.tensordot(beta, nuis, axes=(1, 0))
        else:
            d = shape
            protos = rng.standard_normal((n_groups, d)) / np.sqrt(2)
            X = protos[g]
            r = min(3, d)
            B, _ = np.linalg.qr(rng.standard_normal((d, r)))
            beta = rng.standard_normal((n_samples, r)) / np.sqrt(r)
            X = X + nuisance * np.sqrt(d / r) * beta @ B.T
        X = X + noise * rng.standard_normal(X.shape)
        Xs.append(X.astype(np.float32))
    if return_groups:
        return Xs, y.astype(np.int64), groups
    return Xs, y.astype(np.int64)
