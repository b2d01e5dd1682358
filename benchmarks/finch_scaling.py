"""FINCH: skdsc vs the reference package ``finch-clust`` 0.2.3, n = 20 000 and 200 000 in 300-D.

Every run is a separate Python process (so that peak RSS is its own); a worker
reports its wall time, its peak RSS (``ru_maxrss``) and the RSS before the fit
(interpreter + libraries + data). At n = 20 000 both are run ``--repeats`` times in
alternation and the partitions of every level are compared (after relabelling); at
n = 200 000 only skdsc runs (the reference switches to approximate neighbours there,
and its dense path would need a 160 GB matrix).

Data: a Gaussian mixture with 100 centres in 300 dimensions (float32), the shape of
SCDSC's mini-cluster features (PCA-300 patch features).

    OMP_NUM_THREADS=2 nice -n 10 python benchmarks/finch_scaling.py
    OMP_NUM_THREADS=2 nice -n 10 python benchmarks/finch_scaling.py --large-only 200000

    OMP_NUM_THREADS=2 nice -n 10 python benchmarks/finch_scaling.py --large-only 200000 --probe 0.02

write ``benchmarks/results/finch_scaling.{json,md}``, ``finch_large_full.{json,md}`` (the full
large run) and ``finch_large.{json,md}`` (the probe).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def make_data(n, d=300, n_centres=100, seed=0):
    rng = np.random.RandomState(seed)
    centres = rng.randn(n_centres, d).astype(np.float32)
    X = centres[rng.randint(0, n_centres, n)] + 0.8 * rng.randn(n, d).astype(np.float32)
    return X.astype(np.float32)


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def worker(which, n, n_jobs, out):
    X = make_data(n)
    if which == "ref":
        import warnings

        warnings.simplefilter("ignore")
        from finch import FINCH as ref_finch

        before = rss_mb()
        t0 = time.perf_counter()
        c, num_clust, _ = ref_finch(X, distance="cosine", verbose=False)
        wall = time.perf_counter() - t0
        parts, counts = c, list(map(int, num_clust))
    else:
        sys.path.insert(0, str(ROOT))
        from skdsc.cluster import FINCH

        before = rss_mb()
        t0 = time.perf_counter()
        est = FINCH(metric="cosine", n_jobs=n_jobs).fit(X)
        wall = time.perf_counter() - t0
        parts, counts = est.partitions_, list(map(int, est.n_clusters_per_level_))
    ru = resource.getrusage(resource.RUSAGE_SELF)
    peak = ru.ru_maxrss / 1024
    np.save(out, parts)
    print(json.dumps(dict(which=which, n=n, wall_s=wall, cpu_s_process=ru.ru_utime + ru.ru_stime,
                          peak_rss_mb=peak, rss_before_fit_mb=before,
                          n_clusters_per_level=counts)))


def probe_worker(n, n_jobs, fraction, out):
    """First-level neighbour search for the first ``fraction`` of the rows against all
    ``n`` rows (the step that costs O(n^2 d)); its time is extrapolated to all rows."""
    sys.path.insert(0, str(ROOT))
    from skdsc.cluster._finch import _prepare

    X = make_data(n)
    before = rss_mb()
    c0, t0 = time.process_time(), time.perf_counter()
    P, _ = _prepare(X, "cosine")
    m = int(round(fraction * n))
    # the fast float32 cosine path of first_neighbours (chunked GEMM + first maximum),
    # restricted to the query rows
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    chunk = max(1, (2**24) // n)
    starts = list(range(0, m, chunk))
    nn = np.empty(m, dtype=np.intp)

    def work(start):
        stop = min(start + chunk, m)
        S = P[start:stop] @ P.T
        ar = np.arange(stop - start)
        S[ar, ar + start] = -np.inf
        nn[start:stop] = np.argmax(S, axis=1)

    with threadpool_limits(limits=1, user_api="blas"):
        with ThreadPoolExecutor(n_jobs) as ex:
            list(ex.map(work, starts))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps(dict(n=n, query_rows=m, fraction=fraction, wall_s=wall, cpu_s=cpu,
                          level0_wall_extrapolated_s=wall / fraction,
                          level0_cpu_extrapolated_s=cpu / fraction,
                          peak_rss_mb=ru.ru_maxrss / 1024, rss_before_fit_mb=before)))


def same_partition(a, b):
    pairs = np.unique(np.stack([a, b], 1), axis=0)
    return len(pairs) == len(np.unique(a)) == len(np.unique(b))


def run_worker(which, n, n_jobs, tmp):
    out = tmp / f"{which}_{n}.npy"
    env = dict(os.environ, OMP_NUM_THREADS=str(n_jobs), OPENBLAS_NUM_THREADS=str(n_jobs))
    res = subprocess.run(
        [sys.executable, __file__, "--worker", which, "--n", str(n), "--n-jobs", str(n_jobs),
         "--out", str(out)], capture_output=True, text=True, env=env, check=True,
    )
    info = json.loads(res.stdout.strip().splitlines()[-1])
    return info, np.load(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--worker", choices=["ours", "ref", "probe"])
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--out")
    p.add_argument("--probe", type=float, default=0.0,
                   help="with --large-only: time the first-level search for this fraction of "
                        "the rows only and extrapolate (for a machine too busy for the full run)")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--large", type=int, default=0,
                   help="also run skdsc alone at this n after the comparison (0: no)")
    p.add_argument("--large-only", type=int, default=0,
                   help="only the large skdsc run, written to finch_large_full.{json,md} "
                        "(finch_large.{json,md} with --probe)")
    args = p.parse_args()
    if args.worker == "probe":
        probe_worker(args.n, args.n_jobs, args.probe, args.out)
        return
    if args.worker:
        worker(args.worker, args.n, args.n_jobs, args.out)
        return
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="finch-bench-"))
    if args.large_only and args.probe:
        load = os.getloadavg()
        env = dict(os.environ, OMP_NUM_THREADS=str(args.n_jobs))
        res = subprocess.run(
            [sys.executable, __file__, "--worker", "probe", "--n", str(args.large_only),
             "--n-jobs", str(args.n_jobs), "--probe", str(args.probe)],
            capture_output=True, text=True, env=env, check=True)
        info = json.loads(res.stdout.strip().splitlines()[-1])
        info["load_average_at_start"], info["load_average_at_end"] = load, os.getloadavg()
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "finch_large.json").write_text(json.dumps(info, indent=2))
        md = [
            f"# FINCH first level at n = {info['n']}, 300-D, cosine, {args.n_jobs} threads: "
            f"PROBE, not a full run", "",
            f"The full run did not fit in this session on the shared machine (load average "
            f"{load[0]:.0f} on 2 cores). The O(n^2 d) first-neighbour search of the first level "
            f"was timed for {info['query_rows']} query rows ({100 * args.probe:.1f}%) against all "
            f"{info['n']} rows and extrapolated linearly in the number of query rows.", "",
            "| query rows | wall (s) | CPU (s) | level-0 wall, extrapolated (s) | "
            "level-0 CPU, extrapolated (s) | peak RSS (MB) |",
            "|---|---|---|---|---|---|",
            f"| {info['query_rows']} | {info['wall_s']:.1f} | {info['cpu_s']:.1f} | "
            f"{info['level0_wall_extrapolated_s']:.0f} | {info['level0_cpu_extrapolated_s']:.0f} | "
            f"{info['peak_rss_mb']:.0f} |",
        ]
        (RESULTS / "finch_large.md").write_text("\n".join(md) + "\n")
        print("\n".join(md))
        return
    if args.large_only:
        load = os.getloadavg()
        info, parts = run_worker("ours", args.large_only, args.n_jobs, tmp)
        info["load_average_at_start"] = load
        info["load_average_at_end"] = os.getloadavg()
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "finch_large_full.json").write_text(json.dumps(info, indent=2))
        md = [
            f"# FINCH (skdsc, cosine, exact first neighbours), n = {info['n']}, 300-D, "
            f"{args.n_jobs} threads", "",
            "| wall time (s) | CPU time of the process (s) | peak RSS (MB) | RSS growth in fit (MB) "
            "| clusters per level |", "|---|---|---|---|---|",
            f"| {info['wall_s']:.0f} | {info['cpu_s_process']:.0f} | {info['peak_rss_mb']:.0f} | "
            f"{info['peak_rss_mb'] - info['rss_before_fit_mb']:.0f} | {info['n_clusters_per_level']} |",
            "", f"Load average of the shared 2-core machine at start / end: {load} / "
            f"{info['load_average_at_end']}.",
        ]
        (RESULTS / "finch_large_full.md").write_text("\n".join(md) + "\n")
        print("\n".join(md))
        return
    runs = {"ours": [], "ref": []}
    equal = []
    for r in range(args.repeats):
        for which in ("ref", "ours"):
            info, parts = run_worker(which, args.n, args.n_jobs, tmp)
            runs[which].append(info)
            print(info, flush=True)
            if which == "ours":
                ref_parts = np.load(tmp / f"ref_{args.n}.npy")
                equal.append(parts.shape == ref_parts.shape and all(
                    same_partition(parts[:, i], ref_parts[:, i]) for i in range(parts.shape[1])))

    def stats(key, which):
        v = np.array([x[key] for x in runs[which]])
        return float(v.mean()), float(v.std())

    summary = {
        "n": args.n, "d": 300, "n_jobs": args.n_jobs, "repeats": args.repeats,
        "load_average_at_start": os.getloadavg(),
        "ours": runs["ours"], "reference": runs["ref"],
        "time_ours_mean_std_s": stats("wall_s", "ours"),
        "time_ref_mean_std_s": stats("wall_s", "ref"),
        "speedup_ref_over_ours_per_repeat": [
            a["wall_s"] / b["wall_s"] for a, b in zip(runs["ref"], runs["ours"])],
        "peak_rss_ours_mean_mb": stats("peak_rss_mb", "ours")[0],
        "peak_rss_ref_mean_mb": stats("peak_rss_mb", "ref")[0],
        "fit_memory_ours_mb": float(np.mean([x["peak_rss_mb"] - x["rss_before_fit_mb"] for x in runs["ours"]])),
        "fit_memory_ref_mb": float(np.mean([x["peak_rss_mb"] - x["rss_before_fit_mb"] for x in runs["ref"]])),
        "partitions_equal_every_level": equal,
    }
    if args.large:
        info, _ = run_worker("ours", args.large, args.n_jobs, tmp)
        print(info, flush=True)
        summary["large"] = info
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "finch_scaling.json").write_text(json.dumps(summary, indent=2))
    sp = summary["speedup_ref_over_ours_per_repeat"]
    lines = [
        "# FINCH: skdsc vs finch-clust 0.2.3 (cosine, 300-D, %d threads)" % args.n_jobs, "",
        f"Load average of the shared machine at the start: {summary['load_average_at_start']}", "",
        "| n | implementation | wall time (s, mean ± std) | peak RSS (MB) | RSS growth in fit (MB) | levels |",
        "|---|---|---|---|---|---|",
        "| {n} | finch-clust | {:.1f} ± {:.1f} | {:.0f} | {:.0f} | {} |".format(
            *summary["time_ref_mean_std_s"], summary["peak_rss_ref_mean_mb"],
            summary["fit_memory_ref_mb"], runs["ref"][0]["n_clusters_per_level"], n=args.n),
        "| {n} | skdsc | {:.1f} ± {:.1f} | {:.0f} | {:.0f} | {} |".format(
            *summary["time_ours_mean_std_s"], summary["peak_rss_ours_mean_mb"],
            summary["fit_memory_ours_mb"], runs["ours"][0]["n_clusters_per_level"], n=args.n),
    ]
    if args.large:
        L = summary["large"]
        lines.append("| {} | skdsc | {:.1f} (one run) | {:.0f} | {:.0f} | {} |".format(
            L["n"], L["wall_s"], L["peak_rss_mb"], L["peak_rss_mb"] - L["rss_before_fit_mb"],
            L["n_clusters_per_level"]))
    lines += [
        "",
        f"Speed-up (finch-clust time / skdsc time, per repeat): {', '.join(f'{x:.2f}' for x in sp)}"
        f" (mean {np.mean(sp):.2f}).",
        f"Peak RSS ratio skdsc / finch-clust: "
        f"{summary['peak_rss_ours_mean_mb'] / summary['peak_rss_ref_mean_mb']:.3f}.",
        f"Partitions equal at every level: {equal}.",
        "",
        "CPU seconds of each whole worker process (data generation included): "
        + ", ".join(f"{x['which']} n={x['n']}: {x['cpu_s_process']:.0f}"
                    for x in runs["ref"] + runs["ours"] + ([summary["large"]] if args.large else [])),
    ]
    (RESULTS / "finch_scaling.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
