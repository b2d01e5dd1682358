"""The clustering estimators of skdsc."""

from ._adatsc import ADATSCClustering
from ._cae import ClusteringAutoencoder, cluster_patches_to_map
from ._finch import FINCH, first_neighbours
from ._gcml import GCML
from ._idec import DEC, IDEC
from ._kmedoids import KMedoidsKS
from ._multimodal import MultimodalDSC
from ._scdsc import SCDSC

__all__ = [
    "ADATSCClustering",
    "ClusteringAutoencoder",
    "DEC",
    "FINCH",
    "GCML",
    "IDEC",
    "KMedoidsKS",
    "MultimodalDSC",
    "SCDSC",
    "cluster_patches_to_map",
    "first_neighbours",
]
