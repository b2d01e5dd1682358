"""skdsc.datasets: synthetic data with ground truth."""

from ._spatiotemporal import make_spatiotemporal_regimes
from ._subspace import make_subspace_clusters

__all__ = [
    "make_spatiotemporal_regimes",
    "make_subspace_clusters",
]
