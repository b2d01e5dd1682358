"""Held-out ``predict`` of MultimodalDSC: the affinity (Nyström) rule against the neighbour rule.

Affinity fusion is fitted on 80 % of the samples (seeds 0-2, the settings of
``multimodal_fusion.py``, with ``refine="neighbors"``, which keeps the seed's spectral
labels in ``spectral_labels_``), then the other 20 % are assigned with
``predict_rule="affinity"`` and ``"neighbors"`` voting with the spectral labels, and
with ``"neighbors"`` voting with the refined labels (``refine+neighbors``), all on the
same fitted network. Training ACC is that of the labels the rule votes with.
Held-out accuracy uses the cluster -> class map of the training labels; the gap
is training ACC minus held-out ACC (target: within 0.03).

Run: ``OMP_NUM_THREADS=1 python benchmarks/multimodal_predict.py``; results in
``benchmarks/results/multimodal_predict.json/.md``.
"""

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine, mean_std, summarise, write_results  # noqa: E402
from multimodal_fusion import DEEP, SEEDS, load  # noqa: E402

from skdsc.cluster import MultimodalDSC  # noqa: E402
from skdsc.metrics import cluster_class_mapping, overall_accuracy  # noqa: E402

#: (name, labels the rule votes with, predict_rule): the two rules with the seed's spectral
#: labels, and the neighbour rule with the labels after ``refine="neighbors"``
RULES = (("affinity", "spectral", "affinity"), ("neighbors", "spectral", "neighbors"),
         ("refine+neighbors", "refined", "neighbors"))


def main():
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message="Graph is not fully connected")
    payload, lines = {"deep_settings": DEEP, "machine": machine()}, []
    lines += ["# Held-out predict of MultimodalDSC (affinity fusion, 80/20 split, seeds 0-2)", "",
              "| data | rule | train ACC | held-out ACC | gap (train - held-out) | max abs gap |",
              "| --- | --- | --- | --- | --- | --- |"]
    for data in ("uci", "synthetic"):
        views, y, _, K = load(data)
        rows = {name: [] for name, _, _ in RULES}
        for seed in SEEDS:
            perm = np.random.RandomState(seed).permutation(len(y))
            cut = int(0.8 * len(y))
            tr, te = perm[:cut], perm[cut:]
            t0 = time.perf_counter()
            est = MultimodalDSC(K, random_state=seed, fusion="affinity", refine="neighbors",
                                **DEEP).fit([v[tr] for v in views])
            labels = {"spectral": est.spectral_labels_, "refined": est.labels_}
            for name, which, rule in RULES:
                est.labels_ = labels[which]  # the labels predict votes with
                train_acc = overall_accuracy(y[tr], est.labels_)
                mapping = cluster_class_mapping(y[tr], est.labels_)
                pred = est.set_params(predict_rule=rule).predict([v[te] for v in views])
                held = float(np.mean(np.array([mapping.get(p, -1) for p in pred]) == y[te]))
                rows[name].append({"seed": seed, "train_acc": train_acc, "heldout_acc": held,
                                   "gap": train_acc - held})
            print(data, seed, {r: rows[r][-1] for r in rows}, f"{time.perf_counter() - t0:.0f}s", flush=True)
        payload[data] = rows
        for rule in rows:
            tr_acc = summarise([r["train_acc"] for r in rows[rule]])
            held = summarise([r["heldout_acc"] for r in rows[rule]])
            gap = summarise([r["gap"] for r in rows[rule]])
            worst = max(abs(r["gap"]) for r in rows[rule])
            lines.append(f"| {data} | {rule} | {mean_std(tr_acc)} | {mean_std(held)} | "
                         f"{gap['mean']:+.4f} ± {gap['std']:.4f} | {worst:.4f} |")
        write_results("multimodal_predict", payload, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
