"""Pure torch building blocks (no scikit-learn inside)."""

from .autoencoders import MLPAutoencoder, make_mlp
from .heads import AutoencoderWithHead, StudentTHead, student_t_assignment

__all__ = ["AutoencoderWithHead", "MLPAutoencoder", "StudentTHead", "make_mlp", "student_t_assignment"]
from .cae import ClusteringAutoencoderModule, ConvPatchAutoencoder, PrototypeHead  # noqa: E402
__all__ += ["ClusteringAutoencoderModule", "ConvPatchAutoencoder", "PrototypeHead"]
