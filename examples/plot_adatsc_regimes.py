"""
Regimes of a spatiotemporal field with A-DATSC
==============================================

``ADATSCClustering`` clusters the time steps of a ``(time, lat, lon, variable)``
field. Here it runs on a synthetic year of daily fields with four planted
regimes (:func:`skdsc.datasets.make_spatiotemporal_regimes`), with the light
settings of ``skdsc demo`` (small filter widths instead of the seed's
64/128/256/512, a few epochs). The figure shows the regime time line (found and
planted) and the mean anomaly map of the first variable in each found cluster.
"""

import matplotlib.pyplot as plt
import numpy as np

from skdsc.cluster import ADATSCClustering
from skdsc.cluster._adatsc import DEMO_PARAMS
from skdsc.datasets import make_spatiotemporal_regimes
from skdsc.metrics import ari, matched_labels

X, y = make_spatiotemporal_regimes(random_state=0, return_dataarray=True)
k = int(np.unique(y).size)
model = ADATSCClustering(k, **DEMO_PARAMS, random_state=0)
labels = model.fit_predict(X)
found = matched_labels(y.values, labels.values)  # renumbered to match the planted regimes
print(f"ARI against the planted regimes: {ari(y.values, labels.values):.3f}")

# %%
# Time line and cluster-mean maps
# -------------------------------
anomaly = X.isel(variable=0) - X.isel(variable=0).mean("time")
fig = plt.figure(figsize=(10, 5.5), layout="constrained")
grid = fig.add_gridspec(2, k)
ax = fig.add_subplot(grid[0, :])
ax.step(X["time"].values, y.values + 0.1, where="mid", label="planted", color="0.6")
ax.step(X["time"].values, found, where="mid", label="A-DATSC", color="C3")
ax.set_yticks(range(k))
ax.set_ylabel("regime")
ax.legend(loc="upper right", ncols=2)
ax.set_title("Regime time line")
vmax = float(np.abs(anomaly).max()) / 3
for c in range(k):
    ax = fig.add_subplot(grid[1, c])
    sel = found == c
    mean = anomaly.isel(time=np.flatnonzero(sel)).mean("time") if sel.any() else anomaly.isel(time=0) * np.nan
    ax.pcolormesh(X["lon"], X["lat"], mean, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    ax.set_title(f"cluster {c} ({int(sel.sum())} days)")
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()
