"""Scorers for model selection: ``scoring=`` in ``GridSearchCV`` / ``cross_validate``.

A scorer is a callable ``scorer(estimator, X, y=None)`` returning a float where
higher is better. Supervised scorers compare ``estimator.predict(X)`` with ``y``.
Unsupervised (internal) scorers judge ``estimator.predict(X)`` against the data,
by default in the *input* space ``X``; see :func:`make_internal_scorer` for why.

On import, the skdsc scorer names that scikit-learn does not already define are
added to scikit-learn's scorer registry so that plain strings such as
``scoring="silhouette"`` work in scikit-learn's own model-selection tools. That
registry is private; if it changes shape, registration is skipped silently and
:func:`get_scorer` keeps working (pass ``scoring=get_scorer("silhouette")``).
"""

import copy
import sys

import numpy as np

from ._internal import (
    average_inter_cluster_distance,
    average_rmse,
    average_variance,
    calinski_harabasz,
    davies_bouldin,
    silhouette,
)
from ._supervised import ari, cohen_kappa, nmi, overall_accuracy

__all__ = [
    "get_scorer",
    "get_scorer_names",
    "make_internal_scorer",
    "make_supervised_scorer",
]

# name -> (metric function, sign so that higher is better, accepts metric/sample_size)
_INTERNAL = {
    "silhouette": (silhouette, 1.0, True),
    "davies_bouldin": (davies_bouldin, -1.0, True),
    "calinski_harabasz": (calinski_harabasz, 1.0, True),
    "average_inter_cluster_distance": (average_inter_cluster_distance, 1.0, False),
    "average_rmse": (average_rmse, -1.0, False),
    "average_variance": (average_variance, -1.0, False),
}

_SUPERVISED = {
    "overall_accuracy": overall_accuracy,
    "kappa": cohen_kappa,
    "nmi": nmi,
    "ari": ari,
}


def _as_samples(estimator, X):
    """Samples-first 2D numpy view of ``X`` (DataArray or >2D input flattened)."""
    xarray = sys.modules.get("xarray")  # no DataArray can exist unless xarray is loaded
    if xarray is not None and isinstance(X, xarray.DataArray):
        from ..utils import unwrap_samples

        X, _ = unwrap_samples(X, sample_dim=getattr(estimator, "sample_dim", None), flatten=True)
    X = np.asarray(X)
    if X.ndim > 2:
        X = X.reshape(X.shape[0], -1)
    return X


def _predict(estimator, X):
    if not hasattr(estimator, "predict"):
        raise TypeError(
            f"{type(estimator).__name__} has no predict method; clustering scorers "
            "need predict(X) to label the scored samples."
        )
    return np.asarray(estimator.predict(X)).reshape(-1)


class _ClusteringScorer:
    """Base of the skdsc scorers (picklable, deep-copyable plain object)."""

    def _accept_sample_weight(self):
        # scikit-learn asks every scorer of a multi-metric dict this question
        return False

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._repr_args().items())
        return f"{self._factory}({args})"


class _SupervisedScorer(_ClusteringScorer):
    _factory = "make_supervised_scorer"

    def __init__(self, name, kwargs):
        self.name = name
        self.kwargs = kwargs

    def _repr_args(self):
        return {"name": self.name, **self.kwargs}

    def __call__(self, estimator, X, y=None, **kwargs):
        if y is None:
            raise ValueError(
                f"The {self.name!r} scorer compares predictions with ground truth; "
                "call it with y (e.g. GridSearchCV(...).fit(X, y))."
            )
        labels = _predict(estimator, X)
        return float(_SUPERVISED[self.name](y, labels, **self.kwargs))


class _InternalScorer(_ClusteringScorer):
    _factory = "make_internal_scorer"

    def __init__(self, name, space, kwargs):
        self.name = name
        self.space = space
        self.kwargs = kwargs

    def _repr_args(self):
        return {"name": self.name, "space": self.space, **self.kwargs}

    def __call__(self, estimator, X, y=None, **kwargs):
        labels = _predict(estimator, X)
        if self.space == "embedding":
            if not hasattr(estimator, "transform"):
                raise TypeError(
                    f"{type(estimator).__name__} has no transform method; "
                    "space='embedding' needs it."
                )
            data = _as_samples(estimator, estimator.transform(X))
        else:
            data = _as_samples(estimator, X)
        func, sign, _ = _INTERNAL[self.name]
        return sign * float(func(data, labels, **self.kwargs))


def make_internal_scorer(
    name, *, space="input", metric="euclidean", sample_size=None, random_state=None
):
    """Build an unsupervised scorer from an internal clustering measure.

    The scorer labels ``X`` with ``estimator.predict(X)`` and evaluates the
    measure on the data of the chosen space. Scores are higher-is-better:
    measures where lower is better (Davies-Bouldin, RMSE, variance) are negated.

    Parameters
    ----------
    name : {"silhouette", "davies_bouldin", "calinski_harabasz", \
            "average_inter_cluster_distance", "average_rmse", "average_variance"}
        The measure.
    space : {"input", "embedding"}, default="input"
        ``"input"`` evaluates on ``X`` itself (a DataArray or an array with more
        than two dimensions is flattened to ``(n_samples, -1)``). ``"embedding"``
        evaluates on ``estimator.transform(X)``. The input space is the default
        because each hyperparameter setting of a deep clusterer learns its own
        embedding: scores in different embeddings are not comparable across a
        grid search, and a collapsed embedding can make the silhouette look
        excellent.
    metric : str, default="euclidean"
        Distance for the silhouette, Davies-Bouldin, Calinski-Harabasz
        (``"euclidean"`` or ``"cosine"``) and inter-cluster distance measures.
    sample_size : int, default=None
        Subsample size for the silhouette, Davies-Bouldin and
        Calinski-Harabasz measures (large ``n``). Give ``random_state`` an int so
        that every candidate of a grid search sees the same subset.
    random_state : int, RandomState instance or None, default=None
        Seed of the subsampling.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float``; ``y`` is ignored.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.cluster import KMeans
    >>> from skdsc.metrics import make_internal_scorer
    >>> X = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> km = KMeans(n_clusters=2, n_init=1, random_state=0).fit(X)
    >>> scorer = make_internal_scorer("davies_bouldin")
    >>> round(scorer(km, X), 4)
    -0.02
    """
    if name not in _INTERNAL:
        raise ValueError(f"Unknown internal measure {name!r}; choose from {sorted(_INTERNAL)}.")
    if space not in ("input", "embedding"):
        raise ValueError(f"space must be 'input' or 'embedding'; got {space!r}.")
    _, _, sampled = _INTERNAL[name]
    kwargs = {}
    if name not in ("average_rmse", "average_variance"):
        if metric != "euclidean":
            kwargs["metric"] = metric
    elif metric != "euclidean":
        raise ValueError(f"{name!r} is defined with the Euclidean distance only.")
    if sample_size is not None:
        if not sampled:
            raise ValueError(f"{name!r} does not support sample_size.")
        kwargs["sample_size"] = sample_size
        kwargs["random_state"] = random_state
    return _InternalScorer(name, space, kwargs)


def make_supervised_scorer(name, **kwargs):
    """Build a supervised scorer comparing ``estimator.predict(X)`` with ``y``.

    Parameters
    ----------
    name : {"overall_accuracy", "kappa", "nmi", "ari"}
        The measure: :func:`~skdsc.metrics.overall_accuracy`,
        :func:`~skdsc.metrics.cohen_kappa`, :func:`~skdsc.metrics.nmi` or
        :func:`~skdsc.metrics.ari`.
    **kwargs
        Keyword arguments of the measure, e.g. ``method="many_to_one"``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y) -> float``, higher is better.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.cluster import KMeans
    >>> from skdsc.metrics import make_supervised_scorer
    >>> X = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> km = KMeans(n_clusters=2, n_init=1, random_state=0).fit(X)
    >>> make_supervised_scorer("overall_accuracy")(km, X, [1, 1, 0, 0])
    1.0
    """
    if name not in _SUPERVISED:
        raise ValueError(f"Unknown supervised measure {name!r}; choose from {sorted(_SUPERVISED)}.")
    return _SupervisedScorer(name, kwargs)


_SCORERS = {
    "overall_accuracy": make_supervised_scorer("overall_accuracy"),
    "kappa": make_supervised_scorer("kappa"),
    "nmi": make_supervised_scorer("nmi"),
    "ari": make_supervised_scorer("ari"),
    "silhouette": make_internal_scorer("silhouette"),
    "davies_bouldin": make_internal_scorer("davies_bouldin"),
    "calinski_harabasz": make_internal_scorer("calinski_harabasz"),
}


def get_scorer_names():
    """Names of the skdsc scorers.

    Returns
    -------
    names : list of str
        Sorted; each is accepted by :func:`get_scorer` and, once
        :mod:`skdsc.metrics` is imported, by scikit-learn's ``scoring=``.

    Examples
    --------
    >>> from skdsc.metrics import get_scorer_names
    >>> get_scorer_names()  # doctest: +NORMALIZE_WHITESPACE
    ['ari', 'calinski_harabasz', 'davies_bouldin', 'kappa', 'nmi',
     'overall_accuracy', 'silhouette']
    """
    return sorted(_SCORERS)


def get_scorer(scoring):
    """Return a scorer by name (a fresh copy), or a callable unchanged.

    Parameters
    ----------
    scoring : str or callable
        A name from :func:`get_scorer_names`:

        - supervised: ``"overall_accuracy"``, ``"kappa"``, ``"nmi"``, ``"ari"``
          (``estimator.predict(X)`` against ``y``);
        - unsupervised: ``"silhouette"``, ``"davies_bouldin"`` (negated, so higher
          is better), ``"calinski_harabasz"``, computed on ``X`` with the
          Euclidean distance and no subsampling; use
          :func:`make_internal_scorer` for other choices.

        Any other string is looked up in scikit-learn
        (:func:`sklearn.metrics.get_scorer`).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float``, higher is better.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.cluster import KMeans
    >>> from skdsc.metrics import get_scorer
    >>> X = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> km = KMeans(n_clusters=2, n_init=1, random_state=0).fit(X)
    >>> round(get_scorer("silhouette")(km, X), 4)
    0.98
    """
    if isinstance(scoring, str):
        if scoring in _SCORERS:
            return copy.deepcopy(_SCORERS[scoring])
        from sklearn.metrics import get_scorer as _sk_get_scorer

        return _sk_get_scorer(scoring)
    if callable(scoring):
        return scoring
    raise TypeError(f"scoring must be a str or a callable; got {type(scoring).__name__}.")


def _register_with_sklearn():
    """Add skdsc scorer names that scikit-learn lacks to its scorer registry.

    scikit-learn validates ``scoring`` strings against sets built from its
    registry when each of its modules is imported; those sets of modules already
    imported are extended in place. Never overwrites a scikit-learn name. Returns
    the names added; any failure leaves scikit-learn untouched as far as
    possible and returns an empty list.
    """
    try:
        from sklearn.metrics import _scorer as sk_scorer
        from sklearn.utils._param_validation import StrOptions

        registry = sk_scorer._SCORERS
        if not isinstance(registry, dict):
            return []
        added = [name for name in _SCORERS if name not in registry]
        for name in added:
            registry[name] = _SCORERS[name]
        marker = {"accuracy", "adjusted_rand_score"}
        for mod_name, module in list(sys.modules.items()):
            if not mod_name.startswith("sklearn.") or module is None:
                continue
            for obj in list(vars(module).values()):
                constraints = None
                if isinstance(obj, type):
                    constraints = obj.__dict__.get("_parameter_constraints")
                elif callable(obj):
                    inner = getattr(obj, "__wrapped__", None)
                    constraints = getattr(inner, "_skl_parameter_constraints", None)
                if not isinstance(constraints, dict):
                    continue
                for constraint in constraints.get("scoring", ()) or ():
                    options = getattr(constraint, "options", None)
                    if (
                        isinstance(constraint, StrOptions)
                        and isinstance(options, set)
                        and marker <= options
                    ):
                        options.update(added)
        return added
    except Exception:  # pragma: no cover - private API changed
        return []


_REGISTERED_WITH_SKLEARN = _register_with_sklearn()
