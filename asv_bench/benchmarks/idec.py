"""IDEC: fit time, peak memory, predict time and NMI per profile and device."""

import numpy as np

from skdsc.cluster import IDEC
from skdsc.metrics import nmi

from .common import EstimatorBenchmark

# (n_samples, n_features, pretrain_epochs, max_epochs) per profile
SIZES = {
    "fast": (1000, 50, 5, 5),
    "regular": (5000, 784, 20, 10),
    "large": (20000, 784, 50, 20),
}


class IDECBenchmark(EstimatorBenchmark):
    """IDEC with the paper's d-500-500-2000-10 network on blob-like data."""

    param_names = ["device"]
    params = (["cpu", "cuda"],)
    score_fns = {"nmi": nmi}

    def make_data(self, params):
        from sklearn.datasets import make_blobs

        n, d, _, _ = SIZES[self.profile]
        X, y = make_blobs(n_samples=n, n_features=d, centers=10, cluster_std=4.0, random_state=0)
        X = (X - X.min(0)) / np.ptp(X, axis=0)
        return X.astype(np.float32), y

    def make_estimator(self, params):
        _, _, pre, epochs = SIZES[self.profile]
        return IDEC(10, pretrain_epochs=pre, max_epochs=epochs, device=params[-1], random_state=0)
