"""Scree curve, elbow rule and plot."""

import numpy as np
import pytest
import xarray as xr
from sklearn.metrics import silhouette_score

from skdsc.cluster import KMedoidsKS
from skdsc.metrics import ks_distances
from skdsc.model_selection import elbow_point, plot_scree, scree_curve


def test_elbow_point_hand_computed():
    # normalised points (0, 1), (.25, .556), (.5, .111), (.75, .056), (1, 0); chord
    # y = 1 - x; distance |x + y - 1| / sqrt 2 = .194, .389, .194 at k = 2, 3, 4
    assert elbow_point([1, 2, 3, 4, 5], [100, 60, 20, 15, 10]) == 3
    # (0, 1), (.25, .22), (.5, .04), ...: |.25 + .22 - 1| = .53 beats .46 at k = 3
    assert elbow_point([1, 2, 3, 4, 5], [100, 22, 4, 2, 0]) == 2
    assert elbow_point([2, 3], [5.0, 1.0]) == 2  # fewer than three points
    assert elbow_point([1, 2, 3], [1.0, 1.0, 1.0]) == 1  # flat curve
    with pytest.raises(ValueError):
        elbow_point([1, 2, 3], [1.0, 2.0])


def test_scree_curve_matches_estimator_and_silhouette():
    rng = np.random.RandomState(0)
    X = np.vstack([rng.gamma(a, 1.0, (12, 40)) for a in (0.5, 2.0, 8.0)])
    res = scree_curve(X, range(1, 7), silhouette=True, random_state=0)
    D = ks_distances(X)
    for k, inertia in zip(res.n_clusters, res.inertia):
        km = KMedoidsKS(int(k), metric="precomputed", random_state=0).fit(D)
        assert inertia == pytest.approx(km.inertia_)
    assert np.isnan(res.silhouette[0])  # one cluster: undefined
    assert res.silhouette[2] == pytest.approx(
        silhouette_score(D, res.labels[3], metric="precomputed"))
    assert res.elbow == 3
    pre = scree_curve(D, [2, 3], metric="precomputed", random_state=0)
    np.testing.assert_allclose(pre.inertia, res.inertia[1:3])


def test_scree_curve_grid_cells_and_plot(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    rng = np.random.RandomState(1)
    field = rng.gamma(1.0, 1.0, (30, 3, 4))
    field[:, 1, 1] = np.nan
    da = xr.DataArray(field, dims=("time", "lat", "lon"))
    res = scree_curve(da, range(2, 5), time_dim="time", metric="correlation")
    assert res.inertia.shape == (3,) and res.labels[2].shape == (11,)
    ax = plot_scree(res)
    assert ax.get_xlabel() == "number of clusters k"
    ax.figure.savefig(tmp_path / "scree.png")
    with pytest.raises(ValueError, match="only 11 samples"):
        scree_curve(da, [12], time_dim="time")
