"""skdsc.cluster"""

from ._finch import FINCH, first_neighbours
from ._kmedoids import KMedoidsKS

__all__ = ["FINCH", "KMedoidsKS", "first_neighbours"]
