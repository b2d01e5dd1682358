"""How far affinity fusion's clustering is limited by the seed's objective itself.

For each seed, ``MultimodalDSC`` (affinity fusion, the settings of
``multimodal_fusion.py``) is fitted on all samples. Its learned coefficients ``C``
are compared with the exact minimiser of the same self-expression objective on the
same (fine-tuned) codes,

    C* = argmin_C  lambda1 ||C||^2 + lambda2 sum_m w'_m ||Z_m - Z_m C||^2
       = (Z^T Z + mu I)^-1 Z^T Z,   mu = lambda1 / lambda2

(``Z`` the codes stacked over modalities and scaled by ``sqrt(w'_m)``, samples as
columns; the zero-diagonal constraint is dropped, so ``C*`` is the ridge solution,
then its diagonal is zeroed as the layer's is). Both go through the same
post-processing and spectral clustering. If ``C*`` clusters no better than the
learned ``C``, the gap to other methods lies in the objective (and the codes), not
in how well training optimised it.

Run: ``OMP_NUM_THREADS=1 python benchmarks/multimodal_ceiling.py``; results in
``benchmarks/results/multimodal_ceiling.json/.md``.
"""

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.linalg
import torch
from sklearn.cluster import SpectralClustering

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine, mean_std, summarise, write_results  # noqa: E402
from multimodal_fusion import DEEP, SEEDS, load  # noqa: E402

from skdsc.cluster import MultimodalDSC  # noqa: E402
from skdsc.cluster._affinity import subspace_affinity  # noqa: E402
from skdsc.metrics import overall_accuracy  # noqa: E402


def spectral_acc(C, est, y, seed):
    affinity = subspace_affinity(C, est.n_clusters, est.subspace_dim, est.power, est.rho_,
                                 random_state=np.random.RandomState(seed))
    labels = SpectralClustering(est.n_clusters, affinity="precomputed", assign_labels="discretize",
                                random_state=seed).fit_predict(affinity)
    return overall_accuracy(y, labels)


def objective(C, Z, mu):
    return float(mu * np.sum(C**2) + np.sum((Z - Z @ C) ** 2))


def main():
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message="Graph is not fully connected")
    payload, lines = {"deep_settings": DEEP, "machine": machine()}, [
        "# Affinity fusion: learned C against the exact minimiser of the seed's objective",
        "", "Same codes, same post-processing and spectral clustering; mean ± std over seeds "
        f"{list(SEEDS)}. Objective = lambda1 ||C||² + lambda2 Σ w' ||Z - Z C||², divided by lambda2.", "",
        "| data | ACC, learned C | ACC, exact minimiser C* | objective, learned C | objective, C* |",
        "| --- | --- | --- | --- | --- |"]
    for data in ("uci", "synthetic"):
        views, y, _, K = load(data)
        rows = []
        for seed in SEEDS:
            t0 = time.perf_counter()
            est = MultimodalDSC(K, random_state=seed, fusion="affinity", **DEEP).fit(views)
            Z = est._scaled_codes().T  # (d, n)
            mu = est.lambda1 / est.lambda2_
            G = Z.T @ Z
            C_star = scipy.linalg.solve(G + mu * np.eye(G.shape[0]), G, assume_a="pos")
            np.fill_diagonal(C_star, 0.0)
            C = est.coef_.astype(np.float64)
            rows.append({"seed": seed, "acc_learned": overall_accuracy(y, est.labels_),
                         "acc_learned_recomputed": spectral_acc(C, est, y, seed),
                         "acc_exact": spectral_acc(C_star, est, y, seed),
                         "objective_learned": objective(C, Z, mu), "objective_exact": objective(C_star, Z, mu)})
            print(data, rows[-1], f"{time.perf_counter() - t0:.0f} s", flush=True)
        payload[data] = rows
        s = {k: summarise([r[k] for r in rows]) for k in rows[0] if k != "seed"}
        lines.append(f"| {data} | {mean_std(s['acc_learned'])} | {mean_std(s['acc_exact'])} | "
                     f"{s['objective_learned']['mean']:.1f} | {s['objective_exact']['mean']:.1f} |")
        write_results("multimodal_ceiling", payload, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
