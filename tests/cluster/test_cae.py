"""ClusteringAutoencoder, its training stage and the patch-to-map workflow."""

import pickle

import numpy as np
import pytest
import torch
import xarray as xr
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from skdsc._training_cae import CAENet
from skdsc.cluster import ClusteringAutoencoder, cluster_patches_to_map
from skdsc.cluster._cae import _parse_years, _year_mask
from skdsc.datasets import make_spatiotemporal_regimes
from skdsc.losses import sinkhorn_knopp
from skdsc.nn import ClusteringAutoencoderModule, PrototypePatchAutoencoder, PrototypeHead
from skdsc.preprocessing import patches_to_grid

FAST = dict(conv_channels=(4, 8), latent_dim=16, proj_dim=32, pretrain_epochs=4, max_epochs=4,
            batch_size=32, queue_length=64, random_state=0)


def _patches(n_per=40, shape=(4, 4, 3), levels=(0.0, 1.0, 2.0), seed=0):
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(m, 0.15, size=(n_per, *shape)) for m in levels])
    y = np.repeat(np.arange(len(levels)), n_per)
    return X.astype(np.float32), y


# ------------------------------------------------------------------ the stage
def _net(alpha=0.3, queue_length=0, n_groups=0):
    torch.manual_seed(0)
    module = ClusteringAutoencoderModule(
        PrototypePatchAutoencoder((4, 4, 2), (4, 8), 6), PrototypeHead(6, 5, 3), temperature=0.1)
    return CAENet(module=module, criterion=torch.nn.MSELoss, alpha=alpha, epsilon=0.2,
                  sinkhorn_iterations=3, queue_length=queue_length, max_epochs=1, batch_size=8,
                  train_split=None, n_groups=n_groups).initialize()


def test_stage_loss_is_alpha_rmse_plus_ce():
    net = _net(alpha=0.3)
    x = torch.randn(10, 4, 4, 2)
    y_pred = net.module_(x)
    _, x_hat, scores, proba, _ = y_pred
    net.history.new_epoch()
    net.history.new_batch()
    loss = net.get_loss(y_pred, None, X=x, training=False)
    q = sinkhorn_knopp(scores, 0.2, 3)
    rmse = torch.sqrt(((x_hat - x) ** 2).mean())
    ce = -(q * torch.log(proba)).sum(1).mean()
    assert loss.item() == pytest.approx((0.3 * rmse + 0.7 * ce).item(), rel=1e-5)


def test_stage_queue_feeds_sinkhorn():
    net = _net(queue_length=12)
    net.history.new_epoch()
    net.history.new_batch()
    x1, x2 = torch.randn(8, 4, 4, 2), torch.randn(8, 4, 4, 2)
    net.get_loss(net.module_(x1), None, X=x1, training=True)
    assert net.queue_.shape == (8, 5)
    y2 = net.module_(x2)
    queued = net.queue_.clone()
    net.get_loss(y2, None, X=x2, training=True)
    assert net.queue_.shape == (12, 5)  # capped, newest first
    torch.testing.assert_close(net.queue_[:8], y2[4].detach())
    # the targets of batch 2 are the batch rows of Sinkhorn over batch + queue
    q = net._targets(y2[2], y2[4], training=False)
    q_with = sinkhorn_knopp(torch.cat([y2[2], net.module_.head.scores_of(queued)]), 0.2, 3)[:8]
    q_alone = sinkhorn_knopp(y2[2], 0.2, 3)
    torch.testing.assert_close(q, q_alone)
    assert not torch.allclose(q_with, q_alone)


def test_stage_group_targets_are_the_previous_epochs_group_sinkhorn():
    net = _net(alpha=0.3, n_groups=4)
    net.history.new_epoch()
    net.history.new_batch()
    x = torch.randn(12, 4, 4, 2)
    groups = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2])  # group 3 has no sample
    y_pred = net.module_(x)
    _, x_hat, scores, proba, _ = y_pred
    rmse = torch.sqrt(((x_hat - x) ** 2).mean())
    # first epoch: no group target yet, the sample's own Sinkhorn-Knopp target
    loss = net.get_loss(y_pred, groups, X=x, training=True)
    q = sinkhorn_knopp(scores, 0.2, 3)
    ce = -(q * torch.log(proba)).sum(1).mean()
    assert loss.item() == pytest.approx((0.3 * rmse + 0.7 * ce).item(), rel=1e-5)
    net.on_epoch_end(net)
    # the group target: Sinkhorn-Knopp of the groups' mean scores; NaN for the empty group
    mean = torch.stack([scores[groups == g].mean(0) for g in range(3)]).detach().double()
    expected = sinkhorn_knopp(mean, 0.2, 3).double()
    torch.testing.assert_close(net.group_target_[:3], expected)
    assert torch.isnan(net.group_target_[3]).all()
    # next epoch: each sample is trained towards its group's target
    loss = net.get_loss(y_pred, groups, X=x, training=True)
    t = expected[groups].float()
    ce = -(t * torch.log(proba)).sum(1).mean()
    assert loss.item() == pytest.approx((0.3 * rmse + 0.7 * ce).item(), rel=1e-5)
    # a sample of the group no one saw keeps its own target; validation never uses groups
    loss_new = net.get_loss(y_pred, torch.full((12,), 3), X=x, training=False)
    q = sinkhorn_knopp(scores, 0.2, 3)
    ce = -(q * torch.log(proba)).sum(1).mean()
    assert loss_new.item() == pytest.approx((0.3 * rmse + 0.7 * ce).item(), rel=1e-5)


def test_fit_with_groups():
    X, _ = _patches()
    groups = np.arange(len(X)) % 10
    cae = ClusteringAutoencoder(n_clusters=3, **FAST).fit(X, groups=groups * 7)
    assert cae.net_.n_groups == 10  # relabelled to 0..9
    assert cae.net_.group_target_.shape == (10, 3)
    assert ClusteringAutoencoder(n_clusters=3, **FAST).fit(X).net_.n_groups == 0
    with pytest.raises(ValueError, match="groups must have shape"):
        ClusteringAutoencoder(n_clusters=3, **FAST).fit(X, groups=groups[:-1])


def test_patch_to_map_passes_patch_locations_as_groups():
    rng = np.random.default_rng(1)
    field = rng.gamma(2.0, size=(12 * 3, 10, 10)).astype(np.float32)
    res = cluster_patches_to_map(field, ClusteringAutoencoder(n_clusters=2, **FAST),
                                 patch_size=4, stride=2)
    assert res.estimator.net_.n_groups == 4 * 4  # 4 x 4 patch locations, 3 years each
    res = cluster_patches_to_map(field, ClusteringAutoencoder(n_clusters=2, **FAST),
                                 patch_size=4, stride=2, share_years=False)
    assert res.estimator.net_.n_groups == 0


def test_stage_keeps_prototypes_on_sphere():
    net = _net()
    X = np.random.default_rng(0).normal(size=(24, 4, 4, 2)).astype(np.float32)
    net.partial_fit(X)
    np.testing.assert_allclose(net.module_.head.prototypes.norm(dim=1).detach(), 1.0, rtol=1e-5)


# -------------------------------------------------------------- the estimator
def test_separates_patch_levels():
    X, y = _patches()
    cae = ClusteringAutoencoder(n_clusters=3, **{**FAST, "max_epochs": 10}).fit(X)
    assert adjusted_rand_score(y, cae.labels_) == pytest.approx(1.0)
    proba = cae.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(cae.predict(X), proba.argmax(1))
    assert cae.transform(X).shape == (X.shape[0], 16)
    assert cae.cluster_centers_.shape == (3, 32)
    assert np.isfinite(cae.score(X))


def test_tabular_input_is_one_by_one_patches():
    X, y = _patches(shape=(6,))
    cae = ClusteringAutoencoder(n_clusters=3, **FAST).fit(X)
    assert cae.patch_shape_ == (1, 1, 6)
    assert cae.predict(X).shape == (X.shape[0],)


def test_wrong_patch_shape_and_ndim():
    X, _ = _patches()
    cae = ClusteringAutoencoder(n_clusters=3, **{**FAST, "max_epochs": 1, "pretrain_epochs": 1}).fit(X)
    with pytest.raises(ValueError, match="patches of shape"):
        cae.predict(X[..., :2])
    with pytest.raises(ValueError, match="features"):
        cae.predict(X[:, :3])
    with pytest.raises(ValueError, match="dimensions"):
        ClusteringAutoencoder(**FAST).fit(np.zeros((10, 2, 2, 2, 2)))


def test_early_stopping_split_and_history():
    X, _ = _patches()
    cae = ClusteringAutoencoder(n_clusters=3, **{**FAST, "validation_fraction": 0.2}).fit(X)
    assert "valid_loss" in cae.history_["cluster"][-1]
    assert "valid_loss" in cae.history_["pretrain"][-1]
    cae0 = ClusteringAutoencoder(n_clusters=3, **{**FAST, "validation_fraction": 0.0}).fit(X)
    assert "valid_loss" not in cae0.history_["cluster"][-1]


def test_early_stopping_stops_and_restores_best():
    X, _ = _patches()
    # lr far too large: the held-out loss stops improving at once
    cae = ClusteringAutoencoder(n_clusters=3, **{**FAST, "max_epochs": 30, "patience": 2,
                                                 "lr": 0.5, "cluster_lr": 0.5,
                                                 "validation_fraction": 0.2}).fit(X)
    hist = cae.history_["cluster"]
    assert len(hist) < 30
    valid = np.array(hist[:, "valid_loss"])
    assert np.argmin(valid) == len(valid) - 1 - 2  # best epoch is patience epochs before the end


def test_restarts_keep_lowest_objective():
    X, _ = _patches()
    cae = ClusteringAutoencoder(n_clusters=3, **{**FAST, "n_restarts": 3, "max_epochs": 2}).fit(X)
    assert cae.restart_losses_.shape == (3,)
    assert cae.best_restart_ == int(np.argmin(cae.restart_losses_))
    assert len(set(np.round(cae.restart_losses_, 6))) > 1  # the restarts did differ


def test_repeatable_and_picklable():
    X, _ = _patches()
    a = ClusteringAutoencoder(n_clusters=3, **FAST).fit(X)
    b = ClusteringAutoencoder(n_clusters=3, **FAST).fit(X)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(a.predict_proba(X), c.predict_proba(X))


def test_random_prototypes_and_plain_scores_run():
    X, _ = _patches()
    cae = ClusteringAutoencoder(n_clusters=3, **{**FAST, "prototype_init": "random",
                                                 "normalize": False, "queue_length": 0}).fit(X)
    assert cae.labels_.shape == (X.shape[0],)


def test_nan_input_is_refused():
    X, _ = _patches()
    X[3, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ClusteringAutoencoder(n_clusters=3, **FAST).fit(X)


@pytest.mark.gpu
def test_cuda_fit_predicts_on_cpu():
    X, y = _patches()
    cae = ClusteringAutoencoder(n_clusters=3, **{**FAST, "device": "cuda"}).fit(X)
    cae2 = pickle.loads(pickle.dumps(cae))
    cae2.net_.set_params(device="cpu")
    assert adjusted_rand_score(cae.predict(X), cae2.predict(X)) == pytest.approx(1.0)


# ----------------------------------------------------------- patch -> map flow
def test_parse_years():
    assert _parse_years("2001-2017") == slice(2001, 2017)
    assert _parse_years("3:5") == slice(3, 5)
    assert _parse_years("2001,2005") == [2001, 2005]
    years = np.arange(2000, 2010)
    np.testing.assert_array_equal(np.flatnonzero(_year_mask("2001-2003", years, "x")), [1, 2, 3])
    with pytest.raises(ValueError, match="not in the data"):
        _year_mask([1999], years, "test_years")
    with pytest.raises(ValueError, match="Cannot read"):
        _parse_years("from 2001")


def _direct_vote(labels, origins, grid_shape, ph, pw, k):
    votes = np.zeros((*grid_shape, k))
    for lab, (_, r, c) in zip(labels, origins):
        for i in range(r, r + ph):
            for j in range(c, c + pw):
                votes[i, j, lab] += 1
    total = votes.sum(-1)
    label_map = np.where(total > 0, votes.argmax(-1), -1)
    with np.errstate(invalid="ignore"):
        share = votes / total[..., None]
    return label_map, share


def test_patch_to_map_against_direct_vote():
    rng = np.random.default_rng(0)
    T, H, W = 12 * 5, 13, 11
    field = rng.gamma(2.0, size=(T, H, W))
    field[:, :, 6:] *= 4.0
    time = xr.date_range("2001-01-01", periods=T, freq="MS", use_cftime=False)
    da = xr.DataArray(field, dims=("time", "lat", "lon"),
                      coords={"time": time, "lat": np.linspace(45, 46, H), "lon": np.linspace(12, 14, W)})
    res = cluster_patches_to_map(da, KMeans(3, n_init=2, random_state=0), patch_size=4, stride=2,
                                 train_years="2001-2003", test_years=[2004, 2005],
                                 vote_weighting="uniform")
    assert list(res.train_years) == [2001, 2002, 2003]
    maps = res.maps
    assert maps["label_train"].dims == ("lat", "lon")
    np.testing.assert_allclose(maps["lat"], da["lat"])
    for split, years in (("train", [0, 1, 2]), ("test", [3, 4])):
        labels = getattr(res, f"patch_labels_{split}")
        origins = res.extractor.patch_origins(np.zeros((len(years), H, W, 12)))
        label_map, share = _direct_vote(labels, origins, (H, W), 4, 4, 3)
        np.testing.assert_array_equal(maps[f"label_{split}"].values, label_map)
        np.testing.assert_allclose(maps[f"membership_{split}"].values, share, equal_nan=True)
    # the lattice leaves the last row and column uncovered (13 = 4 + 2*4 + 1)
    assert (maps["label_train"].values[-1] == -1).all()
    # per-month min-max scaling was fitted on the training years only
    stacked = field.reshape(5, 12, H, W)[:3]
    np.testing.assert_allclose(res.scaler.scaler_.data_max_, stacked.max(axis=(0, 2, 3)), rtol=1e-6)


def test_patch_to_map_gaussian_vote_is_the_default():
    rng = np.random.default_rng(4)
    field = rng.gamma(2.0, size=(12 * 3, 12, 12))
    field[:, :, 6:] *= 3.0
    res = cluster_patches_to_map(field, KMeans(3, n_init=2, random_state=0), patch_size=4,
                                 stride=2)
    assert res.maps.attrs["vote_weighting"] == "gaussian"
    lm, share = patches_to_grid(res.patch_labels_train, res.extractor.origins_, (12, 12), 4,
                                n_clusters=3, weighting="gaussian", sigma=1.0)
    np.testing.assert_array_equal(res.maps["label_train"].values, lm)
    np.testing.assert_allclose(res.maps["membership_train"].values, share, equal_nan=True)


def _planted(seed=1, n_regions=3):
    X, _, regions = make_spatiotemporal_regimes(
        n_times=120, grid_shape=(32, 32), n_variables=1, n_regions=n_regions, season_length=12,
        random_state=seed)
    return X[..., 0], regions


def test_pattern_map_against_direct_computation():
    field, _ = _planted()
    res = cluster_patches_to_map(field, KMeans(7, n_init=2, random_state=0), patch_size=6,
                                 stride=2, train_years=slice(0, 7), test_years=[8, 9],
                                 n_clusters=3, random_state=0)
    maps = res.maps
    assert set(maps.data_vars) == {"label_train", "membership_train", "pattern_membership_train",
                                   "label_test", "membership_test", "pattern_membership_test"}
    assert maps.sizes["pattern"] == 7 and maps.sizes["cluster"] == 3
    for split in ("train", "test"):
        labels = getattr(res, f"patch_labels_{split}")
        n_years = 8 if split == "train" else 2
        origins = res.extractor.patch_origins(np.zeros((n_years, 32, 32, 12)))
        _, share = patches_to_grid(labels, origins, (32, 32), 6, n_clusters=7,
                                   weighting="gaussian")
        np.testing.assert_allclose(maps[f"pattern_membership_{split}"].values, share,
                                   equal_nan=True)
        valid = np.isfinite(share).all(-1)
        if split == "train":  # k-means of the cells' square-root histograms
            km = KMeans(3, n_init=10, random_state=0).fit(np.sqrt(share[valid]))
            onehot = np.eye(3)[km.labels_]
            ptc = share[valid].T @ onehot
            ptc /= ptc.sum(1, keepdims=True)
            np.testing.assert_allclose(res.pattern_to_cluster, ptc)
        lm = maps[f"label_{split}"].values
        np.testing.assert_array_equal(lm[valid], km.predict(np.sqrt(share[valid])))
        assert (lm[~valid] == -1).all()
        member = maps[f"membership_{split}"].values
        np.testing.assert_allclose(member[valid], share[valid] @ ptc)
        np.testing.assert_allclose(member[valid].sum(-1), 1.0)
        assert np.isnan(member[~valid]).all()


def test_pattern_map_beats_the_vote_when_years_vary():
    # 3 planted regions; a patch of one year carries that year's regimes and the weather:
    # k-means straight into 3 clusters + vote misses the regions, 12 patterns -> 3 do not
    field, regions = _planted(seed=1)
    ok = regions >= 0
    vote = cluster_patches_to_map(field, KMeans(3, n_init=4, random_state=0), patch_size=6,
                                  stride=2).maps["label_train"].values
    pattern = cluster_patches_to_map(field, KMeans(12, n_init=4, random_state=0), patch_size=6,
                                     stride=2, n_clusters=3, random_state=0)
    pmap = pattern.maps["label_train"].values
    ari_vote = adjusted_rand_score(regions[ok], vote[ok])
    ari_pattern = adjusted_rand_score(regions[ok], pmap[ok])
    assert ari_pattern > 0.85
    assert ari_pattern > ari_vote + 0.15


def test_pattern_map_errors():
    field, _ = _planted()
    with pytest.raises(ValueError, match="at least as many"):
        cluster_patches_to_map(field, KMeans(2, n_init=1), patch_size=6, n_clusters=3)
    with pytest.raises(ValueError, match="n_clusters must be"):
        cluster_patches_to_map(field, KMeans(2, n_init=1), patch_size=6, n_clusters=0)
    with pytest.raises(ValueError, match="vote_weighting"):
        cluster_patches_to_map(field, KMeans(2, n_init=1), patch_size=6, vote_weighting="box")


def test_patch_to_map_with_cae_and_numpy_field():
    rng = np.random.default_rng(1)
    field = rng.gamma(2.0, size=(12 * 4, 10, 10)).astype(np.float32)
    field[:, 5:] *= 5.0
    res = cluster_patches_to_map(field, ClusteringAutoencoder(n_clusters=2, **FAST),
                                 patch_size=4, stride=2, test_years=[3])
    assert set(res.maps.data_vars) == {"label_train", "membership_train", "label_test",
                                       "membership_test"}
    m = res.maps["membership_test"].values
    valid = res.maps["label_test"].values >= 0
    np.testing.assert_allclose(m[valid].sum(-1), 1.0)
    with pytest.raises(ValueError, match="multiple of period"):
        cluster_patches_to_map(field[:-1], KMeans(2))


def test_cli_registration():
    from types import SimpleNamespace

    from skdsc._registry import get_method

    spec = get_method("cae")
    assert spec.input == "patches"
    flags = [flag for flag, _ in spec.cli_options]
    assert flags == ["--patch-size", "--stride", "--train-years", "--test-years", "--patterns"]
    rng = np.random.default_rng(2)
    da = xr.DataArray(rng.gamma(2.0, size=(36, 8, 8)), dims=("time", "lat", "lon"))
    opts = SimpleNamespace(patch_size=4, stride=2, train_years="0-1", test_years="2")
    out = spec.run(KMeans(2, n_init=2, random_state=0), da, opts)
    assert isinstance(out, xr.Dataset) and out["label_test"].shape == (8, 8)
    np.testing.assert_array_equal(out["cluster"], out["label_test"])
    assert out["membership"].dims == ("lat", "lon", "cluster_index")
    assert out["cluster"].dims == ("lat", "lon")
    opts = SimpleNamespace(patch_size=4, stride=2, train_years="0-1", test_years="2", patterns=5,
                           seed=0)
    out = spec.run(KMeans(2, n_init=2, random_state=0), da, opts)
    assert out["membership"].sizes["cluster_index"] == 2
    assert "pattern" not in out.dims
    assert set(np.unique(out["cluster"])) <= {0, 1}
