"""Internal measures against hand computations, explicit loops and scikit-learn."""

import math
import warnings

import numpy as np
import pytest
from sklearn.metrics import (
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)

from skdsc.metrics import (
    DegenerateClusteringWarning,
    average_inter_cluster_distance,
    average_rmse,
    average_variance,
    calinski_harabasz,
    davies_bouldin,
    inter_cluster_distance_matrix,
    silhouette,
)

# Six points, three clusters, written out by hand:
#   A (label 7): (0, 0), (2, 0), (1, 3)   mean (1, 1)
#   B (label 3): (10, 0), (10, 4)          mean (10, 2)
#   C (label 9): (4, 10)                   singleton
# rows shuffled so that the clusters are not contiguous
HAND_X = np.array([[10, 0], [0, 0], [4, 10], [2, 0], [10, 4], [1, 3]], dtype=float)
HAND_LABELS = np.array([3, 7, 9, 7, 3, 7])


def test_rmse_hand_example():
    # squared errors: A 2 + 2 + 4 = 8, B 4 + 4 = 8, C 0  ->  sqrt(16 / 6)
    assert average_rmse(HAND_X, HAND_LABELS) == pytest.approx(math.sqrt(16 / 6))


def test_variance_hand_example():
    # A entries 0,0,2,0,1,3: mean 1, var 8/6, weight 3 -> 4
    # B entries 10,0,10,4: mean 6, var 72/4 = 18, weight 2 -> 36
    # C entries 4,10: mean 7, var 9, weight 1 -> 9          total 49 / 6
    assert average_variance(HAND_X, HAND_LABELS) == pytest.approx(49 / 6)


def test_inter_cluster_hand_example():
    # order of rows/columns: labels 3 (B), 7 (A), 9 (C)
    # diameters: B 4, A sqrt(10), C 0
    # single link: A-B 8 ((2,0)-(10,0)), A-C sqrt(58) ((1,3)-(4,10)),
    #              B-C sqrt(72) ((10,4)-(4,10))
    expected = np.array(
        [
            [4.0, 8.0, math.sqrt(72)],
            [8.0, math.sqrt(10), math.sqrt(58)],
            [math.sqrt(72), math.sqrt(58), 0.0],
        ]
    )
    M = inter_cluster_distance_matrix(HAND_X, HAND_LABELS)
    np.testing.assert_allclose(M, expected, rtol=1e-12, atol=1e-12)
    # column minima (diagonal included): B 4, A sqrt(10), C 0
    assert average_inter_cluster_distance(HAND_X, HAND_LABELS) == pytest.approx(
        (4 + math.sqrt(10) + 0) / 3
    )


def test_inter_cluster_single_link_below_diameter():
    X = np.array([[0.0], [4.0], [5.0], [9.0]])
    # diameters 4 and 4, single link 1: each cluster contributes 1
    assert average_inter_cluster_distance(X, [0, 0, 1, 1]) == pytest.approx(1.0)


def loop_reference(X, labels):
    """RMSE, variance, inter-cluster matrix with explicit Python loops."""
    clusters = sorted(set(labels.tolist()))
    n = X.shape[0]
    sse = 0.0
    var_sum = 0.0
    members = {}
    for c in clusters:
        rows = [X[i] for i in range(n) if labels[i] == c]
        members[c] = rows
        mean = [sum(r[j] for r in rows) / len(rows) for j in range(X.shape[1])]
        for r in rows:
            sse += sum((r[j] - mean[j]) ** 2 for j in range(X.shape[1]))
        entries = [v for r in rows for v in r]
        m = sum(entries) / len(entries)
        var_sum += len(rows) * sum((v - m) ** 2 for v in entries) / len(entries)
    M = np.zeros((len(clusters), len(clusters)))
    for a, ca in enumerate(clusters):
        for b, cb in enumerate(clusters):
            d = [math.dist(p, q) for p in members[ca] for q in members[cb]]
            M[a, b] = max(d) if a == b else min(d)
    return math.sqrt(sse / n), var_sum / n, M


@pytest.mark.parametrize("seed", [0, 1])
def test_seed_measures_against_loops_with_tiny_chunks(seed):
    rng = np.random.RandomState(seed)
    X = rng.randn(90, 4) + rng.randint(3, size=(90, 1)) * 3.0
    labels = rng.choice([2, 5, 11, 40], size=90, p=[0.5, 0.3, 0.15, 0.05])
    rmse, var, M = loop_reference(X, labels)
    assert average_rmse(X, labels) == pytest.approx(rmse, rel=1e-12)
    assert average_variance(X, labels) == pytest.approx(var, rel=1e-12)
    # working_memory of about 8 rows per block: blocks straddle clusters
    got = inter_cluster_distance_matrix(X, labels, working_memory=8 * 90 * 8 / 2**20)
    np.testing.assert_allclose(got, M, rtol=1e-7, atol=1e-9)
    assert average_inter_cluster_distance(X, labels) == pytest.approx(
        M.min(axis=0).mean(), rel=1e-7
    )


def test_inter_cluster_other_metric():
    rng = np.random.RandomState(3)
    X = rng.rand(30, 3)
    labels = rng.randint(3, size=30)
    M = inter_cluster_distance_matrix(X, labels, metric="manhattan")
    a = X[labels == 0]
    b = X[labels == 1]
    manhattan = np.abs(a[:, None, :] - b[None, :, :]).sum(-1)
    assert M[0, 1] == pytest.approx(manhattan.min())
    assert M[0, 0] == pytest.approx(np.abs(a[:, None] - a[None]).sum(-1).max())


ALL = [
    silhouette,
    davies_bouldin,
    calinski_harabasz,
    average_rmse,
    average_variance,
    average_inter_cluster_distance,
]


@pytest.mark.parametrize("metric", ALL)
def test_invariant_to_label_renaming_and_sample_order(metric):
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    labels = rng.randint(4, size=60)
    reference = metric(X, labels)
    names = np.array(["d", "b", "a", "c"])
    order = rng.permutation(60)
    assert metric(X, names[labels]) == pytest.approx(reference, rel=1e-10)
    assert metric(X[order], labels[order]) == pytest.approx(reference, rel=1e-10)


@pytest.mark.parametrize("metric_name", ["euclidean", "cosine", "manhattan"])
def test_silhouette_equals_sklearn(metric_name):
    rng = np.random.RandomState(1)
    X = rng.rand(50, 4)
    labels = rng.randint(3, size=50)
    assert silhouette(X, labels, metric=metric_name) == pytest.approx(
        silhouette_score(X, labels, metric=metric_name)
    )
    assert silhouette(X, labels, metric=metric_name, sample_size=20, random_state=4) == (
        pytest.approx(
            silhouette_score(X, labels, metric=metric_name, sample_size=20, random_state=4)
        )
    )


def test_silhouette_precomputed_subsample():
    rng = np.random.RandomState(2)
    X = rng.rand(40, 2)
    labels = rng.randint(3, size=40)
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    assert silhouette(D, labels, metric="precomputed", sample_size=25, random_state=0) == (
        pytest.approx(silhouette(X, labels, sample_size=25, random_state=0))
    )


def test_davies_bouldin_equals_sklearn_and_cosine_loop():
    rng = np.random.RandomState(5)
    X = rng.rand(45, 3) + 0.1
    labels = rng.randint(3, size=45)
    assert davies_bouldin(X, labels) == pytest.approx(davies_bouldin_score(X, labels))

    def cos(u, v):
        return 1 - np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))

    cents = [X[labels == k].mean(0) for k in range(3)]
    s = [np.mean([cos(x, cents[k]) for x in X[labels == k]]) for k in range(3)]
    worst = [
        max((s[k] + s[j]) / cos(cents[k], cents[j]) for j in range(3) if j != k) for k in range(3)
    ]
    assert davies_bouldin(X, labels, metric="cosine") == pytest.approx(np.mean(worst))


def test_calinski_harabasz_equals_sklearn_and_cosine_pairs():
    rng = np.random.RandomState(6)
    X = rng.rand(40, 3) + 0.1
    labels = rng.randint(3, size=40)
    assert calinski_harabasz(X, labels) == pytest.approx(calinski_harabasz_score(X, labels))
    # cosine version from pairwise cosine distances, independent of normalisation
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    Dc = 1 - U @ U.T
    n, K = 40, 3
    W = sum(Dc[np.ix_(labels == k, labels == k)].sum() / (labels == k).sum() for k in range(K))
    T = Dc.sum() / n
    expected = ((T - W) / (K - 1)) / (W / (n - K))
    assert calinski_harabasz(X, labels, metric="cosine") == pytest.approx(expected)


@pytest.mark.parametrize("func", [davies_bouldin, calinski_harabasz])
def test_sample_size_is_metric_of_the_same_subset(func):
    rng = np.random.RandomState(7)
    X = rng.randn(80, 2)
    labels = rng.randint(3, size=80)
    idx = np.random.RandomState(11).permutation(80)[:30]
    assert func(X, labels, sample_size=30, random_state=11) == pytest.approx(
        func(X[idx], labels[idx])
    )
    # a larger sample_size than n uses everything
    assert func(X, labels, sample_size=500, random_state=0) == pytest.approx(func(X, labels))


@pytest.mark.parametrize(
    "func, worst",
    [(silhouette, -1.0), (davies_bouldin, np.inf), (calinski_harabasz, 0.0)],
)
def test_degenerate_clusterings_give_worst_value(func, worst):
    X = np.arange(12, dtype=float).reshape(6, 2)
    with pytest.warns(DegenerateClusteringWarning, match="single cluster"):
        assert func(X, np.zeros(6, dtype=int)) == worst
    with pytest.warns(DegenerateClusteringWarning, match="singleton"):
        assert func(X, np.arange(6)) == worst
    # a subsample that holds one cluster only
    with pytest.warns(DegenerateClusteringWarning):
        assert func(X, [0, 0, 0, 1, 1, 1], sample_size=1, random_state=0) == worst
    # no warning for a proper clustering
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        func(X, [0, 0, 0, 1, 1, 1])


@pytest.mark.parametrize("func", ALL)
def test_bad_input(func):
    X = np.random.RandomState(0).rand(6, 2)
    with pytest.raises(ValueError, match="same length"):
        func(X, [0, 1, 0])
    with pytest.raises(ValueError, match="empty"):
        func(np.empty((0, 2)), [])
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        func(bad, [0, 0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="2D"):
        func(X[:, 0], [0, 0, 0, 1, 1, 1])


def test_bad_options():
    X = np.random.RandomState(0).rand(6, 2)
    y = [0, 0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match="precomputed"):
        davies_bouldin(X, y, metric="precomputed")
    with pytest.raises(ValueError, match="precomputed"):
        average_inter_cluster_distance(X, y, metric="precomputed")
    with pytest.raises(ValueError, match="cosine"):
        calinski_harabasz(X, y, metric="manhattan")
    with pytest.raises(TypeError, match="sample_size"):
        silhouette(X, y, sample_size=0.5)
    with pytest.raises(ValueError, match="sample_size"):
        silhouette(X, y, sample_size=0)
    with pytest.raises(ValueError, match="square"):
        silhouette(X, y, metric="precomputed")
