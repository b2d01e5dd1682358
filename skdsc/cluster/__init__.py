"""The clustering estimators of skdsc."""

from ._finch import FINCH, first_neighbours
from ._idec import DEC, IDEC
from ._kmedoids import KMedoidsKS

__all__ = ["DEC", "FINCH", "IDEC", "KMedoidsKS", "first_neighbours"]
from ._cae import ClusteringAutoencoder, cluster_patches_to_map  # noqa: E402
__all__ += ["ClusteringAutoencoder", "cluster_patches_to_map"]
