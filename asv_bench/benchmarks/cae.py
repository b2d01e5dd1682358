"""ClusteringAutoencoder: fit time, peak memory, predict time and patch-level ARI."""

import numpy as np

from skdsc.cluster import ClusteringAutoencoder

from .common import EstimatorBenchmark

# (grid side, years, pretrain_epochs, max_epochs) per profile; 8 x 8 x 12 patches, stride 2
SIZES = {
    "fast": (24, 4, 2, 2),
    "regular": (40, 15, 20, 30),
    "large": (68, 17, 30, 100),  # the seed's grid: 930 patches per year
}


def _ari(y, labels):
    from sklearn.metrics import adjusted_rand_score

    return adjusted_rand_score(y, labels)


class CAEBenchmark(EstimatorBenchmark):
    """CAE on yearly 12-month patches of a field with 4 planted regions.

    The reference label of a patch is the planted region of its centre cell.
    """

    param_names = ["device"]
    params = (["cpu", "cuda"],)
    score_fns = {"ari": _ari}

    def make_data(self, params):
        from sklearn.preprocessing import MinMaxScaler

        from skdsc.datasets import make_spatiotemporal_regimes
        from skdsc.preprocessing import ChannelScaler, PatchExtractor, stack_time_as_channels

        side, years, _, _ = SIZES[self.profile]
        X, _, regions = make_spatiotemporal_regimes(
            n_times=12 * years, grid_shape=(side, side), n_variables=1, n_regions=4,
            season_length=12, random_state=0,
        )
        stack = ChannelScaler(MinMaxScaler()).fit_transform(stack_time_as_channels(X[..., 0]))
        pe = PatchExtractor(patch_size=8, stride=2)
        patches = pe.fit_transform(stack)
        o = pe.origins_
        y = regions[o[:, 1] + 4, o[:, 2] + 4]
        return patches, y

    def make_estimator(self, params):
        _, _, pre, epochs = SIZES[self.profile]
        return ClusteringAutoencoder(4, pretrain_epochs=pre, max_epochs=epochs, device=params[-1],
                                     random_state=0)
