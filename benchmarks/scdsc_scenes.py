"""SCDSC on synthetic hyperspectral scenes: the method, its ablations and baselines.

Three scenes from :func:`skdsc.datasets.make_hyperspectral_scene` differing in size
(48 x 48 to 64 x 64), class count (4, 6, 8), noise (0.02 to 0.05) and labelled share;
3 seeds each (the seed drives the estimators, the scene is fixed). The scenes were
chosen before any run of this script and are not changed after.

Preprocessing is the seed's: every band standardised, PCA to 8 components. Every
method sees 7 x 7 patches, as in the paper ("a patch size of 7 x 7 for all compared
methods"): SCDSC cuts them itself; KMeans, FINCH and IDEC get the flattened
7 x 7 x 8 patches (reflect padding). Only labelled pixels (label >= 0) are clustered
and scored (the seed's mask T).

SCDSC standardises its 8 input bands (``standardize=True``, as the authors' code
standardises every patch feature); the 8 PCA components then weigh alike, which
alone lifts KMeans a lot on these scenes. So the baselines run on both inputs:
``raw`` (the PCA-8 patches) and ``std`` (the patches of the band-standardised
PCA-8 image, exactly what SCDSC's network sees), and the target compares SCDSC with
the best of all six baseline rows.

Methods (one setting for all scenes, nothing tuned per scene):

* SCDSC and its ablations (Table 5 of the paper): ``constraints="none"``
  (Baseline: basis representation, EDESC), ``"local"`` (L), ``"nonlocal"`` (MC),
  ``"both"`` (MC&L = SCDSC). Paper defaults (eta=5, d=5, beta=1e-3, beta1=3,
  beta2=7, window 7, 17 x 17 mini-cluster patches, PCA 300, FINCH level 2,
  KMeans n_init=30, lr 5e-3, pretraining lr 1e-3, epoch kept by the authors'
  confidence rule) except, for the shared 2-core CPU: mini-batches of 512 pixels,
  20 pretraining epochs and 40 joint epochs (paper: full batch, 50-150 and 400).
  FINCH's mini-clusters depend only on the scene, so they are computed once per
  scene and passed to every fit.
* Diagnostics of SCDSC (same settings otherwise): ``SCDSC init (epoch 0)``, the
  pretrained autoencoder's KMeans + SVD starting point shared by all ablations at a
  seed; ``MC&L last epoch``, the final epoch instead of the most confident one;
  ``MC&L beta2=1 (Trento's)``, the paper's smallest local weight instead of PaviaU's
  7 (a sensitivity row; the default stays 7).
* KMeans (n_init=10), FINCH (cosine, ``req_clust = n_classes``), IDEC (hidden
  (256, 256, 512), latent 10, 30 pretraining and 30 clustering epochs, batch 128,
  update_interval 30: smaller than IDEC's defaults for CPU time), each on ``raw``
  and ``std`` patches.

Metrics: OA (Hungarian), NMI, Cohen's kappa from :mod:`skdsc.metrics`; mean and
(population) std over seeds. Run:
``OMP_NUM_THREADS=1 nice -n 5 python benchmarks/scdsc_scenes.py`` (about an hour on
one shared core); ``--methods M1,M2`` runs those methods only, ``--report``
rebuilds the tables from the caches. Labels are cached per scene in
``results/scdsc_scenes_<I>_labels.npz`` (with the settings they were made with) so
an interrupted run resumes.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import LabelCache, machine, mean_std, summarise, write_results  # noqa: E402

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
    "A: 48x48, 4 classes, 50 bands, noise 0.02": dict(
        image_shape=(48, 48), n_bands=50, n_classes=4, noise=0.02, unlabelled_fraction=0.0, random_state=10),
    "B: 56x56, 6 classes, 80 bands, noise 0.05": dict(
        image_shape=(56, 56), n_bands=80, n_classes=6, noise=0.05, unlabelled_fraction=0.0, random_state=11),
    "C: 64x64, 8 classes, 103 bands, noise 0.03, 25% unlabelled": dict(
        image_shape=(64, 64), n_bands=103, n_classes=8, noise=0.03, unlabelled_fraction=0.25, random_state=12),
}
SCDSC_PARAMS = dict(pretrain_epochs=20, max_epochs=40, batch_size=512, device="cpu")
ABLATIONS = {"Baseline": "none", "L": "local", "MC": "nonlocal", "MC&L (SCDSC)": "both"}
# diagnostics: SCDSC's own starting point (pretraining + KMeans + SVD bases, no joint
# epoch; the same for every ablation at a given seed), its final epoch instead of the
# epoch picked by the confidence rule, and the paper's smallest local weight (Trento's
# beta2 = 1 instead of PaviaU's 7; a sensitivity row, not a change of default)
DIAGNOSTICS = {"SCDSC init (epoch 0)": dict(constraints="both", max_epochs=0),
               "MC&L last epoch": dict(constraints="both", epoch_selection="last"),
               "MC&L beta2=1 (Trento's)": dict(constraints="both", beta2=1.0)}
IDEC_PARAMS = dict(hidden_dims=(256, 256, 512), latent_dim=10, pretrain_epochs=30, max_epochs=30,
                   batch_size=128, update_interval=30, device="cpu")
BASELINES = [f"{m} ({v})" for m in ("KMeans", "FINCH", "IDEC") for v in ("raw", "std")]
METHODS = list(ABLATIONS) + list(DIAGNOSTICS) + BASELINES
# the order runs go in: cheap baselines, then SCDSC itself, then its ablations, then IDEC
RUN_ORDER = [m for m in BASELINES if not m.startswith("IDEC")] + ["MC&L (SCDSC)", "Baseline", "MC", "L"] + [
    m for m in BASELINES if m.startswith("IDEC")] + list(DIAGNOSTICS)


NOTES = """## Reading (written by hand from the tables of the run of 2026-11-22; re-check after a rerun)

* Both targets are missed. SCDSC (MC&L) is below the best baseline on every scene; the
  best baseline is a baseline on band-standardised patches each time (KMeans on A and B,
  IDEC on C). Against the raw-patch baselines alone, the comparison of the previous
  version of this file, SCDSC would be ahead by about 0.4 (A), 13.7 (B) and 11.1 (C) points.
* The non-local (mini-cluster) term helps on every scene: MC > Baseline on A, B and C.
* The local term at the default beta2 = 7 (PaviaU's value) with a 7 x 7 window hurts:
  MC&L < MC on all three scenes and L < Baseline on A and C. Trento's beta2 = 1 is better
  than 7 on every scene but still below MC. The default is left at the paper's value.
* The joint training does not reliably improve on its own starting point (pretrained
  autoencoder + KMeans + SVD bases): init 86.3 vs MC&L 77.5 on A, 88.4 vs 86.4 on B, 74.4
  vs 78.2 on C.
* The authors' epoch selection (most confident epoch) changes MC&L by +1.4, -0.2 and
  -0.7 points against its last epoch: no effect beyond seed noise here. On a scratch
  48x48 scene the pixel-level Baseline rose to OA 0.92 and then collapsed to 0.71,
  and the rule kept an epoch near the peak; the MC&L runs keep late epochs.
* Why the structure terms can add little on these scenes: make_hyperspectral_scene
  draws one convex region per class, so the errors left are whole-region confusions
  between spectrally close classes and splits of the largest class, not pixel noise.
  On scene C (100%-pure mini-clusters) classes 5 (23 pixels) and 7 (188) have recall 0
  and class 6 (952) is split, by SCDSC and KMeans alike (seed 0). On the scratch
  scene, box-filtering the initial assignment map lowered OA (0.770 to 0.762 at window 7)
  and the mini-cluster means of the initial assignments gave 0.710. On real images a
  class spans many regions, which is where the paper's non-local term is meant to act.
""".splitlines()


def settings(params):
    return json.dumps({"scene": params, "scdsc": SCDSC_PARAMS, "idec": IDEC_PARAMS}, sort_keys=True, default=str)


def scene_data(params):
    cube, labels = make_hyperspectral_scene(**params)
    H, W, B = cube.shape
    X = make_pipeline(StandardScaler(), PCA(8)).fit_transform(cube.reshape(-1, B)).astype(np.float32)
    y = labels.ravel()
    mask = y >= 0
    Xstd = ((X - X[mask].mean(0)) / X[mask].std(0)).astype(np.float32)
    P = {}
    for variant, img in (("raw", X), ("std", Xstd)):
        ds = ImagePatchDataset(img.reshape(H, W, 8), 7, np.flatnonzero(mask))
        P[variant] = ds.patches(np.arange(len(ds))).flatten(1).numpy()
    return X, y, mask, P, (H, W)


def run_method(method, seed, X, mask, P, shape, k, miniclusters):
    if method in ABLATIONS:
        est = SCDSC(k, image_shape=shape, constraints=ABLATIONS[method], random_state=seed, **SCDSC_PARAMS)
        est.fit(X, mask=mask, miniclusters=miniclusters if ABLATIONS[method] in ("both", "nonlocal") else None)
        return est.labels_[mask], {"selected_epoch": est.selected_epoch_}
    if method in DIAGNOSTICS:
        est = SCDSC(k, image_shape=shape, random_state=seed, **{**SCDSC_PARAMS, **DIAGNOSTICS[method]})
        est.fit(X, mask=mask, miniclusters=miniclusters)
        return est.labels_[mask], {"selected_epoch": est.selected_epoch_}
    name, variant = method.split(" (")
    Pv = P[variant.rstrip(")")]
    if name == "KMeans":
        return KMeans(k, n_init=10, random_state=seed).fit_predict(Pv), {}
    if name == "FINCH":
        return FINCH(metric="cosine", req_clust=k).fit(Pv).labels_, {}
    if name == "IDEC":
        return IDEC(k, random_state=seed, **IDEC_PARAMS).fit(Pv).labels_, {}
    raise ValueError(method)


def evaluate(index, methods=(), compute=True):
    """Scores of every method on scene ``index``, fitting ``methods`` where the cache lacks them."""
    scene, params = list(SCENES.items())[index]
    cache = LabelCache(f"{NAME}_{index}")
    stored = cache.get("settings")
    if stored is not None and str(stored) != settings(params):
        raise RuntimeError(f"{cache.path} was made with other settings; move it away to recompute.")
    if stored is None and compute:
        cache.put("settings", np.array(settings(params)))
    X, y, mask, P, shape = scene_data(params)
    k = params["n_classes"]
    yt = y[mask]
    mc = cache.get("miniclusters")
    if mc is None:
        if not (compute and methods):
            return scene, None
        t0 = time.time()
        probe = SCDSC(k, image_shape=shape, max_epochs=0, pretrain_epochs=0, n_init=1, random_state=0)
        probe.fit(X, mask=mask)
        mc = probe.minicluster_labels_
        cache.put("miniclusters", mc)
        print(f"{scene}: {probe.n_miniclusters_} mini-clusters ({time.time() - t0:.0f} s)", flush=True)
    mcm = mc[mc >= 0]
    purity = sum(np.bincount(yt[mcm == c]).max() for c in np.unique(mcm)) / mcm.size
    result = {"n_pixels": int(mask.sum()), "n_miniclusters": int(np.unique(mcm).size),
              "minicluster_purity": float(purity), "class_sizes": np.bincount(yt).tolist(),
              "params": params, "methods": {}}
    for method in METHODS:
        scores = {"OA": [], "NMI": [], "kappa": [], "seconds": []}
        extra = []
        seeds = (0,) if method.startswith("FINCH") else SEEDS  # FINCH is deterministic
        for seed in seeds:
            lkey = f"{method}|{seed}"
            labels = cache.get(lkey)
            if labels is None:
                if not (compute and method in methods):
                    continue
                t0 = time.time()
                labels, info = run_method(method, seed, X, mask, P, shape, k, mc)
                cache.put(lkey + "|seconds", np.array(time.time() - t0))
                for key, value in info.items():
                    cache.put(f"{lkey}|{key}", np.array(value))
                cache.put(lkey, labels)
                new = True
            else:
                new = False
            scores["seconds"].append(float(cache.get(lkey + "|seconds")))
            scores["OA"].append(overall_accuracy(yt, labels))
            scores["NMI"].append(nmi(yt, labels))
            scores["kappa"].append(cohen_kappa(yt, labels))
            sel = cache.get(lkey + "|selected_epoch")
            if sel is not None:
                extra.append(int(sel))
            if new:
                print(f"{scene} | {method} | seed {seed}: OA {scores['OA'][-1]:.4f} NMI {scores['NMI'][-1]:.4f} "
                      f"kappa {scores['kappa'][-1]:.4f} ({scores['seconds'][-1]:.0f} s)"
                      + (f" epoch kept {extra[-1]}" if sel is not None else ""), flush=True)
        if scores["OA"]:
            result["methods"][method] = {m: summarise(v) for m, v in scores.items()}
            if extra:
                result["methods"][method]["selected_epoch"] = extra
    return scene, result


def main(argv):
    torch.set_num_threads(1)
    methods = RUN_ORDER
    if "--methods" in argv:
        methods = argv[argv.index("--methods") + 1].split(",")
    if "--report" not in argv:
        for method in methods:  # method-major: the key comparison is complete on every scene first
            for i in range(len(SCENES)):
                evaluate(i, (method,))
    results = {}
    for i in range(len(SCENES)):
        scene, res = evaluate(i, compute=False)
        if res is not None:
            results[scene] = res
    write(results)


def _oa(res, method):
    return res["methods"][method]["OA"]["mean"] if method in res["methods"] else None


def write(results):
    lines = [
        "# SCDSC on synthetic hyperspectral scenes",
        "",
        "`OMP_NUM_THREADS=1 nice -n 5 python benchmarks/scdsc_scenes.py`; mean ± std (population) over seeds "
        "0, 1, 2 (FINCH is deterministic: one run).",
        f"SCDSC settings: {SCDSC_PARAMS} (paper: full batch, 400 epochs), otherwise the defaults (paper's values; "
        "KL terms in the authors' units, bands standardised, epoch kept by the authors' confidence rule).",
        f"IDEC settings: {IDEC_PARAMS}. All methods on 7x7 patches of the PCA-8 image; labelled pixels only. "
        "Baselines on `raw` PCA-8 patches and on `std` patches (bands standardised, what SCDSC's network sees).",
        "",
    ]
    summary = []
    for scene, res in results.items():
        lines += [f"## {scene}", "",
                  f"{res['n_pixels']} labelled pixels, class sizes {res['class_sizes']}; {res['n_miniclusters']} "
                  f"FINCH mini-clusters (purity {100 * res['minicluster_purity']:.1f}%).", "",
                  "| method | OA (%) | NMI | kappa | seconds/fit | seeds | epoch kept |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for method in METHODS:
            if method not in res["methods"]:
                continue
            s = res["methods"][method]
            oa = {k: 100 * v for k, v in s["OA"].items() if k != "values"}
            lines.append(
                f"| {method} | {mean_std(oa, '.2f')} | {mean_std(s['NMI'])} | {mean_std(s['kappa'])} "
                f"| {s['seconds']['mean']:.0f} | {len(s['OA']['values'])} | "
                f"{', '.join(map(str, s.get('selected_epoch', []))) or '-'} |"
            )
        have = [m for m in BASELINES if m in res["methods"]]
        if "MC&L (SCDSC)" in res["methods"] and have:
            best = max(have, key=lambda m: _oa(res, m))
            gain = 100 * (_oa(res, "MC&L (SCDSC)") - _oa(res, best))
            lines += ["", f"SCDSC minus best baseline ({best}{'' if len(have) == 6 else ', of those run'}): "
                          f"{gain:+.2f} OA points (target: >= +5): **{'met' if gain >= 5 else 'missed'}**."]
            summary.append((scene[:1], gain))
            raw = [m for m in have if m.endswith("(raw)")]
            if raw:
                best_raw = max(raw, key=lambda m: _oa(res, m))
                lines.append(f"Against the raw-patch baselines only (best: {best_raw}): "
                             f"{100 * (_oa(res, 'MC&L (SCDSC)') - _oa(res, best_raw)):+.2f} OA points.")
        if all(m in res["methods"] for m in ABLATIONS):
            o = {m: 100 * _oa(res, m) for m in ABLATIONS}
            checks = [("Baseline < L", o["Baseline"] < o["L"]), ("Baseline < MC", o["Baseline"] < o["MC"]),
                      ("L < MC&L", o["L"] < o["MC&L (SCDSC)"]), ("MC < MC&L", o["MC"] < o["MC&L (SCDSC)"])]
            lines += ["", "Ablation (mean OA): " + ", ".join(f"{m} {v:.2f}" for m, v in o.items()) + "; "
                      + ", ".join(f"{c}: {'yes' if ok else 'no'}" for c, ok in checks) + "."]
        lines.append("")
    lines += ["Targets (issue 5): SCDSC >= 5 OA points above the best of KMeans, FINCH and IDEC on every",
              "scene, and each ablation step helping as in the paper's Table 5 (Baseline < L, MC < MC&L,",
              "MC&L best).", ""] + NOTES
    payload = {"machine": machine(), "scdsc_params": SCDSC_PARAMS, "idec_params": IDEC_PARAMS,
               "seeds": list(SEEDS), "scenes": results}
    write_results(NAME, payload, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
