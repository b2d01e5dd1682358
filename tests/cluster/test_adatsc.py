"""ADATSCClustering: input handling, training schedule, outputs, ablations."""

import pickle

import numpy as np
import pytest
import torch
import xarray as xr
from sklearn.metrics import adjusted_rand_score

from skdsc._registry import get_method
from skdsc.cluster import ADATSCClustering
from skdsc.cluster._adatsc import DEMO_PARAMS

TINY = dict(filters=(4, 8), latent_dim=4, n_heads=2, subspace_dim=1, sequence_length=4, pretrain_epochs=2,
            max_epochs=2, batch_size=8, n_init=2, n_real=4, device="cpu", random_state=0)


def _field(n_per=12, grid=(8, 8), n_vars=2, seed=0):
    """Two regimes alternating in blocks, with distinct spatial patterns, plus noise."""
    rng = np.random.default_rng(seed)
    patterns = rng.normal(size=(2,) + grid + (n_vars,))
    y = np.repeat([0, 1, 0, 1], n_per // 2)
    X = patterns[y] + 0.3 * rng.normal(size=(len(y),) + grid + (n_vars,))
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def fitted():
    X, y = _field()
    return ADATSCClustering(n_clusters=2, **TINY).fit(X), X, y


def test_two_epoch_fit_on_a_small_field(fitted):
    model, X, y = fitted
    assert model.labels_.shape == (X.shape[0],)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(model.predict(X), proba.argmax(axis=1))
    assert model.transform(X).shape == (X.shape[0], 4)
    assert model.grid_shape_ == (8, 8, 2) and model.n_features_in_ == 128
    assert model.sequence_length_ == 4
    assert np.isfinite(model.score(X))
    assert len(np.unique(model.labels_)) == 2  # two epochs on tiny widths: not collapsed, quality untested


@pytest.mark.slow
def test_recovers_two_easy_regimes_with_more_training():
    X, y = _field(n_per=40)
    model = ADATSCClustering(n_clusters=2, **{**TINY, "pretrain_epochs": 30, "max_epochs": 20,
                                              "lr": 3e-3}).fit(X)
    assert adjusted_rand_score(y, model.labels_) >= 0.9


def test_history_holds_every_term_and_schedules(fitted):
    model, _, _ = fitted
    hist = model.history_["cluster"]
    assert len(hist) == 2 and len(model.history_["pretrain"]) == 2
    batch = hist[-1]["batches"][0]
    for key in ("rec", "dec_kl", "balance", "se", "adv", "loss_d"):
        assert np.isfinite(batch[key])
    # tau annealed linearly from tau_start to tau_end; balance ramp over max_epochs // 2 = 1 epoch
    assert [h["tau"] for h in hist] == [2.0, 0.5]
    assert model.temperature_ == 0.5
    assert [h["balance_weight"] for h in hist] == [0.1, 0.1]
    assert not model.net_.module_.use_se  # the 2-epoch warm-up is not over after 2 epochs
    assert model.subspace_bases_.shape == (2, 4, 1) and model.cluster_centers_.shape == (2, 4)


def test_self_expression_warm_up_and_ramp():
    X, _ = _field()
    model = ADATSCClustering(n_clusters=2, **{**TINY, "max_epochs": 3}, se_warmup_epochs=2,
                             balance_ramp_epochs=3).fit(X)
    hist = model.history_["cluster"]
    np.testing.assert_allclose([h["balance_weight"] for h in hist], [0.1 / 3, 0.2 / 3, 0.1])
    np.testing.assert_allclose([h["tau"] for h in hist], [2.0, 1.25, 0.5])
    assert model.net_.se_weight_ == model.lambda_se and model.net_.module_.use_se
    model.set_params(max_epochs=2).fit(X)
    assert model.net_.se_weight_ == 0.0 and not model.net_.module_.use_se


def test_fit_is_repeatable_and_predicts_a_new_period(fitted):
    model, X, _ = fitted
    again = ADATSCClustering(n_clusters=2, **TINY).fit(X)
    np.testing.assert_array_equal(again.labels_, model.labels_)
    np.testing.assert_array_equal(again.transform(X), model.transform(X))
    X_new, y_new = _field(seed=1)
    assert model.predict(X_new).shape == (len(X_new),)
    # per-position statistics need whole windows: a shorter period is refused, clearly
    with pytest.raises(ValueError, match="at least that long"):
        model.predict(X_new[:3])
    # with statistics shared by all positions, any period length works
    shared = ADATSCClustering(n_clusters=2, **{**TINY, "norm": "batch"}).fit(X)
    assert shared.predict(X_new[:3]).shape == (3,)


def test_pickle_round_trip(fitted):
    model, X, _ = fitted
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict_proba(X), model.predict_proba(X))


def test_dataarray_in_and_out(fitted):
    model, X, _ = fitted
    time = np.arange("2021-01-01", "2021-01-25", dtype="datetime64[D]")
    da = xr.DataArray(X, dims=("time", "lat", "lon", "variable"), coords={"time": time})
    labels = model.predict(da)
    assert isinstance(labels, xr.DataArray) and labels.dims == ("time",)
    np.testing.assert_array_equal(labels["time"].values, time)
    np.testing.assert_array_equal(labels.values, model.predict(X))
    # the sample dim may sit elsewhere
    moved = da.transpose("lat", "time", "lon", "variable")
    est = ADATSCClustering(n_clusters=2, **TINY, sample_dim="time").fit(moved)
    np.testing.assert_array_equal(est.labels_, model.labels_)


def test_2d_3d_and_flattened_inputs():
    X, _ = _field(grid=(4, 4), n_vars=1)
    a = ADATSCClustering(n_clusters=2, **TINY).fit(X)
    b = ADATSCClustering(n_clusters=2, **TINY).fit(X[..., 0])  # (time, lat, lon)
    c = ADATSCClustering(n_clusters=2, **TINY, grid_shape=(4, 4, 1)).fit(X.reshape(len(X), -1))
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    np.testing.assert_array_equal(a.transform(X), c.transform(X))
    # a flattened field predicts on a 4D-fitted model
    np.testing.assert_array_equal(a.predict(X.reshape(len(X), -1)), a.predict(X))
    d = ADATSCClustering(n_clusters=2, **TINY).fit(X.reshape(len(X), -1))
    assert d.grid_shape_ == (1, 1, 16)


def test_grid_not_a_multiple_of_eight_is_padded():
    X, y = _field(grid=(5, 7))
    model = ADATSCClustering(n_clusters=2, **{**TINY, "filters": (2, 4, 4, 4)}).fit(X)
    assert model.labels_.shape == y.shape
    frames = model._frames(X)
    assert tuple(frames.shape[2:]) == (8, 8)
    assert torch.all(frames[:, :, 5:] == 0) and torch.all(frames[:, :, :, 7:] == 0)


def test_nan_cells_are_filled_with_the_global_mean():
    X, y = _field()
    X[:, 0, 0, :] = np.nan  # a land cell
    X[3, 2, 2, 1] = np.nan
    model = ADATSCClustering(n_clusters=2, **TINY).fit(X)
    assert model.fill_value_ == pytest.approx(float(np.nanmean(X.astype(np.float64))), rel=1e-6)
    frames = model._frames(X)
    assert torch.isfinite(frames).all()
    assert torch.all(frames[:, :, 0, 0] == 0)  # a constant column scales to 0 (and its mean is 0)
    filled = (model.fill_value_ - model.data_min_[2, 2, 1]) / model.data_range_[2, 2, 1] - model.input_mean_[2, 2, 1]
    assert frames[3, 1, 2, 2].item() == pytest.approx(filled, rel=1e-5)
    assert model.labels_.shape == y.shape


@pytest.mark.parametrize(
    "X, match",
    [
        (np.full((6, 4, 4, 1), np.inf), "infinity"),
        (np.full((6, 4, 4, 1), np.nan), "only NaN"),
        (np.zeros((6, 2, 2, 2, 2)), "5-D"),
        (np.zeros(6), "2D array"),
        (np.zeros((0, 4, 4, 1)), "0 sample"),
        (np.zeros((1, 4, 4, 1)), "minimum of 2"),
    ],
)
def test_bad_input_is_rejected(X, match):
    with pytest.raises(ValueError, match=match):
        ADATSCClustering(n_clusters=2, **TINY).fit(X)


def test_wrong_grid_and_too_many_clusters(fitted):
    model, X, _ = fitted
    with pytest.raises(ValueError, match="fitted on"):
        model.predict(X.reshape(len(X), 4, 16, 2))
    with pytest.raises(ValueError, match="n_clusters=30"):
        ADATSCClustering(n_clusters=30, **TINY).fit(X)
    with pytest.raises(ValueError, match="must divide"):
        ADATSCClustering(n_clusters=2, **{**TINY, "n_heads": 3}).fit(X)
    with pytest.raises(ValueError, match="tau_end"):
        ADATSCClustering(n_clusters=2, **TINY, tau_start=0.5, tau_end=1.0).fit(X)


@pytest.mark.parametrize(
    "params",
    [dict(encoder="cnn-lstm"), dict(bottleneck="se-only"), dict(bottleneck="dense-gat"),
     dict(adversarial=False), dict(skip_connections=False, se_sigma_t=2.0, se_assignment_weighting=True)],
)
def test_ablations_fit(params):
    X, y = _field()
    model = ADATSCClustering(n_clusters=2, **{**TINY, "max_epochs": 1, "pretrain_epochs": 1}, **params).fit(X)
    assert model.labels_.shape == y.shape
    batch = model.history_["cluster"][-1]["batches"][0]
    assert ("loss_d" in batch) == params.get("adversarial", True)


def test_spectral_refinement_uses_the_self_expressive_affinity(fitted):
    _, X, y = fitted
    model = ADATSCClustering(n_clusters=2, **TINY, refine="spectral").fit(X)
    a = model.affinity_
    assert a.shape == (len(y), len(y))
    np.testing.assert_allclose(a, a.T)
    assert np.all(a >= 0)
    assert set(np.unique(model.labels_)) <= {0, 1}


def test_registered_for_the_cli_with_demo_params():
    spec = get_method("adatsc")
    assert spec.factory is ADATSCClustering and spec.input == "samples"
    assert spec.demo_params is DEMO_PARAMS
    ADATSCClustering(**DEMO_PARAMS)  # every key is a parameter


@pytest.mark.gpu
def test_cuda_fit_predicts_on_cpu_after_pickling():
    X, _ = _field()
    model = ADATSCClustering(n_clusters=2, **{**TINY, "device": "cuda"}).fit(X)
    clone = pickle.loads(pickle.dumps(model))
    clone.set_params(device="cpu")
    clone.net_.set_params(device="cpu")
    np.testing.assert_allclose(clone.predict_proba(X), model.predict_proba(X), atol=1e-4)


def test_batchnorm_statistics_are_refreshed_on_all_windows():
    X, _ = _field()
    model = ADATSCClustering(n_clusters=2, **TINY, norm="batch").fit(X)
    bn = model.net_.module_.embed_norm
    assert isinstance(bn, torch.nn.BatchNorm1d) and bn.momentum is None
    # every window seen once after the last stage: the stride-1 windows' embeddings are standardised
    z = model.transform(X)
    assert np.all(np.abs(z.mean(axis=0)) < 0.3)
    assert np.all((z.std(axis=0) > 0.5) & (z.std(axis=0) < 1.5))


def test_reconstruction_term_is_the_squared_error_summed_over_each_frame():
    # a 6 x 5 grid is padded to 8 x 8: the padding must count neither in the sum nor in the average
    X, _ = _field(grid=(6, 5))
    model = ADATSCClustering(n_clusters=2, **{**TINY, "max_epochs": 1}).fit(X)
    net = model.net_
    frames = model._frames(X)[:4][None]  # one window (1, 4, C, 8, 8)
    out = net.module_.eval()(frames)
    direct = ((out[2][..., :6, :5] - frames[..., :6, :5]) ** 2).sum(dim=(2, 3, 4)).mean()
    loss, parts, _, _ = net.generator_loss(out, frames)
    torch.testing.assert_close(parts["rec"], direct, rtol=1e-5, atol=1e-7)
