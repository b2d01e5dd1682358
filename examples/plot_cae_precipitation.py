"""
Climate patterns from patches: clustering autoencoder vs k-medoids
===================================================================

The study of seed 001 clusters 8 x 8 patches of yearly stacks of monthly
precipitation maps with a clustering autoencoder (CAE), maps each grid cell to the
most frequent cluster of the patches covering it, and compares the map with
k-medoids of the grid cells' series under the Kolmogorov-Smirnov (KS) and the
correlation distance. Here the CAE sorts the patches into ``4 K`` patterns and
the grid cells are clustered into ``K`` by the mixture of patterns that covers
them over the years (the *pattern map* of
:func:`~skdsc.cluster.cluster_patches_to_map`), which maps planted regions far
better than ``K`` patch clusters and a majority vote
(``benchmarks/results/cae_planted_regions.md``).

Here the same workflow runs on a real field shipped with the ``eofs`` package
(optional extra, ``pip install eofs``): 65 winter (DJF) means of the 500 hPa
geopotential height over the North Atlantic, 1948-2012, on a 29 x 49 grid. There
are no months, so the 65 winters are stacked in blocks of 5 consecutive winters
as the channels of one sample (``period=5``): 13 samples of 29 x 49 x 5, the
first 10 (1948-1997) for training and the last 3 (1998-2012) for testing. When
``eofs`` is not installed, a synthetic monthly precipitation-like field with 4
planted regions (:func:`skdsc.datasets.make_spatiotemporal_regimes`) is used
instead, with the seed's 12-month stacks.

Panels: the CAE map of the training and of the test period, the CAE fuzzy
membership of each cluster (share of the covering patches whose pattern belongs
to the cluster), and the KS and
correlation k-medoids maps of the grid-cell series.
"""

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from skdsc.cluster import ClusteringAutoencoder, KMedoidsKS, cluster_patches_to_map

K = 4

try:
    from pathlib import Path

    import eofs

    path = Path(eofs.__file__).parent / "examples" / "example_data" / "hgt_djf.nc"
    field = xr.open_dataset(path)["z"].isel(pressure=0).load()
    field = field.rename(latitude="lat", longitude="lon")
    period, train, test, title = 5, slice(0, 9), slice(10, 12), "DJF 500 hPa height (eofs)"
except ImportError:
    from skdsc.datasets import make_spatiotemporal_regimes

    X, _, _ = make_spatiotemporal_regimes(n_times=12 * 20, grid_shape=(40, 40), n_variables=1,
                                          n_regions=K, season_length=12, random_state=0)
    field = xr.DataArray(X[..., 0], dims=("time", "lat", "lon"))
    period, train, test, title = 12, slice(0, 14), slice(15, 19), "synthetic precipitation"

# %%
# The CAE workflow: stacks, per-channel min-max scaling, 8 x 8 patches with
# stride 2, fit on the training period (the patches of one place in different
# years share their clustering target), predict the test period, vote the 4 K
# patterns back onto the grid and cluster the cells into K.
# Fewer epochs than the defaults keep the example quick on a CPU.
cae = ClusteringAutoencoder(4 * K, pretrain_epochs=15, max_epochs=30, random_state=0)
res = cluster_patches_to_map(field.values, cae, patch_size=8, stride=2, period=period,
                             train_years=train, test_years=test, n_clusters=K, random_state=0)
maps = res.maps

# %%
# k-medoids of the grid cells' series (all years), KS and correlation distance.
series = field.values.reshape(field.shape[0], -1).T
km = {m: KMedoidsKS(K, metric=m, random_state=0).fit(series).labels_.reshape(field.shape[1:])
      for m in ("ks", "correlation")}

# %%
fig, axes = plt.subplots(2, 4, figsize=(14, 6), constrained_layout=True)
panels = [("CAE, training period", maps["label_train"].values, "tab10"),
          ("CAE, test period", maps["label_test"].values, "tab10"),
          ("k-medoids, KS", km["ks"], "tab10"),
          ("k-medoids, correlation", km["correlation"], "tab10")]
for ax, (name, img, cmap) in zip(axes[0], panels):
    ax.imshow(np.ma.masked_less(img, 0), cmap=cmap, vmin=0, vmax=9, origin="lower")
    ax.set_title(name)
for j, ax in enumerate(axes[1]):
    im = ax.imshow(maps["membership_train"].values[..., j], cmap="viridis", vmin=0, vmax=1,
                   origin="lower")
    ax.set_title(f"CAE fuzzy membership, cluster {j}")
fig.colorbar(im, ax=axes[1], shrink=0.8)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(title)
plt.show()
