"""SCDSC: fit time, peak memory and time per training epoch against image size.

The sizes grow 4x in pixels; ``regular`` ends at a PaviaU-sized scene (610 x 340
pixels, 103 bands reduced to 8 PCA components, 9 classes). Each fit is one joint
training epoch without pretraining (the quantities tracked are the cost of an
epoch and the memory of a fit), with precomputed 4 x 4-block mini-clusters
standing in for FINCH, whose exact first-neighbour search is benchmarked in its
own suite. See ``benchmarks/scdsc_scaling.py`` for the recorded figures.
"""

import numpy as np

from .common import EstimatorBenchmark

SIZES = {
    "fast": [(19, 10), (38, 21)],
    "regular": [(76, 42), (152, 85), (305, 170), (610, 340)],
    "large": [(305, 170), (610, 340), (1220, 680)],
}


def _scene(shape):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skdsc.datasets import make_hyperspectral_scene

    cube, labels = make_hyperspectral_scene(shape, n_bands=103, n_classes=9, random_state=0)
    X = make_pipeline(StandardScaler(), PCA(8)).fit_transform(cube.reshape(-1, 103)).astype(np.float32)
    return X, labels.ravel()


def _blocks(shape):
    H, W = shape
    return ((np.arange(H)[:, None] // 4) * ((W + 3) // 4) + np.arange(W)[None, :] // 4).ravel()


class SCDSCScaling(EstimatorBenchmark):
    """``time_fit``/``peakmem_fit`` of a one-epoch SCDSC fit and ``track_epoch_seconds``."""

    param_names = ["image", "device"]
    params = ([f"{h}x{w}" for h, w in SIZES[EstimatorBenchmark.profile]], ["cpu", "cuda"])

    def make_data(self, params):
        h, w = map(int, params[0].split("x"))
        self.shape = (h, w)
        return _scene(self.shape)

    def make_estimator(self, params):
        from skdsc.cluster import SCDSC

        return SCDSC(9, image_shape=self.shape, pretrain_epochs=0, max_epochs=1, n_init=1,
                     device=params[-1], random_state=0)

    def _fit(self, est):
        return est.fit(self.X, miniclusters=_blocks(self.shape))

    def time_fit(self, *params):
        self._fit(self.estimator)

    def peakmem_fit(self, *params):
        self._fit(self.estimator)

    def _ensure_fitted(self):
        if self.fitted is None:
            import pickle

            from sklearn.base import clone

            self.fitted = self._fit(clone(self.estimator))
            with open(self._fitted_path(self._params), "wb") as f:
                pickle.dump(self.fitted, f)
        return self.fitted

    def track_epoch_seconds(self, *params):
        return float(self._ensure_fitted().history_["cluster"][-1]["dur"])

    track_epoch_seconds.unit = "seconds"
