"""skdsc.cluster"""

__all__ = []
