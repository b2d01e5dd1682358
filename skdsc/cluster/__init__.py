"""The clustering estimators of skdsc."""

from ._idec import DEC, IDEC

__all__ = ["DEC", "IDEC"]
from ._cae import ClusteringAutoencoder, cluster_patches_to_map  # noqa: E402
__all__ += ["ClusteringAutoencoder", "cluster_patches_to_map"]
