import numpy as np
import pytest
import xarray as xr

from skdsc import cli

FAST = ["--param", "hidden_dims=(16,)", "--param", "latent_dim=3", "--param", "pretrain_epochs=2",
        "--param", "max_epochs=2", "--param", "n_init=2", "--param", "device='cpu'"]


def test_methods_lists_idec(capsys):
    assert cli.main(["methods"]) == 0
    assert "idec" in capsys.readouterr().out


def test_cluster_netcdf_writes_labels_with_coordinates(tmp_path, capsys):
    rng = np.random.default_rng(0)
    field = np.concatenate([rng.normal(0, 1, (20, 3, 4)), rng.normal(4, 1, (20, 3, 4))])
    time = np.arange(40)
    ds = xr.Dataset({"z": (("time", "lat", "lon"), field)},
                    coords={"time": time, "lat": [1.0, 2.0, 3.0], "lon": [0.0, 1.0, 2.0, 3.0]})
    src = tmp_path / "field.nc"
    ds.to_netcdf(src)
    out = tmp_path / "labels.nc"
    fig = tmp_path / "labels.png"
    rc = cli.main(["cluster", str(src), "--method", "idec", "--n-clusters", "2", "--output", str(out),
                   "--figure", str(fig), *FAST])
    assert rc == 0, capsys.readouterr().err
    labels = xr.open_dataarray(out)
    np.testing.assert_array_equal(labels["time"], time)
    assert set(np.unique(labels.values[:20])) != set(np.unique(labels.values[20:]))
    assert fig.stat().st_size > 1000


def test_cluster_npy_to_npy(tmp_path):
    X = np.random.default_rng(0).normal(size=(30, 5)).astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    rc = cli.main(["cluster", str(tmp_path / "X.npy"), "--method", "idec", "--n-clusters", "2",
                   "--output", str(tmp_path / "y.npy"), *FAST])
    assert rc == 0
    assert np.load(tmp_path / "y.npy").shape == (30,)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["cluster", "missing.nc", "--method", "idec"], "no such file"),
        (["cluster", "{npy}", "--method", "nope"], "unknown method 'nope'"),
        (["cluster", "{npy}", "--method", "idec", "--param", "bogus"], "KEY=VALUE"),
        (["cluster", "{npy}", "--method", "idec", "--n-clusters", "50"], "n_clusters=50"),
        (["cluster", "{npy}", "--method", "idec", "--param", "colour=1"], "colour"),
    ],
)
def test_errors_are_one_line(tmp_path, capsys, argv, message):
    np.save(tmp_path / "X.npy", np.zeros((10, 3)))
    argv = [a.replace("{npy}", str(tmp_path / "X.npy")) for a in argv]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("skdsc: error:") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
