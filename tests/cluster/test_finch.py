"""FINCH: hand-made examples, exact first neighbours, parity with finch-clust, sklearn checks."""

import warnings

import numpy as np
import pytest
import xarray as xr
from sklearn.datasets import make_blobs
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdsc.cluster import FINCH, first_neighbours


def _same_partition(a, b):
    pairs = np.unique(np.stack([a, b], 1), axis=0)
    return len(pairs) == len(np.unique(a)) == len(np.unique(b))


@parametrize_with_checks([FINCH(), FINCH(metric="euclidean", req_clust=3)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_first_neighbours_exact_in_chunks():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 8))
    for metric in ("cosine", "euclidean"):
        nn, dist = first_neighbours(X, metric, chunk_size=7, n_jobs=2)
        if metric == "cosine":
            U = X / np.linalg.norm(X, axis=1, keepdims=True)
            D = 1 - U @ U.T
        else:
            D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
        np.fill_diagonal(D, np.inf)
        np.testing.assert_array_equal(nn, D.argmin(1))
        np.testing.assert_allclose(dist, D.min(1), rtol=1e-6, atol=1e-6)
    # float32 cosine takes the fast path; it must agree with the float32 distances
    X32 = X.astype(np.float32)
    nn32, _ = first_neighbours(X32, "cosine", chunk_size=50)
    U = X32 / np.linalg.norm(X32, axis=1, keepdims=True)
    D32 = np.clip((1 - U @ U.T).astype(np.float32), 0, 2)
    np.fill_diagonal(D32, np.inf)
    np.testing.assert_array_equal(nn32, D32.argmin(1))


def test_hand_made_chain():
    # two chains of points on a line, far apart: first neighbours link each chain
    X = np.array([[0.0], [1.0], [2.1], [3.3], [100.0], [101.0], [102.1], [103.3]])
    nn, _ = first_neighbours(X, "euclidean")
    np.testing.assert_array_equal(nn, [1, 0, 1, 2, 5, 4, 5, 6])
    est = FINCH(metric="euclidean", level=0).fit(X)
    np.testing.assert_array_equal(est.n_clusters_per_level_, [2])
    assert _same_partition(est.labels_, [0, 0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_allclose(est.cluster_centers_[est.labels_[0]], [1.6])
    np.testing.assert_array_equal(est.predict([[-5.0], [99.0]]), est.labels_[[0, 4]])


def test_hierarchy_and_attributes():
    X, y = make_blobs(600, n_features=6, centers=4, random_state=0)
    est = FINCH(metric="euclidean").fit(X)
    P, counts = est.partitions_, est.n_clusters_per_level_
    assert P.shape == (600, counts.size) and np.all(np.diff(counts) < -1)
    for lev in range(counts.size):
        assert np.unique(P[:, lev]).size == counts[lev]
        if lev:  # every level is a coarsening of the previous one
            pairs = np.unique(P[:, lev - 1:lev + 1], axis=0)
            assert len(pairs) == counts[lev - 1]
    assert _same_partition(est.labels_, P[:, -1])
    means = np.array([X[est.labels_ == c].mean(0) for c in range(est.labels_.max() + 1)])
    np.testing.assert_allclose(est.cluster_centers_, means, rtol=1e-5)
    mid = FINCH(metric="euclidean", level=1).fit(X)
    assert _same_partition(mid.labels_, P[:, 1])
    req = FINCH(metric="euclidean", req_clust=4).fit(X)
    assert np.unique(req.labels_).size == 4
    with pytest.raises(ValueError, match="out of range"):
        FINCH(level=10).fit(X)


def test_req_clust_larger_than_first_level_warns():
    X = np.random.RandomState(0).normal(size=(30, 3))
    est = FINCH()
    with pytest.warns(UserWarning, match="larger than the number of clusters"):
        est.set_params(req_clust=29).fit(X)
    assert _same_partition(est.labels_, est.partitions_[:, 0])


def test_early_exit_rule_only_removes_links():
    X, _ = make_blobs(800, n_features=10, centers=6, cluster_std=3.0, random_state=1)
    plain = FINCH().fit(X)
    pruned = FINCH(ensure_early_exit=True).fit(X)
    assert pruned.n_clusters_per_level_[0] == plain.n_clusters_per_level_[0]
    n = min(plain.n_clusters_per_level_.size, pruned.n_clusters_per_level_.size)
    assert np.all(pruned.n_clusters_per_level_[:n] >= plain.n_clusters_per_level_[:n])


def test_dataarray_in_and_out():
    rng = np.random.RandomState(0)
    da = xr.DataArray(rng.normal(size=(40, 3, 2)), dims=("time", "a", "b"),
                      coords={"time": np.arange(40) * 10})
    lab = FINCH(sample_dim="time").fit_predict(da)
    assert isinstance(lab, xr.DataArray) and lab.dims == ("time",)
    np.testing.assert_array_equal(lab["time"], da["time"])


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_parity_with_finch_clust(seed, metric):
    """Every level equals the reference's partition (after relabelling), and so does
    the req_clust partition, on generated data sets of several kinds."""
    pytest.importorskip("finch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # finch warns that pynndescent is missing
        from finch import FINCH as ref_finch
    rng = np.random.RandomState(seed)
    data = {
        0: make_blobs(700, n_features=20, centers=8, cluster_std=3.0, random_state=seed)[0],
        1: rng.rand(700, 10),
        2: (rng.randn(600, 5) @ rng.randn(5, 40)).astype(np.float32),
    }[seed]
    c, counts, req = ref_finch(data, distance=metric, verbose=False, req_clust=3)
    est = FINCH(metric=metric, req_clust=3).fit(data)
    assert list(est.n_clusters_per_level_) == list(counts)
    for lev in range(c.shape[1]):
        assert _same_partition(est.partitions_[:, lev], c[:, lev])
    assert _same_partition(est.labels_, req)


@pytest.mark.gpu
def test_first_neighbours_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    X = np.random.RandomState(0).normal(size=(2000, 30)).astype(np.float32)
    for metric in ("cosine", "euclidean"):
        np.testing.assert_array_equal(first_neighbours(X, metric, device="cuda")[0],
                                      first_neighbours(X, metric)[0])
