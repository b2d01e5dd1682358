"""skdsc.metrics"""

__all__ = []
