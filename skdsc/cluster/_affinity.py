"""Affinity post-processing of self-expressive coefficients (DSC-Net, seed 004).

numpy/scipy only. From the learned ``C`` (``n x n``, zero diagonal):

1. :func:`threshold_coefficients`: in every column keep the entries of largest
   magnitude until their absolute sum first exceeds ``rho * ||c||_1``;
2. symmetrise ``C <- (C + C^T) / 2``;
3. truncated SVD of rank ``r = subspace_dim * n_clusters + 1``, ``U <- U sqrt(S)``,
   rows of ``U`` normalised to unit length;
4. ``A = max(U U^T, 0) ** power``, divided by its maximum and symmetrised.

Spectral clustering on ``A`` gives the labels.
"""

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

__all__ = ["threshold_coefficients", "subspace_affinity", "top_eigenpairs", "default_rho"]

# above this many samples (and for a rank below n / 3) the eigenpairs come from Lanczos
DENSE_MAX_SAMPLES = 1000


def default_rho(n_clusters):
    """DSC-Net's threshold on Extended Yale-B: ``max(0.4 - 0.1 (K - 1) / 10, 0.1)``."""
    return max(0.4 - 0.1 * (n_clusters - 1) / 10.0, 0.1)


def threshold_coefficients(C, rho):
    """Keep, per column, the largest ``|c_ij|`` until their sum exceeds ``rho ||c_j||_1``.

    Entries are taken in decreasing order of magnitude; the entry whose addition
    makes the running sum exceed ``rho * ||c_j||_1`` is the last one kept. Kept
    entries keep their sign; the rest become 0. ``rho >= 1`` returns ``C``
    unchanged (a copy).

    Parameters
    ----------
    C : ndarray of shape (n, n)
    rho : float in (0, 1]

    Returns
    -------
    ndarray of shape (n, n)

    Examples
    --------
    >>> import numpy as np
    >>> C = np.array([[0.0, 0.1], [0.5, 0.0], [0.3, 0.9], [0.2, 0.0]])
    >>> threshold_coefficients(C, 0.6)
    array([[0. , 0. ],
           [0.5, 0. ],
           [0.3, 0.9],
           [0. , 0. ]])
    """
    C = np.asarray(C, dtype=np.float64)
    if rho >= 1:
        return C.copy()
    mag = np.abs(C)
    order = np.argsort(-mag, axis=0, kind="stable")
    sorted_mag = np.take_along_axis(mag, order, axis=0)
    # running sum of the entries ranked above each one (the same additions as a loop)
    before = np.zeros_like(sorted_mag)
    np.cumsum(sorted_mag[:-1], axis=0, out=before[1:])
    limit = rho * mag.sum(axis=0, keepdims=True)
    keep_sorted = before <= limit
    keep = np.zeros_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, axis=0)
    return np.where(keep, C, 0.0)


def top_eigenpairs(S, rank, random_state=None):
    """The ``rank`` eigenpairs of largest magnitude of a symmetric matrix, largest first.

    For a symmetric matrix these are its top singular triplets: singular values
    ``|w|``, left singular vectors the eigenvectors (right ones ``sign(w)`` times
    them). Dense ``eigh`` for small problems, Lanczos (``eigsh``, start vector from
    ``random_state``) otherwise.

    Returns
    -------
    vecs : ndarray of shape (n, rank)
    vals : ndarray of shape (rank,)
        Signed eigenvalues, ``|vals|`` decreasing.
    """
    n = S.shape[0]
    if n <= DENSE_MAX_SAMPLES or 3 * rank >= n:
        vals, vecs = scipy.linalg.eigh(S)
    else:
        rng = np.random.RandomState(0) if random_state is None else random_state
        vals, vecs = scipy.sparse.linalg.eigsh(S, k=rank, which="LM", v0=rng.uniform(-1, 1, n))
    idx = np.argsort(-np.abs(vals), kind="stable")[:rank]
    return vecs[:, idx], vals[idx]


def subspace_affinity(C, n_clusters, subspace_dim=10, power=3.5, rho=None, random_state=None,
                      return_basis=False):
    """Affinity matrix from self-expressive coefficients (DSC-Net's post-processing).

    Parameters
    ----------
    C : ndarray of shape (n, n)
        Self-expressive coefficients.
    n_clusters : int
        ``K``.
    subspace_dim : int, default=10
        ``d``, the assumed dimension of each subspace; the SVD keeps rank
        ``min(d K + 1, n - 1)``.
    power : float, default=3.5
        Exponent ``alpha`` of the affinity.
    rho : float or None, default=None
        Threshold of :func:`threshold_coefficients`; None skips the thresholding.
    random_state : numpy.random.RandomState, optional
        Start vector of the Lanczos solver (used above ``DENSE_MAX_SAMPLES`` samples).
    return_basis : bool, default=False
        Also return ``(vecs, vals, U)``: the eigenpairs of the symmetrised ``C``
        and the row-normalised embedding ``U sqrt(S)`` (what a Nyström extension
        to new samples needs).

    Returns
    -------
    A : ndarray of shape (n, n)
        Symmetric, non-negative, maximum 1 (all zeros if ``C`` is).
    basis : tuple
        Only with ``return_basis=True``.

    Examples
    --------
    >>> import numpy as np
    >>> C = np.kron(np.eye(2), np.ones((3, 3)))
    >>> A = subspace_affinity(C, n_clusters=2, subspace_dim=1)
    >>> np.round(A[0], 3).tolist()
    [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    """
    if random_state is None:
        random_state = np.random.RandomState(0)
    C = np.asarray(C, dtype=np.float64)
    if rho is not None:
        C = threshold_coefficients(C, rho)
    C = 0.5 * (C + C.T)
    n = C.shape[0]
    rank = max(1, min(subspace_dim * n_clusters + 1, n - 1))
    vecs, vals = top_eigenpairs(C, rank, random_state)
    U = vecs * np.sqrt(np.abs(vals))
    norms = np.linalg.norm(U, axis=1, keepdims=True)
    U = np.divide(U, norms, out=np.zeros_like(U), where=norms > 0)
    A = U @ U.T
    np.maximum(A, 0.0, out=A)
    A **= power
    top = A.max()
    if top > 0:
        A /= top
    A = 0.5 * (A + A.T)
    return (A, (vecs, vals, U)) if return_basis else A
