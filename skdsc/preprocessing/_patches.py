"""Spatial patches of gridded fields and their reassembly into grid-cell labels.

The clustering-autoencoder study (seed 001) clusters ``8 x 8`` patches cut with a
stride of 2 from yearly stacks of 12 monthly precipitation maps (``8 x 8 x 12``
samples) and gives every grid cell the most frequent cluster among the patches
covering it, pooling the patches of all years. This module provides the three
steps as composable pieces:

* :func:`stack_time_as_channels` turns a monthly ``(time, lat, lon)`` field into
  ``(year, lat, lon, 12)``;
* :class:`ChannelScaler` applies any scikit-learn scaler per channel (per calendar
  month after stacking: the seed's monthly min-max scaling is
  ``ChannelScaler(MinMaxScaler())``);
* :class:`PatchExtractor` cuts ``(n_patches, ph, pw, channels)`` patches and keeps
  each patch's origin; :func:`patches_to_grid` (and
  :meth:`PatchExtractor.labels_to_grid`) votes patch labels back onto the grid.
"""

from numbers import Integral, Real

import numpy as np
import xarray as xr
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils import unwrap_samples

__all__ = [
    "ChannelScaler",
    "PatchExtractor",
    "patches_to_grid",
    "stack_time_as_channels",
]


def _pair(value, name):
    """Return ``value`` as a pair of positive ints (an int means both)."""
    if isinstance(value, Integral):
        value = (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, Integral) and v >= 1 for v in value):
        raise ValueError(
            f"{name} must be a positive int or a pair of positive ints, got {value!r}."
        )
    return int(value[0]), int(value[1])


def _window_starts(size, window, stride, cover_edges):
    """Start indices of windows of length ``window`` along an axis of length ``size``."""
    starts = np.arange(0, size - window + 1, stride)
    if cover_edges and starts[-1] != size - window:
        starts = np.append(starts, size - window)
    return starts


# --------------------------------------------------------------------------- #
# Stacking a monthly series into yearly multi-channel maps
# --------------------------------------------------------------------------- #
def stack_time_as_channels(field, period=12, time_dim=None):
    """Stack consecutive time steps of a field as channels of one sample.

    A monthly field ``(time, lat, lon)`` becomes ``(year, lat, lon, 12)``: sample
    ``i`` holds time steps ``i*period ... i*period + period - 1`` as its channels,
    which is the layout of seed 001 (12 monthly maps of a year stacked as channels).
    A 4D field ``(time, lat, lon, var)`` becomes ``(n_periods, lat, lon,
    period * var)`` with channel ``j * var + v`` holding step ``j`` of variable ``v``.

    Parameters
    ----------
    field : array-like or xarray.DataArray of shape (time, lat, lon) or (time, lat, lon, var)
        The field. For a ``DataArray`` the time dimension is ``time_dim`` (default
        the first dimension) and the remaining dimensions keep their order.
    period : int, default=12
        Number of consecutive time steps per sample. ``time`` must be a multiple
        of it (a trailing incomplete period is an error, not silently dropped).
    time_dim : str, default=None
        Name of the time dimension of a ``DataArray``; ``None`` means its first.

    Returns
    -------
    stacked : ndarray or xarray.DataArray of shape (n_periods, lat, lon, channels)
        Same dtype as the input. A ``DataArray`` comes back with dims
        ``("year", lat, lon, "month")`` (``"channel"`` instead of ``"month"`` for
        4D input), the spatial coordinates intact, ``month`` coordinate
        ``1..period``, and ``year`` coordinate taken from the year of the first
        time step of each period when the time coordinate is datetime-like
        (``datetime64`` or ``cftime``), else the integer period index.

    Examples
    --------
    >>> import numpy as np
    >>> from skdsc.preprocessing import stack_time_as_channels
    >>> monthly = np.arange(24 * 2 * 3, dtype=float).reshape(24, 2, 3)
    >>> yearly = stack_time_as_channels(monthly, period=12)
    >>> yearly.shape
    (2, 2, 3, 12)
    >>> bool(yearly[1, 0, 0, 5] == monthly[12 + 5, 0, 0])
    True
    """
    if not isinstance(period, Integral) or period < 1:
        raise ValueError(f"period must be a positive int, got {period!r}.")
    values, info = unwrap_samples(field, sample_dim=time_dim)
    values = np.asarray(values)
    if values.ndim not in (3, 4):
        raise ValueError(
            "stack_time_as_channels expects a (time, lat, lon) or (time, lat, lon, var) "
            f"field, got an array with {values.ndim} dimensions."
        )
    n_time = values.shape[0]
    if n_time == 0 or n_time % period:
        raise ValueError(
            f"The number of time steps ({n_time}) is not a positive multiple of period={period}."
        )
    n_periods = n_time // period
    lat, lon = values.shape[1:3]
    if values.ndim == 3:
        stacked = values.reshape(n_periods, period, lat, lon).transpose(0, 2, 3, 1)
    else:
        n_var = values.shape[3]
        stacked = values.reshape(n_periods, period, lat, lon, n_var).transpose(0, 2, 3, 1, 4)
        stacked = stacked.reshape(n_periods, lat, lon, period * n_var)
    stacked = np.ascontiguousarray(stacked)
    if info is None:
        return stacked

    tcoord = info.coords.get(info.dim)
    year = np.arange(n_periods)
    if tcoord is not None:
        try:  # datetime64 and cftime coordinates both have the .dt accessor
            year = np.asarray(tcoord.dt.year.values[::period]).astype(np.int64)
        except (AttributeError, TypeError):
            pass
    spatial = info.feature_dims[:2]
    coords = {"year": year}
    coords.update(
        {k: c for k, c in info.feature_coords.items() if set(c.dims) <= set(spatial)}
    )
    if values.ndim == 3:
        coords["month"] = np.arange(1, period + 1)
        last = "month"
    else:
        last = "channel"
        coords[last] = np.arange(stacked.shape[-1])
    return xr.DataArray(stacked, dims=("year", *spatial, last), coords=coords, name=info.name)


# --------------------------------------------------------------------------- #
# Per-channel scaling with any scikit-learn scaler
# --------------------------------------------------------------------------- #
class ChannelScaler(TransformerMixin, BaseEstimator):
    """Apply a scikit-learn scaler to the last (channel) axis of an n-d array.

    Every axis but the last is treated as observations: the array is reshaped to
    ``(-1, channels)``, ``scaler`` is fitted on that table, and the transformed
    table is reshaped back. On a ``(year, lat, lon, 12)`` stack of monthly maps,
    ``ChannelScaler(MinMaxScaler())`` is the per-month min-max scaling of seed 001
    (one minimum and maximum per calendar month, over all years and grid cells).
    NaN (land) cells pass through as NaN when the wrapped scaler allows them
    (scikit-learn's scalers ignore NaN in ``fit`` and keep them in ``transform``).

    Parameters
    ----------
    scaler : estimator, default=None
        A transformer with ``fit``/``transform`` (and ``inverse_transform`` for
        :meth:`inverse_transform`); ``None`` means
        :class:`~sklearn.preprocessing.MinMaxScaler`. It is cloned in ``fit``.

    Attributes
    ----------
    scaler_ : estimator
        The fitted clone of ``scaler``.
    n_channels_ : int
        Size of the last axis seen in ``fit``.
    n_features_in_ : int
        Size of the second axis of the input (scikit-learn's convention for n-d
        input); the scaling itself is per channel.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skdsc.preprocessing import ChannelScaler
    >>> X = np.random.default_rng(0).gamma(2.0, size=(5, 4, 3, 12))
    >>> Xs = ChannelScaler(MinMaxScaler()).fit_transform(X)
    >>> Xs.shape, float(Xs[..., 3].min()), float(Xs[..., 3].max())
    ((5, 4, 3, 12), 0.0, 1.0)
    """

    _parameter_constraints = {
        "scaler": [HasMethods(["fit", "transform"]), None],
    }

    def __init__(self, scaler=None):
        self.scaler = scaler

    def _table(self, X, reset):
        values = X.data if isinstance(X, xr.DataArray) else X
        values = validate_data(
            self, values, allow_nd=True, ensure_all_finite="allow-nan",
            dtype=[np.float64, np.float32], ensure_min_features=1, reset=reset,
        )
        if values.ndim < 2:
            raise ValueError("ChannelScaler expects an array with at least 2 dimensions.")
        if not reset and values.shape[-1] != self.n_channels_:
            raise ValueError(
                f"X has {values.shape[-1]} channels (last axis); ChannelScaler was fitted "
                f"with {self.n_channels_}."
            )
        return values

    @staticmethod
    def _rewrap(X, out):
        if isinstance(X, xr.DataArray):
            return X.copy(data=out)
        return out

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the wrapped scaler on all entries of each channel.

        Parameters
        ----------
        X : array-like or xarray.DataArray of shape (n_samples, ..., channels)
            Data; NaN allowed when the wrapped scaler allows it.
        y : None
            Ignored.

        Returns
        -------
        self : ChannelScaler
        """
        values = self._table(X, reset=True)
        self.n_channels_ = values.shape[-1]
        from sklearn.preprocessing import MinMaxScaler

        base = MinMaxScaler() if self.scaler is None else self.scaler
        self.scaler_ = clone(base).fit(values.reshape(-1, self.n_channels_))
        return self

    def transform(self, X):
        """Scale each channel with the fitted scaler; same shape (and coords) as ``X``."""
        check_is_fitted(self)
        values = self._table(X, reset=False)
        out = self.scaler_.transform(values.reshape(-1, self.n_channels_))
        return self._rewrap(X, np.asarray(out).reshape(values.shape))

    def inverse_transform(self, X):
        """Undo :meth:`transform` channel by channel."""
        check_is_fitted(self)
        values = self._table(X, reset=False)
        out = self.scaler_.inverse_transform(values.reshape(-1, self.n_channels_))
        return self._rewrap(X, np.asarray(out).reshape(values.shape))

    def __sklearn_tags__(self):
        from sklearn.preprocessing import MinMaxScaler
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        base = MinMaxScaler() if self.scaler is None else self.scaler
        tags.input_tags.allow_nan = get_tags(base).input_tags.allow_nan
        return tags


def _vote_weights(weighting, sigma, patch_size):
    """Per-cell weights ``(ph, pw)`` of a patch's vote (see :func:`patches_to_grid`)."""
    ph, pw = patch_size
    if isinstance(weighting, str):
        if weighting == "uniform":
            return np.ones((ph, pw))
        if weighting != "gaussian":
            raise ValueError(
                f"weighting must be 'uniform', 'gaussian' or an array of shape {(ph, pw)}, "
                f"got {weighting!r}."
            )
        if sigma is None:
            sr, sc = ph / 4.0, pw / 4.0
        else:
            sr, sc = (sigma, sigma) if isinstance(sigma, Real) else tuple(sigma)
        if not all(isinstance(v, Real) and np.isfinite(v) and v > 0 for v in (sr, sc)):
            raise ValueError(f"sigma must be a positive number or pair of numbers, got {sigma!r}.")
        dr = np.arange(ph) - (ph - 1) / 2.0
        dc = np.arange(pw) - (pw - 1) / 2.0
        return np.exp(-dr[:, None] ** 2 / (2 * sr**2) - dc[None, :] ** 2 / (2 * sc**2))
    w = np.asarray(weighting, dtype=np.float64)
    if w.shape != (ph, pw):
        raise ValueError(f"weighting array has shape {w.shape}, expected the patch size {(ph, pw)}.")
    if not np.all(np.isfinite(w)) or (w < 0).any() or not (w > 0).any():
        raise ValueError("weighting must be finite, non-negative and not all zero.")
    return w


# --------------------------------------------------------------------------- #
# Majority vote of patch labels onto grid cells
# --------------------------------------------------------------------------- #
def patches_to_grid(
    patch_labels,
    origins,
    grid_shape,
    patch_size,
    n_clusters=None,
    mask=None,
    coords=None,
    chunk_size=16384,
    weighting="uniform",
    sigma=None,
):
    """Vote patch labels back onto the grid cells they cover.

    Every patch adds one vote for its label to each of the ``ph * pw`` cells it
    covers (or, when ``patch_labels`` are soft assignments of shape
    ``(n_patches, n_clusters)``, adds its probability row). Patches of different
    samples (e.g. the years of seed 001) are pooled: the sample index in
    ``origins`` is ignored, only the row/column offsets matter, so a cell's vote
    collects every patch of every sample that covers it.

    ``weighting`` says how much a patch's vote counts at each cell it covers.
    ``"uniform"`` (seed 001) gives every covered cell the same weight 1, so a
    cell next to a region boundary gets as many votes from patches that mostly
    lie in the neighbouring region as from patches centred on it.
    ``"gaussian"`` multiplies the vote by ``exp(-d_r^2 / (2 sigma_r^2) - d_c^2 /
    (2 sigma_c^2))``, ``d`` the row/column offset of the cell from the patch
    centre: a patch's label describes the patch as a whole and is most
    representative of its centre. With patches labelled by their majority
    planted region (a perfect patch clusterer) on
    ``make_spatiotemporal_regimes(n_regions=4)`` maps, 8 x 8 patches, stride
    2, the map's ARI is 0.85 (32 x 32 grid) / 0.94 (68 x 66) with uniform
    weights and 0.91 / 0.96 with Gaussian weights, ``sigma = 2`` (3 data
    seeds, ``benchmarks/cae_planted_regions.py``). An array of shape
    ``(ph, pw)`` gives the weights directly.

    Parameters
    ----------
    patch_labels : array-like of shape (n_patches,) or (n_patches, n_clusters)
        Hard labels in ``0 .. n_clusters - 1`` or soft assignments (non-negative
        rows; each row is one patch's weight spread over the clusters).
    origins : array-like of int of shape (n_patches, 2) or (n_patches, 3)
        Top-left corner of each patch as ``(row, col)`` or ``(sample, row, col)``
        (the layout of :meth:`PatchExtractor.patch_origins`).
    grid_shape : tuple of int (n_lat, n_lon)
        Shape of the grid.
    patch_size : int or tuple of int (ph, pw)
        Patch height and width.
    n_clusters : int, default=None
        Number of clusters; ``None`` means ``max(patch_labels) + 1`` (hard labels)
        or the number of columns (soft assignments).
    mask : array-like of bool of shape grid_shape, default=None
        True on cells to exclude (e.g. land in a sea-surface field, the
        ``mask_`` of a fitted :class:`PatchExtractor`).
    coords : dict, default=None
        Coordinates of the two grid dimensions, ``{lat_name: values, lon_name:
        values}`` in grid order; when given, both outputs are ``DataArray``s with
        these coordinates (and a ``cluster`` dimension for the memberships).
    chunk_size : int, default=16384
        Number of patches accumulated at once (bounds the memory of the vote).
    weighting : {"uniform", "gaussian"} or array-like of shape (ph, pw), default="uniform"
        Weight of a patch's vote at each of its cells, see above (non-negative,
        not all zero; a cell that only zero weights reach counts as uncovered).
    sigma : float or pair of float, default=None
        Standard deviation in cells of the ``"gaussian"`` weights along rows and
        columns; ``None`` means a quarter of the patch size (2 for 8 x 8
        patches). Ignored otherwise.

    Returns
    -------
    label_map : ndarray of int of shape (n_lat, n_lon)
        Majority label of each cell. Ties are broken towards the smallest label.
        Cells covered by no patch and masked cells are -1.
    memberships : ndarray of float of shape (n_lat, n_lon, n_clusters)
        Fuzzy memberships: the (weighted) share of the votes of the covering
        patches that went to each cluster; rows sum to 1 on valid cells and are
        NaN on uncovered or masked cells.

    Examples
    --------
    >>> import numpy as np
    >>> from skdsc.preprocessing import patches_to_grid
    >>> origins = np.array([[0, 0], [0, 1], [0, 2]])
    >>> labels, share = patches_to_grid([0, 1, 1], origins, (2, 4), patch_size=2)
    >>> labels
    array([[0, 0, 1, 1],
           [0, 0, 1, 1]])
    >>> share[:, 1, 1]
    array([0.5, 0.5])
    >>> w = [[1.0, 0.0], [1.0, 0.0]]                  # a patch only votes for its left column
    >>> patches_to_grid([0, 1, 1], origins, (2, 4), patch_size=2, weighting=w)[0]
    array([[ 0,  1,  1, -1],
           [ 0,  1,  1, -1]])
    """
    ph, pw = _pair(patch_size, "patch_size")
    grid_shape = tuple(int(s) for s in grid_shape)
    if len(grid_shape) != 2:
        raise ValueError(f"grid_shape must be (n_lat, n_lon), got {grid_shape!r}.")
    n_lat, n_lon = grid_shape
    labels = np.asarray(patch_labels)
    origins = np.asarray(origins)
    if origins.ndim != 2 or origins.shape[1] not in (2, 3):
        raise ValueError(
            f"origins must have shape (n_patches, 2) or (n_patches, 3), got {origins.shape}."
        )
    if not np.issubdtype(origins.dtype, np.integer):
        raise ValueError("origins must be integers.")
    rows, cols = origins[:, -2], origins[:, -1]
    n_patches = origins.shape[0]
    if labels.shape[0] != n_patches:
        raise ValueError(
            f"patch_labels has {labels.shape[0]} entries but origins has {n_patches} rows."
        )
    if n_patches and (
        rows.min() < 0 or cols.min() < 0 or rows.max() + ph > n_lat or cols.max() + pw > n_lon
    ):
        raise ValueError(
            f"Some patches of size {(ph, pw)} at the given origins fall outside the grid "
            f"{grid_shape}."
        )
    soft = labels.ndim == 2
    if soft:
        labels = labels.astype(np.float64)
        if not np.all(np.isfinite(labels)) or (labels < 0).any():
            raise ValueError("Soft patch assignments must be finite and non-negative.")
        k = labels.shape[1] if n_clusters is None else int(n_clusters)
        if labels.shape[1] != k:
            raise ValueError(
                f"patch_labels has {labels.shape[1]} columns but n_clusters={n_clusters}."
            )
    elif labels.ndim == 1:
        if not np.issubdtype(labels.dtype, np.integer):
            if not np.all(np.equal(np.mod(labels, 1), 0)):
                raise ValueError("Hard patch labels must be integers.")
            labels = labels.astype(np.int64)
        if n_patches and labels.min() < 0:
            raise ValueError(
                "Hard patch labels must be non-negative (drop unassigned patches before voting)."
            )
        k = (int(labels.max()) + 1 if n_patches else 1) if n_clusters is None else int(n_clusters)
        if n_patches and labels.max() >= k:
            raise ValueError(f"A patch label ({labels.max()}) is >= n_clusters={k}.")
    else:
        raise ValueError("patch_labels must be 1D (hard labels) or 2D (soft assignments).")

    cell_w = _vote_weights(weighting, sigma, (ph, pw)).ravel()  # (ph*pw,)
    uniform = bool(np.all(cell_w == 1.0))
    n_cells = n_lat * n_lon
    votes = np.zeros(n_cells * k, dtype=np.float64)
    offsets = (np.arange(ph)[:, None] * n_lon + np.arange(pw)[None, :]).ravel()
    for start in range(0, n_patches, chunk_size):
        sl = slice(start, start + chunk_size)
        corner = rows[sl].astype(np.int64) * n_lon + cols[sl]
        cells = corner[:, None] + offsets[None, :]  # (chunk, ph*pw)
        if soft:
            flat_cells = cells.ravel()
            for j in range(k):  # loop over clusters (few), never over patches
                w = (labels[sl, j][:, None] * cell_w[None, :]).ravel()
                votes[j::k] += np.bincount(flat_cells, weights=w, minlength=n_cells)
        else:
            idx = cells * k + labels[sl][:, None]
            w = None if uniform else np.broadcast_to(cell_w, idx.shape).ravel()
            votes += np.bincount(idx.ravel(), weights=w, minlength=votes.size)
    votes = votes.reshape(n_lat, n_lon, k)
    total = votes.sum(axis=-1)
    invalid = total <= 0
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != grid_shape:
            raise ValueError(f"mask has shape {mask.shape}, expected {grid_shape}.")
        invalid = invalid | mask
    with np.errstate(invalid="ignore", divide="ignore"):
        memberships = votes / total[..., None]
    memberships[invalid] = np.nan
    label_map = np.argmax(votes, axis=-1)  # first maximum: smallest label on ties
    label_map[invalid] = -1
    if coords is None:
        return label_map, memberships
    dims = tuple(coords)
    if len(dims) != 2:
        raise ValueError("coords must name exactly the two grid dimensions.")
    label_da = xr.DataArray(label_map, dims=dims, coords=coords, name="label")
    member_da = xr.DataArray(
        memberships,
        dims=(*dims, "cluster"),
        coords={**coords, "cluster": np.arange(k)},
        name="membership",
    )
    return label_da, member_da


# --------------------------------------------------------------------------- #
# Patch extraction
# --------------------------------------------------------------------------- #
class PatchExtractor(TransformerMixin, BaseEstimator):
    """Cut gridded fields into spatial patches and remember where they came from.

    Input ``(n_samples, lat, lon)`` gives one channel, ``(n_samples, lat, lon,
    var)`` gives ``var`` channels; a yearly stack of monthly maps from
    :func:`stack_time_as_channels` gives 12. Patches are windows of
    ``patch_size`` whose top-left corners lie on a lattice of step ``stride``;
    every sample contributes its patches in row-major order of the corners.
    On the seed-001 grid (68 x 66, 8 x 8 patches, stride 2) that is 31 x 30 = 930
    patches per year, 15810 for the 17 training years.

    Missing values: a cell that is NaN in every sample and every channel of the
    data seen in ``fit`` belongs to the land mask ``mask_``. ``nan_policy``
    decides what happens to patches containing NaN:

    * ``"fill"`` keeps every patch and replaces NaN by ``fill_value`` (the
      patch layout is then the same for every sample);
    * ``"drop"`` drops, sample by sample, every patch that contains a NaN in any
      channel (the kept patches' origins say which ones remain).

    Parameters
    ----------
    patch_size : int or tuple of int (ph, pw), default=(8, 8)
        Patch height and width in grid cells.
    stride : int or tuple of int, default=2
        Step between the corners of neighbouring patches.
    nan_policy : {"fill", "drop"}, default="fill"
        Treatment of patches that contain NaN, see above.
    fill_value : float, default=0.0
        Replacement of NaN with ``nan_policy="fill"``.
    cover_edges : bool, default=False
        If True and ``(lat - ph)`` (or ``(lon - pw)``) is not a multiple of the
        stride, one more row (column) of patches flush with the last grid row
        (column) is added, so that every cell is covered. False gives the plain
        strided lattice (the seed's layout); uncovered cells then get label -1 in
        :meth:`labels_to_grid`.
    sample_dim : str, default=None
        Name of the sample dimension of a ``DataArray`` input (default its first
        dimension); the next two dimensions are the grid.

    Attributes
    ----------
    grid_shape_ : tuple of int
        ``(lat, lon)`` seen in ``fit``.
    n_channels_ : int
        Number of channels.
    mask_ : ndarray of bool of shape ``grid_shape_``
        Land mask: cells NaN in every sample and channel of the fit data.
    patch_size_ : tuple of int
        ``(ph, pw)``.
    row_starts_, col_starts_ : ndarray of int
        Corner offsets of the patch lattice.
    origins_ : ndarray of int of shape (n_patches, 3)
        ``(sample, row, col)`` of each patch of the fit data, in the order
        :meth:`transform` returns them.
    grid_coords_ : dict or None
        Coordinates of the two grid dimensions when the fit input was a
        ``DataArray`` (used by :meth:`labels_to_grid`).
    n_features_in_ : int
        Size of the second axis of the input (scikit-learn's convention for n-d
        input).

    Examples
    --------
    >>> import numpy as np
    >>> from skdsc.preprocessing import PatchExtractor
    >>> X = np.random.default_rng(0).random((2, 10, 9, 12))  # 2 years, 12 months
    >>> pe = PatchExtractor(patch_size=(4, 4), stride=2)
    >>> patches = pe.fit_transform(X)
    >>> patches.shape, patches.dtype
    ((24, 4, 4, 12), dtype('float32'))
    >>> pe.origins_[13]                                 # (sample, row, col)
    array([1, 0, 2])
    >>> label_map, memberships = pe.labels_to_grid(np.arange(24) % 3)
    >>> label_map.shape, memberships.shape
    ((10, 9), (10, 9, 3))
    """

    _parameter_constraints = {
        "patch_size": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "stride": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "nan_policy": [StrOptions({"fill", "drop"})],
        "fill_value": [Real],
        "cover_edges": ["boolean"],
        "sample_dim": [str, None],
    }

    def __init__(
        self,
        patch_size=(8, 8),
        stride=2,
        nan_policy="fill",
        fill_value=0.0,
        cover_edges=False,
        sample_dim=None,
    ):
        self.patch_size = patch_size
        self.stride = stride
        self.nan_policy = nan_policy
        self.fill_value = fill_value
        self.cover_edges = cover_edges
        self.sample_dim = sample_dim

    # -- helpers ------------------------------------------------------------
    def _as_4d(self, X, reset):
        values, info = unwrap_samples(X, sample_dim=self.sample_dim)
        shape = np.shape(values)
        if not reset and len(shape) in (3, 4) and tuple(shape[1:3]) != self.grid_shape_:
            raise ValueError(
                f"X has grid shape {tuple(shape[1:3])}; PatchExtractor was fitted on "
                f"{self.grid_shape_}."
            )
        values = validate_data(
            self, values, allow_nd=True, ensure_all_finite="allow-nan",
            dtype=[np.float32, np.float64], ensure_min_features=1, reset=reset,
        )
        if values.ndim == 3:
            values = values[..., None]
        if values.ndim != 4:
            raise ValueError(
                "PatchExtractor expects (n_samples, lat, lon) or (n_samples, lat, lon, var) "
                f"data, got an array with {values.ndim} dimensions."
            )
        if not reset:
            if values.shape[1:3] != self.grid_shape_:
                raise ValueError(
                    f"X has grid shape {values.shape[1:3]}; PatchExtractor was fitted on "
                    f"{self.grid_shape_}."
                )
            if values.shape[3] != self.n_channels_:
                raise ValueError(
                    f"X has {values.shape[3]} channels; PatchExtractor was fitted with "
                    f"{self.n_channels_}."
                )
        return values, info

    def _keep(self, values):
        """Boolean (n_samples, n_rows, n_cols) of the patches kept."""
        n = values.shape[0]
        shape = (n, self.row_starts_.size, self.col_starts_.size)
        if self.nan_policy == "fill":
            return np.ones(shape, dtype=bool)
        bad_cell = np.isnan(values).any(axis=-1)  # (n, lat, lon)
        ph, pw = self.patch_size_
        # integral image: NaN count inside each window
        csum = np.zeros((n, bad_cell.shape[1] + 1, bad_cell.shape[2] + 1), dtype=np.int64)
        csum[:, 1:, 1:] = bad_cell.cumsum(axis=1).cumsum(axis=2)
        r0, c0 = self.row_starts_[:, None], self.col_starts_[None, :]
        count = (
            csum[:, r0 + ph, c0 + pw] - csum[:, r0, c0 + pw]
            - csum[:, r0 + ph, c0] + csum[:, r0, c0]
        )
        return count == 0

    # -- API ----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the grid, the land mask and the patch lattice.

        Parameters
        ----------
        X : array-like or xarray.DataArray of shape (n_samples, lat, lon[, var])
            Gridded data; NaN marks missing cells.
        y : None
            Ignored.

        Returns
        -------
        self : PatchExtractor
        """
        values, info = self._as_4d(X, reset=True)
        self.patch_size_ = _pair(self.patch_size, "patch_size")
        stride = _pair(self.stride, "stride")
        ph, pw = self.patch_size_
        n_lat, n_lon = values.shape[1:3]
        if ph > n_lat or pw > n_lon:
            raise ValueError(
                f"patch_size={self.patch_size_} is larger than the grid ({n_lat}, {n_lon})."
            )
        self.grid_shape_ = (n_lat, n_lon)
        self.n_channels_ = values.shape[3]
        self.row_starts_ = _window_starts(n_lat, ph, stride[0], self.cover_edges)
        self.col_starts_ = _window_starts(n_lon, pw, stride[1], self.cover_edges)
        self.mask_ = np.isnan(values).all(axis=(0, 3))
        self.grid_coords_ = None
        if info is not None:
            grid_dims = info.feature_dims[:2]
            self.grid_coords_ = {
                d: (info.feature_coords[d].values if d in info.feature_coords
                    else np.arange(s))
                for d, s in zip(grid_dims, (n_lat, n_lon))
            }
        self.origins_ = self._origins(values)
        return self

    def _origins(self, values):
        keep = self._keep(values)
        s, r, c = np.nonzero(keep)
        return np.stack([s, self.row_starts_[r], self.col_starts_[c]], axis=1)

    def patch_origins(self, X):
        """Return ``(sample, row, col)`` of each patch :meth:`transform` cuts from ``X``.

        Parameters
        ----------
        X : array-like or xarray.DataArray of shape (n_samples, lat, lon[, var])

        Returns
        -------
        origins : ndarray of int of shape (n_patches, 3)
            Sample index and top-left grid cell of every patch, in output order.
        """
        check_is_fitted(self)
        values, _ = self._as_4d(X, reset=False)
        return self._origins(values)

    def transform(self, X):
        """Cut the patches.

        Parameters
        ----------
        X : array-like or xarray.DataArray of shape (n_samples, lat, lon[, var])

        Returns
        -------
        patches : ndarray of float32 of shape (n_patches, ph, pw, channels)
            In the order of :meth:`patch_origins` (sample, then patch row, then
            patch column).
        """
        check_is_fitted(self)
        values, _ = self._as_4d(X, reset=False)
        ph, pw = self.patch_size_
        # (n, lat - ph + 1, lon - pw + 1, ph, pw, C): a strided view, nothing copied
        win = sliding_window_view(values, (ph, pw), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3)
        s, ri, ci = np.nonzero(self._keep(values))
        # one gather of the kept patches: the only copy (no second one for float32 input)
        patches = win[s, self.row_starts_[ri], self.col_starts_[ci]].astype(np.float32, copy=False)
        if self.nan_policy == "fill":
            np.nan_to_num(patches, copy=False, nan=self.fill_value)
        return patches

    def labels_to_grid(self, patch_labels, origins=None, n_clusters=None, weighting="uniform",
                       sigma=None):
        """Majority vote of patch labels onto the fitted grid (see :func:`patches_to_grid`).

        Patches of all samples are pooled; land cells (``mask_``) and uncovered
        cells get label -1 and NaN memberships.

        Parameters
        ----------
        patch_labels : array-like of shape (n_patches,) or (n_patches, n_clusters)
            Labels (or soft assignments) of the patches.
        origins : array-like of shape (n_patches, 3), default=None
            Their origins; ``None`` means ``origins_`` (the patches of the fit data).
        n_clusters : int, default=None
            Number of clusters, see :func:`patches_to_grid`.
        weighting : {"uniform", "gaussian"} or array-like of shape (ph, pw), default="uniform"
            Weight of a patch's vote at each of its cells, see :func:`patches_to_grid`.
        sigma : float or pair of float, default=None
            Width of the ``"gaussian"`` weights (default a quarter of the patch size).

        Returns
        -------
        label_map : ndarray or xarray.DataArray of shape (lat, lon)
        memberships : ndarray or xarray.DataArray of shape (lat, lon, n_clusters)
            ``DataArray``s with the grid coordinates when ``fit`` saw a ``DataArray``.
        """
        check_is_fitted(self)
        origins = self.origins_ if origins is None else origins
        return patches_to_grid(
            patch_labels, origins, self.grid_shape_, self.patch_size_, n_clusters=n_clusters,
            mask=self.mask_, coords=self.grid_coords_, weighting=weighting, sigma=sigma,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
