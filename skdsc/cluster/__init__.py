"""The clustering estimators of skdsc."""

from ._finch import FINCH, first_neighbours
from ._idec import DEC, IDEC
from ._kmedoids import KMedoidsKS
from ._gcml import GCML

__all__ = ["DEC", "FINCH", "IDEC", "KMedoidsKS", "first_neighbours"]
__all__ += ["GCML"]
from ._scdsc import SCDSC
__all__ += ["SCDSC"]
from ._adatsc import ADATSCClustering  # noqa: E402
__all__ += ["ADATSCClustering"]
from ._cae import ClusteringAutoencoder, cluster_patches_to_map  # noqa: E402
__all__ += ["ClusteringAutoencoder", "cluster_patches_to_map"]
from ._multimodal import MultimodalDSC
__all__ += ["MultimodalDSC"]
