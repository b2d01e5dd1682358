"""Utilities: estimator discovery and xarray adapters."""

import inspect

from ._xarray import SampleInfo, is_dataarray, unwrap_samples, wrap_samples

__all__ = [
    "SampleInfo",
    "all_estimators",
    "is_dataarray",
    "unwrap_samples",
    "wrap_samples",
]


def all_estimators():
    """Return every public estimator class of skdsc.

    Returns
    -------
    list of (name, class) tuples
        Sorted by name; the classes exported by :mod:`skdsc.cluster` that derive
        from :class:`sklearn.base.BaseEstimator`.

    Examples
    --------
    >>> from skdsc.utils import all_estimators
    >>> "IDEC" in dict(all_estimators())
    True
    """
    from sklearn.base import BaseEstimator

    from .. import cluster

    found = []
    for name in getattr(cluster, "__all__", []):
        obj = getattr(cluster, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator) and not name.startswith("_"):
            found.append((name, obj))
    return sorted(found)
