"""Gridded multivariate fields driven by persistent regimes (climate-like)."""

from numbers import Integral, Real

import numpy as np
from scipy import special, stats
from scipy.ndimage import gaussian_filter
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from ._fields import grow_blob, power_voronoi, smooth_field

__all__ = ["make_spatiotemporal_regimes"]


def _markov_regimes(rng, n_times, n_regimes, persistence):
    """Sticky Markov chain: stay with probability ``persistence``, else jump uniformly."""
    start = rng.randint(n_regimes)
    if n_regimes == 1:
        return np.zeros(n_times, dtype=np.int64)
    switch = rng.random(n_times) >= persistence
    switch[0] = False
    jump = rng.randint(1, n_regimes, size=n_times) * switch
    return ((start + np.cumsum(jump)) % n_regimes).astype(np.int64)


def _ar1(rng, shape, phi):
    """Unit-variance AR(1) series along axis 0."""
    e = rng.standard_normal(shape)
    out = np.empty(shape)
    out[0] = e[0]
    innov = np.sqrt(1.0 - phi**2)
    for t in range(1, shape[0]):
        out[t] = phi * out[t - 1] + innov * e[t]
    return out


@validate_params(
    {
        "n_times": [Interval(Integral, 1, None, closed="left")],
        "grid_shape": [tuple, list],
        "n_variables": [Interval(Integral, 1, None, closed="left")],
        "n_regimes": [Interval(Integral, 1, None, closed="left")],
        "persistence": [Interval(Real, 0, 1, closed="both")],
        "seasonality": [Interval(Real, 0, None, closed="left")],
        "season_length": [Interval(Real, 0, None, closed="neither")],
        "amplitude_jitter": [Interval(Real, 0, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "land_fraction": [Interval(Real, 0, 1, closed="left")],
        "n_regions": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "return_dataarray": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_spatiotemporal_regimes(
    n_times=365,
    grid_shape=(24, 24),
    n_variables=3,
    n_regimes=4,
    persistence=0.9,
    seasonality=0.8,
    season_length=365.0,
    amplitude_jitter=0.4,
    noise=2.0,
    land_fraction=0.0,
    n_regions=None,
    random_state=None,
    return_dataarray=False,
):
    """Generate a ``(time, lat, lon, variable)`` field whose time steps follow regimes.

    Generative model (grid cell ``p``, variable ``v``, time step ``t``):

    * **Regimes.** ``y_t`` is a sticky Markov chain over ``K = n_regimes``
      states: ``y_0`` uniform; ``y_t = y_{t-1}`` with probability
      ``persistence``, otherwise a uniformly chosen *other* regime.
    * **Regime patterns.** ``P_{k,v}(p)``: a zero-mean, unit-std smooth field
      (three Gaussian bumps with random signs, centres and widths plus a
      low-frequency plane wave), drawn independently per regime and variable.
    * **Climatology.** ``M_v(p)`` (smooth, unit std) and a seasonal cycle
      ``seasonality * A_v(p) * sin(2 pi t / season_length + phi_v)`` with
      ``A_v = 1 + 0.5 * smooth field``, shared by all regimes.
    * **Amplitude.** ``a_t = |1 + amplitude_jitter * N(0, 1)|``: the regime
      pattern is expressed more or less strongly on each step.
    * **Weather noise.** ``noise * eps`` with ``eps`` a spatially correlated
      Gaussian field (white noise smoothed by a Gaussian of 1.5 cells and
      rescaled to unit std, so that one weather event spans several cells), AR(1)
      in time with coefficient 0.5, plus 20 % independent white noise.

    ``X[t, p, v] = M_v(p) + seasonal_v(t, p) + a_t P_{y_t, v}(p) + noise * eps``.
    The defaults are meant to be hard but feasible: KMeans on the flattened
    field recovers the regimes only partly (the seasonal cycle and the weather
    noise compete with the regime signal; ARI 0.70 +- 0.08 over seeds 0-2,
    ``tests/datasets/difficulty.py``).

    **Land mask** (``land_fraction > 0``): a 4-connected blob of
    ``round(land_fraction * lat * lon)`` cells, NaN at every time step in every
    variable.

    **Regions** (``n_regions`` given): a second, spatial ground truth. The
    (non-land) grid is partitioned into the Voronoi cells of ``n_regions``
    random sites (each region is one connected convex piece, possibly cut by
    land), and variable 0 is replaced by a precipitation-like, non-negative
    variable whose per-cell series have a region-specific distribution:

    * ``z_t(p) = sqrt(rho) d_{r(p)}(t) + sqrt(1 - rho) w_t(p)`` with
      ``rho = 0.4``, ``d_r`` a unit-variance AR(1) regional driver (coefficient
      0.5; cells of a region are correlated in time) and ``w`` white noise;
    * the regime enters as ``z'_t = (z_t + 0.5 a_t P_{y_t,0}) / sqrt(1 + 0.25 a_t^2 P^2)``;
    * ``precip_t(p) = theta_r (1 + s_r sin(2 pi t / season_length + psi_r))
      G^{-1}_{kappa_r}(Phi(z'_t(p)))`` with ``G_kappa`` the CDF of a Gamma of shape
      ``kappa``: region ``r`` has its own shape ``kappa_r`` (skewness; values
      spread over ``[0.6, 4]``), scale ``theta_r`` (mean and variance; spread
      over ``[0.5, 2]``), seasonal amplitude ``s_r ~ U(0, 0.8)`` and phase ``psi_r``.

    Regions are recovered by clustering the grid cells by the distribution
    (e.g. Kolmogorov-Smirnov distance) or the correlation of their series.

    Parameters
    ----------
    n_times : int, default=365
        Number of time steps (samples).
    grid_shape : tuple of int (lat, lon), default=(24, 24)
    n_variables : int, default=3
    n_regimes : int, default=4
    persistence : float in [0, 1], default=0.9
        Probability of staying in the current regime (mean spell length
        ``1 / (1 - persistence)`` steps).
    seasonality : float, default=0.8
        Amplitude of the seasonal cycle relative to the unit-std patterns.
    season_length : float, default=365.0
        Period of the seasonal cycle in time steps (12 for monthly data).
    amplitude_jitter : float, default=0.4
        Spread of the per-step amplitude of the regime pattern.
    noise : float, default=2.0
        Standard deviation of the weather noise.
    land_fraction : float in [0, 1), default=0.0
        Share of grid cells masked as land (NaN).
    n_regions : int, default=None
        Plant a spatial partition into this many regions (see above).
    random_state : int, RandomState instance or None, default=None
        Seed; the same value gives identical arrays.
    return_dataarray : bool, default=False
        Return ``xarray.DataArray``s: ``X`` with dims ``(time, lat, lon,
        variable)`` and coordinates (daily dates from 2000-01-01, latitudes and
        longitudes on a 0.25 degree grid, variable names ``"var0"``, ...; the
        precipitation-like variable is named ``"precip"``), ``y`` over ``time``
        and the region map over ``(lat, lon)``.

    Returns
    -------
    X : ndarray of float32 of shape (n_times, lat, lon, n_variables)
        The field; NaN on land.
    y : ndarray of int64 of shape (n_times,)
        Regime of each time step.
    regions : ndarray of int64 of shape (lat, lon)
        Only when ``n_regions`` is given: region of each cell, -1 on land.

    Examples
    --------
    >>> from skdsc.datasets import make_spatiotemporal_regimes
    >>> X, y = make_spatiotemporal_regimes(n_times=50, grid_shape=(10, 12),
    ...                                    land_fraction=0.2, random_state=0)
    >>> X.shape, X.dtype, y.shape
    ((50, 10, 12, 3), dtype('float32'), (50,))
    >>> X, y, regions = make_spatiotemporal_regimes(n_times=48, grid_shape=(10, 12),
    ...                                             n_regions=4, random_state=0)
    >>> regions.shape, sorted(set(regions.ravel().tolist()))
    ((10, 12), [0, 1, 2, 3])
    """
    grid_shape = tuple(int(s) for s in grid_shape)
    if len(grid_shape) != 2 or min(grid_shape) < 1:
        raise ValueError(f"grid_shape must be two positive ints, got {grid_shape!r}.")
    H, W = grid_shape
    n_land = int(round(land_fraction * H * W))
    if n_regions is not None and n_regions > H * W - n_land:
        raise ValueError(
            f"n_regions={n_regions} exceeds the number of non-land cells ({H * W - n_land})."
        )
    rng = check_random_state(random_state)
    V, K = n_variables, n_regimes
    t = np.arange(n_times)

    y = _markov_regimes(rng, n_times, K, persistence)
    patterns = np.stack(
        [np.stack([smooth_field(rng, grid_shape) for _ in range(V)], axis=-1) for _ in range(K)]
    )  # (K, H, W, V)
    clim = np.stack([smooth_field(rng, grid_shape) for _ in range(V)], axis=-1)
    season_amp = np.stack([1 + 0.5 * smooth_field(rng, grid_shape) for _ in range(V)], axis=-1)
    phase = rng.uniform(0, 2 * np.pi, V)
    season = np.sin(2 * np.pi * t[:, None] / season_length + phase[None, :])  # (T, V)
    amp = np.abs(1.0 + amplitude_jitter * rng.standard_normal(n_times))

    white = rng.standard_normal((n_times, H, W, V))
    smooth = gaussian_filter(white, sigma=(0, 1.5, 1.5, 0), mode="reflect")
    smooth /= smooth.std()
    for i in range(1, n_times):  # AR(1) in time, unit variance
        smooth[i] = 0.5 * smooth[i - 1] + np.sqrt(1 - 0.25) * smooth[i]
    eps = (smooth + 0.2 * rng.standard_normal(white.shape)) / np.sqrt(1.04)

    signal = amp[:, None, None, None] * patterns[y]
    X = (
        clim[None]
        + seasonality * season_amp[None] * season[:, None, None, :]
        + signal
        + noise * eps
    )

    land = grow_blob(rng, grid_shape, n_land)

    regions = None
    if n_regions is not None:
        regions = np.full(grid_shape, -1, dtype=np.int64)
        sea = ~land
        for _ in range(100):  # redraw while a region lies entirely under land
            part = power_voronoi(rng, grid_shape, n_regions)
            if np.unique(part[sea]).size == n_regions:
                break
        else:
            raise ValueError(
                f"Could not place {n_regions} regions on the {H * W - n_land} non-land cells."
            )
        regions[sea] = part[sea]
        shape_r = rng.permutation(np.linspace(0.6, 4.0, n_regions))
        scale_r = rng.permutation(np.linspace(0.5, 2.0, n_regions))
        seas_r = rng.uniform(0, 0.8, n_regions)
        psi_r = rng.uniform(0, 2 * np.pi, n_regions)
        rho = 0.4
        drivers = _ar1(rng, (n_times, n_regions), 0.5)
        reg = np.where(regions >= 0, regions, 0)
        z = np.sqrt(rho) * drivers[:, reg] + np.sqrt(1 - rho) * rng.standard_normal(
            (n_times, H, W)
        )
        s0 = 0.5 * signal[..., 0]
        z = (z + s0) / np.sqrt(1 + s0**2)
        u = np.clip(special.ndtr(z), 1e-12, 1 - 1e-12)
        precip = stats.gamma.ppf(u, shape_r[reg][None])
        cycle = 1 + seas_r[reg][None] * np.sin(
            2 * np.pi * t[:, None, None] / season_length + psi_r[reg][None]
        )
        X[..., 0] = scale_r[reg][None] * cycle * precip

    X[:, land, :] = np.nan
    X = X.astype(np.float32)

    if return_dataarray:
        import pandas as pd
        import xarray as xr

        lat = 35.0 + 0.25 * np.arange(H)
        lon = 5.0 + 0.25 * np.arange(W)
        names = [f"var{v}" for v in range(V)]
        if regions is not None:
            names[0] = "precip"
        time = pd.date_range("2000-01-01", periods=n_times, freq="D")
        X = xr.DataArray(
            X, dims=("time", "lat", "lon", "variable"),
            coords={"time": time, "lat": lat, "lon": lon, "variable": names}, name="field",
        )
        y = xr.DataArray(y, dims=("time",), coords={"time": time}, name="regime")
        if regions is not None:
            regions = xr.DataArray(
                regions, dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, name="region"
            )
    if regions is not None:
        return X, y, regions
    return X, y
