"""skdsc.preprocessing"""

__all__ = []
