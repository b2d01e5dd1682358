"""Exact pairwise distances between series: Kolmogorov-Smirnov and correlation.

Both functions take a 2D array whose rows are series (samples) and return the dense
matrix of distances between rows. They are vectorised, work through bounded-size
chunks (memory linear in the number of rows, the returned matrix aside) and run in
parallel threads; a torch path computes the same values on a GPU when ``device``
names one. torch is imported only inside that path.

KS algorithm
------------
The two-sample KS statistic between rows ``i`` and ``j`` is
``sup_x |F_i(x) - F_j(x)|`` with right-continuous empirical CDFs. The supremum is
reached at one of the observed values of ``i`` or ``j``, so

``D_ij = max(E_ij, E_ji)`` with ``E_ij = max_k |F_i(a_k) - F_j(a_k)|`` over the values
``a_k`` of row ``i``.

All values are replaced once by their rank in the sorted union of every value
(ties share a rank), so ``F_j`` at any value is a lookup in a table of length
``n_unique``: ``T_j[g] = #{values of row j with rank <= g}``, built in linear time
with ``np.repeat``. For one target row ``j`` the counts ``T_j`` at the ranks of
*all* rows are then one gather, and ``E_{:, j}`` one subtraction and one row-wise
maximum. With equal row lengths the whole computation is in small integers, hence
exact; with unequal lengths (NaN dropped) the counts are scaled in float64, as
``scipy.stats.ks_2samp`` does.
"""

import numbers

import numpy as np
from joblib import effective_n_jobs
from sklearn.utils import gen_even_slices
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from threadpoolctl import threadpool_limits

from ..utils._parallel import run_in_threads

__all__ = ["ks_distances", "correlation_distances"]


# --------------------------------------------------------------------------- helpers
def _check_series(X, name="X"):
    """Return ``X`` as a float64 2D array, +-inf rejected, NaN kept (dropped later)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be a 2D array of series (rows = series, columns = time); "
            f"got an array with {X.ndim} dimension(s) of shape {X.shape}."
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {X.shape}.")
    if np.isinf(X).any():
        raise ValueError(
            f"{name} contains infinite values; only finite values and NaN are allowed."
        )
    return X


def _resolve_device(device):
    """Return None (numpy path) or a torch device string."""
    if device is None or device == "cpu":
        return None
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else None
    import torch

    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but torch sees no CUDA device.")
    return str(dev)


def _n_workers(n_jobs, n_tasks):
    return max(1, min(effective_n_jobs(n_jobs), n_tasks))


# --------------------------------------------------------------------------- KS
def _rank_rows(blocks):
    """Sort each row, drop NaN and rank all values jointly.

    Returns, per block, ``R`` (n, L) intp ranks of the sorted valid values, padded
    with the row's last valid rank, ``own`` (n, L) counts ``#{row values <= value}``
    (padded with the row length), and ``lengths`` (n,), plus the number of ranks.
    """
    sorted_blocks, lengths = [], []
    for B in blocks:
        S = np.sort(B, axis=1)  # NaN sort to the end of each row
        lengths.append(np.count_nonzero(~np.isnan(B), axis=1))
        sorted_blocks.append(S)
    values = np.concatenate([S[~np.isnan(S)] for S in sorted_blocks])
    uniq = np.unique(values)
    n_unique = uniq.shape[0]
    out = []
    for S, n_valid in zip(sorted_blocks, lengths):
        n, L = S.shape
        filled = S.copy()
        # pad every row with its own maximum so padded entries are duplicates of a real
        # value: they change neither the row's table nor any maximum over its points
        last = np.take_along_axis(S, np.maximum(n_valid - 1, 0)[:, None], axis=1)
        pad = np.arange(L)[None, :] >= n_valid[:, None]
        filled = np.where(pad, last, filled)
        filled[n_valid == 0] = uniq[0] if n_unique else 0.0
        R = np.searchsorted(uniq, filled).astype(np.intp, copy=False)
        # own ECDF count at each point (right-continuous: ties count fully)
        own = np.empty((n, L), dtype=np.int64)
        for i in range(n):
            own[i] = np.searchsorted(R[i, : max(n_valid[i], 1)], R[i], side="right")
        own[n_valid == 0] = 0
        out.append((R, own, n_valid))
    return out, n_unique


def _ks_one_sided_numpy(R_src, own_src, len_src, R_tgt, len_tgt, n_unique, n_jobs, exact_int):
    """E[i, j] = max_k |F_i(a_ik) - F_j(a_ik)| for source rows i, target rows j."""
    n_src, L = R_src.shape
    n_tgt = R_tgt.shape[0]
    E = np.empty((n_src, n_tgt), dtype=np.int32 if exact_int else np.float64)
    if exact_int:
        ctype = np.int16 if L < np.iinfo(np.int16).max else np.int32
        own = own_src.astype(ctype)
    else:
        ctype = np.int32
        own = own_src / np.maximum(len_src, 1)[:, None]  # F_i at its own points, float64

    def work(sl):
        buf = np.empty((n_src, L), dtype=ctype)
        fbuf = None if exact_int else np.empty((n_src, L), dtype=np.float64)
        counts = np.arange(R_tgt.shape[1] + 1, dtype=ctype)
        for j in range(sl.start, sl.stop):
            m = int(len_tgt[j])
            if m == 0:
                continue
            gaps = np.diff(R_tgt[j, :m], prepend=0, append=n_unique)
            table = np.repeat(counts[: m + 1], gaps)  # T_j[g] = #{row j values <= g}
            np.take(table, R_src, out=buf)
            if exact_int:
                np.subtract(own, buf, out=buf)
                np.abs(buf, out=buf)
                E[:, j] = buf.max(axis=1)
            else:
                np.multiply(buf, 1.0 / m, out=fbuf)
                np.subtract(own, fbuf, out=fbuf)
                np.abs(fbuf, out=fbuf)
                E[:, j] = fbuf.max(axis=1)

    n_workers = _n_workers(n_jobs, n_tgt)
    slices = list(gen_even_slices(n_tgt, n_workers * 4)) if n_workers > 1 else [slice(0, n_tgt)]
    run_in_threads(work, slices, n_workers)
    return E


def _ks_one_sided_torch(R_src, own_src, len_src, R_tgt, len_tgt, n_unique, device, exact_int,
                        block_elems=2**27):
    import torch

    n_src, L = R_src.shape
    n_tgt = R_tgt.shape[0]
    dev = torch.device(device)
    Rs = torch.as_tensor(R_src, dtype=torch.int64, device=dev)
    if exact_int:
        own = torch.as_tensor(own_src, dtype=torch.int32, device=dev)
    else:
        own = torch.as_tensor(own_src / np.maximum(len_src, 1)[:, None], dtype=torch.float64,
                              device=dev)
    Rt = torch.as_tensor(R_tgt, dtype=torch.int64, device=dev)
    lt = torch.as_tensor(len_tgt, dtype=torch.int64, device=dev)
    E = torch.empty((n_src, n_tgt), dtype=torch.int32 if exact_int else torch.float64, device=dev)
    # tables for a block of targets: (B, n_unique + 1) cumulative counts; the gathered
    # counts are (B, n_src, L): choose B so that both stay within block_elems
    B = max(1, min(n_tgt, block_elems // max(n_src * L, n_unique + 1)))
    pos = torch.arange(L, device=dev)
    for start in range(0, n_tgt, B):
        stop = min(start + B, n_tgt)
        b = stop - start
        valid = (pos[None, :] < lt[start:stop, None]).to(torch.int32)
        hist = torch.zeros((b, n_unique + 1), dtype=torch.int32, device=dev)
        hist.scatter_add_(1, Rt[start:stop], valid)
        table = torch.cumsum(hist, dim=1, dtype=torch.int32)  # T_j[g]
        counts = table[:, Rs.reshape(-1)].reshape(b, n_src, L)
        if exact_int:
            diff = (own[None] - counts).abs_().amax(dim=2)
        else:
            scale = 1.0 / lt[start:stop].clamp(min=1).to(torch.float64)
            diff = (own[None] - counts.to(torch.float64) * scale[:, None, None]).abs_().amax(dim=2)
        E[:, start:stop] = diff.T
    return E.cpu().numpy()


@validate_params(
    {
        "X": ["array-like"],
        "Y": ["array-like", None],
        "n_jobs": [numbers.Integral, None],
        "device": [str, None],
    },
    prefer_skip_nested_validation=True,
)
def ks_distances(X, Y=None, *, n_jobs=None, device=None):
    """Exact two-sample Kolmogorov-Smirnov statistic between every pair of rows.

    ``D[i, j] = sup_x |F_i(x) - F_j(x)|`` where ``F_i`` is the right-continuous
    empirical CDF of the values of row ``i``; this is
    ``scipy.stats.ks_2samp(X[i], Y[j]).statistic`` (equal to about 1e-15), computed
    for all pairs at once with a rank-table gather instead of a loop (see the module
    docstring for the algorithm).

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_times)
        One series per row; the order of values within a row does not matter. NaN
        entries are dropped row by row, so rows may have unequal effective lengths.
    Y : array-like of shape (n_samples_Y, n_times_Y), default=None
        Second set of series; ``None`` means ``X`` (the result is then symmetric with
        a zero diagonal).
    n_jobs : int, default=None
        Number of threads on the numpy path (``None``: 1 unless in a
        :func:`joblib.parallel_backend` context, ``-1``: all cores).
    device : str, default=None
        ``None`` or ``"cpu"``: the numpy path (the fastest on a CPU, measured);
        ``"cuda"``, ``"cuda:1"``...: the same algorithm in torch on that device;
        ``"auto"``: CUDA when available, else numpy.

    Returns
    -------
    D : ndarray of shape (n_samples_X, n_samples_Y)
        Distances in [0, 1]; NaN for a row without any valid value.

    Notes
    -----
    Work is ``O(n_X * n_Y * n_times)`` with a small constant; extra memory beyond
    ``D`` is ``O((n_X + n_Y) * n_times + n_unique_values)`` per thread.

    Examples
    --------
    >>> import numpy as np
    >>> from skdsc.metrics import ks_distances
    >>> X = np.array([[1.0, 2.0, 3.0], [2.0, 3.0, 4.0], [1.0, np.nan, 2.0]])
    >>> ks_distances(X).round(3)
    array([[0.   , 0.333, 0.333],
           [0.333, 0.   , 0.667],
           [0.333, 0.667, 0.   ]])
    """
    X = _check_series(X, "X")
    same = Y is None
    blocks = [X] if same else [X, _check_series(Y, "Y")]
    ranked, n_unique = _rank_rows(blocks)
    RX, ownX, lenX = ranked[0]
    RY, ownY, lenY = ranked[-1]
    lengths = np.concatenate([lenX, lenY])
    exact_int = bool(np.all(lengths == lengths[0]))  # one common length: integer counts
    dev = _resolve_device(device)
    if dev is None:
        def one_sided(a, b):
            return _ks_one_sided_numpy(*a, b[0], b[2], n_unique, n_jobs, exact_int)
    else:
        def one_sided(a, b):
            return _ks_one_sided_torch(*a, b[0], b[2], n_unique, dev, exact_int)

    EXY = one_sided(ranked[0], ranked[-1])
    EYX = EXY.T if same else one_sided(ranked[-1], ranked[0]).T
    E = np.maximum(EXY, EYX)
    D = E / float(lengths[0]) if exact_int else E
    D = np.asarray(D, dtype=np.float64)
    empty = (lenX == 0)[:, None] | (lenY == 0)[None, :]
    if empty.any():
        D[empty] = np.nan
    if same:
        np.fill_diagonal(D, np.where(lenX == 0, np.nan, 0.0))
    return D


# --------------------------------------------------------------------------- correlation
@validate_params(
    {
        "X": ["array-like"],
        "Y": ["array-like", None],
        "min_periods": [Interval(numbers.Integral, 2, None, closed="left")],
        "n_jobs": [numbers.Integral, None],
        "device": [str, None],
        "chunk_size": [Interval(numbers.Integral, 1, None, closed="left"), StrOptions({"auto"})],
    },
    prefer_skip_nested_validation=True,
)
def correlation_distances(X, Y=None, *, min_periods=2, n_jobs=None, device=None,
                          chunk_size="auto"):
    """One minus the Pearson correlation between every pair of rows, NaN-aware.

    Each pair of rows is correlated over the columns where both are observed
    (pairwise-complete observations, as :meth:`pandas.DataFrame.corr`), with the
    sums of the common observations obtained by masked matrix products, so no pair
    is looped over.

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_times)
        One series per row; NaN marks a missing value.
    Y : array-like of shape (n_samples_Y, n_times), default=None
        Second set of series; ``None`` means ``X``.
    min_periods : int, default=2
        Pairs with fewer common observations get NaN.
    n_jobs : int, default=None
        Number of BLAS threads used for the products (``None``: leave BLAS as is).
    device : str, default=None
        ``None``/``"cpu"``: numpy; ``"cuda"``...: the products in torch (float64) on
        that device; ``"auto"``: CUDA when available.
    chunk_size : int or "auto", default="auto"
        Rows of ``X`` processed per block (bounds the temporaries to
        ``6 * chunk_size * n_samples_Y`` floats); ``"auto"`` aims at ~64 MiB.

    Returns
    -------
    D : ndarray of shape (n_samples_X, n_samples_Y)
        Values in [0, 2]; NaN where the correlation is undefined (a constant row or
        fewer than ``min_periods`` common observations).

    Examples
    --------
    >>> import numpy as np
    >>> from skdsc.metrics import correlation_distances
    >>> X = np.array([[1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 9.0], [4.0, 3.0, np.nan, 1.0]])
    >>> correlation_distances(X).round(4)
    array([[0.    , 0.0056, 2.    ],
           [0.0056, 0.    , 1.9986],
           [2.    , 1.9986, 0.    ]])
    """
    X = _check_series(X, "X")
    same = Y is None
    Y = X if same else _check_series(Y, "Y")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X and Y must have the same number of columns (times); got {X.shape[1]} and "
            f"{Y.shape[1]}."
        )
    nx, ny = X.shape[0], Y.shape[0]
    if chunk_size == "auto":
        chunk_size = max(1, min(nx, (2**23) // (6 * max(ny, 1))))
    dev = _resolve_device(device)
    has_nan = np.isnan(X).any() or np.isnan(Y).any()
    D = np.empty((nx, ny), dtype=np.float64)

    if dev is not None:
        import torch

        def mm(a, b):
            ta = torch.as_tensor(a, device=dev)
            tb = torch.as_tensor(b, device=dev)
            return (ta @ tb.T).cpu().numpy()
    else:
        def mm(a, b):
            return a @ b.T

    limits = None if (n_jobs is None or dev is not None) else effective_n_jobs(n_jobs)
    with threadpool_limits(limits=limits, user_api="blas"):
        if not has_nan:
            def standardise(A):
                Z = A - A.mean(axis=1, keepdims=True)
                norm = np.sqrt(np.einsum("ij,ij->i", Z, Z))
                with np.errstate(invalid="ignore", divide="ignore"):
                    Z = Z / norm[:, None]
                Z[norm == 0] = np.nan  # constant rows: correlation undefined
                return Z

            ZX = standardise(X)
            ZY = ZX if same else standardise(Y)
            for start in range(0, nx, chunk_size):
                sl = slice(start, min(start + chunk_size, nx))
                D[sl] = 1.0 - mm(ZX[sl], ZY)
            if X.shape[1] < min_periods:
                D[:] = np.nan
        else:
            MX = (~np.isnan(X)).astype(np.float64)
            MY = MX if same else (~np.isnan(Y)).astype(np.float64)
            # centre each row by its own mean first (shift invariance; better conditioning)
            with np.errstate(invalid="ignore"):
                X0 = np.where(MX > 0, X - np.nanmean(np.where(MX > 0, X, np.nan), axis=1,
                                                      keepdims=True), 0.0)
                Y0 = X0 if same else np.where(
                    MY > 0, Y - np.nanmean(np.where(MY > 0, Y, np.nan), axis=1, keepdims=True), 0.0)
            X0 = np.nan_to_num(X0)
            Y0 = np.nan_to_num(Y0)
            X2, Y2 = X0 * X0, Y0 * Y0
            for start in range(0, nx, chunk_size):
                sl = slice(start, min(start + chunk_size, nx))
                n = mm(MX[sl], MY)
                sx = mm(X0[sl], MY)
                sy = mm(MX[sl], Y0)
                sxx = mm(X2[sl], MY)
                syy = mm(MX[sl], Y2)
                sxy = mm(X0[sl], Y0)
                with np.errstate(invalid="ignore", divide="ignore"):
                    cov = sxy - sx * sy / n
                    vx = sxx - sx * sx / n
                    vy = syy - sy * sy / n
                    r = cov / np.sqrt(vx * vy)
                    # relative variance at rounding level means a constant overlap
                    tiny = (vx <= 1e-13 * sxx) | (vy <= 1e-13 * syy)
                r[tiny | (n < min_periods)] = np.nan
                D[sl] = 1.0 - r
    np.clip(D, 0.0, 2.0, out=D)
    if same:
        diag = np.diagonal(D).copy()
        np.fill_diagonal(D, np.where(np.isnan(diag), np.nan, 0.0))
    return D
