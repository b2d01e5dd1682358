"""The asv benchmark modules and the reproduction scripts must not rot."""

import ast
import importlib
import pkgutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ASV = ROOT / "asv_bench"


def _asv_modules():
    sys.path.insert(0, str(ASV))
    import benchmarks

    return sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__))


@pytest.mark.parametrize("name", _asv_modules())
def test_asv_module_imports_and_defines_benchmarks(name):
    module = importlib.import_module(f"benchmarks.{name}")
    if name == "common":
        return
    prefixes = ("time_", "peakmem_", "track_", "mem_")
    found = [
        attr
        for obj in vars(module).values()
        if isinstance(obj, type) and obj.__module__ == module.__name__
        for attr in dir(obj)
        if attr.startswith(prefixes)
    ]
    assert found, f"asv module {name} defines no benchmark"


@pytest.mark.parametrize("path", sorted((ROOT / "benchmarks").glob("*.py")), ids=lambda p: p.name)
def test_reproduction_script_parses(path):
    ast.parse(path.read_text(), filename=str(path))


def test_asv_fast_profile_runs_idec(monkeypatch, tmp_path):
    monkeypatch.setenv("SKDSC_BENCH_PROFILE", "fast")
    monkeypatch.setenv("SKDSC_ASV_CACHE", str(tmp_path))
    module = importlib.import_module("benchmarks.idec")
    bench = module.IDECBenchmark()
    bench.profile = "fast"
    bench.make_estimator = lambda params: module.IDEC(
        10, hidden_dims=(16,), latent_dim=3, pretrain_epochs=1, max_epochs=1, device="cpu",
        random_state=0, n_init=1,
    )
    bench.setup("cpu")
    bench.time_fit("cpu")
    assert 0.0 <= bench.track_score("cpu") <= 1.0
    assert len(list(tmp_path.glob("IDECBenchmark-fast-cpu-*.pkl"))) == 1
