import numpy as np
import pytest
import xarray as xr
from scipy import ndimage

from skdsc.datasets import (
    make_hyperspectral_scene,
    make_multimodal_clusters,
    make_spatiotemporal_regimes,
    make_subspace_clusters,
)

SMALL = {
    make_subspace_clusters: dict(n_samples=60, n_features=12, n_clusters=3, subspace_dim=2),
    make_spatiotemporal_regimes: dict(n_times=40, grid_shape=(8, 9), land_fraction=0.2,
                                      n_regions=3),
    make_hyperspectral_scene: dict(image_shape=(16, 18), n_bands=12, n_classes=4),
    make_multimodal_clusters: dict(n_samples=30, n_clusters=3,
                                   modalities=[(6, 6, 2), 5]),
}


def _arrays(out):
    flat = []
    for o in out:
        flat.extend(o if isinstance(o, list) else [o])
    return flat


@pytest.mark.parametrize("gen", list(SMALL), ids=lambda g: g.__name__)
def test_reproducible(gen):
    a = _arrays(gen(random_state=3, **SMALL[gen]))
    b = _arrays(gen(random_state=3, **SMALL[gen]))
    c = _arrays(gen(random_state=4, **SMALL[gen]))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(np.nan_to_num(a[0]), np.nan_to_num(c[0]))
    assert a[0].dtype == np.float32


def test_subspace_clusters_lie_on_subspaces():
    X, y = make_subspace_clusters(n_samples=90, n_features=15, n_clusters=3, subspace_dim=2,
                                  noise=0.0, random_state=0)
    assert X.shape == (90, 15) and np.bincount(y).tolist() == [30, 30, 30]
    for k in range(3):
        s = np.linalg.svd(X[y == k], compute_uv=False)
        assert s[2] < 1e-5 * s[0]  # exactly rank 2 without noise
    s_all = np.linalg.svd(X, compute_uv=False)
    assert s_all[5] > 1e-2 * s_all[0]  # the union spans 6 dimensions
    Xc, _ = make_subspace_clusters(n_samples=60, n_features=15, subspace_dim=2, noise=0.0,
                                   curvature=1.0, random_state=0)
    assert np.linalg.svd(Xc[:20] - Xc[:20].mean(0), compute_uv=False)[2] > 1e-3
    with pytest.raises(ValueError, match="n_features"):
        make_subspace_clusters(n_features=5, subspace_dim=3, curvature=0.5)


def test_spatiotemporal_shapes_land_and_regimes():
    X, y, regions = make_spatiotemporal_regimes(
        n_times=120, grid_shape=(10, 12), n_variables=2, n_regimes=3, land_fraction=0.25,
        n_regions=4, random_state=0,
    )
    assert X.shape == (120, 10, 12, 2) and y.shape == (120,)
    assert set(np.unique(y)) <= {0, 1, 2}
    nan = np.isnan(X)
    land = nan[0, :, :, 0]
    assert (nan == land[None, :, :, None]).all()  # constant in time and across variables
    assert land.sum() == 30
    assert ndimage.label(land)[1] == 1  # one contiguous blob
    np.testing.assert_array_equal(regions == -1, land)
    assert sorted(np.unique(regions[~land])) == [0, 1, 2, 3]
    assert (X[:, ~land, 0] >= 0).all()  # precipitation-like variable
    # sticky chain: far fewer switches than an independent draw (p=0.9 -> ~12 of 119)
    assert np.count_nonzero(np.diff(y)) < 40


def test_spatiotemporal_regions_have_distinct_distributions():
    X, _, R = make_spatiotemporal_regimes(n_times=240, grid_shape=(12, 12), n_regions=3,
                                          season_length=12, random_state=1)
    p = X[..., 0]
    med = np.array([np.median(p[:, R == r]) for r in range(3)])
    within = np.array([np.std(np.median(p[:, R == r], axis=0)) for r in range(3)])
    assert np.ptp(med) > 3 * within.max()


def test_spatiotemporal_dataarray():
    X, y = make_spatiotemporal_regimes(n_times=20, grid_shape=(5, 6), random_state=0,
                                       return_dataarray=True)
    assert isinstance(X, xr.DataArray) and X.dims == ("time", "lat", "lon", "variable")
    assert (y["time"] == X["time"]).all()


def test_hyperspectral_scene():
    cube, lab = make_hyperspectral_scene(image_shape=(32, 30), n_bands=20, n_classes=5,
                                         random_state=0)
    assert cube.shape == (32, 30, 20) and lab.shape == (32, 30) and lab.dtype == np.int64
    counts = np.bincount(lab.ravel(), minlength=5)
    assert (counts > 0).all() and counts.max() > 1.5 * counts.min()  # unequal sizes
    for k in range(5):
        comp, n = ndimage.label(lab == k)
        sizes = np.bincount(comp.ravel())[1:]
        assert sizes.max() >= 0.9 * sizes.sum()  # one coherent region per class
    # mixed pixels: boundary pixels lie between the class means, interior ones near them
    means = np.stack([cube[lab == k].mean(0) for k in range(5)])
    boundary = ndimage.morphological_gradient(lab, size=3) > 0
    d = np.linalg.norm(cube[..., None, :] - means, axis=-1).min(-1)
    assert d[boundary].mean() > d[~boundary].mean()

    _, lab_u = make_hyperspectral_scene(image_shape=(32, 30), n_bands=20, n_classes=5,
                                        unlabelled_fraction=0.3, random_state=0)
    assert np.isclose((lab_u == -1).mean(), 0.3, atol=0.01)
    np.testing.assert_array_equal(lab_u[lab_u >= 0], lab[lab_u >= 0])


def test_multimodal_clusters():
    Xs, y, G = make_multimodal_clusters(n_samples=60, n_clusters=4,
                                        modalities=[(8, 8, 2), (6, 6, 1), 10],
                                        noise=0.0, nuisance=0.0, return_groups=True,
                                        random_state=0)
    assert [X.shape for X in Xs] == [(60, 8, 8, 2), (60, 6, 6, 1), (60, 10)]
    assert np.bincount(y).tolist() == [15] * 4
    np.testing.assert_array_equal(G, [[0, 0, 1, 2], [0, 1, 1, 2], [0, 1, 2, 2]])
    # without noise, the vector modality is exactly its group prototype
    vec = Xs[2]
    for k in range(4):
        assert np.allclose(vec[y == k], vec[y == k][0])
    assert np.allclose(vec[y == 2][0], vec[y == 3][0])  # confused in modality 2
    assert not np.allclose(vec[y == 1][0], vec[y == 2][0])
    with pytest.raises(ValueError, match="modality"):
        make_multimodal_clusters(modalities=[(4, 4)])
