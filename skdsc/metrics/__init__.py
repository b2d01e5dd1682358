"""skdsc.metrics"""

__all__ = []
from ._manifold import (  # noqa: E402
    cluster_rank_accuracy, continuity, distance_rmse, local_geometric_distortion,
    manifold_metrics, relative_rank_error, trustworthiness,
)

__all__ += [
    "cluster_rank_accuracy", "continuity", "distance_rmse", "local_geometric_distortion",
    "manifold_metrics", "relative_rank_error", "trustworthiness",
]
