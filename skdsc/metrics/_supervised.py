"""External (supervised) clustering measures: labels are compared with classes.

Cluster labels are arbitrary names, so a clustering is compared with the ground
truth after the clusters have been matched to classes. The matching maximises the
number of agreeing samples (Hungarian algorithm on the contingency table, through
:func:`scipy.optimize.linear_sum_assignment`); it is one-to-one, so it also works
when the number of clusters differs from the number of classes.
"""

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, cohen_kappa_score
from sklearn.metrics import normalized_mutual_info_score as _sk_nmi
from sklearn.metrics.cluster import contingency_matrix

from ._base import _check_label_pair

__all__ = [
    "ari",
    "cluster_class_mapping",
    "cohen_kappa",
    "matched_labels",
    "nmi",
    "overall_accuracy",
]

_METHODS = ("hungarian", "many_to_one")


def _match(y_true, y_pred, method):
    """Return classes, clusters, contingency table and matched (class, cluster) pairs."""
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}; got {method!r}.")
    classes = np.unique(y_true)
    clusters = np.unique(y_pred)
    table = contingency_matrix(y_true, y_pred)  # classes x clusters
    if method == "hungarian":
        rows, cols = linear_sum_assignment(table, maximize=True)
    else:
        cols = np.arange(clusters.shape[0])
        rows = np.argmax(table, axis=0)
    return classes, clusters, table, rows, cols


def cluster_class_mapping(y_true, y_pred, *, method="hungarian"):
    """Map each cluster to the class it is matched with.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth classes.
    y_pred : array-like of shape (n_samples,)
        Cluster labels.
    method : {"hungarian", "many_to_one"}, default="hungarian"
        ``"hungarian"``: one-to-one matching maximising the number of samples whose
        cluster is matched with their class (Hungarian algorithm on the
        contingency table). With more clusters than classes, the clusters left over
        are not matched; with fewer clusters, some classes are never predicted.
        ``"many_to_one"``: every cluster is mapped to its majority class (several
        clusters may share a class); the resulting accuracy is the purity.

    Returns
    -------
    mapping : dict
        ``{cluster label: class label}`` for every matched cluster. Unmatched
        clusters are absent. When several matchings reach the same maximum, one of
        them is returned (the one :func:`scipy.optimize.linear_sum_assignment`
        finds).

    Examples
    --------
    >>> from skdsc.metrics import cluster_class_mapping
    >>> mapping = cluster_class_mapping([0, 0, 1, 1, 1], [5, 5, 7, 7, 9])
    >>> {int(k): int(v) for k, v in mapping.items()}
    {5: 0, 7: 1}
    """
    y_true, y_pred = _check_label_pair(y_true, y_pred)
    classes, clusters, _, rows, cols = _match(y_true, y_pred, method)
    return {clusters[c]: classes[r] for r, c in zip(rows, cols)}


def _fresh_labels(classes, count):
    """``count`` labels that are not among ``classes`` (same kind of value)."""
    if count == 0:
        return np.empty(0, dtype=classes.dtype)
    if classes.dtype.kind in "iuf":
        start = classes.max() + 1
        return (start + np.arange(count)).astype(np.result_type(classes.dtype, np.int64))
    taken = {str(c) for c in classes}
    fresh = []
    i = 0
    while len(fresh) < count:
        name = f"unmatched_{i}"
        if name not in taken:
            fresh.append(name)
        i += 1
    return np.asarray(fresh, dtype=object)


def matched_labels(y_true, y_pred, *, method="hungarian"):
    """Rename the clusters of ``y_pred`` after the classes they are matched with.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth classes.
    y_pred : array-like of shape (n_samples,)
        Cluster labels.
    method : {"hungarian", "many_to_one"}, default="hungarian"
        Matching, see :func:`cluster_class_mapping`.

    Returns
    -------
    y_matched : ndarray of shape (n_samples,)
        ``y_pred`` expressed in class labels. Samples of an unmatched cluster (more
        clusters than classes, Hungarian matching) receive a label that is not any
        class label -- ``max(classes) + 1, + 2, ...`` for numeric classes,
        ``"unmatched_0", ...`` otherwise -- so that they always count as
        disagreements.

    Examples
    --------
    >>> from skdsc.metrics import matched_labels
    >>> matched_labels([0, 0, 1, 1, 1], [5, 5, 7, 7, 9]).tolist()
    [0, 0, 1, 1, 2]
    """
    y_true, y_pred = _check_label_pair(y_true, y_pred)
    classes, clusters, _, rows, cols = _match(y_true, y_pred, method)
    unmatched = np.setdiff1d(np.arange(clusters.shape[0]), cols)
    fresh = _fresh_labels(classes, unmatched.shape[0])
    if fresh.dtype == object:
        lookup = np.empty(clusters.shape[0], dtype=object)
    else:
        lookup = np.empty(clusters.shape[0], dtype=np.result_type(classes, fresh))
    lookup[cols] = classes[rows]
    lookup[unmatched] = fresh
    _, codes = np.unique(y_pred, return_inverse=True)
    return lookup[codes.reshape(-1)]


def overall_accuracy(y_true, y_pred, *, method="hungarian"):
    """Overall accuracy (OA, "ACC") of a clustering after matching clusters to classes.

    ``OA = (1/n) * max_m sum_i [m(y_pred_i) == y_true_i]`` where ``m`` ranges over the
    one-to-one maps from clusters to classes (Hungarian algorithm on the
    contingency table). When there are more clusters than classes, the samples of
    the unmatched clusters count as errors; when there are fewer, the unmatched
    classes are errors. With ``method="many_to_one"`` every cluster takes its
    majority class (purity).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth classes.
    y_pred : array-like of shape (n_samples,)
        Cluster labels (any names; invariant to renaming the clusters).
    method : {"hungarian", "many_to_one"}, default="hungarian"
        Matching, see :func:`cluster_class_mapping`.

    Returns
    -------
    score : float
        In ``[0, 1]``, higher is better.

    Examples
    --------
    >>> from skdsc.metrics import overall_accuracy
    >>> overall_accuracy([0, 0, 1, 1, 2, 2], [1, 1, 0, 0, 2, 0])
    0.8333...
    """
    y_true, y_pred = _check_label_pair(y_true, y_pred)
    _, _, table, rows, cols = _match(y_true, y_pred, method)
    return float(table[rows, cols].sum() / y_true.shape[0])


def cohen_kappa(y_true, y_pred, *, method="hungarian", weights=None):
    """Cohen's kappa between the classes and the matched cluster labels.

    The clusters are first renamed after their matched classes
    (:func:`matched_labels`); kappa is then
    ``(p_o - p_e) / (1 - p_e)`` with ``p_o`` the observed agreement (the overall
    accuracy) and ``p_e`` the agreement expected by chance from the marginals,
    as in :func:`sklearn.metrics.cohen_kappa_score`. Unmatched clusters keep labels
    of their own and therefore only add disagreement.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth classes.
    y_pred : array-like of shape (n_samples,)
        Cluster labels.
    method : {"hungarian", "many_to_one"}, default="hungarian"
        Matching, see :func:`cluster_class_mapping`.
    weights : {None, "linear", "quadratic"}, default=None
        Passed to :func:`sklearn.metrics.cohen_kappa_score`.

    Returns
    -------
    kappa : float
        At most 1, higher is better; 0 is chance agreement. When several
        matchings tie for the maximum, kappa is computed for the one returned by
        :func:`cluster_class_mapping`.

    Examples
    --------
    >>> from skdsc.metrics import cohen_kappa
    >>> round(cohen_kappa([0, 0, 1, 1], [1, 1, 0, 0]), 6)
    1.0
    """
    y_true, y_pred = _check_label_pair(y_true, y_pred)
    y_matched = matched_labels(y_true, y_pred, method=method)
    if y_matched.dtype == object:
        y_true = y_true.astype(object)
    return float(cohen_kappa_score(y_true, y_matched, weights=weights))


def nmi(y_true, y_pred, *, average_method="arithmetic"):
    """Normalised mutual information between classes and clusters.

    ``NMI = I(Y; C) / mean(H(Y), H(C))`` (arithmetic mean by default), computed by
    :func:`sklearn.metrics.normalized_mutual_info_score`; invariant to renaming
    the clusters, no matching needed.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth classes.
    y_pred : array-like of shape (n_samples,)
        Cluster labels.
    average_method : {"arithmetic", "geometric", "min", "max"}, default="arithmetic"
        Normaliser of the mutual information.

    Returns
    -------
    score : float
        In ``[0, 1]``, higher is better.

    Examples
    --------
    >>> from skdsc.metrics import nmi
    >>> nmi([0, 0, 1, 1], [3, 3, 2, 2])
    1.0
    """
    y_true, y_pred = _check_label_pair(y_true, y_pred)
    return float(_sk_nmi(y_true, y_pred, average_method=average_method))


def ari(y_true, y_pred):
    """Adjusted Rand index (:func:`sklearn.metrics.adjusted_rand_score`).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth classes.
    y_pred : array-like of shape (n_samples,)
        Cluster labels.

    Returns
    -------
    score : float
        At most 1, higher is better; about 0 for random labels.

    Examples
    --------
    >>> from skdsc.metrics import ari
    >>> ari([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    y_true, y_pred = _check_label_pair(y_true, y_pred)
    return float(adjusted_rand_score(y_true, y_pred))
