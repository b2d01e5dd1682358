"""Adapters between xarray objects and the numpy arrays estimators work on.

Estimators accept a :class:`xarray.DataArray` wherever they accept an array. The
sample dimension is named by the caller (default: the first dimension); it is moved
to the front, the data are materialised (a dask-backed array is computed here, at
the point ``fit``/``predict`` needs it) and the sample coordinate is remembered so
that outputs with a sample axis can be wrapped back into a ``DataArray``.
"""

from dataclasses import dataclass, field

import numpy as np
import xarray as xr

__all__ = ["SampleInfo", "is_dataarray", "unwrap_samples", "wrap_samples"]


@dataclass
class SampleInfo:
    """What is needed to put a sample coordinate back on an output.

    Attributes
    ----------
    dim : str
        Name of the sample dimension.
    coords : dict
        Coordinates that live on the sample dimension only (the index coordinate
        and any auxiliary coordinate such as ``season(time)``).
    feature_dims : tuple of str
        The remaining dimensions, in the order they were flattened.
    feature_shape : tuple of int
        Their sizes.
    feature_coords : dict
        Coordinates that live on the feature dimensions only (e.g. ``lat``, ``lon``).
    name : str or None
        The input's name.
    """

    dim: str
    coords: dict = field(default_factory=dict)
    feature_dims: tuple = ()
    feature_shape: tuple = ()
    feature_coords: dict = field(default_factory=dict)
    name: object = None


def is_dataarray(X):
    """Return True when ``X`` is an :class:`xarray.DataArray`."""
    return isinstance(X, xr.DataArray)


def unwrap_samples(X, sample_dim=None, flatten=False):
    """Turn ``X`` into a samples-first numpy array, remembering its coordinates.

    Parameters
    ----------
    X : array-like or xarray.DataArray
        Input data. Anything that is not a ``DataArray`` is returned unchanged.
    sample_dim : str, default=None
        Name of the sample dimension of a ``DataArray``; ``None`` means its first
        dimension.
    flatten : bool, default=False
        If True, the non-sample dimensions are flattened into one feature axis
        (C order), giving a 2D array.

    Returns
    -------
    values : ndarray or the unchanged input
        Samples-first data.
    info : SampleInfo or None
        ``None`` when ``X`` was not a ``DataArray``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> da = xr.DataArray(np.zeros((3, 4, 5)), dims=("lat", "time", "lon"))
    >>> values, info = unwrap_samples(da, sample_dim="time", flatten=True)
    >>> values.shape, info.dim, info.feature_dims
    ((4, 15), 'time', ('lat', 'lon'))
    """
    if not is_dataarray(X):
        return X, None
    dim = X.dims[0] if sample_dim is None else sample_dim
    if dim not in X.dims:
        raise ValueError(
            f"sample_dim={dim!r} is not a dimension of the DataArray; its dims are {X.dims}."
        )
    X = X.transpose(dim, ...)
    feature_dims = tuple(X.dims[1:])
    coords = {k: c for k, c in X.coords.items() if c.dims == (dim,)}
    feature_coords = {
        k: c for k, c in X.coords.items() if c.dims and set(c.dims) <= set(feature_dims)
    }
    info = SampleInfo(
        dim=dim,
        coords=coords,
        feature_dims=feature_dims,
        feature_shape=tuple(X.shape[1:]),
        feature_coords=feature_coords,
        name=X.name,
    )
    values = np.asarray(X.data)  # computes a dask-backed array here, not earlier
    if flatten:
        values = values.reshape(values.shape[0], -1)
    return values, info


def wrap_samples(values, info, extra_dims=(), extra_coords=None, name=None):
    """Wrap a samples-first output back into a ``DataArray`` when the input was one.

    Parameters
    ----------
    values : ndarray
        Output whose first axis is the samples.
    info : SampleInfo or None
        As returned by :func:`unwrap_samples`; ``None`` returns ``values`` unchanged.
    extra_dims : tuple of str
        Names of the output's other dimensions (e.g. ``("cluster",)``).
    extra_coords : dict, optional
        Coordinates for those dimensions.
    name : str, optional
        Name of the returned ``DataArray``.

    Returns
    -------
    ndarray or xarray.DataArray
    """
    if info is None:
        return values
    dims = (info.dim,) + tuple(extra_dims)
    coords = dict(info.coords)
    if extra_coords:
        coords.update(extra_coords)
    return xr.DataArray(values, dims=dims, coords=coords, name=name)
