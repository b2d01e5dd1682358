"""Pure torch building blocks (no scikit-learn inside)."""

from .autoencoders import MLPAutoencoder, make_mlp
from .heads import AutoencoderWithHead, StudentTHead, student_t_assignment

__all__ = ["AutoencoderWithHead", "MLPAutoencoder", "StudentTHead", "make_mlp", "student_t_assignment"]
from .multimodal import MultimodalAutoencoder, MultimodalDSCModule, SelfExpressiveLayer
__all__ += ["MultimodalAutoencoder", "MultimodalDSCModule", "SelfExpressiveLayer"]
