"""asv benchmarks of GCML: fit, predict, peak memory and clustering accuracy."""

import numpy as np

from .common import Benchmark, EstimatorBenchmark


def _data(profile):
    from sklearn.datasets import load_digits, make_blobs

    if profile == "fast":
        X, y = make_blobs(n_samples=500, centers=5, n_features=20, random_state=0)
        X = (X - X.min()) / (X.max() - X.min())
        return X.astype(np.float32), y
    X, y = load_digits(return_X_y=True)
    if profile == "large":  # 70 000 x 64 by tiling the digits with noise
        rng = np.random.RandomState(0)
        reps = 70_000 // len(X) + 1
        X = np.tile(X, (reps, 1))[:70_000] + rng.rand(70_000, X.shape[1])
        y = np.tile(y, reps)[:70_000]
    return (X / X.max()).astype(np.float32), y


def _acc(y, labels):
    from scipy.optimize import linear_sum_assignment

    w = np.zeros((labels.max() + 1, y.max() + 1))
    np.add.at(w, (labels, y), 1)
    r, c = linear_sum_assignment(-w)
    return w[r, c].sum() / y.size


class GCMLSuite(EstimatorBenchmark, Benchmark):
    """``GCML`` on blobs (fast), digits (regular) or 70 000 tiled digits (large)."""

    param_names = ["device"]
    params = (["cpu", "cuda"],)
    score_fns = {"acc": _acc}

    def make_data(self, params):
        return _data(self.profile)

    def make_estimator(self, params):
        from skdsc.cluster import GCML

        (device,) = params
        if self.profile == "fast":
            settings = dict(hidden_dims=(64, 64), pretrain_epochs=10, max_epochs=10, init="kmeans")
        else:
            settings = dict(pretrain_epochs=20, max_epochs=20)
        return GCML(n_clusters=len(np.unique(self.y)), device=device, random_state=0, **settings)
