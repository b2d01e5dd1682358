"""
k-medoids of grid cells with KS and correlation distances
=========================================================

Seed 001 clusters the grid cells of a precipitation field by their monthly series
with k-medoids, once with ``d = 1 - Pearson r`` (cells that co-vary) and once with
the Kolmogorov-Smirnov distance between the empirical distributions of their values
(cells with the same climate statistics, whatever their timing), and picks the number
of clusters from a scree plot.

Here the field is the winter (NDJFM) Pacific sea-surface-temperature anomaly shipped
with the ``eofs`` package (optional; a synthetic field is used when it is missing).
:class:`~skdsc.cluster.KMedoidsKS` takes the ``(time, latitude, longitude)``
DataArray directly with ``time_dim="time"``: land cells (all-NaN) are skipped and the
labels come back as a map with the field's coordinates.
:func:`~skdsc.model_selection.scree_curve` computes the inertia over a range of ``k``
on one shared distance matrix and chooses the elbow.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from skdsc.cluster import KMedoidsKS
from skdsc.model_selection import plot_scree, scree_curve


def load_field():
    try:
        import eofs

        path = Path(eofs.__file__).parent / "examples" / "example_data" / "sst_ndjfm_anom.nc"
        return xr.open_dataset(path)["sst"].load()
    except (ImportError, FileNotFoundError, OSError):
        # stand-in: two regimes with different variability, a land block of NaN
        rng = np.random.RandomState(0)
        t, lat, lon = 50, np.arange(-20, 65, 5.0), np.arange(120, 265, 5.0)
        amp = 0.3 + (lat[:, None] > 20) * 0.8 + 0 * lon[None, :]
        sst = rng.normal(size=(t, lat.size, lon.size)) * amp
        sst[:, -4:, -6:] = np.nan
        return xr.DataArray(sst, dims=("time", "latitude", "longitude"),
                            coords={"latitude": lat, "longitude": lon}, name="sst")


sst = load_field()
maps, screes = {}, {}
for metric in ("correlation", "ks"):
    screes[metric] = scree_curve(sst, range(2, 9), metric=metric, time_dim="time",
                                 random_state=0)
    km = KMedoidsKS(n_clusters=4, metric=metric, time_dim="time", random_state=0)
    maps[metric] = km.fit_predict(sst)
    print(f"{metric:>11}: inertia {km.inertia_:.2f}, elbow of the scree curve "
          f"k={screes[metric].elbow}, cells clustered {int(km.cell_mask_.sum())}")

fig, axes = plt.subplots(2, 2, figsize=(11, 7), constrained_layout=True)
for col, metric in enumerate(("correlation", "ks")):
    lab = maps[metric].where(maps[metric] >= 0)  # land (-1) left blank
    lab.plot(ax=axes[0, col], cmap="tab10", vmin=-0.5, vmax=9.5, add_colorbar=False)
    axes[0, col].set_title(f"k-medoids, {'1 - Pearson r' if metric == 'correlation' else 'KS'}"
                           " distance, k = 4")
    plot_scree(screes[metric], ax=axes[1, col])
    axes[1, col].set_title(f"scree curve ({metric})")
plt.show()
