"""skdsc.datasets: synthetic data with ground truth."""

from ._hyperspectral import make_hyperspectral_scene
from ._multimodal import make_multimodal_clusters
from ._spatiotemporal import make_spatiotemporal_regimes
from ._subspace import make_subspace_clusters

__all__ = [
    "make_hyperspectral_scene",
    "make_multimodal_clusters",
    "make_spatiotemporal_regimes",
    "make_subspace_clusters",
]
