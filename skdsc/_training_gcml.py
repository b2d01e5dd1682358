"""The GCML training stage: alternating mini-batch and per-epoch steps (skorch).

Wu et al., "Generalized clustering and multi-manifold learning with geometric
structure preservation" (WACV 2022), Sec. 3.3 and Algorithm 1. At the start of
every epoch the target distribution ``P``, the pseudo-labels ``s_i = argmax_j
p_ij`` and the input-space pseudo-cluster means ``v^X`` are recomputed on the whole
training set. Each mini-batch then takes one step of the first optimiser on

    ``alpha(t) * (cluster_weight * KL(P || Q) + MSE(x_hat, x)) + L_rank / n_batches``

and, once per epoch, a second optimiser takes one step on

    ``beta(t) * L_LIS + L_align``

computed on all samples. ``alpha`` decays and ``beta`` grows linearly (weight
continuation). The per-epoch step never builds an ``n x n`` matrix: latent
neighbours are searched inside each pseudo-cluster with a scikit-learn
:class:`~sklearn.neighbors.NearestNeighbors` index, and the gradient is pushed
through the encoder in chunks of rows.
"""

import numpy as np
import torch
from scipy import sparse
from sklearn.neighbors import NearestNeighbors

from ._training import NonFiniteLossError, StageNet, carry_optimizer_state
from .losses import (
    center_alignment_loss,
    center_ranking_loss,
    dec_target_distribution,
    kl_divergence,
    local_isometry_loss,
    reconstruction_mse,
)

__all__ = [
    "GCMLNet",
    "continuation_weights",
    "within_cluster_neighbors",
    "pair_distances",
    "cluster_means",
]

# rows per chunk for the full-data passes (bounded memory)
_CHUNK = 4096


def continuation_weights(epoch, warmup_epochs, continuation_epochs, enabled=True):
    """Weights ``(alpha, beta)`` of the clustering and isometry terms at ``epoch``.

    During the ``warmup_epochs`` first epochs ``alpha = 1`` and ``beta = 0`` (only
    ``cluster_weight * KL + MSE`` is trained). Afterwards, with weight continuation,
    ``alpha`` decays linearly from 1 to 0 at epoch ``continuation_epochs`` and
    ``beta`` grows linearly from 0 to 1 over ``continuation_epochs`` epochs
    (the paper: both over epochs 0-150 of 300). Without it both are 1.

    Examples
    --------
    >>> continuation_weights(0, 10, 150)
    (1.0, 0.0)
    >>> continuation_weights(80, 10, 150)
    (0.5, 0.4666666666666667)
    >>> continuation_weights(200, 10, 150)
    (0.0, 1.0)
    """
    if epoch < warmup_epochs:
        return 1.0, 0.0
    if not enabled:
        return 1.0, 1.0
    t = epoch - warmup_epochs
    span = continuation_epochs - warmup_epochs
    alpha = max(0.0, 1.0 - t / span) if span > 0 else 0.0
    beta = min(1.0, t / continuation_epochs) if continuation_epochs > 0 else 1.0
    return float(alpha), float(beta)


def within_cluster_neighbors(Z, labels, n_neighbors):
    """Latent ``k``-nearest-neighbour pairs restricted to each pseudo-cluster.

    Uses one :class:`~sklearn.neighbors.NearestNeighbors` index per cluster, so
    memory stays linear in ``n_samples``. A cluster of ``c`` points gives each
    point ``min(n_neighbors, c - 1)`` neighbours (none for a singleton).

    Parameters
    ----------
    Z : ndarray of shape (n_samples, m)
    labels : ndarray of shape (n_samples,)
    n_neighbors : int

    Returns
    -------
    rows, cols : ndarray of int64
        Pair ``(rows[p], cols[p])``: ``cols[p]`` is a neighbour of ``rows[p]``.

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.array([[0.0], [1.0], [3.0], [10.0], [11.5]])
    >>> rows, cols = within_cluster_neighbors(Z, np.array([0, 0, 0, 1, 1]), 1)
    >>> list(zip(rows.tolist(), cols.tolist()))
    [(0, 1), (1, 0), (2, 1), (3, 4), (4, 3)]
    """
    rows, cols = [], []
    labels = np.asarray(labels)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        k = min(n_neighbors, members.size - 1)
        if k < 1:
            continue
        index = NearestNeighbors(n_neighbors=k).fit(Z[members])
        nbrs = index.kneighbors(return_distance=False)  # excludes each query point itself
        rows.append(np.repeat(members, k))
        cols.append(members[nbrs].ravel())
    if not rows:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64)


def pair_distances(X, rows, cols, chunk=16384):
    """Euclidean distances ``||X[rows[p]] - X[cols[p]]||``, computed in chunks."""
    out = np.empty(rows.shape[0], dtype=np.float32)
    for s in range(0, rows.shape[0], chunk):
        diff = X[rows[s:s + chunk]] - X[cols[s:s + chunk]]
        out[s:s + chunk] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return out


def cluster_means(A, labels, n_clusters):
    """Per-cluster means of the rows of ``A`` and the cluster sizes (empty: zeros)."""
    n = A.shape[0]
    onehot = sparse.csr_matrix(
        (np.ones(n, dtype=np.float64), (labels, np.arange(n))), shape=(n_clusters, n)
    )
    counts = np.asarray(onehot.sum(axis=1)).ravel()
    sums = np.asarray(onehot @ A, dtype=np.float64)
    means = sums / np.maximum(counts, 1)[:, None]
    return means.astype(np.float32), counts.astype(np.int64)


class GCMLNet(StageNet):
    """skorch net of GCML's clustering stage (see the module docstring).

    The module is an :class:`~skdsc.nn.AutoencoderWithHead` whose ``forward``
    returns ``(z, x_hat, q)``; the dataset's ``y`` holds the sample indices, so
    that a batch can look up its rows of the target ``P`` and its pseudo-labels.

    Parameters (beyond :class:`~skdsc._training.StageNet`'s)
    ----------------------------------------------------------
    cluster_weight : float
        Weight of ``KL(P || Q)`` against the reconstruction (0.1).
    rank_weight, lis_weight, align_weight : float
        Weights of ``L_rank``, ``L_LIS`` (multiplied by ``beta(t)``) and ``L_align``.
    kappa : float
        Scale of the input centre distances in ``L_rank``.
    n_neighbors : int
        Neighbours per point in ``L_LIS``.
    warmup_epochs, continuation_epochs : int
        Schedule of :func:`continuation_weights`.
    clustering_loss, structure_losses, weight_continuation, alternating : bool
        Ablation switches (the paper's Table 4).
    snapshot_epochs : sequence of int
        Epochs at whose start the embedding and labels of the training set are
        stored in ``snapshots_`` (``max_epochs`` means after the last epoch).
    carry_state_from : mapping or None
        ``state`` of the pretraining stage's optimiser. When given, this
        per-parameter state (Adam's moments) is carried into ``optimizer_`` for the
        autoencoder parameters (see :func:`~skdsc._training.carry_optimizer_state`);
        ``optimizer2_`` and the centres start fresh.
    """

    def __init__(
        self, *args, cluster_weight=0.1, rank_weight=1.0, lis_weight=1.0, align_weight=1.0,
        kappa=3.0, n_neighbors=5, warmup_epochs=10, continuation_epochs=150,
        clustering_loss=True, structure_losses=True, weight_continuation=True,
        alternating=True, snapshot_epochs=(), rank_scale_by_dim=False, carry_state_from=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.cluster_weight = cluster_weight
        self.rank_weight = rank_weight
        self.lis_weight = lis_weight
        self.align_weight = align_weight
        self.kappa = kappa
        self.n_neighbors = n_neighbors
        self.warmup_epochs = warmup_epochs
        self.continuation_epochs = continuation_epochs
        self.clustering_loss = clustering_loss
        self.structure_losses = structure_losses
        self.weight_continuation = weight_continuation
        self.alternating = alternating
        self.snapshot_epochs = snapshot_epochs
        self.rank_scale_by_dim = rank_scale_by_dim
        self.carry_state_from = carry_state_from

    # ------------------------------------------------------------ optimisers
    def initialize_optimizer(self, *args, **kwargs):
        """``optimizer_`` (all parameters, mini-batch steps) and ``optimizer2_``
        (encoder and centres, the per-epoch isometry/alignment step)."""
        super().initialize_optimizer(*args, **kwargs)
        params = list(self.module_.autoencoder.encoder.parameters()) + list(self.module_.head.parameters())
        self.optimizer2_ = self.optimizer(params, lr=self.lr)
        if self.carry_state_from is not None:
            carry_optimizer_state(self.carry_state_from, self.optimizer_)
        return self

    def train_step(self, batch, **fit_params):
        # only the mini-batch optimiser steps here (skorch would step every optimiser)
        self._set_training(True)
        self.optimizer_.zero_grad()
        step = self.train_step_single(batch, **fit_params)
        self.optimizer_.step()
        self.iter_ += 1
        return step

    # --------------------------------------------------------- full-data passes
    def _encode_all(self, X, grad_output=None):
        """Embeddings of all rows of ``X`` in chunks (no grad), or, with
        ``grad_output``, back-propagate ``dL/dZ = grad_output`` into the encoder."""
        encoder = self.module_.autoencoder.encoder
        if grad_output is None:
            out = []
            with torch.no_grad():
                for s in range(0, X.shape[0], _CHUNK):
                    out.append(encoder(torch.from_numpy(X[s:s + _CHUNK]).to(self.device)))
            return torch.cat(out) if out else torch.empty(0, self.module_.autoencoder.latent_dim)
        for s in range(0, X.shape[0], _CHUNK):
            z = encoder(torch.from_numpy(X[s:s + _CHUNK]).to(self.device))
            z.backward(grad_output[s:s + _CHUNK])
        return None

    def _structure_active(self):
        return self.structure_losses and self.epoch_ >= self.warmup_epochs

    def update_targets(self, X):
        """Algorithm 1, lines 3-5: ``Q``, ``P``, pseudo-labels and ``v^X`` on all of ``X``."""
        self._set_training(False)
        head = self.module_.head
        Z = self._encode_all(X)
        with torch.no_grad():
            q = head(Z)
        p = dec_target_distribution(q)
        labels = p.argmax(dim=1).cpu().numpy()
        if self.pseudo_labels_ is not None:
            self.history.record("label_change", float(np.mean(labels != self.pseudo_labels_)))
        self.target_ = p
        self.pseudo_labels_ = labels
        n_clusters = head.centers.shape[0]
        vx, counts = cluster_means(X, labels, n_clusters)
        self.input_centers_ = torch.from_numpy(vx).to(self.device)
        self.center_mask_ = torch.from_numpy(counts > 0).to(self.device)
        self._set_training(True)
        return Z, q

    def structure_step(self, X):
        """Algorithm 1, lines 13-14: one step of ``optimizer2_`` on
        ``beta(t) * lis_weight * L_LIS + align_weight * L_align`` over all samples."""
        self._set_training(True)
        head = self.module_.head
        labels = self.pseudo_labels_
        Z = self._encode_all(X)
        rows, cols = within_cluster_neighbors(Z.cpu().numpy(), labels, self.n_neighbors)
        dist_x = torch.from_numpy(pair_distances(X, rows, cols)).to(self.device)
        z_leaf = Z.detach().requires_grad_(True)
        lab = torch.from_numpy(labels).to(self.device)
        n_clusters = head.centers.shape[0]
        counts = torch.bincount(lab, minlength=n_clusters).clamp_min(1).to(z_leaf.dtype)
        vz = torch.zeros(n_clusters, z_leaf.shape[1], device=self.device).index_add(0, lab, z_leaf)
        vz = vz / counts[:, None]
        rows_t = torch.from_numpy(rows).to(self.device)
        cols_t = torch.from_numpy(cols).to(self.device)
        lis = local_isometry_loss(z_leaf[rows_t], z_leaf[cols_t], dist_x, X.shape[1])
        align = center_alignment_loss(head.centers, vz, self.center_mask_)
        loss = self.beta_ * self.lis_weight * lis + self.align_weight * align
        if not torch.isfinite(loss):
            raise NonFiniteLossError(
                f"GCML: the isometry/alignment loss became {float(loss)} in stage {self.stage!r} "
                f"at epoch {self.epoch_ + 1}. Lower `lr` or scale the input."
            )
        self.optimizer2_.zero_grad()
        loss.backward()
        self._encode_all(X, grad_output=z_leaf.grad)
        self.optimizer2_.step()
        self.history.record("lis_loss", float(lis.detach()))
        self.history.record("align_loss", float(align.detach()))

    def _batch_structure_loss(self, z, X, idx):
        """Without alternating training: ``L_LIS`` and ``L_align`` on the batch itself
        (neighbours among the batch members of the same pseudo-cluster)."""
        lab = torch.from_numpy(self.pseudo_labels_).to(z.device)[idx]
        with torch.no_grad():
            dz = torch.cdist(z, z)
            same = lab[:, None] == lab[None, :]
            same.fill_diagonal_(False)
            dz = dz.masked_fill(~same, float("inf"))
            k = min(self.n_neighbors, max(z.shape[0] - 1, 0))
            if k > 0:
                vals, nbr = dz.topk(k, dim=1, largest=False)
                valid = torch.isfinite(vals)
                rows = torch.arange(z.shape[0], device=z.device)[:, None].expand_as(nbr)[valid]
                cols = nbr[valid]
            else:
                rows = cols = torch.empty(0, dtype=torch.long, device=z.device)
            dist_x = torch.linalg.vector_norm(X[rows] - X[cols], dim=1)
        lis = local_isometry_loss(z[rows], z[cols], dist_x, X.shape[1])
        n_clusters = self.module_.head.centers.shape[0]
        counts = torch.bincount(lab, minlength=n_clusters)
        vz = torch.zeros(n_clusters, z.shape[1], device=z.device).index_add(0, lab, z)
        vz = vz / counts.clamp_min(1)[:, None].to(z.dtype)
        align = center_alignment_loss(self.module_.head.centers, vz, counts > 0)
        return self.beta_ * self.lis_weight * lis + self.align_weight * align

    # -------------------------------------------------------------- the loss
    def get_loss(self, y_pred, y_true, X=None, training=False):
        z, x_hat, q = y_pred
        X = X.to(x_hat.device)
        idx = y_true.to(self.target_.device).long()
        loss = z.sum() * 0.0
        if self.alpha_ > 0:
            part = reconstruction_mse(x_hat, X)
            if self.clustering_loss:
                part = part + self.cluster_weight * kl_divergence(self.target_[idx].to(q.device), q)
            loss = loss + self.alpha_ * part
        if self._structure_active():
            centers = self.module_.head.centers
            rank = center_ranking_loss(centers, self.input_centers_, self.kappa, self.center_mask_,
                                       scale_by_dim=self.rank_scale_by_dim)
            loss = loss + self.rank_weight * rank / self.n_batches_
            if not self.alternating:
                loss = loss + self._batch_structure_loss(z, X, idx)
        return loss

    # -------------------------------------------------------- epoch hooks
    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self.X_ = X
        self.target_ = None
        self.pseudo_labels_ = None
        self.snapshots_ = []
        self.n_batches_ = max(1, X.shape[0] // self.batch_size)

    def _snapshot(self, epoch, Z, q):
        self.snapshots_.append(
            {"epoch": int(epoch), "embedding": Z.cpu().numpy().copy(),
             "labels": q.argmax(dim=1).cpu().numpy().astype(np.int64),
             "centers": self.module_.head.centers.detach().cpu().numpy().copy()}
        )

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train=dataset_train, dataset_valid=dataset_valid, **kwargs)
        self.epoch_ = len(self.history) - 1
        self.alpha_, self.beta_ = continuation_weights(
            self.epoch_, self.warmup_epochs, self.continuation_epochs, self.weight_continuation
        )
        if not self.structure_losses:
            self.beta_ = 0.0
        self.history.record("alpha", self.alpha_)
        self.history.record("beta", self.beta_)
        Z, q = self.update_targets(self.X_)
        if self.epoch_ in self.snapshot_epochs:
            self._snapshot(self.epoch_, Z, q)

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_end(net, dataset_train=dataset_train, dataset_valid=dataset_valid, **kwargs)
        if self.alternating and self._structure_active():
            self.structure_step(self.X_)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        super().on_train_end(net, X=X, y=y, **kwargs)
        if self.max_epochs in self.snapshot_epochs:
            self._set_training(False)
            Z = self._encode_all(self.X_)
            with torch.no_grad():
                q = self.module_.head(Z)
            self._snapshot(self.max_epochs, Z, q)
        self.X_ = None
        self.target_ = None
