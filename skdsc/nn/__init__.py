"""Pure torch building blocks (no scikit-learn inside)."""

from .autoencoders import MLPAutoencoder, make_mlp
from .heads import AutoencoderWithHead, StudentTHead, student_t_assignment

__all__ = ["AutoencoderWithHead", "MLPAutoencoder", "StudentTHead", "make_mlp", "student_t_assignment"]
from .scdsc import ConvPatchAutoencoder, ImagePatchDataset, SubspaceBasisHead, passthrough_collate, subspace_basis_assignment
__all__ += ["ConvPatchAutoencoder", "ImagePatchDataset", "SubspaceBasisHead", "passthrough_collate", "subspace_basis_assignment"]
