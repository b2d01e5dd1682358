"""SCDSC estimator: API, image/mask/DataArray handling, pieces against direct computations."""

import pickle

import numpy as np
import pytest
import torch
import xarray as xr
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdsc._registry import get_method
from skdsc.cluster import SCDSC
from skdsc.cluster._scdsc import minicluster_features, subspace_basis_from_labels
from skdsc.nn import ImagePatchDataset

FAST = dict(patch_size=3, hidden_channels=4, window=3, minicluster_patch_size=5, n_init=2,
            pretrain_epochs=3, max_epochs=3, batch_size=64, device="cpu")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread: on a shared, loaded 2-core machine two threads are ~10x slower."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _two_region_image(H=14, W=14, bands=4, seed=0):
    rng = np.random.RandomState(seed)
    truth = np.zeros((H, W), dtype=int)
    truth[:, W // 2:] = 1
    spectra = rng.rand(2, bands) * 2
    img = spectra[truth] + 0.1 * rng.randn(H, W, bands)
    return img.astype(np.float32), truth


@pytest.fixture(scope="module")
def image():
    return _two_region_image()


def test_fit_recovers_two_regions_and_outputs(image):
    img, truth = image
    X = img.reshape(-1, img.shape[2])
    # 10 pretraining epochs: the band standardisation gives band 1 (a 0.13 gap under 0.1
    # noise) full weight, and 3 epochs then separate the regions for some seeds only
    est = SCDSC(2, image_shape=img.shape[:2], random_state=0, **{**FAST, "pretrain_epochs": 10}).fit(X)
    assert est.labels_.shape == (X.shape[0],)
    # pixels whose 3 x 3 patch lies inside one region are separated exactly
    cols = np.tile(np.arange(img.shape[1]), img.shape[0])
    inside = np.abs(cols - (img.shape[1] / 2 - 0.5)) > 1
    assert adjusted_rand_score(truth.ravel()[inside], est.labels_[inside]) == 1.0
    proba = est.predict_proba(X)
    assert proba.shape == (X.shape[0], 2)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(proba.argmax(1), est.labels_)
    np.testing.assert_array_equal(est.predict(X), est.labels_)
    assert est.transform(X).shape == (X.shape[0], 4 * 3 * 3)
    assert est.basis_.shape == (36, 2 * 5)
    assert est.n_miniclusters_ >= 2
    assert set(est.history_) == {"pretrain", "cluster"}
    assert {"loss_rec", "loss_basis", "loss_nonlocal", "loss_local"} <= set(est.history_["cluster"][-1]["batches"][0])
    assert isinstance(est.score(X), float)
    clone = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(clone.predict_proba(X), proba)


def test_repeatable_and_pipeline(image):
    img, _ = image
    X = img.reshape(-1, img.shape[2])
    a = SCDSC(2, image_shape=img.shape[:2], random_state=3, **FAST).fit(X)
    b = SCDSC(2, image_shape=img.shape[:2], random_state=3, **FAST).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    pipe = make_pipeline(StandardScaler(), PCA(3), SCDSC(2, image_shape=img.shape[:2], random_state=0, **FAST))
    labels = pipe.fit_predict(X)
    assert labels.shape == (X.shape[0],)


def test_bands_are_standardised_so_their_scale_does_not_matter(image):
    """As the authors' code standardises every patch feature: rescaling or shifting a band
    (after PCA the bands' variances differ by orders of magnitude) leaves the fit unchanged."""
    img, _ = image
    X = img.reshape(-1, img.shape[2]).astype(np.float64)
    Xs = (X * np.array([1.0, 300.0, 0.01, 5.0]) + np.array([0.0, -40.0, 3.0, 1.0])).astype(np.float32)
    mask = np.ones(X.shape[0], bool)
    mask[:20] = False
    a = SCDSC(2, image_shape=img.shape[:2], random_state=0, **FAST).fit(X.astype(np.float32), mask=mask)
    b = SCDSC(2, image_shape=img.shape[:2], random_state=0, **FAST).fit(Xs, mask=mask)
    np.testing.assert_allclose(b.band_scale_, a.band_scale_ * np.array([1.0, 300.0, 0.01, 5.0]), rtol=1e-4)
    np.testing.assert_allclose(a.band_mean_, X[mask].mean(0), rtol=1e-5)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.predict_proba(X.astype(np.float32)), b.predict_proba(Xs), atol=1e-3)
    off = SCDSC(2, image_shape=img.shape[:2], random_state=0, standardize=False, **FAST).fit(X, mask=mask)
    np.testing.assert_array_equal(off.band_mean_, 0.0)
    np.testing.assert_array_equal(off.band_scale_, 1.0)


def test_epoch_selection_is_recorded_and_consistent(image):
    img, _ = image
    X = img.reshape(-1, img.shape[2])
    conf = SCDSC(2, image_shape=img.shape[:2], random_state=1, **{**FAST, "max_epochs": 4}).fit(X)
    last = SCDSC(2, image_shape=img.shape[:2], random_state=1, epoch_selection="last",
                 **{**FAST, "max_epochs": 4}).fit(X)
    shares = conf.confident_share_
    assert shares.shape == (5,) and ((shares >= 0) & (shares <= 1)).all()
    np.testing.assert_allclose(shares[1:], conf.history_["cluster"][:, "confident_share"])
    np.testing.assert_allclose(last.confident_share_, shares)  # the same run; only the state kept differs
    assert last.selected_epoch_ == 4
    assert conf.selected_epoch_ == (int(np.argmax(shares)) if shares.max() > 0 else 4)
    np.testing.assert_array_equal(conf.predict(X), conf.labels_)
    sizes = conf.cluster_sizes_
    assert sizes.shape == (5, 2) and (sizes.sum(axis=1) == X.shape[0]).all()
    np.testing.assert_array_equal(sizes[1:], np.array(conf.history_["cluster"][:, "cluster_sizes"]))
    np.testing.assert_array_equal(last.cluster_sizes_, sizes)  # the same run


def test_mask_selects_pixels(image):
    img, truth = image
    X = img.reshape(-1, img.shape[2])
    mask = np.ones(img.shape[:2], bool)
    mask[:3] = False
    est = SCDSC(2, image_shape=img.shape[:2], random_state=0, **FAST).fit(X, mask=mask)
    assert (est.labels_[~mask.ravel()] == -1).all()
    assert (est.labels_[mask.ravel()] >= 0).all()
    assert (est.minicluster_labels_[~mask.ravel()] == -1).all()
    # predict covers every pixel
    assert (est.predict(X) >= 0).all()
    with pytest.raises(ValueError, match="mask has"):
        SCDSC(2, image_shape=img.shape[:2], **FAST).fit(X, mask=mask[:3])
    with pytest.raises(ValueError, match="selects 1 pixel"):
        SCDSC(2, image_shape=img.shape[:2], **FAST).fit(X, mask=np.eye(1, X.shape[0], dtype=bool))


def test_dataarray_image_in_label_map_out(image):
    img, truth = image
    H, W, B = img.shape
    da = xr.DataArray(img, dims=("y", "x", "band"),
                      coords={"y": np.arange(H) * 10.0, "x": np.arange(W) * 5.0, "band": np.arange(B)})
    est = SCDSC(2, random_state=0, **FAST)
    labels = est.fit_predict(da)
    assert isinstance(labels, xr.DataArray) and labels.dims == ("y", "x")
    np.testing.assert_array_equal(labels["y"].values, da["y"].values)
    np.testing.assert_array_equal(labels.values.ravel(), est.labels_)
    proba = est.predict_proba(da.transpose("band", "y", "x"))
    assert proba.dims == ("y", "x", "cluster")
    # same cube given flat with image_shape: same fit
    flat = SCDSC(2, image_shape=(H, W), random_state=0, **FAST).fit(img.reshape(-1, B))
    np.testing.assert_array_equal(flat.labels_, est.labels_)
    # the CLI entry returns the (y, x) map
    spec = get_method("scdsc")
    assert spec.input == "image"
    out = spec.run(SCDSC(2, random_state=0, **FAST), da, None)
    assert out.dims == ("y", "x")


def test_ablation_switches(image):
    img, _ = image
    X = img.reshape(-1, img.shape[2])
    for constraints, has_mc, has_local in [("none", False, False), ("local", False, True),
                                           ("nonlocal", True, False), ("both", True, True)]:
        est = SCDSC(2, image_shape=img.shape[:2], constraints=constraints, random_state=0,
                    **{**FAST, "max_epochs": 1}).fit(X)
        keys = set(est.history_["cluster"][-1]["batches"][0])
        assert ("loss_local" in keys) == has_local
        assert "loss_nonlocal" in keys  # single pixels for the baseline, mini-clusters otherwise
        assert (est.minicluster_labels_ is not None) == has_mc


def test_independent_samples_have_no_spatial_term():
    rng = np.random.RandomState(0)
    X = np.r_[rng.randn(30, 3), rng.randn(30, 3) + 6].astype(np.float32)
    with pytest.raises(ValueError, match="fewer than n_basis"):
        SCDSC(2, **FAST).fit(X)  # 4 channels x 1 x 1 < 5 basis vectors
    est = SCDSC(2, random_state=0, **{**FAST, "hidden_channels": 8}).fit(X)
    assert "loss_local" not in est.history_["cluster"][-1]["batches"][0]
    assert est.transform(X).shape == (60, 8)  # 1 x 1 patches
    np.testing.assert_array_equal(est.predict(X[::-1]), est.predict(X)[::-1])


def test_input_errors(image):
    img, _ = image
    X = img.reshape(-1, img.shape[2])
    with pytest.raises(ValueError, match="image_shape"):
        SCDSC(2, image_shape=(5, 5), **FAST).fit(X)
    with pytest.raises(ValueError, match="patch_size must be odd"):
        SCDSC(2, image_shape=img.shape[:2], **{**FAST, "patch_size": 4}).fit(X)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SCDSC(2, image_shape=img.shape[:2], **FAST).fit(X_nan)
    est = SCDSC(2, image_shape=img.shape[:2], random_state=0, **FAST).fit(X)
    with pytest.raises(ValueError, match="rows"):
        est.predict(X[:10])


def test_minicluster_features_equal_standardise_pca_normalise():
    rng = np.random.RandomState(0)
    img = rng.rand(9, 8, 3).astype(np.float32)
    ds = ImagePatchDataset(img, 5)
    feats = minicluster_features(ds, n_components=10, chunk_size=17)
    flat = ds.patches(np.arange(len(ds))).flatten(1).numpy().astype(float)
    ref = PCA(10, svd_solver="full").fit_transform(StandardScaler().fit_transform(flat))
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    # equal up to the sign of each component
    signs = np.sign((feats * ref).sum(0))
    np.testing.assert_allclose(feats, ref * signs, atol=2e-4)
    assert minicluster_features(ds, n_components=500).shape == (72, 72)  # capped at n_pixels


def test_basis_initialisation_is_the_top_right_singular_vectors():
    rng = np.random.RandomState(0)
    z = rng.randn(40, 6).astype(np.float32)
    labels = np.repeat([0, 1], 20)
    D = subspace_basis_from_labels(z, labels, 2, 3)
    for j in range(2):
        _, _, vt = np.linalg.svd(z[labels == j].astype(float), full_matrices=False)
        ref = vt[:3].T
        np.testing.assert_allclose(D[:, 3 * j:3 * j + 3] @ D[:, 3 * j:3 * j + 3].T, ref @ ref.T, atol=1e-5)
    # a cluster smaller than n_basis still gets n_basis orthonormal vectors
    D = subspace_basis_from_labels(z[:22], np.r_[np.zeros(20, int), [1, 1]], 2, 3)
    np.testing.assert_allclose(D[:, 3:].T @ D[:, 3:], np.eye(3), atol=1e-5)


@pytest.mark.gpu
def test_cuda_fit_predicts_on_cpu(image):
    img, truth = image
    X = img.reshape(-1, img.shape[2])
    est = SCDSC(2, image_shape=img.shape[:2], random_state=0, **{**FAST, "device": "cuda"}).fit(X)
    assert adjusted_rand_score(truth.ravel(), est.labels_) > 0.5
    state = pickle.dumps(est)
    assert pickle.loads(state).predict(X).shape == (X.shape[0],)


def test_precomputed_miniclusters_reproduce_the_finch_fit(image):
    img, _ = image
    X = img.reshape(-1, img.shape[2])
    mask = np.ones(img.shape[:2], bool)
    mask[0] = False
    a = SCDSC(2, image_shape=img.shape[:2], random_state=0, **{**FAST, "max_epochs": 2}).fit(X, mask=mask)
    b = SCDSC(2, image_shape=img.shape[:2], random_state=0, **{**FAST, "max_epochs": 2})
    b.fit(X, mask=mask, miniclusters=a.minicluster_labels_)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.minicluster_labels_, b.minicluster_labels_)
    with pytest.raises(ValueError, match="miniclusters has"):
        b.fit(X, mask=mask, miniclusters=[0, 1, 2])
