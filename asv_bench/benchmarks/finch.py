"""FINCH: fit time, peak memory, predict time and ARI per profile and device.

The regular profile is the issue's size, n = 20 000 points in 300 dimensions
(``benchmarks/finch_scaling.py`` also runs the reference package and n = 200 000).
"""

import numpy as np
from sklearn.metrics import adjusted_rand_score

from skdsc.cluster import FINCH

from .common import EstimatorBenchmark

# (n_samples, n_features) per profile
SIZES = {"fast": (2000, 50), "regular": (20000, 300), "large": (200000, 300)}


class FINCHBenchmark(EstimatorBenchmark):
    """FINCH (cosine) on a 100-centre Gaussian mixture, float32."""

    param_names = ["device"]
    params = (["cpu", "cuda"],)
    score_fns = {"ari": adjusted_rand_score}

    def make_data(self, params):
        n, d = SIZES[self.profile]
        rng = np.random.RandomState(0)
        centres = rng.randn(100, d).astype(np.float32)
        y = rng.randint(0, 100, n)
        X = centres[y] + 0.8 * rng.randn(n, d).astype(np.float32)
        return X.astype(np.float32), y

    def make_estimator(self, params):
        return FINCH(metric="cosine", level=0, n_jobs=-1, device=params[-1])
