"""
GCML: clustering first, then the manifolds recover their shape
=================================================================

GCML trains a clustering loss (DEC's KL) together with three structure losses:
a ranking loss on the cluster centres (inter-manifold, global), a local
isometry loss inside each pseudo-cluster and an alignment loss between the
learnable centres and the cluster means. Weight continuation moves the focus
from clustering (early) to local structure (late). This example stores the
embedding of scikit-learn's digits at the start, the middle and the end of the
clustering stage (``snapshot_epochs``) and shows them projected to 2-D with PCA,
coloured by cluster, with the accuracy, trustworthiness and cluster rank
accuracy of each stage (the story of Fig. 4 of the paper).

A short schedule (30 pretraining and 40 clustering epochs instead of the
paper's 200 and 300) keeps the example short on a CPU; the reproduction is
``benchmarks/gcml_digits_mnist.py``.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from skdsc.cluster import GCML
from skdsc.metrics import cluster_rank_accuracy, trustworthiness

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype("float32")

gcml = GCML(n_clusters=10, pretrain_epochs=30, max_epochs=40, snapshot_epochs=[0, 20, 40],
            random_state=0)
gcml.fit(X)


def accuracy(y_true, labels):
    """Clustering accuracy after matching clusters to classes (Hungarian)."""
    w = np.zeros((labels.max() + 1, y_true.max() + 1))
    np.add.at(w, (labels, y_true), 1)
    rows, cols = linear_sum_assignment(-w)
    return w[rows, cols].sum() / y_true.size


fig, axes = plt.subplots(1, 3, figsize=(14, 4.6))
for ax, snap in zip(axes, gcml.snapshots_):
    Z, labels = snap["embedding"], snap["labels"]
    pca = PCA(2, random_state=0).fit(Z)
    Z2, C2 = pca.transform(Z), pca.transform(snap["centers"])
    ax.scatter(Z2[:, 0], Z2[:, 1], c=labels, cmap="tab10", s=5)
    ax.scatter(C2[:, 0], C2[:, 1], c="k", marker="x", s=60)
    ax.set_title(
        f"epoch {snap['epoch']}: ACC {accuracy(y, labels):.2f}, "
        f"trust {trustworthiness(X, Z):.3f}, CRA {cluster_rank_accuracy(X, Z, labels):.2f}",
        fontsize=10,
    )
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("GCML embedding of the digits (PCA), coloured by cluster; x: learnable centres")
fig.tight_layout()
plt.show()
