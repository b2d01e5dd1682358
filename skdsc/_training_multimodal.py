"""skorch nets of the two training stages of :class:`skdsc.cluster.MultimodalDSC`.

* ``"pretrain"``: the multimodal autoencoder alone, mini-batches, loss
  ``Σ_m w_m MSE(X_m, X̂_m)``.
* ``"self-expressive"``: autoencoder + the shared ``n x n`` self-expressive layer,
  the whole training set as one batch in a fixed order (row ``i`` of ``C`` belongs
  to sample ``i``), the seed's loss
  ``Σ_m w_m ||X_m - X̂_m||² + λ1 ||C||² + λ2 Σ_m w'_m ||Z_m - C Z_m||²``
  with ``X̂_m`` decoded from ``C Z_m``. The three terms are recorded in the
  history of each epoch (``recon_loss``, ``coef_loss``, ``selfexp_loss``).
"""

import torch

from ._training import StageNet
from .losses import multimodal_reconstruction_loss, multimodal_self_expression_loss

__all__ = ["MultimodalAutoencoderNet", "SelfExpressiveNet"]


class MultimodalAutoencoderNet(StageNet):
    """Pretraining of a :class:`skdsc.nn.MultimodalAutoencoder` on reconstruction.

    Parameters
    ----------
    recon_weights : sequence of float or None
        Per-modality weights ``w_m`` (ones when None).
    """

    def __init__(self, *args, recon_weights=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.recon_weights = recon_weights

    def get_loss(self, y_pred, y_true, X=None, training=False):
        _, recons = y_pred
        parts = self.module_.split(X.to(recons[0].device))
        return multimodal_reconstruction_loss(parts, recons, self.recon_weights, reduction="mean")


class SelfExpressiveNet(StageNet):
    """Fine-tuning with the shared self-expressive layer (full batch, fixed order).

    The module is a :class:`skdsc.nn.MultimodalDSCModule`; ``batch_size`` must be
    the number of samples and the training iterator must not shuffle.

    Parameters
    ----------
    lambda1, lambda2 : float
        Weights of ``||C||²`` and of the self-expression residual.
    recon_weights, selfexp_weights : sequence of float or None
        ``w_m`` and ``w'_m`` (ones when None).
    """

    def __init__(self, *args, lambda1=1.0, lambda2=1.0, recon_weights=None, selfexp_weights=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lambda1 = lambda1
        self.lambda2 = lambda2
        self.recon_weights = recon_weights
        self.selfexp_weights = selfexp_weights

    def get_loss(self, y_pred, y_true, X=None, training=False):
        codes, se_codes, recons, coef = y_pred
        parts = self.module_.autoencoder.split(X.to(recons[0].device))
        recon = multimodal_reconstruction_loss(parts, recons, self.recon_weights, reduction="sum")
        se, (reg, res) = multimodal_self_expression_loss(codes, se_codes, coef, self.lambda1, self.lambda2, self.selfexp_weights)
        if training:
            with torch.no_grad():
                self.history.record("recon_loss", float(recon))
                self.history.record("coef_loss", float(reg))
                self.history.record("selfexp_loss", float(res))
        return recon + se
