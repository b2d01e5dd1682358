"""skdsc.metrics"""

from ._pairwise import correlation_distances, ks_distances

__all__ = ["correlation_distances", "ks_distances"]
