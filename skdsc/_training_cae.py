"""skorch net of the clustering-autoencoder stage (seed 001).

The loss of a batch is ``alpha * RMSE(x, x_hat) + (1 - alpha) * CE(Q, softmax(scores / tau))``
with ``Q`` the Sinkhorn-Knopp targets of the batch's scores, computed without
gradient. Two additions against the seed's instabilities live here:

* a **feature queue**: the projected codes of the last ``queue_length`` training
  samples are kept, and Sinkhorn-Knopp runs on the batch *and* the queue (scored
  against the current prototypes), so that the equipartition constraint is taken
  over a large effective batch instead of one small, possibly unbalanced, batch;
* **prototype renormalisation** after every optimiser step (``normalize``).
"""

import torch

from ._training import StageNet
from .losses import reconstruction_rmse, sinkhorn_knopp, soft_cross_entropy

__all__ = ["CAENet"]


class CAENet(StageNet):
    """The clustering stage of :class:`skdsc.cluster.ClusteringAutoencoder`.

    The module is a :class:`skdsc.nn.ClusteringAutoencoderModule` whose ``forward``
    returns ``(z, x_hat, scores, proba, features)``.

    Parameters
    ----------
    alpha : float
        Weight of the reconstruction RMSE; the clustering cross-entropy gets
        ``1 - alpha``.
    epsilon : float
        Sinkhorn-Knopp smoothing.
    sinkhorn_iterations : int
        Sinkhorn-Knopp iterations.
    queue_length : int
        Number of past projected codes used together with the batch in
        Sinkhorn-Knopp (0: the batch alone, as in the seed).
    marginal : {"uniform", "adaptive"}
        Cluster marginal of Sinkhorn-Knopp: ``1/K`` (equipartition, the seed), or
        ``(1 - marginal_floor) * share + marginal_floor / K`` with ``share`` the
        mean predicted distribution over the batch and the queue, which lets
        clusters of unequal size keep their size while the floor still forbids
        an empty cluster.
    marginal_floor : float in (0, 1]
        Weight of the uniform part of the adaptive marginal.
    **kwargs
        Passed to :class:`skdsc._training.StageNet`.
    """

    def __init__(self, *args, alpha=0.5, epsilon=0.09, sinkhorn_iterations=3, queue_length=0,
                 marginal="uniform", marginal_floor=0.5, **kwargs):
        super().__init__(*args, **kwargs)
        self.marginal = marginal
        self.marginal_floor = marginal_floor
        self.alpha = alpha
        self.epsilon = epsilon
        self.sinkhorn_iterations = sinkhorn_iterations
        self.queue_length = queue_length

    def initialize(self):
        super().initialize()
        self.queue_ = None
        return self

    def _targets(self, scores, features, training):
        head = self.module_.head
        queue = self.queue_ if training else None
        if queue is not None and queue.shape[0] > 0:
            with torch.no_grad():
                queue_scores = head.scores_of(queue.to(scores.device))
            all_scores = torch.cat([scores.detach(), queue_scores], dim=0)
        else:
            all_scores = scores.detach()
        weights = None
        if self.marginal == "adaptive":
            k = all_scores.shape[1]
            share = torch.softmax(all_scores / self.module_.temperature, dim=1).mean(dim=0)
            weights = (1.0 - self.marginal_floor) * share + self.marginal_floor / k
        q = sinkhorn_knopp(all_scores, self.epsilon, self.sinkhorn_iterations,
                           cluster_weights=weights)[: scores.shape[0]]
        if training and self.queue_length > 0:
            new = features.detach()
            self.queue_ = new[-self.queue_length:] if self.queue_ is None else torch.cat(
                [new, self.queue_], dim=0)[: self.queue_length]
        return q.to(scores.device)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        _, x_hat, scores, _, features = y_pred
        x = X.to(x_hat.device)
        q = self._targets(scores, features, training)
        temperature = self.module_.temperature
        rmse = reconstruction_rmse(x_hat, x)
        ce = soft_cross_entropy(q, scores / temperature)
        loss = self.alpha * rmse + (1.0 - self.alpha) * ce
        prefix = "train" if training else "valid"
        self.history.record_batch(f"{prefix}_rmse", float(rmse.detach()))
        self.history.record_batch(f"{prefix}_ce", float(ce.detach()))
        return loss

    def train_step(self, batch, **fit_params):
        step = super().train_step(batch, **fit_params)
        head = self.module_.head
        if head.normalize:
            head.normalize_prototypes_()
        return step
