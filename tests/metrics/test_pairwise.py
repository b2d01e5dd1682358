"""KS and correlation distances against scipy / numpy / pandas computed pair by pair."""

import warnings

import numpy as np
import pytest
from scipy import stats

from skdsc.metrics import correlation_distances, ks_distances
from skdsc.metrics._pairwise import _ks_one_sided_numpy, _ks_one_sided_torch, _rank_rows


def _ks_loop(X, Y=None):
    Y = X if Y is None else Y
    out = np.empty((X.shape[0], Y.shape[0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's p-value warnings; the statistic is exact
        for i, a in enumerate(X):
            for j, b in enumerate(Y):
                out[i, j] = stats.ks_2samp(a[~np.isnan(a)], b[~np.isnan(b)]).statistic
    return out


def test_ks_hand_computed():
    X = np.array([[1.0, 2.0, 3.0], [2.0, 3.0, 4.0], [10.0, 11.0, 12.0]])
    D = ks_distances(X)
    # F_0 - F_1 at x=1 is 1/3, at x=3 is 1 - 2/3; disjoint supports give 1
    expected = np.array([[0, 1 / 3, 1], [1 / 3, 0, 1], [1, 1, 0]])
    np.testing.assert_allclose(D, expected, atol=1e-15)


@pytest.mark.parametrize("kind", ["continuous", "ties", "nan", "ties_nan"])
def test_ks_equals_scipy(kind):
    rng = np.random.RandomState(0)
    if kind.startswith("ties"):
        X = rng.randint(0, 5, size=(25, 31)).astype(float)  # heavy ties
    else:
        X = rng.gamma(0.7, 2.0, size=(25, 31))
    if kind.endswith("nan"):
        X[rng.rand(*X.shape) < 0.25] = np.nan  # unequal effective lengths
    np.testing.assert_allclose(ks_distances(X), _ks_loop(X), rtol=0, atol=1e-12)


def test_ks_x_y_different_lengths():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(9, 20))
    Y = rng.normal(0.3, 1, size=(6, 13))
    Y[0, :5] = np.nan
    np.testing.assert_allclose(ks_distances(X, Y), _ks_loop(X, Y), rtol=0, atol=1e-12)


def test_ks_threads_and_symmetry():
    rng = np.random.RandomState(2)
    X = rng.exponential(size=(40, 50))
    D1 = ks_distances(X, n_jobs=1)
    D2 = ks_distances(X, n_jobs=2)
    np.testing.assert_array_equal(D1, D2)
    np.testing.assert_array_equal(D1, D1.T)
    assert np.all(np.diag(D1) == 0)


def test_ks_all_nan_row_gives_nan_and_errors():
    X = np.array([[1.0, 2.0], [np.nan, np.nan], [0.5, 3.0]])
    D = ks_distances(X)
    assert np.isnan(D[1]).all() and np.isnan(D[:, 1]).all()
    assert np.isfinite(D[[0, 2]][:, [0, 2]]).all()
    with pytest.raises(ValueError, match="2D array"):
        ks_distances(np.arange(5.0))
    with pytest.raises(ValueError, match="infinite"):
        ks_distances(np.array([[1.0, np.inf], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="empty"):
        ks_distances(np.empty((0, 3)))


@pytest.mark.parametrize("with_nan", [False, True])
def test_ks_torch_code_path_on_cpu(with_nan):
    """The torch implementation (used on GPUs) gives the numpy result, run here on CPU."""
    pytest.importorskip("torch")
    rng = np.random.RandomState(3)
    X = rng.randint(0, 7, size=(30, 12)).astype(float)
    if with_nan:
        X[rng.rand(*X.shape) < 0.2] = np.nan
    (R, own, lengths), n_unique = _rank_rows([X])[0][0], _rank_rows([X])[1]
    exact = bool(np.all(lengths == lengths[0]))
    E_np = _ks_one_sided_numpy(R, own, lengths, R, lengths, n_unique, 1, exact)
    E_t = _ks_one_sided_torch(R, own, lengths, R, lengths, n_unique, "cpu", exact, block_elems=5000)
    np.testing.assert_allclose(E_np, E_t, atol=1e-15)


@pytest.mark.gpu
def test_ks_and_correlation_on_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    rng = np.random.RandomState(4)
    X = rng.gamma(0.5, 1.0, size=(300, 60))
    X[rng.rand(*X.shape) < 0.1] = np.nan
    np.testing.assert_allclose(ks_distances(X, device="cuda"), ks_distances(X), atol=1e-12)
    np.testing.assert_allclose(
        correlation_distances(X, device="cuda"), correlation_distances(X), atol=1e-10
    )


def test_correlation_equals_corrcoef():
    rng = np.random.RandomState(5)
    X = rng.normal(size=(20, 30))
    X[3] = 2 * X[0] + 1  # perfectly correlated pair
    D = correlation_distances(X, chunk_size=7)
    np.testing.assert_allclose(D, 1 - np.corrcoef(X), atol=1e-12)
    assert D[0, 3] == pytest.approx(0, abs=1e-12)
    Y = rng.normal(size=(4, 30))
    np.testing.assert_allclose(
        correlation_distances(X, Y), 1 - np.corrcoef(X, Y)[:20, 20:], atol=1e-12
    )


def test_correlation_pairwise_complete_like_pandas():
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(6)
    X = rng.normal(size=(15, 40))
    X[rng.rand(*X.shape) < 0.3] = np.nan
    expected = 1 - pd.DataFrame(X.T).corr(min_periods=2).to_numpy()
    np.testing.assert_allclose(correlation_distances(X, chunk_size=4), expected, atol=1e-10)


def test_correlation_undefined_is_nan():
    X = np.array([[1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 5.0], [np.nan, np.nan, 2.0, 1.0]])
    D = correlation_distances(X)
    assert np.isnan(D[0, 1]) and np.isnan(D[1, 0])  # constant row
    assert D[1, 2] == pytest.approx(2.0)  # two common values: r = -1
    D3 = correlation_distances(X, min_periods=3)
    assert np.isnan(D3[1, 2])
    with pytest.raises(ValueError, match="same number of columns"):
        correlation_distances(X, X[:, :2])
