"""The clustering estimators of skdsc."""

from ._idec import DEC, IDEC

__all__ = ["DEC", "IDEC"]
from ._adatsc import ADATSCClustering  # noqa: E402
__all__ += ["ADATSCClustering"]
