"""skdsc.nn"""

__all__ = []
