"""Training machinery of A-DATSC (seed 000, section 5.4), as skorch nets and callbacks.

- :class:`SlidingWindowDataset` cuts ``sequence_length`` windows out of a frame
  series on the fly (views, never a stacked copy);
- :class:`ADATSCPretrainNet`: reconstruction-only pretraining of the generator;
- :class:`ADATSCNet`: the adversarial stage, one generator step (optimizer
  ``optimizer_`` on ``module_``) then one discriminator step (``optimizer2_`` on
  ``module2_``) per batch;
- callbacks for the schedules: temperature annealing, balance ramp and the
  self-expression warm-up;
- :func:`window_outputs`: evaluation over all windows, combining the windows that
  cover each time step.
"""

import numpy as np
import torch
from skorch.callbacks import Callback
from skorch.dataset import unpack_data
from torch.utils.data import DataLoader, Dataset

from ._training import StageNet
from .losses import (
    adversarial_energy_loss,
    assignment_redundancy,
    dec_target_distribution,
    kl_divergence,
    marginal_balance_kl,
    reconstruction_mse,
    self_expression_loss,
    subspace_discriminator_loss,
)
from .nn.adatsc import SubspaceSampler
from .nn.discriminator import projection_residual_energy

__all__ = [
    "window_starts",
    "SlidingWindowDataset",
    "cropped_reconstruction_mse",
    "ADATSCPretrainNet",
    "ADATSCNet",
    "TemperatureAnnealing",
    "BalanceRamp",
    "SelfExpressionWarmup",
    "window_outputs",
    "refresh_batchnorm",
]


def window_starts(n_steps, length, stride):
    """Start indices of the windows: every ``stride`` steps, plus one ending at the last step.

    Every time step is covered by at least one window: a ``stride`` larger than
    ``length`` is reduced to ``length`` (adjacent, non-overlapping windows).

    Examples
    --------
    >>> window_starts(10, 4, 3).tolist()
    [0, 3, 6]
    >>> window_starts(11, 4, 3).tolist()
    [0, 3, 6, 7]
    """
    if length > n_steps:
        raise ValueError(f"window length {length} exceeds the {n_steps} time steps")
    starts = np.arange(0, n_steps - length + 1, min(stride, length))
    if starts[-1] != n_steps - length:
        starts = np.append(starts, n_steps - length)
    return starts


class SlidingWindowDataset(Dataset):
    """Windows of ``length`` consecutive frames, cut on the fly.

    Parameters
    ----------
    frames : Tensor of shape (n_steps, C, H, W)
    length, stride : int

    Items are ``(frames[s:s + length], s)``: a view of the series and the start
    index ``s`` (used as the target so that each batch knows which steps it covers).
    """

    def __init__(self, frames, length, stride):
        self.frames = frames
        self.length = int(length)
        self.starts = torch.as_tensor(window_starts(frames.shape[0], self.length, stride))

    def __len__(self):
        return len(self.starts)

    def __getitem__(self, i):
        s = int(self.starts[i])
        return self.frames[s:s + self.length], s


def cropped_reconstruction_mse(x_hat, x, crop=None):
    """Reconstruction MSE over the unpadded ``crop = (H0, W0)`` part of the frames."""
    if crop is not None:
        h0, w0 = crop
        x_hat, x = x_hat[..., :h0, :w0], x[..., :h0, :w0]
    return reconstruction_mse(x_hat, x)


class ADATSCPretrainNet(StageNet):
    """Pretraining of the generator on the reconstruction loss alone.

    ``crop = (H0, W0)``: the loss ignores the zero padding beyond the true grid.
    """

    def __init__(self, *args, crop=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.crop = crop

    def get_loss(self, y_pred, y_true, X=None, training=False):
        x_hat = y_pred[2]
        return cropped_reconstruction_mse(x_hat, X.to(x_hat.device), self.crop)


class ADATSCNet(StageNet):
    """A-DATSC's adversarial training stage (two modules, two optimisers).

    ``module`` is the :class:`~skdsc.nn.ADATSCGenerator`, ``module2`` the
    :class:`~skdsc.nn.SubspaceDiscriminator`. Each batch takes

    1. a generator step on
       ``L = L_rec + KL(P || Q̃) + λ_bal·r(e)·(KL(q̄ || u) + L_MI)
       + λ_SE·s(e)·L_SE + λ_adv·L_adv``
       (``P`` is DEC's target computed from the batch's ``Q̃`` without gradient;
       ``r(e)`` the balance ramp and ``s(e)`` the self-expression switch, set by
       callbacks; ``L_adv`` the fake latents' residual energy on the current,
       frozen subspaces), with ``optimizer_`` on the generator's parameters;
    2. a discriminator step on the hinge/orthogonality objective ``L_D`` with
       real and fake latents from the sampling layer, with ``optimizer2_`` on the
       bases only.

    ``L_rec`` is the mean squared error divided by ``rec_scale``: the fit passes
    ``1 / (variables x cells of a frame)``, which makes it the seed's squared
    error summed over each frame and averaged over the frames of the batch.
    With ``adversarial=False`` the discriminator and ``L_adv`` are switched off
    (the ablation). The per-term losses are recorded in the history. ``crop``
    restricts the reconstruction loss to the unpadded grid.
    """

    def __init__(self, *args, module2=None, lr2=None, lambda_bal=0.1, lambda_se=0.1, se_l1=0.1,
                 lambda_adv=0.1, margin=1.0, beta_orth=1.0, beta_cross=0.1, n_real=16, adversarial=True,
                 crop=None, rec_scale=1.0, **kwargs):
        # set before NeuralNet.__init__: afterwards skorch refuses a module attribute
        self.module2 = module2
        super().__init__(*args, **kwargs)
        self.crop = crop
        self.rec_scale = rec_scale
        self.lr2 = lr2
        self.lambda_bal = lambda_bal
        self.lambda_se = lambda_se
        self.se_l1 = se_l1
        self.lambda_adv = lambda_adv
        self.margin = margin
        self.beta_orth = beta_orth
        self.beta_cross = beta_cross
        self.n_real = n_real
        self.adversarial = adversarial

    def initialize_module(self):
        super().initialize_module()
        self.module2_ = self.initialized_instance(self.module2, {}).to(self.device)
        self.sampler_ = SubspaceSampler(self.n_real)
        self.balance_weight_ = self.lambda_bal
        self.se_weight_ = self.lambda_se
        return self

    def initialize_optimizer(self, *args, **kwargs):
        named = self.module_.named_parameters()
        args_, kwargs_ = self.get_params_for_optimizer("optimizer", named)
        self.optimizer_ = self.optimizer(*args_, **kwargs_)
        named2 = self.module2_.named_parameters()
        args2, kwargs2 = self.get_params_for_optimizer("optimizer2", named2)
        if self.lr2 is not None:
            kwargs2["lr"] = self.lr2
        self.optimizer2_ = self.optimizer(*args2, **kwargs2)
        return self

    def _own_energy(self, latents, bases):
        """Energy of ``latents`` (K, m, D) on their own cluster's subspace: (K, m)."""
        energy = projection_residual_energy(latents, bases)  # (K, m, K)
        k = latents.shape[0]
        return energy[torch.arange(k), :, torch.arange(k)]

    def generator_loss(self, out, X):
        """The generator objective and its parts; also the real/fake latents."""
        z, q, x_hat, coef, z_se, _ = out
        flat_q = q.reshape(-1, q.shape[-1])
        parts = {"rec": cropped_reconstruction_mse(x_hat, X, self.crop) / self.rec_scale}
        parts["dec_kl"] = kl_divergence(dec_target_distribution(flat_q), flat_q)
        parts["balance"] = marginal_balance_kl(flat_q) + assignment_redundancy(flat_q)
        parts["se"] = self_expression_loss(z, coef, self.se_l1)
        loss = parts["rec"] + parts["dec_kl"] + self.balance_weight_ * parts["balance"]
        if self.se_weight_:
            loss = loss + self.se_weight_ * parts["se"]
        real = fake = None
        if self.adversarial:
            real, fake, _ = self.sampler_(z.reshape(-1, z.shape[-1]), flat_q)
            parts["adv"] = adversarial_energy_loss(self._own_energy(fake, self.module2_.bases.detach()))
            loss = loss + self.lambda_adv * parts["adv"]
        return loss, parts, real, fake

    def discriminator_loss(self, real, fake):
        bases = self.module2_.bases
        return subspace_discriminator_loss(
            self._own_energy(real, bases), self._own_energy(fake, bases), bases,
            self.margin, self.beta_orth, self.beta_cross,
        )

    def train_step(self, batch, **fit_params):
        self._set_training(True)
        Xi, _ = unpack_data(batch)
        Xi = Xi.to(self.device)
        # 1. generator step
        self.optimizer_.zero_grad()
        out = self.infer(Xi, **fit_params)
        loss, parts, real, fake = self.generator_loss(out, Xi)
        loss.backward()
        self.optimizer_.step()
        # 2. discriminator step
        if self.adversarial:
            self.optimizer2_.zero_grad()
            loss_d = self.discriminator_loss(real.detach(), fake.detach())
            loss_d.backward()
            self.optimizer2_.step()
            parts["loss_d"] = loss_d
        for name, value in parts.items():
            self.history.record_batch(name, float(value.detach()))
        self.iter_ += 1
        return {"loss": loss, "y_pred": out}

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self.generator_loss(y_pred, X.to(y_pred[0].device))[0]


def _epoch(net):
    return len(net.history) - 1  # called after the net opened the new epoch's row


class TemperatureAnnealing(Callback):
    """Anneal the head's temperature linearly from ``start`` to ``end`` over ``n_epochs``."""

    def __init__(self, start, end, n_epochs):
        self.start = start
        self.end = end
        self.n_epochs = n_epochs

    def value(self, epoch):
        if self.n_epochs <= 1:
            return float(self.end)
        frac = min(1.0, epoch / (self.n_epochs - 1))
        return float(self.start + frac * (self.end - self.start))

    def on_epoch_begin(self, net, **kwargs):
        tau = self.value(_epoch(net))
        net.module_.temperature = tau
        net.history.record("tau", tau)


class BalanceRamp(Callback):
    """Ramp the balance weight linearly from ``weight / ramp_epochs`` to ``weight``."""

    def __init__(self, weight, ramp_epochs):
        self.weight = weight
        self.ramp_epochs = ramp_epochs

    def value(self, epoch):
        if self.ramp_epochs <= 0:
            return float(self.weight)
        return float(self.weight * min(1.0, (epoch + 1) / self.ramp_epochs))

    def on_epoch_begin(self, net, **kwargs):
        net.balance_weight_ = self.value(_epoch(net))
        net.history.record("balance_weight", net.balance_weight_)


class SelfExpressionWarmup(Callback):
    """Enable the self-expressive layer (loss and bottleneck) after ``warmup_epochs``."""

    def __init__(self, weight, warmup_epochs):
        self.weight = weight
        self.warmup_epochs = warmup_epochs

    def on_epoch_begin(self, net, **kwargs):
        on = _epoch(net) >= self.warmup_epochs
        net.module_.use_se = on
        net.se_weight_ = self.weight if on else 0.0


@torch.no_grad()
def window_outputs(module, frames, length, stride, batch_size, device="cpu", crop=None):
    """Evaluate the generator on every window and combine the windows per time step.

    The embedding ``z_t`` and the soft assignment ``q̃_t`` of a time step are the
    means over the windows that cover it (the mean of probability vectors is a
    probability vector). Also returns each step's mean reconstruction error over
    the unpadded grid.

    Parameters
    ----------
    module : ADATSCGenerator
    frames : Tensor of shape (n_steps, C, H, W)
    crop : tuple (H0, W0), optional
        Size of the unpadded grid for the reconstruction error.

    Returns
    -------
    z : ndarray (n_steps, D), q : ndarray (n_steps, K), rec : ndarray (n_steps,)
    """
    dataset = SlidingWindowDataset(frames, length, stride)
    n = frames.shape[0]
    was_training = module.training
    module.eval()
    z_sum = q_sum = None
    rec_sum = torch.zeros(n, dtype=torch.float64)
    count = torch.zeros(n, dtype=torch.float64)
    steps = torch.arange(dataset.length)
    with torch.random.fork_rng(devices=[]):
        for xb, sb in DataLoader(dataset, batch_size=batch_size, shuffle=False):
            nb = xb.shape[0]
            if nb < batch_size:  # constant batch shape: a step's outputs do not depend on the batching
                xb = torch.cat([xb, xb.new_zeros((batch_size - nb,) + xb.shape[1:])])
            z, q, x_hat = (o[:nb].cpu() for o in module(xb.to(device))[:3])
            xb = xb[:nb]
            idx = (sb[:, None] + steps[None, :]).reshape(-1)
            if z_sum is None:
                z_sum = torch.zeros(n, z.shape[-1], dtype=torch.float64)
                q_sum = torch.zeros(n, q.shape[-1], dtype=torch.float64)
            z_sum.index_add_(0, idx, z.reshape(-1, z.shape[-1]).double())
            q_sum.index_add_(0, idx, q.reshape(-1, q.shape[-1]).double())
            h0, w0 = crop if crop is not None else xb.shape[-2:]
            err = ((x_hat[..., :h0, :w0] - xb[..., :h0, :w0]) ** 2).mean(dim=(2, 3, 4))
            rec_sum.index_add_(0, idx, err.reshape(-1).double())
            count.index_add_(0, idx, torch.ones(idx.shape[0], dtype=torch.float64))
    module.train(was_training)
    z = (z_sum / count[:, None]).float().numpy()
    q = q_sum / count[:, None]
    q = (q / q.sum(dim=1, keepdim=True)).float().numpy()
    return z, q, (rec_sum / count).numpy()


@torch.no_grad()
def refresh_batchnorm(module, frames, length, batch_size, device="cpu"):
    """Recompute the running statistics of every BatchNorm layer on all windows.

    The statistics are reset and accumulated as exact averages (``momentum=None``)
    over one pass in training mode (stride-1 windows, no gradient), so that
    evaluation uses the population statistics of the *current* weights, not a
    moving average dragged from the start of training. No-op without BatchNorm.
    """
    norms = [m for m in module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    was_training = module.training
    module.train()
    dataset = SlidingWindowDataset(frames, length, 1)
    with torch.random.fork_rng(devices=[]):
        for xb, _ in DataLoader(dataset, batch_size=batch_size, shuffle=False):
            module(xb.to(device))
    module.train(was_training)
