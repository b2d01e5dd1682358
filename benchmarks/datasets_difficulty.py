"""KMeans baselines of the synthetic generators at their defaults (3 seeds, mean and std).

Not a test (no thresholds): run from the repository root with
``PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/datasets_difficulty.py`` and read the table.
"""

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from skdsc.metrics import overall_accuracy  # noqa: E402
from skdsc.datasets import (
    make_hyperspectral_scene,
    make_multimodal_clusters,
    make_spatiotemporal_regimes,
    make_subspace_clusters,
)

SEEDS = (0, 1, 2)


def kmeans(X, k):
    return KMeans(k, n_init=10, random_state=0).fit_predict(X)


def run():
    rows = {}
    rows["subspace: KMeans ARI"] = [
        adjusted_rand_score(y, kmeans(X, 3))
        for X, y in (make_subspace_clusters(random_state=s) for s in SEEDS)
    ]
    rows["subspace (curvature=0.5): KMeans ARI"] = [
        adjusted_rand_score(y, kmeans(X, 3))
        for X, y in (make_subspace_clusters(curvature=0.5, random_state=s) for s in SEEDS)
    ]
    st = []
    for s in SEEDS:
        X, y = make_spatiotemporal_regimes(random_state=s)
        F = X.reshape(len(X), -1)
        st.append(adjusted_rand_score(y, kmeans(F[:, ~np.isnan(F).any(0)], 4)))
    rows["spatiotemporal: KMeans ARI (flattened field)"] = st
    ks_like, corr = [], []
    for s in SEEDS:  # planted regions, seed-001-like monthly layout
        X, _, R = make_spatiotemporal_regimes(n_times=240, season_length=12, n_regions=4,
                                              land_fraction=0.1, random_state=s)
        ok = R.ravel() >= 0
        series = X[..., 0].reshape(len(X), -1)[:, ok].T  # one row per sea cell
        ks_like.append(adjusted_rand_score(R.ravel()[ok], kmeans(np.sort(series, axis=1), 4)))
        z = (series - series.mean(1, keepdims=True)) / series.std(1, keepdims=True)
        corr.append(adjusted_rand_score(R.ravel()[ok], kmeans(z, 4)))
    rows["regions (n_regions=4): KMeans ARI on sorted cell series"] = ks_like
    rows["regions (n_regions=4): KMeans ARI on standardised series"] = corr
    oa, ari = [], []
    for s in SEEDS:
        cube, lab = make_hyperspectral_scene(random_state=s)
        X, y = cube.reshape(-1, cube.shape[-1]), lab.ravel()
        p = kmeans(X, 6)
        oa.append(overall_accuracy(y, p))
        ari.append(adjusted_rand_score(y, p))
    rows["hyperspectral: KMeans OA"] = oa
    rows["hyperspectral: KMeans ARI"] = ari
    per, fused = [], []
    for s in SEEDS:
        Xs, y = make_multimodal_clusters(random_state=s)
        F = [StandardScaler().fit_transform(X.reshape(len(X), -1)) for X in Xs]
        per.append([adjusted_rand_score(y, kmeans(f, 4)) for f in F])
        Z = np.hstack([f / np.sqrt(f.shape[1]) for f in F])
        fused.append(adjusted_rand_score(y, kmeans(Z, 4)))
    per = np.asarray(per)
    for m in range(per.shape[1]):
        rows[f"multimodal: KMeans ARI, modality {m} alone"] = per[:, m]
    rows["multimodal: KMeans ARI, modalities concatenated"] = fused
    for name, v in rows.items():
        v = np.asarray(v)
        print(f"{name:58s} {v.mean():.3f} +- {v.std():.3f}   ({', '.join(f'{x:.3f}' for x in v)})")


if __name__ == "__main__":
    run()
