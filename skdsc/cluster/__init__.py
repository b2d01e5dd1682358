"""The clustering estimators of skdsc."""

from ._finch import FINCH, first_neighbours
from ._idec import DEC, IDEC
from ._kmedoids import KMedoidsKS

__all__ = ["DEC", "FINCH", "IDEC", "KMedoidsKS", "first_neighbours"]
from ._multimodal import MultimodalDSC
__all__ += ["MultimodalDSC"]
