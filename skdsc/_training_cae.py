"""skorch net of the clustering-autoencoder stage (seed 001).

The loss of a batch is ``alpha * RMSE(x, x_hat) + (1 - alpha) * CE(Q, softmax(scores / tau))``
with ``Q`` the Sinkhorn-Knopp targets of the batch's scores, computed without
gradient. Two additions against the seed's instabilities live here:

* a **feature queue**: the projected codes of the last ``queue_length`` training
  samples are kept, and Sinkhorn-Knopp runs on the batch *and* the queue (scored
  against the current prototypes), so that the equipartition constraint is taken
  over a large effective batch instead of one small, possibly unbalanced, batch;
* **prototype renormalisation** after every optimiser step (``normalize``);
* **group targets** (``n_groups > 0``; the dataset's ``y`` is each sample's
  group, e.g. the place of a patch, its years being the members): the target of a
  training sample is the mean Sinkhorn-Knopp assignment of its group's samples in
  the previous epoch (its own assignment in the first epoch, or when its group had
  no sample then). SwAV predicts the code of one view of an image from another
  view; here the views of a place are its years, so what the prototypes learn to
  separate is what the years of a place share.
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
    n_groups : int
        Number of sample groups (0: no group targets). With ``n_groups > 0`` the
        dataset's ``y`` holds each sample's group index in ``0 .. n_groups - 1``.
        The validation loss always uses the sample's own target (it is what early
        stopping and the restarts compare).
    **kwargs
        Passed to :class:`skdsc._training.StageNet`.
    """

    def __init__(self, *args, alpha=0.5, epsilon=0.09, sinkhorn_iterations=3, queue_length=0,
                 marginal="uniform", marginal_floor=0.5, n_groups=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.n_groups = n_groups
        self.marginal = marginal
        self.marginal_floor = marginal_floor
        self.alpha = alpha
        self.epsilon = epsilon
        self.sinkhorn_iterations = sinkhorn_iterations
        self.queue_length = queue_length

    def initialize(self):
        super().initialize()
        self.queue_ = None
        self.group_target_ = None  # (n_groups, K) mean assignment of the previous epoch
        self._group_sum = self._group_count = None
        return self

    def _group_targets(self, q, groups, scores):
        """Replace ``q`` by the previous epoch's group targets; accumulate this epoch's scores."""
        g = groups.detach().long().cpu()
        if self._group_sum is None:
            self._group_sum = torch.zeros(self.n_groups, q.shape[1], dtype=torch.float64)
            self._group_count = torch.zeros(self.n_groups, dtype=torch.float64)
        self._group_sum.index_add_(0, g, scores.detach().cpu().double())
        self._group_count.index_add_(0, g, torch.ones(g.shape[0], dtype=torch.float64))
        if self.group_target_ is None:
            return q
        target = self.group_target_[g]
        have = torch.isfinite(target[:, 0])
        return torch.where(have[:, None].to(q.device), target.to(q.device, q.dtype), q)

    def on_epoch_end(self, net, **kwargs):
        super().on_epoch_end(net, **kwargs)
        if self._group_sum is not None:
            seen = self._group_count > 0
            target = torch.full(self._group_sum.shape, float("nan"), dtype=torch.float64)
            with torch.no_grad():
                mean_scores = self._group_sum[seen] / self._group_count[seen, None]
                target[seen] = sinkhorn_knopp(mean_scores, self.epsilon,
                                              self.sinkhorn_iterations).double()
            self.group_target_ = target
            self._group_sum = self._group_count = None

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
        if training and self.n_groups and y_true is not None:
            q = self._group_targets(q, y_true, scores)
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
