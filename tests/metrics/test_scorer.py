"""Scorers: values, registration with scikit-learn, model-selection tools."""

import copy
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import xarray as xr
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import check_scoring
from sklearn.metrics import get_scorer as sk_get_scorer
from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate

import skdsc.metrics as skm
from skdsc.metrics import (
    davies_bouldin,
    get_scorer,
    get_scorer_names,
    make_internal_scorer,
    make_supervised_scorer,
    overall_accuracy,
    silhouette,
)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=90, centers=3, cluster_std=0.6, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def kmeans(blobs):
    return KMeans(n_clusters=4, n_init=1, random_state=0).fit(blobs[0])


def test_names():
    assert get_scorer_names() == [
        "ari",
        "calinski_harabasz",
        "davies_bouldin",
        "kappa",
        "nmi",
        "overall_accuracy",
        "silhouette",
    ]


@pytest.mark.parametrize(
    "name, func",
    [
        ("overall_accuracy", skm.overall_accuracy),
        ("kappa", skm.cohen_kappa),
        ("nmi", skm.nmi),
        ("ari", skm.ari),
    ],
)
def test_supervised_scorers_use_predict(blobs, kmeans, name, func):
    X, y = blobs
    assert get_scorer(name)(kmeans, X, y) == pytest.approx(func(y, kmeans.predict(X)))
    with pytest.raises(ValueError, match="with y"):
        get_scorer(name)(kmeans, X)


@pytest.mark.parametrize(
    "name, func, sign",
    [
        ("silhouette", skm.silhouette, 1),
        ("davies_bouldin", skm.davies_bouldin, -1),
        ("calinski_harabasz", skm.calinski_harabasz, 1),
    ],
)
def test_internal_scorers_on_input_space(blobs, kmeans, name, func, sign):
    X, y = blobs
    labels = kmeans.predict(X)
    assert get_scorer(name)(kmeans, X) == pytest.approx(sign * func(X, labels))
    # y is ignored
    assert get_scorer(name)(kmeans, X, y) == pytest.approx(sign * func(X, labels))


def test_embedding_space_and_options(blobs, kmeans):
    X, _ = blobs
    labels = kmeans.predict(X)
    emb = make_internal_scorer("silhouette", space="embedding")
    assert emb(kmeans, X) == pytest.approx(silhouette(kmeans.transform(X), labels))
    sub = make_internal_scorer("silhouette", metric="cosine", sample_size=40, random_state=3)
    assert sub(kmeans, X) == pytest.approx(
        silhouette(X, labels, metric="cosine", sample_size=40, random_state=3)
    )
    db = make_internal_scorer("davies_bouldin", metric="manhattan")
    assert db(kmeans, X) == pytest.approx(-davies_bouldin(X, labels, metric="manhattan"))
    rmse = make_internal_scorer("average_rmse")
    assert rmse(kmeans, X) == pytest.approx(-skm.average_rmse(X, labels))
    icd = make_internal_scorer("average_inter_cluster_distance")
    assert icd(kmeans, X) == pytest.approx(skm.average_inter_cluster_distance(X, labels))
    many = make_supervised_scorer("overall_accuracy", method="many_to_one")
    assert many(kmeans, X, blobs[1]) == pytest.approx(
        overall_accuracy(blobs[1], labels, method="many_to_one")
    )


class _FlattenClusterer(ClusterMixin, BaseEstimator):
    """Labels samples of an n-D array by the sign of their first flattened value."""

    def fit(self, X, y=None):
        return self

    def predict(self, X):
        X = np.asarray(X)
        return (X.reshape(X.shape[0], -1)[:, 0] > 0).astype(int)


def test_input_space_flattens_nd_and_dataarray():
    rng = np.random.RandomState(0)
    X = rng.randn(20, 2, 3)
    est = _FlattenClusterer().fit(X)
    flat = X.reshape(20, -1)
    expected = silhouette(flat, est.predict(X))
    assert get_scorer("silhouette")(est, X) == pytest.approx(expected)
    da = xr.DataArray(X, dims=("time", "lat", "lon"))
    assert get_scorer("silhouette")(est, da) == pytest.approx(expected)


def test_errors():
    X = np.random.RandomState(0).rand(10, 2)
    agg = AgglomerativeClustering(n_clusters=2).fit(X)
    with pytest.raises(TypeError, match="predict"):
        get_scorer("silhouette")(agg, X)
    with pytest.raises(ValueError, match="Unknown internal"):
        make_internal_scorer("dunn")
    with pytest.raises(ValueError, match="space"):
        make_internal_scorer("silhouette", space="latent")
    with pytest.raises(ValueError, match="Euclidean"):
        make_internal_scorer("average_rmse", metric="cosine")
    with pytest.raises(ValueError, match="sample_size"):
        make_internal_scorer("average_variance", sample_size=10)
    with pytest.raises(ValueError, match="Unknown supervised"):
        make_supervised_scorer("purity")
    with pytest.raises(ValueError, match="not a valid scoring"):
        get_scorer("no_such_scorer")
    with pytest.raises(TypeError, match="str or a callable"):
        get_scorer(3)


def test_get_scorer_copies_and_fallbacks(blobs, kmeans):
    a, b = get_scorer("silhouette"), get_scorer("silhouette")
    assert a is not b
    assert get_scorer(a) is a
    # scikit-learn names still come from scikit-learn
    assert repr(get_scorer("adjusted_rand_score")) == repr(sk_get_scorer("adjusted_rand_score"))
    X, y = blobs
    scorer = pickle.loads(pickle.dumps(copy.deepcopy(get_scorer("kappa"))))
    assert scorer(kmeans, X, y) == pytest.approx(get_scorer("kappa")(kmeans, X, y))


def test_registered_with_sklearn(blobs, kmeans):
    X, y = blobs
    for name in get_scorer_names():
        assert sk_get_scorer(name)(kmeans, X, y) == pytest.approx(get_scorer(name)(kmeans, X, y))
        assert check_scoring(kmeans, scoring=name) is not None


def test_grid_search_silhouette_string(blobs):
    X, _ = blobs
    idx = np.arange(X.shape[0])
    search = GridSearchCV(
        KMeans(n_init=1, random_state=0),
        {"n_clusters": [2, 3, 4]},
        scoring="silhouette",
        cv=[(idx, idx)],
    ).fit(X)
    expected = [
        silhouette(X, KMeans(n_clusters=k, n_init=1, random_state=0).fit_predict(X))
        for k in (2, 3, 4)
    ]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], expected)
    assert search.best_params_ == {"n_clusters": int(np.argmax(expected)) + 2}
    assert search.best_params_ == {"n_clusters": 3}


def test_grid_search_supervised_and_multimetric(blobs):
    X, y = blobs
    idx = np.arange(X.shape[0])
    search = GridSearchCV(
        KMeans(n_init=1, random_state=0),
        {"n_clusters": [2, 3, 4]},
        scoring="overall_accuracy",
        cv=[(idx, idx)],
    ).fit(X, y)
    assert search.best_params_ == {"n_clusters": 3}
    labels = KMeans(n_clusters=3, n_init=1, random_state=0).fit_predict(X)
    assert search.best_score_ == pytest.approx(overall_accuracy(y, labels))
    assert search.best_score_ > 0.95
    multi = GridSearchCV(
        KMeans(n_init=1, random_state=0),
        {"n_clusters": [2, 3, 4]},
        scoring=["kappa", "davies_bouldin", "nmi"],
        refit="davies_bouldin",
        cv=[(idx, idx)],
    ).fit(X, y)
    assert multi.best_params_ == {"n_clusters": 3}
    assert np.all(multi.cv_results_["mean_test_davies_bouldin"] < 0)


def test_cross_validate(blobs):
    X, y = blobs
    idx = np.arange(X.shape[0])
    res = cross_validate(
        KMeans(n_clusters=3, n_init=1, random_state=0),
        X,
        y,
        scoring=["overall_accuracy", "silhouette", "calinski_harabasz"],
        cv=[(idx, idx)],
    )
    labels = KMeans(n_clusters=3, n_init=1, random_state=0).fit_predict(X)
    assert res["test_overall_accuracy"][0] == pytest.approx(overall_accuracy(y, labels))
    assert res["test_silhouette"][0] == pytest.approx(silhouette(X, labels))
    scores = cross_val_score(
        KMeans(n_clusters=3, n_init=1, random_state=0), X, scoring="davies_bouldin", cv=3
    )
    assert scores.shape == (3,)


@pytest.mark.parametrize("first", ["sklearn", "skdsc"])
def test_registration_independent_of_import_order(first):
    imports = {
        "sklearn": "import sklearn.model_selection, sklearn.inspection\nimport skdsc.metrics",
        "skdsc": "import skdsc.metrics\nimport sklearn.model_selection, sklearn.inspection",
    }[first]
    code = textwrap.dedent(
        """
        import numpy as np
        from sklearn.metrics import _scorer
        before = dict(_scorer._SCORERS)
        {imports}
        from sklearn.cluster import KMeans
        from sklearn.inspection import permutation_importance
        from sklearn.model_selection import GridSearchCV, cross_validate
        # no scikit-learn name was overwritten
        assert all(_scorer._SCORERS[k] is v for k, v in before.items())
        X = np.r_[np.zeros((10, 2)), np.ones((10, 2)) * 5]
        X = X + np.random.RandomState(0).rand(20, 2)
        y = np.repeat([0, 1], 10)
        idx = np.arange(20)
        GridSearchCV(KMeans(n_init=1), {{"n_clusters": [2, 3]}}, scoring="silhouette",
                     cv=[(idx, idx)]).fit(X)
        cross_validate(KMeans(2, n_init=1), X, y, scoring="overall_accuracy", cv=[(idx, idx)])
        km = KMeans(2, n_init=1).fit(X)
        permutation_importance(km, X, y, scoring="nmi", n_repeats=1)
        print("ok")
        """
    ).format(imports=imports)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_metrics_modules_do_not_import_torch_at_module_level():
    import ast
    import pathlib

    package = pathlib.Path(skm.__file__).parent
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "torch" for n in names), path
