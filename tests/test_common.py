"""scikit-learn's estimator checks on every public estimator of skdsc."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdsc.utils import all_estimators

# Fast settings per estimator: tiny networks and a few epochs, so that the ~50
# checks per estimator (each one or more fits) run in seconds.
FAST_PARAMS = {
    "IDEC": dict(hidden_dims=(16,), latent_dim=3, pretrain_epochs=3, max_epochs=3, batch_size=16,
                 n_init=2, update_interval=5),
    "DEC": dict(hidden_dims=(16,), latent_dim=3, pretrain_epochs=3, max_epochs=3, batch_size=16,
                n_init=2, update_interval=5),
    "GCML": dict(hidden_dims=(16,), latent_dim=3, pretrain_epochs=3, max_epochs=3, warmup_epochs=1,
                 batch_size=16, n_init=2, init="kmeans"),
    "SCDSC": dict(hidden_channels=16, n_basis=2, n_init=2, pretrain_epochs=5, max_epochs=3, batch_size=16),
    "ADATSCClustering": dict(filters=(4, 8), latent_dim=4, n_heads=2, subspace_dim=1, sequence_length=1,
                             norm="batch", pretrain_epochs=3, max_epochs=3, batch_size=16, n_init=2, n_real=4),
    "ClusteringAutoencoder": dict(conv_channels=(4,), latent_dim=4, proj_dim=4, pretrain_epochs=2,
                                  max_epochs=2, batch_size=16, queue_length=16),
    "MultimodalDSC": dict(hidden_dims=(16,), latent_dim=4, pretrain_epochs=3, max_epochs=3, batch_size=16),
}

# Checks an estimator is expected to fail, with the reason written out.
EXPECTED_FAILURES = {}


def _instances():
    for name, cls in all_estimators():
        est = cls(**FAST_PARAMS.get(name, {}))
        if "device" in est.get_params():
            est.set_params(device="cpu")
        yield est


def test_all_estimators_are_found():
    names = dict(all_estimators())
    assert set(names) == {
        "ADATSCClustering", "ClusteringAutoencoder", "DEC", "FINCH", "GCML", "IDEC",
        "KMedoidsKS", "MultimodalDSC", "SCDSC",
    }


@parametrize_with_checks(
    list(_instances()),
    expected_failed_checks=lambda est: EXPECTED_FAILURES.get(type(est).__name__, {}),
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
