"""skdsc: deep subspace and manifold clustering as scikit-learn estimators.

The estimators live in :mod:`skdsc.cluster`; the most used ones are re-exported here.
"""

__version__ = "0.1.0.dev0"

from . import cluster, datasets, metrics, preprocessing  # noqa: E402
from .cluster import *  # noqa: E402,F401,F403
from .cluster import __all__ as _cluster_all  # noqa: E402

__all__ = ["cluster", "datasets", "metrics", "preprocessing", "__version__", *_cluster_all]
