"""The clustering estimators of skdsc."""

from ._idec import DEC, IDEC
from ._gcml import GCML

__all__ = ["DEC", "IDEC"]
__all__ += ["GCML"]
