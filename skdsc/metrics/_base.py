"""Shared pieces of :mod:`skdsc.metrics`: warning class and input checks."""

import numpy as np
from sklearn.utils import check_array, check_consistent_length, column_or_1d

__all__ = ["DegenerateClusteringWarning"]


class DegenerateClusteringWarning(UserWarning):
    """Warning raised when a clustering is too degenerate for a metric.

    An internal measure such as the silhouette coefficient is undefined when all
    samples share one cluster or when every sample is its own cluster. Instead of
    raising, the wrappers of :mod:`skdsc.metrics` return the metric's documented
    worst value and emit this warning, so that a grid search over hyperparameters
    ranks such a candidate last instead of crashing.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from skdsc.metrics import DegenerateClusteringWarning, silhouette
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DegenerateClusteringWarning)
    ...     silhouette(X, [0, 0, 0])
    -1.0
    """


def _check_labels(labels, name="labels"):
    """Return ``labels`` as a 1D array; reject empty input and NaN."""
    labels = column_or_1d(labels, warn=True)
    if labels.shape[0] == 0:
        raise ValueError(f"{name} is empty: at least one sample is required.")
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return labels


def _check_label_pair(y_true, y_pred):
    """Validate two label vectors of equal, non-zero length."""
    y_true = _check_labels(y_true, "y_true")
    y_pred = _check_labels(y_pred, "y_pred")
    check_consistent_length(y_true, y_pred)
    return y_true, y_pred


def _check_data_labels(X, labels, *, metric="euclidean"):
    """Validate ``X`` (2D, finite, non-empty) and ``labels`` of matching length.

    Returns ``X`` as a float array, the labels encoded as ``0..K-1`` and ``K``.
    """
    labels = _check_labels(labels)
    X = check_array(X, ensure_2d=True, dtype=np.float64, input_name="X")
    if X.shape[0] != labels.shape[0]:
        raise ValueError(
            f"X has {X.shape[0]} samples but labels has {labels.shape[0]}; "
            "they must have the same length."
        )
    if metric == "precomputed" and X.shape[0] != X.shape[1]:
        raise ValueError(
            f"metric='precomputed' needs a square distance matrix; got X of shape {X.shape}."
        )
    _, codes = np.unique(labels, return_inverse=True)
    codes = codes.reshape(-1)
    return X, codes, int(codes.max()) + 1
