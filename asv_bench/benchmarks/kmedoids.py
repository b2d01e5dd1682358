"""KS / correlation distances and KMedoidsKS (FasterPAM) on series like the seed-001 grid.

The regular profile is the issue's size: 4488 series of length 276
(``benchmarks/kmedoids_ks.py`` compares with scipy's ``ks_2samp`` loop and the
``kmedoids`` package).
"""

import numpy as np

from skdsc.cluster import KMedoidsKS
from skdsc.metrics import correlation_distances, ks_distances

from .common import Benchmark, EstimatorBenchmark, skip_unless_device

# (n_series, length) per profile
SIZES = {"fast": (500, 120), "regular": (4488, 276), "large": (20000, 276)}


def _series(profile, seed=0):
    n, L = SIZES[profile]
    rng = np.random.RandomState(seed)
    shape = rng.uniform(0.5, 3.0, n)[:, None]
    scale = rng.uniform(20, 150, n)[:, None]
    return rng.gamma(shape, 1.0, (n, L)) * scale


class PairwiseDistancesBenchmark(Benchmark):
    """All-pairs exact KS statistic and 1 - Pearson r."""

    param_names = ["metric", "device"]
    params = (["ks", "correlation"], ["cpu", "cuda"])

    def setup(self, metric, device):
        skip_unless_device(device)
        self.X = _series(self.profile)
        self.fn = ks_distances if metric == "ks" else correlation_distances
        self.device = None if device == "cpu" else device

    def time_distances(self, metric, device):
        self.fn(self.X, n_jobs=-1, device=self.device)

    def peakmem_distances(self, metric, device):
        self.fn(self.X, n_jobs=-1, device=self.device)


class KMedoidsKSBenchmark(EstimatorBenchmark):
    """KMedoidsKS end to end (KS distances + k-medoids++ + FasterPAM), k = 4."""

    param_names = ["device"]
    params = (["cpu", "cuda"],)

    def make_data(self, params):
        return _series(self.profile), None

    def make_estimator(self, params):
        device = None if params[-1] == "cpu" else params[-1]
        return KMedoidsKS(4, metric="ks", n_jobs=-1, device=device, random_state=0)

    def track_inertia(self, *params):
        return float(self._ensure_fitted().inertia_)
