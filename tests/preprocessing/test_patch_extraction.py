import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skdsc.preprocessing import (
    ChannelScaler,
    PatchExtractor,
    patches_to_grid,
    stack_time_as_channels,
)


def _field(n=3, lat=11, lon=9, var=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, lat, lon, var))


@pytest.mark.parametrize("patch_size, stride", [((4, 3), 2), (5, (1, 3)), (2, 4)])
def test_patches_equal_direct_slicing(patch_size, stride):
    X = _field()
    pe = PatchExtractor(patch_size=patch_size, stride=stride).fit(X)
    P = pe.transform(X)
    ph, pw = (patch_size, patch_size) if isinstance(patch_size, int) else patch_size
    sr, sc = (stride, stride) if isinstance(stride, int) else stride
    expected, origins = [], []
    for s in range(X.shape[0]):
        for r in range(0, X.shape[1] - ph + 1, sr):
            for c in range(0, X.shape[2] - pw + 1, sc):
                expected.append(X[s, r:r + ph, c:c + pw, :])
                origins.append((s, r, c))
    assert P.dtype == np.float32
    np.testing.assert_array_equal(P, np.asarray(expected, dtype=np.float32))
    np.testing.assert_array_equal(pe.origins_, origins)
    np.testing.assert_array_equal(pe.patch_origins(X), origins)


def test_3d_input_gives_one_channel_and_seed001_patch_count():
    X = np.zeros((17, 68, 66), dtype=np.float32)  # 17 training years of seed 001
    P = PatchExtractor(patch_size=(8, 8), stride=2).fit_transform(X[..., None].repeat(12, -1))
    assert P.shape == (15810, 8, 8, 12)
    P1 = PatchExtractor(patch_size=8, stride=2).fit_transform(X[:6])
    assert P1.shape == (5580, 8, 8, 1)  # 6 test years


def test_cover_edges():
    X = _field(n=1, lat=10, lon=10, var=1)
    pe = PatchExtractor(patch_size=4, stride=3).fit(X)
    np.testing.assert_array_equal(pe.row_starts_, [0, 3, 6])
    pe = PatchExtractor(patch_size=4, stride=4).fit(X)
    np.testing.assert_array_equal(pe.row_starts_, [0, 4])
    lm, _ = pe.labels_to_grid(np.zeros(len(pe.origins_), dtype=int))
    assert (lm[8:, :] == -1).all() and (lm[:8, :8] == 0).all()
    pe = PatchExtractor(patch_size=4, stride=4, cover_edges=True).fit(X)
    np.testing.assert_array_equal(pe.row_starts_, [0, 4, 6])
    lm, _ = pe.labels_to_grid(np.zeros(len(pe.origins_), dtype=int))
    assert (lm == 0).all()


def test_nan_policies_and_land_mask():
    X = _field(n=2, lat=8, lon=8, var=2)
    X[:, 0:2, 0:2, :] = np.nan  # land: NaN in all samples and channels
    X[1, 6, 6, 0] = np.nan  # a gap in one sample, one channel
    fill = PatchExtractor(patch_size=4, stride=2, nan_policy="fill", fill_value=-9).fit(X)
    Pf = fill.transform(X)
    assert Pf.shape[0] == 2 * 9 and not np.isnan(Pf).any()
    assert (Pf[0, :2, :2, :] == -9).all()
    expected_mask = np.zeros((8, 8), bool)
    expected_mask[:2, :2] = True
    np.testing.assert_array_equal(fill.mask_, expected_mask)

    drop = PatchExtractor(patch_size=4, stride=2, nan_policy="drop").fit(X)
    Pd = drop.transform(X)
    origins = drop.patch_origins(X)
    assert not np.isnan(Pd).any()
    for s, r, c in origins:  # kept patches are NaN-free...
        assert not np.isnan(X[s, r:r + 4, c:c + 4]).any()
    kept = {tuple(o) for o in origins}
    for s in range(2):  # ...and every NaN-free patch is kept
        for r in range(0, 5, 2):
            for c in range(0, 5, 2):
                clean = not np.isnan(X[s, r:r + 4, c:c + 4]).any()
                assert clean == ((s, r, c) in kept)
    assert len(origins) == 8 + 7  # (0,0) patch is land; sample 1 loses (4,4) too


def _vote_loop(labels, origins, grid_shape, ph, pw, k, mask=None):
    counts = np.zeros((*grid_shape, k))
    for lab, (r, c) in zip(labels, origins):
        for i in range(r, r + ph):
            for j in range(c, c + pw):
                counts[i, j, lab] += 1
    label_map = np.full(grid_shape, -1)
    share = np.full((*grid_shape, k), np.nan)
    for i in range(grid_shape[0]):
        for j in range(grid_shape[1]):
            if counts[i, j].sum() == 0 or (mask is not None and mask[i, j]):
                continue
            best = max(range(k), key=lambda q: (counts[i, j, q], -q))
            label_map[i, j] = best
            share[i, j] = counts[i, j] / counts[i, j].sum()
    return label_map, share


def test_vote_against_loop_with_pooling_and_ties():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3, 9, 7))
    pe = PatchExtractor(patch_size=(3, 2), stride=(2, 2)).fit(X)
    labels = rng.integers(0, 4, size=len(pe.origins_))
    mask = np.zeros((9, 7), bool)
    mask[4, 3] = True
    lm, share = patches_to_grid(labels, pe.origins_, (9, 7), (3, 2), n_clusters=4, mask=mask)
    lm_ref, share_ref = _vote_loop(labels, pe.origins_[:, 1:], (9, 7), 3, 2, 4, mask)
    np.testing.assert_array_equal(lm, lm_ref)
    np.testing.assert_allclose(share, share_ref)
    valid = lm >= 0
    np.testing.assert_allclose(share[valid].sum(-1), 1.0)
    assert np.isnan(share[~valid]).all()
    assert lm[4, 3] == -1
    # uncovered last column (7 - 2 = 5 is odd... starts 0,2,4 cover cols 0..5)
    assert (lm[:, 6] == -1).all()


def test_vote_hand_example_tie_goes_to_smallest_label():
    # two 2x2 patches overlapping on the middle column of a 2x3 grid
    lm, share = patches_to_grid([2, 1], [[0, 0], [0, 1]], (2, 3), 2, n_clusters=3)
    np.testing.assert_array_equal(lm, [[2, 1, 1], [2, 1, 1]])
    np.testing.assert_allclose(share[0, 1], [0, 0.5, 0.5])


def test_soft_vote_and_errors():
    origins = np.array([[0, 0], [0, 1]])
    proba = np.array([[0.9, 0.1], [0.2, 0.8]])
    lm, share = patches_to_grid(proba, origins, (1, 3), (1, 2))
    np.testing.assert_allclose(share[0, 1], [0.55, 0.45])
    np.testing.assert_array_equal(lm, [[0, 0, 1]])
    with pytest.raises(ValueError, match="non-negative"):
        patches_to_grid([-1, 0], origins, (1, 3), (1, 2))
    with pytest.raises(ValueError, match="outside the grid"):
        patches_to_grid([0, 0], origins, (1, 2), (1, 2))
    with pytest.raises(ValueError, match="n_clusters"):
        patches_to_grid([0, 3], origins, (1, 3), (1, 2), n_clusters=2)


def test_dataarray_in_dataarray_out():
    X = _field(n=2, lat=6, lon=5, var=1)[..., 0]
    da = xr.DataArray(
        X, dims=("year", "lat", "lon"),
        coords={"year": [2001, 2002], "lat": np.linspace(45, 46, 6), "lon": np.arange(5.0)},
    )
    pe = PatchExtractor(patch_size=2, stride=1).fit(da)
    P = pe.transform(da)
    np.testing.assert_array_equal(P, PatchExtractor(2, 1).fit_transform(X))
    lm, share = pe.labels_to_grid(np.arange(len(P)) % 2)
    assert isinstance(lm, xr.DataArray) and lm.dims == ("lat", "lon")
    np.testing.assert_array_equal(lm["lat"], da["lat"])
    assert share.dims == ("lat", "lon", "cluster")


def test_shape_errors():
    pe = PatchExtractor(patch_size=4, stride=2).fit(_field(lat=8, lon=8, var=2))
    with pytest.raises(ValueError, match="grid shape"):
        pe.transform(_field(lat=9, lon=8, var=2))
    with pytest.raises(ValueError, match="channels"):
        pe.transform(_field(lat=8, lon=8, var=3))
    with pytest.raises(ValueError, match="larger than the grid"):
        PatchExtractor(patch_size=10).fit(_field(lat=8, lon=8))
    with pytest.raises(ValueError, match="dimensions"):
        PatchExtractor(patch_size=2).fit(np.zeros((2, 3, 3, 1, 1)))


def test_stack_time_as_channels_numpy_and_dataarray():
    rng = np.random.default_rng(0)
    monthly = rng.random((36, 4, 3))
    Y = stack_time_as_channels(monthly)
    assert Y.shape == (3, 4, 3, 12)
    for y in range(3):
        for m in range(12):
            np.testing.assert_array_equal(Y[y, :, :, m], monthly[12 * y + m])
    time = pd.date_range("2001-01-01", periods=36, freq="MS")
    da = xr.DataArray(monthly, dims=("time", "lat", "lon"),
                      coords={"time": time, "lat": [1.0, 2, 3, 4], "lon": [5.0, 6, 7]})
    Yd = stack_time_as_channels(da)
    assert Yd.dims == ("year", "lat", "lon", "month")
    np.testing.assert_array_equal(Yd["year"], [2001, 2002, 2003])
    np.testing.assert_array_equal(Yd["lon"], [5.0, 6, 7])
    np.testing.assert_array_equal(Yd.values, Y)
    da_int = da.assign_coords(time=np.arange(36))
    np.testing.assert_array_equal(stack_time_as_channels(da_int)["year"], [0, 1, 2])
    four = rng.random((24, 2, 2, 3))
    Y4 = stack_time_as_channels(four)
    assert Y4.shape == (2, 2, 2, 36)
    np.testing.assert_array_equal(Y4[1, :, :, 5 * 3 + 2], four[12 + 5, :, :, 2])
    with pytest.raises(ValueError, match="multiple of period"):
        stack_time_as_channels(monthly[:30])
    cf = pytest.importorskip("cftime")
    noleap = [cf.DatetimeNoLeap(1990 + i // 12, i % 12 + 1, 15) for i in range(36)]
    np.testing.assert_array_equal(
        stack_time_as_channels(da.assign_coords(time=noleap))["year"], [1990, 1991, 1992]
    )


def test_channel_scaler_is_per_month_minmax():
    rng = np.random.default_rng(0)
    Y = rng.gamma(2.0, size=(4, 5, 6, 12))
    Y[:, 0, 0, :] = np.nan
    Ys = ChannelScaler(MinMaxScaler()).fit_transform(Y)
    mn = np.nanmin(Y, axis=(0, 1, 2))
    mx = np.nanmax(Y, axis=(0, 1, 2))
    np.testing.assert_allclose(Ys, (Y - mn) / (mx - mn))
    cs = ChannelScaler(StandardScaler()).fit(Y)
    np.testing.assert_allclose(cs.inverse_transform(cs.transform(Y)), Y)
    da = xr.DataArray(Y, dims=("year", "lat", "lon", "month"))
    out = ChannelScaler().fit_transform(da)
    assert isinstance(out, xr.DataArray) and out.dims == da.dims


def test_seed001_chain_recovers_planted_regions():
    """Monthly field -> yearly stacks -> monthly min-max -> patches -> vote back."""
    from skdsc.datasets import make_spatiotemporal_regimes

    X, _, regions = make_spatiotemporal_regimes(
        n_times=48, grid_shape=(20, 20), n_variables=1, n_regions=3, season_length=12,
        land_fraction=0.1, random_state=0,
    )
    years = stack_time_as_channels(X[..., 0], period=12)  # (4, 20, 20, 12)
    years = ChannelScaler(MinMaxScaler()).fit_transform(years)
    pe = PatchExtractor(patch_size=4, stride=2, nan_policy="fill").fit(years)
    P = pe.transform(years)
    assert P.shape == (4 * 9 * 9, 4, 4, 12)
    np.testing.assert_array_equal(pe.mask_, regions == -1)
    # an oracle "clusterer": each patch gets the region of the cell right of its centre
    o = pe.origins_
    patch_labels = np.maximum(regions[o[:, 1] + 2, o[:, 2] + 2], 0)
    label_map, share = pe.labels_to_grid(patch_labels, n_clusters=3)
    valid = regions >= 0
    assert (label_map[~valid] == -1).all()
    np.testing.assert_allclose(share[valid].sum(-1), 1.0)
    # cells away from region boundaries get their own region back
    from scipy import ndimage

    interior = valid & (ndimage.minimum_filter(regions, 5) == ndimage.maximum_filter(regions, 5))
    assert interior.sum() > 50
    np.testing.assert_array_equal(label_map[interior], regions[interior])


def test_vote_chunking_and_one_hot_soft_votes_agree_with_hard():
    rng = np.random.default_rng(0)
    origins = np.stack([rng.integers(0, 13, 700), rng.integers(0, 11, 700)], axis=1)
    labels = rng.integers(0, 4, 700)
    lm, share = patches_to_grid(labels, origins, (16, 14), 4, n_clusters=4)
    lm_c, share_c = patches_to_grid(labels, origins, (16, 14), 4, n_clusters=4, chunk_size=33)
    lm_s, share_s = patches_to_grid(np.eye(4)[labels], origins, (16, 14), 4, chunk_size=50)
    np.testing.assert_array_equal(lm, lm_c)
    np.testing.assert_array_equal(lm, lm_s)
    np.testing.assert_allclose(share, share_c)
    np.testing.assert_allclose(share, share_s)


def _weighted_vote_loop(labels, origins, grid, ph, pw, k, weights):
    """Direct computation of a weighted vote: one patch, one cell at a time."""
    votes = np.zeros((*grid, k))
    for lab, (r, c) in zip(labels, origins):
        for i in range(ph):
            for j in range(pw):
                if np.ndim(lab):
                    votes[r + i, c + j] += weights[i, j] * np.asarray(lab)
                else:
                    votes[r + i, c + j, lab] += weights[i, j]
    total = votes.sum(-1)
    with np.errstate(invalid="ignore"):
        share = votes / total[..., None]
    lm = np.where(total > 0, votes.argmax(-1), -1)
    return lm, share


@pytest.mark.parametrize("soft", [False, True])
def test_gaussian_vote_against_direct_computation(soft):
    rng = np.random.default_rng(3)
    origins = np.stack([rng.integers(0, 10, 300), rng.integers(0, 8, 300)], axis=1)
    labels = rng.integers(0, 3, 300)
    if soft:
        labels = rng.dirichlet(np.ones(3), 300)
    lm, share = patches_to_grid(labels, origins, (14, 13), (5, 6), n_clusters=3,
                                weighting="gaussian", sigma=(1.0, 2.0), chunk_size=37)
    dr = np.arange(5) - 2.0
    dc = np.arange(6) - 2.5
    w = np.exp(-dr[:, None] ** 2 / 2.0 - dc[None, :] ** 2 / 8.0)
    lm_ref, share_ref = _weighted_vote_loop(labels, origins, (14, 13), 5, 6, 3, w)
    np.testing.assert_array_equal(lm, lm_ref)
    np.testing.assert_allclose(share, share_ref)
    # default sigma: a quarter of the patch size
    lm_d, _ = patches_to_grid(labels, origins, (14, 13), (5, 6), n_clusters=3,
                              weighting="gaussian")
    w_d = np.exp(-dr[:, None] ** 2 / (2 * 1.25**2) - dc[None, :] ** 2 / (2 * 1.5**2))
    np.testing.assert_array_equal(lm_d, _weighted_vote_loop(labels, origins, (14, 13), 5, 6, 3,
                                                            w_d)[0])


def test_centre_weighted_vote_splits_an_overlap_at_the_midpoint():
    # two 1 x 4 patches overlapping on columns 2 and 3 of a 1 x 6 grid
    origins = np.array([[0, 0], [0, 2]])
    lm_u, share_u = patches_to_grid([0, 1], origins, (1, 6), (1, 4), n_clusters=2)
    lm_g, share_g = patches_to_grid([0, 1], origins, (1, 6), (1, 4), n_clusters=2,
                                    weighting="gaussian", sigma=1.0)
    # uniform: the whole overlap is a tie, broken towards label 0
    np.testing.assert_array_equal(lm_u, [[0, 0, 0, 0, 1, 1]])
    np.testing.assert_allclose(share_u[0, 2:4], 0.5)
    # Gaussian: each overlap cell goes to the patch whose centre (column 1.5 or 3.5) is nearer
    np.testing.assert_array_equal(lm_g, [[0, 0, 0, 1, 1, 1]])
    near, far = np.exp(-0.5**2 / 2), np.exp(-1.5**2 / 2)
    np.testing.assert_allclose(share_g[0, 2], [near / (near + far), far / (near + far)])


def test_vote_weighting_errors_and_zero_weights():
    origins = np.array([[0, 0], [0, 1]])
    with pytest.raises(ValueError, match="weighting must be"):
        patches_to_grid([0, 1], origins, (1, 3), (1, 2), weighting="triangle")
    with pytest.raises(ValueError, match="shape"):
        patches_to_grid([0, 1], origins, (1, 3), (1, 2), weighting=np.ones((2, 2)))
    with pytest.raises(ValueError, match="non-negative"):
        patches_to_grid([0, 1], origins, (1, 3), (1, 2), weighting=[[1.0, -1.0]])
    with pytest.raises(ValueError, match="sigma"):
        patches_to_grid([0, 1], origins, (1, 3), (1, 2), weighting="gaussian", sigma=0.0)
    # weights only on the right cell of each patch: column 0 is reached by none
    lm, share = patches_to_grid([0, 1], origins, (1, 3), (1, 2), weighting=[[0.0, 1.0]])
    np.testing.assert_array_equal(lm, [[-1, 0, 1]])
    assert np.isnan(share[0, 0]).all()
