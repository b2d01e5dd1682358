"""KS / correlation distances and FasterPAM on the seed-001 grid: 4488 series of length 276.

Measured in one run, against peers run in the same process:

1. ``ks_distances`` (all pairs, exact) vs a Python loop over ``scipy.stats.ks_2samp``
   timed on a random sample of pairs and extrapolated to all pairs; the sampled
   pairs are also checked for equality.
2. ``correlation_distances`` (all pairs).
3. FasterPAM (``skdsc.cluster.fasterpam`` / ``KMedoidsKS``) vs the Rust package
   ``kmedoids`` (GPL; benchmark only) on the same precomputed KS matrix, k = 4 (the
   seed's choice) and 8, five seeds: same start for both (loss and time), and each
   with its own default initialisation.
4. Loss vs PAM (``kmedoids.pam``, BUILD + SWAP) on a 1000-series sub-matrix.

The field is synthetic (the seed's reanalysis is not public): a 68 x 66 grid of
monthly precipitation over 23 years, gamma-distributed with a shape and scale that
vary smoothly in space (an orography proxy), a seasonal cycle whose phase varies in
space and spatially correlated monthly anomalies.

    OMP_NUM_THREADS=2 nice -n 10 python benchmarks/kmedoids_ks.py

writes ``benchmarks/results/kmedoids_ks.{json,md}``.
"""

import json
import os
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
from scipy import stats
from scipy.ndimage import gaussian_filter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"


def synthetic_precipitation(ny=68, nx=66, years=23, seed=0):
    """(time, lat, lon) monthly precipitation-like field, float64."""
    rng = np.random.RandomState(seed)
    nt = 12 * years
    relief = gaussian_filter(rng.normal(size=(ny, nx)), 8)
    relief = (relief - relief.min()) / np.ptp(relief)
    shape = 0.6 + 2.0 * relief  # gamma shape
    scale = 40 + 120 * relief
    phase = 2 * np.pi * gaussian_filter(rng.normal(size=(ny, nx)), 12) * 3
    t = np.arange(nt)[:, None, None]
    season = 1 + 0.6 * np.sin(2 * np.pi * t / 12 + phase[None])
    anomaly = np.stack([gaussian_filter(rng.normal(size=(ny, nx)), 4) for _ in range(nt)])
    anomaly /= anomaly.std()
    field = rng.gamma(shape[None], 1.0, size=(nt, ny, nx)) * scale[None] * season
    return field * np.exp(0.4 * anomaly)


CPU = {}


def timed(fn, *args, **kw):
    """Wall time; the process CPU time of the call is kept in CPU["last"]."""
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn(*args, **kw)
    CPU["last"] = time.process_time() - c0
    return out, time.perf_counter() - t0


def main(n_pairs=2000, repeats=2, seeds=range(5), n_jobs=2):
    import kmedoids

    from skdsc.cluster import KMedoidsKS
    from skdsc.cluster._kmedoids import fasterpam, kmedoids_init
    from skdsc.metrics import correlation_distances, ks_distances

    field = synthetic_precipitation()
    X = field.reshape(field.shape[0], -1).T.copy()  # (4488, 276): one series per cell
    n, L = X.shape
    res = {"n_series": n, "length": L, "n_jobs": n_jobs, "load_average_at_start": os.getloadavg()}

    # 1. KS distances vs the scipy loop -----------------------------------------------
    ks_times = []
    for r in range(repeats):
        if r == 0:
            tracemalloc.start()
        D, t = timed(ks_distances, X, n_jobs=n_jobs)
        if r == 0:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            res["ks_peak_traced_mb"] = peak / 2**20
            res["ks_result_mb"] = D.nbytes / 2**20
        ks_times.append(t)
        res.setdefault("ks_cpu_s", []).append(CPU["last"])
        print(f"ks_distances: {t:.1f} s wall, {CPU['last']:.1f} s CPU", flush=True)
    rng = np.random.RandomState(0)
    I, J = rng.randint(0, n, n_pairs), rng.randint(0, n, n_pairs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c0, t0 = time.process_time(), time.perf_counter()
        ref = np.array([stats.ks_2samp(X[i], X[j]).statistic for i, j in zip(I, J)])
        t_loop = time.perf_counter() - t0
        res["scipy_loop_sample_cpu_s"] = time.process_time() - c0
    all_pairs = n * (n - 1) / 2
    loop_total = t_loop / n_pairs * all_pairs
    res.update(
        ks_time_s=ks_times, ks_time_mean_s=float(np.mean(ks_times)),
        ks_time_std_s=float(np.std(ks_times)),
        scipy_loop_sample_pairs=n_pairs, scipy_loop_sample_s=t_loop,
        scipy_loop_extrapolated_s=loop_total,
        ks_speedup_vs_scipy_loop=loop_total / float(np.mean(ks_times)),
        ks_cpu_speedup_vs_scipy_loop=res["scipy_loop_sample_cpu_s"] / n_pairs * all_pairs
        / float(np.mean(res["ks_cpu_s"])),
        ks_max_abs_diff_vs_scipy=float(np.abs(D[I, J] - ref).max()),
    )
    print(f"scipy loop: {t_loop:.2f} s for {n_pairs} pairs -> {loop_total / 60:.1f} min for all;"
          f" speed-up {res['ks_speedup_vs_scipy_loop']:.0f}x", flush=True)

    # 2. correlation distances ---------------------------------------------------------
    C, t_corr = timed(correlation_distances, X, n_jobs=n_jobs)
    res["corr_time_s"] = t_corr
    res["corr_max_abs_diff_vs_corrcoef"] = float(np.abs(C - (1 - np.corrcoef(X))).max())
    del C

    # 3. FasterPAM vs kmedoids on the same KS matrix ------------------------------------
    pam_rows = []
    for k in (4, 8):
        for s in seeds:
            m0 = kmedoids_init(D, k, "k-medoids++", s)
            (m, lab, loss, it, sw), t_ours = timed(fasterpam, D, m0)
            r_ref, t_ref = timed(kmedoids.fasterpam, D, m0.copy(), n_cpu=1)
            est, t_est = timed(KMedoidsKS(k, metric="precomputed", random_state=s).fit, D)
            r_def, t_def = timed(kmedoids.fasterpam, D, k, random_state=s, n_cpu=1)
            row = dict(k=k, seed=s, same_init_loss_ours=loss, same_init_loss_kmedoids=float(r_ref.loss),
                       same_init_time_ours_s=t_ours, same_init_time_kmedoids_s=t_ref,
                       own_init_loss_ours=est.inertia_, own_init_time_ours_s=t_est,
                       own_init_loss_kmedoids=float(r_def.loss), own_init_time_kmedoids_s=t_def,
                       swaps_ours=sw, swaps_kmedoids=int(r_ref.n_swap))
            pam_rows.append(row)
            print(row, flush=True)
    res["fasterpam_vs_kmedoids"] = pam_rows

    # 4. PAM on a sub-matrix ------------------------------------------------------------
    sub = np.random.RandomState(1).choice(n, 1000, replace=False)
    Ds = D[np.ix_(sub, sub)]
    pam_cmp = []
    for k in (4, 8):
        r_pam, t_pam = timed(kmedoids.pam, Ds, k)
        (m, lab, loss, it, sw), t_fp = timed(fasterpam, Ds, kmedoids_init(Ds, k, "build"))
        pam_cmp.append(dict(k=k, pam_loss=float(r_pam.loss), pam_time_s=t_pam,
                            fasterpam_build_loss=loss, fasterpam_time_s=t_fp))
        print(pam_cmp[-1], flush=True)
    res["pam_subset_1000"] = pam_cmp

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "kmedoids_ks.json").write_text(json.dumps(res, indent=2))

    def agg(key, k):
        v = np.array([r[key] for r in pam_rows if r["k"] == k])
        return v.mean(), v.std()

    lines = [
        f"# KS distances and FasterPAM, {n} series x {L} (synthetic seed-001 grid), "
        f"{n_jobs} threads", "",
        f"Load average of the shared machine at the start: {res['load_average_at_start']}", "",
        "## Distances", "",
        "| step | time (s) | peer | peer time (s) | ratio |",
        "|---|---|---|---|---|",
        f"| ks_distances, all pairs | {res['ks_time_mean_s']:.1f} ± {res['ks_time_std_s']:.1f} "
        f"| scipy.stats.ks_2samp loop ({n_pairs} pairs timed, extrapolated) | "
        f"{loop_total:.0f} | {res['ks_speedup_vs_scipy_loop']:.0f}x faster |",
        f"| correlation_distances | {t_corr:.2f} | | | |", "",
        f"In CPU seconds (less sensitive to the machine's load): ks_distances "
        f"{np.mean(res['ks_cpu_s']):.1f} s, scipy loop extrapolated "
        f"{res['scipy_loop_sample_cpu_s'] / n_pairs * all_pairs:.0f} s, ratio "
        f"{res['ks_cpu_speedup_vs_scipy_loop']:.0f}x.", "",
        f"Max |ks_distances - ks_2samp| on the sampled pairs: {res['ks_max_abs_diff_vs_scipy']:.1e}. "
        f"Peak traced memory of ks_distances: {res['ks_peak_traced_mb']:.0f} MB "
        f"(of which the {n}x{n} float64 result: {res['ks_result_mb']:.0f} MB).", "",
        "## FasterPAM vs kmedoids (Rust, n_cpu=1) on the KS matrix, 5 seeds (mean ± std)", "",
        "| k | start | loss skdsc | loss kmedoids | time skdsc (s) | time kmedoids (s) | time ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for k in (4, 8):
        for start, a, b, ta, tb in [
            ("same k-medoids++ start", "same_init_loss_ours", "same_init_loss_kmedoids",
             "same_init_time_ours_s", "same_init_time_kmedoids_s"),
            ("own default (skdsc k-medoids++, kmedoids random)", "own_init_loss_ours",
             "own_init_loss_kmedoids", "own_init_time_ours_s", "own_init_time_kmedoids_s"),
        ]:
            ratio = np.mean([r[ta] / r[tb] for r in pam_rows if r["k"] == k])
            lines.append(
                f"| {k} | {start} | {agg(a, k)[0]:.4f} ± {agg(a, k)[1]:.4f} | "
                f"{agg(b, k)[0]:.4f} ± {agg(b, k)[1]:.4f} | {agg(ta, k)[0]:.3f} ± {agg(ta, k)[1]:.3f} | "
                f"{agg(tb, k)[0]:.3f} ± {agg(tb, k)[1]:.3f} | {ratio:.2f} |")
    lines += ["", "## Loss vs PAM (1000-series sub-matrix)", "",
              "| k | PAM loss | PAM time (s) | FasterPAM (BUILD start) loss | time (s) |",
              "|---|---|---|---|---|"]
    for r in pam_cmp:
        lines.append(f"| {r['k']} | {r['pam_loss']:.4f} | {r['pam_time_s']:.2f} | "
                     f"{r['fasterpam_build_loss']:.4f} | {r['fasterpam_time_s']:.2f} |")
    (RESULTS / "kmedoids_ks.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
