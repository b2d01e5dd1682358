"""A-DATSC: fit on regime fields, and the training-step cost at the seed's ERA5 size.

``ADATSCFitBenchmark`` fits ``ADATSCClustering`` (small widths) on a
``make_spatiotemporal_regimes`` field and tracks ARI. ``ADATSCStepBenchmark``
times one training batch (generator + discriminator step) on a year of daily
48 x 48 x 7 fields (the ``regular``/``large`` profiles, seed widths
64/128/256/512) and tracks the extrapolated seconds per epoch (358 windows of
8 steps) and the peak memory; the ``fast`` profile uses a 16 x 16 x 3 field and
small widths.
"""

from .common import Benchmark, EstimatorBenchmark, skip_unless_device

# (n_times, grid, n_vars, filters, pretrain_epochs, max_epochs) per profile
FIT_SIZES = {
    "fast": (60, (16, 16), 3, (4, 8, 8, 16), 2, 2),
    "regular": (365, (24, 24), 3, (8, 16, 16, 32), 10, 10),
    "large": (365, (48, 48), 7, (64, 128, 256, 512), 20, 50),
}

# (grid, n_vars, filters, batch_size) per profile for the step benchmark
STEP_SIZES = {
    "fast": ((16, 16), 3, (4, 8, 8, 16), 2),
    "regular": ((48, 48), 7, (64, 128, 256, 512), 2),
    "large": ((48, 48), 7, (64, 128, 256, 512), 16),
}


class ADATSCFitBenchmark(EstimatorBenchmark):
    """ADATSCClustering on a synthetic regime field."""

    param_names = ["device"]
    params = (["cpu", "cuda"],)

    @property
    def score_fns(self):
        from skdsc.metrics import ari

        return {"ari": ari}

    def make_data(self, params):
        from skdsc.datasets import make_spatiotemporal_regimes

        n, grid, v, _, _, _ = FIT_SIZES[self.profile]
        return make_spatiotemporal_regimes(n_times=n, grid_shape=grid, n_variables=v, random_state=0)

    def make_estimator(self, params):
        from skdsc.cluster import ADATSCClustering

        _, _, _, filters, pre, epochs = FIT_SIZES[self.profile]
        return ADATSCClustering(4, filters=filters, latent_dim=16, subspace_dim=2, stride=2,
                                pretrain_epochs=pre, max_epochs=epochs, device=params[-1], random_state=0)


class ADATSCStepBenchmark(Benchmark):
    """One training batch of the adversarial stage; per-epoch time extrapolated."""

    param_names = ["device"]
    params = (["cpu", "cuda"],)
    timeout = 1800

    def setup(self, device):
        skip_unless_device(device)
        import torch

        from skdsc._training_adatsc import ADATSCNet, SlidingWindowDataset
        from skdsc.nn import ADATSCGenerator, SubspaceDiscriminator

        grid, v, filters, bs = STEP_SIZES[self.profile]
        torch.manual_seed(0)
        self.dataset = SlidingWindowDataset(torch.rand(365, v, *grid), 8, 1)
        gen = ADATSCGenerator(v, grid, 7, filters=filters, latent_dim=32, n_heads=4)
        self.net = ADATSCNet(module=gen, module2=SubspaceDiscriminator(7, 32, 4), criterion=torch.nn.MSELoss,
                             optimizer=torch.optim.Adam, lr=1e-3, batch_size=bs, device=device,
                             train_split=None, max_epochs=1).initialize()
        self.net.history.new_epoch()
        self.batch = (torch.stack([self.dataset[i][0] for i in range(bs)]), torch.zeros(bs))
        self.batch_size = bs
        self._step()  # warm-up

    def _step(self):
        self.net.history.new_batch()
        self.net.train_step(self.batch)

    def time_train_batch(self, device):
        self._step()

    def peakmem_train_batch(self, device):
        self._step()

    def track_seconds_per_epoch(self, device):
        import time

        t0 = time.perf_counter()
        self._step()
        return (time.perf_counter() - t0) / self.batch_size * len(self.dataset)

    track_seconds_per_epoch.unit = "seconds"
