"""
IDEC on handwritten digits
==========================

IDEC pretrains an autoencoder, initialises cluster centres with KMeans on its
embedding, then trains encoder, decoder and centres together on reconstruction plus
the DEC clustering loss. Here it clusters scikit-learn's 8x8 digits inside a
``Pipeline`` with ``MinMaxScaler``, and the figure shows the 2-D PCA projection of the
learned embedding coloured by cluster, next to the matched confusion matrix.

A short schedule keeps the example under a minute on a CPU; the full-length
reproduction is ``benchmarks/idec_digits_mnist.py``.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import confusion_matrix
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skdsc.cluster import IDEC
from skdsc.metrics import matched_labels, nmi, overall_accuracy

X, y = load_digits(return_X_y=True)
idec = IDEC(n_clusters=10, pretrain_epochs=30, max_epochs=30, update_interval=30, random_state=0)
pipe = make_pipeline(MinMaxScaler(), idec)
labels = pipe.fit_predict(X)
print(f"ACC {overall_accuracy(y, labels):.3f}  NMI {nmi(y, labels):.3f}")

embedding = pipe[:-1].transform(X)
Z = PCA(2).fit_transform(idec.transform(embedding))
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.8))
ax1.scatter(Z[:, 0], Z[:, 1], c=labels, cmap="tab10", s=6)
ax1.set_title("IDEC embedding (PCA), coloured by cluster")
cm = confusion_matrix(y, matched_labels(y, labels), labels=np.arange(10))
ax2.imshow(cm, cmap="Blues")
ax2.set_xlabel("cluster (matched to a digit)")
ax2.set_ylabel("digit")
ax2.set_title("confusion matrix after Hungarian matching")
fig.tight_layout()
plt.show()
