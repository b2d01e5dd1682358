"""SCDSC on synthetic hyperspectral scenes: the method, its ablations and baselines.

Three scenes from :func:`skdsc.datasets.make_hyperspectral_scene` with different
class counts, sizes and noise; 3 seeds each (the seed drives the estimators, the
scene is fixed). Preprocessing is the seed's: every band standardised, PCA to 8
components. Every method sees 7 x 7 patches, as in the paper ("a patch size of
7 x 7 for all compared methods"): SCDSC cuts them itself; KMeans, FINCH and IDEC
get the flattened 7 x 7 x 8 patches (reflect padding). Only labelled pixels
(label >= 0) are clustered and scored (the seed's mask T).

Methods (one setting for all scenes, nothing tuned per scene):

* SCDSC and its ablations (Table 5 of the paper): ``constraints="none"``
  (Baseline: basis representation, EDESC), ``"local"`` (L), ``"nonlocal"`` (MC),
  ``"both"`` (MC&L = SCDSC). Paper defaults (eta=5, d=5, beta=1e-3, beta1=3,
  beta2=7, window 7, 17 x 17 mini-cluster patches, PCA 300, FINCH level 2,
  KMeans n_init=30, lr 5e-3, pretraining lr 1e-3) except, for the shared 2-core
  CPU: mini-batches of 128 pixels, 5 pretraining epochs and 10 joint epochs
  (paper: full batch, 50-150 and 400). The scenes are tiny (256-400 pixels) for
  the same reason: the machine is a 2-core CPU shared by 8 agents. FINCH's mini-clusters depend only on the
  scene, so they are computed once per scene and passed to every fit.
* KMeans (n_init=10), FINCH (cosine, ``req_clust = n_classes``), IDEC (hidden
  (256, 256, 512), latent 10, 30 pretraining and 30 clustering epochs, batch 128,
  update_interval 30: smaller than IDEC's defaults for CPU time).

Metrics: OA (Hungarian), NMI, Cohen's kappa from :mod:`skdsc.metrics`; mean and
std over seeds. Run: ``OMP_NUM_THREADS=1 nice -n 10 python benchmarks/scdsc_scenes.py``
(about 5 CPU-minutes); ``--scene I`` runs scene I only (the three can run
in parallel) and ``--report`` rebuilds the tables from the caches. Labels are
cached per scene in ``results/scdsc_scenes_<I>_labels.npz`` so an interrupted run
resumes.
"""

import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import LabelCache, machine, summarise, write_results  # noqa: E402

from sklearn.cluster import KMeans  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skdsc.cluster import FINCH, IDEC, SCDSC  # noqa: E402
from skdsc.datasets import make_hyperspectral_scene  # noqa: E402
from skdsc.metrics import cohen_kappa, nmi, overall_accuracy  # noqa: E402
from skdsc.nn import ImagePatchDataset  # noqa: E402

NAME = "scdsc_scenes"
SEEDS = (0, 1, 2)
SCENES = {
    "A: 16x16, 4 classes, noise 0.02": dict(image_shape=(16, 16), n_bands=60, n_classes=4, noise=0.02,
                                             unlabelled_fraction=0.0, random_state=10),
    "B: 20x16, 6 classes, noise 0.04": dict(image_shape=(20, 16), n_bands=80, n_classes=6, noise=0.04,
                                             unlabelled_fraction=0.0, random_state=11),
    "C: 20x20, 8 classes, noise 0.03, 25% unlabelled": dict(image_shape=(20, 20), n_bands=103, n_classes=8,
                                                            noise=0.03, unlabelled_fraction=0.25,
                                                            random_state=12),
}
SCDSC_PARAMS = dict(pretrain_epochs=5, max_epochs=10, batch_size=128, device="cpu")
ABLATIONS = {"Baseline": "none", "L": "local", "MC": "nonlocal", "MC&L (SCDSC)": "both"}
IDEC_PARAMS = dict(hidden_dims=(256, 256, 512), latent_dim=10, pretrain_epochs=30, max_epochs=30,
                   batch_size=128, update_interval=30, device="cpu")
METHODS = list(ABLATIONS) + ["KMeans", "FINCH", "IDEC"]


def scene_data(params):
    cube, labels = make_hyperspectral_scene(**params)
    H, W, B = cube.shape
    X = make_pipeline(StandardScaler(), PCA(8)).fit_transform(cube.reshape(-1, B)).astype(np.float32)
    y = labels.ravel()
    mask = y >= 0
    patches = ImagePatchDataset(X.reshape(H, W, 8), 7, np.flatnonzero(mask))
    P = patches.patches(np.arange(len(patches))).flatten(1).numpy()
    return X, y, mask, P, (H, W)


def run_method(method, seed, X, y, mask, P, shape, k, miniclusters):
    if method in ABLATIONS:
        est = SCDSC(k, image_shape=shape, constraints=ABLATIONS[method], random_state=seed, **SCDSC_PARAMS)
        est.fit(X, mask=mask, miniclusters=miniclusters if ABLATIONS[method] in ("both", "nonlocal") else None)
        return est.labels_[mask]
    if method == "KMeans":
        return KMeans(k, n_init=10, random_state=seed).fit_predict(P)
    if method == "FINCH":
        return FINCH(metric="cosine", req_clust=k).fit(P).labels_
    if method == "IDEC":
        return IDEC(k, random_state=seed, **IDEC_PARAMS).fit(P).labels_
    raise ValueError(method)


def evaluate(index, compute=True):
    """Scores of every method on scene ``index`` (fitting what the cache lacks when ``compute``)."""
    scene, params = list(SCENES.items())[index]
    cache = LabelCache(f"{NAME}_{index}")
    X, y, mask, P, shape = scene_data(params)
    k = params["n_classes"]
    yt = y[mask]
    key = "miniclusters"
    mc = cache.get(key)
    if mc is None:
        if not compute:
            return scene, None
        t0 = time.time()
        probe = SCDSC(k, image_shape=shape, max_epochs=0, pretrain_epochs=0, n_init=1, random_state=0)
        probe.fit(X, mask=mask)
        mc = probe.minicluster_labels_
        cache.put(key, mc)
        print(f"{scene}: {probe.n_miniclusters_} mini-clusters ({time.time() - t0:.0f} s)", flush=True)
    result = {"n_pixels": int(mask.sum()), "n_miniclusters": int(np.unique(mc[mc >= 0]).size),
              "params": params, "methods": {}}
    for method in METHODS:
        scores = {"OA": [], "NMI": [], "kappa": [], "seconds": []}
        seeds = (0,) if method == "FINCH" else SEEDS  # FINCH is deterministic
        for seed in seeds:
            lkey = f"{method}|{seed}"
            labels = cache.get(lkey)
            if labels is None:
                if not compute:
                    continue
                t0 = time.time()
                labels = run_method(method, seed, X, y, mask, P, shape, k, mc)
                cache.put(lkey, labels)
                cache.put(lkey + "|seconds", np.array(time.time() - t0))
            scores["seconds"].append(float(cache.get(lkey + "|seconds")))
            scores["OA"].append(overall_accuracy(yt, labels))
            scores["NMI"].append(nmi(yt, labels))
            scores["kappa"].append(cohen_kappa(yt, labels))
            if compute:
                print(f"{scene} | {method} | seed {seed}: OA {scores['OA'][-1]:.4f} NMI {scores['NMI'][-1]:.4f} "
                      f"kappa {scores['kappa'][-1]:.4f} ({scores['seconds'][-1]:.0f} s)", flush=True)
        if scores["OA"]:
            result["methods"][method] = {m: summarise(v) for m, v in scores.items()}
    return scene, result


def main(argv):
    torch.set_num_threads(1)
    if "--scene" in argv:
        evaluate(int(argv[argv.index("--scene") + 1]))
    elif "--report" not in argv:
        for i in range(len(SCENES)):
            evaluate(i)
    results = {}
    for i in range(len(SCENES)):
        scene, res = evaluate(i, compute=False)
        if res is not None:
            results[scene] = res
    write(results)


def write(results):
    lines = [
        "# SCDSC on synthetic hyperspectral scenes",
        "",
        "`python benchmarks/scdsc_scenes.py`; mean ± std over seeds 0, 1, 2 (FINCH is deterministic: one run).",
        f"SCDSC settings: {SCDSC_PARAMS} (paper: full batch, 400 epochs), otherwise paper defaults.",
        f"IDEC settings: {IDEC_PARAMS}. All methods on 7x7 patches of the PCA-8 image; labelled pixels only.",
        "",
    ]
    for scene, res in results.items():
        lines += [f"## {scene} ({res['n_pixels']} labelled pixels, {res['n_miniclusters']} mini-clusters)", "",
                  "| method | OA (%) | NMI | kappa | seconds/fit | seeds |", "| --- | --- | --- | --- | --- | --- |"]
        for method, s in res["methods"].items():
            lines.append(
                f"| {method} | {100 * s['OA']['mean']:.2f} ± {100 * s['OA']['std']:.2f} "
                f"| {s['NMI']['mean']:.4f} ± {s['NMI']['std']:.4f} "
                f"| {s['kappa']['mean']:.4f} ± {s['kappa']['std']:.4f} | {s['seconds']['mean']:.0f} "
                f"| {len(s['OA']['values'])} |"
            )
        if not {"KMeans", "FINCH", "IDEC", "MC&L (SCDSC)"} <= set(res["methods"]):
            continue
        best_base = max(res["methods"][m]["OA"]["mean"] for m in ("KMeans", "FINCH", "IDEC"))
        gain = 100 * (res["methods"]["MC&L (SCDSC)"]["OA"]["mean"] - best_base)
        lines += ["", f"SCDSC minus best of KMeans/FINCH/IDEC: {gain:+.2f} OA points (target: >= +5).", ""]
    lines += ["Targets (issue 5): SCDSC >= 5 OA points above the best of KMeans, FINCH and IDEC on every",
              "scene, and each ablation step helping as in the paper's Table 5 (Baseline < L, MC < MC&L).",
              "Caveat: tiny scenes, 10 joint epochs on a shared CPU; seed std reaches 10 OA points, so",
              "orderings within a few points are not resolved by 3 seeds.", ""]
    payload = {"machine": machine(), "scdsc_params": SCDSC_PARAMS, "idec_params": IDEC_PARAMS,
               "seeds": list(SEEDS), "scenes": results}
    write_results(NAME, payload, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
