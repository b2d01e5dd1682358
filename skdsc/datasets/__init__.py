"""skdsc.datasets"""

__all__ = []
