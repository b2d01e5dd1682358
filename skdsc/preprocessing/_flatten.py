"""4D (or any n-d) fields <-> tabular ``(n_samples, n_features)`` data."""

import numpy as np
import xarray as xr
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils import unwrap_samples

__all__ = ["FieldFlattener"]


class FieldFlattener(TransformerMixin, BaseEstimator):
    """Flatten every sample of a gridded field into one row, and back.

    A ``(time, lat, lon, var)`` (or ``(time, lat, lon)``, or any n-d) array
    becomes ``(time, lat * lon * var)`` in C order, the tabular layout of the
    benchmark models of seed 000 (``[time, (lon, lat, var)]``). NaN passes
    through untouched and no column is ever dropped, so all-NaN (land) columns
    stay in place: impute them with scikit-learn afterwards.

    Seed 000's preprocessing (4D -> 2D, NaN -> mean, min-max to [0, 1]) is the
    pipeline::

        make_pipeline(FieldFlattener(),
                      SimpleImputer(strategy="mean", keep_empty_features=True),
                      MinMaxScaler())

    One difference: the seed's code replaces NaN by the *global* mean of the
    whole dataset, the pipeline above by each column's mean (all-NaN columns
    become 0 through ``keep_empty_features=True`` and then stay constant at 0
    after scaling). The seed's exact choice composes too:
    ``SimpleImputer(strategy="constant", fill_value=float(np.nanmean(X)),
    keep_empty_features=True)`` (without ``keep_empty_features`` scikit-learn
    drops all-NaN columns)
    with the global mean computed beforehand on the data the pipeline is fitted
    on.

    Parameters
    ----------
    sample_dim : str, default=None
        Name of the sample dimension of a ``DataArray`` input (default its first
        dimension); it is moved to the front before flattening.

    Attributes
    ----------
    field_shape_ : tuple of int
        Shape of one sample (e.g. ``(lat, lon, var)``).
    n_features_out_ : int
        ``prod(field_shape_)``.
    n_features_in_ : int
        Size of the second axis of the input (scikit-learn's convention for n-d
        input; for 2D input it is the number of columns).
    dims_ : tuple of str or None
        Dimension names (sample dim first) when ``fit`` saw a ``DataArray``.
    feature_coords_ : dict or None
        The ``DataArray``'s coordinates on the non-sample dimensions.
    name_ : object
        The ``DataArray``'s name (``None`` otherwise).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.impute import SimpleImputer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skdsc.preprocessing import FieldFlattener
    >>> X = np.random.default_rng(0).normal(size=(30, 4, 5, 2))  # (time, lat, lon, var)
    >>> X[:, 0, 0, :] = np.nan                                   # a land cell
    >>> prep = make_pipeline(FieldFlattener(),
    ...                      SimpleImputer(strategy="mean", keep_empty_features=True),
    ...                      MinMaxScaler())
    >>> Xt = prep.fit_transform(X)
    >>> Xt.shape, round(float(Xt.min()), 6), round(float(Xt.max()), 6)
    ((30, 40), 0.0, 1.0)
    >>> fields = prep[0].inverse_transform(prep[-1].inverse_transform(Xt))  # unscale, reshape
    >>> fields.shape
    (30, 4, 5, 2)
    """

    _parameter_constraints = {"sample_dim": [str, None]}

    def __init__(self, sample_dim=None):
        self.sample_dim = sample_dim

    def _values(self, X, reset):
        values, info = unwrap_samples(X, sample_dim=self.sample_dim)
        values = validate_data(
            self, values, allow_nd=True, ensure_all_finite="allow-nan", dtype="numeric",
            ensure_min_features=1, reset=reset,
        )
        if not reset and values.shape[1:] != self.field_shape_:
            raise ValueError(
                f"X has per-sample shape {values.shape[1:]}; FieldFlattener was fitted on "
                f"{self.field_shape_}."
            )
        return values, info

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the per-sample shape (and dims/coords of a ``DataArray``).

        Parameters
        ----------
        X : array-like or xarray.DataArray of shape (n_samples, ...)
        y : None
            Ignored.

        Returns
        -------
        self : FieldFlattener
        """
        values, info = self._values(X, reset=True)
        self.field_shape_ = tuple(values.shape[1:])
        self.n_features_out_ = int(np.prod(self.field_shape_))
        self.dims_ = None if info is None else (info.dim, *info.feature_dims)
        self.feature_coords_ = None if info is None else dict(info.feature_coords)
        self.name_ = None if info is None else info.name
        return self

    def transform(self, X):
        """Flatten to ``(n_samples, prod(field_shape_))``.

        Parameters
        ----------
        X : array-like or xarray.DataArray of shape ``(n_samples, *field_shape_)``

        Returns
        -------
        Xt : ndarray of shape ``(n_samples, n_features_out_)``, or a 2D DataArray
            A ``DataArray`` input gives a ``DataArray`` with dims
            ``(sample_dim, "feature")`` carrying the sample coordinates, so that
            :meth:`inverse_transform` can put them back.
        """
        check_is_fitted(self)
        values, info = self._values(X, reset=False)
        flat = values.reshape(values.shape[0], -1)
        if info is None:
            return flat
        return xr.DataArray(flat, dims=(info.dim, "feature"), coords=info.coords, name=info.name)

    def inverse_transform(self, X):
        """Reshape rows back to fields.

        Parameters
        ----------
        X : array-like or xarray.DataArray of shape ``(n_samples, n_features_out_)``

        Returns
        -------
        fields : ndarray or xarray.DataArray of shape ``(n_samples, *field_shape_)``
            A ``DataArray`` when ``fit`` saw one: original dims and feature
            coordinates (lat, lon, variable, ...); the sample coordinate is taken
            from ``X`` when ``X`` is a ``DataArray`` (as returned by
            :meth:`transform`), otherwise the sample dim has no coordinate.
        """
        check_is_fitted(self)
        sample_coords = {}
        if isinstance(X, xr.DataArray):
            sdim = X.dims[0]
            sample_coords = {k: c for k, c in X.coords.items() if c.dims == (sdim,)}
            X = X.data
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_features_out_:
            raise ValueError(
                f"inverse_transform expects shape (n_samples, {self.n_features_out_}), got "
                f"{X.shape}."
            )
        fields = X.reshape(X.shape[0], *self.field_shape_)
        if self.dims_ is None:
            return fields
        sample_coords = {k: (self.dims_[0], c.values) for k, c in sample_coords.items()}
        coords = {**self.feature_coords_, **sample_coords}
        return xr.DataArray(fields, dims=self.dims_, coords=coords, name=self.name_)

    def get_feature_names_out(self, input_features=None):
        """Names of the flattened columns.

        Parameters
        ----------
        input_features : None
            Ignored (the input is not a table).

        Returns
        -------
        feature_names_out : ndarray of str
            ``"x{i}_{j}_{k}"`` (grid indices) for array input; for ``DataArray``
            input ``"{name}[dim=value, ...]"`` built from the coordinates (index
            when a dim has none).
        """
        check_is_fitted(self)
        idx = np.indices(self.field_shape_).reshape(len(self.field_shape_), -1).T
        if self.dims_ is None:
            return np.asarray(["x" + "_".join(map(str, row)) for row in idx], dtype=object)
        fdims = self.dims_[1:]
        values = [
            (np.asarray(self.feature_coords_[d].values) if d in self.feature_coords_
             and self.feature_coords_[d].dims == (d,) else np.arange(s))
            for d, s in zip(fdims, self.field_shape_)
        ]
        prefix = "x" if self.name_ is None else str(self.name_)
        return np.asarray(
            [
                prefix + "[" + ", ".join(f"{d}={v[i]}" for d, v, i in zip(fdims, values, row)) + "]"
                for row in idx
            ],
            dtype=object,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
