"""Training stage of SCDSC (seed 002) in mini-batches, with memory linear in pixels.

The paper trains full-batch: every step sees the soft assignments ``S`` of all
pixels, so the non-local term can average them over each mini-cluster and the
local term can box-filter the whole assignment map. Here a step sees a batch
only; :class:`AssignmentMemory` keeps the most recent (detached) assignment of
every training pixel, both as a table and laid out on the padded image grid, plus
the running sum of each mini-cluster. A batch then

* forms each touched mini-cluster's mean ``m_p`` from its fresh rows (with
  gradient) and the stored rows of its other members, and its refined target
  ``m~_p`` from the global column sums ``f_j = sum_p m_pj`` (kept up to date
  incrementally), so the gradient reaching a pixel is exactly the full-batch
  gradient evaluated at the memory (eq. 10); the term is scaled by
  ``n / (B * l)`` so its expected gradient equals that of the full-batch
  ``KL(M~ || M)`` averaged over the ``l`` mini-clusters;
* writes its fresh assignments into the grid and box-filters each batch pixel's
  window from it (``|W| * k`` reads per pixel), giving the local target ``F``.

Everything a step touches is ``O(B |W| k)``; an epoch is ``O(n)``. The memories
are refreshed exactly (sums recomputed from the table) at each epoch start. With
``batch_size >= n`` the stage is the paper's full-batch training.
"""

import numpy as np
import torch
from skorch.callbacks import Callback

from ._training import StageNet
from .losses import (
    basis_dissimilarity,
    kl_divergence,
    refined_minicluster_target,
    reconstruction_mse,
)

__all__ = ["AssignmentMemory", "MemoryInitializer", "SCDSCNet", "predict_dataset"]


def predict_dataset(module, dataset, batch_size, device="cpu", outputs=(0, 2)):
    """Run ``module`` in evaluation mode over a patch dataset, chunk by chunk.

    Returns the requested outputs of ``module.forward`` (by position) as CPU
    tensors concatenated over the dataset; nothing else is kept, so memory is the
    size of those outputs.
    """
    was_training = module.training
    module.eval()
    n = len(dataset)
    results = [None] * len(outputs)
    try:
        with torch.no_grad():
            for start in range(0, n, batch_size):
                stop = min(start + batch_size, n)
                patches, _ = dataset.__getitems__(np.arange(start, stop))
                out = module(patches.to(device))
                for i, o in enumerate(outputs):
                    value = out[o].detach().to("cpu")
                    if results[i] is None:  # preallocate: no list of chunks, no concatenation copy
                        results[i] = torch.empty((n,) + tuple(value.shape[1:]), dtype=value.dtype)
                    results[i][start:stop] = value
    finally:
        module.train(was_training)
    return tuple(torch.empty(0) if r is None else r for r in results)


class AssignmentMemory:
    """Latest soft assignment of every training pixel, and what the losses need of it.

    Parameters
    ----------
    s : Tensor of shape (n, k)
        Initial assignments of the ``n`` training pixels.
    pixels : array of int, shape (n,)
        Flat (row-major) positions of the training pixels in the image.
    image_shape : (H, W) or None
        None when the samples are independent (no local term).
    window : int or None
        Side of the smoothing box; None disables the local term.
    minicluster_labels : array of int, shape (n,), or None
        Mini-cluster of each training pixel; None disables the non-local term.
    """

    def __init__(self, s, pixels, image_shape=None, window=None, minicluster_labels=None):
        self.table = s.detach().clone()
        self.n, self.k = self.table.shape
        self.local = image_shape is not None and window is not None
        if self.local:
            H, W = image_shape
            r = int(window) // 2
            Hp, Wp = H + 2 * r, W + 2 * r
            pixels = torch.as_tensor(np.asarray(pixels), dtype=torch.int64)
            rows, cols = pixels // W, pixels % W
            self.top_left = rows * Wp + cols  # window origin on the padded grid
            self.centre = (rows + r) * Wp + (cols + r)
            d = torch.arange(2 * r + 1)
            self.offsets = (d[:, None] * Wp + d[None, :]).ravel()
            mask = torch.zeros(Hp * Wp, dtype=self.table.dtype)
            mask[self.centre] = 1.0
            # number of masked pixels in each training pixel's window (constant)
            self.count = mask[self.top_left[:, None] + self.offsets[None, :]].sum(1)
            self.grid = torch.zeros((Hp * Wp, self.k), dtype=self.table.dtype)
            self.grid[self.centre] = self.table
        self.nonlocal_ = minicluster_labels is not None
        if self.nonlocal_:
            self.mc = torch.as_tensor(np.asarray(minicluster_labels), dtype=torch.int64)
            self.n_mc = int(self.mc.max()) + 1
            self.mc_size = torch.bincount(self.mc, minlength=self.n_mc).to(self.table.dtype)
            self.refresh()

    def refresh(self):
        """Recompute the mini-cluster sums and column sums exactly from the table."""
        if self.nonlocal_:
            self.mc_sum = torch.zeros((self.n_mc, self.k), dtype=self.table.dtype).index_add_(0, self.mc, self.table)
            self.col_sum = (self.mc_sum / self.mc_size[:, None]).sum(0)

    def nonlocal_loss(self, s, idx):
        """Mini-batch non-local loss; also writes ``s`` into the mini-cluster sums."""
        B = s.shape[0]
        p = self.mc[idx]
        touched, inverse = torch.unique(p, return_inverse=True)
        delta = s - self.table[idx].to(s.device)
        size = self.mc_size[touched].to(s.device)[:, None]
        base = self.mc_sum[touched].to(s.device)
        m = (base + torch.zeros_like(base).index_add(0, inverse.to(s.device), delta)) / size
        m_det = m.detach()
        col_sum = self.col_sum.to(s.device) + (m_det - base / size).sum(0)
        target = refined_minicluster_target(m_det, col_sum)
        loss = kl_divergence(target, m, reduction="sum") * (self.n / (B * self.n_mc))
        # update the running sums with the fresh (detached) rows
        self.mc_sum.index_add_(0, touched.cpu(), (m_det * size - base).cpu())
        self.col_sum = col_sum.cpu()
        return loss

    def write(self, s, idx):
        """Store the fresh (detached) assignments of a batch."""
        s = s.detach().cpu()
        self.table[idx] = s
        if self.local:
            self.grid[self.centre[idx]] = s

    def smoothed(self, idx):
        """Box-filtered assignments ``F`` of batch pixels, read from the grid."""
        window = self.grid[self.top_left[idx][:, None] + self.offsets[None, :]]
        return window.sum(1) / self.count[idx][:, None]


class SCDSCNet(StageNet):
    """The SCDSC clustering stage (seed 002, eq. 17).

    The module's ``forward`` returns ``(z, x_hat, s)``; the dataset's ``y`` is the
    index of each pixel among the training pixels. The batch loss is
    ``MSE + beta * phi(D) + beta1 * L_NL + beta2 * L_L``, the last two computed
    against ``memory_`` (an :class:`AssignmentMemory` set up by
    :class:`MemoryInitializer`); terms whose memory part is disabled are skipped.
    Each term is recorded in the history (``loss_rec``, ``loss_basis``,
    ``loss_nonlocal``, ``loss_local``).

    Both KL terms are averaged over the *entries* of their ``(rows, k)`` matrices,
    i.e. the row-mean KL divided by ``k``: that is ``F.kl_div``'s ``"mean"``
    reduction used by the authors' code for ``KL(M~ || M)`` and ``KL(F || S)``,
    the units in which the paper's ``beta1 = 3`` and ``beta2 = 1..8`` were set
    (the seed's eqs. 9 and 12 write plain sums, which no weight is quoted for).
    With the row mean the two terms weighed ``k`` times more against the
    reconstruction than in the paper.
    """

    def __init__(self, *args, beta=1e-3, beta1=3.0, beta2=7.0, n_basis=5, **kwargs):
        super().__init__(*args, **kwargs)
        self.beta = beta
        self.beta1 = beta1
        self.beta2 = beta2
        self.n_basis = n_basis

    def get_loss(self, y_pred, y_true, X=None, training=False):
        _, x_hat, s = y_pred
        rec = reconstruction_mse(x_hat, X.to(x_hat.device))
        basis = basis_dissimilarity(self.module_.head.basis, self.n_basis)
        loss = rec + self.beta * basis
        terms = {"loss_rec": rec, "loss_basis": basis}
        memory = getattr(self, "memory_", None)
        if training and memory is not None:
            idx = y_true.cpu().long()
            k = s.shape[1]  # entry means, as the authors' code (see the class docstring)
            if memory.nonlocal_:
                nl = memory.nonlocal_loss(s, idx) / k
                loss = loss + self.beta1 * nl
                terms["loss_nonlocal"] = nl
            memory.write(s, idx)
            if memory.local:
                local = kl_divergence(memory.smoothed(idx).to(s.device), s) / k
                loss = loss + self.beta2 * local
                terms["loss_local"] = local
            for name, value in terms.items():
                self.history.record_batch(name, float(value.detach()))
        return loss


class MemoryInitializer(Callback):
    """Set up the stage's :class:`AssignmentMemory`, refresh it, pick the epoch kept.

    At train begin, the assignments of all training pixels are computed in
    evaluation mode and an :class:`AssignmentMemory` is built from them with the
    given layout (see its parameters); at each epoch begin the memory's sums are
    recomputed exactly. :meth:`release` drops the memory and the arrays once the
    stage is over, so the fitted net pickles small.

    Epoch selection. After the initialisation and after every epoch the share of
    training pixels whose largest assignment exceeds ``confidence`` is computed
    from the memory (the latest assignment of every pixel) and recorded in the
    history as ``confident_share``. With ``keep_confident=True`` the module's
    weights of the state with the largest share (the first one on ties) are
    restored at train end, which is how the authors' code picks the result it
    reports (``ratio = (s > 0.9).sum() / n``; the prediction of the epoch with
    the largest ratio is kept); it uses no labels. When no state has a single
    confident pixel (the authors' code then reports nothing) the last epoch is
    kept. The epoch kept (0 = the initialisation) is ``selected_epoch_``.

    Cluster sizes. At the same times the size of every cluster (pixels whose
    latest assignment is largest there) is stored in ``sizes_`` and, after each
    epoch, in the history as ``cluster_sizes``: the refined targets pull towards
    equal sizes, and this is where that drift shows.
    """

    def __init__(self, pixels, image_shape=None, window=None, minicluster_labels=None, batch_size=1024,
                 keep_confident=False, confidence=0.9):
        self.pixels = pixels
        self.image_shape = image_shape
        self.window = window
        self.minicluster_labels = minicluster_labels
        self.batch_size = batch_size
        self.keep_confident = keep_confident
        self.confidence = confidence

    def _confident_share(self, net):
        return float((net.memory_.table.max(dim=1).values > self.confidence).double().mean())

    def reset_records(self):
        """Forget the shares, sizes and best state of a previous stage."""
        self.shares_, self.sizes_ = [], []
        self.best_share_, self.selected_epoch_, self.best_state_ = -1.0, 0, None

    def _consider(self, net, epoch):
        table = net.memory_.table
        self.sizes_.append(torch.bincount(table.argmax(dim=1), minlength=table.shape[1]).tolist())
        share = self._confident_share(net)
        self.shares_.append(share)
        if share > self.best_share_:
            self.best_share_, self.selected_epoch_ = share, epoch
            if self.keep_confident:
                self.best_state_ = {k: v.detach().clone() for k, v in net.module_.state_dict().items()}
        return share

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        (s,) = predict_dataset(net.module_, X, self.batch_size, net.device, outputs=(2,))
        net.memory_ = AssignmentMemory(s, self.pixels, self.image_shape, self.window, self.minicluster_labels)
        self.net_ = net
        self.reset_records()
        self._consider(net, 0)

    def on_epoch_begin(self, net, **kwargs):
        if getattr(net, "memory_", None) is not None:
            net.memory_.refresh()

    def on_epoch_end(self, net, **kwargs):
        if getattr(net, "memory_", None) is not None:
            net.history.record("confident_share", self._consider(net, len(net.history)))
            net.history.record("cluster_sizes", self.sizes_[-1])

    def on_train_end(self, net, **kwargs):
        if self.best_share_ <= 0.0:  # no state had a confident pixel: nothing to choose by, keep the last
            self.selected_epoch_ = len(self.shares_) - 1
        elif self.keep_confident and self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)
        self.best_state_ = None

    def release(self):
        net = getattr(self, "net_", None)
        if net is not None:
            net.memory_ = None
        self.net_ = self.pixels = self.minicluster_labels = None
        self.best_state_ = None
