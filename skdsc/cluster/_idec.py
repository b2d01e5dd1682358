"""DEC and IDEC: deep embedded clustering with a Student-t head.

Xie et al., "Unsupervised deep embedding for clustering analysis" (ICML 2016) and
Guo et al., "Improved deep embedded clustering with local structure preservation"
(IJCAI 2017). The head and target are the reusable pieces in :mod:`skdsc.nn.heads`
and :mod:`skdsc.losses`; the stage logic lives in :mod:`skdsc._training`.
"""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.cluster import KMeans
from sklearn.utils._param_validation import Interval

from .._registry import register_method
from .._training import AutoencoderNet, DECNet, TargetDistributionUpdater
from ..base import BaseDeepClusterer, forward_numpy
from ..losses import dec_target_distribution, kl_divergence
from ..nn import AutoencoderWithHead, MLPAutoencoder, StudentTHead

__all__ = ["DEC", "IDEC"]


class IDEC(BaseDeepClusterer):
    """Improved Deep Embedded Clustering (IDEC).

    An MLP autoencoder is pretrained on reconstruction; KMeans on its embedding
    initialises the centres of a Student-t soft-assignment head; then encoder,
    decoder and centres are trained together on
    ``MSE(x, x_hat) + gamma * KL(P || Q)``, where ``P`` is DEC's sharpened,
    frequency-normalised target, recomputed on the whole training set every
    ``update_interval`` optimiser steps. Training stops when fewer than a fraction
    ``tol`` of the labels change between two target updates, or after
    ``max_epochs`` epochs.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    hidden_dims : tuple of int, default=(500, 500, 2000)
        Encoder widths (the decoder mirrors them).
    latent_dim : int, default=10
        Size of the embedding.
    gamma : float, default=0.1
        Weight of the clustering (KL) term against reconstruction.
    alpha : float, default=1.0
        Degrees of freedom of the Student-t kernel.
    update_interval : int, default=140
        Optimiser steps between target updates (DEC uses 140 on MNIST, 30 on
        smaller sets).
    tol : float, default=1e-3
        Stop when the fraction of changed labels between two updates is below it.
    n_init : int, default=20
        KMeans restarts for the centre initialisation.
    max_epochs : int, default=100
        Upper bound on the epochs of the clustering stage.
    pretrain_epochs : int, default=200
        Epochs of autoencoder pretraining.
    batch_size : int, default=256
    lr : float, default=1e-3
        Adam learning rate of both stages.
    device : str, default="auto"
    sample_dim : str, default=None
        Sample dimension of a ``DataArray`` input; the other dims are flattened
        into features.
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
    cluster_centers_ : ndarray of shape (n_clusters, latent_dim)
        Centres in the embedding space.
    net_ : skorch.NeuralNet
        The fitted clustering-stage net (its module holds the autoencoder and head).
    history_ : dict
        skorch histories of the ``"pretrain"`` and ``"cluster"`` stages.
    n_iter_ : int
        Optimiser steps taken in the clustering stage.
    converged_ : bool
        Whether the ``tol`` criterion ended the clustering stage.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string feature names.

    See Also
    --------
    DEC : the same without the reconstruction term.

    Notes
    -----
    ``score(X)`` is minus the training objective evaluated on ``X`` with the
    target computed from ``X`` itself; higher is better.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skdsc.cluster import IDEC
    >>> X, _ = make_blobs(n_samples=60, centers=3, n_features=5, random_state=0)
    >>> idec = IDEC(n_clusters=3, hidden_dims=(16,), latent_dim=2, pretrain_epochs=5,
    ...             max_epochs=5, batch_size=16, random_state=0).fit(X)
    >>> idec.labels_.shape, idec.predict_proba(X).shape
    ((60,), (60, 3))
    """

    _parameter_constraints: dict = {
        **BaseDeepClusterer._parameter_constraints,
        "hidden_dims": ["array-like"],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "gamma": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "update_interval": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, 1, closed="both")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        hidden_dims=(500, 500, 2000),
        latent_dim=10,
        gamma=0.1,
        alpha=1.0,
        update_interval=140,
        tol=1e-3,
        n_init=20,
        max_epochs=100,
        pretrain_epochs=200,
        batch_size=256,
        lr=1e-3,
        device="auto",
        sample_dim=None,
        random_state=None,
        verbose=0,
    ):
        self.n_clusters = n_clusters
        self.hidden_dims = hidden_dims
        self.latent_dim = latent_dim
        self.gamma = gamma
        self.alpha = alpha
        self.update_interval = update_interval
        self.tol = tol
        self.n_init = n_init
        self.max_epochs = max_epochs
        self.pretrain_epochs = pretrain_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.device = device
        self.sample_dim = sample_dim
        self.random_state = random_state
        self.verbose = verbose

    # IDEC: reconstruction + gamma * KL; DEC overrides these two
    def _loss_weights(self):
        return 1.0, self.gamma

    def pretrain_autoencoder(self, X, rng_module_kwargs=None):
        """Build and pretrain the autoencoder (stage ``"pretrain"``); return its net."""
        ae = MLPAutoencoder(X.shape[1], tuple(self.hidden_dims), self.latent_dim)
        net = AutoencoderNet(
            module=ae, criterion=torch.nn.MSELoss, **self._net_kwargs("pretrain", self.pretrain_epochs)
        )
        return self._run_stage(net, X)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Pretrain the autoencoder, initialise the centres and train the clustering stage.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or DataArray
        y : ignored

        Returns
        -------
        self
        """
        X, _ = self._validate_input(X, reset=True)
        recon_weight, kl_weight = self._loss_weights()
        with self._seeded() as rng:
            pre = self.pretrain_autoencoder(X)
            z, _ = forward_numpy(pre, X, 2)
            km = KMeans(self.n_clusters, n_init=self.n_init, random_state=rng).fit(z)
            head = StudentTHead(self.n_clusters, self.latent_dim, self.alpha)
            head.reset_centers(km.cluster_centers_)
            net = DECNet(
                module=AutoencoderWithHead(pre.module_, head),
                criterion=torch.nn.MSELoss,
                gamma=kl_weight,
                recon_weight=recon_weight,
                **self._net_kwargs(
                    "cluster", self.max_epochs,
                    callbacks=[("target", TargetDistributionUpdater(self.update_interval, self.tol))],
                ),
            )
            self._run_stage(net, X, np.arange(X.shape[0]))
        self.converged_ = net.label_change_ is not None and net.label_change_ < self.tol
        net.target_ = None
        self.net_ = net
        self.history_ = {"pretrain": pre.history, "cluster": net.history}
        self.n_iter_ = int(net.iter_)
        self.cluster_centers_ = head.centers.detach().cpu().numpy().copy()
        self._finish_fit(X)
        return self

    def _forward_arrays(self, X):
        z, _, q = forward_numpy(self.net_, X, 3)
        return z, q

    def score(self, X, y=None):
        """Minus the training objective on ``X`` (higher is better).

        ``-(w_rec * MSE(x, x_hat) + w_kl * KL(P || Q))`` with ``P`` computed from the
        soft assignments of ``X`` itself (``w_rec = 1, w_kl = gamma`` for IDEC,
        ``0, 1`` for DEC).

        Parameters
        ----------
        X : array-like or DataArray
        y : ignored

        Returns
        -------
        float
        """
        X, _ = self._validate_input(X, reset=False)
        _, x_hat, q = (torch.from_numpy(a) for a in forward_numpy(self.net_, X, 3))
        recon_weight, kl_weight = self._loss_weights()
        loss = kl_weight * kl_divergence(dec_target_distribution(q), q)
        if recon_weight:
            loss = loss + recon_weight * torch.mean((x_hat - torch.from_numpy(X)) ** 2)
        return -float(loss)


class DEC(IDEC):
    """Deep Embedded Clustering (DEC): IDEC without the reconstruction term.

    After pretraining, only the encoder and the centres are trained, on
    ``KL(P || Q)`` alone. Parameters and attributes are those of :class:`IDEC`,
    without ``gamma``.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from skdsc.cluster import DEC
    >>> X, _ = make_blobs(n_samples=60, centers=3, n_features=5, random_state=0)
    >>> DEC(n_clusters=3, hidden_dims=(16,), latent_dim=2, pretrain_epochs=5,
    ...     max_epochs=5, batch_size=16, random_state=0).fit_predict(X).shape
    (60,)
    """

    _parameter_constraints: dict = {
        k: v for k, v in IDEC._parameter_constraints.items() if k != "gamma"
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        hidden_dims=(500, 500, 2000),
        latent_dim=10,
        alpha=1.0,
        update_interval=140,
        tol=1e-3,
        n_init=20,
        max_epochs=100,
        pretrain_epochs=200,
        batch_size=256,
        lr=1e-3,
        device="auto",
        sample_dim=None,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            n_clusters, hidden_dims=hidden_dims, latent_dim=latent_dim, alpha=alpha,
            update_interval=update_interval, tol=tol, n_init=n_init, max_epochs=max_epochs,
            pretrain_epochs=pretrain_epochs, batch_size=batch_size, lr=lr, device=device,
            sample_dim=sample_dim, random_state=random_state, verbose=verbose,
        )
        del self.gamma

    def _loss_weights(self):
        return 0.0, 1.0


# `skdsc demo --method idec|dec`: a shorter schedule than the defaults, so that the demo
# finishes in about a minute on 2 CPU cores
_DEMO = dict(pretrain_epochs=50, max_epochs=50, update_interval=20, batch_size=64)
register_method("idec", IDEC, description="IDEC: autoencoder + Student-t head (Guo et al. 2017)",
                demo_params=_DEMO)
register_method("dec", DEC, description="DEC: encoder + Student-t head (Xie et al. 2016)",
                demo_params=_DEMO)
