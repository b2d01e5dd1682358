"""skdsc.cluster"""

from ._kmedoids import KMedoidsKS

__all__ = ["KMedoidsKS"]
