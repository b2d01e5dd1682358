"""Scree (elbow) curves for k-medoids, as seed 001 chooses its number of clusters."""

import numbers
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import silhouette_score
from sklearn.utils._param_validation import StrOptions, validate_params

__all__ = ["ScreeResult", "elbow_point", "plot_scree", "scree_curve"]


@dataclass
class ScreeResult:
    """Inertia (and optionally silhouette) over a range of numbers of clusters.

    Attributes
    ----------
    n_clusters : ndarray of int
        The numbers of clusters tried.
    inertia : ndarray of float
        Sum of the distances of the samples to their medoid, per ``n_clusters``.
    silhouette : ndarray of float or None
        Mean silhouette on the same distance matrix (None when not asked).
    elbow : int
        ``n_clusters`` chosen by :func:`elbow_point`.
    metric : str
        The distance used.
    labels : dict
        ``n_clusters -> labels`` of every fit.
    """

    n_clusters: np.ndarray
    inertia: np.ndarray
    silhouette: object
    elbow: int
    metric: str = ""
    labels: dict = field(default_factory=dict, repr=False)


def elbow_point(n_clusters, inertia):
    """The elbow of a decreasing scree curve: farthest point from its chord.

    Both axes are rescaled to [0, 1] over the range tried, and the ``n_clusters``
    whose point lies farthest (perpendicular distance) from the straight line
    joining the first and last points is returned. This is the "maximum distance to
    the chord" (kneedle) rule: it finds where adding clusters stops paying off,
    independently of the units of the inertia. With fewer than three points the
    first ``n_clusters`` is returned.

    Parameters
    ----------
    n_clusters : array-like of int
        Increasing numbers of clusters.
    inertia : array-like of float
        The matching inertias.

    Returns
    -------
    int

    Examples
    --------
    >>> from skdsc.model_selection import elbow_point
    >>> elbow_point([1, 2, 3, 4, 5, 6], [100, 40, 15, 12, 10, 9])
    3
    """
    k = np.asarray(n_clusters, dtype=np.float64)
    y = np.asarray(inertia, dtype=np.float64)
    if k.shape != y.shape or k.ndim != 1:
        raise ValueError("n_clusters and inertia must be 1D arrays of the same length.")
    if k.size < 3:
        return int(k[0])
    kx = (k - k[0]) / (k[-1] - k[0])
    span = y.max() - y.min()
    if span == 0:
        return int(k[0])
    yy = (y - y.min()) / span
    # distance to the chord from (0, yy[0]) to (1, yy[-1])
    dx, dy = 1.0, yy[-1] - yy[0]
    dist = np.abs(dy * kx - dx * (yy - yy[0])) / np.hypot(dx, dy)
    return int(k[int(np.argmax(dist))])


@validate_params(
    {
        "X": "no_validation",
        "n_clusters_range": "no_validation",
        "metric": [str, callable],
        "silhouette": ["boolean"],
        "init": [StrOptions({"k-medoids++", "build", "random"})],
        "time_dim": [str, numbers.Integral, None],
        "n_jobs": [numbers.Integral, None],
        "device": [str, None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def scree_curve(X, n_clusters_range=range(2, 11), *, metric="ks", silhouette=False,
                init="k-medoids++", time_dim=None, n_jobs=None, device=None, random_state=None):
    """Fit :class:`~skdsc.cluster.KMedoidsKS` over a range of ``n_clusters``.

    The distance matrix is computed once and shared by every fit (through
    ``metric="precomputed"``), so a whole curve costs one distance computation plus
    one FasterPAM run per ``n_clusters``.

    Parameters
    ----------
    X : array-like or DataArray
        Series as rows, a square distance matrix with ``metric="precomputed"``, or a
        field with ``time_dim`` set (grid cells as samples, all-NaN cells skipped),
        as in :class:`~skdsc.cluster.KMedoidsKS`.
    n_clusters_range : iterable of int, default=range(2, 11)
    metric : str or callable, default="ks"
        As in :class:`~skdsc.cluster.KMedoidsKS`.
    silhouette : bool, default=False
        Also compute the mean silhouette of each partition on the distance matrix.
    init : {"k-medoids++", "build", "random"}, default="k-medoids++"
    time_dim : str, int or None, default=None
        Grid-cell mode, as in :class:`~skdsc.cluster.KMedoidsKS`.
    n_jobs, device : as in :class:`~skdsc.cluster.KMedoidsKS`.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    ScreeResult

    Examples
    --------
    >>> import numpy as np
    >>> from skdsc.model_selection import scree_curve
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(m, 1, (10, 40)) for m in (0, 3, 6)])
    >>> res = scree_curve(X, range(1, 7), random_state=0)
    >>> res.elbow
    3
    """
    from ..cluster import KMedoidsKS
    from ..cluster._kmedoids import _check_distance_matrix, _field_to_series

    ks = np.asarray(list(n_clusters_range), dtype=int)
    if ks.size == 0 or ks.min() < 1:
        raise ValueError("n_clusters_range must hold positive integers.")
    probe = KMedoidsKS(metric=metric, n_jobs=n_jobs, device=device)
    if metric == "precomputed":
        D = _check_distance_matrix(np.asarray(X, dtype=np.float64))
    else:
        if time_dim is not None:
            series, valid, _, _ = _field_to_series(X, time_dim)
            X = series[valid]
        Xs = probe._validate_series(X, reset=True)
        D = _check_distance_matrix(probe._distances(Xs))
    if ks.max() > D.shape[0]:
        raise ValueError(
            f"n_clusters up to {ks.max()} requested but there are only {D.shape[0]} samples."
        )
    inertia, sil, labels = [], [], {}
    for k in ks:
        km = KMedoidsKS(n_clusters=int(k), metric="precomputed", init=init,
                        random_state=random_state).fit(D)
        inertia.append(km.inertia_)
        labels[int(k)] = km.labels_
        if silhouette:
            n_lab = np.unique(km.labels_).size
            sil.append(silhouette_score(D, km.labels_, metric="precomputed")
                       if 1 < n_lab < D.shape[0] else np.nan)
    inertia = np.asarray(inertia)
    return ScreeResult(
        n_clusters=ks,
        inertia=inertia,
        silhouette=np.asarray(sil) if silhouette else None,
        elbow=elbow_point(ks, inertia),
        metric=metric if isinstance(metric, str) else getattr(metric, "__name__", "callable"),
        labels=labels,
    )


def plot_scree(result, ax=None, *, label=None, mark_elbow=True):
    """Draw a scree curve (inertia against ``n_clusters``), silhouette on a twin axis.

    Parameters
    ----------
    result : ScreeResult
    ax : matplotlib Axes, default=None
        Created when None.
    label : str, default=None
        Legend label of the inertia curve (default: the metric).
    mark_elbow : bool, default=True
        Mark the chosen elbow with a vertical dashed line.

    Returns
    -------
    ax : matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(result.n_clusters, result.inertia, "o-", label=label or f"inertia ({result.metric})")
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("inertia (sum of distances to medoid)")
    if mark_elbow:
        ax.axvline(result.elbow, ls="--", color="grey", lw=1)
        ax.annotate(f"elbow k={result.elbow}", (result.elbow, np.max(result.inertia)),
                    xytext=(4, -10), textcoords="offset points", fontsize=8)
    if result.silhouette is not None:
        ax2 = ax.twinx()
        ax2.plot(result.n_clusters, result.silhouette, "s:", color="tab:orange",
                 label="silhouette")
        ax2.set_ylabel("mean silhouette")
    ax.set_xticks(result.n_clusters)
    return ax
