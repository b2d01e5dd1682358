"""The estimator contract shared by every deep clusterer of skdsc.

A deep clusterer is a scikit-learn estimator that *owns* one or more skorch nets
(composition, never inheritance from :class:`skorch.NeuralNet`): the nets are built
inside ``fit`` and the final one is kept as ``net_``. This module holds what every
such estimator needs: the shared parameters and their constraints, input checking
(arrays and :class:`xarray.DataArray`), seeding for bit-for-bit repeatable CPU fits,
device selection, the skorch settings of a training stage (progress bar, non-finite
loss guard) and the public ``predict``/``predict_proba``/``transform`` built on one
forward pass.
"""

import contextlib
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ._training import ConvergenceReached, FiniteLossGuard, StageProgressBar
from .utils import is_dataarray, unwrap_samples, wrap_samples

__all__ = ["BaseDeepClusterer", "resolve_device"]


def resolve_device(device):
    """Turn the ``device`` parameter into a torch device string.

    ``"auto"`` picks ``"cuda"`` when a CUDA device is available and ``"cpu"``
    otherwise; any other value must be a valid torch device string.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a valid torch device ('auto', 'cpu', 'cuda', 'cuda:1', ...)") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but torch sees no CUDA device; use device='auto' or 'cpu'.")
    return str(dev)


class BaseDeepClusterer(ClusterMixin, TransformerMixin, BaseEstimator):
    """Base class of the deep clustering estimators.

    Subclasses implement ``fit`` (decorated with ``_fit_context``) and
    ``_forward_arrays(X) -> (embedding, proba)``, and document ``score``.

    Shared parameters (same names in every estimator):

    n_clusters : int
        Number of clusters.
    max_epochs : int
        Epochs of the main (clustering) training stage.
    pretrain_epochs : int
        Epochs of the autoencoder pretraining stage.
    batch_size : int
        Mini-batch size.
    lr : float
        Learning rate of the Adam optimiser(s).
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    sample_dim : str or None
        Name of the sample dimension of a ``DataArray`` input (default: its first).
    random_state : int, RandomState instance or None
        Seeds numpy, torch and every data loader inside ``fit``; a fixed value makes
        a CPU fit bit-for-bit repeatable.
    verbose : int
        0 silent; 1 a progress bar per training stage with the running losses and
        a per-epoch summary.
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "device": [str],
        "sample_dim": [str, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # whether a DataArray's non-sample dims are flattened into features
    _flatten_dataarray = True
    # whether inputs of more than 2 dimensions are accepted as they are
    _allow_nd = False

    # ----------------------------------------------------------------- input
    def _validate_input(self, X, reset):
        """Validate ``X``; return a float32, C-contiguous, writable array and its xarray info."""
        if reset is False:
            check_is_fitted(self)
        X, info = unwrap_samples(X, self.sample_dim, flatten=self._flatten_dataarray and not self._allow_nd)
        X = validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float32, np.float64],
            allow_nd=self._allow_nd,
            ensure_min_samples=2 if reset else 1,
        )
        X = np.require(X, dtype=np.float32, requirements=["C", "W"])
        if reset and self.n_clusters > X.shape[0]:
            raise ValueError(
                f"n_clusters={self.n_clusters} must be <= n_samples={X.shape[0]}: "
                "there cannot be more clusters than samples."
            )
        return X, info

    # ---------------------------------------------------------------- torch
    def _device(self):
        return resolve_device(self.device)

    @contextlib.contextmanager
    def _seeded(self):
        """Seed numpy and torch from ``random_state`` without touching the caller's RNGs.

        Yields a :class:`numpy.random.RandomState` for the numpy/scikit-learn parts
        (KMeans initialisation, subsampling). The torch global generator is forked,
        seeded from it and restored on exit, so that module initialisation, noise
        and data-loader shuffling are all determined by ``random_state``.

        Subnormal floats are flushed to zero on the CPU while inside
        (``torch.set_flush_denormal``): a few subnormal weights, gradients or
        Adam moments make every operation on them 10-100x slower on x86, and
        training drifts into that range by itself (an A-DATSC pretraining epoch
        went from 16 s to 177 s from one epoch to the next). The flag is set
        back to torch's default (off) on exit; values below 1e-38 in float32
        are far below anything the losses can resolve.
        """
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            flushing = torch.set_flush_denormal(True)
            try:
                yield rng
            finally:
                if flushing:
                    torch.set_flush_denormal(False)

    def _net_kwargs(self, stage, max_epochs, lr=None, callbacks=()):
        """skorch keyword arguments shared by every training stage."""
        name = type(self).__name__
        device = self._device()
        cbs = [("finite_loss", FiniteLossGuard(stage, name))]
        if self.verbose:
            cbs.append(("progress", StageProgressBar(stage, name, batches_per_epoch="auto")))
        cbs.extend(callbacks)
        kwargs = dict(
            stage=stage,
            max_epochs=max_epochs,
            lr=self.lr if lr is None else lr,
            batch_size=self.batch_size,
            optimizer=torch.optim.Adam,
            device=device,
            train_split=None,
            iterator_train__shuffle=True,
            callbacks=cbs,
            verbose=int(bool(self.verbose)),
            predict_nonlinearity=None,
        )
        if device.startswith("cuda"):
            kwargs.update(iterator_train__pin_memory=True, iterator_valid__pin_memory=True)
        return kwargs

    @staticmethod
    def _run_stage(net, X, y=None):
        """Fit one skorch net; an early stop raised by a callback ends the stage."""
        try:
            net.fit(X, y)
        except ConvergenceReached:
            pass
        finally:
            for _, cb in getattr(net, "callbacks_", []):
                release = getattr(cb, "release", None)
                if release is not None:
                    release()
        return net

    # -------------------------------------------------------------- outputs
    def _forward_arrays(self, X):
        """Return ``(embedding, proba)`` as numpy arrays for validated ``X``."""
        raise NotImplementedError

    def _outputs(self, X):
        X, info = self._validate_input(X, reset=False)
        z, proba = self._forward_arrays(X)
        return z, proba, info

    def predict(self, X):
        """Cluster label of each sample (the most probable cluster).

        Parameters
        ----------
        X : array-like or DataArray
            New data of the kind seen in ``fit``.

        Returns
        -------
        labels : ndarray of shape (n_samples,) or DataArray on the sample dim
        """
        _, proba, info = self._outputs(X)
        return wrap_samples(proba.argmax(axis=1).astype(np.int64), info, name="cluster")

    def predict_proba(self, X):
        """Soft cluster assignments; each row sums to 1.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_clusters) or DataArray with dims
            ``(sample_dim, "cluster")``
        """
        _, proba, info = self._outputs(X)
        return wrap_samples(
            proba, info, extra_dims=("cluster",),
            extra_coords={"cluster": np.arange(proba.shape[1])}, name="membership",
        )

    def transform(self, X):
        """The learned embedding of each sample (always a numpy array).

        Returns
        -------
        Z : ndarray of shape (n_samples, latent_dim), float32
        """
        z, _, _ = self._outputs(X)
        return z

    def fit_predict(self, X, y=None, **kwargs):
        """Fit and return ``labels_`` (a DataArray when ``X`` is one).

        Parameters
        ----------
        X : array-like or DataArray
        y : ignored

        Returns
        -------
        labels : ndarray of shape (n_samples,) or DataArray
        """
        self.fit(X, y, **kwargs)
        return wrap_samples(self.labels_, self._sample_info(X), name="cluster")

    def _sample_info(self, X):
        """The sample coordinates of ``X`` when it is a DataArray, else None."""
        return unwrap_samples(X, self.sample_dim)[1] if is_dataarray(X) else None

    def _finish_fit(self, X):
        """Set the attributes every fitted deep clusterer has, from one forward pass."""
        z, proba = self._forward_arrays(X)
        self.labels_ = proba.argmax(axis=1).astype(np.int64)
        return z, proba

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            on_cpu = self._device() == "cpu"
        except ValueError:
            on_cpu = False
        # a CPU fit is bit-for-bit repeatable; CUDA kernels are not guaranteed to be
        tags.non_deterministic = not on_cpu
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.input_tags.three_d_array = self._allow_nd
        return tags


def forward_numpy(net, X, n_outputs):
    """Run ``net.forward`` in evaluation mode and return numpy arrays (on the CPU).

    The global torch RNG is forked around the pass: a DataLoader draws a seed from
    it on every iteration, and predicting must not change the caller's random stream.
    """
    with warnings.catch_warnings(), torch.random.fork_rng(devices=[]):
        warnings.simplefilter("ignore", UserWarning)
        out = net.forward(X, training=False, device="cpu")
    if not isinstance(out, tuple):
        out = (out,)
    return tuple(o.numpy() for o in out[:n_outputs])
