"""skorch nets and callbacks shared by the deep estimators.

The public estimators own these nets (composition, see ``doc/design.rst``); the
custom parts of each training procedure live here, as overrides of skorch's
``train_step_single``/``get_loss`` and as callbacks, never as ad-hoc loops in the
estimators.
"""

import math

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, ProgressBar
from skorch.dataset import unpack_data

from .losses import dec_target_distribution, kl_divergence, reconstruction_mse

__all__ = [
    "NonFiniteLossError",
    "ConvergenceReached",
    "FiniteLossGuard",
    "StageProgressBar",
    "StageNet",
    "AutoencoderNet",
    "DECNet",
    "TargetDistributionUpdater",
    "carry_optimizer_state",
]


def carry_optimizer_state(source_state, target):
    """Copy an optimiser's per-parameter state into ``target`` for the parameters they share.

    Used when a later training stage fine-tunes the parameters of an earlier one
    with a new optimiser: with Adam, a new optimiser has zero moments, so its first
    steps move every parameter by about ``lr`` in the direction of the sign of its
    gradient, whatever the gradient's size; carrying the moments continues the
    earlier stage's step sizes instead. Parameters without a state in
    ``source_state`` (e.g. new cluster centres) keep a fresh one.

    Parameters
    ----------
    source_state : mapping
        The ``state`` attribute of the earlier stage's optimiser (of the same class
        as ``target``): parameter tensor -> its state dict.
    target : torch.optim.Optimizer
        Parameters are matched by identity.

    Returns
    -------
    n_carried : int
        Number of parameters whose state was copied.
    """
    n_carried = 0
    for group in target.param_groups:
        for param in group["params"]:
            state = source_state.get(param)
            if not state:
                continue
            target.state[param] = {k: v.clone() if torch.is_tensor(v) else v for k, v in state.items()}
            n_carried += 1
    return n_carried


class NonFiniteLossError(FloatingPointError):
    """Raised when a training loss becomes NaN or infinite."""


class ConvergenceReached(Exception):
    """Raised by a callback to end a training stage early (caught by the estimator)."""


class FiniteLossGuard(Callback):
    """Stop training with a clear error as soon as a batch loss is not finite.

    Parameters
    ----------
    stage : str
        Name of the training stage, quoted in the error.
    owner : str
        Name of the estimator, quoted in the error.
    """

    def __init__(self, stage, owner="estimator"):
        self.stage = stage
        self.owner = owner

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs):
        if loss is None:
            return
        value = float(loss.detach()) if torch.is_tensor(loss) else float(loss)
        if not math.isfinite(value):
            epoch = len(net.history)
            raise NonFiniteLossError(
                f"{self.owner}: the loss became {value} in stage {self.stage!r} at epoch {epoch} "
                "(batch {}). Lower `lr`, scale the input (e.g. StandardScaler/MinMaxScaler) "
                "or check it for extreme values.".format(len(net.history[-1]["batches"]))
            )


class StageProgressBar(ProgressBar):
    """skorch's progress bar, headed by the estimator and stage names."""

    def __init__(self, stage, owner="estimator", **kwargs):
        super().__init__(**kwargs)
        self.stage = stage
        self.owner = owner

    def on_train_begin(self, net, **kwargs):
        print(f"[{self.owner}] stage {self.stage!r}: up to {net.max_epochs} epoch(s)", flush=True)
        return super().on_train_begin(net, **kwargs)


class StageNet(NeuralNet):
    """A :class:`skorch.NeuralNet` with one named training stage.

    Adds ``stage`` (used in messages) and ``iter_`` (the number of optimiser steps
    taken so far, across epochs).
    """

    def __init__(self, *args, stage="train", **kwargs):
        super().__init__(*args, **kwargs)
        self.stage = stage

    def initialize(self):
        super().initialize()
        self.iter_ = 0
        return self

    def train_step(self, batch, **fit_params):
        step = super().train_step(batch, **fit_params)
        self.iter_ += 1
        return step


class AutoencoderNet(StageNet):
    """Autoencoder pretraining: MSE between the reconstruction and the clean input.

    The module's ``forward`` returns ``(z, x_hat)``. With ``noise_std > 0`` the input
    is corrupted with Gaussian noise before encoding while the loss compares with
    the clean input (a denoising autoencoder, as GCML pretrains).
    """

    def __init__(self, *args, noise_std=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.noise_std = noise_std

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        Xi = Xi.to(self.device)
        Xin = Xi + self.noise_std * torch.randn_like(Xi) if self.noise_std > 0 else Xi
        y_pred = self.infer(Xin, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def get_loss(self, y_pred, y_true, X=None, training=False):
        _, x_hat = y_pred
        return reconstruction_mse(x_hat, X.to(x_hat.device))


class DECNet(StageNet):
    """The DEC/IDEC clustering stage.

    The module's ``forward`` returns ``(z, x_hat, q)``. The dataset's ``y`` is the
    sample index, so that each batch looks up its rows of the current target
    distribution ``target_`` (maintained by :class:`TargetDistributionUpdater`).
    The loss is ``recon_weight * MSE(x_hat, x) + gamma * KL(P || Q)``.
    """

    def __init__(self, *args, gamma=0.1, recon_weight=1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.gamma = gamma
        self.recon_weight = recon_weight

    def get_loss(self, y_pred, y_true, X=None, training=False):
        _, x_hat, q = y_pred
        p = self.target_[y_true.to(self.target_.device).long()].to(q.device)
        loss = self.gamma * kl_divergence(p, q)
        if self.recon_weight:
            loss = loss + self.recon_weight * reconstruction_mse(x_hat, X.to(x_hat.device))
        return loss


class TargetDistributionUpdater(Callback):
    """Recompute DEC's target distribution every ``update_interval`` optimiser steps.

    At each update the soft assignments of the whole training set are computed in
    evaluation mode, the target ``P`` is stored on the net as ``target_``, and the
    fraction of samples whose hard label changed since the previous update is
    recorded (``net.label_change_``). When it falls below ``tol`` the stage ends
    (:class:`ConvergenceReached`).

    Parameters
    ----------
    update_interval : int
        Optimiser steps between two target updates.
    tol : float
        Stopping threshold on the fraction of changed labels; 0 disables stopping.
    target_fn : callable
        Maps the soft assignments ``q`` to the target; DEC's by default.
    """

    def __init__(self, update_interval, tol=1e-3, target_fn=dec_target_distribution):
        self.update_interval = update_interval
        self.tol = tol
        self.target_fn = target_fn

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.X_ = X
        self.labels_ = None
        net.label_change_ = None
        self._update(net)

    def _update(self, net):
        _, _, q = net.forward(self.X_, training=False)
        net.target_ = self.target_fn(q).to(net.device)
        labels = q.argmax(dim=1).numpy()
        if self.labels_ is not None:
            net.label_change_ = float(np.mean(labels != self.labels_))
            if self.tol > 0 and net.label_change_ < self.tol:
                self.labels_ = labels
                raise ConvergenceReached(net.label_change_)
        self.labels_ = labels

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training and net.iter_ > 0 and net.iter_ % self.update_interval == 0:
            self._update(net)
