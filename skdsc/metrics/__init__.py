"""Clustering metrics and scorers.

- supervised: :func:`overall_accuracy` (Hungarian matching), :func:`cohen_kappa`,
  :func:`nmi`, :func:`ari`, :func:`matched_labels`, :func:`cluster_class_mapping`;
- internal: :func:`silhouette`, :func:`davies_bouldin`, :func:`calinski_harabasz`,
  and the A-DATSC measures :func:`average_rmse`, :func:`average_variance`,
  :func:`average_inter_cluster_distance`;
- pairwise distances between series: :func:`ks_distances` (exact two-sample
  Kolmogorov-Smirnov statistic), :func:`correlation_distances`;
- scorers: :func:`get_scorer`, :func:`get_scorer_names`,
  :func:`make_internal_scorer`, :func:`make_supervised_scorer`. Importing this
  package registers the skdsc scorer names with scikit-learn, so that
  ``GridSearchCV(..., scoring="silhouette")`` works.
"""

from ._base import *  # noqa: F401,F403
from ._base import __all__ as _base_all
from ._internal import *  # noqa: F401,F403
from ._internal import __all__ as _internal_all
from ._pairwise import correlation_distances, ks_distances
from ._scorer import *  # noqa: F401,F403
from ._scorer import __all__ as _scorer_all
from ._supervised import *  # noqa: F401,F403
from ._supervised import __all__ as _supervised_all

__all__ = [
    *_base_all,
    *_internal_all,
    "correlation_distances",
    "ks_distances",
    *_scorer_all,
    *_supervised_all,
]
