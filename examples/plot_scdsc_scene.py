"""
SCDSC on a synthetic hyperspectral scene
========================================

SCDSC clusters the pixels of a hyperspectral image by the patches around them: a
convolutional autoencoder embeds each 7 x 7 patch, every cluster is a subspace of
the embedding spanned by a few learned basis vectors, and training aligns each
pixel's soft assignment with its FINCH mini-cluster (non-local term) and with its
box-filtered neighbourhood (local term).

The cube comes from :func:`skdsc.datasets.make_hyperspectral_scene`; the seed's
preprocessing (standardise every band, PCA to 8 components) and SCDSC form one
scikit-learn pipeline on the flattened image, ``X`` of shape ``(H * W, bands)``
with ``image_shape=(H, W)``. Unlabelled pixels are masked out of the clustering
(they still give patch context). The figure shows a false-colour composite, the
ground truth and the SCDSC map side by side. A short schedule keeps the example
to a few minutes on a CPU (the paper trains 400 epochs); see
``benchmarks/scdsc_scenes.py`` for the ablations and baselines.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdsc.cluster import SCDSC
from skdsc.datasets import make_hyperspectral_scene
from skdsc.metrics import matched_labels, nmi, overall_accuracy

H, W, BANDS, K = 24, 24, 60, 5
cube, truth = make_hyperspectral_scene((H, W), n_bands=BANDS, n_classes=K, noise=0.03,
                                       unlabelled_fraction=0.15, random_state=0)
mask = truth >= 0

scdsc = SCDSC(n_clusters=K, image_shape=(H, W), pretrain_epochs=5, max_epochs=10, batch_size=128,
              n_init=10, random_state=0)
pipe = make_pipeline(StandardScaler(), PCA(8), scdsc)
pipe.fit(cube.reshape(-1, BANDS), scdsc__mask=mask)
labels = scdsc.labels_.reshape(H, W)
print(f"OA {overall_accuracy(truth[mask], labels[mask]):.3f}  NMI {nmi(truth[mask], labels[mask]):.3f}  "
      f"({scdsc.n_miniclusters_} FINCH mini-clusters)")

# false colour: three bands spread over the spectrum, each stretched to [0, 1]
rgb = cube[..., [int(0.8 * BANDS), int(0.5 * BANDS), int(0.2 * BANDS)]]
rgb = (rgb - rgb.min((0, 1))) / np.ptp(rgb, axis=(0, 1))

shown = np.full((H, W), np.nan)
shown[mask] = matched_labels(truth[mask], labels[mask])  # cluster ids renamed to the matching class
gt = np.where(mask, truth, np.nan)

fig, axes = plt.subplots(1, 3, figsize=(11, 3.9))
axes[0].imshow(rgb)
axes[0].set_title("false colour")
axes[1].imshow(gt, cmap="tab10", vmin=0, vmax=9, interpolation="nearest")
axes[1].set_title("ground truth (white: unlabelled)")
axes[2].imshow(shown, cmap="tab10", vmin=0, vmax=9, interpolation="nearest")
axes[2].set_title("SCDSC clusters (matched)")
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()
plt.show()
