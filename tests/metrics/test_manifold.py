"""The multi-manifold metrics against independent, naive computations."""

import numpy as np
import pytest
from sklearn.manifold import trustworthiness as sk_trustworthiness

from skdsc.metrics import (
    cluster_rank_accuracy,
    continuity,
    distance_rmse,
    local_geometric_distortion,
    manifold_metrics,
    relative_rank_error,
    trustworthiness,
)
from skdsc.metrics import _manifold


def _naive(X, Z, k):
    """Loop-by-loop transcription of the definitions (self has rank 0)."""
    n = X.shape[0]
    DX = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    DZ = np.sqrt(((Z[:, None] - Z[None]) ** 2).sum(-1))
    rx = np.zeros((n, n), dtype=int)
    rz = np.zeros((n, n), dtype=int)
    nx, nz = [], []
    for i in range(n):
        ox = sorted(range(n), key=lambda j: (j != i, DX[i, j]))
        oz = sorted(range(n), key=lambda j: (j != i, DZ[i, j]))
        for r, j in enumerate(ox):
            rx[i, j] = r
        for r, j in enumerate(oz):
            rz[i, j] = r
        nx.append(ox[1:k + 1])
        nz.append(oz[1:k + 1])
    t = sum(rx[i, j] - k for i in range(n) for j in nz[i] if j not in nx[i])
    c = sum(rz[i, j] - k for i in range(n) for j in nx[i] if j not in nz[i])
    norm = 2.0 / (n * k * (2 * n - 3 * k - 1))
    zx = sum(abs(rx[i, j] - rz[i, j]) / rz[i, j] for i in range(n) for j in nz[i])
    xz = sum(abs(rx[i, j] - rz[i, j]) / rx[i, j] for i in range(n) for j in nx[i])
    C = n * sum(abs(2 * j - n) / j for j in range(1, k + 1))
    lgd = 0.0
    for i in range(n):
        for j in nx[i]:
            lgd += (DX[i, j] / np.sqrt(X.shape[1]) - DZ[i, j] / np.sqrt(Z.shape[1])) ** 2
    return {
        "trust": 1 - norm * t,
        "cont": 1 - norm * c,
        "rre": (zx / C + xz / C) / 2,
        "lgd": np.sqrt(lgd / (k * n)),
        "d_rmse": np.sqrt(((DX - DZ) ** 2).sum() / n**2),
    }


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.rand(60, 6)
    Z = X[:, :2] @ rng.randn(2, 2) + 0.2 * rng.randn(60, 2)
    return X, Z


@pytest.mark.parametrize("k", [3, 5, 7])
def test_each_metric_matches_the_naive_definition(data, k):
    X, Z = data
    expected = _naive(X, Z, k)
    got = manifold_metrics(X, Z, n_neighbors=k)
    for name in ("trust", "cont", "rre", "lgd", "d_rmse"):
        assert got[name] == pytest.approx(expected[name], rel=1e-10, abs=1e-12), name


def test_default_averages_over_k_3_to_7(data):
    X, Z = data
    per_k = [_naive(X, Z, k) for k in range(3, 8)]
    got = manifold_metrics(X, Z)
    for name in ("trust", "cont", "rre", "lgd"):
        assert got[name] == pytest.approx(np.mean([m[name] for m in per_k]), rel=1e-10)
    assert trustworthiness(X, Z) == pytest.approx(got["trust"])
    assert continuity(X, Z) == pytest.approx(got["cont"])
    assert relative_rank_error(X, Z) == pytest.approx(got["rre"])
    assert local_geometric_distortion(X, Z) == pytest.approx(got["lgd"])
    assert distance_rmse(X, Z) == pytest.approx(got["d_rmse"])


@pytest.mark.parametrize("k", [3, 5, 7])
def test_trust_and_continuity_agree_with_sklearn(k):
    rng = np.random.RandomState(1)
    X = rng.rand(200, 15)
    Z = X[:, :3] + 0.05 * rng.randn(200, 3)
    assert trustworthiness(X, Z, n_neighbors=k) == pytest.approx(sk_trustworthiness(X, Z, n_neighbors=k), rel=1e-12)
    assert continuity(X, Z, n_neighbors=k) == pytest.approx(sk_trustworthiness(Z, X, n_neighbors=k), rel=1e-12)


def test_hand_computed_d_rmse_and_perfect_embedding():
    X = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    Z = np.array([[0.0], [10.0], [20.0]])
    # distances X: 5, 10, 5; Z: 10, 20, 10 -> squared diffs 25, 100, 25 each counted twice
    assert distance_rmse(X, Z) == pytest.approx(np.sqrt(2 * 150 / 9))
    rng = np.random.RandomState(0)
    A = rng.rand(50, 4)
    m = manifold_metrics(A, A)
    assert m["trust"] == m["cont"] == 1.0 and m["rre"] == 0.0 and m["lgd"] == 0.0
    assert m["d_rmse"] == pytest.approx(0.0, abs=1e-6)


def test_lgd_hand_computed():
    # 1 neighbour each; input 4-D (scale 1/2), latent 1-D (scale 1)
    X = np.array([[0.0, 0, 0, 0], [2.0, 0, 0, 0], [10.0, 0, 0, 0], [12.0, 0, 0, 0], [30.0, 0, 0, 0]])
    Z = np.array([[0.0], [3.0], [20.0], [21.0], [60.0]])
    # X neighbours: 0<->1 (d 2), 2<->3 (d 2), 4->3 (d 18); terms (d_X/2 - d_Z)^2
    terms = [(1 - 3) ** 2, (1 - 3) ** 2, (1 - 1) ** 2, (1 - 1) ** 2, (9 - 39) ** 2]
    assert local_geometric_distortion(X, Z, n_neighbors=1) == pytest.approx(np.sqrt(sum(terms) / 5))


def test_cluster_rank_accuracy_by_hand():
    X = np.array([[0.0], [10.0], [25.0]])
    labels = [0, 1, 2]
    assert cluster_rank_accuracy(X, X * 3, labels) == 1.0
    # in Z cluster 1 is nearer to 2 than to 0 -> row 1 of the orders differs in 2 places
    Z = np.array([[0.0], [10.0], [15.0]])
    assert cluster_rank_accuracy(X, Z, labels) == pytest.approx(7 / 9)
    # means of several points per cluster, labels of any type
    X2 = np.repeat(X, 2, axis=0) + np.array([[-1.0], [1.0]] * 3)
    Z2 = np.repeat(Z, 2, axis=0)
    assert cluster_rank_accuracy(X2, Z2, np.repeat(["a", "b", "c"], 2)) == pytest.approx(7 / 9)


def test_sample_size_subsamples_and_bounds_memory(data, monkeypatch):
    X, Z = data
    full = manifold_metrics(X, Z)
    sub = manifold_metrics(X, Z, sample_size=30, random_state=0)
    idx = np.sort(np.random.RandomState(0).choice(60, 30, replace=False))
    assert sub == pytest.approx(manifold_metrics(X[idx], Z[idx]))
    assert sub != pytest.approx(full)
    # tiny blocks give the same result: the computation is blocked, never n x n at once
    monkeypatch.setattr(_manifold, "_BLOCK_ENTRIES", 7 * 60)
    assert manifold_metrics(X, Z) == pytest.approx(full)


def test_bad_input():
    X = np.random.rand(20, 3)
    with pytest.raises(ValueError, match="same number of samples"):
        manifold_metrics(X, X[:10])
    with pytest.raises(ValueError, match="n_samples / 2"):
        trustworthiness(X, X, n_neighbors=10)
    with pytest.raises(ValueError, match="NaN"):
        manifold_metrics(np.full((20, 3), np.nan), X)
    with pytest.raises(ValueError, match="labels must have shape"):
        cluster_rank_accuracy(X, X, [0, 1])
