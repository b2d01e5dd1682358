"""Pure torch building blocks (no scikit-learn inside)."""

from .autoencoders import MLPAutoencoder, make_mlp
from .heads import AutoencoderWithHead, StudentTHead, student_t_assignment

__all__ = ["AutoencoderWithHead", "MLPAutoencoder", "StudentTHead", "make_mlp", "student_t_assignment"]
from .scdsc import ConvPatchAutoencoder, ImagePatchDataset, SubspaceBasisHead, passthrough_collate, subspace_basis_assignment
__all__ += ["ConvPatchAutoencoder", "ImagePatchDataset", "SubspaceBasisHead", "passthrough_collate", "subspace_basis_assignment"]
from .adatsc import ADATSCGenerator, PositionCentering, SubspaceSampler  # noqa: E402
from .attention import BiTemporalGraphAttention, PatchEmbedding  # noqa: E402
from .convlstm import ConvLSTM2d, ConvLSTMCell, ResidualTemporalBlock, SpatiotemporalDecoder, SpatiotemporalEncoder  # noqa: E402,E501
from .discriminator import SubspaceDiscriminator, projection_residual_energy  # noqa: E402
from .self_expressive import TemporalSelfExpressive, soft_threshold  # noqa: E402
__all__ += ["ADATSCGenerator", "PositionCentering", "SubspaceSampler", "BiTemporalGraphAttention", "PatchEmbedding", "ConvLSTM2d", "ConvLSTMCell", "ResidualTemporalBlock", "SpatiotemporalDecoder", "SpatiotemporalEncoder", "SubspaceDiscriminator", "projection_residual_energy", "TemporalSelfExpressive", "soft_threshold"]  # noqa: E501
from .cae import ClusteringAutoencoderModule, PrototypePatchAutoencoder, PrototypeHead  # noqa: E402
__all__ += ["ClusteringAutoencoderModule", "PrototypePatchAutoencoder", "PrototypeHead"]
from .multimodal import MultimodalAutoencoder, MultimodalDSCModule, SelfExpressiveLayer
__all__ += ["MultimodalAutoencoder", "MultimodalDSCModule", "SelfExpressiveLayer"]
