"""The clustering estimators of skdsc."""

from ._idec import DEC, IDEC

__all__ = ["DEC", "IDEC"]
from ._scdsc import SCDSC
__all__ += ["SCDSC"]
