"""The estimator contract of DESIGN.md, exercised on IDEC (the reference deep estimator)."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
import xarray as xr
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skdsc._training import NonFiniteLossError
from skdsc.base import resolve_device
from skdsc.cluster import DEC, IDEC

FAST = dict(hidden_dims=(16,), latent_dim=3, pretrain_epochs=4, max_epochs=4, batch_size=16,
            n_init=2, update_interval=5, device="cpu")


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=120, centers=3, n_features=8, random_state=0)
    return MinMaxScaler().fit_transform(X).astype(np.float32), y


@pytest.fixture(scope="module")
def fitted(blobs):
    return IDEC(3, random_state=0, **{**FAST, "pretrain_epochs": 20}).fit(blobs[0])


def test_cpu_fit_is_bit_for_bit_repeatable(blobs):
    a = IDEC(3, random_state=7, **FAST).fit(blobs[0])
    b = IDEC(3, random_state=7, **FAST).fit(blobs[0])
    np.testing.assert_array_equal(a.transform(blobs[0]), b.transform(blobs[0]))
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    c = IDEC(3, random_state=8, **FAST).fit(blobs[0])
    assert not np.array_equal(a.transform(blobs[0]), c.transform(blobs[0]))


def test_fit_does_not_touch_the_global_torch_rng(blobs):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    IDEC(3, random_state=0, **FAST).fit(blobs[0])
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_subnormals_are_flushed_while_fitting_only(blobs):
    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU cannot flush subnormals")
    torch.set_flush_denormal(False)
    tiny = torch.tensor([1e-39])  # subnormal in float32
    model = IDEC(3, random_state=0, **FAST)
    with model._seeded():
        assert float(tiny * 1.0) == 0.0
    assert float(tiny * 1.0) > 0.0
    model.fit(blobs[0])
    assert float(tiny * 1.0) > 0.0


def test_fitted_attributes_and_outputs(fitted, blobs):
    X, y = blobs
    assert fitted.labels_.shape == (120,)
    assert fitted.cluster_centers_.shape == (3, 3)
    assert fitted.n_features_in_ == 8
    assert fitted.n_iter_ >= 1
    assert set(fitted.history_) == {"pretrain", "cluster"}
    assert len(fitted.history_["pretrain"]) == 20
    proba = fitted.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(proba.argmax(1), fitted.labels_)
    assert fitted.transform(X).shape == (120, 3)
    assert adjusted_rand_score(y, fitted.labels_) > 0.9
    assert isinstance(fitted.score(X), float)


def test_predict_on_new_data(blobs):
    X, y = make_blobs(n_samples=300, centers=3, n_features=8, random_state=0)
    X = MinMaxScaler().fit(X[:200]).transform(X)
    est = IDEC(3, random_state=0, **{**FAST, "pretrain_epochs": 20}).fit(X[:200])
    assert adjusted_rand_score(y[200:], est.predict(X[200:])) > 0.9


def test_pickle_round_trip(fitted, blobs):
    X = blobs[0]
    clone = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(clone.predict_proba(X), fitted.predict_proba(X))
    # the pickle does not carry the training data
    assert len(pickle.dumps(fitted)) < 200_000


def test_verbose_prints_a_progress_bar_per_stage(blobs, capsys):
    IDEC(3, random_state=0, verbose=1, **FAST).fit(blobs[0])
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert "stage 'pretrain'" in out and "stage 'cluster'" in out
    assert "train_loss" in out


def test_silent_when_verbose_is_zero(blobs, capsys):
    IDEC(3, random_state=0, verbose=0, **FAST).fit(blobs[0])
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_non_finite_loss_names_stage_and_epoch(blobs):
    X = blobs[0] * 1e30 + 1e30  # overflows float32 in the first layers
    with pytest.raises(NonFiniteLossError, match=r"stage 'pretrain' at epoch 1"):
        IDEC(3, random_state=0, **FAST).fit(X)


@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]]), "NaN"),
        (np.array([[0.0, np.inf], [1.0, 2.0], [3.0, 4.0]]), "infinity"),
        (np.empty((0, 3)), "0 sample"),
        (np.ones((1, 3)), "1 sample"),
        (np.ones(5), "Expected 2D array"),
        (np.ones((4, 2, 2)), "Found array with dim 3"),
    ],
)
def test_bad_input_is_a_clear_error(X, match):
    with pytest.raises(ValueError, match=match):
        IDEC(2, **FAST).fit(X)


def test_more_clusters_than_samples():
    with pytest.raises(ValueError, match=r"n_clusters=5 must be <= n_samples=4"):
        IDEC(5, **FAST).fit(np.random.rand(4, 3))


def test_bad_parameters():
    with pytest.raises(ValueError, match="n_clusters"):
        IDEC(0, **FAST).fit(np.random.rand(10, 3))
    with pytest.raises(ValueError, match="not a valid torch device"):
        IDEC(2, **{**FAST, "device": "gpu-please"}).fit(np.random.rand(10, 3))


def test_wrong_number_of_features_at_predict(fitted):
    with pytest.raises(ValueError, match="features"):
        fitted.predict(np.zeros((3, 5)))


def test_dataarray_in_dataarray_out(blobs):
    X = blobs[0].reshape(120, 2, 4)
    da = xr.DataArray(
        X, dims=("time", "lat", "lon"),
        coords={"time": np.arange(1000, 1120), "lat": [10.0, 20.0]},
    )
    est = IDEC(3, random_state=0, **FAST)
    labels = est.fit_predict(da)
    assert isinstance(labels, xr.DataArray) and labels.dims == ("time",)
    np.testing.assert_array_equal(labels["time"], da["time"])
    proba = est.predict_proba(da)
    assert proba.dims == ("time", "cluster")
    np.testing.assert_array_equal(est.predict(da).values, labels.values)
    # the sample dim can be named, whatever its position
    da2 = da.transpose("lat", "lon", "time")
    est2 = IDEC(3, random_state=0, sample_dim="time", **FAST)
    np.testing.assert_array_equal(est2.fit_predict(da2).values, labels.values)


def test_pipeline_and_grid_search(blobs):
    X, y = blobs
    pipe = make_pipeline(MinMaxScaler(), IDEC(3, random_state=0, **FAST))
    assert pipe.fit_predict(X).shape == (120,)
    idx = np.arange(len(X))
    search = GridSearchCV(
        IDEC(3, random_state=0, **{**FAST, "pretrain_epochs": 20}), {"n_clusters": [2, 3, 4]},
        scoring="silhouette",
        cv=[(idx, idx)],
    ).fit(X)
    assert search.best_params_["n_clusters"] == 3  # three well-separated blobs
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_dec_has_no_reconstruction_term(blobs):
    est = DEC(3, random_state=0, **FAST).fit(blobs[0])
    assert "gamma" not in est.get_params()
    assert est.net_.recon_weight == 0 and est.net_.gamma == 1
    idec = IDEC(3, gamma=0.5, random_state=0, **FAST).fit(blobs[0])
    assert idec.net_.recon_weight == 1 and idec.net_.gamma == 0.5


def test_tags():
    assert IDEC(device="cpu").__sklearn_tags__().non_deterministic is False


def test_device_auto_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    with pytest.raises(ValueError, match="no CUDA device"):
        resolve_device("cuda")


@pytest.mark.gpu
def test_cuda_fit_unpickles_and_predicts_on_cpu_only(tmp_path, blobs):
    X = blobs[0]
    est = IDEC(3, random_state=0, **{**FAST, "device": "cuda"}).fit(X)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(est))
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "expected.npy", est.predict(X))
    code = (
        "import pickle, numpy as np, torch; assert not torch.cuda.is_available();"
        f"est = pickle.loads(open({str(path)!r}, 'rb').read());"
        f"X = np.load({str(tmp_path / 'X.npy')!r});"
        f"np.testing.assert_array_equal(est.predict(X), np.load({str(tmp_path / 'expected.npy')!r}))"
    )
    env = {"CUDA_VISIBLE_DEVICES": ""}
    import os

    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, **env})


@pytest.mark.gpu
def test_cuda_fit_matches_cpu_quality(blobs):
    X, y = blobs
    est = IDEC(3, random_state=0, **{**FAST, "device": "cuda"}).fit(X)
    assert adjusted_rand_score(y, est.labels_) > 0.9
