"""The clustering estimators of skdsc."""

from ._idec import DEC, IDEC

__all__ = ["DEC", "IDEC"]
from ._multimodal import MultimodalDSC
__all__ += ["MultimodalDSC"]
