"""Random smooth fields, blobs and partitions on a grid (helpers of the generators)."""

import heapq

import numpy as np


def grid_coordinates(shape):
    """Cell centres of a ``shape`` grid scaled to ``[0, 1]`` along the longer side."""
    H, W = shape
    scale = max(H, W)
    yy, xx = np.meshgrid((np.arange(H) + 0.5) / scale, (np.arange(W) + 0.5) / scale,
                         indexing="ij")
    return yy, xx


def smooth_field(rng, shape, n_bumps=3, wave=True):
    """Zero-mean, unit-std smooth field: Gaussian bumps plus a plane wave.

    ``f(p) = sum_b a_b exp(-||p - c_b||^2 / (2 w_b^2)) + a_w cos(2 pi f <u, p> + phi)``
    with ``a_b ~ N(0, 1)``, centres ``c_b`` uniform over the grid, widths
    ``w_b ~ U(0.1, 0.3)`` (in units of the longer grid side), ``a_w ~ N(0, 0.5^2)``,
    frequency ``f ~ U(0.5, 1.5)`` cycles per grid side, random direction ``u`` and
    phase; then standardised over the grid.
    """
    yy, xx = grid_coordinates(shape)
    H, W = shape
    scale = max(H, W)
    f = np.zeros(shape)
    for _ in range(n_bumps):
        cy, cx = rng.uniform(0, H / scale), rng.uniform(0, W / scale)
        w = rng.uniform(0.1, 0.3)
        f += rng.standard_normal() * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * w**2))
    if wave:
        angle = rng.uniform(0, 2 * np.pi)
        freq = rng.uniform(0.5, 1.5)
        f += 0.5 * rng.standard_normal() * np.cos(
            2 * np.pi * freq * (np.cos(angle) * yy + np.sin(angle) * xx) + rng.uniform(0, 2 * np.pi)
        )
    std = f.std()
    return (f - f.mean()) / (std if std > 0 else 1.0)


def grow_blob(rng, shape, n_cells):
    """A 4-connected blob of ``n_cells`` cells grown from a random seed cell.

    Prim-like growth: the frontier cell with the smallest priority
    ``distance_to_seed * U(0.7, 1.3)`` is added next, so the blob is connected and
    roughly round with a ragged coast.
    """
    H, W = shape
    blob = np.zeros(shape, dtype=bool)
    if n_cells <= 0:
        return blob
    n_cells = min(n_cells, H * W)
    sy, sx = rng.randint(H), rng.randint(W)
    jitter = rng.uniform(0.7, 1.3, size=shape)
    heap = [(0.0, sy, sx)]
    queued = np.zeros(shape, dtype=bool)
    queued[sy, sx] = True
    added = 0
    while heap and added < n_cells:
        _, i, j = heapq.heappop(heap)
        blob[i, j] = True
        added += 1
        for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            a, b = i + di, j + dj
            if 0 <= a < H and 0 <= b < W and not queued[a, b]:
                queued[a, b] = True
                heapq.heappush(heap, (np.hypot(a - sy, b - sx) * jitter[a, b], a, b))
    return blob


def power_voronoi(rng, shape, n_regions, weight_scale=0.0, min_cells=1):
    """Partition of the grid into the power-diagram cells of random sites.

    Cell ``r`` holds the points ``p`` minimising ``||p - s_r||^2 - w_r`` with sites
    ``s_r`` uniform over the grid and weights ``w_r ~ U(0, weight_scale)``
    (``weight_scale = 0``: ordinary Voronoi). Power cells are convex, so every
    region is one connected piece.

    Returns the region map ``(H, W)`` of ints in ``0 .. n_regions - 1``; sites are
    redrawn until every region owns at least ``min_cells`` cells.
    """
    yy, xx = grid_coordinates(shape)
    H, W = shape
    scale = max(H, W)
    for _ in range(100):
        sites = np.column_stack([rng.uniform(0, H / scale, n_regions),
                                 rng.uniform(0, W / scale, n_regions)])
        weights = (
            rng.uniform(0, weight_scale, n_regions) if weight_scale > 0 else np.zeros(n_regions)
        )
        d2 = (yy[..., None] - sites[:, 0]) ** 2 + (xx[..., None] - sites[:, 1]) ** 2 - weights
        regions = np.argmin(d2, axis=-1)
        if np.bincount(regions.ravel(), minlength=n_regions).min() >= min_cells:
            return regions
    raise ValueError(f"Could not place {n_regions} non-empty regions on a {shape} grid.")
