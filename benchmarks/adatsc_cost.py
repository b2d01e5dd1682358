"""Time per epoch and peak memory of A-DATSC at the seed's size, on this CPU.

The seed's ERA5 setting: one year of daily 48 x 48 fields with 7 variables,
filter widths 64/128/256/512. One epoch is every window of ``sequence_length``
(8) steps at stride 1 (358 windows), each taking one generator step and one
discriminator step. A full epoch takes hours on 2 shared CPU cores, so this
script times a few training batches (after one warm-up batch) and extrapolates
linearly to the epoch; peak memory is the process's maximum resident set size
(``ru_maxrss``) after those batches, measured in a fresh subprocess per setting.

Run:  OMP_NUM_THREADS=1 nice -n 10 python benchmarks/adatsc_cost.py [--batches 2] [--batch-size 2]
Results: benchmarks/results/adatsc_cost.{json,md}.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

NAME = "adatsc_cost"
SEED_SIZE = dict(n_times=365, grid=(48, 48), n_vars=7)


def measure(filters, n_times, grid, n_vars, batch_size, n_batches, sequence_length=8, threads=1, device="cpu"):
    """Time ``n_batches`` training steps of the adversarial stage; return a dict."""
    import resource
    import time

    import numpy as np
    import torch

    from skdsc._training_adatsc import ADATSCNet, SlidingWindowDataset
    from skdsc.nn import ADATSCGenerator, SubspaceDiscriminator

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    frames = torch.rand(n_times, n_vars, *grid)
    dataset = SlidingWindowDataset(frames, sequence_length, 1)
    gen = ADATSCGenerator(n_vars, grid, 7, filters=filters, latent_dim=32, n_heads=4)
    disc = SubspaceDiscriminator(7, 32, 4)
    net = ADATSCNet(module=gen, module2=disc, criterion=torch.nn.MSELoss, optimizer=torch.optim.Adam, lr=1e-3,
                    batch_size=batch_size, device=device, train_split=None, max_epochs=1)
    net.initialize()
    net.history.new_epoch()
    batches = [torch.stack([dataset[i][0] for i in range(b * batch_size, (b + 1) * batch_size)])
               for b in range(n_batches + 1)]
    times = []
    for b, xb in enumerate(batches):
        net.history.new_batch()
        if device != "cpu":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        net.train_step((xb, torch.zeros(batch_size)))
        if device != "cpu":
            torch.cuda.synchronize()
        if b > 0:  # the first batch is a warm-up
            times.append(time.perf_counter() - t0)
    per_window = float(np.mean(times)) / batch_size
    out = {
        "filters": list(filters), "grid": list(grid), "n_vars": n_vars, "n_times": n_times,
        "sequence_length": sequence_length, "batch_size": batch_size, "timed_batches": n_batches,
        "threads": threads, "device": device, "n_windows": len(dataset),
        "seconds_per_window": per_window, "seconds_per_epoch_extrapolated": per_window * len(dataset),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "n_parameters": sum(p.numel() for p in gen.parameters()) + sum(p.numel() for p in disc.parameters()),
    }
    if device != "cpu":
        out["peak_cuda_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(**json.loads(args.child))))
        return
    settings = [
        dict(filters=(64, 128, 256, 512), **SEED_SIZE),
        dict(filters=(8, 16, 16, 32), **SEED_SIZE),
    ]
    results = []
    for s in settings:
        kw = dict(filters=s["filters"], n_times=s["n_times"], grid=s["grid"], n_vars=s["n_vars"],
                  batch_size=args.batch_size, n_batches=args.batches)
        proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(kw)], capture_output=True,
                              text=True, check=True)
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(res)
        print(res, flush=True)
    from _common import machine, write_results

    lines = ["| filters | s / window | s / epoch (extrapolated, 358 windows) | peak RSS (MiB) | parameters |",
             "|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {tuple(r['filters'])} | {r['seconds_per_window']:.2f} | "
                     f"{r['seconds_per_epoch_extrapolated']:.0f} ({r['seconds_per_epoch_extrapolated'] / 3600:.2f} h) | "
                     f"{r['peak_rss_mib']:.0f} | {r['n_parameters']:,} |")
    md = ("# A-DATSC cost: one year of daily 48 x 48 x 7 fields, CPU\n\n"
          f"Windows of 8 steps, stride 1; {args.batches} training batches of {args.batch_size} windows timed "
          "after one warm-up batch (generator + discriminator step), extrapolated linearly to the 358 windows "
          "of an epoch. 1 torch thread on a shared 2-core machine (other jobs were running: timings are "
          "upper bounds of an idle machine's).\n\n" + "\n".join(lines) + "\n")
    write_results(NAME, {"machine": machine(), "results": results}, md)
    print(md)


if __name__ == "__main__":
    main()
