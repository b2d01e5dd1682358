"""Shared pieces of the asv suite, in the style of scikit-learn's ``asv_benchmarks``.

The data size is chosen by the ``SKDSC_BENCH_PROFILE`` environment variable:

* ``fast`` (default): tiny data, a whole run in a few minutes on 2 CPU cores;
* ``regular``: the sizes quoted in the issues and in ``benchmarks/``;
* ``large``: sizes meant for a GPU machine.

Every estimator benchmark is parametrised by ``device`` (``"cpu"``, ``"cuda"``); the
CUDA cases are skipped (``NotImplementedError`` in ``setup``) without a GPU.
"""

import hashlib
import os
import pickle
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path

PROFILES = ("fast", "regular", "large")


def get_profile():
    """Return the benchmark profile chosen by ``SKDSC_BENCH_PROFILE``."""
    profile = os.environ.get("SKDSC_BENCH_PROFILE", "fast")
    if profile not in PROFILES:
        raise ValueError(f"SKDSC_BENCH_PROFILE must be one of {PROFILES}, got {profile!r}")
    return profile


def cuda_available():
    """Return True when torch sees a CUDA device."""
    import torch

    return torch.cuda.is_available()


def skip_unless_device(device):
    """Make asv skip a benchmark whose device is missing."""
    if device == "cuda" and not cuda_available():
        raise NotImplementedError("no CUDA device")


def _cache_dir():
    path = Path(os.environ.get("SKDSC_ASV_CACHE", Path(tempfile.gettempdir()) / "skdsc-asv-cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path


class Benchmark(ABC):
    """Timing defaults shared by every benchmark class."""

    timer = None
    processes = 1
    number = 1
    repeat = (1, 3, 120)
    timeout = 900
    profile = get_profile()


class EstimatorBenchmark(Benchmark):
    """Mixin giving ``time_fit``, ``peakmem_fit``, ``time_predict`` and score tracks.

    Subclasses define ``params``/``param_names`` (``device`` last), ``make_data``
    and ``make_estimator``, and optionally ``score_fns``: a dict of
    ``name -> f(y_true, labels)`` whose values are tracked as ``track_score``.
    The fitted estimator used by ``time_predict`` and the tracks is fitted once per
    parameter set and profile and pickled in a cache folder, so that asv's separate
    benchmark processes do not each refit it (scikit-learn's suite does the same).
    """

    param_names = ["device"]
    params = (["cpu", "cuda"],)
    score_fns = {}

    @abstractmethod
    def make_data(self, params):
        """Return ``X, y`` (``y`` may be None) for one parameter set."""

    @abstractmethod
    def make_estimator(self, params):
        """Return an unfitted estimator for one parameter set."""

    def _key(self, params):
        # the estimator's full repr is part of the key: a changed setting never reuses a stale fit
        digest = hashlib.sha1(repr(self.estimator.get_params()).encode()).hexdigest()[:12]
        return f"{type(self).__name__}-{self.profile}-" + "-".join(map(str, params)) + f"-{digest}"

    def _fitted_path(self, params):
        return _cache_dir() / (self._key(params) + ".pkl")

    def setup(self, *params):
        skip_unless_device(params[-1])
        self._params = params
        self.X, self.y = self.make_data(params)
        self.estimator = self.make_estimator(params)
        path = self._fitted_path(params)
        if path.exists():
            with open(path, "rb") as f:
                self.fitted = pickle.load(f)
        else:
            self.fitted = None

    def _ensure_fitted(self):
        """Fit once per parameter set and profile; later processes load the pickle."""
        if self.fitted is None:
            from sklearn.base import clone

            self.fitted = clone(self.estimator).fit(self.X)
            with open(self._fitted_path(self._params), "wb") as f:
                pickle.dump(self.fitted, f)
        return self.fitted

    def time_fit(self, *params):
        self.estimator.fit(self.X)

    def peakmem_fit(self, *params):
        self.estimator.fit(self.X)

    def time_predict(self, *params):
        self._ensure_fitted().predict(self.X)

    def track_score(self, *params):
        if not self.score_fns or self.y is None:
            return float("nan")
        name, fn = next(iter(self.score_fns.items()))
        return float(fn(self.y, self._ensure_fitted().labels_))
